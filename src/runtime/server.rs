//! Live state of one server: health, effective weight, connection counts. Shared between
//! threads through atomics; keyed by backend/server name so that it survives a reload.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// One server of a backend, as the data plane sees it.
#[derive(Debug)]
pub struct ServerState {
    /// The server's name.
    pub name: String,
    /// Its index in the backend's server list.
    pub index: usize,
    /// The resolved address (`None` for "use the client's destination port").
    pub addr: SocketAddr,
    /// Declared `backup`.
    pub backup: bool,
    /// `maxconn` (0: unlimited).
    pub maxconn: u32,
    /// `maxqueue` (0: unlimited).
    pub maxqueue: u32,
    /// The configured weight (`weight`, 0..=256).
    pub config_weight: u32,
    /// The current weight (runtime changes, slow start); 0 takes the server out.
    pub weight: AtomicU32,
    /// Up according to health checks (true without checks).
    pub up: AtomicBool,
    /// In maintenance (`disabled`, or set at runtime).
    pub maint: AtomicBool,
    /// Connections currently established or being established to this server.
    pub cur_conns: AtomicU32,
    /// Requests waiting in this server's own queue (their balancing decision designated
    /// this server: hash-based algorithms, or the server was full when chosen).
    pub queued: AtomicU32,
    /// Total connections/requests sent.
    pub total: AtomicU64,
}

impl ServerState {
    /// A server that is up, with its configured weight.
    pub fn new(name: impl Into<String>, index: usize, addr: SocketAddr, weight: u32) -> Self {
        ServerState {
            name: name.into(),
            index,
            addr,
            backup: false,
            maxconn: 0,
            maxqueue: 0,
            config_weight: weight,
            weight: AtomicU32::new(weight),
            up: AtomicBool::new(true),
            maint: AtomicBool::new(false),
            cur_conns: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            total: AtomicU64::new(0),
        }
    }

    /// True when the server may receive traffic (up, not in maintenance, weight > 0).
    pub fn usable(&self) -> bool {
        self.up.load(Ordering::Relaxed)
            && !self.maint.load(Ordering::Relaxed)
            && self.weight.load(Ordering::Relaxed) > 0
    }

    /// True when the server has reached its `maxconn`.
    pub fn full(&self) -> bool {
        self.maxconn != 0 && self.cur_conns.load(Ordering::Relaxed) >= self.maxconn
    }

    /// Takes a connection slot unless the server is at its `maxconn`: counts the
    /// connection and returns true, or returns false and changes nothing.
    pub fn try_take(&self) -> bool {
        let mut cur = self.cur_conns.load(Ordering::SeqCst);
        loop {
            if self.maxconn != 0 && cur >= self.maxconn {
                return false;
            }
            match self.cur_conns.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {
                    self.total.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }

    /// The current weight.
    pub fn cur_weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }
}
