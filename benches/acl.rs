//! Evaluates a host/path routing condition like a frontend's `use_backend` rules, and
//! a frontend of 50 `use_backend` rules on `hdr(host)`/`path_beg` ACLs.

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::acl::{AclSet, SampleSource, parse_condition};
use gatehouse::config::model::{AclDef, AclExpr};
use gatehouse::config::span::Span;
use std::hint::black_box;
use std::net::SocketAddr;

struct Req {
    src: SocketAddr,
    uri: &'static [u8],
    headers: Vec<(&'static str, &'static [u8])>,
}

impl SampleSource for Req {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    fn method(&self) -> Option<&[u8]> {
        Some(b"GET")
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
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn bench(c: &mut Criterion) {
    let span = Span::new("bench.cfg", 1);
    let defs: Vec<AclDef> = [
        "host_api hdr(host) -i api.example.com api.example.org",
        "path_api path_beg /api/ /v1/ /v2/",
        "static path_end .css .js .png",
        "internal src 10.0.0.0/8 192.168.0.0/16",
    ]
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
    .collect();
    let set = AclSet::compile(&defs).expect("acls");
    let cond =
        parse_condition(&words("if host_api path_api internal || static"), &span).expect("cond");
    let cond = set.condition(&cond).expect("compile");
    let req = Req {
        src: "192.168.1.10:40000".parse().expect("addr"),
        uri: b"/api/users/42?expand=1",
        headers: vec![
            ("User-Agent", b"bench/1.0"),
            ("Accept", b"*/*"),
            ("Host", b"API.example.com"),
        ],
    };
    assert!(cond.eval(&req));
    c.bench_function("acl host+path routing", |b| {
        b.iter(|| black_box(cond.eval(black_box(&req))))
    });
}

/// The ACL lines and conditions of 50 `use_backend appN if host_N path_N` rules.
pub fn fifty_rules() -> (Vec<AclDef>, Vec<String>) {
    let span = Span::new("bench.cfg", 1);
    let mut defs = Vec::new();
    let mut conds = Vec::new();
    for n in 0..50 {
        for (name, crit) in [
            (
                format!("host_{n}"),
                format!("hdr(host) -i app{n}.example.com"),
            ),
            (format!("path_{n}"), format!("path_beg /app{n}/ /v{n}/")),
        ] {
            defs.push(AclDef {
                name,
                expr: AclExpr {
                    span: span.clone(),
                    words: words(&crit),
                },
            });
        }
        conds.push(format!("if host_{n} path_{n}"));
    }
    (defs, conds)
}

fn bench_fifty(c: &mut Criterion) {
    let span = Span::new("bench.cfg", 2);
    let (defs, conds) = fifty_rules();
    let set = AclSet::compile(&defs).expect("acls");
    let rules: Vec<_> = conds
        .iter()
        .map(|t| {
            let cond = parse_condition(&words(t), &span).expect("cond");
            set.condition(&cond).expect("compile")
        })
        .collect();
    // A browser-like request for the last rule's app: every rule's host ACL is
    // evaluated (the worst case for a match), and one that matches none.
    let headers = |host: &'static [u8]| {
        vec![
            ("Host", host),
            (
                "User-Agent",
                b"Mozilla/5.0 (X11; Linux x86_64) bench/1.0".as_slice(),
            ),
            ("Accept", b"text/html,application/xhtml+xml".as_slice()),
            ("Accept-Language", b"en-US,en;q=0.5".as_slice()),
            ("Accept-Encoding", b"gzip, deflate, br".as_slice()),
            ("Cookie", b"session=abc123; theme=dark".as_slice()),
            ("Connection", b"keep-alive".as_slice()),
        ]
    };
    let last = Req {
        src: "192.168.1.10:40000".parse().expect("addr"),
        uri: b"/app49/users/42?expand=1",
        headers: headers(b"app49.example.com"),
    };
    let none = Req {
        src: "192.168.1.10:40000".parse().expect("addr"),
        uri: b"/static/site.css",
        headers: headers(b"www.example.com"),
    };
    let route = |req: &Req| rules.iter().position(|r| r.eval(req));
    assert_eq!(route(&last), Some(49));
    assert_eq!(route(&none), None);
    c.bench_function("acl 50 use_backend rules, last matches", |b| {
        b.iter(|| black_box(route(black_box(&last))))
    });
    c.bench_function("acl 50 use_backend rules, none matches", |b| {
        b.iter(|| black_box(route(black_box(&none))))
    });
}

criterion_group!(benches, bench, bench_fifty);
criterion_main!(benches);
