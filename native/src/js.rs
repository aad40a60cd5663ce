//! Calling JavaScript from the engine's libuv callbacks: references to the server's callback
//! functions, and the handle + callback scopes that make promises and `process.nextTick`
//! settle before the engine writes (see ENGINE-NOTES: one callback scope per readable event).

use std::cell::Cell;
use std::ptr;

use napi::sys;

/// A value-or-nothing helper for napi calls whose failure leaves nothing to do but skip.
pub fn ok(status: sys::napi_status) -> bool {
    status == sys::Status::napi_ok
}

/// The JavaScript functions a server calls, held by reference, plus the async context its
/// callback scopes run in.
pub struct Callbacks {
    pub env: sys::napi_env,
    receiver: sys::napi_ref,
    fns: [sys::napi_ref; CALLBACK_NAMES.len()],
    async_context: sys::napi_async_context,
}

pub const CALLBACK_NAMES: [&str; 9] = [
    "onRequest",
    "onData",
    "onEnd",
    "onAbort",
    "onDrain",
    "onIdle",
    "onConnection",
    "onConnectionClose",
    "onClientError",
];

#[derive(Clone, Copy)]
pub enum Cb {
    Request = 0,
    Data = 1,
    End = 2,
    Abort = 3,
    Drain = 4,
    Idle = 5,
    /// The connection events below are called only for servers that watch them (server.rs `watch`).
    Connection = 6,
    ConnectionClose = 7,
    ClientError = 8,
}

impl Callbacks {
    /// Reads the callback functions off `object` and keeps them alive.
    ///
    /// # Safety
    /// `env` and `object` must be valid for the current napi call.
    pub unsafe fn new(env: sys::napi_env, object: sys::napi_value) -> Result<Callbacks, String> {
        let mut fns = [ptr::null_mut(); CALLBACK_NAMES.len()];
        for (slot, name) in fns.iter_mut().zip(CALLBACK_NAMES) {
            let key = std::ffi::CString::new(name).unwrap();
            let mut value = ptr::null_mut();
            let mut kind = 0;
            if !ok(sys::napi_get_named_property(env, object, key.as_ptr(), &mut value))
                || !ok(sys::napi_typeof(env, value, &mut kind))
                || kind != sys::ValueType::napi_function
            {
                return Err(format!("callbacks.{name} must be a function"));
            }
            sys::napi_create_reference(env, value, 1, slot);
        }
        let mut receiver = ptr::null_mut();
        sys::napi_create_reference(env, object, 1, &mut receiver);
        let mut name = ptr::null_mut();
        sys::napi_create_string_utf8(env, c"pyre".as_ptr(), 4, &mut name);
        let mut async_context = ptr::null_mut();
        sys::napi_async_init(env, object, name, &mut async_context);
        Ok(Callbacks { env, receiver, fns, async_context })
    }

    /// Calls one callback. A JavaScript exception is reported as uncaught, like an exception
    /// thrown from an event listener: the engine carries on.
    ///
    /// The first call in a Scope runs through napi_make_callback, whose callback scope lives on
    /// the stack and drains microtasks and ticks when the call returns; most readable events
    /// make one call, and that costs far less than a callback scope opened through napi (two
    /// heap allocations). A second call opens one callback scope for the rest of the Scope.
    pub fn call(&self, cb: Cb, args: &[sys::napi_value]) {
        // SAFETY: only called on the main thread inside a Scope opened on this env.
        unsafe {
            let env = self.env;
            let mut recv = ptr::null_mut();
            let mut func = ptr::null_mut();
            sys::napi_get_reference_value(env, self.receiver, &mut recv);
            sys::napi_get_reference_value(env, self.fns[cb as usize], &mut func);
            let mut result = ptr::null_mut();
            let calls = SCOPE_CALLS.with(Cell::get);
            let status = if calls.count == 0 {
                SCOPE_CALLS.with(|c| c.set(ScopeCalls { count: 1, ..calls }));
                let (argc, argv) = (args.len(), args.as_ptr());
                sys::napi_make_callback(env, self.async_context, recv, func, argc, argv, &mut result)
            } else {
                let mut callback_scope = calls.callback_scope;
                if callback_scope.is_null() {
                    sys::napi_open_callback_scope(env, recv, self.async_context, &mut callback_scope);
                }
                SCOPE_CALLS.with(|c| c.set(ScopeCalls { count: calls.count + 1, callback_scope }));
                sys::napi_call_function(env, recv, func, args.len(), args.as_ptr(), &mut result)
            };
            if status == sys::Status::napi_pending_exception {
                let mut err = ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut err);
                sys::napi_fatal_exception(env, err);
            }
        }
    }

    /// Opens the scope JavaScript calls need (see `call` for the callback scope); closing it
    /// when the guard drops runs queued microtasks and nextTick callbacks.
    pub fn scope(&self) -> Scope {
        let mut handle_scope = ptr::null_mut();
        // SAFETY: main thread.
        unsafe { sys::napi_open_handle_scope(self.env, &mut handle_scope) };
        let outer = SCOPE_CALLS.with(|c| c.replace(ScopeCalls::NONE));
        Scope { env: self.env, handle_scope, outer }
    }

    pub fn undefined(&self) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: main thread, inside a scope.
        unsafe { sys::napi_get_undefined(self.env, &mut v) };
        v
    }

    pub fn number(&self, n: f64) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: main thread, inside a scope.
        unsafe { sys::napi_create_double(self.env, n, &mut v) };
        v
    }

    /// A string from bytes that are ASCII or Latin-1 (how node decodes request heads).
    pub fn latin1(&self, bytes: &[u8]) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: main thread, inside a scope; the length is given explicitly.
        unsafe { sys::napi_create_string_latin1(self.env, bytes.as_ptr().cast(), bytes.len() as isize, &mut v) };
        v
    }

    /// A new Buffer holding a copy of `bytes`.
    pub fn buffer(&self, bytes: &[u8]) -> sys::napi_value {
        let mut v = ptr::null_mut();
        let mut data = ptr::null_mut();
        // SAFETY: main thread, inside a scope; napi copies `bytes` before returning.
        unsafe { sys::napi_create_buffer_copy(self.env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut v) };
        v
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        // SAFETY: main thread; each reference was created by Callbacks::new.
        unsafe {
            sys::napi_async_destroy(self.env, self.async_context);
            sys::napi_delete_reference(self.env, self.receiver);
            for r in self.fns {
                sys::napi_delete_reference(self.env, r);
            }
        }
    }
}

/// The JavaScript calls made in the innermost open Scope, and the callback scope its second
/// call opened.
#[derive(Clone, Copy)]
struct ScopeCalls {
    count: u32,
    callback_scope: sys::napi_callback_scope,
}

impl ScopeCalls {
    const NONE: ScopeCalls = ScopeCalls { count: 0, callback_scope: ptr::null_mut() };
}

thread_local! {
    static SCOPE_CALLS: Cell<ScopeCalls> = const { Cell::new(ScopeCalls::NONE) };
}

pub struct Scope {
    env: sys::napi_env,
    handle_scope: sys::napi_handle_scope,
    /// The enclosing Scope's calls, current again when this one closes.
    outer: ScopeCalls,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let calls = SCOPE_CALLS.with(|c| c.replace(self.outer));
        // SAFETY: closes the scopes this Scope opened, innermost first.
        unsafe {
            if !calls.callback_scope.is_null() {
                sys::napi_close_callback_scope(self.env, calls.callback_scope);
            }
            sys::napi_close_handle_scope(self.env, self.handle_scope);
        }
    }
}
