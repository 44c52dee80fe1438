//! `balance url_param NAME`: hash the value of query-string parameter NAME; round robin
//! when the parameter is absent. (`check_post`, looking into a POST body, is not
//! supported: the balancer only sees the URI.)

use super::Candidate;
use super::farm::{Farm, Outcome};
use super::keyed::Keyed;
use super::{Algorithm, BalanceInput};
use crate::config::model::HashType;
use memchr::memchr;

/// Query-parameter hashing.
pub(crate) struct UrlParam {
    name: Box<[u8]>,
    keyed: Keyed,
}

impl UrlParam {
    /// Builds the table for the farm.
    pub(crate) fn new<S: Candidate>(name: &str, hash_type: &HashType, farm: &Farm<S>) -> Self {
        UrlParam {
            name: name.as_bytes().into(),
            keyed: Keyed::new(hash_type, farm),
        }
    }
}

/// The value of the first `name=` parameter of the query string (case-sensitive). As
/// in HAProxy, `name=` with an empty value is found (and hashes the empty string).
pub(crate) fn param_value<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let query = &uri[memchr(b'?', uri)? + 1..];
    query.split(|&c| c == b'&').find_map(|pair| {
        let value = pair.strip_prefix(name)?.strip_prefix(b"=")?;
        Some(value)
    })
}

impl<S: Candidate> Algorithm<S> for UrlParam {
    fn name(&self) -> &'static str {
        "url_param"
    }

    fn pick(&self, farm: &Farm<S>, input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let key = input
            .uri()
            .and_then(|u| param_value(u, &self.name))
            .map(|v| self.keyed.hasher.hash(v));
        self.keyed.pick(farm, key, exclude)
    }

    fn refresh(&self, farm: &Farm<S>) {
        self.keyed.refresh(farm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_parameter() {
        let v = |u: &str| param_value(u.as_bytes(), b"uid").map(|v| v.to_vec());
        assert_eq!(v("/p?uid=42"), Some(b"42".to_vec()));
        assert_eq!(v("/p?a=1&uid=42&b=2"), Some(b"42".to_vec()));
        assert_eq!(v("/p?xuid=1&uid=7"), Some(b"7".to_vec()));
        assert_eq!(v("/p?uid="), Some(Vec::new()));
        assert_eq!(v("/p?uidx=1"), None);
        assert_eq!(v("/p?UID=1"), None);
        assert_eq!(v("/p/uid=1"), None);
        assert_eq!(v("/p?uid"), None);
    }
}
