//! `-Ws` speaks systemd's notify protocol to a real unix datagram socket (`READY=1` once
//! listening, `RELOADING=1` then `READY=1` on reload, from the master), and the command
//! lines of `examples/gatehouse.service` work as systemd runs them: `ExecStartPre`,
//! `ExecStart` with `$NOTIFY_SOCKET`, and each `ExecReload` with `$MAINPID`
//! substituted — the master replaces its worker, its master CLI (`-S` in `EXTRAOPTS`)
//! shows it.

mod support;

use std::collections::HashMap;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{HttpBackend, HttpClient, TempDir, free_port, gatehouse_bin, local};

/// Kills the service process when the test ends, whatever happens.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        // SIGTERM first, as `systemctl stop`: the master stops its worker and removes
        // its files; SIGKILL if it is still there after 5 s.
        // SAFETY: kill() sends a signal to the child this test started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The unit's `Environment=` assignments and its `Exec*=` lines, in order.
fn unit() -> (HashMap<String, String>, Vec<(String, String)>) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gatehouse.service"),
    )
    .unwrap();
    let mut env = HashMap::new();
    let mut execs = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key == "Environment" {
            // "K=V" "K2=V2": quoted assignments separated by spaces.
            for a in value.split('"').filter(|a| a.contains('=')) {
                let (k, v) = a.split_once('=').unwrap();
                env.insert(k.to_owned(), v.to_owned());
            }
        } else if key.starts_with("Exec") {
            execs.push((key.to_owned(), value.to_owned()));
        }
    }
    (env, execs)
}

/// A command line as systemd expands it: `$VAR` is replaced and split at whitespace
/// (an empty value gives no argument); the installed binary path is the one built here.
fn command(line: &str, env: &HashMap<String, String>) -> Command {
    let words: Vec<String> = line
        .split_whitespace()
        .flat_map(|w| match w.strip_prefix('$') {
            Some(var) => env[var]
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
            None => vec![w.to_owned()],
        })
        .collect();
    let program = if words[0] == "/usr/sbin/gatehouse" {
        gatehouse_bin().to_string_lossy().into_owned()
    } else {
        words[0].clone()
    };
    let mut cmd = Command::new(program);
    cmd.args(&words[1..]);
    cmd
}

fn config(port: u16, backend: std::net::SocketAddr, tag: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    http-response set-header X-Gen {tag}\n\
         \x20   default_backend be\nbackend be\n    server s1 {backend}\n"
    )
}

fn gen_at(port: u16) -> Option<String> {
    let mut c = HttpClient::connect(local(port)).ok()?;
    let r = c.get("/", &[]).ok()?;
    r.header("x-gen").map(str::to_owned)
}

/// The next datagram systemd would receive.
fn next_message(sock: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .expect("no notify message within the timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn example_unit_starts_notifies_and_reloads() {
    let b1 = HttpBackend::start("b1");
    let dir = TempDir::new("systemd-unit");
    let port = free_port();
    let cfg = dir.write("haproxy.cfg", config(port, b1.addr(), "one"));
    let pidfile = dir.path().join("gatehouse.pid");
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();

    let (mut env, execs) = unit();
    assert_eq!(env["CONFIG"], "/etc/gatehouse/haproxy.cfg");
    assert_eq!(env["EXTRAOPTS"], "-S /run/gatehouse-master.sock");
    let msock = dir.path().join("master.sock");
    env.insert("EXTRAOPTS".into(), format!("-S {}", msock.display()));
    env.insert("CONFIG".into(), cfg.to_string_lossy().into_owned());
    env.insert("PIDFILE".into(), pidfile.to_string_lossy().into_owned());
    let lines = |key: &str| -> Vec<String> {
        execs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(lines("ExecReload").len(), 2, "{execs:?}");

    // ExecStartPre: the configuration check.
    for line in lines("ExecStartPre") {
        let out = command(&line, &env).output().unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
    }
    // ExecStart, with the socket systemd would give it.
    let start = &lines("ExecStart")[0];
    let service = Service(
        command(start, &env)
            .env("NOTIFY_SOCKET", &notify_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mainpid = service.0.id();
    let ready = next_message(&notify);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    assert!(
        ready.lines().any(|l| l == format!("MAINPID={mainpid}")),
        "{ready:?}"
    );
    // READY=1 means listening: the very next connection is served.
    assert_eq!(gen_at(port).as_deref(), Some("one"));
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap().trim(),
        mainpid.to_string()
    );

    let worker = support::socat::unix_cmd(&msock, "@1 show info");
    assert!(!worker.contains(&format!("Pid: {mainpid}\n")), "{worker}");
    assert!(worker.contains("Pid: "), "{worker}");
    // systemctl reload: each ExecReload line with $MAINPID, in order.
    env.insert("MAINPID".into(), mainpid.to_string());
    std::fs::write(&cfg, config(port, b1.addr(), "two")).unwrap();
    for line in lines("ExecReload") {
        let out = command(&line, &env).output().unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
    }
    let reloading = next_message(&notify);
    assert!(
        reloading.lines().any(|l| l == "RELOADING=1"),
        "{reloading:?}"
    );
    let ready = next_message(&notify);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    assert!(
        ready.lines().any(|l| l == format!("MAINPID={mainpid}")),
        "{ready:?}"
    );
    assert_eq!(gen_at(port).as_deref(), Some("two"));
    // A new worker serves; the master (systemd's main pid) is the same process.
    let now = support::socat::unix_cmd(&msock, "@1 show info");
    let pid_line = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Pid: "))
            .map(str::to_owned)
    };
    assert!(pid_line(&now).is_some(), "{now}");
    assert_ne!(pid_line(&now), pid_line(&worker));
    assert!(support::socat::unix_cmd(&msock, "show proc").starts_with(&format!(
        "#<PID>          <type>          <reloads>       <uptime>        <version>      \n{mainpid:<15} master          1 [failed: 0]"
    )));

    // A broken configuration: the check line fails, so systemd never signals.
    std::fs::write(
        &cfg,
        config(port, b1.addr(), "three")
            .replace("default_backend", "frobnicate on\n    default_backend"),
    )
    .unwrap();
    let check = &lines("ExecReload")[0];
    let out = command(check, &env).output().unwrap();
    assert!(!out.status.success(), "{check} accepted a broken file");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("frobnicate"),
        "{out:?}"
    );
    assert_eq!(gen_at(port).as_deref(), Some("two"));
}

#[test]
fn without_ws_nothing_is_sent_to_notify_socket() {
    let b1 = HttpBackend::start("b1");
    let dir = TempDir::new("systemd-nows");
    let port = free_port();
    let cfg = dir.write("haproxy.cfg", config(port, b1.addr(), "one"));
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_nonblocking(true).unwrap();
    let _service = Service(
        Command::new(gatehouse_bin())
            .args(["-W", "-db", "-f"])
            .arg(&cfg)
            .env("NOTIFY_SOCKET", &notify_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(support::wait_until(Duration::from_secs(10), || gen_at(
        port
    )
    .is_some()));
    // Listening, so a -Ws process would have sent READY=1 before this point.
    let mut buf = [0u8; 64];
    assert!(notify.recv(&mut buf).is_err(), "-W sent a notify message");
}
