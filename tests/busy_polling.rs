//! `busy-polling` (global) as in HAProxy 2.6: the process never sleeps in its poller,
//! so an idle proxy keeps its thread's core busy; `no busy-polling` turns it off; a
//! soft-stopping process stops spinning; a reload follows the new configuration.

mod support;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use support::*;

/// Seconds the process's threads were runnable — on a CPU or waiting in the run queue
/// (schedstat(5) fields 1 and 2, summed over its threads) — over 1 s of idling. A
/// spinning thread is runnable all the time however busy the machine is; CPU time
/// alone would depend on what else the machine runs.
fn runnable_over_a_second(pid: u32) -> f64 {
    let runnable = || -> u64 {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("task dir");
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
            .map(|s| {
                let f: Vec<u64> = s
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
                f[0] + f[1]
            })
            .sum()
    };
    let a = runnable();
    let t = std::time::Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    (runnable().saturating_sub(a)) as f64 / 1e9 / t.elapsed().as_secs_f64()
}

fn config(port: u16, global: &str) -> String {
    format!(
        "global\n    nbthread 1\n{global}defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\nfrontend f\n    bind 127.0.0.1:{port}\n    http-request return status 200\n"
    )
}

fn answers(port: u16) -> bool {
    http_get(local(port), "/", &[])
        .map(|r| r.status == 200)
        .unwrap_or(false)
}

/// A core's worth while idle: runnable at least 70% of the second measured (a thread
/// that exits between two reads takes its share with it), where a sleeping proxy is
/// runnable next to never.
const SPINNING: f64 = 0.7;
const IDLE: f64 = 0.1;

#[test]
fn an_idle_process_keeps_its_core_busy_as_haproxy_and_no_busy_polling_sleeps() {
    require_haproxy();
    let port = free_port();
    let on = config(port, "    busy-polling\n");
    let h = Haproxy::start(&on, &[port]);
    let haproxy = runnable_over_a_second(h.pid());
    drop(h);
    let g = Gatehouse::start(&on, &[port]);
    assert!(answers(port));
    let spinning = runnable_over_a_second(g.pid());
    drop(g);
    let off = config(port, "    busy-polling\n    no busy-polling\n");
    let g = Gatehouse::start(&off, &[port]);
    let asleep = runnable_over_a_second(g.pid());
    assert!(
        haproxy >= SPINNING,
        "haproxy was runnable {haproxy} s in 1 s"
    );
    assert!(
        spinning >= SPINNING,
        "gatehouse was runnable {spinning} s in 1 s"
    );
    assert!(asleep < IDLE, "with no busy-polling: {asleep} s");
}

#[test]
fn a_reload_follows_the_new_setting_and_a_soft_stop_stops_spinning() {
    let port = free_port();
    let mut g = Gatehouse::start(&config(port, ""), &[port]);
    let idle = runnable_over_a_second(g.pid());
    assert!(idle < IDLE, "before: {idle} s");
    std::fs::write(g.config_path(), config(port, "    busy-polling\n")).unwrap();
    g.0.reload_in_place();
    let spinning = runnable_over_a_second(g.pid());
    assert!(spinning >= SPINNING, "after the reload: {spinning} s");
    assert!(answers(port));
    // A request in progress keeps the stopping process alive (until `timeout client`).
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    g.0.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(100));
    assert!(g.0.is_running(), "the process waits for its connection");
    let stopping = runnable_over_a_second(g.pid());
    assert!(g.0.is_running(), "the process waits for its connection");
    assert!(stopping < IDLE, "soft-stopping: {stopping} s");
}
