//! One client connection: reads and parses requests, dispatches them to JavaScript, keeps
//! pipelined responses in order, writes, and closes. Each readable event costs one `read`
//! and, once JavaScript has answered, one `write`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::raw::c_int;

use crate::chunked::Decoder;
use crate::exchange::Exchange;
use crate::js::Cb;
use crate::parser;
use crate::server::{watch, Server};
use crate::sys::{self, ErrorKind};
use crate::uv;

mod buffers;
mod input;
mod output;
mod timeouts;

pub use output::ResponseHead;

/// A read is made only with at least this much room in the input buffer (else it grows).
const MIN_READ: usize = 4096;
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
    /// The peer reset the connection, or a send to it failed.
    Reset = 5,
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
    pub socket: sys::Socket,
    pub server: *mut Server,
    poll: *mut uv::Handle,
    events: c_int,
    pub peer: Option<SocketAddr>,
    /// Input not yet processed (from `in_pos`): the thread's shared read buffer while an event is
    /// handled, afterwards only a remainder the connection keeps (see buffers.rs).
    inbuf: Vec<u8>,
    in_pos: usize,
    /// Output not yet sent (from `out_pos`), in a buffer borrowed the same way.
    out: Vec<u8>,
    out_pos: usize,
    queue: VecDeque<Exchange>,
    spare: Vec<Exchange>,
    fields: Vec<parser::Field>,
    /// onRequest's arguments, reused from request to request.
    args: Vec<napi::sys::napi_value>,
    next_seq: u32,
    body: BodyState,
    js_paused: bool,
    /// The peer finished sending (EOF): answer what was asked, then close.
    read_eof: bool,
    /// The peer's end was seen while not reading, behind input not read yet: it is read in turn.
    eof_behind_input: bool,
    /// No more requests are read: a request or response said close, or the input was refused.
    stop_parsing: bool,
    /// A response said close while later pipelined requests were queued: they will never be answered.
    doomed: bool,
    /// The application wrote raw bytes that are not an interim response (write_raw): the
    /// connection is its own; ending the socket closes it with any exchange still unanswered.
    app_owned: bool,
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
    /// Loop time when the current head started arriving, and when the connection went idle (its
    /// accept, until a first request).
    head_start: u64,
    idle_since: u64,
    /// Loop time when the current request started (for requestTimeout).
    request_start: u64,
    /// JavaScript has heard of this connection (a request, or a watched accept or client error),
    /// so a server that watches closes hears of its close.
    pub observed: bool,
    /// An upgrade or CONNECT request awaits its answer: what follows it may be the new
    /// protocol's bytes, so it is not parsed as HTTP until the answer says which.
    switch_pending: bool,
    /// HTTP/1.1 requests read, counted while the server has max_requests_per_connection.
    requests: u64,
    /// The refused request whose answer a 'clientError' listener is choosing, while it runs.
    refusal: Option<Refusal>,
    /// Loop time until which a stopped server waits for this idle connection's next request
    /// (the grace of server_stopped); 0 when there is no such grace.
    reuse_grace_until: u64,
    /// Our write side is shut (a raw exchange ended while the peer still sends).
    write_shut: bool,
    /// Bytes the kernel has taken from us on this connection.
    bytes_sent: u64,
    /// Close with a reset (SO_LINGER 0) rather than a FIN: node's `resetAndDestroy()`.
    pub reset_on_close: bool,
}

struct Refusal {
    seq: u32,
    /// The listener wrote to or ended the socket: the engine adds no answer of its own.
    answered: bool,
}

fn token(conn: u32, seq: u32) -> f64 {
    ((conn as u64) << SEQ_BITS | seq as u64) as f64
}

pub fn split_token(token: f64) -> (u32, u32) {
    let t = token as u64;
    ((t >> SEQ_BITS) as u32, (t as u32) & SEQ_MASK)
}

impl Conn {
    pub fn new(id: u32, socket: sys::Socket, server: *mut Server, peer: Option<SocketAddr>, now: u64) -> Box<Conn> {
        Box::new(Conn {
            id,
            socket,
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
            args: Vec::new(),
            next_seq: 0,
            body: BodyState::None,
            js_paused: false,
            read_eof: false,
            eof_behind_input: false,
            stop_parsing: false,
            doomed: false,
            app_owned: false,
            lingering_since: None,
            closed: false,
            pending_close: None,
            needs_process: false,
            blocked_on_output: false,
            dirty: false,
            head_start: now,
            idle_since: now,
            request_start: now,
            observed: false,
            switch_pending: false,
            requests: 0,
            refusal: None,
            reuse_grace_until: 0,
            write_shut: false,
            bytes_sent: 0,
            reset_on_close: false,
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
        if unsafe { uv::uv_poll_init_socket(lp, self.poll, self.socket) } != 0 {
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

    /// Unread bytes are buffered, or the peer's end is known (and may still be JavaScript's news).
    pub fn input_waiting(&self) -> bool {
        self.in_pos < self.inbuf.len() || self.read_eof
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

    /// While JavaScript has requests in flight and the engine is not reading (a close was decided,
    /// reading is paused, the pipeline is full), the socket is still watched for the peer's end
    /// or reset, so their exchanges abort at once. Otherwise reading is the only watch: the
    /// common path's poll mask is unchanged.
    fn watches_hangup(&self) -> bool {
        !self.read_eof && !self.eof_behind_input && !self.queue.is_empty()
    }

    pub fn update_poll(&mut self) {
        if self.closed || self.poll.is_null() {
            return;
        }
        let reading = if self.wants_read() {
            uv::READABLE
        } else if self.watches_hangup() {
            uv::DISCONNECT
        } else {
            0
        };
        let want = reading | if self.unsent() > 0 { uv::WRITABLE } else { 0 };
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

    pub fn mark_dirty(&mut self) {
        if !self.dirty {
            self.dirty = true;
            crate::server::engine().dirty.push(self.id);
        }
    }

    /// Writes what is buffered. Errors mark the connection for closing.
    pub fn flush(&mut self) {
        while self.out_pos < self.out.len() {
            // send, not write: the socket call skips the file layer's work.
            let sent = sys::send(self.socket, &self.out[self.out_pos..]);
            if let Ok(n @ 1..) = sent {
                self.out_pos += n;
                self.bytes_sent += n as u64;
                continue;
            }
            match sent.map_err(|e| e.kind()) {
                Err(ErrorKind::Interrupted) => continue,
                Err(ErrorKind::WouldBlock) => break,
                _ => {
                    self.pending_close = Some(Abort::Reset);
                    self.mark_dirty();
                    return;
                }
            }
        }
        if self.out_pos == self.out.len() {
            self.out_pos = 0;
            buffers::give(buffers::Kind::Output, std::mem::take(&mut self.out));
        }
    }

    /// Sends what output is waiting and then `data` in one gather write, as far as the socket takes
    /// them now, and returns how much of `data` went out: a large body goes from JavaScript's
    /// memory to the kernel without a copy into the output buffer. Errors mark the connection
    /// for closing, as flush() does.
    fn send_with(&mut self, data: &[u8]) -> usize {
        let mut sent = 0;
        while sent < data.len() {
            let waiting = &self.out[self.out_pos.min(self.out.len())..];
            match sys::send_pair(self.socket, waiting, &data[sent..]) {
                Ok(n @ 1..) => {
                    let from_waiting = n.min(waiting.len());
                    self.out_pos += from_waiting;
                    sent += n - from_waiting;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                _ => {
                    self.pending_close = Some(Abort::Closed);
                    self.mark_dirty();
                    break;
                }
            }
        }
        if self.out_pos > 0 && self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        sent
    }

    /// The output buffer to append to, borrowed from the thread's spare when the connection has none.
    fn out_buf(&mut self) -> &mut Vec<u8> {
        if self.out.capacity() == 0 {
            self.out = buffers::take(buffers::Kind::Output);
        }
        &mut self.out
    }

    /// After an event: the shared read buffer goes back once its input is processed. A small
    /// remainder (a partial head) moves into a buffer of the connection's own; a large one (a
    /// paused body, pipelined requests beyond the limit) keeps the buffer until it is read.
    fn release_input(&mut self) {
        let rest = self.inbuf.len() - self.in_pos;
        if self.inbuf.capacity() < buffers::READ_SIZE || rest > buffers::KEEP_OWN {
            return;
        }
        let own = self.unread().to_vec();
        self.in_pos = 0;
        buffers::give(buffers::Kind::Input, std::mem::replace(&mut self.inbuf, own));
    }

    /// Bytes written on the connection so far, those not yet sent included (node's `socket.bytesWritten`).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_sent + self.unsent() as u64 + self.queue.iter().map(|ex| ex.pending.len() as u64).sum::<u64>()
    }

    /// The server is closing, or JavaScript ended the socket: answer what was received, read no
    /// more requests, then close. Ending it while a refused request is being answered settles
    /// that answer (nothing more of the engine's own).
    pub fn stop_reading_requests(&mut self) {
        self.stop_parsing = true;
        if let Some(refusal) = &mut self.refusal {
            refusal.answered = true;
        }
        self.mark_dirty();
    }

    /// JavaScript ended the socket (node's `socket.end()`): as stop_reading_requests, and a
    /// connection the application took over with raw bytes closes once they are sent, whether
    /// or not its exchanges were answered.
    pub fn end_by_app(&mut self) {
        self.doomed |= self.app_owned;
        self.stop_reading_requests();
    }

    /// The server stopped listening. Requests already received are answered and no more are
    /// read, except here: a request that has begun to arrive (read, or waiting in the kernel) is
    /// read and answered, and a connection that went idle (or was accepted) less than `grace_ms`
    /// ago, or whose last response is not even sent yet, waits that long for the client's next
    /// request: an idle keep-alive connection just answered is probably about to carry one,
    /// written or being written before the client could see a close, and a client that has just
    /// connected is about to write its first (its connect() returned once the connection was
    /// queued, before it was accepted). Both are answered with Connection: close: the server is
    /// closing. Returns whether the connection now waits in such a grace.
    pub fn server_stopped(&mut self, now: u64, grace_ms: u64) -> bool {
        let between = self.queue.is_empty() && matches!(self.body, BodyState::None) && !self.stop_parsing && !self.switch_pending;
        if between && self.input_arriving() {
            return false;
        }
        // A response complete but not sent yet is one the client has not seen: its grace starts now.
        let idle_since = if self.unsent() > 0 { now } else { self.idle_since };
        if between && now < idle_since + grace_ms {
            self.reuse_grace_until = idle_since + grace_ms;
            return true;
        }
        self.stop_reading_requests();
        false
    }

    /// Request bytes are buffered or already waiting in the kernel (a one-byte peek: only when
    /// the server closes connections, never per request).
    pub fn input_arriving(&self) -> bool {
        if !self.unread().is_empty() {
            return true;
        }
        sys::has_input(self.socket)
    }

    /// Waiting for a request the client may be about to send on it (server_stopped).
    pub fn in_reuse_grace(&self) -> bool {
        self.reuse_grace_until != 0
    }

    /// After JavaScript has run: write, notify drains, retire, decide whether to close.
    pub fn after_js(&mut self) {
        if self.closed {
            return;
        }
        if let Some(reason) = self.pending_close.take() {
            // As node's socket.destroy(): bytes written before it still go out, as far as the
            // kernel takes them now (node writes them at once; here they wait for this flush).
            if reason == Abort::Destroyed && !self.reset_on_close {
                self.flush();
            }
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
            self.half_close_raw();
            // Done once nothing more will be answered: a close was decided, or the client
            // finished sending and every buffered request has been parsed.
            let input_done = self.stop_parsing || (self.read_eof && !self.needs_process);
            if (self.queue.is_empty() || self.doomed) && input_done {
                return self.shutdown();
            }
        }
        self.release_input();
        self.update_poll();
    }

    /// A raw exchange's response has ended and gone out while the peer still sends: our side
    /// is shut (node's `end()` on an allowHalfOpen socket); its input is read on until it ends.
    fn half_close_raw(&mut self) {
        if self.write_shut || !matches!(self.body, BodyState::Upgraded { .. }) {
            return;
        }
        if self.queue.front().is_some_and(|ex| ex.raw && ex.response == crate::exchange::Response::Done) {
            self.write_shut = true;
            sys::shutdown_write(self.socket);
        }
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
        self.notify_each(Cb::Drain, &waiting, None);
    }

    /// Calls `cb(token[, extra])` for each exchange in `seqs`, inside one scope.
    fn notify_each(&self, cb: Cb, seqs: &[u32], extra: Option<f64>) {
        if seqs.is_empty() {
            return;
        }
        let cbs = &self.server().callbacks;
        let _scope = cbs.scope();
        for &seq in seqs {
            let token = cbs.number(token(self.id, seq));
            match extra {
                Some(x) => cbs.call(cb, &[token, cbs.number(x)]),
                None => cbs.call(cb, &[token]),
            }
        }
    }

    /// Our last response is out: stop sending, drain what the client still sends, then close.
    fn shutdown(&mut self) {
        if self.read_eof {
            return self.close(Abort::Closed);
        }
        self.abort_queued(Abort::Closed);
        sys::shutdown_write(self.socket);
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
        if self.observed && self.server().watches(watch::CLOSE) {
            let cbs = &self.server().callbacks;
            let _scope = cbs.scope();
            cbs.call(Cb::ConnectionClose, &[cbs.number(self.id as f64), cbs.number(reason as u32 as f64)]);
        }
        crate::server::forget_conn(self);
        if self.reset_on_close {
            sys::reset_on_close(self.socket);
        }
        if self.poll.is_null() {
            // Never started: nothing of libuv's to wait for.
            sys::close(self.socket);
            // SAFETY: the box was leaked by the server on accept and is no longer registered.
            unsafe { drop(Box::from_raw(self as *mut Conn)) };
            return;
        }
        // SAFETY: the handle is live; on_closed frees it and this connection. The socket may be
        // closed as soon as its poll handle is stopped.
        unsafe {
            uv::uv_poll_stop(self.poll);
            sys::close(self.socket);
            uv::uv_close(self.poll, on_closed);
        }
        self.poll = std::ptr::null_mut();
    }

    /// The engine refused a request: tell a server that watches client errors, with node's
    /// error code, our reason, and what is left of the input (node's `err.rawPacket`). A
    /// listener that destroys the socket still lets what was written before go out (after_js).
    fn report_client_error(&mut self, code: &str, reason: &str) {
        if self.closed || !self.server().watches(watch::CLIENT_ERROR) {
            return;
        }
        self.observed = true;
        let cbs = &self.server().callbacks;
        let _scope = cbs.scope();
        let args = [
            cbs.number(self.id as f64),
            cbs.latin1(code.as_bytes()),
            cbs.latin1(reason.as_bytes()),
            cbs.buffer(self.unread()),
        ];
        cbs.call(Cb::ClientError, &args);
    }

    /// Tells JavaScript about every exchange it still holds, and forgets them all.
    fn abort_queued(&mut self, reason: Abort) {
        let live: Vec<u32> = self.queue.iter().filter(|e| e.live()).map(|e| e.seq).collect();
        self.spare.extend(self.queue.drain(..));
        self.notify_each(Cb::Abort, &live, Some(reason as u32 as f64));
    }
}

impl Drop for Conn {
    /// The buffers a closed connection still holds become the thread's spares (as after an event).
    fn drop(&mut self) {
        buffers::give(buffers::Kind::Input, std::mem::take(&mut self.inbuf));
        buffers::give(buffers::Kind::Output, std::mem::take(&mut self.out));
    }
}

unsafe extern "C" fn on_poll(handle: *mut uv::Handle, status: c_int, events: c_int) {
    let conn = uv::data::<Conn>(handle);
    // SAFETY: the handle's data is its live connection (freed only in on_closed).
    let conn = &mut *conn;
    if conn.closed {
        return;
    }
    if status < 0 {
        // libuv reports a socket error (a reset, mostly) this way.
        return conn.close(Abort::Reset);
    }
    if events & uv::WRITABLE != 0 {
        conn.after_js();
        if conn.closed {
            return;
        }
    }
    if events & uv::READABLE != 0 {
        conn.on_readable();
    } else if events & uv::DISCONNECT != 0 {
        conn.on_hangup();
    }
    crate::server::flush_dirty();
}

unsafe extern "C" fn on_closed(handle: *mut uv::Handle) {
    drop(Box::from_raw(uv::data::<Conn>(handle)));
    uv::free_handle(handle);
}
