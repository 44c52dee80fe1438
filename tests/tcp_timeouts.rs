//! `mode tcp` timeouts and limits beyond the basics of `tcp_mode.rs`: `timeout tunnel`,
//! `timeout client-fin`, `timeout server-fin`, `timeout connect` to a server that never
//! answers the SYN, a server that half-closes first while the client keeps sending,
//! global and bind-line `maxconn` (extra connections wait in the backlog), and
//! `SO_REUSEPORT` (two processes on one port).
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against haproxy 2.6.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};
use support::http1::is_timeout;
use support::*;

fn start_proxy(cfg: &str, ports: &[u16]) -> Daemon {
    if std::env::var("GATEHOUSE_TEST_PROXY").as_deref() == Ok("haproxy") {
        Haproxy::start(cfg, ports).0
    } else {
        Gatehouse::start(cfg, ports).0
    }
}

/// A tcp `listen` on `port` to `server` with these timeout lines (and others).
fn cfg(port: u16, server: std::net::SocketAddr, lines: &str) -> String {
    format!(
        "defaults\n  mode tcp\n{lines}\nlisten app\n  bind 127.0.0.1:{port}\n  server s1 {server}\n"
    )
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(local(port)).expect("connect to the proxy");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn echo_once(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).expect("echo through the proxy");
    assert_eq!(back, msg);
}

/// How long until `s` reads EOF or a reset (panics after `max`).
fn time_to_close(s: &mut TcpStream, max: Duration) -> Duration {
    let t = Instant::now();
    s.set_read_timeout(Some(max)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return t.elapsed(),
            Ok(_) => continue,
            Err(e) if is_timeout(&e) => panic!("not closed within {max:?}"),
            Err(_) => return t.elapsed(),
        }
    }
}

#[test]
fn timeout_tunnel_replaces_client_and_server_timeouts() {
    let echo = TcpEcho::start();
    let port = free_port();
    let lines = "  timeout connect 2s\n  timeout client 200ms\n  timeout server 200ms\n  timeout tunnel 1200ms";
    let _p = start_proxy(&cfg(port, echo.addr(), lines), &[port]);
    let mut c = connect(port);
    echo_once(&mut c, b"one");
    // Idle for 3x timeout client: time is the behaviour under test.
    std::thread::sleep(Duration::from_millis(600));
    echo_once(&mut c, b"still open after 3x timeout client");
    let idle = time_to_close(&mut c, Duration::from_secs(5));
    assert!(
        idle >= Duration::from_millis(1000),
        "closed after {idle:?} with timeout tunnel 1200ms"
    );
}

#[test]
fn timeout_connect_gives_up_on_a_server_that_never_answers() {
    let hole = NoAccept::start();
    let port = free_port();
    let lines = "  retries 0\n  timeout connect 400ms\n  timeout client 10s\n  timeout server 10s";
    let _p = start_proxy(&cfg(port, hole.addr(), lines), &[port]);
    let mut c = connect(port);
    let waited = time_to_close(&mut c, Duration::from_secs(5));
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "closed after {waited:?} with timeout connect 400ms"
    );
}

#[test]
fn a_server_half_close_lets_the_client_keep_sending() {
    let server = HalfCloser::start(b"bye\n");
    let port = free_port();
    let lines = "  timeout connect 2s\n  timeout client 10s\n  timeout server 10s";
    let _p = start_proxy(&cfg(port, server.addr(), lines), &[port]);
    let mut c = connect(port);
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("banner then EOF");
    assert_eq!(got, b"bye\n", "the server's FIN is passed on");
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    c.write_all(&payload)
        .expect("the client still sends after the server's FIN");
    c.shutdown(Shutdown::Write).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || server.got_then_eof(&payload)),
        "everything sent after the half-close, then the client's FIN, reach the server: {:?}",
        server
            .connections()
            .iter()
            .map(|(d, eof)| (d.len(), *eof))
            .collect::<Vec<_>>()
    );
}

#[test]
fn timeout_client_fin_applies_once_the_server_half_closed() {
    let server = HalfCloser::start(b"bye\n");
    let port = free_port();
    let lines = "  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n  timeout client-fin 400ms";
    let _p = start_proxy(&cfg(port, server.addr(), lines), &[port]);
    let mut c = connect(port);
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("banner then EOF");
    c.write_all(b"late data").unwrap();
    let t = Instant::now();
    // The idle client, half-closed on the other way, is given up after client-fin: the
    // proxy passes a FIN on to the server.
    assert!(
        wait_until(Duration::from_secs(5), || server.got_then_eof(b"late data")),
        "session not ended by timeout client-fin"
    );
    let idle = t.elapsed();
    assert!(
        idle >= Duration::from_millis(300) && idle < Duration::from_secs(3),
        "ended after {idle:?} with client-fin 400ms, client 10s"
    );
}

#[test]
fn timeout_server_fin_applies_once_the_client_half_closed() {
    let hole = BlackHole::start();
    let port = free_port();
    let lines = "  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n  timeout server-fin 400ms";
    let _p = start_proxy(&cfg(port, hole.addr(), lines), &[port]);
    let mut c = connect(port);
    c.write_all(b"request").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let waited = time_to_close(&mut c, Duration::from_secs(5));
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "closed after {waited:?} with server-fin 400ms, server 10s"
    );
}

#[test]
fn global_maxconn_makes_extra_connections_wait_in_the_backlog() {
    let echo = TcpEcho::start();
    let port = free_port();
    let text = format!(
        "global\n  maxconn 1\n{}",
        cfg(
            port,
            echo.addr(),
            "  timeout connect 2s\n  timeout client 10s\n  timeout server 10s"
        )
    );
    one_at_a_time(&text, port);
}

#[test]
fn bind_maxconn_limits_each_listener_of_its_line() {
    let echo = TcpEcho::start();
    let (port, other) = (free_port(), free_port());
    let text = cfg(
        port,
        echo.addr(),
        "  timeout connect 2s\n  timeout client 10s\n  timeout server 10s",
    )
    .replace(
        &format!("  bind 127.0.0.1:{port}\n"),
        &format!("  bind 127.0.0.1:{port} maxconn 1\n  bind 127.0.0.1:{other}\n"),
    );
    let p = one_at_a_time(&text, port);
    // The other bind line has no limit of its own.
    let (mut a, mut b) = (connect(other), connect(other));
    echo_once(&mut a, b"a");
    echo_once(&mut b, b"b");
    drop(p);
}

/// Checks that the proxy serves one connection at a time on `port` (others wait in the
/// backlog and are served later); returns the running proxy.
fn one_at_a_time(text: &str, port: u16) -> Daemon {
    let p = start_proxy(text, &[port]);
    // The start-up probe may still hold the only slot for a moment.
    assert!(wait_until(Duration::from_secs(3), || {
        let mut c = connect(port);
        c.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        c.write_all(b"x").is_ok() && c.read(&mut [0u8; 1]).map(|n| n == 1).unwrap_or(false)
    }));
    let mut first = connect(port);
    echo_once(&mut first, b"first");
    let mut second = connect(port);
    second
        .write_all(b"second")
        .expect("accepted by the kernel's backlog");
    // Held in the accept queue, where nothing can serve it.
    assert!(
        wait_until(Duration::from_secs(5), || support::procnet::accept_queue(
            port
        ) == 1),
        "second connection beyond maxconn 1 was not left in the accept queue"
    );
    assert!(
        nothing_arrived(&second),
        "second connection served beyond maxconn 1"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut back = [0u8; 6];
    second
        .read_exact(&mut back)
        .expect("served once the first connection closed");
    assert_eq!(&back, b"second");
    p
}

#[test]
fn so_reuseport_lets_a_second_process_bind_the_same_port() {
    let port = free_port();
    let text = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  http-request return status 200 content-type text/plain string ok\n"
    );
    let mut first = start_proxy(&text, &[port]);
    let alone = support::procnet::listeners(port);
    let mut second = start_proxy(&text, &[port]);
    // The port answered for the first process already: wait for the second
    // one's own listening socket (or its exit).
    assert!(
        wait_until(Duration::from_secs(5), || support::procnet::listeners(port)
            > alone
            || !second.is_running()),
        "no second listening socket on {port}"
    );
    assert!(second.is_running(), "second process: {}", second.stderr());
    assert!(!second.stderr().contains("ALERT"), "{}", second.stderr());
    first.stop();
    assert_eq!(
        http_get(local(port), "/", &[]).unwrap().status,
        200,
        "the second process serves the shared port alone"
    );
    assert!(second.is_running());
}
