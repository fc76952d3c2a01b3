//! Counters and accumulated times per lock and per thread.

use crate::event::Nanos;

/// Counters and times for one lock or condvar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockStats {
    /// Times it was acquired (including re-acquisitions after a condvar wait).
    pub acquisitions: u64,
    /// Acquisitions that had to wait first (after a request or a condvar notify).
    pub contended: u64,
    /// `try_*` calls that found it taken.
    pub try_failures: u64,
    /// Bounded requests that gave up.
    pub timeouts: u64,
    /// Sum of waits that ended in an acquisition.
    pub total_wait: Nanos,
    /// Longest wait that ended in an acquisition.
    pub max_wait: Nanos,
    /// Sum of hold times (per holder, for shared holders).
    pub total_hold: Nanos,
    /// Longest hold.
    pub max_hold: Nanos,
    /// For a condvar: waits on it.
    pub waits: u64,
    /// For a condvar: notifications sent.
    pub notifies: u64,
}

impl LockStats {
    /// The share of acquisitions that were contended, in percent (0 when never acquired).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::model::LockStats;
    ///
    /// let stats = LockStats { acquisitions: 8, contended: 2, ..LockStats::default() };
    /// assert_eq!(stats.contention_pct(), 25.0);
    /// ```
    pub fn contention_pct(&self) -> f64 {
        if self.acquisitions == 0 {
            0.0
        } else {
            self.contended as f64 * 100.0 / self.acquisitions as f64
        }
    }

    pub(super) fn record_wait(&mut self, wait: Nanos) {
        self.contended += 1;
        self.total_wait = self.total_wait.saturating_add(wait);
        self.max_wait = self.max_wait.max(wait);
    }

    pub(super) fn record_hold(&mut self, hold: Nanos) {
        self.total_hold = self.total_hold.saturating_add(hold);
        self.max_hold = self.max_hold.max(hold);
    }
}

/// Counters and closed-interval times for one thread.
///
/// Times of the stretch in progress are not included: use
/// [`ThreadState::times`](super::ThreadState::times) for totals up to an instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadStats {
    /// Locks acquired.
    pub acquisitions: u64,
    /// Acquisitions that had to wait first.
    pub contended: u64,
    /// Time blocked on locks.
    pub waiting: Nanos,
    /// Time blocked on condvars.
    pub cond_waiting: Nanos,
    /// Time holding at least one lock.
    pub holding: Nanos,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_and_holds_accumulate() {
        let mut s = LockStats::default();
        s.record_wait(30);
        s.record_wait(10);
        s.record_hold(7);
        s.record_hold(u64::MAX);
        assert_eq!((s.contended, s.total_wait, s.max_wait), (2, 40, 30));
        assert_eq!((s.total_hold, s.max_hold), (u64::MAX, u64::MAX));
    }

    #[test]
    fn contention_of_an_unused_lock_is_zero() {
        assert_eq!(LockStats::default().contention_pct(), 0.0);
    }
}
