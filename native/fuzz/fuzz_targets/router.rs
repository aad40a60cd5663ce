//! The router under arbitrary sequences of converter registrations, route additions, removals
//! and lookups, checked against a model of which routes are live.
//!
//! Invariants: no panic; a lookup finds only live routes that take the method, with one value
//! per parameter; lookup and `allow` agree; `conflict` names a route just added; a purely
//! static route is found at its own path; removed routes are never found again.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pyre_native::fuzzing::{Lookup, Param, Router};

const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"];
const CONVERTERS: [&str; 7] = ["string", "int", "float", "uuid", "path", "c0", "c1"];
const NAMES: [&str; 4] = ["a", "b", "id", "rest"];
/// Longest custom converter regex tried; longer ones only make regex compilation slow.
const MAX_REGEX_LEN: usize = 48;

#[derive(Arbitrary, Debug)]
enum Segment {
    Static(String),
    Param { name: u8, converter: u8 },
}

#[derive(Arbitrary, Debug)]
enum Op {
    Converter {
        which: bool,
        pattern: String,
    },
    Add {
        methods: u8,
        segments: Vec<Segment>,
    },
    AddRaw {
        methods: u8,
        pattern: String,
    },
    Remove(u16),
    Lookup {
        method: u8,
        path: Vec<u8>,
    },
    /// Looks up a path built from segments, so lookups reach deep into the trie.
    LookupSegments {
        method: u8,
        segments: Vec<String>,
    },
}

struct Live {
    methods: Vec<String>,
    params: usize,
}

fn methods_of(mask: u8) -> Vec<String> {
    METHODS.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, m)| m.to_string()).collect()
}

fn pattern_of(segments: &[Segment]) -> String {
    let mut pattern = String::new();
    for segment in segments {
        pattern.push('/');
        match segment {
            Segment::Static(text) => pattern.push_str(text),
            Segment::Param { name, converter } => {
                let name = NAMES[*name as usize % NAMES.len()];
                let converter = CONVERTERS[*converter as usize % CONVERTERS.len()];
                pattern.push_str(&format!("{{{name}:{converter}}}"));
            }
        }
    }
    if pattern.is_empty() {
        pattern.push('/');
    }
    pattern
}

fn param_count(pattern: &str) -> usize {
    pattern.split('/').filter(|s| s.starts_with('{') && s.ends_with('}')).count()
}

/// A pattern without parameters whose text the lookup sees unchanged (no escapes to decode).
fn is_plain_static(pattern: &str) -> bool {
    !pattern.contains(['{', '}', '%'])
}

fn add(router: &mut Router, live: &mut HashMap<u32, Live>, mask: u8, pattern: &str) {
    let methods = methods_of(mask);
    let Ok(route) = router.add(&methods, pattern) else { return };
    assert!(!live.contains_key(&route), "route id {route} reused");
    assert_eq!(router.conflict(&methods, pattern), Ok(Some(route)), "a route just added conflicts with itself");
    if is_plain_static(pattern) {
        let method = &methods[0];
        let found = router.lookup(method.as_bytes(), pattern.as_bytes());
        assert_eq!(found, Lookup::Found { route, params: Default::default() }, "static route {pattern} not found at its own path");
    }
    live.insert(route, Live { methods, params: param_count(pattern) });
}

fn lookup(router: &Router, live: &HashMap<u32, Live>, method: &str, path: &[u8]) {
    let allowed = router.allow(path);
    let takes = |m: &str| allowed.iter().any(|a| a == m);
    match router.lookup(method.as_bytes(), path) {
        Lookup::Found { route, params } => {
            let info = live.get(&route).unwrap_or_else(|| panic!("found route {route}, which is not live"));
            let direct = info.methods.iter().any(|m| m == method);
            let head_as_get = method == "HEAD" && info.methods.iter().any(|m| m == "GET");
            assert!(direct || head_as_get, "route {route} found for {method} but takes {:?}", info.methods);
            assert_eq!(params.len(), info.params, "route {route}: parameter count");
            for p in &params {
                match p {
                    Param::Int(n) => assert!(n.unsigned_abs() <= (1u64 << 53) - 1),
                    Param::Float(f) => assert!(f.is_finite()),
                    // Empty only from a custom converter whose regex matches "" (the user's choice).
                    Param::Str(_) => {}
                }
            }
            assert!(takes(method), "lookup found {method} but allow says {allowed:?}");
        }
        Lookup::MethodNotAllowed => {
            assert!(!allowed.is_empty() && !takes(method), "405 for {method} but allow says {allowed:?}");
        }
        Lookup::NotFound => assert!(allowed.is_empty(), "404 but allow says {allowed:?}"),
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut router = Router::new();
    let mut live: HashMap<u32, Live> = HashMap::new();
    let mut ever: Vec<u32> = Vec::new();
    for op in ops.iter().take(64) {
        match op {
            Op::Converter { which, pattern } if pattern.len() <= MAX_REGEX_LEN => {
                let _ = router.add_converter(if *which { "c1" } else { "c0" }, pattern);
            }
            Op::Converter { .. } => {}
            Op::Add { methods, segments } => add(&mut router, &mut live, *methods, &pattern_of(segments)),
            Op::AddRaw { methods, pattern } => add(&mut router, &mut live, *methods, pattern),
            Op::Remove(pick) => {
                let new: Vec<u32> = live.keys().copied().filter(|k| !ever.contains(k)).collect();
                ever.extend(new);
                let Some(&route) = ever.get(*pick as usize % ever.len().max(1)) else { continue };
                assert_eq!(router.remove(route), live.remove(&route).is_some(), "remove({route})");
                assert!(!router.remove(route), "a route removed twice");
            }
            Op::Lookup { method, path } => lookup(&router, &live, METHODS[*method as usize % METHODS.len()], path),
            Op::LookupSegments { method, segments } => {
                let path: String = segments.iter().flat_map(|s| ["/", s.as_str()]).collect();
                lookup(&router, &live, METHODS[*method as usize % METHODS.len()], path.as_bytes());
            }
        }
    }
});
