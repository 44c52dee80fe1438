//! Post-parse checks, HAProxy's rules: references resolve (`use_backend`,
//! `default_backend`), modes are compatible, conditions compile, timeouts are set.

use super::diag::Diag;
use super::model::{Config, HttpAction, Mode, Proxy, ProxyKind};
use crate::acl::{AclSet, Visibility};

/// Checks a parsed configuration; pushes every problem found.
pub fn validate(config: &Config, diags: &mut Vec<Diag>) {
    for p in &config.proxies {
        references(config, p, diags);
        conditions(p, diags);
        timeouts(p, diags);
        if p.kind == ProxyKind::Frontend && p.binds.is_empty() {
            // A warning in HAProxy: the frontend simply never receives anything.
            diags.push(Diag::warning(
                &p.span,
                format!("frontend '{}' has no 'bind' directive. Please declare it as a backend if this was intended.", p.name),
            ));
        }
    }
}

fn references(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    if !p.kind.has_frontend() {
        return;
    }
    let mut check = |name: &str, span: &super::span::Span, what: &str| {
        match config.backend(name) {
        None => diags.push(Diag::alert(
            span,
            format!("Proxy '{}': unable to find required {what}: '{name}'.", p.name),
        )),
        // HAProxy names the frontend's line first; so does gatehouse, and the
        // message still points at both sections.
        Some(b) if p.mode == Mode::Http && b.mode == Mode::Tcp => diags.push(Diag::alert(
            &p.span,
            format!(
                "http {} '{}' ({}) tries to use incompatible tcp backend '{}' ({}) as its {} (see 'mode').",
                p.kind.keyword(),
                p.name,
                p.span,
                b.name,
                b.span,
                if what == "default_backend" { "default backend" } else { "backend" }
            ),
        )),
        Some(_) => {}
    }
    };
    if let Some((name, span)) = &p.default_backend {
        check(name, span, "default_backend");
    }
    for ub in &p.use_backends {
        check(&ub.backend, &ub.span, "use_backend");
    }
}

/// Condition errors of one proxy, in line order (HAProxy finds them while parsing).
fn conditions(p: &Proxy, out: &mut Vec<Diag>) {
    let mut found = Vec::new();
    conditions_unsorted(p, &mut found);
    found.sort_by_key(|d| d.span.as_ref().map(|s| s.line));
    out.append(&mut found);
}

fn conditions_unsorted(p: &Proxy, diags: &mut Vec<Diag>) {
    let set = match AclSet::compile(&p.acls) {
        Ok(s) => s,
        Err((span, e)) => {
            diags.push(Diag::alert(&span, e));
            return;
        }
    };
    // `what` is the message prefix HAProxy uses for each rule kind.
    let mut one = |cond: Option<&super::model::Condition>, what: String, max: Visibility| {
        let Some(c) = cond else { return };
        match set.condition(c) {
            Ok(cc) if cc.visibility() > max => diags.push(Diag::alert(
                &c.span,
                format!("{what} : condition uses data that is not available at this stage."),
            )),
            Ok(_) => {}
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
}

/// The keyword of an HTTP rule's action, as written in the configuration.
fn action_name(a: &HttpAction) -> &'static str {
    match a {
        HttpAction::Allow => "allow",
        HttpAction::Deny { .. } => "deny",
        HttpAction::Return { .. } => "return",
        HttpAction::SetHeader(..) => "set-header",
        HttpAction::AddHeader(..) => "add-header",
        HttpAction::DelHeader(_) => "del-header",
        HttpAction::Redirect(_) => "redirect",
    }
}

fn timeouts(p: &Proxy, diags: &mut Vec<Diag>) {
    let t = &p.timeouts;
    let missing = (p.kind.has_frontend() && t.client.is_none())
        || (p.kind.has_backend() && (t.connect.is_none() || t.server.is_none()));
    if missing {
        diags.push(Diag::warning(
            &p.span,
            format!(
                "missing timeouts for {} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                p.kind.keyword(),
                p.name
            ),
        ));
    }
}
