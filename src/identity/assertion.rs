//! gatehouse's own identity assertion (`assertion-header NAME` on a section): a
//! short-lived JWT signed by gatehouse (ES256) that tells a server who called — `sub`,
//! `email`, `groups`, `iss` the gatehouse instance, `aud` the backend's name, `iat`,
//! `exp` 60 s later, a unique `jti` — and the public keys a server verifies it with,
//! served as a JWKS at `assertion-jwks-path`.
//!
//! The signing key is read from `assertion-key FILE` (PEM, PKCS#8 or SEC1, P-256), or
//! generated at start and kept for the life of the process (a reload keeps it, so
//! servers that cached the JWKS keep verifying).

use super::Identity;
use crate::config::model::IdentitySection;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, Weak};

/// How long an assertion is valid (seconds).
pub const LIFETIME: i64 = 60;

/// One section's assertion signer.
pub struct Assertion {
    /// The header that carries it.
    pub header: String,
    /// Its `iss`.
    pub issuer: String,
    /// Where the JWKS is served.
    pub jwks_path: String,
    key: Arc<EcdsaKeyPair>,
    /// The key's id (its RFC 7638 thumbprint).
    pub kid: String,
    /// The public key as a JWK.
    pub jwk: Value,
    /// The encoded JWS header (`{"alg":"ES256","typ":"JWT","kid":…}`).
    header_b64: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Assertion({} kid {})", self.header, self.kid)
    }
}

/// Generated keys alive, by section name (a reload keeps them).
static GENERATED: Mutex<Vec<(String, Weak<EcdsaKeyPair>)>> = Mutex::new(Vec::new());

fn generated_for(section: &str) -> Result<Arc<EcdsaKeyPair>, String> {
    let mut g = GENERATED.lock().unwrap_or_else(|e| e.into_inner());
    g.retain(|(_, w)| w.strong_count() > 0);
    if let Some(k) = g
        .iter()
        .find(|(n, _)| n == section)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(k);
    }
    let k = Arc::new(
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| "cannot generate a P-256 key".to_owned())?,
    );
    g.push((section.to_owned(), Arc::downgrade(&k)));
    Ok(k)
}

fn key_from_file(path: &std::path::Path) -> Result<Arc<EcdsaKeyPair>, String> {
    use rustls_pki_types::PrivateKeyDer;
    use rustls_pki_types::pem::PemObject;
    let der = PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("{}: no PEM private key ({e})", path.display()))?;
    let key =
        EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_der())
            .map_err(|e| format!("{}: not a P-256 private key ({e})", path.display()))?;
    Ok(Arc::new(key))
}

/// The machine's host name.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates or fails.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The default `assertion-issuer`.
pub fn default_issuer() -> String {
    format!("urn:gatehouse:{}", hostname())
}

impl Assertion {
    /// The signer of section `s`, if it has `assertion-header`.
    pub fn new(s: &IdentitySection) -> Result<Option<Assertion>, String> {
        let Some(header) = &s.assertion_header else {
            return Ok(None);
        };
        let key = match &s.assertion_key {
            Some(p) => key_from_file(p)?,
            None => generated_for(&s.name)?,
        };
        let point = key.public_key().as_ref();
        // Uncompressed: 04 || x || y.
        let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..65]));
        // RFC 7638: the SHA-256 of the required members in lexicographic order.
        let thumb = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = B64.encode(Sha256::digest(thumb.as_bytes()));
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "alg": "ES256", "use": "sig"});
        let header_b64 = B64.encode(json!({"alg": "ES256", "typ": "JWT", "kid": kid}).to_string());
        Ok(Some(Assertion {
            header: header.clone(),
            issuer: s.assertion_issuer.clone().unwrap_or_else(default_issuer),
            jwks_path: s.assertion_jwks_path.clone(),
            key,
            kid,
            jwk,
            header_b64,
            rng: SystemRandom::new(),
        }))
    }

    /// A signed assertion of `id` for backend `aud`, issued at `now`.
    pub fn sign(&self, id: &Identity, aud: &str, now: i64) -> Option<String> {
        let mut c = Map::new();
        c.insert("iss".into(), self.issuer.as_str().into());
        if let Some(sub) = id.sub() {
            c.insert("sub".into(), sub.into());
        }
        c.insert("aud".into(), aud.into());
        c.insert("iat".into(), now.into());
        c.insert("exp".into(), (now + LIFETIME).into());
        c.insert("jti".into(), super::session::random_token().into());
        if let Some(e) = id.email() {
            c.insert("email".into(), e.into());
        }
        let mut groups = Vec::new();
        id.groups(&mut |g| {
            groups.push(Value::String(String::from_utf8_lossy(g).into_owned()));
            false
        });
        c.insert("groups".into(), Value::Array(groups));
        c.insert("identity".into(), (*id.provider).into());
        c.insert("method".into(), id.method.name().into());
        let payload = B64.encode(Value::Object(c).to_string());
        let mut out = String::with_capacity(self.header_b64.len() + payload.len() + 90);
        out.push_str(&self.header_b64);
        out.push('.');
        out.push_str(&payload);
        let sig = self.key.sign(&self.rng, out.as_bytes()).ok()?;
        out.push('.');
        out.push_str(&B64.encode(sig.as_ref()));
        Some(out)
    }
}

/// The JWKS document of `signers` (the keys served at one path).
pub fn jwks(signers: &[&Assertion]) -> String {
    let mut keys: Vec<&Value> = Vec::new();
    for s in signers {
        if !keys.iter().any(|k| k["kid"] == s.jwk["kid"]) {
            keys.push(&s.jwk);
        }
    }
    json!({ "keys": keys }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::span::Span;

    #[test]
    fn assertions_verify_with_the_served_key_and_the_generated_key_survives_a_reload() {
        let mut s = IdentitySection::new("corp", Span::new("t.cfg", 1));
        s.assertion_header = Some("X-Gatehouse-Identity".into());
        let a = Assertion::new(&s).unwrap().unwrap();
        let again = Assertion::new(&s).unwrap().unwrap();
        assert_eq!(
            a.kid, again.kid,
            "same section, same key while one is alive"
        );
        let mut claims = Map::new();
        claims.insert("sub".into(), "alice".into());
        let id = Identity {
            provider: "corp".into(),
            method: super::super::Method::Bearer,
            claims,
            groups_claim: "groups".into(),
            exp: 0,
            kid: None,
        };
        let now = super::super::jwt::now();
        let t = a.sign(&id, "app", now).unwrap();
        let keys = super::super::jwks::KeySet::parse(jwks(&[&a]).as_bytes()).unwrap();
        let rules = super::super::jwt::Rules {
            algs: vec!["ES256".into()],
            issuer: Some(default_issuer()),
            audiences: vec!["app".into()],
            skew: 0,
        };
        let c = super::super::jwt::verify(&t, &keys, &rules, now).unwrap();
        assert_eq!(c["sub"], "alice");
        assert_eq!(c["exp"].as_i64().unwrap() - now, LIFETIME);
    }
}
