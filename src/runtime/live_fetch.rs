//! The live state as the ACL engine's fetches read it ([`LiveState`]: `nbsrv`,
//! `be_conn`, `fe_conn`, `queue`, `srv_is_up`, `be_name`, …): a stream's frontend and
//! backend in its snapshot, and any other proxy or server of that snapshot by name. The
//! ACL engine sits below the runtime and sees this state only through that trait.

use super::backend::Backend;
use super::frontend::Frontend;
use super::snapshot::Snapshot;
use super::stick::{KeyIn, Table, Trackers};
use crate::acl::{LiveState, ProxyStat, ServerStat, StickAt, StickData, StickKey, StickOp};
use std::sync::Arc;
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
    /// The counters the client connection tracks (`tcp-request connection track-sc*`).
    session: Option<&'a Trackers>,
    /// The counters the stream (one request in HTTP) tracks; `track-sc*` rules fill
    /// these when present, else the session's.
    stream: Option<&'a Trackers>,
}

impl<'a> StreamLive<'a> {
    /// A stream of `frontend` whose backend is not chosen yet.
    pub fn new(snap: &'a Snapshot, frontend: &'a Frontend) -> Self {
        StreamLive {
            snap,
            frontend,
            backend: None,
            uncounted: false,
            session: None,
            stream: None,
        }
    }

    /// The same stream with its tracked counters: the session's and the stream's.
    pub fn tracking(self, session: Option<&'a Trackers>, stream: Option<&'a Trackers>) -> Self {
        StreamLive {
            session,
            stream,
            ..self
        }
    }

    /// The counters the stream tracks, as a bit set.
    pub fn stream_slots(&self) -> u8 {
        let Some(t) = self.stream else { return 0 };
        (0..super::stick::track::SLOTS)
            .filter(|n| t.get(*n).is_some())
            .fold(0, |m, n| m | 1 << n)
    }

    /// Counts the request in the entries the stream tracks, but those of `except` (the
    /// request of an HTTP stream whose `tcp-request content` rules tracked them, as
    /// HAProxy counts it once they ran).
    pub fn count_stream_request(&self, except: u8) {
        let Some(t) = self.stream else { return };
        for n in (0..super::stick::track::SLOTS).filter(|n| except & (1 << n) == 0) {
            if let Some(tr) = t.get(n)
                && tr
                    .table
                    .stores_any(&[StickData::HttpReqCnt, StickData::HttpReqRate])
            {
                tr.table.update(&tr.entry, |u| {
                    u.add(StickData::HttpReqCnt, 0, 1);
                    u.add(StickData::HttpReqRate, 0, 1);
                });
            }
        }
    }

    /// The table `name`; empty: the table of the stream's proxy (its backend once
    /// chosen, else its frontend).
    fn table_named(&self, name: &str) -> Option<&'a Arc<Table>> {
        let name = match (name, self.backend) {
            ("", Some(b)) => b.name.as_str(),
            ("", None) => self.frontend.name.as_str(),
            (n, _) => n,
        };
        self.snap.table(name)
    }

    /// The entry counter `n` tracks: the stream's, else the session's.
    fn tracked(&self, n: usize) -> Option<&'a super::stick::Tracked> {
        self.stream
            .and_then(|t| t.get(n))
            .or_else(|| self.session.and_then(|t| t.get(n)))
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

/// The counter and rate of `sc-inc-gpc` index `idx` (0: `gpc0`, 1: `gpc1`, else
/// `gpc(idx - 2)`), with the element.
fn gpc(idx: u32) -> (StickData, StickData, u32) {
    match idx {
        0 => (StickData::Gpc0, StickData::Gpc0Rate, 0),
        1 => (StickData::Gpc1, StickData::Gpc1Rate, 0),
        n => (StickData::Gpc, StickData::GpcRate, n - 2),
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

    fn stick_read(&self, n: usize, data: StickData, idx: u32) -> Option<i64> {
        let t = self.tracked(n)?;
        t.table.read(&t.entry, data, idx)
    }

    fn stick(&self, at: StickAt<'_>, op: StickOp) -> Option<i64> {
        // The common case (`sc_http_req_rate(0)`): read the tracked entry in place.
        if let (StickAt::Slot(n, None), StickOp::Get(d, idx)) = (at, op) {
            return self.stick_read(n, d, idx);
        }
        // The table and entry the fetch designates; `None` entry: not in the table.
        let (table, entry, create): (&Arc<Table>, Option<Arc<super::stick::Entry>>, bool) = match at
        {
            StickAt::Slot(n, alt) => {
                let t = self.tracked(n);
                if let StickOp::Tracked = op {
                    return Some(i64::from(t.is_some()));
                }
                let t = t?;
                match alt {
                    None => (&t.table, Some(Arc::clone(&t.entry)), false),
                    Some(name) => {
                        let other = self.table_named(name)?;
                        (other, other.lookup(&t.entry.key), false)
                    }
                }
            }
            StickAt::Src(name, ip) => {
                let t = self.table_named(name)?;
                let key = t.key(KeyIn::Ip(ip))?;
                let create = matches!(op, StickOp::Inc(_) | StickOp::Clr(_));
                let e = if create {
                    t.get_or_create(key.bytes())
                } else {
                    t.lookup(key.bytes())
                };
                (t, e, create)
            }
            StickAt::Key(name, k) => {
                let t = self.table_named(name)?;
                let k = match k {
                    StickKey::Int(n) => KeyIn::Int(n),
                    StickKey::Ip(ip) => KeyIn::Ip(ip),
                    StickKey::Str(s) => KeyIn::Str(s),
                };
                let key = t.key(k)?;
                (t, t.lookup(key.bytes()), false)
            }
        };
        let _ = create;
        let Some(e) = entry else {
            // No entry: the counters read 0 (`in_table`: -1, not found).
            return Some(if matches!(op, StickOp::Trackers) {
                -1
            } else {
                0
            });
        };
        match op {
            StickOp::Tracked => Some(1),
            StickOp::Trackers => Some(i64::from(e.refs())),
            StickOp::Get(d, idx) => table.read(&e, d, idx),
            StickOp::Inc(idx) => {
                let (cnt, rate, i) = gpc(idx);
                if !table.stores(cnt) && !table.stores(rate) {
                    return None;
                }
                table.update(&e, |u| {
                    u.add(cnt, i, 1);
                    u.add(rate, i, 1);
                });
                Some(table.read(&e, cnt, i).unwrap_or(0))
            }
            StickOp::Clr(idx) => {
                let (cnt, _, i) = gpc(idx);
                let before = table.read(&e, cnt, i)?;
                table.update(&e, |u| u.set(cnt, i, 0));
                Some(before)
            }
            StickOp::SetGpt0(v) => {
                let d = if table.stores(StickData::Gpt0) {
                    StickData::Gpt0
                } else {
                    StickData::Gpt
                };
                table
                    .update(&e, |u| u.set(d, 0, i64::from(v as u32)))
                    .then_some(1)
            }
            StickOp::SetGpt(i, v) => table
                .update(&e, |u| u.set(StickData::Gpt, i, i64::from(v as u32)))
                .then_some(1),
        }
    }

    fn stick_track(&self, slot: usize, table: &str, key: StickKey<'_>, http: bool) {
        let Some(trackers) = self.stream.or(self.session) else {
            return;
        };
        let Some(t) = self.table_named(table) else {
            return;
        };
        // `track-sc src` on an `ip` table, the common rate-limit key: the address's
        // four bytes are the key (no encoding buffer).
        if let (StickKey::Ip(std::net::IpAddr::V4(a)), crate::config::model::StickKeyType::Ip) =
            (key, t.def.key)
        {
            trackers.track(slot, t, &a.octets(), http);
            return;
        }
        let k = match key {
            StickKey::Int(n) => KeyIn::Int(n),
            StickKey::Ip(ip) => KeyIn::Ip(ip),
            StickKey::Str(s) => KeyIn::Str(s),
        };
        let Some(key) = t.key(k) else { return };
        trackers.track(slot, t, key.bytes(), http);
    }

    fn table_stat(&self, table: &str, avl: bool) -> Option<i64> {
        let t = self.table_named(table)?;
        let used = t.used() as i64;
        Some(if avl {
            i64::from(t.def.size) - used
        } else {
            used
        })
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
