//! `tcp-request content accept|reject` rules apply in both modes (without payload
//! inspection yet): in tcp mode on connection data, in http mode on the parsed request.

mod support;
use std::time::Duration;
use support::*;

const DEFAULTS: &str = "defaults\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

#[test]
fn http_mode_content_rules_see_the_request() {
    let be = HttpBackend::start("app");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  mode http\n  bind 127.0.0.1:{port}\n  tcp-request content reject if {{ path_beg /blocked }}\n  default_backend b\n\
         backend b\n  mode http\n  server s {}\n",
        be.addr()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    assert_eq!(http_get(local(port), "/ok", &[]).unwrap().status, 200);
    let out = send_raw_with(
        local(port),
        b"GET /blocked HTTP/1.1\r\nHost: a\r\n\r\n",
        Duration::from_secs(2),
        false,
    );
    assert!(
        out.is_empty(),
        "a rejected request gets no response: {:?}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(
        be.requests().iter().filter(|r| r.uri == "/blocked").count(),
        0
    );
}

#[test]
fn tcp_mode_content_rules_on_connection_data() {
    let echo = TcpEcho::start();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  mode tcp\n  bind 127.0.0.1:{port}\n  tcp-request content reject if {{ dst_port {port} }}\n  default_backend b\n\
         backend b\n  mode tcp\n  server s {}\n",
        echo.addr()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let out = send_raw_with(local(port), b"ping", Duration::from_secs(2), true);
    assert!(out.is_empty(), "rejected: nothing echoed");
    assert_eq!(echo.bytes_echoed(), 0);
}
