//! Evaluates a host/path routing condition like a frontend's `use_backend` rules.

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

criterion_group!(benches, bench);
criterion_main!(benches);
