//! HTTP checks whose answer comes late or in pieces. gatehouse first looks for a check's
//! answer at the next step of the checks' start grid, without waiting on the
//! connection, and only then waits for it. An answer that comes after that look, or
//! whose body comes after its head, must still be judged whole. The same
//! configuration runs through haproxy for the reference.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;
use support::log_line::{durations_n, log_message};
use support::{Daemon, proxy_builder};

const WAIT: Duration = Duration::from_secs(15);

/// A server that reads a request head, then writes `head`, waits `pause`, writes
/// `body` and closes.
fn slow_server(head: &'static [u8], pause: Duration, body: &'static [u8]) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut req = Vec::new();
                let mut b = [0u8; 512];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(n) if n > 0 => req.extend_from_slice(&b[..n]),
                        _ => return,
                    }
                }
                let _ = s.write_all(head);
                std::thread::sleep(pause);
                let _ = s.write_all(body);
            });
        }
    });
    addr
}

/// The first check line about `server` (durations made `Nms`).
fn first_check(d: &Daemon, server: &str) -> String {
    let who = format!("server be/{server} ");
    let found = d.wait_stderr_line(WAIT, |l| l.contains("Health check") && l.contains(&who));
    assert!(
        found.is_some(),
        "no check line for {server}:\n{}",
        d.stderr()
    );
    durations_n(log_message(&found.unwrap()))
}

/// The first check lines of the three servers.
fn run(haproxy: bool) -> Vec<String> {
    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\n";
    const WHOLE_LATE: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nall-good";
    let pause = Duration::from_millis(150);
    let pieces = slow_server(HEAD, pause, b"all-good");
    let late = slow_server(b"", pause, WHOLE_LATE);
    let wrong = slow_server(HEAD, pause, b"not-good");
    let cfg = support::Config::new(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 1s\n\
         listen be\n    bind 127.0.0.1:{port}\n    option httpchk GET /health\n    http-check expect string all-good\n    option log-health-checks\n\
         \x20   server pieces {pieces} check inter 2s rise 1 fall 1\n\
         \x20   server late {late} check inter 2s rise 1 fall 1\n\
         \x20   server wrong {wrong} check inter 2s rise 1 fall 1\n",
    )
    .listen_port("port")
    .var("pieces", pieces)
    .var("late", late)
    .var("wrong", wrong);
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    ["pieces", "late", "wrong"]
        .iter()
        .map(|s| first_check(&d, s))
        .collect()
}

#[test]
fn late_and_split_answers_are_judged_whole_as_haproxy_does() {
    let ours = run(false);
    assert_eq!(
        ours,
        [
            "Health check for server be/pieces succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/1 UP.",
            "Health check for server be/late succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/1 UP.",
            "Health check for server be/wrong failed, reason: Layer7 invalid response, info: \"HTTP content check did not match\", check duration: Nms, status: 0/1 DOWN.",
        ]
    );
    assert_eq!(ours, run(true), "haproxy says otherwise");
}
