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
    /// Send on a channel (the blocking `send`).
    Send {
        /// The channel.
        channel: LockId,
    },
    /// Receive from a channel (the blocking `recv`).
    Recv {
        /// The channel.
        channel: LockId,
    },
    /// Join a thread ([`crate::thread::JoinHandle::join`]).
    Join {
        /// The joined thread, when the session knows it.
        thread: Option<crate::event::ThreadId>,
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

/// A thread stopped at a [`HoldGate`], and what it is about to do.
#[derive(Clone, Debug)]
pub struct Parked {
    /// The thread.
    pub id: std::thread::ThreadId,
    /// Its name (its std name, or its id when it has none).
    pub name: String,
    /// The operation it waits to perform.
    pub op: Op,
    /// Where.
    pub site: Site,
}

#[derive(Default)]
struct HoldState {
    parked: Vec<Parked>,
    allowed: Vec<std::thread::ThreadId>,
    open: bool,
}

/// A gate that holds every thread before each operation until it is let
/// through, one operation at a time: step mode and schedule replay.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
/// use lockscope::gate::{self, HoldGate};
///
/// let hold = Arc::new(HoldGate::default());
/// gate::install(Some(hold.clone()));
/// let session = lockscope::Session::builder().start().unwrap();
/// let m = Arc::new(lockscope::Mutex::named("m", 0));
/// let m2 = Arc::clone(&m);
/// let t = lockscope::thread::Builder::new()
///     .name("worker".into())
///     .spawn(move || *m2.lock() += 1)
///     .unwrap();
/// let parked = hold.wait_for("worker", Instant::now() + Duration::from_secs(10)).unwrap();
/// hold.release(parked.id); // the lock
/// let parked = hold.wait_for("worker", Instant::now() + Duration::from_secs(10)).unwrap();
/// hold.release(parked.id); // the unlock
/// gate::install(None); // a join stops at the gate too: off first
/// t.join().unwrap();
/// drop(session);
/// assert_eq!(*m.lock(), 1);
/// ```
#[derive(Default)]
pub struct HoldGate {
    state: parking_lot::Mutex<HoldState>,
    changed: parking_lot::Condvar,
}

impl Gate for HoldGate {
    fn before(&self, op: Op, site: Site) {
        let current = std::thread::current();
        let id = current.id();
        let name = current
            .name()
            .map_or_else(|| format!("{id:?}"), str::to_owned);
        let mut state = self.state.lock();
        if state.open {
            return;
        }
        state.parked.push(Parked { id, name, op, site });
        self.changed.notify_all();
        loop {
            if state.open {
                state.parked.retain(|p| p.id != id);
                return;
            }
            if let Some(i) = state.allowed.iter().position(|&a| a == id) {
                state.allowed.swap_remove(i);
                return;
            }
            self.changed.wait(&mut state);
        }
    }
}

impl HoldGate {
    /// The threads stopped now, in the order they arrived.
    pub fn parked(&self) -> Vec<Parked> {
        self.state.lock().parked.clone()
    }

    /// Whether the thread called `name` is stopped.
    pub fn is_parked(&self, name: &str) -> bool {
        self.state.lock().parked.iter().any(|p| p.name == name)
    }

    /// Waits (until `until`) for the thread called `name` to stop.
    pub fn wait_for(&self, name: &str, until: std::time::Instant) -> Option<Parked> {
        let mut state = self.state.lock();
        loop {
            if let Some(p) = state.parked.iter().find(|p| p.name == name) {
                return Some(p.clone());
            }
            if self.changed.wait_until(&mut state, until).timed_out() {
                return state.parked.iter().find(|p| p.name == name).cloned();
            }
        }
    }

    /// Lets thread `id` perform its operation; from now on it is not
    /// stopped (until its next operation).
    pub fn release(&self, id: std::thread::ThreadId) {
        let mut state = self.state.lock();
        state.parked.retain(|p| p.id != id);
        state.allowed.push(id);
        self.changed.notify_all();
    }

    /// Lets every thread through, now and from now on (until [`close`](Self::close)).
    pub fn open(&self) {
        self.state.lock().open = true;
        self.changed.notify_all();
    }

    /// Holds threads again.
    pub fn close(&self) {
        self.state.lock().open = false;
    }
}
