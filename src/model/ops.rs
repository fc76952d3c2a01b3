//! The state changes the event handlers are made of: acquire, release, end
//! a wait, search for cycles, find or create table slots.

use std::mem;

use crate::event::{LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::graph::rotate_to_min;
use super::lockorder::OrderEdge;
use super::state::{Held, Holder, LockState, ThreadState, ThreadStatus};
use super::waitfor::{Deadlock, WaitFor};
use super::{Change, Model};

/// Ids are dense in order of first sight, so a valid stream only skips a few
/// (events of different threads may arrive a little out of order). A larger
/// jump is nonsense and is ignored rather than allocated.
const MAX_ID_GAP: usize = 4096;
/// An absolute bound on table sizes.
const MAX_IDS: usize = 1 << 24;
/// Distinct cycles reported from one search at most (usually there is one).
const MAX_CYCLES_PER_CHECK: usize = 8;

/// Lock-order edges recorded per acquisition, from the most recently taken
/// held locks. Earlier holds need no edge of their own: when `h` was taken
/// (not by a `try_*` call), every lock held before it got a path to `h`, so
/// it reaches the new lock through `h`, as in lockdep. A thread nesting N
/// locks so keeps O(N) edges, not N²/2, and a potential deadlock through a
/// deeper hold is still found, named by the chain of locks between.
const DIRECT_ORDER: usize = 8;

impl Model {
    /// Records that thread `t` now holds lock `l`; `waited` is when its wait began.
    pub(super) fn acquire(
        &mut self,
        t: usize,
        l: usize,
        mode: Mode,
        site: Site,
        time: Nanos,
        waited: Option<Nanos>,
    ) -> Change {
        let mut change = Change::default();
        if self.locks[l]
            .holders
            .iter()
            .any(|h| h.mode.conflicts_with(mode))
        {
            // Two holders that exclude each other cannot be: a release was
            // lost (dropped events). The newest acquisition wins, so state
            // stays bounded and the view recovers.
            self.anomalies += 1;
            self.evict_conflicting(l, mode, time);
        }
        let th = &mut self.threads[t];
        let state = &mut self.locks[l];
        if th.status.is_done() {
            self.anomalies += 1;
        }
        state.stats.acquisitions += 1;
        th.stats.acquisitions += 1;
        if let Some(since) = waited {
            state.stats.record_wait(time.saturating_sub(since));
            th.stats.contended += 1;
        }
        state.holders.push(Holder {
            thread: th.id,
            mode,
            since: time,
            site,
        });
        let lock = state.id;
        th.held.push(Held {
            lock,
            mode,
            since: time,
            site,
            tried: false,
        });
        th.holding_since.get_or_insert(time);
        // A new holder adds edges from the waiters it blocks (events can apply
        // a request before the acquisition that made it wait). Such an edge can
        // only close a cycle if the holder itself waits: a late acquisition.
        if !matches!(th.status, ThreadStatus::Waiting { timed: false, .. }) {
            return change;
        }
        for i in 0..self.locks[l].waiters.len() {
            let w = self.locks[l].waiters[i];
            if !w.timed && mode.conflicts_with(w.mode) {
                change.deadlock |= self.check_from(w.thread.index(), time);
            }
        }
        change
    }

    /// Removes thread `t`'s hold on lock `l`; returns whether it held it.
    pub(super) fn release(&mut self, t: usize, l: usize, mode: Mode, time: Nanos) -> bool {
        let th = &mut self.threads[t];
        let state = &mut self.locks[l];
        let in_lock = find_last(&state.holders, |h| h.thread == th.id, |h| h.mode == mode);
        let in_thread = find_last(&th.held, |h| h.lock == state.id, |h| h.mode == mode);
        if let Some(i) = in_lock {
            let holder = state.holders.remove(i);
            state.stats.record_hold(time.saturating_sub(holder.since));
        }
        if let Some(i) = in_thread {
            th.held.remove(i);
        }
        if th.held.is_empty()
            && let Some(since) = th.holding_since.take()
        {
            th.stats.holding = th.stats.holding.saturating_add(time.saturating_sub(since));
        }
        in_lock.is_some() && in_thread.is_some()
    }

    /// Ends thread `t`'s wait, if it waits: takes it off the queue, adds the
    /// time waited, sets it running. Returns the status it left.
    pub(super) fn leave_wait(&mut self, t: usize, time: Nanos) -> Option<ThreadStatus> {
        let th = &mut self.threads[t];
        if !matches!(
            th.status,
            ThreadStatus::Waiting { .. }
                | ThreadStatus::CondWait { .. }
                | ThreadStatus::Blocked { .. }
        ) {
            return None;
        }
        let old = mem::replace(&mut th.status, ThreadStatus::Running);
        match old {
            ThreadStatus::Waiting { lock, since, .. } => {
                th.stats.waiting = th.stats.waiting.saturating_add(time.saturating_sub(since));
                let waiters = &mut self.locks[lock.index()].waiters;
                if let Some(i) = waiters.iter().position(|w| w.thread == th.id) {
                    waiters.remove(i);
                }
            }
            ThreadStatus::Blocked { on, since, .. } => {
                th.stats.waiting = th.stats.waiting.saturating_add(time.saturating_sub(since));
                if let crate::event::Blocker::Barrier { barrier, .. } = on {
                    let arrived = &mut self.locks[barrier.index()].arrived;
                    arrived.retain(|&w| w != th.id);
                }
            }
            ThreadStatus::CondWait { condvar, since, .. } => {
                let spent = time.saturating_sub(since);
                th.stats.cond_waiting = th.stats.cond_waiting.saturating_add(spent);
                let waiters = &mut self.locks[condvar.index()].cond_waiters;
                if let Some(i) = waiters.iter().position(|&w| w == th.id) {
                    waiters.remove(i);
                }
            }
            _ => {}
        }
        Some(old)
    }

    /// Searches for wait-for cycles through thread `t` and records new ones.
    pub(super) fn check_from(&mut self, t: usize, time: Nanos) -> bool {
        let graph = WaitFor {
            threads: &self.threads,
            locks: &self.locks,
        };
        let found = &mut self.found;
        let threads = &self.threads;
        let lost = |t: ThreadId| threads.get(t.index()).is_some_and(|th| th.lost_events);
        self.wait_dfs.paths(&graph, t, t, |path| {
            // A cycle through a thread whose events were dropped may be an
            // artefact of a release that never arrived: not a proof.
            if path.iter().any(|e| lost(e.thread) || lost(e.holder)) {
                return true;
            }
            found.push(path.to_vec());
            found.len() < MAX_CYCLES_PER_CHECK
        });
        let mut new = false;
        for mut edges in self.found.drain(..) {
            rotate_to_min(&mut edges, |e| e.thread);
            // The cycle closed with the last of its waits, whichever event
            // (threads' events arrive in any order) showed it.
            let closed = edges.iter().map(|e| e.since).max().unwrap_or(time);
            let deadlock = Deadlock {
                detected_at: closed,
                edges,
            };
            if self.reported.insert(deadlock.key()) {
                self.deadlocks.push(deadlock);
                new = true;
            }
        }
        new
    }

    /// The index of thread `id`, creating placeholders up to it; `None` if absurd.
    pub(super) fn thread_slot(&mut self, id: ThreadId, time: Nanos) -> Option<usize> {
        let i = id.index();
        let len = self.threads.len();
        if i >= len {
            if i >= MAX_IDS || i - len > MAX_ID_GAP {
                return None;
            }
            self.threads
                .extend((len..=i).map(|n| ThreadState::placeholder(ThreadId(n as u32), time)));
        }
        Some(i)
    }

    /// The index of lock `id`, creating placeholders up to it; `None` if absurd.
    /// A placeholder used in shared mode must be an RwLock.
    pub(super) fn lock_slot(&mut self, id: LockId, mode: Option<Mode>) -> Option<usize> {
        let i = id.index();
        let len = self.locks.len();
        if i >= len {
            if i >= MAX_IDS || i - len > MAX_ID_GAP {
                return None;
            }
            self.locks
                .extend((len..=i).map(|n| LockState::placeholder(LockId(n as u32))));
        }
        let state = &mut self.locks[i];
        if !state.known && matches!(mode, Some(Mode::Shared | Mode::Upgradable)) {
            state.kind = LockKind::RwLock;
        }
        Some(i)
    }

    pub(super) fn condvar_slot(&mut self, id: LockId) -> Option<usize> {
        let c = self.lock_slot(id, None)?;
        let state = &mut self.locks[c];
        if !state.known {
            state.kind = LockKind::Condvar;
        }
        Some(c)
    }

    /// The index of barrier `id`, creating a placeholder typed as a barrier.
    pub(super) fn barrier_slot(&mut self, id: LockId) -> Option<usize> {
        let b = self.lock_slot(id, None)?;
        let state = &mut self.locks[b];
        if !state.known {
            state.kind = LockKind::Barrier;
        }
        Some(b)
    }

    /// The index of channel `id`, creating a placeholder typed as a channel.
    pub(super) fn channel_slot(&mut self, id: LockId) -> Option<usize> {
        let c = self.lock_slot(id, None)?;
        let state = &mut self.locks[c];
        if !state.known {
            state.kind = LockKind::Channel;
        }
        Some(c)
    }
}

/// The last index matching `base`, preferring one that also matches `better`.
fn find_last<T>(
    items: &[T],
    base: impl Fn(&T) -> bool,
    better: impl Fn(&T) -> bool,
) -> Option<usize> {
    items
        .iter()
        .rposition(|x| base(x) && better(x))
        .or_else(|| items.iter().rposition(base))
}

impl Model {
    /// Records that thread `t` takes (or asks for) `lock` while holding its
    /// other locks, as lockdep does: the order counts from the attempt, so an
    /// inversion that deadlocks before either acquisition is still seen.
    /// Returns whether a new lock-order cycle closed.
    pub(super) fn record_order(
        &mut self,
        t: usize,
        lock: LockId,
        mode: Mode,
        site: Site,
        time: Nanos,
    ) -> bool {
        let mut potential = false;
        let th = &self.threads[t];
        if th.lost_events {
            // Its holds may be stale: an order from them may never have been.
            return false;
        }
        if let Some(first) = th.held.iter().find(|h| h.lock == lock) {
            // Taking a lock already held adds no order: the thread has it.
            // Reading again a fair RwLock it reads is its own hazard.
            // Two shared holds (a read and a read, or an upgradable read and
            // a read): a writer queued in between blocks the second.
            if first.mode != Mode::Exclusive
                && mode != Mode::Exclusive
                && !first.mode.conflicts_with(mode)
                && self.locks.get(lock.index()).map(|l| l.kind) == Some(LockKind::RwLock)
            {
                let edge = OrderEdge {
                    from: lock,
                    to: lock,
                    thread: th.id,
                    from_site: first.site,
                    to_site: site,
                    from_mode: first.mode,
                    to_mode: mode,
                };
                potential = self.order.add_recursive_read(edge, time);
            }
            return potential;
        }
        let mut added = 0;
        for h in th.held.iter().rev() {
            let edge = OrderEdge {
                from: h.lock,
                to: lock,
                thread: th.id,
                from_site: h.site,
                to_site: site,
                from_mode: h.mode,
                to_mode: mode,
            };
            potential |= self.order.add(edge, time);
            added += 1;
            if added >= DIRECT_ORDER && !h.tried {
                // Every lock held before `h` has a path to `h` already.
                break;
            }
        }
        potential
    }
}

impl Model {
    /// Removes the holders of lock `l` that conflict with a `mode` holder,
    /// from the lock and from their threads.
    fn evict_conflicting(&mut self, l: usize, mode: Mode, time: Nanos) {
        let lock = self.locks[l].id;
        let evicted: Vec<ThreadId> = self.locks[l]
            .holders
            .iter()
            .filter(|h| h.mode.conflicts_with(mode))
            .map(|h| h.thread)
            .collect();
        self.locks[l]
            .holders
            .retain(|h| !h.mode.conflicts_with(mode));
        for thread in evicted {
            self.also_changed.push(thread);
            if let Some(th) = self.threads.get_mut(thread.index()) {
                th.held.retain(|h| h.lock != lock);
                if th.held.is_empty()
                    && let Some(since) = th.holding_since.take()
                {
                    th.stats.holding = th.stats.holding.saturating_add(time.saturating_sub(since));
                }
            }
        }
    }
}
