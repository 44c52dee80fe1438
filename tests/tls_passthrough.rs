//! TLS passthrough in `mode tcp`: `tcp-request inspect-delay` holds the connection until
//! the ClientHello is in, `tcp-request content accept if { req.ssl_hello_type 1 }`
//! rejects what is not TLS, and `use_backend … if { req.ssl_sni … }` routes by the
//! server name without decrypting, to two TLS servers (HAProxy terminating with their
//! own certificates). The same configuration runs through HAProxy 2.6 for comparison.

mod support;
use std::time::Duration;
use support::pki::{Pki, curl};
use support::*;

const TCP: &str =
    "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

const FRONT: &str = "frontend f
  bind 127.0.0.1:{port}
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  tcp-request content reject
  use_backend a if { req.ssl_sni -i www.site.test }
  use_backend b if { req.ssl_sni -m end .wild.test }
  default_backend a
backend a
  server a {a}
backend b
  server b {b}
";

/// HAProxy terminating TLS with `crt`, answering its name and the SNI it saw.
fn tls_server(name: &str, crt: &str) -> (Daemon, u16) {
    let port = free_port();
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend {name}\n  bind 127.0.0.1:{port} ssl crt {crt}\n  http-request return status 200 content-type text/plain lf-string \"{name} sni=%[ssl_fc_sni]\"\n"
    );
    (Haproxy::start(&cfg, &[port]).0, port)
}

#[test]
fn tls_passthrough_routes_by_sni_without_decrypting() {
    require_haproxy();
    let pki = Pki::get();
    let (_a, ap) = tls_server("a", &pki.p("site.pem"));
    let (_b, bp) = tls_server("b", &pki.p("wild.pem"));
    let mut runs = Vec::new();
    for haproxy in [false, true] {
        let cfg = Config::new(&format!("{TCP}{FRONT}"))
            .listen_port("port")
            .var("a", format!("127.0.0.1:{ap}"))
            .var("b", format!("127.0.0.1:{bp}"));
        let _p = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        let port = cfg.port("port");
        let get = |name: &str| {
            curl(&[
                "--cacert",
                &pki.p("ca.pem"),
                "--resolve",
                &format!("{name}:{port}:127.0.0.1"),
                &format!("https://{name}:{port}/"),
            ])
        };
        let mut got = vec![get("www.site.test"), get("x.wild.test"), get("site.test")];
        // Not TLS: rejected without reaching a server.
        let plain = send_raw_with(
            local(port),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            Duration::from_secs(3),
            false,
        );
        got.push(Some(String::from_utf8_lossy(&plain).into_owned()));
        runs.push(got);
    }
    assert_eq!(runs[0][0].as_deref(), Some("a sni=www.site.test"));
    assert_eq!(runs[0][1].as_deref(), Some("b sni=x.wild.test"));
    assert_eq!(runs[0][2].as_deref(), Some("a sni=site.test"));
    assert_eq!(runs[0][3].as_deref(), Some(""));
    assert_eq!(runs[0], runs[1], "gatehouse vs haproxy");
}

#[test]
fn without_payload_rules_nothing_waits_for_the_client() {
    // A server that speaks first (a banner): with an inspect-delay but rules that read
    // only the connection, the client gets the banner at once.
    let banner = TcpBanner::start(b"220 ready\r\n");
    let port = free_port();
    let cfg = format!(
        "{TCP}listen l\n  bind 127.0.0.1:{port}\n  tcp-request inspect-delay 30s\n  tcp-request content accept if {{ src 127.0.0.1 }}\n  server s {}\n",
        banner.addr()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 11];
    std::io::Read::read_exact(&mut s, &mut buf).unwrap();
    assert_eq!(&buf, b"220 ready\r\n");
}
