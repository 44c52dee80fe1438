//! Cookie persistence on an HTTP exchange, as HAProxy 2.6 does it (`cookie`, server
//! `cookie`, `option persist`, `force-persist`, `ignore-persist`; `option redispatch`
//! breaks it in `crate::proxy::connect`):
//!
//! - on the request, once the backend is known ([`on_request`]): the persistence rules,
//!   then each `Cookie` header read as HAProxy's `http_manage_client_side_cookies`
//!   does — the first running server whose cookie matches is designated (a stopped one
//!   too with `option persist` or `force-persist`), `maxidle`/`maxlife` dates checked,
//!   the `SRV~` part of a `prefix` cookie and the whole cookie of `insert indirect`
//!   removed toward the server;
//! - server selection ([`acquire`]): a designated server is used directly (its own
//!   queue when full), else the backend balances;
//! - on the response ([`on_response`]): the server's `Set-Cookie` deleted, rewritten
//!   or prefixed, the proxy's own inserted (with dates, `domain`, `HttpOnly`,
//!   `Secure`, `attr`), `Cache-control: private` with `nocache` on cacheable
//!   responses;
//! - the log's termination-state letters 3 and 4 ([`log_flags`]).
//!
//! Header values are rewritten byte for byte like HAProxy's pointer walk (spaces around
//! `=` dropped, separators kept), so servers and clients see the same bytes.

use super::actions::{Rewrite, rewrite_in_place};
use super::cookie_walk::{
    b64tos30, cacheable, del_value, diff, mv, s30tob64, sp, strip_equal, value_end,
};
use crate::acl::SampleSource;
use crate::balance::BalanceInput;
use crate::config::model::{CookieConfig, CookieMode};
use crate::proxy::connect::{self, ConnectError, ConnectInfo};
use crate::proxy::message::{Edits, Method, Request};
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::persist::{PersistVerdict, verdict};
use crate::runtime::server::ServerState;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// What the request's persistence cookie said (HAProxy's `TX_CK_*`, logged as the
/// third letter of the termination state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum ClientCookie {
    /// `N`: no persistence cookie.
    #[default]
    None,
    /// `I`: it names no server.
    Invalid,
    /// `D`: it names a server that is down (or was left by a redispatch).
    Down,
    /// `V`: it names a running server, which gets the request.
    Valid,
    /// `E`: idle for longer than `maxidle`.
    Expired,
    /// `O`: older than `maxlife`.
    Old,
    /// `U`: not used (`ignore-persist`, or a server was already designated).
    Unused,
}

/// What became of the persistence cookie in the response (`TX_SCK_*`, the fourth
/// letter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum ServerCookie {
    /// `N`: none.
    #[default]
    None,
    /// `P`: the server set it and it went through unchanged.
    Found,
    /// `D`: the server's was deleted.
    Deleted,
    /// `I`: the proxy inserted one.
    Inserted,
    /// `R`: the server's was rewritten (`rewrite`, `prefix`).
    Replaced,
    /// `U`: the proxy refreshed its dates (`maxidle`, `maxlife`).
    Updated,
}

/// The cookie state of one transaction, reset per request.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CookieTxn {
    /// The request cookie's state.
    pub(super) client: ClientCookie,
    /// The response cookie's state.
    pub(super) server: ServerCookie,
    /// The server the cookie designates (its index), if any.
    pub(super) target: Option<usize>,
    /// What `force-persist`/`ignore-persist` decided.
    pub(super) rule: PersistVerdict,
    /// The last-seen date the cookie carried (seconds, multiple of 4; 0: none).
    last_date: u32,
    /// The first-seen date it carried.
    first_date: u32,
}

/// The wall clock in seconds, as HAProxy's `date.tv_sec` (truncated to 32 bits).
fn now_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// Phase 4's end, once the backend is known: the persistence rules, then the
/// request's `Cookie` headers (`req`: the request as received; `edits`: the rules'
/// edits, which the rewrites join).
pub(super) fn on_request(
    be: &Backend,
    src: &dyn SampleSource,
    req: Request<'_>,
    edits: &mut Edits,
    txn: &mut CookieTxn,
) {
    *txn = CookieTxn::default();
    txn.rule = verdict(&be.persist_rules, src);
    let Some(ck) = &be.cookie else {
        return;
    };
    let named = |n: &[u8]| n.eq_ignore_ascii_case(b"cookie");
    if !req.fields().any(|(n, _)| named(n)) && !edits.add.iter().any(|(n, _)| named(n)) {
        return;
    }
    // The whole head, so that rewritten values keep their place among the others.
    let original: Vec<(Vec<u8>, Vec<u8>)> = req
        .fields()
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect();
    let ctx = ReqCtx {
        ck,
        servers: &be.servers,
        persist: be.persist,
        now: now_secs(),
    };
    let mut each = |v: &[u8]| client_line(v, &ctx, txn);
    rewrite_in_place(b"cookie", &original, edits, &mut each);
}

/// What reading a `Cookie` line needs.
struct ReqCtx<'a> {
    ck: &'a CookieConfig,
    servers: &'a [Arc<ServerState>],
    persist: bool,
    now: u32,
}

/// One `Cookie` line: finds the persistence cookie, designates its server, and says
/// how the line changes toward the server (`None`: unchanged; `Some(None)`: removed).
fn client_line(value: &[u8], c: &ReqCtx<'_>, txn: &mut CookieTxn) -> Rewrite {
    let ck = c.ck;
    let name = ck.name.as_bytes();
    let mut h = value.to_vec();
    let mut end = h.len();
    let mut del_from: Option<usize> = None;
    let mut preserve = false;
    let mut prev = 0;
    let mut first = true;
    while prev < end {
        let mut att_beg = prev;
        if !first {
            att_beg += 1;
        }
        first = false;
        while att_beg < end && sp(h[att_beg]) {
            att_beg += 1;
        }
        let (mut equal, mut att_end) = (att_beg, att_beg);
        while equal < end {
            let ch = h[equal];
            if ch == b'=' || ch == b',' || ch == b';' {
                break;
            }
            equal += 1;
            if !sp(ch) {
                att_end = equal;
            }
        }
        let (mut val_beg, mut val_end, mut next);
        if equal < end && h[equal] == b'=' {
            val_beg = equal + 1;
            while val_beg < end && sp(h[val_beg]) {
                val_beg += 1;
            }
            next = value_end(&h, val_beg, end);
            val_end = next;
            while val_end > val_beg && sp(h[val_end - 1]) {
                val_end -= 1;
            }
        } else {
            (val_beg, val_end, next) = (equal, equal, equal);
        }
        if att_beg < end && h[att_beg] == b'$' {
            prev = next;
            continue;
        }
        if equal == next {
            // No `=`: not ours, kept; a removal waiting before it is done now.
            preserve = true;
            if let Some(mut from) = del_from.take() {
                let d = del_value(&mut h, end, &mut from, prev);
                next = mv(next, d);
                end = mv(end, d);
            }
            prev = next;
            continue;
        }
        if att_end != equal || val_beg > equal + 1 {
            let d = strip_equal(&mut h, end, att_end, &mut equal, &mut val_beg);
            val_end = mv(val_end, d);
            next = mv(next, d);
            end = mv(end, d);
        }
        if att_end - att_beg == name.len() && h[att_beg..att_end] == *name {
            let mut delim = val_end;
            if ck.mode == CookieMode::Prefix {
                delim = (val_beg..val_end)
                    .find(|&i| h[i] == b'~')
                    .unwrap_or(val_end);
            } else if let Some(bar) = (val_beg..val_end).find(|&i| h[i] == b'|') {
                delim = bar;
                let v1 = bar + 1;
                if val_end - v1 >= 5
                    && let Some(v) = b64tos30(&h[v1..]).filter(|v| *v > 0)
                {
                    txn.last_date = v << 2;
                }
                if let Some(bar2) = (v1..val_end).find(|&i| h[i] == b'|')
                    && val_end - bar2 > 5
                    && let Some(v) = b64tos30(&h[bar2 + 1..]).filter(|v| *v > 0)
                {
                    txn.first_date = v << 2;
                }
            }
            if txn.first_date != 0
                && ck.maxlife != 0
                && (diff(c.now, txn.first_date) > ck.maxlife as i32
                    || diff(txn.first_date, c.now) > 86400)
            {
                txn.client = ClientCookie::Old;
                delim = val_beg;
                (txn.first_date, txn.last_date) = (0, 0);
            } else if txn.last_date != 0
                && ck.maxidle != 0
                && (diff(c.now, txn.last_date) > ck.maxidle as i32
                    || diff(txn.last_date, c.now) > 86400)
            {
                txn.client = ClientCookie::Expired;
                delim = val_beg;
                (txn.first_date, txn.last_date) = (0, 0);
            }
            let skip =
                delim == val_beg || txn.rule == PersistVerdict::Ignore || txn.target.is_some();
            let mut found = false;
            if !skip {
                let want = &h[val_beg..delim];
                for s in c.servers {
                    if s.cookie.as_deref().map(str::as_bytes) != Some(want) {
                        continue;
                    }
                    let running = s.running();
                    if running || c.persist || txn.rule == PersistVerdict::Force {
                        txn.client = if running {
                            ClientCookie::Valid
                        } else {
                            ClientCookie::Down
                        };
                        txn.target = Some(s.index);
                        found = true;
                        break;
                    }
                    // A stopped server: the next one sharing the cookie may do.
                    txn.client = ClientCookie::Down;
                }
            }
            if !found && txn.client == ClientCookie::None {
                txn.client = if txn.rule == PersistVerdict::Ignore || txn.target.is_some() {
                    ClientCookie::Unused
                } else {
                    ClientCookie::Invalid
                };
            }
            if ck.mode == CookieMode::Prefix && delim != val_end {
                // `NAME=SRV~value` reaches the server as `NAME=value`.
                h.copy_within(delim + 1..end, val_beg);
                let d = val_beg as isize - (delim + 1) as isize;
                next = mv(next, d);
                end = mv(end, d);
                del_from = None;
                preserve = true;
            } else if del_from.is_none() && ck.mode == CookieMode::Insert && ck.indirect {
                del_from = Some(prev);
            }
        } else {
            preserve = true;
            if let Some(mut from) = del_from.take() {
                let d = del_value(&mut h, end, &mut from, prev);
                next = mv(next, d);
                end = mv(end, d);
            }
        }
        prev = next;
    }
    if let Some(from) = del_from {
        end = if preserve { from } else { 0 };
    }
    if end == value.len() && h[..end] == *value {
        return None;
    }
    Some((end > 0).then(|| h[..end].to_vec()))
}

/// Phases 6–7 for a request with a persistence cookie: its server takes the request
/// (in that server's queue when it is full, as HAProxy's `assign_server_and_queue` in
/// direct mode); when that queue is full (`maxqueue`), `option redispatch` (without
/// `force-persist`) balances instead, else the request fails. Without a designated
/// server the backend balances.
pub(super) async fn acquire(
    be: &Arc<Backend>,
    target: Option<usize>,
    rule: PersistVerdict,
    input: &(dyn BalanceInput + Sync),
    info: &mut ConnectInfo,
) -> Result<ServerSlot, ConnectError> {
    info.force_persist = rule == PersistVerdict::Force;
    if let Some(s) = target.and_then(|i| be.servers.get(i)) {
        info.direct = true;
        match designated(be, s, info).await {
            Err(None) if be.redispatch && !info.force_persist => {
                info.direct = false;
                let slot = connect::acquire(be, input, &[], info).await?;
                info.redispatched = slot.server.index != s.index;
                return Ok(slot);
            }
            Err(None) => return Err(ConnectError::QueueTimeout),
            Err(Some(e)) => return Err(e),
            Ok(slot) => return Ok(slot),
        }
    }
    connect::acquire(be, input, &[], info).await
}

/// A slot on the designated server `s`, waiting in its own queue when it is full.
/// `Err(None)`: its queue is full (`maxqueue`).
async fn designated(
    be: &Arc<Backend>,
    s: &Arc<ServerState>,
    info: &mut ConnectInfo,
) -> Result<ServerSlot, Option<ConnectError>> {
    if s.queued.load(Ordering::SeqCst) == 0
        && let Some(slot) = ServerSlot::try_take(be, s)
    {
        return Ok(slot);
    }
    let start = Instant::now();
    let deadline = be.timeouts.queue.map(|t| tokio::time::Instant::now() + t);
    let ticket = be.enqueue(Some(s)).map_err(|_| None)?;
    info.queued = true;
    let slot = ticket.wait(deadline).await;
    info.queue += start.elapsed();
    slot.ok_or(Some(ConnectError::QueueTimeout))
}

/// After the connection: a redispatch away from the cookie's running server turns
/// the cookie's state from valid to down, as HAProxy does.
pub(super) fn connected(txn: &mut CookieTxn, info: &ConnectInfo) {
    if info.redispatched && txn.client == ClientCookie::Valid {
        txn.client = ClientCookie::Down;
    }
}

/// What the response side needs besides the headers.
pub(super) struct ResponseCtx<'a> {
    /// The backend.
    pub(super) be: &'a Backend,
    /// The server that answered.
    pub(super) server: &'a ServerState,
    /// The request's method.
    pub(super) method: Method,
    /// The final status.
    pub(super) status: u16,
    /// The request still went to its cookie's server (HAProxy's `SF_DIRECT`).
    pub(super) direct: bool,
}

/// Phase 10, after the `http-response` rules: the server's `Set-Cookie` headers, then
/// the proxy's own `Set-Cookie` (and `Cache-control: private` with `nocache`).
/// `fields`: the response's own headers in order; `edits`: the rules' edits.
pub(super) fn on_response<'a>(
    r: &ResponseCtx<'_>,
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
    edits: &mut Edits,
    txn: &mut CookieTxn,
) {
    let Some(ck) = &r.be.cookie else {
        return;
    };
    if r.status < 200 && r.status != 101 {
        return;
    }
    let named = |n: &[u8]| n.eq_ignore_ascii_case(b"set-cookie");
    if fields.clone().any(|(n, _)| named(n)) || edits.add.iter().any(|(n, _)| named(n)) {
        // The whole head, so that rewritten values keep their place among the others.
        let original: Vec<(Vec<u8>, Vec<u8>)> = fields
            .clone()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        let mut each = |v: &[u8]| server_line(v, ck, r, txn);
        rewrite_in_place(b"set-cookie", &original, edits, &mut each);
    }
    let cacheable = ck.nocache && cacheable(r.method, r.status, fields, edits);
    let now = now_secs();
    let refresh = (ck.maxidle != 0 || txn.last_date != 0)
        && (txn.last_date == 0 || diff(txn.last_date, now) < 0);
    let insert = ck.mode == CookieMode::Insert
        && !(txn.server == ServerCookie::Found && ck.preserve)
        && (!r.direct
            || refresh
            || (ck.maxlife != 0 && txn.first_date == 0)
            || (ck.maxlife == 0 && txn.first_date != 0))
        && (!ck.postonly || r.method == Method::Post)
        && txn.rule != PersistVerdict::Ignore;
    if !insert {
        return;
    }
    let mut v = String::with_capacity(64);
    v.push_str(&ck.name);
    match &r.server.cookie {
        None => v.push_str("=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"),
        Some(value) => {
            v.push('=');
            v.push_str(value);
            if ck.maxidle != 0 || ck.maxlife != 0 {
                let stamp = now.wrapping_add(3) >> 2;
                v.push('|');
                s30tob64(stamp, &mut v);
                if ck.maxlife != 0 {
                    v.push('|');
                    let first = if txn.first_date != 0 {
                        txn.first_date >> 2
                    } else {
                        stamp
                    };
                    s30tob64(first, &mut v);
                }
            }
            v.push_str("; path=/");
        }
    }
    if let Some(d) = &ck.domain {
        v.push_str("; domain=");
        v.push_str(d);
    }
    if ck.httponly {
        v.push_str("; HttpOnly");
    }
    if ck.secure {
        v.push_str("; Secure");
    }
    if let Some(a) = &ck.attrs {
        v.push_str("; ");
        v.push_str(a);
    }
    edits.add.push((b"set-cookie".to_vec(), v.into_bytes()));
    txn.server = if r.server.cookie.is_some() && r.direct {
        ServerCookie::Updated
    } else {
        ServerCookie::Inserted
    };
    if cacheable {
        edits
            .add
            .push((b"cache-control".to_vec(), b"private".to_vec()));
    }
}

/// One `Set-Cookie` line from the server: only its first cookie counts (`Expires`
/// dates hold commas). The persistence cookie is deleted (`insert`, or `indirect` on a
/// direct request), rewritten to the server's value (`rewrite`) or prefixed with it
/// (`prefix`), unless `preserve` or `ignore-persist`.
fn server_line(
    value: &[u8],
    ck: &CookieConfig,
    r: &ResponseCtx<'_>,
    txn: &mut CookieTxn,
) -> Rewrite {
    let mut h = value.to_vec();
    let mut end = h.len();
    let mut att_beg = 0;
    while att_beg < end && sp(h[att_beg]) {
        att_beg += 1;
    }
    let (mut equal, mut att_end) = (att_beg, att_beg);
    while equal < end {
        let ch = h[equal];
        if ch == b'=' || ch == b';' {
            break;
        }
        equal += 1;
        if !sp(ch) {
            att_end = equal;
        }
    }
    let (mut val_beg, mut val_end);
    if equal < end && h[equal] == b'=' {
        val_beg = equal + 1;
        while val_beg < end && sp(h[val_beg]) {
            val_beg += 1;
        }
        val_end = value_end(&h, val_beg, end);
        while val_end > val_beg && sp(h[val_end - 1]) {
            val_end -= 1;
        }
    } else {
        (val_beg, val_end) = (equal, equal);
    }
    if equal == val_end {
        return None;
    }
    if att_end != equal || val_beg > equal + 1 {
        let d = strip_equal(&mut h, end, att_end, &mut equal, &mut val_beg);
        val_end = mv(val_end, d);
        end = mv(end, d);
    }
    h.truncate(end);
    let ours = txn.rule != PersistVerdict::Ignore && h[att_beg..att_end] == *ck.name.as_bytes();
    if ours {
        txn.server = ServerCookie::Found;
        let own = r.server.cookie.as_deref().map(str::as_bytes);
        if ck.preserve {
        } else if ck.mode == CookieMode::Insert || (r.direct && ck.indirect) {
            txn.server = ServerCookie::Deleted;
            return Some(None);
        } else if let (CookieMode::Rewrite, Some(own)) = (ck.mode, own) {
            h.splice(val_beg..val_end, own.iter().copied());
            txn.server = ServerCookie::Replaced;
        } else if let (CookieMode::Prefix, Some(own)) = (ck.mode, own) {
            let mut p = own.to_vec();
            p.push(b'~');
            h.splice(val_beg..val_beg, p);
            txn.server = ServerCookie::Replaced;
        }
    }
    (h != value).then_some(Some(h))
}

/// The third and fourth letters of the termination state: the cookie's states when the
/// backend has a `cookie` with a mode or `indirect` (HAProxy's `PR_CK_ANY`), else `--`.
pub(super) fn log_flags(be: Option<&Backend>, txn: &CookieTxn) -> [u8; 2] {
    match be.and_then(|b| b.cookie.as_ref()) {
        Some(ck) if ck.logs_flags() => [
            b"NIDVEOU"[txn.client as usize],
            b"NPDIRU"[txn.server as usize],
        ],
        _ => *b"--",
    }
}
