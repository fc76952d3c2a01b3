//! One clock for every event: the TSC through `quanta` (about 10 ns a read on the
//! build machines, against 23 ns for `Instant::now`), calibrated once, with
//! quanta's fallback to the OS monotonic clock where the TSC is unusable.
//!
//! Workers store raw readings; the collector turns them into nanoseconds since
//! the session's origin, off the hot path.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

/// The process-wide clock, calibrated on first use.
pub(crate) fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A raw reading. Only meaningful through [`to_nanos`].
#[inline(always)]
pub(crate) fn raw() -> u64 {
    clock().raw()
}

/// Nanoseconds from `origin` to `reading` (0 if the reading is earlier).
pub(crate) fn to_nanos(origin: u64, reading: u64) -> u64 {
    clock().delta_as_nanos(origin, reading)
}
