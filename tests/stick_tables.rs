//! Stick tables on the real binary over real sockets: the common rate-limit recipes
//! (per source, per path, per identity) answer 429 at the count HAProxy 2.6 answers it
//! for the same configuration and traffic, `show table` reads as HAProxy's, tables
//! survive a reload that keeps their definition, and entries expire.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use mint::{Signer, jwks, now};
use serde_json::json;
use std::time::Duration;
use support::socat::unix_cmd;
use support::stick::{count, entry_field, statuses, stick_config};
use support::*;

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const PER_SOURCE: &str = "frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 100k expire 30s store http_req_rate(10s),http_req_cnt,conn_cnt,conn_cur
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100 }
    default_backend app
backend app
    server s1 {app}
";

#[test]
fn per_source_limit_answers_429_past_the_limit_as_haproxy_does() {
    let app = HttpBackend::start("app");
    let mut seen = Vec::new();
    for haproxy in [true, false] {
        if haproxy && haproxy_bin().is_none() {
            continue;
        }
        let cfg = Config::new(&stick_config(PER_SOURCE))
            .listen_port("port")
            .var("app", app.addr());
        let port = cfg.port("port");
        let _d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        let v = statuses(port, "/", &[], 130);
        let ok = count(&v, 200);
        // The first 100 pass, within 5 %; every later one is refused with 429.
        assert!((95..=105).contains(&ok), "haproxy={haproxy}: {ok} passed");
        assert_eq!(ok + count(&v, 429), 130, "haproxy={haproxy}: {v:?}");
        assert!(v[..95].iter().all(|s| *s == 200), "haproxy={haproxy}");
        assert!(v[110..].iter().all(|s| *s == 429), "haproxy={haproxy}");
        seen.push(ok);
    }
    if seen.len() == 2 {
        assert_eq!(
            seen[0], seen[1],
            "haproxy and gatehouse let different counts through"
        );
    }
}

const PER_PATH: &str = "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request track-sc1 path table per_path
    http-request deny deny_status 429 if { sc1_http_req_rate(per_path) gt 20 }
    default_backend app
backend per_path
    stick-table type string len 64 size 1k expire 30s store http_req_rate(10s)
backend app
    server s1 {app}
";

#[test]
fn per_path_limit_with_a_string_key_counts_each_path_apart() {
    let app = HttpBackend::start("app");
    let cfg = Config::new(PER_PATH)
        .listen_port("port")
        .var("app", app.addr());
    let port = cfg.port("port");
    let _d = start_proxy_at(&cfg, port);
    let a = statuses(port, "/a", &[], 30);
    assert_eq!(count(&a, 200), 20, "{a:?}");
    assert!(a[20..].iter().all(|s| *s == 429), "{a:?}");
    // Another path has its own entry, and another connection shares the path's.
    let b = statuses(port, "/b", &[], 5);
    assert_eq!(count(&b, 200), 5, "{b:?}");
    assert_eq!(statuses(port, "/a", &[], 1), vec![429]);
}

fn start_proxy_at(cfg: &Config, port: u16) -> Daemon {
    Gatehouse::builder(&cfg.render()).wait_port(port).start()
}

const PER_USER: &str = "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
identity corp
    issuer https://idp.example.com
    audience api
    allowed-algs RS256
    jwks-file jwks.json
frontend fe
    bind 127.0.0.1:{port}
    http-request authenticate corp
    http-request track-sc0 identity_sub table per_user
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }
    default_backend app
backend per_user
    stick-table type string len 64 size 10k expire 60s store http_req_rate(1m),http_req_cnt
backend app
    server s1 {app}
";

fn token(k: &Signer, sub: &str) -> String {
    let t = now();
    k.sign(&json!({
        "iss": "https://idp.example.com", "aud": "api", "sub": sub,
        "iat": t, "nbf": t - 5, "exp": t + 300,
    }))
}

#[test]
fn per_user_limit_keys_on_the_identity_of_the_token() {
    let app = HttpBackend::start("app");
    let key = Signer::rsa("k1");
    let cfg = Config::new(PER_USER)
        .listen_port("port")
        .var("app", app.addr());
    let port = cfg.port("port");
    let d = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_port(port)
        .start();
    let alice = format!("Bearer {}", token(&key, "alice"));
    let bob = format!("Bearer {}", token(&key, "bob"));
    let a = statuses(port, "/", &[("Authorization", &alice)], 15);
    assert_eq!(count(&a, 200), 10, "{a:?}");
    assert!(a[10..].iter().all(|s| *s == 429), "{a:?}");
    // Another user of the same address has a limit of their own.
    let b = statuses(port, "/", &[("Authorization", &bob)], 10);
    assert_eq!(count(&b, 200), 10, "{b:?}");
    drop(d);
}

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const RELOADED: &str = "frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 60s store http_req_rate(1m),http_req_cnt
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }
    http-response set-header X-Gen GEN
    default_backend app
backend app
    server s1 {app}
";

/// Reloads `d` with `text` and waits until a response carries `X-Gen: label`.
fn reload(d: &mut Daemon, port: u16, text: &str, label: &str) {
    std::fs::write(d.config_path(), text).unwrap();
    d.signal(libc::SIGUSR2);
    assert!(
        wait_until(Duration::from_secs(10), || {
            HttpClient::connect(local(port))
                .and_then(|mut c| c.get("/probe", &[]))
                .is_ok_and(|r| r.header("x-gen") == Some(label))
        }),
        "reload to {label} not seen: {}",
        d.stderr()
    );
}

#[test]
fn a_table_survives_a_reload_that_keeps_its_definition() {
    let app = HttpBackend::start("app");
    let cfg = Config::new(&stick_config(RELOADED))
        .listen_port("port")
        .var("app", app.addr());
    let port = cfg.port("port");
    let text = cfg.render();
    let mut d = Gatehouse::builder(&text.replace("GEN", "one"))
        .wait_port(port)
        .start();
    let sock = d.dir().join("admin.sock");
    assert_eq!(count(&statuses(port, "/", &[], 6), 200), 6);
    // An unrelated change: the entry and its rate are kept (6 requests, 1 probe below).
    reload(&mut d, port, &text.replace("GEN", "two"), "two");
    let after = statuses(port, "/", &[], 6);
    let before_probes = unix_cmd(&sock, "show table fe");
    assert!(before_probes.contains(" http_req_cnt="), "{before_probes}");
    let probes = entry_field(&before_probes, "127.0.0.1", "http_req_cnt").unwrap();
    // 6 requests, the probes of the reload wait, 6 more: all counted in one entry.
    assert!(probes >= 13, "{before_probes}");
    assert!(
        count(&after, 429) >= 2,
        "the limit forgot the first requests: {after:?}"
    );
    // A changed definition starts a fresh table.
    reload(
        &mut d,
        port,
        &text.replace("GEN", "three").replace("size 1k", "size 2k"),
        "three",
    );
    let fresh = unix_cmd(&sock, "show table fe");
    assert!(
        fresh.starts_with("# table: fe, type: ip, size:2048, used:1\n"),
        "{fresh}"
    );
    assert!(fresh.contains(" http_req_cnt=1 "), "{fresh}");
}

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const EXPIRING: &str = "frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 1500ms store http_req_cnt
    http-request track-sc0 src
    default_backend app
backend app
    server s1 {app}
";

#[test]
fn entries_expire_after_the_table_expire_delay() {
    let app = HttpBackend::start("app");
    let cfg = Config::new(&stick_config(EXPIRING))
        .listen_port("port")
        .var("app", app.addr());
    let port = cfg.port("port");
    let d = start_proxy_at(&cfg, port);
    let sock = d.dir().join("admin.sock");
    let t0 = std::time::Instant::now();
    assert_eq!(statuses(port, "/", &[], 1), vec![200]);
    // The request lets its entry go just after its response is sent.
    let mut t = String::new();
    assert!(
        wait_until(Duration::from_secs(5), || {
            t = unix_cmd(&sock, "show table fe");
            t.contains("used:1\n") && t.contains("key=127.0.0.1 use=0 exp=")
        }),
        "{t}"
    );
    let exp = entry_field(&t, "127.0.0.1", "exp").unwrap();
    assert!(exp > 0 && exp <= 1500, "{t}");
    assert!(
        wait_until(Duration::from_secs(10), || unix_cmd(&sock, "show table fe")
            .contains("used:0\n")),
        "the entry never expired"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "expired too early"
    );
}

#[test]
fn peers_sections_are_refused_with_a_pointer_to_redis_sharing() {
    let dir = TempDir::new("stick-peers");
    let cfg = dir.write(
        "p.cfg",
        "peers mypeers\n    peer a 127.0.0.1:10000\nfrontend fe\n    bind 127.0.0.1:0\n    stick-table type ip size 1k peers mypeers\n",
    );
    let (code, _out, err) = check(&gatehouse_bin(), &[&cfg]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("p.cfg:1] : section 'peers' : 'peers' is not supported by gatehouse"),
        "{err}"
    );
    assert!(
        err.contains(
            "p.cfg:5] : 'stick-table' in section 'frontend' : 'peers' is not supported by gatehouse"
        ),
        "{err}"
    );
    assert!(err.contains("'redis redis://HOST:PORT/DB'"), "{err}");
}

const TCP_CONN_LIMIT: &str = "defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend probe
    bind 127.0.0.1:{port}
    tcp-request connection reject
frontend fe
    bind 127.0.0.1:{limited}
    stick-table type ip size 1k store conn_cur,conn_cnt
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc_conn_cur(0) gt 2 }
    default_backend echo
backend echo
    server e1 {echo}
";

/// An echoed round trip on `s`.
fn echoes(s: &mut std::net::TcpStream) -> bool {
    use std::io::{Read, Write};
    let mut b = [0u8; 4];
    s.write_all(b"ping").is_ok() && s.read_exact(&mut b).is_ok() && &b == b"ping"
}

#[test]
fn tcp_connection_tracking_limits_concurrent_connections_per_source() {
    let echo = support::TcpEcho::start();
    let cfg = Config::new(TCP_CONN_LIMIT)
        .listen_port("port")
        .listen_port("limited")
        .var("echo", echo.addr());
    let port = cfg.port("port");
    let limited = local(cfg.port("limited"));
    let _d = start_proxy_at(&cfg, port);
    let connect = || {
        let s = std::net::TcpStream::connect(limited).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    };
    let (mut a, mut b) = (connect(), connect());
    assert!(echoes(&mut a) && echoes(&mut b));
    // A third one at once is rejected: closed without reaching the server.
    let mut c = connect();
    let closed = read_to_close(&mut c, Duration::from_secs(20)).expect("rejected");
    assert!(closed.is_empty());
    assert_eq!(echo.connections(), 2);
    // One of the two ends: a new one is accepted again.
    drop(a);
    assert!(
        wait_until(Duration::from_secs(20), || echoes(&mut connect())),
        "the freed slot was never given back"
    );
    assert!(echoes(&mut b));
}
