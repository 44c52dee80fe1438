//! `balance uri [whole] [len N] [depth N]`: hash the URI's path (up to `?` unless
//! `whole`), limited to its first `len` characters and `depth` directories.

use super::Candidate;
use super::farm::{Farm, Outcome};
use super::keyed::Keyed;
use super::{Algorithm, BalanceInput};
use crate::config::model::HashType;

/// The `uri` arguments.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct UriOptions {
    /// Hash the query string too.
    pub(crate) whole: bool,
    /// Hash at most this many characters (0: no limit).
    pub(crate) len: usize,
    /// Hash at most this many directories (0: no limit).
    pub(crate) depth: usize,
}

/// URI hashing.
pub(crate) struct Uri {
    opts: UriOptions,
    keyed: Keyed,
}

impl Uri {
    /// Builds the table for the farm.
    pub(crate) fn new<S: Candidate>(
        opts: UriOptions,
        hash_type: &HashType,
        farm: &Farm<S>,
    ) -> Self {
        Uri {
            opts,
            keyed: Keyed::new(hash_type, farm),
        }
    }
}

/// The part of `uri` that is hashed: cut at `len` characters, then before the
/// `depth + 1`-th slash and (unless `whole`) before the `?`, as HAProxy's
/// `get_server_uh`.
pub(crate) fn uri_key(uri: &[u8], opts: UriOptions) -> &[u8] {
    let uri = if opts.len > 0 && opts.len < uri.len() {
        &uri[..opts.len]
    } else {
        uri
    };
    let mut slashes = 0usize;
    let end = uri
        .iter()
        .position(|&c| match c {
            b'/' => {
                slashes += 1;
                opts.depth > 0 && slashes == opts.depth + 1
            }
            b'?' => !opts.whole,
            _ => false,
        })
        .unwrap_or(uri.len());
    &uri[..end]
}

impl<S: Candidate> Algorithm<S> for Uri {
    fn name(&self) -> &'static str {
        "uri"
    }

    fn pick(&self, farm: &Farm<S>, input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let key = input
            .uri()
            .map(|u| self.keyed.hasher.hash(uri_key(u, self.opts)));
        self.keyed.pick(farm, key, exclude)
    }

    fn refresh(&self, farm: &Farm<S>) {
        self.keyed.refresh(farm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str, whole: bool, len: usize, depth: usize) -> &str {
        let k = uri_key(uri.as_bytes(), UriOptions { whole, len, depth });
        std::str::from_utf8(k).unwrap()
    }

    #[test]
    fn path_only_unless_whole() {
        assert_eq!(key("/a/b?x=1", false, 0, 0), "/a/b");
        assert_eq!(key("/a/b?x=1", true, 0, 0), "/a/b?x=1");
    }

    #[test]
    fn len_and_depth_limits() {
        assert_eq!(key("/images/2024/cat.png", false, 4, 0), "/ima");
        assert_eq!(key("/images/2024/cat.png", false, 0, 1), "/images");
        assert_eq!(key("/images/2024/cat.png", false, 0, 2), "/images/2024");
        assert_eq!(
            key("/images/2024/cat.png", false, 0, 5),
            "/images/2024/cat.png"
        );
        // Whichever limit comes first wins.
        assert_eq!(key("/images/2024/cat.png", false, 10, 2), "/images/20");
        assert_eq!(key("/a/b/c", false, 100, 1), "/a");
        // depth counts slashes in the query too when whole.
        assert_eq!(key("/a?r=/x/y", true, 0, 2), "/a?r=/x");
    }
}
