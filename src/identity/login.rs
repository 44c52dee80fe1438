//! Browser login with the authorization code flow (OpenID Connect Core 3.1) and PKCE
//! (RFC 7636, S256): the redirect to the provider with `state` and `nonce` kept in a
//! sealed, short-lived login cookie; the callback that checks them, redeems the code
//! (`client_secret_basic`), verifies the ID token and opens the session; the return to
//! the URL first asked for, same origin only.

use super::Provider;
use super::http;
use super::jwt;
use super::session::random_token;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a login may take (the login cookie's lifetime), seconds.
pub const LOGIN_TTL: i64 = 600;

/// The path to return to after login: `target` if it is a local path that cannot be
/// read as another origin, else `/`. Refused: anything not starting with one `/`
/// (`https://evil.example`, `//evil.example`), backslashes (`/\evil.example`, which
/// browsers read as `//`), control characters and whitespace, and `@` before the first
/// `/`-free part (`https://app.example@evil.example` is not a path at all).
pub fn safe_return(target: &str) -> String {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.bytes().any(|b| b < 0x21 || b == 0x7f)
        && !target.to_ascii_lowercase().contains("%5c");
    if ok { target.to_owned() } else { "/".into() }
}

/// Percent-encodes a query value.
pub fn enc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded query value (`+` is a space).
pub fn dec(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(x) => {
                        out.push(x);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of query parameter `name` in `query`.
pub fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| dec(v))
}

/// What the login cookie keeps between the redirect and the callback.
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    back: String,
}

/// The login cookie's name for a section.
pub fn login_cookie(p: &Provider) -> String {
    format!("{}_login", p.section.cookie_name)
}

/// Whether this provider can log browsers in (issuer discovered, client and cookie
/// secret configured).
pub fn can_login(p: &Provider) -> bool {
    p.sessions.is_some()
        && p.section.client_id.is_some()
        && p.keys
            .endpoints()
            .is_some_and(|e| e.authorization.is_some())
}

/// The redirect to the provider's login for a browser that asked for `target` on
/// `origin` (`http://host`): the Location and the login cookie to set.
pub fn start(p: &Provider, origin: &str, target: &str) -> Option<(String, String)> {
    let ep = p.keys.endpoints()?;
    let auth = ep.authorization?;
    let sealer = p.sessions.as_ref()?;
    let client = p.section.client_id.as_deref()?;
    let pending = Pending {
        state: random_token(),
        nonce: random_token(),
        verifier: random_token(),
        back: safe_return(target),
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let redirect = format!("{origin}{}", p.section.callback_path);
    let sep = if auth.contains('?') { '&' } else { '?' };
    // OpenID Connect Core 11: `offline_access` is granted only with `prompt=consent`.
    let prompt = if p.section.scopes.iter().any(|s| s == "offline_access") {
        "&prompt=consent"
    } else {
        ""
    };
    let location = format!(
        "{auth}{sep}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={challenge}&code_challenge_method=S256{prompt}",
        enc(client),
        enc(&redirect),
        enc(&p.section.scopes.join(" ")),
        pending.state,
        pending.nonce,
    );
    let doc = serde_json::json!({
        "s": pending.state, "n": pending.nonce, "v": pending.verifier,
        "b": pending.back, "e": jwt::now() + LOGIN_TTL,
    });
    let sealed = sealer.seal_bytes(b"login", doc.to_string().as_bytes())?;
    Some((location, sealed))
}

/// The ID token claims a session keeps (and the groups claim).
pub const KEPT_CLAIMS: &[&str] = &["sub", "email", "name", "preferred_username", "sid", "iss"];

/// Why a callback failed.
pub type Failure = String;

/// Handles the callback: checks `state` against the login cookie, redeems the code and
/// verifies the ID token (signature, `iss`, `aud` = client id, `nonce`). Returns the
/// session cookie's value and the path to go back to. Blocking (calls the token
/// endpoint).
pub fn finish(
    p: &Provider,
    origin: &str,
    query: &str,
    login_cookie: Option<&str>,
) -> Result<(String, String), Failure> {
    let sealer = p.sessions.as_ref().ok_or("no cookie-secret")?;
    if let Some(e) = param(query, "error") {
        return Err(format!("provider error: {e}"));
    }
    let code = param(query, "code").ok_or("no code")?;
    let state = param(query, "state").ok_or("no state")?;
    let raw = login_cookie
        .and_then(|c| sealer.open_bytes(b"login", c))
        .ok_or("no valid login cookie")?;
    let doc: Value = serde_json::from_slice(&raw).map_err(|_| "bad login cookie")?;
    let f = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    if doc.get("e").and_then(Value::as_i64).unwrap_or(0) < jwt::now() {
        return Err("login took too long".into());
    }
    let pending = Pending {
        state: f("s"),
        nonce: f("n"),
        verifier: f("v"),
        back: f("b"),
    };
    if pending.state.is_empty() || pending.state != state {
        return Err("state mismatch".into());
    }
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
        enc(&code),
        enc(&format!("{origin}{}", p.section.callback_path)),
        enc(&pending.verifier)
    );
    let tok = token_request(p, &body)?;
    let client = p.section.client_id.clone().ok_or("no client-id")?;
    let id_token = tok
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or("no id_token")?;
    let mut rules = p.rules().clone();
    rules.audiences = vec![client];
    let claims = jwt::verify(id_token, &p.keys.current(), &rules, jwt::now())
        .map_err(|e| format!("id_token: {e}"))?;
    if claims.get("nonce").and_then(Value::as_str) != Some(pending.nonce.as_str()) {
        return Err("nonce mismatch".into());
    }
    let mut keep = Map::new();
    for k in KEPT_CLAIMS {
        if let Some(v) = claims.get(*k) {
            keep.insert((*k).into(), v.clone());
        }
    }
    if let Some(v) = claims.get(&p.section.groups_claim) {
        keep.insert(p.section.groups_claim.clone(), v.clone());
    }
    let id_exp = claims.get("exp").and_then(Value::as_i64);
    super::refresh::keep_tokens(&mut keep, &tok, id_exp, jwt::now());
    let cookie = sealer
        .seal(keep, jwt::now())
        .ok_or("cannot seal the session")?;
    Ok((cookie, safe_return(&pending.back)))
}

/// POSTs `form` (`grant_type=…`) to `p`'s token endpoint with the client's Basic
/// credentials (RFC 6749 2.3.1): the endpoint's JSON answer, or why not. Blocking.
pub(super) fn token_request(p: &Provider, form: &str) -> Result<Value, String> {
    let ep = p.keys.endpoints().ok_or("provider not discovered")?;
    let token_url = ep.token.ok_or("no token endpoint")?;
    let client = p.section.client_id.clone().ok_or("no client-id")?;
    let secret = p.section.client_secret.clone().unwrap_or_default();
    let basic = STANDARD.encode(format!("{}:{}", enc(&client), enc(&secret)));
    let r = http::request(
        "POST",
        &token_url,
        &[("Authorization", &format!("Basic {basic}"))],
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
        Duration::from_secs(10),
    )?;
    if r.status != 200 {
        return Err(format!(
            "token endpoint answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    serde_json::from_slice(&r.body).map_err(|_| "token response not JSON".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_url_never_leaves_the_origin() {
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://app.example@evil.example",
            "/%5Cevil.example",
            "/\tevil",
            "",
        ] {
            assert_eq!(safe_return(evil), "/", "{evil}");
        }
        assert_eq!(safe_return("/admin/x?y=1"), "/admin/x?y=1");
    }

    #[test]
    fn query_values_round_trip() {
        assert_eq!(dec(&enc("a b/c?d=é")), "a b/c?d=é");
        assert_eq!(param("code=a%2Fb&state=x", "code").as_deref(), Some("a/b"));
    }
}
