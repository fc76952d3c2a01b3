//! Pure analysis of the event stream.
//!
//! [`Model::apply`] turns [`Event`](crate::event::Event)s into the state of
//! every thread and lock, keeps the wait-for graph (actual deadlocks, found the
//! moment a cycle closes) and the lock-order graph (potential deadlocks, as in
//! Linux lockdep), and accumulates per-lock and per-thread statistics. No
//! threads, channels, clocks or I/O: the same events always give the same
//! state, so the live view, a replay and the tests agree.
//!
//! # Examples
//!
//! ```
//! use lockscope::event::{Event, EventKind, LockId, Mode, Site, ThreadId};
//! use lockscope::model::Model;
//!
//! let mut model = Model::new();
//! let site = Site::UNKNOWN;
//! let ev = |thread, kind| Event { time: 0, thread: ThreadId(thread), kind };
//! let acquired = |lock| EventKind::Acquired { lock: LockId(lock), mode: Mode::Exclusive, site, seq: 0, tried: false };
//! let request = |lock| EventKind::Request { lock: LockId(lock), mode: Mode::Exclusive, site, timed: false, ticket: 0 };
//! model.apply(&ev(0, acquired(0)));
//! model.apply(&ev(1, acquired(1)));
//! model.apply(&ev(0, request(1)));
//! let change = model.apply(&ev(1, request(0)));
//! assert!(change.deadlock);
//! assert_eq!(model.deadlocks().len(), 1);
//! assert_eq!(model.thread_name(ThreadId(1)), "thread#1");
//! ```

mod apply;
mod describe;
mod graph;
mod json;
mod lockorder;
mod ops;
mod report;
mod stall;
mod state;
mod stats;
mod summary;
mod timeline;
mod waitfor;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::event::{LockId, Nanos, ThreadId};

pub use describe::{Description, LockNames, describe};
pub use json::{to_json_writer, to_json_writer_pretty};
pub use lockorder::{OrderEdge, PotentialDeadlock, PotentialKind};
pub use report::{
    describe_blocker, format_deadlock, format_duration, format_potential, format_summary, sanitize,
};
pub use stall::{STALL_GRACE_NS, Stall, StallReport, StallWait, StallWaitReport};
pub use state::{Held, Holder, LockState, ThreadState, ThreadStatus, ThreadTimes, Waiter};
pub use stats::{LockStats, ThreadStats};
pub use summary::{
    DeadlockReport, LockReport, OrderEdgeReport, PotentialReport, Summary, ThreadReport,
    WaitEdgeReport,
};
pub use timeline::{Activity, CellState, Span, Timeline};
pub use waitfor::{Deadlock, EdgeReason, WaitEdge};

use graph::Dfs;
use lockorder::LockOrder;
use waitfor::WaitFor;

/// What one [`Model::apply`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// A new actual deadlock (a wait-for cycle) was detected.
    pub deadlock: bool,
    /// A new potential deadlock (a lock-order cycle) was detected.
    pub potential: bool,
}

/// The state of every thread and lock, built from events.
///
/// See the [module docs](self) for an example.
#[derive(Clone, Debug, Default)]
pub struct Model {
    threads: Vec<ThreadState>,
    locks: Vec<LockState>,
    order: LockOrder,
    deadlocks: Vec<Deadlock>,
    reported: BTreeSet<Vec<(u32, u32)>>,
    wait_dfs: Dfs<WaitEdge>,
    found: Vec<Vec<WaitEdge>>,
    events: u64,
    anomalies: u64,
    last_time: Nanos,
    also_changed: Vec<ThreadId>,
}

impl Model {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Threads other than the event's own whose state the last
    /// [`apply`](Self::apply) changed because events were lost (a holder
    /// evicted by a conflicting acquisition). Usually empty.
    pub fn also_changed(&self) -> &[ThreadId] {
        &self.also_changed
    }

    /// Every thread seen so far, indexed by [`ThreadId::index`].
    pub fn threads(&self) -> &[ThreadState] {
        &self.threads
    }

    /// Every lock and condvar seen so far, indexed by [`LockId::index`].
    pub fn locks(&self) -> &[LockState] {
        &self.locks
    }

    /// One thread, if seen.
    pub fn thread(&self, id: ThreadId) -> Option<&ThreadState> {
        self.threads.get(id.index())
    }

    /// One lock, if seen.
    pub fn lock(&self, id: LockId) -> Option<&LockState> {
        self.locks.get(id.index())
    }

    /// A thread's name (raw, untrusted text), or `"?"` if never seen.
    pub fn thread_name(&self, id: ThreadId) -> &str {
        self.thread(id).map_or("?", |t| &t.name)
    }

    /// A lock's name (raw, untrusted text), or `"?"` if never seen.
    pub fn lock_name(&self, id: LockId) -> &str {
        self.lock(id).map_or("?", |l| &l.name)
    }

    /// Every actual deadlock, in order of detection, each reported once.
    pub fn deadlocks(&self) -> &[Deadlock] {
        &self.deadlocks
    }

    /// Every potential deadlock (lock-order cycle), in order of detection, each once.
    pub fn potential_deadlocks(&self) -> &[PotentialDeadlock] {
        self.order.potentials()
    }

    /// Every edge of the lock-order graph with its first witness, in order of discovery.
    pub fn order_edges(&self) -> &[OrderEdge] {
        self.order.edges()
    }

    /// Every current wait-for edge, grouped by waiting thread in id order.
    pub fn wait_for_edges(&self) -> Vec<WaitEdge> {
        self.wait_for().all_edges()
    }

    /// Whether every edge of `deadlock` still holds (a real deadlock never
    /// resolves; only inconsistent events can break one).
    pub fn is_active(&self, deadlock: &Deadlock) -> bool {
        let graph = self.wait_for();
        deadlock.edges.iter().all(|e| graph.has_edge(e))
    }

    /// The reported deadlocks whose cycles are still closed.
    pub fn active_deadlocks(&self) -> impl Iterator<Item = &Deadlock> {
        self.deadlocks.iter().filter(|d| self.is_active(d))
    }

    /// Threads currently in a deadlock cycle, sorted.
    pub fn threads_in_cycles(&self) -> Vec<ThreadId> {
        let mut out: Vec<ThreadId> = self.active_deadlocks().flat_map(|d| d.threads()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Locks currently waited for in a deadlock cycle, sorted.
    pub fn locks_in_cycles(&self) -> Vec<LockId> {
        let mut out: Vec<LockId> = self.active_deadlocks().flat_map(|d| d.locks()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether `thread` is currently in a deadlock cycle.
    pub fn in_cycle(&self, thread: ThreadId) -> bool {
        self.active_deadlocks()
            .any(|d| d.threads().any(|t| t == thread))
    }

    /// How many events were applied.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Some of `thread`'s events were dropped before they reached the model
    /// (the collector stopped moving for long; the session counts them): its
    /// later holds and waits may rest on a release that never arrived, so no
    /// deadlock through it and no lock order of its is reported from now on.
    pub fn lose_events(&mut self, thread: ThreadId) {
        if let Some(t) = self.thread_slot(thread, self.last_time) {
            self.threads[t].lost_events = true;
        }
    }

    /// How many events were inconsistent with the state (tolerated, partly or wholly ignored).
    pub fn anomalies(&self) -> u64 {
        self.anomalies
    }

    /// The latest event time seen.
    pub fn last_time(&self) -> Nanos {
        self.last_time
    }

    fn wait_for(&self) -> WaitFor<'_> {
        WaitFor {
            threads: &self.threads,
            locks: &self.locks,
        }
    }
}
