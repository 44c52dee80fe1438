//! Passive checks (`observe layer7`, `error-limit`, `on-error`): a server whose
//! connect check still passes but that starts answering 500 to live traffic is taken
//! down after `error-limit` consecutive errors, with HAProxy 2.6's log line (the same
//! configuration runs through haproxy for the reference), and traffic goes to the
//! backup.

mod support;
#[path = "checks/switch.rs"]
mod switch;

use std::time::Duration;
use support::{Daemon, http_get_until_close, local, proxy_builder, wait_until};
use switch::{Mode, Switch};

fn config(main: &Switch, spare: &Switch, on_error: &str) -> support::Config {
    support::Config::new(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         listen be\n    bind 127.0.0.1:{port}\n\
         \x20   server s1 {main} check inter 20s fastinter 20s downinter 20s rise 2 fall 2 observe layer7 error-limit 3 on-error {on_error}\n\
         \x20   server spare {spare} backup\n",
    )
    .listen_port("port")
    .var("main", main.addr())
    .var("spare", spare.addr())
    .var("on_error", on_error)
}

/// The line about `be/s1` going DOWN, its pid prefix cut and the session count made
/// `N` (the request that saw the last error may still be counted).
fn down_line(d: &Daemon) -> Option<String> {
    let re = regex::Regex::new(r"\d+ sessions active").unwrap();
    d.stderr()
        .lines()
        .find(|l| l.contains("Server be/s1 is DOWN"))
        .map(|l| l.split_once(" : ").map_or(l, |(_, m)| m))
        .map(|m| re.replace(m, "N sessions active").into_owned())
}

/// Sends requests until `be/s1` is logged down (at most `max`); the statuses seen
/// and the line.
fn until_down(d: &Daemon, port: u16, max: usize) -> (Vec<u16>, String) {
    let mut statuses = Vec::new();
    for _ in 0..max {
        let r = http_get_until_close(local(port), "/", &[]).unwrap();
        statuses.push(r.status);
        if r.status == 500 && statuses.iter().filter(|&&s| s == 500).count() >= 3 {
            let mut line = None;
            if wait_until(Duration::from_millis(300), || {
                line = down_line(d);
                line.is_some()
            }) {
                return (statuses, line.unwrap());
            }
        }
    }
    panic!("be/s1 never went down after {statuses:?}:\n{}", d.stderr());
}

fn run(haproxy: bool, on_error: &str) -> (Vec<u16>, String, Daemon, [Switch; 2]) {
    let main = Switch::start("main", Mode::Ok);
    let spare = Switch::start("spare", Mode::Ok);
    let cfg = config(&main, &spare, on_error);
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let port = cfg.port("port");
    let r = http_get_until_close(local(port), "/", &[]).unwrap();
    assert_eq!(r.body_str(), "main");
    main.set(Mode::Error);
    let (statuses, line) = until_down(&d, port, 12);
    (statuses, line, d, [main, spare])
}

#[test]
fn mark_down_takes_a_server_answering_500_out_after_error_limit_errors() {
    let (statuses, line, d, _main) = run(false, "mark-down");
    assert_eq!(statuses, [500, 500, 500]);
    assert_eq!(
        line,
        "Server be/s1 is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: Wrong http response\". 0 active and 1 backup servers left. Running on backup. N sessions active, 0 requeued, 0 remaining in queue."
    );
    // The backup serves; the connect check (every 20 s) has not brought s1 back.
    let r = http_get_until_close(local(d_port(&d)), "/", &[]).unwrap();
    assert_eq!(r.body_str(), "spare");
}

fn d_port(d: &Daemon) -> u16 {
    let cfg = std::fs::read_to_string(d.config_path()).unwrap();
    let re = regex::Regex::new(r"bind 127\.0\.0\.1:(\d+)").unwrap();
    re.captures(&cfg).unwrap()[1].parse().unwrap()
}

/// `fail-check` counts each run of `error-limit` errors as one failed check: with
/// `fall 2`, six errors take the server down.
#[test]
fn fail_check_counts_error_runs_as_failed_checks() {
    let (statuses, line, _d, _main) = run(false, "fail-check");
    assert_eq!(statuses, [500; 6]);
    assert!(line.starts_with("Server be/s1 is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: Wrong http response\"."), "{line}");
}

/// `sudden-death` leaves the server one failed check from down: the next run of
/// errors takes it down.
#[test]
fn sudden_death_leaves_one_failure_to_go() {
    let (statuses, _, _d, _main) = run(false, "sudden-death");
    assert_eq!(statuses, [500; 6]);
}

/// The reference: haproxy 2.6 takes the server down after the same requests, with
/// the same line.
#[test]
fn passive_checks_behave_as_in_haproxy() {
    for on_error in ["mark-down", "fail-check"] {
        let (hs, hl, _d, _m) = run(true, on_error);
        let (gs, gl, _d2, _m2) = run(false, on_error);
        assert_eq!((gs, gl), (hs, hl), "{on_error}");
    }
}
