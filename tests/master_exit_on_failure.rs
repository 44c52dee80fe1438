//! `master-worker [no-exit-on-failure]` (configuration.txt 3.1): when the current
//! worker dies of a failure, the master by default kills every worker with SIGTERM and
//! leaves; with `no-exit-on-failure` the former workers finish their work, the master
//! stays while one is left and ends with the failed worker's status ("All workers
//! exited. Exiting... (137)"), as HAProxy's `mworker_catch_sigchld`.

mod support;

use std::time::Duration;
use support::master::workers;
use support::socat::unix_cmd;
use support::*;

fn config(keyword: &str, port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "global\n    master-worker{keyword}\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
         backend be\n    server s1 {server}\n"
    )
}

/// Starts a master, holds a slow request on its first worker, reloads, kills the new
/// current worker with SIGKILL; whether the held request got its answer, and the
/// master's stderr once it ended.
fn kill_the_current_worker(keyword: &str) -> (bool, String) {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_secs(3))
        .start();
    let dir = TempDir::new("master-exit");
    let msock = dir.path().join("master.sock");
    let port = free_port();
    let mut gh = Gatehouse::builder(&config(keyword, port, slow.addr()))
        .arg("-S")
        .arg(&msock)
        .wait_port(port)
        .start();
    let (first, _) = workers(&msock);
    assert_eq!(first.len(), 1, "{}", gh.stderr());
    let held = std::thread::spawn(move || {
        let mut c = HttpClient::connect(local(port)).expect("connect");
        c.get("/", &[]).is_ok_and(|r| r.status == 200)
    });
    slow.wait_requests(1);
    assert_eq!(unix_cmd(&msock, "reload"), "");
    let mut current = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            let (cur, old) = workers(&msock);
            current = cur;
            old == first && current.len() == 1
        }),
        "{}",
        gh.stderr()
    );
    // SAFETY: kill() sends a signal to the worker this test started.
    unsafe { libc::kill(current[0] as libc::pid_t, libc::SIGKILL) };
    let answered = held.join().expect("client thread");
    assert!(
        gh.wait_exit(Duration::from_secs(10)).is_some(),
        "the master did not end: {}",
        gh.stderr()
    );
    (answered, gh.stderr())
}

#[test]
fn a_failed_worker_takes_the_others_down_unless_no_exit_on_failure() {
    let (answered, stderr) = kill_the_current_worker("");
    assert!(!answered, "the former worker was not stopped: {stderr}");
    assert!(
        stderr.contains("exit-on-failure: killing every processes with SIGTERM"),
        "{stderr}"
    );

    let (answered, stderr) = kill_the_current_worker(" no-exit-on-failure");
    assert!(answered, "the former worker was stopped: {stderr}");
    assert!(!stderr.contains("exit-on-failure: killing"), "{stderr}");
    assert!(
        stderr.contains("All workers exited. Exiting... (137)"),
        "{stderr}"
    );
}
