//! Load-balancing algorithms (`balance`, `hash-type`, `option allbackups`), one file per
//! algorithm behind the [`Algorithm`] trait.
//!
//! CONTRACT (implemented by the balance helper): a backend builds one [`Balancer`] from
//! its `balance` and `hash-type` settings and its servers; the data plane calls
//! [`Balancer::pick_ex`] (or [`Balancer::pick`]) for every request (http) or connection
//! (tcp), and [`Balancer::refresh`] whenever a server's up/maint/weight changes.
//!
//! Candidates are the usable (up, not in maintenance, weight > 0) active servers; when
//! none is usable, the first usable backup in declaration order, or all usable backups
//! with `option allbackups`.
//!
//! Layering: balancing sits below the runtime. It reads a server's live state through
//! the [`Candidate`] trait, which the runtime's server state implements; it knows
//! nothing else of the runtime or the proxy.

mod farm;
mod first;
pub mod hash;
mod hdr;
mod keyed;
mod leastconn;
mod random;
mod rdp_cookie;
mod roundrobin;
mod source;
mod static_rr;
mod table;
mod uri;
mod url_param;

use crate::config::model::{Balance, HashType};
use farm::{Farm, Outcome};
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
    /// The client bytes read ahead of the rules in `mode tcp` (`tcp-request
    /// inspect-delay`), for `rdp-cookie`.
    fn payload(&self) -> Option<&[u8]> {
        None
    }
}

/// What a balancer reads of a server's live state. Implemented by the runtime's server
/// state; every read is a relaxed atomic load there.
pub trait Candidate: Send + Sync {
    /// Its position in the backend's server list (declaration order).
    fn index(&self) -> usize;
    /// Declared `backup`.
    fn is_backup(&self) -> bool;
    /// May receive traffic: up, not in maintenance, weight > 0.
    fn usable(&self) -> bool;
    /// Has reached its `maxconn`.
    fn full(&self) -> bool;
    /// `maxconn` (0: unlimited).
    fn maxconn(&self) -> u32;
    /// Requests waiting in this server's own queue.
    fn queued(&self) -> u32;
    /// Connections established or being established.
    fn cur_conns(&self) -> u32;
    /// The configured weight.
    fn config_weight(&self) -> u32;
    /// The current (effective) weight.
    fn cur_weight(&self) -> u32;
}

/// Forwards every read to the pointee, so that helpers take `&S`, `&&S` or `&Arc<S>`.
macro_rules! forward_candidate {
    ($($ty:ty),*) => {$(
        impl<T: Candidate + ?Sized> Candidate for $ty {
            fn index(&self) -> usize {
                (**self).index()
            }
            fn is_backup(&self) -> bool {
                (**self).is_backup()
            }
            fn usable(&self) -> bool {
                (**self).usable()
            }
            fn full(&self) -> bool {
                (**self).full()
            }
            fn maxconn(&self) -> u32 {
                (**self).maxconn()
            }
            fn queued(&self) -> u32 {
                (**self).queued()
            }
            fn cur_conns(&self) -> u32 {
                (**self).cur_conns()
            }
            fn config_weight(&self) -> u32 {
                (**self).config_weight()
            }
            fn cur_weight(&self) -> u32 {
                (**self).cur_weight()
            }
        }
    )*};
}

forward_candidate!(&T, Arc<T>);

/// The result of a balancing decision.
#[derive(Debug)]
pub enum Pick<S> {
    /// Send the request to this server. Hash-based algorithms (`source`, `uri`,
    /// `url_param`, `hdr`) return their server even when it is full: queue on it.
    Server(Arc<S>),
    /// Usable servers exist but all have reached `maxconn`: queue in the backend
    /// (`timeout queue`, then 503).
    AllFull,
    /// No usable server that was not already tried: 503 at once.
    NoServer,
}

/// One load-balancing algorithm: its name, its state, its choice, and its reaction to a
/// change of the usable set. One implementation per file of this module.
pub(crate) trait Algorithm<S>: Send + Sync {
    /// The `balance` keyword, as the stats page shows it.
    fn name(&self) -> &'static str;
    /// Chooses among `farm`'s candidates, skipping positions whose server index is in
    /// `exclude`.
    fn pick(&self, farm: &Farm<S>, input: &dyn BalanceInput, exclude: &[usize]) -> Outcome;
    /// A server's state or weight changed: rebuild what depends on the usable set.
    fn refresh(&self, farm: &Farm<S>);
}

/// A backend's balancing state and decision over servers of type `S`. Shared between
/// threads.
pub struct Balancer<S> {
    farm: Farm<S>,
    algo: Box<dyn Algorithm<S>>,
}

impl<S: Candidate> Balancer<S> {
    /// Builds the balancer for `servers` (all servers of the backend, backups included,
    /// in declaration order; `servers[i].index == i`).
    pub fn new(
        balance: &Balance,
        hash_type: &HashType,
        allbackups: bool,
        servers: Vec<Arc<S>>,
    ) -> Self {
        let farm = Farm {
            servers,
            allbackups,
        };
        let algo: Box<dyn Algorithm<S>> = match balance {
            Balance::RoundRobin => Box::new(roundrobin::RoundRobin::new(&farm)),
            Balance::StaticRr => Box::new(static_rr::StaticRr::new(&farm)),
            Balance::LeastConn => Box::new(leastconn::LeastConn::new()),
            Balance::First => Box::new(first::First),
            Balance::Source => Box::new(source::Source::new(hash_type, &farm)),
            Balance::Uri { whole, len, depth } => Box::new(uri::Uri::new(
                uri::UriOptions {
                    whole: *whole,
                    len: *len,
                    depth: *depth,
                },
                hash_type,
                &farm,
            )),
            Balance::UrlParam(name) => Box::new(url_param::UrlParam::new(name, hash_type, &farm)),
            Balance::Hdr {
                name,
                use_domain_only,
            } => Box::new(hdr::Hdr::new(name, *use_domain_only, hash_type, &farm)),
            Balance::Random(draws) => Box::new(random::Random::new(*draws, &farm)),
            Balance::RdpCookie(name) => {
                Box::new(rdp_cookie::RdpCookie::new(name, hash_type, &farm))
            }
        };
        Balancer { farm, algo }
    }

    /// Picks a server for a request, skipping servers whose index is in `exclude`
    /// (servers already tried, for `option redispatch`), and tells a full farm (queue)
    /// from an empty one (503). When every usable server is excluded the answer is
    /// [`Pick::NoServer`]; a caller wanting HAProxy's "retry the same server" may pick
    /// again with an empty `exclude`.
    pub fn pick_ex(&self, input: &dyn BalanceInput, exclude: &[usize]) -> Pick<S> {
        match self.algo.pick(&self.farm, input, exclude) {
            Outcome::Server(i) => match self.farm.servers.get(i) {
                Some(s) => Pick::Server(Arc::clone(s)),
                None => Pick::NoServer,
            },
            Outcome::AllFull => Pick::AllFull,
            Outcome::NoServer => Pick::NoServer,
        }
    }

    /// Like [`Balancer::pick_ex`], `None` when no server can take the request now (all
    /// full or none usable).
    pub fn pick(&self, input: &dyn BalanceInput, exclude: &[usize]) -> Option<Arc<S>> {
        match self.pick_ex(input, exclude) {
            Pick::Server(s) => Some(s),
            Pick::AllFull | Pick::NoServer => None,
        }
    }

    /// Called when a server's state or weight changed (health, runtime API): rebuilds
    /// the hash map or ring and resets round-robin credits.
    pub fn refresh(&self) {
        self.algo.refresh(&self.farm);
    }

    /// The servers.
    pub fn servers(&self) -> &[Arc<S>] {
        &self.farm.servers
    }

    /// True for the hash-based algorithms (`source`, `uri`, `url_param`, `hdr`), whose
    /// decision designates one server: a request queues on that server when it is full,
    /// and a failed connection is redispatched only on the retries `option redispatch`
    /// names. HAProxy's other kinds (`roundrobin`, `static-rr`, `leastconn`, `first`,
    /// `random`) pick any server with a free slot, and with `option redispatch` and
    /// several active servers every retry goes to another server at once.
    pub fn designates(&self) -> bool {
        matches!(
            self.algorithm(),
            "source" | "uri" | "url_param" | "hdr" | "rdp-cookie"
        )
    }

    /// True when the server at `index` is usable and in the current pool (active
    /// servers, else the first usable backup or all of them with `option allbackups`):
    /// its free slots may serve the backend queue.
    pub fn admits(&self, index: usize) -> bool {
        self.farm.admits(self.farm.pool(), index)
    }

    /// The `balance` keyword of this balancer.
    pub fn algorithm(&self) -> &'static str {
        self.algo.name()
    }
}

#[cfg(test)]
mod tests;
