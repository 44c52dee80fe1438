//! The `identity` section (gatehouse only, not in HAProxy): an OpenID Connect provider
//! or a static key set that `http-request authenticate NAME` accepts identities from.
//! Its keywords are parsed here; `crate::identity` compiles and runs them.

use super::diag::Diag;
use super::keyword::Status;
use super::model::{AuditTarget, Config, HttpAction, IdentitySection};
use super::span::Span;
use super::value::duration;
use std::path::PathBuf;

/// Parses one keyword line of an `identity` section.
pub type IdentityParse = fn(&mut IdentitySection, &[String]) -> Result<(), String>;

/// A row of the `identity` keyword table.
pub struct IdentityKeyword {
    /// The keyword.
    pub name: &'static str,
    /// Whether gatehouse implements it.
    pub status: Status,
    /// Its parser.
    pub parse: IdentityParse,
    /// One-line help.
    pub help: &'static str,
}

/// The status of the `identity` section keyword itself.
pub const STATUS: Status = Status::Supported;

fn one(w: &[String]) -> Result<&String, String> {
    match w {
        [_, v] => Ok(v),
        [k] => Err(format!("'{k}' expects an argument.")),
        [k, _, x, ..] => Err(format!("'{k}' cannot handle unexpected argument '{x}'.")),
        [] => Err("empty line".into()),
    }
}

fn some(w: &[String]) -> Result<Vec<String>, String> {
    if w.len() < 2 {
        return Err(format!("'{}' expects at least one argument.", w[0]));
    }
    Ok(w[1..].to_vec())
}

fn none(w: &[String]) -> Result<(), String> {
    match w.get(1) {
        Some(x) => Err(format!(
            "'{}' cannot handle unexpected argument '{x}'.",
            w[0]
        )),
        None => Ok(()),
    }
}

fn url(v: &str, k: &str) -> Result<String, String> {
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(format!(
            "'{k}' expects an http:// or https:// URL, got '{v}'."
        ));
    }
    Ok(v.to_owned())
}

fn path(v: &str, k: &str) -> Result<String, String> {
    if !v.starts_with('/') {
        return Err(format!(
            "'{k}' expects a path starting with '/', got '{v}'."
        ));
    }
    Ok(v.to_owned())
}

fn issuer(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.issuer = Some(url(one(w)?, "issuer")?);
    Ok(())
}
fn client_id(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.client_id = Some(one(w)?.clone());
    Ok(())
}
fn client_secret(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.client_secret = Some(one(w)?.clone());
    Ok(())
}
fn audience(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.audiences.extend(some(w)?);
    Ok(())
}
fn scopes(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.scopes = some(w)?;
    Ok(())
}
fn groups_claim(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.groups_claim = one(w)?.clone();
    Ok(())
}
fn callback_path(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.callback_path = path(one(w)?, "callback-path")?;
    Ok(())
}
fn logout_path(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.logout_path = path(one(w)?, "logout-path")?;
    Ok(())
}
fn cookie_name(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    let v = one(w)?;
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!("'cookie-name' : invalid cookie name '{v}'."));
    }
    s.cookie_name = v.clone();
    Ok(())
}
fn cookie_secret(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    let v = some(w)?;
    if let Some(short) = v.iter().find(|x| x.len() < 16) {
        let _ = short;
        return Err("'cookie-secret' must be at least 16 characters long.".into());
    }
    s.cookie_secrets.extend(v);
    Ok(())
}
fn session_lifetime(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.session_lifetime = duration(one(w)?, "session-lifetime")?;
    Ok(())
}

/// The signature algorithms gatehouse verifies.
pub const ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

fn allowed_algs(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    let v = some(w)?;
    for a in &v {
        if !ALGORITHMS.contains(&a.as_str()) {
            return Err(format!(
                "'allowed-algs' : unsupported algorithm '{a}' (expects some of {}; HMAC and 'none' are never accepted).",
                ALGORITHMS.join(", ")
            ));
        }
    }
    s.allowed_algs = v;
    Ok(())
}
fn clock_skew(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.clock_skew = duration(one(w)?, "clock-skew")?;
    Ok(())
}
fn jwks_file(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.jwks_file = Some(PathBuf::from(one(w)?));
    Ok(())
}
fn audit_log(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.audit_log = Some(match one(w)?.as_str() {
        "stdout" => AuditTarget::Stdout,
        "syslog" => AuditTarget::Syslog,
        f => AuditTarget::File(PathBuf::from(f)),
    });
    Ok(())
}
fn audit_required(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    none(w)?;
    s.audit_required = true;
    Ok(())
}
fn mtls(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    none(w)?;
    s.mtls = true;
    Ok(())
}
fn keys_refresh(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.keys_refresh = duration(one(w)?, "keys-refresh")?;
    Ok(())
}
fn keys_min_interval(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.keys_min_interval = duration(one(w)?, "keys-min-interval")?;
    Ok(())
}
fn degraded_start(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    none(w)?;
    s.degraded_start = true;
    Ok(())
}
fn backchannel_logout_path(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.backchannel_logout_path = Some(path(one(w)?, "backchannel-logout-path")?);
    Ok(())
}
fn assertion_header(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    let v = one(w)?;
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return Err(format!("'assertion-header' : invalid header name '{v}'."));
    }
    s.assertion_header = Some(v.clone());
    Ok(())
}
fn assertion_issuer(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.assertion_issuer = Some(one(w)?.clone());
    Ok(())
}
fn assertion_key(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.assertion_key = Some(PathBuf::from(one(w)?));
    Ok(())
}
fn assertion_jwks_path(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    s.assertion_jwks_path = path(one(w)?, "assertion-jwks-path")?;
    Ok(())
}

macro_rules! kw {
    ($name:literal, $parse:ident, $help:literal) => {
        IdentityKeyword {
            name: $name,
            status: Status::Supported,
            parse: $parse,
            help: $help,
        }
    };
}

/// The `identity` keyword table.
pub static KEYWORDS: &[IdentityKeyword] = &[
    kw!(
        "issuer",
        issuer,
        "the OpenID provider's issuer URL (discovery)"
    ),
    kw!(
        "client-id",
        client_id,
        "the client id registered at the provider"
    ),
    kw!(
        "client-secret",
        client_secret,
        "the client secret (client_secret_basic)"
    ),
    kw!(
        "audience",
        audience,
        "accepted `aud` values of bearer tokens"
    ),
    kw!("scopes", scopes, "scopes asked for at browser login"),
    kw!(
        "groups-claim",
        groups_claim,
        "the claim that lists the user's groups"
    ),
    kw!(
        "callback-path",
        callback_path,
        "where the provider sends the browser back"
    ),
    kw!("logout-path", logout_path, "the path that ends the session"),
    kw!("cookie-name", cookie_name, "the session cookie's name"),
    kw!(
        "cookie-secret",
        cookie_secret,
        "session cookie keys; the first seals"
    ),
    kw!(
        "session-lifetime",
        session_lifetime,
        "how long a browser session lasts"
    ),
    kw!(
        "allowed-algs",
        allowed_algs,
        "signature algorithms accepted"
    ),
    kw!("clock-skew", clock_skew, "tolerance on exp, nbf and iat"),
    kw!(
        "jwks-file",
        jwks_file,
        "a static key set (JWKS) instead of discovery"
    ),
    kw!(
        "audit-log",
        audit_log,
        "one JSON line per access decision: FILE, stdout or syslog"
    ),
    kw!(
        "audit-required",
        audit_required,
        "refuse requests (503) that cannot be audited"
    ),
    kw!(
        "keys-refresh",
        keys_refresh,
        "how often the provider's keys are fetched again"
    ),
    kw!(
        "keys-min-interval",
        keys_min_interval,
        "least time between unknown-kid key fetches"
    ),
    kw!(
        "degraded-start",
        degraded_start,
        "start even when the provider cannot be reached"
    ),
    kw!(
        "mtls",
        mtls,
        "a verified client certificate is an identity (sub = its CN)"
    ),
    kw!(
        "assertion-header",
        assertion_header,
        "a signed identity assertion (JWT) sent to servers in this header"
    ),
    kw!(
        "assertion-issuer",
        assertion_issuer,
        "the `iss` of the identity assertion"
    ),
    kw!(
        "assertion-key",
        assertion_key,
        "the P-256 private key (PEM) signing assertions"
    ),
    kw!(
        "assertion-jwks-path",
        assertion_jwks_path,
        "where the assertion's public keys are served (JWKS)"
    ),
    kw!(
        "backchannel-logout-path",
        backchannel_logout_path,
        "where the provider POSTs OIDC back-channel logout tokens"
    ),
];

/// Opens an `identity NAME` section; the alert when the line is wrong.
pub fn begin(config: &mut Config, w: &[String], span: &Span) -> Result<usize, String> {
    let name = w.get(1).ok_or("'identity' expects <name> as argument.")?;
    if let Some(x) = w.get(2) {
        return Err(format!("'identity {name}' : unexpected argument '{x}'."));
    }
    if let Some(prev) = config.identities.iter().find(|s| &s.name == name) {
        return Err(format!(
            "identity '{name}' has the same name as another identity section declared at {}.",
            prev.span
        ));
    }
    config
        .identities
        .push(IdentitySection::new(name, span.clone()));
    Ok(config.identities.len() - 1)
}

/// Parses one line of an `identity` section.
pub fn line(s: &mut IdentitySection, w: &[String]) -> Result<(), String> {
    let Some(k) = KEYWORDS.iter().find(|k| k.name == w[0]) else {
        let hint = super::suggest::closest(&w[0], KEYWORDS.iter().map(|k| k.name))
            .map(|c| format!("; did you mean '{c}' maybe ?"))
            .unwrap_or_default();
        return Err(format!(
            "unknown keyword '{}' in 'identity' section{hint}",
            w[0]
        ));
    };
    if k.status == Status::NotYet {
        return Err(format!(
            "'{}' in section 'identity' is not supported yet by gatehouse.",
            k.name
        ));
    }
    (k.parse)(s, w).map_err(|e| format!("'{}' in section 'identity' : {e}", k.name))
}

/// Post-parse checks: each section has a key source, and each `http-request
/// authenticate` names existing sections.
pub fn check(config: &Config, diags: &mut Vec<Diag>) {
    for s in &config.identities {
        // A section of client certificates only (`mtls` alone) needs no key source.
        let certificates_only = s.mtls && s.issuer.is_none() && s.jwks_file.is_none();
        if s.issuer.is_none() && s.jwks_file.is_none() && !s.mtls {
            diags.push(Diag::alert(
                &s.span,
                format!(
                    "identity '{}' needs 'issuer' or 'jwks-file' to know its keys (or 'mtls' alone, for client certificates only).",
                    s.name
                ),
            ));
        }
        if certificates_only
            && let Some(what) = [
                (!s.cookie_secrets.is_empty(), "cookie-secret"),
                (
                    s.backchannel_logout_path.is_some(),
                    "backchannel-logout-path",
                ),
                (!s.audiences.is_empty(), "audience"),
            ]
            .iter()
            .find_map(|(set, k)| set.then_some(*k))
        {
            diags.push(Diag::alert(
                &s.span,
                format!(
                    "identity '{}' : '{what}' needs 'issuer' or 'jwks-file' (this section has 'mtls' only).",
                    s.name
                ),
            ));
        }
        if s.backchannel_logout_path.is_some()
            && (s.client_id.is_none() || s.cookie_secrets.is_empty())
        {
            diags.push(Diag::alert(
                &s.span,
                format!(
                    "identity '{}' : 'backchannel-logout-path' needs 'client-id' (the `aud` of logout tokens) and 'cookie-secret' (sessions to end).",
                    s.name
                ),
            ));
        }
        if s.audiences.is_empty() && s.client_id.is_none() && !certificates_only {
            diags.push(Diag::alert(
                &s.span,
                format!(
                    "identity '{}' needs 'audience' or 'client-id' to check the `aud` of tokens.",
                    s.name
                ),
            ));
        }
    }
    for p in &config.proxies {
        for r in &p.http_request {
            let HttpAction::Authenticate(names) = &r.action else {
                continue;
            };
            for n in names {
                if !config.identities.iter().any(|s| &s.name == n) {
                    diags.push(Diag::alert(
                        &r.span,
                        format!(
                            "'http-request authenticate' in proxy '{}' : no such identity section '{n}'.",
                            p.name
                        ),
                    ));
                }
            }
        }
    }
}
