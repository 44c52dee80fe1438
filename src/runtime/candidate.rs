//! The runtime's server state as the balancer reads it ([`Candidate`]): balancing sits
//! below the runtime and sees a server only through that trait.

use super::server::ServerState;
use crate::balance::Candidate;
use std::sync::atomic::Ordering;

impl Candidate for ServerState {
    fn index(&self) -> usize {
        self.index
    }
    fn is_backup(&self) -> bool {
        self.backup
    }
    fn usable(&self) -> bool {
        self.live.usable()
    }
    fn full(&self) -> bool {
        ServerState::full(self)
    }
    fn maxconn(&self) -> u32 {
        self.max_conns()
    }
    fn queued(&self) -> u32 {
        self.queued.load(Ordering::Relaxed)
    }
    fn cur_conns(&self) -> u32 {
        self.cur_conns.load(Ordering::Relaxed)
    }
    fn config_weight(&self) -> u32 {
        self.config_weight
    }
    fn cur_weight(&self) -> u32 {
        self.live.cur_weight()
    }
}
