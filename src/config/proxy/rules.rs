//! Routing and rule keywords: `acl`, `use_backend`, `default_backend`, `http-request`,
//! `http-response`, `tcp-request`. Conditions are parsed into syntax trees
//! ([`crate::config::condition::parse_condition`]); the ACL engine compiles them.

use crate::config::condition::parse_condition;
use crate::config::keyword::{ALL, BE, DEF, FE, FRONT, LI, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::{
    AclDef, AclExpr, Condition, HttpAction, HttpRule, ReturnBody, TcpRequestRule, UseBackend,
};
use crate::config::semantics::FormatContext;
use crate::config::span::Span;
use crate::config::value::duration;

/// Splits `words` at the first `if`/`unless` and parses the condition after it.
pub(super) fn split_cond(
    words: &[String],
    start: usize,
    span: &Span,
    what: &str,
) -> Result<(usize, Option<Condition>), String> {
    match words[start.min(words.len())..]
        .iter()
        .position(|w| w == "if" || w == "unless")
    {
        Some(rel) => {
            let cut = start + rel;
            let cond = parse_condition(&words[cut..], span)
                .map_err(|e| format!("error detected while parsing {what} condition : {e}"))?;
            Ok((cut, Some(cond)))
        }
        None => Ok((words.len(), None)),
    }
}

fn acl(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let name = words.get(1).ok_or("'acl' expects an ACL name.")?;
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
    {
        return Err(format!(
            "character '{bad}' is not permitted in acl name '{name}'."
        ));
    }
    if words.len() < 3 {
        return Err(format!("'acl {name}' : missing fetch method."));
    }
    ctx.proxy.acls.push(AclDef {
        name: name.clone(),
        expr: AclExpr {
            span: ctx.span.clone(),
            words: words[2..].to_vec(),
        },
    });
    Ok(())
}

fn use_backend(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let backend = words
        .get(1)
        .ok_or("'use_backend' expects a backend name.")?;
    // A name with `%` is a log-format resolved per request (HAProxy parses every
    // name as one; a format of plain text stays a static name).
    let dynamic = backend.contains('%');
    if dynamic {
        ctx.sem
            .log_format(backend, FormatContext::FrontendRequest)
            .map_err(|e| format!("failed to parse use_backend rule '{backend}' : {e}."))?;
    }
    let (cut, cond) = split_cond(words, 2, ctx.span, "switching rule")?;
    if cut != 2 {
        return Err(format!(
            "'use_backend' : unexpected argument '{}' (expects 'if' or 'unless').",
            words[2]
        ));
    }
    ctx.proxy.use_backends.push(UseBackend {
        span: ctx.span.clone(),
        backend: backend.clone(),
        dynamic,
        cond,
    });
    Ok(())
}

fn default_backend(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let backend = words
        .get(1)
        .ok_or("'default_backend' expects a backend name.")?;
    if let Some(x) = words.get(2) {
        return Err(format!(
            "'default_backend' cannot handle unexpected argument '{x}'."
        ));
    }
    ctx.proxy.default_backend = Some((backend.clone(), ctx.span.clone()));
    Ok(())
}

/// Every `http-request` action of HAProxy 2.6 (for "not supported yet" versus "unknown").
const HTTP_REQUEST_ACTIONS: &[&str] = &[
    "add-acl",
    "add-header",
    "allow",
    "auth",
    "cache-use",
    "capture",
    "del-acl",
    "del-header",
    "del-map",
    "deny",
    "disable-l7-retry",
    "do-resolve",
    "early-hint",
    "normalize-uri",
    "redirect",
    "reject",
    "replace-header",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "replace-value",
    "return",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt",
    "sc-set-gpt0",
    "send-spoe-group",
    "set-dst",
    "set-dst-port",
    "set-header",
    "set-log-level",
    "set-map",
    "set-mark",
    "set-method",
    "set-nice",
    "set-path",
    "set-pathq",
    "set-priority-class",
    "set-priority-offset",
    "set-query",
    "set-src",
    "set-src-port",
    "set-timeout",
    "set-tos",
    "set-uri",
    "set-var",
    "set-var-fmt",
    "silent-drop",
    "strict-mode",
    "tarpit",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "unset-var",
    "use-service",
    "wait-for-body",
    "wait-for-handshake",
];

/// Every `http-response` action of HAProxy 2.6.
const HTTP_RESPONSE_ACTIONS: &[&str] = &[
    "add-acl",
    "add-header",
    "allow",
    "cache-store",
    "capture",
    "del-acl",
    "del-header",
    "del-map",
    "deny",
    "redirect",
    "replace-header",
    "replace-value",
    "return",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt",
    "sc-set-gpt0",
    "send-spoe-group",
    "set-header",
    "set-log-level",
    "set-map",
    "set-mark",
    "set-nice",
    "set-status",
    "set-tos",
    "set-var",
    "set-var-fmt",
    "silent-drop",
    "strict-mode",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "unset-var",
    "wait-for-body",
];

/// Every `http-after-response` action of HAProxy 2.6.
const HTTP_AFTER_RESPONSE_ACTIONS: &[&str] = &[
    "add-header",
    "allow",
    "capture",
    "del-header",
    "replace-header",
    "replace-value",
    "set-header",
    "set-status",
    "set-var",
    "set-var-fmt",
    "strict-mode",
    "unset-var",
];

/// Which rule list an HTTP rule line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `http-request`.
    Request,
    /// `http-response`.
    Response,
    /// `http-after-response`.
    After,
}

fn base_action(a: &str) -> &str {
    a.split_once('(').map(|(b, _)| b).unwrap_or(a)
}

/// Checks that `fmt` compiles as a log-format for an HTTP action of `kwd` (the rule
/// keeps the text; the runtime compiles it again), with HAProxy's error wording.
/// The log-format compiler is reached through [`ProxyCtx::sem`].
fn check_format(ctx: &ProxyCtx<'_>, kwd: &str, act: &str, fmt: &str) -> Result<(), String> {
    let fc = if kwd != "http-request" {
        FormatContext::HttpResponse
    } else {
        FormatContext::HttpRequest
    }
    .in_proxy(ctx.proxy.kind);
    ctx.sem.log_format(fmt, fc).map_err(|e| {
        format!(
            "error detected in {} '{}' while parsing '{kwd} {act}' rule : {e}.",
            ctx.proxy.kind.keyword(),
            ctx.proxy.name
        )
    })
}

/// Parses the options of `return` and `deny` (`status`, `deny_status`, `content-type`,
/// `string`, `lf-string`, `file`, `errorfile`, `hdr`) up to the condition.
fn parse_return(
    ctx: &ProxyCtx<'_>,
    words: &[String],
    start: usize,
    end: usize,
    deny: bool,
) -> Result<HttpAction, String> {
    let act = &words[1];
    let haproxy_err = |e: &str| {
        format!(
            "error detected in {} '{}' while parsing '{} {act}' rule : {e}",
            ctx.proxy.kind.keyword(),
            ctx.proxy.name,
            words[0]
        )
    };
    let mut status = if deny { 403 } else { 200 };
    let mut content_type = None;
    let mut body = ReturnBody::None;
    let mut headers = Vec::new();
    let mut i = start;
    let val = |i: usize, what: &str| -> Result<&String, String> {
        words
            .get(i + 1)
            .filter(|_| i + 1 < end)
            .ok_or_else(|| format!("'{act}' : missing argument after '{what}'."))
    };
    while i < end {
        let w = words[i].as_str();
        match w {
            "status" | "deny_status" => {
                // HAProxy reads the code with atol(): "abc" is 0.
                let v = atol(val(i, w)?);
                status = u16::try_from(v)
                    .ok()
                    .filter(|s| (200..=599).contains(s))
                    .ok_or_else(|| format!("Unexpected status code '{v}'."))?;
                i += 2;
            }
            "content-type" => {
                content_type = Some(val(i, w)?.clone());
                i += 2;
            }
            "string" => {
                body = ReturnBody::String(val(i, w)?.clone());
                i += 2;
            }
            "lf-string" => {
                let v = val(i, w)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| haproxy_err("'lf-string' expects <fmt> as argument."))?;
                check_format(ctx, &words[0], act, v)?;
                body = ReturnBody::LfString(v.clone());
                i += 2;
            }
            "lf-file" => {
                let f = val(i, w)?;
                let data = std::fs::read(ctx.resolve(f))
                    .map_err(|_| haproxy_err(&format!("error opening file '{f}'.")))?;
                let text = String::from_utf8(data).map_err(|_| {
                    haproxy_err(&format!("'lf-file' : file '{f}' is not valid UTF-8 text."))
                })?;
                check_format(ctx, &words[0], act, &text)?;
                body = ReturnBody::LfString(text);
                i += 2;
            }
            "file" => {
                let f = val(i, w)?;
                let data = std::fs::read(ctx.resolve(f))
                    .map_err(|e| format!("'{act}' : failed to read file '{f}' ({e})."))?;
                body = ReturnBody::File(data);
                i += 2;
            }
            "errorfile" => {
                let f = val(i, w)?;
                let data = std::fs::read(ctx.resolve(f))
                    .map_err(|e| format!("'{act}' : failed to read errorfile '{f}' ({e})."))?;
                let reply = ctx
                    .sem
                    .errorfile(&data)
                    .map_err(|e| haproxy_err(&format!("'{f}': {e}.")))?;
                body = ReturnBody::ErrorFile(reply);
                i += 2;
            }
            "default-errorfiles" => {
                body = ReturnBody::Default;
                i += 1;
            }
            "errorfiles" => {
                body = ReturnBody::Section(val(i, w)?.clone());
                i += 2;
            }
            "hdr" => {
                let n = val(i, w)?.clone();
                let v = words
                    .get(i + 2)
                    .filter(|_| i + 2 < end)
                    .ok_or_else(|| format!("'{act}' : 'hdr' expects a name and a value."))?;
                check_format(ctx, &words[0], act, v)?;
                headers.push((n, v.clone()));
                i += 3;
            }
            x => {
                return Err(format!(
                    "'{act}' : expects [status <code>] [content-type <type>] [string|lf-string|file|errorfile <arg>] [hdr <name> <value>]* (got '{x}')."
                ));
            }
        }
    }
    if content_type.is_some() && matches!(body, ReturnBody::None) {
        return Err(format!(
            "'{act}' : content-type is set but no payload was given."
        ));
    }
    if matches!(body, ReturnBody::LfString(_)) && content_type.is_none() {
        return Err(haproxy_err(
            "a content type must be defined with a log-format payload.",
        ));
    }
    if matches!(body, ReturnBody::Default | ReturnBody::Section(_))
        && !crate::config::proxy::errors::ERRORFILE_CODES.contains(&status)
    {
        return Err(haproxy_err(&format!(
            "status code '{status}' not handled by default with '{}' argument.",
            if matches!(body, ReturnBody::Default) {
                "default-errorfiles"
            } else {
                "errorfiles"
            }
        )));
    }
    if !matches!(
        body,
        ReturnBody::None | ReturnBody::ErrorFile(_) | ReturnBody::Default | ReturnBody::Section(_)
    ) && content_type.is_none()
        && !deny
    {
        return Err(format!(
            "'{act}' : a payload requires a content-type (use 'content-type')."
        ));
    }
    if deny && matches!(body, ReturnBody::Section(_)) {
        return Err(format!(
            "'{act}' : 'errorfiles' is not supported yet by gatehouse with 'deny'."
        ));
    }
    Ok(if deny {
        HttpAction::Deny { status }
    } else {
        HttpAction::Return {
            status,
            content_type,
            body,
            headers,
        }
    })
}

/// C's `atol()`: the leading integer of `s` (after blanks, with a sign), 0 when none.
fn atol(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg { -n } else { n }
}

/// HAProxy's wording for an action's error: `error detected in frontend 'fe' while
/// parsing 'http-request ACT' rule : MESSAGE.` (`e` without its `'ACT' :` prefix).
fn rule_error(ctx: &ProxyCtx<'_>, kwd: &str, act: &str, e: &str) -> String {
    let base = base_action(act);
    let e = [
        format!("'{act}' : "),
        format!("'{base}' : "),
        format!("'{base}': "),
        format!("'{base}' "),
    ]
    .iter()
    .find_map(|p| e.strip_prefix(p.as_str()))
    .unwrap_or(e)
    .trim_end_matches('.');
    format!(
        "error detected in {} '{}' while parsing '{kwd} {act}' rule : {e}.",
        ctx.proxy.kind.keyword(),
        ctx.proxy.name
    )
}

fn http_rule(ctx: &mut ProxyCtx<'_>, words: &[String], phase: Phase) -> Result<(), String> {
    let kwd = words[0].as_str();
    let response = phase != Phase::Request;
    let table = match phase {
        Phase::Request => HTTP_REQUEST_ACTIONS,
        Phase::Response => HTTP_RESPONSE_ACTIONS,
        Phase::After => HTTP_AFTER_RESPONSE_ACTIONS,
    };
    // HAProxy 2.6 keeps HTTP rules only in named `defaults` sections.
    if ctx.proxy.kind == crate::config::model::ProxyKind::Defaults && ctx.proxy.name.is_empty() {
        return Err(format!(
            "'{kwd}' not allowed in anonymous 'defaults' section."
        ));
    }
    let Some(act) = words.get(1) else {
        return Err(format!(
            "'{kwd}' expects an action, such as {}.",
            table.join(", ")
        ));
    };
    let what = format!("an '{kwd} {act}'");
    let (cut, cond) = split_cond(words, 2, ctx.span, &what)?;
    let n_args = cut - 2;
    let exact = |n: usize| -> Result<(), String> {
        if n_args != n {
            let s = if n == 1 { "" } else { "s" };
            return Err(format!("'{act}' expects exactly {n} argument{s}."));
        }
        Ok(())
    };
    // `authenticate` is gatehouse's own action (identity sections), not in HAProxy's list.
    let known = table.contains(&base_action(act))
        || (phase == Phase::Request && act.as_str() == "authenticate");
    let action = match act.as_str() {
        a if !known => {
            let hint = crate::config::suggest::closest(a, table.iter().copied())
                .map(|c| format!(" (did you mean '{c}' ?)"))
                .unwrap_or_default();
            return Err(format!(
                "'{kwd}' expects {}, but got '{a}'{hint}.",
                table
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        "allow" => {
            exact(0)?;
            HttpAction::Allow
        }
        "deny" => parse_return(ctx, words, 2, cut, true)?,
        "return" => parse_return(ctx, words, 2, cut, false)?,
        "set-header" => {
            exact(2)?;
            check_format(ctx, kwd, act, &words[3])?;
            HttpAction::SetHeader(words[2].clone(), words[3].clone())
        }
        "add-header" => {
            exact(2)?;
            check_format(ctx, kwd, act, &words[3])?;
            HttpAction::AddHeader(words[2].clone(), words[3].clone())
        }
        "del-header" => super::actions::del_header(&words[2..cut])?,
        "redirect" => {
            let rd = super::actions::redirect(&words[2..cut], response)?;
            // The location, prefix or scheme is a log-format, checked like the others.
            check_format(ctx, kwd, act, &rd.value)?;
            HttpAction::Redirect(rd)
        }
        "auth" if !response => super::actions::auth(&words[2..cut])?,
        "authenticate" if !response => super::actions::authenticate(&words[2..cut])?,
        "tarpit" if !response => super::actions::tarpit(&words[2..cut])?,
        "replace-header" => super::actions::replace(&words[2..cut], false)?,
        "replace-value" => super::actions::replace(&words[2..cut], true)?,
        "set-status" if response => super::actions::set_status(&words[2..cut])?,
        "set-timeout" if phase == Phase::Request => {
            let act = super::actions::set_timeout(&words[2..cut], ctx.proxy)
                .map_err(|e| rule_error(ctx, kwd, act, &e))?;
            if let HttpAction::SetTimeout { value, .. } = &act
                && duration(value, "set-timeout").is_err()
            {
                ctx.sem
                    .log_format(
                        &format!("%[{value}]"),
                        FormatContext::HttpRequest.in_proxy(ctx.proxy.kind),
                    )
                    .map_err(|e| {
                        let e = e
                            .split_once("> : ")
                            .map_or(e.clone(), |(_, t)| t.to_string());
                        rule_error(ctx, kwd, "set-timeout", &e)
                    })?;
            }
            act
        }
        "wait-for-body" if matches!(phase, Phase::Request | Phase::Response) => {
            super::actions::wait_for_body(&words[2..cut])
                .map_err(|e| rule_error(ctx, kwd, act, &e))?
        }
        "normalize-uri" if phase == Phase::Request => super::actions::normalize_uri(&words[2..cut])
            .map_err(|e| rule_error(ctx, kwd, "normalize-uri", &e))?,
        "set-log-level" if phase != Phase::After => super::actions::set_log_level(&words[2..cut])?,
        "capture" => {
            let act = super::actions::capture(&words[2..cut], ctx.proxy, response)
                .map_err(|e| rule_error(ctx, kwd, "capture", &e))?;
            if let HttpAction::Capture { expr, .. } = &act {
                let fc = if response {
                    FormatContext::HttpResponse
                } else {
                    FormatContext::HttpRequest
                }
                .in_proxy(ctx.proxy.kind);
                ctx.sem.log_format(&format!("%[{expr}]"), fc).map_err(|e| {
                    let e = e
                        .split_once("> : ")
                        .map_or(e.clone(), |(_, t)| t.to_string());
                    format!(
                        "error detected in {} '{}' while parsing '{kwd} capture' rule : {e}.",
                        ctx.proxy.kind.keyword(),
                        ctx.proxy.name
                    )
                })?;
            }
            act
        }
        "use-service" if !response => {
            exact(1)?;
            if words[2] != "prometheus-exporter" {
                return Err(format!(
                    "error detected in {} '{}' while parsing '{kwd} {act}' rule : '{}' unknown service name.",
                    ctx.proxy.kind.keyword(),
                    ctx.proxy.name,
                    words[2]
                ));
            }
            HttpAction::UsePrometheus
        }
        a if super::actions::var(a, &[]).is_some() => {
            let act =
                super::actions::var(a, &words[2..cut]).unwrap_or_else(|| Err(String::new()))?;
            // The expression is checked as the sample of a log-format; the error is
            // HAProxy's, about the expression alone.
            if let HttpAction::SetVar { expr, fmt, .. } = &act {
                let f = if *fmt {
                    expr.clone()
                } else {
                    format!("%[{expr}]")
                };
                let fc = if response {
                    FormatContext::HttpResponse
                } else {
                    FormatContext::HttpRequest
                }
                .in_proxy(ctx.proxy.kind);
                ctx.sem.log_format(&f, fc).map_err(|e| {
                    let e = match e.split_once("> : ") {
                        Some((_, tail)) if !*fmt => tail.to_string(),
                        _ => e,
                    };
                    format!(
                        "error detected in {} '{}' while parsing '{kwd} {a}' rule : {e}.",
                        ctx.proxy.kind.keyword(),
                        ctx.proxy.name
                    )
                })?;
            }
            act
        }
        a if a.starts_with("track-sc") && phase != Phase::After => HttpAction::TrackSc(
            crate::config::model::parse_track(a, &words[2..cut], &ctx.proxy.name)
                .map_err(|e| rule_error(ctx, kwd, a, &e))?,
        ),
        a if (a.starts_with("sc-inc-gpc") || a.starts_with("sc-set-gpt"))
            && phase != Phase::After =>
        {
            HttpAction::Sc(
                crate::config::model::parse_sc_action(a, &words[2..cut])
                    .map_err(|e| rule_error(ctx, kwd, a, &e))?,
            )
        }
        a if !response && super::actions::set_line(a, &[]).is_some() => {
            super::actions::set_line(a, &words[2..cut]).unwrap_or_else(|| Err(String::new()))?
        }
        a => {
            return Err(format!(
                "'{kwd} {a}' is a HAProxy action that gatehouse does not support yet."
            ));
        }
    };
    let rule = HttpRule {
        span: ctx.span.clone(),
        action,
        cond,
    };
    match phase {
        Phase::Request => ctx.proxy.http_request.push(rule),
        Phase::Response => ctx.proxy.http_response.push(rule),
        Phase::After => ctx.proxy.http_after_response.push(rule),
    }
    Ok(())
}

/// [`http_rule`] with HAProxy's wording for the errors of an action's arguments
/// (`error detected in frontend 'fe' while parsing 'http-request ACT' rule : …`);
/// the errors about the keyword itself (unknown action, not supported yet, the
/// condition) keep theirs.
fn http_rule_worded(ctx: &mut ProxyCtx<'_>, words: &[String], phase: Phase) -> Result<(), String> {
    http_rule(ctx, words, phase).map_err(|e| {
        let kwd = words[0].as_str();
        match words.get(1) {
            Some(act) if !e.starts_with("error detected") && !e.starts_with(&format!("'{kwd}")) => {
                rule_error(ctx, kwd, act, &e)
            }
            _ => e,
        }
    })
}

fn http_request(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    http_rule_worded(ctx, words, Phase::Request)
}

fn http_response(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    http_rule_worded(ctx, words, Phase::Response)
}

fn http_after_response(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    http_rule_worded(ctx, words, Phase::After)
}

/// The `redirect` keyword: `redirect location|prefix|scheme VALUE [code N] [option…]
/// [if|unless COND]`, kept in its own list that runs after the proxy's `http-request`
/// rules. Its value is literal text (not a log-format, unlike `http-request
/// redirect`): it is stored escaped.
fn redirect(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let (cut, cond) = split_cond(words, 1, ctx.span, "a 'redirect' rule")?;
    let mut r = super::actions::redirect(&words[1..cut], false)?;
    r.value = r.value.replace('%', "%%");
    ctx.proxy.redirects.push(HttpRule {
        span: ctx.span.clone(),
        action: HttpAction::Redirect(r),
        cond,
    });
    Ok(())
}

fn tcp_request(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let stage = words
        .get(1)
        .ok_or("'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay'.")?;
    match stage.as_str() {
        "inspect-delay" => {
            let v = words
                .get(2)
                .ok_or("'tcp-request inspect-delay' expects a delay.")?;
            duration(v, "tcp-request inspect-delay")?;
            if let Some(x) = words.get(3) {
                return Err(format!(
                    "'tcp-request inspect-delay' cannot handle unexpected argument '{x}'."
                ));
            }
            ctx.proxy.tcp_request.push(TcpRequestRule {
                span: ctx.span.clone(),
                stage: stage.clone(),
                action: v.clone(),
                args: Vec::new(),
                cond: None,
                track: None,
                sc: None,
            });
            return Ok(());
        }
        "connection" | "content" | "session" => {}
        x => {
            return Err(format!(
                "'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay', but got '{x}'."
            ));
        }
    }
    if stage == "connection" && ctx.proxy.kind == crate::config::model::ProxyKind::Backend {
        return Err(format!(
            "tcp-request connection is not allowed because backend {} is not a frontend",
            ctx.proxy.name
        ));
    }
    let act = words
        .get(2)
        .ok_or_else(|| format!("'tcp-request {stage}' expects an action."))?;
    let (cut, cond) = split_cond(words, 3, ctx.span, &format!("a 'tcp-request {stage}' rule"))?;
    let (mut track, mut sc) = (None, None);
    match act.as_str() {
        "accept" | "reject" => {
            if cut != 3 {
                return Err(format!(
                    "'tcp-request {stage} {act}' cannot handle unexpected argument '{}'.",
                    words[3]
                ));
            }
        }
        // gatehouse only, on `bind … proto pgsql` (docs/pgsql.md): the client's password
        // is a bearer token for these `identity` sections; the `credentials` section
        // the proxy logs in to the server with.
        "authenticate" if stage == "content" => {
            if cut == 3 {
                return Err(
                    "'tcp-request content authenticate' expects the name of at least one 'identity' section."
                        .into(),
                );
            }
        }
        "set-credentials" if stage == "content" => {
            if cut != 4 {
                return Err(
                    "'tcp-request content set-credentials' expects the name of one 'credentials' section."
                        .into(),
                );
            }
        }
        "expect-proxy" if stage == "connection" => {
            if words.get(3).map(String::as_str) != Some("layer4") || cut != 4 {
                return Err(format!(
                    "'tcp-request {stage} expect-proxy' expects 'layer4'."
                ));
            }
        }
        a if a.starts_with("track-sc") => {
            track = Some(
                crate::config::model::parse_track(a, &words[3..cut], &ctx.proxy.name)
                    .map_err(|e| format!("'tcp-request {stage} {e}"))?,
            );
        }
        a if a.starts_with("sc-inc-gpc") || a.starts_with("sc-set-gpt") => {
            sc = Some(
                crate::config::model::parse_sc_action(a, &words[3..cut])
                    .map_err(|e| format!("'tcp-request {stage} {e}"))?,
            );
        }
        a => {
            return Err(format!(
                "'tcp-request {stage} {a}' is not supported yet by gatehouse (supported: accept, reject, track-sc0/1/2, sc-inc-gpc0/1, sc-inc-gpc, sc-set-gpt0, sc-set-gpt, expect-proxy layer4 on connections; authenticate and set-credentials on content)."
            ));
        }
    }
    if stage == "session" {
        return Err("'tcp-request session' is not supported yet by gatehouse.".into());
    }
    ctx.proxy.tcp_request.push(TcpRequestRule {
        span: ctx.span.clone(),
        stage: stage.clone(),
        action: act.clone(),
        args: words[3..cut].to_vec(),
        cond,
        track,
        sc,
    });
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "acl",
        ALL,
        acl,
        "declare or complete an access control list",
    ),
    kw(
        "use_backend",
        FE | LI,
        use_backend,
        "switch to a backend when a condition matches",
    ),
    kw(
        "default_backend",
        FRONT,
        default_backend,
        "the backend used when no use_backend rule matches",
    ),
    kw("http-request", ALL, http_request, "HTTP request rules"),
    kw("http-response", ALL, http_response, "HTTP response rules"),
    kw(
        "redirect",
        FE | LI | BE,
        redirect,
        "answer with an HTTP redirect after the http-request rules",
    ),
    kw(
        "http-after-response",
        ALL,
        http_after_response,
        "HTTP rules applied to every response, the proxy's own too",
    ),
    kw(
        "tcp-request",
        DEF | FE | LI | BE,
        tcp_request,
        "TCP request rules (connection, content, inspect-delay)",
    ),
];
