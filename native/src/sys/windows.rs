//! Winsock. Sockets are `SOCKET`s (a usize), created not inheritable by child processes
//! (`WSA_FLAG_NO_HANDLE_INHERIT`) and switched to nonblocking with `ioctlsocket(FIONBIO)`;
//! accepted ones get the same two settings after `accept` (there is no `accept4`). Windows raises
//! no signal on a write to a reset peer, and has no `SO_REUSEPORT`. Errors are
//! `WSAGetLastError()` codes; the host's libuv translates them into the numbers node names.
//!
//! There are no unix domain listeners here: node on Windows takes a path to mean a named pipe,
//! which is not a socket the engine can poll, so `listen_unix` refuses (docs/ARCHITECTURE.md,
//! "Platforms").

use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use windows_sys::Win32::Foundation::{SetHandleInformation, ERROR_NOT_SUPPORTED, HANDLE_FLAG_INHERIT};
use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

use super::{set_up_or_close, Error, ErrorKind, ListenError};

pub type Socket = ws::SOCKET;
pub type Code = i32;

pub const INVALID_INPUT: Code = ws::WSAEINVAL;

/// Refused requests (unix domain sockets, adopted listeners, reusePort): the code libuv
/// translates to ENOTSUP (it has no entry for WSAEOPNOTSUPP, which would come out UNKNOWN).
const UNSUPPORTED: Code = ERROR_NOT_SUPPORTED as Code;

/// Declares functions the host executable (node.exe) exports, resolved on first call with
/// `GetProcAddress(GetModuleHandleW(NULL), name)` and kept. No import library names node.exe, so
/// the addon loads in a renamed host too (Electron's, a packaged app's).
macro_rules! host_functions {
    ($($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)*) => {$(
        $(#[$meta])*
        #[allow(clippy::missing_safety_doc)]
        $vis unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
            static ADDRESS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let address = $crate::sys::host_symbol(&ADDRESS, concat!(stringify!($name), "\0"));
            // SAFETY: the host exports this name with the C signature declared here.
            let f: unsafe extern "C" fn($($ty),*) $(-> $ret)? = std::mem::transmute(address);
            f($($arg),*)
        }
    )*};
}
pub(crate) use host_functions;

/// The address of a function the host executable exports, looked up once into `cache`.
/// `name` ends with a NUL.
pub fn host_symbol(cache: &AtomicUsize, name: &'static str) -> usize {
    let cached = cache.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: the module handle of the running executable (never unloaded) and a NUL-terminated name.
    let found = unsafe { GetProcAddress(GetModuleHandleW(ptr::null()), name.as_ptr()) };
    let Some(function) = found else {
        panic!(
            "pyre: the host executable does not export {}: Pyre runs inside node.exe (or a host that exports Node's libuv)",
            name.trim_end_matches('\0')
        );
    };
    cache.store(function as usize, Ordering::Relaxed);
    function as usize
}

host_functions! {
    fn uv_translate_sys_error(code: i32) -> i32;
}

/// Winsock is started once per process (node's libuv has usually done it already; each
/// start is counted, and this one is never undone).
fn startup() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let mut data = MaybeUninit::<ws::WSADATA>::zeroed();
        // SAFETY: WSAStartup fills the WSADATA we own.
        unsafe { ws::WSAStartup(0x0202, data.as_mut_ptr()) };
    });
}

#[cold]
#[inline(never)]
pub fn last_error() -> Code {
    // SAFETY: reads this thread's last Winsock error.
    unsafe { ws::WSAGetLastError() }
}

#[inline]
pub fn kind(code: Code) -> ErrorKind {
    match code {
        ws::WSAEWOULDBLOCK => ErrorKind::WouldBlock,
        ws::WSAEINTR => ErrorKind::Interrupted,
        ws::WSAEMFILE | ws::WSAENOBUFS => ErrorKind::OutOfResources,
        ws::WSAEAFNOSUPPORT => ErrorKind::FamilyUnsupported,
        _ => ErrorKind::Other,
    }
}

pub fn uv_errno(code: Code) -> i32 {
    // SAFETY: a pure mapping from a system error code to libuv's.
    unsafe { uv_translate_sys_error(code) }
}

/// SOCKET_ERROR (the failure the calls below report) as the error it set.
fn check(ret: i32) -> Result<i32, Error> {
    if ret == ws::SOCKET_ERROR {
        Err(Error::last())
    } else {
        Ok(ret)
    }
}

pub fn listen_tcp(addr: SocketAddr, backlog: i32, ipv6_only: bool, reuse_port: bool) -> Result<(Socket, SocketAddr), ListenError> {
    if reuse_port {
        return Err((Error(UNSUPPORTED), "listen"));
    }
    startup();
    let family = if addr.is_ipv4() { ws::AF_INET } else { ws::AF_INET6 };
    let socket = new_socket(family).map_err(|e| (e, "socket"))?;
    let bound = set_up_or_close(socket, || {
        // No SO_REUSEADDR: on Windows it lets another socket take over a port in use (libuv sets
        // none either); rebinding over connections in TIME_WAIT works without it.
        if family == ws::AF_INET6 {
            set_int_opt(socket, ws::IPPROTO_IPV6, ws::IPV6_V6ONLY, ipv6_only as i32);
        }
        let (storage, len) = std_to_sockaddr(addr);
        // SAFETY: bind/listen on our socket with a sockaddr of the length given.
        unsafe {
            check(ws::bind(socket, &storage as *const _ as *const ws::SOCKADDR, len)).map_err(|e| (e, "bind"))?;
            check(ws::listen(socket, backlog)).map_err(|e| (e, "listen"))?;
        }
        Ok(local_addr(socket).unwrap_or(addr))
    })?;
    Ok((socket, bound))
}

/// No path listener is ever made on Windows (see the module comment).
pub enum SocketFile {}

impl SocketFile {
    pub fn remove(&self) {
        match *self {}
    }
}

pub fn listen_unix(_path: &[u8], _backlog: i32, _readable_all: bool, _writable_all: bool) -> Result<(Socket, Option<SocketFile>), ListenError> {
    Err((Error(UNSUPPORTED), "listen"))
}

/// Handing a listening socket down by number is a unix practice; node does not offer it on
/// Windows either.
pub fn adopt_listener(_socket: Socket) -> Result<bool, ListenError> {
    Err((Error(UNSUPPORTED), "listen"))
}

fn new_socket(family: u16) -> Result<Socket, Error> {
    // SAFETY: creating a socket; overlapped is Winsock's default and what libuv's polling expects.
    let socket = unsafe {
        ws::WSASocketW(family as i32, ws::SOCK_STREAM, ws::IPPROTO_TCP, ptr::null(), 0, ws::WSA_FLAG_OVERLAPPED | ws::WSA_FLAG_NO_HANDLE_INHERIT)
    };
    if socket == ws::INVALID_SOCKET {
        return Err(Error::last());
    }
    set_nonblocking(socket).inspect_err(|_| close(socket))?;
    Ok(socket)
}

fn set_nonblocking(socket: Socket) -> Result<(), Error> {
    let mut on: u32 = 1;
    // SAFETY: FIONBIO reads the u32 we own.
    check(unsafe { ws::ioctlsocket(socket, ws::FIONBIO, &mut on) }).map(|_| ())
}

#[inline]
pub fn accept(listener: Socket) -> Result<(Socket, Option<SocketAddr>), Error> {
    let mut storage = MaybeUninit::<ws::SOCKADDR_STORAGE>::zeroed();
    let mut len = std::mem::size_of::<ws::SOCKADDR_STORAGE>() as i32;
    // SAFETY: accept fills at most `len` bytes of the zeroed storage.
    let socket = unsafe { ws::accept(listener, storage.as_mut_ptr().cast(), &mut len) };
    if socket == ws::INVALID_SOCKET {
        return Err(Error::last());
    }
    // SAFETY: a socket is a kernel handle; clearing its inherit flag only affects child processes.
    let private = unsafe { SetHandleInformation(socket as _, HANDLE_FLAG_INHERIT, 0) } != 0;
    let set = if private { set_nonblocking(socket) } else { Err(Error(last_os_error())) };
    if let Err(e) = set {
        close(socket);
        return Err(e);
    }
    // SAFETY: zeroed SOCKADDR_STORAGE is valid whatever accept wrote.
    Ok((socket, sockaddr_to_std(unsafe { storage.assume_init_ref() })))
}

/// GetLastError(), for the one call here that is not Winsock's; the numbers do not overlap.
fn last_os_error() -> Code {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(ws::WSAEINVAL)
}

pub fn set_no_delay(socket: Socket) {
    set_int_opt(socket, ws::IPPROTO_TCP, ws::TCP_NODELAY, 1);
}

/// A length Winsock takes (an i32): longer buffers are read or written in part, as any short
/// read or write is.
fn winsock_len(len: usize) -> i32 {
    len.min(i32::MAX as usize) as i32
}

#[inline]
pub fn recv(socket: Socket, buf: &mut [MaybeUninit<u8>]) -> Result<usize, Error> {
    // SAFETY: recv writes at most the length given into memory we own.
    let n = unsafe { ws::recv(socket, buf.as_mut_ptr().cast(), winsock_len(buf.len()), 0) };
    check(n).map(|n| n as usize)
}

pub fn peek(socket: Socket) -> Result<usize, Error> {
    let mut byte = 0u8;
    // SAFETY: a one-byte peek into a stack byte on a nonblocking socket; the data stays queued.
    check(unsafe { ws::recv(socket, &mut byte, 1, ws::MSG_PEEK) }).map(|n| n as usize)
}

#[inline]
pub fn send(socket: Socket, buf: &[u8]) -> Result<usize, Error> {
    // SAFETY: send reads at most the length given of our buffer.
    let n = unsafe { ws::send(socket, buf.as_ptr(), winsock_len(buf.len()), 0) };
    check(n).map(|n| n as usize)
}

#[inline]
pub fn send_pair(socket: Socket, first: &[u8], second: &[u8]) -> Result<usize, Error> {
    let buffers = [
        ws::WSABUF { len: winsock_len(first.len()) as u32, buf: first.as_ptr() as *mut u8 },
        ws::WSABUF { len: winsock_len(second.len()) as u32, buf: second.as_ptr() as *mut u8 },
    ];
    let mut sent = 0u32;
    // SAFETY: WSASend reads at most the given lengths of the two live slices; no overlapped
    // I/O (a nonblocking socket completes or fails at once).
    let ret = unsafe { ws::WSASend(socket, buffers.as_ptr(), 2, &mut sent, 0, ptr::null_mut(), None) };
    check(ret).map(|_| sent as usize)
}

pub fn shutdown_write(socket: Socket) {
    // SAFETY: shutting down our own socket's sending side.
    unsafe { ws::shutdown(socket, ws::SD_SEND) };
}

pub fn close(socket: Socket) {
    // SAFETY: the caller owns the socket and closes it once.
    unsafe { ws::closesocket(socket) };
}

pub fn reset_on_close(socket: Socket) {
    let linger = ws::LINGER { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt with a pointer to a live LINGER and its size.
    unsafe {
        ws::setsockopt(socket, ws::SOL_SOCKET, ws::SO_LINGER, (&linger as *const ws::LINGER).cast(), std::mem::size_of::<ws::LINGER>() as i32)
    };
}

pub fn local_addr(socket: Socket) -> Option<SocketAddr> {
    let mut storage = MaybeUninit::<ws::SOCKADDR_STORAGE>::zeroed();
    let mut len = std::mem::size_of::<ws::SOCKADDR_STORAGE>() as i32;
    // SAFETY: getsockname fills at most `len` bytes of the zeroed storage.
    check(unsafe { ws::getsockname(socket, storage.as_mut_ptr().cast(), &mut len) }).ok()?;
    // SAFETY: zeroed SOCKADDR_STORAGE is valid whatever getsockname wrote.
    sockaddr_to_std(unsafe { storage.assume_init_ref() })
}

fn set_int_opt(socket: Socket, level: i32, name: i32, value: i32) -> bool {
    // SAFETY: setsockopt with a pointer to a live i32 and its size.
    unsafe { ws::setsockopt(socket, level, name, &value as *const i32 as *const u8, std::mem::size_of::<i32>() as i32) == 0 }
}

fn sockaddr_to_std(storage: &ws::SOCKADDR_STORAGE) -> Option<SocketAddr> {
    match storage.ss_family {
        ws::AF_INET => {
            // SAFETY: the family says this storage holds a SOCKADDR_IN.
            let a = unsafe { &*(storage as *const _ as *const ws::SOCKADDR_IN) };
            // SAFETY: every view of IN_ADDR's union is plain bytes.
            let ip = u32::from_be(unsafe { a.sin_addr.S_un.S_addr });
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), u16::from_be(a.sin_port)))
        }
        ws::AF_INET6 => {
            // SAFETY: the family says this storage holds a SOCKADDR_IN6.
            let a = unsafe { &*(storage as *const _ as *const ws::SOCKADDR_IN6) };
            // SAFETY: every view of IN6_ADDR's union is plain bytes.
            let ip = unsafe { a.sin6_addr.u.Byte };
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), u16::from_be(a.sin6_port)))
        }
        _ => None,
    }
}

fn std_to_sockaddr(addr: SocketAddr) -> (ws::SOCKADDR_STORAGE, i32) {
    // SAFETY: zeroed SOCKADDR_STORAGE is valid; we write the variant that matches the family.
    unsafe {
        let mut storage: ws::SOCKADDR_STORAGE = std::mem::zeroed();
        match addr {
            SocketAddr::V4(a) => {
                let s = &mut *(&mut storage as *mut _ as *mut ws::SOCKADDR_IN);
                s.sin_family = ws::AF_INET;
                s.sin_port = a.port().to_be();
                s.sin_addr.S_un.S_addr = u32::from(*a.ip()).to_be();
                (storage, std::mem::size_of::<ws::SOCKADDR_IN>() as i32)
            }
            SocketAddr::V6(a) => {
                let s = &mut *(&mut storage as *mut _ as *mut ws::SOCKADDR_IN6);
                s.sin6_family = ws::AF_INET6;
                s.sin6_port = a.port().to_be();
                s.sin6_addr.u.Byte = a.ip().octets();
                s.Anonymous.sin6_scope_id = a.scope_id();
                (storage, std::mem::size_of::<ws::SOCKADDR_IN6>() as i32)
            }
        }
    }
}

/// The C runtime's descriptors (what node's `fs.openSync` gives) block and are never
/// interrupted, so a failed write is a failed output.
pub fn write_output(fd: i32, buf: &[u8]) -> Result<usize, ErrorKind> {
    // SAFETY: write from our buffer, at most the length given.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len().min(u32::MAX as usize) as u32) };
    if n < 0 {
        Err(ErrorKind::Other)
    } else {
        Ok(n as usize)
    }
}

/// Never needed (writes block), but kept meaningful: wait the time asked.
pub fn wait_output(_fd: i32, ms: i32) {
    std::thread::sleep(std::time::Duration::from_millis(ms as u64));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    use windows_sys::Win32::Foundation::GetHandleInformation;

    fn loopback_listener() -> (Socket, SocketAddr) {
        listen_tcp("127.0.0.1:0".parse().unwrap(), 16, false, false).unwrap()
    }

    /// Retries a nonblocking call until it stops saying "would block", for at most two seconds.
    fn until_ready<T>(mut call: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match call() {
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                other => return other,
            }
        }
    }

    fn inheritable(socket: Socket) -> bool {
        let mut flags = 0u32;
        // SAFETY: GetHandleInformation writes the flags of a live handle into our u32.
        assert_ne!(unsafe { GetHandleInformation(socket as _, &mut flags) }, 0);
        flags & HANDLE_FLAG_INHERIT != 0
    }

    #[test]
    fn listeners_and_accepted_sockets_are_nonblocking_private_and_know_their_peer() {
        let (listener, bound) = loopback_listener();
        assert!(!inheritable(listener));
        assert_eq!(accept(listener).unwrap_err().kind(), ErrorKind::WouldBlock, "nothing to accept yet: nonblocking");
        let client = std::net::TcpStream::connect(bound).unwrap();
        let (socket, peer) = until_ready(|| accept(listener)).unwrap();
        assert!(!inheritable(socket));
        assert_eq!(peer, Some(client.local_addr().unwrap()));
        assert_eq!(local_addr(socket), Some(bound));
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];
        assert_eq!(recv(socket, &mut buf).unwrap_err(), Error(ws::WSAEWOULDBLOCK), "an accepted socket is nonblocking");
        close(socket);
        close(listener);
    }

    #[test]
    fn recv_peek_send_pair_and_shutdown_over_loopback() {
        let (listener, bound) = loopback_listener();
        let mut client = std::net::TcpStream::connect(bound).unwrap();
        let (socket, _) = until_ready(|| accept(listener)).unwrap();
        set_no_delay(socket);
        assert_eq!(peek(socket).unwrap_err().kind(), ErrorKind::WouldBlock);
        client.write_all(b"ping").unwrap();
        assert_eq!(until_ready(|| peek(socket)).unwrap(), 1, "the peek sees a byte and leaves it");
        let mut buf = [MaybeUninit::<u8>::uninit(); 64];
        let n = until_ready(|| recv(socket, &mut buf)).unwrap();
        // SAFETY: recv initialised the first n bytes.
        assert_eq!(unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) }, b"ping");
        assert_eq!(send_pair(socket, b"po", b"ng").unwrap(), 4);
        assert_eq!(send(socket, b"!").unwrap(), 1);
        shutdown_write(socket);
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, b"pong!", "the peer reads our bytes in order, then EOF");
        drop(client);
        assert_eq!(until_ready(|| recv(socket, &mut buf)).unwrap(), 0, "the peer's close is EOF");
        close(socket);
        close(listener);
    }

    #[test]
    fn a_taken_port_is_eaddrinuse_and_what_windows_cannot_do_is_refused() {
        let (listener, bound) = loopback_listener();
        let taken = listen_tcp(bound, 16, false, false).unwrap_err();
        assert_eq!(taken, (Error(ws::WSAEADDRINUSE), "bind"));
        let unsupported = Error(ERROR_NOT_SUPPORTED as Code);
        assert_eq!(listen_tcp("127.0.0.1:0".parse().unwrap(), 16, false, true).unwrap_err(), (unsupported, "listen"));
        assert!(matches!(listen_unix(b"\\\\.\\pipe\\pyre", 16, false, false), Err((e, "listen")) if e == unsupported));
        assert!(matches!(adopt_listener(listener), Err((e, "listen")) if e == unsupported));
        close(listener);
    }

    #[test]
    fn ipv6_listeners_bind_and_report_their_address() {
        let (listener, bound) = listen_tcp("[::1]:0".parse().unwrap(), 16, true, false).unwrap();
        assert!(bound.is_ipv6() && bound.port() != 0);
        let client = std::net::TcpStream::connect(bound).unwrap();
        let (socket, peer) = until_ready(|| accept(listener)).unwrap();
        assert_eq!(peer, Some(client.local_addr().unwrap()));
        close(socket);
        close(listener);
    }

    #[test]
    fn error_kinds() {
        assert_eq!(kind(ws::WSAEWOULDBLOCK), ErrorKind::WouldBlock);
        assert_eq!(kind(ws::WSAEINTR), ErrorKind::Interrupted);
        assert_eq!(kind(ws::WSAEMFILE), ErrorKind::OutOfResources);
        assert_eq!(kind(ws::WSAENOBUFS), ErrorKind::OutOfResources);
        assert_eq!(kind(ws::WSAEAFNOSUPPORT), ErrorKind::FamilyUnsupported);
        assert_eq!(kind(ws::WSAECONNRESET), ErrorKind::Other);
    }
}
