//! Process life: daemon mode, pid file, `chroot` and `user`/`group` once bound, signals
//! as HAProxy 2.6 handles them (SIGTERM/SIGINT: die by that signal; SIGUSR1: soft stop;
//! SIGHUP: dump states; SIGQUIT: harmless; SIGUSR2: reload the configuration in place),
//! the tokio runtime (`nbthread`) and `-d` traces. The listeners, their accept loops
//! with global and frontend `maxconn` (at the limit a listener pauses; the kernel
//! backlog holds new connections until a slot frees: nothing is dropped) and reloads
//! are in `running.rs`.

use super::running::{Running, StartError};
use crate::config::model::Config;
use crate::runtime::live::Store;
use crate::runtime::snapshot::{Shared, Snapshot};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// What a control plane (the runtime API) asks of the serving loop, which owns the
/// running proxy.
#[derive(Debug)]
pub enum Control {
    /// Recompile the running configuration with the store's runtime-added servers
    /// (`add server`, `del server`); the answer carries the alerts when it failed.
    Rebuild(oneshot::Sender<Result<(), String>>),
    /// Size the frontends' `maxconn` gates again (`set maxconn frontend`).
    Resize,
}

/// What a control plane is handed: the current snapshot, the live-state store and
/// the way to ask the serving loop for what only it can do.
#[derive(Clone)]
pub struct ControlHandle {
    /// The current snapshot.
    pub current: Shared,
    /// The live-state store.
    pub store: Arc<Store>,
    /// Requests to the serving loop.
    pub requests: mpsc::UnboundedSender<Control>,
}

/// A control plane over the running proxy: the runtime API's sockets. It sits above
/// the proxy, which only calls it through this trait.
pub trait ControlPlane: Send {
    /// Takes the configuration that is (re)loaded: binds the sockets it names that are
    /// not bound yet and closes those it no longer names. The first call happens
    /// before the proxy's own listeners are bound and before the runtime starts, so
    /// that errors reach the terminal and the sockets exist once the proxy accepts.
    fn configure(&mut self, config: &Config) -> Result<(), String>;
    /// Serves the sockets bound and not served yet, over the running proxy `handle`,
    /// with the configuration last given to `configure`. Runs inside the runtime.
    fn start(&mut self, handle: &ControlHandle);
}

/// Builds the control plane of a proxy (`gatehouse::admin::start`).
pub type ControlFactory = fn() -> Box<dyn ControlPlane>;

/// How the process should run.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Detach into the background.
    pub daemon: bool,
    /// Write the pid here.
    pub pidfile: Option<PathBuf>,
    /// The configuration files (for reloads).
    pub config_files: Vec<PathBuf>,
    /// How a reload reads and checks them (`gatehouse::load::load`: the loader sits
    /// above the proxy, which only calls it).
    pub loader: Option<fn(&[PathBuf]) -> crate::config::Loaded>,
    /// `-q`: no warnings on stderr (the soft-stop messages).
    pub quiet: bool,
    /// `-d`: debug mode, every accepted connection is traced on stdout.
    pub debug: bool,
    /// `-L NAME`: the local peer name (what `peers` sections match; default the host
    /// name). Kept for the peers milestone.
    pub local_peer: Option<String>,
    /// The runtime API (`stats socket`), built by the layer above the proxy.
    pub control: Option<ControlFactory>,
    /// `-sf`/`-st`: the processes this one replaces, signalled once it accepts.
    pub old_pids: Vec<i32>,
    /// `-st`: terminate them (SIGTERM) rather than soft-stop them (SIGUSR1).
    pub terminate_old: bool,
    /// `-Ws`: tell systemd (`$NOTIFY_SOCKET`) when it is ready and when it reloads.
    pub systemd_notify: bool,
    /// `-x`: the old process's live state, loaded into the store before accepting.
    pub inherit: Option<Inherit>,
    /// A worker under a master: the pipe it writes one byte to once it accepts.
    pub ready_fd: Option<std::os::fd::RawFd>,
}

/// The live state of the process being replaced, as its runtime API dumped it, and the
/// function (of a layer above) that loads it into the new store.
#[derive(Clone, Debug)]
pub struct Inherit {
    /// Loads `dumps` into the store.
    pub apply: fn(&Store, &[String]),
    /// What the old process said.
    pub dumps: Vec<String>,
}

/// `grace` and `hard-stop-after`, as the configuration serving says.
#[derive(Clone, Copy, Default)]
struct StopTimes {
    grace: Option<std::time::Duration>,
    hard_stop_after: Option<std::time::Duration>,
}

impl StopTimes {
    fn of(g: &crate::config::model::Global) -> StopTimes {
        StopTimes {
            grace: g.grace,
            hard_stop_after: g.hard_stop_after,
        }
    }
}

/// `-sf`/`-st`: signals the processes being replaced, now that this one accepts (their
/// sockets take no new connection any more: `Running::take_new_connections`).
fn signal_old(opts: &ServeOptions) {
    let sig = if opts.terminate_old {
        libc::SIGTERM
    } else {
        libc::SIGUSR1
    };
    for &pid in &opts.old_pids {
        // SAFETY: kill() only sends a signal; a pid that is gone yields ESRCH.
        if unsafe { libc::kill(pid, sig) } == -1 {
            eprintln!(
                "[WARNING]  ({}) : Failed to send signal {sig} to old pid {pid} : {}",
                std::process::id(),
                std::io::Error::last_os_error()
            );
        }
    }
}

/// `-Ws`: one message to systemd; a failure is reported, serving goes on.
fn sd_notify(opts: &ServeOptions, msg: &str) {
    if opts.systemd_notify
        && let Err(e) = super::notify::notify(msg)
    {
        eprintln!(
            "[WARNING]  ({}) : cannot notify systemd ($NOTIFY_SOCKET): {e}",
            std::process::id()
        );
    }
}

/// How the serving loop ended.
enum Stop {
    /// Exit with this status (soft stop, or a failure).
    Exit(u8),
    /// Die from this signal, as HAProxy does on SIGTERM and SIGINT.
    Signal(i32),
}

/// Prints an `[ALERT]` line as HAProxy does.
pub(crate) fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {msg}", std::process::id());
}

/// `-D`: forks; the launching process writes the server's pid into the pid file (when
/// there is one) and exits 0 only then, as HAProxy does, so that whoever started it
/// (a script, systemd's `Type=forking`) finds the pid file complete as soon as the
/// command returns. The server continues in a new session, on /dev/null.
fn daemonize(pidfile: Option<&mut std::fs::File>) -> std::io::Result<()> {
    // SAFETY: fork() before any thread exists (the runtime is built afterwards); the
    // parent only writes the pid file and exits without touching shared state.
    match unsafe { libc::fork() } {
        -1 => return Err(std::io::Error::last_os_error()),
        0 => {}
        child => {
            if let Some(f) = pidfile
                && let Err(e) = f.write_all(format!("{child}\n").as_bytes())
            {
                alert(&format!("Cannot write pidfile : {e}"));
            }
            std::process::exit(0)
        }
    }
    // SAFETY: setsid() only changes the session of this (child) process.
    unsafe { libc::setsid() };
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
    }
    Ok(())
}

/// Runs the proxy until it is stopped; returns the process exit status.
pub fn run(config: Config, opts: ServeOptions) -> u8 {
    // From the moment the listeners are bound, a client (or a script waiting for the
    // port) may send a control signal: it waits, blocked, until the handlers exist.
    control_signals(libc::SIG_BLOCK);
    // Bind everything before detaching so that errors reach the terminal: the runtime
    // API's sockets first, so that they exist once the proxy's listeners accept.
    let mut control = opts.control.map(|factory| factory());
    if let Some(cp) = control.as_mut()
        && let Err(e) = cp.configure(&config)
    {
        alert(&e);
        return 1;
    }
    let mut running = match Running::new(&config) {
        Ok(r) => r,
        Err(StartError::Compile(msgs)) => {
            for m in msgs {
                eprintln!("{m}");
            }
            return 1;
        }
        Err(e) => {
            alert(&e.to_string());
            return 1;
        }
    };
    // `-x`: the old sockets no bind named close now (the old process keeps its own).
    super::xfer::close_unused();
    if let Some(inherit) = &opts.inherit {
        (inherit.apply)(running.store(), &inherit.dumps);
    }
    if !opts.old_pids.is_empty()
        && let Err(e) = running.take_new_connections()
    {
        alert(&format!(
            "cannot take the listeners over from the old process: {e}"
        ));
        return 1;
    }
    running.set_debug(opts.debug);
    running.set_quiet(opts.quiet);
    let (requests, control_rx) = mpsc::unbounded_channel();
    let handle = ControlHandle {
        current: running.shared(),
        store: Arc::clone(running.store()),
        requests,
    };
    // The pid file is created while errors still reach the terminal; it receives the pid
    // of the serving process (written by the launching process in daemon mode).
    let mut pidfile = match &opts.pidfile {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(f),
            Err(e) => {
                alert(&format!("Cannot create pidfile {} : {e}", p.display()));
                return 1;
            }
        },
        None => None,
    };
    if opts.daemon {
        if let Err(e) = daemonize(pidfile.as_mut()) {
            alert(&format!("Cannot fork: {e}"));
            return 1;
        }
    } else if let Some(f) = &mut pidfile
        && let Err(e) = f.write_all(format!("{}\n", std::process::id()).as_bytes())
    {
        alert(&format!("Cannot write pidfile : {e}"));
        return 1;
    }
    drop(pidfile);
    if let Err(e) = set_identity(&config.global) {
        alert(&e);
        return 1;
    }
    let threads = running.snapshot().global.nbthread.max(1);
    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            alert(&format!("cannot start the runtime: {e}"));
            return 1;
        }
    };
    if opts.debug {
        // Write errors (stdout closed by its reader) are ignored: serving goes on.
        let _ = writeln!(std::io::stdout(), "Using epoll() as the polling mechanism.");
    }
    // Proxy names in configuration order, for the soft-stop messages.
    let names: Vec<String> = config.proxies.iter().map(|p| p.name.clone()).collect();
    let stops = StopTimes::of(&config.global);
    let stop = rt.block_on(serve(
        running,
        names,
        stops,
        &opts,
        control.as_deref_mut(),
        &handle,
        control_rx,
    ));
    // A process started with `-sf` wrote its own pid in the file meanwhile: the file is
    // only removed while it still names this process.
    if let Some(p) = &opts.pidfile
        && std::fs::read_to_string(p).is_ok_and(|t| t.trim() == std::process::id().to_string())
    {
        let _ = std::fs::remove_file(p);
    }
    match stop {
        Stop::Exit(code) => code,
        Stop::Signal(sig) => {
            // SAFETY: restoring the default action of a signal and raising it in this
            // process: the process ends as killed by that signal, like HAProxy.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
            128 + sig as u8
        }
    }
}

/// Confines and drops privileges as HAProxy does once the listeners are bound (and after
/// detaching): `chroot` (then `chdir("/")`); with `group`, supplementary groups are
/// dropped and the gid set; with `user`, the uid is set. Uid and gid 0 mean
/// "unchanged", as in HAProxy.
fn set_identity(g: &crate::config::model::Global) -> Result<(), String> {
    let uid = match &g.user {
        Some(u) => {
            crate::config::global::user_id(u).ok_or(format!("cannot find user id for '{u}'"))?
        }
        None => 0,
    };
    let gid = match &g.group {
        Some(n) => {
            crate::config::global::group_id(n).ok_or(format!("cannot find group id for '{n}'"))?
        }
        None => 0,
    };
    // Names are resolved first: the jail has no user database.
    if let Some(dir) = &g.chroot {
        let fail = || format!("[gatehouse.main()] Cannot chroot({}).", dir.display());
        std::os::unix::fs::chroot(dir).map_err(|_| fail())?;
        std::env::set_current_dir("/").map_err(|_| fail())?;
    }
    if gid != 0 {
        // SAFETY: getgroups(0, NULL) only counts; setgroups(0, NULL) clears the list.
        if unsafe { libc::getgroups(0, std::ptr::null_mut()) } > 0
            && unsafe { libc::setgroups(0, std::ptr::null()) } == -1
        {
            eprintln!(
                "[WARNING]  ({}) : [gatehouse.main()] Failed to drop supplementary groups. \
                 Using 'gid'/'group' without 'uid'/'user' is generally useless.",
                std::process::id()
            );
        }
        // SAFETY: setgid changes this process's credentials; no memory is involved.
        if unsafe { libc::setgid(gid) } == -1 {
            return Err(format!("[gatehouse.main()] Cannot set gid {gid}."));
        }
    }
    // SAFETY: as above, for the uid (before any thread exists).
    if uid != 0 && unsafe { libc::setuid(uid) } == -1 {
        return Err(format!("[gatehouse.main()] Cannot set uid {uid}."));
    }
    Ok(())
}

/// HAProxy's soft-stop messages: one per proxy, in configuration order, with the
/// connections it took as a frontend and as a backend.
fn soft_stop_messages(snap: &Snapshot, names: &[String]) {
    let pid = std::process::id();
    for name in names {
        let fe = snap.frontends.iter().find(|f| f.name == *name);
        let be = snap.backends.iter().find(|b| b.name == *name);
        if fe.is_none() && be.is_none() {
            continue;
        }
        eprintln!(
            "[WARNING]  ({pid}) : Proxy {name} stopped (cumulated conns: FE: {}, BE: {}).",
            fe.map_or(0, |f| f.live.counters.stot.load(Ordering::Relaxed)),
            be.map_or(0, |b| b.counters.stot.load(Ordering::Relaxed)),
        );
    }
}

/// Blocks or unblocks, in the calling thread, the signals gatehouse handles but whose
/// default action would kill it (`SIGUSR1`, `SIGUSR2`, `SIGHUP`, `SIGQUIT`).
fn control_signals(how: libc::c_int) {
    // SAFETY: sigemptyset/sigaddset fill a local set; pthread_sigmask changes only the
    // calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGHUP, libc::SIGQUIT] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// Re-reads the configuration files and reloads in place: HAProxy's master messages
/// (`Reloading HAProxy`, `Loading success.`, else the reasons and `Loading failure!`,
/// the running configuration going on). Updates the proxy names and stop times to
/// those of the configuration now serving.
fn reload(
    running: &mut Running,
    names: &mut Vec<String>,
    stops: &mut StopTimes,
    opts: &ServeOptions,
    control: Option<&mut (dyn ControlPlane + 'static)>,
    handle: &ControlHandle,
) {
    let pid = std::process::id();
    eprintln!("[NOTICE]   ({pid}) : Reloading HAProxy");
    let Some(load) = opts.loader else {
        alert("reload: no configuration loader");
        return;
    };
    let loaded = load(&opts.config_files);
    for d in &loaded.diags {
        if !opts.quiet || d.is_alert() {
            eprintln!("{d}");
        }
    }
    let result = if loaded.has_errors() {
        for f in &loaded.files_with_errors {
            alert(&format!(
                "config : Error(s) found in configuration file : {f}"
            ));
        }
        alert("config : Fatal errors found in configuration.");
        Err(())
    } else {
        running.reload(&loaded.config).map_err(|e| match e {
            StartError::Compile(msgs) => msgs.iter().for_each(|m| eprintln!("{m}")),
            e => alert(&e.to_string()),
        })
    };
    match result {
        Ok(()) => {
            *names = loaded
                .config
                .proxies
                .iter()
                .map(|p| p.name.clone())
                .collect();
            if let Some(cp) = control {
                // The proxy runs the new configuration: a runtime API socket that
                // cannot be bound is reported, the others serve.
                if let Err(e) = cp.configure(&loaded.config) {
                    alert(&e);
                }
                cp.start(handle);
            }
            *stops = StopTimes::of(&loaded.config.global);
            eprintln!("[NOTICE]   ({pid}) : Loading success.");
        }
        Err(()) => eprintln!("[WARNING]  ({pid}) : Loading failure!"),
    }
}

async fn serve(
    mut running: Running,
    mut names: Vec<String>,
    mut stops: StopTimes,
    opts: &ServeOptions,
    mut control: Option<&mut (dyn ControlPlane + 'static)>,
    handle: &ControlHandle,
    mut requests: mpsc::UnboundedReceiver<Control>,
) -> Stop {
    use tokio::signal::unix::{SignalKind, signal};
    use tokio::time::{Instant, sleep_until};
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut usr2), Ok(mut hup), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
        signal(SignalKind::hangup()),
        signal(SignalKind::quit()),
    ) else {
        alert("cannot install signal handlers");
        return Stop::Exit(1);
    };
    // The handlers exist: signals that came meanwhile are delivered now, to this thread
    // (the runtime's threads were created with them blocked).
    control_signals(libc::SIG_UNBLOCK);
    running.start();
    super::busy_poll::set(running.snapshot().global.busy_polling);
    super::busy_poll::start(running.snapshot().global.nbthread);
    if let Some(cp) = control.as_deref_mut() {
        cp.start(handle);
    }
    // Names a reload or `del server` removed are forgotten once nothing uses them.
    let mut sweep = tokio::time::interval(std::time::Duration::from_secs(1));
    signal_old(opts);
    // Sockets shared with the old processes (`-x`): they go on accepting until they
    // handle the soft stop; ready is said once they no longer do (bounded: `grace`
    // keeps them accepting on purpose).
    if super::xfer::any_taken() && !opts.old_pids.is_empty() {
        super::xfer::wait_released(&opts.old_pids, std::time::Duration::from_secs(2)).await;
    }
    sd_notify(opts, &super::notify::ready_message());
    if let Some(fd) = opts.ready_fd {
        // SAFETY: the descriptor is the pipe the master handed over for this one write;
        // it is owned here and closed once written.
        let mut f = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let _ = f.write_all(b"R");
    }
    // A soft stop in progress: when the listeners close (after `grace`) and when the
    // process ends whatever remains (`hard-stop-after`).
    let mut soft: Option<(Option<Instant>, Option<Instant>)> = None;
    let far = || Instant::now() + std::time::Duration::from_secs(86400 * 365);
    loop {
        if let Some((None, _)) = soft
            && running.connections() == 0
            && running.drained()
        {
            return Stop::Exit(0);
        }
        let unbind_at = soft.and_then(|s| s.0);
        let hard_at = soft.and_then(|s| s.1);
        tokio::select! {
            _ = term.recv() => return Stop::Signal(libc::SIGTERM),
            _ = int.recv() => return Stop::Signal(libc::SIGINT),
            // HAProxy dumps the servers' states on SIGHUP and its memory pools (which
            // gatehouse does not have) on SIGQUIT; neither stops the process.
            _ = hup.recv() => sighup_dump(&running.snapshot(), &names),
            _ = quit.recv() => {}
            _ = usr2.recv(), if soft.is_none() => {
                sd_notify(opts, super::notify::RELOADING);
                reload(&mut running, &mut names, &mut stops, opts, control.as_deref_mut(), handle);
                super::busy_poll::set(running.snapshot().global.busy_polling);
                sd_notify(opts, &super::notify::ready_message());
            }
            Some(req) = requests.recv() => match req {
                // A soft-stopping proxy accepts nothing new: no rebuild reopens its
                // listeners.
                Control::Rebuild(answer) if soft.is_some() => {
                    let _ = answer.send(Err("The proxy is stopping.".to_owned()));
                }
                Control::Rebuild(answer) => {
                    let r = running.rebuild().map_err(|e| e.to_string());
                    let _ = answer.send(r);
                }
                Control::Resize => running.resize(),
            },
            _ = sweep.tick() => running.store().sweep(),
            _ = usr1.recv(), if soft.is_none() => {
                // Soft stop: keep-alive connections close after their current request;
                // after `grace`, the listeners take what their queues hold and close;
                // connections in progress finish (or `hard-stop-after` ends them).
                running.mark_stopping();
                let now = Instant::now();
                soft = Some((
                    Some(now + stops.grace.unwrap_or_default()),
                    stops.hard_stop_after.map(|d| now + d),
                ));
            }
            _ = sleep_until(unbind_at.unwrap_or_else(far)), if unbind_at.is_some() => {
                running.stop_accepting();
                if !opts.quiet {
                    soft_stop_messages(&running.snapshot(), &names);
                }
                soft = Some((None, hard_at));
            }
            _ = sleep_until(hard_at.unwrap_or_else(far)), if hard_at.is_some() => {
                if !opts.quiet {
                    eprintln!(
                        "[WARNING]  ({}) : soft-stop running for too long, performing a hard-stop.",
                        std::process::id()
                    );
                }
                return Stop::Exit(0);
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)), if soft.is_some() => {}
        }
    }
}

/// HAProxy's SIGHUP dump: each server's state, then each proxy's, in configuration order.
fn sighup_dump(snap: &Snapshot, names: &[String]) {
    let pid = std::process::id();
    eprintln!("[WARNING]  ({pid}) : SIGHUP received, dumping servers states.");
    for name in names {
        let fe = snap.frontends.iter().find(|f| f.name == *name);
        let be = snap.backends.iter().find(|b| b.name == *name);
        if fe.is_none() && be.is_none() {
            continue;
        }
        let load = |a: &std::sync::atomic::AtomicU32| a.load(Ordering::Relaxed);
        let servers = be.map(|b| b.servers.as_slice()).unwrap_or_default();
        for s in servers {
            let up = s.up.load(Ordering::Relaxed) && !s.maint.load(Ordering::Relaxed);
            eprintln!(
                "[WARNING]  ({pid}) : SIGHUP: Server {name}/{} is {}. Conn: {} act, {} pend, {} tot.",
                s.name,
                if up { "UP" } else { "DOWN" },
                load(&s.cur_conns),
                load(&s.queued),
                s.counters.stot.load(Ordering::Relaxed)
            );
        }
        let unassigned = be.map_or(0, |b| load(&b.queued));
        let pend = unassigned + servers.iter().map(|s| load(&s.queued)).sum::<u32>();
        let conn = format!(
            "Conn: act(FE+BE): {}+{}, {pend} pend ({unassigned} unass), tot(FE+BE): {}+{}.",
            fe.map_or(0, |f| load(&f.live.counters.scur)),
            be.map_or(0, |b| load(&b.counters.scur)),
            fe.map_or(0, |f| f.live.counters.stot.load(Ordering::Relaxed)),
            be.map_or(0, |b| b.counters.stot.load(Ordering::Relaxed)),
        );
        let up = |backup: bool| {
            servers
                .iter()
                .filter(|s| s.backup == backup)
                .filter(|s| s.up.load(Ordering::Relaxed) && !s.maint.load(Ordering::Relaxed))
                .count()
        };
        let state = if servers.is_empty() {
            "has no servers.".to_owned()
        } else if up(false) == 0 && up(true) > 0 {
            "is running on backup servers !".to_owned()
        } else if up(false) == 0 {
            "has no server available !".to_owned()
        } else {
            format!(
                "has {} active servers and {} backup servers available.",
                up(false),
                up(true)
            )
        };
        eprintln!("[WARNING]  ({pid}) : SIGHUP: Proxy {name} {state} {conn}");
    }
}
