//! `balance rdp-cookie[(NAME)]`: hash the value of the RDP cookie NAME (`mstshash` by
//! default, name case-insensitive) of the connection request waiting in a `mode tcp`
//! stream's buffer (`tcp-request inspect-delay` with `tcp-request content accept if
//! RDP_COOKIE`); round robin when there is none (HAProxy's `get_server_rch()`).

use super::Candidate;
use super::farm::{Farm, Outcome};
use super::keyed::Keyed;
use super::{Algorithm, BalanceInput};
use crate::config::model::HashType;

/// RDP cookie hashing.
pub(crate) struct RdpCookie {
    name: Box<[u8]>,
    keyed: Keyed,
}

impl RdpCookie {
    /// Builds the table for the farm.
    pub(crate) fn new<S: Candidate>(name: &str, hash_type: &HashType, farm: &Farm<S>) -> Self {
        RdpCookie {
            name: name.as_bytes().into(),
            keyed: Keyed::new(hash_type, farm),
        }
    }
}

impl<S: Candidate> Algorithm<S> for RdpCookie {
    fn name(&self) -> &'static str {
        "rdp-cookie"
    }

    fn pick(&self, farm: &Farm<S>, input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let key = input
            .payload()
            .and_then(|p| crate::acl::rdp_cookie_value(p, &self.name))
            .filter(|v| !v.is_empty())
            .map(|v| self.keyed.hasher.hash(v));
        self.keyed.pick(farm, key, exclude)
    }

    fn refresh(&self, farm: &Farm<S>) {
        self.keyed.refresh(farm);
    }
}
