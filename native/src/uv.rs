//! The few libuv calls the engine needs, from the libuv inside the `node` binary, so the
//! engine's sockets live on Node's own event loop, on the main thread. How the symbols are
//! reached is the platform's (`sys::host_functions!`): by the dynamic linker on unix, looked up
//! in the running executable on Windows.

use std::os::raw::{c_int, c_void};

use crate::sys;

pub type Loop = napi::sys::uv_loop_s;

/// Opaque libuv handle; memory is allocated with `handle_size()` and freed in its close callback.
#[repr(C)]
pub struct Handle {
    _private: [u8; 0],
}

pub type PollCb = unsafe extern "C" fn(handle: *mut Handle, status: c_int, events: c_int);
pub type HandleCb = unsafe extern "C" fn(handle: *mut Handle);

pub const READABLE: c_int = 1;
pub const WRITABLE: c_int = 2;
/// The peer shut down its side (EPOLLRDHUP); errors and hangups are reported with any watched event.
pub const DISCONNECT: c_int = 4;

// uv_handle_type values (stable across libuv 1.x).
pub const CHECK: c_int = 2;
pub const POLL: c_int = 8;
pub const PREPARE: c_int = 9;
pub const TIMER: c_int = 13;

sys::host_functions! {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_handle_set_data(handle: *mut Handle, data: *mut c_void);
    fn uv_handle_get_data(handle: *const Handle) -> *mut c_void;
    /// A socket (a descriptor on unix, a `SOCKET` on Windows): libuv's portable poll set-up.
    pub fn uv_poll_init_socket(lp: *mut Loop, handle: *mut Handle, socket: sys::Socket) -> c_int;
    pub fn uv_poll_start(handle: *mut Handle, events: c_int, cb: PollCb) -> c_int;
    pub fn uv_poll_stop(handle: *mut Handle) -> c_int;
    pub fn uv_timer_init(lp: *mut Loop, handle: *mut Handle) -> c_int;
    pub fn uv_timer_start(handle: *mut Handle, cb: HandleCb, timeout: u64, repeat: u64) -> c_int;
    pub fn uv_timer_stop(handle: *mut Handle) -> c_int;
    pub fn uv_prepare_init(lp: *mut Loop, handle: *mut Handle) -> c_int;
    pub fn uv_prepare_start(handle: *mut Handle, cb: HandleCb) -> c_int;
    pub fn uv_check_init(lp: *mut Loop, handle: *mut Handle) -> c_int;
    pub fn uv_check_start(handle: *mut Handle, cb: HandleCb) -> c_int;
    pub fn uv_close(handle: *mut Handle, cb: HandleCb);
    pub fn uv_unref(handle: *mut Handle);
    pub fn uv_ref(handle: *mut Handle);
    pub fn uv_now(lp: *const Loop) -> u64;
}

/// Allocates zeroed memory for a handle of `kind`, with `data` attached.
pub fn alloc_handle(kind: c_int, data: *mut c_void) -> *mut Handle {
    // SAFETY: uv_handle_size is a pure lookup; calloc returns memory we own until close_and_free.
    unsafe {
        let handle = libc::calloc(1, uv_handle_size(kind)) as *mut Handle;
        assert!(!handle.is_null(), "out of memory allocating a libuv handle");
        uv_handle_set_data(handle, data);
        handle
    }
}

/// The `data` pointer given to `alloc_handle`.
pub fn data<T>(handle: *const Handle) -> *mut T {
    // SAFETY: every handle we create went through alloc_handle, which set its data.
    unsafe { uv_handle_get_data(handle) as *mut T }
}

/// Frees a handle's memory, from its close callback (libuv is done with it).
pub unsafe fn free_handle(handle: *mut Handle) {
    libc::free(handle as *mut c_void);
}

unsafe extern "C" fn on_close_free(handle: *mut Handle) {
    free_handle(handle);
}

/// Closes a handle and frees its memory once libuv is done with it.
pub fn close_and_free(handle: *mut Handle) {
    // SAFETY: the handle was initialised on the loop and is closed exactly once by its owner.
    unsafe { uv_close(handle, on_close_free) }
}

/// Stops a poll handle, closes its socket at once (as libuv does for its own TCP handles: a
/// stopped handle no longer watches it), and frees the handle once libuv lets go.
pub fn close_with_socket(handle: *mut Handle, socket: sys::Socket) {
    // SAFETY: the handle is live and closed exactly once; the socket is ours.
    unsafe {
        uv_poll_stop(handle);
        sys::close(socket);
        uv_close(handle, on_close_free);
    }
}
