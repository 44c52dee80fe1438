//! `http-after-response` rules: applied to every response at the end of its analysis,
//! the server's (after the `http-response` rules) and the proxy's own (error pages,
//! `deny`, `return`, `redirect`, `auth`), the backend's rules first, then the
//! frontend's when it is another proxy, as HAProxy 2.6 does
//! (`http_eval_after_res_rules()`). `allow` stops the rules of its section only. Errors
//! the codec answers while reading a request head (400, 408) get none, as in HAProxy.

use super::exchange::{Exchange, Session};
use super::rules::{self, Edits, Effects};
use super::view::ReqView;
use crate::acl::SampleSource;
use crate::config::model::Reply;
use crate::proxy::message::{Request, Response};
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;

/// Whether any `http-after-response` rule applies to a response of `fe` and `be`.
pub(super) fn any(fe: &Frontend, be: Option<&Backend>) -> bool {
    !fe.http_after_response.is_empty() || be.is_some_and(|b| !b.http_after_response.is_empty())
}

/// Runs the rules of `be` (if any), then of `fe`, on the response seen through `src`,
/// collecting their edits.
pub(super) fn apply(
    fe: &Frontend,
    be: Option<&Backend>,
    src: &dyn SampleSource,
    edits: &mut Edits,
    fx: &mut Effects,
) {
    if let Some(b) = be
        && !b.http_after_response.is_empty()
    {
        rules::apply_with(&b.http_after_response, src, edits, fx);
    }
    if !fe.http_after_response.is_empty() {
        rules::apply_with(&fe.http_after_response, src, edits, fx);
    }
}

/// Runs the rules on a server's response (`status` as received) after the
/// `http-response` rules, adding to their edits; the log takes the final status.
pub(super) fn on_response(
    s: &Session,
    ex: &mut Exchange,
    be: &Backend,
    status: u16,
    req: Request<'_>,
    resp: Response<'_>,
) {
    if any(&s.fe, Some(be)) {
        let view = ReqView {
            req,
            conn: &s.conn,
            status: Some(status),
            resp: Some(resp),
            users: Some(&s.snap.userlists),
            txn: Some((&ex.txn, s.fe.unique_id.as_ref(), &s.fe.name)),
            live: Some(crate::runtime::live_fetch::StreamLive::forwarded(
                &s.snap, &s.fe, be,
            )),
        };
        apply(&s.fe, Some(be), &view, &mut ex.redits, &mut ex.fx);
    }
    if let Some((st, _)) = &ex.redits.status {
        ex.status = i32::from(*st);
    }
}

/// A reply the proxy is about to send, as the rules see it: its status and headers
/// over the request's view.
pub(super) struct ReplyView<'a> {
    /// The request and its transaction.
    pub(super) inner: &'a dyn SampleSource,
    /// The reply.
    pub(super) reply: &'a Reply,
}

impl SampleSource for ReplyView<'_> {
    crate::acl::forward_sample_source!(request_side);
    fn status(&self) -> Option<u16> {
        Some(self.reply.status)
    }
    fn res_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.reply.headers.iter().any(|(n, v)| each(n, v))
    }
}

/// Applies the rules to a reply of the proxy's own: headers removed, added, the status
/// changed, as they would be on a server's response.
pub(super) fn apply_to_reply(
    fe: &Frontend,
    be: Option<&Backend>,
    req: &dyn SampleSource,
    reply: &mut Reply,
    fx: &mut Effects,
) {
    let mut edits = Edits::default();
    {
        let view = ReplyView {
            inner: req,
            reply: &*reply,
        };
        apply(fe, be, &view, &mut edits, fx);
    }
    edit_reply(reply, &edits);
}

/// `reply` with `edits` made: removed names dropped (the `add`s of the same name made
/// later are kept), added headers appended, the status and reason replaced.
pub(super) fn edit_reply(reply: &mut Reply, edits: &Edits) {
    if !edits.remove.is_empty() {
        reply.headers.retain(|(n, _)| !edits.removed(n));
    }
    for (n, v) in &edits.add {
        reply.headers.push((n.clone(), v.clone()));
    }
    if let Some((status, reason)) = &edits.status {
        reply.status = *status;
        reply.reason = reason.clone();
    }
}
