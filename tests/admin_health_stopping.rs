//! `set server B/S health stopping` (HAProxy's NOLB state): the server stays up but
//! takes no new balanced traffic; `show stat` reads `NOLB`, `show servers state` op
//! state 3, the exporter's `state="NOLB"` — as HAProxy 2.6 on the same configuration —
//! until `health up` or, on a checked server, the next passing check.

mod support;

use std::time::Duration;
use support::socat::unix_cmd;
use support::*;

fn cfg(port: u16, one: u16, two: u16, stats: u16) -> String {
    format!(
        "global\n  stats socket unix@admin.sock level admin\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend app\n\
         frontend prom\n  bind 127.0.0.1:{stats}\n  http-request use-service prometheus-exporter\n\
         backend app\n  balance roundrobin\n  server s1 127.0.0.1:{one}\n  \
         server s2 127.0.0.1:{two} check inter 300ms\n"
    )
}

/// Who answered `n` fresh requests.
fn answers(port: u16, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let mut c = HttpClient::connect(local(port)).expect("connect");
            c.get("/", &[]).expect("response").body_str()
        })
        .collect()
}

fn status(sock: &std::path::Path, server: &str) -> String {
    let stat = unix_cmd(sock, "show stat");
    stat.lines()
        .find(|l| l.starts_with(&format!("app,{server},")))
        .and_then(|l| l.split(',').nth(17))
        .unwrap_or("")
        .to_owned()
}

/// `srv_op_state` of `server` in `show servers state app`.
fn op_state(sock: &std::path::Path, server: &str) -> String {
    unix_cmd(sock, "show servers state app")
        .lines()
        .find(|l| l.split(' ').nth(3) == Some(server))
        .and_then(|l| l.split(' ').nth(5))
        .unwrap_or("")
        .to_owned()
}

fn prom_state(port: u16, server: &str) -> Option<String> {
    let mut c = HttpClient::connect(local(port)).expect("connect");
    let body = c.get("/metrics", &[]).expect("metrics").body_str();
    body.lines()
        .find(|l| {
            l.starts_with("haproxy_server_status{")
                && l.contains(&format!("server=\"{server}\""))
                && l.ends_with(" 1")
        })
        .and_then(|l| l.split("state=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .map(str::to_owned)
}

#[test]
fn stopping_takes_a_server_out_of_balancing_as_haproxy_does() {
    let (one, two) = (HttpBackend::start("one"), HttpBackend::start("two"));
    let mut runs = vec![];
    let (p, s) = (free_port(), free_port());
    runs.push((
        "gatehouse",
        p,
        s,
        Gatehouse::start(&cfg(p, one.port(), two.port(), s), &[p, s]).0,
    ));
    let (p, s) = (free_port(), free_port());
    runs.push((
        "haproxy",
        p,
        s,
        Haproxy::start(&cfg(p, one.port(), two.port(), s), &[p, s]).0,
    ));
    for (who, port, stats, d) in &runs {
        let sock = d.dir().join("admin.sock");
        assert!(
            wait_until(Duration::from_secs(5), || status(&sock, "s2") == "UP"),
            "{who}"
        );
        // An unchecked server stays stopping until told otherwise.
        assert_eq!(
            unix_cmd(&sock, "set server app/s1 health stopping"),
            "\n",
            "{who}"
        );
        assert_eq!(status(&sock, "s1"), "NOLB", "{who}");
        assert_eq!(op_state(&sock, "s1"), "3", "{who}");
        assert_eq!(prom_state(*stats, "s1").as_deref(), Some("NOLB"), "{who}");
        assert!(answers(*port, 4).iter().all(|a| a == "two"), "{who}");
        assert_eq!(
            unix_cmd(&sock, "set server app/s1 health up"),
            "\n",
            "{who}"
        );
        assert_eq!(status(&sock, "s1"), "no check", "{who}");
        assert_eq!(op_state(&sock, "s1"), "2", "{who}");
        assert!(answers(*port, 4).iter().any(|a| a == "one"), "{who}");
        // A checked server comes back with its next passing check.
        assert_eq!(
            unix_cmd(&sock, "set server app/s2 health stopping"),
            "\n",
            "{who}"
        );
        assert!(
            wait_until(Duration::from_secs(5), || status(&sock, "s2") == "UP"),
            "{who}: {}",
            status(&sock, "s2")
        );
        assert_eq!(prom_state(*stats, "s2").as_deref(), Some("UP"), "{who}");
        assert_eq!(
            unix_cmd(&sock, "set server app/s1 health sideways"),
            "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n",
            "{who}"
        );
    }
}
