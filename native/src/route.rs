//! Routing inside the engine: a request reaches JavaScript already matched, with its converted
//! parameters, when its server has a router (the framework's route table, router.rs).

use std::ptr;

use napi::sys;

use crate::router::{self, Lookup, Param};
use crate::server::Server;

/// Route ids JavaScript receives when nothing matched.
const NOT_FOUND: f64 = -1.0;
const METHOD_NOT_ALLOWED: f64 = -2.0;
/// Parameters passed as call arguments; more than this travel as one array.
pub const INLINE_PARAMS: usize = 4;

/// Appends onRequest's routing arguments: the route id, the parameter count, then the
/// parameters themselves (or one array of them when there are more than INLINE_PARAMS).
/// Separate arguments cost far less than filling a napi array element by element.
pub fn push_route_args(server: &Server, method: &[u8], target: &[u8], args: &mut Vec<sys::napi_value>) {
    let cbs = &server.callbacks;
    let path = crate::parser::target_path(target);
    match router::lookup(server.limits.router, method, path) {
        Lookup::Found { route, params } => {
            args.push(cbs.number(route as f64));
            args.push(cbs.number(params.len() as f64));
            if params.len() <= INLINE_PARAMS {
                args.extend(params.iter().map(|p| param_value(cbs.env, p)));
            } else {
                let mut array = ptr::null_mut();
                // SAFETY: main thread, inside the caller's scope.
                unsafe {
                    sys::napi_create_array_with_length(cbs.env, params.len(), &mut array);
                    for (i, p) in params.iter().enumerate() {
                        sys::napi_set_element(cbs.env, array, i as u32, param_value(cbs.env, p));
                    }
                }
                args.push(array);
            }
        }
        Lookup::MethodNotAllowed => args.extend([cbs.number(METHOD_NOT_ALLOWED), cbs.number(0.0)]),
        Lookup::NotFound => args.extend([cbs.number(NOT_FOUND), cbs.number(0.0)]),
    }
}

fn param_value(env: sys::napi_env, param: &Param) -> sys::napi_value {
    let mut v = ptr::null_mut();
    // SAFETY: main thread, inside the caller's scope; lengths are explicit.
    unsafe {
        match param {
            // ASCII (the common case) makes V8's cheapest one-byte string.
            Param::Str(s) if s.is_ascii() => {
                sys::napi_create_string_latin1(env, s.as_ptr().cast(), s.len() as isize, &mut v)
            }
            // Decoded escapes: UTF-8, checked by the router.
            Param::Str(s) => sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v),
            Param::Int(n) => sys::napi_create_double(env, *n as f64, &mut v),
            Param::Float(x) => sys::napi_create_double(env, *x, &mut v),
        };
    }
    v
}
