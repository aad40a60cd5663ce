//! One request/response exchange as the engine tracks it: the request head (kept for lazy
//! header reads), where the response stands, and output held back while earlier pipelined
//! responses are still being written.

use crate::parser::{Field, Head};
use crate::writer::BodyFraming;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    NotStarted,
    /// Head written; body pieces follow. `written` counts body bytes for Length framing.
    Streaming {
        framing: BodyFraming,
        written: u64,
    },
    Done,
}

pub struct Exchange {
    pub seq: u32,
    /// The request head's bytes; `fields`, `method` and `target` point into it.
    pub head: Vec<u8>,
    pub fields: Vec<Field>,
    pub method: (u32, u32),
    pub target: (u32, u32),
    pub http11: bool,
    pub keep_alive: bool,
    pub is_head_method: bool,
    pub expect_continue: bool,
    pub continue_sent: bool,
    pub upgrade: bool,
    /// A CONNECT request: a 2xx answer opens a tunnel.
    pub connect: bool,
    /// The request body has been received in full (or there is none).
    pub body_done: bool,
    pub response: Response,
    /// Output produced while an earlier exchange is still answering.
    pub pending: Vec<u8>,
    /// Raw trailer section of a chunked request body.
    pub trailers: Vec<u8>,
    /// The connection closes once this response is out.
    pub close_after: bool,
    /// The JavaScript side was told to wait (write() returned false) and awaits onDrain.
    pub want_drain: bool,
    /// Whether JavaScript knows this exchange (false for the engine's own error responses).
    pub dispatched: bool,
    /// For the access log: the response's status, its body bytes, and the loop time its request's
    /// head was read.
    pub status: u16,
    pub sent: u64,
    pub started: u64,
    /// Answered with a raw head (the drop-in's 'upgrade' socket): the connection is JavaScript's
    /// as node hands a socket over; the peer's bytes keep arriving after the response ends,
    /// until the peer ends its side (`body_done`).
    pub raw: bool,
    /// JavaScript reads the request body on after the response is complete (node's request
    /// stays readable until its body ends unless it is dumped): the rest is delivered, not
    /// discarded.
    pub body_wanted: bool,
}

impl Exchange {
    pub fn empty() -> Exchange {
        Exchange {
            seq: 0,
            head: Vec::new(),
            fields: Vec::new(),
            method: (0, 0),
            target: (0, 0),
            http11: true,
            keep_alive: false,
            is_head_method: false,
            expect_continue: false,
            continue_sent: false,
            upgrade: false,
            connect: false,
            body_done: true,
            response: Response::NotStarted,
            pending: Vec::new(),
            trailers: Vec::new(),
            close_after: false,
            want_drain: false,
            dispatched: false,
            status: 0,
            sent: 0,
            started: 0,
            raw: false,
            body_wanted: false,
        }
    }

    /// Resets a recycled record for a new request, keeping its buffers' capacity.
    pub fn reset(&mut self, seq: u32) {
        self.seq = seq;
        self.head.clear();
        self.fields.clear();
        self.pending.clear();
        self.trailers.clear();
        self.method = (0, 0);
        self.target = (0, 0);
        self.http11 = true;
        self.keep_alive = false;
        self.is_head_method = false;
        self.expect_continue = false;
        self.continue_sent = false;
        self.upgrade = false;
        self.connect = false;
        self.body_done = true;
        self.response = Response::NotStarted;
        self.close_after = false;
        self.want_drain = false;
        self.dispatched = false;
        self.status = 0;
        self.sent = 0;
        self.raw = false;
        self.body_wanted = false;
    }

    /// Fills the record from a parsed head whose bytes are `bytes`.
    pub fn fill(&mut self, head: &Head, bytes: &[u8], fields: &[Field]) {
        self.head.extend_from_slice(bytes);
        self.fields.extend_from_slice(fields);
        self.method = head.method;
        self.target = head.target;
        self.http11 = head.http11;
        self.keep_alive = head.keep_alive;
        self.is_head_method = self.method_bytes() == b"HEAD";
        self.expect_continue = head.expect_continue;
        self.upgrade = head.upgrade;
        self.connect = head.connect;
        self.body_done = head.framing == crate::parser::Framing::None;
        self.close_after = !head.keep_alive;
        self.dispatched = true;
    }

    pub fn method_bytes(&self) -> &[u8] {
        &self.head[self.method.0 as usize..self.method.1 as usize]
    }

    pub fn target_bytes(&self) -> &[u8] {
        &self.head[self.target.0 as usize..self.target.1 as usize]
    }

    /// JavaScript still expects callbacks for this exchange.
    pub fn live(&self) -> bool {
        self.dispatched && (self.response != Response::Done || (self.raw || self.body_wanted) && !self.body_done)
    }
}
