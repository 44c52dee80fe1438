//! Persistence through stick tables (`stick on|match|store-request|store-response`):
//! the rules compiled, the server a `match` finds for a request, and the entries
//! `store` rules write once the server is known (HAProxy's `process_sticking_rules`
//! and `process_store_rules`). A rule's table stores `server_id` and `server_key`
//! (the server's name), which HAProxy adds to any table a `stick` rule names.

use super::table::Table;
use crate::acl::{SampleExpr, SampleSource};
use crate::config::model::{StickData, StickKind};
use crate::runtime::rules::Cond;
use crate::runtime::server::ServerState;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One compiled `stick` rule.
pub struct StickRuleRt {
    /// `on`, `match`, `store-request`, `store-response`.
    pub kind: StickKind,
    /// The pattern.
    pub expr: SampleExpr,
    /// The table.
    pub table: Arc<Table>,
    /// When.
    pub cond: Cond,
}

impl StickRuleRt {
    fn matches(&self) -> bool {
        matches!(self.kind, StickKind::On | StickKind::Match)
    }
    fn stores_request(&self) -> bool {
        matches!(self.kind, StickKind::On | StickKind::StoreRequest)
    }
}

/// Keys waiting for the server to be known: at most 8, one per table and direction,
/// as HAProxy's `s->store[]`.
#[derive(Default)]
pub struct Pending {
    keys: Vec<(Arc<Table>, Box<[u8]>)>,
    /// How many came from the request (response rules may add one more per table).
    from_request: usize,
}

impl Pending {
    /// Forgets everything (next request).
    pub fn clear(&mut self) {
        self.keys.clear();
        self.from_request = 0;
    }
    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The key `rule` computes for the message seen through `src`, encoded for its table.
fn key_of(rule: &StickRuleRt, src: &dyn SampleSource) -> Option<Box<[u8]>> {
    let mut out = None;
    rule.expr.eval_key(src, &mut |k| {
        let k = match k {
            crate::acl::StickKey::Int(n) => super::KeyIn::Int(n),
            crate::acl::StickKey::Ip(ip) => super::KeyIn::Ip(ip),
            crate::acl::StickKey::Str(s) => super::KeyIn::Str(s),
        };
        out = rule.table.key(k).map(|b| b.bytes().into());
    });
    out
}

/// The server of `servers` an entry designates: by `server_key` (its name) when
/// stored, else by `server_id`; when it is running (up and not in maintenance; a
/// draining server keeps its persistent clients), or whatever its state with
/// `keep_stopped` (`option persist` or a `force-persist` rule: HAProxy's
/// `sticking_rule_find_target`, where a failing connection then goes through `retries`
/// and `option redispatch`).
fn target(
    table: &Table,
    e: &super::Entry,
    servers: &[Arc<ServerState>],
    keep_stopped: bool,
) -> Option<Arc<ServerState>> {
    let s = match table.read_name(e) {
        Some(name) => servers.iter().find(|s| *s.name == *name),
        None => {
            let id = table.read(e, StickData::ServerId, 0)?;
            servers.iter().find(|s| s.id as i64 + 1 == id)
        }
    }?;
    let running = s.up.load(Ordering::Relaxed) && !s.maint.load(Ordering::Relaxed);
    (running || keep_stopped).then(|| Arc::clone(s))
}

/// Runs the request's `stick` rules: the server a `match` (or `on`) rule designates,
/// if one does and it is running (or in any state with `keep_stopped`: see
/// [`target`]), and the keys to store once the server is known.
pub fn on_request(
    rules: &[StickRuleRt],
    servers: &[Arc<ServerState>],
    src: &dyn SampleSource,
    pending: &mut Pending,
    keep_stopped: bool,
) -> Option<Arc<ServerState>> {
    let mut chosen = None;
    for r in rules.iter().filter(|r| r.kind != StickKind::StoreResponse) {
        // Only the first store rule of each table applies.
        if r.stores_request() && pending.keys.iter().any(|(t, _)| Arc::ptr_eq(t, &r.table)) {
            continue;
        }
        if !r.cond.matches(src) {
            continue;
        }
        let Some(key) = key_of(r, src) else { continue };
        if r.matches()
            && let Some(e) = r.table.lookup(&key)
        {
            if chosen.is_none() {
                chosen = target(&r.table, &e, servers, keep_stopped);
            }
            r.table.touch(&e, super::freq::now_ms());
        }
        if r.stores_request() && pending.keys.len() < 8 {
            pending.keys.push((Arc::clone(&r.table), key));
        }
    }
    pending.from_request = pending.keys.len();
    chosen
}

/// Runs the `stick store-response` rules on the response seen through `src`.
pub fn on_response(rules: &[StickRuleRt], src: &dyn SampleSource, pending: &mut Pending) {
    for r in rules.iter().filter(|r| r.kind == StickKind::StoreResponse) {
        let dup = pending.keys[pending.from_request..]
            .iter()
            .any(|(t, _)| Arc::ptr_eq(t, &r.table));
        if dup || !r.cond.matches(src) {
            continue;
        }
        if let Some(key) = key_of(r, src)
            && pending.keys.len() < 8
        {
            pending.keys.push((Arc::clone(&r.table), key));
        }
    }
}

/// Stores the server that served the request in every pending entry.
pub fn commit(pending: &mut Pending, server: &ServerState) {
    for (t, key) in pending.keys.drain(..) {
        if let Some(e) = t.get_or_create(&key) {
            t.update(&e, |u| {
                u.set(StickData::ServerId, 0, server.id as i64 + 1);
                u.set_name(&server.name);
            });
        }
    }
    pending.from_request = 0;
}
