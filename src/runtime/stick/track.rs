//! The counters a stream tracks (`track-sc0|1|2`): up to three entries per level, the
//! session's (`tcp-request connection`, for the client connection's life) and the
//! stream's (`tcp-request content`, `http-request`: one request in HTTP). A fetch of
//! counter N reads the stream's, else the session's, as HAProxy does. Tracking an entry
//! counts a connection in it (`conn_cnt`, `conn_cur`, `conn_rate`); letting it go
//! takes the connection back from `conn_cur`.

use super::freq::now_ms;
use super::slot::OnceSlot;
use super::table::{Entry, Table, mask_of};
use crate::config::model::StickData as D;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// How many counters a stream has (HAProxy's default `tune.stick-counters`).
pub const SLOTS: usize = 3;

/// One tracked entry.
pub struct Tracked {
    /// Its table.
    pub table: Arc<Table>,
    /// The entry.
    pub entry: Arc<Entry>,
}

impl Tracked {
    /// Gives the connection back from `conn_cur` (touching the entry), as HAProxy's
    /// `stream_stop_content_counters`, and drops the tracker's reference; without
    /// `conn_cur` the entry keeps the expiry its last update set (no clock read at the
    /// end of every request).
    fn let_go(&self) {
        if self.table.stores(D::ConnCur) {
            self.table.update(&self.entry, |u| u.dec(D::ConnCur));
        }
        self.entry.release();
    }
}

/// The data types each step of the request path changes (table masks, see
/// [`Table::stores_mask`]).
const CONN: u32 = mask_of(&[D::ConnCur, D::ConnCnt, D::ConnRate]);
const REQ: u32 = mask_of(&[D::HttpReqCnt, D::HttpReqRate]);
const ERR: u32 = mask_of(&[D::HttpErrCnt, D::HttpErrRate]);
const FAIL: u32 = mask_of(&[D::HttpFailCnt, D::HttpFailRate]);
const BYTES: u32 = mask_of(&[
    D::BytesInCnt,
    D::BytesInRate,
    D::BytesOutCnt,
    D::BytesOutRate,
]);
const SESS: u32 = mask_of(&[D::SessCnt, D::SessRate]);

/// The counters of one level (session or stream).
///
/// A slot let go keeps what it tracked, without a reference (`use=` counts only live
/// trackers): the next request of a keep-alive connection tracking the same key in the
/// same table takes the entry back without looking it up, as long as it is still the
/// entry of that key ([`Table::hold_again`]). It is the entry a lookup would find, so
/// nothing counts differently.
#[derive(Default)]
pub struct Trackers {
    slots: [OnceSlot<Tracked>; SLOTS],
    /// The data types the tracked entries' tables store (their masks or'ed, see
    /// [`Table::stores_mask`]): the end of the request skips the counters none stores.
    stored: AtomicU32,
}

impl Drop for Trackers {
    /// Lets the tracked entries go (the end of the connection, for the session's).
    fn drop(&mut self) {
        for s in &self.slots {
            if let Some(t) = s.get() {
                t.let_go();
            }
        }
    }
}

impl std::fmt::Debug for Trackers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.iter().filter(|s| s.get().is_some()).count();
        write!(f, "Trackers({n})")
    }
}

impl Trackers {
    /// The entry counter `n` tracks, if any.
    pub fn get(&self, n: usize) -> Option<&Tracked> {
        self.slots.get(n)?.get()
    }

    /// Whether no counter tracks anything.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(|s| s.get().is_none())
    }

    /// Whether a tracked entry's table stores any data type of `mask` (made by
    /// [`mask_of`]).
    #[inline]
    fn stores_mask(&self, mask: u32) -> bool {
        self.stored.load(Ordering::Relaxed) & mask != 0
    }

    /// Tracks the entry of `key` in `table` with counter `n`, unless it tracks one
    /// already (HAProxy ignores the rule then); counts a connection in it, and with
    /// `http` the request being processed (`http-request track-sc`: `http_req_cnt`,
    /// `http_req_rate`), in one update of the entry. `None` when the table has no room.
    pub fn track(&self, n: usize, table: &Arc<Table>, key: &[u8], http: bool) -> Option<&Tracked> {
        self.slots.get(n)?.fill(|kept| {
            let now = now_ms();
            match kept {
                Some(p)
                    if Arc::ptr_eq(&p.table, table)
                        && same_key(&p.entry.key, key)
                        && table.hold_again(&p.entry, now) => {}
                _ => {
                    let Some(entry) = table.get_or_create_held_at(key, now) else {
                        return false;
                    };
                    *kept = Some(Tracked {
                        table: Arc::clone(table),
                        entry,
                    });
                }
            }
            if let Some(t) = kept {
                count_track(t, now, http);
                let m = t.table.mask();
                if self.stored.load(Ordering::Relaxed) & m != m {
                    self.stored.fetch_or(m, Ordering::Relaxed);
                }
            }
            true
        })
    }

    /// Lets every tracked entry go (the end of the stream or connection), keeping it
    /// for the next track of the same counter.
    pub fn clear(&mut self) {
        *self.stored.get_mut() = 0;
        for s in &mut self.slots {
            if let Some(t) = s.let_go() {
                t.let_go();
            }
        }
    }
}

/// Whether two encoded keys are the same: an `ip` key (4 bytes) without calling
/// `memcmp`.
#[inline]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    match (<[u8; 4]>::try_from(a), <[u8; 4]>::try_from(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Counts a connection in a newly tracked entry, and with `http` the request being
/// processed, in one update.
fn count_track(t: &Tracked, now: u32, http: bool) {
    let (table, entry) = (&t.table, &t.entry);
    let conn = table.stores_mask(CONN);
    let req = http && table.stores_mask(REQ);
    if conn || req {
        table.update_at(entry, now, |u| {
            if conn {
                u.add(D::ConnCur, 0, 1);
                u.add(D::ConnCnt, 0, 1);
                u.add(D::ConnRate, 0, 1);
            }
            if req {
                u.add(D::HttpReqCnt, 0, 1);
                u.add(D::HttpReqRate, 0, 1);
            }
        });
    } else {
        table.touch(entry, now);
    }
}

/// Calls `f` with each counter's entry: the stream's, else the session's (HAProxy's
/// `stream_inc_http_req_ctr` and kin).
pub fn each_tracked(
    stream: Option<&Trackers>,
    session: Option<&Trackers>,
    mut f: impl FnMut(&Tracked),
) {
    for n in 0..SLOTS {
        if let Some(t) = stream
            .and_then(|s| s.get(n))
            .or_else(|| session.and_then(|s| s.get(n)))
        {
            f(t);
        }
    }
}

/// Whether a table tracked at either level stores any data type of `mask`.
#[inline]
fn any_stores(stream: Option<&Trackers>, session: Option<&Trackers>, mask: u32) -> bool {
    stream.is_some_and(|t| t.stores_mask(mask)) || session.is_some_and(|t| t.stores_mask(mask))
}

/// Counts an HTTP request in every tracked entry (`http_req_cnt`, `http_req_rate`).
pub fn count_request(stream: Option<&Trackers>, session: Option<&Trackers>) {
    each_tracked(stream, session, |t| {
        if t.table.stores_mask(REQ) {
            t.table.update(&t.entry, |u| {
                u.add(D::HttpReqCnt, 0, 1);
                u.add(D::HttpReqRate, 0, 1);
            });
        }
    });
}

/// Counts a response status in every tracked entry: 4xx (and denied or invalid
/// requests) in `http_err_*`, 5xx but 501 and 505 in `http_fail_*`.
pub fn count_status(stream: Option<&Trackers>, session: Option<&Trackers>, status: u16) {
    let (err, fail) = match status {
        400..=499 => (true, false),
        500..=599 if status != 501 && status != 505 => (false, true),
        _ => return,
    };
    if !any_stores(stream, session, if err { ERR } else { FAIL }) {
        return;
    }
    each_tracked(stream, session, |t| {
        if !t.table.stores_mask(if err { ERR } else { FAIL }) {
            return;
        }
        t.table.update(&t.entry, |u| {
            if err {
                u.add(D::HttpErrCnt, 0, 1);
                u.add(D::HttpErrRate, 0, 1);
            }
            if fail {
                u.add(D::HttpFailCnt, 0, 1);
                u.add(D::HttpFailRate, 0, 1);
            }
        });
    });
}

/// Adds the bytes a stream moved to every tracked entry (`bytes_in_*` from the
/// client, `bytes_out_*` to it).
pub fn count_bytes(stream: Option<&Trackers>, session: Option<&Trackers>, bin: u64, bout: u64) {
    if (bin == 0 && bout == 0) || !any_stores(stream, session, BYTES) {
        return;
    }
    each_tracked(stream, session, |t| {
        if !t.table.stores_mask(BYTES) {
            return;
        }
        t.table.update(&t.entry, |u| {
            u.add(D::BytesInCnt, 0, bin);
            u.add(D::BytesInRate, 0, bin);
            u.add(D::BytesOutCnt, 0, bout);
            u.add(D::BytesOutRate, 0, bout);
        });
    });
}

/// Counts a session in the session's tracked entries (`sess_cnt`, `sess_rate`), once
/// the connection passed its `tcp-request connection` rules.
pub fn count_session(session: &Trackers) {
    each_tracked(None, Some(session), |t| {
        if !t.table.stores_mask(SESS) {
            return;
        }
        t.table.update(&t.entry, |u| {
            u.add(D::SessCnt, 0, 1);
            u.add(D::SessRate, 0, 1);
        });
    });
}
