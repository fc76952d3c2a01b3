//! `lockscope::Barrier`: [`std::sync::Barrier`]'s API, whose waits are
//! waits in the wait-for graph.
//!
//! **Who a waiter waits for**: the threads that passed the barrier the last
//! time it opened and have not arrived yet. The wait needs `n - arrived`
//! more threads; lockscope draws an edge to each of those only when every
//! one is needed (no more of them than missing arrivals), so a cycle through
//! the barrier is a certain deadlock: a thread holding a lock that the last
//! participant needs before it can arrive. Limits: before the barrier first
//! opens its participants are unknown (a thread not seen yet may be one), so
//! a first-round wait makes no edge and a hang there shows as a stall; a
//! barrier whose participants change from round to round is judged by the
//! last round's.

use std::borrow::Cow;
use std::fmt;

use super::meta::LockMeta;
use super::sink;
use super::state;
use crate::event::{Blocker, EventKind, LockKind, Site};

/// Lets `n` threads wait for each other, like [`std::sync::Barrier`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// let barrier = Arc::new(lockscope::Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let b = Arc::clone(&barrier);
///         lockscope::thread::spawn(move || b.wait().is_leader())
///     })
///     .collect();
/// let leaders = handles
///     .into_iter()
///     .map(|h| h.join().unwrap())
///     .filter(|&leader| leader)
///     .count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    meta: LockMeta,
    parties: usize,
    state: parking_lot::Mutex<Round>,
    opened: parking_lot::Condvar,
}

/// How far the current generation is.
#[derive(Debug, Default)]
struct Round {
    arrived: usize,
    generation: u64,
}

/// What [`Barrier::wait`] returns, like [`std::sync::BarrierWaitResult`].
#[derive(Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this thread was the last to arrive (exactly one per opening).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` threads, named after the place it is created.
    /// `0` behaves as `1`: every wait returns at once, as the leader.
    #[track_caller]
    pub fn new(n: usize) -> Barrier {
        Barrier::with(None, n, Site::caller())
    }

    /// A barrier for `n` threads with a name for reports and the viewer.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = lockscope::Barrier::named("start line", 1);
    /// assert!(b.wait().is_leader());
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, n: usize) -> Barrier {
        Barrier::with(Some(name.into()), n, Site::caller())
    }

    fn with(name: Option<Cow<'static, str>>, n: usize, site: Site) -> Barrier {
        Barrier {
            meta: LockMeta::new(LockKind::Barrier, name, site),
            parties: n,
            state: parking_lot::Mutex::new(Round::default()),
            opened: parking_lot::Condvar::new(),
        }
    }

    /// Blocks until `n` threads have called `wait`, like
    /// [`std::sync::Barrier::wait`]; then they all go on, and the barrier
    /// can be used again.
    ///
    /// Events are recorded under the barrier's own lock, numbered by the
    /// barrier's sequence, so the model sees arrivals and the opening in
    /// the order they happened.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let site = Site::caller();
        let st = state::load();
        let mut round = self.state.lock();
        let id = if st.active() { self.meta.id(st) } else { None };
        let parties = u32::try_from(self.parties).unwrap_or(u32::MAX);
        if round.arrived + 1 < self.parties {
            round.arrived += 1;
            let generation = round.generation;
            let on = id.map(|barrier| Blocker::Barrier { barrier, parties });
            if let Some(on) = on {
                let seq = self.meta.next_seq_exclusive();
                let kind = EventKind::Block {
                    on,
                    site,
                    timed: false,
                    seq,
                };
                sink::emit_and_ship(st, kind);
            }
            while round.generation == generation {
                self.opened.wait(&mut round);
            }
            if let Some(on) = on {
                let seq = self.meta.next_seq_exclusive();
                sink::emit(st, EventKind::Unblock { on, seq });
            }
            BarrierWaitResult(false)
        } else {
            round.arrived = 0;
            round.generation = round.generation.wrapping_add(1);
            if let Some(barrier) = id {
                let seq = self.meta.next_seq_exclusive();
                sink::emit(st, EventKind::BarrierTrip { barrier, seq });
            }
            drop(round);
            self.opened.notify_all();
            BarrierWaitResult(true)
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.meta.name())
            .field("parties", &self.parties)
            .finish_non_exhaustive()
    }
}
