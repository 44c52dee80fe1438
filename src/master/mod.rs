//! Master-worker mode (`-W`, `-Ws`) and process handoffs, as HAProxy 2.6 runs them
//! (management.txt sections 3, 4 and 9.4).
//!
//! The master is the process that was started (its pid in the pid file, systemd's
//! main pid); it serves no traffic. It starts one worker — the same binary without
//! `-W`, in the foreground — and on `SIGUSR2` or the master CLI's `reload` it
//! re-executes itself on its binary path (so a replaced binary is picked up, with the
//! same pid and the workers still its children), then starts a new worker with `-x` on
//! the current worker's internal socket and `-sf` its pid: the new worker takes the
//! listening sockets and the live state over (`state.rs`, `crate::proxy::xfer`) and
//! soft-stops the old one, which finishes what it has. A new worker that fails (a
//! broken configuration) leaves the current one serving (`Loading failure!`).
//!
//! - `worker.rs`: the worker's side (its internal socket, its ready pipe).
//! - `mcli.rs`: the master CLI (`-S`): `show proc`, `reload`, `@N`/`@!PID` prefixes.
//! - `state.rs`: the live state a new process reads from the old one.

pub mod mcli;
pub mod state;
pub mod worker;

use serde_json::json;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The master's state handed to its next image across a re-exec.
const ENV_STATE: &str = "GATEHOUSE_MASTER_STATE";

/// How the master was started.
#[derive(Clone, Debug)]
pub struct MasterOptions {
    /// The command line, without the program name (what a re-exec runs again).
    pub args: Vec<String>,
    /// The binary's path, as started (a re-exec runs the file now there).
    pub exe: PathBuf,
    /// `-p` (or `pidfile`): the master's pid goes there.
    pub pidfile: Option<PathBuf>,
    /// `-Ws`: systemd's notify protocol.
    pub notify: bool,
    /// `-S` arguments.
    pub cli: Vec<String>,
    /// `-D`: detach.
    pub daemon: bool,
    /// `-q`.
    pub quiet: bool,
    /// `master-worker no-exit-on-failure`: when the current worker fails, the former
    /// ones are not killed; the master stays while one is left (and a reload starts a
    /// new current worker), as HAProxy's.
    pub no_exit_on_failure: bool,
}

/// One worker process.
#[derive(Clone, Debug, PartialEq)]
pub struct Proc {
    /// Its pid.
    pub pid: i32,
    /// Its internal runtime-API socket.
    pub socket: PathBuf,
    /// Master reloads it went through.
    pub reloads: u32,
    /// When it started (seconds since the epoch).
    pub started: u64,
    /// The version it runs.
    pub version: String,
    /// Soft-stopping (an old worker).
    pub leaving: bool,
}

/// What the master knows, shared with the master CLI.
#[derive(Debug, Default)]
pub struct View {
    /// When the master first started (seconds since the epoch).
    pub started: u64,
    /// Its reloads.
    pub reloads: u32,
    /// Reloads that failed.
    pub failed: u32,
    /// The last reload failed.
    pub last_failed: bool,
    /// Workers, current first, then leaving ones.
    pub workers: Vec<Proc>,
    /// Workers started so far (names their sockets).
    pub seq: u32,
    /// The private directory of the workers' sockets.
    pub dir: PathBuf,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn notice(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("[NOTICE]   ({}) : {msg}", std::process::id());
    }
}

fn warning(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
    }
}

fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {msg}", std::process::id());
}

/// The worker's command line: the master's without the master's own flags, in the
/// foreground.
fn worker_args(args: &[String]) -> Vec<String> {
    let mut out = vec!["-db".to_owned()];
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-W" | "-Ws" | "-D" => {}
            "-p" | "-S" | "-x" => {
                it.next();
            }
            "-sf" | "-st" => {
                while it.peek().is_some_and(|p| p.parse::<i32>().is_ok()) {
                    it.next();
                }
            }
            _ => out.push(a.clone()),
        }
    }
    out
}

/// Blocks (or unblocks) the signals the master handles, so that none arriving across
/// a re-exec (before the new image's handlers exist) kills it.
fn block_signals(how: libc::c_int) {
    // SAFETY: sigemptyset/sigaddset fill a local set; sigprocmask changes only this
    // process's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGHUP,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGCHLD,
            libc::SIGQUIT,
        ] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// Starts a worker; returns its pid and the read end of its ready pipe.
fn spawn_worker(
    opts: &MasterOptions,
    view: &mut View,
    takeover: Option<&Proc>,
) -> io::Result<(Proc, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills `fds` with two new descriptors, close-on-exec.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    view.seq += 1;
    let socket = view.dir.join(format!("worker-{}.sock", view.seq));
    let mut cmd = std::process::Command::new(&opts.exe);
    cmd.args(worker_args(&opts.args));
    if let Some(old) = takeover {
        cmd.arg("-x").arg(&old.socket);
        cmd.arg("-sf").arg(old.pid.to_string());
    }
    cmd.env(worker::ENV_SOCKET, &socket)
        .env(worker::ENV_READY_FD, wr.as_raw_fd().to_string())
        .env_remove("NOTIFY_SOCKET")
        .env_remove(ENV_STATE);
    let wfd = wr.as_raw_fd();
    let master = std::process::id() as i32;
    // SAFETY: between fork and exec only async-signal-safe calls: the ready pipe is
    // kept across exec, the worker dies with the master (SIGTERM), and the signal mask
    // the master may hold is cleared.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(wfd, libc::F_SETFD, 0) == -1
                || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1
            {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != master {
                libc::_exit(1);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    drop(wr);
    let proc_ = Proc {
        pid: child.id() as i32,
        socket,
        reloads: 0,
        started: now(),
        version: crate::VERSION.to_owned(),
        leaving: false,
    };
    // The child is reaped by waitpid in the master's loop.
    drop(child);
    Ok((proc_, rd))
}

/// Waits until the worker wrote its ready byte (true) or closed the pipe without it
/// (false: it failed).
async fn wait_ready(rd: OwnedFd) -> bool {
    let fd = rd.as_raw_fd();
    // SAFETY: the descriptor is owned by `rd`, alive across this call.
    unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) };
    let Ok(mut rx) = tokio::net::unix::pipe::Receiver::from_owned_fd(rd) else {
        return false;
    };
    use tokio::io::AsyncReadExt;
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_secs(120), rx.read(&mut b)).await,
        Ok(Ok(1))
    )
}

/// The state a re-executed master starts from.
fn encode(view: &View, cli_fds: &[RawFd]) -> String {
    json!({
        "started": view.started,
        "reloads": view.reloads,
        "failed": view.failed,
        "seq": view.seq,
        "dir": view.dir.to_string_lossy(),
        "cli": cli_fds,
        "workers": view.workers.iter().map(|w| json!({
            "pid": w.pid,
            "socket": w.socket.to_string_lossy(),
            "reloads": w.reloads,
            "started": w.started,
            "version": w.version,
            "leaving": w.leaving,
        })).collect::<Vec<_>>(),
    })
    .to_string()
}

fn decode(text: &str) -> Option<(View, Vec<RawFd>)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let u = |x: &serde_json::Value| x.as_u64().unwrap_or(0);
    let workers = v["workers"]
        .as_array()?
        .iter()
        .map(|w| Proc {
            pid: u(&w["pid"]) as i32,
            socket: PathBuf::from(w["socket"].as_str().unwrap_or_default()),
            reloads: u(&w["reloads"]) as u32,
            started: u(&w["started"]),
            version: w["version"].as_str().unwrap_or("-").to_owned(),
            leaving: w["leaving"].as_bool().unwrap_or(true),
        })
        .collect();
    let cli = v["cli"].as_array()?.iter().map(|f| u(f) as RawFd).collect();
    Some((
        View {
            started: u(&v["started"]),
            reloads: u(&v["reloads"]) as u32,
            failed: u(&v["failed"]) as u32,
            last_failed: false,
            workers,
            seq: u(&v["seq"]) as u32,
            dir: PathBuf::from(v["dir"].as_str()?),
        },
        cli,
    ))
}

/// Whether this process is a master re-executed by a reload.
pub fn reexecuted() -> bool {
    std::env::var_os(ENV_STATE).is_some()
}

/// `-Ws`: one message to systemd.
fn sd_notify(opts: &MasterOptions, msg: &str) {
    if opts.notify
        && let Err(e) = crate::proxy::notify::notify(msg)
    {
        warning(
            false,
            &format!("cannot notify systemd ($NOTIFY_SOCKET): {e}"),
        );
    }
}

/// What the master's loop is asked to do (by signals or the master CLI).
#[derive(Debug)]
pub enum Request {
    /// `reload`.
    Reload,
}

/// Runs the master until it ends; returns the exit status.
pub fn run(opts: MasterOptions) -> u8 {
    block_signals(libc::SIG_BLOCK);
    let inherited = std::env::var(ENV_STATE).ok();
    // SAFETY: no other thread exists yet (the runtime is built below).
    unsafe { std::env::remove_var(ENV_STATE) };
    let (mut view, cli_fds) = match inherited.as_deref().and_then(decode) {
        Some((v, fds)) => (v, fds),
        None => {
            if opts.daemon
                && let Err(e) = daemonize()
            {
                alert(&format!("Cannot fork: {e}"));
                return 1;
            }
            // Private (0700) and not guessable: created anew, never reused.
            let dir = std::env::temp_dir().join(format!(
                "gatehouse-master-{}-{:016x}",
                std::process::id(),
                fastrand::u64(..)
            ));
            let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
            if let Err(e) = made {
                alert(&format!("cannot create {}: {e}", dir.display()));
                return 1;
            }
            (
                View {
                    started: now(),
                    dir,
                    ..View::default()
                },
                Vec::new(),
            )
        }
    };
    let first = inherited.is_none();
    // The master CLI: bound now, or inherited across the re-exec.
    let mut listeners = if first {
        match mcli::bind(&opts.cli) {
            Ok(l) => l,
            Err(e) => {
                alert(&e);
                return 1;
            }
        }
    } else {
        cli_fds
            .iter()
            .filter_map(|&fd| mcli::adopt(fd).ok())
            .collect()
    };
    if !first {
        mcli::relevel(&mut listeners, &opts.cli);
    }
    if first
        && let Some(p) = &opts.pidfile
        && let Err(e) = std::fs::write(p, format!("{}\n", std::process::id()))
    {
        alert(&format!("Cannot create pidfile {} : {e}", p.display()));
        return 1;
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            alert(&format!("cannot start the runtime: {e}"));
            return 1;
        }
    };
    if !first {
        // Every worker is one more reload old.
        view.reloads += 1;
        for w in &mut view.workers {
            w.reloads += 1;
        }
    }
    let view = Arc::new(Mutex::new(view));
    rt.block_on(serve(opts, view, listeners, first))
}

use std::os::unix::fs::DirBuilderExt;

/// `-D` for the master: forks, the parent exits, the master goes on in a new session
/// on /dev/null.
fn daemonize() -> io::Result<()> {
    // SAFETY: fork() before any thread exists; the parent exits at once.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: setsid() only changes this (child) process's session.
    unsafe { libc::setsid() };
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
    }
    Ok(())
}

/// The master's loop.
async fn serve(
    opts: MasterOptions,
    view: Arc<Mutex<View>>,
    listeners: Vec<mcli::Listener>,
    first: bool,
) -> u8 {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut usr2), Ok(mut hup), Ok(mut chld)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
        signal(SignalKind::hangup()),
        signal(SignalKind::child()),
    ) else {
        alert("cannot install signal handlers");
        return 1;
    };
    block_signals(libc::SIG_UNBLOCK);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cli_fds: Vec<RawFd> = listeners.iter().map(mcli::Listener::raw_fd).collect();
    let shared = Arc::new(mcli::Shared {
        view: Arc::clone(&view),
        requests: tx,
    });
    for l in listeners {
        tokio::spawn(mcli::serve(l, Arc::clone(&shared)));
    }
    // Start (or, after a re-exec, replace) the worker.
    let ok = start_worker(&opts, &view).await;
    if first && !ok {
        alert("Failed to start the worker, exiting.");
        let _ = std::fs::remove_dir_all(&view.lock().unwrap_or_else(|e| e.into_inner()).dir);
        if let Some(p) = &opts.pidfile {
            let _ = std::fs::remove_file(p);
        }
        return 1;
    }
    sd_notify(&opts, &crate::proxy::notify::ready_message());
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut stopping: Option<i32> = None;
    // The status the master ends with once no worker is left, after the current
    // worker died (HAProxy's `exitcode`).
    let mut orphaned: Option<u8> = None;
    loop {
        tokio::select! {
            _ = term.recv() => { signal_workers(&view, libc::SIGTERM); stopping = Some(libc::SIGTERM); }
            _ = int.recv() => { signal_workers(&view, libc::SIGINT); stopping = Some(libc::SIGINT); }
            _ = usr1.recv() => { signal_workers(&view, libc::SIGUSR1); stopping = Some(0); }
            _ = hup.recv() => signal_workers(&view, libc::SIGHUP),
            _ = usr2.recv(), if stopping.is_none() => reexec(&opts, &view, &cli_fds),
            Some(Request::Reload) = rx.recv(), if stopping.is_none() => reexec(&opts, &view, &cli_fds),
            _ = chld.recv() => {}
            _ = tick.tick() => {}
        }
        if let Some(code) = reap(&opts, &view, stopping.is_some())
            && stopping.is_none()
        {
            // The current worker died (HAProxy's `mworker_catch_sigchld`): unless
            // `no-exit-on-failure`, a failure takes every worker down; the master ends
            // once none is left.
            if !matches!(code, 0 | 130 | 143) && !opts.no_exit_on_failure {
                alert("exit-on-failure: killing every processes with SIGTERM");
                signal_workers(&view, libc::SIGTERM);
            }
            if orphaned.is_none_or(|c| c == 0) && code != 143 {
                orphaned = Some(code);
            }
            orphaned.get_or_insert(0);
        }
        let none_left = view
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .workers
            .is_empty();
        if stopping.is_none()
            && none_left
            && let Some(code) = orphaned
        {
            warning(
                opts.quiet,
                &format!("All workers exited. Exiting... ({code})"),
            );
            cleanup(&opts, &view);
            return code;
        }
        if let Some(sig) = stopping
            && view
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .workers
                .is_empty()
        {
            cleanup(&opts, &view);
            if sig != 0 {
                // SAFETY: the default action restored, then raised: the master dies by
                // the signal it was sent, as HAProxy's does.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
            }
            return 0;
        }
    }
}

fn cleanup(opts: &MasterOptions, view: &Arc<Mutex<View>>) {
    let v = view.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::fs::remove_dir_all(&v.dir);
    // The master CLI's socket files.
    for a in &opts.cli {
        let addr = a.split(',').next().unwrap_or_default();
        if let Ok(crate::config::model::BindAddr::Unix(p)) = crate::config::value::bind_addr(addr) {
            let _ = std::fs::remove_file(p);
        }
    }
    if let Some(p) = &opts.pidfile
        && std::fs::read_to_string(p).is_ok_and(|t| t.trim() == std::process::id().to_string())
    {
        let _ = std::fs::remove_file(p);
    }
}

fn signal_workers(view: &Arc<Mutex<View>>, sig: i32) {
    for w in &view.lock().unwrap_or_else(|e| e.into_inner()).workers {
        // SAFETY: kill() only sends a signal to a child of this process.
        unsafe { libc::kill(w.pid, sig) };
    }
}

/// Reaps the workers that ended; `Some(status)` when the current one did.
fn reap(opts: &MasterOptions, view: &Arc<Mutex<View>>, stopping: bool) -> Option<u8> {
    let mut current_died = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on any child, without blocking.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        };
        let mut v = view.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = v.workers.iter().position(|w| w.pid == pid) else {
            continue;
        };
        let w = v.workers.remove(i);
        let _ = std::fs::remove_file(&w.socket);
        if w.leaving || stopping {
            warning(
                opts.quiet,
                &format!("Former worker ({pid}) exited with code {code} (Exit)"),
            );
        } else {
            alert(&format!(
                "Current worker ({pid}) exited with code {code} (Exit)"
            ));
            current_died = Some(code as u8);
        }
    }
    current_died
}

/// Starts a worker (replacing the current one, if any) and waits until it accepts.
async fn start_worker(opts: &MasterOptions, view: &Arc<Mutex<View>>) -> bool {
    let spawned = {
        let mut v = view.lock().unwrap_or_else(|e| e.into_inner());
        let current = v.workers.iter().find(|w| !w.leaving).cloned();
        spawn_worker(opts, &mut v, current.as_ref()).map(|(p, rd)| (p, rd, current))
    };
    let (new, rd, old) = match spawned {
        Ok(x) => x,
        Err(e) => {
            alert(&format!("Cannot fork a worker: {e}"));
            return false;
        }
    };
    notice(opts.quiet, &format!("New worker ({}) forked", new.pid));
    let pid = new.pid;
    view.lock()
        .unwrap_or_else(|e| e.into_inner())
        .workers
        .push(new);
    let ok = wait_ready(rd).await;
    let mut v = view.lock().unwrap_or_else(|e| e.into_inner());
    if ok {
        notice(opts.quiet, "Loading success.");
        if let Some(old) = old
            && let Some(w) = v.workers.iter_mut().find(|w| w.pid == old.pid)
        {
            // It was sent SIGUSR1 by the new worker (`-sf`).
            w.leaving = true;
        }
        // Current first.
        v.workers.sort_by_key(|w| w.leaving);
        v.last_failed = false;
    } else {
        if old.is_some() {
            v.failed += 1;
            v.last_failed = true;
        }
        warning(false, "Loading failure!");
        // The failed worker is reaped (it exited) or ended now.
        if let Some(w) = v.workers.iter_mut().find(|w| w.pid == pid) {
            w.leaving = true;
            // SAFETY: kill() only sends a signal to a child of this process.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
    ok
}

/// A reload: re-executes the master on its binary path with its state; the new image
/// starts the new worker. If the exec itself fails, the master goes on as it was.
fn reexec(opts: &MasterOptions, view: &Arc<Mutex<View>>, cli_fds: &[RawFd]) {
    sd_notify(opts, crate::proxy::notify::RELOADING);
    warning(opts.quiet, "Reexecuting Master process");
    let state = encode(&view.lock().unwrap_or_else(|e| e.into_inner()), cli_fds);
    for &fd in cli_fds {
        // SAFETY: the master CLI's listening sockets are kept across the exec.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
    block_signals(libc::SIG_BLOCK);
    // execve itself (not `Command::exec`, which clears the signal mask): signals that
    // arrive before the new image handles them stay pending instead of killing it.
    let err = execve(opts, &state);
    block_signals(libc::SIG_UNBLOCK);
    for &fd in cli_fds {
        // SAFETY: as above, back to close-on-exec.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    alert(&format!(
        "Cannot re-execute {}: {err}; the master goes on as it was",
        opts.exe.display()
    ));
    let mut v = view.lock().unwrap_or_else(|e| e.into_inner());
    v.failed += 1;
    v.last_failed = true;
    drop(v);
    sd_notify(opts, &crate::proxy::notify::ready_message());
}

/// Replaces this process's image with `opts.exe` and its arguments, the environment
/// plus the master's state; returns only on failure.
fn execve(opts: &MasterOptions, state: &str) -> io::Error {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |b: &[u8]| CString::new(b).map_err(|_| io::Error::other("NUL in an argument"));
    let build = || -> io::Result<(CString, Vec<CString>, Vec<CString>)> {
        let exe = c(opts.exe.as_os_str().as_bytes())?;
        let mut argv = vec![exe.clone()];
        for a in &opts.args {
            argv.push(c(a.as_bytes())?);
        }
        let mut envp = Vec::new();
        for (k, v) in std::env::vars_os() {
            if k == ENV_STATE {
                continue;
            }
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            envp.push(c(&kv)?);
        }
        envp.push(c(format!("{ENV_STATE}={state}").as_bytes())?);
        Ok((exe, argv, envp))
    };
    let (exe, argv, envp) = match build() {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut envp_p: Vec<*const libc::c_char> = envp.iter().map(|a| a.as_ptr()).collect();
    envp_p.push(std::ptr::null());
    // SAFETY: NUL-terminated arrays of NUL-terminated strings, alive for the call.
    unsafe { libc::execve(exe.as_ptr(), argv_p.as_ptr(), envp_p.as_ptr()) };
    io::Error::last_os_error()
}
