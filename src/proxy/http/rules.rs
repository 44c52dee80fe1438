//! The request-rules phase ([`route`]: `tcp-request content`, `http-request`, backend
//! switching) and the rules engine for `http-request` / `http-response` rules on one
//! message: the first decisive
//! action (`allow`, `deny`, `return`) stops evaluation; header actions accumulate edits.
//! Like HAProxy, which edits the message in place, later `http-request` rules see the
//! request headers that earlier ones set, added or deleted (conditions and `%[…]`
//! samples alike), and later `http-response` (and `http-after-response`) rules the
//! response headers and status that earlier ones of the same pass set.

use super::actions;
use super::view::ReqView;
use crate::acl::SampleSource;
use crate::config::model::{HdrMatch, HttpAction, Reply, ReturnBody};
pub use crate::proxy::message::Edits;
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;
use crate::runtime::rules::{HttpRuleRt, HttpRules, LfAction};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the rules set for the rest of the transaction beside the message: per-stream
/// timeouts, the log level, captured samples. Reset for each request.
#[derive(Debug, Default)]
pub struct Effects {
    /// `http-request set-timeout server`.
    pub server_timeout: Option<std::time::Duration>,
    /// `http-request set-timeout tunnel`.
    pub tunnel_timeout: Option<std::time::Duration>,
    /// `set-log-level`: `Some(None)` for `silent`, else the syslog level.
    pub log_level: Option<Option<u8>>,
    /// `capture … len|id`: (response slot, slot, value), in rule order.
    pub captures: Vec<(bool, usize, Vec<u8>)>,
    /// The exchange was logged early (`option logasap`).
    pub logged_early: bool,
}

impl Effects {
    /// Forgets the previous request's effects.
    pub fn clear(&mut self) {
        self.server_timeout = None;
        self.tunnel_timeout = None;
        self.log_level = None;
        self.captures.clear();
        self.logged_early = false;
    }
}

/// What the rules decided.
pub enum Verdict {
    /// Go on.
    Continue,
    /// Answer with this error status (`deny`).
    Deny(u16),
    /// Answer with this reply (`return`, `redirect`); `None` for an empty errorfile:
    /// nothing is sent.
    Return(Option<Arc<Reply>>),
    /// Answer 401 asking for credentials in this realm (`auth`).
    Auth(Vec<u8>),
    /// Hold the request for `timeout tarpit`, then answer with this status (`tarpit`).
    Tarpit(u16),
    /// Answer with the error page of this status, as a `return` (`return …
    /// default-errorfiles`).
    ErrorPage(u16),
    /// Answer with the Prometheus exporter (`use-service prometheus-exporter`).
    Prometheus,
    /// Wait for the request body, then resume the rules (`wait-for-body`, `option
    /// http-buffer-request` on the backend).
    WaitBody(BodyWait),
}

/// Where the request rules resume after a wait for the body.
#[derive(Clone, Default)]
pub enum Stage {
    /// From the start (`tcp-request content` rules first).
    #[default]
    Start,
    /// At this `http-request` rule of the frontend.
    Frontend(usize),
    /// At the start of the `http-request` rules of the backend the switching rules
    /// chose, its `option http-buffer-request` wait done.
    BackendBuffered(Arc<Backend>),
    /// At this `http-request` rule of the backend the switching rules chose.
    Backend(Arc<Backend>, usize),
}

impl Stage {
    /// The index of the rule to go on at, in the list that stopped (`Frontend(i)` from
    /// [`apply_after`]); 0 for the other stages.
    pub fn index(&self) -> usize {
        match self {
            Stage::Frontend(i) | Stage::Backend(_, i) => *i,
            Stage::Start | Stage::BackendBuffered(_) => 0,
        }
    }
}

/// A wait for the request body the rules asked for (HAProxy's
/// `http_wait_for_msg_body()`): until its end, a full buffer, `at_least` bytes or
/// `time`, then the rules resume at `resume`.
#[derive(Clone)]
pub struct BodyWait {
    /// The longest wait (`None`: no limit but `timeout client`).
    pub time: Option<std::time::Duration>,
    /// Stop once this many body bytes came (0: no such limit).
    pub at_least: u64,
    /// Where the rules go on.
    pub resume: Stage,
}

/// The message as the rules see it: the parsed one with the pending edits applied.
struct Edited<'a> {
    inner: &'a dyn SampleSource,
    edits: &'a Edits,
    /// The edits are a response's: they change its status, not the request.
    response: bool,
}

impl SampleSource for Edited<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.inner.src()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.inner.dst()
    }
    fn method(&self) -> Option<&[u8]> {
        self.edits.method.as_deref().or_else(|| self.inner.method())
    }
    fn uri(&self) -> Option<&[u8]> {
        self.edits.target.as_deref().or_else(|| self.inner.uri())
    }
    fn http_auth(&self, userlist: &str, groups: bool, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        // Credentials are read from the request as received.
        self.inner.http_auth(userlist, groups, each)
    }
    fn res_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        if !self.response {
            return self.inner.res_headers(each);
        }
        // Like the request's, the response's headers as earlier rules left them.
        self.inner
            .res_headers(&mut |n, v| !self.edits.removed(n) && each(n, v))
            || self.edits.add.iter().any(|(n, v)| each(n, v))
    }
    fn unique_id(&self) -> Option<&[u8]> {
        self.inner.unique_id()
    }
    fn request_counter(&self) -> u64 {
        self.inner.request_counter()
    }
    fn unique_id_set(&self) -> Option<&[u8]> {
        self.inner.unique_id_set()
    }
    fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.inner.var(name, each)
    }
    fn tls(&self) -> Option<&crate::tls::Facts> {
        self.inner.tls()
    }
    fn proxy_tlvs(&self) -> Option<&crate::acl::ProxyTlvs> {
        self.inner.proxy_tlvs()
    }
    fn req_body(&self) -> Option<crate::acl::ReqBody<'_>> {
        self.inner.req_body()
    }
    fn res_body(&self) -> Option<crate::acl::ReqBody<'_>> {
        self.inner.res_body()
    }
    fn set_var(&self, name: &str, value: Option<&[u8]>) {
        self.inner.set_var(name, value)
    }
    fn identity(&self) -> Option<Arc<crate::identity::Identity>> {
        self.inner.identity()
    }
    fn set_identity(&self, id: Arc<crate::identity::Identity>) {
        self.inner.set_identity(id)
    }
    fn decided(
        &self,
        rule: &crate::config::span::Span,
        decision: &'static str,
        provider: Option<&Arc<crate::identity::Provider>>,
    ) {
        self.inner.decided(rule, decision, provider)
    }
    fn live(&self) -> Option<&dyn crate::acl::LiveState> {
        self.inner.live()
    }
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        if self.response {
            return self.inner.req_header(name, each);
        }
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
        match &self.edits.status {
            Some((s, _)) if self.response => Some(*s),
            _ => self.inner.status(),
        }
    }
    fn version(&self) -> Option<&[u8]> {
        self.inner.version()
    }
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        if self.response {
            return self.inner.req_headers(each);
        }
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

/// The rule's format (`LfAction::Format`) rendered for the message seen through `src`.
fn render(rules: &HttpRules, r: &HttpRuleRt, src: &dyn SampleSource) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(LfAction::Format(fmt)) = &r.lf {
        let st = src.status().map_or(-1, i32::from);
        fmt.render_request(src, &rules.frontend, &rules.backend, st, &mut out);
    }
    out
}

/// Evaluates `rules` in order against `src`, collecting header edits into `edits`
/// (and throwing away their other effects).
pub fn apply(rules: &HttpRules, src: &dyn SampleSource, edits: &mut Edits) -> Verdict {
    apply_with(rules, src, edits, &mut Effects::default())
}

/// Evaluates `rules` in order against `src`, collecting header edits into `edits` and
/// their other effects into `fx`.
pub fn apply_with(
    rules: &HttpRules,
    src: &dyn SampleSource,
    edits: &mut Edits,
    fx: &mut Effects,
) -> Verdict {
    apply_after(rules, 0, src, edits, fx)
}

/// [`apply_with`] from the rule at index `from` on (the rules after a
/// `wait-for-body`); a `wait-for-body` rule that matches stops with
/// [`Verdict::WaitBody`], to resume at the next rule (`Stage::Frontend(next)`, which
/// [`route`] turns into a backend's stage).
pub fn apply_after(
    rules: &HttpRules,
    from: usize,
    src: &dyn SampleSource,
    edits: &mut Edits,
    fx: &mut Effects,
) -> Verdict {
    let response = src.status().is_some();
    for (i, r) in rules.rules.iter().enumerate().skip(from) {
        let view = Edited {
            inner: src,
            edits: &*edits,
            response,
        };
        // Without pending edits the parsed message is the truth: skip the overlay.
        let overlay = !edits.is_empty();
        let seen: &dyn SampleSource = if overlay { &view } else { src };
        if !r.cond.matches(seen) {
            continue;
        }
        match &r.action {
            HttpAction::Allow => {
                src.decided(&r.span, "allow", None);
                return Verdict::Continue;
            }
            HttpAction::Deny { status } => {
                src.decided(&r.span, "deny", None);
                return Verdict::Deny(*status);
            }
            HttpAction::Tarpit { status } => {
                src.decided(&r.span, "deny", None);
                return Verdict::Tarpit(*status);
            }
            HttpAction::Authenticate(_) => {
                // Credentials are read from the request as received (the session
                // cookie is already dropped from what the server will see).
                if let Some(v) = super::identity::authenticate(r, src) {
                    return v;
                }
            }
            HttpAction::UsePrometheus => return Verdict::Prometheus,
            HttpAction::WaitForBody { time, at_least } => {
                return Verdict::WaitBody(BodyWait {
                    time: Some(*time).filter(|t| !t.is_zero()),
                    at_least: *at_least,
                    resume: Stage::Frontend(i + 1),
                });
            }
            HttpAction::Return {
                status,
                body: ReturnBody::Default | ReturnBody::Section(_),
                ..
            } => return Verdict::ErrorPage(*status),
            HttpAction::Return { .. } => {
                src.decided(&r.span, "deny", None);
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
            HttpAction::DelHeader(n, HdrMatch::Str) => {
                let name = n.as_bytes().to_ascii_lowercase();
                edits.add.retain(|(an, _)| !an.eq_ignore_ascii_case(&name));
                edits.remove.push(name);
            }
            HttpAction::DelHeader(n, how) => {
                let re = r.re.as_ref();
                let m = |name: &[u8]| actions::name_matches(name, n, *how, re);
                let mut names = Vec::new();
                let mut collect = |name: &[u8], _: &[u8]| {
                    if m(name) {
                        names.push(name.to_ascii_lowercase());
                    }
                    false
                };
                if response {
                    seen.res_headers(&mut collect);
                } else {
                    seen.req_headers(&mut collect);
                }
                edits.add.retain(|(an, _)| !m(an));
                edits.remove.extend(names);
            }
            HttpAction::Redirect(rd) => {
                src.decided(&r.span, "allow", None);
                let value = render(rules, r, seen);
                let reply = actions::redirect(rd, &value, seen);
                return Verdict::Return(Some(Arc::new(reply)));
            }
            HttpAction::Auth { realm } => {
                src.decided(&r.span, "challenge", None);
                let realm = realm.as_deref().unwrap_or(&rules.backend);
                return Verdict::Auth(realm.as_bytes().to_vec());
            }
            HttpAction::ReplaceHeader {
                name, value: per, ..
            } => {
                let fmt = render(rules, r, seen);
                // The message's own headers, in order; the edits hold the rest.
                let mut original = Vec::new();
                let mut each = |n: &[u8], v: &[u8]| {
                    original.push((n.to_vec(), v.to_vec()));
                    false
                };
                if response {
                    src.res_headers(&mut each);
                } else {
                    src.req_headers(&mut each);
                }
                if let Some(re) = &r.re {
                    actions::replace(name, re, &fmt, *per, &original, edits);
                }
            }
            HttpAction::SetLine(part, _) => {
                let value = render(rules, r, seen);
                let uri = seen.uri().unwrap_or(b"/").to_vec();
                actions::set_line(*part, value, &uri, edits);
            }
            HttpAction::SetStatus { status, reason } => {
                actions::set_status(*status, reason.as_deref(), edits);
            }
            HttpAction::SetVar { name, .. } => {
                let mut value: Option<Vec<u8>> = None;
                match &r.lf {
                    Some(LfAction::Format(_)) => value = Some(render(rules, r, seen)),
                    Some(LfAction::Sample(e)) => e.eval_str(seen, &mut |v| {
                        value.get_or_insert_with(|| v.to_vec());
                    }),
                    _ => {}
                }
                // An expression that gives no sample leaves the variable as it was.
                if let Some(v) = value {
                    src.set_var(name, Some(&v));
                }
            }
            HttpAction::UnsetVar(name) => src.set_var(name, None),
            HttpAction::SetTimeout { tunnel, value } => {
                let t = match &r.lf {
                    Some(LfAction::Sample(e)) => {
                        let mut ms = None;
                        e.eval_str(seen, &mut |v| {
                            ms = ms.or_else(|| std::str::from_utf8(v).ok()?.parse::<u64>().ok());
                        });
                        // A zero or missing value leaves the timeout as it is.
                        ms.filter(|m| *m > 0).map(std::time::Duration::from_millis)
                    }
                    _ => crate::config::value::duration(value, "set-timeout").ok(),
                };
                if t.is_some() {
                    if *tunnel {
                        fx.tunnel_timeout = t;
                    } else {
                        fx.server_timeout = t;
                    }
                }
            }
            HttpAction::SetLogLevel(level) => fx.log_level = Some(*level),
            HttpAction::NormalizeUri(n) => {
                let uri = seen.uri().unwrap_or(b"/");
                match super::normalize::normalize(*n, uri) {
                    Ok(Some(t)) => edits.target = Some(t),
                    Ok(None) => {}
                    // HAProxy answers an invalid sequence under `strict` with a 400.
                    Err(()) => return Verdict::Deny(400),
                }
            }
            HttpAction::TrackSc(t) => {
                if let Some(LfAction::Sample(e)) = &r.lf {
                    let track = Some((usize::from(t.slot), t.table.as_str(), e));
                    crate::runtime::rules::stick_action(track, None, seen, true);
                } else if let Ok(n) = t.key.parse::<i64>()
                    && let Some(live) = seen.live()
                {
                    live.stick_track(
                        usize::from(t.slot),
                        &t.table,
                        crate::acl::StickKey::Int(n),
                        true,
                    );
                }
            }
            HttpAction::Sc(a) => {
                let e = match &r.lf {
                    Some(LfAction::Sample(e)) => Some(e),
                    _ => None,
                };
                crate::runtime::rules::stick_action(None, Some((a, e)), seen, true);
            }
            HttpAction::Capture { slot, response, .. } => {
                if let Some(LfAction::Sample(e)) = &r.lf {
                    let mut value: Option<Vec<u8>> = None;
                    e.eval_str(seen, &mut |v| {
                        value.get_or_insert_with(|| v.to_vec());
                    });
                    if let Some(v) = value {
                        fx.captures.push((*response, *slot, v));
                    }
                }
            }
        }
    }
    Verdict::Continue
}

/// Phase 4 of the chart: where the request rules send a request. `tcp-request content`
/// rules run first, on the parsed request; then the frontend's `http-request` rules;
/// if they let it through, `use_backend` (first match) or `default_backend`, that
/// backend's `tcp-request content` rules and its `http-request` rules. `None`: a
/// `tcp-request content` rule rejected the request (close silently); else the verdict
/// and the backend, if any. `from`: where the rules resume after a wait for the body
/// ([`Verdict::WaitBody`], whose stage names the backend already chosen).
pub fn route(
    fe: &Frontend,
    view: &ReqView<'_>,
    edits: &mut Edits,
    fx: &mut Effects,
    from: Stage,
) -> Option<(Verdict, Option<Arc<Backend>>)> {
    // The first pass over the backend runs its `tcp-request content` rules and its
    // body wait; `be_from`: the backend rule to start at.
    let (v, b, first, be_from) = match from {
        Stage::Backend(b, i) => (Verdict::Continue, Some(b), false, i),
        Stage::BackendBuffered(b) => (Verdict::Continue, Some(b), false, 0),
        Stage::Start | Stage::Frontend(_) => {
            let (v, b) = route_frontend(fe, view, edits, fx, from)?;
            (v, b, true, 0)
        }
    };
    // From here on the stream's backend is the chosen one (`be_name`, `nbsrv`).
    let switched;
    let view = match (&b, view.live) {
        (Some(b), Some(live)) => {
            switched = ReqView {
                live: Some(live.switched(b)),
                ..*view
            };
            &switched
        }
        _ => view,
    };
    if first {
        let before = view.live.as_ref().map_or(0, |l| l.stream_slots());
        if let Some(b) = &b
            && !crate::runtime::rules::tcp_verdict(&b.tcp_content, view)
        {
            return None;
        }
        if let (Some(b), Some(l)) = (&b, &view.live)
            && !b.tcp_content.is_empty()
        {
            l.count_stream_request(before);
        }
    }
    let v = match (&v, &b) {
        (Verdict::Continue, Some(b)) => {
            // `option http-buffer-request` of the backend: the body is waited for
            // before its rules (HAProxy's `AN_REQ_HTTP_BODY`, set on switching).
            if first && b.buffer_request {
                let wait = BodyWait {
                    time: fe.timeouts.http_request,
                    at_least: 0,
                    resume: Stage::BackendBuffered(Arc::clone(b)),
                };
                return Some((Verdict::WaitBody(wait), Some(Arc::clone(b))));
            }
            if be_from == 0 {
                super::identity::before_rules(&b.http_request, view, edits);
            }
            let mut v = apply_after(&b.http_request, be_from, view, edits, fx);
            if let Verdict::WaitBody(w) = &mut v {
                if let Stage::Frontend(i) = w.resume {
                    w.resume = Stage::Backend(Arc::clone(b), i);
                }
                return Some((v, Some(Arc::clone(b))));
            }
            if matches!(v, Verdict::Continue) && !b.redirects.is_empty() {
                v = apply(&b.redirects, view, edits);
            }
            if matches!(v, Verdict::Continue) {
                super::identity::assert_identity(
                    &fe.http_request,
                    &b.http_request,
                    &b.name,
                    view,
                    edits,
                );
            }
            v
        }
        _ => v,
    };
    Some((v, b))
}

/// The frontend's part of [`route`]: its `tcp-request content` rules (from the start
/// only), its `http-request` rules from `from`, its `redirect` rules, then the
/// switching rules. A wait for the body stops it with [`Verdict::WaitBody`].
fn route_frontend(
    fe: &Frontend,
    view: &ReqView<'_>,
    edits: &mut Edits,
    fx: &mut Effects,
    from: Stage,
) -> Option<(Verdict, Option<Arc<Backend>>)> {
    let at = match from {
        Stage::Frontend(i) => i,
        _ => {
            if !crate::runtime::rules::tcp_verdict(&fe.tcp_content, view) {
                return None;
            }
            // Entries `tcp-request content` rules tracked count the request.
            if let Some(l) = &view.live {
                l.count_stream_request(0);
            }
            super::identity::before_rules(&fe.http_request, view, edits);
            // `option http-buffer-request`: the body comes before the frontend's rules.
            if fe.buffer_request {
                let wait = BodyWait {
                    time: fe.timeouts.http_request,
                    at_least: 0,
                    resume: Stage::Frontend(0),
                };
                return Some((Verdict::WaitBody(wait), None));
            }
            0
        }
    };
    let mut v = apply_after(&fe.http_request, at, view, edits, fx);
    if matches!(v, Verdict::WaitBody(_)) {
        return Some((v, None));
    }
    // The `redirect` keyword's rules follow the `http-request` ones (even after an
    // `allow`), as in HAProxy's `http_process_req_common()`.
    if matches!(v, Verdict::Continue) && !fe.redirects.is_empty() {
        v = apply(&fe.redirects, view, edits);
    }
    let b = match v {
        Verdict::Continue => {
            // The switching rules see the request as the `http-request` rules left it
            // (a `set-header Host` routes by the new host), as in HAProxy.
            let edited = Edited {
                inner: view,
                edits: &*edits,
                response: false,
            };
            let seen: &dyn SampleSource = if edits.is_empty() { view } else { &edited };
            fe.pick_backend(seen)
        }
        _ => None,
    };
    // Only a dynamic `use_backend` can name a `mode tcp` backend here (static ones are
    // refused at load): HAProxy aborts such a stream without a response.
    if b.as_ref()
        .is_some_and(|b| b.mode == crate::config::model::Mode::Tcp)
    {
        return None;
    }
    Some((v, b))
}
