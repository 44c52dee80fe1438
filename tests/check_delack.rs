//! A check that speaks first (or not at all) delays the handshake's last ACK, as HAProxy
//! does (`TCP_QUICKACK` off before the connect): the ACK goes with the check's request,
//! and a plain layer-4 check, which closes with a reset as soon as it is connected,
//! never completes the server's side of the handshake, so the server never accepts a
//! connection for it. The same configuration runs through haproxy for the reference.

mod support;

use std::net::TcpListener;
use std::time::Duration;
use support::{Daemon, proxy_builder, wait_until};

const WAIT: Duration = Duration::from_secs(15);

/// The first check line about `be/s1`, and its duration in ms.
fn first_check(d: &Daemon) -> (String, u64) {
    let re = regex::Regex::new(r"check duration: (\d+)ms").unwrap();
    let mut found = String::new();
    let ok = wait_until(WAIT, || {
        match d
            .stderr()
            .lines()
            .find(|l| l.contains("Health check") && l.contains("server be/s1 "))
        {
            Some(l) => {
                found = l.split_once(" : ").map_or(l, |(_, m)| m).to_owned();
                true
            }
            None => false,
        }
    });
    assert!(ok, "no check line:\n{}", d.stderr());
    let ms = re.captures(&found).map_or(0, |c| c[1].parse().unwrap());
    (re.replace(&found, "check duration: Nms").into_owned(), ms)
}

/// The first check line of a layer-4 check against a listener nobody accepts on, and
/// whether the listener then had a connection to accept (`None`: the check took so long
/// that the kernel's delayed ACK, 200 ms at most, may have gone out meanwhile).
fn l4_check(haproxy: bool) -> (String, Option<bool>) {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    let cfg = support::Config::new(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 1s\n\
         listen be\n    bind 127.0.0.1:{port}\n    option log-health-checks\n\
         \x20   server s1 {server} check inter 10s rise 1 fall 1\n",
    )
    .listen_port("port")
    .var("server", server.local_addr().unwrap());
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    // The check's connection is closed (with a reset) before its result is logged.
    let (line, ms) = first_check(&d);
    let accepted = match server.accept() {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(e) => panic!("accept: {e}"),
    };
    (line, (ms < 150).then_some(accepted))
}

#[test]
fn a_layer4_check_never_completes_the_servers_handshake_as_haproxy() {
    let (ours, accepted) = l4_check(false);
    assert_eq!(
        ours,
        "Health check for server be/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 1/1 UP."
    );
    assert_ne!(
        accepted,
        Some(true),
        "the server accepted the layer-4 check's connection"
    );
    let (theirs, accepted) = l4_check(true);
    assert_eq!(ours, theirs, "haproxy says otherwise");
    assert_ne!(accepted, Some(true), "haproxy's check was accepted");
}
