//! The PostgreSQL front door's proxy keywords (gatehouse only, docs/pgsql.md):
//! `option pgsql-insecure-auth`, `option pgsql-audit-statements [max-length N]`, and the
//! load-time checks of `bind … proto pgsql` and of the `tcp-request content
//! authenticate|set-credentials` rules that go with it.

use crate::config::diag::Diag;
use crate::config::keyword::{FRONT, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::{Config, DEFAULT_AUDIT_STATEMENT_LENGTH, Mode, Proxy, ProxyKind};

/// `option pgsql-insecure-auth`.
fn insecure_auth(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if let Some(extra) = words.get(2) {
        return Err(format!(
            "'option pgsql-insecure-auth' cannot handle unexpected argument '{extra}'."
        ));
    }
    ctx.proxy.pgsql.insecure_auth = !ctx.negated;
    Ok(())
}

/// `option pgsql-audit-statements [max-length <bytes>]`.
fn audit_statements(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if ctx.negated {
        ctx.proxy.pgsql.audit_statements = None;
        return Ok(());
    }
    let len = match &words[2..] {
        [] => DEFAULT_AUDIT_STATEMENT_LENGTH,
        [k, v] if k == "max-length" => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "'option pgsql-audit-statements' : 'max-length' expects a positive number of bytes, got '{v}'."
                ));
            }
        },
        [k] if k == "max-length" => {
            return Err(
                "'option pgsql-audit-statements' : 'max-length' expects a number of bytes.".into(),
            );
        }
        [x, ..] => {
            return Err(format!(
                "'option pgsql-audit-statements' expects 'max-length <bytes>' or nothing, got '{x}'."
            ));
        }
    };
    ctx.proxy.pgsql.audit_statements = Some(len);
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "option pgsql-insecure-auth",
        FRONT,
        insecure_auth,
        "accept PostgreSQL passwords (tokens) in cleartext from non-loopback clients on binds without ssl",
    ),
    kw(
        "option pgsql-audit-statements",
        FRONT,
        audit_statements,
        "add each Query and Parse statement (cut at max-length bytes) to the audit log",
    ),
];

/// Post-parse checks: `proto pgsql` needs `mode tcp` and every bind of the section to
/// have it; a bind without `ssl` gets a warning (tokens travel in cleartext); `tcp-request content authenticate` and
/// `set-credentials` need a `proto pgsql` bind and name existing sections.
pub fn check(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    let pg_binds: Vec<_> = p.binds.iter().filter(|b| b.pgsql).collect();
    if !pg_binds.is_empty()
        && let Some(plain) = p.binds.iter().find(|b| !b.pgsql)
    {
        // Its rules would let the plain bind's clients through without a token.
        diags.push(Diag::alert(
            &plain.span,
            format!(
                "{} '{}' mixes 'bind … proto pgsql' with binds without it; put them in separate sections.",
                p.kind.keyword(),
                p.name
            ),
        ));
    }
    for b in &pg_binds {
        if p.mode != Mode::Tcp {
            diags.push(Diag::alert(
                &b.span,
                format!(
                    "'bind … proto pgsql' in {} '{}' requires 'mode tcp'.",
                    p.kind.keyword(),
                    p.name
                ),
            ));
        } else if !b.tls.ssl {
            let who = if p.pgsql.insecure_auth {
                "from any client ('option pgsql-insecure-auth')"
            } else {
                "from loopback clients only"
            };
            diags.push(Diag::warning(
                &b.span,
                format!(
                    "'bind … proto pgsql' without 'ssl' in {} '{}' : passwords (tokens) travel in cleartext; they are accepted {who}.",
                    p.kind.keyword(),
                    p.name
                ),
            ));
        }
    }
    for r in p.tcp_request.iter().filter(|r| r.stage == "content") {
        let (what, known): (&str, &dyn Fn(&str) -> bool) = match r.action.as_str() {
            "authenticate" => ("identity", &|n| {
                config.identities.iter().any(|s| s.name == n)
            }),
            "set-credentials" => ("credentials", &|n| config.credentials(n).is_some()),
            _ => continue,
        };
        if p.kind == ProxyKind::Backend || (p.kind != ProxyKind::Defaults && pg_binds.is_empty()) {
            diags.push(Diag::alert(
                &r.span,
                format!(
                    "'tcp-request content {}' in {} '{}' needs a 'bind … proto pgsql' line in the same section.",
                    r.action,
                    p.kind.keyword(),
                    p.name
                ),
            ));
            continue;
        }
        for n in &r.args {
            if !known(n) {
                diags.push(Diag::alert(
                    &r.span,
                    format!(
                        "'tcp-request content {}' in {} '{}' : no such {what} section '{n}'.",
                        r.action,
                        p.kind.keyword(),
                        p.name
                    ),
                ));
            }
        }
    }
}
