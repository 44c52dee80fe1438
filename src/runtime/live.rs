//! The live-state store: how each frontend, backend and server is doing, kept by name
//! apart from the compiled configuration, so that it outlives snapshots.
//!
//! A snapshot says what is configured; the store says how it is doing. Compiling a
//! snapshot binds each of its frontends, backends and servers to the store's entry of
//! the same name (creating it when new), so a reload keeps the health, admin state,
//! runtime weight, counters, queues and idle connections of what remains, starts what is
//! new fresh, and lets what was removed finish its in-flight work on its old snapshot.
//! The stats page, Prometheus and the runtime API read and change the store by name.

use super::backend::{Backend, Queues};
use super::counters::Counters;
use super::server::ServerLive;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Every frontend's and backend's live state, by name (a frontend and a backend may
/// share a name, as in HAProxy).
#[derive(Default)]
pub struct Store {
    /// Current connections of the whole process (`actconn`).
    pub actconn: Arc<AtomicU32>,
    frontends: Mutex<HashMap<String, Arc<FrontendLive>>>,
    backends: Mutex<HashMap<String, Arc<BackendLive>>>,
}

/// Live state of a frontend (or the frontend half of a `listen`).
#[derive(Debug, Default)]
pub struct FrontendLive {
    /// `show stat` counters; `scur` is the frontend's current connections (`feconn`).
    pub counters: Counters,
}

/// Live state of a backend (or the backend half of a `listen`).
#[derive(Default)]
pub struct BackendLive {
    /// `show stat` counters; `scur` is the connections or requests currently assigned
    /// to this backend (`beconn`).
    pub counters: Counters,
    /// Requests waiting in the backend queue (not those of the servers' own queues).
    pub queued: AtomicU32,
    /// The backend queue and the servers' queues, shared by every snapshot of this
    /// backend: a slot freed by a request of an old snapshot serves the waiters of the
    /// new one, and the other way round.
    pub queues: Queues,
    /// The servers ever configured in this backend, by id (the position is the id).
    servers: Mutex<Vec<(String, Arc<ServerLive>)>>,
}

impl BackendLive {
    /// The live state of server `name`, created with `weight` when new.
    pub fn server(&self, name: &str, weight: u32) -> Arc<ServerLive> {
        let mut v = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, s)) = v.iter().find(|(n, _)| n == name) {
            return Arc::clone(s);
        }
        let s = Arc::new(ServerLive::new(v.len(), weight));
        v.push((name.to_owned(), Arc::clone(&s)));
        s
    }

    /// The live state of server `name`, if it was ever configured.
    pub fn find_server(&self, name: &str) -> Option<Arc<ServerLive>> {
        let v = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        v.iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Makes `backend` the one whose servers and balancer the shared queues dispatch to.
    pub fn install(&self, backend: &Arc<Backend>) {
        self.queues.set_current(Arc::downgrade(backend));
    }

    /// Sets server `server` to maintenance (`true`) or back to ready, and tells the
    /// current snapshot's balancer ([`Store::set_maint`] by backend name). False when
    /// no such server exists.
    pub fn set_maint(&self, server: &str, maint: bool) -> bool {
        let Some(s) = self.find_server(server) else {
            return false;
        };
        s.maint.store(maint, Ordering::Relaxed);
        if maint {
            s.pool.clear();
        }
        if let Some(cur) = self.current() {
            cur.balancer.refresh();
        }
        true
    }

    /// The backend of the current snapshot, if it is still alive.
    pub fn current(&self) -> Option<Arc<Backend>> {
        self.queues.current().as_ref().and_then(Weak::upgrade)
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Store::default()
    }

    /// The live state of frontend `name`, created when new.
    pub fn frontend(&self, name: &str) -> Arc<FrontendLive> {
        let mut m = self.frontends.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(m.entry(name.to_owned()).or_default())
    }

    /// The live state of backend `name`, created when new.
    pub fn backend(&self, name: &str) -> Arc<BackendLive> {
        let mut m = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(m.entry(name.to_owned()).or_default())
    }

    /// The live state of frontend `name`, if it was ever configured.
    pub fn find_frontend(&self, name: &str) -> Option<Arc<FrontendLive>> {
        let m = self.frontends.lock().unwrap_or_else(|e| e.into_inner());
        m.get(name).cloned()
    }

    /// The live state of backend `name`, if it was ever configured.
    pub fn find_backend(&self, name: &str) -> Option<Arc<BackendLive>> {
        let m = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        m.get(name).cloned()
    }

    /// Sets server `backend/server` to maintenance (`true`) or back to ready: the one
    /// mutation path the runtime API and the stats page's admin actions will call. The
    /// current snapshot's balancer is told. False when no such server exists.
    pub fn set_maint(&self, backend: &str, server: &str, maint: bool) -> bool {
        let Some(be) = self.find_backend(backend) else {
            return false;
        };
        be.set_maint(server, maint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_kept_by_name() {
        let st = Store::new();
        let a = st.backend("app");
        let s1 = a.server("s1", 10);
        s1.cur_conns.fetch_add(3, Ordering::Relaxed);
        // The same names give the same live state; a frontend may share a backend's name.
        assert!(Arc::ptr_eq(&s1, &st.backend("app").server("s1", 99)));
        assert_eq!(st.backend("app").server("s1", 1).id, 0);
        assert_eq!(st.backend("app").server("s2", 1).id, 1);
        let f = st.frontend("app");
        f.counters.session_start();
        assert_eq!(st.frontend("app").counters.scur.load(Ordering::Relaxed), 1);
        assert!(st.find_backend("nope").is_none());
        assert!(!st.set_maint("app", "nope", true));
        assert!(st.set_maint("app", "s1", true));
        assert!(s1.maint.load(Ordering::Relaxed));
    }
}
