//! A serializable digest of a model: counts, per-lock and per-thread stats,
//! and every deadlock with names resolved. Names are kept as given, so they
//! round-trip through JSON (which escapes them); the text formatters
//! ([`format_summary`](super::format_summary) and the reports) sanitize them
//! for the terminal.

use serde::Serialize;

use crate::event::{LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::lockorder::{OrderEdge, PotentialDeadlock, PotentialKind};
use super::stall::StallReport;
use super::waitfor::{Deadlock, EdgeReason, WaitEdge};
use super::{Model, ThreadStatus};

/// Everything worth printing or exporting about a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Events applied.
    pub events: u64,
    /// Events inconsistent with the state.
    pub anomalies: u64,
    /// The latest event time, in nanoseconds since the session start.
    pub duration_ns: Nanos,
    /// Actual deadlocks, in order of detection.
    pub deadlocks: Vec<DeadlockReport>,
    /// Potential deadlocks (lock-order cycles), in order of detection.
    pub potential_deadlocks: Vec<PotentialReport>,
    /// The stall the run ended in, if every live thread was left blocked
    /// with nobody to wake it (see [`Model::stall`]); at most one.
    pub stalls: Vec<StallReport>,
    /// Per-lock statistics, by lock id.
    pub locks: Vec<LockReport>,
    /// Per-thread statistics, by thread id.
    pub threads: Vec<ThreadReport>,
}

/// A [`Deadlock`] with names resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadlockReport {
    /// When the cycle closed.
    pub detected_at_ns: Nanos,
    /// The threads in cycle order.
    pub threads: Vec<String>,
    /// The locks waited for, in cycle order.
    pub locks: Vec<String>,
    /// The cycle's edges.
    pub edges: Vec<WaitEdgeReport>,
}

/// A [`WaitEdge`] with names resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitEdgeReport {
    /// The waiting thread.
    pub thread: String,
    /// The lock it waits for (empty for a join).
    pub lock: String,
    /// The lock's kind.
    pub lock_kind: LockKind,
    /// The mode requested.
    pub mode: Mode,
    /// Where it was requested.
    pub requested_at: Site,
    /// Since when the thread waits.
    pub since_ns: Nanos,
    /// The thread it waits for.
    pub holder: String,
    /// The holder's mode.
    pub holder_mode: Mode,
    /// Where the holder acquired the lock (or requested it, for a queued writer).
    pub held_at: Site,
    /// Holds the lock, or is a writer queued ahead.
    pub reason: EdgeReason,
}

/// A [`PotentialDeadlock`] with names resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PotentialReport {
    /// When the cycle closed.
    pub detected_at_ns: Nanos,
    /// The locks in cycle order.
    pub locks: Vec<String>,
    /// The cycle's edges with their witnesses.
    pub edges: Vec<OrderEdgeReport>,
    /// `order_inversion` or `recursive_read`.
    pub kind: PotentialKind,
}

/// An [`OrderEdge`] with names resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderEdgeReport {
    /// The lock held.
    pub from: String,
    /// The lock taken while holding it.
    pub to: String,
    /// The thread that did it first.
    pub thread: String,
    /// Where `from` was acquired.
    pub from_site: Site,
    /// Where `to` was acquired.
    pub to_site: Site,
    /// How `from` was held.
    pub from_mode: Mode,
    /// How `to` was taken.
    pub to_mode: Mode,
}

/// Statistics of one lock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LockReport {
    /// Its name.
    pub name: String,
    /// Mutex, RwLock or Condvar.
    pub kind: LockKind,
    /// Where it was created.
    pub site: Site,
    /// Acquisitions.
    pub acquisitions: u64,
    /// Acquisitions that waited.
    pub contended: u64,
    /// `contended` as a percentage of `acquisitions`.
    pub contention_pct: f64,
    /// Sum of waits.
    pub total_wait_ns: Nanos,
    /// Longest wait.
    pub max_wait_ns: Nanos,
    /// Sum of hold times.
    pub total_hold_ns: Nanos,
    /// Longest hold.
    pub max_hold_ns: Nanos,
    /// Failed `try_*` calls.
    pub try_failures: u64,
    /// Bounded requests that gave up.
    pub timeouts: u64,
    /// Condvar waits.
    pub waits: u64,
    /// Condvar notifications.
    pub notifies: u64,
}

/// Statistics of one thread, up to the model's last event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThreadReport {
    /// Its name.
    pub name: String,
    /// `running`, `waiting`, `cond_wait`, `finished` or `panicked`.
    pub status: &'static str,
    /// The panic message, for a panicked thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panic_message: Option<String>,
    /// Locks acquired.
    pub acquisitions: u64,
    /// Acquisitions that waited.
    pub contended: u64,
    /// Time blocked on locks.
    pub waiting_ns: Nanos,
    /// Time blocked on condvars.
    pub cond_waiting_ns: Nanos,
    /// Time holding at least one lock.
    pub holding_ns: Nanos,
    /// Time alive and not blocked.
    pub running_ns: Nanos,
}

impl Model {
    /// A digest of the run so far, ready to serialize. Names are as given:
    /// pass them through [`sanitize`](super::sanitize) before printing them
    /// on a terminal (the text formatters do).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::model::Model;
    ///
    /// let summary = Model::new().summary();
    /// let json = serde_json::to_value(&summary).unwrap_or_default();
    /// assert_eq!(json["events"], 0);
    /// assert!(json["deadlocks"].as_array().is_some_and(|d| d.is_empty()));
    /// ```
    pub fn summary(&self) -> Summary {
        let now = self.last_time();
        Summary {
            events: self.events(),
            anomalies: self.anomalies(),
            duration_ns: now,
            deadlocks: self
                .deadlocks()
                .iter()
                .map(|d| DeadlockReport::new(self, d))
                .collect(),
            potential_deadlocks: self
                .potential_deadlocks()
                .iter()
                .map(|p| PotentialReport::new(self, p))
                .collect(),
            stalls: self
                .stall()
                .map(|s| StallReport::new(self, &s))
                .into_iter()
                .collect(),
            locks: self.locks().iter().map(lock_report).collect(),
            threads: self
                .threads()
                .iter()
                .map(|t| {
                    let times = t.times(now);
                    ThreadReport {
                        name: t.name.clone(),
                        status: t.status.name(),
                        panic_message: match &t.status {
                            ThreadStatus::Panicked { message } => Some(message.clone()),
                            _ => None,
                        },
                        acquisitions: t.stats.acquisitions,
                        contended: t.stats.contended,
                        waiting_ns: times.waiting,
                        cond_waiting_ns: times.cond_waiting,
                        holding_ns: times.holding,
                        running_ns: times.running,
                    }
                })
                .collect(),
        }
    }

    fn thread_label(&self, id: ThreadId) -> String {
        self.thread_name(id).to_owned()
    }

    fn lock_label(&self, id: LockId) -> String {
        self.lock_name(id).to_owned()
    }
}

fn lock_report(l: &super::LockState) -> LockReport {
    let s = &l.stats;
    LockReport {
        name: l.name.clone(),
        kind: l.kind,
        site: l.site,
        acquisitions: s.acquisitions,
        contended: s.contended,
        contention_pct: s.contention_pct(),
        total_wait_ns: s.total_wait,
        max_wait_ns: s.max_wait,
        total_hold_ns: s.total_hold,
        max_hold_ns: s.max_hold,
        try_failures: s.try_failures,
        timeouts: s.timeouts,
        waits: s.waits,
        notifies: s.notifies,
    }
}

impl DeadlockReport {
    /// Resolves the names in `d`.
    pub fn new(model: &Model, d: &Deadlock) -> Self {
        DeadlockReport {
            detected_at_ns: d.detected_at,
            threads: d.threads().map(|t| model.thread_label(t)).collect(),
            locks: d.locks().map(|l| model.lock_label(l)).collect(),
            edges: d
                .edges
                .iter()
                .map(|e| WaitEdgeReport::new(model, e))
                .collect(),
        }
    }
}

impl WaitEdgeReport {
    /// Resolves the names in `e`.
    pub fn new(model: &Model, e: &WaitEdge) -> Self {
        WaitEdgeReport {
            thread: model.thread_label(e.thread),
            lock: if e.reason == EdgeReason::Joins {
                String::new()
            } else {
                model.lock_label(e.lock)
            },
            lock_kind: model.lock(e.lock).map_or(LockKind::Mutex, |l| l.kind),
            mode: e.mode,
            requested_at: e.requested_at,
            since_ns: e.since,
            holder: model.thread_label(e.holder),
            holder_mode: e.holder_mode,
            held_at: e.held_at,
            reason: e.reason,
        }
    }
}

impl PotentialReport {
    /// Resolves the names in `p`.
    pub fn new(model: &Model, p: &PotentialDeadlock) -> Self {
        PotentialReport {
            detected_at_ns: p.detected_at,
            locks: p.locks().map(|l| model.lock_label(l)).collect(),
            edges: p
                .edges
                .iter()
                .map(|e| OrderEdgeReport::new(model, e))
                .collect(),
            kind: p.kind,
        }
    }
}

impl OrderEdgeReport {
    /// Resolves the names in `e`.
    pub fn new(model: &Model, e: &OrderEdge) -> Self {
        OrderEdgeReport {
            from: model.lock_label(e.from),
            to: model.lock_label(e.to),
            thread: model.thread_label(e.thread),
            from_site: e.from_site,
            to_site: e.to_site,
            from_mode: e.from_mode,
            to_mode: e.to_mode,
        }
    }
}
