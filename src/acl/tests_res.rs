//! Table-driven tests of the response header and `Set-Cookie` fetches (`res.hdr`,
//! `shdr_*`, `res.cook`, `res.hdr_names`, …) and `req.hdr_names`.

use super::tests::{cond, req};
use super::{SampleExpr, SampleSource, Visibility};
use std::net::SocketAddr;

/// A request and its response, as `http-response` rules see them.
struct Exchange {
    req: super::tests::Req,
    res: Vec<(&'static str, &'static str)>,
}

impl SampleSource for Exchange {
    fn src(&self) -> Option<SocketAddr> {
        self.req.src()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.req.dst()
    }
    fn method(&self) -> Option<&[u8]> {
        self.req.method()
    }
    fn uri(&self) -> Option<&[u8]> {
        self.req.uri()
    }
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.req.req_header(name, each)
    }
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.req.req_headers(each)
    }
    fn status(&self) -> Option<u16> {
        Some(200)
    }
    fn res_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.res
            .iter()
            .any(|(n, v)| each(n.as_bytes(), v.as_bytes()))
    }
}

fn exchange() -> Exchange {
    Exchange {
        req: req("GET", "/", &[("Host", "a"), ("Accept", "*/*")]),
        res: vec![
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-cache, private"),
            ("X-Backend-Ip", "10.1.2.3"),
            ("Content-Length", "1234"),
            ("Set-Cookie", "SESSION=abc; Path=/; HttpOnly"),
            ("Set-Cookie", "theme=dark"),
            ("Set-Cookie", "n=42; Max-Age=10"),
            ("Vary", "Accept"),
            ("Vary", "Cookie"),
        ],
    }
}

#[test]
fn response_fetch_table() {
    let x = exchange();
    let cases: &[(&str, bool)] = &[
        ("res.hdr(content-type) -m beg text/html", true),
        ("res.hdr(cache-control) private", true),
        ("res.fhdr(cache-control) private", false),
        ("res.fhdr(cache-control) -m beg no-cache,", true),
        ("shdr(vary) Cookie", true),
        ("res.hdr(vary,1) Accept", true),
        ("res.hdr(vary,-1) Accept", false),
        ("shdr_beg(content-type) text/", true),
        ("shdr_sub(content-type) charset", true),
        ("shdr_end(vary) kie", true),
        ("shdr_reg(content-type) ^text/.*utf-8$", true),
        ("shdr_len(vary) 6", true),
        ("res.hdr_cnt(vary) 2", true),
        ("shdr_cnt(cache-control) 2", true),
        ("res.fhdr_cnt(cache-control) 1", true),
        ("res.hdr_ip(x-backend-ip) 10.0.0.0/8", true),
        ("shdr_ip(x-backend-ip) 192.168.0.0/16", false),
        ("res.hdr_val(content-length) gt 1000", true),
        ("shdr_val(content-length) lt 1000", false),
        ("res.hdr(x-none) -m found", false),
        ("res.cook(SESSION) abc", true),
        ("scook(theme) dark", true),
        ("res.cook(Max-Age) -m found", false),
        ("scook_beg(SESSION) ab", true),
        ("scook_len(theme) 4", true),
        ("res.cook_cnt 5", true), // `Path=/` and `Max-Age=10` count, as in HAProxy
        ("res.cook(Path) /", false),
        ("scook_cnt(theme) 1", true),
        ("res.cook_val(n) 42", true),
        ("scook_val(n) gt 50", false),
    ];
    for (crit, want) in cases {
        let c = cond(&[], &format!("if {{ {crit} }}")).unwrap_or_else(|e| panic!("{crit}: {e}"));
        assert_eq!(c.visibility(), Visibility::Response, "{crit}");
        assert_eq!(c.eval(&x), *want, "{crit}");
    }
}

#[test]
fn response_fetches_in_sample_expressions() {
    let x = exchange();
    for (expr, want) in [
        ("res.hdr(vary)", "Cookie"),
        ("res.hdr(vary,1)", "Accept"),
        ("res.fhdr(cache-control)", "no-cache, private"),
        ("res.hdr_cnt(set-cookie)", "3"),
        ("res.cook(theme)", "dark"),
        ("scook_val(n)", "42"),
        (
            "res.hdr_names",
            "content-type,cache-control,x-backend-ip,content-length,set-cookie,set-cookie,set-cookie,vary,vary",
        ),
        ("req.hdr_names(;)", "host;accept"),
    ] {
        let e = SampleExpr::parse(expr).unwrap();
        let mut got = String::new();
        e.eval_str(&x, &mut |v| got = String::from_utf8_lossy(v).into_owned());
        assert_eq!(got, want, "{expr}");
    }
}
