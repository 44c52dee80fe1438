//! `mode tcp` end to end: byte forwarding both ways (10 MB integrity),
//! half-close, `timeout client` / `timeout server` on idle connections,
//! `tcp-request connection reject|accept`, frontend `maxconn` queuing
//! connections instead of dropping them, and server-first (banner)
//! protocols.
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the
//! reference haproxy (to check the expectations themselves).

mod support;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::http1::is_timeout;
use support::*;

/// A `listen` section in tcp mode on `{port}` forwarding to `server`,
/// with `extra` lines added to the section.
fn tcp_config(server: SocketAddr, extra: &str) -> Config {
    Config::new(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         listen app\n  bind 127.0.0.1:{port}\n{extra}\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("extra", extra)
    .var("server", server)
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect_timeout(&local(port), DEFAULT_TIMEOUT).expect("connect to proxy");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set_read_timeout");
    s
}

/// Reads exactly `n` bytes (panics on EOF/timeout with what was read).
fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    s.read_exact(&mut out)
        .unwrap_or_else(|e| panic!("reading {n} bytes through the proxy: {e}"));
    out
}

/// What a read on `s` returns within `within`: `Ok(0)` = EOF, `Ok(n)` =
/// data, `Err` = reset or timeout.
fn read_outcome(s: &mut TcpStream, within: Duration) -> io::Result<usize> {
    s.set_read_timeout(Some(within)).expect("set_read_timeout");
    let mut buf = [0u8; 1024];
    s.read(&mut buf)
}

/// True when `s` is closed by the peer (EOF or reset) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    match read_outcome(s, within) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !is_timeout(&e),
    }
}

#[test]
fn ten_megabytes_cross_the_proxy_intact_both_ways() {
    let echo = TcpEcho::start();
    let cfg = tcp_config(echo.addr(), "");
    let _p = start_proxy(&cfg);
    let payload: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut s = connect(cfg.port("port"));
    let mut w = s.try_clone().expect("clone");
    let to_send = payload.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&to_send).expect("write 10 MB");
        w.shutdown(Shutdown::Write).expect("half-close");
    });
    let mut got = Vec::with_capacity(payload.len());
    s.read_to_end(&mut got).expect("read the echo to EOF");
    writer.join().expect("writer thread");
    assert_eq!(got.len(), payload.len(), "echoed byte count");
    assert!(got == payload, "echoed bytes differ from what was sent");
    assert_eq!(echo.bytes_echoed(), payload.len());
}

#[test]
fn half_close_still_delivers_the_reply_then_eof() {
    let echo = TcpEcho::start();
    let cfg = tcp_config(echo.addr(), "");
    let _p = start_proxy(&cfg);
    let mut s = connect(cfg.port("port"));
    s.write_all(b"hello, half-closed world").expect("write");
    s.shutdown(Shutdown::Write).expect("shutdown write");
    let mut got = Vec::new();
    s.read_to_end(&mut got)
        .expect("reply then EOF after the client's half-close");
    assert_eq!(got, b"hello, half-closed world");
}

#[test]
fn timeout_client_closes_an_idle_connection() {
    let echo = TcpEcho::start();
    let cfg = Config::new(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 300ms\n  timeout server 10s\n\
         listen app\n  bind 127.0.0.1:{port}\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", echo.addr());
    let _p = start_proxy(&cfg);
    let mut s = connect(cfg.port("port"));
    s.write_all(b"ping").expect("write");
    assert_eq!(read_n(&mut s, 4), b"ping", "echo before going idle");
    let t = Instant::now();
    assert!(
        closed_within(&mut s, Duration::from_secs(3)),
        "idle connection not closed within 3 s with timeout client 300ms"
    );
    let idle = t.elapsed();
    assert!(
        idle >= Duration::from_millis(200),
        "closed after {idle:?}, before timeout client 300ms"
    );
}

#[test]
fn timeout_server_closes_a_connection_to_a_silent_server() {
    let hole = BlackHole::start();
    let cfg = Config::new(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 300ms\n\
         listen app\n  bind 127.0.0.1:{port}\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", hole.addr());
    let _p = start_proxy(&cfg);
    let mut s = connect(cfg.port("port"));
    s.write_all(b"anyone there?").expect("write");
    let t = Instant::now();
    assert!(
        closed_within(&mut s, Duration::from_secs(3)),
        "connection to a silent server not closed within 3 s with timeout server 300ms"
    );
    let idle = t.elapsed();
    assert!(
        idle >= Duration::from_millis(200),
        "closed after {idle:?}, before timeout server 300ms"
    );
    assert!(
        wait_until(Duration::from_secs(2), || hole.connections() >= 1),
        "the proxy never connected to the server"
    );
}

#[test]
fn tcp_request_connection_reject_closes_immediately_without_contacting_the_server() {
    let echo = TcpEcho::start();
    let cfg = tcp_config(
        echo.addr(),
        "  tcp-request connection reject if { src 127.0.0.1 }",
    );
    let _p = start_proxy(&cfg);
    let echo_conns_after_start = echo.connections();
    let mut s = connect(cfg.port("port"));
    let _ = s.write_all(b"let me in");
    let t = Instant::now();
    match read_outcome(&mut s, Duration::from_secs(2)) {
        Ok(0) => {}
        Err(e) if !is_timeout(&e) => {}
        other => panic!("rejected connection was not closed: {other:?}"),
    }
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "reject took {:?}",
        t.elapsed()
    );
    // The close ends the proxy's session: a connection to the server would
    // have been made by then, and sync makes the server's count final.
    echo.sync();
    assert_eq!(
        echo.connections(),
        echo_conns_after_start,
        "a rejected connection reached the server"
    );
}

#[test]
fn tcp_request_connection_accept_stops_evaluation_and_other_sources_pass() {
    let echo = TcpEcho::start();
    // 127.0.0.1 is not in 10/8, so the first reject does not apply; the
    // accept matches and stops evaluation before the catch-all reject.
    let cfg = tcp_config(
        echo.addr(),
        "  tcp-request connection reject if { src 10.0.0.0/8 }\n\
         \x20 tcp-request connection accept if { src 127.0.0.0/8 }\n\
         \x20 tcp-request connection reject",
    );
    let _p = start_proxy(&cfg);
    let mut s = connect(cfg.port("port"));
    s.write_all(b"accepted?").expect("write");
    assert_eq!(read_n(&mut s, 9), b"accepted?");
}

#[test]
fn frontend_maxconn_makes_extra_connections_wait_instead_of_dropping_them() {
    let echo = TcpEcho::start();
    let cfg = Config::new(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  maxconn 2\n  default_backend be\n\
         backend be\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", echo.addr());
    let _p = start_proxy(&cfg);
    let port = cfg.port("port");
    let mut first = connect(port);
    let mut second = connect(port);
    for (i, s) in [&mut first, &mut second].into_iter().enumerate() {
        s.write_all(b"x").expect("write");
        assert_eq!(read_n(s, 1), b"x", "connection {i} not served");
    }
    // The kernel completes the third handshake, but the proxy must not
    // serve it while two connections are open: it leaves it in the accept
    // queue, where nothing can serve it.
    let mut third = connect(port);
    third.write_all(b"third").expect("write third");
    assert!(
        wait_until(Duration::from_secs(5), || support::procnet::accept_queue(
            port
        ) == 1),
        "third connection over maxconn 2 was not held back in the accept queue"
    );
    assert!(
        nothing_arrived(&third),
        "third connection over maxconn 2 was not held back"
    );
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("set_read_timeout");
    assert_eq!(
        read_n(&mut third, 5),
        b"third",
        "third connection served once a slot is free"
    );
    second.write_all(b"y").expect("write second");
    assert_eq!(
        read_n(&mut second, 1),
        b"y",
        "second connection still works"
    );
}

#[test]
fn server_speaks_first_banner_reaches_the_client() {
    let banner = TcpBanner::start(b"220 mail.example ESMTP ready\r\n");
    let cfg = tcp_config(banner.addr(), "");
    let _p = start_proxy(&cfg);
    let mut s = connect(cfg.port("port"));
    let greeting = read_n(&mut s, 30);
    assert_eq!(greeting, b"220 mail.example ESMTP ready\r\n");
    s.write_all(b"QUIT\r\n").expect("write");
    s.shutdown(Shutdown::Write).expect("half-close");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("EOF after QUIT");
    assert!(
        rest.is_empty(),
        "unexpected bytes after the banner: {rest:?}"
    );
    assert!(
        wait_until(Duration::from_secs(2), || banner.received() == b"QUIT\r\n"),
        "server received {:?}",
        String::from_utf8_lossy(&banner.received())
    );
}
