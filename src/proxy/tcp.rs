//! `mode tcp`: choose a backend (connection-level `use_backend` rules, then
//! `default_backend`), connect with retries, then forward both ways until done.

use super::connect::{self, ConnectError, ConnectInfo};
use super::session::{self, ConnInfo};
use super::tunnel::{self, TunnelEnd, TunnelTimeouts};
use crate::acl::WithLive;
use crate::log::{FinState, LogRecord, TermCause};
use crate::runtime::frontend::Frontend;
use crate::runtime::live_fetch::StreamLive;
use crate::runtime::snapshot::Snapshot;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};

/// Serves one client connection in tcp mode.
pub async fn serve<S>(fe: Arc<Frontend>, snap: Arc<Snapshot>, client: S, conn: ConnInfo)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // `tcp-request content` rules (without payload inspection: connection data only).
    // Rules see the live state of the stream's proxies (`nbsrv`, `be_conn`, …).
    let live = StreamLive::new(&snap, &fe);
    let backend = {
        let src = WithLive {
            inner: &conn,
            live: &live,
        };
        if !crate::runtime::rules::tcp_verdict(&fe.tcp_content, &src) {
            return;
        }
        fe.switching
            .iter()
            .find(|s| s.cond.matches(&src))
            .map(|s| s.backend.clone())
            .or_else(|| fe.default_backend.clone())
    };
    let be_accepted = backend.as_ref().is_none_or(|be| {
        let be_live = live.switched(be);
        let src = WithLive {
            inner: &conn,
            live: &be_live,
        };
        crate::runtime::rules::tcp_verdict(&be.tcp_content, &src)
    });
    if !be_accepted {
        return;
    }
    let mut rec = LogRecord::new(conn.accept_date, &fe.name);
    rec.client = conn.peer;
    rec.frontend_addr = conn.local;
    rec.status = 0;
    let mut line = String::new();
    let Some(be) = backend else {
        rec.backend = &fe.name;
        rec.term_cause = TermCause::Proxy;
        rec.fin_state = FinState::Request;
        rec.t_total = session::ms(conn.accepted.elapsed());
        session::counters(&mut rec, &snap, &fe);
        session::account(&fe, None, None, &rec, false);
        session::emit(&fe, &rec, false, false, &mut line);
        return;
    };
    be.counters.session_start();
    let mut info = ConnectInfo::default();
    let result = connect::connect(&be, &conn, conn.local, &mut info).await;
    rec.backend = &be.name;
    rec.t_queue = session::ms(info.queue);
    rec.retries = info.retries;
    rec.redispatched = info.redispatched;
    match result {
        Err(e) => {
            rec.t_connect = Some(-1);
            rec.term_cause = if e == ConnectError::Timeout {
                TermCause::ServerTimeout
            } else {
                TermCause::ServerAbort
            };
            rec.fin_state = if matches!(e, ConnectError::QueueTimeout) {
                FinState::Queue
            } else {
                FinState::Connect
            };
            if matches!(e, ConnectError::NoServer) {
                rec.term_cause = TermCause::ServerAbort;
            }
            rec.t_total = session::ms(conn.accepted.elapsed());
            be.counters.session_end();
            session::counters(&mut rec, &snap, &fe);
            session::account(&fe, Some(&be), None, &rec, false);
            session::emit(&fe, &rec, false, false, &mut line);
        }
        Ok((server, slot)) => {
            let srv = slot.server.clone();
            rec.t_connect = session::ms(info.connect);
            rec.server = Some(&srv.name);
            rec.server_addr = srv.unix.is_none().then_some(srv.current_addr());
            let tunnel_t = be.timeouts.tunnel;
            let t = TunnelTimeouts {
                client: tunnel_t.or(fe.timeouts.client),
                server: tunnel_t.or(be.timeouts.server),
                client_fin: fe.timeouts.client_fin,
                server_fin: be.timeouts.server_fin,
            };
            let (mut cr, mut cw) = tokio::io::split(client);
            let (mut sr, mut sw) = tokio::io::split(server);
            let res = tunnel::run(&mut cr, &mut cw, &mut sr, &mut sw, t, snap.global.bufsize).await;
            if res.end != TunnelEnd::Closed {
                // Like HAProxy, a session ended by a timeout or an error first shuts the
                // client's side down (FIN); with `option nolinger` the close then resets.
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut cw).await;
            }
            rec.bytes_out = res.down;
            rec.bytes_in = res.up;
            (rec.term_cause, rec.fin_state) = match res.end {
                TunnelEnd::Closed => (TermCause::None, FinState::None),
                TunnelEnd::ClientTimeout => (TermCause::ClientTimeout, FinState::Data),
                TunnelEnd::ServerTimeout => (TermCause::ServerTimeout, FinState::Data),
                TunnelEnd::ClientError => (TermCause::ClientAbort, FinState::Data),
                TunnelEnd::ServerError => (TermCause::ServerAbort, FinState::Data),
            };
            rec.t_total = session::ms(conn.accepted.elapsed());
            // As in HAProxy's log, the ending session no longer counts on its backend
            // and server.
            drop(slot);
            be.counters.session_end();
            rec.srv_conn = srv.cur_conns.load(Ordering::Relaxed);
            rec.beconn = be.counters.scur.load(Ordering::Relaxed);
            session::counters(&mut rec, &snap, &fe);
            let null = res.up == 0;
            session::account(&fe, Some(&be), Some(&srv), &rec, false);
            session::emit(&fe, &rec, null, false, &mut line);
        }
    }
}
