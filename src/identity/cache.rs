//! The validation cache: identities of tokens already verified, keyed by the token's
//! bytes, kept until the token expires, at most [`CAPACITY`] of them and
//! [`MAX_BYTES`] of tokens.
//!
//! Keyed by the bytes rather than a digest: a request of a known token costs one
//! SipHash of the token (keyed per process, so hash flooding is no use) and one
//! comparison, where a SHA-256 cost more than the rest of a keep-alive request
//! (docs/performance.md, "Identity: the cost of a bearer token").

use super::Identity;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most, per provider.
pub const CAPACITY: usize = 10_000;
/// Bytes of tokens kept at most, per provider (tokens are at most 16 KiB).
pub const MAX_BYTES: usize = 16 << 20;

#[derive(Debug, Default)]
struct Map {
    by_token: HashMap<Box<str>, Arc<Identity>>,
    bytes: usize,
}

/// A bounded map from token to identity.
#[derive(Debug)]
pub struct Cache {
    map: Mutex<Map>,
    cap: usize,
    max_bytes: usize,
}

impl Cache {
    /// An empty cache of at most `cap` entries and `max_bytes` of tokens.
    pub fn new(cap: usize, max_bytes: usize) -> Cache {
        Cache {
            map: Mutex::new(Map::default()),
            cap,
            max_bytes,
        }
    }

    /// The identity of a token seen before and not expired at `now` (with `skew`).
    pub fn get(&self, token: &str, now: i64, skew: i64) -> Option<Arc<Identity>> {
        let map = self.map.lock().ok()?;
        let id = map.by_token.get(token)?;
        (now <= id.exp.saturating_add(skew)).then(|| Arc::clone(id))
    }

    /// Forgets a token.
    pub fn remove(&self, token: &str) {
        if let Ok(mut m) = self.map.lock()
            && m.by_token.remove(token).is_some()
        {
            m.bytes -= token.len();
        }
    }

    /// Remembers a verified token; when full, expired entries go first, then (if still
    /// full) an arbitrary half.
    pub fn put(&self, token: &str, id: Arc<Identity>) {
        let Ok(mut m) = self.map.lock() else { return };
        let m = &mut *m;
        if m.by_token.len() >= self.cap || m.bytes + token.len() > self.max_bytes {
            let now = super::jwt::now();
            m.by_token.retain(|_, v| v.exp >= now);
            if m.by_token.len() >= self.cap / 2 || m.bytes + token.len() > self.max_bytes / 2 {
                let mut n = 0;
                let half = m.by_token.len() / 2;
                m.by_token.retain(|_, _| {
                    n += 1;
                    n > half
                });
            }
            m.bytes = m.by_token.keys().map(|k| k.len()).sum();
        }
        if m.by_token.insert(token.into(), id).is_none() {
            m.bytes += token.len();
        }
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.by_token.len())
    }

    /// Whether `token` is kept and not expired at `now` (with `skew`).
    pub fn has(&self, token: &str, now: i64, skew: i64) -> bool {
        self.get(token, now, skew).is_some()
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
        let c = Cache::new(8, MAX_BYTES);
        let now = super::super::jwt::now();
        for i in 0..100 {
            c.put(&format!("t{i}"), id(now + 100));
            assert!(c.len() <= 8);
        }
        assert!(c.get("t99", now, 60).is_some());
        c.put("old", id(now - 1000));
        assert!(c.get("old", now, 60).is_none());
        // Another token is another entry, even as a prefix.
        assert!(c.get("t", now, 60).is_none());
    }

    #[test]
    fn the_cache_is_bounded_in_bytes() {
        let c = Cache::new(CAPACITY, 1000);
        let now = super::super::jwt::now();
        for i in 0..100 {
            c.put(&format!("{i:0>100}"), id(now + 100));
            let bytes = c.map.lock().unwrap().bytes;
            assert!(bytes <= 1000, "{bytes}");
        }
        let m = c.map.lock().unwrap();
        assert_eq!(m.bytes, m.by_token.keys().map(|k| k.len()).sum::<usize>());
    }
}
