//! Safe patterns that must never be reported as deadlocks, the transport's
//! promises (nothing lost, quiet threads still seen), and the Rust book's
//! counter.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{eventually, serial, session};
use lockscope::{Condvar, Mutex, RwLock, thread};

/// Asserts that the session saw no actual deadlock, then ends it.
fn assert_no_deadlock(
    session: lockscope::Session,
    reports: &crossbeam_channel::Receiver<lockscope::DeadlockReport>,
) -> lockscope::model::Summary {
    session.sync();
    assert!(reports.try_recv().is_err(), "false deadlock report");
    let summary = session.finish().unwrap();
    assert!(summary.deadlocks.is_empty(), "{:?}", summary.deadlocks);
    assert_eq!(summary.anomalies, 0);
    summary
}

#[test]
fn readers_share_a_lock_without_a_report() {
    let _serial = serial();
    let (session, reports) = session();
    let l = Arc::new(RwLock::named("shared", 0));
    let inside = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (l, inside) = (Arc::clone(&l), Arc::clone(&inside));
            thread::spawn(move || {
                let r = l.read();
                inside.wait(); // all three hold the read lock at once
                *r
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let summary = assert_no_deadlock(session, &reports);
    assert_eq!(summary.locks[0].acquisitions, 3);
}

#[test]
fn a_writer_waiting_for_readers_is_not_a_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let l = Arc::new(RwLock::named("rw", 0));
    let r = l.read();
    let l2 = Arc::clone(&l);
    let writer = thread::spawn(move || *l2.write() += 1);
    // The writer's request reaches the model while the read is held.
    eventually("the writer waits", || {
        session
            .with_model(|m| m.locks().iter().any(|lock| !lock.waiters.is_empty()))
            .unwrap()
    });
    drop(r);
    writer.join().unwrap();
    let summary = assert_no_deadlock(session, &reports);
    assert_eq!(summary.locks[0].contended, 1);
}

#[test]
fn condvar_hand_off_is_not_a_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let slot = Arc::new((Mutex::named("slot", None::<u32>), Condvar::named("changed")));
    let consumer = {
        let slot = Arc::clone(&slot);
        thread::spawn(move || {
            let (m, cv) = &*slot;
            let mut total = 0;
            for _ in 0..100 {
                let mut g = m.lock();
                while g.is_none() {
                    cv.wait(&mut g);
                }
                total += g.take().unwrap();
                cv.notify_all();
            }
            total
        })
    };
    let (m, cv) = &*slot;
    for i in 0..100 {
        let mut g = m.lock();
        while g.is_some() {
            cv.wait(&mut g);
        }
        *g = Some(i);
        cv.notify_all();
    }
    assert_eq!(consumer.join().unwrap(), (0..100).sum::<u32>());
    assert_no_deadlock(session, &reports);
}

#[test]
fn ordered_nested_locking_across_many_threads_is_safe() {
    let _serial = serial();
    let (session, reports) = session();
    let locks: Arc<Vec<Mutex<u64>>> =
        Arc::new((0..4).map(|i| Mutex::named(format!("L{i}"), 0)).collect());
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let locks = Arc::clone(&locks);
            thread::spawn(move || {
                for _ in 0..500 {
                    let _a = locks[0].lock();
                    let _b = locks[1].lock();
                    let mut c = locks[3].lock();
                    *c += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let summary = assert_no_deadlock(session, &reports);
    assert!(summary.potential_deadlocks.is_empty());
    assert_eq!(*locks[3].lock(), 4000);
}

#[test]
fn try_lock_back_off_is_safe_and_counted() {
    let _serial = serial();
    let (session, reports) = session();
    let m = Arc::new(Mutex::named("busy", ()));
    let held = m.lock();
    let m2 = Arc::clone(&m);
    let failed = thread::spawn(move || m2.try_lock().is_none())
        .join()
        .unwrap();
    assert!(failed);
    let m3 = Arc::clone(&m);
    let timed_out = thread::spawn(move || m3.try_lock_for(Duration::from_millis(5)).is_none())
        .join()
        .unwrap();
    assert!(timed_out);
    drop(held);
    let summary = assert_no_deadlock(session, &reports);
    assert_eq!(summary.locks[0].try_failures, 1);
    assert_eq!(summary.locks[0].timeouts, 1);
}

#[test]
fn try_lock_back_off_in_the_other_order_is_not_even_a_potential_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let a = Mutex::named("A", ());
    let b = Mutex::named("B", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        // Back off instead of blocking: this order cannot deadlock.
        let got = a.try_lock();
        assert!(got.is_some());
    }
    let summary = assert_no_deadlock(session, &reports);
    assert!(
        summary.potential_deadlocks.is_empty(),
        "{:?}",
        summary.potential_deadlocks
    );
}

#[test]
fn released_then_retaken_in_the_other_order_is_only_a_potential_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let a = Mutex::named("A", ());
    let b = Mutex::named("B", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let summary = assert_no_deadlock(session, &reports);
    assert_eq!(summary.potential_deadlocks.len(), 1);
    let mut locks = summary.potential_deadlocks[0].locks.clone();
    locks.sort();
    assert_eq!(locks, ["A", "B"]);
    // The witnesses name where each order was taken: this file.
    assert!(
        summary.potential_deadlocks[0]
            .edges
            .iter()
            .all(|e| e.to_site.file.ends_with("controls.rs"))
    );
}

/// The Rust book's shared counter (chapter 16), instrumented.
#[test]
fn the_rust_book_counter_reports_exactly_ten_acquisitions() {
    let _serial = serial();
    let (session, reports) = session();
    let counter = Arc::new(Mutex::named("counter", 0));
    let mut handles = vec![];
    for _ in 0..10 {
        let counter = Arc::clone(&counter);
        let handle = thread::spawn(move || {
            let mut num = counter.lock();
            *num += 1;
        });
        handles.push(handle);
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let summary = assert_no_deadlock(session, &reports);
    assert_eq!(summary.locks[0].acquisitions, 10);
    assert_eq!(
        summary
            .threads
            .iter()
            .filter(|t| t.acquisitions == 1)
            .count(),
        10
    );
    assert_eq!(*counter.lock(), 10); // after the session: not recorded
}

#[test]
fn under_load_every_event_sent_is_received_in_lock_order() {
    let _serial = serial();
    let (session, reports) = session();
    let locks: Arc<Vec<Mutex<u64>>> =
        Arc::new((0..4).map(|i| Mutex::named(format!("hot{i}"), 0)).collect());
    let rw = Arc::new(RwLock::named("rw", 0u64));
    // 3.2 M events: well past the collector's backlog bound, so threads
    // must wait for it rather than drop anything.
    const ROUNDS: u64 = 100_000;
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (locks, rw) = (Arc::clone(&locks), Arc::clone(&rw));
            thread::spawn(move || {
                for i in 0..ROUNDS {
                    *locks[(t + i as usize) % 4].lock() += 1;
                    if i % 4 == 0 {
                        *rw.write() += 1;
                    } else {
                        let _ = *rw.read();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let transport = session.transport();
    assert_eq!(transport.sent, transport.received);
    assert_eq!(transport.dropped, 0);
    assert_eq!(transport.pending, 0);
    assert_eq!(transport.late, 0);
    assert_eq!(transport.skipped, 0);
    let summary = assert_no_deadlock(session, &reports);
    let hot: u64 = summary
        .locks
        .iter()
        .filter(|l| l.name.starts_with("hot"))
        .map(|l| l.acquisitions)
        .sum();
    assert_eq!(hot, 8 * ROUNDS);
    let rw_acq = summary
        .locks
        .iter()
        .find(|l| l.name == "rw")
        .unwrap()
        .acquisitions;
    assert_eq!(rw_acq, 8 * ROUNDS);
}

/// A deadlock handler that never returns stops the collector: the program's
/// threads wait for it a bounded time, then go on dropping (and counting)
/// what cannot be taken, so the program never hangs on its debugger.
#[test]
fn a_stuck_collector_costs_counted_events_not_a_hung_program() {
    let _serial = serial();
    let (entered_tx, entered) = crossbeam_channel::unbounded();
    let (release, released) = crossbeam_channel::bounded::<()>(1);
    let mut first = true;
    let session = lockscope::Session::builder()
        .on_deadlock(move |report| {
            // Only the first report waits: a second one (there must be none)
            // must fail the test, not hang it.
            let _ = entered_tx.send(report.threads.clone());
            if std::mem::take(&mut first) {
                let _ = released.recv();
            }
        })
        .start()
        .unwrap();
    // A deadlock, so the collector enters the handler and stays there.
    let m = Arc::new(Mutex::named("self", ()));
    let m2 = Arc::clone(&m);
    thread::spawn(move || {
        let _a = m2.lock();
        let _b = m2.lock();
    });
    entered.recv_timeout(common::TIMEOUT).unwrap();
    let hot = Arc::new(Mutex::named("hot", 0u64));
    const PAIRS: u64 = 1_500_000;
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let hot = Arc::clone(&hot);
            thread::spawn(move || {
                for _ in 0..PAIRS {
                    *hot.lock() += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let stuck = session.transport_now();
    assert!(stuck.dropped > 0, "{stuck:?}");
    release.send(()).unwrap();
    let transport = session.transport();
    assert_eq!(transport.sent, transport.received + transport.dropped);
    assert_eq!(*hot.lock(), 2 * PAIRS);
    drop(session);
    // The workers' events were dropped mid-stream, releases among them: a
    // worker seen re-taking the lock it "still holds" is no deadlock.
    let later: Vec<_> = entered.try_iter().collect();
    assert!(later.is_empty(), "{later:?}");
}

/// A thread that takes a lock and then blocks outside lockscope never ships
/// its batch itself; the collector must take it.
#[test]
fn a_quiet_thread_holding_a_lock_is_still_seen() {
    let _serial = serial();
    let (session, reports) = session();
    let m = Arc::new(Mutex::named("held quietly", ()));
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
    let m2 = Arc::clone(&m);
    let quiet = thread::Builder::new()
        .name("quiet".into())
        .spawn(move || {
            let _g = m2.lock();
            let _ = release_rx.recv(); // blocked, not in lockscope
        })
        .unwrap();
    eventually("the quiet thread's hold is visible", || {
        session
            .with_model(|model| {
                model.locks().iter().any(|l| {
                    l.holders
                        .iter()
                        .any(|h| model.thread_name(h.thread) == "quiet")
                })
            })
            .unwrap()
    });
    release_tx.send(()).unwrap();
    quiet.join().unwrap();
    assert_no_deadlock(session, &reports);
}

#[test]
fn a_panicking_thread_is_recorded_and_its_lock_released() {
    let _serial = serial();
    let (session, reports) = session();
    let m = Arc::new(Mutex::named("m", 0));
    let m2 = Arc::clone(&m);
    let result = thread::Builder::new()
        .name("doomed".into())
        .spawn(move || {
            let _g = m2.lock();
            panic!("boom");
        })
        .unwrap()
        .join();
    assert!(result.is_err());
    drop(m.lock()); // no poisoning
    let summary = assert_no_deadlock(session, &reports);
    let doomed = summary.threads.iter().find(|t| t.name == "doomed").unwrap();
    assert_eq!(doomed.status, "panicked");
    assert_eq!(doomed.panic_message.as_deref(), Some("boom"));
}

#[test]
fn plain_std_threads_are_registered_under_their_name() {
    let _serial = serial();
    let (session, reports) = session();
    let m = Arc::new(Mutex::named("m", 0));
    let m2 = Arc::clone(&m);
    std::thread::Builder::new()
        .name("plain".into())
        .spawn(move || *m2.lock() += 1)
        .unwrap()
        .join()
        .unwrap();
    let summary = assert_no_deadlock(session, &reports);
    let plain = summary.threads.iter().find(|t| t.name == "plain").unwrap();
    assert_eq!(plain.acquisitions, 1);
    assert_eq!(plain.status, "finished");
}

#[test]
fn without_a_session_nothing_is_recorded_and_locks_still_work() {
    let _serial = serial();
    let (m, line) = (Mutex::new(1), line!());
    *m.lock() += 1;
    let (session, reports) = session();
    // A lock made before the session registers on first use.
    *m.lock() += 1;
    let summary = assert_no_deadlock(session, &reports);
    assert_eq!(summary.locks.len(), 1);
    assert_eq!(summary.locks[0].acquisitions, 1);
    assert!(
        summary.locks[0]
            .name
            .starts_with(&format!("Mutex<i32> controls.rs:{line}:")),
        "{}",
        summary.locks[0].name
    );
    assert_eq!(m.into_inner(), 3);
}

#[test]
fn a_second_session_is_refused_while_one_runs() {
    let _serial = serial();
    let (running, _reports) = session();
    let err = lockscope::Session::builder().start().unwrap_err();
    assert_eq!(err.kind(), &lockscope::SessionErrorKind::AlreadyRunning);
    assert!(err.to_string().contains("already running"), "{err}");
    // A recording that cannot be created is refused before anything starts,
    // the I/O error as its cause.
    drop(running);
    let path = std::path::Path::new("/nonexistent/dir/x.trace");
    let err = lockscope::Session::builder()
        .record(path)
        .start()
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &lockscope::SessionErrorKind::Recording { path: path.into() }
    );
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(cause.is_some_and(|c| c.contains("No such file")), "{err:?}");
    lockscope::Session::builder().start().unwrap();
}
