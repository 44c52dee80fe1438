//! Per-thread pools of a codec's buffers: a busy connection takes a set, an idle one
//! gives it back, so an idle keep-alive connection holds no buffers and the next busy
//! one allocates nothing (about eight allocations per request without: see
//! docs/performance.md).

use std::cell::RefCell;
use std::thread::LocalKey;

/// Most sets a worker thread keeps per kind.
const MAX_SPARES: usize = 128;

/// Buffers a codec takes from its thread's pool.
#[allow(clippy::vec_box)] // a set moves between the pool and a codec as one pointer
pub(super) trait Recycle: Default + 'static {
    /// The thread's pool of this kind.
    fn pool() -> &'static LocalKey<RefCell<Vec<Box<Self>>>>;
    /// Bytes held (capacity of the buffers that grow with a body).
    fn held(&self) -> usize;
    /// Empties the set for its next user.
    fn clear(&mut self);
}

/// A set of buffers taken from the thread's pool, given back when dropped (unless it grew
/// past `limit` bytes: a large body must not stay pinned).
pub(super) struct Pooled<T: Recycle> {
    set: Option<Box<T>>,
    limit: usize,
}

impl<T: Recycle> Pooled<T> {
    /// A set from the pool, or a new one.
    pub(super) fn take(limit: usize) -> Self {
        let set = T::pool().with(|p| p.borrow_mut().pop()).unwrap_or_default();
        Pooled {
            set: Some(set),
            limit,
        }
    }
}

impl<T: Recycle> std::ops::Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.set
            .as_deref()
            .expect("pooled set present until dropped")
    }
}

impl<T: Recycle> std::ops::DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.set
            .as_deref_mut()
            .expect("pooled set present until dropped")
    }
}

impl<T: Recycle> Drop for Pooled<T> {
    fn drop(&mut self) {
        let Some(mut set) = self.set.take() else {
            return;
        };
        if set.held() > self.limit {
            return;
        }
        set.clear();
        let _ = T::pool().try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < MAX_SPARES {
                p.push(set);
            }
        });
    }
}
