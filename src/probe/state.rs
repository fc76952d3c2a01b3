//! The one word every lock operation reads: is a session on, is step mode on, and
//! which session (epoch) it is.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bit 0: a session is recording. Bit 1: step mode parks threads at the gate.
/// Bits 32..: the epoch of the current session, so that per-thread and per-lock
/// registrations from an earlier session are recognised as stale.
pub(crate) static STATE: AtomicU64 = AtomicU64::new(0);

const ACTIVE: u64 = 1;
const STEPPING: u64 = 2;

/// A snapshot of [`STATE`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct State(u64);

impl State {
    /// Whether events are recorded.
    #[inline(always)]
    pub(crate) fn active(self) -> bool {
        self.0 & ACTIVE != 0
    }

    /// Whether threads stop at the gate before each operation.
    #[inline(always)]
    pub(crate) fn stepping(self) -> bool {
        self.0 & STEPPING != 0
    }

    /// The current session's epoch.
    #[inline(always)]
    pub(crate) fn epoch(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// The current state. One relaxed load: this is the whole cost of a lock
/// operation when no session is on.
#[inline(always)]
pub(crate) fn load() -> State {
    State(STATE.load(Ordering::Relaxed))
}

/// Marks session `epoch` as recording (a gate installed before stays on).
pub(crate) fn start(epoch: u32) {
    let stepping = STATE.load(Ordering::SeqCst) & STEPPING;
    STATE.store(((epoch as u64) << 32) | ACTIVE | stepping, Ordering::SeqCst);
}

/// Stops recording (the epoch stays, so stale registrations stay stale).
pub(crate) fn stop() {
    STATE.fetch_and(!ACTIVE, Ordering::SeqCst);
}

/// Turns step mode on or off for the current session.
pub(crate) fn set_stepping(on: bool) {
    if on {
        STATE.fetch_or(STEPPING, Ordering::SeqCst);
    } else {
        STATE.fetch_and(!STEPPING, Ordering::SeqCst);
    }
}
