//! Server states carried to a new process through a file, as HAProxy 2.6 does it:
//! `show servers state` written by one process, read by the next through
//! `server-state-file` / `server-state-base` and `load-server-state-from-file global|
//! local` — admin states, runtime weights, ports, checks disabled at runtime — with
//! the same result as HAProxy on the same file; and `enable|disable health|agent`.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;
use support::socat::unix_cmd;
use support::{
    Daemon, HttpBackend, HttpClient, free_port, local, proxy_builder, require_haproxy, wait_until,
};

/// `n` fresh requests; how many each server (its body) answered.
fn spread(port: u16, n: usize) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..n {
        let mut c = HttpClient::connect(local(port)).expect("connect");
        let r = c.get("/", &[]).expect("response");
        *seen.entry(r.body_str()).or_default() += 1;
    }
    seen
}

/// `show servers state` with the seconds since the last change masked.
fn masked_state(d: &Daemon) -> String {
    unix_cmd(&d.dir().join("admin.sock"), "show servers state")
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(' ').collect();
            if f.len() == 25 && !l.starts_with('#') {
                f[9] = "T";
            }
            f.join(" ") + "\n"
        })
        .collect()
}

/// `pxname,svname,status,weight` of every server line of `show stat`.
fn statuses(d: &Daemon) -> Vec<String> {
    unix_cmd(&d.dir().join("admin.sock"), "show stat")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains("BACKEND") && !l.contains("FRONTEND"))
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{},{}", f[0], f[1], f[17], f[18], f[36])
        })
        .collect()
}

struct Backends {
    one: HttpBackend,
    two: HttpBackend,
    three: HttpBackend,
}

fn config(b: &Backends, port: u16, load: &str) -> support::Config {
    support::Config::new(&format!(
        "global\n\
         \x20   stats socket unix@admin.sock level admin\n\
         \x20   server-state-file ./state\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         \x20   load-server-state-from-file {load}\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    balance roundrobin\n\
         \x20   server s1 {one} weight 10\n\
         \x20   server s2 {two}\n\
         \x20   server s3 {one}\n\
         \x20   server s4 {two} disabled\n\
         \x20   server s5 {two}\n\
         \x20   server s6 {three} check inter 100\n",
        one = b.one.addr(),
        two = b.two.addr(),
        three = b.three.addr(),
    ))
}

/// What an operator did through the socket before saving the state.
fn operate(d: &Daemon, three: u16) {
    let cmd = |c: &str| unix_cmd(&d.dir().join("admin.sock"), c);
    cmd("set server app/s1 weight 0");
    cmd("set server app/s2 state maint");
    cmd(&format!("set server app/s3 addr 127.0.0.1 port {three}"));
    cmd("set server app/s4 state ready");
    cmd("set server app/s5 state drain");
    cmd("disable health app/s6");
}

/// Runs the whole scenario through one proxy: the first process is operated and its
/// state saved; the second starts from that file. Returns the second one and the
/// file.
fn scenario(haproxy: bool, b: &Backends) -> (Daemon, u16) {
    let port = free_port();
    let cfg = config(b, port, "global");
    let first = proxy_builder(haproxy, &cfg)
        .file("state", "")
        .wait_port(port)
        .start();
    // s6's check has run: it is UP with a check status before it is disabled.
    assert!(wait_until(Duration::from_secs(5), || statuses(&first)
        .iter()
        .any(
            |l| l.starts_with("app,s6,UP,1,L4OK") || l.starts_with("app,s6,UP,1,L7OK")
        )));
    operate(&first, b.three.port());
    let saved = unix_cmd(&first.dir().join("admin.sock"), "show servers state");
    drop(first);
    let port = free_port();
    let cfg = config(b, port, "global");
    let second = proxy_builder(haproxy, &cfg)
        .file("state", saved.trim_end_matches('\n').to_owned() + "\n")
        .wait_port(port)
        .start();
    (second, port)
}

#[test]
fn a_new_process_starts_from_the_saved_states_as_haproxy_does() {
    let b = Backends {
        one: HttpBackend::start("one"),
        two: HttpBackend::start("two"),
        three: HttpBackend::start("three"),
    };
    let (gh, fe_port) = scenario(false, &b);
    // New traffic: s1 (weight 0), s2 (maint), s5 (drain) take none; s3 goes to the
    // port set at runtime; s4, put in service at runtime, serves although
    // `disabled` in the configuration; s6 serves.
    let seen = spread(fe_port, 9);
    assert_eq!(
        seen,
        BTreeMap::from([("three".to_owned(), 6), ("two".to_owned(), 3)]),
        "{}",
        gh.stderr()
    );
    let gh_state = masked_state(&gh);
    let gh_stat = statuses(&gh);
    assert!(
        gh_stat.contains(&"app,s6,no check,1,".to_owned()),
        "{gh_stat:?}"
    );
    // The same file through HAProxy gives the same states.
    require_haproxy();
    let (hp, _) = scenario(true, &b);
    assert_eq!(statuses(&hp), gh_stat);
    let hp_state = masked_state(&hp);
    // HAProxy's health counter of servers without checks reads full after a load
    // (field 12); gatehouse keeps `rise` for them: compared without it.
    let no_health = |s: &str| -> String {
        s.lines()
            .map(|l| {
                let mut f: Vec<&str> = l.split(' ').collect();
                if f.len() == 25 && (f[13] == "0" || f[13] == "8") {
                    f[12] = "H";
                }
                f.join(" ") + "\n"
            })
            .collect()
    };
    assert_eq!(no_health(&gh_state), no_health(&hp_state));
}

#[test]
fn local_files_and_the_messages_for_bad_files_match_haproxy() {
    let b = Backends {
        one: HttpBackend::start("one"),
        two: HttpBackend::start("two"),
        three: HttpBackend::start("three"),
    };
    require_haproxy();
    let port = free_port();
    let cfg = support::Config::new(&format!(
        "global\n\
         \x20   stats socket unix@admin.sock level admin\n\
         \x20   server-state-base .\n\
         \x20   server-state-file missing\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    load-server-state-from-file local\n\
         \x20   server s1 {one} weight 10\n    server s2 {two}\n\
         backend other\n    load-server-state-from-file local\n    server-state-file-name other.state\n\
         \x20   server o1 {one}\n\
         backend third\n    load-server-state-from-file global\n    server t1 {one}\n",
        one = b.one.addr(),
        two = b.two.addr(),
    ));
    let header = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";
    let app = format!(
        "{header}3 app 1 s1 127.0.0.1 2 0 3 10 5 1 0 2 0 0 0 0 - {} - 0 0 - - 0\n\
         3 app 2 s2 127.0.0.1 0 1 1 1 5 1 0 0 0 0 0 0 - {} - 0 0 - - 0\n\
         3 app 3 gone 127.0.0.1 2 0 1 1 5 1 0 0 0 0 0 0 - 1 - 0 0 - - 0\n\
         9 app 4 s1 127.0.0.1 9 0 1 1 5 1 0 0 0 0 0 0 - 1 - 0 0 - - 0\n",
        b.one.port(),
        b.two.port()
    );
    let other = format!(
        "{header}4 other 1 o1 127.0.0.1 2 0 7 1 5 1 0 2 0 0 0 0 - 1 - 0\n4 other 1 o1 127.0.0.1 2 0\n"
    );
    let run = |haproxy: bool| {
        let d = proxy_builder(haproxy, &cfg)
            .file("app", app.clone())
            .file("other.state", other.clone())
            .wait_port(port)
            .start();
        let st = statuses(&d);
        let state = masked_state(&d);
        let warnings: Vec<String> = d
            .stderr()
            .lines()
            .filter(|l| {
                l.contains("state file") || l.contains("server-state") || l.contains("can't find")
            })
            .map(|l| l.split_once(" : ").map_or(l, |(_, r)| r).to_owned())
            .collect();
        drop(d);
        (st, state, warnings)
    };
    let gh = run(false);
    assert!(
        gh.0.contains(&"app,s1,no check,3,".to_owned()),
        "{:?}",
        gh.0
    );
    assert!(gh.0.contains(&"app,s2,MAINT,1,".to_owned()), "{:?}", gh.0);
    let hp = run(true);
    assert_eq!(gh.0, hp.0);
    assert_eq!(gh.2, hp.2, "messages");
    assert!(
        gh.2.iter()
            .any(|w| w.contains("corrupted server state file")),
        "{:?}",
        gh.2
    );
}

#[test]
fn disabled_health_checks_leave_the_server_as_it_is_until_enabled() {
    let b = HttpBackend::start("b");
    let port = free_port();
    let dead = free_port();
    let cfg = support::Config::new(&format!(
        "global\n    stats socket unix@admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n\
         backend app\n    server s1 {} check inter 100 rise 1 fall 1\n\
         \x20   server s2 127.0.0.1:{dead} check inter 100 rise 1 fall 1\n",
        b.addr()
    ));
    for haproxy in [false, true] {
        if haproxy {
            require_haproxy();
        }
        let d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        let cmd = |c: &str| unix_cmd(&d.dir().join("admin.sock"), c);
        assert!(wait_until(Duration::from_secs(5), || statuses(&d)
            == ["app,s1,UP,1,L4OK", "app,s2,DOWN,1,L4CON"]));
        assert_eq!(cmd("disable health app/s1"), "\n");
        assert_eq!(cmd("disable health app/s2"), "\n");
        assert_eq!(statuses(&d), ["app,s1,no check,1,", "app,s2,DOWN,1,"]);
        assert!(
            masked_state(&d).contains(" s2 127.0.0.1 0 0 1 1 T 8 2 0 2 0 "),
            "{}",
            masked_state(&d)
        );
        // Traffic still reaches s1 while its check is off.
        let seen = spread(port, 2);
        assert_eq!(seen.get("b"), Some(&2));
        assert_eq!(cmd("enable health app/s2"), "\n");
        assert_eq!(
            cmd("enable agent app/s2"),
            "Agent was not configured on this server, cannot enable.\n\n"
        );
        assert_eq!(
            cmd("set server app/s2 agent up"),
            "agent checks are not enabled on this server.\n\n"
        );
        assert!(wait_until(Duration::from_secs(5), || statuses(&d)[1]
            == "app,s2,DOWN,1,L4CON"));
    }
}
