//! Every deadlock shape on real threads, forced with barriers so that each run
//! deadlocks the same way; every wait bounded. The deadlocked threads are left
//! blocked for the rest of the test process, as they would be in a program.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use common::{expect_deadlock, serial, session};
use lockscope::{Condvar, Mutex, RwLock, thread};

/// `n` threads in a ring: thread i takes lock i, all meet, then each takes
/// lock i+1. Returns the cycle's thread names in report order.
fn ring(n: usize) -> lockscope::DeadlockReport {
    let _serial = serial();
    let (session, reports) = session();
    let locks: Arc<Vec<Mutex<()>>> =
        Arc::new((0..n).map(|i| Mutex::named(format!("L{i}"), ())).collect());
    let barrier = Arc::new(Barrier::new(n));
    for i in 0..n {
        let (locks, barrier) = (Arc::clone(&locks), Arc::clone(&barrier));
        thread::Builder::new()
            .name(format!("t{i}"))
            .spawn(move || {
                let _mine = locks[i].lock();
                barrier.wait();
                let _next = locks[(i + 1) % n].lock();
            })
            .unwrap();
    }
    let report = expect_deadlock(&reports);
    drop(session);
    report
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
fn relocking_a_held_mutex_is_a_self_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let m = Arc::new(Mutex::named("m", ()));
    let m2 = Arc::clone(&m);
    thread::Builder::new()
        .name("selfish".into())
        .spawn(move || {
            let _first = m2.lock();
            let _second = m2.lock();
        })
        .unwrap();
    let report = expect_deadlock(&reports);
    assert_eq!(report.threads, ["selfish"]);
    assert_eq!(report.locks, ["m"]);
    drop(session);
}

#[test]
fn upgrading_a_read_lock_to_write_is_a_self_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let l = Arc::new(RwLock::named("config", ()));
    let l2 = Arc::clone(&l);
    thread::Builder::new()
        .name("upgrader".into())
        .spawn(move || {
            let _r = l2.read();
            let _w = l2.write();
        })
        .unwrap();
    let report = expect_deadlock(&reports);
    assert_eq!(report.threads, ["upgrader"]);
    assert_eq!(report.locks, ["config"]);
    drop(session);
}

#[test]
fn a_cycle_through_a_mutex_and_an_rwlock_deadlocks() {
    let _serial = serial();
    let (session, reports) = session();
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
    let report = expect_deadlock(&reports);
    let mut locks = report.locks.clone();
    locks.sort();
    assert_eq!(locks, ["m", "r"]);
    drop(session);
}

/// T1 holds X and waits on a condvar; T2 takes the condvar's mutex, notifies,
/// and (still holding the mutex) asks for X. T1 wakes needing the mutex back:
/// a cycle that exists only after the wake.
#[test]
fn a_cycle_formed_after_a_condvar_wake_deadlocks() {
    let _serial = serial();
    let (session, reports) = session();
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
    let report = expect_deadlock(&reports);
    let mut threads = report.threads.clone();
    threads.sort();
    assert_eq!(threads, ["sleeper", "waker"]);
    let mut locks = report.locks.clone();
    locks.sort();
    assert_eq!(locks, ["m", "x"]);
    drop(session);
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
