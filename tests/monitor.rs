//! `monitor-uri` and `monitor fail`: the frontend answers its monitor URI itself, 200
//! or 503 when a `monitor fail` condition matches, before any `http-request` rule, with
//! HAProxy 2.6's bytes, and logs nothing for it. Compared with haproxy side by side.

mod support;

use std::time::Duration;
use support::{Gatehouse, Haproxy, free_port, local, send_until_close, wait_until};

fn config(port: u16) -> String {
    format!(
        "global\n    log stderr format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n\
         \x20   timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n\
         frontend www\n    bind 127.0.0.1:{port}\n    acl dead req.hdr(x-dead) -m found\n\
         \x20   monitor-uri /alive\n    monitor fail if dead\n\
         \x20   http-request deny if {{ path_beg /alive }}\n    default_backend app\n\
         backend app\n    server s1 127.0.0.1:1\n"
    )
}

/// What each proxy answers to `req`, until it closes the connection.
fn exchange(gh: u16, hp: u16, req: &str) -> (String, String) {
    let get = |p| String::from_utf8_lossy(&send_until_close(local(p), req.as_bytes())).into_owned();
    (get(gh), get(hp))
}

#[test]
fn the_monitor_uri_answers_200_or_503_as_haproxy_and_is_not_logged() {
    support::require_haproxy();
    let (g, h) = (free_port(), free_port());
    let gh = Gatehouse::start(&config(g), &[g]);
    let _hp = Haproxy::start(&config(h), &[h]);
    let close = "GET /alive HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let cases = [
        // Two on one connection: the answer keeps it alive.
        format!("GET /alive HTTP/1.1\r\nhost: x\r\n\r\n{close}"),
        // `monitor fail` matches: 503.
        format!("GET /alive HTTP/1.1\r\nhost: x\r\nx-dead: 1\r\n\r\n{close}"),
        // Method, version and absolute form do not matter; HEAD gets no body.
        "HEAD /alive HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_owned(),
        "POST http://x/alive HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .to_owned(),
        "GET /alive HTTP/1.0\r\n\r\n".to_owned(),
        // A query string is part of the compared URI: the http-request rule answers.
        "GET /alive?x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_owned(),
    ];
    let mut answers = Vec::new();
    for req in &cases {
        let (ours, theirs) = exchange(g, h, req);
        assert_eq!(ours, theirs, "for {req:?}");
        answers.push(ours);
    }
    assert_eq!(answers[0].matches("HTTP/1.1 200 OK\r\n").count(), 2);
    assert!(answers[0].ends_with("Service ready.\n</body></html>\n"));
    assert!(answers[1].starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    assert!(answers[5].starts_with("HTTP/1.1 403 Forbidden\r\n"));
    // Only the denied request is logged (the start-up probe's empty connection aside).
    let logged = wait_until(Duration::from_secs(5), || {
        gh.stderr().contains("\"GET /alive?x HTTP/1.1\"")
    });
    assert!(logged, "{}", gh.stderr());
    let lines: Vec<String> = gh
        .stderr()
        .lines()
        .filter(|l| l.contains("/alive"))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[test]
fn monitor_keywords_are_checked_as_haproxy_checks_them() {
    let (code, _, err) = support::check(
        &support::gatehouse_bin(),
        &[&support::TempDir::new("monitor").write(
            "c.cfg",
            "defaults\n    mode http\nfrontend f\n    bind 127.0.0.1:0\n    monitor fail\n",
        )],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("requires either 'if' or 'unless' followed by a condition."),
        "{err}"
    );
    let dir = support::TempDir::new("monitor");
    let bad = dir.write(
        "c.cfg",
        "defaults\n    mode http\nfrontend f\n    bind 127.0.0.1:0\n    monitor-uri /x\n    monitor fail if no_such_acl\n",
    );
    let (code, _, err) = support::check(&support::gatehouse_bin(), &[&bad]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("c.cfg:6"), "{err}");
}
