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
use super::events::{Change, Reporter, ServerFacts};
use super::server::{AdminState, ServerLive};
use crate::config::model::{Config, Server};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Every frontend's and backend's live state, by name (a frontend and a backend may
/// share a name, as in HAProxy).
#[derive(Default)]
pub struct Store {
    /// Current connections of the whole process (`actconn`).
    pub actconn: Arc<AtomicU32>,
    /// The client connections alive (`show sess`).
    pub sessions: Arc<super::sessions::Sessions>,
    frontends: Mutex<HashMap<String, Arc<FrontendLive>>>,
    backends: Mutex<HashMap<String, Arc<BackendLive>>>,
    /// Servers added at runtime (`add server`), by backend name, in the order they
    /// were added: every (re)load compiles them after the configured ones.
    dynamic: Mutex<Vec<(String, Server)>>,
    /// Configured servers removed at runtime (`del server`), by backend and name:
    /// rebuilds leave them out until a reload from the files.
    deleted: Mutex<Vec<(String, String)>>,
    /// Stick tables by name (the proxy declaring them).
    tables: Mutex<HashMap<String, Arc<super::stick::Table>>>,
}

/// Live state of a frontend (or the frontend half of a `listen`).
#[derive(Debug)]
pub struct FrontendLive {
    /// `show stat` counters; `scur` is the frontend's current connections (`feconn`).
    pub counters: Counters,
    /// `maxconn` set at runtime (`set maxconn frontend`); 0 when the configured one
    /// applies.
    pub maxconn_override: AtomicU32,
}

impl Default for FrontendLive {
    fn default() -> Self {
        FrontendLive {
            counters: Counters::default(),
            maxconn_override: AtomicU32::new(0),
        }
    }
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
    /// The servers configured in this backend and still referenced, in the order
    /// they were first configured.
    servers: Mutex<Servers>,
}

/// A backend's servers' live state, by name, and the next id to give.
#[derive(Default)]
struct Servers {
    list: Vec<(String, Arc<ServerLive>)>,
    next_id: usize,
}

impl BackendLive {
    /// The live state of server `name`, created with `weight` when new.
    /// Its id (ids are never reused within a backend's live state, HAProxy's `srv_id`
    /// minus one for the servers of the first configuration).
    pub fn server(&self, name: &str, weight: u32) -> Arc<ServerLive> {
        let mut v = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, s)) = v.list.iter().find(|(n, _)| n == name) {
            return Arc::clone(s);
        }
        let s = Arc::new(ServerLive::new(v.next_id, weight));
        v.next_id += 1;
        v.list.push((name.to_owned(), Arc::clone(&s)));
        s
    }

    /// The live state of server `name`, if it is known.
    pub fn find_server(&self, name: &str) -> Option<Arc<ServerLive>> {
        let v = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        v.list
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Forgets the servers nothing references any more (removed by a reload or by
    /// `del server`, once their in-flight work ended).
    fn sweep(&self) {
        let mut v = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        v.list.retain(|(_, s)| Arc::strong_count(s) > 1);
    }

    /// The names of the servers whose live state is kept.
    pub fn server_names(&self) -> Vec<String> {
        let v = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        v.list.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Makes `backend` the one whose servers and balancer the shared queues dispatch to.
    pub fn install(&self, backend: &Arc<Backend>) {
        self.queues.set_current(Arc::downgrade(backend));
    }

    /// The backend of the current snapshot, if it is still alive.
    pub fn current(&self) -> Option<Arc<Backend>> {
        self.queues.current().as_ref().and_then(Weak::upgrade)
    }

    /// Puts `server` in administrative state `to`, as HAProxy's `srv_adm_set_ready`,
    /// `srv_adm_set_drain` and `srv_adm_set_maint` do: drain takes it out of balancing
    /// (its current connections go on), maintenance takes it out and pauses its health
    /// checks (they restart at `rise` when it leaves, as up but checked at once), ready
    /// ends both. The current balancer is told and the change logged as HAProxy logs
    /// it. Nothing happens when the server is in that state already.
    pub fn set_admin(&self, server: &ServerLive, to: AdminState) {
        let from = server.admin();
        if from == to {
            return;
        }
        let was_up = server.up.load(Ordering::Relaxed);
        let mut change = match to {
            AdminState::Maint => {
                server.drain.store(false, Ordering::Relaxed);
                server.maint.store(true, Ordering::Relaxed);
                server.pool.clear();
                let up = server.health.update(|h| {
                    if h.enabled {
                        h.health = 0;
                    }
                    h.operational()
                });
                server.up.store(up, Ordering::Relaxed);
                Change::EnterMaint {
                    was_down: !was_up,
                    was_drain: from == AdminState::Drain,
                }
            }
            AdminState::Drain | AdminState::Ready => {
                let drain = to == AdminState::Drain;
                server.drain.store(drain, Ordering::Relaxed);
                if from == AdminState::Maint {
                    server.maint.store(false, Ordering::Relaxed);
                    let up = server.health.update(|h| {
                        if h.enabled {
                            h.health = h.rise;
                        }
                        h.operational()
                    });
                    server.up.store(up, Ordering::Relaxed);
                    server.health.wake.notify_one();
                    Change::LeaveMaint { up, drain }
                } else if drain {
                    Change::EnterDrain
                } else {
                    Change::LeaveDrain { up: was_up }
                }
            }
        };
        let cur = self.current();
        if let Some(b) = &cur {
            b.balancer.refresh();
        }
        let Some((b, st)) = cur.as_ref().and_then(|b| {
            let st = b.servers.iter().find(|s| s.id == server.id)?;
            Some((b, st))
        }) else {
            return;
        };
        // HAProxy's `srv_update_status`: a server with `on-marked-down
        // shutdown-sessions` entering maintenance ends its sessions too.
        if to == AdminState::Maint && st.on_marked_down_shutdown {
            server.shutdown.signal(crate::log::TermCause::Down);
        }
        let mut facts = ServerFacts::of(st);
        if let Change::EnterMaint { was_drain, .. } = &mut change {
            facts.drain = *was_drain;
        }
        b.reporter.server_change(Some(b), &facts, change, None);
    }

    /// Sets server `server` to maintenance (`true`) or back to ready
    /// ([`BackendLive::set_admin`]). False when no such server exists.
    pub fn set_maint(&self, server: &str, maint: bool) -> bool {
        let Some(s) = self.find_server(server) else {
            return false;
        };
        let to = if maint {
            AdminState::Maint
        } else {
            AdminState::Ready
        };
        self.set_admin(&s, to);
        true
    }

    /// The reporter of the current snapshot's backend (stderr only when none).
    pub fn reporter(&self, name: &str) -> Arc<Reporter> {
        self.current()
            .map(|b| Arc::clone(&b.reporter))
            .unwrap_or_else(|| Arc::new(Reporter::stderr(name)))
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

    /// Sets the administrative state of server `backend/server` (`set server B/S state
    /// ready|drain|maint`): the one mutation path the runtime API, the stats page's
    /// admin actions and the agent check call ([`BackendLive::set_admin`]). False when
    /// no such server exists.
    pub fn set_admin(&self, backend: &str, server: &str, to: AdminState) -> bool {
        let Some(be) = self.find_backend(backend) else {
            return false;
        };
        let Some(s) = be.find_server(server) else {
            return false;
        };
        be.set_admin(&s, to);
        true
    }

    /// Sets server `backend/server` to maintenance (`true`) or back to ready
    /// ([`Store::set_admin`]). False when no such server exists.
    pub fn set_maint(&self, backend: &str, server: &str, maint: bool) -> bool {
        let to = if maint {
            AdminState::Maint
        } else {
            AdminState::Ready
        };
        self.set_admin(backend, server, to)
    }

    /// Sets server `backend/server` up or down by hand (`set server B/S health`): its
    /// health counter becomes `health`, and a health check, if any, goes on from
    /// there. False when no such server exists.
    pub fn set_health(&self, backend: &str, server: &str, up: bool, health: u32) -> bool {
        let Some(be) = self.find_backend(backend) else {
            return false;
        };
        let Some(s) = be.find_server(server) else {
            return false;
        };
        s.health.update(|h| {
            h.health = health;
            if s.up.load(Ordering::Relaxed) != up {
                h.last_change = Some(std::time::SystemTime::now());
            }
        });
        s.up.store(up, Ordering::Relaxed);
        s.stopping.store(false, Ordering::Relaxed);
        if !up {
            s.pool.clear();
        }
        if let Some(cur) = be.current() {
            cur.balancer.refresh();
        }
        true
    }

    /// `set server B/S health stopping` (HAProxy's `srv_set_stopping`): the server is
    /// up with its health counter full but takes no new traffic from balancing
    /// (persistent clients still reach it), until a check or `health up|down` changes
    /// its state. Nothing happens to a server in maintenance. False when no such
    /// server exists.
    pub fn set_stopping(&self, backend: &str, server: &str, health: u32) -> bool {
        let Some(be) = self.find_backend(backend) else {
            return false;
        };
        let Some(s) = be.find_server(server) else {
            return false;
        };
        if s.maint.load(Ordering::Relaxed) {
            return true;
        }
        s.health.update(|h| {
            h.health = health;
            h.last_change = Some(std::time::SystemTime::now());
        });
        s.up.store(true, Ordering::Relaxed);
        s.stopping.store(true, Ordering::Relaxed);
        if let Some(cur) = be.current() {
            cur.balancer.refresh();
        }
        true
    }

    /// Stops (`paused`) or resumes the health check (or, with `agent`, the agent
    /// check) of server `backend/server`: `disable|enable health|agent`. A stopped
    /// check leaves the server's state as it is. False when no such server exists.
    pub fn pause_check(&self, backend: &str, server: &str, agent: bool, paused: bool) -> bool {
        let Some(s) = self
            .find_backend(backend)
            .and_then(|b| b.find_server(server))
        else {
            return false;
        };
        s.health.update(|h| {
            if agent {
                h.agent.paused = paused;
            } else {
                h.paused = paused;
            }
        });
        true
    }

    /// Sets the agent's verdict on server `backend/server` by hand (`set server B/S
    /// agent up|down`); the server's state follows. False when no such server exists.
    pub fn set_agent_health(&self, backend: &str, server: &str, up: bool) -> bool {
        let Some(be) = self.find_backend(backend) else {
            return false;
        };
        let Some(s) = be.find_server(server) else {
            return false;
        };
        let now_up = s.health.update(|h| {
            h.agent.health = u32::from(up);
            let now = h.operational();
            if s.up.load(Ordering::Relaxed) != now {
                h.last_change = Some(std::time::SystemTime::now());
            }
            now
        });
        s.up.store(now_up, Ordering::Relaxed);
        if !now_up {
            s.pool.clear();
        }
        if let Some(cur) = be.current() {
            cur.balancer.refresh();
        }
        true
    }

    /// Sets the current weight of server `backend/server` (`set server B/S weight`)
    /// and tells the current snapshot's balancer. False when no such server exists.
    pub fn set_weight(&self, backend: &str, server: &str, weight: u32) -> bool {
        let Some(be) = self.find_backend(backend) else {
            return false;
        };
        let Some(s) = be.find_server(server) else {
            return false;
        };
        s.weight.store(weight, Ordering::Relaxed);
        if let Some(cur) = be.current() {
            cur.balancer.refresh();
        }
        true
    }

    /// The stick table `name` with definition `def`: the one kept when its definition
    /// is unchanged (a reload keeps its entries), else a new, empty one.
    pub fn table(
        &self,
        name: &str,
        def: &crate::config::model::StickTableDef,
    ) -> Arc<super::stick::Table> {
        let mut m = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        match m.get(name) {
            Some(t) if t.def == *def => Arc::clone(t),
            _ => {
                let t = Arc::new(super::stick::Table::new(name, def.clone()));
                m.insert(name.to_owned(), Arc::clone(&t));
                t
            }
        }
    }

    /// Forgets the frontends, backends and servers nothing references any more: what
    /// a reload or `del server` removed, once its in-flight work ended. A name that
    /// comes back later starts fresh, as in a new HAProxy process.
    pub fn sweep(&self) {
        let backends: Vec<Arc<BackendLive>> = {
            let m = self.backends.lock().unwrap_or_else(|e| e.into_inner());
            m.values().cloned().collect()
        };
        for b in &backends {
            b.sweep();
        }
        drop(backends);
        let mut m = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, b| Arc::strong_count(b) > 1);
        drop(m);
        let mut m = self.frontends.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, f| Arc::strong_count(f) > 1);
        drop(m);
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        t.retain(|_, t| Arc::strong_count(t) > 1);
        for table in t.values() {
            table.purge_expired();
        }
    }

    /// Records a server added at runtime to `backend`; every later (re)load compiles
    /// it after the configured servers, until [`Store::remove_dynamic`].
    pub fn add_dynamic(&self, backend: &str, server: Server) {
        let mut v = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        v.push((backend.to_owned(), server));
    }

    /// Forgets the runtime-added server `backend/name`; false when it was not one.
    pub fn remove_dynamic(&self, backend: &str, name: &str) -> bool {
        let mut v = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        let before = v.len();
        v.retain(|(b, s)| !(b == backend && s.name == name));
        v.len() != before
    }

    /// Leaves configured server `backend/name` out of later rebuilds (`del server`).
    pub fn delete_configured(&self, backend: &str, name: &str) {
        let mut v = self.deleted.lock().unwrap_or_else(|e| e.into_inner());
        v.push((backend.to_owned(), name.to_owned()));
    }

    /// Forgets the `del server` of configured servers (a reload from the files brings
    /// back the servers they declare) and returns them, for [`Store::restore_deleted`]
    /// when that reload fails.
    pub fn take_deleted(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.deleted.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts back what [`Store::take_deleted`] returned.
    pub fn restore_deleted(&self, deleted: Vec<(String, String)>) {
        self.deleted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(deleted);
    }

    /// Forgets the `del server` of configured server `backend/name` (after a rebuild
    /// that failed).
    pub fn undelete(&self, backend: &str, name: &str) {
        let mut v = self.deleted.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|(b, n)| !(b == backend && n == name));
    }

    /// `config` with the servers added at runtime appended to their backends (a
    /// configured server of the same name wins) and the configured servers deleted at
    /// runtime left out: what every (re)load compiles.
    pub fn with_dynamic_servers(&self, config: &Config) -> Config {
        let mut out = config.clone();
        let deleted = self.deleted.lock().unwrap_or_else(|e| e.into_inner());
        for (backend, name) in deleted.iter() {
            if let Some(p) = out
                .proxies
                .iter_mut()
                .find(|p| p.kind.has_backend() && p.name == *backend)
            {
                p.servers.retain(|s| s.name != *name);
            }
        }
        drop(deleted);
        let v = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        for (backend, server) in v.iter() {
            if let Some(p) = out
                .proxies
                .iter_mut()
                .find(|p| p.kind.has_backend() && p.name == *backend)
                && !p.servers.iter().any(|s| s.name == server.name)
            {
                p.servers.push(server.clone());
            }
        }
        out
    }

    /// The servers added at runtime to `backend`, in the order they were added.
    pub fn dynamic_servers(&self, backend: &str) -> Vec<Server> {
        let v = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        v.iter()
            .filter(|(b, _)| b == backend)
            .map(|(_, s)| s.clone())
            .collect()
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

    #[test]
    fn admin_states_are_exclusive_and_maintenance_pauses_the_health_check() {
        let st = Store::new();
        let s = st.backend("app").server("s1", 10);
        s.health.update(|h| {
            h.enabled = true;
            h.rise = 2;
            h.health = 4;
        });
        assert!(st.set_admin("app", "s1", AdminState::Drain));
        assert_eq!(s.admin(), AdminState::Drain);
        assert!(!s.usable());
        assert!(s.up.load(Ordering::Relaxed), "drain keeps the server up");
        st.set_admin("app", "s1", AdminState::Maint);
        assert_eq!(s.admin(), AdminState::Maint);
        assert!(!s.drain.load(Ordering::Relaxed));
        assert_eq!(s.health.get().health, 0);
        assert!(!s.up.load(Ordering::Relaxed));
        st.set_admin("app", "s1", AdminState::Ready);
        assert_eq!(s.admin(), AdminState::Ready);
        // Back from maintenance: up at `rise`, checked again at once.
        assert_eq!(s.health.get().health, 2);
        assert!(s.usable());
        assert!(!st.set_admin("app", "nope", AdminState::Drain));
    }

    #[test]
    fn runtime_address_and_maxconn_outlive_reloads_that_keep_the_configured_ones() {
        let st = Store::new();
        let s = st.backend("app").server("s1", 1);
        let a: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
        let b: std::net::SocketAddr = "127.0.0.2:81".parse().unwrap();
        s.apply(1, false, a);
        s.set_addr(b);
        s.set_maxconn(3);
        s.apply(1, false, a);
        assert_eq!(s.addr_override(), Some(b));
        assert_eq!(s.maxconn_override(), Some(3));
        // A configuration that moves the server wins over the runtime address.
        s.apply(1, false, "127.0.0.3:82".parse().unwrap());
        assert_eq!(s.addr_override(), None);
        assert!(st.set_weight("app", "s1", 0));
        assert!(!s.usable());
        assert!(!st.set_weight("app", "nope", 0));
    }

    #[test]
    fn unreferenced_names_are_forgotten() {
        let st = Store::new();
        let a = st.backend("app");
        let s1 = a.server("s1", 10);
        let s2 = a.server("s2", 10);
        s2.maint.store(true, Ordering::Relaxed);
        // s2 is still referenced (in-flight work): kept.
        st.sweep();
        assert!(a.find_server("s2").is_some());
        drop(s2);
        st.sweep();
        assert!(a.find_server("s2").is_none());
        // It comes back fresh, with a new id.
        let s2 = a.server("s2", 10);
        assert!(!s2.maint.load(Ordering::Relaxed));
        assert_eq!(s2.id, 2);
        assert!(Arc::ptr_eq(&s1, &a.find_server("s1").unwrap()));
        drop((a, s1, s2));
        st.sweep();
        assert!(st.find_backend("app").is_none());
    }
}
