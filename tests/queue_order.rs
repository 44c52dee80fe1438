//! The queues as HAProxy 2.6 runs them: a request designated to a server by a hash
//! waits in that server's own queue and gets the server's next free slot; requests are
//! served in arrival order, and a newcomer never overtakes requests already waiting.
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the reference
//! haproxy.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::*;

/// http mode, frontend on `{port}`, backend body `backend`.
fn http_config(backend: &str) -> Config {
    Config::new(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n{backend}\n",
    )
    .listen_port("port")
    .var("backend", backend)
}

/// Paths `/k0`, `/k1`… sent one at a time, split by the server that received them.
fn paths_by_server(
    addr: SocketAddr,
    a: &HttpBackend,
    b: &HttpBackend,
) -> (Vec<String>, Vec<String>) {
    let (mut on_a, mut on_b) = (Vec::new(), Vec::new());
    for i in 0..40 {
        let path = format!("/k{i}");
        let r = http_get(addr, &path, &[]).expect("probe GET");
        assert_eq!(r.status, 200, "probe {path}");
        if a.requests().iter().any(|q| q.uri == path) {
            on_a.push(path);
        } else if b.requests().iter().any(|q| q.uri == path) {
            on_b.push(path);
        } else {
            panic!("{path} reached neither server");
        }
        if on_a.len() >= 2 && on_b.len() >= 4 {
            break;
        }
    }
    assert!(
        on_a.len() >= 2 && on_b.len() >= 4,
        "balance uri put {} of the probe paths on a and {} on b",
        on_a.len(),
        on_b.len()
    );
    (on_a, on_b)
}

/// Sends `GET path` now (connect and write on this thread, so arrival order is the
/// call order), and reads the answer on another thread: (path, status, body, time
/// from `t0` to the end of the response).
fn send_now(
    addr: SocketAddr,
    path: &str,
    t0: Instant,
) -> std::thread::JoinHandle<(String, u16, String, Duration)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to proxy");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let path = path.to_string();
    std::thread::spawn(move || {
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        (path, status, body, t0.elapsed())
    })
}

/// The URIs a backend received after the first `skip` requests, in arrival order.
fn uris_after(b: &HttpBackend, skip: usize) -> Vec<String> {
    b.requests().into_iter().skip(skip).map(|r| r.uri).collect()
}

#[test]
fn hash_designated_requests_wait_on_their_own_server_and_get_its_next_slot() {
    // a is busy for 2 s, b for 1 s. a2 is queued first (on a), then b2 and b3 (on b):
    // b's slot at 1 s must go to b2, not be spent waking a2 whose server is still full.
    // A newcomer b4 at 1.5 s must queue behind b3 rather than take a free slot.
    let a = HttpBackend::builder("a").start();
    let b = HttpBackend::builder("b").start();
    let cfg = http_config(&format!(
        "  balance uri\n  timeout queue 2500ms\n  server a {} maxconn 1\n  server b {} maxconn 1\n",
        a.addr(),
        b.addr()
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let (pa, pb) = paths_by_server(addr, &a, &b);
    a.set_delay(Duration::from_millis(2000));
    b.set_delay(Duration::from_millis(1000));
    let (skip_a, skip_b) = (a.request_count(), b.request_count());

    let t0 = Instant::now();
    let send = |path: &String| send_now(addr, path, t0);
    let mut threads = vec![send(&pa[0]), send(&pb[0])];
    assert!(
        wait_until(Duration::from_secs(1), || a.request_count() > skip_a
            && b.request_count() > skip_b),
        "the first requests did not reach both servers"
    );
    // The schedule is the scenario: arrivals timed against the servers' delays (nothing
    // outside the proxy tells that a request is queued, and the order of arrival is
    // what is tested), so these sleeps stay.
    for p in [&pa[1], &pb[1], &pb[2]] {
        std::thread::sleep(Duration::from_millis(50));
        threads.push(send(p));
    }
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(t0.elapsed()));
    threads.push(send(&pb[3]));
    let results: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();

    for (path, status, body, at) in &results {
        assert_eq!(
            *status, 200,
            "{path} answered {status} after {at:?}: {body}"
        );
    }
    let done = |p: &str| {
        results
            .iter()
            .find(|r| r.0 == p)
            .map(|r| r.3)
            .expect("result")
    };
    // b2 gets b at 1 s (done ~2 s), b3 at 2 s (done ~3 s), a2 gets a at 2 s (done ~4 s).
    for (p, by) in [(&pb[1], 2500), (&pb[2], 3500), (&pa[1], 4500)] {
        assert!(
            done(p) < Duration::from_millis(by),
            "{p} finished after {:?}, expected before {by} ms",
            done(p)
        );
    }
    assert_eq!(uris_after(&a, skip_a), [pa[0].clone(), pa[1].clone()]);
    assert_eq!(
        uris_after(&b, skip_b),
        [pb[0].clone(), pb[1].clone(), pb[2].clone(), pb[3].clone()],
        "b served its requests out of arrival order"
    );
}

#[test]
fn newcomers_queue_behind_waiting_requests_in_arrival_order() {
    // One slot, a 150 ms server, a request every 50 ms: each release coincides with
    // an arrival, which must not take the slot before the requests already waiting.
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_millis(150))
        .start();
    let cfg = http_config(&format!(
        "  balance roundrobin\n  timeout queue 10s\n  server slow {} maxconn 1\n",
        slow.addr()
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let n = 16;
    let t0 = Instant::now();
    let mut threads = Vec::new();
    for i in 0..n {
        threads.push(send_now(addr, &format!("/r{i:02}"), t0));
        // Arrivals timed against releases: the timing is the behaviour under test.
        std::thread::sleep(Duration::from_millis(50));
    }
    for t in threads {
        let (path, status, body, _) = t.join().expect("thread");
        assert_eq!(status, 200, "{path}: {body}");
    }
    let order = uris_after(&slow, 0);
    let expected: Vec<String> = (0..n).map(|i| format!("/r{i:02}")).collect();
    assert_eq!(
        order, expected,
        "the server saw requests out of arrival order"
    );
}

#[test]
fn a_backend_queue_waiter_is_served_before_a_later_newcomer_on_any_server() {
    // Two one-slot servers, round robin: when both are busy the next requests wait in
    // the backend queue; whichever server frees first takes the oldest of them.
    let a = HttpBackend::builder("a")
        .delay(Duration::from_millis(400))
        .start();
    let b = HttpBackend::builder("b")
        .delay(Duration::from_millis(700))
        .start();
    let cfg = http_config(&format!(
        "  balance roundrobin\n  timeout queue 10s\n  server a {} maxconn 1\n  server b {} maxconn 1\n",
        a.addr(),
        b.addr()
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let t0 = Instant::now();
    let mut threads = Vec::new();
    for i in 0..6 {
        threads.push(send_now(addr, &format!("/q{i}"), t0));
        // Arrivals timed against the servers' delays: the schedule is the scenario.
        std::thread::sleep(Duration::from_millis(60));
    }
    for t in threads {
        let (path, status, body, _) = t.join().expect("thread");
        assert_eq!(status, 200, "{path}: {body}");
    }
    // q0 on a (0-0.4 s), q1 on b (0.06-0.76 s); q2..q5 wait in the backend queue. a
    // frees at 0.4 s and takes q2, b at 0.76 s takes q3, a at 0.8 s q4, a again at
    // 1.2 s q5 (b is busy until 1.46 s).
    assert_eq!(uris_after(&a, 0), ["/q0", "/q2", "/q4", "/q5"]);
    assert_eq!(uris_after(&b, 0), ["/q1", "/q3"]);
}
