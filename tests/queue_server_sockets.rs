//! Socket options on the connections the proxy opens to servers (set where it connects,
//! after the queue): `option srvtcpka` / `option tcpka` (SO_KEEPALIVE) and
//! `option nolinger` (SO_LINGER 0: the connection is reset on close).
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the reference
//! haproxy.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use support::*;

/// tcp mode, frontend on `{port}`, backend with `options` and one server `server`.
fn tcp_config(timeouts: &str, options: &str, server: SocketAddr) -> Config {
    Config::new(
        "defaults\n  mode tcp\n{timeouts}\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n{options}  server s {server}\n",
    )
    .listen_port("port")
    .var("timeouts", timeouts)
    .var("options", options)
    .var("server", server)
}

/// How the server saw the proxy's connection end.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// An orderly close (FIN).
    Eof,
    /// A reset (RST).
    Reset,
    /// Something else.
    Other(String),
}

/// A server that reports how the proxy closed the first connection on which it
/// received `hello` (the start-up probe's connection is ignored).
fn one_shot_server() -> (SocketAddr, mpsc::Receiver<End>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                let mut got = Vec::new();
                let mut buf = [0u8; 64];
                let end = loop {
                    match s.read(&mut buf) {
                        Ok(0) => break End::Eof,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == ErrorKind::ConnectionReset => break End::Reset,
                        Err(e) => break End::Other(e.to_string()),
                    }
                };
                if got == b"hello" {
                    let _ = tx.send(end);
                }
            });
        }
    });
    (addr, rx)
}

/// Connects through the proxy, sends `hello`, and returns how the server saw the
/// proxy close its connection when both sides stay idle (`timeout client`/`server`).
fn server_side_end(options: &str) -> End {
    let (server, ended) = one_shot_server();
    let cfg = tcp_config(
        "  timeout connect 1s\n  timeout client 300ms\n  timeout server 300ms",
        options,
        server,
    );
    let _p = start_proxy(&cfg);
    let mut c = TcpStream::connect(local(cfg.port("port"))).expect("connect");
    c.write_all(b"hello").expect("send");
    ended
        .recv_timeout(Duration::from_secs(5))
        .expect("the proxy never closed the server connection")
}

#[test]
fn nolinger_resets_the_server_connection_on_close() {
    assert_eq!(server_side_end(""), End::Eof, "without option nolinger");
    assert_eq!(
        server_side_end("  option nolinger\n"),
        End::Reset,
        "with option nolinger"
    );
}

/// `ss` lines for established connections to `server` (the proxy's side).
fn proxy_side_sockets(server: SocketAddr) -> String {
    let out = std::process::Command::new("ss")
        .args(["-tnoH", "state", "established", "dst"])
        .arg(server.to_string())
        .output()
        .expect("run ss (iproute2)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Opens one proxied connection to a server that holds it, and returns the `ss` view
/// of the proxy's connection to the server.
fn server_socket_view(options: &str) -> String {
    let hole = BlackHole::start();
    let cfg = tcp_config(
        "  timeout connect 1s\n  timeout client 5s\n  timeout server 5s",
        options,
        hole.addr(),
    );
    let _p = start_proxy(&cfg);
    let mut c = TcpStream::connect(local(cfg.port("port"))).expect("connect");
    c.write_all(b"hello").expect("send");
    assert!(
        wait_until(Duration::from_secs(2), || hole.connections() >= 1),
        "the proxy did not connect to the server"
    );
    let mut view = String::new();
    wait_until(Duration::from_secs(2), || {
        view = proxy_side_sockets(hole.addr());
        !view.trim().is_empty()
    });
    assert!(
        !view.trim().is_empty(),
        "ss shows no connection to the server"
    );
    view
}

#[test]
fn srvtcpka_and_tcpka_enable_keepalive_on_server_connections() {
    let plain = server_socket_view("");
    assert!(!plain.contains("keepalive"), "without srvtcpka: {plain}");
    for opt in ["  option srvtcpka\n", "  option tcpka\n"] {
        let view = server_socket_view(opt);
        assert!(view.contains("keepalive"), "{opt:?}: {view}");
    }
}
