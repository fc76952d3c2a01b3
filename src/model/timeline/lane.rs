//! One thread's lane: its closed spans, a summary pyramid over them for fast
//! zoomed-out cells, and compaction of old spans.

use std::mem;

use crate::event::{LockId, Nanos};

use super::{Activity, CellState, Next, Span};

mod cells;
mod compact;

/// log2 of [`FAN`]: block sizes are powers of two, so the column walk indexes
/// levels with shifts (a division per step made it four times slower).
const FAN_BITS: u32 = 3;

/// Spans per first-level summary block, and blocks per block of the next level.
const FAN: usize = 1 << FAN_BITS;

/// A lane with fewer closed spans is never compacted.
pub(super) const MIN_COMPACT: usize = 4;

/// An activity with the lock it concerns, in 8 bytes (summary blocks are
/// scanned by the thousand: small blocks keep them in cache).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Dom {
    activity: Activity,
    /// Meaningless (0) when running.
    lock: LockId,
}

impl Dom {
    pub(super) fn new(activity: Activity, lock: Option<LockId>) -> Dom {
        let lock = match activity {
            Activity::Running => None,
            _ => lock,
        };
        Dom {
            activity,
            lock: lock.unwrap_or(LockId(0)),
        }
    }

    pub(super) fn activity(self) -> Activity {
        self.activity
    }

    pub(super) fn lock(self) -> Option<LockId> {
        (self.activity != Activity::Running).then_some(self.lock)
    }

    fn of(span: &Span) -> Dom {
        Dom::new(span.activity, span.lock)
    }

    /// The dominant of two stretches in time order: the greater activity, the
    /// earlier one on a tie (associative, so blocks can be summarised).
    fn then(self, later: Dom) -> Dom {
        if later.activity > self.activity {
            later
        } else {
            self
        }
    }

    fn cell(self) -> CellState {
        match self.activity {
            Activity::Running => CellState::Running,
            Activity::Holding => CellState::Holding(self.lock),
            Activity::CondWait => CellState::CondWait(self.lock),
            Activity::Waiting => CellState::Waiting(self.lock),
            Activity::Blocked => CellState::Blocked,
        }
    }
}

/// Where a span stops counting for the columns: its end, or just past its
/// start for a zero-length span, which shows in the column of its instant.
fn reach(start: Nanos, end: Nanos) -> Nanos {
    end.max(start.saturating_add(1))
}

fn span_reach(span: &Span) -> Nanos {
    reach(span.start, span.end)
}

/// The summary of an aligned run of spans (or of lower-level blocks).
#[derive(Clone, Copy, Debug)]
struct Block {
    /// The greatest reach of its spans (that of the last: reaches only grow).
    reach: Nanos,
    dom: Dom,
}

/// The open span, or any span, as the column walk sees it.
#[derive(Clone, Copy, Debug)]
struct Item {
    start: Nanos,
    reach: Nanos,
    dom: Dom,
}

/// What the thread does since `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Open {
    start: Nanos,
    dom: Dom,
}

/// When and how the thread ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct End {
    at: Nanos,
    panicked: bool,
}

/// One thread's history.
#[derive(Clone, Debug, Default)]
pub(super) struct Lane {
    /// Closed spans, oldest first, contiguous.
    spans: Vec<Span>,
    /// `levels[k][b]` summarises spans `[b × FAN^(k+1), (b + 1) × FAN^(k+1))`;
    /// only complete blocks are kept.
    levels: Vec<Vec<Block>>,
    open: Option<Open>,
    end: Option<End>,
}

impl Lane {
    pub(super) fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Whether nothing was ever recorded here.
    pub(super) fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.open.is_none() && self.end.is_none()
    }

    /// Whether the thread now waits on a condvar (a `Notify` may wake it).
    pub(super) fn is_cond_waiting(&self) -> bool {
        self.open
            .is_some_and(|o| o.dom.activity() == Activity::CondWait)
    }

    /// Whether the thread now waits on `condvar`.
    pub(super) fn cond_waits_on(&self, condvar: LockId) -> bool {
        let waits = Dom::new(Activity::CondWait, Some(condvar));
        self.open.is_some_and(|o| o.dom == waits)
    }

    /// Whether [`advance`](Self::advance) with `time` and `next` closes a span.
    pub(super) fn would_close(&self, time: Nanos, next: Next) -> bool {
        match (self.end, self.open, next) {
            (Some(_), ..) | (None, None, _) => false,
            (None, Some(open), Next::Active(dom)) => open.dom != dom,
            (None, Some(open), Next::Ended { .. }) => open.start < time,
        }
    }

    /// Moves the lane to `next` at `time` (no earlier than the open span's
    /// start). An ended lane stays ended. An activity that had not lasted when
    /// the thread ended leaves no span: from its end on, the thread is over.
    pub(super) fn advance(&mut self, time: Nanos, next: Next) {
        if self.end.is_some() {
            return;
        }
        let time = time.max(self.open.map_or(0, |o| o.start));
        match next {
            Next::Active(dom) => match self.open {
                Some(open) if open.dom == dom => {}
                _ => {
                    self.close(time);
                    self.open = Some(Open { start: time, dom });
                }
            },
            Next::Ended { panicked } => {
                if self.open.is_some_and(|o| o.start < time) {
                    self.close(time);
                }
                self.open = None;
                self.end = Some(End { at: time, panicked });
            }
        }
    }

    fn close(&mut self, time: Nanos) {
        if let Some(open) = self.open.take() {
            self.push(Span {
                start: open.start,
                end: time,
                activity: open.dom.activity(),
                lock: open.dom.lock(),
            });
        }
    }

    /// Appends a span and the summary blocks it completes: amortised O(1).
    fn push(&mut self, span: Span) {
        if self.spans.len() == self.spans.capacity() {
            // Grow by a quarter rather than double: the budget counts spans,
            // and doubling could leave up to half of the memory held unused.
            let more = (self.spans.capacity() / 4).max(16);
            self.spans.reserve_exact(more);
        }
        self.spans.push(span);
        let mut len = self.spans.len();
        let mut k = 0;
        while len.is_multiple_of(FAN) {
            let block = if k == 0 {
                summarise_spans(&self.spans[len - FAN..])
            } else {
                summarise_blocks(&self.levels[k - 1][len - FAN..])
            };
            if self.levels.len() == k {
                self.levels.push(Vec::new());
            }
            self.levels[k].push(block);
            len = self.levels[k].len();
            k += 1;
        }
    }

    fn rebuild_levels(&mut self) {
        let mut levels = mem::take(&mut self.levels);
        for level in &mut levels {
            level.clear();
        }
        let mut k = 0;
        loop {
            let below = if k == 0 {
                self.spans.len()
            } else {
                levels[k - 1].len()
            };
            if below < FAN {
                break;
            }
            if levels.len() == k {
                levels.push(Vec::new());
            }
            let (done, rest) = levels.split_at_mut(k);
            let level = &mut rest[0];
            if k == 0 {
                level.extend(self.spans.chunks_exact(FAN).map(summarise_spans));
            } else {
                level.extend(done[k - 1].chunks_exact(FAN).map(summarise_blocks));
            }
            k += 1;
        }
        levels.truncate(k);
        self.levels = levels;
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.spans.capacity() * mem::size_of::<Span>()
            + self.levels.capacity() * mem::size_of::<Vec<Block>>()
            + self
                .levels
                .iter()
                .map(|l| l.capacity() * mem::size_of::<Block>())
                .sum::<usize>()
    }
}

fn summarise_spans(spans: &[Span]) -> Block {
    summarise(spans.iter().map(|s| Block {
        reach: span_reach(s),
        dom: Dom::of(s),
    }))
}

fn summarise_blocks(blocks: &[Block]) -> Block {
    summarise(blocks.iter().copied())
}

fn summarise(mut blocks: impl Iterator<Item = Block>) -> Block {
    let first = blocks.next().unwrap_or(Block {
        reach: 0,
        dom: Dom::new(Activity::Running, None),
    });
    blocks.fold(first, |acc, b| Block {
        reach: acc.reach.max(b.reach),
        dom: acc.dom.then(b.dom),
    })
}
