//! One client connection: reads and parses requests, dispatches them to JavaScript, keeps
//! pipelined responses in order, writes, and closes. Each readable event costs one `read`
//! and, once JavaScript has answered, one `write`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::raw::c_int;

use crate::chunked::{self, ChunkError, Decoder};
use crate::exchange::{Exchange, Response};
use crate::js::Cb;
use crate::parser::{self, Framing};
use crate::server::Server;
use crate::uv;
use crate::writer::{self, BlockInfo, BodyFraming, HeadParts};

/// Bytes asked of the kernel per read.
const READ_SIZE: usize = 65536;
/// How long a closing connection keeps draining the client's input so our last response is
/// not destroyed by a reset.
const LINGER_MS: u64 = 2000;
/// Bits of a token that carry the request sequence number; the rest is the connection id.
pub const SEQ_BITS: u32 = 20;
const SEQ_MASK: u32 = (1 << SEQ_BITS) - 1;

/// Abort reasons, as src/engine/binding.ts numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    Closed = 1,
    BadBody = 2,
    Timeout = 3,
    Destroyed = 4,
}

/// What the request body reader is doing.
enum BodyState {
    /// Between requests: the next bytes are a head.
    None,
    Length {
        seq: u32,
        remaining: u64,
    },
    Chunked {
        seq: u32,
        decoder: Box<Decoder>,
    },
    /// After a 101 response: raw bytes both ways.
    Upgraded {
        seq: u32,
    },
}

/// An error a JavaScript call made, reported back as a thrown Error.
pub type CallResult<T> = Result<T, &'static str>;

pub struct Conn {
    pub id: u32,
    pub fd: c_int,
    pub server: *mut Server,
    poll: *mut uv::Handle,
    events: c_int,
    pub peer: Option<SocketAddr>,
    inbuf: Vec<u8>,
    in_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    queue: VecDeque<Exchange>,
    spare: Vec<Exchange>,
    fields: Vec<parser::Field>,
    next_seq: u32,
    body: BodyState,
    js_paused: bool,
    /// The peer finished sending (EOF): answer what was asked, then close.
    read_eof: bool,
    /// No more requests are read: a request or response said close, or the input was refused.
    stop_parsing: bool,
    /// A response said close while later pipelined requests were queued: they will never be answered.
    doomed: bool,
    /// Shut down our side; draining input until EOF or the linger deadline.
    lingering_since: Option<u64>,
    pub closed: bool,
    /// Close requested from JavaScript or by a failed write; carried out outside JS calls.
    pub pending_close: Option<Abort>,
    /// Parsing stopped because too much output was waiting; resume once it drains.
    blocked_on_output: bool,
    /// Buffered input may be parseable again (resumed, or the pipeline queue shrank).
    pub needs_process: bool,
    /// Listed in the engine's dirty list (output or work waiting for the next flush point).
    pub dirty: bool,
    /// Loop time when the current head started arriving, and when the connection went idle.
    head_start: u64,
    idle_since: u64,
    /// Loop time when the current request started (for requestTimeout).
    request_start: u64,
}

fn token(conn: u32, seq: u32) -> f64 {
    ((conn as u64) << SEQ_BITS | seq as u64) as f64
}

pub fn split_token(token: f64) -> (u32, u32) {
    let t = token as u64;
    ((t >> SEQ_BITS) as u32, (t as u32) & SEQ_MASK)
}

impl Conn {
    pub fn new(id: u32, fd: c_int, server: *mut Server, peer: Option<SocketAddr>, now: u64) -> Box<Conn> {
        Box::new(Conn {
            id,
            fd,
            server,
            poll: std::ptr::null_mut(),
            events: 0,
            peer,
            inbuf: Vec::new(),
            in_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            queue: VecDeque::new(),
            spare: Vec::new(),
            fields: Vec::new(),
            next_seq: 0,
            body: BodyState::None,
            js_paused: false,
            read_eof: false,
            stop_parsing: false,
            doomed: false,
            lingering_since: None,
            closed: false,
            pending_close: None,
            needs_process: false,
            blocked_on_output: false,
            dirty: false,
            head_start: now,
            idle_since: now,
            request_start: now,
        })
    }

    fn server(&self) -> &Server {
        // SAFETY: a server outlives its connections (it is freed only with none left).
        unsafe { &*self.server }
    }

    /// Puts the socket on the loop, reading.
    pub fn start(&mut self, lp: *mut uv::Loop) -> bool {
        self.poll = uv::alloc_handle(uv::POLL, self as *mut Conn as *mut _);
        // SAFETY: fresh handle on the main loop; `self` is boxed and freed only in on_closed.
        if unsafe { uv::uv_poll_init(lp, self.poll, self.fd) } != 0 {
            uv::close_and_free(self.poll);
            self.poll = std::ptr::null_mut();
            return false;
        }
        self.update_poll();
        true
    }

    // ---- reading ----

    fn unread(&self) -> &[u8] {
        &self.inbuf[self.in_pos..]
    }

    fn consume(&mut self, n: usize) {
        self.in_pos += n;
        if self.in_pos == self.inbuf.len() {
            self.inbuf.clear();
            self.in_pos = 0;
        }
    }

    fn wants_read(&self) -> bool {
        if self.closed || self.read_eof {
            return false;
        }
        if self.lingering_since.is_some() {
            return true;
        }
        let lim = &self.server().limits;
        !self.js_paused
            && !self.stop_parsing_and_idle_body()
            && self.queue.len() < lim.max_pipelined
            && self.unsent() <= lim.high_water_mark
            && self.unread().len() <= lim.max_header_size
    }

    /// After a close was decided, input matters only while a body is still arriving.
    fn stop_parsing_and_idle_body(&self) -> bool {
        self.stop_parsing && matches!(self.body, BodyState::None)
    }

    fn unsent(&self) -> usize {
        self.out.len() - self.out_pos
    }

    pub fn update_poll(&mut self) {
        if self.closed || self.poll.is_null() {
            return;
        }
        let want = if self.wants_read() { uv::READABLE } else { 0 } | if self.unsent() > 0 { uv::WRITABLE } else { 0 };
        if want != self.events {
            self.events = want;
            // SAFETY: the poll handle is live until close().
            unsafe {
                if want == 0 {
                    uv::uv_poll_stop(self.poll);
                } else {
                    uv::uv_poll_start(self.poll, want, on_poll);
                }
            }
        }
    }

    /// One read. Returns false on EOF or error (the caller decides how to close).
    fn read_some(&mut self) -> Result<usize, c_int> {
        if self.in_pos > 0 && self.in_pos >= self.inbuf.len() / 2 {
            self.inbuf.drain(..self.in_pos);
            self.in_pos = 0;
        }
        let len = self.inbuf.len();
        self.inbuf.reserve(READ_SIZE);
        let room = self.inbuf.capacity() - len;
        // SAFETY: reading into the vector's spare capacity, then committing exactly what the
        // kernel wrote.
        let n = unsafe {
            let n = libc::read(self.fd, self.inbuf.as_mut_ptr().add(len).cast(), room);
            if n > 0 {
                self.inbuf.set_len(len + n as usize);
            }
            n
        };
        if n < 0 {
            Err(errno())
        } else {
            Ok(n as usize)
        }
    }

    /// The socket is readable.
    fn on_readable(&mut self) {
        if let Some(since) = self.lingering_since {
            return self.drain_linger(since);
        }
        let was_between = self.unread().is_empty() && matches!(self.body, BodyState::None);
        match self.read_some() {
            Ok(0) => self.on_eof(),
            Ok(_) => {
                if was_between {
                    let now = self.server().now();
                    self.head_start = now;
                    if self.queue.is_empty() {
                        self.request_start = now;
                    }
                }
                let server = self.server;
                // SAFETY: see Conn::server.
                let _scope = unsafe { (*server).callbacks.scope() };
                self.process_input();
                drop(_scope);
                self.after_js();
            }
            Err(e) if e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::EINTR => {}
            Err(_) => self.close(Abort::Closed),
        }
    }

    fn drain_linger(&mut self, since: u64) {
        let mut scratch = [0u8; 4096];
        // SAFETY: plain read into a stack buffer.
        let n = unsafe { libc::read(self.fd, scratch.as_mut_ptr().cast(), scratch.len()) };
        let expired = self.server().now() >= since + LINGER_MS;
        if n == 0 || (n < 0 && errno() != libc::EAGAIN) || expired {
            self.close(Abort::Closed);
        }
    }

    fn on_eof(&mut self) {
        self.read_eof = true;
        // A body cut short can never complete.
        let cut = match self.body {
            BodyState::None => None,
            BodyState::Length { seq, .. } | BodyState::Chunked { seq, .. } | BodyState::Upgraded { seq } => Some(seq),
        };
        if let Some(seq) = cut {
            if matches!(self.body, BodyState::Upgraded { .. }) {
                self.body = BodyState::None;
                let server = self.server;
                // SAFETY: see Conn::server.
                let _scope = unsafe { (*server).callbacks.scope() };
                self.call_end(seq);
                drop(_scope);
                return self.after_js();
            }
            return self.close(Abort::Closed);
        }
        if self.queue.is_empty() {
            self.close(Abort::Closed);
        } else {
            // Half-close: answer what was asked, then close.
            self.stop_parsing = true;
            self.update_poll();
        }
    }

    /// Parses and dispatches everything buffered, as far as limits and pauses allow.
    pub fn process_input(&mut self) {
        self.needs_process = false;
        loop {
            if self.closed || self.pending_close.is_some() {
                return;
            }
            let progressed = match self.body {
                BodyState::None => self.next_head(),
                BodyState::Length { .. } => self.length_body(),
                BodyState::Chunked { .. } => self.chunked_body(),
                BodyState::Upgraded { seq } => self.raw_input(seq),
            };
            if !progressed {
                return;
            }
        }
    }

    fn next_head(&mut self) -> bool {
        if self.stop_parsing || self.unread().is_empty() || self.queue.len() >= self.server().limits.max_pipelined {
            return false;
        }
        // A pipelining client that does not read its responses gets no more of them.
        if self.unsent() > self.server().limits.high_water_mark {
            self.blocked_on_output = true;
            return false;
        }
        let server = self.server;
        // SAFETY: see Conn::server.
        let limits = unsafe { &(*server).limits };
        let mut fields = std::mem::take(&mut self.fields);
        let parsed = parser::parse_head(self.unread(), limits, &mut fields);
        let result = match parsed {
            Ok(None) => false,
            Err(reject) => {
                self.refuse(reject.status, reject.reason);
                false
            }
            Ok(Some(head)) => {
                let seq = self.next_seq;
                self.next_seq = (self.next_seq + 1) & SEQ_MASK;
                let mut ex = self.spare.pop().unwrap_or_else(Exchange::empty);
                ex.reset(seq);
                ex.fill(&head, &self.unread()[..head.len], &fields);
                self.consume(head.len);
                if !head.keep_alive {
                    self.stop_parsing = true;
                }
                self.body = match head.framing {
                    Framing::None => BodyState::None,
                    Framing::Length(n) => BodyState::Length { seq, remaining: n },
                    Framing::Chunked => BodyState::Chunked {
                        seq,
                        decoder: Box::new(Decoder::new(limits.max_body_size, limits.max_header_size)),
                    },
                };
                self.head_start = self.server().now();
                let flags = request_flags(&ex, &head);
                self.queue.push_back(ex);
                self.dispatch(seq, flags);
                true
            }
        };
        self.fields = fields;
        result
    }

    /// Calls onRequest for the exchange just queued.
    fn dispatch(&mut self, seq: u32, flags: u32) {
        let server = self.server;
        // SAFETY: see Conn::server; the exchange is the last in the queue.
        let (cbs, ex) = unsafe { (&(*server).callbacks, self.queue.back().unwrap()) };
        let mut args = [
            cbs.number(token(self.id, seq)),
            cbs.latin1(ex.method_bytes()),
            cbs.latin1(ex.target_bytes()),
            cbs.number(flags as f64),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        ];
        // SAFETY: see Conn::server.
        let argc = if unsafe { (*server).limits.router } >= 0 {
            let (route, params) = crate::route::route_args(unsafe { &*server }, ex.method_bytes(), ex.target_bytes());
            args[4] = route;
            args[5] = params;
            6
        } else {
            4
        };
        cbs.call(Cb::Request, &args[..argc]);
    }

    fn length_body(&mut self) -> bool {
        let BodyState::Length { seq, remaining } = self.body else { return false };
        if self.js_paused || self.unread().is_empty() {
            return false;
        }
        let take = (self.unread().len() as u64).min(remaining) as usize;
        let remaining = remaining - take as u64;
        self.body = if remaining == 0 { BodyState::None } else { BodyState::Length { seq, remaining } };
        self.deliver(seq, self.in_pos, self.in_pos + take);
        self.consume(take);
        if remaining == 0 {
            self.body_complete(seq);
        }
        true
    }

    fn chunked_body(&mut self) -> bool {
        if self.js_paused || self.unread().is_empty() {
            return false;
        }
        let BodyState::Chunked { seq, ref mut decoder } = self.body else { return false };
        // Decode first, then deliver: JavaScript runs only once the decoder is put away.
        let base = self.in_pos;
        let input = &self.inbuf[self.in_pos..];
        let start = input.as_ptr() as usize;
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let progress = decoder.decode(input, |data| {
            let at = data.as_ptr() as usize - start + base;
            spans.push((at, at + data.len()));
        });
        match progress {
            Err(err) => {
                let (status, reason) = match err {
                    ChunkError::Invalid(r) => (400, r),
                    ChunkError::TooLarge => (413, "request body too large"),
                };
                self.body_error(seq, status, reason);
                false
            }
            Ok(p) => {
                let trailers = if p.done { Some(std::mem::take(&mut decoder.trailers)) } else { None };
                for (from, to) in spans {
                    self.deliver(seq, from, to);
                }
                self.consume(p.consumed);
                if let Some(trailers) = trailers {
                    self.body = BodyState::None;
                    if let Some(ex) = self.find(seq) {
                        ex.trailers = trailers;
                    }
                    self.body_complete(seq);
                }
                true
            }
        }
    }

    fn raw_input(&mut self, seq: u32) -> bool {
        if self.js_paused || self.unread().is_empty() {
            return false;
        }
        let (from, to) = (self.in_pos, self.inbuf.len());
        self.deliver(seq, from, to);
        self.consume(to - from);
        true
    }

    /// Hands body bytes inbuf[from..to] to JavaScript, unless its response is already done.
    fn deliver(&mut self, seq: u32, from: usize, to: usize) {
        if from == to || !self.find(seq).is_some_and(|ex| ex.live()) {
            return;
        }
        let server = self.server;
        // SAFETY: see Conn::server.
        let cbs = unsafe { &(*server).callbacks };
        let args = [cbs.number(token(self.id, seq)), cbs.buffer(&self.inbuf[from..to])];
        cbs.call(Cb::Data, &args);
    }

    fn body_complete(&mut self, seq: u32) {
        let now = self.server().now();
        self.head_start = now;
        self.request_start = now;
        let live = match self.find(seq) {
            Some(ex) => {
                ex.body_done = true;
                ex.live()
            }
            None => false,
        };
        if live {
            self.call_end(seq);
        } else {
            self.advance();
        }
    }

    fn call_end(&self, seq: u32) {
        let cbs = &self.server().callbacks;
        cbs.call(Cb::End, &[cbs.number(token(self.id, seq))]);
    }

    /// The request body broke the rules: answer if nothing was sent yet, abort, close.
    fn body_error(&mut self, seq: u32, status: u16, reason: &str) {
        self.body = BodyState::None;
        self.stop_parsing = true;
        let loop_ms = self.server().now();
        let id = self.id;
        let Some(idx) = self.index_of(seq) else {
            return self.close(Abort::BadBody);
        };
        let ex = &mut self.queue[idx];
        let was_live = ex.live();
        ex.close_after = true;
        if ex.response == Response::NotStarted {
            ex.response = Response::Done;
            let mut bytes = Vec::new();
            writer::write_error(&mut bytes, status, reason, loop_ms);
            self.emit(idx, &bytes);
        } else if ex.response != Response::Done {
            // Half a response is out: the only honest end is a cut connection.
            return self.close(Abort::BadBody);
        }
        if was_live {
            let cbs = &self.server().callbacks;
            cbs.call(Cb::Abort, &[cbs.number(token(id, seq)), cbs.number(Abort::BadBody as u32 as f64)]);
        }
        self.advance();
    }

    /// Refuses a malformed head: an error response in order, then close.
    fn refuse(&mut self, status: u16, reason: &str) {
        self.stop_parsing = true;
        let seq = self.next_seq;
        self.next_seq = (self.next_seq + 1) & SEQ_MASK;
        let mut ex = self.spare.pop().unwrap_or_else(Exchange::empty);
        ex.reset(seq);
        ex.close_after = true;
        ex.response = Response::Done;
        writer::write_error(&mut ex.pending, status, reason, self.server().now());
        self.queue.push_back(ex);
        if self.queue.len() == 1 {
            let pending = std::mem::take(&mut self.queue[0].pending);
            self.out.extend_from_slice(&pending);
            self.queue[0].pending = pending;
        }
        self.advance();
        self.mark_dirty();
    }

    // ---- writing (called from JavaScript through lib.rs) ----

    fn index_of(&self, seq: u32) -> Option<usize> {
        let front = self.queue.front()?.seq;
        let idx = (seq.wrapping_sub(front) & SEQ_MASK) as usize;
        (idx < self.queue.len()).then_some(idx)
    }

    pub fn find(&mut self, seq: u32) -> Option<&mut Exchange> {
        let idx = self.index_of(seq)?;
        self.queue.get_mut(idx)
    }

    /// Appends response bytes for the exchange at `idx`: straight to the socket's buffer when
    /// it is at the front, else held until the exchanges before it are done.
    fn emit(&mut self, idx: usize, bytes: &[u8]) {
        if idx == 0 {
            self.out.extend_from_slice(bytes);
        } else {
            self.queue[idx].pending.extend_from_slice(bytes);
        }
    }

    fn live_index(&self, seq: u32) -> CallResult<usize> {
        if self.closed || self.pending_close.is_some() {
            return Err("connection closed");
        }
        self.index_of(seq).filter(|&i| self.queue[i].dispatched).ok_or("unknown or finished exchange")
    }

    /// Decides the framing of a response about to start, and writes its head.
    /// `body_len` is the body's length when known in advance (a complete response, or a
    /// declared Content-Length).
    fn start_response(
        &mut self,
        idx: usize,
        status: u16,
        reason: &[u8],
        block: &[u8],
        info: &BlockInfo,
        body_len: Option<u64>,
    ) -> CallResult<BodyFraming> {
        if !(100..=999).contains(&status) {
            return Err("status code must be between 100 and 999");
        }
        if reason.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            return Err("invalid character in status message");
        }
        let info = *info;
        let loop_ms = self.server().now();
        let closing_server = self.server().closing();
        let ex = &mut self.queue[idx];
        if ex.response != Response::NotStarted {
            return Err("response already started");
        }
        if status == 101 && !ex.upgrade {
            return Err("101 Switching Protocols answers only an upgrade request");
        }
        let bodiless = ex.is_head_method || writer::status_forbids_body(status);
        let mut add_length = None;
        let mut add_chunked = false;
        let framing = if status == 101 {
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
        } else if let Some(n) = body_len {
            add_length = Some(n);
            BodyFraming::Length(n)
        } else if ex.http11 {
            add_chunked = true;
            BodyFraming::Chunked
        } else {
            BodyFraming::UntilClose
        };
        if info.close || framing == BodyFraming::UntilClose && status != 101 || closing_server {
            ex.close_after = true;
        }
        // An unanswered 100-continue leaves the client's body in doubt: do not reuse the connection.
        if ex.expect_continue && !ex.continue_sent && !ex.body_done {
            ex.close_after = true;
        }
        let parts = HeadParts {
            status,
            reason,
            block,
            info: &info,
            add_length,
            add_chunked,
            closing: ex.close_after && status != 101,
            keep_alive_10: !ex.http11 && !ex.close_after,
            loop_ms,
        };
        ex.response = Response::Streaming { framing, written: 0 };
        if idx == 0 {
            writer::write_head(&mut self.out, &parts);
        } else {
            let mut pending = std::mem::take(&mut self.queue[idx].pending);
            writer::write_head(&mut pending, &parts);
            self.queue[idx].pending = pending;
        }
        if status == 101 {
            self.body = BodyState::Upgraded { seq: self.queue[idx].seq };
            self.stop_parsing = true;
        }
        Ok(framing)
    }

    /// A complete response in one call.
    pub fn respond(
        &mut self,
        seq: u32,
        status: u16,
        reason: &[u8],
        block: &[u8],
        info: &BlockInfo,
        body: &[u8],
    ) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        let framing = self.start_response(idx, status, reason, block, info, Some(body.len() as u64))?;
        self.body_bytes(idx, framing, body)?;
        self.finish_response(idx, b"");
        Ok(())
    }

    pub fn write_head(
        &mut self,
        seq: u32,
        status: u16,
        reason: &[u8],
        block: &[u8],
        info: &BlockInfo,
        length: Option<u64>,
    ) -> CallResult<()> {
        let idx = self.live_index(seq)?;
        self.start_response(idx, status, reason, block, info, length)?;
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

    fn body_bytes(&mut self, idx: usize, framing: BodyFraming, data: &[u8]) -> CallResult<()> {
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
            BodyFraming::Chunked => {
                if idx == 0 {
                    chunked::encode_chunk(&mut self.out, data);
                } else {
                    chunked::encode_chunk(&mut self.queue[idx].pending, data);
                }
            }
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

    fn finish_response(&mut self, idx: usize, trailers: &[u8]) {
        let ex = &mut self.queue[idx];
        if let Response::Streaming { framing: BodyFraming::Chunked, .. } = ex.response {
            if idx == 0 {
                chunked::encode_end(&mut self.out, trailers);
            } else {
                chunked::encode_end(&mut self.queue[idx].pending, trailers);
            }
        }
        let ex = &mut self.queue[idx];
        ex.response = Response::Done;
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

    /// Retires finished exchanges at the front and promotes the next one's held output.
    fn advance(&mut self) {
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
            if let Some(next) = self.queue.front_mut() {
                let pending = std::mem::take(&mut next.pending);
                self.out.extend_from_slice(&pending);
                next.pending = pending;
                next.pending.clear();
            }
            self.needs_process = true;
        }
        if self.queue.is_empty() {
            self.idle_since = self.server().now();
        }
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

    pub fn trailers(&mut self, seq: u32) -> CallResult<&[u8]> {
        let idx = self.index_of(seq).ok_or("unknown or finished exchange")?;
        Ok(&self.queue[idx].trailers)
    }

    pub fn mark_dirty(&mut self) {
        if !self.dirty {
            self.dirty = true;
            crate::server::engine().dirty.push(self.id);
        }
    }

    /// Writes what is buffered. Errors mark the connection for closing.
    pub fn flush(&mut self) {
        while self.out_pos < self.out.len() {
            let rest = &self.out[self.out_pos..];
            // SAFETY: plain write from our buffer.
            let n = unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                self.out_pos += n as usize;
                continue;
            }
            let e = errno();
            if n < 0 && e == libc::EINTR {
                continue;
            }
            if n < 0 && (e == libc::EAGAIN || e == libc::EWOULDBLOCK) {
                break;
            }
            self.pending_close = Some(Abort::Closed);
            self.mark_dirty();
            return;
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
    }

    /// After JavaScript has run: write, notify drains, retire, decide whether to close.
    pub fn after_js(&mut self) {
        if self.closed {
            return;
        }
        if let Some(reason) = self.pending_close.take() {
            return self.close(reason);
        }
        self.flush();
        if let Some(reason) = self.pending_close.take() {
            return self.close(reason);
        }
        if self.blocked_on_output && self.unsent() <= self.server().limits.high_water_mark {
            self.blocked_on_output = false;
            self.needs_process = true;
            self.mark_dirty();
        }
        if self.unsent() == 0 {
            self.notify_drain();
            if self.closed {
                return;
            }
            if (self.queue.is_empty() || self.doomed) && (self.stop_parsing || self.read_eof) {
                return self.shutdown();
            }
        }
        self.update_poll();
    }

    fn notify_drain(&mut self) {
        let waiting: Vec<u32> = self
            .queue
            .iter_mut()
            .filter(|e| e.want_drain)
            .map(|e| {
                e.want_drain = false;
                e.seq
            })
            .collect();
        if waiting.is_empty() {
            return;
        }
        let server = self.server;
        // SAFETY: see Conn::server.
        let cbs = unsafe { &(*server).callbacks };
        let _scope = cbs.scope();
        for seq in waiting {
            cbs.call(Cb::Drain, &[cbs.number(token(self.id, seq))]);
        }
    }

    /// Our last response is out: stop sending, drain what the client still sends, then close.
    fn shutdown(&mut self) {
        if self.read_eof {
            return self.close(Abort::Closed);
        }
        self.abort_queued(Abort::Closed);
        // SAFETY: shutting down our own socket's write side.
        unsafe { libc::shutdown(self.fd, libc::SHUT_WR) };
        self.lingering_since = Some(self.server().now());
        self.update_poll();
    }

    /// Closes now: in-flight exchanges abort, the socket and its memory are released once
    /// libuv lets go of the handle.
    pub fn close(&mut self, reason: Abort) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.abort_queued(reason);
        crate::server::forget_conn(self);
        if self.poll.is_null() {
            // Never started: nothing of libuv's to wait for.
            // SAFETY: the box was leaked by the server on accept and is no longer registered.
            unsafe {
                libc::close(self.fd);
                drop(Box::from_raw(self as *mut Conn));
            }
            return;
        }
        // SAFETY: the handle is live; on_closed frees it and this connection.
        unsafe {
            uv::uv_poll_stop(self.poll);
            libc::close(self.fd);
            uv::uv_close(self.poll, on_closed);
        }
        self.poll = std::ptr::null_mut();
    }

    /// Tells JavaScript about every exchange it still holds, and forgets them all.
    fn abort_queued(&mut self, reason: Abort) {
        let live: Vec<u32> = self.queue.iter().filter(|e| e.live()).map(|e| e.seq).collect();
        self.spare.extend(self.queue.drain(..));
        if live.is_empty() {
            return;
        }
        let server = self.server;
        // SAFETY: see Conn::server.
        let cbs = unsafe { &(*server).callbacks };
        let _scope = cbs.scope();
        for seq in live {
            cbs.call(Cb::Abort, &[cbs.number(token(self.id, seq)), cbs.number(reason as u32 as f64)]);
        }
    }

    /// Timeouts, checked by the server's sweep.
    pub fn check_timeouts(&mut self, now: u64) {
        if self.closed {
            return;
        }
        let lim = self.server().limits.clone();
        if let Some(since) = self.lingering_since {
            if now >= since + LINGER_MS {
                self.close(Abort::Closed);
            }
            return;
        }
        let receiving_body = !matches!(self.body, BodyState::None | BodyState::Upgraded { .. });
        if receiving_body {
            if lim.request_timeout > 0 && now >= self.request_start + lim.request_timeout {
                self.time_out();
            }
            return;
        }
        if matches!(self.body, BodyState::Upgraded { .. }) {
            return;
        }
        let partial_head = !self.unread().is_empty() && !self.stop_parsing;
        if self.queue.is_empty() && self.unsent() == 0 && !partial_head {
            // Idle between requests; a fresh connection that has sent nothing waits as long as a head may.
            let (since, limit) = if self.next_seq == 0 {
                (self.head_start, lim.headers_timeout)
            } else {
                (self.idle_since, lim.keep_alive_timeout)
            };
            if limit > 0 && now >= since + limit {
                self.close(Abort::Timeout);
            }
            return;
        }
        if partial_head && self.queue.len() < lim.max_pipelined {
            let head_limit = lim.headers_timeout;
            let request_limit = lim.request_timeout;
            if (head_limit > 0 && now >= self.head_start + head_limit)
                || (request_limit > 0 && now >= self.request_start + request_limit)
            {
                self.time_out();
            }
        }
    }

    /// A request took too long to arrive: 408 when nothing else is owed, then close.
    fn time_out(&mut self) {
        let answerable = self.queue.len() <= 1 && self.queue.front().is_none_or(|e| e.response == Response::NotStarted);
        if !answerable {
            return self.close(Abort::Timeout);
        }
        self.abort_queued(Abort::Timeout);
        self.body = BodyState::None;
        self.stop_parsing = true;
        let loop_ms = self.server().now();
        writer::write_error(&mut self.out, 408, "request timed out", loop_ms);
        self.after_js();
    }

    /// Whether the connection is between requests with nothing owed (closeIdleConnections).
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.unsent() == 0 && self.unread().is_empty() && matches!(self.body, BodyState::None)
    }
}

fn request_flags(ex: &Exchange, head: &parser::Head) -> u32 {
    let mut flags = 0;
    if ex.http11 {
        flags |= 1;
    }
    if ex.keep_alive {
        flags |= 2;
    }
    if head.framing != Framing::None {
        flags |= 4;
    }
    if ex.expect_continue {
        flags |= 8;
    }
    if ex.upgrade {
        flags |= 16;
    }
    if head.framing == Framing::Chunked {
        flags |= 32;
    }
    if ex.is_head_method {
        flags |= 64;
    }
    flags
}

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

unsafe extern "C" fn on_poll(handle: *mut uv::Handle, status: c_int, events: c_int) {
    let conn = uv::data::<Conn>(handle);
    // SAFETY: the handle's data is its live connection (freed only in on_closed).
    let conn = &mut *conn;
    if conn.closed {
        return;
    }
    if status < 0 {
        return conn.close(Abort::Closed);
    }
    if events & uv::WRITABLE != 0 {
        conn.after_js();
        if conn.closed {
            return;
        }
    }
    if events & uv::READABLE != 0 {
        conn.on_readable();
    }
    crate::server::flush_dirty();
}

unsafe extern "C" fn on_closed(handle: *mut uv::Handle) {
    drop(Box::from_raw(uv::data::<Conn>(handle)));
    libc::free(handle.cast());
}
