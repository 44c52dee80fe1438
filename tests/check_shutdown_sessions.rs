//! The server keywords `on-marked-down shutdown-sessions` and `on-marked-up
//! shutdown-backup-sessions` in `mode tcp`: sessions to a server its checks mark down
//! are closed at once (logged `D-`), and an active server marked up closes the sessions
//! of the backup servers (logged `U-`), as in HAProxy 2.6 (which runs the same
//! configuration side by side); without them sessions go on. PostgreSQL's case: a
//! `psql` session through the proxy is closed when the role check fails.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::pg_cluster::*;
use support::services::service_bin;
use support::{Daemon, Gatehouse, Haproxy, TcpEcho, free_port, wait_until};

/// Waits for the first log line of `d` containing `what`; returns it.
fn line(d: &Daemon, what: &str) -> String {
    line_with(d, &[what])
}

/// Waits for the first log line of `d` containing all of `what`; returns it.
fn line_with(d: &Daemon, what: &[&str]) -> String {
    let found = d.wait_stderr_line(Duration::from_secs(20), |l| {
        what.iter().all(|w| l.contains(w))
    });
    assert!(found.is_some(), "no {what:?} in:\n{}", d.stderr());
    found.unwrap()
}

/// A connection through `port` that echoes: a round trip proves it reached the echo
/// server.
fn echo_session(port: u16) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    c.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    c.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"ping");
    c
}

/// Reads until the proxy closes `c`; how long it took.
fn closed_within(c: &mut TcpStream) -> Duration {
    let t0 = Instant::now();
    let mut b = [0u8; 16];
    loop {
        match c.read(&mut b) {
            Ok(0) | Err(_) => return t0.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn an_active_server_marked_up_closes_the_backup_sessions_as_haproxy_does() {
    support::require_haproxy();
    let echo = TcpEcho::start();
    // The active server's port: nothing listens at first, so it is down.
    let active = free_port();
    let cfg = |port: u16, keep: u16| {
        format!(
            "global\n    log stderr format raw local0\n\
             defaults\n    mode tcp\n    option tcplog\n    log global\n    timeout connect 1s\n\
             \x20   timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{port}\n    default_backend b\n\
             frontend keep\n    bind 127.0.0.1:{keep}\n    default_backend k\n\
             backend b\n\
             \x20   server active 127.0.0.1:{active} check inter 100 rise 1 fall 1 on-marked-up shutdown-backup-sessions\n\
             \x20   server spare {} check inter 100 backup\n\
             backend k\n\
             \x20   server active 127.0.0.1:{active} check inter 100 rise 1 fall 1\n\
             \x20   server spare {} check inter 100 backup\n",
            echo.addr(),
            echo.addr()
        )
    };
    let (a, ak, b, bk) = (free_port(), free_port(), free_port(), free_port());
    let gh = Gatehouse::start(&cfg(a, ak), &[a, ak]);
    let hp = Haproxy::start(&cfg(b, bk), &[b, bk]);
    for d in [&gh as &Daemon, &hp] {
        line(d, "Server b/active is DOWN");
        line(d, "Server k/active is DOWN");
    }
    let mut sessions: Vec<TcpStream> = [a, b].iter().map(|p| echo_session(*p)).collect();
    let mut kept: Vec<TcpStream> = [ak, bk].iter().map(|p| echo_session(*p)).collect();
    // The active server comes up.
    let listener = TcpListener::bind(("127.0.0.1", active)).unwrap();
    std::thread::spawn(move || for _ in listener.incoming() {});
    for (s, d) in sessions.iter_mut().zip([&gh as &Daemon, &hp]) {
        let took = closed_within(s);
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
        line(d, "Server b/active is UP");
        // The session's log line: killed on a backup server because an active server
        // came up ("U-"), with the bytes it forwarded.
        line_with(d, &["b/spare", " 4 U- "]);
    }
    // Without the keyword, the backup sessions go on.
    for (k, d) in kept.iter_mut().zip([&gh as &Daemon, &hp]) {
        line(d, "Server k/active is UP");
        k.write_all(b"pong").unwrap();
        let mut buf = [0u8; 4];
        k.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    }
}

/// `psql` running `sql` through 127.0.0.1:`port` as `app_ro`, started.
fn psql_child(port: u16, sql: &str) -> Child {
    Command::new(service_bin("psql"))
        .args(["-X", "-At", "-d"])
        .arg(format!(
            "host=127.0.0.1 port={port} user=app_ro dbname={DATABASE} sslmode=disable"
        ))
        .args(["-c", sql])
        .env("PGPASSWORD", APP_RO_PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start psql")
}

#[test]
fn a_psql_session_is_closed_when_its_server_fails_the_role_check() {
    let c = PgCluster::start();
    let p = c.primary.port();
    let (kill, keep) = (free_port(), free_port());
    let cfg = format!(
        "global\n    log stderr format raw local0\n\
         defaults\n    mode tcp\n    option tcplog\n    log global\n    timeout connect 1s\n\
         \x20   timeout client 60s\n    timeout server 60s\n    timeout check 2s\n\
         credentials checker\n    user checker\n    password \"{CHECKER_PASSWORD}\"\n\
         frontend kill\n    bind 127.0.0.1:{kill}\n    default_backend kill\n\
         frontend keep\n    bind 127.0.0.1:{keep}\n    default_backend keep\n\
         backend kill\n    option pgsql-check user checker credentials checker role primary\n\
         \x20   server db1 127.0.0.1:{p} check inter 200 fall 1 on-marked-down shutdown-sessions\n\
         backend keep\n    option pgsql-check user checker credentials checker role primary\n\
         \x20   server db1 127.0.0.1:{p} check inter 200 fall 1\n"
    );
    let gh = Gatehouse::start(&cfg, &[kill, keep]);
    let killed = psql_child(kill, "SELECT pg_sleep(30)");
    let mut kept = psql_child(keep, "SELECT pg_sleep(10)");
    let sleeping = || {
        query(
            &c.primary,
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(%'",
        )
        .trim()
            == "2"
    };
    assert!(
        wait_until(Duration::from_secs(20), sleeping),
        "psql not running"
    );
    // The check role may no longer log in: the server fails its checks, stays up.
    psql(&c.primary, "postgres", "ALTER ROLE checker NOLOGIN");
    let t0 = Instant::now();
    let down = line(&gh, "Server kill/db1 is DOWN");
    assert!(
        down.contains("FATAL 28000: role \\x22checker\\x22 is not permitted to log in"),
        "{down}"
    );
    line(&gh, "Server keep/db1 is DOWN");
    assert!(
        matches!(kept.try_wait(), Ok(None)),
        "the kept session ended before the server was down"
    );
    let out = killed.wait_with_output().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "psql ended after {:?}",
        t0.elapsed()
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server closed the connection unexpectedly"),
        "{err}"
    );
    line_with(&gh, &["kill/db1", " D- "]);
    // The session of the server without the keyword finishes its query.
    let out = kept.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
