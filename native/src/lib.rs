//! Pyre's native engine: an HTTP/1.1 server whose sockets live on Node's own event loop.
//!
//! Where a request goes: `server` accepts a connection, `connection` reads it and asks `parser`
//! (and `chunked` for bodies) to make sense of the bytes, `route` matches it against `router`,
//! `js` hands it to JavaScript, and the response comes back through the functions below into
//! `connection` and `writer`, which frame it and write it out.

/// A 256-entry byte-class table built at compile time: `byte_table!(|c| predicate on c)`.
macro_rules! byte_table {
    (|$c:ident| $pred:expr) => {{
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let $c = b as u8;
            table[b] = $pred;
            b += 1;
        }
        table
    }};
}

mod access_log;
mod blocks;
mod chunked;
mod connection;
mod exchange;
mod js;
mod limits;
mod napi_args;
mod parser;
mod route;
// Its #[napi] functions are reached only through napi registration, compiled out in unit tests.
#[cfg_attr(test, allow(dead_code))]
mod router;
mod server;
mod sys;
mod uv;
mod writer;

use std::os::raw::c_int;
use std::ptr;

/// Internals the fuzz targets in native/fuzz drive directly; not a public API.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    pub use crate::chunked::{ChunkError, Decoder, Progress};
    pub use crate::limits::Limits;
    pub use crate::parser::{parse_head, target_path, Field, Framing, Head, Reject};
    pub use crate::router::{Lookup, Param, Router};
}

use napi::sys as napi_sys;
use napi_args::{Args, BytesArg};

use crate::connection::{split_token, Conn, ResponseHead};
use crate::limits::Limits;

/// Throws a JavaScript Error and returns nothing.
unsafe fn throw(env: napi_sys::napi_env, message: &str) -> napi_sys::napi_value {
    let msg = std::ffi::CString::new(format!("pyre: {message}")).unwrap_or_default();
    napi_sys::napi_throw_error(env, ptr::null(), msg.as_ptr());
    ptr::null_mut()
}

unsafe fn undefined(env: napi_sys::napi_env) -> napi_sys::napi_value {
    let mut v = ptr::null_mut();
    napi_sys::napi_get_undefined(env, &mut v);
    v
}

/// The connection and request sequence a token names; None once the connection is gone or
/// going (a failed write or a destroy() marks it; onAbort is on its way to JavaScript).
fn conn_of(token: f64) -> Option<(&'static mut Conn, u32)> {
    let (id, seq) = split_token(token);
    server::conn(id).filter(|c| c.pending_close.is_none()).map(|c| (c, seq))
}

/// Runs `f` on the token's connection, turning its error into a thrown Error. A connection
/// that is gone makes the call a no-op: the exchange already heard (or will hear) onAbort.
unsafe fn on_conn(
    env: napi_sys::napi_env,
    token: f64,
    f: impl FnOnce(&mut Conn, u32) -> Result<napi_sys::napi_value, &'static str>,
) -> napi_sys::napi_value {
    match conn_of(token) {
        None => undefined(env),
        Some((conn, seq)) => match f(conn, seq) {
            Ok(v) => v,
            Err(message) => throw(env, message),
        },
    }
}

unsafe extern "C" fn server_create(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    let limits = read_limits(&a, a.v[0]);
    let callbacks = match js::Callbacks::new(env, a.v[1]) {
        Ok(c) => c,
        Err(m) => return throw(env, &m),
    };
    let mut lp = ptr::null_mut();
    napi_sys::napi_get_uv_event_loop(env, &mut lp);
    let id = server::create_server(lp, limits, callbacks);
    a.u32_value(id)
}

/// Limits from a NativeLimits object; src/engine/options.ts has already checked each value.
fn read_limits<const N: usize>(a: &Args<N>, obj: napi_sys::napi_value) -> Limits {
    let d = Limits::default();
    let n = |name: &str, default: u64| a.prop_f64(obj, name).map_or(default, |v| v.max(0.0) as u64);
    let b = |name: &str, default: bool| a.prop_bool(obj, name).unwrap_or(default);
    Limits {
        max_header_count: n("maxHeaderCount", d.max_header_count as u64).max(1) as usize,
        max_header_size: n("maxHeaderSize", d.max_header_size as u64) as usize,
        max_url_length: n("maxUrlLength", d.max_url_length as u64) as usize,
        max_body_size: n("maxBodySize", d.max_body_size),
        headers_timeout: n("headersTimeout", d.headers_timeout),
        request_timeout: n("requestTimeout", d.request_timeout),
        keep_alive_timeout: n("keepAliveTimeout", d.keep_alive_timeout),
        high_water_mark: n("highWaterMark", d.high_water_mark as u64) as usize,
        max_pipelined: n("maxPipelined", d.max_pipelined as u64).max(1) as usize,
        max_connections: n("maxConnections", d.max_connections as u64) as usize,
        max_requests_per_connection: n("maxRequestsPerConnection", d.max_requests_per_connection),
        require_host: b("requireHost", d.require_host),
        no_delay: b("noDelay", d.no_delay),
        allow_connect: b("allowConnect", d.allow_connect),
        allow_half_open: b("allowHalfOpen", d.allow_half_open),
        forward_expectations: b("forwardExpectations", d.forward_expectations),
        node_compat: b("nodeCompat", d.node_compat),
        lenient_headers: b("lenientHeaders", d.lenient_headers),
        router: a.prop_f64(obj, "router").map_or(d.router, |v| v as i32),
    }
}

unsafe extern "C" fn server_listen(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<6>::get(env, info);
    let Some(server) = server::server(a.u32(0)) else { return throw(env, "unknown server") };
    let host = a.string(1);
    let port = a.u32(2) as u16;
    match server.listen(&host, port, a.f64(3) as i32, a.bool(4), a.bool(5)) {
        Ok(addr) => address_object(&a, addr),
        Err((error, syscall)) => throw_errno(&a, error, syscall),
    }
}

/// `{ address, family, port }` for a TCP address.
unsafe fn address_object<const N: usize>(a: &Args<N>, addr: std::net::SocketAddr) -> napi_sys::napi_value {
    let obj = a.object();
    a.set_str(obj, "address", &addr.ip().to_string());
    a.set_str(obj, "family", if addr.is_ipv4() { "IPv4" } else { "IPv6" });
    a.set_f64(obj, "port", addr.port() as f64);
    obj
}

/// serverListenFd(server, fd) -> { address, family, port }, or undefined for a unix socket:
/// serve a socket this process was handed already listening.
unsafe extern "C" fn server_listen_fd(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    let Some(server) = server::server(a.u32(0)) else { return throw(env, "unknown server") };
    match server.listen_fd(a.f64(1) as sys::Socket) {
        Ok(Some(addr)) => address_object(&a, addr),
        Ok(None) => undefined(env),
        Err((error, syscall)) => throw_errno(&a, error, syscall),
    }
}

/// listenSocket(host, port, backlog, ipv6Only, reusePort) -> { fd, address, family, port }: a
/// bound, listening TCP socket that no server here accepts on, for a supervisor to hand to the
/// processes that serve it (see serverListenFd). Close-on-exec: a child gets it only when passed.
unsafe extern "C" fn listen_socket(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<5>::get(env, info);
    match server::bind_tcp(&a.string(0), a.u32(1) as u16, a.f64(2) as i32, a.bool(3), a.bool(4)) {
        Ok((fd, addr)) => {
            let obj = address_object(&a, addr);
            a.set_f64(obj, "fd", fd as f64);
            obj
        }
        Err((error, syscall)) => throw_errno(&a, error, syscall),
    }
}

/// listenUnixSocket(path: Buffer, backlog, readableAll, writableAll) -> fd: a listening unix
/// domain socket no server here accepts on, for a supervisor to hand down (as listenSocket). The
/// socket file stays until the caller removes it.
unsafe extern "C" fn listen_unix_socket(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<4>::get(env, info);
    let path = a.bytes(0, BytesArg::Head);
    match sys::listen_unix(&path, a.f64(1) as i32, a.bool(2), a.bool(3)) {
        Ok((socket, _file)) => {
            let mut v = ptr::null_mut();
            napi_sys::napi_create_double(env, socket as f64, &mut v);
            v
        }
        Err((error, syscall)) => throw_errno(&a, error, syscall),
    }
}

/// requestsRead() -> requests read by every server of this thread so far.
unsafe extern "C" fn requests_read(env: napi_sys::napi_env, _info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let mut v = ptr::null_mut();
    napi_sys::napi_create_double(env, server::requests_read() as f64, &mut v);
    v
}

/// accessLog(fd, json): every server of this thread logs its responses to `fd` (common log
/// format, or JSON lines); a negative fd stops the log.
unsafe extern "C" fn access_log(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    let fd = a.f64(0);
    let format = if a.bool(1) { access_log::Format::Json } else { access_log::Format::Common };
    let mut lp = ptr::null_mut();
    napi_sys::napi_get_uv_event_loop(env, &mut lp);
    server::set_access_log(lp, if fd < 0.0 { None } else { Some((fd as c_int, format)) });
    undefined(env)
}

/// accessLogFlush(): writes the access log's buffered lines now.
unsafe extern "C" fn access_log_flush(env: napi_sys::napi_env, _info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    server::flush_access_log();
    undefined(env)
}

/// serverListenUnix(server, path: Buffer, backlog, readableAll, writableAll)
unsafe extern "C" fn server_listen_unix(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<5>::get(env, info);
    let Some(server) = server::server(a.u32(0)) else { return throw(env, "unknown server") };
    // The path comes as a Buffer (its UTF-8 bytes), so the slot's string decoding does not apply.
    let path = a.bytes(1, BytesArg::Head);
    match server.listen_unix(&path, a.f64(2) as i32, a.bool(3), a.bool(4)) {
        Ok(()) => undefined(env),
        Err((error, syscall)) => throw_errno(&a, error, syscall),
    }
}

/// Throws an Error carrying a failed system call's `errno` (negative, libuv's number for it) and
/// `syscall`; src/engine/server.ts turns it into node's error.
unsafe fn throw_errno<const N: usize>(a: &Args<N>, error: sys::Error, syscall: &str) -> napi_sys::napi_value {
    let env = a.env;
    let errno = error.uv_errno();
    let msg = std::ffi::CString::new(format!("{syscall} failed: errno {errno}")).unwrap_or_default();
    let mut text = ptr::null_mut();
    napi_sys::napi_create_string_utf8(env, msg.as_ptr(), msg.as_bytes().len() as isize, &mut text);
    let mut err = ptr::null_mut();
    napi_sys::napi_create_error(env, ptr::null_mut(), text, &mut err);
    a.set_f64(err, "errno", errno as f64);
    a.set_str(err, "syscall", syscall);
    napi_sys::napi_throw(env, err);
    ptr::null_mut()
}

/// serverStopListening(server, graceMs)
unsafe extern "C" fn server_stop_listening(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    if let Some(s) = server::server(a.u32(0)) {
        s.stop_listening(a.f64(1).max(0.0) as u64);
    }
    undefined(env)
}

unsafe extern "C" fn server_close_idle(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some(s) = server::server(a.u32(0)) {
        s.close_connections(false);
    }
    undefined(env)
}

unsafe extern "C" fn server_close_all(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some(s) = server::server(a.u32(0)) {
        s.close_connections(true);
    }
    undefined(env)
}

unsafe extern "C" fn server_connection_count(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    a.u32_value(server::server(a.u32(0)).map_or(0, |s| s.connection_count() as u32))
}

unsafe extern "C" fn server_set_limits(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    let Some(s) = server::server(a.u32(0)) else { return throw(env, "unknown server") };
    s.set_limits(read_limits(&a, a.v[1]));
    undefined(env)
}

/// serverWatch(server, events): the connection events (server.rs `watch` bits) JavaScript hears of.
unsafe extern "C" fn server_watch(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    if let Some(s) = server::server(a.u32(0)) {
        s.watching = a.u32(1);
    }
    undefined(env)
}

/// serverRef(server, keepAlive): node's server.ref() (true) and unref() (false).
unsafe extern "C" fn server_ref(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    if let Some(s) = server::server(a.u32(0)) {
        s.set_ref(a.bool(1));
    }
    undefined(env)
}

unsafe extern "C" fn server_destroy(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    server::destroy_server(a.u32(0));
    undefined(env)
}

/// Bits of the status argument of respond/writeHead above the status code (the low 16 bits; see
/// src/engine/binding.ts StatusOption): no Date line (node's `res.sendDate = false`), a reason
/// phrase is given, the header block is a registered block's id. The caller knows the last two
/// for free; asking napi for the arguments' types costs more.
const STATUS_NO_DATE: u32 = 1 << 16;
const STATUS_REASON: u32 = 1 << 17;
const STATUS_BLOCK_ID: u32 = 1 << 18;
/// The "header block" is a whole response head, to be sent as is (an 'upgrade' socket's answer).
const STATUS_RAW_HEAD: u32 = 1 << 19;
/// Bits 20..28: how many bytes at the end of the block are the Connection lines the drop-in
/// adds, which node writes after Date (see HeadParts::date_last).
const STATUS_CONNECTION_LINES_SHIFT: u32 = 20;
/// The body is close-delimited as the caller framed it (node's, its framing fields removed): no
/// framing or Connection field is added, and the connection closes after it.
const STATUS_UNTIL_CLOSE: u32 = 1 << 28;

struct StatusWord {
    status: u16,
    send_date: bool,
    has_reason: bool,
    block_id: bool,
    raw: bool,
    connection_lines: usize,
    until_close: bool,
}

fn split_status(word: u32) -> StatusWord {
    StatusWord {
        status: word as u16,
        send_date: word & STATUS_NO_DATE == 0,
        has_reason: word & STATUS_REASON != 0,
        block_id: word & STATUS_BLOCK_ID != 0,
        raw: word & STATUS_RAW_HEAD != 0,
        connection_lines: (word >> STATUS_CONNECTION_LINES_SHIFT & 0xff) as usize,
        until_close: word & STATUS_UNTIL_CLOSE != 0,
    }
}

/// The response head from arguments 1..=3: the status word, the status line's reason (given, or
/// the standard phrase) and the header block (text, or the id of a registered block).
unsafe fn with_head<T>(
    a: &Args<5>,
    f: impl FnOnce(&ResponseHead) -> Result<T, &'static str>,
) -> Result<T, &'static str> {
    let StatusWord { status, send_date, has_reason, block_id, raw, connection_lines, until_close } = split_status(a.u32(1));
    let given = has_reason.then(|| a.bytes(2, BytesArg::Reason));
    let reason = given.as_deref().unwrap_or(writer::status_phrase(status).as_bytes());
    if block_id {
        return blocks::with(a.u32(3), |block, &info| {
            f(&ResponseHead { status, reason, block, info, send_date, raw: false, connection_lines, until_close })
        })
        .unwrap_or(Err("unknown header block"));
    }
    let block = a.bytes(3, BytesArg::Head);
    let info = if raw { writer::BlockInfo::default() } else { writer::scan_block(&block)? };
    f(&ResponseHead { status, reason, block: &block, info, send_date, raw, connection_lines, until_close })
}

/// respond(token, status, reason | undefined, head | blockId, body)
unsafe extern "C" fn respond(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<5>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| {
        let body = a.bytes(4, BytesArg::Body);
        with_head(&a, |head| conn.respond(seq, head, &body))?;
        Ok(undefined(env))
    })
}

/// writeHead(token, status, reason | undefined, head | blockId, contentLength)
unsafe extern "C" fn write_head(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<5>::get(env, info);
    let length = a.f64(4);
    on_conn(env, a.f64(0), |conn, seq| {
        let length = (length >= 0.0).then_some(length as u64);
        with_head(&a, |head| conn.write_head(seq, head, length))?;
        Ok(undefined(env))
    })
}

/// registerBlock(text) -> id: a header block checked once and named by number afterwards.
unsafe extern "C" fn register_block(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    match blocks::register(a.bytes(0, BytesArg::Head).to_vec()) {
        Ok(id) => a.u32_value(id),
        Err(m) => throw(env, m),
    }
}

unsafe extern "C" fn release_block(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    blocks::release(a.u32(0));
    undefined(env)
}

/// write(token, chunk) -> boolean
unsafe extern "C" fn write(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    match conn_of(a.f64(0)) {
        None => a.bool_value(false),
        Some((conn, seq)) => {
            let data = a.bytes(1, BytesArg::Body);
            match conn.write(seq, &data) {
                Ok(ok) => a.bool_value(ok),
                Err(m) => throw(env, m),
            }
        }
    }
}

/// end(token, chunk, trailers)
unsafe extern "C" fn end(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<3>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| {
        let data = a.bytes(1, BytesArg::Body);
        let trailers = a.bytes(2, BytesArg::Head);
        conn.end(seq, &data, &trailers)?;
        Ok(undefined(env))
    })
}

unsafe extern "C" fn write_continue(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| conn.write_continue(seq).map(|_| undefined(env)))
}

/// headerText(token) -> the header fields as received, one string ("Name: value" lines joined
/// by CRLF, Latin-1): one napi call, split in JavaScript only when someone reads the headers.
unsafe extern "C" fn header_text(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| {
        let (head, fields) = conn.headers(seq)?;
        let text = match (fields.first(), fields.last()) {
            (Some(first), Some(last)) => &head[first.name.0 as usize..last.value.1 as usize],
            _ => &[][..],
        };
        Ok(a.latin1_value(text))
    })
}

/// trailers(token) -> [name, value, ...] of a chunked body's trailer section.
unsafe extern "C" fn trailers(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| {
        let fields = chunked::trailer_fields(conn.trailers(seq)?).unwrap_or_default();
        let arr = a.array(fields.len() * 2);
        for (i, (name, value)) in fields.iter().enumerate() {
            a.set_element_latin1(arr, 2 * i, name);
            a.set_element_latin1(arr, 2 * i + 1, value);
        }
        Ok(arr)
    })
}

/// takeHeldInput(token) -> the bytes read past an upgrade or CONNECT request (Latin-1), now no longer input.
unsafe extern "C" fn take_held_input(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| Ok(a.latin1_value(&conn.take_held_input(seq))))
}

/// wantBody(token): the request body goes on to JavaScript after the response is complete.
unsafe extern "C" fn want_body(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some((conn, seq)) = conn_of(a.f64(0)) {
        conn.want_body(seq);
    }
    undefined(env)
}

unsafe extern "C" fn pause(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        conn.set_paused(true);
    }
    undefined(env)
}

unsafe extern "C" fn resume(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        conn.set_paused(false);
    }
    undefined(env)
}

unsafe extern "C" fn destroy(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        if conn.pending_close.is_none() {
            conn.pending_close = Some(connection::Abort::Destroyed);
            conn.mark_dirty();
        }
    }
    undefined(env)
}

/// reset(token): close the token's connection at once with a TCP reset, unsent output dropped
/// (node's `socket.resetAndDestroy()`).
unsafe extern "C" fn reset(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        conn.reset_on_close = true;
        conn.pending_close = Some(connection::Abort::Destroyed);
        conn.mark_dirty();
    }
    undefined(env)
}

/// endConnection(token): no more requests are read on the token's connection; it closes once
/// the responses owed are sent (node's `socket.end()` under a server), or once its raw bytes
/// are sent when the application took it over (Conn::end_by_app).
unsafe extern "C" fn end_connection(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        conn.end_by_app();
    }
    undefined(env)
}

/// writeRaw(token, data): bytes sent as-is in the exchange's place, past the engine's framing
/// (Conn::write_raw: an interim 1xx head, or the application takes the connection over).
unsafe extern "C" fn write_raw(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    on_conn(env, a.f64(0), |conn, seq| conn.write_raw_for(seq, &a.bytes(1, BytesArg::Body)).map(|_| undefined(env)))
}

/// connectionWriteRaw(token, data): the connection's own socket.write(): bytes sent as-is now
/// (Conn::write_raw_now).
unsafe extern "C" fn connection_write_raw(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        conn.write_raw_now(&a.bytes(1, BytesArg::Body));
    }
    undefined(env)
}

/// connectionWrite(token, data) -> boolean: bytes sent as-is, in the place of a refused
/// request's answer; only while a 'clientError' listener runs (false otherwise).
unsafe extern "C" fn connection_write(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<2>::get(env, info);
    let written = match conn_of(a.f64(0)) {
        Some((conn, _)) => conn.write_refusal(&a.bytes(1, BytesArg::Body)),
        None => false,
    };
    a.bool_value(written)
}

/// bytesWritten(token) -> bytes written on the token's connection so far, unsent ones
/// included (0 once it is gone).
unsafe extern "C" fn bytes_written(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    let (id, _) = split_token(a.f64(0));
    a.f64_value(server::conn(id).map_or(0.0, |conn| conn.bytes_written() as f64))
}

/// socketInfo(token) -> { remoteAddress, remotePort, remoteFamily, localAddress, localPort }
unsafe extern "C" fn socket_info(env: napi_sys::napi_env, info: napi_sys::napi_callback_info) -> napi_sys::napi_value {
    let a = Args::<1>::get(env, info);
    let obj = a.object();
    if let Some((conn, _)) = conn_of(a.f64(0)) {
        if let Some(peer) = conn.peer {
            a.set_str(obj, "remoteAddress", &peer.ip().to_string());
            a.set_f64(obj, "remotePort", peer.port() as f64);
            a.set_str(obj, "remoteFamily", if peer.is_ipv4() { "IPv4" } else { "IPv6" });
        }
        if let Some(local) = sys::local_addr(conn.socket) {
            a.set_str(obj, "localAddress", &local.ip().to_string());
            a.set_f64(obj, "localPort", local.port() as f64);
        }
    }
    obj
}

type RawFn = unsafe extern "C" fn(napi_sys::napi_env, napi_sys::napi_callback_info) -> napi_sys::napi_value;

const EXPORTS: &[(&str, RawFn)] = &[
    ("serverCreate", server_create),
    ("serverListen", server_listen),
    ("serverListenUnix", server_listen_unix),
    ("serverListenFd", server_listen_fd),
    ("listenSocket", listen_socket),
    ("listenUnixSocket", listen_unix_socket),
    ("requestsRead", requests_read),
    ("accessLog", access_log),
    ("accessLogFlush", access_log_flush),
    ("serverStopListening", server_stop_listening),
    ("serverCloseIdle", server_close_idle),
    ("serverCloseAll", server_close_all),
    ("serverConnectionCount", server_connection_count),
    ("serverSetLimits", server_set_limits),
    ("serverDestroy", server_destroy),
    ("serverWatch", server_watch),
    ("serverRef", server_ref),
    ("respond", respond),
    ("writeHead", write_head),
    ("write", write),
    ("end", end),
    ("writeContinue", write_continue),
    ("reset", reset),
    ("headerText", header_text),
    ("trailers", trailers),
    ("wantBody", want_body),
    ("takeHeldInput", take_held_input),
    ("pause", pause),
    ("resume", resume),
    ("destroy", destroy),
    ("endConnection", end_connection),
    ("connectionWrite", connection_write),
    ("connectionWriteRaw", connection_write_raw),
    ("writeRaw", write_raw),
    ("socketInfo", socket_info),
    ("bytesWritten", bytes_written),
    ("registerBlock", register_block),
    ("releaseBlock", release_block),
];

#[napi_derive::napi(module_exports)]
pub fn init(exports: napi::bindgen_prelude::Object, env: napi::Env) -> napi::Result<()> {
    use napi::JsValue;
    let env = env.raw();
    let raw = exports.raw();
    // SAFETY: registering plain C callbacks on the exports object during module init.
    unsafe {
        for &(name, f) in EXPORTS {
            let mut func = ptr::null_mut();
            napi_sys::napi_create_function(
                env,
                name.as_ptr().cast(),
                name.len() as isize,
                Some(f),
                ptr::null_mut(),
                &mut func,
            );
            let cname = std::ffi::CString::new(name).unwrap();
            napi_sys::napi_set_named_property(env, raw, cname.as_ptr(), func);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_word_carries_the_options() {
        let plain = split_status(200);
        assert!(plain.status == 200 && plain.send_date && !plain.has_reason && !plain.block_id);
        let all = split_status(204 | STATUS_NO_DATE | STATUS_REASON | STATUS_BLOCK_ID | STATUS_UNTIL_CLOSE | 0xff << STATUS_CONNECTION_LINES_SHIFT);
        assert!(all.status == 204 && !all.send_date && all.has_reason && all.block_id && all.until_close && all.connection_lines == 0xff);
        assert!(!plain.until_close);
    }
}
