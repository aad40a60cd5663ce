//! Reading arguments and making values for the engine's hand-written napi functions. The hot
//! calls (respond, write, end) avoid napi-rs's generated conversions, which allocate.

use std::cell::RefCell;
use std::ptr;

use napi::sys;

pub struct Args<const N: usize> {
    pub env: sys::napi_env,
    pub v: [sys::napi_value; N],
}

/// What a string-or-Buffer argument is for (each has its own scratch buffer, so a call can
/// hold several at once without allocating).
#[derive(Clone, Copy)]
pub enum BytesArg {
    Reason = 0,
    Head = 1,
    Body = 2,
}

/// Room tried first for a string argument (scratch buffers keep any larger capacity they grow).
const SHORT_STRING: usize = 1024;

thread_local! {
    static SCRATCH: RefCell<[Vec<u8>; 3]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Bytes of a string argument (UTF-8 or Latin-1), copied into a reusable scratch buffer, or of a
/// Buffer/Uint8Array argument, read in place: a large body is not copied on its way in.
pub struct Bytes {
    slot: BytesArg,
    buf: Vec<u8>,
    /// A Uint8Array's own memory (pointer, length). Valid until the napi call returns: the
    /// argument keeps its ArrayBuffer alive, V8 never moves a backing store that napi has handed
    /// out, and the engine runs no JavaScript inside a call from JavaScript.
    in_place: Option<(*const u8, usize)>,
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self.in_place {
            // SAFETY: see `in_place`; the Bytes never outlives the call whose argument it reads.
            Some((data, len)) => unsafe { std::slice::from_raw_parts(data, len) },
            None => &self.buf,
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if self.in_place.is_none() {
            let buf = std::mem::take(&mut self.buf);
            SCRATCH.with(|s| s.borrow_mut()[self.slot as usize] = buf);
        }
    }
}

/// Copies a string argument into `buf`: heads as Latin-1, as node writes them (their values are
/// checked to be single bytes), bodies as UTF-8.
///
/// # Safety
/// `value` must be a live string value of the current napi call.
unsafe fn copy_string(env: sys::napi_env, value: sys::napi_value, slot: BytesArg, buf: &mut Vec<u8>) {
    let read = if matches!(slot, BytesArg::Body) {
        sys::napi_get_value_string_utf8
    } else {
        sys::napi_get_value_string_latin1
    };
    // Try the scratch buffer's room first: one call for the common short string. A truncated
    // UTF-8 copy stops within 4 bytes of the end (a NUL and at most a 3-byte partial
    // character), so anything shorter is complete.
    buf.reserve(SHORT_STRING);
    let mut written = 0usize;
    read(env, value, buf.as_mut_ptr().cast(), buf.capacity(), &mut written);
    if written + 4 >= buf.capacity() {
        let mut len = 0usize;
        read(env, value, ptr::null_mut(), 0, &mut len);
        buf.reserve(len + 1);
        read(env, value, buf.as_mut_ptr().cast(), len + 1, &mut written);
    }
    buf.set_len(written);
}

impl<const N: usize> Args<N> {
    /// # Safety
    /// `env` and `info` must come from the current napi callback.
    pub unsafe fn get(env: sys::napi_env, info: sys::napi_callback_info) -> Self {
        let mut v = [ptr::null_mut(); N];
        let mut argc = N;
        sys::napi_get_cb_info(env, info, &mut argc, v.as_mut_ptr(), ptr::null_mut(), ptr::null_mut());
        if argc < N {
            let mut undef = ptr::null_mut();
            sys::napi_get_undefined(env, &mut undef);
            for slot in v.iter_mut().skip(argc) {
                *slot = undef;
            }
        }
        Args { env, v }
    }

    pub fn f64(&self, i: usize) -> f64 {
        let mut out = 0.0;
        // SAFETY: reading a number from a live argument; non-numbers leave 0.
        unsafe { sys::napi_get_value_double(self.env, self.v[i], &mut out) };
        out
    }

    pub fn u32(&self, i: usize) -> u32 {
        let x = self.f64(i);
        if x.is_finite() && x >= 0.0 {
            x as u32
        } else {
            0
        }
    }

    pub fn bool(&self, i: usize) -> bool {
        let mut out = false;
        // SAFETY: reading a boolean from a live argument; non-booleans leave false.
        unsafe { sys::napi_get_value_bool(self.env, self.v[i], &mut out) };
        out
    }

    pub fn string(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.bytes(i, BytesArg::Reason)).into_owned()
    }

    /// A string (as UTF-8) or Buffer/Uint8Array argument; anything else is empty.
    pub fn bytes(&self, i: usize, slot: BytesArg) -> Bytes {
        let env = self.env;
        let value = self.v[i];
        let mut kind = 0;
        // SAFETY: type query on a live argument.
        unsafe { sys::napi_typeof(env, value, &mut kind) };
        if kind == sys::ValueType::napi_object {
            return Bytes { slot, buf: Vec::new(), in_place: Some(self.uint8_array(value).unwrap_or((ptr::null(), 0))) };
        }
        let mut buf = SCRATCH.with(|s| std::mem::take(&mut s.borrow_mut()[slot as usize]));
        buf.clear();
        if kind == sys::ValueType::napi_string {
            // SAFETY: the string copy writes at most the capacity it is given into our own
            // buffer, then commits exactly what napi reports written.
            unsafe { copy_string(env, value, slot, &mut buf) };
        }
        Bytes { slot, buf, in_place: None }
    }

    /// The memory of a Uint8Array (a Buffer) argument, or None for any other object.
    fn uint8_array(&self, value: sys::napi_value) -> Option<(*const u8, usize)> {
        let mut is_typed = false;
        let mut ta_kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        let mut array_buffer = ptr::null_mut();
        let mut offset = 0usize;
        // SAFETY: type-checked reads of a live argument's typed-array description.
        unsafe {
            sys::napi_is_typedarray(self.env, value, &mut is_typed);
            if !is_typed {
                return None;
            }
            sys::napi_get_typedarray_info(self.env, value, &mut ta_kind, &mut len, &mut data, &mut array_buffer, &mut offset);
        }
        (ta_kind == sys::TypedarrayType::uint8_array && !data.is_null()).then_some((data as *const u8, len))
    }

    pub fn prop(&self, obj: sys::napi_value, name: &str) -> Option<sys::napi_value> {
        let key = std::ffi::CString::new(name).ok()?;
        let mut v = ptr::null_mut();
        let mut kind = 0;
        // SAFETY: property read on a live object.
        unsafe {
            if sys::napi_get_named_property(self.env, obj, key.as_ptr(), &mut v) != sys::Status::napi_ok {
                return None;
            }
            sys::napi_typeof(self.env, v, &mut kind);
        }
        (kind != sys::ValueType::napi_undefined).then_some(v)
    }

    pub fn prop_f64(&self, obj: sys::napi_value, name: &str) -> Option<f64> {
        let v = self.prop(obj, name)?;
        let mut out = 0.0;
        // SAFETY: reading a number from a live value.
        (unsafe { sys::napi_get_value_double(self.env, v, &mut out) } == sys::Status::napi_ok).then_some(out)
    }

    pub fn prop_bool(&self, obj: sys::napi_value, name: &str) -> Option<bool> {
        let v = self.prop(obj, name)?;
        let mut out = false;
        // SAFETY: reading a boolean from a live value.
        (unsafe { sys::napi_get_value_bool(self.env, v, &mut out) } == sys::Status::napi_ok).then_some(out)
    }

    pub fn object(&self) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: creating a value in the current callback's scope.
        unsafe { sys::napi_create_object(self.env, &mut v) };
        v
    }

    pub fn array(&self, len: usize) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: creating a value in the current callback's scope.
        unsafe { sys::napi_create_array_with_length(self.env, len, &mut v) };
        v
    }

    pub fn u32_value(&self, n: u32) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: creating a value in the current callback's scope.
        unsafe { sys::napi_create_uint32(self.env, n, &mut v) };
        v
    }

    pub fn f64_value(&self, n: f64) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: creating a value in the current callback's scope.
        unsafe { sys::napi_create_double(self.env, n, &mut v) };
        v
    }

    pub fn bool_value(&self, b: bool) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: getting a singleton in the current callback's scope.
        unsafe { sys::napi_get_boolean(self.env, b, &mut v) };
        v
    }

    pub fn latin1_value(&self, bytes: &[u8]) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: creating a string of explicit length in the current callback's scope.
        unsafe { sys::napi_create_string_latin1(self.env, bytes.as_ptr().cast(), bytes.len() as isize, &mut v) };
        v
    }

    pub fn set_element_latin1(&self, arr: sys::napi_value, i: usize, bytes: &[u8]) {
        let mut v = ptr::null_mut();
        // SAFETY: creating a string of explicit length and storing it in a live array.
        unsafe {
            sys::napi_create_string_latin1(self.env, bytes.as_ptr().cast(), bytes.len() as isize, &mut v);
            sys::napi_set_element(self.env, arr, i as u32, v);
        }
    }

    pub fn set_str(&self, obj: sys::napi_value, name: &str, value: &str) {
        let mut v = ptr::null_mut();
        let key = std::ffi::CString::new(name).unwrap_or_default();
        // SAFETY: creating a string of explicit length and storing it on a live object.
        unsafe {
            sys::napi_create_string_utf8(self.env, value.as_ptr().cast(), value.len() as isize, &mut v);
            sys::napi_set_named_property(self.env, obj, key.as_ptr(), v);
        }
    }

    pub fn set_f64(&self, obj: sys::napi_value, name: &str, value: f64) {
        let mut v = ptr::null_mut();
        let key = std::ffi::CString::new(name).unwrap_or_default();
        // SAFETY: creating a number and storing it on a live object.
        unsafe {
            sys::napi_create_double(self.env, value, &mut v);
            sys::napi_set_named_property(self.env, obj, key.as_ptr(), v);
        }
    }
}
