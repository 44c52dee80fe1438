//! Phase 10 of the chart, the response side: the rest of the request body streamed
//! while the server may answer, the response head read (`timeout server`; the retry
//! edge of a reused connection the server had closed), interim responses passed on,
//! `http-response` rules, then the response forwarded (or a tunnel).

use super::body_wait::{HeldBody, ResWaitEnd};
use super::cold::cold;
use super::exchange::{Exchange, Next, Session};
use super::forward::Sent;
use super::io::{IoFail, write_all};
use super::rules::{self, Verdict};
use super::server_side::ServerSide;
use super::upstream::Upstream;
use super::view::ReqView;
use crate::config::model::HttpConnMode;
use crate::log::{FinState, TermCause};
use crate::proxy::codec::{BodyFail, ClientCodec, ServerCodec};
use crate::proxy::message::Frames;
use crate::proxy::tunnel::{self, TunnelTimeouts};
use crate::runtime::backend::Backend;
use std::sync::Arc;

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
    pub(super) async fn await_response<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        up: &mut Upstream,
        sent: &mut Sent,
    ) -> Result<(), Option<Next>> {
        let st = ex.fx.server_timeout.or(be.timeouts.server);
        loop {
            if !sent.awaiting_100 && !client.body_done() {
                cold(self.stream_request_body(client, &mut up.codec, ex, be)).await?;
                ex.body_pending = false;
            }
            let head = if sent.awaiting_100 && !client.body_done() {
                match cold(self.await_head_or_body(client, ex, be, up)).await? {
                    Some(head) => head,
                    None => {
                        // The client sent its body without the interim response (curl
                        // does after 1 s): HAProxy forwards it as it comes.
                        sent.awaiting_100 = false;
                        continue;
                    }
                }
            } else {
                up.codec.read_response(&client.request(), st).await
            };
            observe_head(up, &head, || up.codec.response().status);
            match head {
                Ok(()) => {}
                Err(IoFail::Timeout) => {
                    ex.t_response = Some(-1);
                    return Err(self
                        .fail_cold(client, ex, 504, TermCause::ServerTimeout, FinState::Headers)
                        .await);
                }
                Err(IoFail::Closed)
                    if up.reused && up.codec.received_nothing() && sent.replayable =>
                {
                    cold(self.redial(client, be, ex, up)).await?;
                    if up.codec.send_pending(st).await.is_err() {
                        return Err(self
                            .fail_cold(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                            .await);
                    }
                    continue;
                }
                Err(_) => {
                    return Err(self
                        .fail_cold(client, ex, 502, TermCause::ServerAbort, FinState::Headers)
                        .await);
                }
            }
            let resp = up.codec.response();
            if !resp.is_interim() {
                return Ok(());
            }
            let status = resp.status;
            if cold(client.write_interim(&resp, self.fe.timeouts.client))
                .await
                .is_err()
            {
                return Err(Some(Next::Close));
            }
            // HAProxy counts interim heads in `bout` too, and each in the server's
            // `req_tot` and `hrsp_1xx`.
            ex.bytes_out += resp.htx_size();
            crate::proxy::session::account_interim(ex.server.as_deref(), status);
            if status == 100 {
                sent.awaiting_100 = false;
            }
        }
    }

    /// Applies the `http-response` rules, then forwards the response head and body to
    /// the client (or joins both sides in a tunnel).
    pub(super) async fn respond<C: ClientCodec>(
        &mut self,
        client: &mut C,
        server: &mut ServerSide,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        request_done: bool,
    ) -> Responded {
        let status = server.response().status;
        ex.status = status as i32;
        ex.srv_status = status;
        // HAProxy counts the response as it came from the server (its HTX size).
        let head_size = server.response().htx_size();
        // Response rules (frontend, then backend).
        ex.redits.clear();
        ex.txn.end_request();
        if !self.fe.capture_res.is_empty() {
            let r = server.response();
            let fields = r
                .headers
                .iter()
                .map(|h| (h.name.get(r.buf), h.value.get(r.buf)));
            super::txn::capture(&self.fe.capture_res, fields, &mut ex.cap_res);
        }
        // Where the rules go on after `wait-for-body`: (the frontend's, rule index).
        let mut from = (false, 0);
        let verdict = loop {
            let view = ReqView {
                req: client.request(),
                conn: &self.conn,
                status: Some(status),
                resp: Some(server.response()),
                users: Some(&self.snap.userlists),
                txn: Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name)),
                live: Some(
                    crate::runtime::live_fetch::StreamLive::forwarded(&self.snap, &self.fe, be)
                        .tracking(self.conn.stick.as_deref(), Some(&ex.trk)),
                ),
            };
            if let (Some(srv), (false, 0)) = (&ex.server, from) {
                crate::proxy::stick::record(be, &view, &mut ex.stick, srv);
            }
            // The backend's rules first, then the frontend's, as HAProxy's
            // `http_process_res_common()`.
            let mut v = Verdict::Continue;
            let mut in_fe = from.0;
            if !from.0 && !be.http_response.is_empty() {
                v = rules::apply_after(
                    &be.http_response,
                    from.1,
                    &view,
                    &mut ex.redits,
                    &mut ex.fx,
                );
            }
            if matches!(v, Verdict::Continue) && !self.fe.http_response.is_empty() {
                let first = if from.0 { from.1 } else { 0 };
                in_fe = true;
                v = rules::apply_after(
                    &self.fe.http_response,
                    first,
                    &view,
                    &mut ex.redits,
                    &mut ex.fx,
                );
            }
            let Verdict::WaitBody(w) = v else { break v };
            // `http-response wait-for-body`: hold the body, then the next rule.
            from = (in_fe, w.resume.index());
            let st = ex.fx.server_timeout.or(be.timeouts.server);
            let held = &mut ex.txn.res_body;
            if let Err(end) = cold(self.wait_for_response_body(server, held, &w, st)).await {
                ex.bytes_out += head_size + ex.txn.res_body.frames().htx_size();
                let (status, term) = match end {
                    ResWaitEnd::Time => (504, TermCause::ServerTimeout),
                    ResWaitEnd::Invalid => (502, TermCause::Proxy),
                };
                return Responded::clean(
                    cold(self.fail(client, ex, status, term, FinState::Request)).await,
                );
            }
        };
        match verdict {
            Verdict::Continue
            | Verdict::Auth(_)
            | Verdict::Tarpit(_)
            | Verdict::Prometheus
            | Verdict::WaitBody(_) => {}
            Verdict::Deny(_) => {
                ex.bytes_out += received(server, &ex.txn.res_body, head_size);
                return Responded::clean(
                    self.fail_cold(client, ex, 502, TermCause::Proxy, FinState::Headers)
                        .await,
                );
            }
            Verdict::ErrorPage(status) => {
                ex.bytes_out += received(server, &ex.txn.res_body, head_size);
                let reply = self
                    .error_page_reply(ex, client.request(), status)
                    .map(Arc::new);
                return Responded {
                    next: cold(self.response_reply(client, ex, reply, request_done)).await,
                    server_clean: false,
                };
            }
            Verdict::Return(reply) => {
                ex.bytes_out += received(server, &ex.txn.res_body, head_size);
                return Responded {
                    next: cold(self.response_reply(client, ex, reply, request_done)).await,
                    server_clean: false,
                };
            }
        }
        // A session refreshed on the way in goes back resealed.
        if let Ok(mut a) = ex.txn.auth.lock()
            && let Some(v) = a.set_cookie.take()
        {
            ex.redits.add.push((b"set-cookie".to_vec(), v));
        }
        if be.cookie.is_some()
            && let Some(srv) = ex.server.clone()
        {
            let resp = server.response();
            let ctx = super::persist_cookie::ResponseCtx {
                be,
                server: &srv,
                method: client.request().method,
                status,
                direct: ex.info.direct,
            };
            let fields = resp
                .headers
                .iter()
                .map(move |h| (h.name.get(resp.buf), h.value.get(resp.buf)));
            super::persist_cookie::on_response(&ctx, fields, &mut ex.redits, &mut ex.cookie);
        }
        super::after::on_response(self, ex, be, status, client.request(), server.response());
        let ct = self.fe.timeouts.client;
        let st = ex.fx.server_timeout.or(be.timeouts.server);
        // The client side follows the frontend's mode only: a backend's `option
        // httpclose` closes the server side (HAProxy 2.6's H1 client/server modes).
        // A soft stop closes it after this response (docs/reload.md).
        // A server that answered before the body came (`Expect: 100-continue` with no
        // `100 Continue`): HAProxy keeps the HTTP/1 client connection and forwards the
        // body to the server as it still comes, after the response.
        // One that answered in full and then asked for no more of the body (HTTP/2's
        // RST_STREAM NO_ERROR) gets none: the client connection closes after the
        // response, as HAProxy closes it.
        let cut = server.request_cut();
        let late_body = !request_done && !cut && client.request().version.major == 1;
        let allowed = self.fe.conn_mode != HttpConnMode::Close
            && (request_done || late_body)
            && !crate::proxy::running::stopping();
        if server.response().tunnel {
            let keep = client.keeps_after(&server.response(), allowed);
            let none = Frames::default();
            self.count_response(ex, ex.status);
            if client
                .write_response(&server.response(), &ex.redits, keep, &none, ct)
                .await
                .is_err()
            {
                return Responded::clean(Some(Next::Close));
            }
            ex.bytes_out += head_size;
            // Boxed: tunnels are rare and their future is large.
            return Responded::clean(Some(cold(self.tunnel(client, server, ex, be)).await));
        }
        let (resp, first) = match server.head_and_body() {
            Ok(r) => r,
            Err(_) => {
                return Responded::clean(
                    self.fail_cold(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                        .await,
                );
            }
        };
        self.count_response(ex, ex.status);
        // A body held by `wait-for-body` goes first, with what the codec had beyond it.
        let first = if ex.txn.res_body.is_held() {
            ex.txn.res_body.take(&first);
            ex.txn.res_body.frames()
        } else {
            first
        };
        let client_keep = client.keeps_after(&resp, allowed);
        let mut done = first.end;
        match client
            .write_response(&resp, &ex.redits, client_keep, &first, ct)
            .await
        {
            Ok(_) => ex.bytes_out += head_size + first.htx_size(),
            Err(_) => {
                ex.term = TermCause::ClientAbort;
                ex.fin = FinState::Data;
                return Responded::broken();
            }
        }
        self.log_asap(ex);
        while !done {
            let frames = match server.read_body(st).await {
                Ok(f) => f,
                Err(e) => {
                    ex.term = if e == BodyFail::Io(IoFail::Timeout) {
                        TermCause::ServerTimeout
                    } else {
                        TermCause::ServerAbort
                    };
                    ex.fin = FinState::Data;
                    return Responded::broken();
                }
            };
            done = frames.end;
            match client.write_body(&frames, ct).await {
                Ok(_) => ex.bytes_out += frames.htx_size(),
                Err(_) => {
                    ex.term = TermCause::ClientAbort;
                    ex.fin = FinState::Data;
                    return Responded::broken();
                }
            }
        }
        let next = Some(if client_keep {
            Next::KeepAlive
        } else {
            Next::Close
        });
        if !request_done && !cut {
            // The server connection is in step again only once the body went out.
            let in_step = late_body && self.forward_late_body(client, server, ex, be).await;
            if !in_step {
                return Responded::broken();
            }
        }
        Responded::clean(next)
    }

    /// After a switch of protocols or a successful CONNECT: both sides' bytes already
    /// read go across, then both directions are forwarded as they are until either
    /// side ends. The client connection closes afterwards.
    async fn tunnel<C: ClientCodec>(
        &mut self,
        client: &mut C,
        server: &mut ServerSide,
        ex: &mut Exchange,
        be: &Backend,
    ) -> Next {
        let ct = self.fe.timeouts.client;
        let st = ex.fx.server_timeout.or(be.timeouts.server);
        let (cio, pending_up) = client.tunnel();
        let Some((mut sio, pending_down)) = server.tunnel() else {
            return Next::Close;
        };
        let sio = &mut sio;
        if !pending_down.is_empty() && write_all(cio, &pending_down, ct).await.is_err() {
            return Next::Close;
        }
        if !pending_up.is_empty() && write_all(sio, &pending_up, st).await.is_err() {
            return Next::Close;
        }
        let tt = ex.fx.tunnel_timeout.or(be.timeouts.tunnel);
        let t = TunnelTimeouts {
            client: tt.or(ct),
            server: tt.or(st),
            client_fin: self.fe.timeouts.client_fin,
            server_fin: be.timeouts.server_fin,
        };
        let res = tunnel::run(cio, sio, t, self.snap.global.bufsize).await;
        // HAProxy counts a tunnel's bytes as they are, those read with the heads too.
        ex.bytes_out += res.down + pending_down.len() as u64;
        ex.bytes_in += res.up + pending_up.len() as u64;
        Next::Close
    }
}

/// What HAProxy 2.6 counted of a response its `http-response` rules replaced (`deny`,
/// `return`): the head as received (`head_size`, its HTX size) and the body bytes
/// received with it (or held by `wait-for-body`), which the reply does not forward.
fn received(server: &mut ServerSide, held: &HeldBody, head_size: u64) -> u64 {
    let rest = server.head_and_body().map_or(0, |(_, f)| f.htx_size());
    head_size + held.frames().htx_size() + rest
}

/// Passive checks' hook (`observe layer7`): the final status, or how reading the head
/// failed. A reused connection the server closed before answering is replaced, not
/// counted.
fn observe_head(up: &Upstream, head: &Result<(), IoFail>, status: impl FnOnce() -> u16) {
    use crate::check::passive::{Seen, responded};
    if up.server().observe.is_none() {
        return;
    }
    responded(
        up.server(),
        match head {
            Ok(()) => match status() {
                s if (100..200).contains(&s) => return,
                s => Ok(s),
            },
            Err(IoFail::Timeout) => Err(Seen::ReadTimeout),
            Err(IoFail::Closed) if up.reused => return,
            Err(IoFail::Closed) => Err(Seen::BrokenPipe),
            Err(IoFail::Error) => Err(Seen::HttpRsp),
        },
    );
}
