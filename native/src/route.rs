//! Routing inside the engine: a request reaches JavaScript already matched, with its converted
//! parameters, when its server has a router (the framework's route table, router.rs).

use std::ptr;

use napi::sys;

use crate::router::{self, Lookup, Param};
use crate::server::Server;

/// Route ids JavaScript receives when nothing matched.
const NOT_FOUND: f64 = -1.0;
const METHOD_NOT_ALLOWED: f64 = -2.0;

/// The `route` and `params` arguments of onRequest.
pub fn route_args(server: &Server, method: &[u8], target: &[u8]) -> (sys::napi_value, sys::napi_value) {
    let cbs = &server.callbacks;
    let env = cbs.env;
    let path = crate::parser::target_path(target);
    // Methods are tokens (validated ASCII), so this never fails.
    let method = std::str::from_utf8(method).unwrap_or("");
    let mut params_value = ptr::null_mut();
    let route = match router::lookup(server.limits.router, method, path) {
        Lookup::Found { route, params } => {
            // SAFETY: main thread, inside the caller's scope.
            unsafe {
                sys::napi_create_array_with_length(env, params.len(), &mut params_value);
                for (i, param) in params.iter().enumerate() {
                    let mut v = ptr::null_mut();
                    match param {
                        Param::Str(s) => sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v),
                        Param::Int(n) => sys::napi_create_double(env, *n as f64, &mut v),
                        Param::Float(x) => sys::napi_create_double(env, *x, &mut v),
                    };
                    sys::napi_set_element(env, params_value, i as u32, v);
                }
            }
            route as f64
        }
        Lookup::MethodNotAllowed => METHOD_NOT_ALLOWED,
        Lookup::NotFound => NOT_FOUND,
    };
    if params_value.is_null() {
        // SAFETY: main thread, inside the caller's scope.
        unsafe { sys::napi_get_undefined(env, &mut params_value) };
    }
    (cbs.number(route), params_value)
}
