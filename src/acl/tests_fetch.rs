//! Table-driven tests of every fetch, derived ACL keyword and matching method, and the
//! check that each HAProxy 2.6 fetch and converter gatehouse lacks is refused at load
//! with "not supported yet" (never compiled into something silently wrong).

use super::names::{HAPROXY_CONVERTERS, HAPROXY_FETCHES};
use super::tests::{cond, err, m, req};

#[test]
fn fetch_table() {
    let r = req(
        "GET",
        "/shop/cart/item.html?id=42&lang=fr",
        &[
            ("Host", "www.example.com"),
            ("Cookie", "SESSION=abc123; theme=dark"),
            ("Cookie", "theme=light"),
            ("Accept", "text/html,application/json"),
            ("X-Forwarded-For", "10.1.2.3"),
            ("Content-Length", "12"),
        ],
    );
    let cases: &[(&str, bool)] = &[
        ("src 192.168.1.0/24", true),
        ("src_port 40000", true),
        ("src_port gt 50000", false),
        ("dst 10.0.0.1", true),
        ("dst_port 80", true),
        ("dst_port 443", false),
        ("path /shop/cart/item.html", true),
        ("path_beg /shop/", true),
        ("path_end .html", true),
        ("path_sub cart", true),
        ("path_dir cart", true),
        ("path_dir car", false),
        ("path_reg ^/shop/[a-z]+/", true),
        ("path_len 20", true),
        ("path_dom item", true),
        ("url_beg /shop", true),
        ("url_param(id) 42", true),
        ("urlp(lang) fr", true),
        ("urlp_reg(lang) ^f", true),
        ("query id=42&lang=fr", true),
        ("req.ver 1.1", true),
        ("hdr(host) www.example.com", true),
        ("hdr_beg(host) www.", true),
        ("hdr_end(host) .com", true),
        ("hdr_sub(host) example", true),
        ("hdr_reg(host) ^w+\\.", true),
        ("hdr_dom(host) example.com", true),
        ("hdr_dir(accept) html", true),
        ("hdr_len(host) 15", true),
        ("hdr_cnt(accept) 2", true),
        ("req.fhdr_cnt(accept) 1", true),
        ("req.hdr(accept) application/json", true),
        ("req.fhdr(accept) text/html,application/json", true),
        ("hdr_ip(x-forwarded-for) 10.0.0.0/8", true),
        ("hdr_val(content-length) gt 10", true),
        ("req.cook(SESSION) abc123", true),
        ("cook(theme) light", true),
        ("cook(theme) dark", true),
        ("cook_beg(SESSION) abc", true),
        ("cook_len(SESSION) 6", true),
        ("cook_cnt(theme) 2", true),
        ("req.cook_cnt 3", true),
        ("cook(nope) -m found", false),
        ("req.proto_http", true),
        ("method GET", true),
        ("always_true", true),
        ("always_false", false),
    ];
    for (crit, want) in cases {
        assert_eq!(m(crit, &r), *want, "{crit}");
    }
}

#[test]
fn matcher_table() {
    let r = req(
        "GET",
        "/a/b.c",
        &[("X", "Hello-World"), ("N", "15"), ("B", "1")],
    );
    let cases: &[(&str, bool)] = &[
        ("req.hdr(x) -m str Hello-World", true),
        ("req.hdr(x) -m str hello-world", false),
        ("req.hdr(x) -i -m str hello-world", true),
        ("req.hdr(x) -m beg Hell", true),
        ("req.hdr(x) -m end rld", true),
        ("req.hdr(x) -m sub o-W", true),
        ("req.hdr(x) -i -m sub O-w", true),
        ("req.hdr(x) -m reg ^H.*d$", true),
        ("req.hdr(x) -m len 11", true),
        ("req.hdr(x) -m len gt 20", false),
        ("req.hdr(x) -m found", true),
        ("req.hdr(y) -m found", false),
        ("req.hdr(n) -m int 10:20", true),
        ("req.hdr(n) -m int eq 15", true),
        ("req.hdr(n) -m int ge 15", true),
        ("req.hdr(n) -m int gt 15", false),
        ("req.hdr(n) -m int le 15", true),
        ("req.hdr(n) -m int lt 15", false),
        ("req.hdr(b) -m bool", true),
        ("req.hdr(n) -m bin 3135", true),
        ("path -m dir b.c", true),
        ("path -m dom c", true),
        ("path -m dom -- -x /a/b.c", true),
        ("req.hdr(x) -m ip 127.0.0.1", false),
        ("src -n 192.168.0.0/16", true),
        ("src ::ffff:192.168.1.10", true),
        ("src 2001:db8::/32", false),
    ];
    for (crit, want) in cases {
        assert_eq!(m(crit, &r), *want, "{crit}");
    }
}

#[test]
fn every_haproxy_fetch_and_converter_is_implemented_or_refused_as_not_yet() {
    for name in HAPROXY_FETCHES {
        let crit = format!("{name} -m found");
        if let Err(e) = cond(&[], &format!("if {{ {crit} }}")) {
            assert!(
                e.contains("not supported yet")
                    || e.contains("missing arguments")
                    || e.contains("ACL keyword"),
                "{name}: {e}"
            );
        }
    }
    for name in HAPROXY_CONVERTERS {
        let crit = format!("str,{name} -m found");
        let e = err(&crit);
        assert!(
            e.contains("not supported yet") || !e.contains("unknown converter"),
            "{name}: {e}"
        );
    }
}
