//! Post-parse checks, HAProxy's rules: references resolve (`use_backend`,
//! `default_backend`), modes are compatible, conditions compile (through
//! [`Semantics::conditions`]), timeouts are set.

use super::diag::Diag;
use super::model::{Config, Mode, Proxy, ProxyKind};
use super::semantics::Semantics;

/// Checks a parsed configuration; pushes every problem found. Conditions are compiled
/// by `sem`.
pub fn validate(config: &Config, diags: &mut Vec<Diag>, sem: &dyn Semantics) {
    userlists(config, diags);
    super::identity::check(config, diags);
    super::credentials::check(config, diags);
    for p in &config.proxies {
        http_rules_in_tcp_mode(p, diags);
        h2_binds(p, diags);
        super::proxy::pgsql::check(config, p, diags);
        super::proxy::option::check_pgsql_credentials(config, p, diags);
        not_active_yet(config, p, diags);
        references(config, p, diags);
        error_imports(config, p, diags);
        capture_ids(p, diags);
        experimental(config, p, diags);
        super::userlist::check_refs(config, p, diags);
        log_format(p, diags, sem);
        sem.conditions(p, diags);
        sem.references(config, p, diags);
        sem.health_checks(&config.global, p, diags);
        sem.tls(&config.global, p, diags);
        timeouts(p, diags);
        super::proxy::server::check_protos(p, diags);
        if p.kind == ProxyKind::Frontend && p.binds.is_empty() {
            // A warning in HAProxy: the frontend simply never receives anything.
            diags.push(Diag::warning(
                &p.span,
                format!("frontend '{}' has no 'bind' directive. Please declare it as a backend if this was intended.", p.name),
            ));
        }
    }
}

/// A frontend's `log-format` (its own or its defaults'), compiled as HAProxy's
/// post-parse check does: a fetch gone at log time (`path`, `res.hdr`, `req.body`…) is
/// refused in HAProxy's words, at the `log-format` line.
fn log_format(p: &Proxy, diags: &mut Vec<Diag>, sem: &dyn Semantics) {
    if !matches!(p.kind, ProxyKind::Frontend | ProxyKind::Listen) {
        return;
    }
    let Some((text, span)) = &p.log_format else {
        return;
    };
    let ctx = super::semantics::FormatContext::Log;
    if let Err(e) = sem.log_format(text, ctx) {
        diags.push(Diag::global_alert(format!(
            "Parsing [{span}]: failed to parse log-format : {e}."
        )));
    }
}

/// `proto h2` needs `mode http` (HAProxy: the MUX is not usable for the bind).
fn h2_binds(p: &Proxy, diags: &mut Vec<Diag>) {
    if p.mode != Mode::Tcp || p.kind == ProxyKind::Defaults {
        return;
    }
    for b in p.binds.iter().filter(|b| b.h2) {
        diags.push(Diag::alert(
            &b.span,
            format!(
                "{} '{}' : MUX protocol 'h2' is not usable for 'bind' in mode tcp.",
                p.kind.keyword(),
                p.name
            ),
        ));
    }
}

/// HAProxy's warnings for HTTP rules in a `mode tcp` proxy: they are never applied.
fn http_rules_in_tcp_mode(p: &Proxy, diags: &mut Vec<Diag>) {
    if p.mode != Mode::Tcp || p.kind == ProxyKind::Defaults {
        return;
    }
    for (kw, rules) in [
        ("http-request", &p.http_request),
        ("http-response", &p.http_response),
    ] {
        if let Some(first) = rules.first() {
            diags.push(Diag::warning(
                &first.span,
                format!(
                    "'{kw}' rules ignored for {} '{}' as they require HTTP mode.",
                    p.kind.keyword(),
                    p.name
                ),
            ));
        }
    }
}

/// A user's group and a group's user must exist in the userlist (HAProxy's alerts,
/// which name no line; gatehouse locates them at the `user` line, or the userlist's
/// line for a group's member).
fn userlists(config: &Config, diags: &mut Vec<Diag>) {
    for ul in &config.userlists {
        for u in &ul.users {
            for g in &u.groups {
                if !ul.groups.iter().any(|(name, _)| name == g) {
                    diags.push(Diag::alert(
                        &u.span,
                        format!(
                            "userlist '{}': no such group '{g}' specified in user '{}'",
                            ul.name, u.name
                        ),
                    ));
                }
            }
        }
        for (g, users) in &ul.groups {
            for name in users {
                if !ul.users.iter().any(|u| &u.name == name) {
                    diags.push(Diag::alert(
                        &ul.span,
                        format!(
                            "userlist '{}': no such user '{name}' specified in group '{g}'",
                            ul.name
                        ),
                    ));
                }
            }
        }
    }
}

fn references(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    // A backend's (ignored) references must still exist, as in HAProxy.
    let frontend = p.kind.has_frontend();
    let mut check = |name: &str, span: &super::span::Span, what: &str| {
        match config.backend(name) {
        // HAProxy refuses a proxy that routes to itself.
        Some(b) if b.name == p.name && b.kind.has_frontend() == frontend => diags.push(Diag::alert(
            span,
            format!("Proxy '{}': loop detected for {what}: '{name}'.", p.name),
        )),
        Some(_) if !frontend => {}
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
    for ub in p.use_backends.iter().filter(|u| !u.dynamic) {
        check(&ub.backend, &ub.span, "use_backend");
    }
}

/// `errorfiles NAME` and `http-error … errorfiles NAME` must name an `http-errors`
/// section; a status listed explicitly that the section does not declare is a warning
/// (HAProxy's `proxy_check_http_errors()`, whose messages carry the line).
fn error_imports(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    if p.kind == ProxyKind::Defaults {
        return;
    }
    for d in &p.errorfiles {
        let super::model::ErrorDirective::Import {
            section,
            codes,
            span,
        } = d
        else {
            continue;
        };
        let Some(s) = config.http_errors.iter().find(|s| &s.name == section) else {
            diags.push(Diag::global_alert(format!(
                "proxy '{}': unknown http-errors section '{section}' (at {span}).",
                p.name
            )));
            continue;
        };
        for c in codes {
            if s.page(*c).is_none() {
                diags.push(Diag::global_warning(format!(
                    "config: proxy '{}' : status '{c}' not declared in http-errors section '{section}' (at {span}).",
                    p.name
                )));
            }
        }
    }
}

/// A frontend's `capture … id N` rules must name one of its capture slots (HAProxy's
/// `check_http_req_capture()`; a backend's are checked against the frontend at run
/// time, where a missing slot is skipped).
fn capture_ids(p: &Proxy, diags: &mut Vec<Diag>) {
    if !p.kind.has_frontend() {
        return;
    }
    for (kw, rules, slots) in [
        ("http-request", &p.http_request, p.capture_req.len()),
        ("http-response", &p.http_response, p.capture_res.len()),
        (
            "http-after-response",
            &p.http_after_response,
            p.capture_res.len(),
        ),
    ] {
        for r in rules {
            if let super::model::HttpAction::Capture { slot, .. } = &r.action
                && *slot >= slots
            {
                diags.push(Diag::alert(
                    &r.span,
                    format!(
                        "Proxy '{}': unable to find capture id '{slot}' referenced by {kw} capture rule.",
                        p.name
                    ),
                ));
            }
        }
    }
}

/// HAProxy 2.6's experimental actions need `expose-experimental-directives` in
/// `global` (HAProxy checks while parsing, so its `global` must come first; gatehouse
/// checks after).
fn experimental(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    if config.global.expose_experimental {
        return;
    }
    for r in &p.http_request {
        if let super::model::HttpAction::NormalizeUri(_) = r.action {
            diags.push(Diag::alert(
                &r.span,
                "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'",
            ));
        }
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

/// Keywords that are parsed into the model but whose behaviour arrives with a later
/// milestone. Those that change the bytes on the wire would break traffic if ignored:
/// they are refused here. Those that only add a service (health
/// checks, stats page, persistence) load with the warning of their `parsed` status,
/// given by the parser at their line.
fn not_active_yet(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    if p.kind == ProxyKind::Defaults {
        return;
    }
    if p.stats.enabled && p.mode == Mode::Tcp {
        diags.push(Diag::warning(
            &p.span,
            format!(
                "'stats' statement ignored for {} '{}' as it requires HTTP mode.",
                p.kind.keyword(),
                p.name
            ),
        ));
    }
    let has_table = |name: &str| {
        config
            .proxies
            .iter()
            .any(|q| q.name == name && q.kind != ProxyKind::Defaults && q.stick_table.is_some())
    };
    let tracks = p
        .http_request
        .iter()
        .chain(&p.http_response)
        .filter_map(|r| match &r.action {
            crate::config::model::HttpAction::TrackSc(t) => Some((t, &r.span)),
            _ => None,
        })
        .chain(
            p.tcp_request
                .iter()
                .filter_map(|r| r.track.as_ref().map(|t| (t, &r.span))),
        );
    for (t, span) in tracks {
        if !has_table(&t.table) {
            diags.push(Diag::alert(
                span,
                format!(
                    "Proxy '{}': unable to find table '{}' referenced by track-sc{}.",
                    p.name, t.table, t.slot
                ),
            ));
        }
    }
    for st in &p.sticks {
        // `table NAME` names another proxy's table; else the proxy's own.
        let table = st.table.as_ref().unwrap_or(&p.name);
        let exists = has_table(table);
        if !exists {
            diags.push(Diag::alert(
                &st.span,
                format!("Proxy '{}': unable to find stick-table '{table}'.", p.name),
            ));
        }
    }
}
