//! The PROXY protocol going out to a real reader: `server … send-proxy` (v1) and
//! `send-proxy-v2`, in `mode http` and `mode tcp`, in clear and over TLS (`ssl`: the
//! header goes before the handshake), toward nginx listeners marked `proxy_protocol`
//! (http and stream, Debian's `libnginx-mod-stream`). nginx writes
//! `$proxy_protocol_addr`/`_port`/`_server_addr`/`_server_port` into log files the test
//! reads: the real client's address and port and the proxy's listening address must
//! arrive, for each client of a server connection. Run with gatehouse and then haproxy
//! 2.6 on the same configuration, and both must deliver the same.
//!
//! Clients connect from 127.0.0.2 and 127.0.0.3; the proxies connect to nginx from
//! 127.0.0.1, which is what nginx would report without the header.

mod support;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use support::client::connect_from;
use support::nginx::Nginx;
use support::*;

const DEFAULTS: &str = "defaults\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// The nginx log format of every listener: what the PROXY header said, then the TCP peer.
const LOG_FORMAT: &str = "log_format pp '$proxy_protocol_addr $proxy_protocol_port \
    $proxy_protocol_server_addr $proxy_protocol_server_port peer=$remote_addr';\n";

/// Sends `bytes` from `127.0.0.<host>` to `port` and reads until the close; returns the
/// client's port and what came back.
fn exchange_from(host: u8, port: u16, bytes: &[u8]) -> (u16, String) {
    let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, host));
    let mut s = connect_from(src, local(port));
    let cport = s.local_addr().expect("local addr").port();
    s.write_all(bytes).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (cport, String::from_utf8_lossy(&out).into_owned())
}

/// The lines of nginx's log `name` for the test's clients (127.0.0.2 and .3; start-up
/// probes connect from 127.0.0.1), once there are at least `n`.
fn log_lines(nginx: &Nginx, name: &str, n: usize) -> Vec<String> {
    let lines = || -> Vec<String> {
        nginx
            .file(name)
            .lines()
            .filter(|l| l.starts_with("127.0.0.2 ") || l.starts_with("127.0.0.3 "))
            .map(str::to_owned)
            .collect()
    };
    wait_until(DEFAULT_TIMEOUT, || lines().len() >= n);
    lines()
}

#[test]
fn send_proxy_v1_and_v2_reach_nginx_http_stream_and_tls_listeners_as_with_haproxy() {
    require_haproxy();
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let (h, hs, st) = (free_port(), free_port(), free_port());
        let tls = Nginx::tls();
        let nginx = Nginx::start_with_stream(
            &format!(
                "{LOG_FORMAT}\
                 server {{\n  listen 127.0.0.1:{h} proxy_protocol;\n  \
                 access_log {{dir}}/http.log pp;\n  return 200 \"ok\\n\";\n}}\n\
                 server {{\n  listen 127.0.0.1:{hs} ssl proxy_protocol;\n  {tls}  \
                 access_log {{dir}}/https.log pp;\n  return 200 \"ok\\n\";\n}}\n"
            ),
            &format!(
                "{LOG_FORMAT}server {{\n  listen 127.0.0.1:{st} proxy_protocol;\n  \
                 access_log {{dir}}/stream.log pp;\n  \
                 return \"$proxy_protocol_addr $proxy_protocol_port\\n\";\n}}\n"
            ),
            &[h, hs, st],
        );
        let (web, tcp1, tcp2) = (free_port(), free_port(), free_port());
        let cfg = format!(
            "{DEFAULTS}frontend web\n  mode http\n  bind 127.0.0.1:{web}\n  \
             use_backend v2 if {{ path /v2 }}\n  use_backend tls1 if {{ path /tls1 }}\n  \
             use_backend tls2 if {{ path /tls2 }}\n  default_backend v1\n\
             backend v1\n  mode http\n  server s 127.0.0.1:{h} send-proxy\n\
             backend v2\n  mode http\n  server s 127.0.0.1:{h} send-proxy-v2\n\
             backend tls1\n  mode http\n  server s 127.0.0.1:{hs} ssl verify none send-proxy\n\
             backend tls2\n  mode http\n  server s 127.0.0.1:{hs} ssl verify none send-proxy-v2\n\
             listen tcp1\n  mode tcp\n  bind 127.0.0.1:{tcp1}\n  server s 127.0.0.1:{st} send-proxy\n\
             listen tcp2\n  mode tcp\n  bind 127.0.0.1:{tcp2}\n  server s 127.0.0.1:{st} send-proxy-v2\n"
        );
        let _p = proxy_builder(haproxy, &Config::new(&cfg))
            .wait_ports(&[web, tcp1, tcp2])
            .start();

        // HTTP: two clients one after the other on each path; each request's log line
        // must name its own client (a server connection carrying one client's header is
        // not reused for another).
        let (mut http, mut https) = (Vec::new(), Vec::new());
        for path in ["/v1", "/v2", "/tls1", "/tls2"] {
            for host in [2, 3] {
                let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                // Keep-alive on both sides: the client reads the response and hangs up,
                // leaving the server connection free for the next client.
                let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, host));
                let mut s = connect_from(src, local(web));
                let cport = s.local_addr().expect("local addr").port();
                s.write_all(req.as_bytes()).expect("send");
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.ends_with(b"ok\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                drop(s);
                let resp = String::from_utf8_lossy(&got);
                assert!(
                    resp.starts_with("HTTP/1.1 200") && resp.ends_with("ok\n"),
                    "{who} {path} from 127.0.0.{host}: {resp}; nginx: {}",
                    nginx.error_log()
                );
                let want = format!("127.0.0.{host} {cport} 127.0.0.1 {web} peer=127.0.0.1");
                if path.starts_with("/tls") {
                    https.push(want);
                } else {
                    http.push(want);
                }
            }
        }
        assert_eq!(
            log_lines(&nginx, "http.log", 4),
            http,
            "{who}: http listener"
        );
        assert_eq!(
            log_lines(&nginx, "https.log", 4),
            https,
            "{who}: TLS listener"
        );

        // TCP: the stream listener answers what it read and logs it at the close.
        let mut stream = Vec::new();
        for (port, host) in [(tcp1, 2), (tcp1, 3), (tcp2, 2), (tcp2, 3)] {
            let (cport, got) = exchange_from(host, port, b"");
            assert_eq!(
                got,
                format!("127.0.0.{host} {cport}\n"),
                "{who} tcp {port} from 127.0.0.{host}; nginx: {}",
                nginx.error_log()
            );
            stream.push(format!(
                "127.0.0.{host} {cport} 127.0.0.1 {port} peer=127.0.0.1"
            ));
            assert_eq!(
                log_lines(&nginx, "stream.log", stream.len()),
                stream,
                "{who}: stream listener"
            );
        }
    }
}
