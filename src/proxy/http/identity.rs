//! `http-request authenticate NAME [NAME…]` (gatehouse only) on the exchange: the
//! action run among the request rules ([`authenticate`]: a bearer token or a session
//! cookie accepted by one of the sections, else 401 or the login redirect), what runs
//! before the rules ([`before_rules`]: identity headers removed in every spelling;
//! [`intercept`]: the login callback, logout, and fetching the keys of an unknown
//! `kid`), and the audit line written with the log ([`audit`]).

use super::rules::{Edits, Verdict};
use crate::acl::SampleSource;
use crate::config::model::Reply;
use crate::config::span::Span;
use crate::identity::{Identities, Provider, TokenError, audit, login, session};
use crate::proxy::message::Request;
use crate::runtime::rules::{HttpRuleRt, HttpRules, identity_header_name, reason};
use std::sync::Arc;

/// What an audit line needs about the decision, kept in the transaction.
#[derive(Debug, Default)]
pub struct AuthNote {
    /// The identity that authenticated the request.
    pub identity: Option<Arc<crate::identity::Identity>>,
    /// The section whose audit log records the request.
    pub provider: Option<Arc<Provider>>,
    /// The rule that decided.
    pub rule: Option<Span>,
    /// `allow`, `deny` or `challenge`.
    pub decision: Option<&'static str>,
    /// The `Host` of the request.
    pub host: String,
    /// A `Set-Cookie` value for the response: the session cookie a refresh resealed.
    pub set_cookie: Option<Vec<u8>>,
    /// Session cookies opened before the rules (section, cookie value, what it gave),
    /// so that `authenticate` does not open them again.
    pub sessions: Vec<(Arc<str>, String, Option<Arc<crate::identity::Identity>>)>,
}

/// The value of the request's `Authorization: Bearer` token, if any.
fn bearer(src: &dyn SampleSource) -> Option<String> {
    let mut out = None;
    src.req_header("authorization", &mut |v| {
        let v = std::str::from_utf8(v).unwrap_or("").trim();
        if v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ") {
            out = Some(v[7..].trim().to_owned());
            return true;
        }
        false
    });
    out
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_in(values: &mut dyn Iterator<Item = &[u8]>, name: &str) -> Option<String> {
    for v in values {
        for part in std::str::from_utf8(v).unwrap_or("").split(';') {
            if let Some((k, val)) = part.trim().split_once('=')
                && k == name
            {
                return Some(val.trim_matches('"').to_owned());
            }
        }
    }
    None
}

fn cookie(src: &dyn SampleSource, name: &str) -> Option<String> {
    let mut all = Vec::new();
    src.req_header("cookie", &mut |v| {
        all.push(v.to_vec());
        false
    });
    cookie_in(&mut all.iter().map(Vec::as_slice), name)
}

/// A local reply with `headers` and a short text body.
fn reply(status: u16, headers: Vec<(Vec<u8>, Vec<u8>)>, body: &str) -> Reply {
    let mut headers = headers;
    headers.push((
        b"content-length".to_vec(),
        body.len().to_string().into_bytes(),
    ));
    headers.push((b"content-type".to_vec(), b"text/plain".to_vec()));
    headers.push((b"cache-control".to_vec(), b"no-store".to_vec()));
    Reply {
        version: (1, 1),
        status,
        reason: reason(status).as_bytes().to_vec(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

/// `Set-Cookie` for `name=value` with the session attributes (`Max-Age` in seconds;
/// 0 clears it).
fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> (Vec<u8>, Vec<u8>) {
    let secure = if secure { "; Secure" } else { "" };
    (
        b"set-cookie".to_vec(),
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
            .into_bytes(),
    )
}

fn is_browser(src: &dyn SampleSource) -> bool {
    let get_or_head = matches!(src.method(), Some(b"GET" | b"HEAD"));
    let mut html = false;
    src.req_header("accept", &mut |v| {
        html = v.windows(9).any(|w| w.eq_ignore_ascii_case(b"text/html"));
        html
    });
    get_or_head && html
}

/// `https://HOST` on a TLS bind, `http://HOST` otherwise.
fn origin_of(secure: bool, host: &str) -> String {
    let scheme = if secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

fn origin(src: &dyn SampleSource) -> String {
    let mut host = String::new();
    src.req_header("host", &mut |v| {
        host = String::from_utf8_lossy(v).into_owned();
        true
    });
    origin_of(src.tls().is_some(), &host)
}

/// The 401 an API client gets (RFC 6750).
fn unauthorized(p: &Provider, err: Option<&TokenError>) -> Reply {
    let desc = err.map_or("no token".to_owned(), |e| e.to_string());
    let value = format!(
        "Bearer realm=\"{}\", error=\"invalid_token\", error_description=\"{desc}\"",
        p.name
    );
    reply(
        401,
        vec![(b"www-authenticate".to_vec(), value.into_bytes())],
        "401 Unauthorized\n",
    )
}

/// Runs an `authenticate` rule: `None` when one of its sections accepts the request's
/// bearer token, session cookie or (with `mtls`) verified client certificate (the identity is recorded for the fetches); else the
/// verdict: 503 when the audit log is required and failing, the login redirect for a
/// browser without a token, 401 otherwise.
pub fn authenticate(r: &HttpRuleRt, src: &dyn SampleSource) -> Option<Verdict> {
    let token = bearer(src);
    let mut err = None;
    let rule = &r.span;
    for p in &r.providers {
        if p.section.audit_required
            && let Some(a) = p.audit.as_ref().filter(|a| !a.healthy())
        {
            a.refused();
            src.decided(rule, "deny", Some(p));
            return Some(Verdict::Deny(503));
        }
        let found = match &token {
            // A section of certificates only does not look at tokens.
            Some(t) if p.takes_tokens() => p.bearer(t).map_err(|e| err = Some(e)).ok(),
            Some(_) => src
                .tls()
                .and_then(|f| f.client.as_ref())
                .and_then(|cert| p.certificate(cert)),
            None => cookie(src, &p.section.cookie_name)
                .and_then(|c| {
                    src.opened_session(&p.name, &c)
                        .unwrap_or_else(|| p.cookie(&c))
                })
                .or_else(|| {
                    let cert = src.tls().and_then(|f| f.client.as_ref())?;
                    p.certificate(cert)
                }),
        };
        if let Some(id) = found {
            src.set_identity(id);
            src.decided(rule, "allow", Some(p));
            return None;
        }
    }
    let p = r.providers.first()?;
    src.decided(rule, "challenge", Some(p));
    if token.is_none() && is_browser(src) && login::can_login(p) {
        let target = std::str::from_utf8(src.uri().unwrap_or(b"/")).unwrap_or("/");
        if let Some((location, sealed)) = login::start(p, &origin(src), target) {
            let headers = vec![
                (b"location".to_vec(), location.into_bytes()),
                set_cookie(
                    &login::login_cookie(p),
                    &sealed,
                    login::LOGIN_TTL,
                    src.tls().is_some(),
                ),
            ];
            return Some(Verdict::Return(Some(Arc::new(reply(302, headers, "")))));
        }
    }
    Some(Verdict::Return(Some(Arc::new(unauthorized(
        p,
        err.as_ref(),
    )))))
}

/// Before the rules of a section: removes the identity headers its rules set from the
/// request, whatever their case or `_` spelling, and a `Connection` header naming one
/// (so that no hop drops the header gatehouse sets).
pub fn before_rules(rules: &HttpRules, src: &dyn SampleSource, edits: &mut Edits) {
    if !rules.session_cookies.is_empty() {
        drop_session_cookies(&rules.session_cookies, src, edits);
    }
    if rules.identity_headers.is_empty() {
        return;
    }
    let mut drop = Vec::new();
    src.req_headers(&mut |n, v| {
        if rules.identity_headers.contains(&identity_header_name(n)) {
            drop.push(n.to_ascii_lowercase());
        } else if n.eq_ignore_ascii_case(b"connection")
            && v.split(|b| *b == b',').any(|t| {
                let t = t.trim_ascii();
                rules.identity_headers.contains(&identity_header_name(t))
            })
        {
            drop.push(b"connection".to_vec());
        }
        false
    });
    edits.remove.extend(drop);
}

/// Rewrites the request's `Cookie` headers without gatehouse's session and login
/// cookies (the backend never sees a session).
fn drop_session_cookies(names: &[String], src: &dyn SampleSource, edits: &mut Edits) {
    let mut found = false;
    let mut kept: Vec<String> = Vec::new();
    src.req_header("cookie", &mut |v| {
        for part in String::from_utf8_lossy(v).split(';') {
            let part = part.trim();
            let name = part.split('=').next().unwrap_or("");
            if names.iter().any(|n| n == name) {
                found = true;
            } else if !part.is_empty() {
                kept.push(part.to_owned());
            }
        }
        false
    });
    if !found {
        return;
    }
    edits.remove.push(b"cookie".to_vec());
    if !kept.is_empty() {
        edits
            .add
            .push((b"cookie".to_vec(), kept.join("; ").into_bytes()));
    }
}

/// Adds the signed identity assertion of the request's identity (when the section
/// that accepted it has `assertion-header`), for backend `backend` (its `aud`).
pub fn assert_identity(
    fe: &HttpRules,
    be: &HttpRules,
    backend: &str,
    src: &dyn SampleSource,
    edits: &mut Edits,
) {
    let Some(id) = src.identity() else { return };
    let p = fe
        .rules
        .iter()
        .chain(be.rules.iter())
        .flat_map(|r| r.providers.iter())
        .find(|p| p.name == id.provider);
    let Some(a) = p.and_then(|p| p.assertion.as_ref()) else {
        return;
    };
    if let Some(jwt) = a.sign(&id, backend, crate::identity::jwt::now()) {
        edits
            .add
            .push((a.header.to_ascii_lowercase().into_bytes(), jwt.into_bytes()));
    }
}

/// The section whose `backchannel-logout-path` is the request's path.
pub fn backchannel_for(ids: &Identities, req: &Request<'_>) -> Option<Arc<Provider>> {
    if ids.is_empty() {
        return None;
    }
    let path = path_of(req.target());
    ids.providers
        .iter()
        .find(|p| {
            p.section
                .backchannel_logout_path
                .as_ref()
                .is_some_and(|b| b.as_bytes() == path)
        })
        .cloned()
}

/// Answers a back-channel logout request to `p` (OIDC Back-Channel Logout 1.0, 2.8):
/// `200` once the sessions are ended, `400` with an `invalid_request` error when the
/// logout token is missing or invalid, `405` for another method than `POST`. `body`:
/// the request body (`None`: too large).
pub async fn backchannel_logout(p: &Arc<Provider>, method: &[u8], body: Option<&[u8]>) -> Reply {
    use crate::identity::{backchannel, jwt};
    if method != b"POST" {
        return reply(
            405,
            vec![(b"allow".to_vec(), b"POST".to_vec())],
            "405 Method Not Allowed\n",
        );
    }
    let form = String::from_utf8_lossy(body.unwrap_or(b"")).into_owned();
    let token = login::param(&form, "logout_token").unwrap_or_default();
    if let Some(kid) = jwt::kid_of(&token) {
        p.keys.ensure_kid(&kid).await;
    }
    let now = jwt::now();
    match backchannel::validate(p, &token, now) {
        Ok(logout) => {
            let life = p.section.session_lifetime.as_secs() as i64;
            backchannel::end(&p.name, &logout, now, life);
            reply(200, Vec::new(), "")
        }
        Err(e) => {
            eprintln!(
                "[WARNING] gatehouse: identity '{}' : back-channel logout refused: {e}",
                p.name
            );
            let body =
                serde_json::json!({"error": "invalid_request", "error_description": e}).to_string();
            let mut r = reply(400, Vec::new(), &body);
            for (n, v) in &mut r.headers {
                if n == b"content-type" {
                    *v = b"application/json".to_vec();
                }
            }
            r
        }
    }
}

/// The JWKS of the assertion keys served at `path`, if a section serves one there.
fn assertion_jwks(ids: &Identities, path: &[u8]) -> Option<Reply> {
    let signers: Vec<_> = ids
        .providers
        .iter()
        .filter_map(|p| p.assertion.as_ref())
        .filter(|a| a.jwks_path.as_bytes() == path)
        .collect();
    if signers.is_empty() {
        return None;
    }
    let body = crate::identity::assertion::jwks(&signers);
    let mut r = reply(200, Vec::new(), &body);
    for (n, v) in &mut r.headers {
        if n == b"content-type" {
            *v = b"application/jwk-set+json".to_vec();
        }
        if n == b"cache-control" {
            *v = b"max-age=60".to_vec();
        }
    }
    Some(r)
}

fn path_of(target: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'?', target).unwrap_or(target.len());
    &target[..end]
}

/// What runs before the request rules when identity sections exist: the login
/// callback and logout paths are answered here, and a bearer token naming a key the
/// provider's current set lacks makes the set be fetched again (at most once per
/// `keys-min-interval`) before the rules check it. `secure`: the request came over a
/// TLS bind (its cookies get `Secure`). `Some`: the reply to send.
pub async fn intercept(
    ids: &Arc<Identities>,
    req: &Request<'_>,
    txn: &super::txn::Txn,
    secure: bool,
) -> Option<Reply> {
    if ids.is_empty() {
        return None;
    }
    let raw_host = req.values(b"host").next().unwrap_or(b"");
    if ids.providers.iter().any(|p| p.audit.is_some())
        && let Ok(mut a) = txn.auth.lock()
    {
        a.host = String::from_utf8_lossy(raw_host).into_owned();
    }
    refresh_sessions(ids, req, txn, secure).await;
    let raw_path = path_of(req.target());
    let special = ids.providers.iter().any(|p| {
        p.sessions.is_some()
            && (raw_path == p.section.callback_path.as_bytes()
                || raw_path == p.section.logout_path.as_bytes())
    });
    if special {
        return login_paths(ids, req, secure).await;
    }
    if let Some(r) = assertion_jwks(ids, raw_path) {
        return Some(r);
    }
    let token = req.values(b"authorization").find_map(|v| {
        let v = std::str::from_utf8(v).ok()?.trim();
        (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ")).then(|| v[7..].trim())
    })?;
    // A token validated before names a known key: no header to decode.
    if ids.providers.iter().any(|p| p.validated(token)) {
        return None;
    }
    let kid = crate::identity::jwt::kid_of(token)?;
    for p in &ids.providers {
        p.keys.ensure_kid(&kid).await;
    }
    None
}

/// Refreshes the tokens of a session cookie whose tokens expired (sections that log
/// browsers in): the resealed cookie goes back with the response; a failed refresh
/// leaves the cookie refused (the session is over).
async fn refresh_sessions(
    ids: &Arc<Identities>,
    req: &Request<'_>,
    txn: &super::txn::Txn,
    secure: bool,
) {
    use crate::identity::{jwt, refresh};
    let mut values = req.values(b"cookie").peekable();
    if values.peek().is_none() {
        return;
    }
    let cookies: Vec<&[u8]> = values.collect();
    for p in ids.providers.iter() {
        let Some(s) = &p.sessions else { continue };
        let Some(c) = cookie_in(&mut cookies.iter().copied(), &p.section.cookie_name) else {
            continue;
        };
        let now = jwt::now();
        let opened = s.open(&c, now);
        if !opened
            .as_ref()
            .is_some_and(|claims| refresh::due(claims, now))
        {
            // Opened once per request: `authenticate` takes what it gave.
            let id = p.session_identity(&c, opened, now);
            if let Ok(mut a) = txn.auth.lock() {
                a.sessions.push((Arc::clone(&p.name), c, id));
            }
            continue;
        }
        let Some(claims) = opened else { continue };
        let life = claims.get("gh_exp").and_then(|v| v.as_i64()).unwrap_or(now) - now;
        if let Some(new) = refresh::refresh(p, &c, claims).await {
            let (_, v) = set_cookie(&p.section.cookie_name, &new, life, secure);
            if let Ok(mut a) = txn.auth.lock() {
                a.set_cookie = Some(v);
            }
        }
        return;
    }
}

/// The callback and logout paths of the sections that log browsers in.
async fn login_paths(ids: &Arc<Identities>, req: &Request<'_>, secure: bool) -> Option<Reply> {
    let target = String::from_utf8_lossy(req.target()).into_owned();
    let path = String::from_utf8_lossy(path_of(req.target())).into_owned();
    let host = req
        .values(b"host")
        .next()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_default();
    let cookies: Vec<Vec<u8>> = req.values(b"cookie").map(<[u8]>::to_vec).collect();
    for p in &ids.providers {
        if p.sessions.is_none() {
            continue;
        }
        if path == p.section.callback_path {
            let query = target.split_once('?').map_or("", |(_, q)| q).to_owned();
            let login = cookie_in(
                &mut cookies.iter().map(Vec::as_slice),
                &login::login_cookie(p),
            );
            let origin = origin_of(secure, &host);
            let pp = Arc::clone(p);
            let done = tokio::task::spawn_blocking(move || {
                login::finish(&pp, &origin, &query, login.as_deref())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let clear = set_cookie(&login::login_cookie(p), "", 0, secure);
            return Some(match done {
                Ok((session, back)) => {
                    let life = p.section.session_lifetime.as_secs() as i64;
                    let headers = vec![
                        (b"location".to_vec(), back.into_bytes()),
                        set_cookie(&p.section.cookie_name, &session, life, secure),
                        clear,
                    ];
                    reply(302, headers, "")
                }
                Err(e) => {
                    eprintln!(
                        "[WARNING] gatehouse: identity '{}' : login failed: {e}",
                        p.name
                    );
                    reply(403, vec![clear], "403 Forbidden: login failed\n")
                }
            });
        }
        if path == p.section.logout_path {
            let cur = cookie_in(
                &mut cookies.iter().map(Vec::as_slice),
                &p.section.cookie_name,
            );
            if let Some(c) = cur
                && let Some(s) = &p.sessions
                && let Some(claims) = s.open(&c, crate::identity::jwt::now())
                && let Some(sid) = claims.get("gh_sid").and_then(|v| v.as_str())
            {
                let exp = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(0);
                session::revoke(sid, exp);
            }
            let location = match p.keys.endpoints().and_then(|e| e.end_session) {
                Some(end) => {
                    let client = p.section.client_id.as_deref().unwrap_or("");
                    let sep = if end.contains('?') { '&' } else { '?' };
                    format!("{end}{sep}client_id={}", login::enc(client))
                }
                None => "/".to_owned(),
            };
            let headers = vec![
                (b"location".to_vec(), location.into_bytes()),
                set_cookie(&p.section.cookie_name, "", 0, secure),
            ];
            return Some(reply(302, headers, ""));
        }
    }
    None
}

/// Writes the audit line of an exchange that went through a section with an audit
/// log (the one whose `authenticate` rule ran, else the first the frontend names).
pub fn audit_exchange(
    fe: &crate::runtime::frontend::Frontend,
    rec: &crate::log::LogRecord<'_>,
    txn: &super::txn::Txn,
) {
    // A connection that sent no request (a probe, a client that gave up) decided
    // nothing.
    if rec.request_line.is_none() {
        return;
    }
    let Ok(note) = txn.auth.lock() else { return };
    let fallback = fe
        .http_request
        .rules
        .iter()
        .flat_map(|r| r.providers.iter())
        .find(|p| p.audit.is_some());
    let Some(p) = note.provider.as_ref().or(fallback) else {
        return;
    };
    let Some(log) = &p.audit else { return };
    let reqline = String::from_utf8_lossy(rec.request_line.unwrap_or(b""));
    let mut words = reqline.split(' ');
    let method = words.next().unwrap_or("");
    let target = words.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let ident = note.identity.as_deref();
    let mut groups = Vec::new();
    if let Some(i) = ident {
        i.groups(&mut |g| {
            groups.push(String::from_utf8_lossy(g).into_owned());
            false
        });
    }
    let status = rec.status;
    let decision = note.decision.unwrap_or(if status >= 400 || status <= 0 {
        "deny"
    } else {
        "allow"
    });
    let random;
    let id = match rec.unique_id {
        Some(u) => u,
        None => {
            random = format!("{:x}", u128::from_be_bytes(session::random::<16>()));
            &random
        }
    };
    log.record(&audit::Record {
        id,
        client: rec.client.map(|c| c.to_string()).unwrap_or_default(),
        identity: ident.map(|i| &*i.provider),
        sub: ident.and_then(|i| i.sub()),
        email: ident.and_then(|i| i.email()),
        groups,
        method,
        host: &note.host,
        path,
        frontend: rec.frontend,
        backend: rec.backend,
        server: rec.server.unwrap_or(""),
        decision,
        rule: note.rule.as_ref().map(Span::to_string).unwrap_or_default(),
        status,
    });
}
