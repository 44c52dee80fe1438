//! The persistence step of stick tables, for both modes: before balancing, the `stick
//! match`/`stick on` rules of the backend may designate a running server (a server that
//! is down or in maintenance is not designated: the request is balanced, and the store
//! rules move the entry to the new server; with `option persist` or a matching
//! `force-persist` rule it is designated all the same, as in HAProxy, and a connection
//! that fails goes through `retries` and `option redispatch`); once the server
//! answered, the `stick store-*` rules record it. Kept apart from the balancing code
//! so that other persistence (cookies) stays a separate step.

use crate::acl::SampleSource;
use crate::runtime::backend::Backend;
use crate::runtime::server::ServerState;
use crate::runtime::stick::persist::{self, Pending};
use std::sync::Arc;

/// The server the backend's `stick` rules designate for the request seen through `src`,
/// if any; notes the keys to store in `pending`. `force`: a `force-persist` rule
/// matched (a stopped server is designated, as with `option persist`).
pub fn designate(
    be: &Backend,
    src: &dyn SampleSource,
    pending: &mut Pending,
    force: bool,
) -> Option<Arc<ServerState>> {
    pending.clear();
    if be.sticking.is_empty() {
        return None;
    }
    persist::on_request(&be.sticking, &be.servers, src, pending, be.persist || force)
}

/// Records `server` in the entries the request's and the response's store rules name.
pub fn record(be: &Backend, src: &dyn SampleSource, pending: &mut Pending, server: &ServerState) {
    if be.sticking.is_empty() {
        return;
    }
    persist::on_response(&be.sticking, src, pending);
    persist::commit(pending, server);
}
