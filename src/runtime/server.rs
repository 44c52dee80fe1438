//! One server as the data plane sees it: its configuration in this snapshot
//! ([`ServerState`]) and its live state ([`ServerLive`]: health, admin state, effective
//! weight, connection counts, counters, idle connections), which the live-state store
//! keeps by backend and server name so that it survives reloads.

use super::conn::{PoolKey, ServerConn};
use super::counters::Counters;
use super::health::Health;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// One server of a backend in one snapshot: what the configuration says, and a handle on
/// its live state. Dereferences to that live state (`server.cur_conns`, `server.up`…).
#[derive(Debug)]
pub struct ServerState {
    /// The server's name.
    pub name: String,
    /// Its index in the backend's server list.
    pub index: usize,
    /// The resolved address (port 0: "use the client's destination port"); unspecified
    /// (`0.0.0.0:0`) for a unix socket server.
    pub addr: SocketAddr,
    /// A unix socket server's path (`server NAME /path` or `unix@/path`).
    pub unix: Option<PathBuf>,
    /// Declared `backup`.
    pub backup: bool,
    /// `maxconn` (0: unlimited).
    pub maxconn: u32,
    /// `maxqueue` (0: unlimited).
    pub maxqueue: u32,
    /// The configured weight (`weight`, 0..=256).
    pub config_weight: u32,
    /// Declared `disabled` (starts in maintenance).
    pub disabled: bool,
    /// `ssl`: connections to it are TLS.
    pub tls: Option<ServerTlsRt>,
    /// `send-proxy` (1) or `send-proxy-v2` (2): the PROXY header version its
    /// connections start with (0: none).
    pub send_proxy: u8,
    /// `on-marked-down shutdown-sessions`: its sessions end when it goes down or
    /// enters maintenance.
    pub on_marked_down_shutdown: bool,
    /// The TLVs of its PROXY v2 header (`proxy-v2-options`).
    pub pp_v2: crate::config::model::PpV2Options,
    /// Passive checks (`observe` on a checked server).
    pub observe: Option<super::health::Passive>,
    /// The protocol its connections speak (`proto`, `alpn`).
    pub wire: Wire,
    /// Its persistence cookie value (`cookie VALUE`, or computed with `cookie …
    /// dynamic`).
    pub cookie: Option<Box<str>>,
    /// The live state, shared with every snapshot that has this server.
    pub live: Arc<ServerLive>,
}

impl std::ops::Deref for ServerState {
    type Target = ServerLive;
    fn deref(&self) -> &ServerLive {
        &self.live
    }
}

/// Live state of one server, kept by the live-state store under its backend's and its
/// own name: it outlives snapshots, so a reload keeps health, admin state, runtime
/// weight, connection counts, counters and idle connections of a server that remains.
#[derive(Debug)]
pub struct ServerLive {
    /// Its number within its backend's live state, stable across reloads (queues are
    /// keyed by it).
    pub id: usize,
    /// The current weight (runtime changes, slow start); 0 takes the server out.
    pub weight: AtomicU32,
    /// Up according to health checks (true without checks).
    pub up: AtomicBool,
    /// In maintenance (`disabled`, or set at runtime): no traffic, checks paused.
    pub maint: AtomicBool,
    /// In drain: no new traffic from balancing, current connections go on (set at
    /// runtime or by the agent). Never set together with `maint`.
    pub drain: AtomicBool,
    /// Stopping (HAProxy's `SRV_ST_STOPPING`, "NOLB"): up, but takes no new traffic
    /// from balancing (`set server B/S health stopping`) until a check or `set server
    /// B/S health up|down` changes its state.
    pub stopping: AtomicBool,
    /// Connections currently established or being established to this server.
    pub cur_conns: AtomicU32,
    /// Requests waiting in this server's own queue (their balancing decision designated
    /// this server: hash-based algorithms, or the server was full when chosen).
    pub queued: AtomicU32,
    /// `show stat` counters.
    pub counters: Counters,
    /// Idle keep-alive connections, ready for reuse.
    pub pool: IdlePool,
    /// Health-check state (written by the check engine).
    pub health: Health,
    /// `on-marked-down shutdown-sessions`, `on-marked-up shutdown-backup-sessions`: the
    /// signal that ends the sessions to this server.
    pub shutdown: super::shutdown::SessionsShutdown,
    /// The address set at runtime (`set server B/S addr`), used instead of the
    /// configured one until a reload configures another address.
    addr_override: arc_swap::ArcSwapOption<SocketAddr>,
    /// `maxconn` set at runtime (`set maxconn server`); [`NO_OVERRIDE`] when the
    /// configured value applies.
    maxconn_override: AtomicU32,
    /// What the last applied configuration said (weight, `disabled`, address): a reload
    /// that changes one of them applies it; one that does not keeps the runtime value.
    applied: Mutex<Applied>,
}

/// A server's administrative state (HAProxy's forced admin flags): what
/// `set server B/S state ready|drain|maint` and the agent's `ready`/`drain`/`maint` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminState {
    /// Takes traffic as its health allows.
    Ready,
    /// Takes no new traffic from balancing; its current connections go on.
    Drain,
    /// Takes no traffic at all; its health checks are paused.
    Maint,
}

/// The configured values of a server that its live state last took over.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Applied {
    weight: u32,
    disabled: bool,
    addr: Option<SocketAddr>,
}

impl ServerLive {
    /// Fresh live state: up, with `weight`.
    pub fn new(id: usize, weight: u32) -> Self {
        ServerLive {
            id,
            weight: AtomicU32::new(weight),
            up: AtomicBool::new(true),
            maint: AtomicBool::new(false),
            drain: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            cur_conns: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            counters: Counters::default(),
            pool: IdlePool::default(),
            health: Health::default(),
            shutdown: Default::default(),
            addr_override: arc_swap::ArcSwapOption::empty(),
            maxconn_override: AtomicU32::new(NO_OVERRIDE),
            applied: Mutex::new(Applied {
                weight,
                disabled: false,
                addr: None,
            }),
        }
    }

    /// Takes over a (re)loaded configuration: a configured weight, `disabled` flag or
    /// address that differs from the previous configuration's replaces the runtime
    /// value; an unchanged one leaves the runtime value alone. A new address empties
    /// the idle pool (its connections go to the old one).
    pub fn apply(&self, weight: u32, disabled: bool, addr: SocketAddr) {
        let mut a = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        if a.weight != weight {
            self.weight.store(weight, Ordering::Relaxed);
        }
        if a.disabled != disabled {
            self.maint.store(disabled, Ordering::Relaxed);
            if disabled {
                self.drain.store(false, Ordering::Relaxed);
            }
        }
        if a.addr.is_some_and(|old| old != addr) {
            self.addr_override.store(None);
            self.pool.clear();
        }
        *a = Applied {
            weight,
            disabled,
            addr: Some(addr),
        };
    }

    /// HAProxy's "not stopped" state: up and not in maintenance (a server in drain or
    /// with weight 0 is still running: persistent clients keep reaching it).
    pub fn running(&self) -> bool {
        self.up.load(Ordering::Relaxed) && !self.maint.load(Ordering::Relaxed)
    }

    /// True when the server may receive new traffic (up, neither in maintenance nor in
    /// drain nor stopping, weight > 0).
    pub fn usable(&self) -> bool {
        self.up.load(Ordering::Relaxed)
            && !self.maint.load(Ordering::Relaxed)
            && !self.drain.load(Ordering::Relaxed)
            && !self.stopping.load(Ordering::Relaxed)
            && self.weight.load(Ordering::Relaxed) > 0
    }

    /// The administrative state.
    pub fn admin(&self) -> AdminState {
        if self.maint.load(Ordering::Relaxed) {
            AdminState::Maint
        } else if self.drain.load(Ordering::Relaxed) {
            AdminState::Drain
        } else {
            AdminState::Ready
        }
    }

    /// The weight the current configuration gives (HAProxy's `iweight`): agent weight
    /// percentages are relative to it.
    pub fn initial_weight(&self) -> u32 {
        self.applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .weight
    }

    /// The current weight.
    pub fn cur_weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    /// The address set at runtime, if any.
    pub fn addr_override(&self) -> Option<SocketAddr> {
        self.addr_override.load().as_deref().copied()
    }

    /// Sets the runtime address (`set server B/S addr`): new connections go there; idle
    /// connections to the old address are dropped. A reload that configures another
    /// address replaces it; one that keeps the configured address keeps it.
    pub fn set_addr(&self, addr: SocketAddr) {
        self.addr_override.store(Some(Arc::new(addr)));
        self.pool.clear();
    }

    /// The `maxconn` set at runtime, if any.
    pub fn maxconn_override(&self) -> Option<u32> {
        match self.maxconn_override.load(Ordering::Relaxed) {
            NO_OVERRIDE => None,
            m => Some(m),
        }
    }

    /// Sets the server's `maxconn` at runtime (`set maxconn server`; 0: unlimited).
    pub fn set_maxconn(&self, maxconn: u32) {
        self.maxconn_override
            .store(maxconn.min(NO_OVERRIDE - 1), Ordering::Relaxed);
    }
}

/// The value of [`ServerLive`]'s runtime `maxconn` when none was set.
const NO_OVERRIDE: u32 = u32::MAX;

impl ServerState {
    /// A server with fresh live state: up, with its configured weight.
    pub fn new(name: impl Into<String>, index: usize, addr: SocketAddr, weight: u32) -> Self {
        ServerState::bound(
            name,
            index,
            addr,
            weight,
            Arc::new(ServerLive::new(index, weight)),
        )
    }

    /// A server bound to existing live state (from the live-state store).
    pub fn bound(
        name: impl Into<String>,
        index: usize,
        addr: SocketAddr,
        weight: u32,
        live: Arc<ServerLive>,
    ) -> Self {
        ServerState {
            name: name.into(),
            index,
            addr,
            unix: None,
            backup: false,
            maxconn: 0,
            maxqueue: 0,
            config_weight: weight,
            disabled: false,
            tls: None,
            send_proxy: 0,
            on_marked_down_shutdown: false,
            pp_v2: Default::default(),
            observe: None,
            wire: Wire::H1,
            cookie: None,
            live,
        }
    }

    /// The `maxconn` in force: the runtime one (`set maxconn server`), else the
    /// configured one (0: unlimited).
    pub fn max_conns(&self) -> u32 {
        self.live.maxconn_override().unwrap_or(self.maxconn)
    }

    /// The address new connections go to: the runtime one (`set server B/S addr`),
    /// else the configured one.
    pub fn current_addr(&self) -> SocketAddr {
        self.live.addr_override().unwrap_or(self.addr)
    }

    /// True when the server has reached its `maxconn`.
    pub fn full(&self) -> bool {
        let max = self.max_conns();
        max != 0 && self.cur_conns.load(Ordering::Relaxed) >= max
    }

    /// Takes a connection slot unless the server is at its `maxconn`: counts the
    /// connection and returns true, or returns false and changes nothing.
    pub fn try_take(&self) -> bool {
        let max = self.max_conns();
        let mut cur = self.cur_conns.load(Ordering::SeqCst);
        loop {
            if max != 0 && cur >= max {
                return false;
            }
            match self.cur_conns.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }
}

/// The protocol a server's connections speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// HTTP/1.1 (the default; `proto h1`).
    H1,
    /// HTTP/2 (`proto h2`): h2c with prior knowledge, or h2 over TLS.
    H2,
    /// What the TLS handshake's ALPN picks (`ssl alpn h2,…` without `proto`): HTTP/2
    /// when it is `h2`, else HTTP/1.1.
    Alpn,
}

/// The TLS side of a `server … ssl` line, compiled.
#[derive(Debug)]
pub struct ServerTlsRt {
    /// The rustls client configuration (verification, ALPN, client certificate,
    /// session resumption cache).
    pub config: Arc<rustls::ClientConfig>,
    /// `sni EXPR`: the server name sent, evaluated per connection.
    pub sni: Option<crate::acl::SampleExpr>,
}

impl ServerTlsRt {
    /// Compiles a server's TLS settings with the `global` defaults.
    pub fn compile(
        t: &crate::config::model::ServerTls,
        g: &crate::config::model::Global,
    ) -> Result<ServerTlsRt, String> {
        let config = crate::tls::client::server_config(t, &g.ssl_server, &crate::tls::Bases::of(g))
            .map_err(|e| e.to_string())?;
        let sni = match &t.sni {
            Some(text) => {
                Some(crate::acl::SampleExpr::parse(text).map_err(|e| format!("'sni' : {e}"))?)
            }
            None => None,
        };
        Ok(ServerTlsRt { config, sni })
    }
}

/// Idle keep-alive connections to one server, ready for reuse, each with the key a
/// request must match to use it. Each remembers whether it has already carried more
/// than one request (HAProxy's "safe" list, which `http-reuse aggressive` requires for
/// a session's first request).
#[derive(Debug, Default)]
pub struct IdlePool {
    conns: Mutex<Vec<Idle>>,
    /// HTTP/2 connections, shared by concurrent requests (`http-reuse` other than
    /// `never`); they stay listed while streams run on them.
    mux: super::mux::MuxPool,
}

/// One idle connection.
#[derive(Debug)]
struct Idle {
    key: PoolKey,
    conn: ServerConn,
    proven: bool,
}

/// Most idle connections kept per server.
const MAX_IDLE_PER_SERVER: usize = 1024;

impl IdlePool {
    /// Takes an idle connection matching `key`, the most recently used first; with
    /// `proven_only`, only one that has carried more than one request. The flag comes
    /// back with it.
    pub fn take(&self, key: &PoolKey, proven_only: bool) -> Option<(ServerConn, bool)> {
        let mut v = self.conns.lock().ok()?;
        let i = v
            .iter()
            .rposition(|c| c.key == *key && (c.proven || !proven_only))?;
        let c = v.remove(i);
        Some((c.conn, c.proven))
    }
    /// Gives a connection back for reuse under `key`; `proven`: it has carried more than
    /// one request.
    pub fn put(&self, key: PoolKey, conn: ServerConn, proven: bool) {
        if let Ok(mut v) = self.conns.lock()
            && v.len() < MAX_IDLE_PER_SERVER
        {
            v.push(Idle { key, conn, proven });
        }
    }
    /// Drops every idle connection (server went down, or its address changed).
    pub fn clear(&self) {
        if let Ok(mut v) = self.conns.lock() {
            v.clear();
        }
        self.mux.clear();
    }

    /// The HTTP/2 connections of the server.
    pub fn mux(&self) -> &super::mux::MuxPool {
        &self.mux
    }
}
