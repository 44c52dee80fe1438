//! A backend at run time: its servers, balancer, queue, idle server connections and the
//! settings the data plane reads on every request.

use crate::acl::CompiledCondition;
use crate::balance::Balancer;
use crate::config::model::{ForwardFor, HttpConnMode, HttpReuse, Mode};
use crate::runtime::errors::ErrorPages;
use crate::runtime::rules::HttpRules;
use crate::runtime::server::ServerState;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Notify;

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

/// Idle keep-alive connections to one server, ready for reuse. Each remembers whether it
/// has already carried more than one request (HAProxy's "safe" list, which `http-reuse
/// aggressive` requires for a session's first request).
#[derive(Debug, Default)]
pub struct IdlePool {
    conns: Mutex<Vec<(TcpStream, bool)>>,
}

/// Most idle connections kept per server.
const MAX_IDLE_PER_SERVER: usize = 1024;

impl IdlePool {
    /// Takes an idle connection, the most recently used first; with `proven_only`, only
    /// one that has carried more than one request. The flag comes back with it.
    pub fn take(&self, proven_only: bool) -> Option<(TcpStream, bool)> {
        let mut v = self.conns.lock().ok()?;
        let i = v.iter().rposition(|(_, proven)| *proven || !proven_only)?;
        Some(v.remove(i))
    }
    /// Gives a connection back for reuse; `proven`: it has carried more than one request.
    pub fn put(&self, conn: TcpStream, proven: bool) {
        if let Ok(mut v) = self.conns.lock()
            && v.len() < MAX_IDLE_PER_SERVER
        {
            v.push((conn, proven));
        }
    }
    /// Drops every idle connection (server went down).
    pub fn clear(&self) {
        if let Ok(mut v) = self.conns.lock() {
            v.clear();
        }
    }
}

/// A backend (or the backend half of a `listen`).
pub struct Backend {
    /// The name.
    pub name: String,
    /// `mode`.
    pub mode: Mode,
    /// The servers, in declaration order.
    pub servers: Vec<Arc<ServerState>>,
    /// Idle connections per server (same order as `servers`).
    pub pools: Vec<IdlePool>,
    /// The balancing algorithm and its state.
    pub balancer: Balancer,
    /// Timeouts.
    pub timeouts: BackendTimeouts,
    /// `retries`.
    pub retries: u32,
    /// `option redispatch`.
    pub redispatch: bool,
    /// `option abortonclose`.
    pub abortonclose: bool,
    /// `http-reuse`.
    pub http_reuse: HttpReuse,
    /// `option http-keep-alive|http-server-close|httpclose`.
    pub conn_mode: HttpConnMode,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `errorfile` overrides.
    pub errors: ErrorPages,
    /// `option http-buffer-request`.
    pub buffer_request: bool,
    /// `tcp-request content` rules of the backend section.
    pub tcp_content: Vec<crate::runtime::rules::TcpRuleRt>,
    /// `http-request` rules of the backend section.
    pub http_request: HttpRules,
    /// `http-response` rules of the backend section.
    pub http_response: HttpRules,
    /// Connections currently assigned to this backend.
    pub beconn: AtomicU32,
    /// Requests waiting in the backend queue.
    pub queued: AtomicU32,
    /// Total requests/connections.
    pub total: AtomicU64,
    /// Woken when a server slot frees up.
    pub slot_freed: Notify,
    /// Conditions of `use-server` rules (not yet).
    pub _reserved: Vec<CompiledCondition>,
}

impl Backend {
    /// Active (non-backup) servers currently usable.
    pub fn active_up(&self) -> usize {
        self.servers
            .iter()
            .filter(|s| !s.backup && s.usable())
            .count()
    }

    /// Called when a connection or request to `server` ends: frees its slot and wakes a
    /// queued request.
    pub fn release(&self, server: &ServerState) {
        server.cur_conns.fetch_sub(1, Ordering::AcqRel);
        if self.queued.load(Ordering::Acquire) > 0 {
            self.slot_freed.notify_one();
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
    /// Takes a slot on `server` (counts the connection).
    pub fn take(backend: &Arc<Backend>, server: Arc<ServerState>) -> Self {
        server.cur_conns.fetch_add(1, Ordering::AcqRel);
        server.total.fetch_add(1, Ordering::Relaxed);
        ServerSlot {
            backend: backend.clone(),
            server,
        }
    }
}

impl Drop for ServerSlot {
    fn drop(&mut self) {
        self.backend.release(&self.server);
    }
}
