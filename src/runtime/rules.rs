//! Compiled `http-request`/`http-response` and `tcp-request` rules: the action from the
//! model and its condition compiled once at load.

use crate::acl::{AclSet, CompiledCondition, SampleSource};
use crate::config::model::{Condition, HttpAction, HttpRule, ReturnBody, TcpRequestRule};
use crate::config::span::Span;

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
    /// The full response of a `return` rule, built once at load.
    pub prebuilt: Option<Vec<u8>>,
}

/// The HTTP rules of one proxy section, in order.
#[derive(Debug, Default)]
pub struct HttpRules {
    /// The rules.
    pub rules: Vec<HttpRuleRt>,
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

/// Builds the response bytes of an `http-request return`/`deny` with a static payload.
/// `lf-string` bodies are rendered per request (not prebuilt).
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
    let mut out = Vec::with_capacity(128 + payload.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    out.extend_from_slice(format!("content-length: {}\r\n", payload.len()).as_bytes());
    if let Some(ct) = content_type {
        out.extend_from_slice(format!("content-type: {ct}\r\n").as_bytes());
    }
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(payload);
    Some(out)
}

impl HttpRules {
    /// Compiles a section's rules.
    pub fn compile(set: &AclSet, rules: &[HttpRule]) -> Result<Self, (Span, String)> {
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            let prebuilt = match &r.action {
                HttpAction::Return {
                    status,
                    content_type,
                    body,
                    headers,
                } => build_return(*status, content_type.as_deref(), body, headers),
                _ => None,
            };
            out.push(HttpRuleRt {
                action: r.action.clone(),
                cond: Cond::compile(set, r.cond.as_ref())?,
                prebuilt,
            });
        }
        Ok(HttpRules { rules: out })
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
