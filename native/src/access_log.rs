//! The access log: one line per response, formatted by the engine when the response is complete
//! and written in batches from a timer, off the request path. Off by default; while it is off a
//! response costs one flag test (`Server::logging`).
//!
//! Lines are written in pieces of whole lines no longer than PIPE_BUF, so lines from several
//! processes sharing one pipe (workers writing to the same stdout) never interleave.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::raw::c_int;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::sys::{self, ErrorKind};
use crate::uv;
use crate::writer::{civil_from_days, push_decimal};

/// How often buffered lines are written.
const FLUSH_MS: u64 = 100;
/// Largest write: the size up to which the kernel keeps a pipe write whole.
const PIPE_BUF: usize = 4096;
/// Lines waiting beyond this (an output that does not keep up) are dropped, and counted.
const MAX_BUFFERED: usize = 4 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// NCSA common log format: `host - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 13`.
    Common,
    /// One JSON object per line: time, remote, method, url, version, status, bytes, ms.
    Json,
}

/// What a line says about one exchange.
pub struct Entry<'a> {
    pub peer: Option<SocketAddr>,
    /// Empty for a request the engine refused before it had a method and target.
    pub method: &'a [u8],
    pub target: &'a [u8],
    pub http11: bool,
    pub status: u16,
    pub body_bytes: u64,
    /// Loop milliseconds from the request's head to the end of its response.
    pub elapsed_ms: u64,
}

pub struct AccessLog {
    fd: c_int,
    format: Format,
    buf: Vec<u8>,
    timer: *mut uv::Handle,
    clock: LogClock,
    dropped: u64,
}

/// The time stamp of the current wall-clock second in both formats, made once per second.
#[derive(Default)]
struct LogClock {
    /// Loop time (ms) at which the next wall-clock second starts.
    due: u64,
    common: Vec<u8>,
    iso: Vec<u8>,
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

impl LogClock {
    fn refresh(&mut self, loop_ms: u64) {
        if loop_ms < self.due && !self.common.is_empty() {
            return;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.due = loop_ms + 1000 - u64::from(now.subsec_millis());
        self.set(now.as_secs());
    }

    fn set(&mut self, secs: u64) {
        let (year, month, day) = civil_from_days((secs / 86400) as i64);
        let rem = secs % 86400;
        let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
        self.common = format!("[{day:02}/{}/{year}:{h:02}:{m:02}:{s:02} +0000]", MONTHS[(month - 1) as usize]).into_bytes();
        self.iso = format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z").into_bytes();
    }
}

impl AccessLog {
    /// Starts logging to `fd` (which the caller keeps and closes); lines are written from a
    /// timer on `lp` that never keeps the process alive.
    pub fn start(lp: *mut uv::Loop, fd: c_int, format: Format) -> Box<AccessLog> {
        let mut log = Box::new(AccessLog { fd, format, buf: Vec::new(), timer: std::ptr::null_mut(), clock: LogClock::default(), dropped: 0 });
        log.timer = uv::alloc_handle(uv::TIMER, &mut *log as *mut AccessLog as *mut _);
        // SAFETY: fresh handle on the main loop whose data is this boxed log; stopped and
        // closed in `stop` before the box is dropped.
        unsafe {
            uv::uv_timer_init(lp, log.timer);
            uv::uv_timer_start(log.timer, on_flush_timer, FLUSH_MS, FLUSH_MS);
            uv::uv_unref(log.timer);
        }
        log
    }

    /// Writes what is buffered and releases the timer; the log is dropped next.
    pub fn stop(&mut self) {
        self.flush(true);
        // SAFETY: the timer is live; its data pointer (this box) is not used after the close.
        unsafe { uv::uv_timer_stop(self.timer) };
        uv::close_and_free(self.timer);
    }

    pub fn record(&mut self, entry: &Entry, loop_ms: u64) {
        if self.buf.len() > MAX_BUFFERED {
            self.dropped += 1;
            return;
        }
        self.clock.refresh(loop_ms);
        match self.format {
            Format::Common => format_common(&mut self.buf, entry, &self.clock.common),
            Format::Json => format_json(&mut self.buf, entry, &self.clock.iso),
        }
    }

    /// Writes buffered lines, as far as the output takes them without blocking; `all` waits
    /// for an output that is full (up to a second), for the last lines before the process exits.
    pub fn flush(&mut self, all: bool) {
        if self.dropped > 0 && self.buf.len() < MAX_BUFFERED {
            let note = format!("pyre: access log: {} lines dropped (the output did not keep up)\n", self.dropped);
            self.buf.extend_from_slice(note.as_bytes());
            self.dropped = 0;
        }
        let mut done = 0;
        let mut waited_ms = 0;
        while done < self.buf.len() {
            let piece = line_piece(&self.buf[done..]);
            match sys::write_output(self.fd, &self.buf[done..done + piece]) {
                Ok(n) if n > 0 => {
                    done += n;
                    continue;
                }
                Err(ErrorKind::Interrupted) => continue,
                Err(ErrorKind::WouldBlock) if all && waited_ms < 1000 => {
                    sys::wait_output(self.fd, 50);
                    waited_ms += 50;
                    continue;
                }
                Ok(_) | Err(ErrorKind::WouldBlock) => {}
                // The output is gone (closed pipe, full disk): nothing can be done with the lines.
                _ => done = self.buf.len(),
            }
            break;
        }
        self.buf.drain(..done);
    }
}

/// The length of the longest run of whole lines at the start of `bytes` that fits PIPE_BUF
/// (a single longer line is written alone).
fn line_piece(bytes: &[u8]) -> usize {
    let window = &bytes[..bytes.len().min(PIPE_BUF)];
    match window.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None => bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| i + 1),
    }
}

/// The peer's address as node's `remoteAddress` gives it (`::ffff:127.0.0.1` on a dual-stack
/// socket); IPv4 without the formatting machinery, which would cost more than the rest of a line.
fn push_peer(out: &mut Vec<u8>, peer: Option<SocketAddr>) {
    let Some(addr) = peer else { return out.push(b'-') };
    let (v4, mapped) = match addr.ip() {
        IpAddr::V4(a) => (Some(a), false),
        IpAddr::V6(a) => (a.to_ipv4_mapped(), true),
    };
    match v4 {
        Some(a) => {
            if mapped {
                out.extend_from_slice(b"::ffff:");
            }
            for (i, octet) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_decimal(out, u64::from(octet));
            }
        }
        None => {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{}", addr.ip());
        }
    }
}

/// Request bytes inside a quoted field, as Apache writes them: `"` and `\` escaped, bytes
/// outside printable ASCII as `\xHH`.
fn push_quoted_common(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
}

/// Request bytes as JSON string content, read as Latin-1 (as node reads request heads).
fn push_json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
        }
    }
}

fn format_common(out: &mut Vec<u8>, e: &Entry, time: &[u8]) {
    push_peer(out, e.peer);
    out.extend_from_slice(b" - - ");
    out.extend_from_slice(time);
    out.extend_from_slice(b" \"");
    if e.method.is_empty() {
        out.push(b'-');
    } else {
        push_quoted_common(out, e.method);
        out.push(b' ');
        push_quoted_common(out, e.target);
        out.extend_from_slice(if e.http11 { b" HTTP/1.1" } else { b" HTTP/1.0" });
    }
    out.extend_from_slice(b"\" ");
    push_decimal(out, u64::from(e.status));
    out.push(b' ');
    if e.body_bytes == 0 {
        out.push(b'-');
    } else {
        push_decimal(out, e.body_bytes);
    }
    out.push(b'\n');
}

fn format_json(out: &mut Vec<u8>, e: &Entry, time: &[u8]) {
    out.extend_from_slice(b"{\"time\":\"");
    out.extend_from_slice(time);
    out.extend_from_slice(b"\",\"remote\":");
    if e.peer.is_some() {
        out.push(b'"');
        push_peer(out, e.peer);
        out.push(b'"');
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"method\":");
    if e.method.is_empty() {
        out.extend_from_slice(b"null,\"url\":null");
    } else {
        out.push(b'"');
        push_json_string(out, e.method);
        out.extend_from_slice(b"\",\"url\":\"");
        push_json_string(out, e.target);
        out.push(b'"');
    }
    out.extend_from_slice(if e.http11 { b",\"version\":\"1.1\"" } else { b",\"version\":\"1.0\"" });
    out.extend_from_slice(b",\"status\":");
    push_decimal(out, u64::from(e.status));
    out.extend_from_slice(b",\"bytes\":");
    push_decimal(out, e.body_bytes);
    out.extend_from_slice(b",\"ms\":");
    push_decimal(out, e.elapsed_ms);
    out.extend_from_slice(b"}\n");
}

unsafe extern "C" fn on_flush_timer(handle: *mut uv::Handle) {
    // SAFETY: the timer's data is its live log (the timer is closed before the log is dropped).
    let log = &mut *uv::data::<AccessLog>(handle);
    log.flush(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(method: &'a [u8], target: &'a [u8]) -> Entry<'a> {
        Entry {
            peer: Some("127.0.0.1:5000".parse().unwrap()),
            method,
            target,
            http11: true,
            status: 200,
            body_bytes: 13,
            elapsed_ms: 4,
        }
    }

    fn clock() -> LogClock {
        let mut c = LogClock::default();
        c.set(971_186_136); // 2000-10-10 13:55:36 UTC
        c
    }

    #[test]
    fn common_log_format() {
        let mut out = Vec::new();
        format_common(&mut out, &entry(b"GET", b"/a?b=1"), &clock().common);
        assert_eq!(String::from_utf8(out).unwrap(), "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /a?b=1 HTTP/1.1\" 200 13\n");
        let mut out = Vec::new();
        let e = Entry { peer: None, http11: false, body_bytes: 0, status: 400, ..entry(b"", b"") };
        format_common(&mut out, &e, &clock().common);
        assert_eq!(String::from_utf8(out).unwrap(), "- - - [10/Oct/2000:13:55:36 +0000] \"-\" 400 -\n");
    }

    #[test]
    fn json_lines() {
        let mut out = Vec::new();
        format_json(&mut out, &entry(b"POST", b"/x\"y\\\xe9"), &clock().iso);
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "{\"time\":\"2000-10-10T13:55:36Z\",\"remote\":\"127.0.0.1\",\"method\":\"POST\",\"url\":\"/x\\\"y\\\\\\u00e9\",\"version\":\"1.1\",\"status\":200,\"bytes\":13,\"ms\":4}\n"
        );
    }

    #[test]
    fn peers_as_node_names_them() {
        let line = |peer: &str| {
            let mut out = Vec::new();
            push_peer(&mut out, Some(peer.parse().unwrap()));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(line("10.0.255.7:1"), "10.0.255.7");
        assert_eq!(line("[::ffff:127.0.0.1]:1"), "::ffff:127.0.0.1");
        assert_eq!(line("[2001:db8::1]:1"), "2001:db8::1");
        let mut out = Vec::new();
        push_peer(&mut out, None);
        assert_eq!(out, b"-");
    }

    #[test]
    fn request_bytes_are_escaped_in_common_format() {
        let mut out = Vec::new();
        push_quoted_common(&mut out, b"/\"\\\x01\xff");
        assert_eq!(out, b"/\\\"\\\\\\x01\\xff");
    }

    #[test]
    fn pieces_end_at_line_ends_within_pipe_buf() {
        let line = [b'a'; 99].iter().chain(b"\n").copied().collect::<Vec<u8>>();
        let many: Vec<u8> = line.iter().copied().cycle().take(100 * 50).collect();
        assert_eq!(line_piece(&many), 4000);
        assert_eq!(line_piece(b"ab\ncd"), 3);
        let long = vec![b'x'; 5000].into_iter().chain(*b"\nrest").collect::<Vec<u8>>();
        assert_eq!(line_piece(&long), 5001);
        assert_eq!(line_piece(b"no newline"), 10);
    }
}
