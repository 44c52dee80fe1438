//! `Expect: 100-continue` through the proxy, gatehouse and haproxy on one config: a
//! server that never sends `100 Continue` still gets the body the client sends anyway
//! (curl after 1 s; HTTP/1 and h2c), a server's own `100 Continue` is relayed once, a
//! server that answers before reading the body, a rule that replies first, and
//! `option http-buffer-request` (the proxy sends `100 Continue` itself).

mod support;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::http1::{BufConn, find, parse_head};
use support::*;

/// What the scripted origin does with a request that announces a body.
#[derive(Clone, Copy)]
enum Origin {
    /// Reads the body without sending `100 Continue`, then answers 200 with its size.
    ReadsBody,
    /// Sends `100 Continue`, reads the body, answers 200 with its size.
    Continues,
    /// Answers `417` at once to a request with `Expect`, then drains its body.
    Refuses,
}

/// A one-request-at-a-time HTTP/1 origin; each request head it reads is reported on
/// the channel (its `Expect` value), before the body is read.
fn origin(mode: Origin) -> (SocketAddr, mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut c = BufConn::new(s);
                while let Ok(Some(raw)) = c.read_head() {
                    let Ok(head) = parse_head(&raw) else { return };
                    let _ = tx.send(head.header("expect").unwrap_or("none").to_string());
                    let len: usize = head
                        .header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let refuse = matches!(mode, Origin::Refuses) && head.header("expect").is_some();
                    let reply = match mode {
                        _ if refuse => {
                            let r = "HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n";
                            if c.write_all(r.as_bytes()).is_err() {
                                return;
                            }
                            // The body still comes: drained, unread.
                            let _ = c.read_exact_body(len);
                            continue;
                        }
                        Origin::Continues | Origin::ReadsBody | Origin::Refuses => {
                            if matches!(mode, Origin::Continues)
                                && c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
                            {
                                return;
                            }
                            let Ok(body) = c.read_exact_body(len) else {
                                return;
                            };
                            let text = format!("got {}", body.len());
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{text}",
                                text.len()
                            )
                        }
                    };
                    if c.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, rx)
}

/// A frontend on `port` (HTTP/1 and, on `h2port`, h2c) in front of `srv`, with
/// `extra` frontend lines.
fn config(port: u16, h2port: u16, srv: SocketAddr, extra: &str) -> Config {
    Config::new(&format!(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 4s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  bind 127.0.0.1:{h2port} proto h2\n{extra}\
         \x20 default_backend be\n\
         backend be\n  server s1 {srv}\n"
    ))
}

/// Runs `f` against haproxy then gatehouse on the same config; returns both results.
fn both<T>(
    mode: Origin,
    extra: &str,
    f: impl Fn(u16, u16, &mpsc::Receiver<String>) -> T,
) -> [T; 2] {
    require_haproxy();
    [true, false].map(|haproxy| {
        let (srv, heads) = origin(mode);
        let (port, h2port) = (free_port(), free_port());
        let _p = proxy_builder(haproxy, &config(port, h2port, srv, extra))
            .wait_ports(&[port, h2port])
            .start();
        f(port, h2port, &heads)
    })
}

const HEAD: &[u8] =
    b"POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

/// Everything the proxy sent until `needle` (or the read timed out / closed).
fn read_until(s: &mut TcpStream, needle: &[u8]) -> String {
    s.set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while find(&got, needle).is_none() {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// The status lines and the final body of a raw HTTP/1 answer.
fn summary(raw: &str) -> (Vec<String>, String) {
    let statuses = raw
        .split("\r\n")
        .filter(|l| l.starts_with("HTTP/1.1 "))
        .map(str::to_string)
        .collect();
    let body = raw.rsplit("\r\n\r\n").next().unwrap_or("").to_string();
    (statuses, body)
}

/// curl's `code body` for a POST of `size` bytes with `Expect: 100-continue`, and how
/// long it took.
fn curl_post(url: &str, size: usize, h2: bool) -> (String, Duration) {
    let dir = TempDir::new("expect");
    let file = dir.path().join("body");
    std::fs::write(&file, vec![b'x'; size]).expect("body file");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "10", "-H", "Expect: 100-continue"]);
    if h2 {
        cmd.arg("--http2-prior-knowledge");
    }
    let started = Instant::now();
    let out = cmd
        .args(["--data-binary", &format!("@{}", file.display())])
        .args(["-w", " %{response_code}", url])
        .output()
        .expect("curl must be installed");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), took)
}

/// A raw client that sends its body once the server has the head, without any
/// interim response: the server's `200` comes back, no `504` after `timeout server`.
#[test]
fn body_sent_without_interim_response_is_forwarded() {
    let [h, g] = both(Origin::ReadsBody, "", |port, _, heads| {
        let mut s = TcpStream::connect(local(port)).expect("connect");
        s.write_all(HEAD).expect("head");
        let expect = heads
            .recv_timeout(Duration::from_secs(5))
            .expect("head forwarded");
        assert_eq!(
            expect, "100-continue",
            "the Expect header goes to the server"
        );
        s.write_all(b"hello").expect("body");
        summary(&read_until(&mut s, b"got 5"))
    });
    assert_eq!(
        h,
        (vec!["HTTP/1.1 200 OK".to_string()], "got 5".to_string())
    );
    assert_eq!(g, h, "gatehouse answers as haproxy does");
}

/// curl waits 1 s for `100 Continue`, then sends its body: the server's answer comes
/// back well before `timeout server` (4 s), over HTTP/1 and h2c.
#[test]
fn curl_body_after_its_expect_timeout_is_forwarded_h1_and_h2c() {
    let [h, g] = both(Origin::ReadsBody, "", |port, h2port, _| {
        let h1 = curl_post(&format!("http://127.0.0.1:{port}/up"), 2048, false);
        let h2 = curl_post(&format!("http://127.0.0.1:{h2port}/up"), 2048, true);
        for (_, took) in [&h1, &h2] {
            assert!(*took < Duration::from_secs(3), "answered after {took:?}");
        }
        (h1.0, h2.0)
    });
    assert_eq!(h, ("got 2048 200".to_string(), "got 2048 200".to_string()));
    assert_eq!(g, h);
}

/// The server's own `100 Continue` reaches the client once, then the body flows.
#[test]
fn server_100_continue_is_relayed_once() {
    let [h, g] = both(Origin::Continues, "", |port, _, _| {
        let mut s = TcpStream::connect(local(port)).expect("connect");
        s.write_all(HEAD).expect("head");
        let interim = read_until(&mut s, b"\r\n\r\n");
        assert!(
            interim.starts_with("HTTP/1.1 100 Continue\r\n"),
            "{interim:?}"
        );
        s.write_all(b"hello").expect("body");
        let rest = read_until(&mut s, b"got 5");
        summary(&format!("{interim}{rest}"))
    });
    assert_eq!(
        h.0,
        vec![
            "HTTP/1.1 100 Continue".to_string(),
            "HTTP/1.1 200 OK".to_string()
        ]
    );
    assert_eq!(g, h);
}

/// A server that answers `417` before reading the body: the client gets the 417 at
/// once; a client that sends its body anyway keeps the connection (haproxy forwards the
/// body to the server), and its next request is answered.
#[test]
fn server_final_answer_before_the_body_keeps_the_connection() {
    let [h, g] = both(Origin::Refuses, "", |port, _, _| {
        let mut s = TcpStream::connect(local(port)).expect("connect");
        s.write_all(HEAD).expect("head");
        let first = read_until(&mut s, b"\r\n\r\n");
        s.write_all(b"hello").expect("body");
        s.write_all(b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("next request");
        let second = read_until(&mut s, b"got 0");
        (summary(&first).0, summary(&second))
    });
    assert_eq!(
        h,
        (
            vec!["HTTP/1.1 417 Expectation Failed".to_string()],
            (vec!["HTTP/1.1 200 OK".to_string()], "got 0".to_string())
        )
    );
    assert_eq!(g, h);
}

/// A rule that replies before the body: no `100 Continue` first, as haproxy.
#[test]
fn rule_reply_before_the_body_sends_no_interim() {
    let extra =
        "  http-request return status 403 content-type text/plain string no if { path /up }\n";
    let [h, g] = both(Origin::ReadsBody, extra, |port, _, _| {
        let mut s = TcpStream::connect(local(port)).expect("connect");
        s.write_all(HEAD).expect("head");
        summary(&read_until(&mut s, b"\r\n\r\nno"))
    });
    assert_eq!(
        h,
        (vec!["HTTP/1.1 403 Forbidden".to_string()], "no".to_string())
    );
    assert_eq!(g, h);
}

/// `option http-buffer-request` and `http-request wait-for-body`: the proxy sends the
/// `100 Continue` itself to get the body, and the server sees no `Expect`.
#[test]
fn buffering_proxy_sends_its_own_100_continue() {
    for extra in [
        "  option http-buffer-request\n",
        "  http-request wait-for-body time 2s\n",
    ] {
        let [h, g] = both(Origin::ReadsBody, extra, |port, _, heads| {
            let mut s = TcpStream::connect(local(port)).expect("connect");
            s.write_all(HEAD).expect("head");
            let interim = read_until(&mut s, b"\r\n\r\n");
            s.write_all(b"hello").expect("body");
            let rest = read_until(&mut s, b"got 5");
            let expect = heads
                .recv_timeout(Duration::from_secs(5))
                .expect("forwarded");
            (summary(&format!("{interim}{rest}")), expect)
        });
        assert_eq!(
            h,
            (
                (
                    vec![
                        "HTTP/1.1 100 Continue".to_string(),
                        "HTTP/1.1 200 OK".to_string()
                    ],
                    "got 5".to_string()
                ),
                "none".to_string()
            ),
            "{extra}"
        );
        assert_eq!(g, h, "{extra}");
    }
}
