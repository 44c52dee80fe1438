//! Stick tables shared by several instances through Redis (the `redis` option of
//! `stick-table`, docs/persistence.md): the request path only marks entries dirty
//! ([`super::Table::update`]); one task per table (`sync.rs`) sends the changes in
//! batches and merges the fleet's values back (`fields.rs`: which field holds what), over
//! a small RESP client (`resp.rs`).

mod fields;
mod resp;
mod sync;

use super::Table;
use std::sync::Arc;

/// Starts the sync task of each shared table of `tables` that has none yet. Must run
/// inside the tokio runtime.
pub fn start(tables: &[Arc<Table>]) {
    for t in tables {
        if t.claim_sync() {
            tokio::spawn(sync::run(Arc::downgrade(t)));
        }
    }
}
