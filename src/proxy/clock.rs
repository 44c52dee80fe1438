//! The time of the current poll of a connection's task, read once per poll as HAProxy
//! reads its `now` once per pass of its event loop: the timers of a request (`%Tr`,
//! `%TR`, `%Ta`…) and the deadlines of its timeouts are taken from it instead of
//! reading the clock at each step (about ten clock reads per keep-alive request
//! before: docs/performance.md).
//!
//! The time is stale by as long as the poll has run so far, as HAProxy's `now_ms` is by
//! the time its loop pass has run: a deadline armed late in a poll (`Deadline::arm`,
//! the tunnel's activity stamps) is that much early, a time measured from it that much
//! short. No poll waits on anything (sockets are non-blocking, log lines are sent
//! without blocking, a tunnel's poll makes 32 reads or writes at most), so that is the
//! CPU time of one poll: microseconds, against timeouts in milliseconds. A poll is
//! never stale across a wait: each poll reads the clock anew.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

thread_local! {
    /// The instant the task being polled on this thread was polled at; `None` outside
    /// such a poll.
    static NOW: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The instant the current task's poll began, or the clock when called outside a
/// [`Polled`] task.
#[inline]
pub fn now() -> Instant {
    NOW.with(|c| c.get()).unwrap_or_else(Instant::now)
}

/// A task's future whose polls set the time [`now`] returns (boxed: the task's moves
/// copy a pointer).
pub struct Polled<F>(pub Pin<Box<F>>);

/// Puts the previous poll time back when the poll ends, even by a panic (tokio catches
/// a task's panic and the thread goes on).
struct Restore(Option<Instant>);

impl Drop for Restore {
    fn drop(&mut self) {
        NOW.with(|c| c.set(self.0));
    }
}

impl<F: Future> Future for Polled<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _restore = Restore(NOW.with(|c| c.replace(Some(Instant::now()))));
        self.0.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_poll_reads_the_clock_once_and_outside_it_the_clock_is_read() {
        let outside = now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(now() > outside, "outside a task: the clock");
        let (a, b) = Polled(Box::pin(async {
            let a = now();
            std::thread::sleep(std::time::Duration::from_millis(2));
            (a, now())
        }))
        .await;
        assert_eq!(a, b, "one instant per poll");
        assert!(now() > b, "restored after the poll");
    }
}
