//! The breadth-first search itself: levels of compact states by depth, the
//! visited set, findings, and rebuilding schedules from parent links.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use super::{Bound, ExploreOptions, Found, Progress};
use crate::scenario::Scenario;
use crate::scenario::pos::{Plain, Quoted, name_list};
use crate::scenario::schedule::Schedule;
use crate::scenario::sim::{Sim, ThreadState, fingerprint};
use crate::scenario::steps::normalize;

/// The clock is read every this many new states (a state costs 1-100 µs).
const CLOCK_EVERY: u64 = 256;

/// Progress is reported at most this often.
const PROGRESS_PERIOD: Duration = Duration::from_millis(250);

/// Schedules longer than this are not trimmed (trimming is quadratic).
const TRIM_MAX: usize = 1_000;

/// Trimming drops at most this many steps of one thread at a time.
const TRIM_RUN: usize = 8;

/// Fingerprints are already uniformly random: hash them by truncation.
#[derive(Default)]
pub(super) struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, x: u128) {
        self.0 = (x as u64) ^ ((x >> 64) as u64);
    }
}

/// One depth's states, waiting to be expanded: each state's encoding and the
/// moves to explore from it, end to end, with the state's id.
#[derive(Default)]
struct Level {
    bytes: Vec<u8>,
    moves: Vec<u32>,
    /// (start in `bytes`, start in `moves`, id)
    states: Vec<(usize, usize, u32)>,
}

impl Level {
    fn push(&mut self, sim: &Sim, moves: &[usize], id: u32, buf: &mut Vec<u8>) {
        self.states.push((self.bytes.len(), self.moves.len(), id));
        buf.clear();
        sim.encode(buf);
        self.bytes.extend_from_slice(buf);
        self.moves
            .extend(moves.iter().map(|&t| u32::try_from(t).unwrap_or(u32::MAX)));
    }

    /// The `i`th state and its moves.
    fn get(&self, i: usize, root: &Sim) -> Option<(Sim, Vec<usize>)> {
        let (bytes, moves, _) = *self.states.get(i)?;
        let (bytes_end, moves_end) = self
            .states
            .get(i + 1)
            .map_or((self.bytes.len(), self.moves.len()), |&(b, m, _)| (b, m));
        let sim = root.decode(self.bytes.get(bytes..bytes_end)?)?;
        let moves = self.moves.get(moves..moves_end)?;
        Some((sim, moves.iter().map(|&t| t as usize).collect()))
    }
}

/// What a new state is, for the search.
enum Verdict {
    Expand,
    Terminal,
    Deadlock(Vec<(usize, usize)>),
}

/// Why the search ended.
pub(super) enum End {
    Deadlock(Found),
    Exhausted,
    Bound(Bound),
}

pub(super) struct Search<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) options: &'a ExploreOptions,
    progress: &'a mut dyn FnMut(&Progress),
    started: Instant,
    next_progress: Instant,
    deadline: Option<Instant>,
    /// The timeout passed: every loop winds down.
    pub(super) timed_out: bool,
    pub(super) root: Sim,
    /// Explore persistent sets only: the reduction's independence covers
    /// locks, condvars and variables, not channels and joins (whose steps
    /// are enabled by other threads' ends), so scenarios with those explore
    /// every interleaving.
    por: bool,
    /// The lock indices a cycle must include.
    pub(super) target: Option<Vec<usize>>,
    pub(super) visited: HashSet<u128, BuildHasherDefault<FingerprintHasher>>,
    /// Per state id: its parent's id and the thread that moved.
    pub(super) parents: Vec<(u32, u32)>,
    pub(super) states: u64,
    pub(super) schedules: u64,
    pub(super) depth: usize,
    /// The first stuck run or failed expectation, kept while deadlocks are sought.
    pub(super) kept: Option<Found>,
}

impl<'a> Search<'a> {
    pub(super) fn new(
        scenario: &'a Scenario,
        options: &'a ExploreOptions,
        progress: &'a mut dyn FnMut(&Progress),
    ) -> anyhow::Result<Self> {
        let target = match &options.target_locks {
            None => None,
            Some(names) => Some(target_locks(scenario, names)?),
        };
        let started = Instant::now();
        Ok(Search {
            scenario,
            options,
            progress,
            started,
            next_progress: started + PROGRESS_PERIOD,
            deadline: options.timeout.map(|t| started + t),
            timed_out: false,
            root: Sim::new(scenario),
            por: options.reduce && !scenario.has_channels_or_joins(),
            target,
            visited: HashSet::default(),
            parents: Vec::new(),
            states: 0,
            schedules: 0,
            depth: 0,
            kept: None,
        })
    }

    /// Every few hundred states: reports progress about four times a second,
    /// and notes when the timeout has passed. Whether it has.
    pub(super) fn tick(&mut self, depth: usize) -> bool {
        if self.timed_out || !self.states.is_multiple_of(CLOCK_EVERY) {
            return self.timed_out;
        }
        let now = Instant::now();
        if now >= self.next_progress {
            self.next_progress = now + PROGRESS_PERIOD;
            (self.progress)(&Progress {
                states: self.states,
                schedules: self.schedules,
                depth,
                elapsed: now - self.started,
            });
        }
        self.timed_out = self.deadline.is_some_and(|d| now >= d);
        self.timed_out
    }

    pub(super) fn run(&mut self) -> End {
        let (mut buf, mut key_buf, mut records) = (Vec::new(), Vec::new(), Vec::new());
        let root = self.root.clone();
        let key = self.key(&root, &mut key_buf, &mut records);
        self.visited.insert(key);
        self.parents.push((u32::MAX, 0));
        self.states = 1;
        match self.judge(&root, 0) {
            Verdict::Deadlock(cycle) => return End::Deadlock(self.deadlock(0, cycle)),
            Verdict::Terminal => return End::Exhausted,
            Verdict::Expand => {}
        }
        // Levels by depth: a run of forced steps lands deeper than one step.
        let mut levels: BTreeMap<usize, Level> = BTreeMap::new();
        levels
            .entry(0)
            .or_default()
            .push(&root, &self.moves(&root), 0, &mut buf);
        // The shallowest deadlock so far; shallower levels may still hide one.
        let mut best: Option<(usize, Found)> = None;
        let max_states = self.options.max_states.clamp(1, u32::MAX as usize - 1) as u64;
        while let Some((depth, level)) = levels.pop_first() {
            if best.as_ref().is_some_and(|(d, _)| depth + 1 >= *d) {
                break;
            }
            for i in 0..level.states.len() {
                let Some((sim, moves)) = level.get(i, &self.root) else {
                    continue;
                };
                for first in moves {
                    let (mut child, mut parent, mut t, mut d) =
                        (sim.clone(), level.states[i].2, first, depth);
                    // Follow the move, and on through states with a single move:
                    // their encodings need not wait in a level.
                    while child.step(t).is_ok() {
                        d += 1;
                        let key = self.key(&child, &mut key_buf, &mut records);
                        if !self.visited.insert(key) {
                            self.schedules += 1;
                            break;
                        }
                        let child_id = self.push_state(parent, t, d);
                        match self.judge(&child, child_id) {
                            Verdict::Deadlock(cycle) => {
                                if best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                                    best = Some((d, self.deadlock(child_id, cycle)));
                                }
                                break;
                            }
                            Verdict::Terminal => {
                                self.schedules += 1;
                                break;
                            }
                            Verdict::Expand => {}
                        }
                        let moves = self.moves(&child);
                        if let [only] = moves[..]
                            && self.states < max_states
                            && !self.timed_out
                        {
                            (parent, t) = (child_id, only);
                            continue;
                        }
                        levels
                            .entry(d)
                            .or_default()
                            .push(&child, &moves, child_id, &mut buf);
                        break;
                    }
                    let bound = if self.timed_out {
                        Some(Bound::Time)
                    } else if self.states >= max_states {
                        Some(Bound::States)
                    } else if self.schedules >= self.options.max_schedules {
                        Some(Bound::Schedules)
                    } else {
                        None
                    };
                    if let Some(bound) = bound {
                        return match best {
                            Some((_, found)) => End::Deadlock(found),
                            None => End::Bound(bound),
                        };
                    }
                }
                if best.as_ref().is_some_and(|(d, _)| *d == depth + 1) {
                    break;
                }
            }
        }
        match best {
            Some((_, found)) => End::Deadlock(found),
            None => End::Exhausted,
        }
    }

    /// The visited-set key of a state: up to swapping identical threads when
    /// reducing, exact otherwise.
    pub(super) fn key(
        &self,
        sim: &Sim,
        buf: &mut Vec<u8>,
        records: &mut Vec<(usize, usize, usize)>,
    ) -> u128 {
        if self.options.reduce {
            sim.symmetric_key(buf, records).0
        } else {
            buf.clear();
            sim.encode(buf);
            fingerprint(buf).0
        }
    }

    /// The moves explored from a state.
    pub(super) fn moves(&self, sim: &Sim) -> Vec<usize> {
        let choices = sim.choices();
        if self.por {
            sim.persistent(&choices)
        } else {
            choices
        }
    }

    /// Records a new state reached from `parent` by moving `t`, at depth `d`.
    fn push_state(&mut self, parent: u32, t: usize, d: usize) -> u32 {
        let id = u32::try_from(self.parents.len()).unwrap_or(u32::MAX);
        self.parents
            .push((parent, u32::try_from(t).unwrap_or(u32::MAX)));
        self.states += 1;
        self.depth = self.depth.max(d);
        self.tick(d);
        id
    }

    /// Checks a new state for findings: reports a deadlock (a wanted wait-for
    /// cycle), keeps the first stuck run or failed expectation.
    fn judge(&mut self, sim: &Sim, id: u32) -> Verdict {
        let cycle = sim.cycle();
        if let Some(cycle) = cycle.as_ref().filter(|c| self.wanted(c)) {
            return Verdict::Deadlock(cycle.clone());
        }
        if sim.has_choice() {
            return Verdict::Expand;
        }
        if self.kept.is_some() || self.target.is_some() {
            return Verdict::Terminal;
        }
        let blocked: Vec<usize> = (0..sim.thread_count())
            .filter(|&t| sim.thread_state(t) != ThreadState::Done)
            .collect();
        if blocked.is_empty() {
            if let Some((var, expected, actual)) = sim
                .failed_expectation()
                .filter(|_| self.options.check_expectations)
            {
                let schedule = self.schedule(self.path(id), &[]);
                let overflowed = sim.overflowed(var);
                let var = self.scenario.vars[var].name.clone();
                self.kept = Some(Found::ExpectationViolated {
                    schedule,
                    var,
                    expected,
                    actual,
                    overflowed,
                });
            }
        } else if cycle.is_none() {
            let mut path = self.path(id);
            if self.options.reduce && path.len() <= TRIM_MAX {
                let status = sim.status();
                path = trim(&self.root, path, |end| end.status() == status);
            }
            let schedule = self.schedule(path, &blocked);
            self.kept = Some(Found::Stuck { schedule, blocked });
        }
        Verdict::Terminal
    }

    /// The finding for a deadlock reached at state `id`.
    fn deadlock(&self, id: u32, cycle: Vec<(usize, usize)>) -> Found {
        let mut path = self.path(id);
        if self.options.reduce && path.len() <= TRIM_MAX {
            path = trim(&self.root, path, |end| end.cycle().as_ref() == Some(&cycle));
        }
        let threads: Vec<usize> = cycle.iter().map(|&(t, _)| t).collect();
        let schedule = self.schedule(path, &threads);
        Found::Deadlock { schedule, cycle }
    }

    fn wanted(&self, cycle: &[(usize, usize)]) -> bool {
        match &self.target {
            None => true,
            Some(locks) => locks
                .iter()
                .all(|&want| cycle.iter().any(|&(_, c)| c == want)),
        }
    }

    /// The threads moved from the start to state `id`.
    fn path(&self, mut id: u32) -> Vec<usize> {
        let mut path = Vec::new();
        while let Some(&(parent, t)) = self.parents.get(id as usize) {
            if parent == u32::MAX {
                break;
            }
            path.push(t as usize);
            id = parent;
        }
        path.reverse();
        path
    }

    /// The schedule of `path`, followed by the blocking requests of `blockers`
    /// (those that have not asked for their lock yet).
    pub(super) fn schedule(&self, mut path: Vec<usize>, blockers: &[usize]) -> Schedule {
        let mut sim = self.root.clone();
        for &t in &path {
            let _ = sim.step(t);
        }
        for &t in blockers {
            let blocks = matches!(
                sim.thread_state(t),
                ThreadState::WouldBlock { .. } | ThreadState::WouldWait { .. }
            );
            if blocks && sim.step(t).is_ok() {
                path.push(t);
            }
        }
        Schedule::from_threads(self.scenario, &path).unwrap_or_else(|_| Schedule {
            scenario: self.scenario.name.clone(),
            steps: Vec::new(),
        })
    }
}

/// Drops steps, from the last to the first, while the rest is still a
/// sequence of explorer moves leading to a state where `goal` holds (the same
/// cycle, or the same stuck threads). A step is dropped together with up to
/// [`TRIM_RUN`]` - 1` later steps of its thread when it cannot go alone (a
/// lock with its unlock, a whole round of a loop).
fn trim(root: &Sim, mut path: Vec<usize>, goal: impl Fn(&Sim) -> bool) -> Vec<usize> {
    let reaches = |path: &[usize]| {
        let mut sim = root.clone();
        for &t in path {
            if !sim.choices().contains(&t) || sim.step(t).is_err() {
                return false;
            }
        }
        goal(&sim)
    };
    let mut i = path.len();
    while i > 0 {
        i -= 1;
        let t = path[i];
        for run in 1..=TRIM_RUN {
            let mut left = run;
            let shorter: Vec<usize> = path
                .iter()
                .enumerate()
                .filter(|&(j, &u)| {
                    let drop = j >= i && u == t && left > 0;
                    if drop {
                        left -= 1;
                    }
                    !drop
                })
                .map(|(_, &u)| u)
                .collect();
            if left > 0 {
                break;
            }
            if reaches(&shorter) {
                path = shorter;
                i = i.min(path.len());
                break;
            }
        }
    }
    path
}

/// The indices of the locks `names` (as `--locks` gives them).
fn target_locks(scenario: &Scenario, names: &[String]) -> anyhow::Result<Vec<usize>> {
    names
        .iter()
        .map(|name| {
            let want = normalize(name);
            scenario
                .locks
                .iter()
                .position(|l| normalize(&l.name) == want)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown lock {} in the locks to target (scenario {} declares: {})",
                        Quoted(name),
                        Plain(&scenario.name),
                        name_list(scenario.locks.iter().map(|l| l.name.as_str()))
                    )
                })
        })
        .collect()
}
