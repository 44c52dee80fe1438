//! Failure handling in http mode: `retries` with and without
//! `option redispatch [<interval>]` when a server dies (per algorithm kind,
//! with the turn-around wait where HAProxy 2.6 makes it), server `maxconn`
//! queuing, `timeout queue`, `maxqueue`, `timeout connect` (503) and
//! `timeout server` (504).
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the
//! reference haproxy.

mod support;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::*;

/// http mode, frontend on `{port}`, `timeouts` in defaults, backend body
/// `backend`.
fn http_config(timeouts: &str, backend: &str) -> Config {
    Config::new(
        "defaults\n  mode http\n{timeouts}\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n{backend}\n",
    )
    .listen_port("port")
    .var("timeouts", timeouts)
    .var("backend", backend)
}

const TIMEOUTS: &str = "  timeout connect 500ms\n  timeout client 10s\n  timeout server 10s";

fn get(port: u16, path: &str) -> Response {
    http_get(local(port), path, &[])
        .unwrap_or_else(|e| panic!("GET {path} through the proxy failed at the transport: {e}"))
}

/// A listener whose accept queue is full (backlog 0, one pending
/// connection never accepted): further SYNs are dropped, so a connect to it
/// hangs until the connector's timeout. Keep the returned values alive.
fn unresponsive_addr() -> (socket2::Socket, TcpStream, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .expect("bind");
    sock.listen(0).expect("listen");
    let addr = sock
        .local_addr()
        .expect("local_addr")
        .as_socket()
        .expect("inet address");
    let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).expect("fill backlog");
    // Check the environment really drops further SYNs.
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err(),
        "a connect to a full-backlog listener succeeded; cannot simulate a connect timeout here"
    );
    (sock, filler, addr)
}

#[test]
fn redispatch_keeps_gets_succeeding_when_a_server_dies() {
    let a = HttpBackend::start("a");
    let b = HttpBackend::start("b");
    let cfg = http_config(
        TIMEOUTS,
        &format!(
            "  balance roundrobin\n  retries 3\n  option redispatch\n  server a {}\n  server b {}\n",
            a.addr(),
            b.addr()
        ),
    );
    let _p = start_proxy(&cfg);
    let port = cfg.port("port");
    for i in 0..20 {
        let r = get(port, &format!("/before{i}"));
        assert_eq!(r.status, 200, "request {i} before the failure");
    }
    assert!(a.request_count() > 0 && b.request_count() > 0);
    let a_port = a.port();
    drop(a); // server a is now refusing connections
    assert!(support::procnet::wait_peer_closed(a_port, DEFAULT_TIMEOUT));
    let b_before = b.request_count();
    for i in 0..30 {
        let t = Instant::now();
        let r = get(port, &format!("/after{i}"));
        // Round robin with several active servers: HAProxy redispatches at
        // once, without the min(timeout connect, 1s) turn-around wait.
        assert!(
            t.elapsed() < Duration::from_millis(400),
            "GET {i} after server a died took {:?}: the retry waited instead of \
             redispatching immediately",
            t.elapsed()
        );
        assert_eq!(
            r.status,
            200,
            "GET {i} after server a died: {} {}",
            r.status,
            r.body_str()
        );
        assert_eq!(r.body_str(), "b");
    }
    assert_eq!(b.request_count() - b_before, 30);
}

#[test]
fn connection_refused_without_redispatch_gives_503_after_retries() {
    let dead = local(free_port());
    let cfg = http_config(
        "  timeout connect 100ms\n  timeout client 10s\n  timeout server 10s",
        &format!("  retries 3\n  server only {dead}\n"),
    );
    let _p = start_proxy(&cfg);
    let t = Instant::now();
    let r = get(cfg.port("port"), "/");
    let took = t.elapsed();
    assert_eq!(r.status, 503, "refused connection: {}", r.body_str());
    // Each retry waits min(timeout connect, 1s) = 100 ms before reconnecting.
    assert!(
        took >= Duration::from_millis(250),
        "503 after {took:?}: 3 retries with a 100 ms turn-around were not made"
    );
    assert!(took < Duration::from_secs(3), "503 took {took:?}");
}

#[test]
fn server_maxconn_queues_concurrent_requests_and_serves_them_all() {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_millis(200))
        .start();
    let cfg = http_config(
        TIMEOUTS,
        &format!(
            "  timeout queue 5s\n  server slow {} maxconn 1\n",
            slow.addr()
        ),
    );
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let t = Instant::now();
    let threads: Vec<_> = (0..5)
        .map(|i| std::thread::spawn(move || http_get(addr, &format!("/c{i}"), &[])))
        .collect();
    for (i, th) in threads.into_iter().enumerate() {
        let r = th.join().expect("thread").expect("GET");
        assert_eq!(r.status, 200, "queued request {i}: {}", r.body_str());
    }
    let took = t.elapsed();
    // With one request at a time on a 200 ms server, 5 take >= 1 s.
    assert!(
        took >= Duration::from_millis(950),
        "5 requests finished in {took:?}: maxconn 1 did not serialize them"
    );
    assert_eq!(slow.request_count(), 5);
}

#[test]
fn timeout_queue_answers_503_to_a_request_waiting_too_long() {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_millis(1200))
        .start();
    let cfg = http_config(
        TIMEOUTS,
        &format!(
            "  timeout queue 200ms\n  server slow {} maxconn 1\n",
            slow.addr()
        ),
    );
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let busy = std::thread::spawn(move || http_get(addr, "/busy", &[]));
    assert!(
        wait_until(Duration::from_secs(2), || slow.request_count() == 1),
        "first request never reached the server"
    );
    let t = Instant::now();
    let r = http_get(addr, "/queued", &[]).expect("queued GET");
    let took = t.elapsed();
    assert_eq!(r.status, 503, "queued request: {}", r.body_str());
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_millis(1000),
        "queued request answered after {took:?}, expected about timeout queue 200ms"
    );
    let first = busy.join().expect("thread").expect("busy GET");
    assert_eq!(first.status, 200, "the request being served is unaffected");
    assert_eq!(
        slow.request_count(),
        1,
        "the expired request reached the server"
    );
}

#[test]
fn maxqueue_rejects_requests_beyond_the_queue_limit() {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_millis(800))
        .start();
    // `balance uri` pins every `/same` request to the one server, so they
    // queue on the server itself, where maxqueue applies.
    let cfg = http_config(
        TIMEOUTS,
        &format!(
            "  balance uri\n  timeout queue 5s\n  server slow {} maxconn 1 maxqueue 1\n",
            slow.addr()
        ),
    );
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let served = std::thread::spawn(move || http_get(addr, "/same", &[]));
    assert!(wait_until(Duration::from_secs(2), || slow.request_count() == 1));
    let queued = std::thread::spawn(move || http_get(addr, "/same", &[]));
    // Nothing outside the proxy tells that it queued the second request (no queue
    // counters yet): leave it time to, so the third finds the queue full.
    std::thread::sleep(Duration::from_millis(150));
    let t = Instant::now();
    let r = http_get(addr, "/same", &[]).expect("third GET");
    assert_eq!(
        r.status,
        503,
        "third request with maxconn 1 + maxqueue 1 full: {}",
        r.body_str()
    );
    assert!(
        t.elapsed() < Duration::from_millis(600),
        "rejection waited {:?} instead of being immediate",
        t.elapsed()
    );
    for (what, th) in [("served", served), ("queued", queued)] {
        let r = th.join().expect("thread").expect("GET");
        assert_eq!(r.status, 200, "{what} request: {}", r.body_str());
    }
    assert_eq!(slow.request_count(), 2);
}

#[test]
fn timeout_connect_to_an_unresponsive_address_gives_503() {
    let (_sock, _filler, addr) = unresponsive_addr();
    let cfg = http_config(
        "  timeout connect 200ms\n  timeout client 10s\n  timeout server 10s",
        &format!("  retries 1\n  server hung {addr}\n"),
    );
    let _p = start_proxy(&cfg);
    let t = Instant::now();
    let r = get(cfg.port("port"), "/");
    let took = t.elapsed();
    assert_eq!(r.status, 503, "connect timeout: {}", r.body_str());
    // Two attempts (1 retry) of 200 ms each.
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(3),
        "503 after {took:?}, expected about 2 x timeout connect 200ms"
    );
}

#[test]
fn timeout_server_gives_504_when_the_server_never_answers() {
    let hole = BlackHole::start();
    let cfg = http_config(
        "  timeout connect 1s\n  timeout client 10s\n  timeout server 300ms",
        &format!("  server hole {}\n", hole.addr()),
    );
    let _p = start_proxy(&cfg);
    let t = Instant::now();
    let r = get(cfg.port("port"), "/");
    let took = t.elapsed();
    assert_eq!(r.status, 504, "server timeout: {}", r.body_str());
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "504 after {took:?}, expected about timeout server 300ms"
    );
    assert_eq!(
        hole.connections(),
        1,
        "the request was not sent to the server once"
    );
}

/// Starts one proxy per backend body in `bodies` (same servers), returns them with
/// their ports.
fn start_each(bodies: &[String]) -> Vec<(Daemon, u16)> {
    bodies
        .iter()
        .map(|body| {
            let cfg = http_config(
                "  timeout connect 200ms\n  timeout client 10s\n  timeout server 10s",
                body,
            );
            let p = start_proxy(&cfg);
            (p, cfg.port("port"))
        })
        .collect()
}

/// A path that the proxy on `port` sends to `target` (probing `/k0`, `/k1`…).
fn path_on(port: u16, target: &HttpBackend) -> String {
    for i in 0..40 {
        let path = format!("/k{i}");
        assert_eq!(get(port, &path).status, 200, "probe {path}");
        if target.requests().iter().any(|r| r.uri == path) {
            return path;
        }
    }
    panic!("no probe path hashed to {}", target.name());
}

fn timed_get(port: u16, path: &str) -> (Response, Duration) {
    let t = Instant::now();
    let r = get(port, path);
    (r, t.elapsed())
}

#[test]
fn option_redispatch_interval_chooses_which_retry_goes_to_another_server() {
    // `balance uri` + consistent hashing: a redispatch avoids the failed server, and
    // with a hash algorithm only the retries the interval names are redispatched.
    // retries 3, timeout connect 200 ms: a retry on the same server waits 200 ms.
    let a = HttpBackend::start("a");
    let b = HttpBackend::start("b");
    let body = |opt: &str| {
        format!(
            "  balance uri\n  hash-type consistent\n  retries 3\n  {opt}\n  server a {}\n  server b {}\n",
            a.addr(),
            b.addr()
        )
    };
    let cases = [
        ("option redispatch 1", Some((0, 150))),
        ("option redispatch -2", Some((150, 380))),
        ("option redispatch", Some((350, 700))),
        ("option redispatch 0", None),
    ];
    let bodies: Vec<String> = cases.iter().map(|(o, _)| body(o)).collect();
    let proxies = start_each(&bodies);
    let path = path_on(proxies[0].1, &a);
    let a_port = a.port();
    drop(a); // a now refuses connections, its connections are closed
    assert!(support::procnet::wait_peer_closed(a_port, DEFAULT_TIMEOUT));
    for ((opt, expect), (_, port)) in cases.iter().zip(&proxies) {
        let (r, took) = timed_get(*port, &path);
        match expect {
            Some((lo, hi)) => {
                assert_eq!(r.status, 200, "{opt}: {}", r.body_str());
                assert_eq!(r.body_str(), "b", "{opt}");
                assert!(
                    took >= Duration::from_millis(*lo) && took < Duration::from_millis(*hi),
                    "{opt}: answered after {took:?}, expected {lo}..{hi} ms"
                );
            }
            None => {
                // 0 disables the interval: a hash algorithm then never redispatches.
                assert_eq!(r.status, 503, "{opt}: {}", r.body_str());
                assert!(
                    took >= Duration::from_millis(550),
                    "{opt}: 503 after {took:?}"
                );
            }
        }
    }
}

#[test]
fn redispatch_with_map_based_hashing_lands_on_the_same_server() {
    // HAProxy 2.6's map-based lookup has no "server to avoid": the redispatch on the
    // last retry picks the same dead server again, and the request fails.
    let a = HttpBackend::start("a");
    let b = HttpBackend::start("b");
    let proxies = start_each(&[format!(
        "  balance uri\n  retries 2\n  option redispatch\n  server a {}\n  server b {}\n",
        a.addr(),
        b.addr()
    )]);
    let port = proxies[0].1;
    let path = path_on(port, &a);
    let a_port = a.port();
    drop(a); // a now refuses connections, its connections are closed
    assert!(support::procnet::wait_peer_closed(a_port, DEFAULT_TIMEOUT));
    let (r, took) = timed_get(port, &path);
    assert_eq!(r.status, 503, "map-based redispatch: {}", r.body_str());
    assert!(took >= Duration::from_millis(150), "503 after {took:?}");
}

#[test]
fn non_hash_algorithms_redispatch_at_once_on_a_refused_connection() {
    // With several active servers and an algorithm that does not designate a server
    // (first, leastconn, random, like round robin), every retry goes to another
    // server without the turn-around wait. `balance first` always tries a first.
    let a = HttpBackend::start("a");
    let b = HttpBackend::start("b");
    let algos = ["first", "leastconn", "random", "static-rr"];
    let bodies: Vec<String> = algos
        .iter()
        .map(|algo| {
            format!(
                "  balance {algo}\n  retries 3\n  option redispatch\n  server a {}\n  server b {}\n",
                a.addr(),
                b.addr()
            )
        })
        .collect();
    let proxies = start_each(&bodies);
    let a_port = a.port();
    drop(a); // a now refuses connections, its connections are closed
    assert!(support::procnet::wait_peer_closed(a_port, DEFAULT_TIMEOUT));
    for (algo, (_, port)) in algos.iter().zip(&proxies) {
        for i in 0..4 {
            let (r, took) = timed_get(*port, &format!("/r{i}"));
            assert_eq!(r.status, 200, "balance {algo}, GET {i}: {}", r.body_str());
            assert_eq!(r.body_str(), "b", "balance {algo}");
            assert!(
                took < Duration::from_millis(150),
                "balance {algo}, GET {i} took {took:?}: the retry waited the turn-around"
            );
        }
    }
}

#[test]
fn a_connect_timeout_is_retried_without_the_turn_around_wait() {
    // HAProxy waits min(timeout connect, 1s) only after a connection error, not after
    // a connect timeout: 3 attempts of 200 ms take ~600 ms, not ~1 s.
    let (_sock, _filler, addr) = unresponsive_addr();
    let cfg = http_config(
        "  timeout connect 200ms\n  timeout client 10s\n  timeout server 10s",
        &format!("  retries 2\n  server hung {addr}\n"),
    );
    let _p = start_proxy(&cfg);
    let (r, took) = timed_get(cfg.port("port"), "/");
    assert_eq!(r.status, 503, "connect timeout: {}", r.body_str());
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_millis(900),
        "503 after {took:?}, expected 3 x timeout connect 200ms with no pause"
    );
}
