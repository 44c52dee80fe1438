//! Stick tables (configuration.txt `stick-table`, 7.3.3): the tables themselves
//! (`table.rs`, with HAProxy's key encoding, eviction, expiry and `show table` lines),
//! their rates (`freq.rs`), and the counters a stream tracks (`track.rs`:
//! `track-sc0|1|2`). Tables live in the live-state store by name and survive reloads
//! that keep their definition; a table with the `redis` option is shared with the
//! other instances through Redis (`share/`).

pub mod dump;
pub mod freq;
pub mod persist;
pub mod share;
pub mod slot;
pub mod table;
pub mod track;

pub use dump::FilterOp;
pub use table::{Entry, KeyIn, Table};
pub use track::{Tracked, Trackers};
