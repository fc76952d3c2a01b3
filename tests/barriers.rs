//! Barriers on real threads: `lockscope::Barrier` waits are wait-for edges.
//! A thread holding a lock the last participant needs is caught every time;
//! barrier loops are never reported. Interleavings are forced with std
//! barriers; every wait is bounded. Deadlocked threads stay blocked.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{expect_deadlock, never_reported, serial, session};
use lockscope::{Barrier, Mutex, thread};

/// Three workers pass barrier "B" once; then w0 holds `L` and waits at it,
/// w1 waits at it, and w2 wants `L` before it would arrive.
fn hold_at_the_barrier() {
    let b = Arc::new(Barrier::named("B", 3));
    let l = Arc::new(Mutex::named("L", ()));
    let held = Arc::new(std::sync::Barrier::new(2));
    for i in 0..3 {
        let (b, l, held) = (Arc::clone(&b), Arc::clone(&l), Arc::clone(&held));
        thread::Builder::new()
            .name(format!("w{i}"))
            .stack_size(64 * 1024)
            .spawn(move || {
                b.wait();
                match i {
                    0 => {
                        let _l = l.lock();
                        held.wait();
                        b.wait();
                    }
                    1 => {
                        b.wait();
                    }
                    _ => {
                        held.wait();
                        let _l = l.lock();
                        b.wait();
                    }
                }
            })
            .unwrap();
    }
}

#[test]
fn holding_a_lock_the_last_participant_needs_is_caught_every_time() {
    for run in 0..20 {
        let _serial = serial();
        let (session, reports) = session();
        hold_at_the_barrier();
        let text = expect_deadlock(&reports).to_string();
        assert!(
            text.contains("thread \"w0\" waits at barrier \"B\" (wait at tests/barriers.rs:"),
            "run {run}: {text}"
        );
        assert!(
            text.contains("for thread \"w2\", which has not arrived"),
            "run {run}: {text}"
        );
        assert!(
            text.contains("thread \"w2\" waits for mutex \"L\""),
            "run {run}: {text}"
        );
        session.sync();
    }
}

/// Four threads, twenty rounds, a shared counter updated between rounds.
fn a_barrier_loop() {
    let b = Arc::new(Barrier::named("round", 4));
    let total = Arc::new(Mutex::named("total", 0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (b, total) = (Arc::clone(&b), Arc::clone(&total));
            thread::spawn(move || {
                let mut leaders = 0;
                for _ in 0..20 {
                    *total.lock() += 1;
                    if b.wait().is_leader() {
                        leaders += 1;
                    }
                }
                leaders
            })
        })
        .collect();
    let leaders: i32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(leaders, 20);
    assert_eq!(*total.lock(), 80);
}

/// A thread holds a lock no other participant needs while it waits.
fn holding_an_unrelated_lock_at_the_barrier() {
    let b = Arc::new(Barrier::named("B", 3));
    let mine = Arc::new(Mutex::named("mine", 0));
    let others = Arc::new(Mutex::named("others", 0));
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let (b, mine, others) = (Arc::clone(&b), Arc::clone(&mine), Arc::clone(&others));
            thread::spawn(move || {
                for _ in 0..5 {
                    if i == 0 {
                        let mut m = mine.lock();
                        *m += 1;
                        b.wait();
                    } else {
                        *others.lock() += 1;
                        b.wait();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn a_barrier_loop_is_never_reported() {
    never_reported(a_barrier_loop);
}

#[test]
fn holding_an_unrelated_lock_at_a_barrier_is_never_reported() {
    never_reported(holding_an_unrelated_lock_at_the_barrier);
}
