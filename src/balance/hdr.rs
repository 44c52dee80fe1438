//! `balance hdr(NAME) [use_domain_only]`: hash the value of request header NAME (only
//! the main domain label with `use_domain_only`, e.g. `1wt` in `haproxy.1wt.eu`); round
//! robin when the header is absent or empty.

use super::Candidate;
use super::farm::{Farm, Outcome};
use super::keyed::Keyed;
use super::{Algorithm, BalanceInput};
use crate::config::model::HashType;
use memchr::memrchr;

/// Header hashing.
pub(crate) struct Hdr {
    name: String,
    use_domain_only: bool,
    keyed: Keyed,
}

impl Hdr {
    /// Builds the table for the farm.
    pub(crate) fn new<S: Candidate>(
        name: &str,
        use_domain_only: bool,
        hash_type: &HashType,
        farm: &Farm<S>,
    ) -> Self {
        Hdr {
            name: name.to_string(),
            use_domain_only,
            keyed: Keyed::new(hash_type, farm),
        }
    }
}

/// The label before the last dot (the whole value when it has no dot), as HAProxy's
/// `use_domain_only`.
pub(crate) fn domain_only(value: &[u8]) -> &[u8] {
    let Some(end) = memrchr(b'.', value) else {
        return value;
    };
    let start = memrchr(b'.', &value[..end]).map_or(0, |p| p + 1);
    &value[start..end]
}

impl<S: Candidate> Algorithm<S> for Hdr {
    fn name(&self) -> &'static str {
        "hdr"
    }

    fn pick(&self, farm: &Farm<S>, input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let key = input.header(&self.name).filter(|v| !v.is_empty()).map(|v| {
            let v = if self.use_domain_only {
                domain_only(v)
            } else {
                v
            };
            self.keyed.hasher.hash(v)
        });
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
    fn main_domain_label() {
        assert_eq!(domain_only(b"haproxy.1wt.eu"), b"1wt");
        assert_eq!(domain_only(b"example.com"), b"example");
        assert_eq!(domain_only(b"a.b.example.com"), b"example");
        assert_eq!(domain_only(b"localhost"), b"localhost");
    }
}
