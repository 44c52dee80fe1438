//! Answers the proxy writes itself: error pages, `http-request deny` and `return`. The
//! replies are protocol-neutral values (`runtime::errors::Page`, `config::model::Reply`);
//! the client's codec encodes them and says whether the connection persists.

use super::exchange::{Exchange, Next, Phase, Session};
use crate::config::model::Reply;
use crate::log::{FinState, TermCause};
use crate::proxy::codec::ClientCodec;
use crate::proxy::h1::client;
use crate::runtime::errors::{self, Page};

impl Session {
    /// Sends the error page for `status` (the backend's or frontend's `errorfile`, else
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
        let be_errors = ex.backend.as_ref().map(|b| &b.errors);
        let page = errors::page(status, be_errors, &self.fe.errors);
        let persist = !ex.body_pending && self.persists(client);
        let reply = client
            .write_error(status, page, persist, self.fe.timeouts.client)
            .await;
        ex.status = status as i32;
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

    /// Phase 5: answers locally (`deny`, `return`: `is_return`) with `page`, keeping
    /// the connection if no body is pending; the request is consumed.
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
        let persist = !ex.body_pending && self.persists(client);
        // A HEAD request gets the head alone, as from HAProxy.
        let head_only = client.request().method == crate::proxy::message::Method::Head;
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
}

/// The reply of `http-request auth`: the 401 page (an `errorfile` or HAProxy's) with
/// `www-authenticate: Basic realm="REALM"` after its headers; `None` for an empty
/// errorfile.
pub(super) fn auth_reply(page: Page<'_>, realm: &[u8]) -> Option<Reply> {
    let mut reply = match page {
        Page::Reply(r) => r.clone(),
        Page::Empty => return None,
        Page::Builtin(s) => client::builtin_reply(s)?,
    };
    let mut v = b"Basic realm=\"".to_vec();
    v.extend_from_slice(realm);
    v.push(b'"');
    reply.headers.push((b"www-authenticate".to_vec(), v));
    Some(reply)
}
