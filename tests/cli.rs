//! The command line behaves like haproxy's: -c, -cc, -v (and --version), -f with
//! directories and its missing-file alert, -p, -D (the pid file complete when the command
//! returns, the daemon gone at once on SIGTERM), the signals' exit statuses, and output
//! commands ending quietly on a closed pipe.

mod support;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn gh() -> Command {
    Command::new(gatehouse_bin())
}

/// Runs `gatehouse -D -p PIDFILE -f CFG` serving on a free port; the launching process
/// must return 0 at once. The directory (kept alive by the caller), port and pid file.
fn launch_daemon(tag: &str) -> (TempDir, u16, std::path::PathBuf) {
    let port = free_port();
    let dir = TempDir::new(tag);
    let cfg = dir.write("d.cfg", serving_cfg(port));
    let pidfile = dir.path().join("d.pid");
    let st = gh()
        .arg("-D")
        .arg("-p")
        .arg(&pidfile)
        .arg("-f")
        .arg(&cfg)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0), "the launching process returns at once");
    (dir, port, pidfile)
}

fn serving_cfg(port: u16) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  http-request return status 200 content-type text/plain string ok\n"
    )
}

#[test]
fn check_mode_prints_valid_and_exits_zero_or_one() {
    let dir = TempDir::new("cli-check");
    let good = dir.write("good.cfg", serving_cfg(free_port()));
    let out = gh().args(["-c", "-f"]).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Configuration file is valid"));
    let bad = dir.write("bad.cfg", b"frontend f\n  bnd :80\n");
    let out = gh().args(["-c", "-f"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[ALERT]")
            && err.contains("bad.cfg:2]")
            && err.contains("did you mean 'bind'"),
        "{err}"
    );
}

#[test]
fn a_directory_is_read_in_lexical_order() {
    let dir = TempDir::new("cli-dir");
    std::fs::create_dir_all(dir.path().join("conf")).unwrap();
    // Lexical, not numeric nor creation order: 0, 10_b, 9_a. Each file says its name with
    // a .notice, and a file not ending in .cfg is ignored.
    dir.write(
        "conf/9_a.cfg",
        b".notice \"9_a\"\nbackend b\n  server s1 127.0.0.1:9\n",
    );
    dir.write(
        "conf/10_b.cfg",
        b".notice \"10_b\"\nfrontend f\n  bind 127.0.0.1:8\n  default_backend b\n",
    );
    dir.write(
        "conf/0.cfg",
        b".notice \"0\"\ndefaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n",
    );
    dir.write("conf/30_broken.cfg.disabled", b"this is not a config\n");
    let conf = dir.path().join("conf");
    let order = |bin: &std::path::Path| {
        let out = Command::new(bin)
            .args(["-c", "-f"])
            .arg(&conf)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let names: Vec<String> = err
            .lines()
            .filter(|l| l.starts_with("[NOTICE]") && l.contains("config : parsing ["))
            .filter_map(|l| l.rsplit('\'').nth(1).map(str::to_owned))
            .collect();
        (out.status.code(), names, err)
    };
    let (code, names, err) = order(&gatehouse_bin());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(names, ["0", "10_b", "9_a"], "{err}");
    let (hcode, hnames, herr) = order(&require_haproxy());
    assert_eq!((hcode, hnames), (code, names), "haproxy: {herr}");
}

#[test]
fn cc_evaluates_conditions_like_haproxy() {
    assert_eq!(
        gh().args(["-cc", "version_atleast(2.4)"])
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    assert_eq!(
        gh().args(["-cc", "version_before(2.4)"])
            .status()
            .unwrap()
            .code(),
        Some(1)
    );
    let st = gh()
        .args(["-cc", "defined(GH_TEST_VAR)"])
        .env("GH_TEST_VAR", "1")
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    assert_eq!(
        gh().args(["-cc", "streq(a,b)"]).status().unwrap().code(),
        Some(1)
    );
}

#[test]
fn version_flags() {
    let out = gh().arg("-v").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("gatehouse version"));
    // `--version`, what people type first, is `-v`.
    let long = gh().arg("--version").output().unwrap();
    assert_eq!(long.status.code(), Some(0), "{long:?}");
    assert_eq!(long.stdout, out.stdout);
    assert!(long.stderr.is_empty(), "{long:?}");
    let out = gh().arg("-vv").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Feature list"));
    let out = gh().arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
    // `-V` is HAProxy's verbose mode, not a version flag: `-V -c` checks the file.
    let dir = TempDir::new("cli-verbose");
    let cfg = dir.write("v.cfg", serving_cfg(free_port()));
    let out = gh()
        .arg("-V")
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Configuration file is valid\n"
    );
}

#[test]
fn the_started_process_serves_writes_its_pid_and_stops_on_sigterm() {
    let port = free_port();
    let dir = TempDir::new("cli-pid");
    let pidfile = dir.path().join("g.pid");
    let mut g = Gatehouse::builder(&serving_cfg(port))
        .arg("-p")
        .arg(&pidfile)
        .wait_port(port)
        .start();
    let r = http_get(local(port), "/", &[]).unwrap();
    assert_eq!(r.status, 200);
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        pid,
        g.pid(),
        "the pid file names the serving process itself"
    );
    g.signal(libc::SIGTERM);
    let st = g
        .wait_exit(Duration::from_secs(5))
        .expect("exits on SIGTERM");
    use std::os::unix::process::ExitStatusExt;
    // HAProxy 2.6 (-db) dies by the signal itself: no exit code.
    assert_eq!((st.code(), st.signal()), (None, Some(libc::SIGTERM)));
}

#[test]
fn sigusr1_lets_open_connections_finish() {
    let port = free_port();
    let mut g = Gatehouse::start(&serving_cfg(port), &[port]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    assert_eq!(c.get("/", &[]).unwrap().status, 200);
    g.signal(libc::SIGUSR1);
    // The soft stop has begun once the listener is gone.
    assert!(
        wait_until(Duration::from_secs(10), || procnet::listeners(port) == 0),
        "the listener stays after a soft stop"
    );
    assert!(
        g.is_running(),
        "a soft stop waits for the open keep-alive connection"
    );
    assert!(
        std::net::TcpStream::connect(local(port)).is_err(),
        "no new connections after a soft stop"
    );
    drop(c);
    let st = g
        .wait_exit(Duration::from_secs(5))
        .expect("exits once the last connection closed");
    assert_eq!(st.code(), Some(0));
    // HAProxy's soft-stop message, with the connections the proxy took (the start-up
    // probe and the client).
    let err = g.stderr();
    assert!(
        err.lines().any(|l| l.starts_with("[WARNING]  (")
            && l.ends_with(") : Proxy f stopped (cumulated conns: FE: 2, BE: 0).")),
        "{err}"
    );
}

#[test]
fn daemon_mode_detaches_and_the_pidfile_names_the_server() {
    let (_dir, port, pidfile) = launch_daemon("cli-daemon");
    assert!(wait_until(Duration::from_secs(5), || std::fs::metadata(
        &pidfile
    )
    .is_ok()));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || http_get(
        local(port),
        "/",
        &[]
    )
    .is_ok()));
    assert_eq!(http_get(local(port), "/", &[]).unwrap().status, 200);
    // SAFETY: sending a signal to the daemon we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(local(port)).is_err()
    }));
}

#[test]
fn sighup_dumps_the_states_and_sigquit_is_harmless_like_haproxy() {
    let server = TcpEcho::start();
    /// The lines of one dump: its heading, two proxies and two servers.
    const DUMP: usize = 5;
    let dump = |mut d: Daemon, port: u16| {
        // A full round trip: the process runs (and handles signals), not only binds;
        // then the session ends on both sides (the echo closes after the client's FIN).
        let mut c = std::net::TcpStream::connect(local(port)).unwrap();
        std::io::Write::write_all(&mut c, b"x").unwrap();
        std::io::Read::read_exact(&mut c, &mut [0u8; 1]).unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let _ = std::io::Read::read_to_end(&mut c, &mut Vec::new());
        drop(c);
        let lines = |d: &Daemon| {
            d.stderr()
                .lines()
                .filter(|l| l.contains("SIGHUP") && !l.contains("<HTTPCLIENT>"))
                .map(|l| l.split_once(") : ").map_or(l, |(_, r)| r).to_owned())
                .collect::<Vec<_>>()
        };
        // HAProxy counts a session until it frees it, which may come after the client
        // saw the close: dump again until no session is counted, keep the last dump.
        let mut last = Vec::new();
        for n in 1..=20 {
            d.signal(libc::SIGHUP);
            assert!(
                wait_until(Duration::from_secs(3), || lines(&d).len() >= n * DUMP),
                "dump {n}: {}",
                d.stderr()
            );
            last = lines(&d).split_off((n - 1) * DUMP);
            // "Server b/s is UP. Conn: 0 act, …", "Proxy b … Conn: act(FE+BE): 0+0, …".
            let idle = last.iter().all(|l| {
                (!l.contains(" act, ") || l.contains("Conn: 0 act, "))
                    && (!l.contains("act(FE+BE): ") || l.contains("act(FE+BE): 0+0, "))
            });
            if idle {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        d.signal(libc::SIGQUIT);
        std::thread::sleep(Duration::from_millis(200));
        assert!(d.is_running(), "SIGHUP and SIGQUIT do not stop the process");
        last
    };
    let cfg = |port: u16| {
        format!(
            "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
             frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
             backend b\n  server s {}\n  server spare {} backup\n",
            server.addr(),
            server.addr()
        )
    };
    let (p1, p2) = (free_port(), free_port());
    let ours = dump(Gatehouse::start(&cfg(p1), &[p1]).0, p1);
    let theirs = dump(Haproxy::start(&cfg(p2), &[p2]).0, p2);
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), DUMP, "{ours:?}");
}

/// Runs gatehouse with `args`, its stdout a pipe whose reading end is already closed (as
/// in `gatehouse … | head` once `head` has exited), and returns what happened.
fn into_closed_pipe(args: &[&std::ffi::OsStr]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    gh().args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run gatehouse")
}

#[test]
fn printing_commands_end_quietly_on_a_closed_pipe() {
    let dir = TempDir::new("cli-pipe");
    let good = dir.write("good.cfg", serving_cfg(free_port()));
    let idle = dir.write("idle.cfg", b"defaults\n  mode http\n");
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec!["--keywords".as_ref()],
        vec!["-v".as_ref()],
        vec!["--version".as_ref()],
        vec!["-vv".as_ref()],
        vec!["--help".as_ref()],
        vec!["-c".as_ref(), "-f".as_ref(), good.as_os_str()],
        vec!["-c".as_ref(), "-f".as_ref(), idle.as_os_str()],
    ];
    for args in cases {
        let out = into_closed_pipe(&args);
        // Like `yes | head`: ended by SIGPIPE, nothing on stderr (no panic message).
        assert_eq!(
            (out.status.code(), out.status.signal()),
            (None, Some(libc::SIGPIPE)),
            "{args:?}: {out:?}"
        );
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The same through a shell pipeline: `head` reads one line and exits.
    let out = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" --keywords | head -n 1 >/dev/null; \"$0\" --keywords | head -c 0")
        .arg(gatehouse_bin())
        .output()
        .expect("run sh");
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `[ALERT]    (PID) : rest` without the pid; other lines as they are.
fn without_pid(line: &str) -> String {
    match line.split_once(") : ") {
        Some((head, rest)) => format!("{}) : {rest}", head.split('(').next().unwrap_or("")),
        None => line.to_owned(),
    }
}

#[test]
fn a_missing_configuration_file_gets_haproxys_alert_and_status() {
    let dir = TempDir::new("cli-missing");
    let good = dir.write("good.cfg", serving_cfg(free_port()));
    let nosuch = dir.path().join("nosuch.cfg");
    let nodir = format!("{}/nodir/", dir.path().display());
    let run = |bin: &std::path::Path, args: &[&std::ffi::OsStr]| {
        let out = Command::new(bin)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("[NOTICE]"))
            .map(without_pid)
            .collect();
        (out.status.code(), err)
    };
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec!["-c".as_ref(), "-f".as_ref(), "nosuch.cfg".as_ref()],
        vec!["-f".as_ref(), "nosuch.cfg".as_ref()],
        vec!["-c".as_ref(), "-f".as_ref(), nosuch.as_os_str()],
        vec!["-c".as_ref(), "-f".as_ref(), nodir.as_ref()],
        // Every path is examined before any is read: the good file is not parsed.
        vec![
            "-c".as_ref(),
            "-f".as_ref(),
            good.as_os_str(),
            "-f".as_ref(),
            "nosuch.cfg".as_ref(),
        ],
    ];
    for args in cases {
        let ours = run(&gatehouse_bin(), &args);
        let theirs = run(&require_haproxy(), &args);
        assert_eq!(ours, theirs, "{args:?}");
        assert_eq!(ours.0, Some(1), "{args:?}");
    }
    let (_, err) = run(
        &gatehouse_bin(),
        &["-c".as_ref(), "-f".as_ref(), "nosuch.cfg".as_ref()],
    );
    assert_eq!(
        err,
        [
            "[ALERT]    ) : config : Cannot open configuration file/directory nosuch.cfg : No such file or directory"
        ]
    );
}

/// `/proc/PID/stat`'s state letter and start time (clock ticks since boot), or `None`
/// once the process is reaped.
fn proc_state(pid: i32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

#[test]
fn a_daemon_writes_its_pid_file_before_returning_and_is_gone_at_once_on_sigterm() {
    let (_dir, port, pidfile) = launch_daemon("cli-daemon-stop");
    // As with HAProxy, the pid file names the daemon once the command has returned
    // (`gatehouse -D -p F && kill $(cat F)` works; systemd's Type=forking relies on it).
    let text = std::fs::read_to_string(&pidfile).expect("pid file written before -D returns");
    let pid: i32 = text.trim().parse().expect("a pid");
    assert!(text.ends_with('\n'), "{text:?}");
    let (state, start) = proc_state(pid).expect("the daemon runs");
    assert_ne!(state, 'Z', "the daemon runs");
    assert!(wait_until(Duration::from_secs(5), || http_get(
        local(port),
        "/",
        &[]
    )
    .is_ok()));
    // SAFETY: sending a signal to the daemon we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let sent = Instant::now();
    // The daemon's parent is gone: whoever adopted it (PID 1 or a subreaper) reaps it
    // when it pleases, which may take a second or more. What the daemon controls is its
    // own exit: the zombie state ('Z') counts as gone.
    let gone = wait_until(Duration::from_secs(5), || match proc_state(pid) {
        None => true,
        Some((s, t)) => s == 'Z' || t != start,
    });
    let took = sent.elapsed();
    assert!(gone, "the daemon still runs 5 s after SIGTERM");
    assert!(
        took < Duration::from_millis(1500),
        "the daemon took {took:?} to exit after SIGTERM (the foreground process takes \
         milliseconds)"
    );
    // The leader thread shows 'Z' as soon as it has exited, while the other threads of
    // the process may still be going down: the listener closes with the last of them.
    assert!(
        wait_until(Duration::from_secs(2), || std::net::TcpStream::connect(
            local(port)
        )
        .is_err()),
        "its listener is closed"
    );
    assert!(!pidfile.exists(), "the pid file is removed on exit");
}
