//! `tcp-request content` rules wait while their condition may still change (`req.len`,
//! the pre-defined ACLs `REQ_CONTENT` and `WAIT_END`), until `tcp-request
//! inspect-delay` ends — in gatehouse as in Debian's haproxy 2.6, same configuration.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use support::*;

const CFG: &str = "defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
listen wait_end
  bind 127.0.0.1:{wait_end}
  tcp-request inspect-delay 600ms
  tcp-request content accept if WAIT_END
  server s {srv}
listen content
  bind 127.0.0.1:{content}
  tcp-request inspect-delay 800ms
  tcp-request content accept if REQ_CONTENT
  tcp-request content reject
  server s {srv}
listen len
  bind 127.0.0.1:{len}
  tcp-request inspect-delay 3s
  tcp-request content accept if { req.len ge 4 }
  tcp-request content reject
  server s {srv}
";

/// Connects, sends `parts` (each after `gap`), and returns what came back before the
/// proxy closed or 2 s passed, with the time the first byte (or the close) took.
fn talk(addr: SocketAddr, parts: &[&[u8]], gap: Duration) -> (String, Duration) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        s.write_all(p).unwrap();
    }
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut b = [0u8; 64];
    let n = s.read(&mut b).unwrap_or(0);
    (String::from_utf8_lossy(&b[..n]).into_owned(), t.elapsed())
}

#[test]
fn content_rules_wait_for_data_like_haproxy() {
    let srv = TcpBanner::start(b"hi");
    let cfg = Config::new(CFG)
        .listen_port("wait_end")
        .listen_port("content")
        .listen_port("len")
        .var("srv", srv.addr());
    let _g = Gatehouse::start(&cfg.render(), &cfg.listen_ports());
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &href.listen_ports());
    let gap = Duration::from_millis(300);
    for (who, c) in [("gatehouse", &cfg), ("haproxy", &href)] {
        // `WAIT_END` holds only once the delay is over.
        let (got, took) = talk(local(c.port("wait_end")), &[b"x"], gap);
        assert_eq!(got, "hi", "{who}");
        assert!(took >= Duration::from_millis(550), "{who}: {took:?}");
        // `REQ_CONTENT` waits for the first byte, then accepts at once.
        let (got, took) = talk(local(c.port("content")), &[b"", b"x"], gap);
        assert_eq!(got, "hi", "{who}");
        assert!(took < Duration::from_millis(750), "{who}: {took:?}");
        // Nothing before the delay ends: the last rule rejects.
        let (got, _) = talk(local(c.port("content")), &[], gap);
        assert_eq!(got, "", "{who}");
        // `req.len ge 4` waits through two writes.
        let (got, _) = talk(local(c.port("len")), &[b"ab", b"cd"], gap);
        assert_eq!(got, "hi", "{who}");
    }
}
