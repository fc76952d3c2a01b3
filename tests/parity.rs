//! The parking_lot API lockscope mirrors beyond lock/read/write, each checked
//! in a session against what the model must see. Every wait is bounded.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{TIMEOUT, expect_deadlock, serial, session, stall_session};
use lockscope::event::Mode;
use lockscope::model::ThreadStatus;
use lockscope::{
    Condvar, Mutex, MutexGuard, ReentrantMutex, RwLock, RwLockUpgradableReadGuard,
    RwLockWriteGuard, thread,
};

static COUNTER: Mutex<u64> = Mutex::new(0);
static TABLE: RwLock<u32> = RwLock::new(0);

fn clean(summary: &lockscope::model::Summary) {
    assert_eq!(summary.anomalies, 0);
    assert!(summary.deadlocks.is_empty(), "{:?}", summary.deadlocks);
    assert!(summary.stalls.is_empty(), "{:?}", summary.stalls);
}

#[test]
fn statics_register_on_first_use_with_their_site() {
    let _serial = serial();
    let (session, _) = session();
    thread::spawn(|| {
        *COUNTER.lock() += 1;
        *TABLE.write() += 1;
    })
    .join()
    .unwrap();
    let summary = session.finish().unwrap();
    clean(&summary);
    let names: Vec<&str> = summary.locks.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.len(), 2);
    // Named after the protected type and the static's site, line and column.
    assert!(names[0].starts_with("Mutex<u64> parity.rs:1"), "{names:?}");
    assert!(names[1].starts_with("RwLock<u32> parity.rs:1"), "{names:?}");
    assert!(summary.locks.iter().all(|l| l.acquisitions == 1));
}

#[test]
fn a_reentrant_mutex_locked_again_by_its_owner_is_one_hold_and_no_deadlock() {
    let _serial = serial();
    let m = ReentrantMutex::named("re", ());
    let (session, reports) = session();
    thread::spawn(move || {
        let a = m.lock();
        let b = m.lock();
        drop(a); // still held through `b`
        assert!(m.is_owned_by_current_thread());
        drop(b);
    })
    .join()
    .unwrap();
    let summary = session.finish().unwrap();
    assert!(reports.try_recv().is_err());
    clean(&summary);
    assert_eq!(summary.locks[0].acquisitions, 1, "the outermost hold only");
}

#[test]
fn a_reentrant_mutex_in_a_cycle_still_deadlocks() {
    let _serial = serial();
    let (session, reports) = session();
    let a = Arc::new(ReentrantMutex::named("ra", ()));
    let b = Arc::new(Mutex::named("b", ()));
    let barrier = Arc::new(Barrier::new(2));
    for left in [true, false] {
        let (a, b, barrier) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&barrier));
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                if left {
                    let _a = a.lock();
                    let _again = a.lock();
                    barrier.wait();
                    let _b = b.lock();
                } else {
                    let _b = b.lock();
                    barrier.wait();
                    let _a = a.lock();
                }
            })
            .unwrap();
    }
    let report = expect_deadlock(&reports);
    let mut locks = report.locks.clone();
    locks.sort();
    assert_eq!(locks, ["b", "ra"]);
    drop(session);
}

#[test]
fn timed_reads_and_writes_time_out_without_a_deadlock() {
    let _serial = serial();
    let l = Arc::new(RwLock::named("rw", ()));
    let (session, reports) = session();
    let w = l.write();
    let l2 = Arc::clone(&l);
    thread::spawn(move || {
        assert!(l2.try_read_for(Duration::from_millis(5)).is_none());
        assert!(l2.try_write_for(Duration::from_millis(5)).is_none());
    })
    .join()
    .unwrap();
    drop(w);
    assert!(l.try_write_for(TIMEOUT).is_some());
    let summary = session.finish().unwrap();
    assert!(reports.try_recv().is_err());
    clean(&summary);
    assert_eq!(summary.locks[0].timeouts, 2);
}

#[test]
fn a_downgraded_writer_holds_the_lock_shared_and_lets_readers_in() {
    let _serial = serial();
    let l = Arc::new(RwLock::named("rw", 1));
    let (session, _) = session();
    let mut w = l.write();
    *w += 1;
    let r = RwLockWriteGuard::downgrade(w);
    let l2 = Arc::clone(&l);
    let seen = thread::spawn(move || *l2.read()).join().unwrap();
    assert_eq!(seen, 2);
    let holders = session
        .with_model(|m| {
            let lock = &m.locks()[0];
            lock.holders.iter().map(|h| h.mode).collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(holders, [lockscope::event::Mode::Shared]);
    drop(r);
    let summary = session.finish().unwrap();
    clean(&summary);
}

#[test]
fn unlocked_lets_another_thread_in_and_takes_the_mutex_back() {
    let _serial = serial();
    let m = Arc::new(Mutex::named("m", 0));
    let (session, _) = session();
    let mut g = m.lock();
    let m2 = Arc::clone(&m);
    MutexGuard::unlocked(&mut g, move || {
        thread::spawn(move || *m2.lock() += 1).join().unwrap();
    });
    assert_eq!(*g, 1);
    drop(g);
    let summary = session.finish().unwrap();
    clean(&summary);
    assert_eq!(summary.locks[0].acquisitions, 3);
}

#[test]
fn wait_while_waits_for_the_condition_and_wait_until_is_bounded() {
    let _serial = serial();
    // Made before the session: the test thread is not one of its threads.
    let pair = Arc::new((Mutex::named("count", 0), Condvar::named("changed")));
    let (session, stalls, _) = stall_session(Duration::from_millis(20));
    let p = Arc::clone(&pair);
    let waiter = thread::spawn(move || {
        let (count, cv) = &*p;
        let mut g = count.lock();
        cv.wait_while(&mut g, |n| *n < 3);
        *g
    });
    let p = Arc::clone(&pair);
    thread::spawn(move || {
        for _ in 0..3 {
            *p.0.lock() += 1;
            p.1.notify_all();
        }
    })
    .join()
    .unwrap();
    assert_eq!(waiter.join().unwrap(), 3);
    // Nobody will notify: a bounded wait still ends, and is no stall.
    let p = Arc::clone(&pair);
    let timed = thread::spawn(move || {
        let (count, cv) = &*p;
        let mut g = count.lock();
        let deadline = Instant::now() + Duration::from_millis(100);
        cv.wait_until(&mut g, deadline).timed_out()
    });
    assert!(timed.join().unwrap());
    let summary = session.finish().unwrap();
    assert!(stalls.try_recv().is_err(), "a bounded wait is no stall");
    clean(&summary);
    // Joining registers the test thread too: it is the one still running.
    let me = std::thread::current().name().map(str::to_owned);
    let others = summary
        .threads
        .iter()
        .filter(|t| Some(&t.name) != me.as_ref());
    assert!(others.clone().count() >= 3);
    assert!(
        others.clone().all(|t| t.status == "finished"),
        "{:?}",
        summary.threads
    );
}

#[test]
fn a_thread_in_wait_until_is_not_counted_as_blocked_for_good() {
    let _serial = serial();
    let pair = Arc::new((Mutex::named("m", ()), Condvar::named("cv")));
    let (session, _, _) = stall_session(Duration::from_millis(20));
    let p = Arc::clone(&pair);
    let t = thread::spawn(move || {
        let mut g = p.0.lock();
        p.1.wait_until(&mut g, Instant::now() + Duration::from_millis(200))
            .timed_out()
    });
    common::eventually("the thread waits", || {
        session
            .with_model(|m| {
                m.threads()
                    .iter()
                    .any(|t| matches!(t.status, ThreadStatus::CondWait { timed: true, .. }))
            })
            .unwrap()
    });
    assert!(session.with_model(|m| m.stall()).unwrap().is_none());
    assert!(t.join().unwrap());
    drop(session);
}

/// The recursive-read bug's own fix: the second read is `read_recursive`,
/// and a writer queued in between no longer deadlocks it.
#[test]
fn read_recursive_goes_past_a_queued_writer_and_is_no_hazard() {
    let _serial = serial();
    let l = Arc::new(RwLock::named("L", 0));
    let (session, reports) = session();
    let first = l.read();
    let l2 = Arc::clone(&l);
    let writer = thread::spawn(move || *l2.write() += 1);
    // The writer has claimed the lock: a plain read would queue behind it.
    let deadline = Instant::now() + TIMEOUT;
    while l.try_read().is_some() {
        assert!(Instant::now() < deadline, "the writer never queued");
        std::thread::yield_now();
    }
    let second = l.read_recursive();
    assert_eq!(*first + *second, 0);
    drop((first, second));
    writer.join().unwrap();
    let summary = session.finish().unwrap();
    assert!(reports.try_recv().is_err());
    clean(&summary);
    assert!(
        summary.potential_deadlocks.is_empty(),
        "{:?}",
        summary.potential_deadlocks
    );
}

#[test]
fn a_mapped_guard_keeps_the_mutex_until_it_drops() {
    let _serial = serial();
    let m = Arc::new(Mutex::named("pair", (1, 2)));
    let (session, _) = session();
    let mut second = MutexGuard::map(m.lock(), |p| &mut p.1);
    *second += 1;
    assert!(
        m.try_lock().is_none(),
        "still locked through the mapped guard"
    );
    let held = session.with_model(|m| m.locks()[0].holders.len()).unwrap();
    assert_eq!(held, 1);
    drop(second);
    assert_eq!(*m.lock(), (1, 3));
    let summary = session.finish().unwrap();
    clean(&summary);
    assert_eq!(summary.locks[0].acquisitions, 2);
    assert_eq!(summary.locks[0].try_failures, 1);
}

/// Waits (bounded) until the model shows `thread` waiting, and returns the
/// (thread, holder) pairs of the wait-for edges.
fn edges_once_waiting(session: &lockscope::Session, thread: &str) -> Vec<(String, String)> {
    let mut edges = Vec::new();
    common::eventually(&format!("{thread} waits"), || {
        edges = session
            .with_model(|m| {
                m.wait_for_edges()
                    .iter()
                    .map(|e| {
                        let name = |t| m.thread_name(t).to_owned();
                        (name(e.thread), name(e.holder))
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap();
        edges.iter().any(|(t, _)| t == thread)
    });
    edges
}

#[test]
fn an_upgradable_read_shares_with_readers_and_excludes_another_upgradable() {
    let _serial = serial();
    let l = Arc::new(RwLock::named("L", 0));
    let (session, reports) = session();
    let up = l.upgradable_read();
    assert_eq!(*l.read(), 0, "a plain read gets in");
    let l2 = Arc::clone(&l);
    let other = thread::Builder::new()
        .name("other".into())
        .spawn(move || *l2.upgradable_read())
        .unwrap();
    let me = std::thread::current().name().unwrap().to_owned();
    let edges = edges_once_waiting(&session, "other");
    assert_eq!(edges, [("other".to_owned(), me)]);
    drop(up);
    assert_eq!(other.join().unwrap(), 0);
    let summary = session.finish().unwrap();
    assert!(reports.try_recv().is_err());
    clean(&summary);
}

#[test]
fn an_upgrade_waits_for_the_readers_and_not_for_itself() {
    let _serial = serial();
    let l = Arc::new(RwLock::named("L", 0));
    let (session, reports) = session();
    let read = l.read();
    let l2 = Arc::clone(&l);
    let upgrader = thread::Builder::new()
        .name("upgrader".into())
        .spawn(move || {
            let up = l2.upgradable_read();
            let mut w = RwLockUpgradableReadGuard::upgrade(up);
            *w += 1;
        })
        .unwrap();
    let me = std::thread::current().name().unwrap().to_owned();
    let edges = edges_once_waiting(&session, "upgrader");
    assert_eq!(edges, [("upgrader".to_owned(), me)], "no self edge");
    drop(read);
    upgrader.join().unwrap();
    assert_eq!(*l.read(), 1);
    let summary = session.finish().unwrap();
    assert!(reports.try_recv().is_err());
    clean(&summary);
}

#[test]
fn two_upgradable_reads_in_a_cycle_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let l = Arc::new(RwLock::named("L", ()));
    let m = Arc::new(Mutex::named("M", ()));
    let barrier = Arc::new(Barrier::new(2));
    for first in [true, false] {
        let (l, m, barrier) = (Arc::clone(&l), Arc::clone(&m), Arc::clone(&barrier));
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                if first {
                    let _u = l.upgradable_read();
                    barrier.wait();
                    let _m = m.lock();
                } else {
                    let _m = m.lock();
                    barrier.wait();
                    let _u = l.upgradable_read();
                }
            })
            .unwrap();
    }
    let report = expect_deadlock(&reports);
    assert!(
        report
            .to_string()
            .contains("waits for an upgradable read of rwlock \"L\""),
        "{report}"
    );
    assert!(
        report.to_string().contains("held for an upgradable read"),
        "{report}"
    );
    drop(session);
}

#[test]
fn a_downgraded_upgradable_read_is_a_plain_read() {
    let _serial = serial();
    let l = RwLock::named("L", 5);
    let (session, _) = session();
    let r = RwLockUpgradableReadGuard::downgrade(l.upgradable_read());
    let modes = session
        .with_model(|m| {
            m.locks()[0]
                .holders
                .iter()
                .map(|h| h.mode)
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(modes, [Mode::Shared]);
    let again = l.upgradable_read();
    assert_eq!(*r + *again, 10);
    drop((r, again));
    let summary = session.finish().unwrap();
    clean(&summary);
}
