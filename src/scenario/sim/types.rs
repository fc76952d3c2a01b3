//! The simulator's public vocabulary: operations, thread states, statuses.

use std::fmt;

use crate::event::{Mode, Site};

/// An operation as the simulator performs it. Indices point into
/// [`Scenario::locks`](crate::scenario::Scenario::locks) and
/// [`Scenario::vars`](crate::scenario::Scenario::vars).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimOp {
    /// Lock a mutex.
    Lock(usize),
    /// Take an rwlock for reading.
    Read(usize),
    /// Take an rwlock for writing (also `lock L` on an rwlock).
    Write(usize),
    /// Release the thread's most recent hold of a lock.
    Unlock(usize),
    /// Release `mutex` and wait on `condvar`.
    Wait {
        /// The condvar.
        condvar: usize,
        /// The mutex released for the wait.
        mutex: usize,
    },
    /// Take `mutex` back after a wait on `condvar` was notified.
    Reacquire {
        /// The condvar that was waited on.
        condvar: usize,
        /// The mutex to take back.
        mutex: usize,
    },
    /// Wake the longest waiter of a condvar.
    Notify(usize),
    /// Wake every waiter of a condvar.
    NotifyAll(usize),
    /// Copy a shared variable into the register.
    Load(usize),
    /// Copy the register into a shared variable.
    Store(usize),
    /// Send the register on a channel.
    Send(usize),
    /// Receive from a channel into the register.
    Recv(usize),
    /// Wait for a thread (an index into the scenario's threads) to finish.
    Join(usize),
}

impl SimOp {
    /// The lock this operation acquires, and how; `None` for other operations.
    pub fn acquires(self) -> Option<(usize, Mode)> {
        match self {
            SimOp::Lock(l) | SimOp::Write(l) => Some((l, Mode::Exclusive)),
            SimOp::Reacquire { mutex, .. } => Some((mutex, Mode::Exclusive)),
            SimOp::Read(l) => Some((l, Mode::Shared)),
            _ => None,
        }
    }
}

/// What a thread would do next: see [`Sim::pending`](crate::scenario::Sim::pending).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOp {
    /// The operation.
    pub op: SimOp,
    /// The step it comes from (a `reacquire` shows its `wait`; an unlock at the
    /// end of the thread shows the thread's table).
    pub site: Site,
    /// The operation as a schedule writes it: the step's text with whitespace
    /// collapsed and the verb in lower case (`lock fork 3`), or `reacquire M`.
    pub text: String,
    /// An unlock the thread does because its steps are over.
    pub end_of_thread: bool,
}

/// Where a thread is: see [`Sim::thread_state`](crate::scenario::Sim::thread_state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Its next step completes.
    Enabled,
    /// Its next step is a request for `lock` that cannot be granted now; moving
    /// it makes it block. `holders` are the threads it would wait for.
    WouldBlock {
        /// The lock it asks for.
        lock: usize,
        /// The threads in its way (holders, or writers queued ahead of a reader).
        holders: Vec<usize>,
    },
    /// It asked for `lock` and waits for it; it cannot move.
    Blocked {
        /// The lock it waits for.
        lock: usize,
        /// The threads in its way.
        holders: Vec<usize>,
    },
    /// It waits on a condvar until notified; it cannot move.
    CondWaiting {
        /// The condvar.
        condvar: usize,
    },
    /// Its next step ([`SimOp::Send`] on a full channel, [`SimOp::Recv`] on
    /// an empty one, [`SimOp::Join`] of a running thread) cannot complete
    /// until other threads act; moving it makes it wait in it. `threads` are
    /// the threads it waits for in the wait-for graph: the joined thread, or
    /// the one live thread that owns the channel's other end (none when
    /// several could, or when it owns that end itself);
    /// [`Sim::wait_text`](crate::scenario::Sim::wait_text) says it in words.
    WouldWait {
        /// The step it would wait in.
        op: SimOp,
        /// The threads it would wait for.
        threads: Vec<usize>,
    },
    /// It waits in a send, receive or join (see [`ThreadState::WouldWait`]);
    /// it cannot move until that can complete.
    Waits {
        /// The step it waits in.
        op: SimOp,
        /// The threads it waits for.
        threads: Vec<usize>,
    },
    /// It has finished.
    Done,
}

/// What [`Sim::step`](crate::scenario::Sim::step) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moved {
    /// The operation completed.
    Completed,
    /// The thread asked for a lock it could not get and now waits for it, or
    /// entered a send, receive or join that cannot complete yet.
    Blocked,
}

/// Why a thread cannot be moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// There is no thread with this index.
    NoSuchThread(usize),
    /// The thread has finished.
    Finished(usize),
    /// The thread waits on a condvar.
    CondWaiting {
        /// The thread.
        thread: usize,
        /// The condvar.
        condvar: usize,
    },
    /// The thread waits for a lock.
    Blocked {
        /// The thread.
        thread: usize,
        /// The lock.
        lock: usize,
    },
    /// The thread is in a send, receive or join that cannot complete yet.
    Waits {
        /// The thread.
        thread: usize,
        /// What it waits for, e.g. `waits for a message on channel jobs`.
        what: String,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SimError::NoSuchThread(t) => write!(f, "no thread #{t}"),
            SimError::Finished(t) => write!(f, "thread #{t} has finished"),
            SimError::CondWaiting { thread, condvar } => {
                write!(f, "thread #{thread} waits on condvar #{condvar}")
            }
            SimError::Blocked { thread, lock } => {
                write!(f, "thread #{thread} waits for lock #{lock}")
            }
            SimError::Waits { thread, ref what } => write!(f, "thread #{thread} {what}"),
        }
    }
}

impl std::error::Error for SimError {}

/// Where the run stands: see [`Sim::status`](crate::scenario::Sim::status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimStatus {
    /// Some thread can complete a step.
    Running,
    /// Every thread has finished.
    Finished,
    /// No thread can complete a step, and blocked threads wait for each other:
    /// `cycle[i]` is `(thread, lock it waits for)`, held by the next thread of the
    /// cycle, rotated to start at the smallest thread index.
    Deadlock {
        /// The wait-for cycle.
        cycle: Vec<(usize, usize)>,
    },
    /// No thread can complete a step, and no cycle explains it (a condvar wait
    /// nobody will notify, and the threads waiting behind it).
    Stuck {
        /// Every thread that has not finished.
        blocked: Vec<usize>,
    },
}

/// A hashable fingerprint of a simulator state: equal states give equal keys;
/// different states give different keys except with probability about 2⁻¹²⁸
/// per pair. See [`Sim::key`](crate::scenario::Sim::key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey(pub u128);
