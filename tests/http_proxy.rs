//! `mode http` proxying through the real binary: keep-alive on both sides,
//! pipelining, request/response body streaming (content-length, chunked,
//! 5 MB), `Expect: 100-continue`, HTTP/1.0 clients, hop-by-hop headers,
//! `option httpclose` / `http-server-close`, `http-reuse`, WebSocket
//! tunnels with `timeout tunnel`, and `option forwardfor`.
//!
//! Every expectation was checked against HAProxy 2.6: run the file with
//! `GATEHOUSE_TEST_PROXY=haproxy` to start the reference instead of gatehouse.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::http1::{BufConn, find, parse_head};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n";

/// Starts the proxy under test (gatehouse, or haproxy when
/// `GATEHOUSE_TEST_PROXY=haproxy`) and waits for its listen ports.
fn launch(cfg: &Config) -> Daemon {
    if std::env::var("GATEHOUSE_TEST_PROXY").is_ok_and(|v| v == "haproxy") {
        Haproxy::start_config(cfg).0
    } else {
        Gatehouse::start_config(cfg).0
    }
}

/// A proxy with one frontend on `{port}` whose extra lines are `fe_lines`,
/// forwarding to a backend (extra lines `be_lines`) with the single server
/// `be`.
fn simple(fe_lines: &str, be_lines: &str, be: &HttpBackend) -> (Daemon, u16) {
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n{fe_lines}  default_backend be\n\
         backend be\n{be_lines}  server s1 {{be}}\n"
    ))
    .listen_port("port")
    .var("be", be.addr());
    let d = launch(&cfg);
    (d, cfg.port("port"))
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(local(port)).expect("connect to proxy");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Reads from `s` until `needle` has been seen (or EOF / 5 s); returns all.
fn read_until(s: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while find(&out, needle).is_none() {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Whether the peer closes `s` within `within` (EOF or reset).
fn closes_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn keep_alive_on_both_sides_reuses_one_backend_connection() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("", "  http-reuse safe\n", &be);
    let mut c = HttpClient::connect(local(port)).expect("connect");
    for i in 0..5 {
        let r = c.get(&format!("/r{i}"), &[]).expect("response");
        assert_eq!(
            (r.status, r.body_str().as_str()),
            (200, "app"),
            "request {i}"
        );
        assert!(
            !c.server_closed(),
            "proxy closed the client connection after request {i}"
        );
    }
    let reqs = be.wait_requests(5);
    let uris: Vec<&str> = reqs.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["/r0", "/r1", "/r2", "/r3", "/r4"]);
    assert_eq!(
        be.connections(),
        1,
        "5 keep-alive requests should share one server connection"
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let slow = HttpBackend::builder("first")
        .delay(Duration::from_millis(300))
        .start();
    let b = HttpBackend::start("second");
    let c = HttpBackend::start("third");
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n\
         use_backend b1 if {{ path_beg /a }}\n  use_backend b2 if {{ path_beg /b }}\n  default_backend b3\n\
         backend b1\n  server s {{a}}\nbackend b2\n  server s {{b}}\nbackend b3\n  server s {{c}}\n"
    ))
    .listen_port("port")
    .var("a", slow.addr())
    .var("b", b.addr())
    .var("c", c.addr());
    let _p = launch(&cfg);
    let mut s = connect(cfg.port("port"));
    s.write_all(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .expect("write");
    let mut conn = BufConn::new(s);
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let head = conn.read_head().expect("read").expect("a response head");
        let head = parse_head(&head).expect("parse");
        assert_eq!(head.second, "200");
        let len: usize = head
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .expect("content-length");
        bodies.push(String::from_utf8(conn.read_exact_body(len).expect("body")).expect("utf8"));
    }
    assert_eq!(bodies, ["first", "second", "third"]);
}

fn big_body() -> Vec<u8> {
    (0..5 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect()
}

#[test]
fn content_length_request_body_of_5mb_arrives_intact() {
    let be = HttpBackend::builder("echo").echo_body().start();
    let (_p, port) = simple("", "", &be);
    let body = big_body();
    let r = http_request(local(port), "POST", "/upload", &[], &body).expect("response");
    assert_eq!(r.status, 200);
    assert!(
        r.body == body,
        "echoed body differs ({} bytes back)",
        r.body.len()
    );
    let req = &be.wait_requests(1)[0];
    assert_eq!(req.header("content-length"), Some("5242880"));
}

#[test]
fn chunked_request_body_is_streamed_to_the_server() {
    let be = HttpBackend::builder("echo").echo_body().start();
    let (_p, port) = simple("", "", &be);
    let body = big_body();
    let mut wire = Vec::new();
    for chunk in body.chunks(100_000) {
        wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        wire.extend_from_slice(chunk);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let mut c = HttpClient::connect(local(port)).expect("connect");
    let r = c
        .request(
            "POST",
            "/chunked",
            &[("Transfer-Encoding", "chunked")],
            &wire,
        )
        .expect("response");
    assert_eq!(r.status, 200);
    assert!(
        r.body == body,
        "echoed body differs ({} bytes back)",
        r.body.len()
    );
    let req = &be.wait_requests(1)[0];
    assert_eq!(req.header("transfer-encoding"), Some("chunked"));
    assert_eq!(req.header("content-length"), None);
}

#[test]
fn chunked_response_body_reaches_the_client_chunked() {
    let be = HttpBackend::builder("chunky")
        .raw_reply(
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"[..],
        )
        .start();
    let (_p, port) = simple("", "", &be);
    let r = http_get(local(port), "/", &[]).expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body_str(), "hello world");
}

#[test]
fn http_buffer_request_answers_expect_100_continue_itself() {
    let be = HttpBackend::builder("echo").echo_body().start();
    let (_p, port) = simple("  option http-buffer-request\n", "", &be);
    let mut s = connect(port);
    s.write_all(
        b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .expect("write head");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let interim = read_until(&mut s, b"\r\n\r\n");
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "expected 100 Continue before sending the body, got {:?}",
        String::from_utf8_lossy(&interim)
    );
    assert_eq!(
        be.request_count(),
        0,
        "body not sent yet: nothing forwarded"
    );
    s.write_all(b"hello").expect("write body");
    let fin = read_until(&mut s, b"hello");
    let text = String::from_utf8_lossy(&fin);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n"),
        "final response: {text:?}"
    );
    assert!(text.ends_with("\r\n\r\nhello"), "final response: {text:?}");
    assert_eq!(be.wait_requests(1)[0].body, b"hello");
}

/// An origin that honours `Expect: 100-continue` itself: sends the
/// interim response, reads the body, echoes it in a `200`.
fn continue_origin() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            std::thread::spawn(move || {
                let mut c = BufConn::new(s);
                let Ok(Some(raw)) = c.read_head() else { return };
                let Ok(head) = parse_head(&raw) else { return };
                if head.header("expect").is_some()
                    && c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
                {
                    return;
                }
                let len = head
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let Ok(body) = c.read_exact_body(len) else {
                    return;
                };
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nx-saw-expect: {}\r\n\r\n",
                    body.len(),
                    head.header("expect").unwrap_or("none")
                )
                .into_bytes();
                out.extend_from_slice(&body);
                let _ = c.write_all(&out);
            });
        }
    });
    addr
}

#[test]
fn expect_100_continue_is_relayed_from_the_server() {
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n  default_backend be\n\
         backend be\n  server s1 {{be}}\n"
    ))
    .listen_port("port")
    .var("be", continue_origin());
    let _p = launch(&cfg);
    let mut s = connect(cfg.port("port"));
    s.write_all(b"PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .expect("write head");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let interim = read_until(&mut s, b"\r\n\r\n");
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "expected the server's 100 Continue before sending the body, got {:?}",
        String::from_utf8_lossy(&interim)
    );
    s.write_all(b"hello").expect("write body");
    let fin = String::from_utf8_lossy(&read_until(&mut s, b"hello")).into_owned();
    assert!(fin.starts_with("HTTP/1.1 200 OK\r\n"), "{fin:?}");
    assert!(fin.contains("x-saw-expect: 100-continue\r\n"), "{fin:?}");
    assert!(fin.ends_with("\r\n\r\nhello"), "{fin:?}");
}

#[test]
fn http10_client_without_keep_alive_is_closed_after_response() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("", "", &be);
    let out = send_raw(local(port), b"GET /old HTTP/1.0\r\n\r\n");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
    assert!(text.contains("\r\nconnection: close\r\n"), "{text:?}");
    assert!(!text.contains("transfer-encoding"), "{text:?}");
    assert!(text.ends_with("\r\n\r\napp"), "{text:?}");
    let req = &be.wait_requests(1)[0];
    assert_eq!((req.method.as_str(), req.uri.as_str()), ("GET", "/old"));
    assert_eq!(req.version, "HTTP/1.0");
}

#[test]
fn http10_client_asking_keep_alive_keeps_its_connection() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("", "", &be);
    let mut c = HttpClient::connect(local(port)).expect("connect");
    for i in 0..2 {
        let r = c
            .send_raw_request(b"GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false)
            .expect("response");
        assert_eq!(r.status, 200, "request {i}");
        assert_eq!(r.header("connection"), Some("keep-alive"), "request {i}");
        assert_eq!(r.body_str(), "app");
    }
    assert!(!c.server_closed());
}

#[test]
fn hop_by_hop_handling_matches_haproxy() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("", "", &be);
    let out = send_raw(
        local(port),
        b"GET /h HTTP/1.1\r\nHost: a\r\nConnection: close, X-Foo\r\nX-Foo: bar\r\n\
          Keep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nX-Mixed-Case: V\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
    assert!(
        text.contains("\r\nconnection: close\r\n"),
        "client asked close: {text:?}"
    );
    let req = &be.wait_requests(1)[0];
    // HAProxy lowercases header names, drops the `close` token it consumed,
    // and forwards the other headers (even those named in Connection).
    let got: Vec<(String, String)> = req.headers.clone();
    let want: Vec<(String, String)> = [
        ("host", "a"),
        ("connection", "X-Foo"),
        ("x-foo", "bar"),
        ("keep-alive", "300"),
        ("proxy-connection", "keep-alive"),
        ("te", "trailers"),
        ("x-mixed-case", "V"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn option_http_server_close_closes_server_side_after_each_response() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option http-server-close\n", "", &be);
    let mut c = HttpClient::connect(local(port)).expect("connect");
    for i in 0..3 {
        let r = c.get("/", &[]).expect("response");
        assert_eq!(r.status, 200, "request {i}");
        assert!(
            !c.server_closed(),
            "client side must stay open (request {i})"
        );
    }
    be.wait_requests(3);
    assert_eq!(be.connections(), 3, "one server connection per request");
    let reqs = be.requests();
    assert!(reqs.iter().all(|r| r.header("connection") == Some("close")));
}

#[test]
fn option_httpclose_closes_both_sides() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option httpclose\n", "", &be);
    let mut c = HttpClient::connect(local(port)).expect("connect");
    let r = c.get("/", &[]).expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(
        closes_within(c.stream(), Duration::from_secs(2)),
        "client connection stays open"
    );
    assert!(
        wait_until(Duration::from_secs(2), || be.open_connections() == 0),
        "server connection stays open"
    );
}

/// Sends `n` one-request client connections one after the other and
/// returns how many server connections the backend accepted.
fn sequential_clients(reuse: &str, n: usize) -> usize {
    let be = HttpBackend::start("app");
    let log = "  log stdout format raw local0\n  log-format \"done %r\"\n";
    let (p, port) = simple(log, &format!("  http-reuse {reuse}\n"), &be);
    for i in 0..n {
        let path = format!("/r{i}");
        let r = http_get(local(port), &path, &[]).expect("response");
        assert_eq!(r.status, 200, "client {i}");
        be.wait_requests(i + 1);
        // The log line comes once the proxy has pooled (or closed) the server
        // connection: the next client finds it there.
        let done = p.wait_stdout_lines(&format!("done GET {path} "), 1, DEFAULT_TIMEOUT);
        assert_eq!(done.len(), 1, "no log line for client {i}: {}", p.stdout());
    }
    be.connections()
}

#[test]
fn http_reuse_never_opens_a_server_connection_per_client() {
    assert_eq!(sequential_clients("never", 3), 3);
}

#[test]
fn http_reuse_always_shares_idle_server_connections_between_clients() {
    assert_eq!(sequential_clients("always", 3), 1);
}

/// The RFC 6455 sample key and its accept value: HAProxy 2.6 rejects a
/// websocket upgrade without a key (400) and a `101` without the matching
/// `Sec-WebSocket-Accept` (502).
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A websocket origin: answers each upgrade with `101` carrying
/// [`WS_ACCEPT`], then echoes raw bytes; records each request head.
struct WsEcho {
    addr: std::net::SocketAddr,
    heads: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl WsEcho {
    fn start() -> WsEcho {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let h = std::sync::Arc::clone(&heads);
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                let h = std::sync::Arc::clone(&h);
                std::thread::spawn(move || {
                    let mut c = BufConn::new(s);
                    let Ok(Some(head)) = c.read_head() else {
                        return;
                    };
                    h.lock().unwrap_or_else(|p| p.into_inner()).push(head);
                    let reply = format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                         Connection: Upgrade\r\nSec-WebSocket-Accept: {WS_ACCEPT}\r\n\r\n"
                    );
                    if c.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                    let early = c.take_buffered();
                    let mut s = c.stream;
                    if s.write_all(&early).is_err() {
                        return;
                    }
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        WsEcho { addr, heads }
    }

    /// Request heads received so far, parsed.
    fn heads(&self) -> Vec<support::http1::Head> {
        self.heads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|h| parse_head(h).ok())
            .collect()
    }
}

fn ws_proxy(be_lines: &str, ws: &WsEcho) -> (Daemon, u16) {
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n  default_backend be\n\
         backend be\n{be_lines}  server s1 {{be}}\n"
    ))
    .listen_port("port")
    .var("be", ws.addr);
    let d = launch(&cfg);
    (d, cfg.port("port"))
}

fn ws_upgrade(port: u16) -> TcpStream {
    let mut s = connect(port);
    let req = format!(
        "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let head = read_until(&mut s, b"\r\n\r\n");
    let text = String::from_utf8_lossy(&head);
    assert!(
        text.starts_with("HTTP/1.1 101 "),
        "upgrade answered {text:?}"
    );
    assert!(text.contains(WS_ACCEPT), "accept key not relayed: {text:?}");
    s
}

#[test]
fn websocket_upgrade_tunnels_bytes_both_ways() {
    let ws = WsEcho::start();
    let (_p, port) = ws_proxy("", &ws);
    let mut s = ws_upgrade(port);
    for msg in [&b"ping-1"[..], b"\x81\x05hello", b"binary\x00\xff"] {
        s.write_all(msg).expect("write tunnel");
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).expect("echo through the tunnel");
        assert_eq!(got, msg);
    }
    let heads = ws.heads();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].header("upgrade"), Some("websocket"));
    assert_eq!(heads[0].header("sec-websocket-key"), Some(WS_KEY));
    assert!(heads[0].connection_has("upgrade"));
}

#[test]
fn timeout_tunnel_closes_an_idle_websocket() {
    let ws = WsEcho::start();
    let (_p, port) = ws_proxy("  timeout tunnel 600ms\n", &ws);
    let mut s = ws_upgrade(port);
    s.write_all(b"x").expect("write");
    let mut one = [0u8; 1];
    s.read_exact(&mut one).expect("echo");
    let t0 = Instant::now();
    assert!(
        closes_within(&mut s, Duration::from_secs(4)),
        "idle tunnel never closed"
    );
    let idle = t0.elapsed();
    assert!(
        idle >= Duration::from_millis(400) && idle < Duration::from_millis(2500),
        "tunnel closed after {idle:?}, expected about 600ms (timeout tunnel), not timeout client (5s)"
    );
}

#[test]
fn option_forwardfor_adds_client_address() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option forwardfor\n", "", &be);
    http_get(local(port), "/", &[]).expect("response");
    assert_eq!(
        be.wait_requests(1)[0].header_all("x-forwarded-for"),
        ["127.0.0.1"]
    );
}

#[test]
fn option_forwardfor_except_skips_matching_sources() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option forwardfor except 127.0.0.0/8\n", "", &be);
    http_get(local(port), "/", &[]).expect("response");
    assert_eq!(be.wait_requests(1)[0].header("x-forwarded-for"), None);
}

#[test]
fn option_forwardfor_custom_header_name() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option forwardfor header X-Client\n", "", &be);
    http_get(local(port), "/", &[]).expect("response");
    let req = &be.wait_requests(1)[0];
    assert_eq!(req.header_all("x-client"), ["127.0.0.1"]);
    assert_eq!(req.header("x-forwarded-for"), None);
}

#[test]
fn option_forwardfor_if_none_keeps_an_existing_header() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option forwardfor if-none\n", "", &be);
    http_get(local(port), "/", &[("X-Forwarded-For", "203.0.113.7")]).expect("response");
    http_get(local(port), "/", &[]).expect("response");
    let reqs = be.wait_requests(2);
    assert_eq!(reqs[0].header_all("x-forwarded-for"), ["203.0.113.7"]);
    assert_eq!(reqs[1].header_all("x-forwarded-for"), ["127.0.0.1"]);
}

#[test]
fn option_forwardfor_appends_after_an_existing_header() {
    let be = HttpBackend::start("app");
    let (_p, port) = simple("  option forwardfor\n", "", &be);
    http_get(local(port), "/", &[("X-Forwarded-For", "203.0.113.7")]).expect("response");
    let req = &be.wait_requests(1)[0];
    assert_eq!(
        req.header_all("x-forwarded-for"),
        ["203.0.113.7", "127.0.0.1"]
    );
}

/// Content-Length response bodies larger than `tune.bufsize` are read in large steps
/// (docs/performance.md, "wt-64k"): bodies of sizes around the read sizes (16 KiB,
/// 64 KiB) and far beyond them, one after another on one client connection and one
/// server connection, arrive intact, and the server connection stays reusable after
/// each (no byte of one response is taken for the next).
#[test]
fn large_content_length_responses_in_a_row_arrive_intact_on_one_server_connection() {
    let be = HttpBackend::builder("echo").echo_body().start();
    let (_p, port) = simple("", "  http-reuse safe\n", &be);
    let mut c = HttpClient::connect(local(port)).expect("connect");
    let sizes = [
        70_000, 65_536, 5, 16_384, 65_537, 200_000, 16_383, 1_000_000, 131_072, 3,
    ];
    for (i, n) in sizes.into_iter().enumerate() {
        let body: Vec<u8> = (0..n as u32).map(|k| (k % 251) as u8 ^ i as u8).collect();
        let r = c
            .request("POST", &format!("/b{i}"), &[], &body)
            .expect("response");
        assert_eq!(r.status, 200, "request {i} ({n} bytes)");
        assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
        assert!(
            r.body == body,
            "response {i}: {n} bytes sent, {} back, differing",
            r.body.len()
        );
        assert!(!c.server_closed(), "client connection closed after {i}");
    }
    be.wait_requests(sizes.len());
    assert_eq!(
        be.connections(),
        1,
        "one server connection for all responses"
    );
}
