//! Every deadlock shape on real threads, forced with barriers so that each run
//! deadlocks the same way; every wait bounded. The deadlocked threads are left
//! blocked for the rest of the test process, as they would be in a program.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use common::{expect_deadlock, serial, session};
use lockscope::{Condvar, Mutex, RwLock, thread};

/// Runs `shape` (which leaves some threads deadlocked) in a fresh session and
/// returns the session's one deadlock report.
fn detect(shape: impl FnOnce()) -> lockscope::DeadlockReport {
    let _serial = serial();
    let (session, reports) = session();
    shape();
    let report = expect_deadlock(&reports);
    session.sync();
    assert!(reports.try_recv().is_err(), "one deadlock, reported twice");
    drop(session);
    report
}

/// `n` threads in a ring: thread i takes lock i, all meet, then each takes
/// lock i+1.
fn ring(n: usize) -> lockscope::DeadlockReport {
    detect(|| ring_shape(n))
}

fn ring_shape(n: usize) {
    let locks: Arc<Vec<Mutex<()>>> =
        Arc::new((0..n).map(|i| Mutex::named(format!("L{i}"), ())).collect());
    let barrier = Arc::new(Barrier::new(n));
    for i in 0..n {
        let (locks, barrier) = (Arc::clone(&locks), Arc::clone(&barrier));
        thread::Builder::new()
            .name(format!("t{i}"))
            // They stay deadlocked for the rest of the process: keep them small.
            .stack_size(64 * 1024)
            .spawn(move || {
                let _mine = locks[i].lock();
                barrier.wait();
                let _next = locks[(i + 1) % n].lock();
            })
            .unwrap();
    }
}

#[test]
fn two_threads_in_opposite_order_deadlock_and_the_report_names_both() {
    let report = ring(2);
    let mut threads = report.threads.clone();
    threads.sort();
    assert_eq!(threads, ["t0", "t1"]);
    let mut locks = report.locks.clone();
    locks.sort();
    assert_eq!(locks, ["L0", "L1"]);
    let text = report.to_string();
    assert!(text.contains("DEADLOCK"), "{text}");
    // Every hold and every request is located in this file.
    assert!(text.matches("tests/deadlocks.rs:").count() >= 4, "{text}");
}

#[test]
fn three_thread_ring_deadlocks() {
    assert_eq!(ring(3).threads.len(), 3);
}

#[test]
fn five_thread_ring_deadlocks() {
    assert_eq!(ring(5).threads.len(), 5);
}

#[test]
fn a_hundred_thread_ring_deadlocks() {
    let report = ring(100);
    assert_eq!(report.threads.len(), 100);
    assert_eq!(report.locks.len(), 100);
}

fn self_deadlock() {
    let m = Arc::new(Mutex::named("m", ()));
    thread::Builder::new()
        .name("selfish".into())
        .spawn(move || {
            let _first = m.lock();
            let _second = m.lock();
        })
        .unwrap();
}

#[test]
fn relocking_a_held_mutex_is_a_self_deadlock() {
    let report = detect(self_deadlock);
    assert_eq!(report.threads, ["selfish"]);
    assert_eq!(report.locks, ["m"]);
}

fn read_to_write_upgrade() {
    let l = Arc::new(RwLock::named("config", ()));
    thread::Builder::new()
        .name("upgrader".into())
        .spawn(move || {
            let _r = l.read();
            let _w = l.write();
        })
        .unwrap();
}

#[test]
fn upgrading_a_read_lock_to_write_is_a_self_deadlock() {
    let report = detect(read_to_write_upgrade);
    assert_eq!(report.threads, ["upgrader"]);
    assert_eq!(report.locks, ["config"]);
}

fn mutex_and_rwlock_cycle() {
    let m = Arc::new(Mutex::named("m", ()));
    let r = Arc::new(RwLock::named("r", ()));
    let barrier = Arc::new(Barrier::new(2));
    {
        let (m, r, barrier) = (Arc::clone(&m), Arc::clone(&r), Arc::clone(&barrier));
        thread::Builder::new()
            .name("reader".into())
            .spawn(move || {
                let _m = m.lock();
                barrier.wait();
                let _r = r.read();
            })
            .unwrap();
    }
    {
        let (m, r, barrier) = (Arc::clone(&m), Arc::clone(&r), Arc::clone(&barrier));
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                let _w = r.write();
                barrier.wait();
                let _m = m.lock();
            })
            .unwrap();
    }
}

#[test]
fn a_cycle_through_a_mutex_and_an_rwlock_deadlocks() {
    let report = detect(mutex_and_rwlock_cycle);
    let mut locks = report.locks.clone();
    locks.sort();
    assert_eq!(locks, ["m", "r"]);
}

/// T1 holds X and waits on a condvar; T2 takes the condvar's mutex, notifies,
/// and (still holding the mutex) asks for X. T1 wakes needing the mutex back:
/// a cycle that exists only after the wake.
fn cycle_after_a_condvar_wake() {
    let x = Arc::new(Mutex::named("x", ()));
    let m = Arc::new(Mutex::named("m", false));
    let cv = Arc::new(Condvar::named("cv"));
    let waiting = Arc::new(AtomicBool::new(false));
    {
        let (x, m, cv, waiting) = (
            Arc::clone(&x),
            Arc::clone(&m),
            Arc::clone(&cv),
            Arc::clone(&waiting),
        );
        thread::Builder::new()
            .name("sleeper".into())
            .spawn(move || {
                let _x = x.lock();
                let mut g = m.lock();
                waiting.store(true, Ordering::SeqCst);
                while !*g {
                    cv.wait(&mut g);
                }
            })
            .unwrap();
    }
    {
        let (x, m, cv, waiting) = (
            Arc::clone(&x),
            Arc::clone(&m),
            Arc::clone(&cv),
            Arc::clone(&waiting),
        );
        thread::Builder::new()
            .name("waker".into())
            .spawn(move || {
                // The flag is set under m, so once we hold m with the flag up
                // the sleeper is inside `wait`.
                let mut g = loop {
                    let g = m.lock();
                    if waiting.load(Ordering::SeqCst) {
                        break g;
                    }
                    drop(g);
                    std::thread::yield_now();
                };
                *g = true;
                assert!(cv.notify_one());
                let _x = x.lock();
            })
            .unwrap();
    }
}

#[test]
fn a_cycle_formed_after_a_condvar_wake_deadlocks() {
    let report = detect(cycle_after_a_condvar_wake);
    let mut threads = report.threads.clone();
    threads.sort();
    assert_eq!(threads, ["sleeper", "waker"]);
    let mut locks = report.locks.clone();
    locks.sort();
    assert_eq!(locks, ["m", "x"]);
}

/// Every shape, many times: detected every time, with the whole cycle.
/// `LOCKSCOPE_SHAPE_RUNS=N` sets the runs (10 by default); the README's
/// figure comes from `LOCKSCOPE_SHAPE_RUNS=200 cargo test --release --test
/// deadlocks every_shape -- --nocapture`.
#[test]
fn every_shape_is_detected_every_time() {
    let runs: usize = std::env::var("LOCKSCOPE_SHAPE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let shapes: [(&str, fn(), usize); 8] = [
        ("2-thread ring", || ring_shape(2), 2),
        ("3-thread ring", || ring_shape(3), 3),
        ("5-thread ring", || ring_shape(5), 5),
        ("100-thread ring", || ring_shape(100), 100),
        ("self-deadlock", self_deadlock, 1),
        ("read-to-write upgrade", read_to_write_upgrade, 1),
        ("mutex and rwlock", mutex_and_rwlock_cycle, 2),
        ("after a condvar wake", cycle_after_a_condvar_wake, 2),
    ];
    for (name, shape, threads) in shapes {
        for run in 0..runs {
            let report = detect(shape);
            assert_eq!(report.threads.len(), threads, "{name}, run {run}");
        }
        println!("{name}: detected in {runs} of {runs} runs");
    }
}

#[test]
fn a_deadlock_is_reported_once_even_as_events_keep_coming() {
    let _serial = serial();
    let (session, reports) = session();
    let a = Arc::new(Mutex::named("a", ()));
    let b = Arc::new(Mutex::named("b", ()));
    let barrier = Arc::new(Barrier::new(2));
    for (first, second, name) in [(&a, &b, "p"), (&b, &a, "q")] {
        let (first, second, barrier) =
            (Arc::clone(first), Arc::clone(second), Arc::clone(&barrier));
        thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _f = first.lock();
                barrier.wait();
                let _s = second.lock();
            })
            .unwrap();
    }
    expect_deadlock(&reports);
    // More traffic on other locks does not repeat the report.
    let c = Mutex::named("c", 0);
    for _ in 0..1000 {
        *c.lock() += 1;
    }
    session.sync();
    assert!(reports.try_recv().is_err(), "the cycle was reported twice");
    let summary = session.finish().unwrap();
    assert_eq!(summary.deadlocks.len(), 1);
}
