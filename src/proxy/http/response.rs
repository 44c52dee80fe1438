//! Phase 10 of the chart, the response side: the rest of the request body streamed
//! while the server may answer, the response head read (`timeout server`; the retry
//! edge of a reused connection the server had closed), interim responses passed on,
//! `http-response` rules, then the response forwarded (or a tunnel).

use super::exchange::{Exchange, Next, Session};
use super::forward::Sent;
use super::io::{IoFail, read_more, write_all, write_all_pair};
use super::rules::{self, Verdict};
use super::upstream::Upstream;
use super::view::ReqView;
use crate::config::model::HttpConnMode;
use crate::log::{FinState, TermCause};
use crate::proxy::h1::{self, client::ResponseBody};
use crate::proxy::tunnel::{self, TunnelTimeouts};
use crate::runtime::backend::Backend;
use crate::runtime::conn::ServerConn;
use crate::runtime::errors::Page;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// How forwarding the response ended.
pub(super) struct Responded {
    /// What happens to the client connection (`None`: close without logging).
    pub(super) next: Option<Next>,
    /// The server connection read the response through; it may be reused if the codec
    /// and the mode allow.
    pub(super) server_clean: bool,
}

impl Responded {
    /// The exchange ended at `next`, the server connection as the response left it.
    fn clean(next: Option<Next>) -> Self {
        Responded {
            next,
            server_clean: true,
        }
    }

    /// The exchange ended mid-response: close both sides.
    fn broken() -> Self {
        Responded {
            next: Some(Next::Close),
            server_clean: false,
        }
    }
}

impl Session {
    /// Waits for the final response head: streams the rest of the request body (once the
    /// client may send it), passes interim responses on, and replaces a reused connection
    /// the server had closed while the request can be replayed. `Err`: the exchange
    /// ended.
    pub(super) async fn await_response<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        mut up: Upstream,
        sent: &mut Sent,
    ) -> Result<Upstream, Option<Next>> {
        let st = be.timeouts.server;
        self.rbuf.clear();
        loop {
            if !sent.awaiting_100 && !sent.body.is_done() {
                self.stream_request_body(client, &mut up.conn, ex, &mut sent.body, be)
                    .await?;
                ex.body_pending = false;
            }
            match self.read_response_head(ex, &mut up.conn, be).await {
                Ok(()) => {}
                Err(IoFail::Timeout) => {
                    ex.t_response = Some(-1);
                    return Err(self
                        .fail(client, ex, 504, TermCause::ServerTimeout, FinState::Headers)
                        .await);
                }
                Err(IoFail::Closed) if up.reused && self.rbuf.is_empty() && sent.replayable => {
                    up = self.redial(be, ex, up).await?;
                    if write_all(&mut up.conn, &self.out, st).await.is_err() {
                        return Err(self
                            .fail(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                            .await);
                    }
                    continue;
                }
                Err(_) => {
                    return Err(self
                        .fail(client, ex, 502, TermCause::ServerAbort, FinState::Headers)
                        .await);
                }
            }
            let resp = ex.rhead.message(&self.rbuf);
            if !resp.is_interim() {
                return Ok(up);
            }
            let status = resp.status;
            let n = ex.rhead.head_len;
            if write_all(client, &self.rbuf[..n], self.fe.timeouts.client)
                .await
                .is_err()
            {
                return Err(Some(Next::Close));
            }
            self.rbuf.drain(..n);
            if status == 100 {
                sent.awaiting_100 = false;
            }
        }
    }

    /// Reads the response head into `rhead` (`timeout server`).
    pub(super) async fn read_response_head(
        &mut self,
        ex: &mut Exchange,
        server: &mut ServerConn,
        be: &Backend,
    ) -> Result<(), IoFail> {
        let bufsize = self.snap.global.bufsize;
        loop {
            if !self.rbuf.is_empty() {
                match h1::server::read_response(&mut ex.rhead, &self.rbuf, &self.limits, &ex.head) {
                    Ok(Some(_)) => return Ok(()),
                    Ok(None) => {}
                    Err(_) => return Err(IoFail::Error),
                }
            }
            read_more(server, &mut self.rbuf, bufsize, be.timeouts.server).await?;
        }
    }

    /// Applies the `http-response` rules, then forwards the response head and body to
    /// the client (or joins both sides in a tunnel).
    pub(super) async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        server: &mut ServerConn,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        request_done: bool,
    ) -> Responded {
        let status = ex.rhead.message(&self.rbuf).status;
        ex.status = status as i32;
        // Response rules (frontend, then backend).
        ex.redits.clear();
        ex.txn.end_request();
        if !self.fe.capture_res.is_empty() {
            let r = ex.rhead.message(&self.rbuf);
            let fields = r
                .headers
                .iter()
                .map(|h| (h.name.get(r.buf), h.value.get(r.buf)));
            super::txn::capture(&self.fe.capture_res, fields, &mut ex.cap_res);
        }
        let verdict = {
            let view = ReqView {
                req: ex.head.message(&self.buf),
                conn: &self.conn,
                status: Some(status),
                resp: Some(ex.rhead.message(&self.rbuf)),
                users: Some(&self.snap.userlists),
                txn: Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name)),
            };
            let mut v = Verdict::Continue;
            if !self.fe.http_response.is_empty() {
                v = rules::apply(&self.fe.http_response, &view, &mut ex.redits);
            }
            if matches!(v, Verdict::Continue) && !be.http_response.is_empty() {
                v = rules::apply(&be.http_response, &view, &mut ex.redits);
            }
            v
        };
        match verdict {
            Verdict::Continue | Verdict::Auth(_) | Verdict::Tarpit(_) | Verdict::Prometheus => {}
            Verdict::Deny(_) => {
                self.rbuf.clear();
                return Responded::clean(
                    self.fail(client, ex, 502, TermCause::Proxy, FinState::Headers)
                        .await,
                );
            }
            Verdict::Return(reply) => {
                let page = reply.as_deref().map_or(Page::Empty, Page::Reply);
                let reply = h1::client::local_reply(page, true);
                let _ = write_all(client, &reply.bytes, self.fe.timeouts.client).await;
                self.rbuf.clear();
                return Responded::clean(Some(Next::Close));
            }
        }
        let tunnel = ex.rhead.message(&self.rbuf).tunnel;
        // The client side follows the frontend's mode only: a backend's `option
        // httpclose` closes the server side (HAProxy 2.6's H1 client/server modes).
        let allowed = self.fe.conn_mode != HttpConnMode::Close && request_done;
        let client_keep = h1::client::client_persists(&ex.head, &ex.rhead, allowed);
        self.out.clear();
        h1::client::write_response(
            &ex.head,
            &ex.rhead,
            &self.rbuf,
            client_keep,
            &ex.redits,
            &mut self.out,
        );
        let head_len = ex.rhead.head_len;
        let ct = self.fe.timeouts.client;
        let st = be.timeouts.server;
        if tunnel {
            self.out.extend_from_slice(&self.rbuf[head_len..]);
            self.rbuf.clear();
            if write_all(client, &self.out, ct).await.is_err() {
                return Responded::clean(Some(Next::Close));
            }
            if !self.buf.is_empty() {
                let pending = std::mem::take(&mut self.buf);
                if write_all(server, &pending, st).await.is_err() {
                    return Responded::clean(Some(Next::Close));
                }
            }
            let tt = be.timeouts.tunnel;
            let t = TunnelTimeouts {
                client: tt.or(ct),
                server: tt.or(st),
                client_fin: self.fe.timeouts.client_fin,
                server_fin: be.timeouts.server_fin,
            };
            let (mut cr, mut cw) = tokio::io::split(client);
            let (mut sr, mut sw) = tokio::io::split(server);
            let res = tunnel::run(
                &mut cr,
                &mut cw,
                &mut sr,
                &mut sw,
                t,
                self.snap.global.bufsize,
            )
            .await;
            ex.bytes_out += res.down;
            ex.bytes_in += res.up;
            return Responded::clean(Some(Next::Close));
        }
        let mut body = ResponseBody::new(&ex.rhead);
        let avail = &self.rbuf[head_len..];
        let k = match body.take(avail) {
            Ok(k) => k,
            Err(_) => {
                self.rbuf.clear();
                return Responded::clean(
                    self.fail(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                        .await,
                );
            }
        };
        let mut done = body.is_done();
        let hl = self.out.len();
        let sent = write_all_pair(client, &self.out, &avail[..k], ct).await;
        self.rbuf.drain(..head_len + k);
        if sent.is_err() {
            ex.term = TermCause::ClientAbort;
            ex.fin = FinState::Data;
            return Responded::broken();
        }
        ex.bytes_out += (hl + k) as u64;
        let bufsize = self.snap.global.bufsize;
        while !done {
            // `rbuf` is empty here unless a pipelined surplus arrived (then not reusable).
            let mut tmp = std::mem::take(&mut self.rbuf);
            tmp.clear();
            let r = read_more(server, &mut tmp, bufsize, st).await;
            match r {
                Ok(_) => {}
                Err(IoFail::Closed) if body.ends_at_close() => {
                    self.rbuf = tmp;
                    self.rbuf.clear();
                    break;
                }
                Err(e) => {
                    ex.term = if e == IoFail::Timeout {
                        TermCause::ServerTimeout
                    } else {
                        TermCause::ServerAbort
                    };
                    ex.fin = FinState::Data;
                    self.rbuf = tmp;
                    return Responded::broken();
                }
            }
            let k = match body.take(&tmp) {
                Ok(k) => k,
                Err(_) => {
                    ex.term = TermCause::ServerAbort;
                    ex.fin = FinState::Data;
                    self.rbuf = tmp;
                    return Responded::broken();
                }
            };
            done = body.is_done();
            if write_all(client, &tmp[..k], ct).await.is_err() {
                ex.term = TermCause::ClientAbort;
                ex.fin = FinState::Data;
                self.rbuf = tmp;
                return Responded::broken();
            }
            ex.bytes_out += k as u64;
            tmp.drain(..k);
            self.rbuf = tmp;
        }
        Responded::clean(Some(if client_keep {
            Next::KeepAlive
        } else {
            Next::Close
        }))
    }
}
