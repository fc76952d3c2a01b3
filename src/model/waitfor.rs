//! The wait-for graph: which thread waits for which, and the cycles that are deadlocks.
//!
//! Edges are not stored: they follow from the threads' statuses and the locks'
//! holders and queues, so they can never disagree with the state.

use serde::Serialize;

use crate::event::{Blocker, End, LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::graph::Digraph;
use super::state::{LockState, ThreadState, ThreadStatus};

/// Why a waiting thread waits for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeReason {
    /// The other thread holds the lock in a conflicting mode.
    Holds,
    /// The lock is an RwLock, this is a read request, and the other thread is a
    /// writer queued ahead of it: parking_lot's RwLock is task-fair, so readers
    /// do not overtake a waiting writer.
    QueuedWriter,
    /// The waiting thread joins the other one, which has not ended: the
    /// edge's lock is [`LockId::NONE`].
    Joins,
    /// The waiting thread is blocked in `recv` on the edge's channel, and the
    /// other thread owns its only senders (apart from any the waiter owns).
    AwaitsMessage,
    /// The waiting thread is blocked in `send` on the edge's full channel, and
    /// the other thread owns its only receivers.
    AwaitsRoom,
    /// The waiting thread waits at the edge's barrier, and the other thread
    /// is one of the participants it still needs, every one of which must
    /// arrive.
    AwaitsArrival,
}

/// One edge of the wait-for graph: `thread` waits for `lock`, which `holder`
/// blocks; `thread` joins `holder` ([`EdgeReason::Joins`]); or `thread` waits
/// on the channel `lock` for a message or for room that only `holder` can
/// give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitEdge {
    /// The waiting thread.
    pub thread: ThreadId,
    /// The lock or channel it waits for ([`LockId::NONE`] for a join).
    pub lock: LockId,
    /// The mode it asked for.
    pub mode: Mode,
    /// Where it asked.
    pub requested_at: Site,
    /// Since when it waits.
    pub since: Nanos,
    /// The thread it waits for.
    pub holder: ThreadId,
    /// The mode the holder holds (or, for a queued writer, requested).
    pub holder_mode: Mode,
    /// Where the holder acquired the lock (for a queued writer: where it requested it).
    pub held_at: Site,
    /// Whether the holder holds the lock or is queued ahead.
    pub reason: EdgeReason,
}

/// A cycle of threads each waiting for the next: none of them can ever proceed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadlock {
    /// The time of the event that closed the cycle.
    pub detected_at: Nanos,
    /// `edges[i].holder == edges[i + 1].thread`, wrapping around; starts at the
    /// smallest thread id.
    pub edges: Vec<WaitEdge>,
}

impl Deadlock {
    /// The threads in the cycle, in cycle order.
    pub fn threads(&self) -> impl Iterator<Item = ThreadId> + '_ {
        self.edges.iter().map(|e| e.thread)
    }

    /// The locks in the cycle, in cycle order (joins have none).
    pub fn locks(&self) -> impl Iterator<Item = LockId> + '_ {
        self.edges
            .iter()
            .map(|e| e.lock)
            .filter(|&l| l != LockId::NONE)
    }

    /// The dedup key: the (thread, lock) sequence of the normalised cycle.
    pub(super) fn key(&self) -> Vec<(u32, u32)> {
        self.edges.iter().map(|e| (e.thread.0, e.lock.0)).collect()
    }
}

/// A read-only view of the state as a wait-for graph over thread indices.
pub(super) struct WaitFor<'a> {
    pub(super) threads: &'a [ThreadState],
    pub(super) locks: &'a [LockState],
}

impl Digraph for WaitFor<'_> {
    type Edge = WaitEdge;

    fn len(&self) -> usize {
        self.threads.len()
    }

    fn next_edge(&self, node: usize, cursor: &mut usize) -> Option<(usize, WaitEdge)> {
        let thread = self.threads.get(node)?;
        if let ThreadStatus::Blocked {
            on,
            since,
            site,
            timed: false,
        } = thread.status
        {
            return self.blocked_edge(thread.id, on, since, site, cursor);
        }
        let ThreadStatus::Waiting {
            lock,
            mode,
            since,
            site,
            timed: false,
        } = thread.status
        else {
            return None;
        };
        let state = self.locks.get(lock.index())?;
        let edge = |holder: ThreadId, holder_mode, held_at, reason| {
            let e = WaitEdge {
                thread: thread.id,
                lock,
                mode,
                requested_at: site,
                since,
                holder,
                holder_mode,
                held_at,
                reason,
            };
            Some((holder.index(), e))
        };
        while let Some(h) = state.holders.get(*cursor) {
            *cursor += 1;
            // Upgrading waits for the readers, not for its own upgradable hold.
            let upgrading = h.thread == thread.id && h.mode == Mode::Upgradable;
            if h.mode.conflicts_with(mode) && !upgrading {
                return edge(h.thread, h.mode, h.site, EdgeReason::Holds);
            }
        }
        // Readers and upgradable readers queue behind a waiting writer.
        if mode == Mode::Exclusive || state.kind != LockKind::RwLock {
            return None;
        }
        while let Some(w) = state
            .waiters
            .get(cursor.saturating_sub(state.holders.len()))
        {
            *cursor += 1;
            if w.thread == thread.id {
                // Only writers queued ahead block a reader.
                *cursor = usize::MAX / 2;
                return None;
            }
            if w.mode == Mode::Exclusive && !w.timed {
                return edge(w.thread, w.mode, w.site, EdgeReason::QueuedWriter);
            }
        }
        None
    }
}

impl WaitFor<'_> {
    /// The edge of a thread blocked on other threads. A join waits for its
    /// target until the target ends. A channel wait is an any-of wait (any
    /// owner of the other end can end it), which a cycle cannot prove stuck:
    /// so it gets an edge only when one live thread other than the waiter
    /// owns the other end, and the waiter owns none of it (a handle it owned
    /// may have moved, unused, to a thread lockscope cannot name). Anything
    /// else is left to stall detection.
    fn blocked_edge(
        &self,
        thread: ThreadId,
        on: Blocker,
        since: Nanos,
        site: Site,
        cursor: &mut usize,
    ) -> Option<(usize, WaitEdge)> {
        if let Blocker::Barrier { barrier, parties } = on {
            return self.barrier_edge(thread, (barrier, parties), (since, site), cursor);
        }
        if *cursor > 0 {
            return None;
        }
        *cursor = 1;
        let (target, lock, reason) = match on {
            Blocker::Join(target) => (target, LockId::NONE, EdgeReason::Joins),
            Blocker::Recv(c) => (
                self.only_owner(c, End::Sender, thread)?,
                c,
                EdgeReason::AwaitsMessage,
            ),
            Blocker::Send(c) => (
                self.only_owner(c, End::Receiver, thread)?,
                c,
                EdgeReason::AwaitsRoom,
            ),
            Blocker::Barrier { .. } => return None,
        };
        let other = self.threads.get(target.index())?;
        if other.status.is_done() {
            return None;
        }
        let edge = WaitEdge {
            thread,
            lock,
            mode: Mode::Exclusive,
            requested_at: site,
            since,
            holder: target,
            holder_mode: Mode::Exclusive,
            held_at: Site::UNKNOWN,
            reason,
        };
        Some((target.index(), edge))
    }

    /// The `cursor`-th edge of a thread waiting at a barrier. The threads
    /// that can still arrive are the last generation's participants not
    /// waiting at it now. Before the barrier first opens they are unknown
    /// (threads not seen yet may arrive), so there is no edge.
    /// The wait needs `parties - arrived` of them: an edge to each only when
    /// every one is needed (a cycle through an optional one proves nothing).
    fn barrier_edge(
        &self,
        thread: ThreadId,
        (barrier, parties): (LockId, u32),
        (since, site): (Nanos, Site),
        cursor: &mut usize,
    ) -> Option<(usize, WaitEdge)> {
        let state = self.locks.get(barrier.index())?;
        let can_arrive = |t: &ThreadId| {
            *t != thread
                && !state.arrived.contains(t)
                && self
                    .threads
                    .get(t.index())
                    .is_some_and(|th| !th.status.is_done())
        };
        let candidates: Vec<ThreadId> = state
            .participants
            .iter()
            .copied()
            .filter(can_arrive)
            .collect();
        let needed = (parties as usize).saturating_sub(state.arrived.len().max(1));
        if candidates.is_empty() || candidates.len() > needed {
            return None;
        }
        let target = *candidates.get(*cursor)?;
        *cursor += 1;
        let edge = WaitEdge {
            thread,
            lock: barrier,
            mode: Mode::Exclusive,
            requested_at: site,
            since,
            holder: target,
            holder_mode: Mode::Exclusive,
            held_at: Site::UNKNOWN,
            reason: EdgeReason::AwaitsArrival,
        };
        Some((target.index(), edge))
    }

    /// The one live thread other than `waiter` owning `end` of `channel`, if
    /// there is exactly one and `waiter` owns none.
    ///
    /// A channel cannot be full and empty at once, nor can a rendezvous
    /// sender and receiver both wait: if threads seem to wait on both sides,
    /// one side's wake-up is still on its way, and neither gets an edge.
    fn only_owner(&self, channel: LockId, end: End, waiter: ThreadId) -> Option<ThreadId> {
        let other_side = match end {
            End::Sender => Blocker::Send(channel),
            End::Receiver => Blocker::Recv(channel),
        };
        let both_sides = self
            .threads
            .iter()
            .any(|th| matches!(th.status, ThreadStatus::Blocked { on, .. } if on == other_side));
        if both_sides {
            return None;
        }
        let state = self.locks.get(channel.index())?;
        let mut only = None;
        for &(t, n) in state.owners(end) {
            if n <= 0 {
                continue;
            }
            if t == waiter {
                return None;
            }
            if self
                .threads
                .get(t.index())
                .is_some_and(|th| th.status.is_done())
            {
                continue;
            }
            if only.replace(t).is_some() {
                return None;
            }
        }
        only
    }

    /// Every current edge, waiting thread by waiting thread.
    pub(super) fn all_edges(&self) -> Vec<WaitEdge> {
        let mut out = Vec::new();
        for node in 0..self.threads.len() {
            let mut cursor = 0;
            while let Some((_, e)) = self.next_edge(node, &mut cursor) {
                out.push(e);
            }
        }
        out
    }

    /// Whether `edge` still exists: the same wait, blocked by the same thread.
    pub(super) fn has_edge(&self, edge: &WaitEdge) -> bool {
        let mut cursor = 0;
        while let Some((_, e)) = self.next_edge(edge.thread.index(), &mut cursor) {
            if e.since == edge.since && e.holder == edge.holder && e.reason == edge.reason {
                return true;
            }
        }
        false
    }
}
