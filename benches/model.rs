//! Throughput of `Model::apply` on a realistic event stream.
//!
//! A small deterministic simulation produces ~1M events up front: 8 threads
//! take nested locks (1–3 of 64, in ascending order, so the run never hangs)
//! with hot locks that cause contention, readers and writers on RwLocks, and
//! occasional out-of-order `try_lock`s of one lock, which close lock-order cycles.
//! Then the events are applied to a fresh model, and events/s is printed.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use lockscope::event::{Event, EventKind, LockId, LockKind, Mode, Nanos, Site, ThreadId};
use lockscope::model::Model;

const THREADS: usize = 8;
const LOCKS: usize = 64;
/// Locks `RWLOCKS_FROM..LOCKS` are RwLocks.
const RWLOCKS_FROM: usize = 48;
const EVENTS: usize = 1_000_000;
/// The lock that is sometimes `try_lock`ed out of order.
const INVERTED: usize = 2;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default)]
struct Sim {
    events: Vec<Event>,
    now: Nanos,
    /// Per lock: holders and the FIFO of blocked requests.
    holders: Vec<Vec<(usize, Mode)>>,
    queues: Vec<VecDeque<(usize, Mode)>>,
    seq: Vec<u64>,
    /// Per thread: the locks still to take, the locks held, whether blocked.
    plans: Vec<Vec<(usize, Mode)>>,
    held: Vec<Vec<(usize, Mode)>>,
    blocked: Vec<bool>,
    tried: Vec<bool>,
}

fn site(line: u32) -> Site {
    Site {
        file: "benches/model.rs",
        line,
        column: 1,
    }
}

impl Sim {
    fn emit(&mut self, thread: usize, kind: EventKind) {
        self.events.push(Event {
            time: self.now,
            thread: ThreadId(thread as u32),
            kind,
        });
    }

    fn next_seq(&mut self, lock: usize) -> u64 {
        self.seq[lock] += 1;
        self.seq[lock]
    }

    fn grantable(&self, lock: usize, mode: Mode) -> bool {
        self.holders[lock]
            .iter()
            .all(|&(_, m)| !m.conflicts_with(mode))
    }

    fn acquired(&mut self, t: usize, lock: usize, mode: Mode) {
        let seq = self.next_seq(lock);
        let site = site(100 + lock as u32);
        let l = LockId(lock as u32);
        self.emit(
            t,
            EventKind::Acquired {
                lock: l,
                mode,
                site,
                seq,
                tried: false,
            },
        );
        self.holders[lock].push((t, mode));
        self.held[t].push((lock, mode));
    }

    fn new_plan(&mut self, t: usize, rng: &mut Rng) {
        let depth = 1 + rng.below(3) as usize;
        // A hot lock first half the time: contention.
        let mut next = if rng.below(2) == 0 {
            rng.below(4) as usize
        } else {
            rng.below(40) as usize
        };
        let mut plan = Vec::with_capacity(depth);
        for _ in 0..depth {
            if next >= LOCKS {
                break;
            }
            let mode = if next >= RWLOCKS_FROM && rng.below(10) < 7 {
                Mode::Shared
            } else {
                Mode::Exclusive
            };
            plan.push((next, mode));
            next += 1 + rng.below(12) as usize;
            if plan.len() == depth - 1 && rng.below(3) == 0 {
                next = next.max(RWLOCKS_FROM + rng.below(16) as usize);
            }
        }
        plan.reverse(); // popped from the back
        self.plans[t] = plan;
        self.tried[t] = false;
    }

    fn step(&mut self, t: usize, rng: &mut Rng) {
        if self.blocked[t] {
            return;
        }
        if let Some(&(lock, mode)) = self.plans[t].last() {
            self.plans[t].pop();
            if self.queues[lock].is_empty() && self.grantable(lock, mode) {
                self.acquired(t, lock, mode);
            } else {
                let l = LockId(lock as u32);
                let site = site(200 + lock as u32);
                self.emit(
                    t,
                    EventKind::Request {
                        lock: l,
                        mode,
                        site,
                        timed: false,
                        ticket: 0,
                    },
                );
                self.queues[lock].push_back((t, mode));
                self.blocked[t] = true;
            }
            return;
        }
        let top = self.held[t].iter().map(|&(l, _)| l).max().unwrap_or(0);
        if !self.tried[t] && top > INVERTED && rng.below(50) == 0 {
            // Out of order, but a try: it never blocks, so the run cannot hang.
            self.tried[t] = true;
            let lock = INVERTED;
            let held = self.held[t].iter().any(|&(l, _)| l == lock);
            if !held && self.queues[lock].is_empty() && self.grantable(lock, Mode::Exclusive) {
                self.acquired(t, lock, Mode::Exclusive);
            } else {
                let l = LockId(lock as u32);
                let site = site(300 + lock as u32);
                self.emit(
                    t,
                    EventKind::TryFailed {
                        lock: l,
                        mode: Mode::Exclusive,
                        site,
                    },
                );
            }
            return;
        }
        let Some((lock, mode)) = self.held[t].pop() else {
            self.new_plan(t, rng);
            return;
        };
        let seq = self.next_seq(lock);
        self.emit(
            t,
            EventKind::Released {
                lock: LockId(lock as u32),
                mode,
                seq,
            },
        );
        let pos = self.holders[lock]
            .iter()
            .position(|&(h, _)| h == t)
            .unwrap_or(0);
        self.holders[lock].swap_remove(pos);
        while let Some(&(w, m)) = self.queues[lock].front() {
            if !self.grantable(lock, m) {
                break;
            }
            self.queues[lock].pop_front();
            self.now += 1;
            self.acquired(w, lock, m);
            self.blocked[w] = false;
        }
    }
}

fn generate() -> Vec<Event> {
    let mut sim = Sim {
        holders: vec![Vec::new(); LOCKS],
        queues: vec![VecDeque::new(); LOCKS],
        seq: vec![0; LOCKS],
        plans: vec![Vec::new(); THREADS],
        held: vec![Vec::new(); THREADS],
        blocked: vec![false; THREADS],
        tried: vec![false; THREADS],
        ..Sim::default()
    };
    sim.events.reserve(EVENTS + 64);
    for t in 0..THREADS {
        sim.emit(
            t,
            EventKind::ThreadStart {
                name: format!("worker-{t}"),
            },
        );
    }
    for l in 0..LOCKS {
        let kind = if l >= RWLOCKS_FROM {
            LockKind::RwLock
        } else {
            LockKind::Mutex
        };
        let lock = LockId(l as u32);
        let name = format!("lock-{l}");
        sim.emit(
            0,
            EventKind::LockCreated {
                lock,
                name,
                kind,
                site: site(l as u32),
                first_seq: 1,
            },
        );
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    while sim.events.len() < EVENTS {
        sim.now += 1 + rng.below(50);
        let t = rng.below(THREADS as u64) as usize;
        sim.step(t, &mut rng);
    }
    sim.events
}

fn apply_all(events: &[Event]) -> Model {
    let mut model = Model::new();
    for ev in events {
        black_box(model.apply(ev));
    }
    model
}

fn main() {
    let events = generate();
    let model = apply_all(&events);
    let contended: u64 = model.locks().iter().map(|l| l.stats.contended).sum();
    let acquisitions: u64 = model.locks().iter().map(|l| l.stats.acquisitions).sum();
    println!(
        "model: {} events, {acquisitions} acquisitions ({contended} contended), {} order edges, \
         {} potential deadlocks, {} deadlocks, {} anomalies",
        events.len(),
        model.order_edges().len(),
        model.potential_deadlocks().len(),
        model.deadlocks().len(),
        model.anomalies(),
    );
    let best = (0..5)
        .map(|_| {
            let start = Instant::now();
            black_box(apply_all(black_box(&events)));
            start.elapsed()
        })
        .min()
        .unwrap_or_default();
    println!(
        "model: apply {:.1} M events/s ({:.1} ns/event, best of 5)",
        events.len() as f64 / best.as_secs_f64() / 1e6,
        best.as_nanos() as f64 / events.len() as f64,
    );

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("apply_1M", |b| b.iter(|| apply_all(black_box(&events))));
    group.finish();
    c.final_summary();
}
