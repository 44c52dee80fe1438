//! Tests of the integration-test helpers in `tests/support/`: the scripted
//! backends, clients, config templating and alert parsing behave as the
//! integration tests rely on. They need neither gatehouse nor haproxy.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use support::cfgcheck::{
    ExpectedError, first_alert_location, is_not_yet, parse_expect_error_location,
};
use support::http1::is_timeout;
use support::*;

#[test]
fn http_backend_answers_with_its_name_and_records_headers_in_order() {
    let be = HttpBackend::start("app1");
    let resp = http_get(
        be.addr(),
        "/hello?x=1",
        &[
            ("Host", "example.com"),
            ("X-B", "2"),
            ("x-a", "1"),
            ("X-B", "3"),
        ],
    )
    .expect("request");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_str(), "app1");
    assert_eq!(resp.header("X-Backend"), Some("app1"));

    let reqs = be.wait_requests(1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("GET", "/hello?x=1"));
    assert_eq!(r.version, "HTTP/1.1");
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Host", "X-B", "x-a", "X-B"]);
    assert_eq!(r.header_all("x-b"), ["2", "3"]);
    assert!(
        r.raw_head
            .starts_with(b"GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\n")
    );
}

#[test]
fn http_backend_keeps_connections_alive_and_counts_them() {
    let be = HttpBackend::start("ka");
    let mut c = HttpClient::connect(be.addr()).expect("connect");
    for i in 0..3 {
        let r = c.get(&format!("/{i}"), &[]).expect("request");
        assert_eq!(r.body_str(), "ka");
        assert!(!c.server_closed(), "closed after request {i}");
    }
    let reqs = be.wait_requests(3);
    assert!(reqs.iter().all(|r| r.conn == 1));
    assert_eq!(be.connections(), 1);

    http_get(be.addr(), "/other", &[]).expect("second connection");
    be.wait_requests(4);
    assert_eq!(be.connections(), 2);
}

#[test]
fn http_backend_decodes_content_length_and_chunked_bodies() {
    let be = HttpBackend::builder("echo").echo_body().start();
    let mut c = HttpClient::connect(be.addr()).expect("connect");
    let r = c.request("POST", "/cl", &[], b"hello body").expect("cl");
    assert_eq!(r.body_str(), "hello body");
    let r = c
        .request(
            "POST",
            "/chunked",
            &[("Transfer-Encoding", "chunked")],
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        )
        .expect("chunked");
    assert_eq!(r.body_str(), "hello world");
    let reqs = be.wait_requests(2);
    assert_eq!(reqs[0].body, b"hello body");
    assert_eq!(reqs[1].body, b"hello world");
    assert_eq!(reqs[1].header("transfer-encoding"), Some("chunked"));
}

#[test]
fn http_backend_status_delay_and_close_options() {
    let be = HttpBackend::builder("slow")
        .status(503)
        .delay(Duration::from_millis(300))
        .close_after_response()
        .start();
    let mut c = HttpClient::connect(be.addr()).expect("connect");
    let t0 = Instant::now();
    let r = c.get("/", &[]).expect("request");
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 503);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.server_closed());

    be.set_status(201);
    be.set_delay(Duration::ZERO);
    let r = http_get(be.addr(), "/", &[]).expect("request");
    assert_eq!(r.status, 201);
}

#[test]
fn http_backend_honours_client_connection_close_and_http10() {
    let be = HttpBackend::start("b");
    let out = send_raw(
        be.addr(),
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nb"), "{text}");
    // HTTP/1.0 without keep-alive: the server closes, so send_raw returns
    // well before its 5 s idle timeout.
    let t0 = Instant::now();
    let out = send_raw(be.addr(), b"GET / HTTP/1.0\r\n\r\n");
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(out.ends_with(b"b"));
}

#[test]
fn http_backend_raw_reply_and_read_then_close() {
    let raw = HttpBackend::builder("raw")
        .raw_reply(&b"HTTP/1.1 200 OK\r\nX-Weird:  yes\r\n\r\nuntil-close"[..])
        .start();
    let r = http_get(raw.addr(), "/", &[]).expect("raw reply");
    assert_eq!(r.header("x-weird"), Some("yes"));
    assert_eq!(r.body_str(), "until-close");

    let dead = HttpBackend::builder("dead")
        .read_request_then_close()
        .start();
    let err = http_get(dead.addr(), "/x", &[]).expect_err("no response expected");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    assert_eq!(dead.wait_requests(1)[0].uri, "/x");
}

#[test]
fn http_backend_head_request_has_no_body() {
    let be = HttpBackend::start("headless");
    let mut c = HttpClient::connect(be.addr()).expect("connect");
    let r = c.request("HEAD", "/", &[], b"").expect("head");
    assert_eq!(r.header("content-length"), Some("8"));
    assert!(r.body.is_empty());
    // The connection is still usable: no stray body bytes were sent.
    assert_eq!(c.get("/", &[]).expect("get").body_str(), "headless");
}

#[test]
fn http_backend_websocket_upgrade_then_echo() {
    let be = HttpBackend::start("ws");
    let mut s = TcpStream::connect(be.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(
        b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut buf).expect("read 101");
        assert!(n > 0, "closed before 101");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&got)
    );
    s.write_all(b"\x81\x05hello").expect("write frame");
    let mut echo = [0u8; 7];
    s.read_exact(&mut echo).expect("echo");
    assert_eq!(&echo, b"\x81\x05hello");
    s.shutdown(Shutdown::Write).expect("half close");
    assert_eq!(s.read(&mut buf).expect("eof"), 0);
}

#[test]
fn sync_counts_every_connection_made_before_it_and_not_its_probe() {
    let be = HttpBackend::start("app");
    let echo = TcpEcho::start();
    let held: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(be.addr()).expect("connect"))
        .chain((0..3).map(|_| TcpStream::connect(echo.addr()).expect("connect")))
        .collect();
    be.sync();
    echo.sync();
    assert_eq!((be.connections(), echo.connections()), (5, 3));
    be.sync();
    assert_eq!(be.connections(), 5, "the probe is not counted");
    assert!(be.requests().is_empty());
    drop(held);
}

#[test]
fn read_to_close_tells_a_close_from_an_open_connection() {
    let be = HttpBackend::start("app");
    let mut open = TcpStream::connect(be.addr()).expect("connect");
    open.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let e = read_to_close(&mut open, Duration::from_millis(300)).expect_err("kept alive");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    assert!(e.to_string().contains("HTTP/1.1 200 OK"), "{e}");
    let out = send_until_close(
        be.addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n") && out.ends_with(b"app"));
    let r = http_get_until_close(be.addr(), "/c", &[]).expect("GET");
    assert_eq!(r.body_str(), "app");
}

#[test]
fn dropping_a_backend_closes_its_open_connections() {
    let be = HttpBackend::start("gone");
    let mut c = HttpClient::connect(be.addr()).expect("connect");
    c.get("/", &[]).expect("first");
    assert_eq!(be.open_connections(), 1);
    drop(be);
    assert!(wait_until(Duration::from_secs(2), || c.server_closed()));
}

#[test]
fn tcp_echo_echoes_and_half_closes_after_client_eof() {
    let echo = TcpEcho::start();
    let out = send_raw_with(echo.addr(), b"ping\npong\n", Duration::from_secs(5), true);
    assert_eq!(out, b"ping\npong\n");
    assert_eq!(echo.connections(), 1);
    assert_eq!(echo.bytes_echoed(), 10);

    // Without half-close the echo keeps the connection open: send_raw only
    // returns through its idle timeout.
    let t0 = Instant::now();
    let out = send_raw_with(echo.addr(), b"x", Duration::from_millis(300), false);
    assert_eq!(out, b"x");
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[test]
fn tcp_banner_greets_and_records_client_bytes() {
    let ftp = TcpBanner::start(b"220 ProFTPD Server ready\r\n");
    let out = send_raw_with(ftp.addr(), b"QUIT\r\n", Duration::from_secs(5), true);
    assert_eq!(out, b"220 ProFTPD Server ready\r\n");
    assert!(wait_until(Duration::from_secs(2), || ftp.received() == b"QUIT\r\n"));
}

#[test]
fn black_hole_accepts_but_never_answers() {
    let bh = BlackHole::start();
    let mut s = TcpStream::connect(bh.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("write");
    let mut buf = [0u8; 16];
    let err = s.read(&mut buf).expect_err("black hole must not answer");
    assert!(is_timeout(&err), "{err}");
    assert!(wait_until(Duration::from_secs(2), || bh.connections() == 1));
}

#[test]
fn free_port_returns_a_bindable_port() {
    let a = free_port();
    assert_ne!(a, 0);
    std::net::TcpListener::bind(local(a)).expect("port from free_port is bindable");
}

#[test]
fn config_template_fills_placeholders_and_keeps_haproxy_syntax() {
    let be = HttpBackend::start("t");
    let cfg = Config::new(
        "frontend fe\n  bind 127.0.0.1:{port}\n  http-request deny if { path_beg /x }\n\
         http-request set-header X %[path]\n  bind \"${ADDR}:1\"\n  server s {backend1}\n",
    )
    .listen_port("port")
    .var("backend1", be.addr());
    let port = cfg.port("port");
    let text = cfg.render();
    assert!(text.contains(&format!("bind 127.0.0.1:{port}\n")), "{text}");
    assert!(text.contains("if { path_beg /x }"));
    assert!(text.contains("%[path]"));
    assert!(text.contains("\"${ADDR}:1\""));
    assert!(text.contains(&format!("server s {}", be.addr())));
    assert_eq!(cfg.listen_ports(), vec![port]);
}

#[test]
#[should_panic(expected = "placeholders without a value")]
fn config_template_refuses_missing_values() {
    Config::new("bind 127.0.0.1:{port}\n").render();
}

#[test]
fn alert_line_is_found_in_haproxy_alert_formats() {
    let p = Path::new("/x/a.cfg");
    let cases = [
        (
            "[ALERT]    (1) : config : parsing [/x/a.cfg:12] : unknown keyword 'x'",
            Some(12),
        ),
        (
            "[ALERT]    (1) : config : Parsing [/x/a.cfg:15]: backend 'app' has the same name",
            Some(15),
        ),
        (
            "[ALERT]    (1) : config : [/x/a.cfg:10] : 'server db/db1' : invalid port '70000'",
            Some(10),
        ),
        (
            "[ALERT]    (1) : config : http frontend 'web' (/x/a.cfg:7) tries to use",
            Some(7),
        ),
        (
            "[ALERT]    (1) : config : Proxy 'web': unable to find required use_backend: 'a'.",
            None,
        ),
    ];
    for (stderr, want) in cases {
        let text = format!(
            "[NOTICE]   (1) : haproxy version is 2.6.12\n{stderr}\n[ALERT]    (1) : config : parsing [/x/a.cfg:99] : later\n"
        );
        assert_eq!(first_alert_line(&text, p), want, "{stderr}");
    }
    assert_eq!(
        first_alert_line("[WARNING] parsing [/x/a.cfg:3] : w\n", p),
        None
    );
}

#[test]
fn corpus_markers_are_parsed() {
    assert_eq!(
        parse_expect_error_line("# expect-error-line: 12\nglobal\n"),
        Some(ExpectedError::Line(12))
    );
    assert_eq!(
        parse_expect_error_line("# expect-error-line: none\n"),
        Some(ExpectedError::NoLine)
    );
    assert_eq!(
        parse_expect_error_line("global\n# expect-error-line: 3\n"),
        None
    );
    assert!(is_not_yet("global\n    # gatehouse: not-yet\n"));
    assert!(!is_not_yet("global\n"));
}

#[test]
fn check_reports_exit_code_and_output() {
    // `sh -c -f FILE` is not a config checker, but exercises the plumbing:
    // a missing file makes sh exit non-zero with a message on stderr.
    let (code, _out, err) = check(Path::new("/bin/sh"), &[Path::new("/nonexistent/x.cfg")]);
    assert_ne!(code, 0);
    assert!(!err.is_empty());
}

#[test]
fn haproxy_daemon_runs_with_templated_config_when_installed() {
    let Some(_) = haproxy_bin() else {
        eprintln!("haproxy not installed: covered by config_diff's explicit failure");
        return;
    };
    let be = HttpBackend::start("behind-haproxy");
    let cfg = Config::new(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n  server s1 {backend1}\n",
    )
    .listen_port("port")
    .var("backend1", be.addr());
    let mut hap = Haproxy::start_config(&cfg);
    assert!(hap.pid() > 0);
    let r = http_get(local(cfg.port("port")), "/via", &[("X-Test", "1")]).expect("via haproxy");
    assert_eq!(r.body_str(), "behind-haproxy");
    assert_eq!(be.wait_requests(1)[0].header("x-test"), Some("1"));
    let status = hap.stop().expect("haproxy exited");
    assert!(!hap.is_running(), "{status:?}");
}

#[test]
fn config_with_fresh_ports_reallocates_every_listen_port() {
    let a = Config::new("bind 127.0.0.1:{p1}\nbind 127.0.0.1:{p2}\n")
        .listen_port("p1")
        .listen_port("p2");
    let b = a.with_fresh_ports();
    assert_eq!(b.listen_ports().len(), 2);
    assert_ne!(a.port("p1"), b.port("p1"));
    assert!(b.render().contains(&format!(":{}\n", b.port("p2"))));
}

#[test]
fn alert_location_picks_the_earliest_file_reference_across_files() {
    let a = Path::new("/c/00_global.cfg");
    let b = Path::new("/c/10_apps.cfg");
    let stderr = "[ALERT]    (1) : config : Parsing [/c/10_apps.cfg:9]: backend 'web' has \
                  the same name as backend 'web' declared at /c/00_global.cfg:11.\n";
    assert_eq!(first_alert_location(stderr, &[a, b]), Some((1, 9)));
    // A path that is only the tail of another path does not match.
    let other = "[ALERT] parsing [/elsewhere/c/10_apps.cfg:3] : x\n";
    assert_eq!(
        first_alert_location(other, &[Path::new("c/10_apps.cfg")]),
        None
    );
    assert_eq!(
        parse_expect_error_location("# expect-error: 10_apps.cfg:9\n"),
        Some(("10_apps.cfg".to_string(), 9))
    );
}

#[test]
#[should_panic(expected = "exited with")]
fn daemon_start_fails_fast_with_output_when_process_dies() {
    // /bin/false never listens: start must report the early exit instead of
    // waiting for the port until the timeout.
    let port = free_port();
    let _d = DaemonBuilder::new("/bin/false", "global\n")
        .wait_port(port)
        .startup_timeout(std::time::Duration::from_secs(30))
        .start();
}
