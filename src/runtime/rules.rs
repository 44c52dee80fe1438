//! Compiled `http-request`/`http-response` and `tcp-request` rules: the action from the
//! model and its condition compiled once at load.

use crate::acl::{AclSet, CompiledCondition, SampleExpr, SampleSource};
use crate::config::model::{
    Condition, HdrMatch, HttpAction, HttpRule, Redirect, Reply, ReturnBody, TcpRequestRule,
};
use crate::config::span::Span;
use crate::log::{FormatContext, LogFormatSpec};
use std::cell::RefCell;
use std::sync::Arc;

/// A compiled condition that may be absent (no `if`/`unless`: always true).
#[derive(Debug, Default)]
pub struct Cond(Option<CompiledCondition>);

impl Cond {
    /// Compiles an optional condition against a proxy's ACLs.
    pub fn compile(set: &AclSet, cond: Option<&Condition>) -> Result<Self, (Span, String)> {
        Ok(Cond(match cond {
            Some(c) => Some(set.condition(c)?),
            None => None,
        }))
    }
    /// The compiled condition, if there is one.
    pub fn compiled(&self) -> Option<&CompiledCondition> {
        self.0.as_ref()
    }
    /// True when there is no condition or it matches.
    pub fn matches(&self, src: &dyn SampleSource) -> bool {
        self.0.as_ref().is_none_or(|c| c.eval(src))
    }
    /// [`Cond::matches`] while the inspected payload may still grow (`partial`):
    /// `None` when the answer may change with more data.
    pub fn matches_partial(&self, src: &dyn SampleSource, partial: bool) -> Option<bool> {
        match &self.0 {
            Some(c) => c.eval_partial(src, partial),
            None => Some(true),
        }
    }
    /// Whether the condition reads request data (in `mode tcp`: the payload).
    pub fn reads_request(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|c| c.visibility() >= crate::acl::Visibility::Request)
    }
}

/// One compiled HTTP rule.
#[derive(Debug)]
pub struct HttpRuleRt {
    /// The rule's line.
    pub span: Span,
    /// What to do.
    pub action: HttpAction,
    /// When.
    pub cond: Cond,
    /// The reply of a `return` rule, built once at load when nothing in it depends on
    /// the request.
    pub prebuilt: Option<Arc<Reply>>,
    /// The log-formats of the rule, when it has some rendered per request.
    pub lf: Option<LfAction>,
    /// The regex of `replace-header`/`replace-value` and `del-header -m reg`.
    pub re: Option<regex::bytes::Regex>,
    /// The providers of `authenticate`, in the order named.
    pub providers: Vec<Arc<crate::identity::Provider>>,
}

/// The per-request part of a rule: log-formats compiled once at load.
#[derive(Debug)]
pub enum LfAction {
    /// A `return` whose payload or `hdr` values are log-formats.
    Return(LfReturn),
    /// The value of `set-header`/`add-header` when it has variables.
    Value(LogFormatSpec),
    /// The format of `redirect`, `replace-header`/`replace-value` and the `set-*`
    /// actions of the request line and `set-var-fmt`, always rendered.
    Format(LogFormatSpec),
    /// The expression of `set-var`.
    Sample(SampleExpr),
}

/// A `return` rendered per request.
#[derive(Debug)]
pub struct LfReturn {
    /// The status, for `%ST`.
    pub status: u16,
    /// `hdr` headers: the lower-cased name and the value's format.
    pub headers: Vec<(Vec<u8>, LogFormatSpec)>,
    /// The `content-type`, if any.
    pub content_type: Option<Vec<u8>>,
    /// The payload.
    pub body: LfBody,
}

/// The payload of a [`LfReturn`].
#[derive(Debug)]
pub enum LfBody {
    /// Fixed bytes (`string`, `file`, none).
    Static(Vec<u8>),
    /// `lf-string`/`lf-file`.
    Format(LogFormatSpec),
}

/// The HTTP rules of one proxy section, in order.
#[derive(Debug, Default)]
pub struct HttpRules {
    /// The rules.
    pub rules: Vec<HttpRuleRt>,
    /// `%f`/`%ft` in the rules' formats: the frontend's name (empty for the rules of a
    /// `backend` section, which may serve several frontends).
    pub frontend: String,
    /// `%b`: the proxy's name (a frontend is its own backend until switching).
    pub backend: String,
    /// Identity headers: the names (lower case, `_` read as `-`) that `set-header` or
    /// `add-header` rules fill from `identity_*` fetches in a section that
    /// authenticates; removed from incoming requests in every spelling.
    pub identity_headers: Vec<Vec<u8>>,
    /// The session and login cookies of the sections `authenticate` rules name: never
    /// forwarded to servers.
    pub session_cookies: Vec<String>,
}

/// HAProxy 2.6's reason phrase for a status (`http_get_reason()`), as `return`,
/// `http-error` and `set-status` write it.
pub fn http_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        210 => "Content Different",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        310 => "Too many Redirects",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested range unsatisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Method failure",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        449 => "Retry With",
        450 => "Blocked by Windows Parental Controls",
        451 => "Unavailable For Legal Reasons",
        456 => "Unrecoverable Error",
        499 => "client has closed connection",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway or Proxy Error",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        506 => "Variant also negotiate",
        507 => "Insufficient storage",
        508 => "Loop detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not extended",
        511 => "Network authentication required",
        520 => "Web server is returning an unknown error",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Other",
        },
    }
}

/// The reason phrase of a redirect's status line, as HAProxy 2.6's redirect rules
/// write it (they name 302 "Found"), and of the proxy's other fixed replies.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Payload Too Large",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Other",
    }
}

/// Builds the reply of an `http-request return` whose payload and `hdr` values have no
/// variables; `None` when something must be rendered per request (or for an empty
/// `errorfile`, which sends nothing). HAProxy's layout: status line, the `hdr` headers
/// (names lower-cased), then `content-length` (omitted for 204) and `content-type`.
pub fn build_return(
    status: u16,
    content_type: Option<&str>,
    body: &ReturnBody,
    headers: &[(String, String)],
) -> Option<Reply> {
    let payload: &[u8] = match body {
        ReturnBody::None => b"",
        ReturnBody::String(s) => s.as_bytes(),
        ReturnBody::File(f) => f,
        ReturnBody::ErrorFile(r) => return r.clone(),
        ReturnBody::LfString(_) | ReturnBody::Default | ReturnBody::Section(_) => return None,
    };
    let mut fields = Vec::with_capacity(headers.len() + 2);
    for (n, v) in headers {
        let spec = LogFormatSpec::compile_in(v, FormatContext::HttpRequest).ok();
        let value = spec.and_then(|s| s.literal())?;
        fields.push((n.to_ascii_lowercase().into_bytes(), value.into_bytes()));
    }
    Some(finish_return(
        status,
        fields,
        content_type.map(str::as_bytes),
        payload.to_vec(),
    ))
}

/// The reply with `content-length` (omitted for 204) and `content-type` after `fields`.
fn finish_return(
    status: u16,
    mut fields: Vec<(Vec<u8>, Vec<u8>)>,
    content_type: Option<&[u8]>,
    body: Vec<u8>,
) -> Reply {
    if status != 204 {
        fields.push((
            b"content-length".to_vec(),
            body.len().to_string().into_bytes(),
        ));
    }
    if let Some(ct) = content_type {
        fields.push((b"content-type".to_vec(), ct.to_vec()));
    }
    Reply {
        version: (1, 1),
        status,
        reason: http_reason(status).as_bytes().to_vec(),
        headers: fields,
        body,
    }
}

thread_local! {
    /// Scratch space for rendered payloads, reused across requests.
    static BODY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl LfReturn {
    /// Compiles a reply whose payload or `hdr` values are log-formats.
    pub fn compile(
        status: u16,
        content_type: Option<&str>,
        body: &ReturnBody,
        headers: &[(String, String)],
        ctx: FormatContext,
    ) -> Result<LfReturn, String> {
        let body = match body {
            ReturnBody::LfString(f) => LfBody::Format(LogFormatSpec::compile_in(f, ctx)?),
            ReturnBody::String(s) => LfBody::Static(s.as_bytes().to_vec()),
            ReturnBody::File(f) => LfBody::Static(f.clone()),
            ReturnBody::None
            | ReturnBody::ErrorFile(_)
            | ReturnBody::Default
            | ReturnBody::Section(_) => LfBody::Static(Vec::new()),
        };
        let headers = headers
            .iter()
            .map(|(n, v)| {
                let name = n.to_ascii_lowercase().into_bytes();
                Ok((name, LogFormatSpec::compile_in(v, ctx)?))
            })
            .collect::<Result<_, String>>()?;
        Ok(LfReturn {
            status,
            headers,
            content_type: content_type.map(|c| c.as_bytes().to_vec()),
            body,
        })
    }

    /// Renders the reply for the request seen through `src`.
    pub fn render(&self, src: &dyn SampleSource, frontend: &str, backend: &str) -> Reply {
        let st = i32::from(self.status);
        let mut fields = Vec::with_capacity(self.headers.len() + 2);
        for (name, fmt) in &self.headers {
            let mut value = Vec::new();
            fmt.render_request(src, frontend, backend, st, &mut value);
            fields.push((name.clone(), value));
        }
        let ct = self.content_type.as_deref();
        let body = match &self.body {
            LfBody::Static(b) => b.clone(),
            LfBody::Format(fmt) => BODY.with(|cell| {
                let mut local = Vec::new();
                let mut guard = cell.try_borrow_mut().ok();
                let body: &mut Vec<u8> = match guard.as_deref_mut() {
                    Some(b) => b,
                    None => &mut local,
                };
                body.clear();
                fmt.render_request(src, frontend, backend, st, body);
                body.clone()
            }),
        };
        finish_return(self.status, fields, ct, body)
    }
}

impl HttpRules {
    /// Compiles a section's rules (`response`: `http-response` ones). `frontend` and
    /// `backend` are what `%f` and `%b` print in their log-formats.
    pub fn compile(
        set: &AclSet,
        rules: &[HttpRule],
        response: bool,
        frontend: &str,
        backend: &str,
    ) -> Result<Self, (Span, String)> {
        let ctx = if response {
            FormatContext::HttpResponse
        } else {
            FormatContext::HttpRequest
        };
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            let mut lf = None;
            // A rule's sample expression, compiled (an error names the rule's line).
            let sample = |text: &str| {
                SampleExpr::parse(text).map(LfAction::Sample).map_err(|e| {
                    (
                        r.span.clone(),
                        format!("failed to parse sample expression <{text}> : {e}"),
                    )
                })
            };
            let prebuilt = match &r.action {
                HttpAction::Return {
                    status,
                    content_type,
                    body,
                    headers,
                } => {
                    let pre = build_return(*status, content_type.as_deref(), body, headers);
                    // An empty errorfile has no reply: nothing is sent.
                    // An empty errorfile has no reply; the error page is found per
                    // request (the backend's, else the frontend's).
                    let paged = matches!(
                        body,
                        ReturnBody::ErrorFile(None) | ReturnBody::Default | ReturnBody::Section(_)
                    );
                    if pre.is_none() && !paged {
                        let ret =
                            LfReturn::compile(*status, content_type.as_deref(), body, headers, ctx)
                                .map_err(|e| (r.span.clone(), e))?;
                        lf = Some(LfAction::Return(ret));
                    }
                    pre.map(Arc::new)
                }
                HttpAction::SetHeader(_, v) | HttpAction::AddHeader(_, v) => {
                    let spec =
                        LogFormatSpec::compile_in(v, ctx).map_err(|e| (r.span.clone(), e))?;
                    if !spec.is_literal() {
                        lf = Some(LfAction::Value(spec));
                    }
                    None
                }
                HttpAction::Redirect(Redirect { value: f, .. })
                | HttpAction::ReplaceHeader { fmt: f, .. }
                | HttpAction::SetLine(_, f)
                | HttpAction::SetVar {
                    expr: f, fmt: true, ..
                } => {
                    let spec =
                        LogFormatSpec::compile_in(f, ctx).map_err(|e| (r.span.clone(), e))?;
                    lf = Some(LfAction::Format(spec));
                    None
                }
                HttpAction::SetTimeout { value, .. }
                    if crate::config::value::duration(value, "set-timeout").is_err() =>
                {
                    lf = Some(sample(value)?);
                    None
                }
                HttpAction::Capture { expr, .. } => {
                    lf = Some(sample(expr)?);
                    None
                }
                HttpAction::TrackSc(crate::config::model::TrackSc { key: expr, .. })
                | HttpAction::Sc(crate::config::model::ScAction::SetGpt0 { value: expr, .. })
                    if expr.parse::<i64>().is_err() =>
                {
                    lf = Some(sample(expr)?);
                    None
                }
                HttpAction::SetVar { expr, .. } => {
                    lf = Some(sample(expr)?);
                    None
                }
                _ => None,
            };
            let re = match &r.action {
                HttpAction::ReplaceHeader { regex, .. }
                | HttpAction::DelHeader(regex, HdrMatch::Reg) => Some(
                    regex::bytes::Regex::new(regex)
                        .map_err(|e| (r.span.clone(), format!("invalid regex '{regex}': {e}")))?,
                ),
                _ => None,
            };
            out.push(HttpRuleRt {
                span: r.span.clone(),
                action: r.action.clone(),
                cond: Cond::compile(set, r.cond.as_ref())?,
                prebuilt,
                lf,
                re,
                providers: Vec::new(),
            });
        }
        let identity_headers = rules
            .iter()
            .filter_map(|r| match &r.action {
                HttpAction::SetHeader(n, v) | HttpAction::AddHeader(n, v)
                    if v.contains("identity_") =>
                {
                    Some(identity_header_name(n.as_bytes()))
                }
                _ => None,
            })
            .collect();
        Ok(HttpRules {
            rules: out,
            frontend: frontend.to_string(),
            backend: backend.to_string(),
            identity_headers,
            session_cookies: Vec::new(),
        })
    }

    /// Resolves the `authenticate` rules' section names (checked to exist at load); the
    /// sections' session cookies and assertion headers are never taken from clients.
    pub fn bind_identities(&mut self, ids: &crate::identity::Identities) {
        for r in &mut self.rules {
            if let HttpAction::Authenticate(names) = &r.action {
                r.providers = names.iter().filter_map(|n| ids.get(n).cloned()).collect();
                for p in &r.providers {
                    if let Some(a) = &p.assertion {
                        let n = identity_header_name(a.header.as_bytes());
                        if !self.identity_headers.contains(&n) {
                            self.identity_headers.push(n);
                        }
                    }
                }
                for p in r.providers.iter().filter(|p| p.sessions.is_some()) {
                    let name = &p.section.cookie_name;
                    for c in [name.clone(), format!("{name}_login")] {
                        if !self.session_cookies.contains(&c) {
                            self.session_cookies.push(c);
                        }
                    }
                }
            }
        }
    }
    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// A header name as identity headers are compared: lower case, `_` read as `-` (some
/// servers read `X_Auth_Email` as `X-Auth-Email`).
pub fn identity_header_name(name: &[u8]) -> Vec<u8> {
    name.iter()
        .map(|b| {
            if *b == b'_' {
                b'-'
            } else {
                b.to_ascii_lowercase()
            }
        })
        .collect()
}

/// What a `tcp-request` rule does.
#[derive(Debug)]
pub enum TcpAction {
    /// `accept`: final.
    Accept,
    /// `reject`: final.
    Reject,
    /// `expect-proxy layer4`: not final; the connection must start with a PROXY header.
    ExpectProxy,
    /// `authenticate NAME…` (gatehouse only, `proto pgsql` binds): the client's
    /// password is a bearer token one of these sections must accept; not final.
    Authenticate(Vec<Arc<crate::identity::Provider>>),
    /// `set-credentials NAME` (gatehouse only, `proto pgsql` binds): the login the proxy
    /// uses toward the server; the first matching one wins; not final.
    SetCredentials(Arc<crate::config::credentials::Credentials>),
    /// `track-sc*` (not final): the counter, the table and the key.
    Track(usize, String, SampleExpr),
    /// `sc-inc-gpc*` / `sc-set-gpt0` (not final), with the value's expression.
    Sc(crate::config::model::ScAction, Option<SampleExpr>),
}

/// One compiled `tcp-request connection|content` rule.
#[derive(Debug)]
pub struct TcpRuleRt {
    /// The rule's line.
    pub span: Span,
    /// What it does.
    pub action: TcpAction,
    /// When.
    pub cond: Cond,
}

/// Runs a `track-sc*`, `sc-inc-gpc*` or `sc-set-gpt0` action through the stream's
/// live state (`http`: count a request in a newly tracked entry).
pub fn stick_action(
    track: Option<(usize, &str, &SampleExpr)>,
    sc: Option<(&crate::config::model::ScAction, Option<&SampleExpr>)>,
    src: &dyn SampleSource,
    http: bool,
) {
    use crate::acl::{StickAt, StickOp};
    use crate::config::model::ScAction;
    let Some(live) = src.live() else { return };
    if let Some((slot, table, key)) = track {
        if key.is_src() {
            // The common rate-limit key, without the generic sample evaluation.
            if let Some(a) = src.src() {
                live.stick_track(slot, table, crate::acl::StickKey::Ip(a.ip()), http);
            }
        } else {
            key.eval_key(src, &mut |k| live.stick_track(slot, table, k, http));
        }
    }
    match sc {
        Some((ScAction::IncGpc { idx, slot }, _)) => {
            live.stick(StickAt::Slot(usize::from(*slot), None), StickOp::Inc(*idx));
        }
        Some((ScAction::SetGpt0 { idx, slot, value }, expr)) => {
            let v = match expr {
                None => value.parse::<i64>().ok(),
                Some(e) => {
                    let mut v = None;
                    e.eval_key(src, &mut |k| {
                        v = match k {
                            crate::acl::StickKey::Int(n) => Some(n),
                            crate::acl::StickKey::Str(s) => crate::acl::str_to_int(s),
                            crate::acl::StickKey::Ip(_) => None,
                        }
                    });
                    v
                }
            };
            if let Some(v) = v {
                let op = match idx {
                    None => StickOp::SetGpt0(v),
                    Some(i) => StickOp::SetGpt(*i, v),
                };
                live.stick(StickAt::Slot(usize::from(*slot), None), op);
            }
        }
        None => {}
    }
}

/// Compiles the `tcp-request` rules of one stage (`connection` or `content`); the
/// sections `authenticate` and `set-credentials` name are taken from `ids` and
/// `config` (checked to exist at load).
pub fn compile_tcp(
    set: &AclSet,
    rules: &[TcpRequestRule],
    stage: &str,
    ids: &crate::identity::Identities,
    config: &crate::config::model::Config,
) -> Result<Vec<TcpRuleRt>, (Span, String)> {
    rules
        .iter()
        .filter(|r| r.stage == stage)
        .map(|r| {
            let expr = |t: &str| {
                SampleExpr::parse(t).map_err(|e| {
                    (
                        r.span.clone(),
                        format!("failed to parse sample expression <{t}> : {e}"),
                    )
                })
            };
            let track = match &r.track {
                Some(t) => Some((usize::from(t.slot), t.table.clone(), expr(&t.key)?)),
                None => None,
            };
            let sc = match &r.sc {
                Some(a @ crate::config::model::ScAction::SetGpt0 { value, .. })
                    if value.parse::<i64>().is_err() =>
                {
                    Some((a.clone(), Some(expr(value)?)))
                }
                Some(a) => Some((a.clone(), None)),
                None => None,
            };
            let action = if let Some((slot, table, key)) = track {
                TcpAction::Track(slot, table, key)
            } else if let Some((act, value)) = sc {
                TcpAction::Sc(act, value)
            } else {
                match r.action.as_str() {
                    "accept" => TcpAction::Accept,
                    "expect-proxy" => TcpAction::ExpectProxy,
                    "authenticate" => TcpAction::Authenticate(
                        r.args.iter().filter_map(|n| ids.get(n).cloned()).collect(),
                    ),
                    "set-credentials" => {
                        let name = r.args.first().map(String::as_str).unwrap_or("");
                        let c = config.credentials(name).ok_or_else(|| {
                            (
                                r.span.clone(),
                                format!("no such credentials section '{name}'."),
                            )
                        })?;
                        TcpAction::SetCredentials(Arc::new(c.clone()))
                    }
                    _ => TcpAction::Reject,
                }
            };
            Ok(TcpRuleRt {
                span: r.span.clone(),
                action,
                cond: Cond::compile(set, r.cond.as_ref())?,
            })
        })
        .collect()
}

/// Whether `tcp-request content` rules can decide on the payload seen through `src`
/// while it may still grow: false when a rule before the deciding one (the first
/// matching `accept` or `reject`) has a condition that may still change (`req.len`,
/// `wait_end`), which HAProxy waits out until the inspect delay ends.
pub fn content_decided(rules: &[TcpRuleRt], src: &dyn SampleSource) -> bool {
    for r in rules {
        match r.cond.matches_partial(src, true) {
            None => return false,
            Some(true) if matches!(r.action, TcpAction::Accept | TcpAction::Reject) => {
                return true;
            }
            _ => {}
        }
    }
    true
}

/// Evaluates tcp rules: the first matching rule decides; none matching accepts.
pub fn tcp_verdict(rules: &[TcpRuleRt], src: &dyn SampleSource) -> bool {
    connection_verdict(rules, src).is_some()
}

/// Evaluates `tcp-request connection` rules: `None` when the connection is rejected,
/// else whether a matching `expect-proxy layer4` rule asked for a PROXY header (those
/// rules are not final: evaluation goes on).
pub fn connection_verdict(rules: &[TcpRuleRt], src: &dyn SampleSource) -> Option<bool> {
    let mut expect = false;
    for r in rules {
        if r.cond.matches(src) {
            match r.action {
                TcpAction::ExpectProxy => expect = true,
                TcpAction::Accept => return Some(expect),
                TcpAction::Reject => return None,
                // Only on `proto pgsql` binds, which run them themselves.
                TcpAction::Authenticate(_) | TcpAction::SetCredentials(_) => {}
                TcpAction::Track(n, ref t, ref e) => {
                    stick_action(Some((n, t.as_str(), e)), None, src, false)
                }
                TcpAction::Sc(ref a, ref e) => {
                    stick_action(None, Some((a, e.as_ref())), src, false)
                }
            }
        }
    }
    Some(expect)
}
