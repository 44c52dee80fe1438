//! `balance leastconn`: the server with the fewest connections (established plus queued)
//! relative to its weight; round robin among equally loaded servers.

use super::Candidate;
use super::farm::{Farm, Outcome, Pool, excluded, saturated};
use super::{Algorithm, BalanceInput};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Scans the candidates from a rotating start so ties rotate.
pub(crate) struct LeastConn {
    start: AtomicUsize,
}

impl LeastConn {
    /// A fresh scanner.
    pub(crate) fn new() -> Self {
        LeastConn {
            start: AtomicUsize::new(0),
        }
    }
}

/// `(connections + queued, weight)` of a server.
fn load(s: &impl Candidate) -> (u64, u64) {
    let conns = u64::from(s.cur_conns()) + u64::from(s.queued());
    (conns, u64::from(s.cur_weight()))
}

impl<S: Candidate> Algorithm<S> for LeastConn {
    fn name(&self) -> &'static str {
        "leastconn"
    }

    fn pick(&self, farm: &Farm<S>, _input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let pool = farm.pool();
        if pool == Pool::Empty {
            return Outcome::NoServer;
        }
        let n = farm.servers.len();
        let start = self.start.fetch_add(1, Ordering::Relaxed) % n.max(1);
        let mut best: Option<(usize, (u64, u64))> = None;
        for i in (start..n).chain(0..start) {
            let Some(s) = farm.servers.get(i) else {
                continue;
            };
            if !farm.admits(pool, i) || excluded(s, exclude) || saturated(s) {
                continue;
            }
            let (c, w) = load(s);
            // c / w < bc / bw, without division.
            if best.is_none_or(|(_, (bc, bw))| c * bw < bc * w) {
                best = Some((i, (c, w)));
            }
        }
        match best {
            Some((i, _)) => Outcome::Server(i),
            None => farm.blocked(pool, exclude),
        }
    }

    fn refresh(&self, _farm: &Farm<S>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::farm::testing::{Req, TestFarm, servers};

    fn farm(weights: &[u32]) -> TestFarm {
        Farm {
            servers: servers(weights),
            allbackups: false,
        }
    }

    #[test]
    fn picks_least_loaded_relative_to_weight() {
        let f = farm(&[1, 1, 2]);
        f.servers[0].cur_conns.store(3, Ordering::Relaxed);
        f.servers[1].cur_conns.store(2, Ordering::Relaxed);
        f.servers[2].cur_conns.store(3, Ordering::Relaxed); // 1.5 per weight unit
        let lc = LeastConn::new();
        for _ in 0..5 {
            assert_eq!(lc.pick(&f, &Req::default(), &[]), Outcome::Server(2));
        }
        // Queued requests count as load.
        f.servers[2].queued.store(2, Ordering::Relaxed);
        assert_eq!(lc.pick(&f, &Req::default(), &[]), Outcome::Server(1));
        assert_eq!(lc.pick(&f, &Req::default(), &[1]), Outcome::Server(2));
    }

    #[test]
    fn ties_rotate() {
        let f = farm(&[1, 1, 1]);
        let lc = LeastConn::new();
        let mut seen = [0usize; 3];
        for _ in 0..30 {
            if let Outcome::Server(i) = lc.pick(&f, &Req::default(), &[]) {
                seen[i] += 1;
            }
        }
        assert_eq!(seen, [10, 10, 10]);
    }
}
