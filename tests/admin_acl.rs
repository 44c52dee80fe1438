//! `show acl`, `add acl`, `del acl`, `clear acl` on ACL pattern files (`acl … -f
//! FILE`): a change reaches the next request, survives an in-place reload, and the
//! replies read as HAProxy 2.6's for the same commands.

mod support;

use std::time::Duration;
use support::socat::unix_cmd;
use support::{Daemon, HttpClient, free_port, local, proxy_builder, require_haproxy, wait_until};

fn config(port: u16) -> support::Config {
    support::Config::new(&format!(
        "global\n    stats socket unix@admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   acl blocked path_beg -f blocked.lst\n\
         \x20   acl nets src -f nets.lst\n\
         \x20   http-request deny if blocked\n\
         \x20   http-request deny deny_status 429 if nets\n\
         \x20   http-request set-header X-M %[path,map(m.map,none)]\n\
         \x20   http-request return status 200 content-type text/plain string ok\n"
    ))
}

/// The proxy, once its frontend listens and its stats socket answers (the socket may
/// come up after the frontend's port).
fn start(haproxy: bool, port: u16) -> Daemon {
    let d = proxy_builder(haproxy, &config(port))
        .file("blocked.lst", "/blocked\n# comment\n/admin\n")
        .file("nets.lst", "10.0.0.0/8\n")
        .file("m.map", "/a alpha\n")
        .wait_port(port)
        .start();
    let sock = d.dir().join("admin.sock");
    assert!(
        wait_until(Duration::from_secs(20), || !unix_cmd(&sock, "show acl")
            .is_empty()),
        "the stats socket never answered"
    );
    d
}

fn status(port: u16, path: &str) -> u16 {
    let mut c = HttpClient::connect(local(port)).expect("connect");
    c.get(path, &[]).expect("response").status
}

#[test]
fn acl_changes_reach_the_next_request_and_survive_a_reload() {
    let port = free_port();
    let mut d = start(false, port);
    let cmd = |d: &Daemon, c: &str| unix_cmd(&d.dir().join("admin.sock"), c);
    assert_eq!(status(port, "/new/x"), 200);
    assert_eq!(status(port, "/admin"), 403);
    assert_eq!(cmd(&d, "add acl blocked.lst /new"), "\n");
    assert_eq!(status(port, "/new/x"), 403);
    assert_eq!(cmd(&d, "del acl #0 /admin"), "\n");
    assert_eq!(status(port, "/admin"), 200);
    // The client's own address, added to the second file by its number.
    assert_eq!(status(port, "/"), 200);
    assert_eq!(cmd(&d, "add acl #1 127.0.0.0/8"), "\n");
    assert_eq!(status(port, "/"), 429);
    assert_eq!(cmd(&d, "clear acl nets.lst"), "\n");
    assert_eq!(status(port, "/"), 200);
    assert_eq!(cmd(&d, "show acl #0"), "0x1 /blocked\n0x2 /new\n\n");
    // An in-place reload keeps what the socket did.
    d.signal(libc::SIGUSR2);
    assert!(wait_until(Duration::from_secs(10), || d
        .stderr()
        .contains("Loading success.")));
    assert_eq!(status(port, "/new/x"), 403);
    assert_eq!(status(port, "/admin"), 200);
    assert_eq!(
        cmd(&d, "show acl blocked.lst"),
        "0x1 /blocked\n0x2 /new\n\n"
    );
    assert_eq!(
        cmd(&d, "show acl"),
        "# id (file) description\n\
         0 (blocked.lst) pattern loaded from file 'blocked.lst' used by acl at file 'haproxy.cfg' line 10. curr_ver=0 next_ver=0 entry_cnt=2\n\
         1 (nets.lst) pattern loaded from file 'nets.lst' used by acl at file 'haproxy.cfg' line 11. curr_ver=0 next_ver=0 entry_cnt=0\n\n"
            .replace("haproxy.cfg", &d.config_path().display().to_string())
    );
}

/// The commands, with the ACL ids of gatehouse and of HAProxy (which numbers every
/// `acl` line's inline patterns too: `blocked.lst` is its #0 and `nets.lst` its #2).
const COMMANDS: &[(&str, &str)] = &[
    ("show acl blocked.lst", "show acl blocked.lst"),
    ("add acl blocked.lst /new", "add acl blocked.lst /new"),
    ("add acl blocked.lst", "add acl blocked.lst"),
    ("add acl", "add acl"),
    ("add acl nope.lst /x", "add acl nope.lst /x"),
    ("add acl m.map /x", "add acl m.map /x"),
    ("add acl #1 10.1.0.0/16", "add acl #2 10.1.0.0/16"),
    ("add acl #1 not-an-address", "add acl #2 not-an-address"),
    ("show acl #1", "show acl #2"),
    ("show acl m.map", "show acl m.map"),
    ("del acl blocked.lst /admin", "del acl blocked.lst /admin"),
    (
        "del acl blocked.lst /nothere",
        "del acl blocked.lst /nothere",
    ),
    ("del acl #0", "del acl #0"),
    ("del acl", "del acl"),
    ("show acl #0", "show acl #0"),
    ("clear acl", "clear acl"),
    ("clear acl nope.lst", "clear acl nope.lst"),
    ("clear acl #1", "clear acl #2"),
    ("show acl #1", "show acl #2"),
];

#[test]
fn acl_command_replies_match_haproxy() {
    require_haproxy();
    let run = |haproxy: bool| -> Vec<String> {
        let port = free_port();
        let d = start(haproxy, port);
        COMMANDS
            .iter()
            .map(|(g, h)| {
                let out = unix_cmd(&d.dir().join("admin.sock"), if haproxy { h } else { g });
                // Entry references are addresses in HAProxy, positions here.
                if g.starts_with("show acl ") {
                    out.lines()
                        .map(|l| l.split_once(' ').map_or(l, |(_, p)| p).to_owned() + "\n")
                        .collect()
                } else {
                    out
                }
            })
            .collect()
    };
    let (gh, hp) = (run(false), run(true));
    for (i, (g, h)) in gh.iter().zip(&hp).enumerate() {
        assert_eq!(g, h, "{}", COMMANDS[i].0);
    }
}
