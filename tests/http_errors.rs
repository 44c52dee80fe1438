//! Error responses of `mode http`: each status gatehouse generates (400,
//! 408, 502, 503, 504) must carry HAProxy 2.6's status line, headers and
//! default page byte for byte, and `errorfile` must replace them verbatim.
//! Each test runs the same config on gatehouse and on the real haproxy
//! (other ports) and checks both against the expected bytes, so an
//! expectation that drifts from the reference fails too.
//!
//! `GATEHOUSE_TEST_PROXY=haproxy` runs haproxy in gatehouse's place.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::http1::{find, parse_head};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n";

fn use_reference() -> bool {
    std::env::var("GATEHOUSE_TEST_PROXY").is_ok_and(|v| v == "haproxy")
}

/// Starts gatehouse (or haproxy in reference mode) with `cfg` and `files`.
fn launch_with(cfg: &Config, files: &[(&str, &[u8])]) -> Daemon {
    let mut b = proxy_builder(use_reference(), cfg);
    for (name, contents) in files {
        b = b.file(name, contents.to_vec());
    }
    b.wait_ports(&cfg.listen_ports()).start()
}

/// Starts the real haproxy with the same config on fresh ports.
fn reference_with(cfg: &Config, files: &[(&str, &[u8])]) -> (Daemon, Config) {
    let cfg = cfg.with_fresh_ports();
    let mut b = Haproxy::builder(&cfg.render());
    for (name, contents) in files {
        b = b.file(name, contents.to_vec());
    }
    (b.wait_ports(&cfg.listen_ports()).start(), cfg)
}

/// What one client connection receives for `request`: a complete first
/// response (head plus content-length body), or everything until the
/// proxy closes; also whether the proxy closed the connection.
fn exchange(port: u16, request: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(4)))
        .expect("timeout");
    s.write_all(request).expect("write");
    read_response(&mut s)
}

fn read_response(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(&out, b"\r\n\r\n") {
            let want = parse_head(&out[..end + 4]).ok().and_then(|h| {
                h.header("content-length")
                    .and_then(|v| v.parse::<usize>().ok())
            });
            if let Some(len) = want
                && out.len() >= end + 4 + len
            {
                // Complete; see whether the proxy also closes.
                s.set_read_timeout(Some(Duration::from_millis(300)))
                    .expect("timeout");
                let closed = matches!(s.read(&mut buf), Ok(0));
                return (out, closed);
            }
        }
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// Runs `scenario(port)` against gatehouse and against haproxy with the
/// same config, asserts haproxy answers `expected` (validating the
/// expectation) and then that gatehouse answers it too.
fn same_as_haproxy(
    cfg: &Config,
    files: &[(&str, &[u8])],
    expected: &[u8],
    scenario: impl Fn(u16) -> (Vec<u8>, bool),
) {
    let (_h, hcfg) = reference_with(cfg, files);
    let (href, hclosed) = scenario(hcfg.port("port"));
    assert_eq!(
        String::from_utf8_lossy(&href),
        String::from_utf8_lossy(expected),
        "haproxy itself does not answer as this test expects"
    );
    let _g = launch_with(cfg, files);
    let (got, closed) = scenario(cfg.port("port"));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "response differs from haproxy's"
    );
    assert_eq!(
        closed, hclosed,
        "haproxy closed the connection: {hclosed}, gatehouse: {closed}"
    );
}

fn proxy_cfg(fe_lines: &str, be_lines: &str) -> Config {
    Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n{fe_lines}  default_backend be\n\
         backend be\n{be_lines}"
    ))
    .listen_port("port")
}

const PAGE_400: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
const PAGE_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const PAGE_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";
const PAGE_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
const PAGE_504: &[u8] = b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn malformed_request_gets_400_page_and_close() {
    let be = HttpBackend::start("app");
    let cfg = proxy_cfg("", "  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_400, |port| {
        exchange(port, b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
    });
    assert_eq!(
        be.request_count(),
        0,
        "a malformed request reached the server"
    );
}

#[test]
fn slow_request_headers_get_408_after_timeout_http_request() {
    let be = HttpBackend::start("app");
    let cfg =
        proxy_cfg("  timeout http-request 500ms\n", "  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_408, |port| {
        let mut s = TcpStream::connect(local(port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(4)))
            .expect("timeout");
        let t0 = Instant::now();
        // Slowloris: a header line every 200 ms never completes the head.
        for part in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"Host: x\r\n",
            b"X-A: 1\r\n",
            b"X-B: 2\r\n",
        ] {
            if s.write_all(part).is_err() {
                break;
            }
            // Slowloris pacing: time is the behaviour under test.
            std::thread::sleep(Duration::from_millis(200));
        }
        let r = read_response(&mut s);
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(450) && took < Duration::from_millis(2500),
            "408 after {took:?}, expected about 500 ms"
        );
        r
    });
    assert_eq!(be.request_count(), 0);
}

#[test]
fn garbage_server_response_gets_502() {
    let be = HttpBackend::builder("bad")
        .raw_reply(&b"this is not http\r\n\r\n"[..])
        .start();
    let cfg = proxy_cfg("", "  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_502, |port| exchange(port, GET));
}

#[test]
fn response_truncated_inside_its_head_gets_502() {
    let be = HttpBackend::builder("cut")
        .raw_reply(&b"HTTP/1.1 200 OK\r\nContent-Len"[..])
        .start();
    let cfg = proxy_cfg("", "  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_502, |port| exchange(port, GET));
}

#[test]
fn server_closing_without_answer_gets_502() {
    let be = HttpBackend::builder("mute")
        .read_request_then_close()
        .start();
    let cfg = proxy_cfg("", "  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_502, |port| exchange(port, GET));
}

#[test]
fn response_body_truncated_after_head_aborts_the_client_connection() {
    let be = HttpBackend::builder("short")
        .raw_reply(&b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-this"[..])
        .start();
    let cfg = proxy_cfg("", "  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(
        &cfg,
        &[],
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-this",
        |port| exchange(port, GET),
    );
}

#[test]
fn all_servers_disabled_gets_503() {
    let be = HttpBackend::start("off");
    let cfg = proxy_cfg("", "  server s1 {be} disabled\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_503, |port| exchange(port, GET));
    assert_eq!(be.request_count(), 0);
}

#[test]
fn backend_without_servers_gets_503() {
    let cfg = proxy_cfg("", "");
    same_as_haproxy(&cfg, &[], PAGE_503, |port| exchange(port, GET));
}

#[test]
fn queue_timeout_gets_503() {
    let be = HttpBackend::builder("busy")
        .delay(Duration::from_millis(1500))
        .start();
    let cfg =
        proxy_cfg("", "  timeout queue 300ms\n  server s1 {be} maxconn 1\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_503, |port| {
        // Occupy the only slot, then queue a second request behind it.
        let before = be.request_count();
        let mut first = TcpStream::connect(local(port)).expect("connect");
        first
            .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        assert!(
            wait_until(Duration::from_secs(5), || be.request_count() > before),
            "the first request did not reach the server"
        );
        let t0 = Instant::now();
        let r = exchange(port, GET);
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_millis(1400),
            "queued request answered after {took:?}, expected about 300 ms"
        );
        // Let the first request finish before the next proxy uses the backend.
        first
            .set_read_timeout(Some(Duration::from_secs(3)))
            .expect("timeout");
        let _ = read_response(&mut first);
        r
    });
}

#[test]
fn timeout_server_gets_504() {
    let be = HttpBackend::builder("slow")
        .delay(Duration::from_millis(1500))
        .start();
    let cfg = proxy_cfg("", "  timeout server 300ms\n  server s1 {be}\n").var("be", be.addr());
    same_as_haproxy(&cfg, &[], PAGE_504, |port| {
        let t0 = Instant::now();
        let r = exchange(port, GET);
        let took = t0.elapsed();
        assert!(
            took < Duration::from_millis(1400),
            "504 after {took:?}, expected ~300 ms"
        );
        r
    });
}

#[test]
fn errorfile_replaces_the_503_page() {
    // HAProxy 2.6 parses the file into a message: the body is sent byte for
    // byte, header names are lowercased and its `Connection: close` becomes
    // the proxy's own close announcement, written last.
    let page: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-cache\r\n\
        Connection: close\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nX-Custom: yes\r\n\r\n\
        sorry, we are down\n";
    let sent: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\n\
        content-type: text/plain\r\ncontent-length: 19\r\nx-custom: yes\r\nconnection: close\r\n\r\nsorry, we are down\n";
    let cfg = proxy_cfg("", "  errorfile 503 down.http\n");
    same_as_haproxy(&cfg, &[("down.http", page)], sent, |port| {
        exchange(port, GET)
    });
}

#[test]
fn errorfile_without_length_is_sent_close_delimited() {
    let page: &[u8] =
        b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\n<p>down</p>\n";
    let sent: &[u8] =
        b"HTTP/1.0 503 Service Unavailable\r\ncontent-type: text/plain\r\n\r\n<p>down</p>\n";
    let cfg = proxy_cfg("", "  errorfile 503 down.http\n");
    same_as_haproxy(&cfg, &[("down.http", page)], sent, |port| {
        exchange(port, GET)
    });
}

#[test]
fn error_page_keeps_client_connection_open_when_haproxy_does() {
    // After a 503 the client connection stays usable (no `Connection: close`).
    let cfg = proxy_cfg("", "");
    let _p = launch_with(&cfg, &[]);
    let mut c = HttpClient::connect(local(cfg.port("port"))).expect("connect");
    for i in 0..2 {
        let r = c.get("/", &[]).expect("response");
        assert_eq!(r.status, 503, "request {i}");
    }
}
