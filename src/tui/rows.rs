//! What the panels list, in order: the lock table's rows and the wait-for
//! panel's entries. Data, not drawing: the widgets draw them, and the state
//! moves its selection over them (so the state never imports a widget).

use std::cmp::Reverse;

use crate::event::{LockId, Nanos, ThreadId};
use crate::model::{
    Deadlock, LockState, LockStats, Model, PotentialDeadlock, ThreadStatus, WaitEdge,
};
use crate::scenario::ExpectResult;

use super::app::SortColumn;

/// The most threads drawn as a ring; a longer cycle is listed edge by edge.
pub(crate) const RING_MAX: usize = 8;

/// The locks in table order for `sort` at time `now`: by name in natural
/// order (`fork 2` before `fork 10`, case aside), else by the live statistic
/// descending, ties by id.
pub(crate) fn lock_order(model: &Model, sort: SortColumn, now: Nanos) -> Vec<LockId> {
    let mut locks: Vec<(&LockState, Live)> =
        model.locks().iter().map(|l| (l, live(l, now))).collect();
    match sort {
        SortColumn::Name => {
            locks.sort_by(|(a, _), (b, _)| natural_cmp(&a.name, &b.name).then(a.id.cmp(&b.id)));
        }
        SortColumn::Acquisitions => {
            locks.sort_by_key(|(l, s)| (Reverse(s.stats.acquisitions), l.id))
        }
        SortColumn::Contention => locks.sort_by(|(a, sa), (b, sb)| {
            sb.contention_pct()
                .total_cmp(&sa.contention_pct())
                .then(a.id.cmp(&b.id))
        }),
        SortColumn::MaxWait => locks.sort_by_key(|(l, s)| (Reverse(s.stats.max_wait), l.id)),
    }
    locks.into_iter().map(|(l, _)| l.id).collect()
}

/// A lock's statistics with what goes on now counted in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Live {
    /// Counters as recorded, times with the open holds and waits so far.
    pub(crate) stats: LockStats,
    /// Threads waiting for it now.
    pub(crate) waiting: u64,
}

impl Live {
    /// Contended requests among all requests, in percent: a thread still
    /// waiting counts as a contended request (a lock deadlocked for seconds
    /// is contended, not `0.0`).
    pub(crate) fn contention_pct(&self) -> f64 {
        let requests = self.stats.acquisitions + self.waiting;
        if requests == 0 {
            0.0
        } else {
            (self.stats.contended + self.waiting) as f64 * 100.0 / requests as f64
        }
    }

    /// Whether any request had to wait, or waits now.
    pub(crate) fn any_wait(&self) -> bool {
        self.stats.contended + self.waiting > 0
    }
}

/// `lock`'s statistics at `now`: open waits and holds add their time so far
/// to the totals and maxima, so a wait that never ends is the longest wait.
pub(crate) fn live(lock: &LockState, now: Nanos) -> Live {
    let mut s = lock.stats;
    for w in &lock.waiters {
        let waited = now.saturating_sub(w.since);
        s.total_wait = s.total_wait.saturating_add(waited);
        s.max_wait = s.max_wait.max(waited);
    }
    for h in &lock.holders {
        let held = now.saturating_sub(h.since);
        s.total_hold = s.total_hold.saturating_add(held);
        s.max_hold = s.max_hold.max(held);
    }
    Live {
        stats: s,
        waiting: lock.waiters.len() as u64,
    }
}

/// The row of the selected lock in `order` (the first row when none is selected).
pub(crate) fn selected_lock_row(order: &[LockId], selected: Option<LockId>) -> usize {
    selected
        .and_then(|id| order.iter().position(|&l| l == id))
        .unwrap_or(0)
}

/// One item of the panel, before it is laid out in lines.
pub(crate) enum Entry<'a> {
    /// A scenario's `[expect]` check.
    Expect(&'a ExpectResult),
    /// An active deadlock's banner.
    Banner(&'a Deadlock),
    /// Row `.1` of an active deadlock's ring.
    Ring(&'a Deadlock, usize),
    /// Where an active deadlock's threads asked and their holders took.
    Sites(&'a Deadlock),
    /// A wait-for edge, and whether it is part of an active cycle.
    Edge(WaitEdge, bool),
    /// A condvar wait (no edge: nobody knows who will notify).
    CondWait(ThreadId, LockId, LockId),
    /// A bounded lock wait (no edge: it cannot hang).
    TimedWait(ThreadId, LockId),
    /// Nobody waits.
    Idle,
    /// A lock-order cycle.
    Potential(&'a PotentialDeadlock),
}

impl Entry<'_> {
    /// Whether ↑/↓ stop on this entry.
    pub(crate) fn selectable(&self) -> bool {
        !matches!(
            self,
            Entry::Expect(..) | Entry::Banner(..) | Entry::Sites(..) | Entry::Idle
        )
    }

    /// The thread whose details Enter shows for this entry.
    pub(crate) fn thread(&self) -> Option<ThreadId> {
        match *self {
            Entry::Edge(e, _) => Some(e.thread),
            Entry::Ring(d, i) => d.edges.get(i).map(|e| e.thread),
            Entry::CondWait(t, ..) | Entry::TimedWait(t, _) => Some(t),
            Entry::Potential(p) => p.edges.first().map(|e| e.thread),
            Entry::Expect(..) | Entry::Banner(..) | Entry::Sites(..) | Entry::Idle => None,
        }
    }
}

pub(crate) fn entries<'a>(model: &'a Model, expect: &'a [ExpectResult]) -> Vec<Entry<'a>> {
    let active: Vec<&Deadlock> = model.active_deadlocks().collect();
    // A failed check first: it is the verdict of a run that did not hang.
    let mut expect: Vec<&ExpectResult> = expect.iter().collect();
    expect.sort_by_key(|e| e.held());
    let mut out: Vec<Entry> = expect.into_iter().map(Entry::Expect).collect();
    for &d in &active {
        out.push(Entry::Banner(d));
        if d.edges.len() <= RING_MAX {
            out.extend((0..d.edges.len()).map(|i| Entry::Ring(d, i)));
        } else {
            // Too long for a ring: listed in cycle order.
            out.extend(d.edges.iter().map(|&e| Entry::Edge(e, true)));
        }
        out.push(Entry::Sites(d));
    }
    let waits = out.len();
    for e in model.wait_for_edges() {
        let in_cycle = active.iter().any(|d| {
            d.edges
                .iter()
                .any(|c| c.thread == e.thread && c.holder == e.holder && c.lock == e.lock)
        });
        // A cycle's edges are drawn with it.
        if !in_cycle {
            out.push(Entry::Edge(e, false));
        }
    }
    for th in model.threads() {
        match th.status {
            ThreadStatus::CondWait { condvar, mutex, .. } => {
                out.push(Entry::CondWait(th.id, condvar, mutex));
            }
            ThreadStatus::Waiting {
                lock, timed: true, ..
            } => out.push(Entry::TimedWait(th.id, lock)),
            _ => {}
        }
    }
    if out.len() == waits && active.is_empty() && out.is_empty() {
        out.push(Entry::Idle);
    }
    out.extend(model.potential_deadlocks().iter().map(Entry::Potential));
    out
}

/// The rows the panel wants for the first deadlock: its banner and its ring.
pub(crate) fn wanted_rows(model: &Model) -> usize {
    model
        .active_deadlocks()
        .next()
        .map_or(0, |d| 1 + d.edges.len().min(RING_MAX))
}

/// The panel's selectable rows, in order, each with the thread its details show.
pub(crate) fn waitfor_targets(model: &Model) -> Vec<Option<ThreadId>> {
    entries(model, &[])
        .iter()
        .filter(|e| e.selectable())
        .map(Entry::thread)
        .collect()
}

/// Natural order: case aside, digit runs compared as numbers (`gate` before
/// `M`, `fork 2` before `fork 10`), then plain order to break ties.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let take = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut n = String::new();
                    while let Some(c) = it.next_if(char::is_ascii_digit) {
                        n.push(c);
                    }
                    n
                };
                let (m, n) = (take(&mut x), take(&mut y));
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                let by = m.len().cmp(&n.len()).then_with(|| m.cmp(n));
                if by != Ordering::Equal {
                    return by;
                }
            }
            (Some(c), Some(d)) => {
                let by = c.to_lowercase().cmp(d.to_lowercase());
                if by != Ordering::Equal {
                    return by;
                }
                x.next();
                y.next();
            }
        }
    }
}
