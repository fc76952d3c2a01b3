//! Timeline tests: literal event sequences applied to a real [`Model`], then
//! recorded; cells checked against exact arrays and against a naive reference.

#![allow(clippy::unwrap_used)]

mod cells;
mod compaction;
mod stream;

use crate::event::{Event, EventKind, LockId, Mode, Nanos, Site, ThreadId};
use crate::model::Model;

use super::{Activity, CellState, Span, Timeline};

const A: LockId = LockId(0);
const B: LockId = LockId(1);
const CV: LockId = LockId(2);

/// A model and a timeline fed the same events.
struct Sim {
    model: Model,
    timeline: Timeline,
}

impl Sim {
    fn new() -> Self {
        Self::with_budget(1_000_000)
    }

    fn with_budget(budget: usize) -> Self {
        Sim {
            model: Model::new(),
            timeline: Timeline::with_budget(budget),
        }
    }

    fn ev(&mut self, time: Nanos, thread: u32, kind: EventKind) -> &mut Self {
        let ev = Event {
            time,
            thread: ThreadId(thread),
            kind,
        };
        self.model.apply(&ev);
        self.timeline.record(&self.model, &ev);
        self
    }

    fn start(&mut self, time: Nanos, thread: u32) -> &mut Self {
        let name = format!("t{thread}");
        self.ev(time, thread, EventKind::ThreadStart { name })
    }

    fn request(&mut self, time: Nanos, thread: u32, lock: LockId) -> &mut Self {
        let kind = EventKind::Request {
            lock,
            mode: Mode::Exclusive,
            site: Site::UNKNOWN,
            timed: false,
            ticket: 0,
        };
        self.ev(time, thread, kind)
    }

    fn acquire(&mut self, time: Nanos, thread: u32, lock: LockId) -> &mut Self {
        let kind = EventKind::Acquired {
            lock,
            mode: Mode::Exclusive,
            site: Site::UNKNOWN,
            seq: 0,
            tried: false,
        };
        self.ev(time, thread, kind)
    }

    fn release(&mut self, time: Nanos, thread: u32, lock: LockId) -> &mut Self {
        let kind = EventKind::Released {
            lock,
            mode: Mode::Exclusive,
            seq: 0,
        };
        self.ev(time, thread, kind)
    }

    fn cond_wait(&mut self, time: Nanos, thread: u32, mutex: LockId) -> &mut Self {
        let kind = EventKind::CondWait {
            condvar: CV,
            mutex,
            site: Site::UNKNOWN,
            seq: 0,
            timed: false,
        };
        self.ev(time, thread, kind)
    }

    fn notify(&mut self, time: Nanos, thread: u32) -> &mut Self {
        let kind = EventKind::Notify {
            condvar: CV,
            all: true,
            woken: u32::MAX,
            site: Site::UNKNOWN,
        };
        self.ev(time, thread, kind)
    }

    fn wake(&mut self, time: Nanos, thread: u32, mutex: LockId) -> &mut Self {
        let kind = EventKind::CondWake {
            condvar: CV,
            mutex,
            seq: 0,
            timed_out: false,
        };
        self.ev(time, thread, kind)
    }

    fn exit(&mut self, time: Nanos, thread: u32) -> &mut Self {
        self.ev(time, thread, EventKind::ThreadExit)
    }

    fn panic(&mut self, time: Nanos, thread: u32) -> &mut Self {
        let message = "boom".to_owned();
        self.ev(time, thread, EventKind::ThreadPanic { message })
    }

    fn spans(&self, thread: u32) -> Vec<Span> {
        self.timeline.spans(ThreadId(thread)).to_vec()
    }

    /// Cells of `thread`, checked against the naive reference.
    fn cells(&self, thread: u32, from: Nanos, w: Nanos, now: Nanos, n: usize) -> Vec<CellState> {
        let mut out = vec![CellState::Waiting(LockId(99)); n];
        self.timeline
            .cells(ThreadId(thread), from, w, now, &mut out);
        assert_eq!(out, naive(&self.timeline, thread, from, w, now, n));
        out
    }
}

/// The reference for [`Timeline::cells`].
fn naive(
    tl: &Timeline,
    thread: u32,
    from: Nanos,
    w: Nanos,
    now: Nanos,
    n: usize,
) -> Vec<CellState> {
    let mut out = vec![CellState::Absent; n];
    if let Some(lane) = tl.lanes.get(thread as usize) {
        lane.fill_naive(from, w.max(1), now, &mut out);
    }
    out
}

fn span(start: Nanos, end: Nanos, activity: Activity, lock: Option<LockId>) -> Span {
    Span {
        start,
        end,
        activity,
        lock,
    }
}

fn running(start: Nanos, end: Nanos) -> Span {
    span(start, end, Activity::Running, None)
}

fn holding(start: Nanos, end: Nanos, lock: LockId) -> Span {
    span(start, end, Activity::Holding, Some(lock))
}

fn waiting(start: Nanos, end: Nanos, lock: LockId) -> Span {
    span(start, end, Activity::Waiting, Some(lock))
}

fn cond_waiting(start: Nanos, end: Nanos, condvar: LockId) -> Span {
    span(start, end, Activity::CondWait, Some(condvar))
}

/// Spans are ordered, contiguous, non-empty intervals or instants, labelled consistently.
fn check_spans(spans: &[Span]) {
    for s in spans {
        assert!(s.start <= s.end, "{s:?}");
        assert_eq!(s.activity == Activity::Running, s.lock.is_none(), "{s:?}");
    }
    for pair in spans.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "{pair:?}");
    }
}

#[test]
fn a_thread_runs_holds_waits_and_finishes() {
    let mut sim = Sim::new();
    sim.start(0, 0)
        .acquire(10, 0, A)
        .request(20, 0, B)
        .acquire(30, 0, B)
        .release(40, 0, B)
        .release(50, 0, A)
        .exit(60, 0);
    assert_eq!(
        sim.spans(0),
        [
            running(0, 10),
            holding(10, 20, A),
            waiting(20, 30, B),
            holding(30, 40, B),
            holding(40, 50, A),
            running(50, 60),
        ]
    );
    assert_eq!(
        (sim.timeline.first_time(), sim.timeline.last_time()),
        (0, 60)
    );
    assert_eq!(sim.timeline.lanes(), 1);
}

#[test]
fn nested_holds_label_the_innermost_lock() {
    let mut sim = Sim::new();
    sim.acquire(0, 0, A)
        .acquire(5, 0, B)
        .release(7, 0, A)
        .release(9, 0, B);
    // Releasing the outer lock first leaves B as the only (innermost) one: no
    // change of label, no new span.
    assert_eq!(sim.spans(0), [holding(0, 5, A), holding(5, 9, B)]);
}

#[test]
fn condvar_waits_turn_into_lock_waits_when_notified() {
    let mut sim = Sim::new();
    sim.start(0, 0)
        .acquire(10, 0, A)
        .cond_wait(20, 0, A)
        .start(25, 1)
        .acquire(28, 1, A)
        .notify(30, 1)
        .release(35, 1, A)
        .wake(40, 0, A)
        .release(50, 0, A)
        .exit(60, 0);
    assert_eq!(
        sim.spans(0),
        [
            running(0, 10),
            holding(10, 20, A),
            cond_waiting(20, 30, CV),
            waiting(30, 40, A),
            holding(40, 50, A),
            running(50, 60),
        ]
    );
    assert_eq!(sim.spans(1), [running(25, 28), holding(28, 35, A)]);
    assert!(sim.timeline.cond_waiting.is_empty());
}

#[test]
fn a_panic_closes_the_open_span() {
    let mut sim = Sim::new();
    sim.start(0, 0).acquire(10, 0, A).panic(20, 0);
    assert_eq!(sim.spans(0), [running(0, 10), holding(10, 20, A)]);
    // Nothing after the end counts.
    sim.acquire(30, 0, B).exit(40, 0);
    assert_eq!(sim.spans(0), [running(0, 10), holding(10, 20, A)]);
    use CellState::*;
    assert_eq!(
        sim.cells(0, 0, 10, 100, 4),
        [Running, Holding(A), Panicked, Panicked]
    );
}

#[test]
fn a_wait_and_its_end_at_one_instant_make_a_point_span() {
    let mut sim = Sim::new();
    sim.start(0, 0)
        .request(10, 0, A)
        .acquire(10, 0, A)
        .release(30, 0, A);
    assert_eq!(
        sim.spans(0),
        [running(0, 10), waiting(10, 10, A), holding(10, 30, A)]
    );
    use CellState::*;
    assert_eq!(
        sim.cells(0, 0, 5, 40, 8),
        [
            Running,
            Running,
            Waiting(A),
            Holding(A),
            Holding(A),
            Holding(A),
            Running,
            Running
        ]
    );
}

#[test]
fn earlier_times_than_the_open_span_count_as_its_start() {
    let mut sim = Sim::new();
    sim.start(100, 0)
        .acquire(50, 0, A)
        .release(120, 0, A)
        .request(110, 0, B);
    assert_eq!(
        sim.spans(0),
        [running(100, 100), holding(100, 120, A), running(120, 120)]
    );
    assert_eq!(
        (sim.timeline.first_time(), sim.timeline.last_time()),
        (100, 120)
    );
}

#[test]
fn lanes_are_dense_by_thread_id() {
    let mut sim = Sim::new();
    sim.start(7, 3);
    assert_eq!(sim.timeline.lanes(), 4);
    assert!(sim.spans(1).is_empty());
    assert!(sim.spans(99).is_empty());
    assert_eq!(sim.cells(1, 0, 1, 10, 3), [CellState::Absent; 3]);
    assert_eq!(sim.cells(99, 0, 1, 10, 3), [CellState::Absent; 3]);
    // Ids the model refuses make no lanes.
    sim.start(8, 1 << 30);
    assert_eq!(sim.timeline.lanes(), 4);
    assert_eq!(sim.timeline.first_time(), 7);
}

#[test]
fn an_empty_timeline_is_empty() {
    let tl = Timeline::new();
    assert_eq!((tl.lanes(), tl.first_time(), tl.last_time()), (0, 0, 0));
    assert_eq!(tl.compacted(), 0);
    assert!(tl.memory_bytes() < 1024);
    let mut out = [CellState::Running; 3];
    tl.cells(ThreadId(0), 0, 1, 0, &mut out);
    assert_eq!(out, [CellState::Absent; 3]);
}
