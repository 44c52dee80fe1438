//! The compiled snapshot (immutable, swapped atomically on reload) and live state
//! (health, counters, queues) keyed by backend/server name.

pub mod backend;
mod candidate;
pub mod conn;
pub mod counters;
pub mod errors;
pub mod events;
pub mod frontend;
pub mod health;
pub mod live;
pub mod live_fetch;
pub mod mux;
pub mod persist;
pub mod procvars;
pub mod proxies;
pub mod rules;
pub mod server;
pub mod sessions;
pub mod shutdown;
pub mod snapshot;
pub mod state_file;
pub mod stick;
pub mod switching;
pub mod tcp_response;
pub mod userlist;
