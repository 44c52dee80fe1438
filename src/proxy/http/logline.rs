//! The `option httplog` / `log-format` line of one exchange, with its timers.

use super::exchange::{Outcome, Session};
use crate::log::LogRecord;
use crate::proxy::session::{self};
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Session {
    /// Counts and logs the exchange that ended at `end`, with HAProxy's per-request timers (8.4):
    /// `%t` is the clock's start (accept, or the end of the previous request), `%tr` the
    /// request's first byte (the start when nothing came), `Ti` the idle time between
    /// them, `TR` the head's reception, `Ta` from `%tr` and `Tt` from `%t` to `end`.
    pub(super) fn log(&mut self, o: &Outcome, end: Instant) {
        let fe = self.fe.clone();
        let clock = self.clock;
        let rx_start = o.rx_start.unwrap_or(clock.start).max(clock.start);
        let mut rec = LogRecord::new(clock.date, &fe.name);
        rec.request_date = clock.date_of(rx_start);
        rec.client = self.conn.peer;
        rec.frontend_addr = self.conn.local;
        rec.backend = o
            .backend
            .as_ref()
            .map(|b| b.name.as_str())
            .unwrap_or(&fe.name);
        rec.server = o.server.as_ref().map(|s| s.name.as_str());
        rec.t_request = o.t_request;
        rec.t_idle = session::ms(rx_start - clock.start);
        rec.t_handshake = Some(0);
        rec.t_queue = if o.server.is_some() || o.info.queued {
            session::ms(o.info.queue)
        } else {
            None
        };
        rec.t_connect = if o.server.is_some() && !o.local {
            session::ms(o.info.connect)
        } else {
            None
        };
        rec.t_response = o.t_response;
        rec.t_active = session::ms(end.saturating_duration_since(rx_start));
        rec.t_total = session::ms(end.saturating_duration_since(clock.start));
        rec.status = o.status;
        rec.bytes_out = o.bytes_out;
        rec.bytes_in = o.bytes_in;
        rec.term_cause = o.term;
        rec.fin_state = o.fin;
        rec.retries = o.info.retries;
        rec.redispatched = o.info.redispatched;
        rec.request_line = if self.reqline.is_empty() {
            None
        } else {
            Some(&self.reqline)
        };
        if let Some(b) = &o.backend {
            rec.beconn = b.counters.scur.load(Ordering::Relaxed);
            rec.backend_queue = b.queued.load(Ordering::Relaxed);
        }
        if let Some(s) = &o.server {
            rec.srv_conn = s.cur_conns.load(Ordering::Relaxed);
            rec.srv_queue = s.queued.load(Ordering::Relaxed);
            rec.server_addr = s.unix.is_none().then_some(s.addr);
        }
        session::account(&fe, o.backend.as_deref(), o.server.as_deref(), &rec, true);
        if fe.log.is_none() {
            return;
        }
        session::counters(&mut rec, &self.snap, &fe);
        let mut line = std::mem::take(&mut self.line);
        session::emit(&fe, &rec, false, true, &mut line);
        self.line = line;
    }
}
