//! The request-head parser on arbitrary bytes, under the default limits and under tight ones.
//!
//! Invariants: no panic; every span of an accepted head lies inside it; an accepted head parses
//! the same without the bytes after it; the verdict never depends on how the bytes arrived (a
//! prefix of an accepted head is "incomplete", never refused); an accepted Host has a port of
//! digits only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyre_native::fuzzing::{parse_head, target_path, Field, Framing, Head, Limits};

/// Statuses the parser may answer a refused head with.
const REJECT_STATUSES: [u16; 7] = [400, 413, 414, 417, 431, 501, 505];
/// How many prefixes of an input are re-parsed to check the verdict is incremental.
const PREFIX_SAMPLES: usize = 48;

fn tight_limits() -> Limits {
    Limits {
        max_header_count: 4,
        max_header_size: 200,
        max_url_length: 24,
        max_body_size: 64,
        require_host: false,
        allow_connect: true,
        ..Limits::default()
    }
}

fn check_span(what: &str, span: (u32, u32), head_len: usize) {
    assert!(span.0 <= span.1 && span.1 as usize <= head_len, "{what} span {span:?} outside the head (len {head_len})");
}

fn check_accepted(buf: &[u8], head: &Head, fields: &[Field], limits: &Limits) {
    assert!(head.len <= buf.len() && head.len <= limits.max_header_size, "head len {} (buf {})", head.len, buf.len());
    assert!(buf[..head.len].ends_with(b"\r\n\r\n"), "an accepted head ends with an empty line");
    check_span("method", head.method, head.len);
    check_span("target", head.target, head.len);
    let method = &buf[head.method.0 as usize..head.method.1 as usize];
    let target = &buf[head.target.0 as usize..head.target.1 as usize];
    assert!(!method.is_empty() && method.iter().all(|b| b.is_ascii_graphic()), "method {method:?}");
    assert!(!target.is_empty() && target.len() <= limits.max_url_length, "target length {}", target.len());
    assert!(target.iter().all(|b| b.is_ascii_graphic()), "target holds a space, control or non-ASCII byte: {target:?}");
    let path = target_path(target);
    let inside = path.as_ptr() as usize >= target.as_ptr() as usize
        && path.as_ptr() as usize + path.len() <= target.as_ptr() as usize + target.len();
    assert!(inside || path == b"/", "target_path must borrow from the target (or be \"/\")");
    assert!(fields.len() <= limits.max_header_count, "{} fields > max {}", fields.len(), limits.max_header_count);
    for f in fields {
        check_span("field name", f.name, head.len);
        check_span("field value", f.value, head.len);
        assert!(!f.name(buf).is_empty(), "empty field name");
        assert!(!f.value(buf).iter().any(|&b| b == b'\r' || b == b'\n' || b == 0), "CR, LF or NUL in a field value");
        if f.name(buf).eq_ignore_ascii_case(b"host") {
            let value = f.value(buf);
            // The port follows the last colon after an IP literal's closing bracket, if any.
            let after_literal = value.iter().rposition(|&b| b == b']').map_or(0, |i| i + 1);
            if let Some(colon) = value[after_literal..].iter().position(|&b| b == b':') {
                let port = &value[after_literal + colon + 1..];
                assert!(port.iter().all(u8::is_ascii_digit), "Host {:?} accepted", String::from_utf8_lossy(value));
            }
        }
    }
    match head.framing {
        Framing::Length(n) => assert!(n > 0 && (limits.max_body_size == 0 || n <= limits.max_body_size), "length {n}"),
        Framing::Chunked => assert!(head.http11, "chunked framing on HTTP/1.0"),
        Framing::None => {}
    }
    assert!(!head.expect_continue || (head.http11 && head.framing != Framing::None));
    assert!(!head.connect || (limits.allow_connect && head.upgrade && head.framing == Framing::None), "CONNECT {head:?}");
}

/// Offsets of the prefixes to re-parse: all of them for short inputs, an even sample otherwise.
fn prefix_lengths(len: usize) -> impl Iterator<Item = usize> {
    let step = (len / PREFIX_SAMPLES).max(1);
    (0..len).step_by(step).chain(len.saturating_sub(3)..len)
}

fn check(buf: &[u8], limits: &Limits) {
    let mut fields = Vec::new();
    let whole = parse_head(buf, limits, &mut fields);
    match &whole {
        Ok(Some(head)) => {
            check_accepted(buf, head, &fields, limits);
            let mut again = Vec::new();
            let exact = parse_head(&buf[..head.len], limits, &mut again);
            assert_eq!(
                format!("{whole:?}{fields:?}"),
                format!("{exact:?}{again:?}"),
                "trailing bytes changed the head"
            );
            for k in prefix_lengths(head.len) {
                let partial = parse_head(&buf[..k], limits, &mut again);
                assert!(matches!(partial, Ok(None)), "prefix of {k} bytes of an accepted head gave {partial:?}");
            }
        }
        Ok(None) => {
            for k in prefix_lengths(buf.len()) {
                let partial = parse_head(&buf[..k], limits, &mut fields);
                assert!(!matches!(partial, Ok(Some(_))), "a prefix of {k} bytes is complete but the whole is not");
            }
        }
        Err(r) => assert!(REJECT_STATUSES.contains(&r.status), "unexpected status {r:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, &Limits::default());
    check(data, &tight_limits());
});
