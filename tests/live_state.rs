//! The live-state store: known traffic gives known `show stat` counters on the frontend,
//! the backend and the server; a reload carries a remaining server's counters and admin
//! state over and starts a new server fresh. The proxy runs in this process (the store
//! has no external reader before the stats issue), over real sockets to real backends.

mod support;

use gatehouse::proxy::running::Running;
use gatehouse::runtime::counters::Counters;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use support::{HttpBackend, free_port, local};

fn load(text: &str) -> gatehouse::config::model::Config {
    let loaded = gatehouse::load::load_str("live.cfg", text);
    assert!(!loaded.has_errors(), "{:?}", loaded.diags);
    loaded.config
}

fn config(port: u16, servers: &[(&str, SocketAddr)]) -> String {
    let mut s = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    http-request deny if {{ path_beg /deny }}\n\
         \x20   default_backend be\nbackend be\n    balance roundrobin\n"
    );
    for (name, addr) in servers {
        s.push_str(&format!("    server {name} {addr}\n"));
    }
    s
}

/// Sends `req` on a new connection and reads until the proxy closes it; the status.
fn exchange(port: u16, req: &str) -> u16 {
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn get(c: &std::sync::atomic::AtomicU64) -> u64 {
    Counters::get(c)
}

#[test]
fn counters_follow_known_traffic_and_survive_a_reload() {
    let b1 = HttpBackend::start("b1");
    let b2 = HttpBackend::start("b2");
    let port = free_port();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut running = Running::new(&load(&config(port, &[("s1", b1.addr())]))).unwrap();
    rt.block_on(async { running.start() });
    let close = "Connection: close\r\n\r\n";
    for _ in 0..4 {
        assert_eq!(
            exchange(port, &format!("GET / HTTP/1.1\r\nHost: a\r\n{close}")),
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            exchange(port, &format!("GET /deny HTTP/1.1\r\nHost: a\r\n{close}")),
            403
        );
    }
    assert_eq!(
        exchange(port, "GET / HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n"),
        400
    );

    let store = running.store().clone();
    let fe = store.find_frontend("fe").expect("frontend live state");
    let be = store.find_backend("be").expect("backend live state");
    let s1 = be.find_server("s1").expect("server live state");
    let (f, b, s) = (&fe.counters, &be.counters, &s1.counters);
    // Every exchange has ended when its response was read to the close, but the
    // counters are updated just after: wait for the last one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while f.scur.load(Ordering::Relaxed) != 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(get(&f.stot), 7, "one session per connection");
    assert_eq!(f.scur.load(Ordering::Relaxed), 0);
    assert_eq!(get(&f.req_tot), 7);
    assert_eq!((f.hrsp.class(2), f.hrsp.class(4)), (4, 3));
    assert_eq!((get(&f.dreq), get(&f.ereq)), (2, 1));
    // `bin` counts what the clients sent (as `%U` does and HAProxy counts it): here the
    // heads of the six forwarded or denied requests; the malformed one is refused
    // before it is counted.
    // HTX sizes: 20 + method, target and version + `host`+`a` + 1 (the `Connection:
    // close` is not kept).
    let htx = |target: &str| 20 + 3 + target.len() + 8 + 5 + 1;
    let _ = close;
    let heads = 4 * htx("/") + 2 * htx("/deny");
    assert_eq!(get(&f.bin), heads as u64);
    assert!(get(&f.bout) > 0);
    assert_eq!(
        get(&b.stot),
        4,
        "the backend saw the four forwarded requests"
    );
    assert_eq!(
        (get(&b.req_tot), b.hrsp.class(2), b.hrsp.class(4)),
        (4, 4, 0)
    );
    assert_eq!((get(&s.stot), get(&s.lbtot), s.hrsp.class(2)), (4, 4, 4));
    assert_eq!(get(&s.bout), get(&b.bout));
    assert!(s.lastsess() >= 0 && f.sess_rate.rate() >= 1);
    assert_eq!((get(&b.econ), get(&b.eresp), get(&b.wretr)), (0, 0, 0));

    // s1 to maintenance through the store, then a reload that adds s2.
    assert!(store.set_maint("be", "s1", true));
    let cfg2 = config(port, &[("s1", b1.addr()), ("s2", b2.addr())]);
    rt.block_on(async { running.reload(&load(&cfg2)) }).unwrap();
    let s2 = be.find_server("s2").expect("s2 added");
    assert!(s1.maint.load(Ordering::Relaxed), "admin state carried over");
    assert_eq!(get(&s1.counters.stot), 4, "counters carried over");
    assert_eq!(get(&s2.counters.stot), 0, "a new server starts fresh");
    for _ in 0..3 {
        assert_eq!(
            exchange(port, &format!("GET / HTTP/1.1\r\nHost: a\r\n{close}")),
            200
        );
    }
    assert_eq!(b1.request_count(), 4, "s1 in maintenance gets nothing");
    assert_eq!(b2.request_count(), 3);
    assert_eq!(get(&be.counters.stot), 7, "backend counters carried over");
    // Back to ready: both share the traffic again.
    assert!(store.set_maint("be", "s1", false));
    for _ in 0..4 {
        exchange(port, &format!("GET / HTTP/1.1\r\nHost: a\r\n{close}"));
    }
    assert_eq!((b1.request_count(), b2.request_count()), (6, 5));
    drop(running);
    rt.shutdown_background();
}
