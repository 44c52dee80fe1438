//! Listeners, tcp mode, http mode, upstream connection pool.

pub mod h1;
pub mod serve;
