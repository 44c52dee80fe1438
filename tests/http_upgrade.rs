//! Protocol switches other than WebSocket, each scenario run against gatehouse and
//! against haproxy 2.6.12 with the same configuration, both compared with what the
//! client must see:
//! - `Upgrade: h2c` is forwarded as is and tunnelled after the server's `101`;
//! - a custom `Upgrade:` protocol answered `101` by the server becomes a byte tunnel;
//! - a server refusing the upgrade with `200` keeps the connection in HTTP;
//! - `timeout tunnel` (not `timeout client`) closes an idle tunnel after the switch;
//! - a `101` the client did not ask for is answered `502`, as HAProxy does;
//! - `CONNECT` answered `200` by the server relays the head and becomes a tunnel.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A server that answers every request head with `reply`, then echoes the bytes that
/// follow on the connection when `tunnel` is set (otherwise it reads the next head).
struct Scripted {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    fn start(reply: &'static str, tunnel: bool) -> Scripted {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { return };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut b = [0u8; 4096];
                    loop {
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head: Vec<u8> = buf.drain(..end + 4).collect();
                            lock(&seen).push(String::from_utf8_lossy(&head).into_owned());
                            if c.write_all(reply.as_bytes()).is_err() {
                                return;
                            }
                            if tunnel {
                                if c.write_all(&buf).is_err() {
                                    return;
                                }
                                loop {
                                    match c.read(&mut b) {
                                        Ok(0) | Err(_) => return,
                                        Ok(n) => {
                                            if c.write_all(&b[..n]).is_err() {
                                                return;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        match c.read(&mut b) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&b[..n]),
                        }
                    }
                });
            }
        });
        Scripted { addr, heads }
    }

    fn heads(&self) -> Vec<String> {
        lock(&self.heads).clone()
    }
}

const CFG: &str = "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
backend be\n{extra}  server s {be}\n";

/// Runs `scenario` against gatehouse then haproxy, each in front of its own server
/// started by `server`; returns both results.
fn both<T>(
    extra: &str,
    server: impl Fn() -> Scripted,
    scenario: impl Fn(u16, &Scripted) -> T,
) -> (T, T) {
    let run = |reference: bool| {
        let s = server();
        let cfg = Config::new(&CFG.replace("{extra}", extra))
            .listen_port("port")
            .var("be", s.addr);
        let port = cfg.port("port");
        let _d: Daemon = if reference {
            Haproxy::start_config(&cfg).0
        } else {
            Gatehouse::start_config(&cfg).0
        };
        scenario(port, &s)
    };
    (run(false), run(true))
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(local(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    s
}

/// Reads a response head (up to the blank line).
fn read_head(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while !out.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => out.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status_line(head: &str) -> &str {
    head.lines().next().unwrap_or("")
}

/// Whether `msg` comes back through the connection (a tunnel to an echo server).
fn echoes(s: &mut TcpStream, msg: &[u8]) -> bool {
    if s.write_all(msg).is_err() {
        return false;
    }
    let mut got = vec![0u8; msg.len()];
    s.read_exact(&mut got).is_ok() && got == msg
}

const SWITCH: &str =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: gatehouse-test/1\r\nConnection: Upgrade\r\n\r\n";

const UPGRADE_REQ: &[u8] =
    b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: gatehouse-test/1\r\n\r\n";

#[test]
fn a_custom_protocol_switched_by_101_becomes_a_tunnel() {
    let (gh, ha) = both(
        "",
        || Scripted::start(SWITCH, true),
        |port, server| {
            let mut c = connect(port);
            c.write_all(UPGRADE_REQ).expect("write");
            let head = read_head(&mut c);
            let tunnel = echoes(&mut c, b"\x00raw bytes\r\n\r\nGET / HTTP/1.1\r\n\r\n\xff");
            let heads = server.heads();
            let up = heads.first().is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h.contains("upgrade: gatehouse-test/1") && h.contains("connection: upgrade")
            });
            (status_line(&head).to_string(), tunnel, up)
        },
    );
    let expected = ("HTTP/1.1 101 Switching Protocols".to_string(), true, true);
    assert_eq!(gh, expected, "gatehouse");
    assert_eq!(ha, expected, "haproxy");
}

#[test]
fn a_server_refusing_the_upgrade_keeps_http() {
    let (gh, ha) = both(
        "",
        || Scripted::start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno", false),
        |port, server| {
            let mut c = connect(port);
            c.write_all(UPGRADE_REQ).expect("write");
            let head = read_head(&mut c);
            let mut body = [0u8; 2];
            let got_body = c.read_exact(&mut body).is_ok() && &body == b"no";
            // The same connection carries a second request.
            c.write_all(b"GET /y HTTP/1.1\r\nHost: t\r\n\r\n")
                .expect("write");
            let second = read_head(&mut c);
            (
                status_line(&head).to_string(),
                got_body,
                status_line(&second).to_string(),
                server.heads().len(),
            )
        },
    );
    let ok = "HTTP/1.1 200 OK".to_string();
    let expected = (ok.clone(), true, ok, 2);
    assert_eq!(gh, expected, "gatehouse");
    assert_eq!(ha, expected, "haproxy");
}

#[test]
fn timeout_tunnel_applies_after_the_switch() {
    let (gh, ha) = both(
        "  timeout tunnel 700ms\n",
        || Scripted::start(SWITCH, true),
        |port, _| {
            let mut c = connect(port);
            c.set_read_timeout(Some(Duration::from_secs(6)))
                .expect("timeout");
            c.write_all(UPGRADE_REQ).expect("write");
            let head = read_head(&mut c);
            assert!(echoes(&mut c, b"x"), "no tunnel: {head}");
            let t0 = Instant::now();
            let mut b = [0u8; 1];
            let closed = matches!(c.read(&mut b), Ok(0) | Err(_));
            (closed, t0.elapsed())
        },
    );
    for (who, (closed, idle)) in [("gatehouse", gh), ("haproxy", ha)] {
        assert!(closed, "{who}: idle tunnel never closed");
        assert!(
            idle >= Duration::from_millis(500) && idle < Duration::from_millis(3000),
            "{who}: tunnel closed after {idle:?}, expected about 700ms (timeout tunnel), not 5s"
        );
    }
}

#[test]
fn an_unrequested_101_is_not_a_tunnel() {
    let (gh, ha) = both(
        "",
        || Scripted::start(SWITCH, true),
        |port, _| {
            let mut c = connect(port);
            c.write_all(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
                .expect("write");
            let head = read_head(&mut c);
            (status_line(&head).to_string(), echoes(&mut c, b"ping"))
        },
    );
    let expected = ("HTTP/1.1 502 Bad Gateway".to_string(), false);
    assert_eq!(gh, expected, "gatehouse");
    assert_eq!(ha, expected, "haproxy");
}

#[test]
fn connect_answered_200_by_the_server() {
    let (gh, ha) = both(
        "",
        || Scripted::start("HTTP/1.1 200 Connection established\r\n\r\n", true),
        |port, server| {
            let mut c = connect(port);
            c.write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
                .expect("write");
            let head = read_head(&mut c);
            let tunnel = echoes(&mut c, b"\x16\x03\x01 tls bytes");
            let first = server
                .heads()
                .first()
                .map(|h| h.lines().next().unwrap_or("").to_string());
            (head, tunnel, first)
        },
    );
    // HAProxy relays the 200 head as is (no added header) and tunnels the bytes.
    let expected = (
        "HTTP/1.1 200 Connection established\r\n\r\n".to_string(),
        true,
        Some("CONNECT example.com:443 HTTP/1.1".to_string()),
    );
    assert_eq!(gh, expected, "gatehouse");
    assert_eq!(ha, expected, "haproxy");
}

#[test]
fn an_h2c_upgrade_is_forwarded_and_tunnelled() {
    let (gh, ha) = both(
        "",
        || {
            Scripted::start(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
                true,
            )
        },
        |port, server| {
            let mut c = connect(port);
            c.write_all(
                b"GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n\
                  Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
            )
            .expect("write");
            let head = read_head(&mut c);
            let tunnel = echoes(&mut c, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
            (status_line(&head).to_string(), tunnel, server.heads())
        },
    );
    // HAProxy 2.6 forwards the h2c upgrade unchanged (it does not speak h2c itself)
    // and tunnels once the server switches.
    let head = "GET / HTTP/1.1\r\nhost: t\r\nconnection: Upgrade, HTTP2-Settings\r\n\
                upgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
    let expected = (
        "HTTP/1.1 101 Switching Protocols".to_string(),
        true,
        vec![head.to_string()],
    );
    assert_eq!(gh, expected, "gatehouse");
    assert_eq!(ha, expected, "haproxy");
}
