//! The runtime API against HAProxy 2.6's own: the same configuration and stats
//! sockets run through both proxies, the same command sequence sent with socat to each
//! (every command gatehouse serves, at each level), and the replies compared byte for
//! byte — but for what differs by nature (time since the last state change, dates,
//! map entry references) and what gatehouse deliberately does otherwise (a `user`
//! level socket changes no map).

mod support;

use std::time::Duration;
use support::socat::{socat, unix_cmd};
use support::{Daemon, HttpBackend, free_port, proxy_builder, require_haproxy, wait_until};

fn config(port: u16, s1: u16, s2: u16) -> support::Config {
    support::Config::new(&format!(
        "global\n\
         \x20   stats socket unix@admin.sock level admin\n\
         \x20   stats socket unix@oper.sock\n\
         \x20   stats socket unix@user.sock level user\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   http-request set-header X-M %[path,map(m.map,none)]\n\
         \x20   default_backend app\n\
         backend app\n    balance roundrobin\n\
         \x20   server s1 127.0.0.1:{s1} weight 10\n\
         \x20   server s2 127.0.0.1:{s2} check inter 1h fastinter 100\n\
         \x20   server s3 127.0.0.1:{s1} disabled\n\
         backend st\n    balance static-rr\n    server t1 127.0.0.1:{s1}\n"
    ))
}

fn start(haproxy: bool, cfg: &support::Config, port: u16) -> Daemon {
    if haproxy {
        require_haproxy();
    }
    proxy_builder(haproxy, cfg)
        .file("m.map", "k1 v1\nk2 v2\n")
        .wait_port(port)
        .start()
}

/// Replaces what cannot be equal between two processes: the seconds since the last
/// state change in `show servers state` lines, `show errors`' date, and the entry
/// references of `show map`.
fn mask(cmd: &str, out: &str) -> String {
    if cmd.starts_with("show servers state") {
        return out
            .lines()
            .map(|l| {
                let mut f: Vec<&str> = l.split(' ').collect();
                if f.len() == 25 && !l.starts_with('#') {
                    f[9] = "T";
                }
                f.join(" ") + "\n"
            })
            .collect();
    }
    if cmd.starts_with("show errors") {
        return out
            .split('[')
            .next()
            .map(|s| s.to_owned() + "DATE")
            .unwrap_or_default();
    }
    if cmd.is_empty() {
        // The list after the header names each proxy's own commands.
        return out.lines().next().unwrap_or_default().to_owned();
    }
    if cmd == "show sess" && !out.starts_with("Permission denied") {
        // HAProxy lists its own CLI session; gatehouse lists none yet.
        return "SESSIONS".into();
    }
    if cmd.starts_with("show map ") {
        return out
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned() + "\n")
            .collect();
    }
    out.to_owned()
}

/// The commands, on the admin socket, in order (each changes what the next see).
const ADMIN: &[&str] = &[
    "show backend",
    "show servers state app",
    "show servers state nope",
    "show cli level",
    "get weight app/s1",
    "get weight app",
    "set server app/s1 weight 300",
    "set server app/s1 weight x",
    "set server app/s1 weight 5x",
    "set server app/s1 weight -1%",
    "set server app/s1 weight",
    "set server app/s1 weight 50%",
    "get weight app/s1",
    "set weight app/s1 7",
    "get weight app/s1",
    "set server st/t1 weight 5",
    "set server st/t1 weight 0",
    "set server app weight 1",
    "set server nope/s1 weight 1",
    "set server app/nope weight 1",
    "set server app/s1 bogus",
    "set server app/s1",
    "set server app/s1 state x",
    "set server app/s1 state maint",
    "show servers state app",
    "set server app/s1 state ready",
    "disable server app/s1",
    "show servers state app",
    "enable server app/s1",
    "enable server app",
    "set server app/s1 addr bogus",
    "set server app/s1 addr",
    "set server app/s1 addr 127.0.0.1 port x",
    "set server app/s1 addr 127.0.0.2",
    "set server app/s1 addr 127.0.0.2 port 1",
    "show servers state app",
    "set server app/s1 fqdn",
    "set server app/s1 fqdn foo.example",
    "set server app/s1 ssl on",
    "set server app/s1 agent up",
    "set server app/s1 health x",
    "set server app/s1 health down",
    "show servers state app",
    "set server app/s1 health up",
    "show servers state app",
    "set maxconn server app/s1 x",
    "set maxconn server app/s1 5x",
    "set maxconn server app/s1",
    "set maxconn server app/s1 100",
    "set maxconn frontend nope 1",
    "set maxconn frontend fe",
    "set maxconn frontend fe -1",
    "set maxconn frontend",
    "set maxconn frontend fe 100",
    "enable agent app/s1",
    "disable agent app/s1",
    "enable health app/s1",
    "disable health app/s1",
    "show map",
    "show map m.map",
    "show map #0",
    "show map nope",
    "add map m.map k3 v3",
    "add map m.map k",
    "set map m.map k1 V1",
    "set map m.map kx V1",
    "set map m.map k1",
    "del map m.map k2",
    "del map m.map kx",
    "del map m.map",
    "show map m.map",
    "add map m.map <<\nk5 v5\nk6 v6\n",
    "show map m.map",
    "clear map m.map",
    "show map m.map",
    "clear map",
    "clear map nope",
    "show acl nope",
    "del server app/s1",
    "del server app",
    "del server app/nope",
    "add server nope/x 127.0.0.1:1",
    "add server app",
    "add server app/x",
    "add server app/y 127.0.0.1:1 bogus",
    "add server app/y 127.0.0.1:1 weight 300",
    "add server st/x 127.0.0.1:1",
    "add server app/s1 127.0.0.1:1",
    "add server app/s4 127.0.0.1:1",
    "show servers state app",
    "set server app/s4 state ready",
    "del server app/s4",
    "set server app/s4 state maint",
    "del server app/s4",
    "show servers state app",
    "show errors",
    "clear counters",
    "clear counters all",
    "show backend;show backend",
    "show cli level; show backend",
    "",
    "user",
    "user -",
];

/// The commands sent to the `user` and `operator` sockets.
const LOWER: &[&str] = &[
    "show cli level",
    "set server app/s1 weight 5",
    "set weight app/s1 5",
    "disable server app/s1",
    "enable server app/s1",
    "set server app/s1 state maint",
    "set maxconn server app/s1 10",
    "set maxconn frontend fe 10",
    "clear counters",
    "clear counters all",
    "show errors",
    "show sess",
    "add server app/z 127.0.0.1:1",
    "del server app/s1",
    "enable health app/s1",
    "disable agent app/s1",
    "operator",
    "user",
    "get weight app/s1",
];

fn run(d: &Daemon, sock: &str, cmds: &[&str]) -> Vec<String> {
    let path = d.dir().join(sock);
    let dir = d.dir().display().to_string();
    cmds.iter()
        .map(|c| mask(c, &unix_cmd(&path, c)).replace(&dir, "DIR"))
        .collect()
}

/// s2's health check has passed fully (`srv_check_health` 4) on `d`. From then on its
/// checks run every `inter` (an hour): none lands while the commands run and changes
/// a check's state in their replies (`fastinter` spaces them while going up).
fn settled(d: &Daemon) -> bool {
    unix_cmd(&d.dir().join("admin.sock"), "show servers state app")
        .lines()
        .any(|l| l.contains(" s2 ") && l.split(' ').nth(12) == Some("4"))
}

#[test]
fn replies_match_haproxy_for_every_command_and_level() {
    let (b1, b2) = (HttpBackend::start("s1"), HttpBackend::start("s2"));
    let port = free_port();
    let cfg = config(port, b1.port(), b2.port());
    let mut outputs = Vec::new();
    for haproxy in [true, false] {
        let d = start(haproxy, &cfg, port);
        assert!(
            wait_until(Duration::from_secs(10), || settled(&d)),
            "s2 never came up fully on {}",
            if haproxy { "haproxy" } else { "gatehouse" }
        );
        let mut out = run(&d, "admin.sock", ADMIN);
        out.extend(run(&d, "user.sock", LOWER));
        out.extend(run(&d, "oper.sock", LOWER));
        // Interactive mode, a payload typed in it, and `quit`.
        let addr = format!("UNIX-CONNECT:{}", d.dir().join("admin.sock").display());
        out.push(socat(
            &addr,
            "prompt\nshow backend\nadd map m.map <<\nk9 v9\n\nuser -\nshow cli level\nquit\n",
        ));
        out.push(socat(&addr, "prompt\nprompt\n"));
        outputs.push(out);
    }
    let labels: Vec<String> = ADMIN
        .iter()
        .map(|c| format!("admin: {c}"))
        .chain(LOWER.iter().map(|c| format!("user: {c}")))
        .chain(LOWER.iter().map(|c| format!("operator: {c}")))
        .chain(["prompt session".into(), "prompt toggled off".into()])
        .collect();
    let mut diffs = Vec::new();
    for ((label, h), g) in labels.iter().zip(&outputs[0]).zip(&outputs[1]) {
        if h != g {
            diffs.push(format!("{label}\n  haproxy:   {h:?}\n  gatehouse: {g:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} replies differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn help_lists_haproxy_usage_lines_and_unknown_commands_get_its_header() {
    let (b1, b2) = (HttpBackend::start("s1"), HttpBackend::start("s2"));
    let (port, port2) = (free_port(), free_port());
    let h = start(true, &config(port, b1.port(), b2.port()), port);
    let g = start(false, &config(port2, b1.port(), b2.port()), port2);
    let theirs = unix_cmd(&h.dir().join("admin.sock"), "help");
    let ours = unix_cmd(&g.dir().join("admin.sock"), "help");
    assert!(ours.starts_with("The following commands are valid at this level:\n"));
    for line in ours.lines() {
        assert!(
            theirs.lines().any(|l| l == line),
            "not a HAProxy help line: {line:?}"
        );
    }
    // Sorted as HAProxy sorts them, help/prompt/quit last.
    let body: Vec<&str> = ours
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("  help"))
        .collect();
    let mut sorted = body.clone();
    sorted.sort_unstable();
    assert_eq!(body, sorted);
    assert!(ours.ends_with("  quit                                    : disconnect\n\n"));
    for (cmd, header) in [
        (
            "",
            "Unknown command. Please enter one of the following commands only:",
        ),
        (
            "show servers stat",
            "Unknown command, but maybe one of the following ones is a better match:",
        ),
    ] {
        let o = unix_cmd(&g.dir().join("admin.sock"), cmd);
        assert_eq!(o.lines().next(), Some(header), "{cmd:?}");
        let t = unix_cmd(&h.dir().join("admin.sock"), cmd);
        assert_eq!(t.lines().next(), Some(header), "haproxy {cmd:?}");
    }
    let o = unix_cmd(&g.dir().join("admin.sock"), "show servers stat");
    assert!(o.contains("  show servers state [<backend>]"), "{o}");
}

#[test]
fn show_info_and_show_stat_read_as_haproxys() {
    let (b1, b2) = (HttpBackend::start("s1"), HttpBackend::start("s2"));
    let (port, port2) = (free_port(), free_port());
    let h = start(true, &config(port, b1.port(), b2.port()), port);
    let g = start(false, &config(port2, b1.port(), b2.port()), port2);
    let keys = |out: String| -> Vec<String> {
        out.lines()
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k.to_owned()))
            .collect()
    };
    let theirs = keys(unix_cmd(&h.dir().join("user.sock"), "show info"));
    let ours = keys(unix_cmd(&g.dir().join("user.sock"), "show info"));
    assert!(ours.len() >= 10, "{ours:?}");
    let mut at = 0;
    for k in &ours {
        let found = theirs[at..].iter().position(|t| t == k);
        assert!(
            found.is_some(),
            "{k:?} is not a HAProxy field after {:?}",
            theirs.get(at)
        );
        at += found.unwrap_or(0) + 1;
    }
    let info = unix_cmd(&g.dir().join("user.sock"), "show info");
    assert!(info.contains(&format!("Pid: {}\n", g.pid())), "{info}");
    // `show stat`: the same lines (proxy and server names, in order) under the same
    // header; the JSON forms parse.
    let lines = |d: &Daemon, cmd: &str| -> Vec<String> {
        unix_cmd(&d.dir().join("admin.sock"), cmd)
            .lines()
            .map(|l| l.split(',').take(2).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(lines(&g, "show stat"), lines(&h, "show stat"));
    let header = |d: &Daemon| unix_cmd(&d.dir().join("admin.sock"), "show stat");
    assert_eq!(header(&g).lines().next(), header(&h).lines().next());
    for cmd in ["show stat json", "show info json"] {
        let out = unix_cmd(&g.dir().join("admin.sock"), cmd);
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).expect(cmd);
        assert!(v.as_array().is_some_and(|a| !a.is_empty()), "{cmd}: {out}");
    }
    // `show stat up` leaves out the server in maintenance (s3, `disabled`).
    let up = unix_cmd(&g.dir().join("admin.sock"), "show stat up");
    assert!(
        !up.contains("\napp,s3,") && up.contains("\napp,s1,"),
        "{up}"
    );
}
