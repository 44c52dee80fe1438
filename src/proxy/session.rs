//! What every client session shares: its addresses, accept time and counters, the
//! connection-level sample source, and the code that writes its log line.

use crate::acl::SampleSource;
use crate::balance::BalanceInput;
use crate::log::{FinState, LogRecord, TermCause};
use crate::runtime::frontend::Frontend;
use crate::runtime::snapshot::Snapshot;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

/// A client connection's identity.
#[derive(Clone, Copy, Debug)]
pub struct ConnInfo {
    /// The client's address (`None` for unix sockets).
    pub peer: Option<SocketAddr>,
    /// The address it connected to.
    pub local: Option<SocketAddr>,
    /// When it was accepted (wall clock, for logs).
    pub accept_date: SystemTime,
    /// When it was accepted (monotonic, for timers).
    pub accepted: Instant,
}

impl SampleSource for ConnInfo {
    fn src(&self) -> Option<SocketAddr> {
        self.peer
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.local
    }
    fn method(&self) -> Option<&[u8]> {
        None
    }
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    fn req_header(&self, _name: &str, _each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        false
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
    rec.feconn = fe.feconn.load(Ordering::Relaxed);
}

/// Writes the log line of a finished session/request, honouring `dontlognull` and
/// `dontlog-normal`. `null` says the client sent nothing.
pub fn emit(fe: &Frontend, rec: &LogRecord<'_>, null: bool, http: bool, line: &mut String) {
    let Some(log) = &fe.log else { return };
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
        Some(f) => f.render(rec, line),
        None => crate::log::render_connect_line(rec, http, line),
    }
    let level = if log.separate_errors && error {
        crate::log::LOG_ERR
    } else {
        crate::log::LOG_INFO
    };
    log.logger.log(level, line);
}

/// Counts a connection on its frontend and the process while alive.
pub struct ConnGuard {
    /// The frontend.
    pub fe: Arc<Frontend>,
    /// The snapshot.
    pub snap: Arc<Snapshot>,
}

impl ConnGuard {
    /// Counts one more connection.
    pub fn new(fe: Arc<Frontend>, snap: Arc<Snapshot>) -> Self {
        fe.feconn.fetch_add(1, Ordering::Relaxed);
        fe.total.fetch_add(1, Ordering::Relaxed);
        snap.global.actconn.fetch_add(1, Ordering::Relaxed);
        ConnGuard { fe, snap }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.fe.feconn.fetch_sub(1, Ordering::Relaxed);
        self.snap.global.actconn.fetch_sub(1, Ordering::Relaxed);
    }
}
