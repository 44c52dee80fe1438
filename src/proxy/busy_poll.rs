//! `busy-polling` (global): the worker threads never sleep in the poller.
//!
//! HAProxy's poller then always waits with a null timeout, so a thread is never
//! descheduled between events: no wake-up latency (30–100 µs in a VM, per HAProxy's
//! manual), and nobody pays to wake it — on loopback, the process that sends to a
//! sleeping proxy pays the cross-CPU wake-up (docs/performance.md, "What the client
//! pays for a faster proxy"). The price is a core kept busy while idle. Off by default,
//! as in HAProxy; turned off on a soft-stopping process (HAProxy: "automatically
//! disabled on old processes in the context of seamless reload"), and a reload follows
//! the new configuration.
//!
//! tokio has no poller timeout to set. A runtime thread that has a task waiting in its
//! `yield_now` list polls the driver with a zero timeout (`epoll_wait(…, 0)`) instead of
//! parking; one [`spinner`] per worker thread yields in a loop while busy-polling is on,
//! which makes every park of its thread such a zero-timeout poll. With `nbthread` above
//! one, the scheduler places the spinners (one per worker as a rule, not pinned).

use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// The configuration in force asks for busy-polling (and the process is not stopping).
static ON: AtomicBool = AtomicBool::new(false);
/// Wakes the spinners when busy-polling is turned on.
static TURNED_ON: Notify = Notify::const_new();

/// Busy-polling on or off, from the configuration in force; called at start, after each
/// reload and when a soft stop begins.
pub fn set(on: bool) {
    let was = ON.swap(on, Ordering::Relaxed);
    if on && !was {
        TURNED_ON.notify_waiters();
    }
}

/// Busy-polling is on.
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// One thread's busy-poll: yields while busy-polling is on, waits for it otherwise.
pub async fn spinner() {
    loop {
        if on() {
            tokio::task::yield_now().await;
            continue;
        }
        let turned_on = TURNED_ON.notified();
        tokio::pin!(turned_on);
        turned_on.as_mut().enable();
        if !on() {
            turned_on.await;
        }
    }
}

/// Starts one [`spinner`] per worker thread (`threads`) on the current runtime.
pub fn start(threads: usize) {
    for _ in 0..threads.max(1) {
        tokio::spawn(spinner());
    }
}
