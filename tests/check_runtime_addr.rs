//! Health checks follow a server's runtime address (`set server B/S addr IP port P` on
//! the stats socket), as HAProxy's do: a check without `addr`/`port` of its own goes
//! to the server's new address and port at once, one with `port N` keeps its port.
//! The same scenario runs through haproxy 2.6 for the reference.

mod support;

use std::time::Duration;
use support::socat::unix_cmd;
use support::{Daemon, Gatehouse, Haproxy, HttpBackend, free_port, wait_until};

const WAIT: Duration = Duration::from_secs(10);

/// Whether `d` logged that `server` went `state` (`UP`, `DOWN`) `n` times or more.
fn logged(d: &Daemon, server: &str, state: &str, n: usize) -> bool {
    let want = format!("Server app/{server} is {state}");
    d.stderr().lines().filter(|l| l.contains(&want)).count() >= n
}

fn scenario(haproxy: bool) {
    let app = HttpBackend::start("app");
    let (port, dead, dead2) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket unix@admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    option httpchk GET /health\n\
         \x20   server s1 127.0.0.1:{dead} check inter 100 rise 1 fall 1\n\
         \x20   server s2 127.0.0.1:{dead2} check port {app_port} inter 100 rise 1 fall 1\n",
        app_port = app.port()
    );
    let builder = if haproxy {
        Haproxy::builder(&cfg)
    } else {
        Gatehouse::builder(&cfg)
    };
    let d = builder.wait_port(port).start();
    let sock = d.dir().join("admin.sock");
    // s1's check goes to a closed port: DOWN.
    assert!(
        wait_until(WAIT, || logged(&d, "s1", "DOWN", 1)),
        "{}",
        d.stderr()
    );
    // Moved to the real server, the check follows: UP.
    let out = unix_cmd(
        &sock,
        &format!("set server app/s1 addr 127.0.0.1 port {}", app.port()),
    );
    assert!(out.contains("port changed from"), "{out}");
    assert!(
        wait_until(WAIT, || logged(&d, "s1", "UP", 1)),
        "{}",
        d.stderr()
    );
    // s2 checks its own `port`: moving the server elsewhere keeps the check where it
    // was. Wait for a few checks of both servers on the real server, then no DOWN.
    let _ = unix_cmd(
        &sock,
        &format!("set server app/s2 addr 127.0.0.1 port {dead}"),
    );
    let before = app.request_count();
    assert!(wait_until(WAIT, || app.request_count() >= before + 6));
    assert!(!logged(&d, "s2", "DOWN", 1), "{}", d.stderr());
    // s1 back to the closed port: DOWN again.
    let _ = unix_cmd(
        &sock,
        &format!("set server app/s1 addr 127.0.0.1 port {dead}"),
    );
    assert!(
        wait_until(WAIT, || logged(&d, "s1", "DOWN", 2)),
        "{}",
        d.stderr()
    );
}

#[test]
fn checks_follow_set_server_addr() {
    scenario(false);
}

#[test]
fn checks_follow_set_server_addr_in_haproxy_too() {
    scenario(true);
}
