//! The live state as the ACL engine's fetches read it ([`LiveState`]: `nbsrv`,
//! `be_conn`, `fe_conn`, `queue`, `srv_is_up`, `be_name`, …): a stream's frontend and
//! backend in its snapshot, and any other proxy or server of that snapshot by name. The
//! ACL engine sits below the runtime and sees this state only through that trait.

use super::backend::Backend;
use super::frontend::Frontend;
use super::snapshot::Snapshot;
use crate::acl::{LiveState, ProxyStat, ServerStat};
use std::sync::atomic::Ordering;

/// The proxies one stream goes through, in the snapshot it began with.
#[derive(Clone, Copy)]
pub struct StreamLive<'a> {
    /// The snapshot (for proxies named by fetches).
    snap: &'a Snapshot,
    /// The frontend the stream came through.
    frontend: &'a Frontend,
    /// The backend, once chosen (`None`: the frontend is its own backend until then).
    backend: Option<&'a Backend>,
    /// The backend is chosen but the stream is not yet among its connections (`scur`):
    /// HAProxy counts it in `be_conn` from the switch on, the data plane when it
    /// forwards, so until then `be_conn` adds it.
    uncounted: bool,
}

impl<'a> StreamLive<'a> {
    /// A stream of `frontend` whose backend is not chosen yet.
    pub fn new(snap: &'a Snapshot, frontend: &'a Frontend) -> Self {
        StreamLive {
            snap,
            frontend,
            backend: None,
            uncounted: false,
        }
    }

    /// A stream forwarded to `backend` (counted among its connections).
    pub fn forwarded(snap: &'a Snapshot, frontend: &'a Frontend, backend: &'a Backend) -> Self {
        StreamLive {
            backend: Some(backend),
            ..StreamLive::new(snap, frontend)
        }
    }

    /// The same stream once `backend` is chosen, before it is forwarded.
    pub fn switched(self, backend: &'a Backend) -> Self {
        StreamLive {
            backend: Some(backend),
            uncounted: true,
            ..self
        }
    }

    /// Backend `name`; empty: the stream's backend (a `listen` is its own until it
    /// switches).
    fn backend_named(&self, name: &str) -> Option<&'a Backend> {
        let name = match (name, self.backend) {
            ("", Some(b)) => return Some(b),
            ("", None) => self.frontend.name.as_str(),
            (n, _) => n,
        };
        self.snap
            .backends
            .iter()
            .find(|b| b.name == name)
            .map(|b| &**b)
    }

    /// Frontend `name`; empty: the stream's.
    fn frontend_named(&self, name: &str) -> Option<&'a Frontend> {
        if name.is_empty() {
            return Some(self.frontend);
        }
        self.snap.frontend(name).map(|f| &**f)
    }
}

/// `nbsrv`: the servers the balancer would use now (active ones, else the first usable
/// backup, or all of them with `option allbackups`), HAProxy's `be_usable_srv()`.
fn usable_servers(b: &Backend) -> i64 {
    (0..b.servers.len())
        .filter(|&i| b.balancer.admits(i))
        .count() as i64
}

fn backend_stat(b: &Backend, stat: ProxyStat) -> i64 {
    let load = |a: &std::sync::atomic::AtomicU32| i64::from(a.load(Ordering::Relaxed));
    match stat {
        ProxyStat::Nbsrv => usable_servers(b),
        ProxyStat::BeConn => load(&b.counters.scur),
        ProxyStat::BeSessRate => i64::from(b.counters.sess_rate.rate()),
        ProxyStat::Queue => {
            load(&b.queued) + b.servers.iter().map(|s| load(&s.queued)).sum::<i64>()
        }
        ProxyStat::BeConnFree => {
            let mut free = 0;
            for s in b.servers.iter().filter(|s| b.balancer.admits(s.index)) {
                if s.maxconn == 0 {
                    return -1;
                }
                free += (i64::from(s.maxconn) - load(&s.cur_conns)).max(0);
            }
            free
        }
        ProxyStat::ConnSlots => {
            let mut slots = 0;
            let running = b
                .servers
                .iter()
                .filter(|s| s.up.load(Ordering::Relaxed) && !s.maint.load(Ordering::Relaxed));
            for s in running {
                if s.maxconn == 0 || s.maxqueue == 0 {
                    return -1;
                }
                slots += i64::from(s.maxconn) - load(&s.cur_conns) + i64::from(s.maxqueue)
                    - load(&s.queued);
            }
            slots
        }
        ProxyStat::FeConn | ProxyStat::FeReqRate | ProxyStat::FeSessRate => 0,
    }
}

impl LiveState for StreamLive<'_> {
    fn frontend_name(&self) -> Option<&str> {
        Some(&self.frontend.name)
    }

    fn backend_name(&self) -> Option<&str> {
        Some(self.backend.map_or(&self.frontend.name, |b| &b.name))
    }

    fn proxy_stat(&self, proxy: &str, stat: ProxyStat) -> Option<i64> {
        match stat {
            ProxyStat::FeConn | ProxyStat::FeReqRate | ProxyStat::FeSessRate => {
                let c = &self.frontend_named(proxy)?.live.counters;
                Some(match stat {
                    ProxyStat::FeConn => i64::from(c.scur.load(Ordering::Relaxed)),
                    ProxyStat::FeReqRate => i64::from(c.req_rate.rate()),
                    _ => i64::from(c.sess_rate.rate()),
                })
            }
            _ => {
                let b = self.backend_named(proxy)?;
                let own = self.uncounted
                    && stat == ProxyStat::BeConn
                    && self.backend.is_some_and(|cur| std::ptr::eq(cur, b));
                Some(backend_stat(b, stat) + i64::from(own))
            }
        }
    }

    fn server_stat(&self, backend: &str, server: &str, stat: ServerStat) -> Option<i64> {
        let b = self.backend_named(backend)?;
        let s = b.servers.iter().find(|s| s.name == server)?;
        let load = |a: &std::sync::atomic::AtomicU32| i64::from(a.load(Ordering::Relaxed));
        Some(match stat {
            ServerStat::IsUp => {
                i64::from(s.up.load(Ordering::Relaxed) && !s.maint.load(Ordering::Relaxed))
            }
            ServerStat::Conn => load(&s.cur_conns),
            ServerStat::ConnFree if s.maxconn == 0 => -1,
            ServerStat::ConnFree => (i64::from(s.maxconn) - load(&s.cur_conns)).max(0),
            ServerStat::Queue => load(&s.queued),
            ServerStat::SessRate => i64::from(s.counters.sess_rate.rate()),
            ServerStat::Weight | ServerStat::UWeight => i64::from(s.cur_weight()),
            ServerStat::IWeight => i64::from(s.config_weight),
        })
    }
}
