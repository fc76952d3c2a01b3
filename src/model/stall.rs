//! Stalls: every live thread is blocked for good and none is left to wake the
//! others. A thread in `Condvar::wait` waits for no one in the wait-for graph
//! (nobody knows who will notify), so a lost notification closes no cycle;
//! it shows as a stall instead. Kept apart from deadlocks: a deadlock is a
//! proven cycle, a stall is "nothing that lockscope sees can move".

use std::fmt::Write as _;

use serde::Serialize;

use crate::event::{Blocker, LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::report::{describe_blocker, format_duration, sanitize};
use super::{Model, ThreadStatus};

/// How long every thread must stay blocked before a live session reports a
/// stall (1 s): a thread about to notify, or whose events are still on their
/// way, is not flagged.
pub const STALL_GRACE_NS: Nanos = 1_000_000_000;

/// Every live thread blocked without a bound, no deadlock cycle among them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// When the last of them blocked.
    pub since: Nanos,
    /// What each live thread waits for, by thread id.
    pub waits: Vec<StallWait>,
}

/// One blocked thread of a [`Stall`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StallWait {
    /// The thread.
    pub thread: ThreadId,
    /// The condvar or lock it waits on.
    pub on: LockId,
    /// Whether it waits on a condvar (for a notification) rather than a lock.
    pub condvar: bool,
    /// The mode asked for (exclusive for a condvar wait).
    pub mode: Mode,
    /// Where it waits.
    pub site: Site,
    /// Since when.
    pub since: Nanos,
    /// For a lock wait, the threads holding the lock; for a join, the
    /// thread joined.
    pub held_by: Vec<ThreadId>,
    /// Set when the thread waits for another thread (a join) rather than a
    /// lock or condvar; `on` is then [`LockId::NONE`].
    pub blocker: Option<Blocker>,
}

impl Model {
    /// The stall the state is in, if every live thread is blocked without a
    /// bound (an untimed lock request or condvar wait) and no deadlock cycle
    /// explains it (a deadlock is reported as one). Pure: no grace period;
    /// see [`stall_at`](Self::stall_at).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::event::{Event, EventKind, LockId, Site, ThreadId};
    /// use lockscope::model::Model;
    ///
    /// let mut model = Model::new();
    /// let ev = |thread, time, kind| Event { time, thread: ThreadId(thread), kind };
    /// let (cv, m) = (LockId(0), LockId(1));
    /// let acquired = EventKind::Acquired { lock: m, mode: lockscope::event::Mode::Exclusive, site: Site::UNKNOWN, seq: 0, tried: false };
    /// model.apply(&ev(0, 1, acquired));
    /// let wait = EventKind::CondWait { condvar: cv, mutex: m, site: Site::UNKNOWN, seq: 1, timed: false };
    /// model.apply(&ev(0, 5, wait));
    /// let stall = model.stall().unwrap();
    /// assert_eq!(stall.since, 5);
    /// assert!(stall.waits[0].condvar);
    /// assert!(model.stall_at(10, 100).is_none(), "still within the grace period");
    /// ```
    pub fn stall(&self) -> Option<Stall> {
        let mut waits = Vec::new();
        let mut latest = 0;
        for th in self.threads() {
            let wait = match th.status {
                _ if th.status.is_done() => continue,
                // What it waits for may rest on events that never arrived.
                _ if th.lost_events => return None,
                ThreadStatus::Waiting {
                    lock,
                    mode,
                    since,
                    site,
                    timed: false,
                } => StallWait {
                    thread: th.id,
                    on: lock,
                    condvar: false,
                    mode,
                    site,
                    since,
                    held_by: self
                        .lock(lock)
                        .map(|l| {
                            l.holders
                                .iter()
                                .filter(|h| h.mode.conflicts_with(mode))
                                .map(|h| h.thread)
                                .collect()
                        })
                        .unwrap_or_default(),
                    blocker: None,
                },
                ThreadStatus::CondWait {
                    condvar,
                    since,
                    site,
                    timed: false,
                    ..
                } => StallWait {
                    thread: th.id,
                    on: condvar,
                    condvar: true,
                    mode: Mode::Exclusive,
                    site,
                    since,
                    held_by: Vec::new(),
                    blocker: None,
                },
                ThreadStatus::Blocked {
                    on: on @ Blocker::Join(target),
                    since,
                    site,
                    timed: false,
                } if self.thread(target).is_some_and(|t| !t.status.is_done()) => StallWait {
                    thread: th.id,
                    on: LockId::NONE,
                    condvar: false,
                    mode: Mode::Exclusive,
                    site,
                    since,
                    held_by: vec![target],
                    blocker: Some(on),
                },
                // A channel or barrier wait lasts while it lasts: with every
                // live thread blocked, no one will send, receive or arrive.
                ThreadStatus::Blocked {
                    on:
                        on @ (Blocker::Recv(c) | Blocker::Send(c) | Blocker::Barrier { barrier: c, .. }),
                    since,
                    site,
                    timed: false,
                } => StallWait {
                    thread: th.id,
                    on: c,
                    condvar: false,
                    mode: Mode::Exclusive,
                    site,
                    since,
                    held_by: Vec::new(),
                    blocker: Some(on),
                },
                // Running, or a bounded wait that ends by itself.
                _ => return None,
            };
            latest = latest.max(wait.since);
            waits.push(wait);
        }
        if waits.is_empty() || self.active_deadlocks().next().is_some() {
            return None;
        }
        Some(Stall {
            since: latest,
            waits,
        })
    }

    /// The [`stall`](Self::stall) the state is in, once it has lasted `grace`
    /// nanoseconds at time `now`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::model::{Model, STALL_GRACE_NS};
    /// let model = Model::new();
    /// assert!(model.stall_at(10 * STALL_GRACE_NS, STALL_GRACE_NS).is_none(), "no threads");
    /// ```
    pub fn stall_at(&self, now: Nanos, grace: Nanos) -> Option<Stall> {
        self.stall()
            .filter(|s| now.saturating_sub(s.since) >= grace)
    }
}

/// A [`Stall`] with names resolved: what a stall report prints and `--json`
/// writes under `stalls`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StallReport {
    /// When the last thread blocked, in nanoseconds since the session start.
    pub since_ns: Nanos,
    /// The blocked threads, by thread id.
    pub threads: Vec<String>,
    /// What each waits for.
    pub waits: Vec<StallWaitReport>,
}

/// A [`StallWait`] with names resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StallWaitReport {
    /// The blocked thread.
    pub thread: String,
    /// The condvar or lock it waits on.
    pub on: String,
    /// Its kind.
    pub kind: LockKind,
    /// The mode asked for.
    pub mode: Mode,
    /// Where it waits.
    pub site: Site,
    /// Since when, in nanoseconds since the session start.
    pub since_ns: Nanos,
    /// For a lock wait: the holders, each with its state (`"worker" (finished)`).
    pub held_by: Vec<String>,
    /// For a wait on another thread: what it waits for, in words
    /// (`joins thread "worker"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocker: Option<String>,
}

impl StallReport {
    /// Resolves the names of `stall` in `model`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::event::{Event, EventKind, LockId, Site, ThreadId};
    /// use lockscope::model::{Model, StallReport};
    ///
    /// let mut model = Model::new();
    /// let ev = |kind| Event { time: 0, thread: ThreadId(0), kind };
    /// model.apply(&ev(EventKind::ThreadStart { name: "consumer".into() }));
    /// let wait = EventKind::CondWait { condvar: LockId(0), mutex: LockId(1), site: Site::UNKNOWN, seq: 0, timed: false };
    /// model.apply(&ev(wait));
    /// let report = StallReport::new(&model, &model.stall().unwrap());
    /// assert_eq!(report.threads, ["consumer"]);
    /// assert!(report.to_string().contains("no running thread can notify it"));
    /// ```
    pub fn new(model: &Model, stall: &Stall) -> StallReport {
        let waits: Vec<StallWaitReport> = stall
            .waits
            .iter()
            .map(|w| StallWaitReport {
                thread: sanitize(model.thread_name(w.thread)),
                on: sanitize(model.lock_name(w.on)),
                kind: model.lock(w.on).map_or(
                    if w.condvar {
                        LockKind::Condvar
                    } else {
                        LockKind::Mutex
                    },
                    |l| l.kind,
                ),
                mode: w.mode,
                site: w.site,
                since_ns: w.since,
                held_by: w
                    .held_by
                    .iter()
                    .map(|&h| {
                        let state = model.thread(h).map_or("?", |t| t.status.name());
                        format!("\"{}\" ({state})", sanitize(model.thread_name(h)))
                    })
                    .collect(),
                blocker: w.blocker.map(|b| describe_blocker(model, b)),
            })
            .collect();
        StallReport {
            since_ns: stall.since,
            threads: waits.iter().map(|w| w.thread.clone()).collect(),
            waits,
        }
    }
}

impl std::fmt::Display for StallReport {
    /// `STALL: all 3 threads blocked; "consumer" waits on condvar "ready"
    /// (at src/main.rs:9) and no running thread can notify it`, then one line
    /// per other thread.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        write_stall(&mut out, self);
        f.write_str(out.trim_end())
    }
}

/// The text of a stall report (ends with a newline).
pub(super) fn write_stall(out: &mut String, s: &StallReport) {
    let n = s.waits.len();
    let all = if n == 1 {
        "its only thread blocked".to_owned()
    } else {
        format!("all {n} threads blocked")
    };
    // A condvar wait first: it is what no one can end.
    let mut order: Vec<&StallWaitReport> = s.waits.iter().collect();
    order.sort_by_key(|w| w.kind != LockKind::Condvar);
    for (i, w) in order.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, "STALL: {all}; ");
        } else {
            out.push_str("  ");
        }
        let _ = writeln!(out, "{}", describe(w));
    }
    let _ = writeln!(
        out,
        "  (every thread blocked since {}; nothing lockscope sees can wake them)",
        format_duration(s.since_ns)
    );
}

fn describe(w: &StallWaitReport) -> String {
    let thread = sanitize(&w.thread);
    if let Some(blocker) = &w.blocker {
        if w.held_by.is_empty() {
            return format!("\"{thread}\" {} (at {})", sanitize(blocker), w.site);
        }
        return format!(
            "\"{thread}\" {} (at {}): {}",
            sanitize(blocker),
            w.site,
            w.held_by.join(", ")
        );
    }
    let on = sanitize(&w.on);
    if w.kind == LockKind::Condvar {
        return format!(
            "\"{thread}\" waits on condvar \"{on}\" (at {}) and no running thread can notify it",
            w.site
        );
    }
    let how = match (w.kind, w.mode) {
        (LockKind::RwLock, Mode::Shared) => "to read ",
        (LockKind::RwLock, Mode::Exclusive) => "to write ",
        (LockKind::RwLock, Mode::Upgradable) => "for an upgradable read ",
        _ => "",
    };
    let held = if w.held_by.is_empty() {
        "queued behind blocked writers".to_owned()
    } else {
        format!("held by {}", w.held_by.join(", "))
    };
    let of = if w.mode == Mode::Upgradable {
        "of"
    } else {
        "for"
    };
    format!(
        "\"{thread}\" waits {how}{of} {} \"{on}\" (at {}), {held}",
        w.kind, w.site
    )
}
