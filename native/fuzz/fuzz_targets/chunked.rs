//! The chunked body decoder on arbitrary bytes, fed whole and split at arbitrary points.
//!
//! Invariants: no panic; until it finishes, the decoder consumes all it is given; the outcome
//! (body, trailers, bytes used, error kind) is the same however the input is split; a body
//! that a strict reference reading of RFC 9112 section 7.1 accepts is decoded to the same bytes;
//! and every chunk line of an accepted body has extensions that follow the grammar of 7.1.1
//! (checked by a second, independent reading) within 16 KiB.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyre_native::fuzzing::{ChunkError, Decoder};

/// The decoder's configuration for one run: a body limit (0 = none) and a trailer limit.
const CONFIGS: [(u64, usize); 4] = [(0, 16384), (0, 64), (32, 16384), (1 << 20, 512)];

#[derive(Debug, PartialEq)]
enum Outcome {
    /// The body ended: what it held, its trailers, and the input bytes it took.
    Done {
        body: Vec<u8>,
        trailers: Vec<u8>,
        consumed: usize,
    },
    /// All input used, body not finished yet.
    Pending {
        body: Vec<u8>,
    },
    Invalid,
    TooLarge,
    ExtensionsTooLarge,
}

fn failed(err: ChunkError) -> Outcome {
    match err {
        ChunkError::Invalid(_) => Outcome::Invalid,
        ChunkError::TooLarge => Outcome::TooLarge,
        ChunkError::ExtensionsTooLarge => Outcome::ExtensionsTooLarge,
    }
}

/// RFC 9112 7.1.1's chunk-ext, read independently of the decoder: `ext` is what follows the
/// chunk size on its line. Pieces split at `;` outside quoted strings; each is
/// `OWS name [OWS "=" OWS (token / quoted-string)] OWS`.
fn extensions_follow_grammar(ext: &[u8]) -> bool {
    if ext.is_empty() {
        return true;
    }
    if ext[0] != b';' {
        return false;
    }
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (1, false, false);
    for (i, &b) in ext.iter().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b';' && !quoted {
            pieces.push(&ext[start..i]);
            start = i + 1;
        }
    }
    if quoted || escaped {
        return false;
    }
    pieces.push(&ext[start..]);
    let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    let ows = |s: &[u8]| -> Vec<u8> {
        let t: &[u8] = s;
        let from = t.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(t.len());
        let to = t.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(from, |i| i + 1);
        t[from..to].to_vec()
    };
    pieces.iter().all(|piece| {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (ows(&piece[..eq]), Some(ows(&piece[eq + 1..]))),
            None => (ows(piece), None),
        };
        let name_ok = !name.is_empty() && name.iter().all(tchar);
        let value_ok = match value {
            None => true,
            Some(v) if v.first() == Some(&b'"') => {
                v.len() >= 2
                    && v.last() == Some(&b'"')
                    && v[1..v.len() - 1].iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            }
            Some(v) => !v.is_empty() && v.iter().all(tchar),
        };
        name_ok && value_ok
    })
}

/// The chunk lines (size and extensions, without CRLF) of a body the decoder accepted whole.
fn chunk_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut i = 0;
    while let Some(end) = input[i..].windows(2).position(|w| w == b"\r\n") {
        let line = &input[i..i + end];
        lines.push(line);
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let size = usize::from_str_radix(std::str::from_utf8(&line[..digits]).unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        i += end + 2 + size + 2;
        if i >= input.len() {
            break;
        }
    }
    lines
}

/// Feeds `input` in the pieces `cuts` makes (sorted offsets), as reads from a socket would.
fn decode(input: &[u8], cuts: &[usize], (max_body, max_trailer): (u64, usize)) -> Outcome {
    let mut decoder = Decoder::new(max_body, max_trailer);
    let mut body = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        let piece = &input[start..end];
        let progress = match decoder.decode(piece, |data| body.extend_from_slice(data)) {
            Ok(p) => p,
            Err(err) => return failed(err),
        };
        if progress.done {
            assert!(progress.consumed <= piece.len());
            return Outcome::Done {
                body,
                trailers: std::mem::take(&mut decoder.trailers),
                consumed: start + progress.consumed,
            };
        }
        assert_eq!(progress.consumed, piece.len(), "an unfinished decode must consume all its input");
        start = end;
    }
    Outcome::Pending { body }
}

/// Split points derived from the fuzzer's seed bytes: each byte is the length of the next piece.
fn cuts_from(seed: &[u8], len: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut at = 0;
    for &step in seed.iter().cycle().take(len) {
        at += step as usize % 17 + 1;
        if at >= len {
            break;
        }
        cuts.push(at);
    }
    cuts
}

/// A strict, non-incremental reading of the chunked coding; None for anything it does not
/// accept (it accepts less than the decoder: plain extensions, printable trailer fields).
fn reference(input: &[u8], max_trailer: usize) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut i = 0;
    loop {
        let line_end = i + input[i..].windows(2).position(|w| w == b"\r\n")?;
        let line = &input[i..line_end];
        let (size, ext) = match line.iter().position(|&b| b == b';') {
            Some(semi) => (&line[..semi], Some(&line[semi + 1..])),
            None => (line, None),
        };
        if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        if let Some(ext) = ext {
            // `name` or `name=value`, both plain alphanumerics.
            let mut parts = ext.split(|&b| b == b'=');
            let simple = |p: Option<&[u8]>| p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_alphanumeric));
            let (name, value, more) = (parts.next(), parts.next(), parts.next());
            if ext.len() > 64 || !simple(name) || (value.is_some() && !simple(value)) || more.is_some() {
                return None;
            }
        }
        let size = u64::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()? as usize;
        i = line_end + 2;
        if size == 0 {
            break;
        }
        let data = input.get(i..i.checked_add(size)?)?;
        body.extend_from_slice(data);
        i += size;
        if input.get(i..i + 2)? != b"\r\n" {
            return None;
        }
        i += 2;
    }
    let trailer_start = i;
    let mut fields = 0;
    loop {
        let line_end = i + input[i..].windows(2).position(|w| w == b"\r\n")?;
        let line = &input[i..line_end];
        i = line_end + 2;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let name_ok = colon > 0 && line[..colon].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        if !name_ok || !line[colon + 1..].iter().all(|&b| b == b' ' || b.is_ascii_graphic()) {
            return None;
        }
        fields += 1;
    }
    (fields <= 64 && i - trailer_start <= max_trailer).then_some((body, i))
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else { return };
    let Some((&seed_len, rest)) = rest.split_first() else { return };
    let (seed, input) = rest.split_at((seed_len as usize % 8).min(rest.len()));
    let config = CONFIGS[config as usize % CONFIGS.len()];

    let whole = decode(input, &[], config);
    let split = decode(input, &cuts_from(if seed.is_empty() { &[0] } else { seed }, input.len()), config);
    assert_eq!(whole, split, "the outcome depends on where the input was split");

    if let Outcome::Done { body, trailers, consumed } = &whole {
        assert!(config.0 == 0 || body.len() as u64 <= config.0, "body passed the limit");
        // The section is kept through its final empty line.
        assert!((trailers == b"\r\n" || trailers.ends_with(b"\r\n\r\n")) && trailers.len() <= config.1);
        assert!(*consumed <= input.len());
        for line in chunk_lines(&input[..*consumed]) {
            let ext = &line[line.iter().take_while(|b| b.is_ascii_hexdigit()).count()..];
            assert!(ext.len() <= 16384, "chunk extensions of {} bytes accepted", ext.len());
            assert!(extensions_follow_grammar(ext), "chunk line {:?} accepted", String::from_utf8_lossy(line));
        }
    }
    if let Some((body, consumed)) = reference(input, config.1) {
        if config.0 == 0 || body.len() as u64 <= config.0 {
            let Outcome::Done { body: got, consumed: used, .. } = &whole else {
                panic!("a body the reference accepts gave {whole:?}");
            };
            assert_eq!((got, *used), (&body, consumed), "decoded differently from the reference");
        }
    }
});
