//! Launching the real proxies under test: the `gatehouse` binary built by
//! cargo and the reference `/usr/sbin/haproxy`, both as `BIN -db -f FILE`
//! in the foreground, plus the `BIN -c -f FILE…` config check.

use std::ffi::OsString;
use std::fs::File;
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Config, DEFAULT_TIMEOUT, TempDir, local};

/// Path of the `gatehouse` binary cargo built for this test run.
pub fn gatehouse_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gatehouse"))
}

/// Path of the reference haproxy: `$HAPROXY_BIN`, else `/usr/sbin/haproxy`,
/// else `haproxy` found on `$PATH`; `None` when not installed.
pub fn haproxy_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HAPROXY_BIN") {
        return Some(PathBuf::from(p));
    }
    let default = PathBuf::from("/usr/sbin/haproxy");
    if default.is_file() {
        return Some(default);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("haproxy"))
        .find(|p| p.is_file())
}

/// Like [`haproxy_bin`] but fails the test with setup instructions when
/// haproxy is missing (differential tests must not silently skip).
pub fn require_haproxy() -> PathBuf {
    haproxy_bin().unwrap_or_else(|| {
        panic!(
            "haproxy is not installed but differential tests need it as the reference; \
             run scripts/test.sh (it installs haproxy via apt-get) or set HAPROXY_BIN"
        )
    })
}

/// Runs `binary -c -f PATH…` and returns (exit code, stdout, stderr); the
/// exit code is -1 when the process died from a signal.
pub fn check(binary: &Path, cfg_paths: &[&Path]) -> (i32, String, String) {
    let mut cmd = Command::new(binary);
    cmd.arg("-c");
    for p in cfg_paths {
        cmd.arg("-f").arg(p);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} -c: {e}", binary.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Options for launching a proxy; finish with [`DaemonBuilder::start`]
/// (waits for the ports) or [`DaemonBuilder::spawn`] (does not wait).
#[derive(Debug)]
pub struct DaemonBuilder {
    binary: PathBuf,
    cfg_text: String,
    wait_ports: Vec<u16>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    extra_files: Vec<(String, Vec<u8>)>,
    startup_timeout: Duration,
    run_as: Option<(u32, u32)>,
}

impl DaemonBuilder {
    /// A launch of `binary` with config `cfg_text` (already rendered).
    pub fn new(binary: impl Into<PathBuf>, cfg_text: &str) -> DaemonBuilder {
        DaemonBuilder {
            binary: binary.into(),
            cfg_text: cfg_text.to_string(),
            wait_ports: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            extra_files: Vec::new(),
            startup_timeout: DEFAULT_TIMEOUT,
            run_as: None,
        }
    }

    /// Waits for 127.0.0.1:`port` to accept before `start` returns.
    pub fn wait_port(mut self, port: u16) -> DaemonBuilder {
        self.wait_ports.push(port);
        self
    }

    /// Waits for each of `ports`.
    pub fn wait_ports(mut self, ports: &[u16]) -> DaemonBuilder {
        self.wait_ports.extend_from_slice(ports);
        self
    }

    /// Appends a command-line argument after `-db -f FILE`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> DaemonBuilder {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable for the process.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> DaemonBuilder {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Writes an extra file (e.g. an errorfile) next to the config; the
    /// process runs with that directory as its working directory.
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> DaemonBuilder {
        self.extra_files.push((name.to_string(), contents.into()));
        self
    }

    /// How long `start` waits for the ports (default 10 s).
    pub fn startup_timeout(mut self, t: Duration) -> DaemonBuilder {
        self.startup_timeout = t;
        self
    }

    /// Starts the process under this uid and gid (the test must run as root).
    pub fn run_as(mut self, uid: u32, gid: u32) -> DaemonBuilder {
        self.run_as = Some((uid, gid));
        self
    }

    /// Spawns the process without waiting for anything.
    pub fn spawn(self) -> Daemon {
        let dir = TempDir::new(
            self.binary
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("proxy"),
        );
        let cfg_path = dir.write("haproxy.cfg", &self.cfg_text);
        for (name, contents) in &self.extra_files {
            dir.write(name, contents);
        }
        let stdout_path = dir.path().join("stdout.log");
        let stderr_path = dir.path().join("stderr.log");
        let stdout = File::create(&stdout_path).expect("create stdout.log");
        let stderr = File::create(&stderr_path).expect("create stderr.log");
        let mut cmd = Command::new(&self.binary);
        cmd.arg("-db")
            .arg("-f")
            .arg(&cfg_path)
            .args(&self.args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        // A binary the test just wrote (a copy) may be "busy" for a moment: another
        // test thread's fork holds the writing descriptor until its exec (ETXTBSY).
        let mut tries = 0;
        let child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                r => break r,
            }
        }
        .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", self.binary.display()));
        Daemon {
            child: Some(child),
            exit: None,
            binary: self.binary,
            cfg_path,
            stdout_path,
            stderr_path,
            dir,
        }
    }

    /// Spawns the process and waits until every wait port accepts; panics
    /// with the process's stderr if it exits or the ports never open.
    pub fn start(self) -> Daemon {
        let ports = self.wait_ports.clone();
        let timeout = self.startup_timeout;
        let cfg_text = self.cfg_text.clone();
        let mut d = self.spawn();
        let deadline = Instant::now() + timeout;
        for port in ports {
            loop {
                if let Some(status) = d.try_exit() {
                    panic!(
                        "{} exited with {status} before listening on {port}\nstderr:\n{}\nstdout:\n{}",
                        d.binary.display(),
                        d.stderr(),
                        d.stdout()
                    );
                }
                if TcpStream::connect_timeout(&local(port), Duration::from_millis(200)).is_ok() {
                    break;
                }
                if Instant::now() >= deadline {
                    panic!(
                        "{} did not listen on 127.0.0.1:{port} within {timeout:?}\nstderr:\n{}",
                        d.binary.display(),
                        d.stderr()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // A TCP port may accept before the process has bound its stats sockets
        // (HAProxy binds a unix socket under a temporary name, then renames it).
        for path in unix_stats_sockets(&cfg_text, d.dir()) {
            while std::os::unix::net::UnixStream::connect(&path).is_err()
                && d.try_exit().is_none()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        d
    }
}

/// The unix `stats socket` paths of `cfg` (relative ones under `dir`).
fn unix_stats_sockets(cfg: &str, dir: &Path) -> Vec<PathBuf> {
    cfg.lines()
        .filter_map(|l| l.trim_start().strip_prefix("stats socket "))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|a| match a.strip_prefix("unix@") {
            Some(p) => Some(p),
            None if a.contains('@') || (a.contains(':') && !a.contains('/')) => None,
            None => Some(a),
        })
        .map(|p| dir.join(p))
        .collect()
}

/// A running proxy process; stopped on drop (SIGTERM, then SIGKILL after 5 s).
#[derive(Debug)]
pub struct Daemon {
    child: Option<Child>,
    exit: Option<ExitStatus>,
    binary: PathBuf,
    cfg_path: PathBuf,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    dir: TempDir,
}

impl Daemon {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Everything the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// Waits until at least `n` lines of the process's stdout contain `needle`
    /// (a log line is the proxy's own word that it finished something) and
    /// returns all such lines; returns the lines found so far after
    /// `timeout`, for the caller's assertion to report.
    pub fn wait_stdout_lines(&self, needle: &str, n: usize, timeout: Duration) -> Vec<String> {
        let lines = || -> Vec<String> {
            self.stdout()
                .lines()
                .filter(|l| l.contains(needle))
                .map(str::to_string)
                .collect()
        };
        super::wait_until(timeout, || lines().len() >= n);
        lines()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits until a line of the process's stderr satisfies `pred` and returns the
    /// first such line; `None` after `timeout`, for the caller's assertion to report.
    pub fn wait_stderr_line(
        &self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let mut found = None;
        super::wait_until(timeout, || {
            found = self.stderr().lines().find(|l| pred(l)).map(str::to_string);
            found.is_some()
        });
        found
    }

    /// Path of the config file the process was started with.
    pub fn config_path(&self) -> &Path {
        &self.cfg_path
    }

    /// The process's working directory (holds config and logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Exit status if the process has exited, without blocking.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Some(child) = self.child.as_mut()
            && let Ok(Some(st)) = child.try_wait()
        {
            self.exit = Some(st);
        }
        self.exit
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.try_exit().is_none()
    }

    /// Sends signal `sig` (e.g. `libc::SIGUSR1`) to the process.
    pub fn signal(&mut self, sig: i32) {
        if self.is_running() {
            let pid = self.pid() as libc::pid_t;
            // SAFETY: kill(2) with a pid we spawned and still own (not reaped).
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }

    /// Reloads in place (`SIGUSR2`) and waits for one more "Loading success." on
    /// stderr than before; panics with stderr if none comes within 10 s.
    pub fn reload_in_place(&mut self) {
        let loads = |d: &Daemon| d.stderr().matches("Loading success.").count();
        let before = loads(self);
        self.signal(libc::SIGUSR2);
        let done = super::wait_until(DEFAULT_TIMEOUT, || loads(self) > before);
        assert!(done, "the reload did not load:\n{}", self.stderr());
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_exit() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the process: SIGTERM, then SIGKILL if still alive after 5 s.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        if let Some(st) = self.wait_exit(Duration::from_secs(5)) {
            return Some(st);
        }
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            if let Ok(st) = child.wait() {
                self.exit = Some(st);
            }
        }
        self.exit
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The gatehouse binary under test, running `-db -f <cfg>`.
#[derive(Debug)]
pub struct Gatehouse(pub Daemon);

impl Gatehouse {
    /// Launch options for gatehouse with config text `cfg_text`.
    pub fn builder(cfg_text: &str) -> DaemonBuilder {
        DaemonBuilder::new(gatehouse_bin(), cfg_text)
    }

    /// Starts gatehouse and waits until each of `wait_ports` accepts.
    pub fn start(cfg_text: &str, wait_ports: &[u16]) -> Gatehouse {
        Gatehouse(Self::builder(cfg_text).wait_ports(wait_ports).start())
    }

    /// Renders `cfg` and starts gatehouse, waiting on its listen ports.
    pub fn start_config(cfg: &Config) -> Gatehouse {
        Self::start(&cfg.render(), &cfg.listen_ports())
    }
}

impl Deref for Gatehouse {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.0
    }
}

impl DerefMut for Gatehouse {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.0
    }
}

/// The reference haproxy, running `-db -f <cfg>` (differential tests).
#[derive(Debug)]
pub struct Haproxy(pub Daemon);

impl Haproxy {
    /// Launch options for haproxy with config text `cfg_text`; fails the
    /// test if haproxy is not installed.
    pub fn builder(cfg_text: &str) -> DaemonBuilder {
        DaemonBuilder::new(require_haproxy(), cfg_text)
    }

    /// Starts haproxy and waits until each of `wait_ports` accepts.
    pub fn start(cfg_text: &str, wait_ports: &[u16]) -> Haproxy {
        Haproxy(Self::builder(cfg_text).wait_ports(wait_ports).start())
    }

    /// Renders `cfg` and starts haproxy, waiting on its listen ports.
    pub fn start_config(cfg: &Config) -> Haproxy {
        Self::start(&cfg.render(), &cfg.listen_ports())
    }
}

impl Deref for Haproxy {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.0
    }
}

impl DerefMut for Haproxy {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.0
    }
}

/// Whether this run checks the tests against HAProxy itself (`GATEHOUSE_TEST_PROXY=haproxy`)
/// instead of gatehouse.
pub fn reference_run() -> bool {
    std::env::var("GATEHOUSE_TEST_PROXY").as_deref() == Ok("haproxy")
}

/// A launcher for `cfg`: the real haproxy when `haproxy` is true, gatehouse otherwise
/// (for tests that run the same configuration through both).
pub fn proxy_builder(haproxy: bool, cfg: &Config) -> DaemonBuilder {
    if haproxy {
        Haproxy::builder(&cfg.render())
    } else {
        Gatehouse::builder(&cfg.render())
    }
}

/// Starts the proxy under test with `cfg`: gatehouse, or haproxy in a reference run.
pub fn start_proxy(cfg: &Config) -> Daemon {
    if reference_run() {
        Haproxy::start_config(cfg).0
    } else {
        Gatehouse::start_config(cfg).0
    }
}
