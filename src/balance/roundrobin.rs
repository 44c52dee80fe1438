//! `balance roundrobin`: smooth weighted round robin with dynamic weights. Also the
//! fallback of the hash algorithms when their key is missing.

use super::Candidate;
use super::farm::{Farm, Outcome, Pool, excluded, saturated};
use super::{Algorithm, BalanceInput};
use std::sync::{Mutex, PoisonError};

/// Smooth weighted round robin (as nginx's): each pick adds every candidate's weight to
/// its credit, takes the candidate with the most credit and charges it the total. Weights
/// 3:1 give `a a b a`, exactly 75/25 over every 4 picks. Weights are read live at each
/// pick, so `set weight` and slow start apply at once; saturated and excluded servers
/// neither earn credit nor get picked.
pub(crate) struct RoundRobin {
    credit: Mutex<Vec<i64>>,
}

impl RoundRobin {
    /// Round robin over `farm`.
    pub(crate) fn new<S: Candidate>(farm: &Farm<S>) -> Self {
        RoundRobin {
            credit: Mutex::new(vec![0; farm.servers.len()]),
        }
    }

    /// The next server.
    pub(crate) fn next<S: Candidate>(&self, farm: &Farm<S>, exclude: &[usize]) -> Outcome {
        let pool = farm.pool();
        if pool == Pool::Empty {
            return Outcome::NoServer;
        }
        let mut credit = self.credit.lock().unwrap_or_else(PoisonError::into_inner);
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for (i, s) in farm.candidates(pool) {
            if excluded(s, exclude) || saturated(s) {
                continue;
            }
            let Some(c) = credit.get_mut(i) else { continue };
            let w = i64::from(s.cur_weight());
            *c += w;
            total += w;
            let c = *c;
            if best.is_none_or(|b| c > credit[b]) {
                best = Some(i);
            }
        }
        match best {
            Some(b) => {
                credit[b] -= total;
                Outcome::Server(b)
            }
            None => {
                drop(credit);
                farm.blocked(pool, exclude)
            }
        }
    }

    /// Forgets the accumulated credits (the usable set or weights changed).
    pub(crate) fn reset(&self) {
        let mut credit = self.credit.lock().unwrap_or_else(PoisonError::into_inner);
        credit.iter_mut().for_each(|c| *c = 0);
    }
}

impl<S: Candidate> Algorithm<S> for RoundRobin {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn pick(&self, farm: &Farm<S>, _input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        self.next(farm, exclude)
    }

    fn refresh(&self, _farm: &Farm<S>) {
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::farm::testing::{Req, TestFarm, server, servers};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    fn farm(weights: &[u32]) -> TestFarm {
        Farm {
            servers: servers(weights),
            allbackups: false,
        }
    }

    fn picks(rr: &RoundRobin, farm: &TestFarm, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| match rr.pick(farm, &Req::default(), &[]) {
                Outcome::Server(i) => i,
                other => panic!("expected a server, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn three_to_one_is_exact_and_interleaved() {
        let f = farm(&[3, 1]);
        let rr = RoundRobin::new(&f);
        let p = picks(&rr, &f, 4000);
        assert_eq!(p.iter().filter(|&&i| i == 0).count(), 3000);
        assert_eq!(&p[..4], &[0, 0, 1, 0]);
        // Never more than 3 picks of the heavy server in a row.
        assert!(p.windows(4).all(|w| w.contains(&1)));
    }

    #[test]
    fn weight_change_applies() {
        let f = farm(&[1, 1]);
        let rr = RoundRobin::new(&f);
        f.servers[1].weight.store(3, Ordering::Relaxed);
        rr.refresh(&f);
        let p = picks(&rr, &f, 400);
        assert_eq!(p.iter().filter(|&&i| i == 1).count(), 300);
    }

    #[test]
    fn zero_weight_down_and_excluded_are_skipped() {
        let f = farm(&[1, 0, 1, 1]);
        f.servers[2].up.store(false, Ordering::Relaxed);
        let rr = RoundRobin::new(&f);
        let p = picks(&rr, &f, 10);
        assert!(p.iter().all(|&i| i == 0 || i == 3));
        for _ in 0..5 {
            assert_eq!(rr.next(&f, &[0]), Outcome::Server(3));
        }
        assert_eq!(rr.next(&f, &[0, 3]), Outcome::NoServer);
    }

    #[test]
    fn all_full_is_not_no_server() {
        let f = Farm {
            servers: vec![
                Arc::new(server(0, 1, false, 1)),
                Arc::new(server(1, 1, false, 1)),
            ],
            allbackups: false,
        };
        let rr = RoundRobin::new(&f);
        f.servers[0].cur_conns.store(1, Ordering::Relaxed);
        assert_eq!(rr.next(&f, &[]), Outcome::Server(1));
        f.servers[1].cur_conns.store(1, Ordering::Relaxed);
        assert_eq!(rr.next(&f, &[]), Outcome::AllFull);
        f.servers[0].up.store(false, Ordering::Relaxed);
        f.servers[1].maint.store(true, Ordering::Relaxed);
        assert_eq!(rr.next(&f, &[]), Outcome::NoServer);
    }
}
