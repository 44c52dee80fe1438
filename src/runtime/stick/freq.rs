//! HAProxy's frequency counter over a period (`freq_ctr` with `update_freq_ctr_period`
//! and `read_freq_ctr_period`, 2.6): the events of the current period plus those of the
//! previous one weighted by the part of it still inside a sliding window. Stick-table
//! rates (`http_req_rate(10s)`, …) use it with their configured period.

/// Milliseconds on a monotonic clock (HAProxy's `now_ms`), wrapping at 2^32; never 0.
/// The kernel's coarse monotonic clock (`CLOCK_MONOTONIC_COARSE`, a few milliseconds'
/// resolution at most, as HAProxy's `now_ms`, which moves once per polling loop): read
/// several times per tracked request, it costs a fraction of a precise clock read.
pub fn now_ms() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given; CLOCK_MONOTONIC_COARSE
    // exists on every Linux gatehouse runs on (2.6.32 and later).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    let ms = (ts.tv_sec as u64)
        .wrapping_mul(1000)
        .wrapping_add(ts.tv_nsec as u64 / 1_000_000);
    (ms as u32).max(1)
}

/// One counter; the owner serialises access (the entry's lock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreqCtr {
    /// Where the current period began (ms).
    pub curr_tick: u32,
    /// Events in the current period.
    pub curr: u32,
    /// Events in the previous period.
    pub prev: u32,
}

impl FreqCtr {
    /// Adds `inc` events at `now` (`update_freq_ctr_period`); returns the current
    /// period's count.
    pub fn update(&mut self, period: u32, inc: u32, now: u32) -> u32 {
        let period = period.max(1);
        if now.wrapping_sub(self.curr_tick) < period {
            self.curr = self.curr.wrapping_add(inc);
            return self.curr;
        }
        self.prev = std::mem::replace(&mut self.curr, inc);
        let mut tick = self.curr_tick.wrapping_add(period);
        if now.wrapping_sub(tick) >= period {
            // At least two periods went by.
            self.prev = 0;
            tick = now;
        }
        self.curr_tick = tick & !1;
        inc
    }

    /// The rate over the period at `now` (`read_freq_ctr_period`).
    pub fn read(&self, period: u32, now: u32) -> u32 {
        let period = period.max(1);
        let (mut curr, mut past) = (u64::from(self.curr), u64::from(self.prev));
        let mut remain = i64::from(self.curr_tick.wrapping_add(period).wrapping_sub(now) as i32);
        if remain < 0 {
            remain += i64::from(period);
            past = if remain >= 0 { curr } else { 0 };
            curr = 0;
        }
        let total = if curr == 0 && past <= 1 {
            // Flapping correction at very low rates.
            past * u64::from(period)
        } else {
            past * remain.max(0) as u64 + curr * u64::from(period)
        };
        (total / u64::from(period)) as u32
    }

    /// Sets the counter to `value` now, as `set table … data.X_rate V` does: stable for a
    /// period, then fading out.
    pub fn set(&mut self, value: u32, now: u32) {
        self.curr_tick = now & !1;
        self.prev = 0;
        self.curr = value;
    }
}

#[cfg(test)]
mod tests {
    use super::FreqCtr;

    #[test]
    fn counts_within_the_period_and_fades_the_previous_one() {
        let mut f = FreqCtr::default();
        let t0 = 100_000;
        for i in 0..10 {
            f.update(10_000, 1, t0 + i * 10);
        }
        assert_eq!(f.read(10_000, t0 + 200), 10);
        // Half-way through the next period, half of the previous one still counts.
        f.update(10_000, 1, t0 + 10_000);
        assert_eq!(f.read(10_000, t0 + 15_000), 1 + 5);
        // Two periods later everything is gone.
        assert_eq!(f.read(10_000, t0 + 40_000), 0);
        let mut g = FreqCtr::default();
        g.set(42, t0);
        assert_eq!(g.read(10_000, t0 + 5_000), 42);
    }
}
