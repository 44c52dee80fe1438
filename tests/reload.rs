//! Reloads in place (`SIGUSR2`): 100 reloads with changes between them while keep-alive
//! and new-connection clients send without pause lose no request and refuse no
//! connection, each change takes effect before the next reload, and a broken
//! configuration on reload leaves the running one serving with HAProxy's messages.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::load::{Load, LoadResult};
use support::{Gatehouse, HttpBackend, HttpClient, free_port, local, wait_until};

/// The ceiling of every wait on an event here (a reload in effect, a port closed):
/// generous, for a loaded machine; a wait ends at the event.
const WAIT: Duration = Duration::from_secs(20);

/// What one generation of the configuration has.
struct Gen {
    n: usize,
    extra_bind: bool,
    extra_server: bool,
}

fn config(g: &Gen, port: u16, port2: u16, s1: SocketAddr, s2: SocketAddr) -> String {
    let bind2 = if g.extra_bind {
        format!("    bind 127.0.0.1:{port2}\n")
    } else {
        String::new()
    };
    let server2 = if g.extra_server {
        format!("    server s2 {s2}\n")
    } else {
        String::new()
    };
    format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n{bind2}\
         \x20   http-request set-header X-Gen gen-{n}\n\
         \x20   http-response set-header X-Gen gen-{n}\n    default_backend be\n\
         backend be\n    balance roundrobin\n    server s1 {s1}\n{server2}",
        n = g.n
    )
}

/// One fresh request; the response's X-Gen and body (the server's name).
fn probe(addr: SocketAddr) -> Option<(String, String)> {
    let mut c = HttpClient::connect(addr).ok()?;
    let r = c.get("/probe", &[]).ok()?;
    Some((r.header("x-gen")?.to_owned(), r.body_str()))
}

#[test]
fn hundred_reloads_under_load_lose_nothing_and_apply_each_change() {
    let b1 = HttpBackend::start("b1");
    let b2 = HttpBackend::start("b2");
    let (port, port2) = (free_port(), free_port());
    let cfg = |g: &Gen| config(g, port, port2, b1.addr(), b2.addr());
    let mut gh = Gatehouse::builder(&cfg(&Gen {
        n: 0,
        extra_bind: false,
        extra_server: false,
    }))
    .wait_port(port)
    .start();
    let path = gh.config_path().to_path_buf();
    let load = Load::start(local(port), 2, 2);
    for n in 1..=100 {
        let g = Gen {
            n,
            extra_bind: n % 4 < 2,
            extra_server: n % 3 == 0,
        };
        std::fs::write(&path, cfg(&g)).unwrap();
        gh.signal(libc::SIGUSR2);
        let want = format!("gen-{n}");
        assert!(
            wait_until(WAIT, || probe(local(port))
                .is_some_and(|(gen_, _)| gen_ == want)),
            "reload {n}: X-Gen {want} not in effect; stderr:\n{}",
            gh.stderr()
        );
        // The server added or removed: b2 answers exactly when it is configured.
        if g.extra_server {
            assert!(
                wait_until(WAIT, || probe(local(port))
                    .is_some_and(|(_, body)| body == "b2")),
                "reload {n}: server s2 added but never chosen"
            );
        } else {
            for _ in 0..4 {
                let (_, body) = probe(local(port)).expect("probe");
                assert_eq!(body, "b1", "reload {n}: s2 removed but still chosen");
            }
        }
        // The bind added or removed.
        let open = || TcpStream::connect(local(port2)).is_ok();
        if g.extra_bind {
            assert!(
                wait_until(WAIT, || probe(local(port2))
                    .is_some_and(|(gen_, _)| gen_ == want)),
                "reload {n}: bind {port2} added but not serving"
            );
        } else {
            assert!(
                wait_until(WAIT, || !open()),
                "reload {n}: bind {port2} removed but still accepting"
            );
        }
    }
    let LoadResult {
        ok, failed, errors, ..
    } = load.finish();
    assert_eq!(failed, 0, "failed requests during reloads: {errors:?}");
    assert!(ok > 200, "the clients barely ran: {ok} requests");
    // The request rule of the last generation reached the server too.
    assert!(
        b1.requests()
            .iter()
            .chain(&b2.requests())
            .any(|r| r.header("x-gen") == Some("gen-100"))
    );
    // Each reload's message, the last one possibly printed after its swap.
    wait_until(WAIT, || {
        gh.stderr().matches("Loading success.").count() >= 100
    });
    let err = gh.stderr();
    assert_eq!(err.matches("Loading success.").count(), 100, "{err}");
    assert!(!err.contains("[ALERT]"), "{err}");
}

#[test]
fn broken_config_on_reload_keeps_the_running_one() {
    let b1 = HttpBackend::start("b1");
    let port = free_port();
    let good = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    http-response set-header X-Gen good\n\
         \x20   default_backend be\nbackend be\n    server s1 {}\n",
        b1.addr()
    );
    let mut gh = Gatehouse::builder(&good).wait_port(port).start();
    let path = gh.config_path().to_path_buf();
    // A keep-alive connection opened before the failed reload.
    let mut kept = HttpClient::connect(local(port)).unwrap();
    assert_eq!(kept.get("/", &[]).unwrap().header("x-gen"), Some("good"));
    let broken = good.replace(
        "    default_backend be\n",
        "    default_backend be\n    frobnicate on\n",
    );
    std::fs::write(&path, &broken).unwrap();
    gh.signal(libc::SIGUSR2);
    assert!(
        wait_until(WAIT, || gh.stderr().contains("Loading failure!")),
        "no failure reported: {}",
        gh.stderr()
    );
    let err = gh.stderr();
    let line = broken
        .lines()
        .position(|l| l.contains("frobnicate"))
        .unwrap()
        + 1;
    let at = format!("parsing [{}:{line}]", path.display());
    assert!(
        err.lines()
            .any(|l| l.starts_with("[ALERT]") && l.contains(&at) && l.contains("frobnicate")),
        "the reason with file:line is missing: {err}"
    );
    // The running configuration still serves, on old and new connections.
    assert_eq!(kept.get("/", &[]).unwrap().header("x-gen"), Some("good"));
    assert_eq!(probe(local(port)).map(|p| p.0), Some("good".to_owned()));
    assert!(gh.is_running());
    // A good configuration afterwards loads.
    std::fs::write(&path, good.replace("X-Gen good", "X-Gen fixed")).unwrap();
    gh.signal(libc::SIGUSR2);
    assert!(wait_until(WAIT, || probe(local(port))
        .is_some_and(|(g, _)| g == "fixed")));
    assert_eq!(kept.get("/", &[]).unwrap().header("x-gen"), Some("fixed"));
}

#[test]
fn sigusr2_reloads_in_every_mode() {
    let b1 = HttpBackend::start("b1");
    let dir = support::TempDir::new("reload-modes");
    for (i, args) in [
        vec![],
        vec!["-d"],
        vec!["-W"],
        vec!["-Ws"],
        vec!["-D", "-p", "PIDFILE"],
    ]
    .into_iter()
    .enumerate()
    {
        let port = free_port();
        let pidfile = dir.path().join(format!("gh{i}.pid"));
        let cfg = |tag: &str| {
            format!(
                "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend fe\n    bind 127.0.0.1:{port}\n    http-response set-header X-Gen {tag}\n\
                 \x20   default_backend be\nbackend be\n    server s1 {}\n",
                b1.addr()
            )
        };
        let mut builder = Gatehouse::builder(&cfg("before")).wait_port(port);
        for a in &args {
            builder = builder.arg(if *a == "PIDFILE" {
                pidfile.to_str().unwrap()
            } else {
                a
            });
        }
        let daemon = args.contains(&"-D");
        // The daemon's launcher exits at once: wait for the port rather than the process.
        let gh = if daemon {
            let mut d = builder.spawn();
            d.wait_exit(WAIT);
            assert!(wait_until(WAIT, || TcpStream::connect(local(port)).is_ok()));
            d
        } else {
            builder.start()
        };
        let pid = if daemon {
            std::fs::read_to_string(&pidfile)
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        } else {
            gh.pid() as i32
        };
        std::fs::write(gh.config_path(), cfg("after")).unwrap();
        // SAFETY: kill() sends a signal to the gatehouse process this test started.
        unsafe { libc::kill(pid, libc::SIGUSR2) };
        assert!(
            wait_until(WAIT, || probe(local(port))
                .is_some_and(|(g, _)| g == "after")),
            "{args:?}: not reloaded; stderr: {}",
            gh.stderr()
        );
        // SAFETY: as above; the daemon is not a child of the test.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}
