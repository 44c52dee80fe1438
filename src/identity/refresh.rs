//! Refreshing a browser session's tokens (OpenID Connect Core 12): a session whose
//! login gave a refresh token (`offline_access` in `scopes`, or a provider that issues
//! one anyway) carries it, sealed in the cookie, with the expiry of its ID token
//! (`gh_tok_exp`). Once that passes, the session is no longer accepted as is: the next
//! request refreshes the tokens at the token endpoint (`grant_type=refresh_token`,
//! `client_secret_basic`), verifies the new ID token (signature, `iss`, `aud`, same
//! `sub`) and gets a resealed cookie (`Set-Cookie` on the response); when the provider
//! refuses, the session is over (a browser goes to the login, an API client gets 401).
//!
//! Refreshes are made one at a time, and the result is remembered for a while by the
//! old cookie's hash, so that the requests a browser sends at once with the old cookie
//! pass on the one refresh instead of each spending the refresh token.

use super::session::Sealer;
use super::{Identity, Method, Provider, jwt, login};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long the result of a refresh is remembered for the old cookie (seconds).
const REMEMBER: i64 = 30;

/// The session claims that hold the refresh token and the tokens' expiry.
pub const RT: &str = "gh_rt";
/// See [`RT`].
pub const TOK_EXP: &str = "gh_tok_exp";

struct Refreshed {
    cookie: String,
    identity: Arc<Identity>,
    until: i64,
}

/// Refreshed sessions by the SHA-256 of the old cookie value.
static DONE: Mutex<Option<HashMap<[u8; 32], Refreshed>>> = Mutex::new(None);
/// One refresh at a time.
static ONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn key(section: &str, cookie: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(section.as_bytes());
    h.update([0]);
    h.update(cookie.as_bytes());
    h.finalize().into()
}

/// Whether session `claims` hold a refresh token whose tokens expired at `now`.
pub fn due(claims: &Map<String, Value>, now: i64) -> bool {
    claims.contains_key(RT)
        && claims
            .get(TOK_EXP)
            .and_then(Value::as_i64)
            .is_some_and(|e| now >= e)
}

/// The identity and new cookie value a recent refresh gave old `cookie` of `section`.
pub fn remembered(section: &str, cookie: &str, now: i64) -> Option<(String, Arc<Identity>)> {
    let g = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let r = g.as_ref()?.get(&key(section, cookie))?;
    (r.until >= now).then(|| (r.cookie.clone(), Arc::clone(&r.identity)))
}

/// Adds the refresh token and the tokens' expiry of a token endpoint response `tok`
/// (with its verified ID token's `exp`) to session `claims`.
pub fn keep_tokens(claims: &mut Map<String, Value>, tok: &Value, id_exp: Option<i64>, now: i64) {
    let Some(rt) = tok.get("refresh_token").and_then(Value::as_str) else {
        return;
    };
    claims.insert(RT.into(), rt.into());
    let by_expires_in = tok
        .get("expires_in")
        .and_then(Value::as_i64)
        .map(|s| now + s);
    let exp = match (id_exp, by_expires_in) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(now + 300),
    };
    claims.insert(TOK_EXP.into(), exp.into());
}

/// Refreshes the session of cookie value `cookie` (claims `claims`) of `p`: the new
/// cookie value and identity, or why not (the session is then over). Blocking.
fn refresh_now(
    p: &Provider,
    sealer: &Sealer,
    claims: &Map<String, Value>,
) -> Result<(String, Map<String, Value>), String> {
    let rt = claims
        .get(RT)
        .and_then(Value::as_str)
        .ok_or("no refresh token")?;
    let body = format!("grant_type=refresh_token&refresh_token={}", login::enc(rt));
    let tok = login::token_request(p, &body)?;
    let client = p.section.client_id.clone().ok_or("no client-id")?;
    let now = jwt::now();
    let mut next = claims.clone();
    let mut id_exp = None;
    if let Some(id_token) = tok.get("id_token").and_then(Value::as_str) {
        let mut rules = p.rules().clone();
        rules.audiences = vec![client];
        let c = jwt::verify(id_token, &p.keys.current(), &rules, now)
            .map_err(|e| format!("id_token: {e}"))?;
        if c.get("sub") != claims.get("sub") {
            return Err("the refreshed id_token names another sub".into());
        }
        for k in login::KEPT_CLAIMS
            .iter()
            .copied()
            .chain([p.section.groups_claim.as_str()])
        {
            if let Some(v) = c.get(k) {
                next.insert(k.into(), v.clone());
            }
        }
        id_exp = c.get("exp").and_then(Value::as_i64);
    }
    let mut tok = tok;
    if tok.get("refresh_token").is_none()
        && let Some(o) = tok.as_object_mut()
    {
        // The provider kept the refresh token as it was.
        o.insert("refresh_token".into(), rt.into());
    }
    keep_tokens(&mut next, &tok, id_exp, now);
    let cookie = sealer.reseal(&next).ok_or("cannot seal the session")?;
    Ok((cookie, next))
}

/// Refreshes, once for all the requests that carry it, the session of cookie value
/// `cookie` whose tokens expired; `Some(new cookie value)` when it was refreshed (the
/// identity is then accepted for the old cookie too, for a while), `None` when the
/// session is over.
pub async fn refresh(
    p: &Arc<Provider>,
    cookie: &str,
    claims: Map<String, Value>,
) -> Option<String> {
    let _one = ONE.lock().await;
    let now = jwt::now();
    if let Some((c, _)) = remembered(&p.name, cookie, now) {
        return Some(c);
    }
    let pp = Arc::clone(p);
    let done = tokio::task::spawn_blocking(move || {
        let sealer = pp.sessions.as_ref().ok_or("no cookie-secret")?;
        refresh_now(&pp, sealer, &claims)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match done {
        Ok((value, mut claims)) => {
            claims.remove(RT);
            let exp = claims.get("gh_exp").and_then(Value::as_i64).unwrap_or(0);
            claims.insert("exp".into(), exp.into());
            let identity = Arc::new(p.identity(claims, Method::Cookie, None));
            let mut g = DONE.lock().unwrap_or_else(|e| e.into_inner());
            let m = g.get_or_insert_with(HashMap::new);
            m.retain(|_, r| r.until >= now);
            m.insert(
                key(&p.name, cookie),
                Refreshed {
                    cookie: value.clone(),
                    identity,
                    until: now + REMEMBER,
                },
            );
            Some(value)
        }
        Err(e) => {
            eprintln!(
                "[WARNING] gatehouse: identity '{}' : session refresh failed, the session ends: {e}",
                p.name
            );
            None
        }
    }
}
