//! The queues as HAProxy 2.6 runs them: a request designated to a server by a hash
//! waits in that server's own queue and gets the server's next free slot; requests are
//! served in arrival order, and a newcomer never overtakes requests already waiting.
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the reference
//! haproxy.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use support::backend_http::lock;
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
    s.set_read_timeout(Some(Duration::from_secs(30)))
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

/// A server for a `maxconn 1` slot that records each request's path as it arrives and
/// answers it only when the test calls [`Gated::release`]: the test, not a delay, says
/// when the server's slot frees.
struct Gated {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    go: mpsc::Sender<()>,
}

impl Gated {
    fn start() -> Gated {
        let l = bind_local();
        let addr = l.local_addr().expect("gated server address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (go, rx) = mpsc::channel::<()>();
        let rx = Arc::new(Mutex::new(rx));
        let s = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { return };
                let (seen, rx) = (Arc::clone(&s), Arc::clone(&rx));
                std::thread::spawn(move || Gated::serve(conn, &seen, &rx));
            }
        });
        Gated { addr, seen, go }
    }

    /// Requests one after the other on `conn`, each answered once released.
    fn serve(conn: std::net::TcpStream, seen: &Mutex<Vec<String>>, rx: &Mutex<mpsc::Receiver<()>>) {
        use std::io::{BufRead, BufReader, Write};
        let mut w = conn.try_clone().expect("clone");
        let mut r = BufReader::new(conn);
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                if h == "\r\n" {
                    break;
                }
            }
            lock(seen).push(path);
            // The test dropped its sender: the test is over.
            if lock(rx).recv().is_err() {
                return;
            }
            if w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .is_err()
            {
                return;
            }
        }
    }

    /// The paths received so far, once there are `n` of them.
    fn seen(&self, n: usize) -> Vec<String> {
        assert!(
            wait_until(Duration::from_secs(20), || lock(&self.seen).len() >= n),
            "the server received {:?}, expected {n} requests",
            lock(&self.seen)
        );
        lock(&self.seen).clone()
    }

    /// Answers the request the server holds (or the next one to arrive).
    fn release(&self) {
        self.go.send(()).expect("gated server running");
    }
}

/// The backend's `qcur` in `show stat` (requests waiting in its queue).
fn backend_queue(d: &Daemon) -> Option<u32> {
    let csv = support::socat::unix_cmd(&d.dir().join("admin.sock"), "show stat");
    csv.lines()
        .find(|l| l.starts_with("be,BACKEND,"))
        .and_then(|l| l.split(',').nth(2))
        .and_then(|q| q.parse().ok())
}

#[test]
fn a_backend_queue_waiter_is_served_before_a_later_newcomer_on_any_server() {
    // Two one-slot servers, round robin: when both are busy the next requests wait in
    // the backend queue; whichever server frees first takes the oldest of them. The
    // servers answer when the test releases them and each arrival waits for the
    // previous request to be queued, so the schedule does not depend on the load.
    let (a, b) = (Gated::start(), Gated::start());
    let cfg = Config::new(
        "global\n  stats socket unix@admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n  balance roundrobin\n  timeout queue 30s\n\
         \x20 server a {a} maxconn 1\n  server b {b} maxconn 1\n",
    )
    .listen_port("port")
    .var("a", a.addr)
    .var("b", b.addr);
    let p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let t0 = Instant::now();
    let mut threads = vec![send_now(addr, "/q0", t0)];
    assert_eq!(a.seen(1), ["/q0"]);
    threads.push(send_now(addr, "/q1", t0));
    assert_eq!(b.seen(1), ["/q1"]);
    for i in 2..6 {
        threads.push(send_now(addr, &format!("/q{i}"), t0));
        assert!(
            wait_until(Duration::from_secs(20), || backend_queue(&p) == Some(i - 1)),
            "/q{i} not queued: qcur {:?}",
            backend_queue(&p)
        );
    }
    // a frees first and takes q2, then b takes q3; a frees twice more and takes q4
    // and q5 while b still holds q3.
    a.release();
    assert_eq!(a.seen(2), ["/q0", "/q2"]);
    b.release();
    assert_eq!(b.seen(2), ["/q1", "/q3"]);
    a.release();
    assert_eq!(a.seen(3), ["/q0", "/q2", "/q4"]);
    a.release();
    assert_eq!(a.seen(4), ["/q0", "/q2", "/q4", "/q5"]);
    a.release();
    b.release();
    for t in threads {
        let (path, status, body, _) = t.join().expect("thread");
        assert_eq!(status, 200, "{path}: {body}");
    }
    assert_eq!(b.seen(2), ["/q1", "/q3"]);
}
