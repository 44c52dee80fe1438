//! A backend at run time: its servers, balancer, queues, idle server connections and the
//! settings the data plane reads on every request.
//!
//! Queues follow HAProxy 2.6: each server has its own queue (requests whose balancing
//! decision designated that server: hash-based algorithms, or a server that filled up
//! between the choice and the slot), and the backend has one queue (requests any server
//! may take: every server was full). A slot freed on server S goes at once to the oldest
//! request of S's queue and of the backend queue (when S may serve the backend queue:
//! usable and in the current active/backup pool); the slot is handed over, never
//! raced for, so a wake-up cannot be lost and a newcomer cannot overtake.

use crate::acl::CompiledCondition;
use crate::balance::Balancer;
use crate::config::model::{ForwardFor, HttpConnMode, HttpReuse, Mode};
use crate::runtime::errors::ErrorPages;
use crate::runtime::live::BackendLive;
use crate::runtime::rules::HttpRules;
use crate::runtime::server::ServerState;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::oneshot;

/// Backend-side timeouts, resolved.
#[derive(Clone, Debug, Default)]
pub struct BackendTimeouts {
    /// `timeout connect`.
    pub connect: Option<Duration>,
    /// `timeout server`.
    pub server: Option<Duration>,
    /// `timeout server-fin`.
    pub server_fin: Option<Duration>,
    /// `timeout queue` (defaults to `timeout connect`, as in HAProxy).
    pub queue: Option<Duration>,
    /// `timeout tunnel`.
    pub tunnel: Option<Duration>,
}

/// A backend (or the backend half of a `listen`).
pub struct Backend {
    /// The name.
    pub name: String,
    /// `mode`.
    pub mode: Mode,
    /// The servers, in declaration order.
    pub servers: Vec<Arc<ServerState>>,
    /// The balancing algorithm and its state.
    pub balancer: Balancer<ServerState>,
    /// Timeouts.
    pub timeouts: BackendTimeouts,
    /// `retries`.
    pub retries: u32,
    /// `option redispatch`.
    pub redispatch: bool,
    /// `option redispatch <interval>`: redispatch on every Nth retry (N > 0), on the
    /// retry N before the last one counting from it (N < 0, -1 is the last retry), or
    /// only through the non-deterministic-algorithm rule (0).
    pub redispatch_after: i32,
    /// `option srvtcpka` (or `option tcpka`): SO_KEEPALIVE on server connections.
    pub srvtcpka: bool,
    /// `option nolinger`: server connections are reset on close (SO_LINGER 0).
    pub nolinger: bool,
    /// `option abortonclose`.
    pub abortonclose: bool,
    /// `http-reuse`.
    pub http_reuse: HttpReuse,
    /// `option http-keep-alive|http-server-close|httpclose`.
    pub conn_mode: HttpConnMode,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto`.
    pub originalto: Option<ForwardFor>,
    /// `errorfile` overrides.
    pub errors: ErrorPages,
    /// `option http-buffer-request`.
    pub buffer_request: bool,
    /// `persist rdp-cookie[(NAME)]`: the cookie's name (`mode tcp`).
    pub persist_rdp_cookie: Option<Box<str>>,
    /// `tcp-request content` rules of the backend section.
    pub tcp_content: Vec<crate::runtime::rules::TcpRuleRt>,
    /// `tcp-response` rules (`mode tcp`).
    pub tcp_response: crate::runtime::tcp_response::TcpResponse,
    /// `http-request` rules of the backend section.
    pub http_request: HttpRules,
    /// `http-response` rules of the backend section.
    pub http_response: HttpRules,
    /// `http-after-response` rules (applied to every response, the proxy's own too).
    pub http_after_response: HttpRules,
    /// `redirect` rules, evaluated after the `http-request` rules.
    pub redirects: HttpRules,
    /// The live state (counters, queues, servers' live state), kept by the store under
    /// this backend's name; shared with every snapshot that has this backend.
    pub live: Arc<BackendLive>,
    /// Where server state changes are reported (log targets, wording).
    pub reporter: Arc<crate::runtime::events::Reporter>,
    /// `cookie` (HTTP backends only).
    pub cookie: Option<crate::config::model::CookieConfig>,
    /// `option persist`.
    pub persist: bool,
    /// `force-persist` and `ignore-persist` rules.
    pub persist_rules: Vec<crate::runtime::persist::PersistRuleRt>,
    /// Conditions of `use-server` rules (not yet).
    pub _reserved: Vec<CompiledCondition>,
    /// `stick on|match|store-request|store-response` rules, in order.
    pub sticking: Vec<crate::runtime::stick::persist::StickRuleRt>,
    /// The stats page this backend serves (`stats enable`, `stats uri`…).
    pub stats: crate::runtime::proxies::SharedStatsPage,
}

impl std::ops::Deref for Backend {
    type Target = BackendLive;
    fn deref(&self) -> &BackendLive {
        &self.live
    }
}

impl Backend {
    /// Active (non-backup) servers currently usable.
    pub fn active_up(&self) -> usize {
        self.servers
            .iter()
            .filter(|s| !s.backup && s.usable())
            .count()
    }

    /// The position in this snapshot's server list of the server whose live id is `id`.
    fn position(&self, id: usize) -> Option<usize> {
        self.servers.iter().position(|s| s.id == id)
    }

    /// Called when a connection or request to `server` ends: frees its slot and hands it
    /// to the oldest request waiting for it, if any. The waiters may belong to a newer
    /// snapshot of this backend: the current one dispatches when it has this server.
    pub fn release(self: &Arc<Self>, server: &ServerState) {
        server.cur_conns.fetch_sub(1, Ordering::SeqCst);
        // Paired with the increments in `enqueue` (both SeqCst): either this load sees the
        // new waiter, or the waiter's own dispatch sees the freed slot.
        if server.queued.load(Ordering::SeqCst) > 0 || self.queued.load(Ordering::SeqCst) > 0 {
            let mut q = self.queues.lock();
            let current = q.current.upgrade();
            match current
                .as_ref()
                .and_then(|c| Some((c, c.position(server.id)?)))
            {
                Some((cur, i)) => cur.dispatch(&mut q, i),
                None => self.dispatch(&mut q, server.index),
            }
        }
    }

    /// Gives the free slots of server `index` to the requests waiting for them (after
    /// its `maxconn` was raised at runtime).
    pub fn serve_queue(self: &Arc<Self>, index: usize) {
        let mut q = self.queues.lock();
        self.dispatch(&mut q, index);
    }

    /// True when `server`'s free slots may go to the backend queue: it is usable and in
    /// the current pool (active servers, else the first backup or all with `allbackups`).
    fn serves_backend_queue(&self, server: usize) -> bool {
        self.balancer.admits(server)
    }

    /// Gives free slots of server `index` to the oldest requests of its own queue and of
    /// the backend queue, until it is full or nobody waits. Called with the queue lock.
    fn dispatch(self: &Arc<Self>, q: &mut QueueState, index: usize) {
        let Some(server) = self.servers.get(index) else {
            return;
        };
        let px_ok = self.serves_backend_queue(index);
        loop {
            let own = q
                .servers
                .get(&server.id)
                .and_then(|m| m.keys().next().copied());
            let shared = if px_ok {
                q.backend.keys().next().copied()
            } else {
                None
            };
            let from_backend = match (own, shared) {
                (None, None) => return,
                (Some(a), Some(b)) => b < a,
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if !server.try_take() {
                return;
            }
            let tx = if from_backend {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                q.backend.pop_first().map(|(_, tx)| tx)
            } else {
                server.queued.fetch_sub(1, Ordering::SeqCst);
                q.servers
                    .get_mut(&server.id)
                    .and_then(BTreeMap::pop_first)
                    .map(|(_, tx)| tx)
            };
            if tx.is_none_or(|tx| tx.send((Arc::clone(self), index)).is_err()) {
                // The waiter is gone: the slot stays free for the next one.
                server.cur_conns.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Queues a request: in `server`'s own queue, or in the backend queue (`None`), then
    /// hands out any slot that is free right now (oldest first, so maybe to this
    /// request). Fails at once when the server's `maxqueue` is reached.
    pub fn enqueue(self: &Arc<Self>, server: Option<&ServerState>) -> Result<Ticket, QueueFull> {
        let mut q = self.queues.lock();
        let seq = q.next;
        q.next += 1;
        let (tx, rx) = oneshot::channel();
        match server {
            Some(s) => {
                let waiting = q.servers.entry(s.id).or_default();
                if s.maxqueue != 0 && waiting.len() >= s.maxqueue as usize {
                    return Err(QueueFull);
                }
                waiting.insert(seq, tx);
                let len = s.queued.fetch_add(1, Ordering::SeqCst) + 1;
                s.counters.queued(len);
                self.dispatch(&mut q, s.index);
            }
            None => {
                q.backend.insert(seq, tx);
                let len = self.queued.fetch_add(1, Ordering::SeqCst) + 1;
                self.counters.queued(len);
                for i in 0..self.servers.len() {
                    if q.backend.is_empty() {
                        break;
                    }
                    self.dispatch(&mut q, i);
                }
            }
        }
        Ok(Ticket {
            backend: Arc::clone(self),
            seq,
            server: server.map(|s| s.id),
            rx: Some(rx),
        })
    }

    /// Removes a waiting request from its queue (`server`: the live id of the server it
    /// waits for); false when it was already given a slot.
    fn dequeue(&self, q: &mut QueueState, seq: u64, server: Option<usize>) -> bool {
        match server {
            Some(id) => {
                let removed = q
                    .servers
                    .get_mut(&id)
                    .and_then(|m| m.remove(&seq))
                    .is_some();
                if removed && let Some(s) = self.servers.iter().find(|s| s.id == id) {
                    s.queued.fetch_sub(1, Ordering::SeqCst);
                }
                removed
            }
            None => {
                let removed = q.backend.remove(&seq).is_some();
                if removed {
                    self.queued.fetch_sub(1, Ordering::SeqCst);
                }
                removed
            }
        }
    }
}

/// A server's `maxqueue` is reached: the request is refused at once (503).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull;

/// The backend queue and the servers' own queues, each ordered by arrival. Part of a
/// backend's live state: every snapshot of the backend shares them.
#[derive(Default)]
pub struct Queues {
    state: Mutex<QueueState>,
}

impl Queues {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the backend of the current snapshot, which dispatches freed slots.
    pub(crate) fn set_current(&self, backend: Weak<Backend>) {
        self.lock().current = backend;
    }

    /// The backend of the current snapshot.
    pub(crate) fn current(&self) -> Option<Weak<Backend>> {
        Some(self.lock().current.clone())
    }
}

/// What a waiter is given: the backend snapshot that dispatched and its server's index.
type Grant = (Arc<Backend>, usize);

/// Waiting requests by arrival number; each is told the server whose slot it was given.
#[derive(Default)]
struct QueueState {
    next: u64,
    /// The current snapshot's backend.
    current: Weak<Backend>,
    backend: BTreeMap<u64, oneshot::Sender<Grant>>,
    /// Requests designated to a server, by the server's live id.
    servers: HashMap<usize, BTreeMap<u64, oneshot::Sender<Grant>>>,
}

/// A request's place in a queue. Dropping it leaves the queue, or gives back the slot it
/// was handed meanwhile.
pub struct Ticket {
    backend: Arc<Backend>,
    seq: u64,
    server: Option<usize>,
    rx: Option<oneshot::Receiver<Grant>>,
}

impl Ticket {
    /// Waits for a slot until `deadline` (`timeout queue`); `None` when it expired.
    pub async fn wait(mut self, deadline: Option<tokio::time::Instant>) -> Option<ServerSlot> {
        let rx = self.rx.as_mut()?;
        let got = match deadline {
            Some(d) => tokio::time::timeout_at(d, rx).await.ok(),
            None => Some(rx.await),
        };
        let grant = match got {
            Some(Ok(g)) => Some(g),
            // The sender is never dropped without sending while queued; expire.
            Some(Err(_)) => None,
            None => {
                let be = Arc::clone(&self.backend);
                let mut q = be.queues.lock();
                if be.dequeue(&mut q, self.seq, self.server) {
                    None
                } else {
                    // Given a slot just as the timer fired: use it.
                    self.rx.as_mut().and_then(|rx| rx.try_recv().ok())
                }
            }
        };
        self.rx = None;
        let (backend, index) = grant?;
        let server = Arc::clone(backend.servers.get(index)?);
        Some(ServerSlot::granted(backend, server))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else {
            return;
        };
        let be = &self.backend;
        let mut q = be.queues.lock();
        if !be.dequeue(&mut q, self.seq, self.server)
            && let Ok((granted, i)) = rx.try_recv()
            && let Some(s) = granted.servers.get(i)
        {
            // Handed a slot but abandoned (client gone): pass it on.
            s.cur_conns.fetch_sub(1, Ordering::SeqCst);
            granted.dispatch(&mut q, i);
        }
    }
}

/// A server slot held for the duration of a connection (tcp) or request (http).
pub struct ServerSlot {
    /// The backend.
    pub backend: Arc<Backend>,
    /// The server.
    pub server: Arc<ServerState>,
}

impl ServerSlot {
    /// Takes a slot on `server` now, unless it is at its `maxconn`.
    pub fn try_take(backend: &Arc<Backend>, server: &Arc<ServerState>) -> Option<Self> {
        server
            .try_take()
            .then(|| ServerSlot::granted(Arc::clone(backend), Arc::clone(server)))
    }

    /// The slot taken on `server`: counts the session on it (`stot`, `scur`, `lbtot`)
    /// and the selection on its backend (`lbtot`).
    fn granted(backend: Arc<Backend>, server: Arc<ServerState>) -> Self {
        server.counters.session_start();
        server.counters.lbtot.fetch_add(1, Ordering::Relaxed);
        backend.counters.lbtot.fetch_add(1, Ordering::Relaxed);
        ServerSlot { backend, server }
    }
}

impl Drop for ServerSlot {
    fn drop(&mut self) {
        self.server.counters.session_end();
        self.backend.release(&self.server);
    }
}
