//! The validation cache: identities of tokens already verified, keyed by the SHA-256 of
//! the token, kept until the token expires, at most [`CAPACITY`] of them.

use super::Identity;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most, per provider.
pub const CAPACITY: usize = 10_000;

/// The cache key of a token.
pub fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A bounded map from token hash to identity.
#[derive(Debug)]
pub struct Cache {
    map: Mutex<HashMap<[u8; 32], Arc<Identity>>>,
    cap: usize,
}

impl Cache {
    /// An empty cache of at most `cap` entries.
    pub fn new(cap: usize) -> Cache {
        Cache {
            map: Mutex::new(HashMap::new()),
            cap,
        }
    }

    /// The identity of a token seen before and not expired at `now` (with `skew`).
    pub fn get(&self, k: &[u8; 32], now: i64, skew: i64) -> Option<Arc<Identity>> {
        let map = self.map.lock().ok()?;
        let id = map.get(k)?;
        (now <= id.exp.saturating_add(skew)).then(|| Arc::clone(id))
    }

    /// Forgets a token.
    pub fn remove(&self, k: &[u8; 32]) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(k);
        }
    }

    /// Remembers a verified token; when full, expired entries go first, then (if still
    /// full) an arbitrary half.
    pub fn put(&self, k: [u8; 32], id: Arc<Identity>) {
        let Ok(mut m) = self.map.lock() else { return };
        if m.len() >= self.cap {
            let now = super::jwt::now();
            m.retain(|_, v| v.exp >= now);
            if m.len() >= self.cap {
                let mut n = 0;
                let half = self.cap / 2;
                m.retain(|_, _| {
                    n += 1;
                    n > half
                });
            }
        }
        m.insert(k, id);
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(exp: i64) -> Arc<Identity> {
        Arc::new(Identity {
            provider: "p".into(),
            method: super::super::Method::Bearer,
            claims: Default::default(),
            groups_claim: "groups".into(),
            exp,
            kid: None,
        })
    }

    #[test]
    fn the_cache_stays_bounded_and_forgets_expired_tokens() {
        let c = Cache::new(8);
        let now = super::super::jwt::now();
        for i in 0..100 {
            c.put(key(&format!("t{i}")), id(now + 100));
            assert!(c.len() <= 8);
        }
        assert!(c.get(&key("t99"), now, 60).is_some());
        c.put(key("old"), id(now - 1000));
        assert!(c.get(&key("old"), now, 60).is_none());
    }
}
