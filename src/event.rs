//! The shared vocabulary: every lock operation becomes an [`Event`].
//!
//! Probes produce events, the model consumes them, traces store them. Nothing in
//! here knows about threads, channels, clocks or terminals.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// Nanoseconds since the session's start, from one monotonic clock.
pub type Nanos = u64;

/// A thread as lockscope numbers it: dense, starting at 0, in order of first sight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ThreadId(pub u32);

/// A lock or condvar as lockscope numbers it: dense, starting at 0, in order of first sight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LockId(pub u32);

impl ThreadId {
    /// The id as an index into dense per-thread tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl LockId {
    /// No lock: the lock field of a wait that is not for a lock (a join).
    pub const NONE: LockId = LockId(u32::MAX);

    /// The id as an index into dense per-lock tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What kind of synchronisation object a [`LockId`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockKind {
    /// An exclusive lock.
    Mutex,
    /// A reader-writer lock.
    RwLock,
    /// A condition variable (never held; threads wait on it).
    Condvar,
    /// A channel (`lockscope::channel`): never held; threads wait on it for
    /// a message or for room, and own its senders and receivers.
    Channel,
    /// A barrier (`lockscope::Barrier`): never held; threads wait at it for
    /// the others to arrive.
    Barrier,
}

impl fmt::Display for LockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LockKind::Mutex => "mutex",
            LockKind::RwLock => "rwlock",
            LockKind::Condvar => "condvar",
            LockKind::Channel => "channel",
            LockKind::Barrier => "barrier",
        })
    }
}

/// How a lock is requested or held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `Mutex::lock` or `RwLock::write`.
    Exclusive,
    /// `RwLock::read`.
    Shared,
    /// `RwLock::upgradable_read`: shares the lock with readers, excludes
    /// writers and other upgradable readers, and may become a write lock.
    Upgradable,
}

impl Mode {
    /// Whether a holder in mode `self` and a request in mode `other` exclude each other.
    pub fn conflicts_with(self, other: Mode) -> bool {
        !matches!(
            (self, other),
            (Mode::Shared, Mode::Shared | Mode::Upgradable) | (Mode::Upgradable, Mode::Shared)
        )
    }
}

/// A source location: where a lock was created, taken or waited for.
///
/// `Copy` and pointer-sized parts so that every event can carry one for free.
/// Files that are not Rust sources (scenario files, trace files) are interned
/// once with [`Site::intern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// The file, as the compiler or the scenario loader names it.
    pub file: &'static str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Site {
    /// A site with no known location.
    pub const UNKNOWN: Site = Site {
        file: "?",
        line: 0,
        column: 0,
    };

    /// The location of the caller of a `#[track_caller]` function.
    #[track_caller]
    pub const fn caller() -> Site {
        let loc = std::panic::Location::caller();
        Site {
            file: loc.file(),
            line: loc.line(),
            column: loc.column(),
        }
    }

    /// A site in a file that is not a Rust source. The file name is interned, so
    /// each distinct name is stored once for the life of the process.
    pub fn intern(file: &str, line: u32, column: u32) -> Site {
        Site {
            file: intern(file),
            line,
            column,
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Serialize for Site {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Interns a string for the life of the process. Each distinct string leaks once:
/// the set of file names a process sees is small and bounded by its inputs.
pub fn intern(s: &str) -> &'static str {
    static TABLE: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut table = TABLE.get_or_init(Default::default).lock();
    if let Some(found) = table.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    table.insert(leaked);
    leaked
}

/// What a thread blocks on when it waits for other threads rather than a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blocker {
    /// `JoinHandle::join`: it waits for that thread to end.
    Join(ThreadId),
    /// `Receiver::recv` on an empty channel: it waits for a message from the
    /// threads owning the channel's senders.
    Recv(LockId),
    /// `Sender::send` on a full bounded channel: it waits for room, made by
    /// the threads owning the channel's receivers.
    Send(LockId),
    /// `Barrier::wait`: it waits for the other participants to arrive.
    Barrier {
        /// The barrier.
        barrier: LockId,
        /// How many threads the barrier lets through at once.
        parties: u32,
    },
}

impl Blocker {
    /// A short lower-case name, as used in logs and exports: `join`, `recv`,
    /// `send`.
    pub fn name(self) -> &'static str {
        match self {
            Blocker::Join(_) => "join",
            Blocker::Recv(_) => "recv",
            Blocker::Send(_) => "send",
            Blocker::Barrier { .. } => "barrier",
        }
    }

    /// The lock-like object waited on (a channel or a barrier), if any: its
    /// sequence numbers order the waits.
    pub fn object(self) -> Option<LockId> {
        match self {
            Blocker::Join(_) => None,
            Blocker::Recv(c) | Blocker::Send(c) => Some(c),
            Blocker::Barrier { barrier, .. } => Some(barrier),
        }
    }

    /// The channel waited on, if any.
    pub fn channel(self) -> Option<LockId> {
        match self {
            Blocker::Recv(c) | Blocker::Send(c) => Some(c),
            Blocker::Join(_) | Blocker::Barrier { .. } => None,
        }
    }
}

/// One end of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    /// A `Sender`.
    Sender,
    /// A `Receiver`.
    Receiver,
}

/// One thing that happened on one thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When, in nanoseconds since the session started.
    pub time: Nanos,
    /// Which thread did it.
    pub thread: ThreadId,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] records.
///
/// Events that change who holds a lock carry `seq`, the lock's own sequence
/// number taken inside its critical section: it orders the events of one lock
/// causally even when the threads' batches reach the collector out of order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A thread became known. `name` is its `std::thread` name or a fallback.
    ThreadStart {
        /// Display name (untrusted text).
        name: String,
    },
    /// A thread returned normally.
    ThreadExit,
    /// A thread panicked; its locks are released by unwinding.
    ThreadPanic {
        /// The panic payload, when it was a string.
        message: String,
    },
    /// A lock or condvar became known.
    LockCreated {
        /// Its id.
        lock: LockId,
        /// Display name (untrusted text).
        name: String,
        /// Mutex, RwLock or Condvar.
        kind: LockKind,
        /// Where it was constructed (or first used).
        site: Site,
        /// The sequence number its next holder-changing event will carry.
        first_seq: u64,
    },
    /// The thread asked for a lock that was not free and is about to block.
    Request {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
        /// Where the request was made.
        site: Site,
        /// Whether the wait is bounded (`try_lock_for`): it cannot hang forever.
        timed: bool,
        /// The lock's request number (0, 1, 2… per lock and session), taken
        /// when the request is made: it puts the requests of one lock back in
        /// the order they queued, whatever order the threads' batches arrive
        /// in. Transport only: a trace, already in order, stores none (reads
        /// back 0).
        ticket: u64,
    },
    /// The thread now holds the lock.
    Acquired {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
        /// Where it was taken.
        site: Site,
        /// Per-lock sequence number.
        seq: u64,
        /// Taken by a `try_*` call, which cannot block: like lockdep, the
        /// lock-order graph gets no edge into this lock.
        tried: bool,
    },
    /// The thread lets go of the lock (recorded just before it does).
    Released {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
        /// Per-lock sequence number.
        seq: u64,
    },
    /// A `try_*` call found the lock taken and returned without it.
    TryFailed {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
        /// Where the attempt was made.
        site: Site,
    },
    /// A bounded request (`try_lock_for`) gave up.
    TimedOut {
        /// The lock.
        lock: LockId,
        /// Shared or exclusive.
        mode: Mode,
    },
    /// The thread waits on a condvar, releasing `mutex` (recorded before it does).
    CondWait {
        /// The condvar.
        condvar: LockId,
        /// The mutex released for the wait.
        mutex: LockId,
        /// Where the wait was called.
        site: Site,
        /// Sequence number of the mutex's release.
        seq: u64,
        /// Whether the wait is bounded (`wait_for`).
        timed: bool,
    },
    /// The thread returned from a condvar wait holding `mutex` again.
    CondWake {
        /// The condvar.
        condvar: LockId,
        /// The mutex re-acquired.
        mutex: LockId,
        /// Sequence number of the mutex's re-acquisition.
        seq: u64,
        /// Whether the wait ended by its timeout rather than a notification.
        timed_out: bool,
    },
    /// The thread notified a condvar.
    Notify {
        /// The condvar.
        condvar: LockId,
        /// `notify_all` rather than `notify_one`.
        all: bool,
        /// How many waiting threads were woken.
        woken: u32,
        /// Where the notification was sent.
        site: Site,
    },
    /// The thread is about to block on something other than a lock: a join.
    Block {
        /// What it waits for.
        on: Blocker,
        /// Where it waits.
        site: Site,
        /// Whether the wait is bounded: it cannot hang, so it makes no wait-for edge.
        timed: bool,
        /// For a channel or barrier wait, its sequence number: it orders the
        /// waits and wake-ups of one channel or barrier across threads. 0
        /// for a join.
        seq: u64,
    },
    /// The thread's [`Block`](EventKind::Block) wait ended (or gave up).
    Unblock {
        /// What it waited for.
        on: Blocker,
        /// As for [`Block`](EventKind::Block).
        seq: u64,
    },
    /// A channel operation that went through while threads were blocked on
    /// the other side: a send (`end` is `Sender`) wakes the blocked
    /// receivers, a receive (`Receiver`) wakes the blocked senders.
    ChannelWake {
        /// The channel.
        channel: LockId,
        /// The end that made progress.
        end: End,
        /// The channel's sequence number.
        seq: u64,
    },
    /// The last participant arrived at a barrier (this thread, its leader):
    /// every waiter goes on.
    BarrierTrip {
        /// The barrier.
        barrier: LockId,
        /// The barrier's sequence number.
        seq: u64,
    },
    /// A channel handle changed owner: first used (`from` none), used by
    /// another thread than its owner (both set), or dropped (`to` none). The
    /// owner is the thread that last used it.
    Handle {
        /// The channel.
        channel: LockId,
        /// A sender or a receiver.
        end: End,
        /// Its owner before.
        from: Option<ThreadId>,
        /// Its owner after.
        to: Option<ThreadId>,
    },
}

impl EventKind {
    /// The lock whose holders this event changes (or the channel whose waits
    /// it starts or ends), with its sequence number.
    pub fn sequenced(&self) -> Option<(LockId, u64)> {
        match *self {
            EventKind::Acquired { lock, seq, .. } | EventKind::Released { lock, seq, .. } => {
                Some((lock, seq))
            }
            EventKind::CondWait { mutex, seq, .. } | EventKind::CondWake { mutex, seq, .. } => {
                Some((mutex, seq))
            }
            EventKind::Block { on, seq, .. } | EventKind::Unblock { on, seq } => {
                on.object().map(|c| (c, seq))
            }
            EventKind::ChannelWake { channel, seq, .. } => Some((channel, seq)),
            EventKind::BarrierTrip { barrier, seq } => Some((barrier, seq)),
            _ => None,
        }
    }

    /// The lock whose queue this request joins, with its request number.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::event::{EventKind, LockId, Mode, Site};
    /// let request = EventKind::Request { lock: LockId(3), mode: Mode::Shared, site: Site::UNKNOWN, timed: false, ticket: 7 };
    /// assert_eq!(request.ticketed(), Some((LockId(3), 7)));
    /// assert_eq!(EventKind::ThreadExit.ticketed(), None);
    /// ```
    pub fn ticketed(&self) -> Option<(LockId, u64)> {
        match *self {
            EventKind::Request { lock, ticket, .. } => Some((lock, ticket)),
            _ => None,
        }
    }

    /// A short lower-case name for the kind, as used in logs and exports.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::ThreadStart { .. } => "thread_start",
            EventKind::ThreadExit => "thread_exit",
            EventKind::ThreadPanic { .. } => "thread_panic",
            EventKind::LockCreated { .. } => "lock_created",
            EventKind::Request { .. } => "request",
            EventKind::Acquired { .. } => "acquired",
            EventKind::Released { .. } => "released",
            EventKind::TryFailed { .. } => "try_failed",
            EventKind::TimedOut { .. } => "timed_out",
            EventKind::CondWait { .. } => "cond_wait",
            EventKind::CondWake { .. } => "cond_wake",
            EventKind::Notify { .. } => "notify",
            EventKind::Block { .. } => "block",
            EventKind::Unblock { .. } => "unblock",
            EventKind::Handle { .. } => "handle",
            EventKind::ChannelWake { .. } => "channel_wake",
            EventKind::BarrierTrip { .. } => "barrier_trip",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_requests_only_conflict_with_exclusive_holders() {
        assert!(!Mode::Shared.conflicts_with(Mode::Shared));
        assert!(Mode::Shared.conflicts_with(Mode::Exclusive));
        assert!(Mode::Exclusive.conflicts_with(Mode::Shared));
        assert!(Mode::Exclusive.conflicts_with(Mode::Exclusive));
    }

    #[test]
    fn an_upgradable_read_shares_with_readers_only() {
        assert!(!Mode::Upgradable.conflicts_with(Mode::Shared));
        assert!(!Mode::Shared.conflicts_with(Mode::Upgradable));
        assert!(Mode::Upgradable.conflicts_with(Mode::Upgradable));
        assert!(Mode::Upgradable.conflicts_with(Mode::Exclusive));
        assert!(Mode::Exclusive.conflicts_with(Mode::Upgradable));
    }

    #[test]
    fn interned_files_are_stored_once() {
        let a = Site::intern("x.toml", 1, 1);
        let b = Site::intern(&String::from("x.toml"), 2, 1);
        assert!(std::ptr::eq(a.file, b.file));
        assert_eq!(b.to_string(), "x.toml:2");
    }

    #[test]
    fn caller_sites_name_this_file() {
        let site = Site::caller();
        assert!(site.file.ends_with("event.rs"), "{site}");
        assert!(site.line > 0);
    }
}
