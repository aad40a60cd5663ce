//! The framework's route table: a segment trie with typed path parameters.
//!
//! A pattern such as `/users/{id:int}/files/{rest:path}` is split on `/`; each segment is a
//! static text, a typed parameter that takes one whole segment, or (last only) a `path`
//! parameter that takes the rest of the path. Request paths are split the same way and each
//! segment is percent-decoded on its own, so `%2F` never splits a segment. At each node the
//! lookup tries the static child first, then typed parameters (int, float, uuid, user
//! converters in registration order), then `string`, then `path`, backtracking when a branch
//! finds nothing. A value that does not convert does not match.
//!
//! Routers live in a thread-local registry keyed by an `i32` id: everything runs on Node's
//! main thread, and the engine looks routes up without crossing into JavaScript.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use napi::bindgen_prelude::Either;
use napi::{Error, Result, Status};
use napi_derive::napi;
use regex::Regex;
use smallvec::SmallVec;

use crate::server::IdHasher;

/// A converted path parameter. Text is UTF-8 bytes; it borrows the request path unless escapes
/// had to be decoded, so a lookup allocates nothing in the common case.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    Str(Cow<'a, [u8]>),
    Int(i64),
    Float(f64),
}

impl Param<'_> {
    /// The value as JavaScript receives it.
    fn into_js(self) -> Either<String, f64> {
        match self {
            // Text parameters are UTF-8 by construction (see percent_decode).
            Param::Str(bytes) => Either::A(String::from_utf8_lossy(&bytes).into_owned()),
            Param::Int(i) => Either::B(i as f64),
            Param::Float(f) => Either::B(f),
        }
    }
}

/// The parameters of a match, inline up to a number routes rarely exceed.
pub type Params<'a> = SmallVec<[Param<'a>; 4]>;

/// The outcome of a lookup.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    Found {
        route: u32,
        params: Params<'a>,
    },
    /// Some route matches the path, none of them the method.
    MethodNotAllowed,
    NotFound,
}

/// Largest integer JavaScript represents exactly: `int` values beyond it do not match.
const MAX_SAFE_INT: i64 = (1 << 53) - 1;

/// How a parameter segment converts. The derived order is the lookup priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Conv {
    Int,
    Float,
    Uuid,
    Custom(u32),
    Str,
}

/// One segment of a pattern, as stored in the trie.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SegKey {
    Static(Box<[u8]>),
    Param(Conv),
    Rest,
}

#[derive(Debug)]
struct Endpoint {
    route: u32,
    methods: Vec<String>,
}

#[derive(Debug, Default)]
struct Node {
    /// Sorted by key for binary search.
    statics: Vec<(Box<[u8]>, Node)>,
    /// Sorted by converter priority.
    params: Vec<(Conv, Node)>,
    rest: Option<Box<Node>>,
    endpoints: Vec<Endpoint>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.statics.is_empty() && self.params.is_empty() && self.rest.is_none() && self.endpoints.is_empty()
    }

    fn child(&self, key: &SegKey) -> Option<&Node> {
        match key {
            SegKey::Static(text) => {
                self.statics.binary_search_by(|(k, _)| k.as_ref().cmp(text)).ok().map(|i| &self.statics[i].1)
            }
            SegKey::Param(conv) => self.params.iter().find(|(c, _)| c == conv).map(|(_, n)| n),
            SegKey::Rest => self.rest.as_deref(),
        }
    }

    fn child_or_insert(&mut self, key: &SegKey) -> &mut Node {
        match key {
            SegKey::Static(text) => {
                let i = match self.statics.binary_search_by(|(k, _)| k.as_ref().cmp(text)) {
                    Ok(i) => i,
                    Err(i) => {
                        self.statics.insert(i, (text.clone(), Node::default()));
                        i
                    }
                };
                &mut self.statics[i].1
            }
            SegKey::Param(conv) => {
                let i = match self.params.binary_search_by(|(c, _)| c.cmp(conv)) {
                    Ok(i) => i,
                    Err(i) => {
                        self.params.insert(i, (*conv, Node::default()));
                        i
                    }
                };
                &mut self.params[i].1
            }
            SegKey::Rest => self.rest.get_or_insert_with(Box::default),
        }
    }

    /// Removes `route` from the node at `keys`, pruning nodes left empty. True if it was there.
    fn remove(&mut self, keys: &[SegKey], route: u32) -> bool {
        let Some((key, deeper)) = keys.split_first() else {
            let before = self.endpoints.len();
            self.endpoints.retain(|e| e.route != route);
            return self.endpoints.len() != before;
        };
        let removed;
        match key {
            SegKey::Static(text) => {
                let Ok(i) = self.statics.binary_search_by(|(k, _)| k.as_ref().cmp(text)) else { return false };
                removed = self.statics[i].1.remove(deeper, route);
                if self.statics[i].1.is_empty() {
                    self.statics.remove(i);
                }
            }
            SegKey::Param(conv) => {
                let Some(i) = self.params.iter().position(|(c, _)| c == conv) else { return false };
                removed = self.params[i].1.remove(deeper, route);
                if self.params[i].1.is_empty() {
                    self.params.remove(i);
                }
            }
            SegKey::Rest => {
                let Some(child) = self.rest.as_mut() else { return false };
                removed = child.remove(deeper, route);
                if child.is_empty() {
                    self.rest = None;
                }
            }
        }
        removed
    }
}

/// What the router remembers about a route, to remove it and to name it in conflicts.
#[derive(Debug)]
struct RouteInfo {
    pattern: String,
    methods: Vec<String>,
    keys: Vec<SegKey>,
}

#[derive(Debug, Default)]
pub struct Router {
    root: Node,
    converters: Vec<(String, Regex)>,
    routes: HashMap<u32, RouteInfo>,
    next_route: u32,
}

const BUILTIN_CONVERTERS: [&str; 5] = ["string", "int", "float", "uuid", "path"];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn describe(methods: &[String], pattern: &str) -> String {
    format!("{} {}", methods.join(","), pattern)
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a converter whose values are whole segments matching `pattern` (anchored).
    pub fn add_converter(&mut self, name: &str, pattern: &str) -> std::result::Result<(), String> {
        if !is_identifier(name) {
            return Err(format!("converter name `{name}` must be an identifier"));
        }
        if BUILTIN_CONVERTERS.contains(&name) || self.converters.iter().any(|(n, _)| n == name) {
            return Err(format!("converter `{name}` is already defined"));
        }
        let regex =
            Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("converter `{name}`: invalid pattern: {e}"))?;
        self.converters.push((name.to_owned(), regex));
        Ok(())
    }

    /// Parses a pattern into trie keys.
    fn parse(&self, pattern: &str) -> std::result::Result<Vec<SegKey>, String> {
        let Some(body) = pattern.strip_prefix('/') else {
            return Err(format!("route pattern `{pattern}` must start with `/`"));
        };
        let segments: Vec<&str> = body.split('/').collect();
        let mut names: Vec<&str> = Vec::new();
        let mut keys = Vec::with_capacity(segments.len());
        for (i, segment) in segments.iter().enumerate() {
            let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                if segment.contains(['{', '}']) {
                    return Err(format!(
                        "route pattern `{pattern}`: a parameter must fill its whole segment, found `{segment}`"
                    ));
                }
                keys.push(SegKey::Static(segment.as_bytes().into()));
                continue;
            };
            let (name, converter) = inner.split_once(':').unwrap_or((inner, "string"));
            if !is_identifier(name) {
                return Err(format!("route pattern `{pattern}`: parameter name `{name}` must be an identifier"));
            }
            if names.contains(&name) {
                return Err(format!("route pattern `{pattern}`: parameter `{name}` appears twice"));
            }
            names.push(name);
            keys.push(match converter {
                "string" => SegKey::Param(Conv::Str),
                "int" => SegKey::Param(Conv::Int),
                "float" => SegKey::Param(Conv::Float),
                "uuid" => SegKey::Param(Conv::Uuid),
                "path" if i + 1 == segments.len() => SegKey::Rest,
                "path" => return Err(format!("route pattern `{pattern}`: `{{{name}:path}}` must be the last segment")),
                other => match self.converters.iter().position(|(n, _)| n == other) {
                    Some(index) => SegKey::Param(Conv::Custom(index as u32)),
                    None => return Err(format!("route pattern `{pattern}`: unknown converter `{other}`")),
                },
            });
        }
        Ok(keys)
    }

    fn node_at(&self, keys: &[SegKey]) -> Option<&Node> {
        keys.iter().try_fold(&self.root, |node, key| node.child(key))
    }

    /// The route that would match the same requests as `methods pattern`, if any.
    pub fn conflict(&self, methods: &[String], pattern: &str) -> std::result::Result<Option<u32>, String> {
        let keys = self.parse(pattern)?;
        Ok(self.conflict_at(&keys, methods))
    }

    fn conflict_at(&self, keys: &[SegKey], methods: &[String]) -> Option<u32> {
        let node = self.node_at(keys)?;
        node.endpoints.iter().find(|e| e.methods.iter().any(|m| methods.contains(m))).map(|e| e.route)
    }

    /// Adds a route and returns its id. Route ids are never reused.
    pub fn add(&mut self, methods: &[String], pattern: &str) -> std::result::Result<u32, String> {
        if methods.is_empty() {
            return Err(format!("route `{pattern}` needs at least one method"));
        }
        if let Some(bad) = methods
            .iter()
            .find(|m| m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)))
        {
            return Err(format!("route `{pattern}`: `{bad}` is not a valid method"));
        }
        let keys = self.parse(pattern)?;
        if let Some(other) = self.conflict_at(&keys, methods) {
            let theirs = &self.routes[&other];
            return Err(format!(
                "route `{}` conflicts with route `{}`",
                describe(methods, pattern),
                describe(&theirs.methods, &theirs.pattern)
            ));
        }
        let route = self.next_route;
        self.next_route += 1;
        let node = keys.iter().fold(&mut self.root, |node, key| node.child_or_insert(key));
        node.endpoints.push(Endpoint { route, methods: methods.to_vec() });
        self.routes.insert(route, RouteInfo { pattern: pattern.to_owned(), methods: methods.to_vec(), keys });
        Ok(route)
    }

    pub fn remove(&mut self, route: u32) -> bool {
        match self.routes.remove(&route) {
            Some(info) => self.root.remove(&info.keys, route),
            None => false,
        }
    }

    pub fn lookup<'a>(&self, method: &[u8], path: &'a [u8]) -> Lookup<'a> {
        let Some(rest) = path.strip_prefix(b"/") else { return Lookup::NotFound };
        let mut params = Params::new();
        let mut path_matched = false;
        let mut found = None;
        self.walk(&self.root, Some(rest), &mut params, &mut |node, _| {
            if node.endpoints.is_empty() {
                return false;
            }
            path_matched = true;
            found = select(&node.endpoints, method);
            found.is_some()
        });
        match found {
            Some(route) => Lookup::Found { route, params },
            None if path_matched => Lookup::MethodNotAllowed,
            None => Lookup::NotFound,
        }
    }

    /// Every method some route accepts for `path` (HEAD wherever GET is), sorted; empty if none.
    pub fn allow(&self, path: &[u8]) -> Vec<String> {
        let Some(rest) = path.strip_prefix(b"/") else { return Vec::new() };
        let mut methods: Vec<String> = Vec::new();
        self.walk(&self.root, Some(rest), &mut Params::new(), &mut |node, _| {
            for method in node.endpoints.iter().flat_map(|e| e.methods.iter()) {
                methods.push(method.clone());
                if method == "GET" {
                    methods.push("HEAD".to_owned());
                }
            }
            false
        });
        methods.sort_unstable();
        methods.dedup();
        methods
    }

    /// Depth-first search in priority order. `rest` is the path after the `/` that starts the
    /// current segment, `None` once every segment is consumed. `visit` returns true to stop.
    fn walk<'a>(
        &self,
        node: &Node,
        rest: Option<&'a [u8]>,
        params: &mut Params<'a>,
        visit: &mut dyn FnMut(&Node, &[Param<'a>]) -> bool,
    ) -> bool {
        let Some(rest) = rest else { return visit(node, params) };
        let (raw, next) = match rest.iter().position(|&b| b == b'/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if let Some(segment) = percent_decode(raw) {
            if let Ok(i) = node.statics.binary_search_by(|(k, _)| k.as_ref().cmp(&segment)) {
                if self.walk(&node.statics[i].1, next, params, visit) {
                    return true;
                }
            }
            for (conv, child) in &node.params {
                let Some(param) = self.convert(*conv, &segment) else { continue };
                params.push(param);
                if self.walk(child, next, params, visit) {
                    return true;
                }
                params.pop();
            }
        }
        if let Some(child) = &node.rest {
            if let Some(value) = percent_decode(rest).filter(|v| !v.is_empty()) {
                params.push(Param::Str(value));
                if visit(child, params) {
                    return true;
                }
                params.pop();
            }
        }
        false
    }

    fn convert<'a>(&self, conv: Conv, segment: &Cow<'a, [u8]>) -> Option<Param<'a>> {
        let text = || Param::Str(segment.clone());
        match conv {
            Conv::Str => (!segment.is_empty()).then(text),
            Conv::Int => parse_int(segment).map(Param::Int),
            Conv::Float => parse_float(as_str(segment)).map(Param::Float),
            Conv::Uuid => is_uuid(segment).then(text),
            Conv::Custom(i) => self.converters[i as usize].1.is_match(as_str(segment)).then(text),
        }
    }
}

/// The route among a node's endpoints that takes `method`; HEAD falls back to GET.
fn select(endpoints: &[Endpoint], method: &[u8]) -> Option<u32> {
    let takes = |m: &[u8]| endpoints.iter().find(|e| e.methods.iter().any(|x| x.as_bytes() == m)).map(|e| e.route);
    takes(method).or_else(|| if method == b"HEAD" { takes(b"GET") } else { None })
}

/// A segment's text, UTF-8 by construction (see percent_decode).
fn as_str(segment: &[u8]) -> &str {
    std::str::from_utf8(segment).unwrap_or("")
}

/// `-?[0-9]+` within JavaScript's safe integer range.
fn parse_int(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    // At most 16 digits: no overflow before the range check.
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    (value <= MAX_SAFE_INT).then_some(if negative { -value } else { value })
}

/// `-?digits[.digits][e[+-]digits]`, finite. No `inf`, `nan`, `+`, or bare dots.
fn parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').map_or((mantissa, None), |(w, f)| (w, Some(f)));
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !digits(whole) || !fraction.is_none_or(digits) || !exponent_ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// 8-4-4-4-12 hexadecimal digits.
fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, &c)| if matches!(i, 8 | 13 | 18 | 23) { c == b'-' } else { c.is_ascii_hexdigit() })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `raw`; borrows when there is nothing to decode. None if an escape is
/// malformed or the result is not UTF-8 (such a path matches no parameter or static segment).
fn percent_decode(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    // One pass for the common segment: ASCII (request targets are; JS callers may pass other
    // text) with nothing to decode.
    if raw.iter().all(|&b| b != b'%' && b.is_ascii()) {
        return Some(Cow::Borrowed(raw));
    }
    if !raw.contains(&b'%') {
        return std::str::from_utf8(raw).is_ok().then_some(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let high = hex(*raw.get(i + 1)?)?;
            let low = hex(*raw.get(i + 2)?)?;
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    std::str::from_utf8(&out).is_ok().then_some(Cow::Owned(out))
}

// ---- the registry ----

thread_local! {
  static ROUTERS: RefCell<HashMap<i32, Router, BuildHasherDefault<IdHasher>>> = RefCell::new(HashMap::default());
  static NEXT_ID: Cell<i32> = const { Cell::new(1) };
}

/// Looks up a request in router `id`: `method` as received, `path` the raw (percent-encoded)
/// request path without the query. NotFound for an unknown id.
pub fn lookup<'a>(id: i32, method: &[u8], path: &'a [u8]) -> Lookup<'a> {
    ROUTERS.with(|routers| routers.borrow().get(&id).map_or(Lookup::NotFound, |router| router.lookup(method, path)))
}

fn with_router<T>(id: i32, f: impl FnOnce(&mut Router) -> std::result::Result<T, String>) -> Result<T> {
    ROUTERS.with(|routers| match routers.borrow_mut().get_mut(&id) {
        Some(router) => f(router).map_err(|message| Error::new(Status::InvalidArg, message)),
        None => Err(Error::new(Status::InvalidArg, format!("no router with id {id}"))),
    })
}

#[napi]
pub fn router_create() -> i32 {
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    });
    ROUTERS.with(|routers| routers.borrow_mut().insert(id, Router::new()));
    id
}

#[napi]
pub fn router_destroy(id: i32) {
    ROUTERS.with(|routers| routers.borrow_mut().remove(&id));
}

#[napi]
pub fn router_add_converter(id: i32, name: String, pattern: String) -> Result<()> {
    with_router(id, |router| router.add_converter(&name, &pattern))
}

/// Adds a route; throws on an invalid pattern or a conflict (naming both routes).
#[napi]
pub fn router_add(id: i32, methods: Vec<String>, pattern: String) -> Result<u32> {
    with_router(id, |router| router.add(&methods, &pattern))
}

/// The id of a route that would conflict with `methods pattern`, or -1.
#[napi]
pub fn router_conflict(id: i32, methods: Vec<String>, pattern: String) -> Result<i64> {
    with_router(id, |router| Ok(router.conflict(&methods, &pattern)?.map_or(-1, i64::from)))
}

#[napi]
pub fn router_remove(id: i32, route: u32) -> Result<bool> {
    with_router(id, |router| Ok(router.remove(route)))
}

#[napi(object)]
pub struct RouteMatch {
    /// The route id, -1 not found, -2 the path matches but not the method.
    pub route: i64,
    pub params: Vec<Either<String, f64>>,
}

#[napi]
pub fn router_lookup(id: i32, method: String, path: String) -> RouteMatch {
    match lookup(id, method.as_bytes(), path.as_bytes()) {
        Lookup::Found { route, params } => {
            RouteMatch { route: i64::from(route), params: params.into_iter().map(Param::into_js).collect() }
        }
        Lookup::MethodNotAllowed => RouteMatch { route: -2, params: Vec::new() },
        Lookup::NotFound => RouteMatch { route: -1, params: Vec::new() },
    }
}

/// The methods some route takes for `path` (HEAD wherever GET is), sorted.
#[napi]
pub fn router_allow(id: i32, path: String) -> Vec<String> {
    ROUTERS.with(|routers| routers.borrow().get(&id).map_or_else(Vec::new, |router| router.allow(path.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(list: &[&str]) -> Vec<String> {
        list.iter().map(|m| m.to_string()).collect()
    }

    fn router(routes: &[(&[&str], &str)]) -> (Router, Vec<u32>) {
        let mut r = Router::new();
        let ids = routes.iter().map(|(m, p)| r.add(&methods(m), p).unwrap()).collect();
        (r, ids)
    }

    fn found<'a>(r: &Router, method: &str, path: &'a str) -> (u32, Vec<Param<'a>>) {
        match r.lookup(method.as_bytes(), path.as_bytes()) {
            Lookup::Found { route, params } => (route, params.into_vec()),
            other => panic!("{method} {path}: expected a match, got {other:?}"),
        }
    }

    fn s(v: &str) -> Param<'static> {
        Param::Str(Cow::Owned(v.as_bytes().to_vec()))
    }

    #[test]
    fn static_routes_and_root() {
        let (r, ids) = router(&[(&["GET"], "/"), (&["GET"], "/a"), (&["GET"], "/a/"), (&["GET"], "/a/b")]);
        assert_eq!(found(&r, "GET", "/"), (ids[0], vec![]));
        assert_eq!(found(&r, "GET", "/a"), (ids[1], vec![]));
        assert_eq!(found(&r, "GET", "/a/"), (ids[2], vec![]));
        assert_eq!(found(&r, "GET", "/a/b"), (ids[3], vec![]));
        assert_eq!(r.lookup(b"GET", b"/b"), Lookup::NotFound);
        assert_eq!(r.lookup(b"GET", b"/a/b/c"), Lookup::NotFound);
        assert_eq!(r.lookup(b"GET", b""), Lookup::NotFound);
        assert_eq!(r.lookup(b"GET", b"*"), Lookup::NotFound);
    }

    #[test]
    fn typed_parameters_convert_in_path_order() {
        let (r, ids) = router(&[(&["GET"], "/u/{id:int}/x/{f:float}/{name}/{key:uuid}")]);
        let (route, params) = found(&r, "GET", "/u/-42/x/2.5e1/bob/123e4567-E89B-12d3-a456-426614174000");
        assert_eq!(route, ids[0]);
        assert_eq!(
            params,
            vec![Param::Int(-42), Param::Float(25.0), s("bob"), s("123e4567-E89B-12d3-a456-426614174000")]
        );
    }

    #[test]
    fn values_that_do_not_convert_do_not_match() {
        let (r, _) = router(&[(&["GET"], "/i/{id:int}"), (&["GET"], "/f/{x:float}"), (&["GET"], "/u/{id:uuid}")]);
        for path in [
            "/i/abc",
            "/i/1.5",
            "/i/",
            "/i/+1",
            "/i/9007199254740992",
            "/i/99999999999999999999",
            "/f/nan",
            "/f/inf",
            "/f/1e400",
            "/f/.5",
            "/f/1.",
            "/f/",
            "/u/123",
            "/u/123e4567-e89b-12d3-a456-42661417400g",
        ] {
            assert_eq!(r.lookup(b"GET", path.as_bytes()), Lookup::NotFound, "{path}");
        }
        assert_eq!(found(&r, "GET", "/i/9007199254740991").1, vec![Param::Int(9007199254740991)]);
        assert_eq!(found(&r, "GET", "/f/3").1, vec![Param::Float(3.0)]);
    }

    #[test]
    fn priority_static_typed_string_path() {
        let (r, ids) = router(&[
            (&["GET"], "/x/{rest:path}"),
            (&["GET"], "/x/{name:string}"),
            (&["GET"], "/x/{id:int}"),
            (&["GET"], "/x/new"),
            (&["GET"], "/x/{f:float}"),
        ]);
        assert_eq!(found(&r, "GET", "/x/new").0, ids[3]);
        assert_eq!(found(&r, "GET", "/x/7"), (ids[2], vec![Param::Int(7)]));
        assert_eq!(found(&r, "GET", "/x/7.5"), (ids[4], vec![Param::Float(7.5)]));
        assert_eq!(found(&r, "GET", "/x/bob"), (ids[1], vec![s("bob")]));
        assert_eq!(found(&r, "GET", "/x/a/b"), (ids[0], vec![s("a/b")]));
    }

    #[test]
    fn backtracks_when_a_preferred_branch_dead_ends() {
        let (r, ids) = router(&[(&["GET"], "/a/static/end"), (&["GET"], "/a/{p}/other")]);
        assert_eq!(found(&r, "GET", "/a/static/other"), (ids[1], vec![s("static")]));
        assert_eq!(found(&r, "GET", "/a/static/end").0, ids[0]);
    }

    #[test]
    fn segments_are_decoded_one_by_one() {
        let (r, ids) = router(&[(&["GET"], "/f/{name}"), (&["GET"], "/café"), (&["GET"], "/p/{rest:path}")]);
        assert_eq!(found(&r, "GET", "/f/a%2Fb"), (ids[0], vec![s("a/b")]));
        assert_eq!(found(&r, "GET", "/f/hello%20world"), (ids[0], vec![s("hello world")]));
        assert_eq!(found(&r, "GET", "/caf%C3%A9").0, ids[1]);
        assert_eq!(found(&r, "GET", "/p/a%2Fb/c%20d"), (ids[2], vec![s("a/b/c d")]));
        assert_eq!(r.lookup(b"GET", b"/f/bad%zz"), Lookup::NotFound);
        assert_eq!(r.lookup(b"GET", b"/f/%FF"), Lookup::NotFound);
        assert_eq!(r.lookup(b"GET", b"/f/%4"), Lookup::NotFound);
    }

    #[test]
    fn path_converter_takes_the_rest_and_is_not_empty() {
        let (r, ids) = router(&[(&["GET"], "/files/{rest:path}"), (&["GET"], "/{all:path}")]);
        assert_eq!(found(&r, "GET", "/files/a/b/c.txt"), (ids[0], vec![s("a/b/c.txt")]));
        assert_eq!(found(&r, "GET", "/files/"), (ids[1], vec![s("files/")]));
        assert_eq!(found(&r, "GET", "/other"), (ids[1], vec![s("other")]));
        assert_eq!(r.lookup(b"GET", b"/"), Lookup::NotFound);
    }

    #[test]
    fn method_not_allowed_head_and_allow() {
        let (r, ids) = router(&[(&["GET"], "/h/{n}"), (&["POST"], "/h/{n}"), (&["PUT", "DELETE"], "/h/{n:int}")]);
        assert_eq!(found(&r, "HEAD", "/h/x").0, ids[0]);
        assert_eq!(found(&r, "POST", "/h/x").0, ids[1]);
        assert_eq!(found(&r, "PUT", "/h/1").0, ids[2]);
        assert_eq!(found(&r, "POST", "/h/1").0, ids[1]);
        assert_eq!(r.lookup(b"PATCH", b"/h/x"), Lookup::MethodNotAllowed);
        assert_eq!(r.lookup(b"PUT", b"/h/x"), Lookup::MethodNotAllowed);
        assert_eq!(r.allow(b"/h/x"), methods(&["GET", "HEAD", "POST"]));
        assert_eq!(r.allow(b"/h/1"), methods(&["DELETE", "GET", "HEAD", "POST", "PUT"]));
        assert!(r.allow(b"/nothing").is_empty());
    }

    #[test]
    fn explicit_head_wins_over_get() {
        let (r, ids) = router(&[(&["GET"], "/a"), (&["HEAD"], "/a")]);
        assert_eq!(found(&r, "HEAD", "/a").0, ids[1]);
        assert_eq!(found(&r, "GET", "/a").0, ids[0]);
    }

    #[test]
    fn custom_converters() {
        let mut r = Router::new();
        // Registration order is priority order: hex before slug.
        r.add_converter("hex", "[0-9a-f]+").unwrap();
        r.add_converter("slug", "[a-z0-9]+(?:-[a-z0-9]+)*").unwrap();
        let hex = r.add(&methods(&["GET"]), "/c/{h:hex}").unwrap();
        let slug = r.add(&methods(&["GET"]), "/c/{s:slug}").unwrap();
        assert_eq!(found(&r, "GET", "/c/ff00"), (hex, vec![s("ff00")]));
        assert_eq!(found(&r, "GET", "/c/my-post"), (slug, vec![s("my-post")]));
        assert_eq!(r.lookup(b"GET", b"/c/My-Post"), Lookup::NotFound);
        // Anchored: a partial match is no match.
        assert_eq!(r.lookup(b"GET", b"/c/ab_cd"), Lookup::NotFound);
        assert!(r.add_converter("slug", "x").unwrap_err().contains("already defined"));
        assert!(r.add_converter("int", "x").unwrap_err().contains("already defined"));
        assert!(r.add_converter("bad", "(").unwrap_err().contains("invalid pattern"));
        assert!(r.add_converter("no way", "x").is_err());
    }

    #[test]
    fn conflicts_name_both_routes() {
        let (mut r, ids) = router(&[(&["GET", "POST"], "/u/{id:int}")]);
        let err = r.add(&methods(&["POST"]), "/u/{other:int}").unwrap_err();
        assert!(err.contains("POST /u/{other:int}") && err.contains("GET,POST /u/{id:int}"), "{err}");
        assert_eq!(r.conflict(&methods(&["GET"]), "/u/{x:int}").unwrap(), Some(ids[0]));
        assert_eq!(r.conflict(&methods(&["PUT"]), "/u/{x:int}").unwrap(), None);
        // Different converters or methods at the same place do not conflict: priority decides.
        r.add(&methods(&["GET"]), "/u/{name}").unwrap();
        r.add(&methods(&["DELETE"]), "/u/{id:int}").unwrap();
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        let mut r = Router::new();
        for (pattern, needle) in [
            ("nope", "must start with"),
            ("/a/{x:path}/b", "last segment"),
            ("/a/{x:nope}", "unknown converter"),
            ("/a/{x}/{x}", "appears twice"),
            ("/a/x{y}", "whole segment"),
            ("/a/{1x}", "identifier"),
        ] {
            let err = r.add(&methods(&["GET"]), pattern).unwrap_err();
            assert!(err.contains(needle), "{pattern}: {err}");
        }
        assert!(r.add(&[], "/a").unwrap_err().contains("at least one method"));
        assert!(r.add(&methods(&["GE T"]), "/a").unwrap_err().contains("not a valid method"));
    }

    #[test]
    fn remove_prunes_and_ids_are_not_reused() {
        let (mut r, ids) = router(&[(&["GET"], "/a/{id:int}"), (&["POST"], "/a/{id:int}")]);
        assert!(r.remove(ids[0]));
        assert!(!r.remove(ids[0]));
        assert_eq!(r.lookup(b"GET", b"/a/1"), Lookup::MethodNotAllowed);
        assert!(r.remove(ids[1]));
        assert_eq!(r.lookup(b"POST", b"/a/1"), Lookup::NotFound);
        assert!(r.root.is_empty());
        let again = r.add(&methods(&["GET"]), "/a/{id:int}").unwrap();
        assert!(again > ids[1]);
        assert_eq!(found(&r, "GET", "/a/5").0, again);
    }

    #[test]
    fn registry_lookup_by_id() {
        let id = router_create();
        assert_eq!(router_add(id, methods(&["GET"]), "/hello/{name:string}".into()).unwrap(), 0);
        assert_eq!(
            lookup(id, b"GET", b"/hello/world"),
            Lookup::Found { route: 0, params: [s("world")].into_iter().collect() }
        );
        assert!(router_add(id, methods(&["GET"]), "/hello/{n}".into()).is_err());
        assert_eq!(router_allow(id, "/hello/x".into()), methods(&["GET", "HEAD"]));
        router_destroy(id);
        assert_eq!(lookup(id, b"GET", b"/hello/world"), Lookup::NotFound);
        assert_eq!(lookup(12345, b"GET", b"/"), Lookup::NotFound);
        assert!(router_add(id, methods(&["GET"]), "/x".into()).is_err());
    }
}
