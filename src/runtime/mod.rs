//! The compiled snapshot (immutable, swapped atomically on reload) and live state.

pub mod server;
