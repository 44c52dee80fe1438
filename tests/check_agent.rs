//! `agent-check` against a real agent server, and the drain admin state: the agent's
//! words drive the server's admin state, weight and health with HAProxy 2.6's log
//! lines (the same configuration runs through haproxy for the reference), and a
//! drained server takes no new connection while one already open to it goes on.

#[path = "checks/agent.rs"]
mod agent;
mod support;

use agent::Agent;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::log_line::{durations_n, log_message};
use support::{Daemon, TcpEcho, local, proxy_builder, wait_until};

const WAIT: Duration = Duration::from_secs(10);

/// The `[WARNING]`/`[ALERT]` messages about server `be/s1` so far, check durations
/// made `Nms`.
fn messages(d: &Daemon) -> Vec<String> {
    d.stderr()
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("be/s1"))
        .map(|l| durations_n(log_message(l)))
        .collect()
}

/// Waits until `d` has logged `n` messages about `be/s1`; the messages.
fn wait_messages(d: &Daemon, n: usize) -> Vec<String> {
    let ok = wait_until(WAIT, || messages(d).len() >= n);
    assert!(ok, "fewer than {n} messages:\n{}", d.stderr());
    messages(d)
}

fn config(agent: &Agent, s1: &TcpEcho, s2: &TcpEcho) -> support::Config {
    support::Config::new(
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         listen be\n    bind 127.0.0.1:{port}\n    balance roundrobin\n\
         \x20   server s1 {s1} weight 2 agent-check agent-port {agent} agent-inter 50 agent-send \"ping be/s1\\n\"\n\
         \x20   server s2 {s2} weight 2\n",
    )
    .listen_port("port")
    .var("s1", s1.addr())
    .var("s2", s2.addr())
    .var("agent", agent.port())
}

/// Runs the agent through every word with haproxy (`haproxy`) or gatehouse; the
/// messages logged.
fn agent_script(haproxy: bool) -> Vec<String> {
    let (s1, s2) = (TcpEcho::start(), TcpEcho::start());
    let agent = Agent::start("up");
    let cfg = config(&agent, &s1, &s2);
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    agent.say("up");
    assert_eq!(agent.received(), b"ping be/s1\n");
    let steps = [
        "drain",
        "ready",
        "down # maintenance window",
        "up",
        "maint",
        "ready",
        "fail, 50%",
        "up",
    ];
    for (i, word) in steps.iter().enumerate() {
        agent.say(word);
        wait_messages(&d, i + 1);
    }
    agent.say("up");
    messages(&d)
}

#[test]
fn agent_words_set_admin_state_and_health_with_haproxys_log_lines() {
    let got = agent_script(false);
    let expected = [
        "Server be/s1 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        "Server be/s1 is UP (leaving forced drain).",
        "Server be/s1 is DOWN, reason: Layer7 wrong status, code: 0, info: \"via agent : down (maintenance window)\", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server be/s1 is UP, reason: Layer7 check passed, code: 0, info: \"via agent : up\", check duration: Nms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        "Server be/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server be/s1 is UP/READY (leaving forced maintenance).",
        "Server be/s1 is DOWN, reason: Layer7 wrong status, code: 0, info: \"via agent : fail\", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server be/s1 is UP, reason: Layer7 check passed, code: 0, info: \"via agent : up\", check duration: Nms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    ];
    assert_eq!(got, expected);
}

/// The reference: the same script through haproxy 2.6 logs the same lines.
#[test]
fn agent_words_log_the_same_lines_through_haproxy() {
    assert_eq!(agent_script(true), agent_script(false));
}

/// Opens a connection through the proxy and checks it echoes.
fn open(port: u16) -> TcpStream {
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    echo(&mut c);
    c
}

fn echo(c: &mut TcpStream) {
    c.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");
}

#[test]
fn a_drained_server_takes_no_new_connection_while_an_open_one_goes_on() {
    let (s1, s2) = (TcpEcho::start(), TcpEcho::start());
    let agent = Agent::start("up");
    let cfg = config(&agent, &s1, &s2);
    let d = proxy_builder(false, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let port = cfg.port("port");
    agent.say("up");
    let counts = || {
        s1.sync();
        s2.sync();
        (s1.connections(), s2.connections())
    };
    // Round robin alternates: one of the next two connections goes to s1 (the
    // startup probe took a turn).
    let start = counts();
    let mut tunnel = open(port);
    if counts().0 == start.0 {
        tunnel = open(port);
    }
    let before = counts();
    assert_eq!(before.0, start.0 + 1);
    agent.say("drain");
    wait_messages(&d, 1);
    for _ in 0..6 {
        open(port);
    }
    assert_eq!(counts(), (before.0, before.1 + 6));
    // The connection opened before the drain goes on.
    echo(&mut tunnel);
    // Ready again: new connections are shared again.
    agent.say("ready");
    wait_messages(&d, 2);
    let before = counts();
    for _ in 0..6 {
        open(port);
    }
    assert_eq!(counts(), (before.0 + 3, before.1 + 3));
    // A weight of 50% (2 → 1) against s2's 2: one connection in three.
    agent.say("50%");
    let before = counts();
    for _ in 0..30 {
        open(port);
    }
    let after = counts();
    assert_eq!((after.0 - before.0, after.1 - before.1), (10, 20));
    echo(&mut tunnel);
}

/// Whether a second connection through the proxy, opened while `first` is open, is
/// served (echoes) or closed by the proxy after `timeout queue` (the server is at its
/// `maxconn`).
fn second_is_served(port: u16) -> bool {
    let mut first = open(port);
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    let _ = c.write_all(b"ping\n");
    let mut buf = [0u8; 5];
    let served = c.read_exact(&mut buf).is_ok();
    echo(&mut first);
    served
}

/// The agent's `maxconn:N` sets the server's `maxconn`: with `maxconn:1`, a second
/// connection waits in the queue and leaves at `timeout queue`; `maxconn:0` lifts the
/// limit again. The same through haproxy 2.6.
#[test]
fn agent_maxconn_limits_the_server_like_haproxy() {
    for haproxy in [true, false] {
        let s1 = TcpEcho::start();
        let agent = Agent::start("up");
        let cfg = support::Config::new(
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout queue 200ms\n\
             listen be\n    bind 127.0.0.1:{port}\n\
             \x20   server s1 {s1} agent-check agent-port {agent} agent-inter 50\n",
        )
        .listen_port("port")
        .var("s1", s1.addr())
        .var("agent", agent.port());
        let _d = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        let port = cfg.port("port");
        assert!(second_is_served(port), "haproxy={haproxy}: no limit yet");
        agent.say("up maxconn:1");
        assert!(
            wait_until(WAIT, || !second_is_served(port)),
            "haproxy={haproxy}: maxconn:1 never applied"
        );
        agent.say("up maxconn:0");
        assert!(
            wait_until(WAIT, || second_is_served(port)),
            "haproxy={haproxy}: maxconn:0 never lifted the limit"
        );
    }
}
