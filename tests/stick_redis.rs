//! Two gatehouse instances sharing a stick table through a real `redis-server`
//! (`stick-table … redis redis://…`): a rate limit holds for the fleet within 10 %;
//! with Redis stopped both keep serving on their own counts (429s, no errors) and say
//! so; when Redis returns they say so, send what they counted meanwhile, and share the
//! limit again. With `redis-sentinel`, a real `redis-sentinel` names the master, and
//! the instances follow it to the replica it promotes when the master dies.

mod support;

use std::time::Duration;
use support::socat::unix_cmd;
use support::stick::{count, entry_field, stick_config};
use support::*;

/// The fleet-wide limit of the configuration.
const LIMIT: usize = 300;

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const SHARED: &str = "frontend fe
    bind 127.0.0.1:{port}
    http-request track-sc0 req.hdr(x-client) table per_client
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 300 }
    default_backend app
backend per_client
    stick-table type string len 32 size 1k expire 10m store http_req_rate(10m),http_req_cnt redis redis://127.0.0.1:{redis}/3 redis-prefix test: redis-sync-interval 50ms
backend app
    server s1 {app}
";

struct Instance {
    d: Daemon,
    port: u16,
}

impl Instance {
    fn start(app: &HttpBackend, redis_port: u16) -> Instance {
        Instance::start_with(&stick_config(SHARED), app, redis_port)
    }

    /// An instance of configuration `text`, `{redis}` being `redis_port`.
    fn start_with(text: &str, app: &HttpBackend, redis_port: u16) -> Instance {
        let cfg = Config::new(text)
            .listen_port("port")
            .var("app", app.addr())
            .var("redis", redis_port);
        let port = cfg.port("port");
        let d = Gatehouse::builder(&cfg.render()).wait_port(port).start();
        Instance { d, port }
    }

    /// Waits until stderr has said `what` `n` times.
    fn wait_says(&self, what: &str, n: usize) {
        assert!(
            wait_until(Duration::from_secs(20), || self
                .d
                .stderr()
                .matches(what)
                .count()
                >= n),
            "never said {what:?} ({n}x):\n{}",
            self.d.stderr()
        );
    }

    /// `show table per_client`, the entry of `client`'s `http_req_cnt`.
    fn count_of(&self, client: &str) -> Option<u64> {
        let t = unix_cmd(&self.d.dir().join("admin.sock"), "show table per_client");
        entry_field(&t, client, "http_req_cnt")
    }
}

/// Sends requests as `client` on one keep-alive connection, one every `pace`, until 30
/// in a row are refused (or `max` were sent); the statuses in order.
fn until_refused(port: u16, client: &str, pace: Duration, max: usize) -> Vec<u16> {
    let mut c = HttpClient::connect(local(port)).expect("connect");
    let mut v = Vec::new();
    let mut refused_in_a_row = 0;
    while refused_in_a_row < 30 && v.len() < max {
        let s = c
            .get("/", &[("x-client", client)])
            .expect("response")
            .status;
        refused_in_a_row = if s == 429 { refused_in_a_row + 1 } else { 0 };
        v.push(s);
        if !pace.is_zero() {
            std::thread::sleep(pace);
        }
    }
    v
}

fn ok(v: &[u16]) -> usize {
    count(v, 200)
}

/// Both instances send as `client` at once, one request every 10 ms each (about 200
/// requests a second for the fleet); the requests each let through.
fn both_until_refused(a: &Instance, b: &Instance, client: &str) -> (usize, usize) {
    let (pa, pb) = (a.port, b.port);
    let ca = client.to_string();
    let cb = client.to_string();
    let ta =
        std::thread::spawn(move || until_refused(pa, &ca, Duration::from_millis(10), LIMIT * 3));
    let tb =
        std::thread::spawn(move || until_refused(pb, &cb, Duration::from_millis(10), LIMIT * 3));
    let (va, vb) = (ta.join().unwrap(), tb.join().unwrap());
    for v in [&va, &vb] {
        assert!(
            v.iter().all(|s| *s == 200 || *s == 429),
            "only 200 and 429 expected: {v:?}"
        );
    }
    (ok(&va), ok(&vb))
}

fn assert_fleet_limit(client: &str, (a, b): (usize, usize)) {
    let total = a + b;
    eprintln!("{client}: {a} + {b} = {total} let through (limit {LIMIT})");
    let (lo, hi) = (LIMIT * 9 / 10, LIMIT * 11 / 10);
    assert!(
        (lo..=hi).contains(&total),
        "{client}: the fleet let {total} requests through ({a} + {b}), limit {LIMIT}"
    );
    // Both served their share: the limit was shared, not held by one instance.
    assert!(
        a >= LIMIT / 5 && b >= LIMIT / 5,
        "{client}: {a} + {b}: one instance did not serve"
    );
}

#[test]
fn two_instances_share_a_rate_limit_and_survive_a_redis_outage() {
    let mut redis = services::redis(None);
    let redis_port = redis.port();
    let app = HttpBackend::start("app");
    let a = Instance::start(&app, redis_port);
    let b = Instance::start(&app, redis_port);
    for i in [&a, &b] {
        i.wait_says(
            "stick-table 'per_client' shared through Redis 127.0.0.1:",
            1,
        );
    }

    // Shared: the fleet lets the limit through, within 10 %.
    assert_fleet_limit("alice", both_until_refused(&a, &b, "alice"));

    // Redis goes away: each instance says so once and goes on with its own counts.
    redis.stop();
    for i in [&a, &b] {
        i.wait_says("Redis 127.0.0.1:", 2);
        i.wait_says("unreachable", 1);
    }
    // What each counted before is kept: alice is still refused everywhere.
    for i in [&a, &b] {
        let v = until_refused(i.port, "alice", Duration::ZERO, 1);
        assert_eq!(v, vec![429]);
    }
    // A new client gets the whole limit on each instance: nothing is shared now, and
    // nothing but 429 refuses.
    for i in [&a, &b] {
        let v = until_refused(i.port, "bob", Duration::ZERO, LIMIT * 2);
        assert_eq!(ok(&v), LIMIT, "{v:?}");
        assert!(v[..LIMIT].iter().all(|s| *s == 200), "{v:?}");
        assert!(v[LIMIT..].iter().all(|s| *s == 429), "{v:?}");
    }
    assert_eq!(a.d.stderr().matches("unreachable").count(), 1, "said once");

    // Redis returns (empty, on the same port): both say so and send what they counted
    // meanwhile, so each sees bob's requests on both instances.
    let _redis = services::redis_on(redis_port, None);
    for i in [&a, &b] {
        i.wait_says("reachable again", 1);
    }
    let both_bobs = 2 * (LIMIT as u64 + 30);
    for i in [&a, &b] {
        assert!(
            wait_until(Duration::from_secs(10), || i
                .count_of("bob")
                .is_some_and(|n| n >= both_bobs)),
            "bob's requests were not shared after Redis returned: {:?} < {both_bobs}",
            i.count_of("bob")
        );
    }
    // And they share the limit again.
    assert_fleet_limit("carol", both_until_refused(&a, &b, "carol"));
}

#[test]
fn an_instance_without_redis_serves_and_logs_once() {
    // A Redis address nobody listens on: the instance serves on local counts.
    let app = HttpBackend::start("app");
    let i = Instance::start(&app, free_port());
    i.wait_says("unreachable", 1);
    let v = until_refused(i.port, "dave", Duration::ZERO, LIMIT * 2);
    assert_eq!(ok(&v), LIMIT, "{v:?}");
    assert_eq!(i.d.stderr().matches("unreachable").count(), 1);
}

/// Two instances find the master through Sentinel (the first Sentinel listed does not
/// answer: the next one is asked), share the limit through it, and when the master
/// dies follow the replica the Sentinel promotes and share the limit again there.
#[test]
fn two_instances_follow_the_master_a_sentinel_names_through_a_failover() {
    let mut master = services::redis(None);
    let replica = services::redis_replica(master.port());
    let sentinel = services::redis_sentinel(master.port(), "gh-master");
    let text = stick_config(SHARED).replace(
        "redis redis://127.0.0.1:{redis}/3",
        &format!(
            "redis redis://gh-master/3 redis-sentinel 127.0.0.1:{},127.0.0.1:{}",
            free_port(),
            sentinel.port()
        ),
    );
    let app = HttpBackend::start("app");
    let a = Instance::start_with(&text, &app, 0);
    let b = Instance::start_with(&text, &app, 0);
    let at = |port: u16| format!("Redis master 'gh-master' (127.0.0.1:{port}/3)");
    for i in [&a, &b] {
        i.wait_says(&format!("shared through {}", at(master.port())), 1);
    }
    assert_fleet_limit("alice", both_until_refused(&a, &b, "alice"));

    // The master dies: the Sentinel promotes the replica, and both instances find it.
    master.stop();
    assert!(
        wait_until(Duration::from_secs(30), || sentinel
            .log()
            .contains("+switch-master gh-master")),
        "no failover:\n{}",
        sentinel.log()
    );
    for i in [&a, &b] {
        i.wait_says("unreachable", 1);
        i.wait_says(&format!("{} reachable again", at(replica.port())), 1);
    }
    // Alice stays refused, and the limit is shared again through the new master.
    for i in [&a, &b] {
        assert_eq!(until_refused(i.port, "alice", Duration::ZERO, 1), vec![429]);
    }
    assert_fleet_limit("carol", both_until_refused(&a, &b, "carol"));
}
