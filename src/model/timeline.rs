//! Per-thread timelines for the lanes of the viewer: what each thread did
//! when, as spans of one activity, reduced to one dominant state per column,
//! with memory bounded by compacting old history. See [`Timeline`].

mod lane;

#[cfg(test)]
mod tests;

use std::collections::BinaryHeap;
use std::mem;

use crate::event::{Event, EventKind, LockId, Nanos, ThreadId};

use super::Model;
use super::state::{ThreadState, ThreadStatus};

use lane::{Dom, Lane, MIN_COMPACT};

/// Closed spans kept by [`Timeline::new`]: 1.5 million spans of 32 bytes, 48 MB.
const DEFAULT_BUDGET: usize = 1_500_000;

/// What a thread is doing in a span of time.
///
/// Ordered by display priority: in a cell covering several states, the
/// greatest wins (waiting beats blocked beats condvar-waiting beats holding
/// beats running).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Activity {
    /// Running, holding no lock.
    Running,
    /// Running while holding at least one lock.
    Holding,
    /// Waiting on a condvar.
    CondWait,
    /// Blocked on another thread: joining it.
    Blocked,
    /// Blocked acquiring a lock.
    Waiting,
}

/// The dominant state of one timeline cell (one column of a lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CellState {
    /// The thread was not alive in this column (before its start, or no data).
    #[default]
    Absent,
    /// Running, holding no lock.
    Running,
    /// Holding locks; the innermost (most recently acquired) of the dominant span.
    Holding(LockId),
    /// Waiting on this condvar.
    CondWait(LockId),
    /// Blocked acquiring this lock.
    Waiting(LockId),
    /// Blocked on another thread: joining it.
    Blocked,
    /// The thread had returned.
    Finished,
    /// The thread had panicked.
    Panicked,
}

/// A stretch of time during which a thread did one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// When it began.
    pub start: Nanos,
    /// When it ended (exclusive). Equal to `start` for a change and its undoing
    /// recorded at the same instant; such a span still shows in its column.
    pub end: Nanos,
    /// What the thread did (for a compacted span: the dominant activity of the
    /// spans it replaced).
    pub activity: Activity,
    /// The lock held, condvar or lock waited for; `None` when running.
    pub lock: Option<LockId>,
}

/// Every thread's history as spans of one [`Activity`], for timeline lanes.
///
/// [`record`](Self::record) follows the model: after each event it compares
/// the thread's activity with its open span and closes/opens spans on a
/// change. [`cells`](Self::cells) reduces a window of a lane to one
/// [`CellState`] per column, the dominant activity in each, so a 1 ns wait
/// inside a long hold still shows at any zoom. Memory is bounded by a budget
/// of closed spans across all lanes (see [`with_budget`](Self::with_budget)):
/// beyond it, old history is merged into coarser spans that keep the
/// dominant activity of what they replace.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Event, EventKind, LockId, Mode, Site, ThreadId};
/// use lockscope::model::{CellState, Model, Timeline};
///
/// let mut model = Model::new();
/// let mut timeline = Timeline::new();
/// let (lock, mode, site) = (LockId(0), Mode::Exclusive, Site::UNKNOWN);
/// let events = [
///     (0, EventKind::ThreadStart { name: "main".into() }),
///     (10, EventKind::Acquired { lock, mode, site, seq: 0, tried: false }),
///     (20, EventKind::Released { lock, mode, seq: 1 }),
///     (30, EventKind::ThreadExit),
/// ];
/// for (time, kind) in events {
///     let ev = Event { time, thread: ThreadId(0), kind };
///     model.apply(&ev);
///     timeline.record(&model, &ev);
/// }
/// let mut cells = [CellState::Absent; 5];
/// timeline.cells(ThreadId(0), 0, 10, 40, &mut cells);
/// use CellState::*;
/// assert_eq!(cells, [Running, Holding(lock), Running, Finished, Finished]);
/// ```
#[derive(Clone, Debug)]
pub struct Timeline {
    lanes: Vec<Lane>,
    budget: usize,
    /// Closed spans across all lanes.
    total: usize,
    /// Compaction runs when `total` would exceed this (the budget, or more
    /// when every lane is too short to compact).
    limit: usize,
    compacted: u64,
    first_time: Option<Nanos>,
    last_time: Nanos,
    /// Lanes whose open span is a condvar wait: a `Notify` by another thread
    /// can turn them into lock waits.
    cond_waiting: Vec<ThreadId>,
    /// Reused by compaction rounds: (closed spans, lane).
    heap: Vec<(usize, usize)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::with_budget(DEFAULT_BUDGET)
    }
}

/// What a thread's state in the model asks of its lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Active(Dom),
    Ended { panicked: bool },
}

impl Next {
    fn of(thread: &ThreadState) -> Next {
        let (activity, lock) = match thread.status {
            ThreadStatus::Waiting { lock, .. } => (Activity::Waiting, Some(lock)),
            ThreadStatus::CondWait { condvar, .. } => (Activity::CondWait, Some(condvar)),
            ThreadStatus::Blocked { .. } => (Activity::Blocked, None),
            ThreadStatus::Finished => return Next::Ended { panicked: false },
            ThreadStatus::Panicked { .. } => return Next::Ended { panicked: true },
            ThreadStatus::Running => match thread.held.last() {
                Some(held) => (Activity::Holding, Some(held.lock)),
                None => (Activity::Running, None),
            },
        };
        Next::Active(Dom::new(activity, lock))
    }
}

impl Timeline {
    /// An empty timeline keeping up to 1.5 million closed spans (about 48 MB).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty timeline keeping up to `max_spans` closed spans across all lanes.
    ///
    /// Beyond that, the oldest half of the longest lanes is merged into coarser
    /// spans. A lane is not compacted below a few spans, so with very many
    /// threads the total can exceed a tiny budget: it stays within
    /// `max(max_spans, 4 × lanes)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::model::Timeline;
    ///
    /// let timeline = Timeline::with_budget(10_000);
    /// assert_eq!(timeline.lanes(), 0);
    /// assert_eq!(timeline.compacted(), 0);
    /// ```
    pub fn with_budget(max_spans: usize) -> Self {
        Timeline {
            lanes: Vec::new(),
            budget: max_spans,
            total: 0,
            limit: max_spans,
            compacted: 0,
            first_time: None,
            last_time: 0,
            cond_waiting: Vec::new(),
            heap: Vec::new(),
        }
    }

    /// Updates the lane of `ev.thread` from its state in `model`; call it right
    /// after `model.apply(ev)`.
    ///
    /// A change of activity, or of the lock it concerns, closes the open span
    /// and opens another at `ev.time` (times earlier than the open span's start
    /// count as that start). A `Notify` also updates the lanes of the threads it
    /// woke. O(1) amortised; no allocation once the lanes have grown.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::event::{Event, EventKind, LockId, Mode, Site, ThreadId};
    /// use lockscope::model::{Activity, Model, Span, Timeline};
    ///
    /// let mut model = Model::new();
    /// let mut timeline = Timeline::new();
    /// let lock = LockId(0);
    /// let kinds = [
    ///     EventKind::Request { lock, mode: Mode::Exclusive, site: Site::UNKNOWN, timed: false, ticket: 0 },
    ///     EventKind::Acquired { lock, mode: Mode::Exclusive, site: Site::UNKNOWN, seq: 0, tried: false },
    /// ];
    /// for (time, kind) in [5, 9].into_iter().zip(kinds) {
    ///     let ev = Event { time, thread: ThreadId(0), kind };
    ///     model.apply(&ev);
    ///     timeline.record(&model, &ev);
    /// }
    /// let waited = Span { start: 5, end: 9, activity: Activity::Waiting, lock: Some(lock) };
    /// assert_eq!(timeline.spans(ThreadId(0)), [waited]);
    /// ```
    pub fn record(&mut self, model: &Model, ev: &Event) {
        self.last_time = self.last_time.max(ev.time);
        self.follow(model, ev.thread, ev.time);
        for &other in model.also_changed() {
            self.follow(model, other, ev.time);
        }
        if let EventKind::Notify { condvar, .. } = ev.kind {
            self.wake(model, condvar, ev.time);
        }
    }

    /// Number of lanes: one per thread id up to the highest seen.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// The earliest time still kept (the first event's time; 0 before any).
    pub fn first_time(&self) -> Nanos {
        self.first_time.unwrap_or(0)
    }

    /// The latest event time recorded.
    pub fn last_time(&self) -> Nanos {
        self.last_time
    }

    /// Fills `out` with the dominant state of column `i`, which covers
    /// `[from + i × ns_per_col, from + (i + 1) × ns_per_col)`.
    ///
    /// The greatest [`Activity`] in a column wins, ties going to the earlier
    /// span. The open span (what the thread does now) extends to `now`. A
    /// column entirely after the thread ended shows [`CellState::Finished`] or
    /// [`CellState::Panicked`]; one before its start, or after `now` while it
    /// lives, shows [`CellState::Absent`], as do all columns of an unknown
    /// thread. `ns_per_col` 0 counts as 1; arithmetic saturates at `u64::MAX`.
    /// Costs O(columns × log spans), however much history the window covers.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::event::{Event, EventKind, ThreadId};
    /// use lockscope::model::{CellState, Model, Timeline};
    ///
    /// let mut model = Model::new();
    /// let mut timeline = Timeline::new();
    /// let ev = Event { time: 20, thread: ThreadId(0), kind: EventKind::ThreadStart { name: "t".into() } };
    /// model.apply(&ev);
    /// timeline.record(&model, &ev);
    /// let mut cells = [CellState::Absent; 4];
    /// timeline.cells(ThreadId(0), 0, 10, 30, &mut cells);
    /// use CellState::*;
    /// assert_eq!(cells, [Absent, Absent, Running, Absent]);
    /// ```
    pub fn cells(
        &self,
        thread: ThreadId,
        from: Nanos,
        ns_per_col: Nanos,
        now: Nanos,
        out: &mut [CellState],
    ) {
        out.fill(CellState::Absent);
        if let Some(lane) = self.lanes.get(thread.index()) {
            lane.fill(from, ns_per_col.max(1), now, out);
        }
    }

    /// The closed spans kept for `thread`, oldest first, contiguous and
    /// non-overlapping; empty for an unknown thread.
    pub fn spans(&self, thread: ThreadId) -> &[Span] {
        self.lanes.get(thread.index()).map_or(&[], Lane::spans)
    }

    /// Approximate heap memory held, in bytes.
    pub fn memory_bytes(&self) -> usize {
        let lanes: usize = self.lanes.iter().map(Lane::memory_bytes).sum();
        lanes
            + self.lanes.capacity() * mem::size_of::<Lane>()
            + self.cond_waiting.capacity() * mem::size_of::<ThreadId>()
            + self.heap.capacity() * mem::size_of::<(usize, usize)>()
    }

    /// How many spans compaction has merged away.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    /// Brings `thread`'s lane in line with its state in the model.
    fn follow(&mut self, model: &Model, thread: ThreadId, time: Nanos) {
        let Some(state) = model.thread(thread) else {
            return;
        };
        let next = Next::of(state);
        let i = thread.index();
        if i >= self.lanes.len() {
            self.lanes.resize_with(i + 1, Lane::default);
        }
        let lane = &self.lanes[i];
        if lane.is_empty() {
            self.first_time = Some(self.first_time.map_or(time, |t| t.min(time)));
        }
        let was_cond = lane.is_cond_waiting();
        if lane.would_close(time, next) {
            if self.total >= self.limit {
                self.compact();
            }
            self.total += 1;
        }
        let lane = &mut self.lanes[i];
        lane.advance(time, next);
        match (was_cond, lane.is_cond_waiting()) {
            (false, true) => self.cond_waiting.push(thread),
            (true, false) => {
                if let Some(k) = self.cond_waiting.iter().position(|&t| t == thread) {
                    self.cond_waiting.swap_remove(k);
                }
            }
            _ => {}
        }
    }

    /// Follows the threads a `Notify` on `condvar` may have woken.
    fn wake(&mut self, model: &Model, condvar: LockId, time: Nanos) {
        let mut k = 0;
        while k < self.cond_waiting.len() {
            let thread = self.cond_waiting[k];
            let waits_here = self
                .lanes
                .get(thread.index())
                .is_some_and(|lane| lane.cond_waits_on(condvar));
            let before = self.cond_waiting.len();
            if waits_here {
                self.follow(model, thread, time);
            }
            // A woken thread left the list by a swap_remove at `k`: look at `k` again.
            if self.cond_waiting.len() == before {
                k += 1;
            }
        }
    }

    /// Merges old spans of the longest lanes until the total is an eighth
    /// below the budget (so rounds are at least budget/8 spans apart), or no
    /// lane is long enough to compact.
    fn compact(&mut self) {
        let target = self.budget - self.budget / 8;
        let mut heap = BinaryHeap::from(mem::take(&mut self.heap));
        heap.clear();
        heap.extend(
            self.lanes
                .iter()
                .enumerate()
                .filter(|(_, lane)| lane.spans().len() >= MIN_COMPACT)
                .map(|(i, lane)| (lane.spans().len(), i)),
        );
        while self.total > target {
            let Some((_, i)) = heap.pop() else {
                break;
            };
            let removed = self.lanes[i].compact();
            self.total -= removed;
            self.compacted += removed as u64;
            let len = self.lanes[i].spans().len();
            if len >= MIN_COMPACT {
                heap.push((len, i));
            }
        }
        // Stuck (every lane too short): wait for as many new spans as there
        // are lanes before trying again, which keeps rounds amortised O(1).
        self.limit = if self.total > target {
            self.budget.max(self.total + self.lanes.len())
        } else {
            self.budget
        };
        self.heap = heap.into_vec();
    }
}
