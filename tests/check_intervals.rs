//! The check schedule as a server sees it: servers that record when each check
//! connects show `inter`, `fastinter` (while a server is going up or down),
//! `downinter` (while it is DOWN) and `spread-checks` (intervals drawn around `inter`).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Gatehouse, free_port};

/// A server recording when each connection arrives; it answers HTTP checks with 200
/// while healthy, else closes at once (an empty answer: the check fails).
struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Instant>>>,
    healthy: Arc<AtomicBool>,
}

impl Recorder {
    fn start(healthy: bool) -> Recorder {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let healthy = Arc::new(AtomicBool::new(healthy));
        let (log, ok) = (seen.clone(), healthy.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                log.lock().unwrap().push(Instant::now());
                if ok.load(Ordering::SeqCst) {
                    let mut b = [0u8; 1024];
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    let _ = s.read(&mut b);
                    let _ = s.write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            }
        });
        Recorder {
            addr,
            seen,
            healthy,
        }
    }

    /// The gaps between the checks seen so far.
    fn gaps(&self) -> Vec<Duration> {
        let seen = self.seen.lock().unwrap();
        seen.windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn start(global: &str, servers: &str) -> Gatehouse {
    let port = free_port();
    let cfg = format!(
        "global\n{global}defaults\n    mode http\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
         backend be\n    option httpchk GET /\n{servers}"
    );
    Gatehouse::start(&cfg, &[port])
}

#[test]
fn fastinter_paces_a_server_going_down_and_downinter_one_that_is_down() {
    // Fully up, then failing: `fall` failures take it down, the ones after the first
    // `fastinter` apart.
    let going = Recorder::start(true);
    // Failing: DOWN after one check, then checked every `downinter`.
    let down = Recorder::start(false);
    let down_plain = Recorder::start(false);
    let gh = start(
        "",
        &format!(
            "    server going {} check inter 2s fastinter 100 rise 1 fall 4
\
             \x20   server down {} check inter 2s downinter 100 rise 1 fall 1
\
             \x20   server down-plain {} check inter 2s rise 1 fall 1
",
            going.addr, down.addr, down_plain.addr
        ),
    );
    let wait = |what: &str, cond: &dyn Fn() -> bool| {
        assert!(
            support::wait_until(Duration::from_secs(15), cond),
            "{what}: going {:?} down {:?} down-plain {:?}\n{}",
            going.gaps(),
            down.gaps(),
            down_plain.gaps(),
            gh.stderr()
        );
    };
    wait("first check", &|| going.count() >= 1);
    going.healthy.store(false, Ordering::SeqCst);
    let before = going.count();
    wait("four failures", &|| going.count() >= before + 4);
    wait("down", &|| gh.stderr().contains("Server be/going is DOWN"));
    let g = going.gaps();
    // The first failure comes after `inter`; the three after it `fastinter` apart.
    let fast = &g[before..before + 3];
    assert!(
        fast.iter().all(|d| *d < Duration::from_millis(1000)),
        "{g:?}"
    );
    assert!(g[before - 1] >= Duration::from_millis(2000), "{g:?}");
    // DOWN: every `downinter` with it, every `inter` without.
    wait("downinter", &|| {
        down.count() >= 6 && down_plain.count() >= 2
    });
    let g = down.gaps();
    assert!(g.iter().all(|d| *d < Duration::from_millis(1000)), "{g:?}");
    let g = down_plain.gaps();
    assert!(g.iter().all(|d| *d >= Duration::from_millis(2000)), "{g:?}");
}

#[test]
fn spread_checks_draws_intervals_around_inter() {
    let spread = Recorder::start(true);
    let gh = start(
        "    spread-checks 50\n",
        &format!("    server s {} check inter 100\n", spread.addr),
    );
    assert!(
        support::wait_until(Duration::from_secs(20), || spread.count() >= 25),
        "{}",
        gh.stderr()
    );
    let g = spread.gaps();
    // Without spreading no gap is shorter than `inter`; ± 50 % makes some of them so
    // (each with a chance of 30 % to be under 80 ms).
    assert!(
        g.iter().filter(|d| **d < Duration::from_millis(80)).count() >= 1,
        "{g:?}"
    );
}

#[test]
fn without_spread_checks_no_interval_is_shorter_than_inter() {
    let plain = Recorder::start(true);
    let _gh = start(
        "",
        &format!("    server s {} check inter 100\n", plain.addr),
    );
    assert!(support::wait_until(Duration::from_secs(20), || plain
        .count()
        >= 10));
    let g = plain.gaps();
    assert!(g.iter().all(|d| *d >= Duration::from_millis(100)), "{g:?}");
}
