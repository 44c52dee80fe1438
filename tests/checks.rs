//! Health checks against real sockets: servers that refuse, answer 500, hang, or go
//! silent are marked DOWN after `fall` checks with HAProxy 2.6's log lines; traffic
//! fails over to the backup and comes back; with no server left, HTTP gets a 503.

mod support;
#[path = "checks/switch.rs"]
mod switch;

use std::time::Duration;
use support::log_line::{durations_n, log_message};
use support::{Gatehouse, HttpBackend, free_port, http_get_until_close, local, wait_until};
use switch::{Mode, Switch};

const WAIT: Duration = Duration::from_secs(10);

fn defaults(mode: &str) -> String {
    format!(
        "global\n    log stderr format raw local0\ndefaults\n    mode {mode}\n    log global\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n"
    )
}

/// Waits until stderr has a line containing `needle`; the line.
fn line_with(gh: &support::Daemon, needle: &str) -> String {
    let found = gh.wait_stderr_line(WAIT, |l| l.contains(needle));
    assert!(
        found.is_some(),
        "no line with {needle:?} in:\n{}",
        gh.stderr()
    );
    found.unwrap()
}

/// The message of a `[WARNING]  (pid) : …` line with its duration made `Nms`.
fn message(line: &str) -> String {
    durations_n(log_message(line))
}

#[test]
fn a_refused_server_goes_down_as_haproxy_logs_it_and_http_gets_503() {
    let port = free_port();
    let dead = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server s1 127.0.0.1:{dead} check inter 100 fall 2 rise 1\n",
        defaults("http")
    );
    let gh = Gatehouse::start(&cfg, &[port]);
    let l = line_with(&gh, "Server be/s1 is DOWN");
    assert!(
        l.starts_with(&format!("[WARNING]  ({}) : ", gh.pid())),
        "{l}"
    );
    assert_eq!(
        message(&l),
        "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
    let alert = line_with(&gh, "has no server available");
    assert_eq!(
        alert,
        format!(
            "[ALERT]    ({}) : backend 'be' has no server available!",
            gh.pid()
        )
    );
    // The log target (stderr, raw) gets the same text.
    line_with(&gh, "backend be has no server available!");
    let r = http_get_until_close(local(port), "/", &[]).unwrap();
    assert_eq!(r.status, 503);
}

#[test]
fn httpchk_catches_an_app_that_answers_500_or_hangs_while_a_connect_check_calls_it_up() {
    let port = free_port();
    let failing = Switch::start("failing", Mode::Error);
    let hanging = Switch::start("hanging", Mode::Hang);
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend web\n\
         backend web\n    timeout check 300ms\n    option httpchk GET /health\n\
         \x20   server fail {} check inter 100 fall 2 rise 1\n    server hang {} check inter 100 fall 2 rise 1\n\
         backend tcp\n    server fail {} check inter 100 fall 2 rise 1\n    server hang {} check inter 100 fall 2 rise 1\n",
        defaults("http"),
        failing.addr(),
        hanging.addr(),
        failing.addr(),
        hanging.addr()
    );
    let gh = Gatehouse::start(&cfg, &[port]);
    let l = line_with(&gh, "Server web/fail is DOWN");
    assert!(
        message(&l).starts_with(
            "Server web/fail is DOWN, reason: Layer7 wrong status, code: 500, info: \"Internal Server Error\", check duration: Nms."
        ),
        "{l}"
    );
    let l = line_with(&gh, "Server web/hang is DOWN");
    assert!(
        message(&l).starts_with("Server web/hang is DOWN, reason: Layer7 timeout, check duration: Nms. 0 active and 0 backup servers left."),
        "{l}"
    );
    // Several more checks of the plain TCP backend run (each server takes its checks
    // from both backends, every 100 ms): none failed.
    let (f0, h0) = (failing.accepted(), hanging.accepted());
    failing.wait_accepted(f0, 6);
    hanging.wait_accepted(h0, 6);
    assert!(!gh.stderr().contains("Server tcp/"), "{}", gh.stderr());
    let r = http_get_until_close(local(port), "/", &[]).unwrap();
    assert_eq!(r.status, 503);
}

#[test]
fn a_banner_server_that_goes_silent_is_marked_down_then_up_again() {
    let port = free_port();
    let srv = Switch::start("ftp", Mode::Banner);
    let cfg = format!(
        "{}listen ftp\n    bind 127.0.0.1:{port}\n    timeout check 200ms\n    option tcp-check\n\
         \x20   tcp-check expect string 220\n    server s1 {} check inter 100 fastinter 100 downinter 100 fall 2 rise 2\n",
        defaults("tcp"),
        srv.addr()
    );
    let gh = Gatehouse::start(&cfg, &[port]);
    // Three checks ran (`fall 2`): the server stayed up.
    srv.wait_accepted(0, 3);
    assert!(!gh.stderr().contains("Server ftp/s1"), "{}", gh.stderr());
    srv.set(Mode::Hang);
    let l = line_with(&gh, "Server ftp/s1 is DOWN");
    assert_eq!(
        message(&l),
        "Server ftp/s1 is DOWN, reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect string '220')\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
    // HAProxy 2.6 calls a `listen` section a proxy in this alert.
    assert!(
        line_with(&gh, "has no server available").ends_with("proxy 'ftp' has no server available!")
    );
    // TCP mode with no server: the connection is closed without a byte.
    let got = support::send_until_close(local(port), b"USER x\r\n");
    assert!(got.is_empty(), "{got:?}");
    srv.set(Mode::Banner);
    let l = line_with(&gh, "Server ftp/s1 is UP");
    assert_eq!(
        message(&l),
        "Server ftp/s1 is UP, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
    );
}

/// An HTTP front door to `main` with `spare` as its backup, both checked every 100 ms
/// (`fall 1`; `rise` of `main` as given), with `retries 3` and `option redispatch`.
fn failover_cfg(port: u16, main: &Switch, spare: &Switch, main_rise: u32) -> String {
    format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    retries 3\n    option redispatch\n    option httpchk GET /\n\
         \x20   server main {} check inter 100 fall 1 rise {main_rise}\n    server spare {} check inter 100 fall 1 rise 1 backup\n",
        defaults("http"),
        main.addr(),
        spare.addr()
    )
}

#[test]
fn traffic_fails_over_to_the_backup_and_back_without_a_failed_request() {
    let port = free_port();
    let main = Switch::start("main", Mode::Ok);
    let spare = Switch::start("spare", Mode::Ok);
    let cfg = failover_cfg(port, &main, &spare, 1);
    let gh = Gatehouse::start(&cfg, &[port]);
    let get = || {
        let r = http_get_until_close(local(port), "/", &[]).unwrap();
        assert_eq!(r.status, 200, "{}", gh.stderr());
        String::from_utf8(r.body).unwrap()
    };
    assert_eq!(get(), "main");
    main.set(Mode::Closed);
    let mut served = Vec::new();
    let ok = wait_until(WAIT, || {
        served.push(get());
        served.last().unwrap() == "spare"
    });
    assert!(ok, "{served:?}");
    line_with(&gh, "Server app/main is DOWN");
    assert!(
        message(&line_with(&gh, "Server app/main is DOWN"))
            .contains("0 active and 1 backup servers left. Running on backup.")
    );
    // While main is down every request goes to the backup.
    for _ in 0..20 {
        assert_eq!(get(), "spare");
    }
    main.set(Mode::Ok);
    let ok = wait_until(WAIT, || get() == "main");
    assert!(ok);
    line_with(
        &gh,
        "Server app/main is UP, reason: Layer7 check passed, code: 200",
    );
    for _ in 0..20 {
        assert_eq!(get(), "main");
    }
}

/// The example, as an operator would write it.
#[test]
fn the_seven_line_httpchk_example_works_as_written() {
    let port = free_port();
    let app = HttpBackend::start("app");
    let cfg = format!(
        "{}frontend www\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    option httpchk HEAD /health\n    http-check expect status 200\n    server app1 {} check\n",
        defaults("http"),
        app.addr()
    );
    let gh = Gatehouse::start(&cfg, &[port]);
    let reqs = app.wait_requests(1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].uri.as_str()),
        ("HEAD", "/health")
    );
    let r = http_get_until_close(local(port), "/page", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert!(!gh.stderr().contains("is DOWN"), "{}", gh.stderr());
}

/// `gatehouse -c` refuses the check rules the start would refuse, at their line.
#[test]
fn check_mode_refuses_check_rules_gatehouse_cannot_run() {
    let dir = support::TempDir::new("checkrules");
    for (rule, line) in [
        ("http-check expect hdr name x-ok", 6),
        ("tcp-check connect send-proxy", 6),
        ("http-check send-state", 6),
        ("tcp-check expect string-lf %[src]", 6),
    ] {
        let kind = if rule.starts_with("http") {
            "option httpchk"
        } else {
            "option tcp-check"
        };
        let cfg = dir.write(
            "c.cfg",
            format!(
                "defaults\n    mode http\n    timeout connect 1s\nbackend be\n    {kind}\n    {rule}\n    server s 127.0.0.1:80\n"
            ),
        );
        let (code, _, err) = support::check(&support::gatehouse_bin(), &[&cfg]);
        assert_ne!(code, 0, "{rule}: {err}");
        assert!(err.contains(&format!("c.cfg:{line}]")), "{rule}: {err}");
        assert!(err.contains("not supported yet"), "{rule}: {err}");
    }
}

/// Several clients sending idempotent GETs while the active server is killed and
/// restarted: with `retries 3` and `option redispatch`, no request fails; the backup
/// serves while the server is down and traffic returns to it after.
///
/// The kill happens between requests: a connection the kernel had accepted into the
/// dying server's backlog is reset, and HAProxy 2.6 answers it 502 as gatehouse does
/// (only `retry-on`, not yet supported, retries a request already sent).
#[test]
fn failover_under_concurrent_load_fails_no_idempotent_request() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let port = free_port();
    let main = Switch::start("main", Mode::Ok);
    let spare = Switch::start("spare", Mode::Ok);
    let cfg = failover_cfg(port, &main, &spare, 2);
    // `GATEHOUSE_TEST_PROXY=haproxy` runs it against HAProxy (it passes there too).
    let gh = if support::reference_run() {
        support::Haproxy::start(&cfg, &[port]).0
    } else {
        Gatehouse::start(&cfg, &[port]).0
    };
    let stop = Arc::new(AtomicBool::new(false));
    let pause = Arc::new(AtomicBool::new(false));
    let inflight = Arc::new(AtomicUsize::new(0));
    // Set once main is seen UP again; the clients count the requests they started
    // after that and saw answered (`back`), and keep what served them (`after`).
    let recovered = Arc::new(AtomicBool::new(false));
    let back = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, pause, inflight) = (stop.clone(), pause.clone(), inflight.clone());
            let (recovered, back) = (recovered.clone(), back.clone());
            std::thread::spawn(move || {
                let (mut served, mut failed, mut after) = (Vec::new(), Vec::new(), Vec::new());
                let mut counted = false;
                while !stop.load(Ordering::SeqCst) {
                    inflight.fetch_add(1, Ordering::SeqCst);
                    if pause.load(Ordering::SeqCst) {
                        inflight.fetch_sub(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    let late = recovered.load(Ordering::SeqCst);
                    let r = http_get_until_close(local(port), "/", &[]);
                    inflight.fetch_sub(1, Ordering::SeqCst);
                    if late && !counted {
                        counted = true;
                        back.fetch_add(1, Ordering::SeqCst);
                    }
                    match r {
                        Ok(r) if r.status == 200 && late => {
                            after.push(String::from_utf8(r.body.clone()).unwrap());
                            served.push(String::from_utf8(r.body).unwrap())
                        }
                        Ok(r) if r.status == 200 => served.push(String::from_utf8(r.body).unwrap()),
                        Ok(r) => failed.push(format!("status {}", r.status)),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                (served, failed, after)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Kill main between two requests, then let the clients go on at once.
    pause.store(true, Ordering::SeqCst);
    assert!(wait_until(WAIT, || inflight.load(Ordering::SeqCst) == 0));
    main.set(Mode::Closed);
    pause.store(false, Ordering::SeqCst);
    line_with(&gh, "Server app/main is DOWN");
    // Long enough for the requests caught by the kill to be retried and redispatched
    // (turn-around min(timeout connect, 1s) between retries), and for new ones to go
    // to the backup.
    std::thread::sleep(Duration::from_millis(2000));
    main.set(Mode::Ok);
    line_with(&gh, "Server app/main is UP");
    // Every client gets one request started after that answered, however slowly the
    // machine runs them.
    recovered.store(true, Ordering::SeqCst);
    assert!(wait_until(WAIT, || back.load(Ordering::SeqCst) >= 4));
    stop.store(true, Ordering::SeqCst);
    let (mut served, mut failed, mut after) = (Vec::new(), Vec::new(), Vec::new());
    for c in clients {
        let (s, f, a) = c.join().unwrap();
        served.extend(s);
        failed.extend(f);
        after.extend(a);
    }
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    let on_spare = served.iter().filter(|s| *s == "spare").count();
    assert!(on_spare > 0, "the backup served nothing");
    // The requests started once main was back went to main.
    assert!(!after.is_empty());
    assert!(after.iter().all(|s| s == "main"), "{after:?}");
}
