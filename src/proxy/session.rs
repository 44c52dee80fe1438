//! What every client session shares: its addresses, accept time and counters, the
//! connection-level sample source, and the code that writes its log line.

use crate::acl::SampleSource;
use crate::balance::BalanceInput;
use crate::log::{FinState, LogRecord, TermCause};
use crate::runtime::backend::Backend;
use crate::runtime::counters::Counters;
use crate::runtime::frontend::Frontend;
use crate::runtime::server::ServerState;
use crate::runtime::snapshot::Snapshot;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

/// A client connection's identity.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    /// The client's address (`None` for unix sockets).
    pub peer: Option<SocketAddr>,
    /// The address it connected to.
    pub local: Option<SocketAddr>,
    /// When it was accepted (wall clock, for logs).
    pub accept_date: SystemTime,
    /// When it was accepted (monotonic, for timers).
    pub accepted: Instant,
    /// What its TLS handshake settled (`bind … ssl`), for the `ssl_*` fetches.
    pub tls: Option<Arc<crate::tls::Facts>>,
    /// The TLVs of the PROXY v2 header it began with (`accept-proxy`), if any.
    pub pp: Option<Arc<crate::acl::ProxyTlvs>>,
    /// The counters the connection tracks (`tcp-request connection track-sc*`), when
    /// the frontend has such rules; shared by the connection's requests, let go with it.
    pub stick: Option<Arc<crate::runtime::stick::Trackers>>,
}

impl SampleSource for ConnInfo {
    fn src(&self) -> Option<SocketAddr> {
        self.peer
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.local
    }
    fn tls(&self) -> Option<&crate::tls::Facts> {
        self.tls.as_deref()
    }
    fn proxy_tlvs(&self) -> Option<&crate::acl::ProxyTlvs> {
        self.pp.as_deref()
    }
}

impl BalanceInput for ConnInfo {
    fn src(&self) -> Option<IpAddr> {
        self.peer.map(|p| p.ip())
    }
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    fn header(&self, _name: &str) -> Option<&[u8]> {
        None
    }
}

/// Milliseconds as the log wants them.
pub fn ms(d: std::time::Duration) -> Option<i64> {
    Some(d.as_millis() as i64)
}

/// Fills the counters of a log record.
pub fn counters(rec: &mut LogRecord<'_>, snap: &Snapshot, fe: &Frontend) {
    rec.actconn = snap.global.actconn.load(Ordering::Relaxed);
    rec.feconn = fe.live.counters.scur.load(Ordering::Relaxed);
}

/// Adds a finished request (http) or session (tcp) to the `show stat` counters of its
/// frontend, backend and server, from the facts its log line prints: bytes, status
/// class, denials, errors by termination state, retries and redispatches. `http`:
/// `req_tot` and `hrsp_*` are counted here too (`false` for tcp sessions, and for an
/// exchange that counted them with [`account_response`] already).
pub fn account(
    fe: &Frontend,
    be: Option<&Backend>,
    srv: Option<&ServerState>,
    rec: &LogRecord<'_>,
    http: bool,
) {
    use std::sync::atomic::AtomicU64;
    let fc = &fe.live.counters;
    let bc = be.map(|b| &b.counters);
    let sc = srv.map(|s| &s.counters);
    let inc = |c: &AtomicU64| {
        c.fetch_add(1, Ordering::Relaxed);
    };
    let each = |f: &dyn Fn(&Counters)| {
        bc.into_iter().chain(sc).for_each(f);
    };
    fc.bytes(rec.bytes_in, rec.bytes_out);
    each(&|c| c.bytes(rec.bytes_in, rec.bytes_out));
    let (term, fin) = (rec.term_cause, rec.fin_state);
    // A request counts once something of it came: a parsed request line, or an
    // answer to a partial or invalid one (HAProxy 2.6 counts bad requests in req_tot).
    let received = rec.request_line.is_some() || rec.status > 0 || rec.bytes_in > 0;
    if http && received {
        let answered = rec.t_response.is_some_and(|t| t >= 0);
        let srv_status = if answered { rec.status } else { 0 };
        account_response(fe, be, srv, rec.status, srv_status);
    }
    let client_side = matches!(term, TermCause::ClientAbort | TermCause::ClientTimeout);
    let server_side = matches!(term, TermCause::ServerAbort | TermCause::ServerTimeout);
    match fin {
        FinState::Request if term == TermCause::Proxy && rec.status == 403 => match bc {
            Some(c) => inc(&c.dreq),
            None => inc(&fc.dreq),
        },
        // A tarpitted request is a denied one, whatever its status.
        FinState::Tarpit if term == TermCause::Proxy => match bc {
            Some(c) => inc(&c.dreq),
            None => inc(&fc.dreq),
        },
        FinState::Request if received && (client_side || term == TermCause::Proxy) => inc(&fc.ereq),
        FinState::Connect | FinState::Queue if server_side => each(&|c| inc(&c.econ)),
        // `http-response deny`: HAProxy 2.6 counts it denied, not failed.
        FinState::Headers if term == TermCause::Proxy => {
            inc(&fc.dresp);
            each(&|c| inc(&c.dresp))
        }
        FinState::Headers if server_side => each(&|c| inc(&c.eresp)),
        // A response cut by its server is an aborted and a failed one.
        FinState::Data | FinState::Last if server_side => each(&|c| {
            inc(&c.srv_abrt);
            inc(&c.eresp);
        }),
        FinState::Headers | FinState::Data | FinState::Last if client_side => {
            each(&|c| inc(&c.cli_abrt))
        }
        _ => {}
    }
    if rec.retries > 0 {
        each(&|c| {
            c.wretr.fetch_add(u64::from(rec.retries), Ordering::Relaxed);
        });
    }
    if rec.redispatched {
        each(&|c| inc(&c.wredis));
    }
}

/// Counts one received HTTP request in `req_tot` (and the frontend's request rate) and
/// its response's status class in `hrsp_*` (`status` > 0) of its frontend and backend;
/// the server's `hrsp_*` counts the status the server itself answered (`srv_status` >
/// 0: before the `http-response` rules, as HAProxy 2.6; 0: it did not answer). The
/// exchange calls it as the response head is produced, before it is written, so a
/// client that reads the response and then the stats sees its request counted.
pub fn account_response(
    fe: &Frontend,
    be: Option<&Backend>,
    srv: Option<&ServerState>,
    status: i32,
    srv_status: i32,
) {
    let fc = &fe.live.counters;
    // Only frontends report a request rate.
    fc.request();
    // A server counts the responses it sent (HAProxy 2.6 counts its `req_tot` as it
    // parses a response head): not a request it never answered.
    let answered = srv.filter(|_| srv_status > 0);
    for c in be
        .map(|b| &b.counters)
        .into_iter()
        .chain(answered.map(|s| &s.counters))
    {
        c.req_tot.fetch_add(1, Ordering::Relaxed);
    }
    if status > 0 {
        fc.hrsp.count(status);
        if let Some(b) = be {
            b.counters.hrsp.count(status);
        }
    }
    if let Some(s) = srv.filter(|_| srv_status > 0) {
        s.counters.hrsp.count(srv_status);
    }
}

/// Counts an interim response (1xx but 101) the server sent before its final one, as
/// HAProxy 2.6 does: in the server's `req_tot` and `hrsp_1xx` only (its frontend and
/// backend count the exchange once, by its final status).
pub fn account_interim(srv: Option<&ServerState>, status: u16) {
    if let Some(s) = srv {
        s.counters.req_tot.fetch_add(1, Ordering::Relaxed);
        s.counters.hrsp.count(i32::from(status));
    }
}

/// Writes the log line of a finished session/request, honouring `dontlognull` and
/// `dontlog-normal`. `null` says the client sent nothing.
pub fn emit(fe: &Frontend, rec: &LogRecord<'_>, null: bool, http: bool, line: &mut String) {
    emit_at(fe, rec, null, http, None, line);
}

/// [`emit`] with the level a `set-log-level` rule chose: `Some(None)` (`silent`) sends
/// nothing, `Some(Some(level))` replaces the level the line would have had.
pub fn emit_at(
    fe: &Frontend,
    rec: &LogRecord<'_>,
    null: bool,
    http: bool,
    set_level: Option<Option<u8>>,
    line: &mut String,
) {
    emit_from(fe, rec, null, http, set_level, None, line)
}

/// [`emit_at`] with the source the format's `%[…]` samples read (`mode tcp`).
pub fn emit_from(
    fe: &Frontend,
    rec: &LogRecord<'_>,
    null: bool,
    http: bool,
    set_level: Option<Option<u8>>,
    src: Option<&dyn SampleSource>,
    line: &mut String,
) {
    let Some(log) = &fe.log else { return };
    if set_level == Some(None) {
        return;
    }
    if log.dontlognull && null {
        return;
    }
    let error =
        rec.term_cause != TermCause::None || rec.status >= 500 || rec.fin_state != FinState::None;
    if log.dontlog_normal && !error {
        return;
    }
    line.clear();
    match &log.format {
        Some(f) => f.render_with(rec, src, line),
        None => crate::log::render_connect_line(rec, http, line),
    }
    let level = match set_level {
        Some(Some(l)) => l,
        _ if log.separate_errors && error => crate::log::LOG_ERR,
        _ => crate::log::LOG_INFO,
    };
    log.logger.log(level, line);
}

/// The line HAProxy logs for a client whose TLS handshake failed:
/// `<ip>:<port> [<accept date>] <frontend>/<listener>: <reason>` (at `info`, `err` with
/// `option log-separate-errors`; a client that closed without completing it is not
/// logged under `option dontlognull`).
pub fn log_handshake_failure(
    fe: &Frontend,
    conn: &ConnInfo,
    listener: &str,
    fail: super::tls::HandshakeFail,
) {
    let Some(log) = &fe.log else { return };
    if log.dontlognull && fail == super::tls::HandshakeFail::Closed {
        return;
    }
    use std::fmt::Write;
    let mut line = String::with_capacity(96);
    match conn.peer {
        Some(p) => {
            let _ = write!(line, "{}:{} [", p.ip(), p.port());
        }
        None => line.push_str("unix:1 ["),
    }
    let (secs, us) = crate::log::time::split(conn.accept_date);
    crate::log::time::write_date_ms(&mut line, &crate::log::time::local(secs), us);
    let _ = write!(line, "] {}/{listener}: {}", fe.name, fail.message());
    let level = if log.separate_errors {
        crate::log::LOG_ERR
    } else {
        crate::log::LOG_INFO
    };
    log.logger.log(level, &line);
}

/// Counts a connection on its frontend and the process while alive.
pub struct ConnGuard {
    /// The frontend.
    pub fe: Arc<Frontend>,
    /// The snapshot.
    pub snap: Arc<Snapshot>,
    /// Its place in the live state's list of connections (`show sess`).
    id: crate::runtime::sessions::Registered,
}

impl ConnGuard {
    /// Counts one more connection, from `peer`, accepted at `since`, and lists it.
    pub fn new(
        fe: Arc<Frontend>,
        snap: Arc<Snapshot>,
        peer: Option<SocketAddr>,
        since: Instant,
    ) -> Self {
        fe.live.counters.session_start();
        snap.global.actconn.fetch_add(1, Ordering::Relaxed);
        let id = snap
            .global
            .sessions
            .open(crate::runtime::sessions::Session {
                frontend: Arc::clone(&fe),
                peer,
                since,
            });
        ConnGuard { fe, snap, id }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.fe.live.counters.session_end();
        self.snap.global.actconn.fetch_sub(1, Ordering::Relaxed);
        self.snap.global.sessions.close(self.id);
    }
}

/// The future `make` returns, on the heap, built there rather than built on the stack
/// and then copied in: `Box::pin(f)` moves the whole future (several KiB for a
/// connection's busy period: the futures of every phase it may await) into its
/// allocation with a `memcpy` per box, while writing the call's result into an
/// allocation made first lets the compiler have the callee construct it in place.
/// (docs/performance.md, "wt-close64k".)
#[inline(always)]
pub fn pin_boxed<F>(make: impl FnOnce() -> F) -> std::pin::Pin<Box<F>> {
    let slot = Box::<F>::new_uninit();
    Box::into_pin(Box::write(slot, make()))
}
