//! The server set a balancer chooses from: which servers are candidates right now
//! (active servers, else the first backup or all of them with `option allbackups`).

use super::Candidate;
use std::sync::Arc;

/// Which servers are candidates, decided from the live usable set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pool {
    /// Usable non-backup servers.
    Active,
    /// All usable backup servers (`option allbackups`, no usable active server).
    Backups,
    /// Only this backup server (position in the farm): the first usable one.
    FirstBackup(usize),
    /// Nothing is usable.
    Empty,
}

/// What an algorithm decided, as positions in the farm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// This server (position in the farm).
    Server(usize),
    /// Candidates exist but all are full: queue in the backend.
    AllFull,
    /// No usable (non-excluded) server.
    NoServer,
}

/// A backend's servers, in declaration order, and the `allbackups` option.
pub(crate) struct Farm<S> {
    pub(crate) servers: Vec<Arc<S>>,
    pub(crate) allbackups: bool,
}

impl<S: Candidate> Farm<S> {
    /// The current candidate pool (stops at the first usable active server).
    pub(crate) fn pool(&self) -> Pool {
        let mut first_backup = None;
        for (i, s) in self.servers.iter().enumerate() {
            if !s.usable() {
                continue;
            }
            if !s.is_backup() {
                return Pool::Active;
            }
            if first_backup.is_none() {
                first_backup = Some(i);
            }
        }
        match first_backup {
            None => Pool::Empty,
            Some(_) if self.allbackups => Pool::Backups,
            Some(i) => Pool::FirstBackup(i),
        }
    }

    /// True when the server at position `i` is usable and belongs to `pool`.
    pub(crate) fn admits(&self, pool: Pool, i: usize) -> bool {
        let Some(s) = self.servers.get(i) else {
            return false;
        };
        let member = match pool {
            Pool::Active => !s.is_backup(),
            Pool::Backups => s.is_backup(),
            Pool::FirstBackup(b) => i == b,
            Pool::Empty => false,
        };
        member && s.usable()
    }

    /// The candidates of `pool` with their positions, in declaration order.
    pub(crate) fn candidates(&self, pool: Pool) -> impl Iterator<Item = (usize, &S)> {
        self.servers
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.admits(pool, *i))
            .map(|(i, s)| (i, s.as_ref()))
    }

    /// The outcome when no candidate could be chosen: `AllFull` when some candidate of
    /// `pool` is not excluded (so all those are saturated), else `NoServer`.
    pub(crate) fn blocked(&self, pool: Pool, exclude: &[usize]) -> Outcome {
        if self.candidates(pool).any(|(_, s)| !excluded(s, exclude)) {
            Outcome::AllFull
        } else {
            Outcome::NoServer
        }
    }
}

/// True when the server was already tried for this request.
pub(crate) fn excluded(s: &impl Candidate, exclude: &[usize]) -> bool {
    exclude.contains(&s.index())
}

/// True when the server must not take a new connection now: it reached `maxconn`, or it
/// has a maxconn and requests waiting in its own queue (HAProxy serves those first).
pub(crate) fn saturated(s: &impl Candidate) -> bool {
    s.full() || (s.maxconn() != 0 && s.queued() > 0)
}

/// The HAProxy "effective weight" scaling for map-based tables: `ceil(w * 16 / gcd)`
/// where `gcd` is the greatest common divisor of the configured weights.
pub(crate) fn config_gcd<S: Candidate>(servers: &[Arc<S>]) -> u32 {
    let mut g = 0u32;
    for s in servers {
        let mut a = s.config_weight();
        let mut b = g;
        while b != 0 {
            let t = a % b;
            a = b;
            b = t;
        }
        g = a;
    }
    g.max(1)
}

/// Test helpers: build farms of servers quickly.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::balance::BalanceInput;
    use std::net::IpAddr;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    /// A server's live state as the balancer reads it, with the field names of the
    /// runtime's server state so that tests read alike.
    #[derive(Debug)]
    pub(crate) struct TestServer {
        pub(crate) index: usize,
        pub(crate) backup: bool,
        pub(crate) maxconn: u32,
        pub(crate) config_weight: u32,
        pub(crate) weight: AtomicU32,
        pub(crate) up: AtomicBool,
        pub(crate) maint: AtomicBool,
        pub(crate) cur_conns: AtomicU32,
        pub(crate) queued: AtomicU32,
    }

    impl Candidate for TestServer {
        fn index(&self) -> usize {
            self.index
        }
        fn is_backup(&self) -> bool {
            self.backup
        }
        fn usable(&self) -> bool {
            self.up.load(Ordering::Relaxed)
                && !self.maint.load(Ordering::Relaxed)
                && self.weight.load(Ordering::Relaxed) > 0
        }
        fn full(&self) -> bool {
            self.maxconn != 0 && self.cur_conns.load(Ordering::Relaxed) >= self.maxconn
        }
        fn maxconn(&self) -> u32 {
            self.maxconn
        }
        fn queued(&self) -> u32 {
            self.queued.load(Ordering::Relaxed)
        }
        fn cur_conns(&self) -> u32 {
            self.cur_conns.load(Ordering::Relaxed)
        }
        fn config_weight(&self) -> u32 {
            self.config_weight
        }
        fn cur_weight(&self) -> u32 {
            self.weight.load(Ordering::Relaxed)
        }
    }

    /// A farm of test servers.
    pub(crate) type TestFarm = Farm<TestServer>;

    /// Servers `s0..` with the given weights, all up, non-backup.
    pub(crate) fn servers(weights: &[u32]) -> Vec<Arc<TestServer>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Arc::new(server(i, w, false, 0)))
            .collect()
    }

    /// One server.
    pub(crate) fn server(index: usize, weight: u32, backup: bool, maxconn: u32) -> TestServer {
        TestServer {
            index,
            backup,
            maxconn,
            config_weight: weight,
            weight: AtomicU32::new(weight),
            up: AtomicBool::new(true),
            maint: AtomicBool::new(false),
            cur_conns: AtomicU32::new(0),
            queued: AtomicU32::new(0),
        }
    }

    /// A request with optional source, uri and one header.
    #[derive(Default)]
    pub(crate) struct Req {
        pub(crate) src: Option<IpAddr>,
        pub(crate) uri: Option<String>,
        pub(crate) header: Option<(String, String)>,
    }

    impl BalanceInput for Req {
        fn src(&self) -> Option<IpAddr> {
            self.src
        }
        fn uri(&self) -> Option<&[u8]> {
            self.uri.as_deref().map(str::as_bytes)
        }
        fn header(&self, name: &str) -> Option<&[u8]> {
            self.header
                .as_ref()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_bytes())
        }
    }

    /// A request with only a URI.
    pub(crate) fn uri(u: &str) -> Req {
        Req {
            uri: Some(u.to_string()),
            ..Req::default()
        }
    }
}
