//! Rare phases (error pages, local replies, tunnels, queueing, new server connections)
//! kept out of the hot state machines: [`cold`] boxes a future and hands it back as a
//! trait object, so its code is reached through a pointer rather than inlined into the
//! caller's `poll`, and the caller's state holds a pointer instead of the whole future.
//! The common exchange (a pooled server connection, a response forwarded) then runs
//! through fewer, denser code lines: fewer instruction-cache misses per request
//! (docs/performance.md, "wt-close, second pass").

use std::future::Future;
use std::pin::Pin;

/// A rare phase's future on the heap, polled through its vtable.
pub(super) type Cold<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Boxes `f` out of line (see the module's note). Only for paths that are not taken by
/// an ordinary request: the allocation is the price of leaving the hot code small.
#[cold]
#[inline(never)]
pub(super) fn cold<'a, T, F>(f: F) -> Cold<'a, T>
where
    F: Future<Output = T> + Send + 'a,
{
    Box::pin(f)
}

impl super::exchange::Session {
    /// [`fail`](super::exchange::Session::fail) out of line: the error reply of a rare
    /// path, boxed by [`cold`] so its code stays out of the hot state machines.
    pub(super) async fn fail_cold<C: crate::proxy::codec::ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut super::exchange::Exchange,
        status: u16,
        term: crate::log::TermCause,
        fin: crate::log::FinState,
    ) -> Option<super::exchange::Next> {
        cold(self.fail(client, ex, status, term, fin)).await
    }
}
