//! Process life: daemon mode, pid file, `chroot` and `user`/`group` once bound, signals
//! as HAProxy 2.6 handles them (SIGTERM/SIGINT: die by that signal; SIGUSR1: soft stop;
//! SIGHUP: dump states; SIGQUIT: harmless), the tokio runtime (`nbthread`), `-d` traces,
//! and the accept loops with global and frontend `maxconn` (at the limit a listener
//! pauses; the kernel backlog holds new connections until a slot frees: nothing is
//! dropped). Accepted sockets get `option clitcpka`/`tcpka` and `nolinger`.

use super::listener::{self, BoundListener};
use super::session::{ConnGuard, ConnInfo};
use crate::config::model::{Config, Mode};
use crate::runtime::frontend::Frontend;
use crate::runtime::snapshot::{self, Snapshot};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use tokio::sync::Semaphore;

/// How the process should run.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Detach into the background.
    pub daemon: bool,
    /// Write the pid here.
    pub pidfile: Option<PathBuf>,
    /// The configuration files (for reloads).
    pub config_files: Vec<PathBuf>,
    /// `-q`: no warnings on stderr (the soft-stop messages).
    pub quiet: bool,
    /// `-d`: debug mode, every accepted connection is traced on stdout.
    pub debug: bool,
    /// `-L NAME`: the local peer name (what `peers` sections match; default the host
    /// name). Kept for the peers milestone.
    pub local_peer: Option<String>,
}

/// How the serving loop ended.
enum Stop {
    /// Exit with this status (soft stop, or a failure).
    Exit(u8),
    /// Die from this signal, as HAProxy does on SIGTERM and SIGINT.
    Signal(i32),
}

fn alert(msg: &str) {
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

/// The `maxconn` limits a listener waits for before accepting.
struct Gates {
    /// Its bind line's `maxconn`, for this listener alone.
    bind: Option<Arc<Semaphore>>,
    /// The frontend's `maxconn`, shared by its listeners.
    frontend: Arc<Semaphore>,
    /// The process's.
    process: Arc<Limits>,
}

/// Shared limits for accept loops.
struct Limits {
    global: Arc<Semaphore>,
}

/// Runs the proxy until it is stopped; returns the process exit status.
pub fn run(config: Config, opts: ServeOptions) -> u8 {
    let snap = match snapshot::build(&config) {
        Ok(s) => Arc::new(s),
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            return 1;
        }
    };
    // Bind everything before detaching so that errors reach the terminal.
    // Each listener with its bind line's `maxconn`.
    let mut bound: Vec<(Arc<Frontend>, BoundListener, Option<u32>)> = Vec::new();
    for fe in &snap.frontends {
        let backlog = if fe.maxconn > 0 {
            fe.maxconn
        } else {
            snap.global.maxconn
        }
        .max(1024);
        for b in &fe.binds {
            match listener::bind_all(b, backlog) {
                Ok(ls) => bound.extend(ls.into_iter().map(|l| (fe.clone(), l, b.maxconn))),
                Err(e) => {
                    alert(&format!("Starting frontend {}: {e}", fe.name));
                    return 1;
                }
            }
        }
    }
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
    let threads = snap.global.nbthread.max(1);
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
    let stop = rt.block_on(serve(snap, bound, &names, &opts));
    if let Some(p) = &opts.pidfile {
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
            fe.map_or(0, |f| f.total.load(Ordering::Relaxed)),
            be.map_or(0, |b| b.total.load(Ordering::Relaxed)),
        );
    }
}

async fn serve(
    snap: Arc<Snapshot>,
    bound: Vec<(Arc<Frontend>, BoundListener, Option<u32>)>,
    names: &[String],
    opts: &ServeOptions,
) -> Stop {
    use tokio::signal::unix::{SignalKind, signal};
    let limits = Arc::new(Limits {
        global: Arc::new(Semaphore::new(snap.global.maxconn as usize)),
    });
    let stopping = Arc::new(AtomicBool::new(false));
    let live = Arc::new(AtomicUsize::new(0));
    let mut fe_sems: Vec<(String, Arc<Semaphore>)> = Vec::new();
    let mut accept_tasks = Vec::new();
    for (fe, l, bind_max) in bound {
        let sem = match fe_sems.iter().find(|(n, _)| *n == fe.name) {
            Some((_, s)) => s.clone(),
            None => {
                let max = if fe.maxconn > 0 {
                    fe.maxconn
                } else {
                    snap.global.maxconn
                };
                let s = Arc::new(Semaphore::new(max as usize));
                fe_sems.push((fe.name.clone(), s.clone()));
                s
            }
        };
        let task = tokio::spawn(accept_loop(
            fe,
            snap.clone(),
            l,
            Gates {
                // A bind line's `maxconn` limits each of its listeners on its own.
                bind: bind_max
                    .filter(|m| *m > 0)
                    .map(|m| Arc::new(Semaphore::new(m as usize))),
                frontend: sem,
                process: limits.clone(),
            },
            live.clone(),
            opts.debug,
        ));
        accept_tasks.push(task);
    }
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut hup), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::hangup()),
        signal(SignalKind::quit()),
    ) else {
        alert("cannot install signal handlers");
        return Stop::Exit(1);
    };
    let mut accept_tasks = Some(accept_tasks);
    loop {
        let soft = accept_tasks.is_none();
        if soft && live.load(Ordering::SeqCst) == 0 {
            return Stop::Exit(0);
        }
        tokio::select! {
            _ = term.recv() => return Stop::Signal(libc::SIGTERM),
            _ = int.recv() => return Stop::Signal(libc::SIGINT),
            // HAProxy dumps the servers' states on SIGHUP and its memory pools (which
            // gatehouse does not have) on SIGQUIT; neither stops the process.
            _ = hup.recv() => sighup_dump(&snap, names),
            _ = quit.recv() => {}
            _ = usr1.recv(), if !soft => {
                // Soft stop: stop accepting, let current connections finish.
                stopping.store(true, Ordering::SeqCst);
                for t in accept_tasks.take().into_iter().flatten() {
                    t.abort();
                }
                if !opts.quiet {
                    soft_stop_messages(&snap, names);
                }
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)), if soft => {}
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
                s.total.load(Ordering::Relaxed)
            );
        }
        let unassigned = be.map_or(0, |b| load(&b.queued));
        let pend = unassigned + servers.iter().map(|s| load(&s.queued)).sum::<u32>();
        let conn = format!(
            "Conn: act(FE+BE): {}+{}, {pend} pend ({unassigned} unass), tot(FE+BE): {}+{}.",
            fe.map_or(0, |f| load(&f.feconn)),
            be.map_or(0, |b| load(&b.beconn)),
            fe.map_or(0, |f| f.total.load(Ordering::Relaxed)),
            be.map_or(0, |b| b.total.load(Ordering::Relaxed)),
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

struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn accept_loop(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    l: BoundListener,
    gates: Gates,
    live: Arc<AtomicUsize>,
    debug: bool,
) {
    enum L {
        Tcp(tokio::net::TcpListener),
        Unix(tokio::net::UnixListener),
    }
    let l = match l {
        BoundListener::Tcp(t) => tokio::net::TcpListener::from_std(t).map(L::Tcp),
        BoundListener::Unix(u) => tokio::net::UnixListener::from_std(u).map(L::Unix),
    };
    let Ok(l) = l else {
        alert(&format!("Proxy {}: cannot register listener", fe.name));
        return;
    };
    let lfd = {
        use std::os::fd::AsRawFd;
        match &l {
            L::Tcp(t) => t.as_raw_fd(),
            L::Unix(u) => u.as_raw_fd(),
        }
    };
    loop {
        // Wait for room under the listener's, the frontend's and the process's maxconn
        // before accepting.
        let bind_permit = match &gates.bind {
            Some(s) => match s.clone().acquire_owned().await {
                Ok(p) => Some(p),
                Err(_) => return,
            },
            None => None,
        };
        let Ok(fe_permit) = gates.frontend.clone().acquire_owned().await else {
            return;
        };
        let Ok(g_permit) = gates.process.global.clone().acquire_owned().await else {
            return;
        };
        let accepted = match &l {
            L::Tcp(t) => t.accept().await.map(|(s, peer)| {
                let _ = s.set_nodelay(true);
                let sock = socket2::SockRef::from(&s);
                if fe.clitcpka {
                    let _ = sock.set_keepalive(true);
                }
                if fe.nolinger {
                    let _ = sock.set_linger(Some(std::time::Duration::ZERO));
                }
                let local = s.local_addr().ok();
                (Stream::Tcp(s), Some(peer), local)
            }),
            L::Unix(u) => u.accept().await.map(|(s, _)| (Stream::Unix(s), None, None)),
        };
        let (stream, peer, local) = match accepted {
            Ok(x) => x,
            Err(_) => {
                // Out of descriptors or similar: back off briefly instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let conn = ConnInfo {
            peer,
            local,
            accept_date: SystemTime::now(),
            accepted: Instant::now(),
        };
        if !crate::runtime::rules::tcp_verdict(&fe.tcp_connection, &conn) {
            drop(stream);
            continue;
        }
        if debug {
            trace_accept(&fe.name, lfd, &stream, peer);
        }
        live.fetch_add(1, Ordering::SeqCst);
        // Held for the life of the connection: its maxconn slots and its counts.
        let hold = (
            (bind_permit, fe_permit),
            g_permit,
            LiveGuard(live.clone()),
            ConnGuard::new(fe.clone(), snap.clone()),
        );
        let (fe, snap) = (fe.clone(), snap.clone());
        // Each connection is one task whose future is the mode's own loop, with no
        // wrapper future around it: an idle connection costs only that loop's state.
        match (fe.mode, stream) {
            (Mode::Http, Stream::Tcp(s)) => spawn(super::http::serve(fe, snap, s, conn, hold)),
            (Mode::Http, Stream::Unix(s)) => spawn(super::http::serve(fe, snap, s, conn, hold)),
            (Mode::Tcp, Stream::Tcp(s)) => spawn(async move {
                let _hold = hold;
                super::tcp::serve(fe, snap, s, conn).await
            }),
            (Mode::Tcp, Stream::Unix(s)) => spawn(async move {
                let _hold = hold;
                super::tcp::serve(fe, snap, s, conn).await
            }),
        }
    }
}

/// `-d`: HAProxy's accept trace line on stdout,
/// `SESSID:PROXY.accept(LISTENER_FD)=CLIENT_FD from [ADDR] ALPN=<none>`.
fn trace_accept(fe: &str, lfd: std::os::fd::RawFd, s: &Stream, peer: Option<std::net::SocketAddr>) {
    use std::os::fd::AsRawFd;
    static SESSIONS: AtomicUsize = AtomicUsize::new(0);
    let id = SESSIONS.fetch_add(1, Ordering::Relaxed) as u32;
    let fd = match s {
        Stream::Tcp(t) => t.as_raw_fd(),
        Stream::Unix(u) => u.as_raw_fd(),
    };
    let from = peer.map_or_else(|| "unix".to_owned(), |p| p.to_string());
    // A closed stdout must not stop the accept loop: write errors are ignored.
    let _ = writeln!(
        std::io::stdout(),
        "{id:08x}:{fe}.accept({lfd:04x})={fd:04x} from [{from}] ALPN=<none>"
    );
}

fn spawn(f: impl std::future::Future<Output = ()> + Send + 'static) {
    tokio::spawn(f);
}

enum Stream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}
