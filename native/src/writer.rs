//! Response heads: status line, the engine's own headers (Date, framing, Connection) around
//! the application's header block, and the once-a-second Date value.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the application's header block says about framing and the connection.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub has_transfer_encoding: bool,
    pub close: bool,
    pub has_connection: bool,
    pub has_date: bool,
}

/// Checks a header block ("Name: value\r\n" lines) and reads the fields the engine acts on.
/// The JavaScript side validates each name and value; this keeps the line structure honest:
/// token names, and no CR, LF or NUL inside a value, so a block can never split the response.
pub fn scan_block(block: &[u8]) -> Result<BlockInfo, &'static str> {
    let mut info = BlockInfo::default();
    let mut rest = block;
    while !rest.is_empty() {
        let name_len = rest.iter().position(|&b| !crate::parser::is_token_byte(b)).unwrap_or(rest.len());
        if name_len == 0 || rest.get(name_len) != Some(&b':') {
            return Err("invalid header name in block");
        }
        let after = &rest[name_len + 1..];
        // The first CR, LF or NUL must be the line's CRLF.
        let Some(end) = memchr::memchr3(b'\r', b'\n', 0, after) else { return Err("header block line without CRLF") };
        if after[end] != b'\r' || after.get(end + 1) != Some(&b'\n') {
            return Err("invalid character in header value");
        }
        let name = &rest[..name_len];
        let value = &after[..end];
        rest = &after[end + 2..];
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"date") => info.has_date = true,
            10 if name.eq_ignore_ascii_case(b"connection") => {
                info.has_connection = true;
                info.close |=
                    value.split(|&b| b == b',').any(|t| crate::parser::trim(t).eq_ignore_ascii_case(b"close"));
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let digits = crate::parser::trim(value);
                let n = std::str::from_utf8(digits).ok().and_then(|v| v.parse::<u64>().ok());
                info.content_length = Some(n.ok_or("invalid Content-Length in response")?);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                info.has_transfer_encoding = true;
                info.chunked = value
                    .rsplit(|&b| b == b',')
                    .next()
                    .is_some_and(|last| crate::parser::trim(last).eq_ignore_ascii_case(b"chunked"));
            }
            _ => {}
        }
    }
    Ok(info)
}

/// How the engine frames a response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body may follow (HEAD, 1xx, 204, 304).
    Bodiless,
    Length(u64),
    Chunked,
    /// HTTP/1.0 without a length: the body ends when the connection closes.
    UntilClose,
}

/// Statuses that never carry a body.
pub fn status_forbids_body(status: u16) -> bool {
    status < 200 || status == 204 || status == 304
}

pub struct HeadParts<'a> {
    pub status: u16,
    pub reason: &'a [u8],
    pub block: &'a [u8],
    pub info: &'a BlockInfo,
    /// Framing header the engine must add (None when the block has it or none is allowed).
    pub add_length: Option<u64>,
    pub add_chunked: bool,
    /// Whether the connection closes after this response.
    pub closing: bool,
    /// HTTP/1.0 client asking to keep the connection open.
    pub keep_alive_10: bool,
    /// Add the engine's Date line (unless the block has one); off for node's `res.sendDate = false`.
    pub send_date: bool,
    /// The event loop's clock (ms), which decides when the Date value is due for a refresh.
    pub loop_ms: u64,
    /// Date goes after the block's own fields, before its last `n` bytes (the Connection lines
    /// node writes after Date), rather than first: node's place for it.
    pub date_last: Option<usize>,
}

/// Appends a complete response head.
pub fn write_head(out: &mut Vec<u8>, parts: &HeadParts) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_status(out, parts.status);
    out.push(b' ');
    out.extend_from_slice(parts.reason);
    out.extend_from_slice(b"\r\n");
    let date = parts.send_date && !parts.info.has_date;
    match parts.date_last {
        Some(tail) if date => {
            let (fields, connection) = parts.block.split_at(parts.block.len().saturating_sub(tail));
            out.extend_from_slice(fields);
            DATE.with(|d| out.extend_from_slice(d.borrow_mut().line(parts.loop_ms)));
            out.extend_from_slice(connection);
        }
        _ => {
            if date {
                DATE.with(|d| out.extend_from_slice(d.borrow_mut().line(parts.loop_ms)));
            }
            out.extend_from_slice(parts.block);
        }
    }
    if let Some(n) = parts.add_length {
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(out, n);
        out.extend_from_slice(b"\r\n");
    }
    if parts.add_chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    if !parts.info.has_connection {
        if parts.closing {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if parts.keep_alive_10 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn push_status(out: &mut Vec<u8>, status: u16) {
    let s = status.min(999);
    out.extend_from_slice(&[b'0' + (s / 100) as u8, b'0' + (s / 10 % 10) as u8, b'0' + (s % 10) as u8]);
}

pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// An error response the engine writes by itself (malformed requests, timeouts).
pub fn write_error(out: &mut Vec<u8>, status: u16, reason: &str, loop_ms: u64) {
    let phrase = status_phrase(status);
    let body_len = reason.len() + 1;
    let block = b"Content-Type: text/plain; charset=utf-8\r\n";
    let info = BlockInfo::default();
    write_head(
        out,
        &HeadParts {
            status,
            reason: phrase.as_bytes(),
            block,
            info: &info,
            add_length: Some(body_len as u64),
            add_chunked: false,
            closing: true,
            keep_alive_10: false,
            send_date: true,
            loop_ms,
            date_last: None,
        },
    );
    out.extend_from_slice(reason.as_bytes());
    out.push(b'\n');
}

/// An error response as node:http writes one: the status line and `Connection: close`, nothing more.
pub fn write_bare_error(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_status(out, status);
    out.push(b' ');
    out.extend_from_slice(status_phrase(status).as_bytes());
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
}

/// The reason phrase for a status code (node's wording), or "Unknown".
pub fn status_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "Unknown",
    }
}

thread_local! {
    static DATE: RefCell<DateCache> = RefCell::new(DateCache::default());
}

/// The `Date` header line, formatted once per wall-clock second. The wall clock is read only
/// when the loop's cached clock says the next second has begun, not per response.
#[derive(Default)]
struct DateCache {
    /// Loop time (ms) at which the next wall-clock second starts.
    due: u64,
    line: Vec<u8>,
}

impl DateCache {
    fn line(&mut self, loop_ms: u64) -> &[u8] {
        if loop_ms >= self.due || self.line.is_empty() {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            self.due = loop_ms + 1000 - u64::from(now.subsec_millis());
            let now = now.as_secs();
            self.line.clear();
            self.line.extend_from_slice(b"Date: ");
            self.line.extend_from_slice(http_date(now).as_bytes());
            self.line.extend_from_slice(b"\r\n");
        }
        &self.line
    }
}

/// IMF-fixdate (RFC 9110 section 5.6.7) for seconds since the Unix epoch.
pub fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs / 86400;
    let rem = secs % 86400;
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's method).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
    }

    #[test]
    fn scans_blocks() {
        let info =
            scan_block(b"Content-Type: text/plain\r\nContent-Length: 12\r\nConnection: Keep-Alive, Close\r\n").unwrap();
        assert_eq!(info.content_length, Some(12));
        assert!(info.close && info.has_connection && !info.chunked);
        let info = scan_block(b"transfer-encoding: gzip, chunked\r\ndate: x\r\n").unwrap();
        assert!(info.chunked && info.has_transfer_encoding && info.has_date);
        assert!(scan_block(b"").unwrap() == BlockInfo::default());
        for bad in [
            &b"A: b"[..],
            b"A: b\n",
            b"A: b\rc\r\n",
            b"A b\r\n",
            b"A: b\r\n\r\n",
            b"Content-Length: x\r\n",
            b"A: \x00\r\n",
        ] {
            assert!(scan_block(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    fn head(send_date: bool, date_last: Option<usize>) -> String {
        let info = BlockInfo { has_connection: true, close: true, ..BlockInfo::default() };
        let mut out = Vec::new();
        write_head(
            &mut out,
            &HeadParts {
                status: 200,
                reason: b"OK",
                block: b"X: y\r\nConnection: close\r\n",
                info: &info,
                add_length: Some(5),
                add_chunked: false,
                closing: true,
                keep_alive_10: false,
                send_date,
                loop_ms: 0,
                date_last,
            },
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_heads() {
        let text = head(true, None);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nDate: "));
        assert!(text.ends_with(" GMT\r\nX: y\r\nConnection: close\r\nContent-Length: 5\r\n\r\n"));
    }

    #[test]
    fn writes_date_after_the_fields_where_node_does() {
        let text = head(true, Some(19));
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nX: y\r\nDate: "));
        assert!(text.ends_with(" GMT\r\nConnection: close\r\nContent-Length: 5\r\n\r\n"));
        let text = head(true, Some(0));
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nX: y\r\nConnection: close\r\nDate: "));
    }

    #[test]
    fn writes_heads_without_date_when_asked() {
        assert_eq!(head(false, None), "HTTP/1.1 200 OK\r\nX: y\r\nConnection: close\r\nContent-Length: 5\r\n\r\n");
    }
}
