//! `http-request wait-for-body`, `option http-buffer-request` and the body fetches
//! (`req.body`, `req.body_len`, `req.body_size`, `req.body_param`): the rules route on
//! the body of HTTP/1 (`Content-Length` and chunked) and HTTP/2 requests, real
//! backends receive the body unchanged, and the fetches agree with HAProxy 2.6 run on
//! the same configuration, a body larger than the buffer and a timeout (408) included.

mod support;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const DEFAULTS: &str = "global\n  log stdout format raw local0\n\
    defaults\n  mode http\n  log global\n  option httplog\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n";

/// A frontend routing on `req.body_param(user)` after waiting for the body.
fn routing_config(port: u16, wait: &str, vip: SocketAddr, web: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  bind 127.0.0.1:{h2} proto h2\n{wait}\
         \x20 http-request set-header X-Body-Len %[req.body_len]\n\
         \x20 use_backend vip if {{ req.body_param(user) -m str alice }}\n\
         \x20 default_backend web\n\
         backend vip\n  server s {vip}\nbackend web\n  server s {web}\n",
        h2 = port + 1
    )
}

fn post(addr: SocketAddr, head_extra: &str, body: &[u8], chunked: bool) -> String {
    let mut req = format!("POST /login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{head_extra}");
    let mut bytes = if chunked {
        req.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let mut b = req.into_bytes();
        // Two chunks, so the proxy decodes a body split in its framing.
        let (a, c) = body.split_at(body.len() / 2);
        for part in [a, c] {
            b.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            b.extend_from_slice(part);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"0\r\n\r\n");
        b
    } else {
        req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        req.into_bytes()
    };
    if !chunked {
        bytes.extend_from_slice(body);
    }
    let out = send_raw_with(addr, &bytes, Duration::from_secs(5), false);
    String::from_utf8_lossy(&out).into_owned()
}

/// How long a client pauses before the rest of its body.
const PAUSE: Duration = Duration::from_millis(200);

/// Sends `first` on a new connection to `addr`, then each of `later` after a [`PAUSE`]
/// (the rest of the body comes late), and reads until the proxy closes.
fn send_in_parts(addr: SocketAddr, first: &[u8], later: &[&[u8]]) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the proxy");
    s.write_all(first).expect("send");
    if !later.is_empty() {
        std::thread::sleep(PAUSE);
    }
    for part in later {
        s.write_all(part).expect("send the rest");
    }
    let out = read_to_close(&mut s, Duration::from_secs(5)).expect("response");
    String::from_utf8_lossy(&out).into_owned()
}

/// Backends `vip` and `web` behind a gatehouse running [`routing_config`] with `wait`,
/// its HTTP/1 bind on `port` and its h2c one on `port + 1`.
struct Routing {
    vip: HttpBackend,
    /// Running for the requests the rules do not send to `vip`.
    _web: HttpBackend,
    port: u16,
    _proxy: Gatehouse,
}

fn routing(wait: &str) -> Routing {
    let vip = HttpBackend::start("vip");
    let web = HttpBackend::start("web");
    let port = free_ports(2);
    let cfg = routing_config(port, wait, vip.addr(), web.addr());
    let _proxy = Gatehouse::start(&cfg, &[port, port + 1]);
    Routing {
        vip,
        _web: web,
        port,
        _proxy,
    }
}

/// Routing on a body parameter: `Content-Length` and chunked bodies, sent at once or
/// after a pause, reach the backend the body names, unchanged; a body larger than the
/// buffer is forwarded whole while the rules saw the buffer's part of it.
#[test]
fn wait_for_body_routes_on_the_body_and_forwards_it_unchanged() {
    let Routing { vip, port, .. } = &routing("  http-request wait-for-body time 3s if METH_POST\n");
    let addr = local(*port);
    for chunked in [false, true] {
        let body = b"pass=x&user=alice&z=1";
        let out = post(addr, "", body, chunked);
        assert!(
            out.starts_with("HTTP/1.1 200") && out.ends_with("vip"),
            "{out}"
        );
        let out = post(addr, "", b"user=bob", chunked);
        assert!(out.ends_with("web"), "{out}");
    }
    let got = vip.wait_requests(2);
    for r in &got {
        assert_eq!(r.body, b"pass=x&user=alice&z=1");
        assert_eq!(r.header("x-body-len"), Some("21"));
    }
    // The chunked request stays chunked toward the server.
    assert_eq!(got[1].header("transfer-encoding"), Some("chunked"));
    assert_eq!(got[0].header("content-length"), Some("21"));

    // A body that comes after a pause is waited for.
    let out = send_in_parts(
        addr,
        b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\nuser=",
        &[b"alice"],
    );
    assert!(out.ends_with("vip"));

    // 40000 bytes: the rules see what the buffer holds, the server gets them all.
    let big: Vec<u8> = (0..40000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut body = b"user=alice&".to_vec();
    body.extend_from_slice(&big);
    for chunked in [false, true] {
        let out = post(addr, "", &body, chunked);
        assert!(out.ends_with("vip"), "{}", &out[..out.len().min(200)]);
    }
    let got = vip.wait_requests(5);
    for r in &got[3..] {
        assert_eq!(r.body, body);
        let seen: usize = r.header("x-body-len").unwrap().parse().unwrap();
        assert!((14_000..16_384).contains(&seen), "{seen}");
    }
}

/// `Expect: 100-continue`: the proxy answers `100 Continue` itself while it waits, and
/// the server does not see the `Expect` header.
#[test]
fn wait_for_body_answers_expect_100_continue() {
    let Routing { vip, port, .. } = &routing("  http-request wait-for-body time 3s\n");
    let mut s = std::net::TcpStream::connect(local(*port)).unwrap();
    use std::io::{Read, Write};
    s.write_all(
        b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"));
    s.write_all(b"user=alice").unwrap();
    let out = read_to_close(&mut s, Duration::from_secs(5)).unwrap();
    assert!(String::from_utf8_lossy(&out).ends_with("vip"));
    let r = &vip.wait_requests(1)[0];
    assert_eq!(r.header("expect"), None);
    assert_eq!(r.body, b"user=alice");
}

/// `option http-buffer-request`, in the frontend or in the backend: the body is
/// waited for before that proxy's rules.
#[test]
fn http_buffer_request_lets_the_rules_read_the_body() {
    let r = routing("  option http-buffer-request\n");
    let out = post(local(r.port), "", b"user=alice", true);
    assert!(out.ends_with("vip"), "{out}");
    // In the backend: its rules see the body, the frontend's did not wait.
    let app = HttpBackend::start("app");
    let port = free_ports(2);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  http-request set-header X-Fe %[req.body_len]\n  default_backend b\n\
         backend b\n  option http-buffer-request\n  http-request set-header X-Be %[req.body_param(user)]\n  server s {}\n",
        app.addr()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    send_in_parts(
        local(port),
        b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\n",
        &[b"user=carol"],
    );
    let r = &app.wait_requests(1)[0];
    assert_eq!(r.header("x-fe"), Some("0"));
    assert_eq!(r.header("x-be"), Some("carol"));
    assert_eq!(r.body, b"user=carol");
    // A backend's `wait-for-body` rule: its rules before it see no body, after it do.
    let app = HttpBackend::start("app");
    let port = free_ports(2);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  default_backend b\n\
         backend b\n  http-request set-header X-Before %[req.body_len]\n  http-request wait-for-body time 2s\n\
         \x20 http-request set-header X-After %[req.body_param(user)]\n  server s {}\n",
        app.addr()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    send_in_parts(
        local(port),
        b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 9\r\n\r\n",
        &[b"user=dan", b"!"],
    );
    let r = &app.wait_requests(1)[0];
    assert_eq!(r.header("x-before"), Some("0"));
    assert_eq!(r.header("x-after"), Some("dan!"));
    assert_eq!(r.body, b"user=dan!");
}

/// HTTP/2 (curl, h2c): the body of DATA frames is waited for, routed on and forwarded.
#[test]
fn wait_for_body_over_http2() {
    let Routing { vip, port, .. } = &routing("  http-request wait-for-body time 3s\n");
    let url = format!("http://127.0.0.1:{}/login", port + 1);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--http2-prior-knowledge"])
        .args(["--data-binary", "user=alice&pass=x", &url])
        .output()
        .expect("curl must be installed");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "vip");
    let r = &vip.wait_requests(1)[0];
    assert_eq!(r.body, b"user=alice&pass=x");
    assert_eq!(r.header("x-body-len"), Some("17"));
}

/// A client that does not send its whole body in time gets HAProxy's 408, logged
/// `cD`, once the wait's time (not `timeout client`) ran out.
#[test]
fn wait_for_body_times_out_with_408() {
    let app = HttpBackend::start("app");
    let port = free_ports(2);
    let cfg = routing_config(
        port,
        "  http-request wait-for-body time 500ms\n",
        app.addr(),
        app.addr(),
    );
    let g = Gatehouse::start(&cfg, &[port]);
    let start = Instant::now();
    let out = send_raw_with(
        local(port),
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nuser",
        Duration::from_secs(5),
        false,
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(4));
    let lines = g.wait_stdout_lines(" 408 ", 1, Duration::from_secs(5));
    assert!(lines[0].contains(" cD-- "), "{lines:?}");
    assert_eq!(app.request_count(), 0);
}

/// (name, request bytes, bytes sent after a pause).
type Case = (&'static str, Vec<u8>, Option<&'static [u8]>);

const DIFF_CFG: &str = "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  http-request wait-for-body time 1s at-least {atleast} if METH_POST
  http-request return status 200 content-type text/plain lf-string \"len=%[req.body_len] size=%[req.body_size] user=%[req.body_param(user)] first=%[req.body_param] sha=%[req.body,sha1,hex] big=%[req.body_len,div(1000)]\" if { req.body_len lt 2000 }
  http-request return status 200 content-type text/plain lf-string \"big size=%[req.body_size] k=%[req.body_len,div(1000)]\"
";

/// The body fetches give the same answers in both proxies: `Content-Length` and
/// chunked bodies, sent at once or in two parts, a body larger than the buffer
/// (HAProxy's HTX accounting is approximated: both hold about 15 KB of a 16 KB
/// buffer), `at-least`, a request without a body, and the 408 of a timeout.
#[test]
fn body_fetches_agree_with_haproxy() {
    let cfg = Config::new(DIFF_CFG).listen_port("port").var("atleast", 0);
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);
    let cl = |body: &str| {
        format!(
            "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let big = format!("user=alice&{}", "x".repeat(40000));
    let cases: Vec<Case> = vec![
        ("content-length", cl("a=1&user=bob&user=eve"), None),
        (
            "chunked",
            b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nuser\r\n6\r\n=carol\r\n0\r\n\r\n".to_vec(),
            None,
        ),
        (
            "two parts",
            b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\nuser=".to_vec(),
            Some(b"dave!"),
        ),
        ("no value", cl("flag&user"), None),
        ("big", cl(&big), None),
        (
            "get",
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec(),
            None,
        ),
        (
            "timeout",
            b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\nuser".to_vec(),
            None,
        ),
    ];
    let ask = |port: u16, req: &[u8], more: Option<&[u8]>| -> String {
        let text = send_in_parts(local(port), req, more.as_slice());
        let status = text.lines().next().unwrap_or("").to_string();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        if status.contains(" 200 ") {
            format!("{status} | {body}")
        } else {
            status
        }
    };
    let mut wrong = Vec::new();
    for (name, req, more) in &cases {
        let got = ask(cfg.port("port"), req, *more);
        let reference = ask(href.port("port"), req, *more);
        if got != reference {
            wrong.push(format!("{name}: gatehouse {got:?}, haproxy {reference:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // `at-least`: the rules go on once that many bytes came, before the rest.
    let cfg = Config::new(DIFF_CFG).listen_port("port").var("atleast", 5);
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);
    let req =
        b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 20\r\n\r\nuser=frank";
    let got = ask(cfg.port("port"), req, None);
    let reference = ask(href.port("port"), req, None);
    assert_eq!(got, reference);
    assert!(got.contains("len=10 size=20 user=frank"), "{got}");
}
