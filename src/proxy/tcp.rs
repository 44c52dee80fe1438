//! `mode tcp`: wait for the client's first bytes when the rules read them (`tcp-request
//! inspect-delay`: TLS passthrough by `req.ssl_sni`), choose a backend (`use_backend`
//! rules, then `default_backend`), connect with retries, send the bytes read, then
//! forward both ways until done.

use super::connect::{self, ConnectError, ConnectInfo};
use super::session::{self, ConnInfo};
use super::tunnel::{self, TunnelEnd, TunnelTimeouts};
use crate::acl::{SampleSource, WithLive};
use crate::balance::BalanceInput;
use crate::log::{FinState, LogRecord, TermCause};
use crate::runtime::frontend::Frontend;
use crate::runtime::live_fetch::StreamLive;
use crate::runtime::snapshot::Snapshot;
use crate::runtime::tcp_response::ResAction;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};

/// Serves one client connection in tcp mode.
pub async fn serve<S>(fe: Arc<Frontend>, snap: Arc<Snapshot>, mut client: S, conn: ConnInfo)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut payload = Vec::new();
    let mut last = true;
    if let Some(delay) = fe.inspect_delay.filter(|_| reads_payload(&fe)) {
        let decided = |data: &[u8]| {
            let src = Payload {
                conn: &conn,
                data,
                last: false,
            };
            crate::runtime::rules::content_decided(&fe.tcp_content, &src)
        };
        match inspect(
            &mut client,
            &mut payload,
            delay,
            snap.global.bufsize,
            decided,
        )
        .await
        {
            Some(l) => last = l,
            None => return,
        }
    }
    let conn = Payload {
        conn: &conn,
        data: &payload,
        last,
    };
    // `tcp-request content` rules. Rules see the live state of the stream's proxies
    // (`nbsrv`, `be_conn`, …).
    let trk = crate::runtime::stick::Trackers::default();
    let live = StreamLive::new(&snap, &fe).tracking(conn.conn.stick.as_deref(), Some(&trk));
    let backend = {
        let src = WithLive {
            inner: &conn,
            live: &live,
        };
        if !crate::runtime::rules::tcp_verdict(&fe.tcp_content, &src) {
            return;
        }
        fe.pick_backend(&src)
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
    let mut rec = LogRecord::new(conn.conn.accept_date, &fe.name);
    rec.client = conn.conn.peer;
    rec.frontend_addr = conn.conn.local;
    // `%ft` gets HAProxy's `~` over TLS; `%sslc`/`%sslv` the session's.
    rec.frontend_ssl = conn.conn.tls.is_some();
    rec.ssl_cipher = conn.conn.tls.as_deref().map(|t| t.cipher);
    rec.ssl_version = conn.conn.tls.as_deref().map(|t| t.protocol);
    rec.status = 0;
    let mut line = String::new();
    let Some(be) = backend else {
        rec.backend = &fe.name;
        rec.term_cause = TermCause::Proxy;
        rec.fin_state = FinState::Request;
        rec.t_total = session::ms(conn.conn.accepted.elapsed());
        session::counters(&mut rec, &snap, &fe);
        session::account(&fe, None, None, &rec, false);
        session::emit_from(&fe, &rec, false, false, None, Some(&conn), &mut line);
        return;
    };
    be.counters.session_start();
    let mut info = ConnectInfo::default();
    let mut pending = crate::runtime::stick::persist::Pending::default();
    let persist = crate::proxy::stick::designate(&be, &conn, &mut pending, false);
    // `persist rdp-cookie` comes first, as HAProxy's analysers run.
    let persist = crate::proxy::rdp_persist::designate(&be, conn.data).or(persist);
    let result = connect::connect(&be, &conn, conn.conn.local, &mut info, persist).await;
    if let Ok((_, slot)) = &result {
        crate::proxy::stick::record(&be, &conn, &mut pending, &slot.server);
    }
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
            rec.t_total = session::ms(conn.conn.accepted.elapsed());
            be.counters.session_end();
            session::counters(&mut rec, &snap, &fe);
            session::account(&fe, Some(&be), None, &rec, false);
            session::emit_from(&fe, &rec, false, false, None, Some(&conn), &mut line);
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
            let mut server = server;
            if !payload.is_empty()
                && tokio::io::AsyncWriteExt::write_all(&mut server, &payload)
                    .await
                    .is_err()
            {
                return;
            }
            // `tcp-response content` rules on the server's first bytes.
            let mut head = Vec::new();
            if !be.tcp_response.is_empty() {
                let be_live = live.switched(&be);
                let verdict = crate::proxy::tcp_response::inspect(
                    &be.tcp_response,
                    &mut server,
                    &conn,
                    &be_live,
                    &mut head,
                    snap.global.bufsize,
                )
                .await;
                let forward = match verdict {
                    Some(ResAction::Accept) => true,
                    Some(ResAction::Close) => false,
                    Some(ResAction::Reject) | None => {
                        // Both sides closed, nothing forwarded (HAProxy's `PD`).
                        if verdict.is_some() {
                            fe.live.counters.dresp.fetch_add(1, Ordering::Relaxed);
                            be.counters.dresp.fetch_add(1, Ordering::Relaxed);
                            rec.term_cause = TermCause::Proxy;
                        } else {
                            rec.term_cause = TermCause::ServerAbort;
                        }
                        rec.fin_state = FinState::Data;
                        drop(server);
                        let _ = tokio::io::AsyncWriteExt::shutdown(&mut client).await;
                        rec.bytes_in = payload.len() as u64;
                        rec.t_total = session::ms(conn.conn.accepted.elapsed());
                        drop(slot);
                        be.counters.session_end();
                        session::counters(&mut rec, &snap, &fe);
                        session::account(&fe, Some(&be), Some(&srv), &rec, false);
                        session::emit_from(&fe, &rec, false, false, None, Some(&conn), &mut line);
                        return;
                    }
                };
                if !head.is_empty()
                    && tokio::io::AsyncWriteExt::write_all(&mut client, &head)
                        .await
                        .is_err()
                {
                    return;
                }
                if !forward {
                    // `close`: what arrived is forwarded, then the server connection is
                    // closed and the client's after it.
                    drop(server);
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut client).await;
                    rec.bytes_in = payload.len() as u64;
                    rec.bytes_out = head.len() as u64;
                    rec.t_total = session::ms(conn.conn.accepted.elapsed());
                    drop(slot);
                    be.counters.session_end();
                    session::counters(&mut rec, &snap, &fe);
                    session::account(&fe, Some(&be), Some(&srv), &rec, false);
                    session::emit_from(&fe, &rec, false, false, None, Some(&conn), &mut line);
                    return;
                }
            }
            // `option logasap`: the line is logged once the server connection is up.
            let asap = fe.log.as_ref().is_some_and(|l| l.logasap);
            if asap {
                rec.logasap = true;
                rec.t_total = session::ms(conn.conn.accepted.elapsed());
                rec.srv_conn = srv.cur_conns.load(Ordering::Relaxed);
                rec.beconn = be.counters.scur.load(Ordering::Relaxed);
                session::counters(&mut rec, &snap, &fe);
                session::emit_from(&fe, &rec, false, false, None, Some(&conn), &mut line);
                rec.logasap = false;
            }
            // `on-marked-down shutdown-sessions` / `on-marked-up shutdown-backup-sessions`
            // end the session from outside (the bytes forwarded so far are logged).
            let mut shutdown = srv.shutdown.watch();
            let mut killed = None;
            let stop = async {
                killed = Some(shutdown.wait().await);
            };
            let (res, _) =
                tunnel::run_until(&mut client, &mut server, t, snap.global.bufsize, stop).await;
            if let Some(cause) = killed {
                // HAProxy closes both sides at once: the client gets a FIN (a reset
                // with `option nolinger`), the server connection is dropped.
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut client).await;
                rec.term_cause = cause;
            }
            if res.end != TunnelEnd::Closed {
                // Like HAProxy, a session ended by a timeout or an error first shuts the
                // client's side down (FIN); with `option nolinger` the close then resets.
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut client).await;
            }
            rec.bytes_out = res.down + head.len() as u64;
            rec.bytes_in = res.up + payload.len() as u64;
            crate::runtime::stick::track::count_bytes(
                Some(&trk),
                conn.conn.stick.as_deref(),
                rec.bytes_in,
                rec.bytes_out,
            );
            (rec.term_cause, rec.fin_state) = match res.end {
                // HAProxy logs a killed session `D-` or `U-`.
                _ if killed.is_some() => (rec.term_cause, FinState::None),
                TunnelEnd::Closed => (TermCause::None, FinState::None),
                TunnelEnd::ClientTimeout => (TermCause::ClientTimeout, FinState::Data),
                TunnelEnd::ServerTimeout => (TermCause::ServerTimeout, FinState::Data),
                TunnelEnd::ClientError => (TermCause::ClientAbort, FinState::Data),
                TunnelEnd::ServerError => (TermCause::ServerAbort, FinState::Data),
            };
            rec.t_total = session::ms(conn.conn.accepted.elapsed());
            // As in HAProxy's log, the ending session no longer counts on its backend
            // and server.
            drop(slot);
            be.counters.session_end();
            rec.srv_conn = srv.cur_conns.load(Ordering::Relaxed);
            rec.beconn = be.counters.scur.load(Ordering::Relaxed);
            session::counters(&mut rec, &snap, &fe);
            let null = res.up == 0 && payload.is_empty();
            session::account(&fe, Some(&be), Some(&srv), &rec, false);
            if !asap {
                session::emit_from(&fe, &rec, null, false, None, Some(&conn), &mut line);
            }
        }
    }
}

/// Whether the frontend's content rules or `use_backend` conditions read the payload.
fn reads_payload(fe: &Frontend) -> bool {
    fe.tcp_content.iter().any(|r| r.cond.reads_request())
        || fe.switching.iter().any(|s| s.reads_request())
}

/// Reads the client's first bytes into `buf` until they tell what the payload fetches
/// need (a whole TLS hello, or bytes that are not one), the buffer is full, the client
/// stops sending, or `delay` passes. `false`: the connection failed.
/// Then, while a content rule's condition may still change (`req.len`, `wait_end`:
/// `decided` says no), reads on until the delay ends. `Some(last)`: whether the payload
/// is final (delay over, client done, buffer full); `None`: the connection failed.
async fn inspect<S: AsyncRead + Unpin>(
    client: &mut S,
    buf: &mut Vec<u8>,
    delay: std::time::Duration,
    bufsize: usize,
    decided: impl Fn(&[u8]) -> bool,
) -> Option<bool> {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + delay;
    while buf.len() < bufsize && !(crate::tls::hello::settled(buf) && decided(buf)) {
        buf.reserve(bufsize - buf.len());
        match tokio::time::timeout_at(deadline, client.read_buf(buf)).await {
            Err(_) | Ok(Ok(0)) => return Some(true),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return None,
        }
    }
    Some(buf.len() >= bufsize)
}

/// The connection and the bytes read ahead of the rules, as the rules see them.
struct Payload<'a> {
    conn: &'a ConnInfo,
    data: &'a [u8],
    /// Whether `data` is final (`wait_end`).
    last: bool,
}

impl SampleSource for Payload<'_> {
    fn src(&self) -> Option<std::net::SocketAddr> {
        self.conn.peer
    }
    fn dst(&self) -> Option<std::net::SocketAddr> {
        self.conn.local
    }
    fn tls(&self) -> Option<&crate::tls::Facts> {
        self.conn.tls.as_deref()
    }
    fn proxy_tlvs(&self) -> Option<&crate::acl::ProxyTlvs> {
        self.conn.pp.as_deref()
    }
    fn req_payload(&self) -> Option<&[u8]> {
        Some(self.data)
    }
    fn payload_final(&self) -> bool {
        self.last
    }
}

impl BalanceInput for Payload<'_> {
    fn src(&self) -> Option<std::net::IpAddr> {
        self.conn.peer.map(|p| p.ip())
    }
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    fn header(&self, _name: &str) -> Option<&[u8]> {
        None
    }
    fn payload(&self) -> Option<&[u8]> {
        Some(self.data)
    }
}
