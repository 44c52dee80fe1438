//! `balance source`: the client address, XOR-folded into 32 bits (as HAProxy: not passed
//! through the hash function, only through `avalanche` when set), mapped by `hash-type`.
//! Without a client IP address (unix socket) round robin applies.

use super::Candidate;
use super::farm::{Farm, Outcome};
use super::keyed::Keyed;
use super::{Algorithm, BalanceInput};
use crate::config::model::HashType;
use std::net::IpAddr;

/// Source-address hashing.
pub(crate) struct Source {
    keyed: Keyed,
}

impl Source {
    /// Builds the table for the farm.
    pub(crate) fn new<S: Candidate>(hash_type: &HashType, farm: &Farm<S>) -> Self {
        Source {
            keyed: Keyed::new(hash_type, farm),
        }
    }
}

/// XOR of the address's big-endian 32-bit words.
pub(crate) fn fold_addr(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => {
            let b = u128::from(v6);
            (b >> 96) as u32 ^ (b >> 64) as u32 ^ (b >> 32) as u32 ^ b as u32
        }
    }
}

impl<S: Candidate> Algorithm<S> for Source {
    fn name(&self) -> &'static str {
        "source"
    }

    fn pick(&self, farm: &Farm<S>, input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let key = input
            .src()
            .map(|ip| self.keyed.hasher.finish(fold_addr(ip)));
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
    fn folds_addresses() {
        assert_eq!(fold_addr("10.0.0.1".parse().unwrap()), 0x0a00_0001);
        assert_eq!(
            fold_addr("2001:db8::1:0:0:1".parse().unwrap()),
            0x2001_0db8 ^ 0x0001_0000 ^ 0x0000_0001
        );
    }
}
