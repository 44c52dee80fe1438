//! `busy-polling` (global) as in HAProxy 2.6: the process never sleeps in its poller,
//! so an idle proxy keeps its thread's core busy; `no busy-polling` turns it off; a
//! soft-stopping process stops spinning; a reload follows the new configuration.

mod support;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use support::*;

/// CPU time (user + system) the process used over 1 s of idling, in seconds.
fn cpu_over_a_second(pid: u32) -> f64 {
    let ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
        // utime and stime: fields 14 and 15 of stat(5), here after the name.
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let a = ticks();
    std::thread::sleep(Duration::from_secs(1));
    (ticks() - a) as f64 / hz
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

/// A core's worth of CPU while idle: at least 30% of the second measured (the test
/// machine may be shared), where a sleeping proxy uses next to nothing.
const SPINNING: f64 = 0.3;
const IDLE: f64 = 0.1;

#[test]
fn an_idle_process_keeps_its_core_busy_as_haproxy_and_no_busy_polling_sleeps() {
    require_haproxy();
    let port = free_port();
    let on = config(port, "    busy-polling\n");
    let h = Haproxy::start(&on, &[port]);
    let haproxy = cpu_over_a_second(h.pid());
    drop(h);
    let g = Gatehouse::start(&on, &[port]);
    assert!(answers(port));
    let spinning = cpu_over_a_second(g.pid());
    drop(g);
    let off = config(port, "    busy-polling\n    no busy-polling\n");
    let g = Gatehouse::start(&off, &[port]);
    let asleep = cpu_over_a_second(g.pid());
    assert!(
        haproxy >= SPINNING,
        "haproxy used {haproxy} s of CPU in 1 s"
    );
    assert!(
        spinning >= SPINNING,
        "gatehouse used {spinning} s of CPU in 1 s"
    );
    assert!(asleep < IDLE, "with no busy-polling: {asleep} s");
}

#[test]
fn a_reload_follows_the_new_setting_and_a_soft_stop_stops_spinning() {
    let port = free_port();
    let mut g = Gatehouse::start(&config(port, ""), &[port]);
    let idle = cpu_over_a_second(g.pid());
    assert!(idle < IDLE, "before: {idle} s");
    std::fs::write(g.config_path(), config(port, "    busy-polling\n")).unwrap();
    g.0.reload_in_place();
    let spinning = cpu_over_a_second(g.pid());
    assert!(spinning >= SPINNING, "after the reload: {spinning} s");
    assert!(answers(port));
    // A request in progress keeps the stopping process alive (until `timeout client`).
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    g.0.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(100));
    assert!(g.0.is_running(), "the process waits for its connection");
    let stopping = cpu_over_a_second(g.pid());
    assert!(g.0.is_running(), "the process waits for its connection");
    assert!(stopping < IDLE, "soft-stopping: {stopping} s");
}
