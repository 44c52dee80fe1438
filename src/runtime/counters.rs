//! HAProxy's statistics counters (doc/management.txt, 9.1 "CSV format") for one
//! frontend, backend or server, and the per-second event rates they include.
//!
//! Counters are plain atomics updated on the request path without locks; the stats
//! page, Prometheus and the runtime API only read them. One type serves the three kinds
//! of proxy object: a field a kind does not report stays 0. Counters live in the
//! live-state store ([`super::live`]), so they outlive reloads.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, the clock of the rates and of `lastsess`. Read from the
/// coarse real-time clock (updated each kernel tick, a few ms): seconds need no finer
/// clock, and it costs a fraction of a full clock read, three times per request.
fn now_secs() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
        return ts.tv_sec.max(0) as u64;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Events per second over a sliding one-second window (HAProxy's `freq_ctr`): the count
/// of the current second plus the previous second's count weighted by the part of it
/// still inside the window.
#[derive(Debug, Default)]
pub struct RateCounter {
    /// High 32 bits: the second the low 32 bits count events of.
    cur: AtomicU64,
    /// Events of the second before `cur`'s (0 when that second saw none).
    prev: AtomicU32,
}

impl RateCounter {
    /// Counts one event now; returns the rate including it (for the `*_max` fields).
    pub fn hit(&self) -> u32 {
        self.hit_at(now_secs(), 0)
    }

    /// Counts one event at second `sec` (`frac_ms` into it); returns the rate then.
    fn hit_at(&self, sec: u64, frac_ms: u32) -> u32 {
        let sec32 = sec as u32;
        let mut old = self.cur.load(Ordering::Relaxed);
        loop {
            let (osec, ocount) = ((old >> 32) as u32, old as u32);
            let new = if osec == sec32 {
                old + 1
            } else {
                (u64::from(sec32) << 32) | 1
            };
            match self
                .cur
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    if osec != sec32 {
                        let carried = if osec.wrapping_add(1) == sec32 {
                            ocount
                        } else {
                            0
                        };
                        self.prev.store(carried, Ordering::Relaxed);
                    }
                    return Self::combine(new as u32, self.prev.load(Ordering::Relaxed), frac_ms);
                }
                Err(now) => old = now,
            }
        }
    }

    fn combine(cur: u32, prev: u32, frac_ms: u32) -> u32 {
        let weight = 1000u64.saturating_sub(u64::from(frac_ms.min(1000)));
        cur + (u64::from(prev) * weight / 1000) as u32
    }

    /// The current rate (events in the last second).
    pub fn rate(&self) -> u32 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let (sec, frac) = (now.as_secs() as u32, now.subsec_millis());
        let v = self.cur.load(Ordering::Relaxed);
        let (csec, count) = ((v >> 32) as u32, v as u32);
        if csec == sec {
            Self::combine(count, self.prev.load(Ordering::Relaxed), frac)
        } else if csec.wrapping_add(1) == sec {
            Self::combine(0, count, frac)
        } else {
            0
        }
    }
}

/// HTTP response status classes, as `hrsp_1xx` … `hrsp_5xx` and `hrsp_other`.
#[derive(Debug, Default)]
pub struct StatusCounts {
    /// `hrsp_1xx` … `hrsp_5xx` (index 0..5), then `hrsp_other` (index 5).
    classes: [AtomicU64; 6],
}

impl StatusCounts {
    /// Counts one response with `status` (any value outside 100..=599 is "other").
    pub fn count(&self, status: i32) {
        let i = match status {
            100..=599 => (status / 100 - 1) as usize,
            _ => 5,
        };
        self.classes[i].fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `count` responses of class `n`xx (1..=5), or "other" for any other `n`
    /// (counters carried over from an old process).
    pub fn add(&self, n: u32, count: u64) {
        let i = match n {
            1..=5 => n as usize - 1,
            _ => 5,
        };
        self.classes[i].fetch_add(count, Ordering::Relaxed);
    }
    /// Responses of class `n`xx (1..=5), or "other" for any other `n`.
    pub fn class(&self, n: u32) -> u64 {
        let i = match n {
            1..=5 => n as usize - 1,
            _ => 5,
        };
        self.classes[i].load(Ordering::Relaxed)
    }
}

/// The counters `show stat` reports for one frontend, backend or server.
#[derive(Debug, Default)]
pub struct Counters {
    /// `scur`: current sessions.
    pub scur: AtomicU32,
    /// `smax`: most sessions at once.
    pub smax: AtomicU32,
    /// `stot`: cumulative sessions.
    pub stot: AtomicU64,
    /// `qmax`: longest queue seen (backends and servers).
    pub qmax: AtomicU32,
    /// `bin`: bytes received from clients.
    pub bin: AtomicU64,
    /// `bout`: bytes sent to clients.
    pub bout: AtomicU64,
    /// `dreq`: requests denied by rules.
    pub dreq: AtomicU64,
    /// `dresp`: responses denied by rules.
    pub dresp: AtomicU64,
    /// `ereq`: request errors (frontends).
    pub ereq: AtomicU64,
    /// `econ`: failed connections to a server.
    pub econ: AtomicU64,
    /// `eresp`: response errors (server aborts, invalid responses).
    pub eresp: AtomicU64,
    /// `wretr`: connection retries.
    pub wretr: AtomicU64,
    /// `wredis`: redispatches.
    pub wredis: AtomicU64,
    /// `hrsp_*`: HTTP responses by status class.
    pub hrsp: StatusCounts,
    /// `req_tot`: HTTP requests.
    pub req_tot: AtomicU64,
    /// `lbtot`: times a server was selected (by balancing, persistence or redispatch).
    pub lbtot: AtomicU64,
    /// `connect`: new server connections attempted (each retry too).
    pub connect: AtomicU64,
    /// `reuse`: requests sent over a server connection that already existed (the
    /// client's own, an idle one from the pool, or a stream of a multiplexed one).
    pub reuse: AtomicU64,
    /// `intercepted`: requests the frontend answered with the stats page or a service.
    pub intercepted: AtomicU64,
    /// `cli_abrt`: data transfers aborted by the client.
    pub cli_abrt: AtomicU64,
    /// `srv_abrt`: data transfers aborted by the server.
    pub srv_abrt: AtomicU64,
    /// Unix time of the last session (for `lastsess`, seconds since it); 0: never.
    pub last_sess: AtomicU64,
    /// `rate` and `rate_max`: sessions per second.
    pub sess_rate: RateCounter,
    /// `rate_max`.
    pub sess_rate_max: AtomicU32,
    /// `req_rate` and `req_rate_max`: HTTP requests per second (frontends).
    pub req_rate: RateCounter,
    /// `req_rate_max`.
    pub req_rate_max: AtomicU32,
}

impl Counters {
    /// A session begins: `scur`, `smax`, `stot`, the session rate and `lastsess`.
    pub fn session_start(&self) {
        let cur = self.scur.fetch_add(1, Ordering::Relaxed) + 1;
        self.smax.fetch_max(cur, Ordering::Relaxed);
        self.stot.fetch_add(1, Ordering::Relaxed);
        // One clock read serves the rate and `lastsess`.
        let now = now_secs();
        let r = self.sess_rate.hit_at(now, 0);
        self.sess_rate_max.fetch_max(r, Ordering::Relaxed);
        self.last_sess.store(now, Ordering::Relaxed);
    }

    /// A session ends.
    pub fn session_end(&self) {
        self.scur.fetch_sub(1, Ordering::Relaxed);
    }

    /// An HTTP request was received: `req_tot` and the request rate.
    pub fn request(&self) {
        self.req_tot.fetch_add(1, Ordering::Relaxed);
        let r = self.req_rate.hit();
        self.req_rate_max.fetch_max(r, Ordering::Relaxed);
    }

    /// A queue reached `len` entries: keeps `qmax`.
    pub fn queued(&self, len: u32) {
        self.qmax.fetch_max(len, Ordering::Relaxed);
    }

    /// Adds the bytes of an exchange: `bin` from the client, `bout` toward it.
    pub fn bytes(&self, bin: u64, bout: u64) {
        self.bin.fetch_add(bin, Ordering::Relaxed);
        self.bout.fetch_add(bout, Ordering::Relaxed);
    }

    /// A request goes out over a server connection: a new one (`connect`, each attempt)
    /// or one that already existed (`reuse`), as HAProxy's `connect_server()` counts.
    pub fn server_connection(&self, reused: bool) {
        let c = if reused { &self.reuse } else { &self.connect };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Seconds since the last session, as `lastsess` (-1: never).
    pub fn lastsess(&self) -> i64 {
        match self.last_sess.load(Ordering::Relaxed) {
            0 => -1,
            t => now_secs().saturating_sub(t) as i64,
        }
    }

    /// `clear counters`: the maxima (`smax`, `qmax`, `rate_max`, `req_rate_max`).
    pub fn clear_max(&self) {
        self.smax.store(0, Ordering::Relaxed);
        self.qmax.store(0, Ordering::Relaxed);
        self.sess_rate_max.store(0, Ordering::Relaxed);
        self.req_rate_max.store(0, Ordering::Relaxed);
    }

    /// `clear counters all`: every counter but the current sessions.
    pub fn clear_all(&self) {
        self.clear_max();
        for c in [
            &self.stot,
            &self.bin,
            &self.bout,
            &self.dreq,
            &self.dresp,
            &self.ereq,
            &self.econ,
            &self.eresp,
            &self.wretr,
            &self.wredis,
            &self.req_tot,
            &self.lbtot,
            &self.connect,
            &self.reuse,
            &self.intercepted,
            &self.cli_abrt,
            &self.srv_abrt,
            &self.last_sess,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        for c in &self.hrsp.classes {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Reads a plain counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_counts_the_current_second_and_weights_the_previous_one() {
        let r = RateCounter::default();
        for _ in 0..10 {
            r.hit_at(100, 0);
        }
        assert_eq!(r.hit_at(100, 0), 11);
        // Half-way through the next second, half of the previous second still counts.
        assert_eq!(r.hit_at(101, 500), 1 + 5);
        // Two seconds later, nothing of the old seconds remains.
        assert_eq!(r.hit_at(103, 0), 1);
    }

    #[test]
    fn status_classes_and_other() {
        let s = StatusCounts::default();
        for st in [200, 204, 301, 404, 503, 42, -1, 700] {
            s.count(st);
        }
        assert_eq!(
            (1..=6).map(|n| s.class(n)).collect::<Vec<_>>(),
            vec![0, 2, 1, 1, 1, 3]
        );
    }

    #[test]
    fn sessions_track_current_max_and_total() {
        let c = Counters::default();
        c.session_start();
        c.session_start();
        c.session_end();
        c.session_start();
        assert_eq!(c.scur.load(Ordering::Relaxed), 2);
        assert_eq!(c.smax.load(Ordering::Relaxed), 2);
        assert_eq!(Counters::get(&c.stot), 3);
        assert!(c.lastsess() >= 0);
        assert!(c.sess_rate.rate() >= 1);
    }
}
