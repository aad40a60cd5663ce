//! Timeouts, checked by the server's periodic sweep: headers, request, keep-alive, linger.

use super::{Abort, BodyState, Conn, LINGER_MS};
use crate::exchange::Response;

impl Conn {
    /// Timeouts, checked by the server's sweep.
    pub fn check_timeouts(&mut self, now: u64) {
        if self.closed {
            return;
        }
        let lim = self.server().limits.clone();
        if self.reuse_grace_until != 0 && now >= self.reuse_grace_until {
            // No request came: the connection closes as other idle ones did at close().
            self.reuse_grace_until = 0;
            if self.is_idle() && !self.stop_parsing {
                self.stop_reading_requests();
            }
        }
        if let Some(since) = self.lingering_since {
            if now >= since + LINGER_MS {
                self.close(Abort::Closed);
            }
            return;
        }
        let receiving_body = !matches!(self.body, BodyState::None | BodyState::Upgraded { .. });
        if receiving_body {
            if expired(now, self.request_start, lim.request_timeout) {
                self.time_out();
            }
            return;
        }
        if matches!(self.body, BodyState::Upgraded { .. }) {
            return;
        }
        let partial_head = !self.unread().is_empty() && !self.stop_parsing && !self.switch_pending;
        if self.queue.is_empty() && self.unsent() == 0 && !partial_head {
            // Idle between requests; a fresh connection that has sent nothing waits as long as a
            // head may (and, on a server that refuses as node does, is answered 408 as node's is).
            if self.next_seq == 0 && lim.node_compat {
                if expired(now, self.head_start, lim.headers_timeout) || expired(now, self.request_start, lim.request_timeout) {
                    self.time_out();
                }
                return;
            }
            let (since, limit) = if self.next_seq == 0 {
                (self.head_start, lim.headers_timeout)
            } else {
                (self.idle_since, lim.keep_alive_timeout)
            };
            if expired(now, since, limit) {
                self.close(Abort::Timeout);
            }
            return;
        }
        if partial_head
            && self.queue.len() < lim.max_pipelined
            && (expired(now, self.head_start, lim.headers_timeout) || expired(now, self.request_start, lim.request_timeout))
        {
            self.time_out();
        }
    }

    /// A request took too long to arrive: 408 when nothing else is owed, then close.
    pub(super) fn time_out(&mut self) {
        let answerable = self.queue.len() <= 1 && self.queue.front().is_none_or(|e| e.response == Response::NotStarted);
        if !answerable {
            return self.close(Abort::Timeout);
        }
        self.abort_queued(Abort::Timeout);
        self.body = BodyState::None;
        self.refuse(408, "request timed out", "ERR_HTTP_REQUEST_TIMEOUT");
        self.after_js();
    }

    /// Whether the connection is between requests with nothing owed (closeIdleConnections).
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.unsent() == 0 && self.unread().is_empty() && matches!(self.body, BodyState::None)
    }
}

/// A timeout of `limit` ms (0: none) started at `since` has run out.
fn expired(now: u64, since: u64, limit: u64) -> bool {
    limit > 0 && now >= since + limit
}
