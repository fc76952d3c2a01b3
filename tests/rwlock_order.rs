//! The two RwLock deadlock shapes of issue 11, under load: a reader blocked
//! behind a queued writer that waits for a read holder. Each run forces the
//! real interleaving (the reader asks only once the writer has claimed the
//! lock) while noise threads fill their rings with events on other locks, so
//! the threads' batches reach the collector in any order. Every run must be
//! reported. The deadlocked threads stay blocked for the rest of the process.
//!
//! `LOCKSCOPE_ORDER_RUNS=N` sets the runs per shape (100 by default).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use common::{TIMEOUT, eventually, serial, session};
use lockscope::{Mutex, RwLock, thread};

fn runs() -> usize {
    std::env::var("LOCKSCOPE_ORDER_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// Threads that lock and unlock their own mutexes in a tight loop until
/// stopped: a steady stream of events, so batches fill and ship out of order.
struct Noise {
    stop: Arc<AtomicBool>,
    threads: Vec<lockscope::thread::JoinHandle<()>>,
}

impl Noise {
    fn start(n: usize) -> Noise {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|i| {
                let stop = Arc::clone(&stop);
                thread::Builder::new()
                    .name(format!("noise{i}"))
                    .spawn(move || {
                        let a = Mutex::named(format!("noise{i}a"), 0u64);
                        let b = Mutex::named(format!("noise{i}b"), 0u64);
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..16 {
                                let mut x = a.lock();
                                *b.lock() += 1;
                                *x += 1;
                            }
                            // Two cores: leave room for the threads under test.
                            std::thread::yield_now();
                        }
                    })
                    .unwrap()
            })
            .collect();
        Noise { stop, threads }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .name(name.into())
        // They stay deadlocked for the rest of the process: keep them small.
        .stack_size(64 * 1024)
        .spawn(f)
        .unwrap();
}

/// Waits (bounded) until a writer has claimed `l`: from then on a reader
/// queues behind it, and `try_read` fails (the attempts are recorded too:
/// more noise).
fn until_writer_queued<T>(l: &RwLock<T>) {
    let deadline = Instant::now() + TIMEOUT;
    while l.try_read().is_some() {
        assert!(Instant::now() < deadline, "the writer never queued");
        std::thread::yield_now();
    }
}

/// Shape 1: `holder` reads L then asks for mutex M; `asker` holds M and reads
/// L behind `writer`, who queued first.
fn reader_writer_holder_mutex() {
    let l = Arc::new(RwLock::named("L", ()));
    let m = Arc::new(Mutex::named("M", ()));
    let both_hold = Arc::new(Barrier::new(2));
    let (l1, m1, b1) = (Arc::clone(&l), Arc::clone(&m), Arc::clone(&both_hold));
    spawn("holder", move || {
        let _r = l1.read();
        b1.wait();
        until_writer_queued(&l1);
        let _m = m1.lock();
    });
    let (l2, m2, b2) = (Arc::clone(&l), Arc::clone(&m), Arc::clone(&both_hold));
    spawn("asker", move || {
        let _m = m2.lock();
        b2.wait();
        until_writer_queued(&l2);
        let _r = l2.read();
    });
    // The writer claims L once both hold their first lock.
    let l3 = Arc::clone(&l);
    let claimed = Arc::new(Barrier::new(2));
    let c3 = Arc::clone(&claimed);
    spawn("writer", move || {
        c3.wait();
        let _w = l3.write();
    });
    eventually("both hold their first lock", || {
        l.is_locked() && m.is_locked()
    });
    claimed.wait();
}

/// Shape 2: `reader` reads L, `writer` queues, `reader` reads L again.
fn recursive_read_with_a_queued_writer() {
    let l = Arc::new(RwLock::named("L", ()));
    let first = Arc::new(Barrier::new(2));
    let (l1, f1) = (Arc::clone(&l), Arc::clone(&first));
    spawn("reader", move || {
        let _a = l1.read();
        f1.wait();
        until_writer_queued(&l1);
        let _b = l1.read();
    });
    let l2 = Arc::clone(&l);
    spawn("writer", move || {
        first.wait();
        let _w = l2.write();
    });
}

fn every_run_reported(shape: fn(), threads: &[&str]) {
    let _serial = serial();
    let n = runs();
    let mut reported = 0;
    for run in 0..n {
        let (session, reports) = session();
        let noise = Noise::start(2);
        shape();
        let Ok(report) = reports.recv_timeout(TIMEOUT) else {
            session.sync();
            let edges = session.with_model(|m| m.wait_for_edges());
            let statuses = session.with_model(|m| {
                m.threads()
                    .iter()
                    .map(|t| format!("{}: {:?}", t.name, t.status))
                    .collect::<Vec<_>>()
            });
            let transport = session.transport();
            panic!(
                "run {run} of {n}: no deadlock reported; wait-for edges: {edges:?}; \
                 threads: {statuses:?}; transport: {transport:?}"
            );
        };
        noise.stop();
        let mut names = report.threads.clone();
        names.sort();
        assert_eq!(names, threads, "run {run}: {report}");
        assert!(
            report.to_string().contains("queued"),
            "run {run}: the reader waits behind the queued writer: {report}"
        );
        reported += 1;
        drop(session);
    }
    assert_eq!(reported, n);
    println!("{n} runs, {reported} reports");
}

#[test]
fn a_reader_behind_a_queued_writer_and_a_mutex_is_reported_every_run() {
    every_run_reported(reader_writer_holder_mutex, &["asker", "holder", "writer"]);
}

#[test]
fn a_recursive_read_behind_a_queued_writer_is_reported_every_run() {
    every_run_reported(recursive_read_with_a_queued_writer, &["reader", "writer"]);
}

/// No writer came, so nothing hung: still the hazard is reported, as its own
/// kind, with both reads' sites and the fix.
#[test]
fn a_recursive_read_without_a_writer_is_a_potential_deadlock_with_both_sites() {
    let _serial = serial();
    let l = RwLock::named("config", 0);
    let (session, reports) = session();
    thread::Builder::new()
        .name("reader".into())
        .spawn(move || {
            let first = l.read();
            let second = l.read();
            assert_eq!(*first + *second, 0);
        })
        .unwrap()
        .join()
        .unwrap();
    let summary = session.finish().unwrap();
    assert!(reports.try_recv().is_err(), "it did not hang");
    assert_eq!(summary.potential_deadlocks.len(), 1);
    let p = &summary.potential_deadlocks[0];
    assert_eq!(p.kind, lockscope::model::PotentialKind::RecursiveRead);
    let (first, second) = (p.edges[0].from_site, p.edges[0].to_site);
    assert!(first.file.ends_with("rwlock_order.rs") && second.line == first.line + 1);
    let text = lockscope::model::format_summary(&summary);
    let expected = format!(
        "POTENTIAL DEADLOCK: recursive read of rwlock \"config\" at {first} then {second}: a queued writer deadlocks it; use read_recursive or drop the first guard"
    );
    assert!(text.contains(&expected), "{text}");
}
