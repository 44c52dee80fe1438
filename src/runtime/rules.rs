//! Compiled `http-request`/`http-response` and `tcp-request` rules: the action from the
//! model and its condition compiled once at load.

use crate::acl::{AclSet, CompiledCondition, SampleSource};
use crate::config::model::{Condition, HttpAction, HttpRule, ReturnBody, TcpRequestRule};
use crate::config::span::Span;
use crate::log::{FormatContext, LogFormatSpec};
use std::cell::RefCell;
use std::io::Write;

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
    /// True when there is no condition or it matches.
    pub fn matches(&self, src: &dyn SampleSource) -> bool {
        self.0.as_ref().is_none_or(|c| c.eval(src))
    }
}

/// One compiled HTTP rule.
#[derive(Debug)]
pub struct HttpRuleRt {
    /// What to do.
    pub action: HttpAction,
    /// When.
    pub cond: Cond,
    /// The full response of a `return` rule, built once at load when nothing in it
    /// depends on the request.
    pub prebuilt: Option<Vec<u8>>,
    /// The log-formats of the rule, when it has some rendered per request.
    pub lf: Option<LfAction>,
}

/// The per-request part of a rule: log-formats compiled once at load.
#[derive(Debug)]
pub enum LfAction {
    /// A `return` whose payload or `hdr` values are log-formats.
    Return(LfReturn),
    /// The value of `set-header`/`add-header` when it has variables.
    Value(LogFormatSpec),
}

/// A `return` rendered per request.
#[derive(Debug)]
pub struct LfReturn {
    /// The status, for `%ST`.
    pub status: u16,
    /// `HTTP/1.1 <status> <reason>\r\n`.
    pub status_line: Vec<u8>,
    /// `hdr` lines: the lower-cased name followed by `: `, and the value's format.
    pub headers: Vec<(Vec<u8>, LogFormatSpec)>,
    /// `content-type: …\r\n`, if any.
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
}

/// HAProxy's reason phrase for a status code.
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

/// Builds the response bytes of an `http-request return` whose payload and `hdr`
/// values have no variables; `None` when something must be rendered per request.
/// HAProxy's layout: status line, the `hdr` headers (names lower-cased), then
/// `content-length` (omitted for 204) and `content-type`.
pub fn build_return(
    status: u16,
    content_type: Option<&str>,
    body: &ReturnBody,
    headers: &[(String, String)],
) -> Option<Vec<u8>> {
    let payload: &[u8] = match body {
        ReturnBody::None => b"",
        ReturnBody::String(s) => s.as_bytes(),
        ReturnBody::File(f) => f,
        ReturnBody::ErrorFile(f) => return Some(f.clone()),
        ReturnBody::LfString(_) => return None,
    };
    let mut lit = Vec::with_capacity(headers.len());
    for (n, v) in headers {
        let spec = LogFormatSpec::compile_in(v, FormatContext::HttpRequest).ok();
        lit.push((n, spec.and_then(|s| s.literal())?));
    }
    let mut out = Vec::with_capacity(128 + payload.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    for (n, v) in lit {
        out.extend_from_slice(format!("{}: {v}\r\n", n.to_ascii_lowercase()).as_bytes());
    }
    finish_return(&mut out, status, content_type.map(str::as_bytes), payload);
    Some(out)
}

/// Appends `content-length`, `content-type`, the blank line and the payload.
fn finish_return(out: &mut Vec<u8>, status: u16, content_type: Option<&[u8]>, payload: &[u8]) {
    if status != 204 {
        let _ = write!(out, "content-length: {}\r\n", payload.len());
    }
    if let Some(ct) = content_type {
        out.extend_from_slice(b"content-type: ");
        out.extend_from_slice(ct);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(payload);
}

thread_local! {
    /// Scratch space for rendered payloads, reused across requests.
    static BODY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl LfReturn {
    fn compile(
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
            ReturnBody::None | ReturnBody::ErrorFile(_) => LfBody::Static(Vec::new()),
        };
        let headers = headers
            .iter()
            .map(|(n, v)| {
                let mut name = n.to_ascii_lowercase().into_bytes();
                name.extend_from_slice(b": ");
                Ok((name, LogFormatSpec::compile_in(v, ctx)?))
            })
            .collect::<Result<_, String>>()?;
        Ok(LfReturn {
            status,
            status_line: format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes(),
            headers,
            content_type: content_type.map(|c| c.as_bytes().to_vec()),
            body,
        })
    }

    /// Renders the response for the request seen through `src`.
    pub fn render(&self, src: &dyn SampleSource, frontend: &str, backend: &str) -> Vec<u8> {
        let st = i32::from(self.status);
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&self.status_line);
        for (name, fmt) in &self.headers {
            out.extend_from_slice(name);
            fmt.render_request(src, frontend, backend, st, &mut out);
            out.extend_from_slice(b"\r\n");
        }
        let ct = self.content_type.as_deref();
        match &self.body {
            LfBody::Static(b) => finish_return(&mut out, self.status, ct, b),
            LfBody::Format(fmt) => BODY.with(|cell| {
                let mut local = Vec::new();
                let mut guard = cell.try_borrow_mut().ok();
                let body: &mut Vec<u8> = match guard.as_deref_mut() {
                    Some(b) => b,
                    None => &mut local,
                };
                body.clear();
                fmt.render_request(src, frontend, backend, st, body);
                out.reserve_exact(body.len() + 64);
                finish_return(&mut out, self.status, ct, body);
            }),
        }
        out
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
            let prebuilt = match &r.action {
                HttpAction::Return {
                    status,
                    content_type,
                    body,
                    headers,
                } => {
                    let pre = build_return(*status, content_type.as_deref(), body, headers);
                    if pre.is_none() {
                        let ret =
                            LfReturn::compile(*status, content_type.as_deref(), body, headers, ctx)
                                .map_err(|e| (r.span.clone(), e))?;
                        lf = Some(LfAction::Return(ret));
                    }
                    pre
                }
                HttpAction::SetHeader(_, v) | HttpAction::AddHeader(_, v) => {
                    let spec =
                        LogFormatSpec::compile_in(v, ctx).map_err(|e| (r.span.clone(), e))?;
                    if !spec.is_literal() {
                        lf = Some(LfAction::Value(spec));
                    }
                    None
                }
                _ => None,
            };
            out.push(HttpRuleRt {
                action: r.action.clone(),
                cond: Cond::compile(set, r.cond.as_ref())?,
                prebuilt,
                lf,
            });
        }
        Ok(HttpRules {
            rules: out,
            frontend: frontend.to_string(),
            backend: backend.to_string(),
        })
    }
    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// One compiled `tcp-request connection|content accept|reject` rule.
#[derive(Debug)]
pub struct TcpRuleRt {
    /// `accept` (true) or `reject`.
    pub accept: bool,
    /// When.
    pub cond: Cond,
}

/// Compiles the `tcp-request` rules of one stage (`connection` or `content`).
pub fn compile_tcp(
    set: &AclSet,
    rules: &[TcpRequestRule],
    stage: &str,
) -> Result<Vec<TcpRuleRt>, (Span, String)> {
    rules
        .iter()
        .filter(|r| r.stage == stage)
        .map(|r| {
            Ok(TcpRuleRt {
                accept: r.action == "accept",
                cond: Cond::compile(set, r.cond.as_ref())?,
            })
        })
        .collect()
}

/// Evaluates tcp rules: the first matching rule decides; none matching accepts.
pub fn tcp_verdict(rules: &[TcpRuleRt], src: &dyn SampleSource) -> bool {
    for r in rules {
        if r.cond.matches(src) {
            return r.accept;
        }
    }
    true
}
