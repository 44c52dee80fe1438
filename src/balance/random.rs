//! `balance random[(DRAWS)]`: power of N random choices. Each draw is a random key looked
//! up on the consistent-hash ring (so weights are respected, as in HAProxy); the least
//! loaded (connections / weight) of the N drawn servers wins. Saturated and excluded
//! servers are stepped over on the ring.

use super::Candidate;
use super::farm::{Farm, Outcome, Pool, excluded, saturated};
use super::table::Ring;
use super::{Algorithm, BalanceInput};
use arc_swap::ArcSwap;
use std::sync::Arc;

/// Random draws on a ring.
pub(crate) struct Random {
    draws: u32,
    ring: ArcSwap<Ring>,
}

impl Random {
    /// `draws` random picks per decision (at least 1; the config default is 2).
    pub(crate) fn new<S: Candidate>(draws: u32, farm: &Farm<S>) -> Self {
        Random {
            draws: draws.max(1),
            ring: ArcSwap::from_pointee(Ring::build(farm, farm.pool())),
        }
    }

    fn draw<S: Candidate>(
        &self,
        ring: &Ring,
        farm: &Farm<S>,
        pool: Pool,
        exclude: &[usize],
    ) -> Option<usize> {
        let accept = |i: usize| {
            farm.servers
                .get(i)
                .is_some_and(|s| farm.admits(pool, i) && !excluded(s, exclude) && !saturated(s))
        };
        let mut best: Option<usize> = None;
        for _ in 0..self.draws {
            let cur = ring.lookup(fastrand::u32(..), accept)?;
            best = match best {
                Some(prev) if prev != cur && more_loaded(farm, cur, prev) => Some(prev),
                _ => Some(cur),
            };
        }
        best
    }
}

/// True when server `a` serves more per weight unit than server `b`.
fn more_loaded<S: Candidate>(farm: &Farm<S>, a: usize, b: usize) -> bool {
    let (Some(a), Some(b)) = (farm.servers.get(a), farm.servers.get(b)) else {
        return false;
    };
    let conns = |s: &S| u64::from(s.cur_conns());
    conns(a) * u64::from(b.cur_weight()) > conns(b) * u64::from(a.cur_weight())
}

impl<S: Candidate> Algorithm<S> for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn pick(&self, farm: &Farm<S>, _input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let pool = farm.pool();
        if pool == Pool::Empty {
            return Outcome::NoServer;
        }
        {
            let ring = self.ring.load();
            if ring.pool == pool
                && let Some(i) = self.draw(&ring, farm, pool, exclude)
            {
                return Outcome::Server(i);
            }
        }
        let blocked = farm.blocked(pool, exclude);
        if blocked == Outcome::NoServer {
            return blocked;
        }
        let ring = Arc::new(Ring::build(farm, pool));
        self.ring.store(Arc::clone(&ring));
        self.draw(&ring, farm, pool, exclude)
            .map_or(blocked, Outcome::Server)
    }

    fn refresh(&self, farm: &Farm<S>) {
        self.ring.store(Arc::new(Ring::build(farm, farm.pool())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::farm::testing::{Req, TestFarm, servers};
    use std::sync::atomic::Ordering;

    fn farm(weights: &[u32]) -> TestFarm {
        Farm {
            servers: servers(weights),
            allbackups: false,
        }
    }

    #[test]
    fn one_draw_follows_weights() {
        let f = farm(&[1, 3]);
        let r = Random::new(1, &f);
        let mut count = [0usize; 2];
        for _ in 0..20_000 {
            if let Outcome::Server(i) = r.pick(&f, &Req::default(), &[]) {
                count[i] += 1;
            }
        }
        let share = count[1] as f64 / 20_000.0;
        assert!((0.65..0.85).contains(&share), "heavy server share {share}");
    }

    #[test]
    fn two_draws_avoid_the_loaded_server() {
        let f = farm(&[1, 1]);
        f.servers[0].cur_conns.store(100, Ordering::Relaxed);
        let r = Random::new(2, &f);
        let mut count = [0usize; 2];
        for _ in 0..1000 {
            if let Outcome::Server(i) = r.pick(&f, &Req::default(), &[]) {
                count[i] += 1;
            }
        }
        // The loaded server only wins when both draws land on it (~1/4).
        assert!(count[0] < 400, "{count:?}");
        assert_eq!(r.pick(&f, &Req::default(), &[1]), Outcome::Server(0));
    }
}
