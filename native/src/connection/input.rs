//! The read side: one read per readable event, heads parsed and dispatched to JavaScript,
//! request bodies (by length, chunked, or raw after an upgrade) delivered in order.

use std::mem::MaybeUninit;

use super::{buffers, token, Abort, BodyState, Conn, Refusal, LINGER_MS, MIN_READ, SEQ_MASK};
use crate::chunked::{ChunkError, Decoder};
use crate::exchange::{Exchange, Response};
use crate::js::Cb;
use crate::parser::{self, Framing};
use crate::server::watch;
use crate::sys::{self, ErrorKind};
use crate::writer;

impl Conn {
    /// One read into the thread's shared read buffer (after what is left of earlier input): how
    /// many bytes arrived (0 on EOF), or the error (the caller decides how to close).
    pub(super) fn read_some(&mut self) -> Result<usize, sys::Error> {
        if self.inbuf.capacity() < buffers::READ_SIZE {
            let mut shared = buffers::take(buffers::Kind::Input);
            shared.extend_from_slice(self.unread());
            self.inbuf = shared;
            self.in_pos = 0;
        } else if self.in_pos > 0 && self.in_pos >= self.inbuf.len() / 2 {
            self.inbuf.drain(..self.in_pos);
            self.in_pos = 0;
        }
        let len = self.inbuf.len();
        if self.inbuf.capacity() - len < MIN_READ {
            self.inbuf.reserve(buffers::READ_SIZE);
        }
        let room = self.inbuf.capacity() - len;
        // SAFETY: the vector's spare capacity, `room` bytes after its `len` initialised ones.
        let spare = unsafe { std::slice::from_raw_parts_mut(self.inbuf.as_mut_ptr().add(len).cast::<MaybeUninit<u8>>(), room) };
        // recv, not read: the socket call skips the file layer's work.
        let n = sys::recv(self.socket, spare)?;
        // SAFETY: recv initialised the first n bytes of the spare capacity.
        unsafe { self.inbuf.set_len(len + n) };
        Ok(n)
    }

    /// The socket is readable.
    pub(super) fn on_readable(&mut self) {
        if let Some(since) = self.lingering_since {
            return self.drain_linger(since);
        }
        let was_between = self.unread().is_empty() && matches!(self.body, BodyState::None);
        match self.read_some() {
            Ok(0) => self.on_eof(),
            Ok(_) => {
                // A connection's first request is timed from its accept (as node times it).
                if was_between && self.next_seq > 0 {
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
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(_) => self.close(Abort::Reset),
        }
    }

    /// The peer ended its side while the engine was not reading (see Conn::watches_hangup). Its
    /// end counts once nothing it sent before is left unread; input that can never be parsed
    /// (after a close was decided) is dropped to get there. Input still to be read keeps the end
    /// for its turn: the watch stops (it would report the end again and again), and a reset
    /// after that is noticed when a send fails or reading resumes.
    pub(super) fn on_hangup(&mut self) {
        match sys::peek(self.socket) {
            Ok(0) => return self.on_eof(),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => return,
            Err(_) => return self.close(Abort::Reset),
        }
        if self.stop_parsing_and_idle_body() {
            // These bytes would never be parsed; the watch reports the end again until it is reached.
            let mut scratch = [MaybeUninit::<u8>::uninit(); 4096];
            let _ = sys::recv(self.socket, &mut scratch);
            return;
        }
        self.eof_behind_input = true;
        self.update_poll();
    }

    pub(super) fn drain_linger(&mut self, since: u64) {
        let mut scratch = [MaybeUninit::<u8>::uninit(); 4096];
        let finished = match sys::recv(self.socket, &mut scratch) {
            Ok(n) => n == 0,
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        };
        let expired = self.server().now() >= since + LINGER_MS;
        if finished || expired {
            self.close(Abort::Closed);
        }
    }

    pub(super) fn on_eof(&mut self) {
        self.read_eof = true;
        match self.body {
            // The peer ended its side of an upgraded connection: once JavaScript has every byte
            // it sent (see raw_input), tell it; it ends ours.
            BodyState::Upgraded { .. } => {
                let _scope = self.server().callbacks.scope();
                self.process_input();
            }
            // A body cut short can never complete.
            BodyState::Length { .. } | BodyState::Chunked { .. } => return self.close(Abort::Closed),
            // As node's server does: the client's end ends the connection. What was written goes
            // out, the requests still unanswered abort, and nothing more is parsed. With
            // allowHalfOpen every request received is answered first. An upgrade or CONNECT
            // awaiting its answer keeps the end for its socket (see tell_early_end, raw_input).
            // A head cut short by the end is refused (see next_head).
            BodyState::None => {
                if !self.queue.is_empty() && !self.switch_pending && !self.server().limits.allow_half_open {
                    self.stop_parsing = true;
                    self.abort_queued(Abort::Closed);
                }
                let _scope = self.server().callbacks.scope();
                self.process_input();
                self.tell_early_end();
            }
        }
        self.after_js();
    }

    /// The peer ended right behind an upgrade request still awaiting its answer, with nothing
    /// held back: JavaScript hears of the end now, as node's socket would (once answered, raw
    /// input would report it again; the exchange's end is delivered once).
    fn tell_early_end(&mut self) {
        if !self.switch_pending || !self.unread().is_empty() {
            return;
        }
        if let Some(ex) = self.queue.back().filter(|ex| ex.upgrade && ex.live() && ex.response == Response::NotStarted) {
            let seq = ex.seq;
            self.call_end(seq);
        }
    }

    /// The bytes read past an upgrade or CONNECT request still awaiting its answer (node's `head`
    /// argument), taken out of the input so they do not arrive again as the raw stream's first
    /// bytes. Empty for any other exchange.
    pub fn take_held_input(&mut self, seq: u32) -> Vec<u8> {
        let held = self.switch_pending
            && self.queue.back().is_some_and(|ex| ex.seq == seq && ex.upgrade && ex.response == Response::NotStarted);
        if !held {
            return Vec::new();
        }
        let bytes = self.unread().to_vec();
        self.consume(bytes.len());
        bytes
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

    pub(super) fn next_head(&mut self) -> bool {
        if self.stop_parsing
            || self.switch_pending
            || self.unread().is_empty()
            || self.queue.len() >= self.server().limits.max_pipelined
        {
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
            Ok(None) if self.read_eof => {
                self.refuse(400, "request head cut short", "HPE_INVALID_EOF_STATE");
                false
            }
            Ok(None) => false,
            Err(reject) => {
                self.refuse(reject.status, reject.reason, reject.code);
                false
            }
            Ok(Some(head)) => {
                let seq = self.next_seq;
                self.next_seq = (self.next_seq + 1) & SEQ_MASK;
                let mut ex = self.spare.pop().unwrap_or_else(Exchange::empty);
                ex.reset(seq);
                ex.fill(&head, &self.unread()[..head.len], &fields);
                self.consume(head.len);
                if ex.http11 && limits.max_requests_per_connection > 0 {
                    // The last request allowed is answered as one that asked to close.
                    self.requests += 1;
                    if self.requests >= limits.max_requests_per_connection {
                        ex.keep_alive = false;
                        ex.close_after = true;
                    }
                }
                if !ex.keep_alive {
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
                ex.started = self.head_start;
                // SAFETY: see Conn::server.
                unsafe { (*server).requests += 1 };
                let flags = request_flags(&ex, &head);
                self.switch_pending = ex.upgrade;
                self.queue.push_back(ex);
                self.dispatch(seq, flags);
                true
            }
        };
        self.fields = fields;
        result
    }

    /// Calls onRequest for the exchange just queued.
    pub(super) fn dispatch(&mut self, seq: u32, flags: u32) {
        let server = self.server;
        // SAFETY: see Conn::server; the exchange is the last in the queue.
        let (server, ex) = unsafe { (&*server, self.queue.back().unwrap()) };
        let cbs = &server.callbacks;
        self.observed = true;
        let mut args = std::mem::take(&mut self.args);
        args.clear();
        args.extend([
            cbs.number(token(self.id, seq)),
            // A common method travels as a code in the flags: no string to make for it.
            if flags & METHOD_MASK == 0 { cbs.latin1(ex.method_bytes()) } else { cbs.undefined() },
            cbs.latin1(ex.target_bytes()),
            cbs.number(flags as f64),
        ]);
        if server.limits.router >= 0 {
            crate::route::push_route_args(server, ex.method_bytes(), ex.target_bytes(), &mut args);
        }
        cbs.call(Cb::Request, &args);
        self.args = args;
    }

    pub(super) fn length_body(&mut self) -> bool {
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

    pub(super) fn chunked_body(&mut self) -> bool {
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
                let (status, reason, code) = match err {
                    ChunkError::Invalid(r) => (400, r, "HPE_INVALID_CHUNK_SIZE"),
                    ChunkError::TooLarge => (413, "request body too large", "ERR_PYRE_BODY_TOO_LARGE"),
                    ChunkError::ExtensionsTooLarge => (413, "chunk extensions too large", "HPE_CHUNK_EXTENSIONS_OVERFLOW"),
                };
                self.body_error(seq, status, reason, code);
                self.report_client_error(code, reason);
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

    pub(super) fn raw_input(&mut self, seq: u32) -> bool {
        if self.js_paused {
            return false;
        }
        if self.unread().is_empty() {
            // The peer's end follows the last byte it sent, also when it came before the 101.
            if self.read_eof {
                self.body = BodyState::None;
                if self.find(seq).is_some_and(|ex| ex.live()) {
                    self.call_end(seq);
                }
                if let Some(ex) = self.find(seq) {
                    ex.body_done = true;
                }
                self.advance();
            }
            return false;
        }
        let (from, to) = (self.in_pos, self.inbuf.len());
        self.deliver(seq, from, to);
        self.consume(to - from);
        true
    }

    /// Hands body bytes inbuf[from..to] to JavaScript, unless its response is already done.
    pub(super) fn deliver(&mut self, seq: u32, from: usize, to: usize) {
        if from == to || !self.find(seq).is_some_and(|ex| ex.live()) {
            return;
        }
        let server = self.server;
        // SAFETY: see Conn::server.
        let cbs = unsafe { &(*server).callbacks };
        let args = [cbs.number(token(self.id, seq)), cbs.buffer(&self.inbuf[from..to])];
        cbs.call(Cb::Data, &args);
    }

    pub(super) fn body_complete(&mut self, seq: u32) {
        let now = self.server().now();
        self.head_start = now;
        self.request_start = now;
        let (live, answered) = match self.find(seq) {
            Some(ex) => {
                // Live before the body is done: one read past its response still hears the end.
                let live = ex.live();
                ex.body_done = true;
                (live, ex.response == Response::Done)
            }
            None => (false, true),
        };
        if live {
            self.call_end(seq);
        }
        // A body read on past its response (Exchange::body_wanted) was what held the exchange.
        if (!live || answered) && !self.closed {
            self.advance();
        }
    }

    pub(super) fn call_end(&self, seq: u32) {
        let cbs = &self.server().callbacks;
        cbs.call(Cb::End, &[cbs.number(token(self.id, seq))]);
    }

    /// The request body broke the rules: answer if nothing was sent yet, abort, close.
    pub(super) fn body_error(&mut self, seq: u32, status: u16, reason: &str, code: &str) {
        self.body = BodyState::None;
        self.stop_parsing = true;
        let Some(idx) = self.index_of(seq) else {
            return self.close(Abort::BadBody);
        };
        let ex = &mut self.queue[idx];
        let was_live = ex.live();
        ex.close_after = true;
        if ex.response == Response::NotStarted {
            ex.response = Response::Done;
            let bytes = self.refusal_answer(status, reason, code);
            self.emit(idx, &bytes);
        } else if ex.response != Response::Done {
            // Half a response is out: the only honest end is a cut connection.
            return self.close(Abort::BadBody);
        }
        if was_live {
            self.notify_each(Cb::Abort, &[seq], Some(Abort::BadBody as u32 as f64));
        }
        self.advance();
    }

    /// Refuses a request (a malformed head, or one too slow to arrive): an answer in its turn,
    /// then close. A server that watches client errors hears of it first, and its listener
    /// chooses the answer as node's does: what it writes to the socket meanwhile is the answer,
    /// sent as-is; ending the socket without writing sends none, destroying it cuts the
    /// connection. A listener that does none of these leaves the engine's own answer.
    pub(super) fn refuse(&mut self, status: u16, reason: &'static str, code: &'static str) {
        self.stop_parsing = true;
        let seq = self.next_seq;
        self.next_seq = (self.next_seq + 1) & SEQ_MASK;
        let mut ex = self.spare.pop().unwrap_or_else(Exchange::empty);
        ex.reset(seq);
        ex.close_after = true;
        self.queue.push_back(ex);
        let mut answered = false;
        if self.server().watches(watch::CLIENT_ERROR) {
            self.refusal = Some(Refusal { seq, answered: false });
            self.report_client_error(code, reason);
            answered = self.refusal.take().is_some_and(|r| r.answered);
            if self.closed || self.pending_close.is_some() {
                return;
            }
        }
        let Some(idx) = self.index_of(seq) else { return };
        if !answered {
            let bytes = self.refusal_answer(status, reason, code);
            self.emit(idx, &bytes);
        }
        self.queue[idx].response = Response::Done;
        if self.server().logging {
            let ex = &mut self.queue[idx];
            (ex.status, ex.started) = (status, self.head_start);
            self.log_exchange(idx);
        }
        self.advance();
        self.mark_dirty();
    }

    /// The engine's own answer to a refused request: a short text/plain reason, or on a server
    /// that refuses as node:http does, node's bare answer (every overflow is its 431 there).
    fn refusal_answer(&self, status: u16, reason: &str, code: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        if self.server().limits.node_compat {
            writer::write_bare_error(&mut bytes, if code == "HPE_HEADER_OVERFLOW" { 431 } else { status });
        } else {
            writer::write_error(&mut bytes, status, reason, self.server().now());
        }
        bytes
    }

    /// A 'clientError' listener's socket.write(): `bytes` join the refused request's answer.
    /// False when no refusal is being answered (the engine frames everything else itself).
    pub fn write_refusal(&mut self, bytes: &[u8]) -> bool {
        let Some(seq) = self.refusal.as_mut().map(|r| {
            r.answered = true;
            r.seq
        }) else {
            return false;
        };
        if let Some(idx) = self.index_of(seq) {
            self.emit(idx, bytes);
            self.mark_dirty();
        }
        true
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
    if head.expect_other {
        flags |= 128;
    }
    flags | method_code(ex.method_bytes()) << METHOD_SHIFT
}

/// The methods onRequest receives as a code (its position here, from 1) rather than a string;
/// src/engine/binding.ts has the same list.
const COMMON_METHODS: [&[u8]; 7] = [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"];
const METHOD_SHIFT: u32 = 8;
const METHOD_MASK: u32 = 0xf << METHOD_SHIFT;

fn method_code(method: &[u8]) -> u32 {
    COMMON_METHODS.iter().position(|&m| m == method).map_or(0, |i| i as u32 + 1)
}
