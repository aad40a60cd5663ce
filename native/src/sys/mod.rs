//! Every socket call the engine makes, behind one small interface with one file per OS family:
//! `unix.rs` (Linux, macOS and the BSDs) and `windows.rs` (Winsock). The server and connection
//! code call only what is here, so they hold no platform branches; each backend implements the
//! functions below under the same names, and says how the host's libuv is reached.
//!
//! Sockets are the OS's raw handles (a descriptor, or a Winsock `SOCKET`), owned by whoever
//! holds them and closed exactly once with `close`. Every socket made here is nonblocking and
//! not inherited by child processes.

use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::raw::c_int;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

/// `host_functions! { fn uv_name(args) -> ret; ... }` declares C functions that the host
/// executable (node) exports, called like any `extern "C"` function: linked at load time on
/// unix, looked up in the running executable on Windows.
pub(crate) use os::host_functions;
#[cfg(windows)]
pub use os::host_symbol;

/// A socket handle as the OS names it; what libuv's `uv_poll_init_socket` takes.
pub type Socket = os::Socket;

/// The file a path listener created, removed when it stops listening (as node does).
pub use os::SocketFile;

/// A failed socket call: the OS's own error code (`errno`, or `WSAGetLastError()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(os::Code);

/// What the engine does differently depending on an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing to read, or no room to write: wait for the next poll event.
    WouldBlock,
    /// A signal interrupted the call: repeat it.
    Interrupted,
    /// The process or system is out of descriptors or buffers: accepting cannot go on for now.
    OutOfResources,
    /// The address family is not available on this machine (no IPv6).
    FamilyUnsupported,
    /// Anything else: the connection, or the attempt to listen, has failed.
    Other,
}

impl Error {
    /// The error of the socket call that just failed on this thread.
    pub fn last() -> Error {
        Error(os::last_error())
    }

    /// An argument the OS would refuse (an unresolvable host, a bad socket path).
    pub fn invalid_input() -> Error {
        Error(os::INVALID_INPUT)
    }

    pub fn kind(self) -> ErrorKind {
        os::kind(self.0)
    }

    /// The error as libuv numbers it (negative), which node's `util.getSystemErrorMap()` names:
    /// `-errno` on unix, libuv's translation of the Winsock code on Windows.
    pub fn uv_errno(self) -> i32 {
        os::uv_errno(self.0)
    }
}

/// A failed listen: the error and the system call that failed.
pub type ListenError = (Error, &'static str);

/// Runs the set-up steps of a fresh socket; closes the socket if one fails (for the backends).
fn set_up_or_close<T>(socket: Socket, steps: impl FnOnce() -> Result<T, ListenError>) -> Result<T, ListenError> {
    steps().inspect_err(|_| close(socket))
}

/// A TCP socket bound to `addr` and listening; returns it with the address it was bound to
/// (the port the OS chose for port 0). `reuse_port` balances connections between processes
/// that listen on the same port, where the OS can (Linux); elsewhere it is an error.
pub fn listen_tcp(addr: SocketAddr, backlog: i32, ipv6_only: bool, reuse_port: bool) -> Result<(Socket, SocketAddr), ListenError> {
    os::listen_tcp(addr, backlog.max(1), ipv6_only, reuse_port)
}

/// A unix domain socket listening at `path` (a file path, or on Linux an abstract name that
/// starts with a NUL byte), with its socket file if one was created. An existing file at the
/// path is an error (EADDRINUSE), never removed. `readable_all`/`writable_all` open the file
/// to every user, as node's options of those names do.
pub fn listen_unix(path: &[u8], backlog: i32, readable_all: bool, writable_all: bool) -> Result<(Socket, Option<SocketFile>), ListenError> {
    os::listen_unix(path, backlog.max(1), readable_all, writable_all)
}

/// Takes over a socket this process was handed already bound and listening (by a supervisor,
/// or systemd): it is made nonblocking and not inherited. Returns whether it is a unix domain
/// socket. A socket that is not listening is an error (EINVAL).
pub fn adopt_listener(socket: Socket) -> Result<bool, ListenError> {
    os::adopt_listener(socket)
}

/// The next connection waiting on a listening socket, nonblocking and not inherited, with the
/// peer's address (none for a unix domain socket).
#[inline]
pub fn accept(listener: Socket) -> Result<(Socket, Option<SocketAddr>), Error> {
    os::accept(listener)
}

/// Turns off Nagle's algorithm, so small responses go out at once (node's `noDelay`).
pub fn set_no_delay(socket: Socket) {
    os::set_no_delay(socket)
}

/// One read into `buf`; returns how many bytes were received (0: the peer finished sending),
/// which are then initialised.
#[inline]
pub fn recv(socket: Socket, buf: &mut [MaybeUninit<u8>]) -> Result<usize, Error> {
    os::recv(socket, buf)
}

/// Looks at the next byte without taking it: 1 when bytes are waiting, 0 when the peer's end is
/// next (nothing before it), an error for a reset (WouldBlock: neither yet).
pub fn peek(socket: Socket) -> Result<usize, Error> {
    os::peek(socket)
}

/// Bytes from the peer are waiting to be read (a one-byte peek that leaves them queued).
pub fn has_input(socket: Socket) -> bool {
    matches!(peek(socket), Ok(1..))
}

/// One write from `buf`; returns how many bytes the OS took. A reset peer is an error, never a
/// signal.
#[inline]
pub fn send(socket: Socket, buf: &[u8]) -> Result<usize, Error> {
    os::send(socket, buf)
}

/// One write of `first` and then `second` (a gather write, so a large body follows the output
/// before it without being copied behind it); returns how many bytes the OS took in all.
#[inline]
pub fn send_pair(socket: Socket, first: &[u8], second: &[u8]) -> Result<usize, Error> {
    os::send_pair(socket, first, second)
}

/// Ends our sending side (the peer reads EOF) while still reading.
pub fn shutdown_write(socket: Socket) {
    os::shutdown_write(socket)
}

pub fn close(socket: Socket) {
    os::close(socket)
}

/// Makes the coming `close` a reset (RST, unsent data dropped) rather than a FIN: SO_LINGER 0.
pub fn reset_on_close(socket: Socket) {
    os::reset_on_close(socket)
}

/// The local address of a TCP socket.
pub fn local_addr(socket: Socket) -> Option<SocketAddr> {
    os::local_addr(socket)
}

/// One write to an output descriptor (a file or a pipe, not a socket: the access log's).
pub fn write_output(fd: c_int, buf: &[u8]) -> Result<usize, ErrorKind> {
    os::write_output(fd, buf)
}

/// Waits at most `ms` milliseconds for an output descriptor that would block to take more.
pub fn wait_output(fd: c_int, ms: i32) {
    os::wait_output(fd, ms)
}
