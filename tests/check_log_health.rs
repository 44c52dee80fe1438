//! `option log-health-checks`: every change of a check's status or of the server's
//! health is logged with HAProxy 2.6's words ("Health check for server be/s1 failed,
//! reason: …, status: 1/2 UP."), for the health check and the agent alike, and the
//! state-change lines then carry no reason. The same configuration runs through
//! haproxy for the reference.

#[path = "checks/agent.rs"]
mod agent;
mod support;
#[path = "checks/switch.rs"]
mod switch;

use agent::Agent;
use std::time::Duration;
use support::log_line::{durations_n, log_message};
use support::{Daemon, proxy_builder, wait_until};
use switch::{Mode, Switch};

const WAIT: Duration = Duration::from_secs(10);

/// The messages about `be/s1` that contain `what`, check durations made `Nms`.
fn messages(d: &Daemon, what: &str) -> Vec<String> {
    d.stderr()
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("be/s1") && l.contains(what))
        .map(|l| durations_n(log_message(l)))
        .collect()
}

fn wait_for(d: &Daemon, what: &str, n: usize) {
    let ok = wait_until(WAIT, || messages(d, what).len() >= n);
    assert!(ok, "fewer than {n} {what:?} lines:\n{}", d.stderr());
}

/// The health-check lines, the agent lines and the state-change lines of one run.
fn script(haproxy: bool) -> [Vec<String>; 3] {
    let app = Switch::start("app", Mode::Ok);
    let agent = Agent::start("up");
    let cfg = support::Config::new(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 1s\n\
         listen be\n    bind 127.0.0.1:{port}\n    option httpchk GET /health\n    option log-health-checks\n\
         \x20   server s1 {app} check inter 100 rise 2 fall 2 agent-check agent-port {agent} agent-inter 100\n",
    )
    .listen_port("port")
    .var("app", app.addr())
    .var("agent", agent.port());
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    wait_for(&d, "Health check", 1);
    wait_for(&d, "Agent check", 1);
    app.set(Mode::Error);
    wait_for(&d, "is DOWN", 1);
    app.set(Mode::Ok);
    wait_for(&d, "is UP", 1);
    agent.say("down");
    wait_for(&d, "is DOWN", 2);
    agent.say("up");
    wait_for(&d, "is UP", 2);
    [
        messages(&d, "Health check"),
        messages(&d, "Agent check"),
        messages(&d, "Server be/s1 is"),
    ]
}

#[test]
fn log_health_checks_reports_every_check_status_change() {
    let [health, agent, state] = script(false);
    let ok = |st: &str| {
        format!(
            "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: {st}."
        )
    };
    let bad = |st: &str| {
        format!(
            "Health check for server be/s1 failed, reason: Layer7 wrong status, code: 500, info: \"Internal Server Error\", check duration: Nms, status: {st}."
        )
    };
    assert_eq!(
        health,
        [
            ok("2/2 UP"),
            bad("1/2 UP"),
            bad("0/2 DOWN"),
            ok("1/2 DOWN"),
            ok("2/2 UP"),
        ]
    );
    assert_eq!(
        agent,
        [
            "Agent check for server be/s1 succeeded, reason: Layer7 check passed, code: 0, info: \"via agent : up\", check duration: Nms, status: 1/1 UP.",
            "Agent check for server be/s1 failed, reason: Layer7 wrong status, code: 0, info: \"via agent : down\", check duration: Nms, status: 0/1 DOWN.",
            "Agent check for server be/s1 succeeded, reason: Layer7 check passed, code: 0, info: \"via agent : up\", check duration: Nms, status: 1/1 UP.",
        ]
    );
    assert_eq!(
        state,
        [
            "Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        ]
    );
}

#[test]
fn log_health_checks_lines_match_haproxy() {
    assert_eq!(script(false), script(true));
}
