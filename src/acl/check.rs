//! Load-time checks of a proxy's conditions (HAProxy's alerts while parsing): every ACL
//! and condition compiles, and each reads only data available where it is evaluated.
//! The configuration loader calls [`check_conditions`] and [`check_references`] through
//! its `Semantics`.

use super::compile::Criterion;
use super::fetch::proxies::{ProxyArg, proxy_arg};
use super::{AclSet, Visibility};
use crate::config::diag::Diag;
use crate::config::model::{AclExpr, AclRef, Condition, Config, HttpAction, Proxy};

/// Condition errors of one proxy, in line order (HAProxy finds them while parsing).
pub fn check_conditions(p: &Proxy, out: &mut Vec<Diag>) {
    let mut found = Vec::new();
    conditions_unsorted(p, &mut found);
    found.sort_by_key(|d| d.span.as_ref().map(|s| s.line));
    out.append(&mut found);
}

/// The backend fetch (`be_name`) an ACL expression reads, if any.
fn backend_keyword(e: &AclExpr) -> Option<&'static str> {
    let c = Criterion::parse(&e.words).ok()?;
    let def = c.fetch().def;
    def.backend.then_some(def.name)
}

/// HAProxy's warning for a condition of a frontend's rule (`rule`: `http-request
/// header`, `use-backend`, `tcp-request content`, …) that reads the backend, which is
/// not chosen yet there: an anonymous ACL using such a keyword, or a named ACL all of
/// whose lines do. The configuration still loads, as in HAProxy.
fn backend_warnings(p: &Proxy, c: &Condition, rule: &str, tcp: Option<&str>, out: &mut Vec<Diag>) {
    let within = tcp.map_or(String::new(), |t| format!(" in '{t}'"));
    for term in c.any_of.iter().flatten() {
        match &term.acl {
            AclRef::Anonymous(e) => {
                if let Some(kw) = backend_keyword(e) {
                    out.push(Diag::warning(
                        &c.span,
                        format!(
                            "anonymous acl will never match{within} because it uses keyword '{kw}' which is incompatible with 'frontend {rule} rule'"
                        ),
                    ));
                }
            }
            AclRef::Named(name) => {
                let mut lines = p.acls.iter().filter(|a| &a.name == name).peekable();
                if lines.peek().is_some() && lines.all(|a| backend_keyword(&a.expr).is_some()) {
                    out.push(Diag::warning(
                        &c.span,
                        format!(
                            "acl '{name}' will never match{within} because it only involves keywords that are incompatible with 'frontend {rule} rule'"
                        ),
                    ));
                }
            }
        }
    }
}

/// The warnings of [`backend_warnings`] for every request-phase condition of a
/// `frontend` (a `listen` section has its backend from the start).
fn frontend_backend_warnings(p: &Proxy, out: &mut Vec<Diag>) {
    if p.kind != crate::config::model::ProxyKind::Frontend {
        return;
    }
    for c in p.use_backends.iter().filter_map(|u| u.cond.as_ref()) {
        backend_warnings(p, c, "use-backend", None, out);
    }
    for c in p.http_request.iter().filter_map(|r| r.cond.as_ref()) {
        backend_warnings(p, c, "http-request header", None, out);
    }
    // `tcp-request connection` conditions reading more than the connection are
    // refused (`conditions_unsorted`).
    for r in p.tcp_request.iter().filter(|r| r.stage == "content") {
        if let Some(c) = &r.cond {
            backend_warnings(
                p,
                c,
                "tcp-request content",
                Some("tcp-request content"),
                out,
            );
        }
    }
}

fn conditions_unsorted(p: &Proxy, diags: &mut Vec<Diag>) {
    frontend_backend_warnings(p, diags);
    let set = match AclSet::compile(&p.acls) {
        Ok(s) => s,
        Err((span, e)) => {
            diags.push(Diag::alert(&span, e));
            return;
        }
    };
    let http = p.mode == crate::config::model::Mode::Http;
    // `what` is the message prefix HAProxy uses for each rule kind.
    let mut one = |cond: Option<&Condition>, what: String, max: Visibility| {
        let Some(c) = cond else { return };
        match set.condition(c) {
            Ok(cc) if !cc.available_at(max) => diags.push(Diag::alert(
                &c.span,
                format!("{what} : condition uses data that is not available at this stage."),
            )),
            // The payload fetches read `mode tcp` buffers; HAProxy's HTTP
            // counterparts (the HTX buffer) are not implemented.
            Ok(cc) => {
                if let Some(f) = cc.payload_fetch().filter(|_| http) {
                    diags.push(Diag::alert(
                        &c.span,
                        format!(
                            "{what} : fetch '{f}' is not supported yet by gatehouse in 'mode http'."
                        ),
                    ))
                }
            }
            Err((span, e)) => {
                let dot = if e.ends_with('.') { "" } else { "." };
                diags.push(Diag::alert(&span, format!("{what} : {e}{dot}")))
            }
        }
    };
    for ub in &p.use_backends {
        one(
            ub.cond.as_ref(),
            "error detected while parsing switching rule".into(),
            Visibility::Request,
        );
    }
    for (rules, kw, max) in [
        (&p.http_request, "http-request", Visibility::Request),
        (&p.http_response, "http-response", Visibility::Response),
    ] {
        for r in rules {
            let what = format!(
                "error detected while parsing an '{kw} {}' condition",
                action_name(&r.action)
            );
            one(r.cond.as_ref(), what, max);
        }
    }
    for r in &p.tcp_request {
        let max = if r.stage == "connection" {
            Visibility::Connection
        } else {
            Visibility::Request
        };
        let what = format!(
            "'tcp-request {} {}' : error detected in {} '{}' while parsing 'if' condition",
            r.stage,
            r.action,
            p.kind.keyword(),
            p.name
        );
        one(r.cond.as_ref(), what, max);
    }
    for r in p.tcp_response.iter().filter(|r| r.stage == "content") {
        let what = format!(
            "'tcp-response content {}' : error detected in {} '{}' while parsing 'if' condition",
            r.action,
            p.kind.keyword(),
            p.name
        );
        one(r.cond.as_ref(), what, Visibility::Response);
    }
}

/// The keyword of an HTTP rule's action, as written in the configuration.
fn action_name(a: &HttpAction) -> &'static str {
    a.keyword()
}

/// The frontends, backends and servers the live-state fetches of `p`'s ACLs name
/// (`nbsrv(app)`, `srv_is_up(app/s1)`, `fe_conn`, …) must exist with the right
/// capability, as HAProxy resolves them at load: a name left out means `p` itself,
/// which must then be a backend (or a frontend). Every declared ACL is checked, used or
/// not, and every anonymous one; errors are HAProxy's wording.
pub fn check_references(config: &Config, p: &Proxy, out: &mut Vec<Diag>) {
    let mut exprs: Vec<&AclExpr> = p.acls.iter().map(|a| &a.expr).collect();
    let conds = p
        .use_backends
        .iter()
        .filter_map(|u| u.cond.as_ref())
        .chain(p.http_request.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.http_response.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.tcp_request.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.tcp_response.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.monitor_fail.iter());
    for c in conds {
        for term in c.any_of.iter().flatten() {
            if let AclRef::Anonymous(e) = &term.acl {
                exprs.push(e);
            }
        }
    }
    exprs.sort_by_key(|e| e.span.line);
    for e in exprs {
        let Ok(c) = Criterion::parse(&e.words) else {
            continue; // reported by `check_conditions`
        };
        let f = c.fetch();
        if let Some(kind) = proxy_arg(f.def.name)
            && let Err(msg) = resolve(config, p, kind, &f.name, f.def.name)
        {
            out.push(Diag::alert(&e.span, msg));
        }
        if let Some(msg) = missing_table(config, p, f) {
            out.push(Diag::alert(&e.span, msg));
        }
    }
}

/// The stick-table fetches (`sc_*`, `scN_*`, `src_*`, `table_*`) name tables in their
/// string arguments: each must be a proxy with a `stick-table`, as HAProxy resolves it.
fn missing_table(config: &Config, p: &Proxy, f: &super::fetch::FetchCall) -> Option<String> {
    let kw = f.def.name;
    let stick = ["sc_", "sc0_", "sc1_", "sc2_", "src_", "table_"]
        .iter()
        .any(|pre| kw.starts_with(pre));
    if !stick {
        return None;
    }
    f.args.iter().enumerate().find_map(|(i, a)| {
        let super::fetch::ArgVal::Str(t) = a else {
            return None;
        };
        let found = config.proxies.iter().any(|q| {
            q.name == **t
                && q.kind != crate::config::model::ProxyKind::Defaults
                && q.stick_table.is_some()
        });
        (!found).then(|| {
            format!(
                "unable to find table '{t}' referenced in arg {} of ACL keyword '{kw}' in proxy '{}'.",
                i + 1,
                p.name
            )
        })
    })
}

/// Checks one proxy or server argument of ACL keyword `kw` in proxy `p`.
fn resolve(config: &Config, p: &Proxy, kind: ProxyArg, arg: &str, kw: &str) -> Result<(), String> {
    let tail = format!(
        "referenced in arg 1 of ACL keyword '{kw}' in proxy '{}'",
        p.name
    );
    let named = |name: &str, be: bool| {
        config.proxies.iter().find(|x| {
            x.name == name
                && if be {
                    x.kind.has_backend()
                } else {
                    x.kind.has_frontend()
                }
        })
    };
    let (be, what) = match kind {
        ProxyArg::Backend => (true, "backend"),
        ProxyArg::Frontend => (false, "frontend"),
        ProxyArg::Server => {
            let (px, srv) = match arg.rsplit_once('/') {
                Some((b, s)) => match named(b, true) {
                    Some(px) => (px, s),
                    None => return Err(format!("unable to find proxy '{b}' {tail}.")),
                },
                None => (p, arg),
            };
            if px.servers.iter().any(|s| s.name == srv) {
                return Ok(());
            }
            return Err(format!(
                "unable to find server '{srv}' in proxy '{}', {tail}.",
                px.name
            ));
        }
    };
    if arg.is_empty() {
        let cap = if be {
            p.kind.has_backend()
        } else {
            p.kind.has_frontend()
        };
        if cap {
            return Ok(());
        }
        return Err(format!(
            "proxy '{}', {tail}, has not {what} capability.",
            p.name
        ));
    }
    match named(arg, be) {
        Some(_) => Ok(()),
        None => Err(format!("unable to find {what} '{arg}' {tail}.")),
    }
}
