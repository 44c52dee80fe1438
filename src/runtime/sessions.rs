//! The client connections alive, for the runtime API's `show sess`: each accepted
//! connection registers on accept and leaves when it closes. Part of the live state,
//! so that a reload does not lose track of the connections of the old snapshot.
//!
//! Registration takes one short lock of one of several shards (by connection number),
//! once per connection, never per request.

use super::frontend::Frontend;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many locks the registry is split into.
const SHARDS: usize = 16;

/// The connections alive, by number.
#[derive(Default)]
pub struct Sessions {
    next: AtomicU64,
    shards: [Mutex<HashMap<u64, Session>>; SHARDS],
}

/// One client connection.
#[derive(Clone)]
pub struct Session {
    /// The frontend that accepted it.
    pub frontend: Arc<Frontend>,
    /// The client's address (`None` for a unix socket).
    pub peer: Option<SocketAddr>,
    /// When it was accepted.
    pub since: Instant,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("opened", &self.next.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Sessions {
    fn shard(&self, id: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Session>> {
        self.shards[id as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection; its number, for [`Sessions::close`].
    pub fn open(&self, s: Session) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.shard(id).insert(id, s);
        id
    }

    /// The connection `id` closed.
    pub fn close(&self, id: u64) {
        self.shard(id).remove(&id);
    }

    /// The connections alive, oldest first.
    pub fn list(&self) -> Vec<(u64, Session)> {
        let mut out: Vec<(u64, Session)> = Vec::new();
        for sh in &self.shards {
            let m = sh.lock().unwrap_or_else(|e| e.into_inner());
            out.extend(m.iter().map(|(id, s)| (*id, s.clone())));
        }
        out.sort_unstable_by_key(|(id, _)| *id);
        out
    }
}
