//! Load-balancing algorithms (`balance` keyword), one file per algorithm.
//!
//! CONTRACT (implemented by the balance helper): a backend builds one [`Balancer`] from
//! its `balance` and `hash-type` settings and its servers; the data plane calls
//! [`Balancer::pick`] for every request (http) or connection (tcp).

use crate::config::model::{Balance, HashType};
use crate::runtime::server::ServerState;
use std::net::IpAddr;
use std::sync::Arc;

/// What a hashing algorithm may read from the request being balanced.
pub trait BalanceInput {
    /// The client's address.
    fn src(&self) -> Option<IpAddr>;
    /// The request URI as received (path and query), for `uri` and `url_param`.
    fn uri(&self) -> Option<&[u8]>;
    /// The value of the last occurrence of header `name` (case-insensitive), for `hdr()`.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// A backend's balancing state and decision.
pub struct Balancer {
    servers: Vec<Arc<ServerState>>,
}

impl Balancer {
    /// Builds the balancer for `servers` (all servers of the backend, backups included).
    pub fn new(
        balance: &Balance,
        hash_type: &HashType,
        allbackups: bool,
        servers: Vec<Arc<ServerState>>,
    ) -> Self {
        let _ = (balance, hash_type, allbackups);
        Balancer { servers }
    }

    /// Picks a server for a request, skipping servers in `exclude` (indexes of servers
    /// already tried, for `option redispatch`). `None` when no server is usable.
    pub fn pick(&self, input: &dyn BalanceInput, exclude: &[usize]) -> Option<Arc<ServerState>> {
        let _ = input;
        self.servers
            .iter()
            .find(|s| s.usable() && !exclude.contains(&s.index))
            .cloned()
    }

    /// Called when a server's state or weight changed (health, runtime API).
    pub fn refresh(&self) {}

    /// The servers.
    pub fn servers(&self) -> &[Arc<ServerState>] {
        &self.servers
    }
}
