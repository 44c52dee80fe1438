//! Health checks against the real servers they are made for (PostgreSQL 15, MariaDB
//! 10.11, Redis 7 from Debian, started by `tests/support/services.rs`), with HAProxy
//! 2.6 running the same checks against the same servers side by side: a server that
//! refuses the check user, or needs a password, is DOWN with the same log line in both;
//! a server stopped is DOWN within `fall × inter` (+ `timeout check`).

mod support;

use std::time::{Duration, Instant};
use support::log_line::{durations_n, log_message};
use support::services::{self, Service};
use support::{Daemon, Gatehouse, Haproxy, free_port};

/// `inter` of every check here, in ms.
const INTER: u64 = 200;
/// `fall` of the servers that go down when stopped.
const FALL: u64 = 2;
/// `timeout check`, in ms: long enough that a check of a PostgreSQL forking a backend
/// on a loaded machine is not cut short (its reason would read "Layer7 timeout").
const TIMEOUT_CHECK: u64 = 1000;

/// The configuration both proxies run: `sections` after the common part.
fn config(port: u16, sections: &str) -> String {
    format!(
        "global\n    log stderr format raw local0\ndefaults\n    mode tcp\n    log global\n\
         \x20   timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n    timeout check {TIMEOUT_CHECK}ms\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend up\n{sections}"
    )
}

/// A checked server line.
fn server(name: &str, s: &Service, fall: u64) -> String {
    format!(
        "    server {name} {} check inter {INTER} fall {fall} rise 1\n",
        s.addr()
    )
}

/// Gatehouse and HAProxy running `sections`.
fn both(sections: &str) -> (Gatehouse, Haproxy) {
    support::require_haproxy();
    let (a, b) = (free_port(), free_port());
    let gh = Gatehouse::start(&config(a, sections), &[a]);
    let hp = Haproxy::start(&config(b, sections), &[b]);
    (gh, hp)
}

/// The `[WARNING]` message of the first state change of `who` ("Server be/s is DOWN"),
/// its check duration made `Nms`; waits for it.
fn change(d: &Daemon, who: &str) -> String {
    let found = d.wait_stderr_line(Duration::from_secs(10), |l| l.contains(who));
    assert!(found.is_some(), "no {who:?} in:\n{}", d.stderr());
    durations_n(log_message(&found.unwrap()))
}

/// The same state change as HAProxy logs it, in both logs.
fn same_change(gh: &Gatehouse, hp: &Haproxy, who: &str) -> String {
    let ours = change(gh, who);
    assert_eq!(ours, change(hp, who), "gatehouse and haproxy differ");
    ours
}

/// Neither proxy has logged a state change of any of `who` after several more checks.
fn stays_up(gh: &Gatehouse, hp: &Haproxy, who: &[&str]) {
    std::thread::sleep(Duration::from_millis(4 * INTER));
    for err in [gh.stderr(), hp.stderr()] {
        for w in who {
            assert!(!err.contains(w), "{w} changed state:\n{err}");
        }
    }
}

/// Stops `svc` and checks that `who` goes DOWN in gatehouse within `fall × inter +
/// timeout check` (one more `inter` of slack for a loaded machine), connection
/// refused, as HAProxy says it.
fn stop_and_see_down(svc: &mut Service, gh: &Gatehouse, hp: &Haproxy, who: &str) {
    let t0 = Instant::now();
    svc.stop();
    let msg = change(gh, &format!("{who} is DOWN"));
    let took = t0.elapsed();
    let bound = Duration::from_millis(FALL * INTER + TIMEOUT_CHECK + INTER + 500);
    assert!(took <= bound, "DOWN after {took:?}, more than {bound:?}");
    assert!(
        msg.starts_with(&format!(
            "{who} is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms. 0 active"
        )),
        "{msg}"
    );
    assert_eq!(msg, change(hp, &format!("{who} is DOWN")));
}

#[test]
fn postgresql_refusing_the_check_user_or_stopped_is_down_as_haproxy_says() {
    let mut pg = services::postgres(&["refused"]);
    let (gh, hp) = both(&format!(
        "backend up\n    option pgsql-check user postgres\n{}\
         backend refused\n    option pgsql-check user refused\n{}",
        server("db", &pg, FALL),
        server("db", &pg, 1)
    ));
    // pg_hba.conf rejects the user before authentication: an error message, whose
    // severity field HAProxy reports as the info.
    let msg = same_change(&gh, &hp, "Server refused/db is DOWN");
    assert_eq!(
        msg,
        "Server refused/db is DOWN, reason: Layer7 invalid response, info: \"FATAL\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
    assert!(
        pg.log()
            .contains("pg_hba.conf rejects connection for host \"127.0.0.1\", user \"refused\""),
        "{}",
        pg.log()
    );
    stays_up(&gh, &hp, &["Server up/db"]);
    stop_and_see_down(&mut pg, &gh, &hp, "Server up/db");
}

#[test]
fn mariadb_refusing_the_check_user_or_stopped_is_down_as_haproxy_says() {
    let mut db = services::mariadb();
    let (gh, hp) = both(&format!(
        "backend up\n    option mysql-check user haproxy post-41\n{}\
         backend old\n    option mysql-check user haproxy\n{}\
         backend plain\n    option mysql-check\n{}\
         backend refused\n    option mysql-check user nosuch post-41\n{}",
        server("db", &db, FALL),
        server("db", &db, 1),
        server("db", &db, 1),
        server("db", &db, 1)
    ));
    let msg = same_change(&gh, &hp, "Server refused/db is DOWN");
    assert!(
        msg.starts_with(
            "Server refused/db is DOWN, reason: Layer7 wrong status, code: 1045, info: \"#28000Access denied for user 'nosuch'@"
        ),
        "{msg}"
    );
    stays_up(
        &gh,
        &hp,
        &["Server up/db", "Server old/db", "Server plain/db"],
    );
    stop_and_see_down(&mut db, &gh, &hp, "Server up/db");
}

#[test]
fn redis_with_requirepass_is_down_and_without_is_up_as_haproxy_says() {
    let mut open = services::redis(None);
    let locked = services::redis(Some("secret"));
    let (gh, hp) = both(&format!(
        "backend up\n    option redis-check\n{}\
         backend locked\n    option redis-check\n{}",
        server("cache", &open, FALL),
        server("cache", &locked, 1)
    ));
    // Redis answers PING with -NOAUTH and keeps the connection open; HAProxy's rule
    // waits for more (no min-recv) until `timeout check`.
    let msg = same_change(&gh, &hp, "Server locked/cache is DOWN");
    assert_eq!(
        msg,
        "Server locked/cache is DOWN, reason: Layer7 timeout, check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
    stays_up(&gh, &hp, &["Server up/cache"]);
    stop_and_see_down(&mut open, &gh, &hp, "Server up/cache");
}
