//! Time to draw one 200×50 frame of the TUI with 64 threads and a million
//! events of history (target: ≤ 5 ms).
//!
//! A small deterministic simulation produces the history up front: 64 threads
//! take one or two of 32 locks (in ascending order, so it never hangs), a few
//! hot locks make them queue, and some locks are RwLocks shared by readers.
//! The events are ingested into an `App` like the live screen does, then
//! `terminal.draw(|f| draw(f, &app))` is timed on a `TestBackend`.

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::LazyLock;
use std::time::Instant;

use criterion::Criterion;
use lockscope::TransportStats;
use lockscope::event::{Event, EventKind, LockId, LockKind, Mode, Nanos, Site, ThreadId};
use lockscope::tui::{Action, App, AppConfig, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Threads and locks: 64 and 32 unless `LOCKSCOPE_BENCH_THREADS` and
/// `LOCKSCOPE_BENCH_LOCKS` say otherwise (the README's 1,000-thread figure).
static THREADS: LazyLock<usize> = LazyLock::new(|| from_env("LOCKSCOPE_BENCH_THREADS", 64));
static LOCKS: LazyLock<usize> = LazyLock::new(|| from_env("LOCKSCOPE_BENCH_LOCKS", 32));
/// Locks `RWLOCKS_FROM..LOCKS` are RwLocks.
static RWLOCKS_FROM: LazyLock<usize> = LazyLock::new(|| *LOCKS * 3 / 4);

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n >= 2)
        .unwrap_or(default)
}
const EVENTS: usize = 1_000_000;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Sim {
    events: Vec<Event>,
    now: Nanos,
    seq: Vec<u64>,
    holders: Vec<Vec<(usize, Mode)>>,
    queues: Vec<VecDeque<(usize, Mode)>>,
    /// Per thread: locks still to take (popped from the back), locks held, blocked?
    plans: Vec<Vec<(usize, Mode)>>,
    held: Vec<Vec<(usize, Mode)>>,
    blocked: Vec<bool>,
}

fn site(line: u32) -> Site {
    Site {
        file: "benches/render.rs",
        line,
        column: 1,
    }
}

impl Sim {
    fn emit(&mut self, t: usize, kind: EventKind) {
        self.events.push(Event {
            time: self.now,
            thread: ThreadId(t as u32),
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

    fn acquire(&mut self, t: usize, lock: usize, mode: Mode) {
        let seq = self.next_seq(lock);
        let kind = EventKind::Acquired {
            lock: LockId(lock as u32),
            mode,
            site: site(100 + lock as u32),
            seq,
            tried: false,
        };
        self.emit(t, kind);
        self.holders[lock].push((t, mode));
        self.held[t].push((lock, mode));
    }

    fn plan(&mut self, t: usize, rng: &mut Rng) {
        let first = if rng.below(3) == 0 {
            rng.below(4) as usize // a hot lock
        } else {
            rng.below(*LOCKS as u64) as usize
        };
        let mut plan = vec![first];
        if rng.below(2) == 0 && first + 1 < *LOCKS {
            plan.push(first + 1 + rng.below((*LOCKS - first - 1) as u64) as usize);
        }
        self.plans[t] = plan
            .into_iter()
            .rev()
            .map(|l| {
                let shared = l >= *RWLOCKS_FROM && rng.below(10) < 7;
                (
                    l,
                    if shared {
                        Mode::Shared
                    } else {
                        Mode::Exclusive
                    },
                )
            })
            .collect();
    }

    fn step(&mut self, t: usize, rng: &mut Rng) {
        if self.blocked[t] {
            return;
        }
        if let Some((lock, mode)) = self.plans[t].pop() {
            if self.queues[lock].is_empty() && self.grantable(lock, mode) {
                self.acquire(t, lock, mode);
            } else {
                let kind = EventKind::Request {
                    lock: LockId(lock as u32),
                    mode,
                    site: site(200 + lock as u32),
                    timed: false,
                    ticket: 0,
                };
                self.emit(t, kind);
                self.queues[lock].push_back((t, mode));
                self.blocked[t] = true;
            }
            return;
        }
        let Some((lock, mode)) = self.held[t].pop() else {
            self.plan(t, rng);
            return;
        };
        let seq = self.next_seq(lock);
        let kind = EventKind::Released {
            lock: LockId(lock as u32),
            mode,
            seq,
        };
        self.emit(t, kind);
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
            self.now += 100;
            self.acquire(w, lock, m);
            self.blocked[w] = false;
        }
    }
}

fn generate() -> Vec<Event> {
    let mut sim = Sim {
        events: Vec::with_capacity(EVENTS + 128),
        now: 0,
        seq: vec![0; *LOCKS],
        holders: vec![Vec::new(); *LOCKS],
        queues: vec![VecDeque::new(); *LOCKS],
        plans: vec![Vec::new(); *THREADS],
        held: vec![Vec::new(); *THREADS],
        blocked: vec![false; *THREADS],
    };
    for l in 0..*LOCKS {
        let kind = if l >= *RWLOCKS_FROM {
            LockKind::RwLock
        } else {
            LockKind::Mutex
        };
        let created = EventKind::LockCreated {
            lock: LockId(l as u32),
            name: format!("lock {l}"),
            kind,
            site: site(l as u32),
            first_seq: 1,
        };
        sim.emit(0, created);
    }
    for t in 0..*THREADS {
        let name = format!("worker {t}");
        sim.emit(t, EventKind::ThreadStart { name });
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    while sim.events.len() < EVENTS {
        // Steps of 1–9 µs; blocked threads' steps emit nothing, so a million
        // events make ~26 s of history.
        sim.now += 1_000 + rng.below(8_000);
        let t = rng.below(*THREADS as u64) as usize;
        sim.step(t, &mut rng);
    }
    sim.events
}

fn app(events: &[Event]) -> App {
    let mut app = App::new(AppConfig {
        title: "render bench".into(),
        color: true,
        history_spans: 1_500_000,
    });
    for chunk in events.chunks(4_096) {
        app.ingest(chunk);
    }
    let now = events.last().map_or(0, |e| e.time) + 1_000_000;
    let transport = TransportStats {
        sent: events.len() as u64,
        received: events.len() as u64,
        ..TransportStats::default()
    };
    app.tick(now, transport);
    app
}

fn main() {
    let events = generate();
    let started = Instant::now();
    let mut app = app(&events);
    println!(
        "render: {} events, {} threads, {} locks, {:.1} s of history, ingested in {:.2} s",
        app.model().events(),
        app.model().threads().len(),
        app.model().locks().len(),
        app.model().last_time() as f64 / 1e9,
        started.elapsed().as_secs_f64(),
    );
    let mut terminal = match Terminal::new(TestBackend::new(200, 50)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let mut frame = |app: &App| {
        let _ = terminal.draw(|f| draw(f, black_box(app)));
    };
    let mut c = Criterion::default().sample_size(50).configure_from_args();
    let mut group = c.benchmark_group("render");
    group.bench_function("frame_200x50_follow_1ms_per_col", |b| {
        b.iter(|| frame(&app))
    });
    // Zoomed out to 200 ms per column: ~180 columns cover the whole history.
    for _ in 0..7 {
        app.on_action(Action::ZoomOut);
    }
    group.bench_function("frame_200x50_zoomed_out_200ms_per_col", |b| {
        b.iter(|| frame(&app))
    });
    app.on_action(Action::NextFocus);
    app.on_action(Action::ToggleDetails);
    group.bench_function("frame_200x50_lock_details", |b| b.iter(|| frame(&app)));
    group.finish();
    c.final_summary();
}
