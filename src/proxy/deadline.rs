//! [`Deadline`]: one lazy timer kept from one wait to the next (by a client connection
//! for its keep-alive waits, by a worker thread's pooled server-side buffers for the
//! waits for a response, by each direction of a tunnel for its inactivity timeout), so
//! that an inactivity timeout costs a store and a comparison per wait instead of a new
//! entry in the runtime's timer wheel (a lock, an insertion and a removal, and a shared
//! handle cloned and dropped), or a move of the entry at each wait.

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// A reusable, lazy timer (HAProxy's lazy task timers). Arming it only records the
/// deadline; the runtime's timer entry is registered at the first wait and left where it
/// is while it fires at or before the deadline. A wait that finds the entry registered
/// for its task and not fired costs a comparison, no timer-wheel work; when the entry
/// fires early (the deadline moved later since: the connection was active), it is moved
/// to the deadline then, once. A deadline earlier than the entry's moves the entry at
/// once. The entry belongs to the worker thread that made it: on another thread (a
/// pooled server connection taken by another worker) a new one is made there.
#[derive(Default)]
pub struct Deadline {
    /// The deadline asked for; `None`: disarmed (a wait without a timeout).
    at: Option<Instant>,
    /// The runtime's timer entry, once made.
    entry: Option<Entry>,
}

/// A timer-wheel entry and what it was last set to.
struct Entry {
    sleep: Pin<Box<Sleep>>,
    /// The thread it belongs to (see [`thread_tag`]).
    thread: u32,
    /// When it fires.
    fires: Instant,
    /// The waker it was last polled with (`None`: it must be polled again).
    waker: Option<Waker>,
}

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadline").field("at", &self.at).finish()
    }
}

impl Deadline {
    /// Arms the timer to expire `after` from now (the time of the task's poll).
    pub fn arm(&mut self, after: Duration) {
        self.arm_at(Instant::from_std(crate::proxy::clock::now()) + after);
    }

    /// Arms the timer to expire at `at` (a store: the wheel is touched at the wait).
    #[inline]
    pub fn arm_at(&mut self, at: Instant) {
        self.at = Some(at);
    }

    /// Polls the armed timer: `Ready` once its deadline passed (by the time of the
    /// task's poll), which disarms it. An unarmed timer never expires (a wait without a
    /// timeout).
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(at) = self.at else {
            return Poll::Pending;
        };
        // The entry will wake this task at or before the deadline: nothing to do.
        if let Some(e) = &self.entry
            && e.fires <= at
            && e.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
            && !e.sleep.is_elapsed()
        {
            return Poll::Pending;
        }
        if Instant::from_std(crate::proxy::clock::now()) >= at {
            self.at = None;
            return Poll::Ready(());
        }
        let thread = thread_tag();
        let e = match &mut self.entry {
            Some(e) if e.thread == thread => {
                if e.fires > at {
                    e.sleep.as_mut().reset(at);
                    e.fires = at;
                }
                e
            }
            slot => slot.insert(Entry {
                sleep: Box::pin(tokio::time::sleep_until(at)),
                thread,
                fires: at,
                waker: None,
            }),
        };
        // Twice at most: an entry moved to a deadline the runtime's clock already
        // passed fires at once; the task then comes back at once to see it.
        for _ in 0..2 {
            if e.sleep.as_mut().poll(cx).is_pending() {
                if !e.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    e.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            // Fired early: the deadline moved later since the entry was set.
            e.sleep.as_mut().reset(at);
            e.fires = at;
        }
        e.waker = None;
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Disarms the timer: the next [`poll_expired`](Self::poll_expired) stays pending
    /// until it is armed again. The entry stays in the wheel until it fires (one
    /// spurious wake-up of the last task that polled it, at most).
    #[inline]
    pub fn disarm(&mut self) {
        self.at = None;
    }
}

/// A number for the current thread, distinct between threads (a timer is tied to the
/// runtime of the thread that created it).
fn thread_tag() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    thread_local! {
        static TAG: u32 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TAG.with(|t| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn expired(d: &mut Deadline) -> bool {
        std::future::poll_fn(|cx| Poll::Ready(d.poll_expired(cx).is_ready())).await
    }

    #[tokio::test]
    async fn expires_at_its_latest_deadline_and_is_reused() {
        let ms = Duration::from_millis;
        let mut d = Deadline::default();
        assert!(!expired(&mut d).await, "unarmed: never expires");
        d.arm(ms(60));
        assert!(!expired(&mut d).await);
        tokio::time::sleep(ms(30)).await;
        // Pushed later before it fired: it fires at the new deadline only.
        let t0 = Instant::now();
        d.arm(ms(60));
        std::future::poll_fn(|cx| d.poll_expired(cx)).await;
        assert!(t0.elapsed() >= ms(60), "{:?}", t0.elapsed());
        // Armed again after it fired, then disarmed: pending.
        d.arm(ms(1));
        d.disarm();
        tokio::time::sleep(ms(20)).await;
        assert!(!expired(&mut d).await);
        // And earlier than the deadline its entry was registered with.
        d.arm(ms(10_000));
        assert!(!expired(&mut d).await);
        let t0 = Instant::now();
        d.arm(ms(20));
        std::future::poll_fn(|cx| d.poll_expired(cx)).await;
        assert!(t0.elapsed() < ms(5_000), "{:?}", t0.elapsed());
    }
}
