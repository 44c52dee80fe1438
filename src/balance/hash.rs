//! Hash functions for hash-based balancing (`hash-type … sdbm|djb2|wt6|crc32 [avalanche]`),
//! bit-for-bit equal to HAProxy's so that a key lands on the same server.

use crate::config::model::HashType;

/// Number of ring points (consistent) or map slots (map-based) per unit of weight, as
/// HAProxy's `BE_WEIGHT_SCALE`.
pub const WEIGHT_SCALE: u32 = 16;

pub use crate::acl::hashfn::{crc32, djb2, full_hash, sdbm, wt6};

/// A `hash-type` function name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFn {
    /// `sdbm`.
    Sdbm,
    /// `djb2`.
    Djb2,
    /// `wt6`.
    Wt6,
    /// `crc32`.
    Crc32,
}

impl HashFn {
    /// Parses a function name as written after `hash-type METHOD`.
    pub fn from_name(name: &str) -> Option<HashFn> {
        match name.to_ascii_lowercase().as_str() {
            "sdbm" => Some(HashFn::Sdbm),
            "djb2" => Some(HashFn::Djb2),
            "wt6" => Some(HashFn::Wt6),
            "crc32" => Some(HashFn::Crc32),
            _ => None,
        }
    }

    /// Hashes `key`.
    pub fn hash(self, key: &[u8]) -> u32 {
        match self {
            HashFn::Sdbm => sdbm(key),
            HashFn::Djb2 => djb2(key),
            HashFn::Wt6 => wt6(key),
            HashFn::Crc32 => crc32(key),
        }
    }
}

/// A backend's key hasher: the function and the `avalanche` modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyHasher {
    /// The hash function.
    pub function: HashFn,
    /// Apply [`full_hash`] to the result.
    pub avalanche: bool,
}

impl KeyHasher {
    /// The hasher `hash-type` describes. As in HAProxy, `consistent` without a function
    /// means `sdbm avalanche`; an unknown name (refused by the config checker) means sdbm.
    pub fn from_config(hash_type: &HashType) -> Self {
        if hash_type.function.is_empty() {
            return KeyHasher {
                function: HashFn::Sdbm,
                avalanche: hash_type.consistent || hash_type.avalanche,
            };
        }
        KeyHasher {
            function: HashFn::from_name(&hash_type.function).unwrap_or(HashFn::Sdbm),
            avalanche: hash_type.avalanche,
        }
    }

    /// Hashes a string key (uri, url_param, hdr).
    pub fn hash(&self, key: &[u8]) -> u32 {
        self.finish(self.function.hash(key))
    }

    /// Applies the modifier to an already computed hash (the source address is not hashed
    /// with the function, only XOR-folded, as in HAProxy).
    pub fn finish(&self, h: u32) -> u32 {
        if self.avalanche { full_hash(h) } else { h }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Reference values computed from the classic definitions.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(sdbm(b"a"), 97);
        assert_eq!(sdbm(b"ab"), 97u32.wrapping_mul(65599).wrapping_add(98));
        assert_eq!(full_hash(0), 0xab4e_d927);
    }

    /// The bitwise definition HAProxy's `hash_crc32` computes (its table is built from
    /// the same polynomial): `crc32fast` must agree on every key.
    fn crc32_reference(key: &[u8]) -> u32 {
        let mut h: u32 = !0;
        for &c in key {
            h ^= u32::from(c);
            for _ in 0..8 {
                h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
            }
        }
        !h
    }

    #[test]
    fn crc32_matches_haproxys_definition() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"/index.html"), crc32_reference(b"/index.html"));
        let long: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for key in [
            &b"a"[..],
            b"/static/img/logo.png?v=3",
            b"example.com",
            &long,
        ] {
            assert_eq!(crc32(key), crc32_reference(key), "{key:?}");
        }
    }

    #[test]
    fn config_defaults() {
        let mut ht = HashType::default();
        assert_eq!(
            KeyHasher::from_config(&ht),
            KeyHasher {
                function: HashFn::Sdbm,
                avalanche: false
            }
        );
        ht.consistent = true;
        assert!(KeyHasher::from_config(&ht).avalanche);
        ht.function = "djb2".into();
        assert_eq!(
            KeyHasher::from_config(&ht),
            KeyHasher {
                function: HashFn::Djb2,
                avalanche: false
            }
        );
    }

    #[test]
    fn wt6_differs_per_input() {
        assert_ne!(wt6(b"abc"), wt6(b"abd"));
        assert_eq!(wt6(b"abc"), wt6(b"abc"));
    }
}
