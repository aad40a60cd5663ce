//! POSIX sockets: Linux, macOS and the BSDs. Linux creates and accepts sockets nonblocking and
//! close-on-exec in one call (`SOCK_NONBLOCK | SOCK_CLOEXEC`, `accept4`); elsewhere (macOS has
//! neither) the flags are set with `fcntl` right after. A write to a reset peer must not raise
//! SIGPIPE: `MSG_NOSIGNAL` per send, or on Apple systems, which lack it, `SO_NOSIGPIPE` per socket.

use std::ffi::CString;
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::raw::c_int;

use super::{set_up_or_close, Error, ErrorKind, ListenError};

/// Declares functions the host executable (node) exports: resolved by the dynamic linker when
/// the addon loads (build.rs lets the link leave them undefined).
macro_rules! host_functions {
    ($($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)*) => {
        extern "C" {
            $($(#[$meta])* $vis fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
    };
}
pub(crate) use host_functions;

pub type Socket = c_int;
pub type Code = c_int;

pub const INVALID_INPUT: Code = libc::EINVAL;

#[cfg(not(target_vendor = "apple"))]
const SEND_FLAGS: c_int = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
const SEND_FLAGS: c_int = 0;

/// Out of line: failures are the rare path, and keeping them out of the send and recv loops
/// keeps those as tight as the bare calls.
#[cold]
#[inline(never)]
pub fn last_error() -> Code {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

#[inline]
pub fn kind(code: Code) -> ErrorKind {
    match code {
        c if c == libc::EAGAIN || c == libc::EWOULDBLOCK => ErrorKind::WouldBlock,
        libc::EINTR => ErrorKind::Interrupted,
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM => ErrorKind::OutOfResources,
        libc::EAFNOSUPPORT => ErrorKind::FamilyUnsupported,
        _ => ErrorKind::Other,
    }
}

pub fn uv_errno(code: Code) -> i32 {
    -code
}

/// -1 (the failure every call below reports) as the error it set.
fn check(ret: c_int) -> Result<c_int, Error> {
    if ret < 0 {
        Err(Error::last())
    } else {
        Ok(ret)
    }
}

pub fn listen_tcp(addr: SocketAddr, backlog: i32, ipv6_only: bool, reuse_port: bool) -> Result<(Socket, SocketAddr), ListenError> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let fd = new_socket(family).map_err(|e| (e, "socket"))?;
    let bound = set_up_or_close(fd, || {
        set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
        if reuse_port {
            set_reuse_port(fd).map_err(|e| (e, "setsockopt"))?;
        }
        if family == libc::AF_INET6 {
            set_int_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, ipv6_only as c_int);
        }
        let (storage, len) = std_to_sockaddr(addr);
        // SAFETY: bind/listen on our socket with a sockaddr of the length given.
        unsafe {
            check(libc::bind(fd, &storage as *const _ as *const libc::sockaddr, len)).map_err(|e| (e, "bind"))?;
            check(libc::listen(fd, backlog)).map_err(|e| (e, "listen"))?;
        }
        Ok(local_addr(fd).unwrap_or(addr))
    })?;
    Ok((fd, bound))
}

/// SO_REUSEPORT balances connections between listeners on Linux. macOS and the BSDs accept the
/// option but hand every connection to one listener, so there it is refused, as libuv does.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_reuse_port(fd: Socket) -> Result<(), Error> {
    if set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1) {
        Ok(())
    } else {
        Err(Error::last())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_reuse_port(_fd: Socket) -> Result<(), Error> {
    Err(Error(libc::ENOTSUP))
}

/// The socket file of a path listener.
pub struct SocketFile(CString);

impl SocketFile {
    pub fn remove(&self) {
        // SAFETY: unlink with a NUL-terminated path; a file already gone is fine.
        unsafe { libc::unlink(self.0.as_ptr()) };
    }
}

/// The sockaddr for a unix socket path. A leading NUL names an abstract socket (Linux): the name
/// is every byte given. A file path must fit `sun_path` with its terminating NUL (107 bytes on
/// Linux) and hold no NUL: longer paths are refused (EINVAL) rather than cut, as node 22 does.
fn unix_sockaddr(path: &[u8]) -> Result<(libc::sockaddr_un, libc::socklen_t), Error> {
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let abstract_name = path.first() == Some(&0);
    let room = if abstract_name { addr.sun_path.len() } else { addr.sun_path.len() - 1 };
    if path.is_empty() || path.len() > room || (!abstract_name && path.contains(&0)) {
        return Err(Error::invalid_input());
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (slot, &byte) in addr.sun_path.iter_mut().zip(path) {
        *slot = byte as libc::c_char;
    }
    let header = std::mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = header + path.len() + usize::from(!abstract_name);
    Ok((addr, len as libc::socklen_t))
}

/// A file this call created is removed again if a later step fails.
pub fn listen_unix(path: &[u8], backlog: i32, readable_all: bool, writable_all: bool) -> Result<(Socket, Option<SocketFile>), ListenError> {
    let mut access: libc::mode_t = 0;
    if readable_all {
        access |= libc::S_IRUSR | libc::S_IRGRP | libc::S_IROTH;
    }
    if writable_all {
        access |= libc::S_IWUSR | libc::S_IWGRP | libc::S_IWOTH;
    }
    let (addr, len) = unix_sockaddr(path).map_err(|e| (e, "bind"))?;
    let socket_file = match path[0] {
        0 => None,
        _ => Some(SocketFile(CString::new(path).map_err(|_| (Error::invalid_input(), "bind"))?)),
    };
    let fd = new_socket(libc::AF_UNIX).map_err(|e| (e, "socket"))?;
    // SAFETY: bind on our socket with a sockaddr of the length given.
    if let Err(e) = check(unsafe { libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len) }) {
        close(fd);
        // A missing directory is reported as EACCES, as libuv (and so node) reports it.
        return Err((if e.0 == libc::ENOENT { Error(libc::EACCES) } else { e }, "bind"));
    }
    set_up_or_close(fd, || {
        if let (Some(file), true) = (&socket_file, access != 0) {
            // SAFETY: stat/chmod with a NUL-terminated path and a stat buffer we own.
            unsafe {
                let mut stat: libc::stat = std::mem::zeroed();
                check(libc::stat(file.0.as_ptr(), &mut stat)).map_err(|e| (e, "stat"))?;
                if stat.st_mode & access != access {
                    check(libc::chmod(file.0.as_ptr(), (stat.st_mode | access) & 0o7777)).map_err(|e| (e, "chmod"))?;
                }
            }
        }
        // SAFETY: listen on our bound socket.
        check(unsafe { libc::listen(fd, backlog) }).map_err(|e| (e, "listen"))
    })
    .inspect_err(|_| {
        if let Some(file) = &socket_file {
            file.remove();
        }
    })?;
    Ok((fd, socket_file))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn new_socket(family: c_int) -> Result<Socket, Error> {
    // SAFETY: creating a socket; the flags make it nonblocking and close-on-exec at once.
    check(unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn new_socket(family: c_int) -> Result<Socket, Error> {
    // SAFETY: creating a socket; the flags are set before anyone else sees it.
    let fd = check(unsafe { libc::socket(family, libc::SOCK_STREAM, 0) })?;
    with_flags_set(fd)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub fn accept(listener: Socket) -> Result<(Socket, Option<SocketAddr>), Error> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: accept4 fills at most `len` bytes of the zeroed storage.
    let fd = check(unsafe { libc::accept4(listener, storage.as_mut_ptr().cast(), &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) })?;
    // SAFETY: zeroed sockaddr_storage is valid whatever accept4 wrote.
    Ok((fd, sockaddr_to_std(unsafe { storage.assume_init_ref() })))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn accept(listener: Socket) -> Result<(Socket, Option<SocketAddr>), Error> {
    accept_then_set_flags(listener)
}

/// accept, then the flags accept4 would have set: for systems without accept4 (macOS). Built
/// on Linux too, where the tests run it.
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn accept_then_set_flags(listener: Socket) -> Result<(Socket, Option<SocketAddr>), Error> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: accept fills at most `len` bytes of the zeroed storage.
    let fd = check(unsafe { libc::accept(listener, storage.as_mut_ptr().cast(), &mut len) })?;
    // SAFETY: zeroed sockaddr_storage is valid whatever accept wrote.
    Ok((with_flags_set(fd)?, sockaddr_to_std(unsafe { storage.assume_init_ref() })))
}

fn set_nonblocking_cloexec(fd: Socket) -> Result<c_int, Error> {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        check(libc::fcntl(fd, libc::F_GETFL))
            .and_then(|flags| check(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)))
            .and_then(|_| check(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC)))
    }
}

/// Makes a fresh socket nonblocking, close-on-exec and (Apple) free of SIGPIPE; closes it if
/// that fails.
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn with_flags_set(fd: Socket) -> Result<Socket, Error> {
    let set = set_nonblocking_cloexec(fd);
    #[cfg(target_vendor = "apple")]
    let set = set.and_then(|_| if set_int_opt(fd, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1) { Ok(0) } else { Err(Error::last()) });
    match set {
        Ok(_) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

pub fn adopt_listener(socket: Socket) -> Result<bool, ListenError> {
    let mut listening: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into a live c_int with its size.
    check(unsafe { libc::getsockopt(socket, libc::SOL_SOCKET, libc::SO_ACCEPTCONN, &mut listening as *mut c_int as *mut _, &mut len) })
        .map_err(|e| (e, "getsockopt"))?;
    if listening != 1 {
        return Err((Error::invalid_input(), "listen"));
    }
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: getsockname fills at most `len` bytes of the zeroed storage.
    check(unsafe { libc::getsockname(socket, storage.as_mut_ptr().cast(), &mut len) }).map_err(|e| (e, "getsockname"))?;
    set_nonblocking_cloexec(socket).map_err(|e| (e, "fcntl"))?;
    // SAFETY: zeroed sockaddr_storage is valid whatever getsockname wrote.
    Ok(unsafe { storage.assume_init_ref() }.ss_family as c_int == libc::AF_UNIX)
}

pub fn set_no_delay(socket: Socket) {
    set_int_opt(socket, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
}

#[inline]
pub fn recv(socket: Socket, buf: &mut [MaybeUninit<u8>]) -> Result<usize, Error> {
    // SAFETY: recv writes at most buf.len() bytes into memory we own.
    let n = unsafe { libc::recv(socket, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(Error::last())
    } else {
        Ok(n as usize)
    }
}

pub fn peek(socket: Socket) -> Result<usize, Error> {
    let mut byte = 0u8;
    // SAFETY: a one-byte peek into a stack byte; the data stays queued for the next read.
    let n = unsafe { libc::recv(socket, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    if n < 0 {
        Err(Error::last())
    } else {
        Ok(n as usize)
    }
}

#[inline]
pub fn send(socket: Socket, buf: &[u8]) -> Result<usize, Error> {
    // SAFETY: send reads at most buf.len() bytes of our buffer.
    let n = unsafe { libc::send(socket, buf.as_ptr().cast(), buf.len(), SEND_FLAGS) };
    if n < 0 {
        Err(Error::last())
    } else {
        Ok(n as usize)
    }
}

#[inline]
pub fn send_pair(socket: Socket, first: &[u8], second: &[u8]) -> Result<usize, Error> {
    let mut iov = [
        libc::iovec { iov_base: first.as_ptr() as *mut _, iov_len: first.len() },
        libc::iovec { iov_base: second.as_ptr() as *mut _, iov_len: second.len() },
    ];
    // SAFETY: a zeroed msghdr is valid (no address, no control data); it points at the two
    // live slices above, of which sendmsg reads at most their lengths.
    let n = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len() as _;
        libc::sendmsg(socket, &msg, SEND_FLAGS)
    };
    if n < 0 {
        Err(Error::last())
    } else {
        Ok(n as usize)
    }
}

pub fn shutdown_write(socket: Socket) {
    // SAFETY: shutting down our own socket's write side.
    unsafe { libc::shutdown(socket, libc::SHUT_WR) };
}

pub fn close(socket: Socket) {
    // SAFETY: the caller owns the socket and closes it once.
    unsafe { libc::close(socket) };
}

pub fn reset_on_close(socket: Socket) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt with a pointer to a live linger and its size.
    unsafe {
        libc::setsockopt(
            socket,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}

pub fn local_addr(socket: Socket) -> Option<SocketAddr> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: getsockname fills at most `len` bytes of the zeroed storage.
    check(unsafe { libc::getsockname(socket, storage.as_mut_ptr().cast(), &mut len) }).ok()?;
    // SAFETY: zeroed sockaddr_storage is valid whatever getsockname wrote.
    sockaddr_to_std(unsafe { storage.assume_init_ref() })
}

pub fn write_output(fd: c_int, buf: &[u8]) -> Result<usize, ErrorKind> {
    // SAFETY: write from our buffer, at most its length.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(kind(last_error()))
    } else {
        Ok(n as usize)
    }
}

pub fn wait_output(fd: c_int, ms: i32) {
    let mut pfd = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: poll on one live pollfd.
    unsafe { libc::poll(&mut pfd, 1, ms) };
}

fn set_int_opt(fd: Socket, level: c_int, name: c_int, value: c_int) -> bool {
    // SAFETY: setsockopt with a pointer to a live c_int and its size.
    unsafe {
        libc::setsockopt(fd, level, name, &value as *const c_int as *const _, std::mem::size_of::<c_int>() as libc::socklen_t) == 0
    }
}

fn sockaddr_to_std(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match storage.ss_family as c_int {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr))), u16::from_be(a.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr)), u16::from_be(a.sin6_port)))
        }
        _ => None,
    }
}

fn std_to_sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: zeroed sockaddr_storage is valid; we write the variant that matches the family.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        match addr {
            SocketAddr::V4(a) => {
                let s = &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in);
                s.sin_family = libc::AF_INET as libc::sa_family_t;
                s.sin_port = a.port().to_be();
                s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
                (storage, std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t)
            }
            SocketAddr::V6(a) => {
                let s = &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6);
                s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                s.sin6_port = a.port().to_be();
                s.sin6_addr.s6_addr = a.ip().octets();
                s.sin6_scope_id = a.scope_id();
                (storage, std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    /// A fresh directory for one test's socket files, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("pyre-unix-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn path(&self, file: &str) -> PathBuf {
            self.0.join(file)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn bytes(path: &std::path::Path) -> &[u8] {
        path.as_os_str().as_encoded_bytes()
    }

    fn errno(result: Result<impl Sized, ListenError>) -> (c_int, &'static str) {
        match result {
            Ok(_) => panic!("expected an error"),
            Err((e, syscall)) => (e.0, syscall),
        }
    }

    #[test]
    fn unix_sockaddr_lengths() {
        let header = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        let (addr, len) = unix_sockaddr(b"/run/app.sock").unwrap();
        assert_eq!(addr.sun_family as c_int, libc::AF_UNIX);
        assert_eq!(len as usize, header + 13 + 1, "a file path is sent with its NUL");
        let (_, len) = unix_sockaddr(b"\0name").unwrap();
        assert_eq!(len as usize, header + 5, "an abstract name is exactly its bytes");
        assert!(unix_sockaddr(&[b'a'; 107]).is_ok());
        assert_eq!(unix_sockaddr(&[b'a'; 108]).unwrap_err(), Error(libc::EINVAL), "no room for the NUL");
        assert!(unix_sockaddr(&[0; 108]).is_ok());
        assert_eq!(unix_sockaddr(b"").unwrap_err(), Error(libc::EINVAL));
        assert_eq!(unix_sockaddr(b"/tmp/a\0b").unwrap_err(), Error(libc::EINVAL));
    }

    #[test]
    fn binds_a_path_that_accepts_connections_and_refuses_a_taken_path() {
        let dir = TempDir::new("bind");
        let path = dir.path("s.sock");
        let (fd, file) = listen_unix(bytes(&path), 16, false, false).unwrap();
        assert_eq!(file.as_ref().map(|f| f.0.to_bytes()), Some(bytes(&path)));
        std::os::unix::net::UnixStream::connect(&path).unwrap();
        assert_eq!(errno(listen_unix(bytes(&path), 16, false, false)), (libc::EADDRINUSE, "bind"));
        close(fd);
        assert!(path.exists(), "closing the socket leaves the file: the listener removes it");
        file.unwrap().remove();
        assert!(!path.exists());
    }

    #[test]
    fn a_missing_directory_is_eacces_as_in_node() {
        let dir = TempDir::new("missing");
        assert_eq!(errno(listen_unix(bytes(&dir.path("nope/s.sock")), 16, false, false)), (libc::EACCES, "bind"));
    }

    #[test]
    fn a_regular_file_at_the_path_is_kept() {
        let dir = TempDir::new("file");
        let path = dir.path("taken");
        std::fs::write(&path, "data").unwrap();
        assert_eq!(errno(listen_unix(bytes(&path), 16, false, false)), (libc::EADDRINUSE, "bind"));
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
    }

    #[test]
    fn access_bits_are_added_to_the_socket_file() {
        let dir = TempDir::new("mode");
        let mode_with = |file: &str, readable_all: bool, writable_all: bool| {
            let path = dir.path(file);
            let (fd, _) = listen_unix(bytes(&path), 16, readable_all, writable_all).unwrap();
            close(fd);
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
        };
        let plain = mode_with("plain.sock", false, false);
        assert_eq!(mode_with("w.sock", false, true), plain | 0o222);
        assert_eq!(mode_with("r.sock", true, false), plain | 0o444);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn abstract_names_leave_no_file_and_are_exclusive() {
        let name = format!("\0pyre-test-{}", std::process::id());
        let (fd, file) = listen_unix(name.as_bytes(), 16, false, false).unwrap();
        assert!(file.is_none());
        // Bound with the name's exact length, as libuv >= 1.48 (node 22) binds and connects.
        use std::os::linux::net::SocketAddrExt;
        let exact = std::os::unix::net::SocketAddr::from_abstract_name(&name.as_bytes()[1..]).unwrap();
        std::os::unix::net::UnixStream::connect_addr(&exact).unwrap();
        assert_eq!(errno(listen_unix(name.as_bytes(), 16, false, false)), (libc::EADDRINUSE, "bind"));
        close(fd);
    }

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

    fn assert_nonblocking_and_cloexec(fd: Socket) {
        // SAFETY: fcntl queries on a live descriptor.
        let (status, descriptor) = unsafe { (libc::fcntl(fd, libc::F_GETFL), libc::fcntl(fd, libc::F_GETFD)) };
        assert_ne!(status & libc::O_NONBLOCK, 0, "nonblocking");
        assert_ne!(descriptor & libc::FD_CLOEXEC, 0, "close-on-exec");
    }

    /// Both ways of accepting (accept4 here, accept + fcntl on macOS) give the same socket.
    #[test]
    fn accepted_sockets_are_nonblocking_close_on_exec_and_know_their_peer() {
        for accept_with in [accept, accept_then_set_flags] {
            let (listener, bound) = loopback_listener();
            assert_nonblocking_and_cloexec(listener);
            assert_eq!(accept_with(listener).unwrap_err().kind(), ErrorKind::WouldBlock, "nothing to accept yet");
            let client = std::net::TcpStream::connect(bound).unwrap();
            let (fd, peer) = until_ready(|| accept_with(listener)).unwrap();
            assert_nonblocking_and_cloexec(fd);
            assert_eq!(peer, Some(client.local_addr().unwrap()));
            assert_eq!(local_addr(fd), Some(bound));
            close(fd);
            close(listener);
        }
    }

    #[test]
    fn recv_send_and_shutdown_over_loopback() {
        let (listener, bound) = loopback_listener();
        let mut client = std::net::TcpStream::connect(bound).unwrap();
        let (fd, _) = until_ready(|| accept(listener)).unwrap();
        set_no_delay(fd);
        let mut buf = [MaybeUninit::<u8>::uninit(); 64];
        assert_eq!(recv(fd, &mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        assert_eq!(peek(fd).unwrap_err().kind(), ErrorKind::WouldBlock);
        client.write_all(b"ping").unwrap();
        assert_eq!(until_ready(|| peek(fd)).unwrap(), 1, "the peek sees the bytes");
        let n = until_ready(|| recv(fd, &mut buf)).unwrap();
        // SAFETY: recv initialised the first n bytes.
        assert_eq!(unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) }, b"ping");
        assert_eq!(send(fd, b"pong").unwrap(), 4);
        shutdown_write(fd);
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, b"pong", "the peer reads our bytes, then EOF");
        drop(client);
        assert_eq!(until_ready(|| peek(fd)).unwrap(), 0, "the peek sees the peer's end");
        assert_eq!(until_ready(|| recv(fd, &mut buf)).unwrap(), 0, "the peer's close is EOF");
        close(fd);
        close(listener);
    }

    #[test]
    fn a_send_to_a_reset_peer_is_an_error_not_a_signal() {
        let (listener, bound) = loopback_listener();
        let client = std::net::TcpStream::connect(bound).unwrap();
        let (fd, _) = until_ready(|| accept(listener)).unwrap();
        // Closing with a zero linger time resets the connection.
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: setsockopt with a pointer to a live linger struct and its size.
        let set = unsafe {
            use std::os::fd::AsRawFd;
            libc::setsockopt(client.as_raw_fd(), libc::SOL_SOCKET, libc::SO_LINGER, &linger as *const _ as *const _, std::mem::size_of::<libc::linger>() as libc::socklen_t)
        };
        assert_eq!(set, 0);
        drop(client);
        let deadline = Instant::now() + Duration::from_secs(2);
        let error = loop {
            match send(fd, &[0; 1024]) {
                Err(e) if e.kind() != ErrorKind::WouldBlock => break e,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                other => panic!("sending to a reset peer kept succeeding: {other:?}"),
            }
        };
        assert!([libc::ECONNRESET, libc::EPIPE].contains(&error.0), "{error:?}");
        assert_eq!(error.uv_errno(), -error.0);
        close(fd);
        close(listener);
    }

    #[test]
    fn a_taken_port_is_eaddrinuse_and_reuse_port_shares_it() {
        let (first, bound) = listen_tcp("127.0.0.1:0".parse().unwrap(), 16, false, true).unwrap();
        assert_eq!(errno(listen_tcp(bound, 16, false, false)), (libc::EADDRINUSE, "bind"));
        let (second, again) = listen_tcp(bound, 16, false, true).unwrap();
        assert_eq!(again, bound);
        close(second);
        close(first);
    }

    #[test]
    fn an_adopted_listener_is_made_nonblocking_and_a_socket_not_listening_is_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        assert_eq!(adopt_listener(listener.as_raw_fd()).map_err(|(e, call)| (e.0, call)), Ok(false));
        assert_nonblocking_and_cloexec(listener.as_raw_fd());
        let connected = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert_eq!(errno(adopt_listener(connected.as_raw_fd())), (libc::EINVAL, "listen"));
        let dir = TempDir::new("adopt");
        let (fd, _) = listen_unix(bytes(&dir.path("s.sock")), 16, false, false).unwrap();
        assert_eq!(adopt_listener(fd).map_err(|(e, call)| (e.0, call)), Ok(true));
        close(fd);
    }

    #[test]
    fn error_kinds() {
        assert_eq!(kind(libc::EAGAIN), ErrorKind::WouldBlock);
        assert_eq!(kind(libc::EWOULDBLOCK), ErrorKind::WouldBlock);
        assert_eq!(kind(libc::EINTR), ErrorKind::Interrupted);
        for out in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
            assert_eq!(kind(out), ErrorKind::OutOfResources);
        }
        assert_eq!(kind(libc::EAFNOSUPPORT), ErrorKind::FamilyUnsupported);
        assert_eq!(kind(libc::ECONNRESET), ErrorKind::Other);
        assert_eq!(Error::invalid_input().uv_errno(), -libc::EINVAL);
    }
}
