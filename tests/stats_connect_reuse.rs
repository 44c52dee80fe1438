//! The `connect` and `reuse` columns of `show stat` (new server connection attempts;
//! requests sent over a connection that already existed), for HTTP/1 and HTTP/2
//! servers under each `http-reuse` mode, compared with haproxy on the same config and
//! the same traffic; and their Prometheus families.

mod support;
use std::time::Duration;
use support::backend_h2::H2Backend;
use support::socat::unix_cmd;
use support::stats::{csv_field, csv_rows};
use support::*;

fn config(port: u16, h1: u16, h2: u16, reuse: &str) -> Config {
    Config::new(&format!(
        "global\n  stats socket unix@admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n\
         \x20 use_backend b2 if {{ path_beg /h2 }}\n  default_backend b1\n\
         backend b1\n  http-reuse {reuse}\n  server s1 127.0.0.1:{h1}\n\
         backend b2\n  http-reuse {reuse}\n  server s2 127.0.0.1:{h2} proto h2\n"
    ))
}

/// Two keep-alive clients, their requests interleaved: A, A, B, A, B, for each
/// backend; then `connect`/`reuse` of both backends and servers.
fn counts(haproxy: bool, reuse: &str) -> Vec<(String, String, String)> {
    let h1 = HttpBackend::start("app");
    let h2 = H2Backend::start(100);
    let port = free_port();
    let d = proxy_builder(haproxy, &config(port, h1.port(), h2.port(), reuse))
        .wait_port(port)
        .start();
    let sock = d.dir().join("admin.sock");
    assert!(
        wait_until(Duration::from_secs(20), || !unix_cmd(&sock, "show info")
            .is_empty()),
        "the stats socket never answered"
    );
    for prefix in ["/", "/h2/"] {
        let mut a = HttpClient::connect(local(port)).expect("connect");
        let mut b = HttpClient::connect(local(port)).expect("connect");
        for (i, c) in [0, 0, 1, 0, 1].into_iter().enumerate() {
            let client = if c == 0 { &mut a } else { &mut b };
            let r = client.get(&format!("{prefix}{i}"), &[]).expect("response");
            assert_eq!(r.status, 200);
        }
    }
    let t = csv_rows(&unix_cmd(&sock, "show stat"));
    let mut out = Vec::new();
    for (px, sv) in [
        ("b1", "BACKEND"),
        ("b1", "s1"),
        ("b2", "BACKEND"),
        ("b2", "s2"),
        ("fe", "FRONTEND"),
    ] {
        let v = |c| csv_field(&t, px, sv, c);
        out.push((format!("{px}/{sv}"), v("connect"), v("reuse")));
    }
    out
}

/// `connect + reuse` is the number of requests sent (5 per backend here).
fn total(row: &(String, String, String)) -> u64 {
    row.1.parse::<u64>().expect("connect") + row.2.parse::<u64>().expect("reuse")
}

#[test]
fn connect_and_reuse_count_as_haproxy_for_h1_and_h2_servers() {
    require_haproxy();
    for reuse in ["never", "safe", "always"] {
        let mut h = counts(true, reuse);
        let mut g = counts(false, reuse);
        for rows in [&h, &g] {
            for row in &rows[..4] {
                assert_eq!(total(row), 5, "http-reuse {reuse}: {rows:?}");
            }
            assert_eq!(rows[4], ("fe/FRONTEND".into(), "".into(), "".into()));
        }
        if reuse == "always" {
            // HAProxy offers an idle connection to other clients once the stream
            // detached from it, which races with the next client's request: the
            // second client may take the first one's or open its own.
            for rows in [&mut h, &mut g] {
                for row in rows.drain(..4) {
                    let connect: u64 = row.1.parse().expect("connect");
                    assert!((1..=2).contains(&connect), "{row:?}");
                }
            }
        }
        assert_eq!(g, h, "http-reuse {reuse}");
    }
}
