//! Explore: a systematic search of a scenario's interleavings for a deadlock,
//! a stuck run, or a broken `[expect]`. See [`explore`].

use std::time::{Duration, Instant};

use super::Scenario;
use super::schedule::Schedule;

mod probe;
mod report;
mod search;

#[cfg(test)]
mod tests;

pub use report::format_report;

use search::{End, Search};

/// The depth-first probe for failed expectations looks at most at this many states.
const PROBE_STATES: u64 = 200_000;

/// Limits and goals of a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    /// Stop after this many schedules (default 10,000,000). A schedule is one
    /// path of the search tree ending either in a terminal state (finished,
    /// deadlocked or stuck) or in a state already explored, where it joins a
    /// schedule counted before: without a visited set, this would count every
    /// complete interleaving.
    pub max_schedules: u64,
    /// Stop after this many distinct states (default 2,000,000, a few seconds).
    /// This bounds memory: about 40 bytes per state, levels included (280 MB
    /// for the 7 million states of `lost-update`).
    pub max_states: usize,
    /// Report only deadlocks whose cycle involves at least these locks (by
    /// name), and nothing else: turns a potential deadlock (a lock-order cycle)
    /// into a schedule that makes it real, if one exists.
    pub target_locks: Option<Vec<String>>,
    /// Also report a finished run whose `[expect]` entries do not hold.
    pub check_expectations: bool,
    /// Use the partial-order and symmetry reductions (default on): the same
    /// findings in fewer states.
    pub reduce: bool,
    /// Stop after this long (default: no limit): [`Bound::Time`].
    pub timeout: Option<Duration>,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            max_schedules: 10_000_000,
            max_states: 2_000_000,
            target_locks: None,
            check_expectations: true,
            reduce: true,
            timeout: None,
        }
    }
}

/// How far a search has come, for progress displays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Distinct states found.
    pub states: u64,
    /// Schedules explored (see [`ExploreOptions::max_schedules`]).
    pub schedules: u64,
    /// The depth (steps from the start) of the latest state.
    pub depth: usize,
    /// Time since the search started.
    pub elapsed: Duration,
}

/// Which bound stopped a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// [`ExploreOptions::max_states`].
    States,
    /// [`ExploreOptions::max_schedules`].
    Schedules,
    /// [`ExploreOptions::timeout`].
    Time,
}

/// What a search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A wait-for cycle. `cycle[i]` is `(thread, lock it waits for)`, as
    /// [`SimStatus::Deadlock`](super::SimStatus::Deadlock).
    Deadlock {
        /// The steps that close the cycle, ending with the blocking requests.
        schedule: Schedule,
        /// The cycle.
        cycle: Vec<(usize, usize)>,
    },
    /// Every thread finished, but an `[expect]` entry does not hold.
    ExpectationViolated {
        /// The complete run.
        schedule: Schedule,
        /// The variable.
        var: String,
        /// What `[expect]` says.
        expected: i64,
        /// What the run ends with.
        actual: i64,
        /// An `add` went past the 64-bit range on the way to `actual`
        /// (which then wrapped around).
        overflowed: bool,
    },
    /// No thread can move, and no wait-for cycle explains it.
    Stuck {
        /// The steps that get there.
        schedule: Schedule,
        /// The threads that have not finished.
        blocked: Vec<usize>,
    },
    /// Every reachable state was explored: none of the above exists.
    Exhausted,
    /// A bound stopped the search before it was complete: nothing found so far.
    BoundReached {
        /// Which one.
        bound: Bound,
    },
}

/// The result of [`explore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreReport {
    /// What was found.
    pub outcome: Found,
    /// Schedules explored (see [`ExploreOptions::max_schedules`]).
    pub schedules: u64,
    /// Distinct states explored.
    pub states: u64,
    /// The deepest level (steps from the start) reached.
    pub depth: usize,
    /// Wall time of the search.
    pub elapsed: Duration,
    /// Whether every reachable state was explored, so that no deadlock (and,
    /// for [`Found::Exhausted`], nothing else) exists outside what is reported.
    /// False when a bound stopped the search, or when it stopped at a deadlock.
    pub complete: bool,
    /// The bound that stopped the search, if one did.
    pub bound: Option<Bound>,
    /// A global order in which every thread takes its locks, when there is
    /// one (see [`Sim::lock_order`](crate::scenario::Sim::lock_order)): then no deadlock can exist, even where a
    /// bound stopped the search.
    pub lock_order: Option<Vec<usize>>,
    /// The options searched with.
    pub options: ExploreOptions,
}

/// Searches the interleavings of `scenario`, at lock-operation granularity, for
/// a deadlock, a stuck run or (if asked) a failed expectation. Deterministic:
/// the same scenario and options give the same report (but for `elapsed`).
/// `progress` is called every 100,000 states.
///
/// **Moves.** In each state the search may move any thread whose next
/// operation completes ([`Sim::enabled`](crate::scenario::Sim::enabled)), and a
/// writer that could queue on an rwlock held for reading (parking_lot's
/// `RwLock` is fair: a queued writer blocks new readers, which no completed
/// step shows). A state without moves is terminal.
///
/// **Search.** Breadth-first, with a visited set of 128-bit state
/// fingerprints so each state is expanded once. Each step advances one
/// thread, so every schedule reaching a state has the same length, and
/// breadth-first order meets a state at its smallest depth. Levels are kept as
/// compact state encodings; each state keeps only its parent and the thread
/// that moved, from which schedules are rebuilt. A state with a single move is
/// followed at once instead of waiting in a level (it is still deduplicated
/// and checked). Memory is bounded by [`ExploreOptions::max_states`].
///
/// **Reductions** (with [`ExploreOptions::reduce`], the default), each of which
/// keeps every terminal state (every deadlock, stuck run and final variable
/// values) reachable:
/// - *partial-order reduction*: in each state only a persistent set of moves is
///   explored, computed as a stubborn set with lock-aware independence (two
///   steps of different threads commute unless they touch the same lock,
///   condvar or variable in a conflicting way, and a thread's later step cannot
///   happen before the set moves if it needs a lock a thread of the set holds);
/// - *symmetry*: threads with the same program (copies made by `count = N`) are
///   interchangeable, so states that differ only by which copy is where are
///   explored once;
/// - registers that will be overwritten before being stored, and finished
///   threads' leftovers, do not split states.
///
/// **Findings.** A wait-for cycle among threads that cannot move is a deadlock
/// for good, so it is reported as soon as it closes, even while other threads
/// could still move; the search stops at the shallowest one. Its schedule is
/// trimmed of steps the cycle does not need (the reduction can add some), and
/// ends with the cycle's threads asking for their locks (steps that block),
/// so that replaying it on real threads closes the cycle. In a terminal state,
/// threads that cannot move without a cycle are *stuck* (a condvar wait nobody
/// will notify). A failed `[expect]` is looked for first by a short
/// depth-first probe (every complete run has the same length, so breadth-first
/// order would only reach one after every other state). The first stuck run or
/// failed expectation is kept while the search goes on looking for deadlocks;
/// [`ExploreReport::complete`] says whether it finished.
///
/// `progress` is called about four times a second while the search runs.
///
/// # Errors
///
/// [`ExploreOptions::target_locks`] names a lock the scenario does not
/// declare (a typo would otherwise read as "no deadlock involving it").
///
/// # Examples
///
/// ```
/// use lockscope::scenario::{ExploreOptions, Found, Scenario, explore, validate};
///
/// let scenario = Scenario::load("abba")?;
/// let report = explore(&scenario, &ExploreOptions::default(), &mut |_| {})?;
/// let Found::Deadlock { schedule, cycle } = &report.outcome else { panic!() };
/// assert_eq!(cycle.len(), 2);
/// assert_eq!(validate(schedule, &scenario)?, vec![0, 1, 0, 1]);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn explore(
    scenario: &Scenario,
    options: &ExploreOptions,
    progress: &mut dyn FnMut(&Progress),
) -> anyhow::Result<ExploreReport> {
    let started = Instant::now();
    let mut search = Search::new(scenario, options, progress)?;
    search.probe_expectations(PROBE_STATES.min(options.max_states as u64));
    let end = search.run();
    let (outcome, complete, bound) = match end {
        End::Deadlock(found) => (found, false, None),
        End::Exhausted => (search.kept.take().unwrap_or(Found::Exhausted), true, None),
        End::Bound(bound) => {
            let found = search.kept.take().unwrap_or(Found::BoundReached { bound });
            (found, false, Some(bound))
        }
    };
    Ok(ExploreReport {
        outcome,
        schedules: search.schedules,
        states: search.states,
        depth: search.depth,
        elapsed: started.elapsed(),
        complete,
        bound,
        lock_order: search.root.lock_order(),
        options: options.clone(),
    })
}
