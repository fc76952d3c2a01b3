//! The step gate: a hook before every lock operation where step mode will park
//! the thread until the user lets it move.
//!
//! With step mode off the hook is a bit test on the state word the operation
//! has already loaded, so it costs nothing. With it on, every operation calls
//! the installed [`Gate`] with a description of what the thread is about to do.

use std::sync::Arc;

use parking_lot::RwLock;

use super::state::{self, State};
use crate::event::{LockId, Mode, Site};

/// What a thread is about to do at the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Take a lock (`lock`, `read`, `write`, and the `try_*` forms).
    Lock {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
        /// A `try_*` call: it will not block.
        try_only: bool,
    },
    /// Let go of a lock.
    Unlock {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
    },
    /// Wait on a condvar, releasing `mutex`.
    Wait {
        /// The condvar.
        condvar: LockId,
        /// The mutex released during the wait.
        mutex: LockId,
    },
    /// Notify a condvar.
    Notify {
        /// The condvar.
        condvar: LockId,
        /// `notify_all`.
        all: bool,
    },
}

/// Decides when a thread at the gate may go on.
pub trait Gate: Send + Sync {
    /// Called on the thread itself before it performs `op` at `site`; returning
    /// lets it go on.
    fn before(&self, op: Op, site: Site);
}

static GATE: RwLock<Option<Arc<dyn Gate>>> = RwLock::new(None);

/// Installs `gate` and turns step mode on; `None` turns it off and lets every
/// thread run free.
pub fn install(gate: Option<Arc<dyn Gate>>) {
    let on = gate.is_some();
    *GATE.write() = gate;
    state::set_stepping(on);
}

/// The hook in every operation.
#[inline(always)]
pub(crate) fn before(st: State, op: impl FnOnce() -> Option<Op>, site: Site) {
    if st.stepping() {
        pass(op, site);
    }
}

#[cold]
fn pass(op: impl FnOnce() -> Option<Op>, site: Site) {
    let gate = GATE.read().clone();
    if let (Some(gate), Some(op)) = (gate, op()) {
        gate.before(op, site);
    }
}
