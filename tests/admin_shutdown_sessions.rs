//! Ending a server's sessions through the runtime API, as HAProxy 2.6 does: `shutdown
//! sessions server B/S` ends them (logged `K`); `set server B/S state maint` ends
//! them only for a server with `on-marked-down shutdown-sessions` (logged `D`),
//! otherwise they go on. In `mode tcp` (compared with haproxy on the same
//! configuration) and in `mode http`, where the exchange in flight with the server is
//! cut and the client's connection closed.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::socat::unix_cmd;
use support::{
    Daemon, HttpBackend, TcpEcho, free_port, proxy_builder, require_haproxy, wait_until,
};

/// A connection through `port` that echoes once.
fn echo_session(port: u16) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    round_trip(&mut c);
    c
}

fn round_trip(c: &mut TcpStream) {
    c.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    c.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"ping");
}

/// Reads until the proxy closes `c`; how long it took.
fn closed_within(c: &mut TcpStream) -> Duration {
    let t0 = Instant::now();
    let mut b = [0u8; 64];
    loop {
        match c.read(&mut b) {
            Ok(0) | Err(_) => return t0.elapsed(),
            Ok(_) => {}
        }
    }
}

fn line(d: &Daemon, what: &str) -> String {
    let found = d.wait_stderr_line(Duration::from_secs(10), |l| l.contains(what));
    assert!(found.is_some(), "no {what:?} in:\n{}", d.stderr());
    found.unwrap()
}

#[test]
fn tcp_sessions_end_on_shutdown_sessions_and_on_maint_with_on_marked_down_as_haproxy() {
    let echo = TcpEcho::start();
    for haproxy in [false, true] {
        if haproxy {
            require_haproxy();
        }
        let (p1, p2) = (free_port(), free_port());
        let cfg = support::Config::new(&format!(
            "global\n    stats socket unix@admin.sock level admin\n    log stderr format raw local0\n\
             defaults\n    mode tcp\n    option tcplog\n    log global\n    timeout connect 1s\n\
             \x20   timeout client 30s\n    timeout server 30s\n\
             listen kill\n    bind 127.0.0.1:{p1}\n    server s1 {0} on-marked-down shutdown-sessions\n\
             listen keep\n    bind 127.0.0.1:{p2}\n    server s2 {0}\n",
            echo.addr()
        ));
        let d = proxy_builder(haproxy, &cfg).wait_ports(&[p1, p2]).start();
        let cmd = |c: &str| unix_cmd(&d.dir().join("admin.sock"), c);
        // Maintenance ends the sessions of a server with on-marked-down
        // shutdown-sessions only.
        let mut a = echo_session(p1);
        let mut b = echo_session(p2);
        assert_eq!(cmd("set server kill/s1 state maint"), "\n");
        assert_eq!(cmd("set server keep/s2 state maint"), "\n");
        assert!(closed_within(&mut a) < Duration::from_secs(3));
        round_trip(&mut b);
        assert!(
            line(&d, " D- ").contains(" kill kill/s1 "),
            "{}",
            d.stderr()
        );
        // `shutdown sessions server` ends them whatever the server's settings.
        assert_eq!(cmd("shutdown sessions server keep/s2"), "\n");
        assert!(closed_within(&mut b) < Duration::from_secs(3));
        assert!(
            line(&d, " K- ").contains(" keep keep/s2 "),
            "{}",
            d.stderr()
        );
        assert_eq!(
            cmd("shutdown sessions server keep/nope"),
            "No such server.\n\n"
        );
    }
}

#[test]
fn an_http_exchange_in_flight_is_cut_by_shutdown_sessions() {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_secs(8))
        .start();
    let port = free_port();
    let cfg = support::Config::new(&format!(
        "global\n    stats socket unix@admin.sock level admin\n    log stderr format raw local0\n\
         defaults\n    mode http\n    option httplog\n    log global\n    timeout connect 1s\n\
         \x20   timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    server s1 {} on-marked-down shutdown-sessions\n",
        slow.addr()
    ));
    let d = proxy_builder(false, &cfg).wait_port(port).start();
    let cmd = |c: &str| unix_cmd(&d.dir().join("admin.sock"), c);
    for (how, flags) in [
        ("shutdown sessions server app/s1", " KH-- "),
        ("set server app/s1 state maint", " DH-- "),
    ] {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let before = slow.request_count();
        c.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        slow.wait_requests(before + 1);
        assert_eq!(cmd(how), "\n");
        // The client's connection closes without a response, long before the server
        // would have answered.
        let t0 = Instant::now();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        assert!(t0.elapsed() < Duration::from_secs(4), "{how}");
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
        assert!(line(&d, flags).contains("GET /slow"), "{}", d.stderr());
        let _ = cmd("set server app/s1 state ready");
    }
}

/// Established connections whose local end is `port` (a server's side of its clients).
fn established_to(port: u16) -> usize {
    support::procnet::tcp_sockets()
        .iter()
        .filter(|r| r.local.port() == port && r.state == support::procnet::ESTABLISHED)
        .count()
}

#[test]
fn shutdown_sessions_closes_the_idle_multiplexed_h2_connections_of_the_server() {
    let be = support::backend_h2::H2Backend::start(100);
    let port = free_port();
    let cfg = format!(
        "global\n  stats socket unix@admin.sock level admin\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
         backend b\n  http-reuse always\n  server s1 127.0.0.1:{} proto h2\n",
        be.port()
    );
    let g = support::Gatehouse::start(&cfg, &[port]);
    let get = || {
        let mut c = support::HttpClient::connect(support::local(port)).expect("connect");
        c.get("/", &[]).expect("response").status
    };
    // Two requests share one HTTP/2 connection, which stays open, idle, for reuse.
    assert_eq!((get(), get()), (200, 200));
    assert_eq!(be.connections(), 1);
    assert!(wait_until(Duration::from_secs(2), || established_to(
        be.port()
    ) == 1));
    assert_eq!(
        unix_cmd(&g.dir().join("admin.sock"), "shutdown sessions server b/s1"),
        "\n"
    );
    assert!(
        wait_until(Duration::from_secs(5), || established_to(be.port()) == 0),
        "the idle HTTP/2 connection is still open"
    );
    // The next request opens a new one.
    assert_eq!(get(), 200);
    assert_eq!(be.connections(), 2);
}
