//! [`Deadline`]: one timer kept from one wait to the next (by a client connection for
//! its keep-alive waits, by a worker thread's pooled server-side buffers for the waits
//! for a response), so that an inactivity timeout costs a clock read and an atomic
//! store per wait instead of a new entry in the runtime's timer wheel (a lock, an
//! insertion and a removal, and a shared handle cloned and dropped).

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// A reusable timer. Re-armed to a later deadline, tokio only moves the deadline of the
/// entry already in its wheel (`Sleep::reset` extends it in place; the wheel reschedules
/// the entry when the old deadline comes); armed earlier, it is registered again. The
/// timer belongs to the worker thread that made it: on another thread (a pooled server
/// connection taken by another worker) a new one is made there.
#[derive(Default)]
pub struct Deadline {
    /// The timer and the thread it belongs to (see [`thread_tag`]).
    sleep: Option<(Pin<Box<Sleep>>, u32)>,
    /// It was armed since it last expired or was disarmed.
    armed: bool,
}

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadline")
            .field("armed", &self.armed)
            .finish()
    }
}

impl Deadline {
    /// Arms the timer to expire `after` from now (the time of the task's poll).
    pub fn arm(&mut self, after: Duration) {
        self.arm_at(Instant::from_std(crate::proxy::clock::now()) + after);
    }

    /// Arms the timer to expire at `at`.
    pub fn arm_at(&mut self, at: Instant) {
        let tag = thread_tag();
        match &mut self.sleep {
            Some((s, t)) if *t == tag => s.as_mut().reset(at),
            _ => self.sleep = Some((Box::pin(tokio::time::sleep_until(at)), tag)),
        }
        self.armed = true;
    }

    /// Polls the armed timer: `Ready` once its deadline passed. An unarmed timer never
    /// expires (a wait without a timeout).
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.armed {
            return Poll::Pending;
        }
        match &mut self.sleep {
            Some((s, _)) => {
                let r = s.as_mut().poll(cx);
                if r.is_ready() {
                    self.armed = false;
                }
                r
            }
            None => Poll::Pending,
        }
    }

    /// Disarms the timer: the next [`poll_expired`](Self::poll_expired) stays pending
    /// until it is armed again. The entry stays in the wheel until its deadline (one
    /// spurious wake-up of the last task that polled it, at most).
    pub fn disarm(&mut self) {
        self.armed = false;
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
        // And earlier than a previous deadline.
        d.arm(ms(10_000));
        let t0 = Instant::now();
        d.arm(ms(20));
        std::future::poll_fn(|cx| d.poll_expired(cx)).await;
        assert!(t0.elapsed() < ms(5_000), "{:?}", t0.elapsed());
    }
}
