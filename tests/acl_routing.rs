//! ACL match methods end to end: for each explicit method (`-m str|beg|end|sub|reg|
//! found|len`) and implicit keyword (`path_beg`, `hdr_dom`, …), header fetches with
//! occurrences and `-i`, `unless`, `||`, `!`, anonymous ACLs, several `acl` lines with
//! one name, and `src` with IPv4 networks and IPv6, a request goes through the real
//! binary to the backend the rules pick. Every request is also sent to haproxy 2.6.12
//! with the same configuration, and both must pick the same backend.
//!
//! Each `use_backend` rule starts with `{ req.hdr(x-case) c-NAME }`, so a request
//! selects the one rule it exercises; `web` is the default. (The case names carry a
//! `c-` prefix: HAProxy reads a word after a fetch that names a converter, such as
//! `sub` or `len`, as a converter.)

mod support;

use std::net::SocketAddr;
use std::time::Duration;
use support::*;

const CFG: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  bind ::1:{port6}
  acl multi path_beg /m1
  acl multi path_beg /m2
  acl multi hdr(x-foo) -m str m3
  use_backend hit if { req.hdr(x-case) c-str } { path -m str /exact }
  use_backend hit if { req.hdr(x-case) c-beg } { path -m beg /api }
  use_backend hit if { req.hdr(x-case) c-end } { path -m end .css }
  use_backend hit if { req.hdr(x-case) c-sub } { path -m sub -i admin }
  use_backend hit if { req.hdr(x-case) c-reg } { path -m reg ^/v[0-9]+/ }
  use_backend hit if { req.hdr(x-case) c-found } { req.hdr(x-foo) -m found }
  use_backend hit if { req.hdr(x-case) c-len } { req.hdr(x-foo) -m len 3 }
  use_backend hit if { req.hdr(x-case) c-path_beg } { path_beg /a/ /b/ }
  use_backend hit if { req.hdr(x-case) c-path_end } { path_end -i .PNG }
  use_backend hit if { req.hdr(x-case) c-path_sub } { path_sub img }
  use_backend hit if { req.hdr(x-case) c-path_dir } { path_dir img }
  use_backend hit if { req.hdr(x-case) c-path_reg } { path_reg -i ^/U[0-9]+$ }
  use_backend hit if { req.hdr(x-case) c-hdr_beg } { hdr_beg(host) -i API. }
  use_backend hit if { req.hdr(x-case) c-hdr_end } { hdr_end(host) .org }
  use_backend hit if { req.hdr(x-case) c-hdr_sub } { hdr_sub(x-foo) bar }
  use_backend hit if { req.hdr(x-case) c-hdr_dom } { hdr_dom(host) example.com }
  use_backend hit if { req.hdr(x-case) c-host } { req.hdr(host) -i www.example.com }
  use_backend hit if { req.hdr(x-case) c-xfoo } { hdr(x-foo) abc }
  use_backend hit if { req.hdr(x-case) c-first } { req.hdr(x-foo,1) a }
  use_backend hit if { req.hdr(x-case) c-last } { hdr(x-foo,-1) z }
  use_backend hit if { req.hdr(x-case) c-fhdr } { req.fhdr(x-foo) -m str a,b }
  use_backend hit unless !{ req.hdr(x-case) c-unless } || { path_beg /keep }
  use_backend hit if { req.hdr(x-case) c-or } { path /o1 } || { path /o2 } !{ hdr(x-foo) no }
  use_backend hit if { req.hdr(x-case) c-multi } multi
  use_backend hit if { req.hdr(x-case) c-src4 } { src 10.0.0.0/8 127.0.0.0/24 }
  use_backend hit if { req.hdr(x-case) c-src4x } { src 127.0.0.2/32 192.168.0.0/16 }
  use_backend hit if { req.hdr(x-case) c-src6 } { src ::1 }
  use_backend hit if { req.hdr(x-case) c-src6net } { src ::/16 }
  use_backend hit if { req.hdr(x-case) c-method } { method -i post }
  use_backend hit if { req.hdr(x-case) c-methodcs } { method PUT }
  use_backend hit if { req.hdr(x-case) c-other } { method -i propfind }
  use_backend hit if { req.hdr(x-case) c-methodstr } { method -m str -i post }
  use_backend hit if { req.hdr(x-case) c-legacy } { req.hdr(x-foo) lower foo }
  use_backend hit if { req.hdr(x-case) c-legacy2 } { req.hdr(x-foo) lower,upper FOO }
  default_backend web
backend hit
  server s {hit}
backend web
  server s {web}
";

/// One request: (case, client address family is IPv6, method, path, extra headers,
/// expected backend).
type Case = (
    &'static str,
    bool,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const CASES: &[Case] = &[
    ("str", false, "GET", "/exact", &[], "hit"),
    ("str", false, "GET", "/exact/", &[], "web"),
    ("str", false, "GET", "/EXACT", &[], "web"),
    ("str", false, "GET", "/exact?q=1", &[], "hit"),
    ("beg", false, "GET", "/api/x", &[], "hit"),
    ("beg", false, "GET", "/ap", &[], "web"),
    ("end", false, "GET", "/s/site.css?v=1", &[], "hit"),
    ("end", false, "GET", "/site.CSS", &[], "web"),
    ("sub", false, "GET", "/x/ADMIN/y", &[], "hit"),
    ("sub", false, "GET", "/x/adm/y", &[], "web"),
    ("reg", false, "GET", "/v2/x", &[], "hit"),
    ("reg", false, "GET", "/vx/x", &[], "web"),
    ("found", false, "GET", "/", &[("X-Foo", "anything")], "hit"),
    ("found", false, "GET", "/", &[("X-Foo", "")], "hit"),
    ("found", false, "GET", "/", &[], "web"),
    ("len", false, "GET", "/", &[("X-Foo", "abc")], "hit"),
    ("len", false, "GET", "/", &[("X-Foo", "abcd")], "web"),
    ("path_beg", false, "GET", "/b/1", &[], "hit"),
    ("path_beg", false, "GET", "/c/1", &[], "web"),
    ("path_end", false, "GET", "/logo.png", &[], "hit"),
    ("path_end", false, "GET", "/logo.png.txt", &[], "web"),
    ("path_sub", false, "GET", "/myimgs", &[], "hit"),
    ("path_sub", false, "GET", "/IMG", &[], "web"),
    ("path_dir", false, "GET", "/static/img/a.png", &[], "hit"),
    ("path_dir", false, "GET", "/static/imgs/a.png", &[], "web"),
    ("path_reg", false, "GET", "/u42", &[], "hit"),
    ("path_reg", false, "GET", "/u42/x", &[], "web"),
    (
        "hdr_beg",
        false,
        "GET",
        "/",
        &[("Host", "api.example.com")],
        "hit",
    ),
    (
        "hdr_beg",
        false,
        "GET",
        "/",
        &[("Host", "www.api.com")],
        "web",
    ),
    (
        "hdr_end",
        false,
        "GET",
        "/",
        &[("Host", "example.org")],
        "hit",
    ),
    (
        "hdr_end",
        false,
        "GET",
        "/",
        &[("Host", "example.ORG")],
        "web",
    ),
    (
        "hdr_sub",
        false,
        "GET",
        "/",
        &[("X-Foo", "foobarbaz")],
        "hit",
    ),
    ("hdr_sub", false, "GET", "/", &[("X-Foo", "foo")], "web"),
    (
        "hdr_dom",
        false,
        "GET",
        "/",
        &[("Host", "a.example.com")],
        "hit",
    ),
    (
        "hdr_dom",
        false,
        "GET",
        "/",
        &[("Host", "example.com.evil")],
        "hit",
    ),
    (
        "hdr_dom",
        false,
        "GET",
        "/",
        &[("Host", "notexample.com")],
        "web",
    ),
    (
        "host",
        false,
        "GET",
        "/",
        &[("Host", "WWW.Example.Com")],
        "hit",
    ),
    (
        "host",
        false,
        "GET",
        "/",
        &[("Host", "www.example.co")],
        "web",
    ),
    ("xfoo", false, "GET", "/", &[("X-Foo", "x, abc")], "hit"),
    ("xfoo", false, "GET", "/", &[("X-Foo", "ABC")], "web"),
    (
        "first",
        false,
        "GET",
        "/",
        &[("X-Foo", "a, b"), ("X-Foo", "c")],
        "hit",
    ),
    ("first", false, "GET", "/", &[("X-Foo", "b, a")], "web"),
    (
        "last",
        false,
        "GET",
        "/",
        &[("X-Foo", "a"), ("X-Foo", "b, z")],
        "hit",
    ),
    ("last", false, "GET", "/", &[("X-Foo", "z, b")], "web"),
    ("fhdr", false, "GET", "/", &[("X-Foo", "a,b")], "hit"),
    (
        "fhdr",
        false,
        "GET",
        "/",
        &[("X-Foo", "a"), ("X-Foo", "b")],
        "web",
    ),
    ("unless", false, "GET", "/x", &[], "hit"),
    ("unless", false, "GET", "/keep/x", &[], "web"),
    ("or", false, "GET", "/o1", &[], "hit"),
    ("or", false, "GET", "/o2", &[], "hit"),
    ("or", false, "GET", "/o2", &[("X-Foo", "no")], "web"),
    ("or", false, "GET", "/o1", &[("X-Foo", "no")], "hit"),
    ("or", false, "GET", "/o3", &[], "web"),
    ("multi", false, "GET", "/m1/x", &[], "hit"),
    ("multi", false, "GET", "/m2/x", &[], "hit"),
    ("multi", false, "GET", "/m3/x", &[("X-Foo", "m3")], "hit"),
    ("multi", false, "GET", "/m3/x", &[], "web"),
    ("src4", false, "GET", "/", &[], "hit"),
    ("src4x", false, "GET", "/", &[], "web"),
    ("src4", true, "GET", "/", &[], "web"),
    ("src6", true, "GET", "/", &[], "hit"),
    ("src6", false, "GET", "/", &[], "web"),
    ("src6net", true, "GET", "/", &[], "hit"),
    ("method", false, "POST", "/", &[], "web"),
    ("method", false, "GET", "/", &[], "web"),
    ("methodcs", false, "PUT", "/", &[], "hit"),
    ("methodcs", false, "put", "/", &[], "web"),
    // HAProxy: `-i` only applies to methods it does not know; a known one (GET, POST,
    // …) matches its own name exactly.
    ("method", false, "post", "/", &[], "hit"),
    ("other", false, "PROPFIND", "/", &[], "hit"),
    ("other", false, "propFind", "/", &[], "hit"),
    ("methodstr", false, "POST", "/", &[], "hit"),
    // HAProxy's legacy syntax: a word after the fetch naming a converter applies it,
    // and still counts as a pattern.
    ("legacy", false, "GET", "/", &[("X-Foo", "FOO")], "hit"),
    ("legacy", false, "GET", "/", &[("X-Foo", "LOWER")], "hit"),
    ("legacy", false, "GET", "/", &[("X-Foo", "bar")], "web"),
    ("legacy2", false, "GET", "/", &[("X-Foo", "foo")], "hit"),
    ("legacy2", false, "GET", "/", &[("X-Foo", "bar")], "web"),
];

/// The backend named in the body of the answer to `req` sent to `addr`, or the status.
fn route(addr: SocketAddr, req: &[u8]) -> String {
    let out = send_raw_with(addr, req, Duration::from_secs(3), false);
    let text = String::from_utf8_lossy(&out).into_owned();
    if !text.starts_with("HTTP/1.1 200") {
        return text.lines().next().unwrap_or("(nothing)").to_string();
    }
    text.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

fn request(case: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nX-Case: c-{case}\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        r.push_str("Host: t\r\n");
    }
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    let body = if method.eq_ignore_ascii_case("post") || method.eq_ignore_ascii_case("put") {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    r.push_str(&format!("{body}Connection: close\r\n\r\n"));
    r.into_bytes()
}

#[test]
fn match_methods_route_like_haproxy() {
    let hit = HttpBackend::start("hit");
    let web = HttpBackend::start("web");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .listen_port("port6")
        .var("hit", hit.addr())
        .var("web", web.addr());
    // Both binds open together; the helpers wait on 127.0.0.1 only.
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);
    let mut wrong = Vec::new();
    for (case, v6, method, path, headers, expected) in CASES {
        let req = request(case, method, path, headers);
        let addr = |c: &Config| -> SocketAddr {
            if *v6 {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, c.port("port6")))
            } else {
                local(c.port("port"))
            }
        };
        let got = route(addr(&cfg), &req);
        let reference = route(addr(&href), &req);
        if got != *expected || reference != *expected {
            wrong.push(format!(
                "{case} {method} {path} {headers:?} v6={v6}: gatehouse {got}, haproxy {reference}, expected {expected}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
