//! JSON Web Tokens (RFC 7519) in compact JWS form: split, decode, check the algorithm
//! against the allow-list, verify the signature with the key set, then the registered
//! claims (`iss`, `aud`, `exp`, `nbf`, `iat`) with the allowed clock skew.

use super::jwks::{KeySet, SigError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The longest token accepted (bytes).
pub const MAX_TOKEN: usize = 16 * 1024;
/// The longest encoded header accepted (bytes).
pub const MAX_HEADER: usize = 2048;

/// Why a token was refused: one reason per row of the attack table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    Malformed,
    /// Too long, or a header too long.
    Oversized,
    /// `alg` not in the allow-list (`none`, HMAC, …).
    Algorithm(String),
    /// No key with this `kid`.
    UnknownKid(String),
    /// The signature does not verify with any candidate key.
    Signature,
    /// `exp` is past.
    Expired,
    /// `nbf` is ahead.
    NotYetValid,
    /// `iat` is ahead.
    IssuedInFuture,
    /// `exp` missing.
    NoExpiry,
    /// `iss` is not the issuer.
    Issuer,
    /// `aud` has none of the audiences.
    Audience,
    /// No key set is known yet.
    NoKeys,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("malformed token"),
            TokenError::Oversized => f.write_str("token too large"),
            TokenError::Algorithm(a) => write!(f, "algorithm '{a}' not allowed"),
            TokenError::UnknownKid(k) => write!(f, "unknown key id '{k}'"),
            TokenError::Signature => f.write_str("bad signature"),
            TokenError::Expired => f.write_str("token expired"),
            TokenError::NotYetValid => f.write_str("token not yet valid"),
            TokenError::IssuedInFuture => f.write_str("token issued in the future"),
            TokenError::NoExpiry => f.write_str("token without exp"),
            TokenError::Issuer => f.write_str("wrong issuer"),
            TokenError::Audience => f.write_str("wrong audience"),
            TokenError::NoKeys => f.write_str("no keys available"),
        }
    }
}

/// What a token must satisfy.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Allowed `alg` values (never `none` or HMAC).
    pub algs: Vec<String>,
    /// The expected `iss`, if any.
    pub issuer: Option<String>,
    /// Accepted `aud` values (one must be present).
    pub audiences: Vec<String>,
    /// Clock skew allowed, seconds.
    pub skew: i64,
}

/// The parts of a token before verification.
pub struct Parsed {
    /// `alg` of the header.
    pub alg: String,
    /// `kid` of the header.
    pub kid: Option<String>,
    signed: usize,
    sig: Vec<u8>,
    payload: Vec<u8>,
}

fn json_part(part: &str) -> Result<(Vec<u8>, Map<String, Value>), TokenError> {
    let raw = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice(&raw) {
        Ok(Value::Object(m)) => Ok((raw, m)),
        _ => Err(TokenError::Malformed),
    }
}

/// Splits and decodes a compact token; checks sizes.
pub fn parse(token: &str) -> Result<Parsed, TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Oversized);
    }
    let mut it = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(TokenError::Malformed);
    };
    if h.len() > MAX_HEADER {
        return Err(TokenError::Oversized);
    }
    let (_, header) = json_part(h)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(TokenError::Malformed)?
        .to_owned();
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    let payload = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|_| TokenError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Malformed)?;
    Ok(Parsed {
        alg,
        kid,
        signed: h.len() + 1 + p.len(),
        sig,
        payload,
    })
}

/// The `kid` of a token's header, cheaply (for the unknown-key prefetch).
pub fn kid_of(token: &str) -> Option<String> {
    let h = token.split('.').next()?;
    if h.len() > MAX_HEADER {
        return None;
    }
    let (_, header) = json_part(h).ok()?;
    header.get("kid").and_then(Value::as_str).map(str::to_owned)
}

fn num(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims
        .get(name)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Verifies `token` with `keys` under `rules` at time `now` (seconds since the epoch);
/// returns its claims.
pub fn verify(
    token: &str,
    keys: &KeySet,
    rules: &Rules,
    now: i64,
) -> Result<Map<String, Value>, TokenError> {
    let t = parse(token)?;
    // The allow-list comes first: `none` and HMAC never reach a key.
    if !rules.algs.contains(&t.alg) || t.alg == "none" || t.alg.starts_with("HS") {
        return Err(TokenError::Algorithm(t.alg));
    }
    if keys.is_empty() {
        return Err(TokenError::NoKeys);
    }
    let candidates = keys.candidates(t.kid.as_deref());
    if candidates.is_empty() {
        return Err(TokenError::UnknownKid(t.kid.unwrap_or_default()));
    }
    let msg = &token.as_bytes()[..t.signed];
    let mut verified = false;
    for k in candidates {
        match k.verify(&t.alg, msg, &t.sig) {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(SigError::Bad | SigError::WrongKeyType) => {}
        }
    }
    if !verified {
        return Err(TokenError::Signature);
    }
    let claims = match serde_json::from_slice(&t.payload) {
        Ok(Value::Object(m)) => m,
        _ => return Err(TokenError::Malformed),
    };
    check_claims(&claims, rules, now)?;
    Ok(claims)
}

/// Checks the registered claims of verified `claims`.
pub fn check_claims(
    claims: &Map<String, Value>,
    rules: &Rules,
    now: i64,
) -> Result<(), TokenError> {
    let exp = num(claims, "exp").ok_or(TokenError::NoExpiry)?;
    if now > exp.saturating_add(rules.skew) {
        return Err(TokenError::Expired);
    }
    if num(claims, "nbf").is_some_and(|nbf| now.saturating_add(rules.skew) < nbf) {
        return Err(TokenError::NotYetValid);
    }
    if num(claims, "iat").is_some_and(|iat| iat > now.saturating_add(rules.skew)) {
        return Err(TokenError::IssuedInFuture);
    }
    if let Some(iss) = &rules.issuer
        && claims.get("iss").and_then(Value::as_str) != Some(iss.as_str())
    {
        return Err(TokenError::Issuer);
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => rules.audiences.iter().any(|x| x == a),
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(Value::as_str)
            .any(|a| rules.audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(TokenError::Audience);
    }
    Ok(())
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
