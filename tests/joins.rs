//! Joins on real threads: `lockscope::thread::JoinHandle::join` waits for the
//! joined thread in the wait-for graph. A thread that holds a lock and joins
//! a thread that wants it is caught every time; joins that can end are never
//! reported. Every wait is bounded; the deadlocked threads are left blocked
//! for the rest of the test process, as they would be in a program.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Barrier};

use common::{TIMEOUT, expect_deadlock, never_reported, serial, session};
use lockscope::{Mutex, thread};

/// "joiner" holds `L`, spawns "worker", which wants `L`, and joins it. The
/// worker is spawned after `L` is taken, so every run closes the same cycle.
fn hold_and_join() {
    thread::Builder::new()
        .name("joiner".into())
        .stack_size(64 * 1024)
        .spawn(|| {
            let l = Arc::new(Mutex::named("L", ()));
            let _held = l.lock();
            let theirs = Arc::clone(&l);
            let worker = thread::Builder::new()
                .name("worker".into())
                .stack_size(64 * 1024)
                .spawn(move || drop(theirs.lock()))
                .unwrap();
            let _ = worker.join();
        })
        .unwrap();
}

#[test]
fn holding_a_lock_and_joining_the_thread_that_wants_it_is_a_deadlock() {
    for run in 0..20 {
        let _serial = serial();
        let (session, reports) = session();
        hold_and_join();
        let report = expect_deadlock(&reports);
        let text = report.to_string();
        assert!(
            text.contains("thread \"joiner\" joins thread \"worker\" (joined at tests/joins.rs:"),
            "run {run}: {text}"
        );
        assert!(
            text.contains("thread \"worker\" waits for mutex \"L\""),
            "run {run}: {text}"
        );
        assert!(
            text.contains("held by thread \"joiner\""),
            "run {run}: {text}"
        );
        assert_eq!(report.locks, ["L"], "run {run}");
        let mut threads = report.threads.clone();
        threads.sort();
        assert_eq!(threads, ["joiner", "worker"], "run {run}");
        session.sync();
        assert!(reports.try_recv().is_err(), "run {run}: reported twice");
    }
}

#[test]
fn two_threads_joining_each_other_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    // Each gets the other's handle through a channel, then joins it.
    let (to_a, for_a) = crossbeam_channel::bounded::<thread::JoinHandle<()>>(1);
    let (to_b, for_b) = crossbeam_channel::bounded::<thread::JoinHandle<()>>(1);
    let a = thread::Builder::new()
        .name("a".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            if let Ok(b) = for_a.recv_timeout(TIMEOUT) {
                let _ = b.join();
            }
        })
        .unwrap();
    let b = thread::Builder::new()
        .name("b".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            if let Ok(a) = for_b.recv_timeout(TIMEOUT) {
                let _ = a.join();
            }
        })
        .unwrap();
    to_a.send(b).unwrap();
    to_b.send(a).unwrap();
    let report = expect_deadlock(&reports);
    let text = report.to_string();
    assert!(text.contains("thread \"a\" joins thread \"b\""), "{text}");
    assert!(text.contains("thread \"b\" joins thread \"a\""), "{text}");
    assert!(report.locks.is_empty(), "{:?}", report.locks);
    session.sync();
}

/// The main thread joins a worker while another thread holds an unrelated
/// lock the worker never touches, and the worker takes a lock the joiner
/// does not hold.
fn join_while_others_hold_unrelated_locks() {
    let unrelated = Arc::new(Mutex::named("unrelated", ()));
    let mine = Arc::new(Mutex::named("mine", 0));
    let holding = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let holder = {
        let (unrelated, holding, release) = (
            Arc::clone(&unrelated),
            Arc::clone(&holding),
            Arc::clone(&release),
        );
        thread::spawn(move || {
            let _u = unrelated.lock();
            holding.wait();
            release.wait();
        })
    };
    holding.wait();
    let worker = {
        let mine = Arc::clone(&mine);
        thread::spawn(move || *mine.lock() += 1)
    };
    worker.join().unwrap();
    release.wait();
    holder.join().unwrap();
    assert_eq!(*mine.lock(), 1);
}

/// A thread holding a lock joins a worker that takes a different lock.
fn hold_one_lock_join_a_worker_on_another() {
    let a = Arc::new(Mutex::named("a", 0));
    let b = Arc::new(Mutex::named("b", 0));
    let mut held = a.lock();
    let worker = {
        let b = Arc::clone(&b);
        thread::spawn(move || *b.lock() += 1)
    };
    worker.join().unwrap();
    *held += 1;
}

/// A tree of joins: each thread spawns two children and joins them.
fn a_tree_of_joins() {
    fn node(depth: u32, counter: Arc<Mutex<u32>>) {
        if depth == 0 {
            *counter.lock() += 1;
            return;
        }
        let kids: Vec<_> = (0..2)
            .map(|_| {
                let c = Arc::clone(&counter);
                thread::spawn(move || node(depth - 1, c))
            })
            .collect();
        for k in kids {
            k.join().unwrap();
        }
    }
    let counter = Arc::new(Mutex::named("leaves", 0));
    node(3, Arc::clone(&counter));
    assert_eq!(*counter.lock(), 8);
}

#[test]
fn joining_while_others_hold_unrelated_locks_is_never_reported() {
    never_reported(join_while_others_hold_unrelated_locks);
}

#[test]
fn holding_a_lock_the_joined_thread_never_takes_is_never_reported() {
    never_reported(hold_one_lock_join_a_worker_on_another);
}

#[test]
fn a_tree_of_joins_is_never_reported() {
    never_reported(a_tree_of_joins);
}

#[test]
fn a_panicking_thread_is_joined_with_its_payload() {
    let _serial = serial();
    let (session, reports) = session();
    let h = thread::spawn(|| panic!("on purpose"));
    let err = h.join().unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"on purpose"));
    session.sync();
    assert!(reports.try_recv().is_err());
    let summary = session.finish().unwrap();
    assert_eq!(summary.anomalies, 0);
}

/// "owner" holds `L` and opens a scope whose thread wants `L`; the scope's
/// end joins it.
fn scope_end_while_holding() {
    thread::Builder::new()
        .name("owner".into())
        .stack_size(64 * 1024)
        .spawn(|| {
            let l = Mutex::named("L", ());
            let _held = l.lock();
            thread::scope(|s| {
                s.spawn(|| drop(l.lock()));
            });
        })
        .unwrap();
}

#[test]
fn the_end_of_a_scope_joins_and_a_cycle_through_it_is_a_deadlock() {
    for run in 0..20 {
        let _serial = serial();
        let (session, reports) = session();
        scope_end_while_holding();
        let text = expect_deadlock(&reports).to_string();
        assert!(
            text.contains("thread \"owner\" joins thread \""),
            "run {run}: {text}"
        );
        assert!(text.contains("waits for mutex \"L\""), "run {run}: {text}");
        session.sync();
    }
}

/// Scoped threads joined (explicitly and at the scope's end) while another
/// thread holds an unrelated lock the whole time.
fn scoped_threads_while_others_hold_unrelated_locks() {
    let unrelated = Arc::new(Mutex::named("unrelated", ()));
    let holding = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let holder = {
        let (unrelated, holding, release) = (
            Arc::clone(&unrelated),
            Arc::clone(&holding),
            Arc::clone(&release),
        );
        thread::spawn(move || {
            let _u = unrelated.lock();
            holding.wait();
            release.wait();
        })
    };
    holding.wait();
    let counter = Mutex::named("counter", 0);
    let mut data = vec![1, 2, 3];
    thread::scope(|s| {
        let h = s.spawn(|| data.iter().sum::<i32>());
        s.spawn(|| *counter.lock() += 1);
        s.spawn(|| *counter.lock() += 1);
        assert_eq!(h.join().unwrap(), 6);
    });
    data.push(4);
    assert_eq!(*counter.lock(), 2);
    release.wait();
    holder.join().unwrap();
}

#[test]
fn scoped_threads_joining_while_others_hold_unrelated_locks_are_never_reported() {
    never_reported(scoped_threads_while_others_hold_unrelated_locks);
}
