//! The shared core of the key-hashing algorithms (`source`, `uri`, `url_param`, `hdr()`):
//! hash the key, look it up in the map or ring (`hash-type`), round robin when the key is
//! missing. A hashed server is returned even when full: the request queues on it.
//!
//! Servers already tried (`exclude`, for `option redispatch`) are stepped over only on the
//! consistent-hash ring: as in HAProxy 2.6, whose map-based lookup has no "server to
//! avoid", a map-based redispatch lands on the same server again.

use super::Candidate;
use super::farm::{Farm, Outcome, Pool, config_gcd, excluded};
use super::hash::KeyHasher;
use super::roundrobin::RoundRobin;
use super::table::Table;
use crate::config::model::HashType;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// A key → server mapper for one backend.
pub(crate) struct Keyed {
    /// The configured hash function and modifier.
    pub(crate) hasher: KeyHasher,
    consistent: bool,
    gcd: u32,
    table: ArcSwap<Table>,
    fallback: RoundRobin,
}

impl Keyed {
    /// Builds the table for the farm's current pool.
    pub(crate) fn new<S: Candidate>(hash_type: &HashType, farm: &Farm<S>) -> Self {
        let gcd = config_gcd(&farm.servers);
        let table = Table::build(farm, farm.pool(), hash_type.consistent, gcd);
        Keyed {
            hasher: KeyHasher::from_config(hash_type),
            consistent: hash_type.consistent,
            gcd,
            table: ArcSwap::from_pointee(table),
            fallback: RoundRobin::new(farm),
        }
    }

    /// The server for an already hashed key; round robin when there is no key.
    pub(crate) fn pick<S: Candidate>(
        &self,
        farm: &Farm<S>,
        key: Option<u32>,
        exclude: &[usize],
    ) -> Outcome {
        let Some(hash) = key else {
            return self.fallback.next(farm, exclude);
        };
        let pool = farm.pool();
        if pool == Pool::Empty {
            return Outcome::NoServer;
        }
        let exclude = if self.consistent { exclude } else { &[] };
        let accept = |i: usize| {
            farm.servers
                .get(i)
                .is_some_and(|s| farm.admits(pool, i) && !excluded(s, exclude))
        };
        {
            let table = self.table.load();
            if table.pool() == pool
                && let Some(i) = table.lookup(hash, accept)
            {
                return Outcome::Server(i);
            }
        }
        // Either every candidate is excluded, or the usable set changed without a refresh.
        if farm.blocked(pool, exclude) == Outcome::NoServer {
            return Outcome::NoServer;
        }
        let table = self.rebuild(farm, pool);
        table
            .lookup(hash, accept)
            .map_or(Outcome::NoServer, Outcome::Server)
    }

    /// Rebuilds the table after a state or weight change.
    pub(crate) fn refresh<S: Candidate>(&self, farm: &Farm<S>) {
        self.rebuild(farm, farm.pool());
        self.fallback.reset();
    }

    fn rebuild<S: Candidate>(&self, farm: &Farm<S>, pool: Pool) -> Arc<Table> {
        let table = Arc::new(Table::build(farm, pool, self.consistent, self.gcd));
        self.table.store(Arc::clone(&table));
        table
    }
}
