//! The PROXY protocol, v1 and v2, against HAProxy 2.6 on both sides: `bind … accept-proxy`
//! takes the client's addresses from the header (for `src`/`dst`, the log and
//! `X-Forwarded-For`; `tcp-request connection` rules still see the real address); a
//! connection without a valid header is closed; `tcp-request connection expect-proxy
//! layer4` asks for it on matching connections only; `server … send-proxy` and
//! `send-proxy-v2` send it, as HAProxy's `accept-proxy` reads it.

mod support;
use std::io::{Read, Write};
use std::time::Duration;
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

const V2_SIG: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";

/// A v2 header for 203.0.113.7:4242 → 198.51.100.1:443.
fn v2_header() -> Vec<u8> {
    let mut h = V2_SIG.to_vec();
    h.extend_from_slice(&[0x21, 0x11, 0, 12, 203, 0, 113, 7, 198, 51, 100, 1]);
    h.extend_from_slice(&4242u16.to_be_bytes());
    h.extend_from_slice(&443u16.to_be_bytes());
    h
}

/// Sends `prefix` then a GET, and returns the response.
fn get_with(port: u16, prefix: &[u8]) -> String {
    let mut req = prefix.to_vec();
    req.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    String::from_utf8_lossy(&send_raw_with(
        local(port),
        &req,
        Duration::from_secs(3),
        false,
    ))
    .into_owned()
}

const ACCEPT: &str = "frontend f
  bind 127.0.0.1:{port} accept-proxy
  tcp-request connection reject unless { src 127.0.0.1 }
  option forwardfor
  http-request set-header X-Addrs %[src]:%[src_port]>%[dst]:%[dst_port]
  default_backend b
backend b
  server s {app}
";

#[test]
fn accept_proxy_reads_v1_and_v2_as_haproxy_does() {
    let mut seen = Vec::new();
    for haproxy in [false, true] {
        if haproxy && haproxy_bin().is_none() {
            continue;
        }
        let app = HttpBackend::start("app");
        let cfg = Config::new(&format!("{DEFAULTS}{ACCEPT}"))
            .listen_port("port")
            .var("app", app.addr());
        let _p = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        let port = cfg.port("port");
        let mut got = Vec::new();
        for prefix in [
            b"PROXY TCP4 192.0.2.10 192.0.2.20 5555 80\r\n".to_vec(),
            b"PROXY TCP6 2001:db8::1 2001:db8::2 6666 8080\r\n".to_vec(),
            v2_header(),
        ] {
            let out = get_with(port, &prefix);
            assert!(out.starts_with("HTTP/1.1 200"), "{out}");
            let r = app.requests().pop().unwrap();
            got.push((
                r.header("x-addrs").map(str::to_owned),
                r.header("x-forwarded-for").map(str::to_owned),
            ));
        }
        // Not a PROXY header, and a malformed one: closed without a response.
        let n = app.request_count();
        assert_eq!(get_with(port, b""), "");
        assert_eq!(get_with(port, b"PROXY TCP4 192.0.2.10 nope 1 2\r\n"), "");
        assert_eq!(app.request_count(), n);
        seen.push(got);
    }
    assert_eq!(
        seen[0][0],
        (
            Some("192.0.2.10:5555>192.0.2.20:80".into()),
            Some("192.0.2.10".into())
        )
    );
    assert_eq!(
        seen[0][2].0.as_deref(),
        Some("203.0.113.7:4242>198.51.100.1:443")
    );
    if seen.len() == 2 {
        assert_eq!(seen[0], seen[1], "gatehouse vs haproxy");
    }
}

#[test]
fn expect_proxy_layer4_applies_to_matching_connections_only() {
    let app = HttpBackend::start("app");
    let (p1, p2) = (free_port(), free_port());
    let cfg = format!(
        "{DEFAULTS}frontend a\n  bind 127.0.0.1:{p1}\n  tcp-request connection expect-proxy layer4 if {{ src 127.0.0.1 }}\n  http-request set-header X-Src %[src]\n  default_backend b\n\
         frontend c\n  bind 127.0.0.1:{p2}\n  tcp-request connection expect-proxy layer4 if {{ src 10.0.0.1 }}\n  http-request set-header X-Src %[src]\n  default_backend b\n\
         backend b\n  server s {}\n",
        app.addr()
    );
    let _g = Gatehouse::start(&cfg, &[p1, p2]);
    assert!(
        get_with(p1, b"PROXY TCP4 192.0.2.10 192.0.2.20 5555 80\r\n").starts_with("HTTP/1.1 200")
    );
    assert_eq!(
        app.requests().pop().unwrap().header("x-src"),
        Some("192.0.2.10")
    );
    assert_eq!(get_with(p1, b""), "", "the header is required");
    assert!(
        get_with(p2, b"").starts_with("HTTP/1.1 200"),
        "not asked for"
    );
    assert_eq!(
        app.requests().pop().unwrap().header("x-src"),
        Some("127.0.0.1")
    );
}

#[test]
fn send_proxy_v1_and_v2_are_read_by_haproxy() {
    require_haproxy();
    // HAProxy with accept-proxy answers the addresses it read.
    let hp = free_port();
    let reader = format!(
        "{DEFAULTS}frontend r\n  bind 127.0.0.1:{hp} accept-proxy\n  http-request return status 200 content-type text/plain lf-string \"%[src]>%[dst]:%[dst_port]\"\n"
    );
    let _h = Haproxy::start(&reader, &[hp]);
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  use_backend v2 if {{ path_beg /v2 }}\n  default_backend v1\n\
         backend v1\n  server s 127.0.0.1:{hp} send-proxy\nbackend v2\n  server s 127.0.0.1:{hp} send-proxy-v2\n"
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    for path in ["/v1", "/v2"] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(
            out.ends_with(&format!("127.0.0.1>127.0.0.1:{port}")),
            "{path}: {out}"
        );
    }
}

#[test]
fn haproxy_send_proxy_v2_is_read_by_accept_proxy_in_tcp_mode() {
    require_haproxy();
    let echo = TcpEcho::start();
    let gp = free_port();
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         listen g\n  bind 127.0.0.1:{gp} accept-proxy\n  tcp-request content reject unless {{ src 192.0.2.99 }}\n  server e {}\n",
        echo.addr()
    );
    let _g = Gatehouse::start(&cfg, &[gp]);
    // HAProxy in front, sending a v2 header with the address its client claimed.
    let hp = free_port();
    let front = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         listen h\n  bind 127.0.0.1:{hp} accept-proxy\n  server g 127.0.0.1:{gp} send-proxy-v2\n"
    );
    let _h = Haproxy::start(&front, &[hp]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", hp)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PROXY TCP4 192.0.2.99 192.0.2.1 1000 2000\r\nhello")
        .unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(
        &buf, b"hello",
        "the tcp-request content rule saw 192.0.2.99"
    );
}
