//! Stalls: every live thread blocked with nobody left to wake it. The lost
//! notification shapes are reported every run; the safe condvar patterns
//! never. Every sync object is made before the session or inside the
//! threads, so the test's own thread (blocked in `join`, which lockscope does
//! not see) is not one of the session's threads. Every wait is bounded.
//!
//! `LOCKSCOPE_STALL_RUNS=N` sets the runs per shape (100 by default).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TIMEOUT, serial, stall_session};
use lockscope::{Condvar, Mutex, thread};

fn runs() -> usize {
    std::env::var("LOCKSCOPE_STALL_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// A short grace for the shapes that must stall: how soon it is reported.
const SHORT: Duration = Duration::from_millis(20);
/// The grace for the safe patterns: long enough that a descheduled notifier
/// on a loaded machine is not flagged, far below a real hang.
const SAFE: Duration = Duration::from_millis(250);

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> lockscope::thread::JoinHandle<()> {
    thread::Builder::new()
        .name(name.into())
        // Some stay blocked for the rest of the process: keep them small.
        .stack_size(64 * 1024)
        .spawn(f)
        .unwrap()
}

/// A thread pool's job queue.
struct Pool {
    jobs: Mutex<VecDeque<Box<dyn FnOnce() + Send>>>,
    more: Condvar,
}

/// A shape's threads, to start once the session is on: its sync objects are
/// made before, so they register on first use, on the shape's threads.
type Run = Box<dyn FnOnce()>;

/// A one-shot flag with a condvar, as in the Rust book and rayon's latches.
struct Latch {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Latch {
    fn new(name: &'static str) -> Arc<Latch> {
        Arc::new(Latch {
            set: Mutex::named(format!("{name} flag"), false),
            cv: Condvar::named(name),
        })
    }

    fn wait(&self) {
        let mut set = self.set.lock();
        while !*set {
            self.cv.wait(&mut set);
        }
    }

    fn set(&self) {
        *self.set.lock() = true;
        self.cv.notify_all();
    }
}

/// A producer that returns without setting the flag it was to set.
fn producer_exits_without_notifying() -> Run {
    let ready = Latch::new("ready");
    Box::new(move || {
        let r = Arc::clone(&ready);
        let consumer = spawn("consumer", move || r.wait());
        let producer = spawn("producer", move || {
            // Takes the lock, "forgets" to set the flag and notify.
            drop(ready.set.lock());
        });
        // A std join: the test's own thread stays unseen, so it does not
        // count as a live thread that could still notify.
        producer.into_std().join().unwrap();
        drop(consumer);
    })
}

/// A pool: workers wait for jobs; the one job waits for a latch that the
/// code meant to set it never does (rayon's latch, rust-threadpool's join).
fn pool_worker_waits_for_a_latch_nobody_sets() -> Run {
    let pool = Arc::new(Pool {
        jobs: Mutex::named("jobs", VecDeque::new()),
        more: Condvar::named("job available"),
    });
    let done = Latch::new("done");
    Box::new(move || start_pool(pool, done))
}

fn start_pool(pool: Arc<Pool>, done: Arc<Latch>) {
    for i in 0..3 {
        let pool = Arc::clone(&pool);
        spawn(&format!("worker {i}"), move || {
            loop {
                let job = {
                    let mut jobs = pool.jobs.lock();
                    loop {
                        if let Some(job) = jobs.pop_front() {
                            break job;
                        }
                        pool.more.wait(&mut jobs);
                    }
                };
                job();
            }
        });
    }
    spawn("submitter", move || {
        pool.jobs.lock().push_back(Box::new(move || done.wait()));
        pool.more.notify_one();
    })
    .into_std()
    .join()
    .unwrap();
}

fn stalls_every_run(shape: fn() -> Run, first_line: &str, blocked: usize) {
    let _serial = serial();
    let n = runs();
    for run in 0..n {
        let go = shape();
        let (session, stalls, deadlocks) = stall_session(SHORT);
        go();
        let report = stalls
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("run {run} of {n}: no stall reported"));
        let text = report.to_string();
        if run == 0 {
            println!("{text}");
        }
        assert!(text.starts_with(first_line), "run {run}: {text}");
        assert!(text.contains("tests/stalls.rs:"), "run {run}: {text}");
        assert_eq!(report.threads.len(), blocked, "run {run}: {text}");
        assert!(deadlocks.try_recv().is_err(), "run {run}: not a deadlock");
        let summary = session.finish().unwrap();
        assert_eq!(summary.stalls.len(), 1, "run {run}");
        assert!(summary.deadlocks.is_empty(), "run {run}");
    }
    println!("{n} runs, {n} stalls");
}

#[test]
fn a_producer_that_exits_without_notifying_is_a_stall_every_run() {
    stalls_every_run(
        producer_exits_without_notifying,
        "STALL: its only thread blocked; \"consumer\" waits on condvar \"ready\" (at tests/stalls.rs:",
        1,
    );
}

#[test]
fn a_pool_worker_waiting_for_a_latch_nobody_sets_is_a_stall_every_run() {
    stalls_every_run(
        pool_worker_waits_for_a_latch_nobody_sets,
        "STALL: all 3 threads blocked; \"worker ",
        3,
    );
}

/// Runs `pattern` (which must end by itself, joining what it spawns) in a
/// session per run: never a stall, never a deadlock.
fn never_stalls(pattern: fn() -> Run) {
    let _serial = serial();
    let n = runs();
    for run in 0..n {
        let go = pattern();
        let (session, stalls, deadlocks) = stall_session(SAFE);
        go();
        session.sync();
        assert!(stalls.try_recv().is_err(), "run {run}: a false stall");
        assert!(deadlocks.try_recv().is_err(), "run {run}: a false deadlock");
        let summary = session.finish().unwrap();
        assert!(summary.stalls.is_empty(), "run {run}: {:?}", summary.stalls);
        assert_eq!(summary.anomalies, 0, "run {run}");
    }
    println!("{n} runs, no stall");
}

/// `notify_all` to many waiters: parking_lot requeues them onto the mutex.
fn requeue() -> Run {
    let latch = Latch::new("go");
    Box::new(move || requeue_run(latch))
}

fn requeue_run(latch: Arc<Latch>) {
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let l = Arc::clone(&latch);
            spawn(&format!("waiter {i}"), move || l.wait())
        })
        .collect();
    let l = Arc::clone(&latch);
    spawn("setter", move || l.set()).join().unwrap();
    for w in waiters {
        w.join().unwrap();
    }
}

/// Wake-ups with nothing to see (notifies before the condition holds): the
/// waiter loops and waits again, until the last notify.
fn spurious_wake_ups() -> Run {
    let state = Arc::new((Mutex::named("count", 0u32), Condvar::named("changed")));
    Box::new(move || spurious_run(state))
}

fn spurious_run(state: Arc<(Mutex<u32>, Condvar)>) {
    let s = Arc::clone(&state);
    let waiter = spawn("waiter", move || {
        let (count, cv) = &*s;
        let mut c = count.lock();
        while *c < 20 {
            cv.wait(&mut c);
        }
    });
    let s = Arc::clone(&state);
    spawn("bumper", move || {
        let (count, cv) = &*s;
        for _ in 0..20 {
            *count.lock() += 1;
            cv.notify_one();
        }
    })
    .join()
    .unwrap();
    waiter.join().unwrap();
}

/// Bounded waits only: a thread polling with `wait_for` never stalls, even
/// when nobody notifies it for a while.
fn bounded_waits() -> Run {
    let state = Arc::new((Mutex::named("flag", false), Condvar::named("poll")));
    Box::new(move || bounded_run(state))
}

fn bounded_run(state: Arc<(Mutex<bool>, Condvar)>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let (s, p) = (Arc::clone(&state), Arc::clone(&polls));
    let poller = spawn("poller", move || {
        let (flag, cv) = &*s;
        let mut f = flag.lock();
        while !*f {
            cv.wait_for(&mut f, Duration::from_millis(1));
            p.fetch_add(1, Ordering::Relaxed);
        }
    });
    let s = Arc::clone(&state);
    spawn("setter", move || {
        // Lets the poller time out a few times first (bounded: it polls).
        while polls.load(Ordering::Relaxed) < 3 {
            std::thread::yield_now();
        }
        *s.0.lock() = true;
    })
    .join()
    .unwrap();
    poller.join().unwrap();
}

/// WebKit's WTF-style bounded queue: producers wait while full, consumers
/// while empty, each side notifying the other.
fn webkit_queue() -> Run {
    let q = Arc::new(Queue {
        items: Mutex::named("queue", VecDeque::new()),
        not_empty: Condvar::named("not empty"),
        not_full: Condvar::named("not full"),
    });
    Box::new(move || webkit_run(q))
}

/// A bounded queue with a condvar for each side.
struct Queue {
    items: Mutex<VecDeque<u32>>,
    not_empty: Condvar,
    not_full: Condvar,
}

fn webkit_run(q: Arc<Queue>) {
    let mut handles = Vec::new();
    for p in 0..2 {
        let q = Arc::clone(&q);
        handles.push(spawn(&format!("producer {p}"), move || {
            for i in 0..50 {
                let mut items = q.items.lock();
                while items.len() >= 2 {
                    q.not_full.wait(&mut items);
                }
                items.push_back(i);
                drop(items);
                q.not_empty.notify_one();
            }
        }));
    }
    for c in 0..2 {
        let q = Arc::clone(&q);
        handles.push(spawn(&format!("consumer {c}"), move || {
            for _ in 0..50 {
                let mut items = q.items.lock();
                while items.is_empty() {
                    q.not_empty.wait(&mut items);
                }
                items.pop_front();
                drop(items);
                q.not_full.notify_one();
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn requeued_waiters_never_stall() {
    never_stalls(requeue);
}

#[test]
fn spurious_wake_ups_never_stall() {
    never_stalls(spurious_wake_ups);
}

#[test]
fn bounded_waits_never_stall() {
    never_stalls(bounded_waits);
}

#[test]
fn a_webkit_style_queue_never_stalls() {
    never_stalls(webkit_queue);
}
