//! Identity-aware access (gatehouse only): the `identity` sections compiled into
//! providers that validate bearer JWTs (and, with a login, session cookies), and what
//! an authenticated request carries ([`Identity`]) for the `identity_*` fetches.
//!
//! Layering: uses `config` only; `acl` reads an [`Identity`] through its sample source,
//! `runtime` holds the compiled [`Identities`], `proxy` runs `http-request
//! authenticate`.

pub mod assertion;
pub mod audit;
pub mod backchannel;
mod cache;
pub mod http;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod login;
pub mod refresh;
pub mod session;

use crate::config::diag::Diag;
use crate::config::model::IdentitySection;
use cache::Cache;
pub use jwt::TokenError;
use keys::{KeyStore, Source};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The test suite's token minter (keys generated in the test, tokens signed with them).
#[cfg(test)]
#[path = "../../tests/identity/mint.rs"]
mod mint;

/// How a request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `Authorization: Bearer` JWT.
    Bearer,
    /// The session cookie of a browser login.
    Cookie,
    /// A client certificate the TLS bind verified (`mtls` on the section).
    Mtls,
}

impl Method {
    /// Its name for `identity_method`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Bearer => "bearer",
            Method::Cookie => "cookie",
            Method::Mtls => "mtls",
        }
    }
}

/// The identity that authenticated a request.
#[derive(Debug)]
pub struct Identity {
    /// The `identity` section that accepted it.
    pub provider: Arc<str>,
    /// How.
    pub method: Method,
    /// The token's (or session's) claims.
    pub claims: Map<String, Value>,
    /// The claim listing the groups.
    pub groups_claim: Arc<str>,
    /// When it expires (seconds since the epoch).
    pub exp: i64,
    /// The key that signed it, if named (a key removed at the provider ends it).
    pub kid: Option<String>,
}

/// Calls `each` with the string form of a claim value (arrays: each element), until it
/// returns true.
fn each_value(v: &Value, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    match v {
        Value::String(s) => each(s.as_bytes()),
        Value::Array(a) => a.iter().any(|x| each_value(x, each)),
        Value::Null => false,
        Value::Bool(b) => each(if *b { b"1" } else { b"0" }),
        Value::Number(n) => each(n.to_string().as_bytes()),
        Value::Object(_) => each(v.to_string().as_bytes()),
    }
}

impl Identity {
    fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
    /// `sub`.
    pub fn sub(&self) -> Option<&str> {
        self.str_claim("sub")
    }
    /// `email`.
    pub fn email(&self) -> Option<&str> {
        self.str_claim("email")
    }
    /// Calls `each` with every group, until it returns true.
    pub fn groups(&self, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.claim(&self.groups_claim, each)
    }
    /// Calls `each` with the value(s) of the claim at dotted `path` (`realm.roles`),
    /// until it returns true; returns whether one did. A claim whose own name has a
    /// dot is found too.
    pub fn claim(&self, path: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        if let Some(v) = self.claims.get(path) {
            return each_value(v, each);
        }
        let mut parts = path.split('.');
        let Some(first) = parts.next() else {
            return false;
        };
        let mut cur = match self.claims.get(first) {
            Some(v) => v,
            None => return false,
        };
        for p in parts {
            cur = match cur.get(p) {
                Some(v) => v,
                None => return false,
            };
        }
        each_value(cur, each)
    }
}

/// One compiled `identity` section.
#[derive(Debug)]
pub struct Provider {
    /// The section's name.
    pub name: Arc<str>,
    /// The section as configured.
    pub section: IdentitySection,
    rules: jwt::Rules,
    /// Its keys.
    pub keys: Arc<KeyStore>,
    cache: Cache,
    /// How many tokens had their signature checked (cache misses).
    signature_checks: AtomicU64,
    /// The audit log, if configured.
    pub audit: Option<Arc<audit::AuditLog>>,
    /// The session cookie keys, if configured.
    pub sessions: Option<session::Sealer>,
    /// The identity assertion signer, with `assertion-header`.
    pub assertion: Option<assertion::Assertion>,
}

impl Provider {
    /// Validates a bearer token (cached by the token's bytes until it expires).
    pub fn bearer(&self, token: &str) -> Result<Arc<Identity>, TokenError> {
        let now = jwt::now();
        let keys = self.keys.current();
        if let Some(id) = self.cache.get(token, now, self.rules.skew) {
            if id.kid.as_deref().is_none_or(|k| keys.has_kid(k)) {
                return Ok(id);
            }
            self.cache.remove(token);
        }
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        let claims = jwt::verify(token, &keys, &self.rules, now)?;
        let id = Arc::new(self.identity(claims, Method::Bearer, jwt::kid_of(token)));
        self.cache.put(token, Arc::clone(&id));
        Ok(id)
    }

    /// Whether `token` was validated before and has not expired (its key is then
    /// known: no key fetch is needed for it).
    pub fn validated(&self, token: &str) -> bool {
        self.cache.has(token, jwt::now(), self.rules.skew)
    }

    /// Builds the identity of verified claims.
    pub fn identity(
        &self,
        claims: Map<String, Value>,
        method: Method,
        kid: Option<String>,
    ) -> Identity {
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        Identity {
            provider: Arc::clone(&self.name),
            method,
            claims,
            groups_claim: self.section.groups_claim.as_str().into(),
            exp,
            kid,
        }
    }

    /// Opens a session cookie's value: `None` when it is not valid, was logged out, or
    /// its tokens expired and no refresh was made for it ([`refresh`]).
    pub fn cookie(&self, value: &str) -> Option<Arc<Identity>> {
        let s = self.sessions.as_ref()?;
        let now = jwt::now();
        self.session_identity(value, s.open(value, now), now)
    }

    /// [`Provider::cookie`] for a cookie already opened ([`session::Sealer::open`]'s
    /// answer for `value` at `now`).
    pub fn session_identity(
        &self,
        value: &str,
        opened: Option<Map<String, Value>>,
        now: i64,
    ) -> Option<Arc<Identity>> {
        let mut claims = opened?;
        if backchannel::is_ended(&self.name, &claims) {
            return None;
        }
        if refresh::due(&claims, now) {
            // Its tokens expired: only a refresh made for this cookie lets it pass.
            let (_, id) = refresh::remembered(&self.name, value, now)?;
            return (!backchannel::is_ended(&self.name, &id.claims)).then_some(id);
        }
        claims.remove(refresh::RT);
        Some(Arc::new(self.identity(claims, Method::Cookie, None)))
    }

    /// The identity of a client certificate the bind verified, with `mtls` on the
    /// section: `sub` is the subject's (last) CN, `dn` and `issuer_dn` the subject and
    /// issuer DNs as `ssl_c_s_dn` and `ssl_c_i_dn` print them. `None` without `mtls` or
    /// without a CN.
    pub fn certificate(&self, cert: &crate::tls::ClientCert) -> Option<Arc<Identity>> {
        use crate::tls::facts::{dn_entry, dn_string};
        if !self.section.mtls {
            return None;
        }
        let cn = dn_entry(&cert.subject, "CN", -1)?;
        let mut claims = Map::new();
        claims.insert("sub".into(), cn.into());
        claims.insert("dn".into(), dn_string(&cert.subject, false).into());
        claims.insert("issuer_dn".into(), dn_string(&cert.issuer, false).into());
        if let Some(email) = dn_entry(&cert.subject, "emailAddress", -1) {
            claims.insert("email".into(), email.into());
        }
        Some(Arc::new(self.identity(claims, Method::Mtls, None)))
    }

    /// Whether the section knows keys to check tokens with (`issuer` or `jwks-file`);
    /// without, it accepts client certificates only (`mtls`).
    pub fn takes_tokens(&self) -> bool {
        self.section.issuer.is_some() || self.section.jwks_file.is_some()
    }

    /// How many validated tokens are cached.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// How many bearer tokens were verified (signature and claims) rather than found in
    /// the cache.
    pub fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }

    /// The rules tokens are checked with.
    pub fn rules(&self) -> &jwt::Rules {
        &self.rules
    }
}

/// The compiled `identity` sections of a configuration.
#[derive(Debug, Default)]
pub struct Identities {
    /// The providers, in file order.
    pub providers: Vec<Arc<Provider>>,
}

/// Key stores alive, by section name, so that a reload keeps the keys it has.
static STORES: Mutex<Vec<(String, String, Weak<KeyStore>)>> = Mutex::new(Vec::new());

fn store_for(s: &IdentitySection) -> (Arc<KeyStore>, bool) {
    let min = s.keys_min_interval;
    if let Some(p) = &s.jwks_file {
        return (Arc::new(KeyStore::new(Source::File(p.clone()), min)), true);
    }
    if s.issuer.is_none() {
        return (Arc::new(KeyStore::new(Source::None, min)), true);
    }
    let issuer = s.issuer.clone().unwrap_or_default();
    let mut stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    stores.retain(|(_, _, w)| w.strong_count() > 0);
    if let Some(ks) = stores
        .iter()
        .find(|(n, i, _)| *n == s.name && *i == issuer)
        .and_then(|(_, _, w)| w.upgrade())
    {
        return (ks, false);
    }
    let ks = Arc::new(KeyStore::new(Source::Issuer(issuer.clone()), min));
    stores.push((s.name.clone(), issuer, Arc::downgrade(&ks)));
    (ks, true)
}

impl Identities {
    /// Compiles the sections: reads `jwks-file`s, fetches discovery and keys of
    /// issuers (a failure is an alert, or a warning with `degraded-start`), opens audit
    /// logs.
    pub fn compile(sections: &[IdentitySection]) -> Result<Identities, Vec<Diag>> {
        let mut diags = Vec::new();
        let mut providers = Vec::new();
        for s in sections {
            let (keys, fresh) = store_for(s);
            if fresh {
                keys.mark_fetched();
                if let Err(e) = keys.load_now() {
                    let msg = format!("identity '{}' : cannot load its keys: {e}", s.name);
                    if s.degraded_start && s.jwks_file.is_none() {
                        diags.push(Diag::warning(&s.span, msg));
                    } else {
                        diags.push(Diag::alert(&s.span, msg));
                        continue;
                    }
                }
                keys.refresh_in_background(s.keys_refresh);
            }
            let audit = match &s.audit_log {
                None => None,
                Some(t) => match audit::AuditLog::open(t) {
                    Ok(a) => Some(Arc::new(a)),
                    Err(e) => {
                        let msg = format!("identity '{}' : audit-log : {e}", s.name);
                        if s.audit_required {
                            diags.push(Diag::alert(&s.span, msg));
                            continue;
                        }
                        diags.push(Diag::warning(&s.span, msg));
                        None
                    }
                },
            };
            let assertion = match assertion::Assertion::new(s) {
                Ok(a) => a,
                Err(e) => {
                    let msg = format!("identity '{}' : assertion-key : {e}", s.name);
                    diags.push(Diag::alert(&s.span, msg));
                    continue;
                }
            };
            let sessions = (!s.cookie_secrets.is_empty())
                .then(|| session::Sealer::new(&s.cookie_secrets, s.session_lifetime));
            let mut audiences = s.audiences.clone();
            if audiences.is_empty() {
                audiences.extend(s.client_id.clone());
            }
            providers.push(Arc::new(Provider {
                name: s.name.as_str().into(),
                rules: jwt::Rules {
                    algs: s.allowed_algs.clone(),
                    issuer: s.issuer.clone(),
                    audiences,
                    skew: s.clock_skew.as_secs() as i64,
                },
                section: s.clone(),
                keys,
                cache: Cache::new(cache::CAPACITY, cache::MAX_BYTES),
                signature_checks: AtomicU64::new(0),
                audit,
                sessions,
                assertion,
            }));
        }
        if diags.iter().any(Diag::is_alert) {
            return Err(diags);
        }
        for d in diags {
            eprintln!("{d}");
        }
        Ok(Identities { providers })
    }

    /// The provider named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        self.providers.iter().find(|p| &*p.name == name)
    }

    /// True when no section is configured.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::span::Span;

    #[test]
    fn a_second_use_of_a_token_costs_no_signature_check() {
        let key = mint::Signer::ec("k1");
        let path = std::env::temp_dir().join(format!(
            "gatehouse-jwks-{}-{}.json",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::write(&path, mint::jwks(&[&key])).unwrap();
        let mut s = IdentitySection::new("corp", Span::new("t.cfg", 1));
        s.issuer = Some("https://idp.example.com".into());
        s.audiences = vec!["pg".into()];
        s.jwks_file = Some(path.clone());
        let ids = Identities::compile(&[s]).unwrap();
        let _ = std::fs::remove_file(&path);
        let p = &ids.providers[0];
        let t = mint::now();
        let claims = serde_json::json!({
            "iss": "https://idp.example.com", "aud": "pg", "sub": "alice",
            "iat": t - 10, "exp": t + 300,
        });
        let token = key.sign(&claims);
        assert_eq!(p.bearer(&token).unwrap().claims["sub"], "alice");
        assert_eq!(p.signature_checks(), 1);
        // The same token again, and again: from the cache.
        for _ in 0..2 {
            assert_eq!(p.bearer(&token).unwrap().claims["sub"], "alice");
        }
        assert_eq!(p.signature_checks(), 1);
        // Another token is checked; a bad one is checked each time (never cached).
        p.bearer(&key.sign(&serde_json::json!({
            "iss": "https://idp.example.com", "aud": "pg", "sub": "bob",
            "iat": t - 10, "exp": t + 300,
        })))
        .unwrap();
        assert_eq!(p.signature_checks(), 2);
        let forged = mint::Signer::ec("k1").sign(&claims);
        for _ in 0..2 {
            assert!(p.bearer(&forged).is_err());
        }
        assert_eq!(p.signature_checks(), 4);
    }
}
