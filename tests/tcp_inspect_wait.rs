//! `tcp-request content` rules wait while their condition may still change (`req.len`,
//! `rdp_cookie`, the pre-defined ACLs `REQ_CONTENT`, `RDP_COOKIE` and `WAIT_END`), until `tcp-request
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
  tcp-request inspect-delay 2s
  tcp-request content accept if REQ_CONTENT
  tcp-request content reject
  server s {srv}
listen len
  bind 127.0.0.1:{len}
  tcp-request inspect-delay 3s
  tcp-request content accept if { req.len ge 4 }
  tcp-request content reject
  server s {srv}
frontend rdp
  bind 127.0.0.1:{rdp}
  tcp-request inspect-delay 2s
  tcp-request content accept if RDP_COOKIE
  use_backend be_%[rdp_cookie(mstshash),lower]
  default_backend be_def
backend be_alice
  server s {alice}
backend be_def
  server s {srv}
";

/// An RDP connection request (TPKT, X.224) carrying `Cookie: mstshash=Alice`.
const RDP: &[u8] =
    b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=Alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00";

/// Connects, sends `parts` (each after `gap`), and returns what came back before the
/// proxy closed or 4 s passed, with the time the first byte (or the close) took.
fn talk(addr: SocketAddr, parts: &[&[u8]], gap: Duration) -> (String, Duration) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        s.write_all(p).unwrap();
    }
    s.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
    let mut b = [0u8; 64];
    let n = s.read(&mut b).unwrap_or(0);
    (String::from_utf8_lossy(&b[..n]).into_owned(), t.elapsed())
}

#[test]
fn content_rules_wait_for_data_like_haproxy() {
    let srv = TcpBanner::start(b"hi");
    let alice = TcpBanner::start(b"alice");
    let cfg = Config::new(CFG)
        .listen_port("wait_end")
        .listen_port("content")
        .listen_port("len")
        .listen_port("rdp")
        .var("srv", srv.addr())
        .var("alice", alice.addr());
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
        assert!(took < Duration::from_millis(1500), "{who}: {took:?}");
        // Nothing before the delay ends: the last rule rejects.
        let (got, _) = talk(local(c.port("content")), &[], gap);
        assert_eq!(got, "", "{who}");
        // `req.len ge 4` waits through two writes.
        let (got, _) = talk(local(c.port("len")), &[b"ab", b"cd"], gap);
        assert_eq!(got, "hi", "{who}");
        // The RDP cookie, cut in two writes, is waited for and routes by its value.
        let (got, _) = talk(local(c.port("rdp")), &[&RDP[..20], &RDP[20..]], gap);
        assert_eq!(got, "alice", "{who}");
        // Not an RDP request (long enough to tell: 19 bytes at least): no cookie, the
        // default backend at once.
        let (got, took) = talk(
            local(c.port("rdp")),
            &[b"GET /not/rdp/at/all HTTP/1.0\r\n\r\n"],
            gap,
        );
        assert!(took < Duration::from_millis(1500), "{who}: {took:?}");
        assert_eq!(got, "hi", "{who}");
    }
}
