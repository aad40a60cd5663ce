//! The engine's limits and timeouts, as configured from JavaScript (src/engine/options.ts
//! documents each and holds the defaults).

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_header_count: usize,
    pub max_header_size: usize,
    pub max_url_length: usize,
    /// 0 = unlimited.
    pub max_body_size: u64,
    /// Milliseconds; 0 disables.
    pub headers_timeout: u64,
    pub request_timeout: u64,
    pub keep_alive_timeout: u64,
    pub high_water_mark: usize,
    pub max_pipelined: usize,
    /// 0 = unlimited.
    pub max_connections: usize,
    /// HTTP/1.1 requests one connection may carry; 0 = unlimited.
    pub max_requests_per_connection: u64,
    pub require_host: bool,
    pub no_delay: bool,
    /// CONNECT is accepted (a 2xx answer opens a tunnel) instead of refused with 501.
    pub allow_connect: bool,
    /// A client's end (FIN) lets the requests it sent be answered, instead of aborting them.
    pub allow_half_open: bool,
    /// A request whose `Expect` is not 100-continue reaches the handler (which answers it, as
    /// node's 'checkExpectation' does) instead of being refused with 417.
    pub forward_expectations: bool,
    /// Answer as node:http does where the engine's own answers differ (the drop-in): refusals
    /// are a bare status line with `Connection: close` (431 for every overflow), a connection
    /// that never sent a request in time gets a 408, an upgrade needs no Host, and Date follows
    /// the response's own fields.
    pub node_compat: bool,
    /// Take what node's insecureHTTPParser takes in header values: control characters (not NUL,
    /// CR or LF), and any Host value. The framing and line-ending rules stay.
    pub lenient_headers: bool,
    /// Native router id, or -1.
    pub router: i32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_count: 100,
            max_header_size: 16384,
            max_url_length: 8192,
            max_body_size: 0,
            headers_timeout: 60_000,
            request_timeout: 300_000,
            keep_alive_timeout: 5_000,
            high_water_mark: 65_536,
            max_pipelined: 64,
            max_connections: 0,
            max_requests_per_connection: 0,
            require_host: true,
            no_delay: true,
            allow_connect: false,
            allow_half_open: false,
            forward_expectations: false,
            node_compat: false,
            lenient_headers: false,
            router: -1,
        }
    }
}

impl Limits {
    /// How often the timeout sweep runs: a quarter of the shortest timeout, within 10 ms..1 s.
    pub fn sweep_interval(&self) -> u64 {
        [self.headers_timeout, self.request_timeout, self.keep_alive_timeout]
            .into_iter()
            .filter(|&t| t > 0)
            .min()
            .map_or(1000, |t| (t / 4).clamp(10, 1000))
    }

    pub fn body_too_large(&self, size: u64) -> bool {
        self.max_body_size != 0 && size > self.max_body_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_follows_the_shortest_timeout() {
        assert_eq!(Limits::default().sweep_interval(), 1000);
        let l = Limits { keep_alive_timeout: 200, ..Limits::default() };
        assert_eq!(l.sweep_interval(), 50);
        let l = Limits { headers_timeout: 8, ..Limits::default() };
        assert_eq!(l.sweep_interval(), 10);
        let l = Limits { headers_timeout: 0, request_timeout: 0, keep_alive_timeout: 0, ..Limits::default() };
        assert_eq!(l.sweep_interval(), 1000);
    }

    #[test]
    fn body_limit_zero_means_unlimited() {
        assert!(!Limits::default().body_too_large(u64::MAX));
        let l = Limits { max_body_size: 10, ..Limits::default() };
        assert!(!l.body_too_large(10));
        assert!(l.body_too_large(11));
    }
}
