//! The write side: responses framed and kept in request order, body pieces, backpressure.

use super::{BodyState, CallResult, Conn, SEQ_MASK};
use crate::access_log;
use crate::chunked;
use crate::exchange::{Exchange, Response};
use crate::parser;
use crate::writer::{self, BlockInfo, BodyFraming, HeadParts};

/// A response head as JavaScript hands it over.
pub struct ResponseHead<'a> {
    pub status: u16,
    /// The status line's reason phrase.
    pub reason: &'a [u8],
    /// The application's header lines, and what they say about framing.
    pub block: &'a [u8],
    pub info: BlockInfo,
    /// Add the engine's Date line; false for node's `res.sendDate = false`.
    pub send_date: bool,
    /// `block` is the whole head as the drop-in's 'upgrade' socket was given it, sent as is.
    pub raw: bool,
    /// Bytes at the end of `block` that are Connection lines node writes after Date.
    pub connection_lines: usize,
    /// Without framing fields in `block`, the body is close-delimited and the engine adds neither
    /// a framing nor a Connection field (node's response whose framing fields were removed).
    pub until_close: bool,
}

/// Body pieces at least this large are sent as they are given rather than at the end of the
/// event: their bytes go to the kernel from JavaScript's memory, not through a copy (or several,
/// as the output buffer grows) first.
const SEND_AT_ONCE: usize = 16 * 1024;

/// One whole informational response head (`HTTP/1.1 1xx ...` up to its blank line).
fn is_interim_head(bytes: &[u8]) -> bool {
    bytes.len() > 12
        && bytes.starts_with(b"HTTP/1.")
        && bytes[9] == b'1'
        && bytes.ends_with(b"\r\n\r\n")
        && memchr::memmem::find(bytes, b"\r\n\r\n") == Some(bytes.len() - 4)
}

impl Conn {
    // ---- writing (called from JavaScript through lib.rs) ----

    pub(super) fn index_of(&self, seq: u32) -> Option<usize> {
        let front = self.queue.front()?.seq;
        let idx = (seq.wrapping_sub(front) & SEQ_MASK) as usize;
        (idx < self.queue.len()).then_some(idx)
    }

    pub fn find(&mut self, seq: u32) -> Option<&mut Exchange> {
        let idx = self.index_of(seq)?;
        self.queue.get_mut(idx)
    }

    /// Appends response bytes for the exchange at `idx`: to the connection's output when it is
    /// at the front, else held until the exchanges before it are done. A large piece at the
    /// front is sent at once, after the output waiting before it, and only what the socket does
    /// not take is copied.
    pub(super) fn emit(&mut self, idx: usize, bytes: &[u8]) {
        let sent = if idx == 0 && bytes.len() >= SEND_AT_ONCE && self.pending_close.is_none() { self.send_with(bytes) } else { 0 };
        if sent < bytes.len() {
            self.held(idx).extend_from_slice(&bytes[sent..]);
        }
    }

    /// Where output for the exchange at `idx` is appended: the connection's output at the
    /// front, else the exchange's own until those before it are done.
    fn held(&mut self, idx: usize) -> &mut Vec<u8> {
        if idx == 0 {
            self.out_buf()
        } else {
            &mut self.queue[idx].pending
        }
    }

    /// Only reached through lib.rs's `conn_of`, which never yields a closed or closing connection.
    pub(super) fn live_index(&self, seq: u32) -> CallResult<usize> {
        self.index_of(seq).filter(|&i| self.queue[i].dispatched).ok_or("unknown or finished exchange")
    }

    /// Decides the framing of a response about to start, and writes its head.
    /// `body_len` is the body's length when known in advance (a complete response, or a
    /// declared Content-Length).
    pub(super) fn start_response(
        &mut self,
        idx: usize,
        head: &ResponseHead,
        body_len: Option<u64>,
    ) -> CallResult<BodyFraming> {
        if head.raw {
            return self.start_raw_response(idx, head.block);
        }
        let (status, reason, info) = (head.status, head.reason, head.info);
        if !(100..=999).contains(&status) {
            return Err("status code must be between 100 and 999");
        }
        if reason.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            return Err("invalid character in status message");
        }
        let loop_ms = self.server().now();
        // A closing server answers every request it has received, then lets the connection go.
        let last_owed = self.server().closing() && idx + 1 == self.queue.len();
        let node_compat = self.server().limits.node_compat;
        let ex = &mut self.queue[idx];
        if ex.response != Response::NotStarted {
            return Err("response already started");
        }
        ex.status = status;
        // node sends a 101 to any request, as a bodiless answer that switches nothing.
        let plain_101 = status == 101 && (!ex.upgrade || ex.connect);
        if plain_101 && !node_compat {
            return Err("101 Switching Protocols answers only an upgrade request");
        }
        // From here on the connection carries raw bytes both ways: after a 101, or a tunnel
        // opened by a 2xx answer to CONNECT.
        let switches = status == 101 && !plain_101 || ex.connect && (200..300).contains(&status);
        let answers_switch_request = ex.upgrade;
        if switches && ex.connect && (info.content_length.is_some() || info.has_transfer_encoding) {
            return Err("a 2xx answer to CONNECT has no Content-Length or Transfer-Encoding");
        }
        let bodiless = ex.is_head_method || writer::status_forbids_body(status);
        let mut add_length = None;
        let mut add_chunked = false;
        let framing = if switches {
            BodyFraming::UntilClose
        } else if bodiless {
            if ex.is_head_method
                && !writer::status_forbids_body(status)
                && info.content_length.is_none()
                && !info.has_transfer_encoding
            {
                add_length = body_len;
            }
            BodyFraming::Bodiless
        } else if info.has_transfer_encoding {
            if info.content_length.is_some() {
                return Err("response has both Content-Length and Transfer-Encoding");
            }
            if info.chunked && ex.http11 {
                BodyFraming::Chunked
            } else {
                BodyFraming::UntilClose
            }
        } else if let Some(n) = info.content_length {
            if body_len.is_some_and(|len| len != n) {
                return Err("Content-Length does not match the body");
            }
            BodyFraming::Length(n)
        } else if head.until_close {
            BodyFraming::UntilClose
        } else if let Some(n) = body_len {
            add_length = Some(n);
            BodyFraming::Length(n)
        } else if ex.http11 {
            add_chunked = true;
            BodyFraming::Chunked
        } else {
            BodyFraming::UntilClose
        };
        if info.close || framing == BodyFraming::UntilClose && !switches || last_owed {
            ex.close_after = true;
        }
        // An unanswered 100-continue leaves the client's body in doubt: do not reuse the connection.
        if ex.expect_continue && !ex.continue_sent && !ex.body_done {
            ex.close_after = true;
        }
        let parts = HeadParts {
            status,
            reason,
            block: head.block,
            info: &info,
            add_length,
            add_chunked,
            closing: ex.close_after && !switches && !head.until_close,
            keep_alive_10: !ex.http11 && !ex.close_after,
            send_date: head.send_date,
            loop_ms,
            date_last: node_compat.then_some(head.connection_lines),
        };
        ex.response = Response::Streaming { framing, written: 0 };
        writer::write_head(self.held(idx), &parts);
        if answers_switch_request {
            // Input held back behind the request is now raw bytes (after a switch) or HTTP
            // again; either way it is processed at the flush, as is a peer's end that came first.
            self.switch_pending = false;
            self.needs_process = true;
            self.mark_dirty();
        }
        if switches {
            self.body = BodyState::Upgraded { seq: self.queue[idx].seq };
            self.stop_parsing = true;
            // The exchange never completes as HTTP: its line is the switch.
            if self.server().logging {
                self.log_exchange(idx);
            }
        }
        Ok(framing)
    }

    /// An upgrade or CONNECT answered with raw bytes: they go out as written (a response head,
    /// or anything), and the connection becomes JavaScript's, raw both ways, as node hands its
    /// socket to the listener: input held back behind the request, then the peer's bytes and its
    /// end, arrive as this exchange's body; ending the response half-closes the connection
    /// (see after_js), which closes once the peer has ended too.
    fn start_raw_response(&mut self, idx: usize, head: &[u8]) -> CallResult<BodyFraming> {
        let ex = &mut self.queue[idx];
        if !ex.upgrade {
            return Err("a raw response head answers only an upgrade or CONNECT request");
        }
        if ex.response != Response::NotStarted {
            return Err("response already started");
        }
        ex.raw = true;
        ex.body_done = false;
        ex.response = Response::Streaming { framing: BodyFraming::UntilClose, written: 0 };
        let seq = ex.seq;
        self.emit(idx, head);
        self.body = BodyState::Upgraded { seq };
        self.stop_parsing = true;
        self.switch_pending = false;
        self.needs_process = true;
        self.mark_dirty();
        Ok(BodyFraming::UntilClose)
    }

    /// A complete response in one call.
    pub fn respond(&mut self, seq: u32, head: &ResponseHead, body: &[u8]) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        let framing = self.start_response(idx, head, Some(body.len() as u64))?;
        self.body_bytes(idx, framing, body)?;
        self.finish_response(idx, b"");
        Ok(())
    }

    pub fn write_head(&mut self, seq: u32, head: &ResponseHead, length: Option<u64>) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        self.start_response(idx, head, length)?;
        self.mark_dirty();
        Ok(())
    }

    /// Appends body bytes; returns whether the caller may keep writing (below the high-water mark).
    pub fn write(&mut self, seq: u32, data: &[u8]) -> CallResult<bool> {
        let idx = self.live_index(seq)?;
        let Response::Streaming { framing, .. } = self.queue[idx].response else {
            return Err("write before writeHead or after end");
        };
        self.body_bytes(idx, framing, data)?;
        self.mark_dirty();
        let hwm = self.server().limits.high_water_mark;
        let held = if idx == 0 { self.unsent() } else { self.queue[idx].pending.len() };
        if held > hwm && idx == 0 {
            self.flush();
        }
        let held = if idx == 0 { self.unsent() } else { self.queue[idx].pending.len() };
        let ok = held <= hwm;
        if !ok {
            self.queue[idx].want_drain = true;
            self.update_poll();
        }
        Ok(ok)
    }

    pub(super) fn body_bytes(&mut self, idx: usize, framing: BodyFraming, data: &[u8]) -> CallResult<()> {
        self.queue[idx].sent += data.len() as u64;
        match framing {
            BodyFraming::Bodiless => {}
            BodyFraming::Length(n) => {
                let Response::Streaming { written, .. } = &mut self.queue[idx].response else { unreachable!() };
                if *written + data.len() as u64 > n {
                    return Err("body longer than its Content-Length");
                }
                *written += data.len() as u64;
                self.emit(idx, data);
            }
            BodyFraming::Chunked if !data.is_empty() => {
                chunked::encode_size(self.held(idx), data.len());
                self.emit(idx, data);
                self.held(idx).extend_from_slice(b"\r\n");
            }
            BodyFraming::Chunked => {}
            BodyFraming::UntilClose => self.emit(idx, data),
        }
        Ok(())
    }

    pub fn end(&mut self, seq: u32, data: &[u8], trailers: &[u8]) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        let Response::Streaming { framing, .. } = self.queue[idx].response else {
            return Err("end before writeHead");
        };
        if !trailers.is_empty() {
            writer::scan_block(trailers)?;
        }
        self.body_bytes(idx, framing, data)?;
        if let BodyFraming::Length(n) = framing {
            let Response::Streaming { written, .. } = self.queue[idx].response else { unreachable!() };
            if written < n {
                // The promised length never came: the client cannot frame the next response.
                self.queue[idx].close_after = true;
            }
        }
        self.finish_response(idx, trailers);
        Ok(())
    }

    pub(super) fn finish_response(&mut self, idx: usize, trailers: &[u8]) {
        let ex = &mut self.queue[idx];
        if let Response::Streaming { framing: BodyFraming::Chunked, .. } = ex.response {
            chunked::encode_end(self.held(idx), trailers);
        }
        let ex = &mut self.queue[idx];
        ex.response = Response::Done;
        if self.server().logging {
            self.log_exchange(idx);
        }
        let ex = &mut self.queue[idx];
        // The rest of an unread body is read and dropped; a paused reader no longer blocks it.
        if !ex.body_done && self.js_paused {
            self.js_paused = false;
            self.needs_process = true;
        }
        if idx == 0 {
            self.advance();
        }
        self.mark_dirty();
    }

    /// Adds the exchange's line to the access log.
    pub(super) fn log_exchange(&self, idx: usize) {
        let ex = &self.queue[idx];
        let now = self.server().now();
        let entry = access_log::Entry {
            peer: self.peer,
            method: ex.method_bytes(),
            target: ex.target_bytes(),
            http11: ex.http11,
            status: ex.status,
            body_bytes: ex.sent,
            elapsed_ms: now.saturating_sub(ex.started),
        };
        if let Some(log) = crate::server::engine().access_log.as_mut() {
            log.record(&entry, now);
        }
    }

    /// Retires finished exchanges at the front and promotes the next one's held output.
    pub(super) fn advance(&mut self) {
        while let Some(front) = self.queue.front() {
            if front.response != Response::Done {
                break;
            }
            // The body of a finished exchange may still be arriving: keep it until read.
            if !front.body_done && !front.close_after {
                break;
            }
            let ex = self.queue.pop_front().unwrap();
            let close = ex.close_after;
            self.spare.push(ex);
            if close {
                self.stop_parsing = true;
                self.doomed = !self.queue.is_empty();
                break;
            }
            let held = self.queue.front_mut().map(|next| std::mem::take(&mut next.pending));
            if let Some(mut pending) = held {
                if !pending.is_empty() {
                    self.out_buf().extend_from_slice(&pending);
                }
                pending.clear();
                self.queue[0].pending = pending;
            }
            // A slot in the pipeline freed up: buffered requests may be parsed now.
            self.needs_process = true;
            self.mark_dirty();
        }
        if self.queue.is_empty() {
            self.idle_since = self.server().now();
        }
    }

    /// Bytes the application writes past the engine's framing (node's `socket.write()` and
    /// `res._writeRaw`: writeEarlyHints, writeProcessing), sent as-is in the place of the
    /// exchange at `idx` (None: the connection has no exchange; they go out now). A whole 1xx
    /// head is an interim response and changes nothing. Any other bytes hand the connection to
    /// the application: no further request is read, and it closes after this exchange's
    /// response, or once the application ends the socket (stop_reading_requests).
    pub fn write_raw(&mut self, idx: Option<usize>, bytes: &[u8]) {
        let interim = is_interim_head(bytes);
        match idx {
            Some(idx) => {
                let ex = &mut self.queue[idx];
                if interim && bytes.starts_with(b"HTTP/1.1 100") {
                    ex.continue_sent = true;
                } else if !interim {
                    ex.close_after = true;
                }
                self.emit(idx, bytes);
            }
            None => self.out.extend_from_slice(bytes),
        }
        if !interim {
            self.app_owned = true;
            self.stop_parsing = true;
        }
        self.mark_dirty();
    }

    /// write_raw for the exchange `seq`.
    pub fn write_raw_for(&mut self, seq: u32, bytes: &[u8]) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        self.write_raw(Some(idx), bytes);
        Ok(())
    }

    /// write_raw on the connection itself (its socket): the bytes go out now, in the place of
    /// the exchange being answered, if any.
    pub fn write_raw_now(&mut self, bytes: &[u8]) {
        let idx = (!self.queue.is_empty()).then_some(0);
        self.write_raw(idx, bytes);
    }

    pub fn write_continue(&mut self, seq: u32) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        let ex = &mut self.queue[idx];
        if !ex.expect_continue || ex.continue_sent || ex.response != Response::NotStarted {
            return Ok(());
        }
        ex.continue_sent = true;
        self.emit(idx, b"HTTP/1.1 100 Continue\r\n\r\n");
        self.mark_dirty();
        Ok(())
    }

    pub fn set_paused(&mut self, paused: bool) {
        if self.js_paused != paused {
            self.js_paused = paused;
            if !paused {
                self.needs_process = true;
                self.mark_dirty();
            }
            self.update_poll();
        }
    }

    pub fn headers(&mut self, seq: u32) -> CallResult<(&[u8], &[parser::Field])> {
        let idx = self.index_of(seq).ok_or("request headers are gone once the response is complete")?;
        let ex = &self.queue[idx];
        Ok((&ex.head, &ex.fields))
    }

    /// The exchange's request body is delivered to its end even once the response is complete.
    pub fn want_body(&mut self, seq: u32) {
        if let Some(idx) = self.index_of(seq) {
            self.queue[idx].body_wanted = true;
        }
    }

    pub fn trailers(&mut self, seq: u32) -> CallResult<&[u8]> {
        let idx = self.index_of(seq).ok_or("unknown or finished exchange")?;
        Ok(&self.queue[idx].trailers)
    }
}

#[cfg(test)]
mod tests {
    use super::is_interim_head;

    #[test]
    fn interim_heads_are_whole_1xx_heads() {
        assert!(is_interim_head(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"));
        assert!(is_interim_head(b"HTTP/1.1 102 Processing\r\n\r\n"));
        assert!(!is_interim_head(b"HTTP/1.1 200 OK\r\n\r\n"));
        assert!(!is_interim_head(b"HTTP/1.1 102 Processing\r\n"), "not through its blank line");
        assert!(!is_interim_head(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"), "more than one head");
        assert!(!is_interim_head(b"raw bytes\r\n\r\n"));
    }
}
