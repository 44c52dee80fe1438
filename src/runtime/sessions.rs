//! The client connections alive, for the runtime API's `show sess`: each accepted
//! connection registers on accept and leaves when it closes. Part of the live state,
//! so that a reload does not lose track of the connections of the old snapshot.
//!
//! Registration takes one short lock of one of several shards (by connection number),
//! once per connection, never per request. Each shard is a slab: a connection's place
//! is its index there, so registering and leaving hash nothing (a `HashMap` keyed by
//! number cost about 300 instructions per connection: docs/performance.md, "close").

use super::frontend::Frontend;
use slab::Slab;
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
    /// Each connection with its number, in the shard of that number.
    shards: [Mutex<Slab<(u64, Session)>>; SHARDS],
}

/// Where a registered connection is, for [`Sessions::close`].
#[derive(Clone, Copy, Debug)]
pub struct Registered {
    shard: usize,
    index: usize,
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
    fn shard(&self, shard: usize) -> std::sync::MutexGuard<'_, Slab<(u64, Session)>> {
        self.shards[shard].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection under the next number; where it is, for
    /// [`Sessions::close`].
    pub fn open(&self, s: Session) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let shard = id as usize % SHARDS;
        let index = self.shard(shard).insert((id, s));
        Registered { shard, index }
    }

    /// The connection registered at `r` closed.
    pub fn close(&self, r: Registered) {
        let mut sh = self.shard(r.shard);
        if sh.contains(r.index) {
            sh.remove(r.index);
        }
    }

    /// The connections alive, oldest first.
    pub fn list(&self) -> Vec<(u64, Session)> {
        let mut out: Vec<(u64, Session)> = Vec::new();
        for sh in &self.shards {
            let m = sh.lock().unwrap_or_else(|e| e.into_inner());
            out.extend(m.iter().map(|(_, (id, s))| (*id, s.clone())));
        }
        out.sort_unstable_by_key(|(id, _)| *id);
        out
    }
}
