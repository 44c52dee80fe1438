//! The `option httplog` / `log-format` line of one exchange, with its timers.

use super::exchange::{Clock, Exchange, Session};
use crate::log::{FinState, LogRecord};
use crate::proxy::message::Request;
use crate::proxy::session::ConnInfo;
use crate::proxy::session::{self};
use crate::runtime::frontend::Frontend;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Session {
    /// Counts and logs the exchange that ended at `end`, with HAProxy's per-request timers (8.4):
    /// `%t` is the clock's start (accept, or the end of the previous request), `%tr` the
    /// request's first byte (the start when nothing came), `Ti` the idle time between
    /// them, `TR` the head's reception, `Ta` from `%tr` and `Tt` from `%t` to `end`.
    pub(super) fn log(&mut self, ex: &Exchange, end: Instant) {
        self.log_with(ex, end, false);
    }

    /// `option logasap`: logs the exchange now, its response headers forwarded
    /// (`%Tt`, `%Ta` and `%B` so far, with a `+`); the log at the end then only counts.
    pub(super) fn log_asap(&mut self, ex: &mut Exchange) {
        if self.fe.log.as_ref().is_some_and(|l| l.logasap) && !ex.nolog {
            self.log_with(ex, Instant::now(), true);
            ex.fx.logged_early = true;
        }
    }

    /// Counts (unless `early`) and logs (unless logged early) the exchange.
    fn log_with(&mut self, ex: &Exchange, end: Instant, early: bool) {
        let fe = self.fe.clone();
        let clock = self.clock;
        let mut rec = LogRecord::new(clock.date, &fe.name);
        // What the counters read (`session::account`).
        rec.t_response = ex.t_response;
        rec.status = ex.status;
        rec.bytes_out = ex.bytes_out;
        rec.bytes_in = ex.bytes_in;
        rec.term_cause = ex.term;
        rec.fin_state = ex.fin;
        rec.retries = ex.info.retries;
        rec.redispatched = ex.info.redispatched;
        rec.cookie_flags = super::persist_cookie::log_flags(ex.backend.as_deref(), &ex.cookie);
        rec.request_line = if ex.reqline.is_empty() {
            None
        } else {
            Some(&ex.reqline)
        };
        // The rest only for a log line or an identity audit line: without either
        // (no `log` in the frontend) the timers, dates and names are not worked out.
        if fe.log.is_some() || !self.snap.identities.is_empty() {
            fill_log_fields(&mut rec, ex, &fe, self.clock, &self.conn, end);
        }
        if !early {
            let (be, srv) = (ex.backend.as_deref(), ex.server.as_deref());
            session::account(&fe, be, srv, &rec, !ex.counted);
            if !self.snap.identities.is_empty() && !ex.nolog {
                super::identity::audit_exchange(&fe, &rec, &ex.txn);
            }
        }
        if fe.log.is_none() || ex.nolog || (!early && ex.fx.logged_early) {
            return;
        }
        rec.logasap = early;
        session::counters(&mut rec, &self.snap, &fe);
        // Captures are listed only when declared (an empty list prints nothing); the
        // `capture` rules' samples fill their slots, cut to the slot's length.
        let mut req_caps = captures(&ex.cap_req, fe.capture_req.len());
        let mut res_caps = captures(&ex.cap_res, fe.capture_res.len());
        for (response, slot, v) in &ex.fx.captures {
            let (caps, decl) = if *response {
                (&mut res_caps, &fe.capture_res)
            } else {
                (&mut req_caps, &fe.capture_req)
            };
            if let (Some(c), Some((_, len))) = (caps.get_mut(*slot), decl.get(*slot)) {
                *c = Some(&v[..v.len().min(*len)]);
            }
        }
        rec.req_headers = &req_caps;
        rec.res_headers = &res_caps;
        let mut line = std::mem::take(&mut self.line);
        session::emit_at(&fe, &rec, false, true, ex.fx.log_level, &mut line);
        self.line = line;
    }
}

/// The fields of a log record that only a log line (or an audit line) reads: dates,
/// timers, names, queue and connection counts, the unique id.
fn fill_log_fields<'a>(
    rec: &mut LogRecord<'a>,
    ex: &'a Exchange,
    fe: &'a Frontend,
    clock: Clock,
    conn: &ConnInfo,
    end: Instant,
) {
    let rx_start = ex.rx_start.unwrap_or(clock.start).max(clock.start);
    rec.request_date = clock.date_of(rx_start);
    rec.client = conn.peer;
    rec.frontend_addr = conn.local;
    // `%ft` gets HAProxy's `~` over TLS; `%sslc`/`%sslv` the session's.
    rec.frontend_ssl = conn.tls.is_some();
    rec.ssl_cipher = conn.tls.as_deref().map(|t| t.cipher);
    rec.ssl_version = conn.tls.as_deref().map(|t| t.protocol);
    rec.backend = ex
        .backend
        .as_ref()
        .map(|b| b.name.as_str())
        .unwrap_or(&fe.name);
    rec.server = ex.server.as_ref().map(|s| s.name.as_str());
    rec.t_request = ex.t_request;
    rec.t_idle = session::ms(rx_start - clock.start);
    rec.t_handshake = Some(0);
    rec.t_queue = if ex.server.is_some() || ex.info.queued {
        session::ms(ex.info.queue)
    } else {
        None
    };
    // No connection was made when the exchange ended while connecting (`Tc` -1).
    rec.t_connect = if ex.server.is_some() && !ex.local && ex.fin != FinState::Connect {
        session::ms(ex.info.connect)
    } else {
        None
    };
    if let Some(applet) = ex.applet {
        // HAProxy logs the service as the server, with zero queue/connect/response
        // times.
        rec.server = Some(applet);
        (rec.t_queue, rec.t_connect, rec.t_response) = (Some(0), Some(0), Some(0));
    }
    rec.t_active = session::ms(end.saturating_duration_since(rx_start));
    rec.t_total = session::ms(end.saturating_duration_since(clock.start));
    rec.request_counter = ex.txn.rt;
    rec.unique_id = ex
        .txn
        .unique_id_get()
        .and_then(|id| std::str::from_utf8(id).ok());
    if let Some(b) = &ex.backend {
        rec.beconn = b.counters.scur.load(Ordering::Relaxed);
        rec.backend_queue = b.queued.load(Ordering::Relaxed);
    }
    if let Some(s) = &ex.server {
        rec.srv_conn = s.cur_conns.load(Ordering::Relaxed);
        rec.srv_queue = s.queued.load(Ordering::Relaxed);
        rec.server_addr = s.unix.is_none().then_some(s.current_addr());
    }
}

/// The captured values as the log record lists them: `n` declared, `None` for absent.
fn captures(c: &[Option<Vec<u8>>], n: usize) -> Vec<Option<&[u8]>> {
    (0..n)
        .map(|i| c.get(i).and_then(|v| v.as_deref()))
        .collect()
}

/// Writes the request line as the log shows it (`%r`): method, target and version, as
/// received, whatever the protocol.
pub(super) fn request_line(req: &Request<'_>, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(req.method_bytes());
    out.push(b' ');
    out.extend_from_slice(req.target());
    let v = req.version;
    out.extend_from_slice(b" HTTP/");
    out.extend_from_slice(&[b'0' + v.major, b'.', b'0' + v.minor]);
}
