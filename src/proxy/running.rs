//! The running proxy: the current snapshot behind one atomic pointer, the live-state
//! store, and one accept loop per `bind` line — and reloads in place.
//!
//! A reload compiles the new configuration against the same store (so what remains
//! keeps its live state), opens the binds that are new, makes the new snapshot current,
//! then closes the binds that were removed. Binds that remain keep their listening
//! sockets and accept loops: no connection is refused. Each request runs with the
//! snapshot that was current when it began; a keep-alive connection takes the new one
//! at its next request. A configuration that fails to compile or bind changes nothing.

use super::lazy_tcp::LazyTcp;
use super::listener::{self, BoundListener};
use super::session::{ConnGuard, ConnInfo};
use crate::config::model::{Config, Mode};
use crate::runtime::frontend::Frontend;
use crate::runtime::live::Store;
use crate::runtime::snapshot::{self, Shared, Snapshot};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Set once a soft stop began (SIGUSR1, or `-sf` from a new process): each keep-alive
/// connection answers its next request with `Connection: close`.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Wakes the connections that wait for a soft stop (HTTP/2's GOAWAY).
static STOP_NOTIFY: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// A soft stop began: no client connection is kept alive after its current request.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::Relaxed)
}

/// Completes when a soft stop begins (at once if it began already).
pub async fn soft_stop() {
    let notified = STOP_NOTIFY.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    if stopping() {
        return;
    }
    notified.await;
}

/// What identifies a bind across reloads: its frontend, its addresses and the options
/// a socket cannot change once bound (`v6only`): as HAProxy's `sock_find_compatible_fd`,
/// a bind whose `v6only` changed gets a new socket. Other options are set again on the
/// socket kept ([`listener::reapply_options`]).
type BindKey = (String, String);

/// A bind line's sockets, bound but not yet accepting (outside the runtime, before
/// detaching, so that errors reach the terminal).
struct Pending {
    key: BindKey,
    listeners: Vec<BoundListener>,
    maxconn: Option<u32>,
}

/// A frontend's `maxconn` gate and the limit it was sized for.
struct Gate {
    sem: Arc<Semaphore>,
    max: u32,
    /// Permits a lower limit took away while connections held them: each is forgotten
    /// when its connection ends instead of coming back (see [`FrontendPermit`]).
    owed: Arc<AtomicU32>,
}

/// A connection's (or a waiting accept's) slot under its frontend's `maxconn`: back to
/// the gate when dropped, unless a lower limit set meanwhile still owes permits.
struct FrontendPermit {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    owed: Arc<AtomicU32>,
}

impl FrontendPermit {
    /// Pays what a lower limit set since this permit was taken still owes, waiting for
    /// another permit of `sem` for each one given up; false once `sem` is closed.
    async fn settle(&mut self, sem: &Arc<Semaphore>) -> bool {
        while self
            .owed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| o.checked_sub(1))
            .is_ok()
        {
            if let Some(p) = self.permit.take() {
                p.forget();
            }
            match permit(sem).await {
                Some(p) => self.permit = Some(p),
                None => return false,
            }
        }
        true
    }
}

impl Drop for FrontendPermit {
    fn drop(&mut self) {
        let paid = self
            .owed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| o.checked_sub(1));
        if let (Ok(_), Some(p)) = (paid, self.permit.take()) {
            p.forget();
        }
    }
}

/// The proxy while it runs.
pub struct Running {
    store: Arc<Store>,
    current: Shared,
    pending: Vec<Pending>,
    accepting: HashMap<BindKey, Vec<JoinHandle<()>>>,
    /// The listening sockets exported for `_getsocks` (`expose-fd listeners`), while
    /// they accept.
    exported: HashMap<BindKey, Vec<super::xfer::Exported>>,
    /// Turned to true at a soft stop: each accept loop takes what its queue holds, then
    /// closes its socket.
    stop: tokio::sync::watch::Sender<bool>,
    /// The accept loops emptying their queues after a soft stop.
    draining: Vec<JoinHandle<()>>,
    gates: HashMap<String, Gate>,
    global: Arc<Semaphore>,
    /// Connections alive, for the soft stop.
    live: Arc<AtomicUsize>,
    debug: bool,
    /// The health checkers, and the plans of the snapshot they are to follow next.
    checks: crate::check::Engine,
    plans: Option<Vec<crate::check::task::Plan>>,
    /// The configuration read from the files, for rebuilds (`add server`, `del
    /// server`): each (re)load compiles it with the store's runtime-added servers.
    config: Config,
    /// What applying the server-state files said, for the log once serving starts.
    state_notices: Vec<crate::runtime::state_file::Notice>,
}

/// Why a configuration could not be started or reloaded.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// It did not compile (addresses, log targets…): one message per problem.
    #[error("{}", .0.join("\n"))]
    Compile(Vec<String>),
    /// A bind failed.
    #[error("Starting frontend {frontend}: {error}")]
    Bind {
        /// The frontend.
        frontend: String,
        /// What the system said.
        error: std::io::Error,
    },
}

fn bind_key(fe: &Frontend, b: &crate::config::model::Bind) -> BindKey {
    (
        fe.name.clone(),
        format!("{:?} v6only={}", b.addrs, b.v6only),
    )
}

fn frontend_max(snap: &Snapshot, fe: &Frontend) -> u32 {
    let runtime = fe.live.maxconn_override.load(Ordering::Relaxed);
    if runtime > 0 {
        runtime
    } else if fe.maxconn > 0 {
        fe.maxconn
    } else {
        snap.global.maxconn
    }
}

/// Binds every bind line of `snap` whose key is not in `skip`.
fn bind_new(
    snap: &Snapshot,
    skip: &HashMap<BindKey, Vec<JoinHandle<()>>>,
) -> Result<Vec<Pending>, StartError> {
    let mut out = Vec::new();
    for fe in &snap.frontends {
        let backlog = frontend_max(snap, fe).max(1024);
        for b in &fe.binds {
            let key = bind_key(fe, b);
            if skip.contains_key(&key) || out.iter().any(|p: &Pending| p.key == key) {
                continue;
            }
            let listeners = listener::bind_all(b, backlog, fe.smart_accept).map_err(|error| {
                StartError::Bind {
                    frontend: fe.name.clone(),
                    error,
                }
            })?;
            out.push(Pending {
                key,
                listeners,
                maxconn: b.maxconn,
            });
        }
    }
    Ok(out)
}

impl Running {
    /// Compiles `config` and binds its listeners; nothing accepts until
    /// [`Running::start`] runs inside the runtime.
    pub fn new(config: &Config) -> Result<Running, StartError> {
        let store = Arc::new(Store::new());
        let file_config = config.clone();
        let config = &store.with_dynamic_servers(config);
        let snap = snapshot::build(config, &store)
            .map_err(|d| StartError::Compile(d.iter().map(ToString::to_string).collect()))?;
        let plans = crate::check::compile(config, &snap)
            .map_err(|d| StartError::Compile(d.iter().map(ToString::to_string).collect()))?;
        let pending = bind_new(&snap, &HashMap::new())?;
        snap.install();
        let state_notices = crate::runtime::state_file::apply(config, &snap, |_, _| true);
        let global = Arc::new(Semaphore::new(snap.global.maxconn as usize));
        Ok(Running {
            store,
            current: Arc::new(ArcSwap::from_pointee(snap)),
            pending,
            accepting: HashMap::new(),
            exported: HashMap::new(),
            stop: tokio::sync::watch::Sender::new(false),
            draining: Vec::new(),
            gates: HashMap::new(),
            global,
            live: Arc::new(AtomicUsize::new(0)),
            debug: false,
            checks: crate::check::Engine::new(),
            plans: Some(plans),
            config: file_config,
            state_notices,
        })
    }

    /// The current snapshot's pointer, shared (what the runtime API reads).
    pub fn shared(&self) -> Shared {
        self.current.clone()
    }

    /// Recompiles the running configuration with the store's runtime-added servers
    /// (after `add server` / `del server`): as a reload without re-reading the files.
    pub fn rebuild(&mut self) -> Result<(), StartError> {
        let config = self.config.clone();
        self.load(&config, false)
    }

    /// Sizes the `maxconn` gates again (after `set maxconn frontend`).
    pub fn resize(&mut self) {
        let snap = self.current.load_full();
        self.resize_gates(&snap);
    }

    /// `-d`: trace every accepted connection on stdout.
    pub fn set_debug(&mut self, debug: bool) {
        self.debug = debug;
    }

    /// `-q`: server state changes are not written to stderr.
    pub fn set_quiet(&mut self, quiet: bool) {
        self.checks.set_quiet(quiet);
    }

    /// The live-state store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Connections currently alive.
    pub fn connections(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// The addresses the TCP listeners of frontend `name` are bound to.
    pub fn local_addrs(&self, name: &str) -> Vec<std::net::SocketAddr> {
        self.pending
            .iter()
            .filter(|p| p.key.0 == name)
            .flat_map(|p| &p.listeners)
            .filter_map(|l| match l {
                BoundListener::Tcp(t) => t.local_addr().ok(),
                BoundListener::Unix(_) => None,
            })
            .collect()
    }

    /// `-sf`/`-st`: the TCP listeners just bound take every new connection from the
    /// process being replaced, which shares their addresses through `SO_REUSEPORT`
    /// ([`listener::take_new_connections`]).
    pub fn take_new_connections(&self) -> std::io::Result<()> {
        for l in self.pending.iter().flat_map(|p| &p.listeners) {
            if let BoundListener::Tcp(t) = l {
                listener::take_new_connections(t)?;
            }
        }
        Ok(())
    }

    /// Starts accepting on every bound listener not accepting yet. Must run inside the
    /// tokio runtime.
    pub fn start(&mut self) {
        let snap = self.current.load_full();
        self.resize_gates(&snap);
        // Tables shared through Redis sync on their own tasks (one per table, kept
        // across reloads with the table).
        crate::runtime::stick::share::start(&snap.tables);
        // The checkers follow the snapshot just made current (on their own tasks).
        if let Some(plans) = self.plans.take() {
            self.checks.apply(plans, &self.store, &snap);
        }
        let pid = std::process::id();
        for n in std::mem::take(&mut self.state_notices) {
            if n.warning && !crate::runtime::events::quiet() {
                eprintln!("[WARNING]  ({pid}) : config : {}", n.text);
            } else if !n.warning && !crate::runtime::events::quiet() {
                eprintln!("[NOTICE]   ({pid}) : config : {}", n.text);
            }
        }
        for p in std::mem::take(&mut self.pending) {
            let Some(gate) = self.gates.get(&p.key.0) else {
                continue;
            };
            let mut tasks = Vec::new();
            let mut exported = Vec::new();
            for l in p.listeners {
                match l.export() {
                    Ok(e) => exported.push(e),
                    Err(e) => super::serve::alert(&format!(
                        "Proxy {}: cannot export listener {}: {e}",
                        p.key.0,
                        l.describe()
                    )),
                }
                let gates = Gates {
                    // A bind line's `maxconn` limits each of its listeners on its own.
                    bind: p
                        .maxconn
                        .filter(|m| *m > 0)
                        .map(|m| Arc::new(Semaphore::new(m as usize))),
                    frontend: gate.sem.clone(),
                    frontend_owed: gate.owed.clone(),
                    process: self.global.clone(),
                };
                tasks.push(tokio::spawn(accept_loop(
                    p.key.clone(),
                    self.current.clone(),
                    l,
                    gates,
                    self.live.clone(),
                    self.stop.subscribe(),
                    self.debug,
                )));
            }
            self.exported.insert(p.key.clone(), exported);
            self.accepting.insert(p.key, tasks);
        }
    }

    /// Sizes each frontend's `maxconn` gate to the current snapshot: a new frontend gets
    /// one, a changed limit grows or shrinks the one it has (connections already in keep
    /// their slots).
    fn resize_gates(&mut self, snap: &Snapshot) {
        for fe in &snap.frontends {
            let max = frontend_max(snap, fe);
            match self.gates.get_mut(&fe.name) {
                None => {
                    let sem = Arc::new(Semaphore::new(max as usize));
                    let owed = Arc::new(AtomicU32::new(0));
                    self.gates.insert(fe.name.clone(), Gate { sem, max, owed });
                }
                Some(g) if g.max < max => {
                    // Permits still owed to a lower limit are simply no longer owed.
                    let grow = max - g.max;
                    let owed = g
                        .owed
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                            Some(o.saturating_sub(grow))
                        })
                        .unwrap_or(0);
                    g.sem.add_permits((grow - owed.min(grow)) as usize);
                    g.max = max;
                }
                Some(g) if g.max > max => {
                    // Free permits go now; those connections hold, when they end.
                    let shrink = g.max - max;
                    let taken = g.sem.forget_permits(shrink as usize) as u32;
                    g.owed.fetch_add(shrink - taken, Ordering::SeqCst);
                    g.max = max;
                }
                Some(_) => {}
            }
        }
    }

    /// Reloads in place with `config`: compiles it against the store, binds what is new,
    /// makes it current, then stops accepting on binds it no longer has. On error
    /// nothing changes and the running configuration keeps serving. Must run inside
    /// the tokio runtime.
    pub fn reload(&mut self, config: &Config) -> Result<(), StartError> {
        // The files are read again: the configured servers `del server` removed come
        // back; servers `add server` added remain.
        let deleted = self.store.take_deleted();
        let r = self.load(config, true);
        if r.is_err() {
            self.store.restore_deleted(deleted);
        }
        r
    }

    /// Compiles and installs `config`; with `state_file`, the server-state files seed
    /// the servers new to the process (the others keep their live state).
    fn load(&mut self, config: &Config, state_file: bool) -> Result<(), StartError> {
        let file_config = config.clone();
        let config = &self.store.with_dynamic_servers(config);
        let known: std::collections::HashSet<(String, String)> = config
            .proxies
            .iter()
            .filter(|p| p.kind.has_backend())
            .flat_map(|p| {
                let names = self
                    .store
                    .find_backend(&p.name)
                    .map(|b| b.server_names())
                    .unwrap_or_default();
                names.into_iter().map(|n| (p.name.clone(), n))
            })
            .collect();
        let snap = snapshot::build(config, &self.store)
            .map_err(|d| StartError::Compile(d.iter().map(ToString::to_string).collect()))?;
        let plans = crate::check::compile(config, &snap)
            .map_err(|d| StartError::Compile(d.iter().map(ToString::to_string).collect()))?;
        // Binding first: a bind that fails leaves everything as it was (the sockets
        // bound so far close when `pending` is dropped).
        self.pending = bind_new(&snap, &self.accepting)?;
        let keep: Vec<BindKey> = snap
            .frontends
            .iter()
            .flat_map(|fe| fe.binds.iter().map(|b| bind_key(fe, b)))
            .collect();
        self.reapply_options(&snap);
        snap.install();
        if state_file {
            let seeded = crate::runtime::state_file::apply(config, &snap, |b, s| {
                !known.contains(&(b.to_owned(), s.to_owned()))
            });
            self.state_notices.extend(seeded);
        }
        self.current.store(Arc::new(snap));
        self.config = file_config;
        self.plans = Some(plans);
        self.start();
        self.exported.retain(|key, _| keep.contains(key));
        self.accepting.retain(|key, tasks| {
            let kept = keep.contains(key);
            if !kept {
                // Closes the listening sockets; accepted connections go on.
                tasks.iter().for_each(JoinHandle::abort);
            }
            kept
        });
        self.store.sweep();
        Ok(())
    }

    /// Sets the new configuration's socket options on the listening sockets a reload
    /// keeps (through their exported duplicates), as HAProxy sets them on the sockets a
    /// new process inherits. A failure is an alert, as HAProxy's warning: the socket
    /// goes on serving.
    fn reapply_options(&self, snap: &Snapshot) {
        for fe in &snap.frontends {
            for b in &fe.binds {
                let Some(socks) = self.exported.get(&bind_key(fe, b)) else {
                    continue;
                };
                for e in socks {
                    if let Some(Err(err)) =
                        e.with_socket(|fd| listener::reapply_options(fd, fe.smart_accept))
                    {
                        super::serve::alert(&format!(
                            "Proxy {}: cannot set the options of a kept listener: {err}",
                            fe.name
                        ));
                    }
                }
            }
        }
    }

    /// Soft stop: from now on keep-alive connections close after their current request
    /// (see [`stopping`]).
    pub fn mark_stopping(&self) {
        STOPPING.store(true, Ordering::Relaxed);
        // An old process waiting for its connections does not keep a core busy.
        super::busy_poll::set(false);
        STOP_NOTIFY.notify_waiters();
    }

    /// Stops accepting everywhere (soft stop): each listener accepts the connections
    /// already in its queue, then closes; connections accepted go on.
    pub fn stop_accepting(&mut self) {
        self.stop.send_replace(true);
        // Not handed to a new process any more: the sockets close with their loops.
        self.exported.clear();
        for (_, tasks) in self.accepting.drain() {
            self.draining.extend(tasks);
        }
    }

    /// Every listener has closed after a soft stop (its queue emptied).
    pub fn drained(&self) -> bool {
        self.draining.iter().all(JoinHandle::is_finished)
    }
}

/// The `maxconn` limits a listener waits for before accepting.
struct Gates {
    /// Its bind line's `maxconn`, for this listener alone.
    bind: Option<Arc<Semaphore>>,
    /// The frontend's `maxconn`, shared by its listeners.
    frontend: Arc<Semaphore>,
    /// The permits of `frontend` a lower limit still takes back.
    frontend_owed: Arc<AtomicU32>,
    /// The process's.
    process: Arc<Semaphore>,
}

struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Stream {
    Tcp(LazyTcp),
    Unix(tokio::net::UnixStream),
}

/// A listener registered with the runtime.
enum L {
    Tcp(super::lazy_tcp::Listener),
    Unix(tokio::net::UnixListener),
}

/// Accepts on one listener of frontend `fe_name` until aborted; each connection runs
/// with the frontend of the snapshot current when it was accepted.
async fn accept_loop(
    key: BindKey,
    current: Shared,
    l: BoundListener,
    gates: Gates,
    live: Arc<AtomicUsize>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    debug: bool,
) {
    let l = match l {
        BoundListener::Tcp(t) => super::lazy_tcp::Listener::new(t).map(L::Tcp),
        BoundListener::Unix(u) => tokio::net::UnixListener::from_std(u).map(L::Unix),
    };
    let fe_name = &key.0;
    // The TLS configuration of this bind in the frontend last seen (a reload may bring
    // new certificates: the next connection takes them). Held weakly: an old frontend
    // must not keep its servers' live state from being forgotten.
    let mut wrap_of: Option<(std::sync::Weak<Frontend>, Wrap)> = None;
    let Ok(l) = l else {
        super::serve::alert(&format!("Proxy {fe_name}: cannot register listener"));
        return;
    };
    let lfd = {
        use std::os::fd::AsRawFd;
        match &l {
            L::Tcp(t) => t.socket().as_raw_fd(),
            L::Unix(u) => u.as_raw_fd(),
        }
    };
    // A listener bound to one address (not a wildcard) gives that address to every
    // connection it accepts: no `getsockname` per connection.
    let fixed_local = match &l {
        L::Tcp(t) => t
            .socket()
            .local_addr()
            .ok()
            .filter(|a| !a.ip().is_unspecified()),
        L::Unix(_) => None,
    };
    loop {
        // Wait for room under the listener's, the frontend's and the process's maxconn
        // before accepting.
        let bind_permit = match &gates.bind {
            Some(s) => match permit(s).await {
                Some(p) => Some(p),
                None => return,
            },
            None => None,
        };
        let Some(fe_permit) = permit(&gates.frontend).await else {
            return;
        };
        let mut fe_permit = FrontendPermit {
            permit: Some(fe_permit),
            owed: gates.frontend_owed.clone(),
        };
        let Some(g_permit) = permit(&gates.process).await else {
            return;
        };
        let draining = *stop.borrow();
        let accepted = if draining {
            // Soft stop: what the queue holds, without waiting; then the socket closes
            // (dropped with this task) and nothing in its queue is reset.
            match accept_queued(&l) {
                Some(x) => x,
                None => return,
            }
        } else {
            let accept = async {
                match &l {
                    L::Tcp(t) => t.accept().await.map(|(s, peer)| (Stream::Tcp(s), peer)),
                    L::Unix(u) => u.accept().await.map(|(s, _)| (Stream::Unix(s), None)),
                }
            };
            // Accept first: when a connection is waiting, the stop signal's future is
            // never polled (polling it registers a waiter under the watch's lock, and
            // dropping it removes it again, on every connection).
            tokio::select! {
                biased;
                r = accept => r,
                // The permits taken are given back; the loop starts over, draining.
                _ = stop.wait_for(|s| *s) => continue,
            }
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(_) => {
                // Out of descriptors or similar: back off briefly instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // A lower `maxconn` set while this loop waited takes its permit back first.
        if !fe_permit.settle(&gates.frontend).await {
            return;
        }
        let snap = current.load_full();
        let Some(fe) = snap.frontend(fe_name).cloned() else {
            // The bind was removed by a reload that raced with this accept.
            continue;
        };
        let local = match &stream {
            Stream::Tcp(s) => {
                // TCP_NODELAY comes from the listening socket (listener.rs).
                let sock = socket2::SockRef::from(s);
                if fe.clitcpka {
                    let _ = sock.set_keepalive(true);
                }
                if fe.nolinger {
                    let _ = sock.set_linger(Some(std::time::Duration::ZERO));
                }
                fixed_local.or_else(|| s.socket().local_addr().ok())
            }
            Stream::Unix(_) => None,
        };
        let mut wrap = match &wrap_of {
            Some((at, w)) if std::ptr::eq(at.as_ptr(), Arc::as_ptr(&fe)) => w.clone(),
            _ => {
                let w = fe
                    .binds
                    .iter()
                    .position(|b| bind_key(&fe, b) == key)
                    .map(|i| Wrap {
                        tls: fe.bind_tls.get(i).cloned().flatten(),
                        listener: listener_name(&fe, i),
                        proxy: fe.binds[i].accept_proxy,
                        h2: fe.binds[i].h2 && fe.mode == Mode::Http,
                        pgsql: fe.binds[i].pgsql && fe.mode == Mode::Tcp,
                    })
                    .unwrap_or_default();
                wrap_of = Some((Arc::downgrade(&fe), w.clone()));
                w
            }
        };
        let conn = ConnInfo {
            peer,
            local,
            accept_date: SystemTime::now(),
            accepted: Instant::now(),
            tls: None,
            pp: None,
            stick: fe
                .tcp_connection
                .iter()
                .any(|r| matches!(r.action, crate::runtime::rules::TcpAction::Track(..)))
                .then(Default::default),
        };
        let state = crate::runtime::live_fetch::StreamLive::new(&snap, &fe)
            .tracking(conn.stick.as_deref(), None);
        let src = crate::acl::WithLive {
            inner: &conn,
            live: &state,
        };
        match crate::runtime::rules::connection_verdict(&fe.tcp_connection, &src) {
            None => {
                drop(stream);
                continue;
            }
            Some(expect_proxy) => wrap.proxy |= expect_proxy,
        }
        if let Some(t) = &conn.stick {
            crate::runtime::stick::track::count_session(t);
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
            ConnGuard::new(fe.clone(), snap.clone(), peer, conn.accepted),
        );
        // Each connection is one task whose future is the mode's own loop, with no
        // wrapper future around it: an idle connection costs only that loop's state.
        let shared = current.clone();
        if wrap.tls.is_some() || wrap.proxy || wrap.h2 || wrap.pgsql {
            spawn(|| serve_wrapped(wrap, fe, snap, shared, stream, conn, hold));
            continue;
        }
        match (fe.mode, stream) {
            (Mode::Http, Stream::Tcp(s)) => {
                spawn(|| super::http::serve(fe, snap, shared, s, conn, hold))
            }
            (Mode::Http, Stream::Unix(s)) => {
                spawn(|| super::http::serve(fe, snap, shared, s, conn, hold))
            }
            (Mode::Tcp, Stream::Tcp(s)) => spawn(|| async move {
                let _hold = hold;
                super::tcp::serve(fe, snap, s, conn).await
            }),
            (Mode::Tcp, Stream::Unix(s)) => spawn(|| async move {
                let _hold = hold;
                super::tcp::serve(fe, snap, s, conn).await
            }),
        }
    }
}

/// A permit of `s`, waiting for one only when none is free (the common case takes one
/// with a compare-and-swap, without building and polling the semaphore's wait future);
/// `None` once `s` is closed.
async fn permit(s: &Arc<Semaphore>) -> Option<tokio::sync::OwnedSemaphorePermit> {
    match s.clone().try_acquire_owned() {
        Ok(p) => Some(p),
        Err(tokio::sync::TryAcquireError::NoPermits) => s.clone().acquire_owned().await.ok(),
        Err(tokio::sync::TryAcquireError::Closed) => None,
    }
}

/// What comes before a connection's own bytes: a PROXY header (`accept-proxy`,
/// `expect-proxy layer4`), then a TLS handshake (`ssl`); and whether HTTP/2 is spoken
/// from the first byte on (`proto h2`).
#[derive(Clone, Default)]
struct Wrap {
    tls: Option<Arc<crate::tls::store::LiveBind>>,
    /// The listener's name in logs: the bind's `name`, else its number in the frontend.
    listener: Arc<str>,
    proxy: bool,
    h2: bool,
    /// `proto pgsql`: the PostgreSQL front door runs the TLS handshake itself, after
    /// the client's `SSLRequest`.
    pgsql: bool,
}

/// A connection with a PROXY header to read (within `timeout client`; its addresses then
/// replace the connection's) and/or a TLS handshake to run (within `timeout client`),
/// then served in its frontend's mode with the handshake's facts in `conn`.
async fn serve_wrapped<H: Send + 'static>(
    wrap: Wrap,
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: crate::runtime::snapshot::Shared,
    stream: Stream,
    conn: ConnInfo,
    hold: H,
) {
    match stream {
        Stream::Tcp(s) => unwrap_and_serve(wrap, fe, snap, shared, s, conn, hold).await,
        Stream::Unix(s) => unwrap_and_serve(wrap, fe, snap, shared, s, conn, hold).await,
    }
}

async fn unwrap_and_serve<S, H>(
    wrap: Wrap,
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: crate::runtime::snapshot::Shared,
    mut s: S,
    mut conn: ConnInfo,
    hold: H,
) where
    S: tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + super::http::io::WaitReadable
        + Unpin
        + Send
        + 'static,
    tokio_rustls::server::TlsStream<S>: Sync,
    H: Send + 'static,
{
    let timeout = fe.timeouts.client;
    if wrap.proxy {
        match super::proxy_protocol::read_header(&mut s, timeout).await {
            Ok((addrs, tlvs)) => {
                if let Some((src, dst)) = addrs {
                    conn.peer = Some(src);
                    conn.local = Some(dst);
                }
                conn.pp = tlvs.map(Arc::new);
            }
            Err(_) => return,
        }
    }
    if wrap.pgsql {
        let _hold = hold;
        return super::pgsql::serve(fe, snap, s, conn, wrap.tls.map(|l| l.current())).await;
    }
    match wrap.tls {
        None => serve_mode(fe, snap, shared, s, conn, wrap.h2, hold).await,
        Some(cfg) => {
            let (tls, facts) = match super::tls::accept(cfg.current(), s, timeout).await {
                Ok(done) => done,
                Err(fail) => {
                    super::session::log_handshake_failure(&fe, &conn, &wrap.listener, fail);
                    return;
                }
            };
            // ALPN `h2` (or `proto h2`) makes it an HTTP/2 connection.
            let h2 = wrap.h2 || facts.alpn.as_deref() == Some(super::h2::ALPN);
            conn.tls = Some(Arc::new(facts));
            serve_mode(fe, snap, shared, tls, conn, h2, hold).await
        }
    }
}

/// HAProxy's name of bind line `i`'s listener in logs: its `name`, else the number of
/// its (first) listener in the frontend, counting one per address.
fn listener_name(fe: &Frontend, i: usize) -> Arc<str> {
    match &fe.binds[i].name {
        Some(n) => Arc::from(n.as_str()),
        None => {
            let n: usize = fe.binds[..i].iter().map(|b| b.addrs.len()).sum::<usize>() + 1;
            Arc::from(n.to_string())
        }
    }
}

/// Serves a connection in its frontend's mode (`h2`: HTTP/2), `hold` kept until it
/// ends.
async fn serve_mode<S, H>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: crate::runtime::snapshot::Shared,
    s: S,
    conn: ConnInfo,
    h2: bool,
    hold: H,
) where
    S: tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + super::http::io::WaitReadable
        + Unpin
        + Send
        + 'static,
    H: Send + 'static,
{
    match fe.mode {
        Mode::Http if h2 => super::h2::serve(fe, snap, shared, s, conn, hold).await,
        Mode::Http => super::http::serve(fe, snap, shared, s, conn, hold).await,
        Mode::Tcp => {
            let _hold = hold;
            super::tcp::serve(fe, snap, s, conn).await
        }
    }
}

/// A connection from `l`'s queue without waiting: `None` when the queue is empty (or
/// the socket failed), `Some(Err)` for an error worth retrying.
fn accept_queued(l: &L) -> Option<std::io::Result<(Stream, Option<std::net::SocketAddr>)>> {
    let sock = match l {
        L::Tcp(t) => {
            return match super::lazy_tcp::accept_now(t.socket()) {
                Ok((s, peer)) => Some(Ok((Stream::Tcp(s), peer))),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Some(Err(e)),
                Err(_) => None,
            };
        }
        L::Unix(u) => socket2::SockRef::from(u),
    };
    let (s, peer) = match sock.accept() {
        Ok(x) => x,
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Some(Err(e)),
        Err(_) => return None,
    };
    let _ = peer;
    let r = s.set_nonblocking(true).and_then(|()| {
        tokio::net::UnixStream::from_std(std::os::fd::OwnedFd::from(s).into())
            .map(|c| (Stream::Unix(c), None))
    });
    Some(r)
}

/// `-d`: HAProxy's accept trace line on stdout,
/// `SESSID:PROXY.accept(LISTENER_FD)=CLIENT_FD from [ADDR] ALPN=<none>`.
fn trace_accept(fe: &str, lfd: std::os::fd::RawFd, s: &Stream, peer: Option<std::net::SocketAddr>) {
    use std::io::Write;
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

/// Spawns a connection's task with its future boxed: the task then holds a pointer, and
/// tokio's moves of the task's stage (into the task cell at the spawn, and when it
/// finishes) copy 16 bytes instead of the whole connection future each time (about 900
/// instructions of `memcpy` per connection before: docs/performance.md, "close").
/// The future is built in its box (`make` is called once the box is allocated:
/// [`crate::proxy::session::pin_boxed`]), not copied into it.
/// Each poll also sets the time the connection's code reads (`crate::proxy::clock`).
fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(make: impl FnOnce() -> F) {
    tokio::spawn(crate::proxy::clock::Polled(
        crate::proxy::session::pin_boxed(make),
    ));
}
