//! The PROXY protocol against nginx, a real `proxy_protocol` listener: a client's PROXY
//! header (v1 over IPv4 and IPv6, v2) read by `bind … accept-proxy` goes on to nginx
//! with `server … send-proxy` (v1) and `send-proxy-v2`, and nginx's
//! `$proxy_protocol_addr`/`_port`/`_server_addr`/`_server_port` show the client's
//! addresses; a plain connection gives the proxy's own. Compared with haproxy 2.6 on the
//! same configuration.

mod support;
use std::time::Duration;
use support::nginx::Nginx;
use support::*;

const V2_SIG: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";

/// A v2 header for 203.0.113.7:4242 → 198.51.100.1:443.
fn v2_header() -> Vec<u8> {
    let mut h = V2_SIG.to_vec();
    h.extend_from_slice(&[0x21, 0x11, 0, 12, 203, 0, 113, 7, 198, 51, 100, 1]);
    h.extend_from_slice(&4242u16.to_be_bytes());
    h.extend_from_slice(&443u16.to_be_bytes());
    h
}

/// Sends `prefix` then a GET for `path`, and returns the response body.
fn body_of(port: u16, prefix: &[u8], path: &str) -> String {
    let mut req = prefix.to_vec();
    req.extend_from_slice(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let out = send_raw_with(local(port), &req, Duration::from_secs(5), false);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(text.starts_with("HTTP/1.1 200"), "{path}: {text}");
    text.split("\r\n\r\n")
        .nth(1)
        .unwrap_or("")
        .trim()
        .to_string()
}

#[test]
fn proxy_headers_in_and_out_reach_nginx_as_with_haproxy() {
    let ng = free_port();
    let nginx = Nginx::start(
        &format!(
            "server {{\n  listen 127.0.0.1:{ng} proxy_protocol;\n  \
             return 200 \"$proxy_protocol_addr $proxy_protocol_port \
             $proxy_protocol_server_addr $proxy_protocol_server_port\\n\";\n}}\n"
        ),
        &[ng],
    );
    let (inp, plain) = (free_port(), free_port());
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{inp} accept-proxy\n  bind 127.0.0.1:{plain}\n  \
         use_backend v2 if {{ path /v2 }}\n  default_backend v1\n\
         backend v1\n  server s 127.0.0.1:{ng} send-proxy\n\
         backend v2\n  server s 127.0.0.1:{ng} send-proxy-v2\n"
    );
    let mut seen = Vec::new();
    for name in ["gatehouse", "haproxy"] {
        let _p = if name == "haproxy" {
            require_haproxy();
            Haproxy::builder(&cfg)
                .wait_port(inp)
                .wait_port(plain)
                .start()
        } else {
            Gatehouse::builder(&cfg)
                .wait_port(inp)
                .wait_port(plain)
                .start()
        };
        let mut got = Vec::new();
        for prefix in [
            b"PROXY TCP4 192.0.2.10 192.0.2.20 5555 80\r\n".to_vec(),
            b"PROXY TCP6 2001:db8::1 2001:db8::2 6666 8080\r\n".to_vec(),
            v2_header(),
        ] {
            for path in ["/v1", "/v2"] {
                got.push(body_of(inp, &prefix, path));
            }
        }
        // A plain connection: the proxy's own view (the client's port varies).
        for path in ["/v1", "/v2"] {
            let b = body_of(plain, b"", path);
            let f: Vec<&str> = b.split(' ').collect();
            assert_eq!(f.len(), 4, "{name}: {b}");
            got.push(format!("{} * {} {}", f[0], f[2], f[3]));
        }
        seen.push(got);
    }
    let expect = [
        "192.0.2.10 5555 192.0.2.20 80",
        "192.0.2.10 5555 192.0.2.20 80",
        "2001:db8::1 6666 2001:db8::2 8080",
        "2001:db8::1 6666 2001:db8::2 8080",
        "203.0.113.7 4242 198.51.100.1 443",
        "203.0.113.7 4242 198.51.100.1 443",
        &format!("127.0.0.1 * 127.0.0.1 {plain}"),
        &format!("127.0.0.1 * 127.0.0.1 {plain}"),
    ];
    assert_eq!(seen[0], expect, "gatehouse; nginx: {}", nginx.error_log());
    assert_eq!(seen[0], seen[1], "gatehouse vs haproxy");
}
