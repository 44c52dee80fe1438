//! Load-time checks of a proxy's conditions (HAProxy's alerts while parsing): every ACL
//! and condition compiles, and each reads only data available where it is evaluated.
//! The configuration loader calls [`check_conditions`] through its `Semantics`.

use super::{AclSet, Visibility};
use crate::config::diag::Diag;
use crate::config::model::{Condition, HttpAction, Proxy};

/// Condition errors of one proxy, in line order (HAProxy finds them while parsing).
pub fn check_conditions(p: &Proxy, out: &mut Vec<Diag>) {
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
    let mut one = |cond: Option<&Condition>, what: String, max: Visibility| {
        let Some(c) = cond else { return };
        match set.condition(c) {
            Ok(cc) if !cc.available_at(max) => diags.push(Diag::alert(
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
    a.keyword()
}
