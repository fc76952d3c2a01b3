//! What the model knows about each thread and each lock right now.

use std::collections::VecDeque;

use crate::event::{Blocker, End, LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::stats::{LockStats, ThreadStats};

/// What a thread is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Running (or at least not blocked on a lockscope lock).
    Running,
    /// Blocked acquiring `lock`.
    Waiting {
        /// The lock it waits for.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
        /// When the wait began.
        since: Nanos,
        /// Where the lock was requested.
        site: Site,
        /// A bounded wait (`try_lock_for`): it cannot hang, so it makes no wait-for edge.
        timed: bool,
    },
    /// Waiting on a condvar, with `mutex` released for the wait.
    CondWait {
        /// The condvar.
        condvar: LockId,
        /// The mutex it will re-acquire.
        mutex: LockId,
        /// When the wait began.
        since: Nanos,
        /// Where the wait was called.
        site: Site,
        /// A bounded wait (`wait_for`): it ends by itself, so it never stalls.
        timed: bool,
    },
    /// Blocked on another thread rather than a lock: joining it.
    Blocked {
        /// What it waits for.
        on: Blocker,
        /// When the wait began.
        since: Nanos,
        /// Where it waits.
        site: Site,
        /// A bounded wait: it ends by itself, so it makes no wait-for edge.
        timed: bool,
    },
    /// Returned normally.
    Finished,
    /// Panicked.
    Panicked {
        /// The panic message, when it was a string (untrusted text).
        message: String,
    },
}

impl ThreadStatus {
    /// Whether the thread has ended (finished or panicked).
    pub fn is_done(&self) -> bool {
        matches!(self, ThreadStatus::Finished | ThreadStatus::Panicked { .. })
    }

    /// A short lower-case name: `running`, `waiting`, `cond_wait`, `join`,
    /// `finished`, `panicked`.
    pub fn name(&self) -> &'static str {
        match self {
            ThreadStatus::Running => "running",
            ThreadStatus::Waiting { .. } => "waiting",
            ThreadStatus::CondWait { .. } => "cond_wait",
            ThreadStatus::Blocked { on, .. } => on.name(),
            ThreadStatus::Finished => "finished",
            ThreadStatus::Panicked { .. } => "panicked",
        }
    }
}

/// A lock a thread holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// The lock.
    pub lock: LockId,
    /// Shared or exclusive.
    pub mode: Mode,
    /// When it was acquired.
    pub since: Nanos,
    /// Where it was acquired.
    pub site: Site,
    /// Taken by a `try_*` call: no lock-order edge leads into it, so the
    /// order of the locks held before it is not chained through it.
    pub tried: bool,
}

/// A thread holding a lock, as the lock sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The holding thread.
    pub thread: ThreadId,
    /// Shared or exclusive.
    pub mode: Mode,
    /// When it was acquired.
    pub since: Nanos,
    /// Where it was acquired.
    pub site: Site,
}

/// A thread queued for a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    /// The waiting thread.
    pub thread: ThreadId,
    /// Shared or exclusive.
    pub mode: Mode,
    /// When it started to wait.
    pub since: Nanos,
    /// Where it requested the lock.
    pub site: Site,
    /// Whether the wait is bounded.
    pub timed: bool,
}

/// One thread.
#[derive(Clone, Debug)]
pub struct ThreadState {
    /// Its id (also its index in [`Model::threads`](super::Model::threads)).
    pub id: ThreadId,
    /// Display name (untrusted text: [`sanitize`](super::sanitize) before printing).
    pub name: String,
    /// Whether its `ThreadStart` was seen (otherwise the name is a placeholder).
    pub known: bool,
    /// What it is doing.
    pub status: ThreadStatus,
    /// Locks it holds, in acquisition order.
    pub held: Vec<Held>,
    /// Counters and accumulated times.
    pub stats: ThreadStats,
    /// When it was first seen.
    pub started_at: Nanos,
    /// When it finished or panicked.
    pub ended_at: Option<Nanos>,
    /// Start of the current stretch holding at least one lock.
    pub(super) holding_since: Option<Nanos>,
    /// Some of its events were dropped (the collector stopped moving): what
    /// it holds may be stale, so no deadlock or lock order is concluded from
    /// it for the rest of the session.
    pub lost_events: bool,
}

/// A thread's time split by activity, up to some instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadTimes {
    /// From first sight to the end (or to `now`).
    pub alive: Nanos,
    /// `alive` minus both kinds of waiting.
    pub running: Nanos,
    /// Blocked on locks or on other threads (joins).
    pub waiting: Nanos,
    /// Blocked on condvars.
    pub cond_waiting: Nanos,
    /// Holding at least one lock.
    pub holding: Nanos,
}

impl ThreadState {
    pub(super) fn placeholder(id: ThreadId, time: Nanos) -> Self {
        ThreadState {
            id,
            name: format!("thread#{}", id.0),
            known: false,
            status: ThreadStatus::Running,
            held: Vec::new(),
            stats: ThreadStats::default(),
            started_at: time,
            ended_at: None,
            holding_since: None,
            lost_events: false,
        }
    }

    /// Its time split by activity up to `now` (or up to its end, if earlier),
    /// counting the stretch in progress.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::event::{Event, EventKind, ThreadId};
    /// use lockscope::model::Model;
    ///
    /// let mut model = Model::new();
    /// let start = EventKind::ThreadStart { name: "main".into() };
    /// model.apply(&Event { time: 100, thread: ThreadId(0), kind: start });
    /// let times = model.threads()[0].times(350);
    /// assert_eq!((times.alive, times.running), (250, 250));
    /// ```
    pub fn times(&self, now: Nanos) -> ThreadTimes {
        let now = self.ended_at.map_or(now, |end| end.min(now));
        let mut t = ThreadTimes {
            alive: now.saturating_sub(self.started_at),
            running: 0,
            waiting: self.stats.waiting,
            cond_waiting: self.stats.cond_waiting,
            holding: self.stats.holding,
        };
        match self.status {
            ThreadStatus::Waiting { since, .. } | ThreadStatus::Blocked { since, .. } => {
                t.waiting = t.waiting.saturating_add(now.saturating_sub(since));
            }
            ThreadStatus::CondWait { since, .. } => {
                t.cond_waiting = t.cond_waiting.saturating_add(now.saturating_sub(since));
            }
            _ => {}
        }
        if let Some(since) = self.holding_since {
            t.holding = t.holding.saturating_add(now.saturating_sub(since));
        }
        t.running = t
            .alive
            .saturating_sub(t.waiting)
            .saturating_sub(t.cond_waiting);
        t
    }
}

/// One lock, rwlock or condvar.
#[derive(Clone, Debug)]
pub struct LockState {
    /// Its id (also its index in [`Model::locks`](super::Model::locks)).
    pub id: LockId,
    /// Display name (untrusted text: [`sanitize`](super::sanitize) before printing).
    pub name: String,
    /// Whether its `LockCreated` was seen (otherwise name, kind and site are guesses).
    pub known: bool,
    /// Mutex, RwLock or Condvar.
    pub kind: LockKind,
    /// Where it was created.
    pub site: Site,
    /// Threads holding it (several only for shared holders of an RwLock).
    pub holders: Vec<Holder>,
    /// Threads blocked acquiring it, first come first.
    pub waiters: VecDeque<Waiter>,
    /// For a condvar: threads waiting on it, first come first.
    pub cond_waiters: Vec<ThreadId>,
    /// For a channel: how many of its senders each thread owns (a count can
    /// dip below zero while events of different threads arrive out of
    /// order; only a positive count is ownership).
    pub senders: Vec<(ThreadId, i32)>,
    /// For a channel: how many of its receivers each thread owns.
    pub receivers: Vec<(ThreadId, i32)>,
    /// For a barrier: the threads waiting at it in this generation.
    pub arrived: Vec<ThreadId>,
    /// For a barrier: the threads that passed it in its last generation
    /// (empty before it first trips): who is expected to arrive again.
    pub participants: Vec<ThreadId>,
    /// Counters and accumulated times.
    pub stats: LockStats,
}

impl LockState {
    /// The owners of a channel's `end`: (thread, handles owned).
    pub fn owners(&self, end: End) -> &[(ThreadId, i32)] {
        match end {
            End::Sender => &self.senders,
            End::Receiver => &self.receivers,
        }
    }

    /// Adds `delta` to `thread`'s count of `end` handles.
    pub(super) fn own(&mut self, end: End, thread: ThreadId, delta: i32) {
        let owners = match end {
            End::Sender => &mut self.senders,
            End::Receiver => &mut self.receivers,
        };
        match owners.iter_mut().find(|(t, _)| *t == thread) {
            Some((_, n)) => *n = n.saturating_add(delta),
            None => owners.push((thread, delta)),
        }
        owners.retain(|&(_, n)| n != 0);
    }

    pub(super) fn placeholder(id: LockId) -> Self {
        LockState {
            id,
            name: format!("lock#{}", id.0),
            known: false,
            kind: LockKind::Mutex,
            site: Site::UNKNOWN,
            holders: Vec::new(),
            waiters: VecDeque::new(),
            cond_waiters: Vec::new(),
            senders: Vec::new(),
            receivers: Vec::new(),
            arrived: Vec::new(),
            participants: Vec::new(),
            stats: LockStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread() -> ThreadState {
        ThreadState::placeholder(ThreadId(3), 100)
    }

    #[test]
    fn placeholders_are_named_by_id() {
        assert_eq!(thread().name, "thread#3");
        assert_eq!(LockState::placeholder(LockId(7)).name, "lock#7");
    }

    #[test]
    fn times_count_the_stretch_in_progress() {
        let mut t = thread();
        t.stats.waiting = 10;
        t.stats.cond_waiting = 20;
        t.stats.holding = 5;
        t.holding_since = Some(400);
        t.status = ThreadStatus::Waiting {
            lock: LockId(0),
            mode: Mode::Exclusive,
            since: 450,
            site: Site::UNKNOWN,
            timed: false,
        };
        let times = t.times(500);
        assert_eq!(
            times,
            ThreadTimes {
                alive: 400,
                running: 400 - 60 - 20,
                waiting: 60,
                cond_waiting: 20,
                holding: 105,
            }
        );
    }

    #[test]
    fn times_stop_at_the_end() {
        let mut t = thread();
        t.status = ThreadStatus::Finished;
        t.ended_at = Some(300);
        assert_eq!(t.times(1_000).alive, 200);
        assert_eq!(t.times(50).alive, 0);
    }
}
