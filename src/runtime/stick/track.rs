//! The counters a stream tracks (`track-sc0|1|2`): up to three entries per level, the
//! session's (`tcp-request connection`, for the client connection's life) and the
//! stream's (`tcp-request content`, `http-request`: one request in HTTP). A fetch of
//! counter N reads the stream's, else the session's, as HAProxy does. Tracking an entry
//! counts a connection in it (`conn_cnt`, `conn_cur`, `conn_rate`); letting it go
//! takes the connection back from `conn_cur`.

use super::freq::now_ms;
use super::table::{Entry, Table, mask_of};
use crate::config::model::StickData as D;
use std::sync::{Arc, OnceLock};

/// How many counters a stream has (HAProxy's default `tune.stick-counters`).
pub const SLOTS: usize = 3;

/// One tracked entry.
pub struct Tracked {
    /// Its table.
    pub table: Arc<Table>,
    /// The entry.
    pub entry: Arc<Entry>,
}

impl Drop for Tracked {
    /// Gives the connection back from `conn_cur` (touching the entry), as HAProxy's
    /// `stream_stop_content_counters`; without `conn_cur` the entry keeps the expiry its
    /// last update set (no clock read at the end of every request).
    fn drop(&mut self) {
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
#[derive(Default)]
pub struct Trackers {
    slots: [OnceLock<Tracked>; SLOTS],
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

    /// Tracks the entry of `key` in `table` with counter `n`, unless it tracks one
    /// already (HAProxy ignores the rule then); counts a connection in it, and with
    /// `http` the request being processed (`http-request track-sc`: `http_req_cnt`,
    /// `http_req_rate`), in one update of the entry. `None` when the table has no room.
    pub fn track(&self, n: usize, table: &Arc<Table>, key: &[u8], http: bool) -> Option<&Tracked> {
        let slot = self.slots.get(n)?;
        if slot.get().is_some() {
            return None;
        }
        let now = now_ms();
        let entry = table.get_or_create_at(key, now)?;
        entry.hold();
        let conn = table.stores_mask(CONN);
        let req = http && table.stores_mask(REQ);
        if conn || req {
            table.update_at(&entry, now, |u| {
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
            table.touch(&entry, now);
        }
        let t = Tracked {
            table: Arc::clone(table),
            entry,
        };
        // Rules of one stream run in turn: the slot is still free.
        let _ = slot.set(t);
        slot.get()
    }

    /// Lets every tracked entry go (the end of the stream or connection).
    pub fn clear(&mut self) {
        for s in &mut self.slots {
            // An empty slot stays as it is (no `take` through the `Once` machinery).
            if s.get().is_some() {
                s.take();
            }
        }
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
    if bin == 0 && bout == 0 {
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
