//! Process handoff (`-sf`/`-st`): a new gatehouse binds the same addresses next to the
//! old one (`SO_REUSEPORT`) and soft-stops it (SIGUSR1) or terminates it (SIGTERM). 20
//! handoffs while keep-alive and new-connection clients send without pause lose no
//! request and refuse no connection; the old process answers each keep-alive
//! connection's next request with `Connection: close`; `hard-stop-after` and `grace`
//! behave as in HAProxy.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use support::handoff::{generation as probe, handoffs};
use support::load::{Load, LoadResult};
use support::{Daemon, Gatehouse, HttpBackend, HttpClient, free_port, local, wait_until};

fn config(n: usize, port: u16, server: SocketAddr, global: &str) -> String {
    format!(
        "global\n{global}\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   http-response set-header X-Gen gen-{n}\n    default_backend be\n\
         backend be\n    server s1 {server}\n"
    )
}

/// Starts a gatehouse that replaces `old` (`-sf PID` or `-st PID`).
fn replace(cfg: &str, flag: &str, old: &Daemon) -> Daemon {
    Gatehouse::builder(cfg)
        .arg(flag)
        .arg(old.pid().to_string())
        .spawn()
}

#[test]
fn twenty_handoffs_under_load_lose_nothing() {
    let b1 = HttpBackend::start("b1");
    let port = free_port();
    let cfg = |n: usize| config(n, port, b1.addr(), "");
    let first = Gatehouse::builder(&cfg(0)).wait_port(port).start();
    let load = Load::start(local(port), 2, 6);
    // The old process finishes what it has, then exits 0 by itself; the clients go on.
    let mut old = handoffs(first, 20, local(port), &load, |n, old| {
        replace(&cfg(n), "-sf", old)
    });
    let LoadResult {
        ok,
        failed,
        closes,
        errors,
    } = load.finish();
    assert_eq!(failed, 0, "failed requests during handoffs: {errors:?}");
    assert!(ok > 400, "the clients barely ran: {ok} requests");
    // Each handoff closed the keep-alive clients' connections with `Connection: close`.
    assert!(
        closes >= 20,
        "keep-alive connections were not closed by `Connection: close`: {closes}"
    );
    assert!(old.is_running());
    assert!(!old.stderr().contains("[ALERT]"), "{}", old.stderr());
}

#[test]
fn soft_stop_answers_the_next_keep_alive_request_with_connection_close() {
    let b1 = HttpBackend::start("b1");
    let port = free_port();
    let mut old = Gatehouse::builder(&config(1, port, b1.addr(), ""))
        .wait_port(port)
        .start();
    // A keep-alive connection, idle when the handoff happens.
    let mut kept = HttpClient::connect(local(port)).unwrap();
    let r = kept.get("/", &[]).unwrap();
    assert_eq!(r.header("connection"), None);
    let new = replace(&config(2, port, b1.addr(), ""), "-sf", &old);
    assert!(wait_until(Duration::from_secs(5), || probe(local(port))
        .is_some_and(|g| g == "gen-2")));
    // The old process has handled the soft stop (SIGUSR1 arrives asynchronously)…
    assert!(
        wait_until(Duration::from_secs(5), || old
            .stderr()
            .contains("Proxy fe stopped")),
        "the old process never soft-stopped: {}",
        old.stderr()
    );
    // …and waits for the idle connection's next request…
    assert!(
        old.is_running(),
        "the old process closed an idle connection"
    );
    let r = kept.get("/", &[]).unwrap();
    // …answers it (from the old configuration) and says it closes.
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-gen"), Some("gen-1"));
    assert_eq!(r.header("connection"), Some("close"));
    let status = old.wait_exit(Duration::from_secs(5));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    // HAProxy's soft-stop message.
    let err = old.stderr();
    assert!(
        err.contains("Proxy fe stopped (cumulated conns: FE: "),
        "{err}"
    );
    // The keep-alive client's two requests, plus any probe the old process took
    // before the new one listened.
    assert!(
        err.contains("Proxy be stopped (cumulated conns: FE: 0, BE: "),
        "{err}"
    );
    drop(new);
}

#[test]
fn st_terminates_the_old_process() {
    let b1 = HttpBackend::start("b1");
    let port = free_port();
    let mut old = Gatehouse::builder(&config(1, port, b1.addr(), ""))
        .wait_port(port)
        .start();
    let mut kept = HttpClient::connect(local(port)).unwrap();
    kept.get("/", &[]).unwrap();
    let _new = replace(&config(2, port, b1.addr(), ""), "-st", &old);
    // Killed by SIGTERM even with a connection open.
    let status = old
        .wait_exit(Duration::from_secs(5))
        .expect("old still running");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(wait_until(Duration::from_secs(5), || probe(local(port))
        .is_some_and(|g| g == "gen-2")));
}

#[test]
fn hard_stop_after_ends_a_soft_stop_that_lasts() {
    let b1 = HttpBackend::start("b1");
    let port = free_port();
    let mut old = Gatehouse::builder(&config(1, port, b1.addr(), "    hard-stop-after 1s\n"))
        .wait_port(port)
        .start();
    let mut idle = HttpClient::connect(local(port)).unwrap();
    idle.get("/", &[]).unwrap();
    let _new = replace(&config(2, port, b1.addr(), ""), "-sf", &old);
    let t0 = Instant::now();
    // The idle keep-alive connection keeps the old process alive, until 1 s.
    let status = old
        .wait_exit(Duration::from_secs(10))
        .expect("no hard stop");
    let took = t0.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_millis(900),
        "stopped after {took:?}, before hard-stop-after"
    );
    assert!(
        old.stderr().contains("performing a hard-stop"),
        "{}",
        old.stderr()
    );
}

#[test]
fn grace_keeps_accepting_after_sigusr1() {
    let b1 = HttpBackend::start("b1");
    let port = free_port();
    let mut gh = Gatehouse::builder(&config(1, port, b1.addr(), "    grace 1500ms\n"))
        .wait_port(port)
        .start();
    let t0 = Instant::now();
    gh.signal(libc::SIGUSR1);
    // During the grace period new connections are still served, and once the signal
    // is handled each is told to close (the signal is delivered asynchronously, so the
    // first connections may come before it is).
    let told_to_close = wait_until(Duration::from_millis(1200), || {
        let mut during = HttpClient::connect(local(port)).unwrap();
        let r = during.get("/", &[]).unwrap();
        assert_eq!(r.status, 200);
        r.header("connection") == Some("close")
    });
    assert!(
        told_to_close,
        "no connection was told to close during grace"
    );
    assert!(t0.elapsed() < Duration::from_millis(1500));
    // …then the listener closes and the process ends.
    let status = gh.wait_exit(Duration::from_secs(10)).expect("no stop");
    assert!(status.success());
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );
    assert!(TcpStream::connect(local(port)).is_err());
}
