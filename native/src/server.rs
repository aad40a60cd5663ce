//! Servers and the engine's per-thread state: listening sockets on Node's loop, accepting,
//! the timeout sweep, and the flush points (libuv prepare and check) where output produced
//! outside the engine's own callbacks is written.

use std::cell::UnsafeCell;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::mem::ManuallyDrop;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::os::raw::c_int;

use crate::access_log::{AccessLog, Format};
use crate::connection::{Abort, Conn};
use crate::js::{Callbacks, Cb};
use crate::limits::Limits;
use crate::sys::{self, ErrorKind, ListenError};
use crate::uv;

/// Connections accepted per readable event on the listener before yielding to the loop.
const ACCEPT_BATCH: usize = 64;

/// Connection events a server can ask to hear of (serverWatch; src/engine/binding.ts
/// ConnectionEvents). Each costs a JavaScript call per connection, so none is on by default.
pub mod watch {
    /// onConnectionClose, for connections JavaScript has heard of.
    pub const CLOSE: u32 = 1;
    /// onConnection, when a connection is accepted.
    pub const ACCEPT: u32 = 2;
    /// onClientError, when the engine refuses a request (the call may choose the answer: Conn::refuse).
    pub const CLIENT_ERROR: u32 = 4;
}

pub struct Server {
    pub id: u32,
    pub lp: *mut uv::Loop,
    pub limits: Limits,
    pub callbacks: Callbacks,
    listener: Option<Listener>,
    conns: IdSet,
    sweep: *mut uv::Handle,
    /// stopListening() was called: connections finish, none are accepted, idle ones close.
    stopped: bool,
    /// Accepting is suspended because the process ran out of file descriptors.
    accept_paused: bool,
    /// unref() was called: the listening socket does not keep the process alive (its
    /// connections still do, as node's sockets do).
    unref: bool,
    destroy_requested: bool,
    /// The connection events JavaScript asked for (`watch` bits).
    pub watching: u32,
    /// Responses go to the access log (the engine's, while one is started).
    pub logging: bool,
    /// Requests read on this server's connections.
    pub requests: u64,
}

struct Listener {
    socket: sys::Socket,
    poll: *mut uv::Handle,
    /// A unix domain socket: its connections take no TCP options.
    unix: bool,
    socket_file: Option<sys::SocketFile>,
}

/// Everything the engine keeps on this thread. Node runs JavaScript and the loop on one
/// thread; a worker thread with its own loop gets its own Engine.
/// Hashes integer ids as themselves: they are unique counters, so SipHash would buy nothing on
/// the per-request connection and router lookups.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0 << 8 | u64::from(b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
    fn write_i32(&mut self, n: i32) {
        self.0 = n as u32 as u64;
    }
}

pub type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;
pub type IdSet = HashSet<u32, BuildHasherDefault<IdHasher>>;

pub struct Engine {
    servers: IdMap<Box<Server>>,
    conns: IdMap<*mut Conn>,
    next_server: u32,
    next_conn: u32,
    /// Connections with output or input work waiting for the next flush point.
    pub dirty: Vec<u32>,
    dirty_spare: Vec<u32>,
    flush_handles: Option<(*mut uv::Handle, *mut uv::Handle)>,
    pub access_log: Option<Box<AccessLog>>,
    /// Requests read by servers that are gone (requests_read() adds the live ones').
    retired_requests: u64,
}

thread_local! {
    // Never dropped: at thread exit Node's environment is already gone, and dropping the
    // servers' JavaScript references then would call into a dead napi env.
    static ENGINE: UnsafeCell<ManuallyDrop<Engine>> = UnsafeCell::new(ManuallyDrop::new(Engine {
        servers: IdMap::default(),
        conns: IdMap::default(),
        next_server: 1,
        next_conn: 1,
        dirty: Vec::new(),
        dirty_spare: Vec::new(),
        flush_handles: None,
        access_log: None,
        retired_requests: 0,
    }));
}

/// The engine of the calling thread.
pub fn engine() -> &'static mut Engine {
    // SAFETY: the Engine is only reached from its own thread (JavaScript calls and libuv
    // callbacks both run there), and callers keep the reference only for short, non-reentrant
    // steps: anything that may call into JavaScript goes through raw connection pointers.
    ENGINE.with(|e| unsafe { &mut *e.get() })
}

pub fn conn(id: u32) -> Option<&'static mut Conn> {
    // SAFETY: registered pointers stay valid until the connection unregisters in close().
    engine().conns.get(&id).map(|&c| unsafe { &mut *c })
}

pub fn server(id: u32) -> Option<&'static mut Server> {
    engine().servers.get_mut(&id).map(|s| {
        let s: *mut Server = &mut **s;
        // SAFETY: boxed servers do not move; they are freed only by destroy_server.
        unsafe { &mut *s }
    })
}

impl Server {
    pub fn now(&self) -> u64 {
        // SAFETY: the loop outlives every server on it.
        unsafe { uv::uv_now(self.lp) }
    }

    /// Stopped listening: responses say Connection: close.
    pub fn closing(&self) -> bool {
        self.stopped
    }

    pub fn watches(&self, event: u32) -> bool {
        self.watching & event != 0
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    pub fn set_limits(&mut self, limits: Limits) {
        let interval = limits.sweep_interval();
        if interval != self.limits.sweep_interval() && !self.stopped {
            self.start_sweep(interval);
        }
        self.limits = limits;
    }

    pub fn listen(
        &mut self,
        host: &str,
        port: u16,
        backlog: i32,
        ipv6_only: bool,
        reuse_port: bool,
    ) -> Result<SocketAddr, ListenError> {
        let (socket, bound) = bind_tcp(host, port, backlog, ipv6_only, reuse_port)?;
        self.start_listener(Listener { socket, poll: std::ptr::null_mut(), unix: false, socket_file: None });
        Ok(bound)
    }

    /// Listens on a socket this process was handed already bound and listening (by a
    /// supervisor such as `pyre serve`'s primary, or systemd). The descriptor becomes the
    /// server's: stopping closes it. Returns its address; None for a unix domain socket.
    pub fn listen_fd(&mut self, socket: sys::Socket) -> Result<Option<SocketAddr>, ListenError> {
        let unix = sys::adopt_listener(socket)?;
        self.start_listener(Listener { socket, poll: std::ptr::null_mut(), unix, socket_file: None });
        Ok(if unix { None } else { sys::local_addr(socket) })
    }

    /// Listens on a unix domain socket: a file path, or (Linux) an abstract name starting with
    /// a NUL byte. An existing file at the path is an error (EADDRINUSE), never removed.
    pub fn listen_unix(
        &mut self,
        path: &[u8],
        backlog: i32,
        readable_all: bool,
        writable_all: bool,
    ) -> Result<(), ListenError> {
        let (socket, socket_file) = sys::listen_unix(path, backlog, readable_all, writable_all)?;
        self.start_listener(Listener { socket, poll: std::ptr::null_mut(), unix: true, socket_file });
        Ok(())
    }

    /// Watches a bound, listening socket for connections.
    fn start_listener(&mut self, mut listener: Listener) {
        listener.poll = uv::alloc_handle(uv::POLL, self as *mut Server as *mut _);
        // SAFETY: fresh handle on the main loop, data = this boxed server.
        unsafe {
            uv::uv_poll_init_socket(self.lp, listener.poll, listener.socket);
            uv::uv_poll_start(listener.poll, uv::READABLE, on_accept);
            if self.unref {
                uv::uv_unref(listener.poll);
            }
        }
        self.listener = Some(listener);
        self.stopped = false;
        self.start_sweep(self.limits.sweep_interval());
    }

    /// node's server.ref()/unref(): whether the listening socket keeps the process alive.
    pub fn set_ref(&mut self, keep_alive: bool) {
        self.unref = !keep_alive;
        if let Some(l) = &self.listener {
            // SAFETY: the listener's handle is live while `listener` is Some.
            unsafe {
                if keep_alive {
                    uv::uv_ref(l.poll);
                } else {
                    uv::uv_unref(l.poll);
                }
            }
        }
    }

    fn start_sweep(&mut self, interval: u64) {
        // SAFETY: the sweep timer is live for the server's lifetime.
        unsafe { uv::uv_timer_start(self.sweep, on_sweep, interval, interval) };
    }

    /// Stops accepting; `grace_ms` is how long an idle keep-alive connection just answered, or
    /// one just accepted, may still bring a request (Conn::server_stopped).
    pub fn stop_listening(&mut self, grace_ms: u64) {
        self.stopped = true;
        if let Some(l) = self.listener.take() {
            uv::close_with_socket(l.poll, l.socket);
            if let Some(file) = l.socket_file {
                file.remove();
            }
        }
        // Requests already received are answered; no new ones are read, except on connections
        // the client may be reusing right now (Conn::server_stopped).
        let now = self.now();
        let mut graces = false;
        for &id in &self.conns {
            if let Some(c) = conn(id) {
                graces |= c.server_stopped(now, grace_ms);
            }
        }
        if graces {
            // Often enough that a grace ends on time, not at the next ordinary sweep.
            self.start_sweep((grace_ms / 4).max(1));
        }
        self.check_idle();
    }

    /// Closes every connection with nothing in flight; with `all`, every connection.
    pub fn close_connections(&mut self, all: bool) {
        let ids: Vec<u32> = self.conns.iter().copied().collect();
        for id in ids {
            if let Some(c) = conn(id) {
                if all {
                    c.pending_close = Some(Abort::Destroyed);
                    c.mark_dirty();
                } else if c.is_idle() && !c.in_reuse_grace() && !c.input_arriving() {
                    c.pending_close = Some(Abort::Closed);
                    c.mark_dirty();
                }
            }
        }
    }

    fn pause_accepting(&mut self) {
        if let Some(l) = &self.listener {
            if !self.accept_paused {
                self.accept_paused = true;
                // SAFETY: the listener's handle is live while `listener` is Some.
                unsafe { uv::uv_poll_stop(l.poll) };
            }
        }
    }

    fn resume_accepting(&mut self) {
        if let (Some(l), true) = (&self.listener, self.accept_paused) {
            self.accept_paused = false;
            // SAFETY: the listener's handle is live while `listener` is Some.
            unsafe { uv::uv_poll_start(l.poll, uv::READABLE, on_accept) };
        }
    }

    /// After the last connection of a stopped server: tell JavaScript, free if asked to.
    fn check_idle(&mut self) {
        if self.stopped && self.listener.is_none() && self.conns.is_empty() {
            let cbs = &self.callbacks;
            let _scope = cbs.scope();
            cbs.call(Cb::Idle, &[]);
        }
    }

    /// Accepts a batch of connections; returns the ids of those JavaScript asked to hear of.
    fn accept(&mut self) -> Vec<u32> {
        let mut announce = Vec::new();
        let Some(listener) = &self.listener else { return announce };
        let listen_socket = listener.socket;
        let no_delay = self.limits.no_delay && !listener.unix;
        for _ in 0..ACCEPT_BATCH {
            let (socket, peer) = match sys::accept(listen_socket) {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors: the listener would stay readable and spin the loop. Stop
                    // watching it until a connection closes (or the next sweep); the backlog waits.
                    if e.kind() == ErrorKind::OutOfResources {
                        self.pause_accepting();
                    }
                    // Would block: drained. Aborted and the like: that client is gone; next event.
                    return announce;
                }
            };
            if self.limits.max_connections > 0 && self.conns.len() >= self.limits.max_connections {
                sys::close(socket);
                continue;
            }
            if no_delay {
                sys::set_no_delay(socket);
            }
            let e = engine();
            let id = loop {
                let id = e.next_conn;
                e.next_conn = e.next_conn.wrapping_add(1).max(1);
                if !e.conns.contains_key(&id) {
                    break id;
                }
            };
            let conn = Box::into_raw(Conn::new(id, socket, self as *mut Server, peer, self.now()));
            e.conns.insert(id, conn);
            self.conns.insert(id);
            // SAFETY: just allocated and registered.
            if !unsafe { (*conn).start(self.lp) } {
                unsafe { (*conn).close(Abort::Closed) };
            } else if self.watches(watch::ACCEPT) {
                // SAFETY: started and registered; it closes only at a later flush point.
                unsafe { (*conn).observed = true };
                announce.push(id);
            }
        }
        announce
    }
}

/// Tells JavaScript of connections just accepted: after the accept loop, because a listener
/// may close the listening socket.
fn announce_connections(server: *mut Server, ids: &[u32]) {
    if ids.is_empty() {
        return;
    }
    // SAFETY: the server has these connections, so it cannot be freed while they are announced
    // (JavaScript's closes are carried out at the next flush point).
    let cbs = unsafe { &(*server).callbacks };
    let _scope = cbs.scope();
    for &id in ids {
        cbs.call(Cb::Connection, &[cbs.number(id as f64)]);
    }
}

/// Unregisters a closing connection; the server may now be idle.
pub fn forget_conn(conn: &Conn) {
    let e = engine();
    e.conns.remove(&conn.id);
    // SAFETY: see Conn::server.
    let server = unsafe { &mut *conn.server };
    server.conns.remove(&conn.id);
    server.resume_accepting();
    server.check_idle();
    if server.destroy_requested && server.conns.is_empty() {
        let id = server.id;
        free_server(id);
    }
}

pub fn create_server(lp: *mut uv::Loop, limits: Limits, callbacks: Callbacks) -> u32 {
    ensure_flush_handles(lp);
    let e = engine();
    let id = e.next_server;
    e.next_server += 1;
    let interval = limits.sweep_interval();
    let mut server = Box::new(Server {
        id,
        lp,
        limits,
        callbacks,
        listener: None,
        conns: IdSet::default(),
        sweep: std::ptr::null_mut(),
        stopped: false,
        accept_paused: false,
        unref: false,
        destroy_requested: false,
        watching: 0,
        logging: e.access_log.is_some(),
        requests: 0,
    });
    server.sweep = uv::alloc_handle(uv::TIMER, &mut *server as *mut Server as *mut _);
    // SAFETY: fresh handle; unref'd so the sweep alone never keeps the process alive.
    unsafe {
        uv::uv_timer_init(lp, server.sweep);
        uv::uv_timer_start(server.sweep, on_sweep, interval, interval);
        uv::uv_unref(server.sweep);
    }
    e.servers.insert(id, server);
    id
}

/// Frees a server once it has no connections (at once, or when its last one closes).
pub fn destroy_server(id: u32) {
    let Some(server) = server(id) else { return };
    server.stop_listening(0);
    server.destroy_requested = true;
    if server.conns.is_empty() {
        free_server(id);
    }
}

fn free_server(id: u32) {
    let e = engine();
    if let Some(server) = e.servers.remove(&id) {
        e.retired_requests += server.requests;
        // SAFETY: the timer is live; the server's memory goes now, so its data pointer is cleared first.
        unsafe {
            uv::uv_timer_stop(server.sweep);
        }
        uv::close_and_free(server.sweep);
        drop(server);
    }
}

/// Requests read by every server of this thread, past and present.
pub fn requests_read() -> u64 {
    let e = engine();
    e.retired_requests + e.servers.values().map(|s| s.requests).sum::<u64>()
}

/// Starts the access log on `fd` for every server of this thread (replacing one already
/// started), or with None stops it, writing what it still holds.
pub fn set_access_log(lp: *mut uv::Loop, target: Option<(c_int, Format)>) {
    let e = engine();
    if let Some(mut old) = e.access_log.take() {
        old.stop();
    }
    e.access_log = target.map(|(fd, format)| AccessLog::start(lp, fd, format));
    let on = e.access_log.is_some();
    for server in e.servers.values_mut() {
        server.logging = on;
    }
}

/// Writes the access log's buffered lines now (before the process exits).
pub fn flush_access_log() {
    if let Some(log) = engine().access_log.as_mut() {
        log.flush(true);
    }
}

fn ensure_flush_handles(lp: *mut uv::Loop) {
    let e = engine();
    if e.flush_handles.is_some() {
        return;
    }
    let prepare = uv::alloc_handle(uv::PREPARE, std::ptr::null_mut());
    let check = uv::alloc_handle(uv::CHECK, std::ptr::null_mut());
    // SAFETY: fresh handles on the main loop, unref'd: they never keep the process alive.
    unsafe {
        uv::uv_prepare_init(lp, prepare);
        uv::uv_prepare_start(prepare, on_flush_point);
        uv::uv_unref(prepare);
        uv::uv_check_init(lp, check);
        uv::uv_check_start(check, on_flush_point);
        uv::uv_unref(check);
    }
    e.flush_handles = Some((prepare, check));
}

/// Writes output and runs input work that JavaScript left for the engine outside its own
/// callbacks (timers, other I/O, promises settled later).
pub fn flush_dirty() {
    // Bounded: each round handles what the previous one queued.
    for _ in 0..64 {
        let e = engine();
        if e.dirty.is_empty() {
            return;
        }
        // Two lists swapped back and forth: no allocation per round.
        let mut ids = std::mem::take(&mut e.dirty_spare);
        std::mem::swap(&mut ids, &mut e.dirty);
        for &id in &ids {
            let Some(c) = conn(id) else { continue };
            c.dirty = false;
            // Input waits only where unread bytes are buffered (or the peer's end is still to
            // report); the scopes JavaScript needs cost more than the rest of a request's
            // native work, so none without input.
            if c.needs_process && c.pending_close.is_none() && c.input_waiting() {
                // SAFETY: see Conn::server.
                let scope = unsafe { (*c.server).callbacks.scope() };
                c.process_input();
                drop(scope);
            }
            c.needs_process = false;
            c.after_js();
        }
        ids.clear();
        engine().dirty_spare = ids;
    }
}

unsafe extern "C" fn on_flush_point(_handle: *mut uv::Handle) {
    flush_dirty();
}

unsafe extern "C" fn on_accept(handle: *mut uv::Handle, status: c_int, _events: c_int) {
    if status < 0 {
        return;
    }
    // SAFETY: the listener handle's data is its live server.
    let server = uv::data::<Server>(handle);
    let accepted = (*server).accept();
    announce_connections(server, &accepted);
    flush_dirty();
}

unsafe extern "C" fn on_sweep(handle: *mut uv::Handle) {
    // SAFETY: the timer's data is its live server (the timer stops before the server is freed).
    let server = &mut *uv::data::<Server>(handle);
    server.resume_accepting();
    let now = server.now();
    let ids: Vec<u32> = server.conns.iter().copied().collect();
    for id in ids {
        if let Some(c) = conn(id) {
            c.check_timeouts(now);
        }
    }
    flush_dirty();
}

fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    (host, port).to_socket_addrs().ok()?.next()
}

/// Binds and listens on a TCP address (a host name is resolved first). '::' on a machine without
/// IPv6 falls back to every IPv4 address, as node does.
pub fn bind_tcp(
    host: &str,
    port: u16,
    backlog: i32,
    ipv6_only: bool,
    reuse_port: bool,
) -> Result<(sys::Socket, SocketAddr), ListenError> {
    let addr = resolve(host, port).ok_or((sys::Error::invalid_input(), "getaddrinfo"))?;
    match sys::listen_tcp(addr, backlog, ipv6_only, reuse_port) {
        Err((e, _)) if host == "::" && e.kind() == ErrorKind::FamilyUnsupported => {
            sys::listen_tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port), backlog, false, reuse_port)
        }
        other => other,
    }
}
