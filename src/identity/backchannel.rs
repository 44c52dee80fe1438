//! OpenID Connect Back-Channel Logout 1.0 (`backchannel-logout-path` on a section):
//! the provider POSTs a logout token (a JWT it signs) when a user logs out at the
//! provider; gatehouse validates it as the specification's section 2.6 says —
//! signature with the provider's keys, `iss`, `aud` = the client id, `iat`, `exp`, a
//! `jti` not seen before, the back-channel logout `events` member, `sid` or `sub`, and
//! no `nonce` — then ends at once every session of this process with that `sid` (or,
//! without one, every session of that `sub` begun before): the next request carrying
//! such a cookie is refused, on a keep-alive connection too.

use super::Provider;
use super::jwt;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// The `events` member that makes a JWT a logout token.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What a valid logout token ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Logout {
    /// The provider's session id, if given.
    pub sid: Option<String>,
    /// The user, if given.
    pub sub: Option<String>,
}

#[derive(Default)]
struct Ended {
    /// (section, sid) → until when to remember it.
    sids: HashMap<(String, String), i64>,
    /// (section, sub) → (sessions begun at or before this time are ended, until when).
    subs: HashMap<(String, String), (i64, i64)>,
    /// Logout token ids already used, until their `exp`.
    jtis: HashMap<String, i64>,
}

static ENDED: Mutex<Option<Ended>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Ended) -> R) -> R {
    let mut g = ENDED.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Ended::default))
}

fn str_claim(c: &Map<String, Value>, name: &str) -> Option<String> {
    c.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// Validates logout token `token` for provider `p` at `now`; `Err`: why it is refused.
pub fn validate(p: &Provider, token: &str, now: i64) -> Result<Logout, String> {
    let client = p
        .section
        .client_id
        .clone()
        .ok_or("the section has no client-id")?;
    let mut rules = p.rules().clone();
    rules.audiences = vec![client];
    let claims = jwt::verify(token, &p.keys.current(), &rules, now).map_err(|e| e.to_string())?;
    if !claims.get("iat").is_some_and(Value::is_number) {
        return Err("no iat".into());
    }
    let events = claims
        .get("events")
        .and_then(Value::as_object)
        .ok_or("no events claim")?;
    if !events.get(EVENT).is_some_and(Value::is_object) {
        return Err("events claim without the back-channel logout event".into());
    }
    if claims.contains_key("nonce") {
        return Err("a logout token must not carry a nonce".into());
    }
    let logout = Logout {
        sid: str_claim(&claims, "sid"),
        sub: str_claim(&claims, "sub"),
    };
    if logout.sid.is_none() && logout.sub.is_none() {
        return Err("neither sid nor sub".into());
    }
    let jti = str_claim(&claims, "jti").ok_or("no jti")?;
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
    let replay = with(|e| {
        e.jtis.retain(|_, until| *until >= now);
        e.jtis.insert(jti, exp.saturating_add(rules.skew)).is_some()
    });
    if replay {
        return Err("logout token replayed (jti seen before)".into());
    }
    Ok(logout)
}

/// Ends the sessions of section `section` that `logout` names, at `now`; sessions last
/// at most `lifetime` seconds, so that is how long the ending is remembered.
pub fn end(section: &str, logout: &Logout, now: i64, lifetime: i64) {
    let until = now.saturating_add(lifetime);
    with(|e| {
        e.sids.retain(|_, u| *u >= now);
        e.subs.retain(|_, (_, u)| *u >= now);
        match (&logout.sid, &logout.sub) {
            (Some(sid), _) => {
                e.sids.insert((section.to_owned(), sid.clone()), until);
            }
            (None, Some(sub)) => {
                e.subs
                    .insert((section.to_owned(), sub.clone()), (now, until));
            }
            (None, None) => {}
        }
    });
}

/// Whether a session of `section` with these claims (`sid`, `sub`, `gh_iat`: when it
/// began) was ended by a back-channel logout.
pub fn is_ended(section: &str, claims: &Map<String, Value>) -> bool {
    let g = ENDED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(e) = g.as_ref() else { return false };
    if e.sids.is_empty() && e.subs.is_empty() {
        return false;
    }
    let key = |name: &str| Some((section.to_owned(), str_claim(claims, name)?));
    if key("sid").is_some_and(|k| e.sids.contains_key(&k)) {
        return true;
    }
    let began = claims.get("gh_iat").and_then(Value::as_i64).unwrap_or(0);
    key("sub")
        .and_then(|k| e.subs.get(&k))
        .is_some_and(|(at, _)| began <= *at)
}
