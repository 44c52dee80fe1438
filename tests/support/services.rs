//! Real database and cache servers for the health-check tests: PostgreSQL, MariaDB
//! and Redis from Debian's packages (`scripts/install-deps.sh` installs them), each
//! started on 127.0.0.1 on a free port in a temporary directory of its own, waited for
//! until it is ready, and stopped on drop.
//!
//! PostgreSQL refuses to run as root: under root it runs as `nobody` (its directory
//! handed over to that user). MariaDB runs as the current user (`--user=root` under
//! root). A server that cannot start fails the test with its own log.

use super::{TempDir, free_port};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to become ready.
const READY: Duration = Duration::from_secs(60);

/// The uid/gid `nobody` has on Debian.
pub(super) const NOBODY: u32 = 65534;

/// The path of a server's program `name`: Debian's PostgreSQL 15 directory first
/// (`/usr/lib/postgresql/15/bin`, not on the PATH), then `/usr/sbin`, then the PATH.
/// Panics, naming the install script, when it is nowhere.
pub fn service_bin(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = vec![
        "/usr/lib/postgresql/15/bin".into(),
        "/usr/sbin".into(),
        "/sbin".into(),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: run scripts/install-deps.sh"))
}

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `cmd` to completion; panics with its output if it fails.
pub(super) fn run(mut cmd: Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server process with its directory, its log, and the signal that stops it.
#[derive(Debug)]
pub struct Service {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
    port: u16,
    stop_signal: i32,
    // Dropped last: the server is stopped before its files go.
    dir: TempDir,
}

impl Service {
    /// Starts `cmd` (the server `name`, listening on `port`), its output into
    /// `server.log` in `dir`; `stop_signal` stops it.
    pub(super) fn spawn(
        name: &'static str,
        dir: TempDir,
        port: u16,
        mut cmd: Command,
        stop_signal: i32,
    ) -> Service {
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).expect("create server.log");
        let err = out.try_clone().expect("clone server.log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Service {
            name,
            child: Some(child),
            log,
            port,
            stop_signal,
            dir,
        }
    }

    /// Waits until the log says `ready`; panics with the log if the server exits or
    /// takes too long.
    pub(super) fn wait_ready(self, ready: &str) -> Service {
        let mut me = self;
        let deadline = Instant::now() + READY;
        loop {
            if me.log().contains(ready)
                && std::net::TcpStream::connect(("127.0.0.1", me.port)).is_ok()
            {
                return me;
            }
            if let Some(Ok(Some(st))) = me.child.as_mut().map(Child::try_wait) {
                panic!(
                    "{} exited ({st}) before it was ready:\n{}",
                    me.name,
                    me.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready within {READY:?}:\n{}",
                me.name,
                me.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's own log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server and waits until it has exited (its port is then closed).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: kill(2) on a child we spawned and have not reaped.
        unsafe {
            libc::kill(child.id() as libc::pid_t, self.stop_signal);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(child.try_wait(), Ok(None)) {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// PostgreSQL 15: `initdb` with the superuser `postgres` trusted from 127.0.0.1, every
/// user named in `rejected` refused by `pg_hba.conf` (the server answers with an
/// error message before any authentication), then `postgres` on a free port.
pub fn postgres(rejected: &[&str]) -> Service {
    let dir = TempDir::new("postgres");
    let root = is_root();
    let as_user = |cmd: &mut Command| {
        if root {
            cmd.uid(NOBODY).gid(NOBODY);
        }
    };
    if root {
        std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY))
            .expect("hand the postgres directory to nobody");
    }
    let data = dir.path().join("data");
    let mut init = Command::new(service_bin("initdb"));
    init.arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-N"])
        .env("LC_ALL", "C")
        .current_dir(dir.path());
    as_user(&mut init);
    run(init, "initdb");
    let mut hba = String::from("local all all trust\n");
    for u in rejected {
        hba.push_str(&format!("host all {u} 127.0.0.1/32 reject\n"));
    }
    hba.push_str("host all all 127.0.0.1/32 trust\n");
    std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
    let port = free_port();
    let mut cmd = Command::new(service_bin("postgres"));
    cmd.arg("-D")
        .arg(&data)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .args(["-c", "fsync=off", "-c", "max_connections=20"])
        .env("LC_ALL", "C")
        .current_dir(dir.path());
    as_user(&mut cmd);
    // SIGQUIT: immediate shutdown, backends included.
    Service::spawn("postgres", dir, port, cmd, libc::SIGQUIT)
        .wait_ready("database system is ready to accept connections")
}

/// MariaDB: `mariadb-install-db` into a new data directory, then `mariadbd` on a free
/// port with the user `haproxy`@`127.0.0.1` (no password) created at start-up.
pub fn mariadb() -> Service {
    let dir = TempDir::new("mariadb");
    let data = dir.path().join("data");
    let user: Vec<&str> = if is_root() {
        vec!["--user=root"]
    } else {
        vec![]
    };
    // mariadb-install-db runs my_print_defaults (Debian's mariadb-client-core, which
    // mariadb-server-core does not bring): found first, for a clear message.
    service_bin("my_print_defaults");
    let mut init = Command::new(service_bin("mariadb-install-db"));
    init.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(&user)
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .current_dir(dir.path());
    run(init, "mariadb-install-db");
    let sql = dir.write(
        "init.sql",
        "CREATE USER IF NOT EXISTS 'haproxy'@'127.0.0.1';\n\
         CREATE USER IF NOT EXISTS 'haproxy'@'localhost';\n",
    );
    let port = free_port();
    let p = dir.path();
    let mut cmd = Command::new(service_bin("mariadbd"));
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(&user)
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", p.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", p.join("mysqld.pid").display()))
        .arg(format!("--init-file={}", sql.display()))
        .args([
            "--skip-log-bin",
            "--innodb-buffer-pool-size=16M",
            "--max-connections=20",
        ])
        .current_dir(p);
    Service::spawn("mariadbd", dir, port, cmd, libc::SIGKILL).wait_ready("ready for connections")
}

/// Redis, without persistence; `password` sets `requirepass`.
pub fn redis(password: Option<&str>) -> Service {
    redis_on(free_port(), password)
}

/// Redis on `port` (a Redis started again where one was stopped).
pub fn redis_on(port: u16, password: Option<&str>) -> Service {
    redis_args(port, password, &[])
}

/// Redis, a replica of the Redis on `master` (`replicaof`).
pub fn redis_replica(master: u16) -> Service {
    let m = master.to_string();
    redis_args(free_port(), None, &["--replicaof", "127.0.0.1", &m])
}

fn redis_args(port: u16, password: Option<&str>, extra: &[&str]) -> Service {
    let dir = TempDir::new("redis");
    let mut cmd = Command::new(service_bin("redis-server"));
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(dir.path())
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(extra)
        .current_dir(dir.path());
    if let Some(pw) = password {
        cmd.args(["--requirepass", pw]);
    }
    Service::spawn("redis-server", dir, port, cmd, libc::SIGKILL)
        .wait_ready("Ready to accept connections")
}

/// A Redis Sentinel (Debian's `redis-sentinel`) watching the master `name` on port
/// `master`, alone in its quorum: it calls the master down after one second without
/// answers and promotes a replica.
pub fn redis_sentinel(master: u16, name: &str) -> Service {
    let dir = TempDir::new("sentinel");
    let port = free_port();
    let conf = dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndaemonize no\ndir {}\n\
             sentinel monitor {name} 127.0.0.1 {master} 1\n\
             sentinel down-after-milliseconds {name} 1000\n\
             sentinel failover-timeout {name} 5000\n\
             sentinel parallel-syncs {name} 1\n",
            dir.path().display()
        ),
    )
    .expect("write sentinel.conf");
    let mut cmd = Command::new(service_bin("redis-sentinel"));
    cmd.arg(&conf).current_dir(dir.path());
    Service::spawn("redis-sentinel", dir, port, cmd, libc::SIGKILL).wait_ready("+monitor master")
}
