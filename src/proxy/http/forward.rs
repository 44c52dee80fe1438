//! The request side: connecting to a server (or reusing a connection) and forwarding
//! the request head and body.

use super::exchange::{MAX_OWN_CONNS, Next, Outcome, OwnConn, Session};
use super::io::{IoFail, read_more, write_all};
use super::view::ReqView;
use crate::config::model::{HttpConnMode, HttpReuse};
use crate::log::{FinState, TermCause};
use crate::proxy::connect::{self, ConnectError};
use crate::proxy::h1::{self, server::RequestBody};
use crate::proxy::session::{self, ConnInfo};
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::conn::{PoolKey, ServerConn};
use crate::runtime::snapshot::conn_mode;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

fn xff_value(conn: &ConnInfo) -> Option<String> {
    conn.peer.map(|p| match p.ip() {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        ip => ip.to_string(),
    })
}

fn in_net(ip: std::net::IpAddr, net: (std::net::IpAddr, u8)) -> bool {
    match (ip, net.0) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u32::MAX << (32 - net.1 as u32)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u128::MAX << (128 - net.1 as u32)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Awaits `fut`; with `option abortonclose` (`on`), a client that closes meanwhile aborts
/// it (`None`), and what it sends meanwhile is appended to `early`.
async fn unless_client_closes<S, F>(
    client: &mut S,
    on: bool,
    early: &mut Vec<u8>,
    fut: F,
) -> Option<F::Output>
where
    S: AsyncRead + Unpin,
    F: Future,
{
    if !on {
        return Some(fut.await);
    }
    tokio::pin!(fut);
    loop {
        early.reserve(1024);
        tokio::select! {
            r = &mut fut => return Some(r),
            n = client.read_buf(early) => if !matches!(n, Ok(k) if k > 0) { return None },
        }
    }
}

impl Session {
    /// Writes the request head for the server into `self.out`: the rules' edits, then
    /// `option forwardfor`'s header; the codec adds the Connection header `mode` calls
    /// for.
    pub(super) fn build_request_head(&mut self, be: &Backend, mode: HttpConnMode) {
        let ff = be.forwardfor.as_ref().or(self.fe.forwardfor.as_ref());
        let mut xff: Option<(Vec<u8>, String)> = None;
        if let (Some(ff), Some(peer)) = (ff, self.conn.peer) {
            let excepted = ff.except.is_some_and(|n| in_net(peer.ip(), n));
            let name = ff.header.to_ascii_lowercase().into_bytes();
            let present = self.request().has(&name);
            if !(excepted || (ff.if_none && present)) {
                xff = xff_value(&self.conn).map(|v| (name, v));
            }
        }
        let extra = xff.as_ref().map(|(n, v)| (n.as_slice(), v.as_bytes()));
        h1::server::write_request(
            &self.head,
            &self.buf,
            mode == HttpConnMode::KeepAlive,
            &self.edits,
            extra,
            &mut self.out,
        );
    }

    /// Forwards the request to a server of `be` and the response back.
    pub(super) async fn forward<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
        be: &Arc<Backend>,
        head_len: usize,
    ) -> Option<Next> {
        let mode = conn_mode(self.fe.conn_mode, be.conn_mode);
        // The shared pool per `http-reuse`: `Some(proven_only)` when it may be used.
        // `safe`: never for a session's first request; `aggressive`: only connections that
        // already carried more than one request then; `always`: any; `never`: none.
        let pool_use = match be.http_reuse {
            HttpReuse::Never => None,
            HttpReuse::Safe => (!self.first).then_some(false),
            HttpReuse::Aggressive => Some(self.first),
            HttpReuse::Always => Some(false),
        }
        .filter(|_| mode == HttpConnMode::KeepAlive);

        // Balance, queue, then the client's own connection, an idle one or a new one.
        // With `option abortonclose`, a client that closes while its request waits in the
        // queue (HAProxy's CQ) or for the connection (CC) aborts it; bytes it pipelines
        // meanwhile are kept.
        let mut early = Vec::new();
        let slot = {
            let view = self.request_view();
            let acq = connect::acquire(be, &view, &[], &mut o.info);
            unless_client_closes(client, be.abortonclose, &mut early, acq).await
        };
        self.buf.extend_from_slice(&early);
        let Some(slot) = slot else {
            return client_gave_up(o, FinState::Queue);
        };
        let slot = match slot {
            Ok(s) => s,
            Err(e) => {
                let fin = if e == ConnectError::QueueTimeout {
                    FinState::Queue
                } else {
                    FinState::Connect
                };
                let term = if e == ConnectError::NoServer {
                    TermCause::Proxy
                } else {
                    TermCause::ServerAbort
                };
                return self.fail(client, o, 503, term, fin).await;
            }
        };
        let own = self
            .own
            .iter()
            .position(|c| Arc::ptr_eq(&c.backend, be) && c.server == slot.server.index)
            .map(|i| self.own.swap_remove(i).stream);
        let pooled = own.or_else(|| {
            pool_use.and_then(|proven_only| {
                slot.server
                    .pool
                    .take(&PoolKey::default(), proven_only)
                    .map(|(s, _)| s)
            })
        });
        let (mut server, mut slot, mut reused) = match pooled {
            Some(s) => (s, slot, true),
            None => {
                let mut early = Vec::new();
                let r = {
                    let view = self.request_view();
                    let dial =
                        connect::dial_retrying(be, &view, self.conn.local, &mut o.info, slot);
                    unless_client_closes(client, be.abortonclose, &mut early, dial).await
                };
                self.buf.extend_from_slice(&early);
                let Some(r) = r else {
                    return client_gave_up(o, FinState::Connect);
                };
                match r {
                    Ok((s, slot)) => (s, slot, false),
                    Err(e) => {
                        let term = if e == ConnectError::Timeout {
                            TermCause::ServerTimeout
                        } else {
                            TermCause::ServerAbort
                        };
                        return self.fail(client, o, 503, term, FinState::Connect).await;
                    }
                }
            }
        };
        o.server = Some(slot.server.clone());

        // With `option http-buffer-request`, the proxy answers `Expect: 100-continue`
        // itself and reads the body before the server sees the request.
        let mut expect = self.request().expect_continue;
        if expect && (self.fe.buffer_request || be.buffer_request) {
            let interim = h1::client::continue_response();
            if write_all(client, interim, self.fe.timeouts.client)
                .await
                .is_err()
            {
                return Some(Next::Close);
            }
            expect = false;
            self.edits.remove.push(b"expect".to_vec());
        }
        // The head, plus the body bytes already received (unless the client waits for 100).
        self.build_request_head(be, mode);
        let head_out_len = self.out.len();
        let mut body = RequestBody::new(&self.head);
        let mut consumed = head_len;
        // A client that sent body bytes with `Expect: 100-continue` does not wait for the
        // interim response: its body is forwarded as it comes, as HAProxy does.
        let expect_wait = expect && self.buf.len() == head_len;
        if !expect_wait {
            let avail = &self.buf[head_len..];
            match body.take(avail, &mut self.out) {
                Ok(t) => {
                    if !t.reframed {
                        self.out.extend_from_slice(&avail[..t.used]);
                    }
                    consumed += t.used;
                }
                Err(_) => {
                    return self
                        .fail(client, o, 400, TermCause::Proxy, FinState::Request)
                        .await;
                }
            }
        }
        let mut body_done = body.is_done();
        o.bytes_in += (consumed - head_len) as u64;
        let st = be.timeouts.server;
        // A reused idle connection may have been closed by the server meanwhile: retry once
        // on a fresh connection while nothing of the response was received.
        let replayable = body_done;
        if write_all(&mut server, &self.out, st).await.is_err() {
            if !reused {
                return self
                    .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                    .await;
            }
            match self.redial(be, o, slot).await {
                Ok((s, sl)) => {
                    server = s;
                    slot = sl;
                    reused = false;
                }
                Err(next) => return next,
            }
            if write_all(&mut server, &self.out, st).await.is_err() {
                return self
                    .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                    .await;
            }
        }
        self.buf.drain(..consumed);
        self.unread = 0;
        self.body_pending = !body_done;
        let t_sent = Instant::now();

        // Expect: 100-continue: the server answers first.
        let mut awaiting_100 = expect_wait && !body_done;
        self.rbuf.clear();
        loop {
            if !awaiting_100 && !body_done {
                // Stream the rest of the request body.
                if let Err(next) = self
                    .stream_request_body(client, &mut server, o, &mut body, be)
                    .await
                {
                    return next;
                }
                body_done = true;
                self.body_pending = false;
            }
            match self.read_response_head(&mut server, be).await {
                Ok(()) => {}
                Err(IoFail::Timeout) => {
                    o.t_response = Some(-1);
                    return self
                        .fail(client, o, 504, TermCause::ServerTimeout, FinState::Headers)
                        .await;
                }
                Err(IoFail::Closed) if reused && self.rbuf.is_empty() && replayable => {
                    match self.redial(be, o, slot).await {
                        Ok((s, sl)) => {
                            server = s;
                            slot = sl;
                            reused = false;
                        }
                        Err(next) => return next,
                    }
                    self.out.truncate(head_out_len.max(self.out.len()));
                    if write_all(&mut server, &self.out, st).await.is_err() {
                        return self
                            .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                            .await;
                    }
                    continue;
                }
                Err(_) => {
                    return self
                        .fail(client, o, 502, TermCause::ServerAbort, FinState::Headers)
                        .await;
                }
            }
            let resp = self.rhead.message(&self.rbuf);
            if resp.is_interim() {
                let status = resp.status;
                let n = self.rhead.head_len;
                if write_all(client, &self.rbuf[..n], self.fe.timeouts.client)
                    .await
                    .is_err()
                {
                    return Some(Next::Close);
                }
                self.rbuf.drain(..n);
                if status == 100 {
                    awaiting_100 = false;
                }
                continue;
            }
            break;
        }
        o.t_response = session::ms(t_sent.elapsed());
        if !body_done {
            // The server answered without asking for the body: the connection to the
            // client cannot be reused.
            o.fin = FinState::None;
        }
        let r = self.respond(client, &mut server, o, be, body_done).await;
        if r.is_some() && self.server_reusable(mode) {
            if be.http_reuse == HttpReuse::Never {
                // Never shared, but kept for this client's next requests.
                if self.own.len() >= MAX_OWN_CONNS {
                    self.own.remove(0);
                }
                self.own.push(OwnConn {
                    backend: be.clone(),
                    server: slot.server.index,
                    stream: server,
                });
            } else {
                // A connection that served its second request or more is "proven".
                slot.server.pool.put(PoolKey::default(), server, reused);
            }
        }
        drop(slot);
        r
    }

    /// The server connection may serve another request: the mode keeps it, the codec
    /// says the response allows it, and nothing is left unread.
    pub(super) fn server_reusable(&self, mode: HttpConnMode) -> bool {
        mode == HttpConnMode::KeepAlive
            && h1::server::server_persists(&self.rhead)
            && self.rbuf.is_empty()
    }

    /// The request as rules, ACLs and balancing see it before the response.
    fn request_view(&self) -> ReqView<'_> {
        ReqView {
            req: self.request(),
            conn: &self.conn,
            status: None,
        }
    }

    pub(super) async fn redial(
        &mut self,
        be: &Arc<Backend>,
        o: &mut Outcome,
        slot: ServerSlot,
    ) -> Result<(ServerConn, ServerSlot), Option<Next>> {
        let view = self.request_view();
        connect::dial_retrying(be, &view, self.conn.local, &mut o.info, slot)
            .await
            .map_err(|_| None)
    }

    /// Streams the rest of the request body from the client to the server, framed by
    /// the server's codec.
    pub(super) async fn stream_request_body<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        server: &mut ServerConn,
        o: &mut Outcome,
        body: &mut RequestBody,
        be: &Backend,
    ) -> Result<(), Option<Next>> {
        let bufsize = self.snap.global.bufsize;
        // HAProxy waits for the rest of the body as it waits for the response: under
        // `timeout server` (504, `sH`), the client timeout only when that one is unset.
        let server_wait = be.timeouts.server;
        loop {
            if self.buf.is_empty() {
                let wait = server_wait.or(self.fe.timeouts.client);
                match read_more(client, &mut self.buf, bufsize, wait).await {
                    Ok(_) => {}
                    Err(IoFail::Timeout) if server_wait.is_some() => {
                        return Err(self
                            .fail(client, o, 504, TermCause::ServerTimeout, FinState::Headers)
                            .await);
                    }
                    Err(e) => {
                        // A client that leaves in the middle of its body is logged `CL`
                        // by HAProxy, with no response.
                        (o.term, o.fin) = if e == IoFail::Timeout {
                            (TermCause::ClientTimeout, FinState::Data)
                        } else {
                            (TermCause::ClientAbort, FinState::Last)
                        };
                        o.status = -1;
                        return Err(Some(Next::Close));
                    }
                }
            }
            self.out.clear();
            let taken = match body.take(&self.buf, &mut self.out) {
                Ok(t) => t,
                Err(_) => {
                    // A malformed chunk arriving later: HAProxy's stream answers 400
                    // (`errorfile` applies) while waiting for the response, `PH--`.
                    return Err(self
                        .fail(client, o, 400, TermCause::Proxy, FinState::Headers)
                        .await);
                }
            };
            let k = taken.used;
            let data = if taken.reframed {
                &self.out[..]
            } else {
                &self.buf[..k]
            };
            if write_all(server, data, be.timeouts.server).await.is_err() {
                return Err(self
                    .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
            o.bytes_in += k as u64;
            self.buf.drain(..k);
            if body.is_done() {
                return Ok(());
            }
        }
    }
}

/// The client closed while its request waited (`option abortonclose`): nothing is sent,
/// and the log says where it gave up (`CQ`, `CC`).
fn client_gave_up(o: &mut Outcome, fin: FinState) -> Option<Next> {
    o.term = TermCause::ClientAbort;
    o.fin = fin;
    o.status = -1;
    Some(Next::Close)
}
