//! Browser sessions without server state: the session's claims sealed with AES-256-GCM
//! into the cookie (`cookie-secret`: the first secret seals, every one opens, so
//! secrets can rotate and several instances sharing them accept each other's cookies).
//! A session id in each cookie lets logout revoke it in this process.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Session ids ended by a logout, with their expiry.
static REVOKED: Mutex<Option<HashMap<String, i64>>> = Mutex::new(None);

/// Seals and opens cookies with the section's secrets.
pub struct Sealer {
    keys: Vec<LessSafeKey>,
    lifetime: Duration,
    /// Session cookies opened (decrypted), for the exporter.
    opens: AtomicU64,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({} keys)", self.keys.len())
    }
}

/// Random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b
}

/// A random URL-safe string of `n` random bytes.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random::<32>())
}

impl Sealer {
    /// A sealer for `secrets` (the first seals).
    pub fn new(secrets: &[String], lifetime: Duration) -> Sealer {
        let keys = secrets
            .iter()
            .filter_map(|s| {
                let k: [u8; 32] = Sha256::digest(s.as_bytes()).into();
                UnboundKey::new(&AES_256_GCM, &k).ok().map(LessSafeKey::new)
            })
            .collect();
        Sealer {
            keys,
            lifetime,
            opens: AtomicU64::new(0),
        }
    }

    /// How many session cookies were opened ([`Sealer::open`]).
    pub fn opens(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }

    /// How long a session lasts.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Seals `data` for purpose `aad` (`session`, `login`).
    pub fn seal_bytes(&self, aad: &[u8], data: &[u8]) -> Option<String> {
        let key = self.keys.first()?;
        let n = random::<NONCE_LEN>();
        let mut buf = data.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(n), Aad::from(aad), &mut buf)
            .ok()?;
        let mut out = n.to_vec();
        out.extend(buf);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`Sealer::seal_bytes`] sealed for `aad`, with any of the secrets.
    pub fn open_bytes(&self, aad: &[u8], value: &str) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        if raw.len() < NONCE_LEN + 16 {
            return None;
        }
        let (n, ct) = raw.split_at(NONCE_LEN);
        for key in &self.keys {
            let mut buf = ct.to_vec();
            let nonce = Nonce::try_assume_unique_for_key(n).ok()?;
            if let Ok(plain) = key.open_in_place(nonce, Aad::from(aad), &mut buf) {
                return Some(plain.to_vec());
            }
        }
        None
    }

    /// A session cookie value for `claims`, valid from `now` for the session lifetime
    /// (or until the claims' `exp` when it is sooner... the session outlives the ID
    /// token: its lifetime is the section's).
    pub fn seal(&self, mut claims: Map<String, Value>, now: i64) -> Option<String> {
        let exp = now + self.lifetime.as_secs() as i64;
        claims.insert("gh_exp".into(), exp.into());
        claims.insert("gh_iat".into(), now.into());
        claims.insert("gh_sid".into(), random_token().into());
        self.seal_bytes(b"session", Value::Object(claims).to_string().as_bytes())
    }

    /// Seals session `claims` as they are (its id, start and expiry kept: a refresh).
    pub fn reseal(&self, claims: &Map<String, Value>) -> Option<String> {
        let mut c = claims.clone();
        c.remove("exp");
        self.seal_bytes(b"session", Value::Object(c).to_string().as_bytes())
    }

    /// The claims of a session cookie still valid at `now` and not logged out.
    pub fn open(&self, value: &str, now: i64) -> Option<Map<String, Value>> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        let plain = self.open_bytes(b"session", value)?;
        let Ok(Value::Object(mut claims)) = serde_json::from_slice(&plain) else {
            return None;
        };
        let exp = claims.get("gh_exp").and_then(Value::as_i64)?;
        if now > exp {
            return None;
        }
        let sid = claims.get("gh_sid").and_then(Value::as_str)?;
        if is_revoked(sid) {
            return None;
        }
        // The session's expiry stands for the token's.
        claims.insert("exp".into(), exp.into());
        Some(claims)
    }
}

/// Ends session `sid` (logout) until `exp`.
pub fn revoke(sid: &str, exp: i64) {
    let mut g = REVOKED.lock().unwrap_or_else(|e| e.into_inner());
    let m = g.get_or_insert_with(HashMap::new);
    let now = super::jwt::now();
    m.retain(|_, e| *e >= now);
    m.insert(sid.to_owned(), exp);
}

fn is_revoked(sid: &str) -> bool {
    let g = REVOKED.lock().unwrap_or_else(|e| e.into_inner());
    g.as_ref().is_some_and(|m| m.contains_key(sid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_open_with_any_secret_and_refuse_tampering() {
        let old = Sealer::new(&["old-secret-0123456789".into()], Duration::from_secs(60));
        let both = Sealer::new(
            &[
                "new-secret-0123456789".into(),
                "old-secret-0123456789".into(),
            ],
            Duration::from_secs(60),
        );
        let mut c = Map::new();
        c.insert("sub".into(), "alice".into());
        let now = super::super::jwt::now();
        let v = old.seal(c, now).unwrap();
        assert_eq!(both.open(&v, now).unwrap()["sub"], "alice");
        let mut bytes = URL_SAFE_NO_PAD.decode(&v).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(both.open(&URL_SAFE_NO_PAD.encode(bytes), now).is_none());
        assert!(both.open(&v, now + 61).is_none());
        let sid = both.open(&v, now).unwrap()["gh_sid"]
            .as_str()
            .unwrap()
            .to_owned();
        revoke(&sid, now + 60);
        assert!(both.open(&v, now).is_none());
    }
}
