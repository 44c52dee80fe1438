//! `balance first`: the first server in declaration order that has a free connection
//! slot (`maxconn` 0: always); weights are ignored.

use super::Candidate;
use super::farm::{Farm, Outcome, Pool, excluded, saturated};
use super::{Algorithm, BalanceInput};

/// Stateless.
pub(crate) struct First;

impl<S: Candidate> Algorithm<S> for First {
    fn name(&self) -> &'static str {
        "first"
    }

    fn pick(&self, farm: &Farm<S>, _input: &dyn BalanceInput, exclude: &[usize]) -> Outcome {
        let pool = farm.pool();
        if pool == Pool::Empty {
            return Outcome::NoServer;
        }
        farm.candidates(pool)
            .find(|(_, s)| !excluded(s, exclude) && !saturated(s))
            .map_or_else(|| farm.blocked(pool, exclude), |(i, _)| Outcome::Server(i))
    }

    fn refresh(&self, _farm: &Farm<S>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::farm::testing::{Req, server};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    #[test]
    fn fills_servers_in_order() {
        let f = Farm {
            servers: vec![
                Arc::new(server(0, 1, false, 2)),
                Arc::new(server(1, 5, false, 2)),
                Arc::new(server(2, 1, false, 0)),
            ],
            allbackups: false,
        };
        let req = Req::default();
        let mut got = Vec::new();
        for _ in 0..6 {
            match First.pick(&f, &req, &[]) {
                Outcome::Server(i) => {
                    got.push(i);
                    f.servers[i].cur_conns.fetch_add(1, Ordering::Relaxed);
                }
                o => panic!("{o:?}"),
            }
        }
        assert_eq!(got, vec![0, 0, 1, 1, 2, 2]);
        // A slot frees up on the first server: it is used again.
        f.servers[0].cur_conns.store(1, Ordering::Relaxed);
        assert_eq!(First.pick(&f, &req, &[]), Outcome::Server(0));
    }

    #[test]
    fn all_full_when_every_slot_is_taken() {
        let f = Farm {
            servers: vec![Arc::new(server(0, 1, false, 1))],
            allbackups: false,
        };
        f.servers[0].cur_conns.store(1, Ordering::Relaxed);
        assert_eq!(First.pick(&f, &Req::default(), &[]), Outcome::AllFull);
        assert_eq!(First.pick(&f, &Req::default(), &[0]), Outcome::NoServer);
    }
}
