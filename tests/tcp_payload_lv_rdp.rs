//! `mode tcp` payload fetches with a length prefix (`req.payload_lv`,
//! `res.payload_lv`) and RDP load balancing (`balance rdp-cookie`, `persist
//! rdp-cookie`), with an RDP-like client sending the X.224 connection request with its
//! `Cookie: mstshash=USER` line: the same configuration runs in gatehouse and in
//! Debian's haproxy 2.6; every client must reach the same server in both.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::*;

const CFG: &str = "defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend lv
  bind 127.0.0.1:{lv}
  tcp-request inspect-delay 2s
  tcp-request content accept if { req.payload_lv(0,1) -m found }
  use_backend be_%[req.payload_lv(0,1)]
  default_backend be_def
frontend lv_rel
  bind 127.0.0.1:{lv_rel}
  tcp-request inspect-delay 2s
  tcp-request content accept if { req.payload_lv(1,2,+1) -m found }
  use_backend be_alice if { req.payload_lv(1,2,+1) -m str alice }
  default_backend be_def
frontend lv_abs
  bind 127.0.0.1:{lv_abs}
  tcp-request inspect-delay 2s
  tcp-request content accept if { req.payload_lv(0,1,0) -m found }
  use_backend be_alice if { req.payload_lv(0,1,0) -m bin 05616c6963 }
  default_backend be_def
listen res_bad
  bind 127.0.0.1:{res_bad}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload_lv(0,1) -m str BAD }
  server s {bad}
listen res_good
  bind 127.0.0.1:{res_good}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload_lv(0,1) -m str BAD }
  server s {good}
listen rdp
  bind 127.0.0.1:{rdp}
  tcp-request inspect-delay 2s
  tcp-request content accept if RDP_COOKIE
  persist rdp-cookie
  balance rdp-cookie
  server s1 {s1}
  server s2 {s2}
  server s3 {s3}
  server s4 {s4}
backend be_alice
  server s {alice}
backend be_def
  server s {def}
";

/// Connects, sends `parts` 300 ms apart, and returns what the server side sent before
/// the proxy closed or 3 s passed.
fn talk(addr: SocketAddr, parts: &[&[u8]]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        s.write_all(p).unwrap();
    }
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut b = [0u8; 64];
    let n = s.read(&mut b).unwrap_or(0);
    String::from_utf8_lossy(&b[..n]).into_owned()
}

/// An RDP client's first message: TPKT and X.224 connection request headers, then
/// the routing token `Cookie: NAME=VALUE\r\n` and an RDP negotiation request.
fn rdp_request(cookie: &str) -> Vec<u8> {
    let token = format!("Cookie: {cookie}\r\n");
    let neg = [0x01u8, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00];
    let len = 11 + token.len() + neg.len();
    let mut m = vec![0x03, 0x00, (len >> 8) as u8, len as u8];
    m.extend_from_slice(&[(len - 5) as u8, 0xe0, 0, 0, 0, 0, 0]);
    m.extend_from_slice(token.as_bytes());
    m.extend_from_slice(&neg);
    m
}

#[test]
fn payload_lv_and_rdp_balancing_agree_with_haproxy() {
    let alice = TcpBanner::start(b"alice");
    let def = TcpBanner::start(b"def");
    let bad = TcpBanner::start(b"\x03BAD");
    let good = TcpBanner::start(b"\x02OK");
    let s: Vec<TcpBanner> = ["s1", "s2", "s3", "s4"]
        .iter()
        .map(|n| TcpBanner::start(n.as_bytes()))
        .collect();
    let cfg = Config::new(CFG)
        .listen_port("lv")
        .listen_port("lv_rel")
        .listen_port("lv_abs")
        .listen_port("res_bad")
        .listen_port("res_good")
        .listen_port("rdp")
        .var("alice", alice.addr())
        .var("def", def.addr())
        .var("bad", bad.addr())
        .var("good", good.addr())
        .var("s1", s[0].addr())
        .var("s2", s[1].addr())
        .var("s3", s[2].addr())
        .var("s4", s[3].addr());
    let _g = Gatehouse::start(&cfg.render(), &cfg.listen_ports());
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &href.listen_ports());
    // `msts=<ip>.<port>.0000` names s3 (127.0.0.1:port) as a broker writes it.
    let s3 = s[2].addr();
    let ip = match s3 {
        SocketAddr::V4(a) => u32::from_le_bytes(a.ip().octets()),
        SocketAddr::V6(_) => unreachable!(),
    };
    let msts = format!("msts={ip}.{}.0000", s3.port().swap_bytes());
    let persist = rdp_request(&msts);
    type Case = (&'static str, &'static str, Vec<Vec<u8>>, &'static str);
    let mut cases: Vec<Case> = vec![
        ("lv", "prefixed name", vec![b"\x05alice".to_vec()], "alice"),
        (
            "lv",
            "cut in two",
            vec![b"\x05al".to_vec(), b"ice".to_vec()],
            "alice",
        ),
        ("lv", "no such backend", vec![b"\x03bob".to_vec()], "def"),
        (
            "lv_rel",
            "2-byte length, relative offset",
            vec![b"\x00\x00\x05xalice".to_vec()],
            "alice",
        ),
        (
            "lv_rel",
            "other value",
            vec![b"\x00\x00\x05xbobby".to_vec()],
            "def",
        ),
        (
            "lv_abs",
            "absolute offset",
            vec![b"\x05alice".to_vec()],
            "alice",
        ),
        ("res_bad", "response rejected", vec![b"hi".to_vec()], ""),
        (
            "res_good",
            "response passed",
            vec![b"hi".to_vec()],
            "\x02OK",
        ),
        ("rdp", "persist rdp-cookie", vec![persist.clone()], "s3"),
        (
            "rdp",
            "persist, cut in two",
            vec![persist[..20].to_vec(), persist[20..].to_vec()],
            "s3",
        ),
    ];
    // Users are spread by the hash of their mstshash cookie, the same way in both.
    for user in [
        "alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi",
    ] {
        let r = rdp_request(&format!("mstshash={user}"));
        cases.push(("rdp", "balance rdp-cookie", vec![r], ""));
    }
    let mut wrong = Vec::new();
    let mut spread = std::collections::BTreeSet::new();
    for (port, what, parts, expected) in &cases {
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let got = talk(local(cfg.port(port)), &parts);
        let reference = talk(local(href.port(port)), &parts);
        if *what == "balance rdp-cookie" {
            spread.insert(got.clone());
            // The same user again goes to the same server.
            let again = talk(local(cfg.port(port)), &parts);
            if got != reference || again != got {
                wrong.push(format!(
                    "{port} {what}: gatehouse {got:?} then {again:?}, haproxy {reference:?}"
                ));
            }
        } else if got != *expected || reference != *expected {
            wrong.push(format!(
                "{port} {what}: gatehouse {got:?}, haproxy {reference:?}, expected {expected:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(spread.len() >= 2, "{spread:?}");
}
