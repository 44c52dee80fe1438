//! The request-rules phase ([`route`]: `tcp-request content`, `http-request`, backend
//! switching) and the rules engine for `http-request` / `http-response` rules on one
//! message: the first decisive
//! action (`allow`, `deny`, `return`) stops evaluation; header actions accumulate edits.
//! Like HAProxy, which edits the message in place, later `http-request` rules see the
//! request headers that earlier ones set, added or deleted (conditions and `%[…]`
//! samples alike).

use super::view::ReqView;
use crate::acl::SampleSource;
use crate::config::model::{HttpAction, Reply};
pub use crate::proxy::message::Edits;
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;
use crate::runtime::rules::{HttpRuleRt, HttpRules, LfAction};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the rules decided.
pub enum Verdict {
    /// Go on.
    Continue,
    /// Answer with this error status (`deny`).
    Deny(u16),
    /// Answer with this reply (`return`); `None` for an empty errorfile: nothing is
    /// sent.
    Return(Option<Arc<Reply>>),
}

/// The message as the rules see it: the parsed one with the pending edits applied.
struct Edited<'a> {
    inner: &'a dyn SampleSource,
    edits: &'a Edits,
}

impl SampleSource for Edited<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.inner.src()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.inner.dst()
    }
    fn method(&self) -> Option<&[u8]> {
        self.inner.method()
    }
    fn uri(&self) -> Option<&[u8]> {
        self.inner.uri()
    }
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let n = name.as_bytes();
        (!self.edits.removed(n) && self.inner.req_header(name, each))
            || self
                .edits
                .add
                .iter()
                .filter(|(an, _)| an.eq_ignore_ascii_case(n))
                .any(|(_, v)| each(v))
    }
    fn status(&self) -> Option<u16> {
        self.inner.status()
    }
    fn version(&self) -> Option<&[u8]> {
        self.inner.version()
    }
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.inner
            .req_headers(&mut |n, v| !self.edits.removed(n) && each(n, v))
            || self.edits.add.iter().any(|(n, v)| each(n, v))
    }
}

/// The value of a `set-header`/`add-header` rule, rendered when it is a log-format.
fn header_value(rules: &HttpRules, r: &HttpRuleRt, v: &str, src: &dyn SampleSource) -> Vec<u8> {
    match &r.lf {
        Some(LfAction::Value(fmt)) => {
            let mut out = Vec::new();
            let st = src.status().map_or(-1, i32::from);
            fmt.render_request(src, &rules.frontend, &rules.backend, st, &mut out);
            out
        }
        _ => v.as_bytes().to_vec(),
    }
}

/// Evaluates `rules` in order against `src`, collecting header edits into `edits`.
pub fn apply(rules: &HttpRules, src: &dyn SampleSource, edits: &mut Edits) -> Verdict {
    for r in &rules.rules {
        let view = Edited {
            inner: src,
            edits: &*edits,
        };
        // Without pending edits the parsed request is the truth: skip the overlay.
        // Response rules edit the response, which no fetch here reads.
        let overlay = !edits.is_empty() && src.status().is_none();
        let seen: &dyn SampleSource = if overlay { &view } else { src };
        if !r.cond.matches(seen) {
            continue;
        }
        match &r.action {
            HttpAction::Allow => return Verdict::Continue,
            HttpAction::Deny { status } => return Verdict::Deny(*status),
            HttpAction::Return { .. } => {
                let reply = match (&r.prebuilt, &r.lf) {
                    (Some(b), _) => Some(Arc::clone(b)),
                    (None, Some(LfAction::Return(ret))) => {
                        Some(Arc::new(ret.render(seen, &rules.frontend, &rules.backend)))
                    }
                    _ => None,
                };
                return Verdict::Return(reply);
            }
            HttpAction::SetHeader(n, v) => {
                let value = header_value(rules, r, v, seen);
                let name = n.as_bytes().to_ascii_lowercase();
                edits.add.retain(|(an, _)| !an.eq_ignore_ascii_case(&name));
                edits.remove.push(name.clone());
                edits.add.push((name, value));
            }
            HttpAction::AddHeader(n, v) => {
                let value = header_value(rules, r, v, seen);
                edits.add.push((n.as_bytes().to_ascii_lowercase(), value));
            }
            HttpAction::DelHeader(n) => {
                let name = n.as_bytes().to_ascii_lowercase();
                edits.add.retain(|(an, _)| !an.eq_ignore_ascii_case(&name));
                edits.remove.push(name);
            }
            HttpAction::Redirect(_) => {}
        }
    }
    Verdict::Continue
}

/// Phase 4 of the chart: where the request rules send a request. `tcp-request content`
/// rules run first, on the parsed request; then the frontend's `http-request` rules;
/// if they let it through, `use_backend` (first match) or `default_backend`, that
/// backend's `tcp-request content` rules and its `http-request` rules. `None`: a
/// `tcp-request content` rule rejected the request (close silently); else the verdict
/// and the backend, if any.
pub fn route(
    fe: &Frontend,
    view: &ReqView<'_>,
    edits: &mut Edits,
) -> Option<(Verdict, Option<Arc<Backend>>)> {
    if !crate::runtime::rules::tcp_verdict(&fe.tcp_content, view) {
        return None;
    }
    let v = apply(&fe.http_request, view, edits);
    let b = match v {
        Verdict::Continue => fe
            .switching
            .iter()
            .find(|s| s.cond.matches(view))
            .map(|s| s.backend.clone())
            .or_else(|| fe.default_backend.clone()),
        _ => None,
    };
    if let Some(b) = &b
        && !crate::runtime::rules::tcp_verdict(&b.tcp_content, view)
    {
        return None;
    }
    let v = match (&v, &b) {
        (Verdict::Continue, Some(b)) if !b.http_request.is_empty() => {
            apply(&b.http_request, view, edits)
        }
        _ => v,
    };
    Some((v, b))
}
