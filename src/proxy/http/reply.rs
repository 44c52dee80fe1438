//! Answers the proxy writes itself: error pages (`errorfile`, `errorfiles`,
//! `http-error`, HAProxy's own), `http-request deny`, `auth`, `return`, `redirect`, and
//! the `return`/`redirect` of `http-response` rules. An `http-error` reply with
//! log-formats is rendered for the request, then the `http-after-response` rules edit
//! the reply, as HAProxy does for its own responses. The replies are protocol-neutral
//! values (`runtime::errors::Page`, `config::model::Reply`); the client's codec encodes
//! them and says whether the connection persists.

use super::after;
use super::exchange::{Exchange, Next, Phase, Session};
use super::rules::Effects;
use super::view::ReqView;
use crate::acl::SampleSource;
use crate::config::model::Reply;
use crate::log::{FinState, TermCause};
use crate::proxy::codec::ClientCodec;
use crate::proxy::h1::client;
use crate::proxy::message::{Method, Request, Span};
use crate::runtime::backend::Backend;
use crate::runtime::errors::{self, Found, Page};
use crate::runtime::frontend::Frontend;
use std::sync::Arc;

impl Session {
    /// Calls `f` with the request as the rules of a local reply see it: the request
    /// head while it was not forwarded yet, else its method alone, as HAProxy keeps it
    /// in the transaction.
    fn with_request<R>(
        &self,
        ex: &Exchange,
        req: Request<'_>,
        f: impl FnOnce(&dyn SampleSource) -> R,
    ) -> R {
        let forwarded = matches!(
            ex.phase,
            Phase::ForwardRequest | Phase::Response | Phase::Log
        );
        let req = if forwarded {
            Request {
                target: Span::new(0, 0),
                headers: &[],
                ..req
            }
        } else {
            req
        };
        let view = ReqView {
            req,
            conn: &self.conn,
            status: None,
            resp: None,
            users: Some(&self.snap.userlists),
            txn: Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name)),
            live: Some(match ex.backend.as_deref() {
                Some(be) => {
                    crate::runtime::live_fetch::StreamLive::forwarded(&self.snap, &self.fe, be)
                }
                None => crate::runtime::live_fetch::StreamLive::new(&self.snap, &self.fe),
            }),
        };
        f(&view)
    }

    /// The reply to send for `found` when it is not the page as found: an `http-error`
    /// reply rendered for the request, or any page the `http-after-response` rules
    /// (`after`) may edit. `None`: send the page as it is.
    fn prepare(
        &self,
        ex: &Exchange,
        req: Request<'_>,
        fe: &Frontend,
        be: Option<&Backend>,
        found: Found<'_>,
        after: Option<&mut Effects>,
    ) -> Option<Reply> {
        let mut reply = match found {
            Found::Format(f) => self.with_request(ex, req, |v| {
                f.render(v, &fe.name, be.map_or(fe.name.as_str(), |b| &b.name))
            }),
            // An empty reply has nothing for the rules to edit.
            Found::Page(_) if after.is_none() => return None,
            Found::Page(Page::Empty) => return None,
            Found::Page(Page::Reply(r)) => r.clone(),
            Found::Page(Page::Builtin(s)) => client::builtin_reply(s)?,
        };
        if let Some(fx) = after {
            self.with_request(ex, req, |v| {
                after::apply_to_reply(fe, be, v, &mut reply, fx)
            });
        }
        Some(reply)
    }

    /// Sends the error page for `status` (the backend's or frontend's custom page, else
    /// HAProxy's), keeping a keep-alive client whose request was fully read when the
    /// codec allows it.
    pub(super) async fn fail<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        status: u16,
        term: TermCause,
        fin: FinState,
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let found = errors::lookup(status, be.as_ref().map(|b| &b.errors), &fe.errors);
        // A request whose head failed (408 while reading it) gets no rules, as the
        // errors of HAProxy's HTTP/1 layer.
        let after =
            status != 408 && ex.t_request.is_some_and(|t| t >= 0) && after::any(&fe, be.as_deref());
        let mut fx = Effects::default();
        let owned = self.prepare(
            ex,
            client.request(),
            &fe,
            be.as_deref(),
            found,
            after.then_some(&mut fx),
        );
        ex.fx.captures.append(&mut fx.captures);
        let page = match (&owned, found) {
            (Some(r), _) => Page::Reply(r),
            (None, Found::Page(p)) => p,
            (None, Found::Format(_)) => Page::Builtin(status),
        };
        let persist = !ex.body_pending && self.persists(client);
        let sent = owned.as_ref().map_or(status, |r| r.status) as i32;
        self.count_response(ex, sent);
        let reply = client
            .write_error(status, page, persist, self.fe.timeouts.client)
            .await;
        ex.status = sent;
        if reply.counted {
            ex.bytes_out += reply.bytes;
        }
        ex.term = term;
        ex.fin = fin;
        if reply.persist && reply.ok {
            client.discard_request();
            return Some(Next::KeepAlive);
        }
        Some(Next::Close)
    }

    /// Phase 5: answers `deny` (or a `monitor-uri` request) with the error page for
    /// `status`; `is_return` logs it as a `return` (`LR`) rather than a `deny` (`PR`).
    pub(super) async fn error_reply<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        status: u16,
        is_return: bool,
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let found = errors::lookup(status, be.as_ref().map(|b| &b.errors), &fe.errors);
        let rendered = match found {
            Found::Format(_) => self.prepare(ex, client.request(), &fe, be.as_deref(), found, None),
            Found::Page(_) => None,
        };
        let page = match (&rendered, found) {
            (Some(r), _) => Page::Reply(r),
            (None, Found::Page(p)) => p,
            (None, Found::Format(_)) => Page::Builtin(status),
        };
        self.local_reply(client, ex, page, status, is_return).await
    }

    /// The error page for `status` as a reply (the backend's or frontend's custom page,
    /// rendered, else HAProxy's); `None` for an empty errorfile.
    pub(super) fn error_page_reply(
        &self,
        ex: &Exchange,
        req: Request<'_>,
        status: u16,
    ) -> Option<Reply> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        match errors::lookup(status, be.as_ref().map(|b| &b.errors), &fe.errors) {
            f @ Found::Format(_) => self.prepare(ex, req, &fe, be.as_deref(), f, None),
            Found::Page(Page::Reply(r)) => Some(r.clone()),
            Found::Page(Page::Empty) => None,
            Found::Page(Page::Builtin(s)) => client::builtin_reply(s),
        }
    }

    /// Phase 5: answers `http-request auth` with the 401 page and `www-authenticate:
    /// Basic realm="REALM"`.
    pub(super) async fn auth_reply<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        realm: &[u8],
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let found = errors::lookup(401, be.as_ref().map(|b| &b.errors), &fe.errors);
        let base = match found {
            Found::Format(_) => self.prepare(ex, client.request(), &fe, be.as_deref(), found, None),
            Found::Page(Page::Reply(r)) => Some(r.clone()),
            Found::Page(Page::Empty) => None,
            Found::Page(Page::Builtin(s)) => client::builtin_reply(s),
        };
        let reply = base.map(|mut r| {
            let mut v = b"Basic realm=\"".to_vec();
            v.extend_from_slice(realm);
            v.push(b'"');
            r.headers.push((b"www-authenticate".to_vec(), v));
            r
        });
        let page = reply.as_ref().map_or(Page::Empty, Page::Reply);
        self.local_reply(client, ex, page, 401, true).await
    }

    /// Phase 5: answers locally (`deny`, `return`: `is_return`) with `page`, keeping
    /// the connection if no body is pending; the request is consumed. The
    /// `http-after-response` rules edit the reply first.
    pub(super) async fn local_reply<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        page: Page<'_>,
        status: u16,
        is_return: bool,
    ) -> Option<Next> {
        ex.phase = Phase::LocalReply;
        ex.local = true;
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let mut status = status;
        let owned = if after::any(&fe, be.as_deref()) {
            let mut fx = Effects::default();
            let r = self.prepare(
                ex,
                client.request(),
                &fe,
                be.as_deref(),
                Found::Page(page),
                Some(&mut fx),
            );
            ex.fx.captures.append(&mut fx.captures);
            r
        } else {
            None
        };
        let page = owned.as_ref().map_or(page, Page::Reply);
        if let Some(r) = &owned {
            status = r.status;
        }
        let persist = !ex.body_pending && self.persists(client);
        // A HEAD request gets the head alone, as from HAProxy.
        let head_only = client.request().method == Method::Head;
        self.count_response(ex, status as i32);
        let reply = client
            .write_reply(page, persist, head_only, self.fe.timeouts.client)
            .await;
        if !reply.ok {
            return Some(Next::Close);
        }
        ex.status = status as i32;
        ex.bytes_out = reply.bytes;
        // HAProxy: `LR--` for `return`, `PR--` for `deny`.
        ex.term = if is_return {
            TermCause::Local
        } else {
            TermCause::Proxy
        };
        ex.fin = FinState::Request;
        client.discard_request();
        Some(if reply.persist {
            Next::KeepAlive
        } else {
            Next::Close
        })
    }

    /// An `http-response return` or `redirect`: the server's response is dropped and
    /// `reply` sent instead (`None`: an empty errorfile, nothing is sent), the
    /// `http-after-response` rules applied. As with HAProxy 2.6, the client connection
    /// stays open when the request was fully read and the client and frontend allow
    /// it (`request_done`); the server connection, its response unread, is not reused.
    pub(super) async fn response_reply<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        reply: Option<Arc<Reply>>,
        request_done: bool,
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let page = reply.as_deref().map_or(Page::Empty, Page::Reply);
        let owned = if after::any(&fe, be.as_deref()) {
            let mut fx = Effects::default();
            let r = self.prepare(
                ex,
                client.request(),
                &fe,
                be.as_deref(),
                Found::Page(page),
                Some(&mut fx),
            );
            ex.fx.captures.append(&mut fx.captures);
            r
        } else {
            None
        };
        let page = owned.as_ref().map_or(page, Page::Reply);
        let persist = request_done
            && !matches!(page, Page::Empty)
            && self.fe.conn_mode != crate::config::model::HttpConnMode::Close
            && self.persists(client);
        let head_only = client.request().method == Method::Head;
        if let Some(r) = owned.as_ref().or(reply.as_deref()) {
            ex.status = i32::from(r.status);
        }
        self.count_response(ex, ex.status);
        let out = client
            .write_reply(page, persist, head_only, self.fe.timeouts.client)
            .await;
        // Added to the server's response as received (HAProxy's `LH`).
        ex.bytes_out += out.bytes;
        (ex.term, ex.fin) = (TermCause::Local, FinState::Headers);
        Some(if out.ok && out.persist {
            Next::KeepAlive
        } else {
            Next::Close
        })
    }
}
