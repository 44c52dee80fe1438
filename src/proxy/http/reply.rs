//! Answers the proxy writes itself: error pages (`errorfile`, `errorfiles`,
//! `http-error`, HAProxy's own), `http-request deny`, `auth`, `return`, `redirect`, and
//! the `return`/`redirect` of `http-response` rules. An `http-error` reply with
//! log-formats is rendered for the request, then the `http-after-response` rules edit
//! the reply, as HAProxy does for its own responses. The replies are protocol-neutral
//! values (`runtime::errors::Page`, `config::model::Reply`); the client's codec encodes
//! them and says whether the connection persists.

use super::after;
use super::exchange::{Exchange, Next, Session};
use super::io::write_all;
use super::rules::Effects;
use super::view::ReqView;
use crate::acl::SampleSource;
use crate::config::model::Reply;
use crate::log::{FinState, TermCause};
use crate::proxy::h1::{RequestHead, client};
use crate::runtime::backend::Backend;
use crate::runtime::errors::{self, Found, Page};
use crate::runtime::frontend::Frontend;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

impl Session {
    /// Calls `f` with the request as the rules of a local reply see it: the parsed head
    /// while it is still in the buffer, else (the request was forwarded) its method
    /// alone, as HAProxy keeps it in the transaction.
    fn with_request<R>(&self, ex: &Exchange, f: impl FnOnce(&dyn SampleSource) -> R) -> R {
        let mut gone = RequestHead::default();
        let method = ex.reqline.split(|c| *c == b' ').next().unwrap_or_default();
        gone.method = ex.head.method;
        gone.method_span = crate::proxy::message::Span::new(0, method.len());
        let req = if ex.unread > 0 {
            ex.head.message(&self.buf)
        } else {
            gone.message(method)
        };
        let view = ReqView {
            req,
            conn: &self.conn,
            status: None,
            resp: None,
            users: Some(&self.snap.userlists),
            txn: Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name)),
        };
        f(&view)
    }

    /// The reply to send for `found` when it is not the page as found: an `http-error`
    /// reply rendered for the request, or any page the `http-after-response` rules
    /// (`after`) may edit. `None`: send the page as it is.
    fn prepare(
        &self,
        ex: &Exchange,
        fe: &Frontend,
        be: Option<&Backend>,
        found: Found<'_>,
        after: Option<&mut Effects>,
    ) -> Option<Reply> {
        let mut reply = match found {
            Found::Format(f) => self.with_request(ex, |v| {
                f.render(v, &fe.name, be.map_or(fe.name.as_str(), |b| &b.name))
            }),
            // An empty reply has nothing for the rules to edit.
            Found::Page(_) if after.is_none() => return None,
            Found::Page(Page::Empty) => return None,
            Found::Page(Page::Reply(r)) => r.clone(),
            Found::Page(Page::Builtin(s)) => client::builtin_reply(s)?,
        };
        if let Some(fx) = after {
            self.with_request(ex, |v| after::apply_to_reply(fe, be, v, &mut reply, fx));
        }
        Some(reply)
    }

    /// Sends the error page for `status` (the backend's or frontend's custom page, else
    /// HAProxy's), keeping a keep-alive client whose request was fully read when the
    /// codec allows it.
    pub(super) async fn fail<S: AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
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
        let owned = self.prepare(ex, &fe, be.as_deref(), found, after.then_some(&mut fx));
        ex.fx.captures.append(&mut fx.captures);
        let page = match (&owned, found) {
            (Some(r), _) => Page::Reply(r),
            (None, Found::Page(p)) => p,
            (None, Found::Format(_)) => Page::Builtin(status),
        };
        let persist = !ex.body_pending && self.persists(ex);
        let reply = client::error_page(status, page, persist);
        let ok = write_all(client, &reply.bytes, self.fe.timeouts.client)
            .await
            .is_ok();
        ex.status = owned.as_ref().map_or(status, |r| r.status) as i32;
        if reply.counted {
            ex.bytes_out += reply.bytes.len() as u64;
        }
        ex.term = term;
        ex.fin = fin;
        if reply.persist && ok {
            let n = ex.unread.min(self.buf.len());
            self.buf.drain(..n);
            ex.unread = 0;
            return Some(Next::KeepAlive);
        }
        Some(Next::Close)
    }

    /// Phase 5: answers `deny` (or a `monitor-uri` request) with the error page for
    /// `status`; `is_return` logs it as a `return` (`LR`) rather than a `deny` (`PR`).
    pub(super) async fn error_reply<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        head_len: usize,
        status: u16,
        is_return: bool,
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let found = errors::lookup(status, be.as_ref().map(|b| &b.errors), &fe.errors);
        let rendered = match found {
            Found::Format(_) => self.prepare(ex, &fe, be.as_deref(), found, None),
            Found::Page(_) => None,
        };
        let page = match (&rendered, found) {
            (Some(r), _) => Page::Reply(r),
            (None, Found::Page(p)) => p,
            (None, Found::Format(_)) => Page::Builtin(status),
        };
        self.local_reply(client, ex, head_len, page, status, is_return)
            .await
    }

    /// The error page for `status` as a reply (the backend's or frontend's custom page,
    /// rendered, else HAProxy's); `None` for an empty errorfile.
    pub(super) fn error_page_reply(&self, ex: &Exchange, status: u16) -> Option<Reply> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        match errors::lookup(status, be.as_ref().map(|b| &b.errors), &fe.errors) {
            f @ Found::Format(_) => self.prepare(ex, &fe, be.as_deref(), f, None),
            Found::Page(Page::Reply(r)) => Some(r.clone()),
            Found::Page(Page::Empty) => None,
            Found::Page(Page::Builtin(s)) => client::builtin_reply(s),
        }
    }

    /// Phase 5: answers `http-request auth` with the 401 page and `www-authenticate:
    /// Basic realm="REALM"`.
    pub(super) async fn auth_reply<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        head_len: usize,
        realm: &[u8],
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let found = errors::lookup(401, be.as_ref().map(|b| &b.errors), &fe.errors);
        let base = match found {
            Found::Format(_) => self.prepare(ex, &fe, be.as_deref(), found, None),
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
        self.local_reply(client, ex, head_len, page, 401, true)
            .await
    }

    /// Phase 5: answers locally (`deny`, `return`: `is_return`) with `page`, keeping
    /// the connection if no body is pending; the request head (`head_len` bytes) is
    /// consumed. The `http-after-response` rules edit the reply first.
    pub(super) async fn local_reply<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        head_len: usize,
        page: Page<'_>,
        status: u16,
        is_return: bool,
    ) -> Option<Next> {
        ex.local = true;
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let mut status = status;
        let owned = if after::any(&fe, be.as_deref()) {
            let mut fx = Effects::default();
            let r = self.prepare(ex, &fe, be.as_deref(), Found::Page(page), Some(&mut fx));
            ex.fx.captures.append(&mut fx.captures);
            r
        } else {
            None
        };
        let page = owned.as_ref().map_or(page, Page::Reply);
        if let Some(r) = &owned {
            status = r.status;
        }
        let persist = !ex.body_pending && self.persists(ex);
        let mut reply = client::local_reply(page, persist);
        // A HEAD request gets the head alone, as from HAProxy.
        if ex.head.message(&self.buf).method == crate::proxy::message::Method::Head {
            reply = client::head_only(reply);
        }
        if write_all(client, &reply.bytes, self.fe.timeouts.client)
            .await
            .is_err()
        {
            return Some(Next::Close);
        }
        ex.status = status as i32;
        ex.bytes_out = reply.bytes.len() as u64;
        // HAProxy: `LR--` for `return`, `PR--` for `deny`.
        ex.term = if is_return {
            TermCause::Local
        } else {
            TermCause::Proxy
        };
        ex.fin = FinState::Request;
        self.buf.drain(..head_len);
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
    pub(super) async fn response_reply<S: AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        reply: Option<Arc<Reply>>,
        request_done: bool,
    ) -> Option<Next> {
        let fe = self.fe.clone();
        let be = ex.backend.clone();
        let page = reply.as_deref().map_or(Page::Empty, Page::Reply);
        let owned = if after::any(&fe, be.as_deref()) {
            let mut fx = Effects::default();
            let r = self.prepare(ex, &fe, be.as_deref(), Found::Page(page), Some(&mut fx));
            ex.fx.captures.append(&mut fx.captures);
            r
        } else {
            None
        };
        let page = owned.as_ref().map_or(page, Page::Reply);
        let persist = request_done
            && !matches!(page, Page::Empty)
            && self.fe.conn_mode != crate::config::model::HttpConnMode::Close
            && self.persists(ex);
        let mut out = client::local_reply(page, persist);
        if ex.head.message(&self.buf).method == crate::proxy::message::Method::Head {
            out = client::head_only(out);
        }
        let ok = write_all(client, &out.bytes, self.fe.timeouts.client)
            .await
            .is_ok();
        if let Some(r) = owned.as_ref().or(reply.as_deref()) {
            ex.status = i32::from(r.status);
        }
        ex.bytes_out = out.bytes.len() as u64;
        Some(if ok && out.persist {
            Next::KeepAlive
        } else {
            Next::Close
        })
    }
}
