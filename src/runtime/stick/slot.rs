//! A counter's slot in [`super::Trackers`]: filled once per request by the rule that
//! tracks (rules run through shared references), read by the fetches, let go with
//! exclusive access at the end of the request. A slot let go keeps its value (the
//! tracked entry, without its reference) for the next request of the connection to
//! take back: no reference count moves when it tracks the same entry again.
//! `std::sync::OnceLock` could hold the value but its `set` goes through `Once`'s
//! general machinery (some 75 instructions per tracked request); one compare-and-swap
//! suffices here.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, Ordering};

/// Nothing in the slot.
const EMPTY: u8 = 0;
/// One caller is filling it.
const WRITING: u8 = 1;
/// Set: readers see the value.
const FULL: u8 = 2;
/// Let go: the value stays, for [`OnceSlot::fill`] only.
const KEPT: u8 = 3;

/// A cell filled once through `&self`, let go through `&mut self`.
pub struct OnceSlot<T> {
    state: AtomicU8,
    value: UnsafeCell<Option<T>>,
}

// SAFETY: the value is written only by the one caller whose compare-and-swap moved the
// state to WRITING, and read through `&self` only once the state is FULL
// (Release/Acquire); it is changed otherwise only through `&mut self`. So a
// `&OnceSlot<T>` gives out `&T` to several threads (T: Sync) and moves a T in from any
// thread (T: Send).
unsafe impl<T: Send + Sync> Sync for OnceSlot<T> {}

impl<T> Default for OnceSlot<T> {
    fn default() -> Self {
        OnceSlot {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(None),
        }
    }
}

impl<T> OnceSlot<T> {
    /// The value, while set.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) != FULL {
            return None;
        }
        // SAFETY: FULL: the value is written and does not change until `&mut self`.
        unsafe { (*self.value.get()).as_ref() }
    }

    /// Fills the slot unless it is set (or being set): `f` gets the value kept from the
    /// last time (or `None`) and leaves the new one in its place, returning whether the
    /// slot is set now; false leaves it let go with what `f` left. The value, when set.
    #[inline]
    pub fn fill(&self, f: impl FnOnce(&mut Option<T>) -> bool) -> Option<&T> {
        let was = self.state.load(Ordering::Relaxed);
        if (was != EMPTY && was != KEPT)
            || self
                .state
                .compare_exchange(was, WRITING, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        // SAFETY: this caller alone moved the state to WRITING: nobody else writes, and
        // readers read only once it is FULL.
        let cell = unsafe { &mut *self.value.get() };
        if f(cell) {
            self.state.store(FULL, Ordering::Release);
            cell.as_ref()
        } else {
            let s = if cell.is_some() { KEPT } else { EMPTY };
            self.state.store(s, Ordering::Release);
            None
        }
    }

    /// Lets the value go if set, keeping it for [`OnceSlot::fill`]; returns it then.
    #[inline]
    pub fn let_go(&mut self) -> Option<&T> {
        let s = self.state.get_mut();
        if *s != FULL {
            return None;
        }
        *s = KEPT;
        self.value.get_mut().as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::OnceSlot;

    #[test]
    fn filled_once_read_let_go_and_refilled_from_what_it_kept() {
        let mut s = OnceSlot::default();
        assert!(s.get().is_none());
        assert_eq!(
            s.fill(|v| {
                assert!(v.is_none());
                *v = Some(1);
                true
            }),
            Some(&1)
        );
        // Set: a second fill does nothing.
        assert_eq!(s.fill(|_| unreachable!()), None);
        assert_eq!(s.get(), Some(&1));
        assert_eq!(s.let_go(), Some(&1));
        assert!(s.get().is_none());
        assert_eq!(s.let_go(), None);
        // Let go: the next fill sees the kept value; declining leaves it kept.
        assert_eq!(
            s.fill(|v| {
                assert_eq!(*v, Some(1));
                false
            }),
            None
        );
        assert!(s.get().is_none());
        assert_eq!(
            s.fill(|v| {
                assert_eq!(*v, Some(1));
                *v = Some(2);
                true
            }),
            Some(&2)
        );
    }
}
