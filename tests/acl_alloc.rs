//! Evaluating compiled ACL conditions allocates nothing (src/acl/mod.rs contract): a
//! counting global allocator wraps the system one and the test asserts that N
//! evaluations of each condition, built through the public API, allocate zero times.
//!
//! The per-thread scratch buffer used by `base` and converters, and the regex matching
//! cache, are filled on the first evaluation only: each condition is evaluated once
//! before counting, then must stay at zero allocations.

use gatehouse::acl::{AclSet, RuleIndex, SampleSource, parse_condition};
use gatehouse::config::model::{AclDef, AclExpr};
use gatehouse::config::span::Span;
use std::net::SocketAddr;

#[path = "support/alloc.rs"]
mod alloc_count;
use alloc_count::allocations;

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

struct Req {
    src: SocketAddr,
    dst: SocketAddr,
    method: &'static [u8],
    uri: &'static [u8],
    headers: Vec<(&'static str, &'static [u8])>,
}

impl SampleSource for Req {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }
    fn method(&self) -> Option<&[u8]> {
        Some(self.method)
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.uri)
    }
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .any(|(_, v)| each(v))
    }
    fn version(&self) -> Option<&[u8]> {
        Some(b"1.1")
    }
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.headers.iter().any(|(n, v)| each(n.as_bytes(), v))
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn defs(lines: &[&str]) -> Vec<AclDef> {
    let span = Span::new("alloc.cfg", 1);
    lines
        .iter()
        .map(|l| {
            let mut w = words(l);
            let name = w.remove(0);
            AclDef {
                name,
                expr: AclExpr {
                    span: span.clone(),
                    words: w,
                },
            }
        })
        .collect()
}

const ACLS: &[&str] = &[
    "host_api hdr(host) -i api.example.com api.example.org",
    "host_any req.hdr(host) -m found",
    "p_api path_beg /api/ /v1/",
    "p_static path_end .css .js .png",
    "p_admin path_sub -i admin",
    "p_reg path_reg ^/api/v[0-9]+/",
    "p_len path -m len 16", // `/api/v1/users/42`
    "lan src 192.168.0.0/16 10.0.0.0/8 ::1",
    "get method GET HEAD",
    "xfoo hdr(x-foo) -m beg ab",
    "base_api base -m beg -i api.example.com/api/",
    "lower hdr(host),lower -m str api.example.com",
    "dst_port dst_port 80 443",
    "uri_q url_param(id) 42",
];

/// (condition, expected result against [`request`]).
const CONDITIONS: &[(&str, bool)] = &[
    ("if host_api p_api lan || p_static", true),
    ("if host_any", true),
    ("if p_admin", false),
    ("unless p_admin", true),
    ("if p_reg", true),
    ("if p_len", true),
    ("if get !p_static", true),
    ("if xfoo", true),
    ("if base_api", true),
    ("if lower", true),
    ("if dst_port", true),
    ("if uri_q", true),
    ("if { path -m end /42 } { hdr_beg(host) -i API }", true),
    (
        "if { req.hdr(x-foo,-1) -m sub cd } || { hdr_cnt(x-foo) gt 5 }",
        true,
    ),
    (
        "if { hdr(x-none) -m found } || { src 172.16.0.0/12 }",
        false,
    ),
    (
        "if { method -i propfind } || { req.hdr(host) lower api.example.com }",
        true,
    ),
];

fn request() -> Req {
    Req {
        src: "192.168.1.10:40000".parse().expect("addr"),
        dst: "127.0.0.1:80".parse().expect("addr"),
        method: b"GET",
        uri: b"/api/v1/users/42?id=42",
        headers: vec![
            ("User-Agent", b"alloc/1.0"),
            ("Host", b"API.example.com"),
            ("X-Foo", b"abcd"),
        ],
    }
}

#[test]
fn evaluating_conditions_allocates_nothing() {
    let set = AclSet::compile(&defs(ACLS)).expect("acls");
    let span = Span::new("alloc.cfg", 2);
    let req = request();
    let mut failures = Vec::new();
    for (text, expected) in CONDITIONS {
        let cond = parse_condition(&words(text), &span).expect("parse");
        let cond = set
            .condition(&cond)
            .unwrap_or_else(|e| panic!("{text}: {e:?}"));
        // First evaluation may fill the per-thread scratch buffer and regex cache.
        assert_eq!(cond.eval(&req), *expected, "{text}");
        let mut results = 0usize;
        let n = allocations(|| {
            for _ in 0..1000 {
                results += usize::from(cond.eval(&req));
            }
        });
        assert_eq!(results, if *expected { 1000 } else { 0 }, "{text}");
        if n != 0 {
            failures.push(format!("{text}: {n} allocations in 1000 evaluations"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The counter sees allocations: otherwise the test above could not fail.
#[test]
fn the_counter_counts() {
    let n = allocations(|| {
        let v: Vec<u8> = Vec::with_capacity(std::hint::black_box(32));
        std::hint::black_box(v);
    });
    assert_eq!(n, 1);
}

/// A frontend's 50 `use_backend appN if host_N path_N` rules (`hdr(host) -i`,
/// `path_beg`), evaluated in order until one matches, allocate nothing per request.
#[test]
fn fifty_use_backend_rules_allocate_nothing() {
    let mut lines = Vec::new();
    for n in 0..50 {
        lines.push(format!("host_{n} hdr(host) -i app{n}.example.com"));
        lines.push(format!("path_{n} path_beg /app{n}/ /v{n}/"));
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let set = AclSet::compile(&defs(&lines)).expect("acls");
    let span = Span::new("alloc.cfg", 3);
    let rules: Vec<_> = (0..50)
        .map(|n| {
            let c = parse_condition(&words(&format!("if host_{n} path_{n}")), &span).unwrap();
            set.condition(&c).expect("compile")
        })
        .collect();
    let mut last = request();
    last.headers[1] = ("Host", b"APP49.example.com");
    last.uri = b"/app49/users";
    let route = |r: &Req| rules.iter().position(|c| c.eval(r));
    assert_eq!(route(&last), Some(49));
    assert_eq!(route(&request()), None);
    let none = request();
    let mut hits = 0usize;
    let n = allocations(|| {
        for _ in 0..1000 {
            hits += usize::from(route(&last) == Some(49));
            hits += usize::from(route(&none).is_none());
        }
    });
    assert_eq!(hits, 2000);
    assert_eq!(n, 0, "{n} allocations in 2000 routings");
}

/// Issue 9's rules as a frontend writes them (`use_backend beN if { hdr(host) -i
/// appN.example.com } { path_beg /apiN }`), routed through the `Host` index the proxy
/// builds for them: no allocation per request either, matching or not.
#[test]
fn fifty_rules_through_the_host_index_allocate_nothing() {
    let set = AclSet::compile(&[]).expect("acls");
    let span = Span::new("alloc.cfg", 4);
    let rules: Vec<_> = (0..50)
        .map(|n| {
            let text = format!("if {{ hdr(host) -i app{n}.example.com }} {{ path_beg /api{n} }}");
            let c = parse_condition(&words(&text), &span).unwrap();
            set.condition(&c).expect("compile")
        })
        .collect();
    let index = RuleIndex::build(rules.iter().map(Some)).expect("an index");
    let route = |r: &Req| index.first(r, |i| rules[i].eval(r));
    let mut hit = request();
    hit.headers[1] = ("Host", b"APP25.example.com");
    hit.uri = b"/api25/users";
    let miss = request();
    assert_eq!(route(&hit), Some(25));
    assert_eq!(route(&miss), None);
    let mut hits = 0usize;
    let n = allocations(|| {
        for _ in 0..1000 {
            hits += usize::from(route(&hit) == Some(25));
            hits += usize::from(route(&miss).is_none());
        }
    });
    assert_eq!(hits, 2000);
    assert_eq!(n, 0, "{n} allocations in 2000 routings");
}
