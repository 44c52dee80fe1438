//! `use_backend` with a log-format name, resolved per request (HAProxy's dynamic
//! switching rules): by a map of hosts, by a path segment, a name that resolves to no
//! backend (the search stops there and `default_backend` takes the request, or 503
//! without one), a frontend-only name, a `mode tcp` backend named from an HTTP
//! frontend (the stream is aborted without a response), and `mode tcp` frontends.
//! Every case runs in gatehouse and in Debian's haproxy 2.6 with the same
//! configuration and must agree, and agree with what the case expects.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::route::{Case, request, wrong_routes};
use support::*;

const CFG: &str = "defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  use_backend be_%[req.hdr(host),lower,map({hosts},zz)] if { req.hdr(x-by-host) -m found }
  use_backend %[path,field(2,/)]
  default_backend be_def
frontend nodef
  bind 127.0.0.1:{nodef}
  use_backend %[path,field(2,/)]
frontend only_fe
  bind 127.0.0.1:{onlyfe}
  default_backend be_def
backend be_a
  server s {a}
backend be_b
  server s {b}
backend be_def
  server s {def}
backend tcpb
  mode tcp
  server s {tcpb}
";

/// (listener, path, headers, what the client gets: a backend's name or a status line).
const CASES: &[Case] = &[
    (
        "port",
        "/",
        &[("X-By-Host", "1"), ("Host", "A.example")],
        "a",
    ),
    (
        "port",
        "/",
        &[("X-By-Host", "1"), ("Host", "b.example")],
        "b",
    ),
    // The condition matched but the name is unknown: no later rule is tried.
    (
        "port",
        "/be_b/x",
        &[("X-By-Host", "1"), ("Host", "c.example")],
        "def",
    ),
    ("port", "/be_a/x", &[], "a"),
    ("port", "/be_b", &[], "b"),
    ("port", "/nope/x", &[], "def"),
    ("port", "/", &[], "def"),
    // A frontend is no backend.
    ("port", "/only_fe/", &[], "def"),
    ("port", "/tcpb/x", &[], "(nothing)"),
    ("nodef", "/be_a/", &[], "a"),
    ("nodef", "/nope", &[], "HTTP/1.1 503 Service Unavailable"),
];

#[test]
fn dynamic_use_backend_routes_like_haproxy() {
    let dir = TempDir::new("dyn-backend");
    let hosts = dir.write("hosts.map", "a.example a\nb.example b\n");
    let a = HttpBackend::start("a");
    let b = HttpBackend::start("b");
    let def = HttpBackend::start("def");
    let tcpb = TcpEcho::start();
    let cfg = Config::new(CFG)
        .listen_port("port")
        .listen_port("nodef")
        .listen_port("onlyfe")
        .var("a", a.addr())
        .var("b", b.addr())
        .var("def", def.addr())
        .var("tcpb", tcpb.addr())
        .var("hosts", hosts.display());
    let _g = Gatehouse::start(&cfg.render(), &cfg.listen_ports());
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &href.listen_ports());
    let wrong = wrong_routes(CASES, |(listener, path, headers, _)| {
        let (gh, hp) = (local(cfg.port(listener)), local(href.port(listener)));
        (gh, hp, request("GET", path, headers))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Nothing reached the TCP backend from the HTTP frontend.
    assert_eq!(tcpb.connections(), 0);
}

const TCP_CFG: &str = "defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend by_src
  bind 127.0.0.1:{port}
  use_backend b_%[src]
  default_backend def
frontend unknown
  bind 127.0.0.1:{unknown}
  use_backend nope_%[src]
  use_backend b_127.0.0.1
  default_backend def
backend b_127.0.0.1
  server s {one}
backend def
  server s {def}
";

/// The banner the server behind `addr` greets with.
fn banner(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"hi").unwrap();
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn dynamic_use_backend_in_tcp_mode_like_haproxy() {
    let one = TcpBanner::start(b"one");
    let def = TcpBanner::start(b"def");
    let cfg = Config::new(TCP_CFG)
        .listen_port("port")
        .listen_port("unknown")
        .var("one", one.addr())
        .var("def", def.addr());
    let _g = Gatehouse::start(&cfg.render(), &cfg.listen_ports());
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &href.listen_ports());
    for c in [&cfg, &href] {
        assert_eq!(banner(local(c.port("port"))), "one");
        // An unknown name ends the search: the static rule after it is not tried.
        assert_eq!(banner(local(c.port("unknown"))), "def");
    }
}
