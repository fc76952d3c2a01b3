//! A long pseudo-random event stream, and the speed of `cells`.

use std::time::Instant;

use super::*;
use crate::model::ThreadStatus;

/// xorshift64: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random event for one of the 8 threads below `threads`, with locks 0..4 and
/// condvar 4: mostly what the thread could do in its state, sometimes
/// nonsense, sometimes late.
fn random_event(rng: &mut Rng, model: &Model, threads: u32, time: &mut Nanos) -> Event {
    *time += rng.below(50);
    // The 8 newest threads: older ones are done or left alone.
    let thread = threads - 1 - rng.below(8) as u32;
    let random_lock = LockId(rng.below(4) as u32);
    let (mode, site, condvar) = (Mode::Exclusive, Site::UNKNOWN, LockId(4));
    let free = |lock: LockId| model.lock(lock).is_none_or(|l| l.holders.is_empty());
    let acquired = |lock| EventKind::Acquired {
        lock,
        mode,
        site,
        seq: 0,
        tried: false,
    };
    let state = model.thread(ThreadId(thread));
    let status = state.map(|t| t.status.clone());
    let held = state.and_then(|t| t.held.last().map(|h| h.lock));
    let roll = rng.below(100);
    let kind = match status {
        _ if roll < 3 => match rng.below(4) {
            0 => EventKind::Released {
                lock: random_lock,
                mode,
                seq: 0,
            },
            1 => EventKind::CondWake {
                condvar,
                mutex: random_lock,
                seq: 0,
                timed_out: true,
            },
            2 => EventKind::ThreadStart {
                name: "again".into(),
            },
            _ => acquired(random_lock),
        },
        Some(ThreadStatus::Waiting { lock, .. }) if free(lock) => acquired(lock),
        Some(ThreadStatus::Waiting { lock, .. }) if roll < 10 => EventKind::TimedOut { lock, mode },
        // Blocked: the holder lets go, if it can move.
        Some(ThreadStatus::Waiting { lock, .. }) => {
            let holder = model
                .lock(lock)
                .and_then(|l| l.holders.first())
                .map(|h| h.thread);
            let holder_state = holder.and_then(|h| model.thread(h));
            if let Some(h) = holder_state.filter(|h| h.status == ThreadStatus::Running) {
                let last = h.held.last().map_or(lock, |held| held.lock);
                let kind = EventKind::Released {
                    lock: last,
                    mode,
                    seq: 0,
                };
                return Event {
                    time: *time,
                    thread: h.id,
                    kind,
                };
            }
            EventKind::TimedOut { lock, mode }
        }
        Some(ThreadStatus::CondWait { mutex, .. }) if roll < 20 => EventKind::CondWake {
            condvar,
            mutex,
            seq: 0,
            timed_out: true,
        },
        Some(ThreadStatus::Running) | None => match (roll, held) {
            (3..40, Some(lock)) => EventKind::Released { lock, mode, seq: 0 },
            (40..50, Some(mutex)) => EventKind::CondWait {
                condvar,
                mutex,
                site,
                seq: 0,
                timed: false,
            },
            (50..60, _) => EventKind::Notify {
                condvar,
                all: roll < 53,
                woken: 1,
                site,
            },
            (60..62, None) if rng.below(500) == 0 => EventKind::ThreadExit,
            (62..64, _) if rng.below(500) == 0 => EventKind::ThreadPanic {
                message: String::new(),
            },
            _ if free(random_lock) => acquired(random_lock),
            _ => EventKind::Request {
                lock: random_lock,
                mode,
                site,
                timed: roll < 70,
                ticket: 0,
            },
        },
        // Blocked or done: someone else may get a move next time.
        _ => EventKind::TryFailed {
            lock: random_lock,
            mode,
            site,
        },
    };
    // Now and then an event from the past.
    let ev_time = if rng.below(20) == 0 {
        time.saturating_sub(rng.below(500))
    } else {
        *time
    };
    Event {
        time: ev_time,
        thread: ThreadId(thread),
        kind,
    }
}

fn check_cells(sim: &Sim, rng: &mut Rng) {
    let (first, last) = (sim.timeline.first_time(), sim.timeline.last_time());
    let span = last - first + 1;
    for thread in 0..sim.timeline.lanes() as u32 {
        let from = first + rng.below(span) / 2;
        let zoom = 1 + rng.below(200);
        let w = 1 + rng.below(span / zoom + 1);
        let n = rng.below(160) as usize;
        sim.cells(thread, from, w, last, n);
        sim.cells(thread, first.saturating_sub(w), w, last, n);
    }
}

#[test]
fn a_random_stream_keeps_the_invariants() {
    const BUDGET: usize = 3000;
    let mut sim = Sim::with_budget(BUDGET);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut time = 0;
    let mut threads = 8;
    for i in 0..200_000 {
        // New threads keep coming as old ones end.
        if i % 2000 == 0 {
            threads += 1;
        }
        // And deadlocked ones time out.
        if i % 1000 == 0 {
            for t in sim.model.threads_in_cycles() {
                if let Some(ThreadStatus::Waiting { lock, .. }) =
                    sim.model.thread(t).map(|t| &t.status)
                {
                    let kind = EventKind::TimedOut {
                        lock: *lock,
                        mode: Mode::Exclusive,
                    };
                    sim.ev(time, t.0, kind);
                }
            }
        }
        let ev = random_event(&mut rng, &sim.model, threads, &mut time);
        sim.model.apply(&ev);
        sim.timeline.record(&sim.model, &ev);
        assert!(sim.timeline.total <= BUDGET);
        if i % 20_000 == 0 {
            check_cells(&sim, &mut rng);
        }
    }
    for lane in &sim.timeline.lanes {
        check_spans(lane.spans());
        assert!(lane.levels_consistent());
    }
    let kept: usize = sim.timeline.lanes.iter().map(|l| l.spans().len()).sum();
    assert_eq!(kept, sim.timeline.total);
    // About 179k spans closed, all but the budget merged away.
    assert!(
        sim.timeline.compacted() > 150_000,
        "{}",
        sim.timeline.compacted()
    );
    assert_eq!(sim.timeline.last_time(), sim.model.last_time());
    check_cells(&sim, &mut rng);
    // Every state the model knows is what the open spans say.
    for (i, thread) in sim.model.threads().iter().enumerate() {
        let mut now = [CellState::Absent];
        let last = sim.timeline.last_time();
        sim.timeline
            .cells(ThreadId(i as u32), last, 1, last + 1, &mut now);
        let expected = match &thread.status {
            _ if sim.timeline.lanes[i].is_empty() => CellState::Absent,
            ThreadStatus::Finished => CellState::Finished,
            ThreadStatus::Panicked { .. } => CellState::Panicked,
            ThreadStatus::Waiting { lock, .. } => CellState::Waiting(*lock),
            ThreadStatus::CondWait { condvar, .. } => CellState::CondWait(*condvar),
            ThreadStatus::Blocked { .. } => CellState::Blocked,
            ThreadStatus::Running => match thread.held.last() {
                Some(h) => CellState::Holding(h.lock),
                None => CellState::Running,
            },
        };
        // A span closed at `last` may also reach into that instant and win.
        if now[0] != expected {
            let closed = sim.timeline.lanes[i].spans().last().copied();
            assert!(
                closed.is_some_and(|s| s.end >= last),
                "thread {i}: {now:?} != {expected:?}"
            );
        }
    }
}

/// The plain alternative to the summary levels: one pass over every span in
/// the window (max activity per column only), for comparison.
fn walk_all(spans: &[Span], from: Nanos, w: Nanos, out: &mut [Option<Activity>]) {
    out.fill(None);
    let first = spans.partition_point(|s| s.end <= from);
    let (mut col, mut end) = (0, from + w);
    for s in &spans[first..] {
        while s.start >= end {
            col += 1;
            end += w;
            if col == out.len() {
                return;
            }
        }
        out[col] = out[col].max(Some(s.activity));
        while s.end > end && col + 1 < out.len() {
            col += 1;
            end += w;
            out[col] = Some(s.activity);
        }
    }
}

/// Lock traffic of 64 threads, about 4 spans per thread per round: mostly
/// short holds, now and then a wait for a second lock.
fn traffic(rounds: usize) -> Vec<Event> {
    let mut rng = Rng(42);
    let mut events = Vec::new();
    let mut time = 0;
    let (mode, site) = (Mode::Exclusive, Site::UNKNOWN);
    for _ in 0..rounds {
        for thread in 0..64 {
            time += 1 + rng.below(20);
            let (lock, other) = (LockId(thread * 2), LockId(thread * 2 + 1));
            let mut ev = |time, kind| {
                let thread = ThreadId(thread);
                events.push(Event { time, thread, kind });
            };
            let acquired = |lock| EventKind::Acquired {
                lock,
                mode,
                site,
                seq: 0,
                tried: false,
            };
            let released = |lock| EventKind::Released { lock, mode, seq: 0 };
            if rng.below(8) == 0 {
                ev(
                    time,
                    EventKind::Request {
                        lock: other,
                        mode,
                        site,
                        timed: false,
                        ticket: 0,
                    },
                );
                ev(time + 1 + rng.below(30), acquired(other));
                ev(time + 40, released(other));
            } else {
                ev(time, acquired(lock));
                ev(time + 1 + rng.below(40), released(lock));
            }
            ev(time + 41, acquired(lock));
            ev(time + 42, released(lock));
        }
    }
    events
}

/// 64 threads of about 16k spans each (a million events), 64 lanes of 150
/// columns over the whole history: the cost of drawing the lanes of a frame.
/// Also the cost of `record` per event, with and without compaction.
/// Run with `cargo test --release --lib timeline -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release with --nocapture"]
fn timeline_cells_are_fast() {
    const THREADS: u32 = 64;
    let events = traffic(4096);
    let t0 = Instant::now();
    let mut model = Model::new();
    for ev in &events {
        model.apply(ev);
    }
    let model_only = t0.elapsed();
    let record = |budget| {
        let mut sim = Sim::with_budget(budget);
        let t0 = Instant::now();
        for ev in &events {
            sim.model.apply(ev);
            sim.timeline.record(&sim.model, ev);
        }
        let per_event = t0.elapsed().saturating_sub(model_only) / events.len() as u32;
        (sim, per_event)
    };
    let (_, compacting) = record(100_000);
    let (sim, growing) = record(2_000_000);
    assert_eq!(sim.timeline.compacted(), 0);
    let spans: usize = (0..THREADS).map(|t| sim.spans(t).len()).sum();
    let (first, last) = (sim.timeline.first_time(), sim.timeline.last_time());
    let w = (last - first) / 150 + 1;
    let mut out = [CellState::Absent; 150];
    let mut frames = Vec::new();
    for _ in 0..50 {
        let t0 = Instant::now();
        for thread in 0..THREADS {
            sim.timeline
                .cells(ThreadId(thread), first, w, last, &mut out);
            std::hint::black_box(&out);
        }
        frames.push(t0.elapsed());
    }
    let mut walks = Vec::new();
    let mut coarse = [None; 150];
    for _ in 0..10 {
        let t0 = Instant::now();
        for thread in 0..THREADS {
            walk_all(sim.timeline.spans(ThreadId(thread)), first, w, &mut coarse);
            std::hint::black_box(&coarse);
        }
        walks.push(t0.elapsed());
    }
    for thread in 0..THREADS {
        let reference = naive(&sim.timeline, thread, first, w, last, 150);
        sim.timeline
            .cells(ThreadId(thread), first, w, last, &mut out);
        assert_eq!(out[..], reference[..]);
    }
    let cold = frames[0];
    frames.sort();
    walks.sort();
    let median = frames[frames.len() / 2];
    println!(
        "timeline cells: {THREADS} lanes x 150 columns over {spans} spans ({} per lane, {} MB held): \
         frame {median:?} median, {cold:?} first, {:?} per lane; one pass over all spans instead: {:?} per frame",
        spans / THREADS as usize,
        sim.timeline.memory_bytes() / 1_000_000,
        median / THREADS,
        walks[walks.len() / 2],
    );
    println!(
        "timeline record: {} events, model.apply alone {:?} per event; record adds {growing:?} per event \
         growing, {compacting:?} compacting to a budget of 100k spans",
        events.len(),
        model_only / events.len() as u32,
    );
    assert!(median.as_micros() < 64 * 50, "{median:?}");
}
