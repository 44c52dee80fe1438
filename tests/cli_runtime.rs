//! The process as HAProxy 2.6 runs it: confined and privileges dropped after binding
//! (`chroot`, `user`, `group`), unix sockets' owner and mode, `option clitcpka`/`tcpka`/`nolinger` on client
//! sockets, SIGINT, `-q -c`, `-d`, `-L`, `--help` and `-cc` on a malformed expression.
//!
//! The privilege tests need root (as every developer machine and CI run here).
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the socket-option tests against haproxy.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;
use support::procnet::{self, CLOSE_WAIT, ESTABLISHED, FIN_WAIT2};
use support::*;

const NOBODY: u32 = 65534;
const NOGROUP: u32 = 65534;

fn gh() -> Command {
    Command::new(gatehouse_bin())
}

fn start_proxy(cfg: &str, ports: &[u16]) -> Daemon {
    if std::env::var("GATEHOUSE_TEST_PROXY").as_deref() == Ok("haproxy") {
        Haproxy::start(cfg, ports).0
    } else {
        Gatehouse::start(cfg, ports).0
    }
}

fn require_root() {
    // SAFETY: geteuid has no side effects.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "privilege tests must run as root (developers and CI do)"
    );
}

/// `Uid:` / `Gid:` of a process: real, effective, saved, filesystem.
fn ids(pid: u32, field: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

/// A port below 1024 that is free now: binding it needs root, so a process that serves
/// on it as `nobody` bound it before dropping privileges.
fn free_privileged_port() -> u16 {
    (700..1000)
        .find(|p| std::net::TcpListener::bind(local(*p)).is_ok())
        .expect("a free port below 1024")
}

fn http_cfg(binds: &str, global: &str) -> String {
    format!(
        "global\n{global}\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n{binds}\n  http-request return status 200 content-type text/plain string ok\n"
    )
}

#[test]
fn user_and_group_drop_privileges_after_binding() {
    require_root();
    let low = free_privileged_port();
    let dir = TempDir::new("privs");
    let sock = dir.path().join("admin.sock");
    let cfg = http_cfg(
        &format!(
            "  bind 127.0.0.1:{low}\n  bind unix@{} user nobody group nogroup mode 600",
            sock.display()
        ),
        "  user nobody\n  group nogroup",
    );
    let g = Gatehouse::start(&cfg, &[low]);
    // A reply means the runtime runs, so the identity was set (the kernel accepts on
    // the bound socket before that).
    assert_eq!(
        http_get(local(low), "/", &[]).unwrap().status,
        200,
        "the port below 1024 was bound before the uid changed"
    );
    assert_eq!(ids(g.pid(), "Uid:"), vec![NOBODY; 4], "{}", g.stderr());
    assert_eq!(ids(g.pid(), "Gid:"), vec![NOGROUP; 4]);
    assert!(
        ids(g.pid(), "Groups:").is_empty(),
        "supplementary groups dropped"
    );
    let meta = std::fs::metadata(&sock).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOGROUP));
    assert_eq!(meta.mode() & 0o777, 0o600);
}

#[test]
fn user_alone_changes_only_the_uid_like_haproxy() {
    require_root();
    let port = free_port();
    let dir = TempDir::new("privs-user");
    let sock = dir.path().join("u.sock");
    let cfg = http_cfg(
        &format!(
            "  bind 127.0.0.1:{port}\n  bind unix@{} user nobody",
            sock.display()
        ),
        "  user nobody",
    );
    let g = Gatehouse::start(&cfg, &[port]);
    assert_eq!(http_get(local(port), "/", &[]).unwrap().status, 200);
    assert_eq!(ids(g.pid(), "Uid:"), vec![NOBODY; 4]);
    // HAProxy 2.6 takes only the uid from `user`: the gid stays root's.
    assert_eq!(ids(g.pid(), "Gid:"), vec![0; 4]);
    let meta = std::fs::metadata(&sock).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, 0));
}

#[test]
fn failing_to_change_identity_is_fatal() {
    require_root();
    for (global, msg) in [
        ("  user daemon", "[gatehouse.main()] Cannot set uid 1."),
        ("  group daemon", "[gatehouse.main()] Cannot set gid 1."),
    ] {
        let port = free_port();
        let cfg = http_cfg(&format!("  bind 127.0.0.1:{port}"), global);
        let mut g = Gatehouse::builder(&cfg).run_as(NOBODY, NOGROUP).spawn();
        let st = g
            .wait_exit(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("{global}: still running as nobody"));
        assert_eq!(st.code(), Some(1), "{global}: {}", g.stderr());
        assert!(g.stderr().contains(msg), "{global}: {}", g.stderr());
    }
}

#[test]
fn unknown_users_and_groups_are_configuration_errors() {
    let dir = TempDir::new("owners");
    let unix = http_cfg(
        &format!(
            "  bind unix@{} user no-such-user",
            dir.path().join("x.sock").display()
        ),
        "",
    );
    let out = gh()
        .args(["-c", "-f"])
        .arg(dir.write("unix.cfg", unix))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'user' : unknown user name 'no-such-user'"),
        "{err}"
    );
    // The global ones word for word as HAProxy (pid aside), plus the section and keyword
    // that every gatehouse error names.
    let hap = require_haproxy();
    for global in ["  user no-such-user", "  group no-such-group"] {
        let cfg = dir.write("g.cfg", http_cfg("  bind 127.0.0.1:8", global));
        let first_alert = |bin: &std::path::Path| {
            let out = Command::new(bin)
                .args(["-c", "-f"])
                .arg(&cfg)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            let line = err
                .lines()
                .find(|l| l.starts_with("[ALERT]"))
                .map(without_pid);
            (out.status.code(), line)
        };
        let (code, line) = first_alert(&gatehouse_bin());
        assert_eq!(code, Some(1), "{global}");
        let kw = global.split_whitespace().next().unwrap();
        let located = format!("'{kw}' in section 'global' : ");
        let line = line.unwrap_or_default();
        assert!(line.contains(&located), "{line}");
        let ours = (code, Some(line.replacen(&located, "", 1)));
        assert_eq!(ours, first_alert(&hap), "{global}");
    }
}

fn tcp_cfg(port_ka: u16, port_plain: u16, backend: std::net::SocketAddr, opts: &str) -> String {
    format!(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 300ms\n  timeout server 10s\n\
         frontend with\n  bind 127.0.0.1:{port_ka}\n{opts}\n  default_backend b\n\
         frontend without\n  bind 127.0.0.1:{port_plain}\n  default_backend b\n\
         backend b\n  server s1 {backend}\n"
    )
}

/// The proxy's side of the client connection `c` (local port = the frontend's).
fn proxy_side(c: &TcpStream) -> Option<procnet::TcpRow> {
    let me = c.local_addr().unwrap();
    let fe = c.peer_addr().unwrap();
    procnet::find(fe.port(), me.port())
}

#[test]
fn clitcpka_and_tcpka_arm_keepalive_on_client_sockets() {
    let echo = TcpEcho::start();
    for opt in ["  option clitcpka", "  option tcpka"] {
        let (a, b) = (free_port(), free_port());
        let cfg = tcp_cfg(a, b, echo.addr(), opt).replace("300ms", "10s");
        let _p = start_proxy(&cfg, &[a, b]);
        let (mut with, mut without) = (
            TcpStream::connect(local(a)).unwrap(),
            TcpStream::connect(local(b)).unwrap(),
        );
        // An echo through each proves the proxy accepted (and set up) both sockets.
        for c in [&mut with, &mut without] {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            std::io::Write::write_all(c, b"x").unwrap();
            let mut one = [0u8; 1];
            c.read_exact(&mut one).unwrap();
        }
        let (w, wo) = (proxy_side(&with).unwrap(), proxy_side(&without).unwrap());
        assert_eq!((w.state, wo.state), (ESTABLISHED, ESTABLISHED));
        assert_eq!(w.timer, 2, "{opt}: keep-alive timer armed: {w:?}");
        assert_eq!(wo.timer, 0, "no keep-alive without the option: {wo:?}");
    }
}

#[test]
fn nolinger_resets_the_client_instead_of_lingering_in_fin_wait() {
    // `timeout client` shuts the client's direction; the echo server then closes its
    // side, which ends the session.
    let echo = TcpEcho::start();
    let (a, b) = (free_port(), free_port());
    let _p = start_proxy(&tcp_cfg(a, b, echo.addr(), "  option nolinger"), &[a, b]);
    for (port, nolinger) in [(a, true), (b, false)] {
        let mut c = TcpStream::connect(local(port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let me = c.local_addr().unwrap().port();
        // The session ends with a FIN first, as in HAProxy...
        let mut buf = [0u8; 16];
        assert_eq!(c.read(&mut buf).unwrap(), 0, "EOF on timeout client");
        // Waits for the sockets' end states (the reset, or the FIN's) rather than a time.
        let ends = || (procnet::find(port, me), procnet::find(me, port));
        wait_until(Duration::from_secs(10), || match ends() {
            (theirs, mine) if nolinger => theirs.is_none() && mine.is_none(),
            (theirs, mine) => {
                theirs.map(|r| r.state) == Some(FIN_WAIT2)
                    && mine.map(|r| r.state) == Some(CLOSE_WAIT)
            }
        });
        let (theirs, mine) = ends();
        if nolinger {
            // ...then the close resets: nothing left on either side.
            assert_eq!(theirs, None, "no FIN-WAIT socket with nolinger");
            assert_eq!(mine, None, "the reset closed the client socket");
        } else {
            assert_eq!(theirs.map(|r| r.state), Some(FIN_WAIT2));
            assert_eq!(mine.map(|r| r.state), Some(CLOSE_WAIT));
        }
    }
}

#[test]
fn sigint_kills_the_process_by_that_signal_like_haproxy() {
    use std::os::unix::process::ExitStatusExt;
    let port = free_port();
    let mut g = Gatehouse::start(&http_cfg(&format!("  bind 127.0.0.1:{port}"), ""), &[port]);
    g.signal(libc::SIGINT);
    let st = g
        .wait_exit(Duration::from_secs(5))
        .expect("exits on SIGINT");
    assert_eq!((st.code(), st.signal()), (None, Some(libc::SIGINT)));
    assert_eq!(g.stderr(), "", "HAProxy dies silently");
}

#[test]
fn quiet_check_prints_nothing_even_with_warnings() {
    let dir = TempDir::new("quiet");
    // No timeouts: a warning without -q.
    let cfg = dir.write(
        "w.cfg",
        "frontend f\n  mode tcp\n  bind 127.0.0.1:8\n  default_backend b\nbackend b\n  mode tcp\n  server s 127.0.0.1:9\n",
    );
    let loud = gh().arg("-c").arg("-f").arg(&cfg).output().unwrap();
    assert!(String::from_utf8_lossy(&loud.stdout).contains("Warnings were found."));
    let out = gh().args(["-q", "-c", "-f"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        (out.stdout.as_slice(), out.stderr.as_slice()),
        (&b""[..], &b""[..])
    );
}

#[test]
fn help_and_local_peer_name() {
    let out = gh().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let usage = String::from_utf8_lossy(&out.stdout);
    assert!(usage.starts_with("Usage : gatehouse"), "{usage}");
    assert!(usage.contains("-L set local peer name"), "{usage}");
    assert!(usage.contains("-d enters debug mode"), "{usage}");
    let dir = TempDir::new("peer");
    let cfg = dir.write("p.cfg", http_cfg("  bind 127.0.0.1:8", ""));
    let st = gh()
        .args(["-L", "node1", "-q", "-c", "-f"])
        .arg(&cfg)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    let out = gh().args(["-c", "-L"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "-L needs a name");
}

/// `[ALERT]    (PID) : rest` without the pid.
fn without_pid(line: &str) -> String {
    match line.split_once(") : ") {
        Some((head, rest)) => format!("{}) : {rest}", head.split('(').next().unwrap_or("")),
        None => line.to_owned(),
    }
}

#[test]
fn cc_on_a_malformed_expression_exits_2_with_haproxys_alert() {
    let hap = require_haproxy();
    for expr in ["version_atleast(", "foo(1)", "1 &&"] {
        let ours = gh().args(["-cc", expr]).output().unwrap();
        let theirs = Command::new(&hap).args(["-cc", expr]).output().unwrap();
        assert_eq!(ours.status.code(), Some(2), "{expr}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{expr}");
        let alert = |o: &std::process::Output| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .find(|l| l.starts_with("[ALERT]"))
                .map(without_pid)
        };
        assert_eq!(alert(&ours), alert(&theirs), "{expr}");
    }
}

#[test]
fn debug_mode_stays_in_the_foreground_and_traces_accepts() {
    let port = free_port();
    // `daemon` in the configuration is overridden by -d, as in HAProxy.
    let cfg = http_cfg(&format!("  bind 127.0.0.1:{port}"), "  daemon");
    let mut g = Gatehouse::builder(&cfg).arg("-d").wait_port(port).start();
    assert!(g.is_running(), "-d keeps the process in the foreground");
    let c = TcpStream::connect(local(port)).unwrap();
    let from = format!("from [{}] ALPN=<none>", c.local_addr().unwrap());
    assert!(
        wait_until(Duration::from_secs(3), || g.stdout().contains(&from)),
        "{}",
        g.stdout()
    );
    let out = g.stdout();
    assert!(
        out.starts_with("Using epoll() as the polling mechanism.\n"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("00000001:f.accept(") && l.ends_with(&from)),
        "second accept (the first was the start-up probe): {out}"
    );
}

#[test]
fn debug_traces_to_a_closed_pipe_do_not_stop_serving() {
    // `gatehouse -d -f … | head -n 3`: once the reader is gone, the traces cannot be
    // written, and the proxy serves on.
    let port = free_port();
    let dir = TempDir::new("debug-pipe");
    let cfg = dir.write("d.cfg", http_cfg(&format!("  bind 127.0.0.1:{port}"), ""));
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
    let child = gh()
        .arg("-d")
        .arg("-f")
        .arg(&cfg)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(stderr)
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(child);
    assert!(
        wait_until(Duration::from_secs(10), || http_get(local(port), "/", &[])
            .is_ok_and(|r| r.status == 200)),
        "never served: {:?} {}",
        child.0.try_wait(),
        std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default()
    );
    for _ in 0..3 {
        let r = http_get(local(port), "/", &[]).expect("still serving");
        assert_eq!(r.status, 200);
    }
    assert!(child.0.try_wait().unwrap().is_none(), "still running");
    let err = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn chroot_confines_the_process_after_binding() {
    require_root();
    let jail = TempDir::new("jail");
    let port = free_port();
    let cfg = http_cfg(
        &format!("  bind 127.0.0.1:{port}"),
        &format!("  chroot {}\n  user nobody", jail.path().display()),
    );
    let g = Gatehouse::start(&cfg, &[port]);
    assert_eq!(http_get(local(port), "/", &[]).unwrap().status, 200);
    let root = std::fs::read_link(format!("/proc/{}/root", g.pid())).unwrap();
    assert_eq!(root, jail.path(), "{}", g.stderr());
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/cwd", g.pid())).unwrap(),
        jail.path(),
        "chdir(\"/\") inside the jail"
    );
    assert_eq!(
        ids(g.pid(), "Uid:"),
        vec![NOBODY; 4],
        "user resolved before chroot"
    );
}

#[test]
fn a_missing_chroot_directory_is_fatal() {
    let port = free_port();
    let cfg = http_cfg(
        &format!("  bind 127.0.0.1:{port}"),
        "  chroot /nonexistent-jail",
    );
    let mut g = Gatehouse::builder(&cfg).spawn();
    let st = g.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(st.code(), Some(1));
    assert!(
        g.stderr()
            .contains("[gatehouse.main()] Cannot chroot(/nonexistent-jail)."),
        "{}",
        g.stderr()
    );
}

#[test]
fn a_configuration_without_listener_is_refused_like_haproxy() {
    let dir = TempDir::new("nolistener");
    let cfg = dir.write(
        "b.cfg",
        "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
         backend b\n  server s 127.0.0.1:9\n",
    );
    let hap = require_haproxy();
    for args in [&["-c"][..], &["-q", "-c"][..]] {
        let run = |bin: &std::path::Path| {
            let out = Command::new(bin)
                .args(args)
                .arg("-f")
                .arg(&cfg)
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let ours = run(&gatehouse_bin());
        assert_eq!(ours.0, Some(2), "{args:?}");
        assert_eq!(ours, run(&hap), "{args:?}");
    }
    let mut g = Gatehouse::builder(&std::fs::read_to_string(&cfg).unwrap()).spawn();
    let st = g.wait_exit(Duration::from_secs(5)).expect("does not start");
    assert_eq!(st.code(), Some(1));
    assert!(
        g.stderr().contains(
            "[gatehouse.main()] No enabled listener found (check for 'bind' directives) ! Exiting."
        ),
        "{}",
        g.stderr()
    );
}
