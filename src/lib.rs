//! gatehouse: an identity-aware load balancer and reverse proxy that reads haproxy.cfg.
#![deny(missing_docs)]

pub mod acl;
pub mod admin;
pub mod balance;
pub mod check;
pub mod cli;
pub mod config;
pub mod identity;
pub mod load;
pub mod log;
pub mod master;
pub mod pgwire;
pub mod proxy;
pub mod runtime;
pub mod stats;
pub mod tls;

/// The HAProxy version whose configuration language gatehouse follows; `.if
/// version_atleast()` and `-cc` compare against it.
pub const HAPROXY_COMPAT_VERSION: &str = "2.6.12";
/// gatehouse's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
