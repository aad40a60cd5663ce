//! Request heads: httparse does the zero-copy tokenising; this module adds the RFC 9112 rules
//! httparse leaves to its caller (framing, line endings, targets, Host) and the limits.

use std::mem::MaybeUninit;

use crate::limits::Limits;

/// Where one header field sits inside the head bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Field {
    pub name: (u32, u32),
    pub value: (u32, u32),
}

// The engine hands JavaScript the header section whole; tests and fuzz targets read fields.
#[cfg(any(test, feature = "fuzzing"))]
impl Field {
    pub fn name<'a>(&self, head: &'a [u8]) -> &'a [u8] {
        &head[self.name.0 as usize..self.name.1 as usize]
    }
    pub fn value<'a>(&self, head: &'a [u8]) -> &'a [u8] {
        &head[self.value.0 as usize..self.value.1 as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    Length(u64),
    Chunked,
}

/// A complete, valid request head. Offsets are into the head's own bytes.
#[derive(Debug)]
pub struct Head {
    /// Bytes the head occupies (through the blank line), leading empty lines included.
    pub len: usize,
    pub method: (u32, u32),
    pub target: (u32, u32),
    pub http11: bool,
    pub framing: Framing,
    pub keep_alive: bool,
    pub expect_continue: bool,
    /// An `Expect` other than 100-continue, passed on (limits.forward_expectations).
    pub expect_other: bool,
    /// Asks to switch protocols: an Upgrade request, or a CONNECT (a tunnel once answered 2xx).
    pub upgrade: bool,
    pub connect: bool,
}

/// Why a head was refused: the status to answer with, a short reason for the body, and the
/// error code node's parser (llhttp) reports for the same fault (`ERR_PYRE_*` where node has
/// no such rule), for 'clientError' listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub reason: &'static str,
    pub code: &'static str,
}

const fn reject(status: u16, reason: &'static str, code: &'static str) -> Reject {
    Reject { status, reason, code }
}

/// Headers parsed on the stack before falling back to the configured maximum.
const COMMON_HEADER_COUNT: usize = 32;

/// Parses the head at the start of `buf`. `Ok(None)`: incomplete, read more.
/// `fields` is cleared and filled with the head's header fields.
pub fn parse_head(buf: &[u8], limits: &Limits, fields: &mut Vec<Field>) -> Result<Option<Head>, Reject> {
    match parse_strict(buf, limits, fields) {
        Err(reject) if limits.lenient_headers && reject.reason == INVALID_VALUE => parse_lenient(buf, limits, fields),
        verdict => verdict,
    }
}

/// node's insecureHTTPParser takes control characters in header values: the head is parsed again
/// with each one (NUL, CR and LF excepted) standing in as a visible byte. The spans are the same
/// in both copies, so the request keeps its own bytes; every framing rule still applies.
#[cold]
#[inline(never)]
fn parse_lenient(buf: &[u8], limits: &Limits, fields: &mut Vec<Field>) -> Result<Option<Head>, Reject> {
    let end = memmem(buf, b"\r\n\r\n").map_or(buf.len(), |at| at + 4);
    let stand_in: Vec<u8> =
        buf[..end].iter().map(|&b| if (b < 0x20 && !matches!(b, 0 | b'\t' | b'\r' | b'\n')) || b == 0x7f { b'~' } else { b }).collect();
    parse_strict(&stand_in, limits, fields)
}

const INVALID_VALUE: &str = "invalid header field value";

#[inline(always)]
fn parse_strict(buf: &[u8], limits: &Limits, fields: &mut Vec<Field>) -> Result<Option<Head>, Reject> {
    let mut stack = [MaybeUninit::<httparse::Header>::uninit(); COMMON_HEADER_COUNT];
    let mut req = httparse::Request::new(&mut []);
    let status =
        match req.parse_with_uninit_headers(buf, &mut stack[..COMMON_HEADER_COUNT.min(limits.max_header_count)]) {
            Err(httparse::Error::TooManyHeaders) if limits.max_header_count > COMMON_HEADER_COUNT => {
                let mut heap = vec![MaybeUninit::<httparse::Header>::uninit(); limits.max_header_count];
                let mut req = httparse::Request::new(&mut []);
                let status = req.parse_with_uninit_headers(buf, &mut heap);
                return finish(buf, status, &req, limits, fields);
            }
            status => status,
        };
    finish(buf, status, &req, limits, fields)
}

fn finish(
    buf: &[u8],
    status: httparse::Result<usize>,
    req: &httparse::Request,
    limits: &Limits,
    fields: &mut Vec<Field>,
) -> Result<Option<Head>, Reject> {
    let len = match status {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return partial(buf, limits).map(|_| None),
        Err(err) => return Err(parse_error(buf, err)),
    };
    if len > limits.max_header_size {
        return Err(reject(431, "request header fields too large", "HPE_HEADER_OVERFLOW"));
    }
    check_line_endings(&buf[..len])?;
    let base = buf.as_ptr() as usize;
    let span = |s: &[u8]| ((s.as_ptr() as usize - base) as u32, (s.as_ptr() as usize - base + s.len()) as u32);
    let method = req.method.unwrap_or_default().as_bytes();
    let target = req.path.unwrap_or_default().as_bytes();
    if target.len() > limits.max_url_length {
        return Err(reject(414, "URI too long", "HPE_HEADER_OVERFLOW"));
    }
    let connect = method == b"CONNECT";
    check_target(method, target, limits.allow_connect)?;
    let http11 = req.version == Some(1);

    fields.clear();
    let mut framing = FramingScan::default();
    let mut hosts = 0;
    let mut conn = ConnectionTokens::default();
    let mut expect_continue = false;
    let mut expect_other = false;
    let mut upgrade_header = false;
    for header in req.headers.iter() {
        let name = header.name.as_bytes();
        let value = header.value;
        fields.push(Field { name: span(name), value: span(value) });
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                hosts += 1;
                if !limits.lenient_headers {
                    check_host(value)?;
                }
            }
            6 if name.eq_ignore_ascii_case(b"expect") => {
                if trim(value).eq_ignore_ascii_case(b"100-continue") {
                    expect_continue = true;
                } else if limits.forward_expectations {
                    expect_other = true;
                } else {
                    return Err(reject(417, "unsupported expectation", "ERR_PYRE_EXPECTATION"));
                }
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => upgrade_header = true,
            10 if name.eq_ignore_ascii_case(b"connection") => conn.add(value),
            14 if name.eq_ignore_ascii_case(b"content-length") => framing.content_length(value)?,
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => framing.transfer_encoding(value)?,
            _ => {}
        }
    }
    // Framing first: node's parser finds its faults before the server looks for Host.
    let framing = framing.resolve(http11, limits)?;
    if hosts > 1 {
        return Err(reject(400, "more than one Host header", "ERR_PYRE_HOST"));
    }
    let upgrade = connect || conn.upgrade && upgrade_header;
    // node hands an upgrade request to its listener before it looks for Host.
    if hosts == 0 && http11 && limits.require_host && !(upgrade && limits.node_compat) {
        return Err(reject(400, "missing Host header", "ERR_PYRE_HOST"));
    }
    if connect && framing != Framing::None {
        // What follows a CONNECT head is the tunnel's bytes, never content (RFC 9110 9.3.6).
        return Err(reject(400, "CONNECT request with content", "ERR_PYRE_CONNECT"));
    }
    let keep_alive = !conn.close && (http11 || conn.keep_alive);
    Ok(Some(Head {
        len,
        method: span(method),
        target: span(target),
        http11,
        framing,
        keep_alive,
        expect_continue: expect_continue && http11 && framing != Framing::None,
        expect_other,
        upgrade,
        connect,
    }))
}

/// An incomplete head: refuse it once it can no longer fit the limits.
fn partial(buf: &[u8], limits: &Limits) -> Result<(), Reject> {
    // Only the target counts against the URL limit (a long method is bounded by the header
    // size), and the verdict must not depend on where the reads split the head.
    if memchr(b'\n', buf).is_none() {
        if let Some(sp) = memchr(b' ', buf) {
            let target = &buf[sp + 1..];
            let target = &target[..memchr(b' ', target).unwrap_or(target.len())];
            if target.len() > limits.max_url_length {
                return Err(reject(414, "URI too long", "HPE_HEADER_OVERFLOW"));
            }
        }
    }
    if buf.len() > limits.max_header_size {
        return Err(reject(431, "request header fields too large", "HPE_HEADER_OVERFLOW"));
    }
    Ok(())
}

fn parse_error(buf: &[u8], err: httparse::Error) -> Reject {
    match err {
        httparse::Error::TooManyHeaders => reject(431, "too many header fields", "HPE_HEADER_OVERFLOW"),
        httparse::Error::Version if is_other_http_version(buf) => {
            reject(505, "HTTP version not supported", "HPE_INVALID_VERSION")
        }
        httparse::Error::HeaderName => reject(400, "invalid header field name", "HPE_INVALID_HEADER_TOKEN"),
        // A CR not followed by LF ends a value early in httparse's reading: node's LF_EXPECTED.
        httparse::Error::HeaderValue if bare_line_ending(buf) == Some(b'\r') => {
            reject(400, "bare CR in request head", "HPE_LF_EXPECTED")
        }
        httparse::Error::HeaderValue => reject(400, INVALID_VALUE, "HPE_INVALID_HEADER_TOKEN"),
        httparse::Error::NewLine => reject(400, "invalid line ending", "HPE_LF_EXPECTED"),
        // httparse says Token for both a bad method and a bad target: the method is the first word.
        httparse::Error::Token if !starts_with_token(buf) => reject(400, "invalid method", "HPE_INVALID_METHOD"),
        httparse::Error::Token => reject(400, "invalid request target", "HPE_INVALID_URL"),
        _ => reject(400, "malformed request line", "HPE_INVALID_VERSION"),
    }
}

/// The request line starts with a method token followed by a space.
fn starts_with_token(buf: &[u8]) -> bool {
    let word = memchr(b' ', buf).map_or(buf, |sp| &buf[..sp]);
    !word.is_empty() && word.len() < buf.len() && word.iter().all(|&b| is_token_byte(b))
}

/// A well-formed request line whose version is `HTTP/x.y` other than 1.0 and 1.1 (505 rather
/// than 400): exactly three parts separated by single spaces.
fn is_other_http_version(buf: &[u8]) -> bool {
    let line = &buf[..memchr(b'\n', buf).unwrap_or(buf.len())];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [_, _, v] = parts[..] else { return false };
    v.len() == 8
        && v.starts_with(b"HTTP/")
        && v[5].is_ascii_digit()
        && v[6] == b'.'
        && v[7].is_ascii_digit()
        && v != b"HTTP/1.0"
        && v != b"HTTP/1.1"
}

/// Every line ends in CRLF: a bare CR or bare LF is a smuggling vector (RFC 9112 section 2.2).
fn check_line_endings(head: &[u8]) -> Result<(), Reject> {
    match bare_line_ending(head) {
        Some(b'\n') => Err(reject(400, "bare LF in request head", "HPE_CR_EXPECTED")),
        Some(_) => Err(reject(400, "bare CR in request head", "HPE_LF_EXPECTED")),
        None => Ok(()),
    }
}

/// The first CR or LF that is not part of a CRLF pair, if any.
pub fn bare_line_ending(bytes: &[u8]) -> Option<u8> {
    // Jumps from line end to line end: a head has few lines and many bytes.
    memchr::memchr2_iter(b'\r', b'\n', bytes).find_map(|i| match bytes[i] {
        b'\n' if i == 0 || bytes[i - 1] != b'\r' => Some(b'\n'),
        b'\r' if bytes.get(i + 1) != Some(&b'\n') => Some(b'\r'),
        _ => None,
    })
}

/// Request-target forms of RFC 9112 section 3.2, in ASCII only. CONNECT takes the authority
/// form, and only on a server that accepts tunnels.
fn check_target(method: &[u8], target: &[u8], allow_connect: bool) -> Result<(), Reject> {
    if !target.is_ascii() {
        return Err(reject(400, "non-ASCII byte in request target", "HPE_INVALID_URL"));
    }
    if method == b"CONNECT" {
        if !allow_connect {
            return Err(reject(501, "CONNECT is not supported", "ERR_PYRE_CONNECT"));
        }
        return if is_authority(target) { Ok(()) } else { Err(reject(400, "invalid request target", "HPE_INVALID_URL")) };
    }
    match target[0] {
        b'/' => Ok(()),
        b'*' if target.len() == 1 && method == b"OPTIONS" => Ok(()),
        _ if is_absolute_http(target) => Ok(()),
        _ => Err(reject(400, "invalid request target", "HPE_INVALID_URL")),
    }
}

/// `host:port`, the host a registered name, an IPv4 address or a bracketed IPv6 literal.
fn is_authority(target: &[u8]) -> bool {
    let Some(colon) = memchr::memrchr(b':', target) else { return false };
    let (host, port) = (&target[..colon], &target[colon + 1..]);
    let port_ok = (1..=5).contains(&port.len())
        && port.iter().all(u8::is_ascii_digit)
        && port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 65_535;
    let host_ok = match host {
        [b'[', literal @ .., b']'] => !literal.is_empty() && literal.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
        _ => !host.is_empty() && host.iter().all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b)),
    };
    port_ok && host_ok
}

fn is_absolute_http(target: &[u8]) -> bool {
    let rest = if target.len() > 7 && target[..7].eq_ignore_ascii_case(b"http://") {
        &target[7..]
    } else if target.len() > 8 && target[..8].eq_ignore_ascii_case(b"https://") {
        &target[8..]
    } else {
        return false;
    };
    !rest.is_empty() && rest[0] != b'/'
}

/// Where a request-target's path starts and ends (absolute-form loses its scheme and authority).
pub fn target_path(target: &[u8]) -> &[u8] {
    let path = if target.first() == Some(&b'/') {
        target
    } else if let Some(scheme_end) = memmem(target, b"://") {
        let after = &target[scheme_end + 3..];
        match after.iter().position(|&b| b == b'/' || b == b'?') {
            Some(i) if after[i] == b'/' => &after[i..],
            _ => b"/",
        }
    } else {
        target
    };
    match path.iter().position(|&b| b == b'?') {
        Some(q) => &path[..q],
        None => path,
    }
}

/// Bytes a Host value may hold: reg-name, IP literal and port characters (RFC 3986).
static HOST_BYTES: [bool; 256] = byte_table!(|c| c.is_ascii_alphanumeric()
    || matches!(
        c,
        b'.' | b'-'
            | b':'
            | b'['
            | b']'
            | b'_'
            | b'~'
            | b'%'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
    ));

/// A Host value (RFC 9110 7.2, RFC 3986 3.2.2-3.2.3): a name or an IPv4 address, or a
/// bracketed IP literal, then optionally `:` and a port of digits only. One pass: it runs for
/// every request.
fn check_host(value: &[u8]) -> Result<(), Reject> {
    let mut rest = value;
    if let [b'[', literal @ ..] = value {
        let Some(close) = literal.iter().position(|&b| b == b']') else { return Err(bad_host()) };
        if !literal[..close].iter().all(|&b| HOST_BYTES[b as usize] && b != b'[') {
            return Err(bad_host());
        }
        rest = &literal[close + 1..];
        if !rest.is_empty() && rest[0] != b':' {
            return Err(bad_host());
        }
    }
    let mut in_port = false;
    for &b in rest {
        let ok = if in_port { b.is_ascii_digit() } else { HOST_BYTES[b as usize] && !matches!(b, b'[' | b']' | b':') };
        if !ok {
            if b == b':' && !in_port {
                in_port = true;
                continue;
            }
            return Err(bad_host());
        }
    }
    Ok(())
}

#[cold]
fn bad_host() -> Reject {
    reject(400, "invalid Host header", "ERR_PYRE_HOST")
}

#[derive(Default)]
struct ConnectionTokens {
    close: bool,
    keep_alive: bool,
    upgrade: bool,
}

impl ConnectionTokens {
    fn add(&mut self, value: &[u8]) {
        for token in value.split(|&b| b == b',').map(trim) {
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if token.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade = true;
            }
        }
    }
}

/// Collects Content-Length and Transfer-Encoding across all their fields, then decides.
#[derive(Default)]
struct FramingScan {
    length: Option<u64>,
    /// Transfer codings seen, in order: whether the last one so far is `chunked`, and how many.
    codings: usize,
    last_is_chunked: bool,
    chunked_count: usize,
    other_coding: bool,
}

impl FramingScan {
    /// RFC 9110 section 8.6: a list of identical values may stand for one; anything else is an error.
    fn content_length(&mut self, value: &[u8]) -> Result<(), Reject> {
        for item in value.split(|&b| b == b',').map(trim) {
            if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
                return Err(reject(400, "invalid Content-Length", "HPE_INVALID_CONTENT_LENGTH"));
            }
            let n = item.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64);
            match self.length {
                Some(prev) if prev != n => {
                    return Err(reject(400, "conflicting Content-Length values", "HPE_UNEXPECTED_CONTENT_LENGTH"))
                }
                _ => self.length = Some(n),
            }
        }
        Ok(())
    }

    fn transfer_encoding(&mut self, value: &[u8]) -> Result<(), Reject> {
        for coding in value.split(|&b| b == b',').map(trim) {
            if coding.is_empty() {
                continue;
            }
            self.codings += 1;
            let name = coding.split(|&b| b == b';').next().map(trim).unwrap_or_default();
            if !name.iter().all(|&b| is_token_byte(b)) || name.is_empty() {
                return Err(reject(400, "invalid Transfer-Encoding", "HPE_INVALID_TRANSFER_ENCODING"));
            }
            self.last_is_chunked = coding.eq_ignore_ascii_case(b"chunked");
            if self.last_is_chunked {
                self.chunked_count += 1;
            } else {
                self.other_coding = true;
            }
        }
        if self.codings == 0 {
            return Err(reject(400, "empty Transfer-Encoding", "HPE_INVALID_TRANSFER_ENCODING"));
        }
        Ok(())
    }

    fn resolve(self, http11: bool, limits: &Limits) -> Result<Framing, Reject> {
        if self.codings > 0 {
            if self.length.is_some() {
                return Err(reject(400, "both Content-Length and Transfer-Encoding", "HPE_INVALID_TRANSFER_ENCODING"));
            }
            if !http11 {
                return Err(reject(400, "Transfer-Encoding in an HTTP/1.0 request", "HPE_INVALID_TRANSFER_ENCODING"));
            }
            if self.chunked_count > 1 || (self.chunked_count == 1 && !self.last_is_chunked) {
                return Err(reject(
                    400,
                    "chunked must be the final transfer coding, once",
                    "HPE_INVALID_TRANSFER_ENCODING",
                ));
            }
            if self.other_coding {
                // A coding we cannot decode; without a final chunked the length is unknowable too.
                return Err(if self.last_is_chunked {
                    reject(501, "unsupported transfer coding", "HPE_INVALID_TRANSFER_ENCODING")
                } else {
                    reject(400, "request body length unknown", "HPE_INVALID_TRANSFER_ENCODING")
                });
            }
            return Ok(Framing::Chunked);
        }
        match self.length {
            Some(n) if limits.body_too_large(n) => {
                Err(reject(413, "request body too large", "ERR_PYRE_BODY_TOO_LARGE"))
            }
            Some(0) | None => Ok(Framing::None),
            Some(n) => Ok(Framing::Length(n)),
        }
    }
}

/// tchar of RFC 9110 section 5.6.2.
static TOKEN_BYTES: [bool; 256] = byte_table!(|c| c.is_ascii_alphanumeric()
    || matches!(
        c,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
    ));

pub fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES[b as usize]
}

/// Strips optional whitespace (SP, HTAB) from both ends.
pub fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    &s[start..end]
}

pub use memchr::memchr;

fn memmem(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<Head>, Reject> {
        parse_with(raw, &Limits::default())
    }

    fn parse_with(raw: &str, limits: &Limits) -> Result<Option<Head>, Reject> {
        let mut fields = Vec::new();
        parse_head(raw.as_bytes(), limits, &mut fields)
    }

    fn status(raw: &str) -> u16 {
        match parse(raw) {
            Err(r) => r.status,
            Ok(Some(_)) => 200,
            Ok(None) => 0,
        }
    }

    #[test]
    fn simple_get() {
        let raw = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nrest";
        let mut fields = Vec::new();
        let head = parse_head(raw.as_bytes(), &Limits::default(), &mut fields).unwrap().unwrap();
        assert_eq!(head.len, raw.len() - 4);
        assert!(head.http11 && head.keep_alive && !head.expect_continue);
        assert_eq!(head.framing, Framing::None);
        assert_eq!(&raw.as_bytes()[head.target.0 as usize..head.target.1 as usize], b"/a?b=1");
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].name(raw.as_bytes()), b"Accept");
        assert_eq!(fields[1].value(raw.as_bytes()), b"*/*");
    }

    #[test]
    fn incomplete_heads_wait() {
        assert!(parse("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        assert!(parse("GE").unwrap().is_none());
    }

    #[test]
    fn keep_alive_rules() {
        assert!(!parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap().unwrap().keep_alive);
        assert!(!parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap().keep_alive);
        assert!(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().unwrap().keep_alive);
        assert!(
            !parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n").unwrap().unwrap().keep_alive
        );
    }

    #[test]
    fn framing() {
        let h = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.framing, Framing::Length(5));
        let h =
            parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.framing, Framing::Length(5));
        let h = parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ChUnKeD\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.framing, Framing::Chunked);
        let h = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.framing, Framing::None);
    }

    #[test]
    fn smuggling_vectors_are_refused() {
        let cases = [
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\nX: a\r\n\r\n", 400),
            ("GET / HTTP/1.1\nHost: x\n\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
            ("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET foo HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /é HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            ("GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505),
            ("GET / FOO/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /a  HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417),
        ];
        for (raw, expected) in cases {
            assert_eq!(status(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn connect_takes_the_authority_form_and_no_content_when_allowed() {
        let limits = Limits { allow_connect: true, ..Limits::default() };
        let head = parse_with("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", &limits).unwrap().unwrap();
        assert!(head.connect && head.upgrade);
        assert_eq!(head.framing, Framing::None);
        for good in ["127.0.0.1:8080", "[::1]:443", "a-b.example:1", "host:65535"] {
            let raw = format!("CONNECT {good} HTTP/1.1\r\nHost: {good}\r\n\r\n");
            assert!(parse_with(&raw, &limits).unwrap().unwrap().connect, "{good}");
        }
        for bad in ["example.com", "/path", "http://example.com:80", "example.com:", "example.com:65536", "example.com:123456", ":443", "[]:443", "a b:1", "[::1:443"] {
            let raw = format!("CONNECT {bad} HTTP/1.1\r\nHost: x\r\n\r\n");
            let status = parse_with(&raw, &limits).map(|_| 0).unwrap_or_else(|r| r.status);
            assert_eq!(status, 400, "{bad}");
        }
        let with_body = "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(parse_with(with_body, &limits).unwrap_err().code, "ERR_PYRE_CONNECT");
        let head = parse_with("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &limits).unwrap().unwrap();
        assert!(!head.connect && !head.upgrade);
    }

    #[test]
    fn rejects_carry_node_error_codes() {
        let code = |raw: &str| parse(raw).unwrap_err().code;
        assert_eq!(code("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), "HPE_INVALID_METHOD");
        assert_eq!(code("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"), "HPE_INVALID_URL");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: x\r\nA B: c\r\n\r\n"), "HPE_INVALID_HEADER_TOKEN");
        assert_eq!(code("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), "HPE_INVALID_VERSION");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n"), "HPE_UNEXPECTED_CONTENT_LENGTH");
        assert_eq!(code("GET / HTTP/1.1\r\n\r\n"), "ERR_PYRE_HOST");
        let big = format!("GET / HTTP/1.1\r\nHost: x\r\nA: {}\r\n\r\n", "b".repeat(20_000));
        assert_eq!(code(&big), "HPE_HEADER_OVERFLOW");
    }

    #[test]
    fn accepted_forms() {
        for raw in [
            "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
            "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked \r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nX: café\r\n\r\n",
        ] {
            assert_eq!(status(raw), 200, "{raw:?}");
        }
    }

    #[test]
    fn limits() {
        let mut limits = Limits { max_header_count: 3, ..Limits::default() };
        let head = |n: usize| format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", "A: b\r\n".repeat(n));
        assert!(parse_with(&head(2), &limits).unwrap().is_some());
        assert_eq!(parse_with(&head(3), &limits).unwrap_err().status, 431);
        limits.max_header_count = 40;
        assert!(parse_with(&head(39), &limits).unwrap().is_some());
        assert_eq!(parse_with(&head(40), &limits).unwrap_err().status, 431);

        let limits = Limits { max_url_length: 10, max_header_size: 100, ..Limits::default() };
        assert!(parse_with("GET /123456789 HTTP/1.1\r\nHost: x\r\n\r\n", &limits).unwrap().is_some());
        assert_eq!(parse_with("GET /1234567890 HTTP/1.1\r\nHost: x\r\n\r\n", &limits).unwrap_err().status, 414);
        assert_eq!(parse_with(&format!("GET /{}", "a".repeat(60)), &limits).unwrap_err().status, 414);
        let big = format!("GET / HTTP/1.1\r\nHost: x\r\nA: {}\r\n\r\n", "b".repeat(100));
        assert_eq!(parse_with(&big, &limits).unwrap_err().status, 431);
        assert_eq!(parse_with(&big[..big.len() - 4], &limits).unwrap_err().status, 431);

        let limits = Limits { max_body_size: 10, ..Limits::default() };
        assert!(parse_with("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", &limits).unwrap().is_some());
        assert_eq!(
            parse_with("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", &limits).unwrap_err().status,
            413
        );
    }

    #[test]
    fn a_long_method_never_makes_a_prefix_414() {
        let limits = Limits { max_url_length: 24, require_host: false, ..Limits::default() };
        let raw = format!("{}GETu http://x.com/Y HTTP/1.1\r\nHost: x.com\r\n\r\n", "V".repeat(32));
        let mut fields = Vec::new();
        assert!(parse_head(raw.as_bytes(), &limits, &mut fields).unwrap().is_some());
        for k in 0..raw.len() {
            assert!(parse_head(&raw.as_bytes()[..k], &limits, &mut fields).unwrap().is_none(), "prefix {k}");
        }
    }

    #[test]
    fn expect_and_upgrade() {
        let h =
            parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n").unwrap().unwrap();
        assert!(h.expect_continue);
        let h =
            parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n").unwrap().unwrap();
        assert!(h.upgrade);
        let h = parse("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n").unwrap().unwrap();
        assert!(!h.upgrade);
    }

    #[test]
    fn other_expectations_are_refused_unless_forwarded() {
        let raw = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: x-custom\r\n\r\n";
        assert_eq!(parse(raw).unwrap_err().status, 417);
        let forward = Limits { forward_expectations: true, ..Limits::default() };
        let h = parse_with(raw, &forward).unwrap().unwrap();
        assert!(h.expect_other && !h.expect_continue);
        let h = parse_with("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", &forward).unwrap().unwrap();
        assert!(h.expect_continue && !h.expect_other);
    }

    #[test]
    fn an_upgrade_needs_no_host_when_refusing_as_node() {
        let raw = "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        assert_eq!(parse(raw).unwrap_err().code, "ERR_PYRE_HOST");
        let node = Limits { node_compat: true, ..Limits::default() };
        assert!(parse_with(raw, &node).unwrap().unwrap().upgrade);
        assert_eq!(parse_with("GET / HTTP/1.1\r\n\r\n", &node).unwrap_err().code, "ERR_PYRE_HOST");
    }

    #[test]
    fn lenient_headers_take_what_nodes_insecure_parser_takes() {
        let lenient = Limits { lenient_headers: true, ..Limits::default() };
        let raw = "GET / HTTP/1.1\r\nContent-Type: text/te\x08t\r\nHost: example.comConnection: close\r\n\r\n";
        assert_eq!(parse(raw).unwrap_err().status, 400);
        let mut fields = Vec::new();
        let head = parse_head(raw.as_bytes(), &lenient, &mut fields).unwrap().unwrap();
        assert_eq!(fields[0].value(raw.as_bytes()), b"text/te\x08t");
        assert!(head.keep_alive);
        // The smuggling rules stay.
        for still_refused in [
            "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\nX: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \x011\r\n\r\n",
        ] {
            assert_eq!(parse_with(still_refused, &lenient).unwrap_err().status, 400, "{still_refused:?}");
        }
    }

    #[test]
    fn host_ports_are_digits_only() {
        for good in ["x", "x:80", "x:", "127.0.0.1:8080", "[::1]", "[::1]:443", "a-b.example.com:1", ""] {
            assert_eq!(status(&format!("GET / HTTP/1.1\r\nHost: {good}\r\n\r\n")), 200, "{good:?}");
        }
        for bad in ["x:8o", "x:80a", "x: 80", "x:-1", "x:80:81", "[::1]:x", "[::1]80", "[::1", "::1", "http://x", "x]:80", "a[b"] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n");
            assert_eq!(parse(&raw).unwrap_err().code, "ERR_PYRE_HOST", "{bad:?}");
        }
    }

    #[test]
    fn target_paths() {
        assert_eq!(target_path(b"/a/b?c"), b"/a/b");
        assert_eq!(target_path(b"http://x.com/a?b"), b"/a");
        assert_eq!(target_path(b"http://x.com?b"), b"/");
        assert_eq!(target_path(b"*"), b"*");
    }
}
