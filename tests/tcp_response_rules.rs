//! `tcp-response inspect-delay` and `tcp-response content accept|reject|close` in
//! `mode tcp`, with `res.len` and `res.payload`: the same configuration runs in
//! gatehouse and in Debian's haproxy 2.6; what the client receives from each server
//! (and whether its connection is closed) must agree, and agree with the case.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;
use support::*;

const CFG: &str = "defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
listen reject_bad
  bind 127.0.0.1:{reject_bad}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload(0,3) -m str BAD }
  tcp-response content accept if { res.len ge 3 }
  server s {bad}
listen accept_good
  bind 127.0.0.1:{accept_good}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload(0,3) -m str BAD }
  tcp-response content accept if { res.len ge 3 }
  server s {good}
listen wait_more
  bind 127.0.0.1:{wait_more}
  tcp-response inspect-delay 3s
  tcp-response content accept if { res.len ge 6 }
  tcp-response content reject
  server s {split}
listen wait_unless
  bind 127.0.0.1:{wait_unless}
  tcp-response inspect-delay 3s
  tcp-response content reject unless { res.len ge 6 }
  server s {split}
listen hex_match
  bind 127.0.0.1:{hex_match}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload(0,3) -m bin 424144 }
  server s {bad}
listen close_bye
  bind 127.0.0.1:{close_bye}
  tcp-response inspect-delay 2s
  tcp-response content close if { res.payload(0,3) -m str BYE }
  server s {bye}
listen short_delay
  bind 127.0.0.1:{short_delay}
  tcp-response inspect-delay 200ms
  tcp-response content accept if { res.len ge 6 }
  tcp-response content reject
  server s {split}
";

/// A server that sends `abc`, then `def` 1 s later (far from the 200 ms and 3 s
/// delays, for a loaded machine), then waits for the client.
fn split_server() -> (SocketAddr, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let _ = s.write_all(b"abc");
                std::thread::sleep(Duration::from_millis(1000));
                let _ = s.write_all(b"def");
                let mut b = [0u8; 64];
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                while matches!(s.read(&mut b), Ok(n) if n > 0) {}
            });
        }
    });
    (addr, h)
}

/// What the client receives until 2.5 s pass without a byte, and whether the proxy
/// closed.
fn receive(addr: SocketAddr) -> (String, bool) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(2500)))
        .unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 256];
    let closed = loop {
        match s.read(&mut b) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

#[test]
fn tcp_response_content_rules_like_haproxy() {
    let bad = TcpBanner::start(b"BAD news");
    let good = TcpBanner::start(b"GOOD news");
    let bye = TcpBanner::start(b"BYE now");
    let (split, _h) = split_server();
    let cfg = Config::new(CFG)
        .listen_port("reject_bad")
        .listen_port("accept_good")
        .listen_port("wait_more")
        .listen_port("wait_unless")
        .listen_port("hex_match")
        .listen_port("close_bye")
        .listen_port("short_delay")
        .var("bad", bad.addr())
        .var("good", good.addr())
        .var("bye", bye.addr())
        .var("split", split);
    let _g = Gatehouse::start(&cfg.render(), &cfg.listen_ports());
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &href.listen_ports());
    let cases: &[(&str, &str, bool)] = &[
        ("reject_bad", "", true),
        ("accept_good", "GOOD news", false),
        // `res.len ge 6` waits for the second write instead of falling to `reject`.
        ("wait_more", "abcdef", false),
        // A condition that may change waits through `unless` too.
        ("wait_unless", "abcdef", false),
        // `-m bin` matches hex patterns.
        ("hex_match", "", true),
        // `close` forwards what arrived, then closes although the server stays.
        ("close_bye", "BYE now", true),
        // The delay ends before the second write: the last rule rejects.
        ("short_delay", "", true),
    ];
    let mut wrong = Vec::new();
    for (name, text, closed) in cases {
        let want = (text.to_string(), *closed);
        let ours = receive(local(cfg.port(name)));
        let theirs = receive(local(href.port(name)));
        if ours != want || theirs != want {
            wrong.push(format!(
                "{name}: gatehouse {ours:?}, haproxy {theirs:?}, expected {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
