//! `balance static-rr`: round robin over HAProxy's weighted server map. The map is built
//! when the usable set changes; weight changes while a server stays up are ignored
//! until the next refresh (HAProxy refuses them for static algorithms anyway).

use super::Candidate;
use super::farm::{Farm, Outcome, Pool, config_gcd, excluded, saturated};
use super::table::MapTable;
use super::{Algorithm, BalanceInput};
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Walks the map, skipping saturated and excluded servers.
pub(crate) struct StaticRr {
    gcd: u32,
    map: ArcSwap<MapTable>,
    next: AtomicUsize,
}

impl StaticRr {
    /// Builds the map of the farm's current pool.
    pub(crate) fn new<S: Candidate>(farm: &Farm<S>) -> Self {
        let gcd = config_gcd(&farm.servers);
        StaticRr {
            gcd,
            map: ArcSwap::from_pointee(MapTable::build(farm, farm.pool(), gcd)),
            next: AtomicUsize::new(0),
        }
    }

    fn walk<S: Candidate>(
        &self,
        map: &MapTable,
        farm: &Farm<S>,
        pool: Pool,
        exclude: &[usize],
    ) -> Option<usize> {
        let start = self.next.load(Ordering::Relaxed);
        let accept = |i: usize| {
            farm.servers
                .get(i)
                .is_some_and(|s| farm.admits(pool, i) && !excluded(s, exclude) && !saturated(s))
        };
        let (slot, server) = map.walk(start, accept)?;
        self.next.store(slot + 1, Ordering::Relaxed);
        Some(server)
    }
}

impl<S: Candidate> Algorithm<S> for StaticRr {
    fn name(&self) -> &'static str {
        "static-rr"
    }

    fn pick(&self, farm: &Farm<S>, _input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let pool = farm.pool();
        if pool == Pool::Empty {
            return Outcome::NoServer;
        }
        {
            let map = self.map.load();
            if map.pool == pool
                && let Some(i) = self.walk(&map, farm, pool, exclude)
            {
                return Outcome::Server(i);
            }
        }
        let blocked = farm.blocked(pool, exclude);
        if blocked == Outcome::NoServer {
            return blocked;
        }
        // Maybe the usable set changed without a refresh: rebuild once and retry.
        let map = Arc::new(MapTable::build(farm, pool, self.gcd));
        self.map.store(Arc::clone(&map));
        self.walk(&map, farm, pool, exclude)
            .map_or(blocked, Outcome::Server)
    }

    fn refresh(&self, farm: &Farm<S>) {
        self.map
            .store(Arc::new(MapTable::build(farm, farm.pool(), self.gcd)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::farm::testing::{Req, servers};

    #[test]
    fn follows_the_weighted_map_order() {
        let f = Farm {
            servers: servers(&[2, 1, 1]),
            allbackups: false,
        };
        let rr = StaticRr::new(&f);
        let got: Vec<usize> = (0..8)
            .map(|_| match rr.pick(&f, &Req::default(), &[]) {
                Outcome::Server(i) => i,
                o => panic!("{o:?}"),
            })
            .collect();
        // HAProxy's map for 2:1:1 (recalc_server_map): the first declared server first.
        assert_eq!(got, vec![0, 0, 1, 2, 0, 0, 1, 2]);
    }

    #[test]
    fn weights_respected_over_a_cycle() {
        let f = Farm {
            servers: servers(&[3, 1]),
            allbackups: false,
        };
        let rr = StaticRr::new(&f);
        let mut count = [0usize; 2];
        for _ in 0..4000 {
            if let Outcome::Server(i) = rr.pick(&f, &Req::default(), &[]) {
                count[i] += 1;
            }
        }
        assert_eq!(count, [3000, 1000]);
    }

    #[test]
    fn a_server_going_down_is_skipped_even_before_refresh() {
        let f = Farm {
            servers: servers(&[1, 1, 1]),
            allbackups: false,
        };
        let rr = StaticRr::new(&f);
        f.servers[1].up.store(false, Ordering::Relaxed);
        for _ in 0..6 {
            assert_ne!(rr.pick(&f, &Req::default(), &[]), Outcome::Server(1));
        }
        rr.refresh(&f);
        assert_ne!(rr.pick(&f, &Req::default(), &[2]), Outcome::Server(2));
    }
}
