//! Zero false deadlock reports: fourteen safe patterns, each run many times
//! on real threads, none ever reported as an actual deadlock. Some are only
//! *potential* deadlocks (a lock order seen both ways), which is allowed and
//! checked where expected; an actual deadlock report is a failure.
//!
//! `LOCKSCOPE_SAFE_RUNS=N` sets the runs per pattern (100 by default, about
//! 3 s in all); the README's figure comes from
//! `LOCKSCOPE_SAFE_RUNS=1000 cargo test --release --test safe_patterns`.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{serial, session};
use lockscope::{Condvar, Mutex, RwLock, thread};

fn runs() -> usize {
    std::env::var("LOCKSCOPE_SAFE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// Runs `pattern` [`runs`] times, each in its own session, and checks that no
/// run was reported as deadlocked and that the model saw nothing impossible.
/// `potential` says whether a potential (lock-order) deadlock is expected.
fn never_reported(pattern: fn(), potential: bool) {
    let _serial = serial();
    let n = runs();
    for run in 0..n {
        let (session, reports) = session();
        pattern();
        session.sync();
        assert!(
            reports.try_recv().is_err(),
            "run {run} of {n}: a false deadlock report"
        );
        let transport = session.transport();
        let summary = session.finish().unwrap();
        assert!(
            summary.deadlocks.is_empty(),
            "run {run}: {:?}",
            summary.deadlocks
        );
        assert_eq!(summary.anomalies, 0, "run {run}");
        assert_eq!(common::take_stalls(), Vec::<String>::new(), "run {run}");
        assert!(summary.stalls.is_empty(), "run {run}: {:?}", summary.stalls);
        assert_eq!(transport.sent, transport.received, "run {run}");
        assert_eq!(
            !summary.potential_deadlocks.is_empty(),
            potential,
            "run {run}: {:?}",
            summary.potential_deadlocks
        );
    }
    println!("{n} runs clean");
}

/// Spawns `n` instrumented threads running `f(i)` and joins them all.
fn spawn_join(n: usize, f: impl Fn(usize) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let f = Arc::clone(&f);
            thread::spawn(move || f(i))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn readers_share() {
    let l = Arc::new(RwLock::named("shared", 0));
    let inside = Arc::new(Barrier::new(4));
    spawn_join(4, move |_| {
        let r = l.read();
        inside.wait(); // all four hold the read lock at once
        assert_eq!(*r, 0);
    });
}

fn writer_waits_for_readers() {
    let l = Arc::new(RwLock::named("rw", 0));
    let reading = Arc::new(Barrier::new(3));
    spawn_join(3, move |i| {
        if i == 0 {
            reading.wait(); // both readers hold it: this write waits for them
            *l.write() += 1;
        } else {
            let r = l.read();
            reading.wait();
            std::thread::yield_now();
            drop(r);
        }
    });
}

/// Dijkstra's fix: every philosopher takes the lower-numbered fork first.
fn ordered_philosophers() {
    let forks: Arc<Vec<Mutex<u32>>> = Arc::new(
        (0..5)
            .map(|i| Mutex::named(format!("fork {i}"), 0))
            .collect(),
    );
    spawn_join(5, move |i| {
        let (a, b) = (i, (i + 1) % 5);
        let (first, second) = (a.min(b), a.max(b));
        for _ in 0..20 {
            let _f = forks[first].lock();
            let mut s = forks[second].lock();
            *s += 1;
        }
    });
}

/// Two consumers wait with short timeouts (timed and spurious wake-ups) and
/// re-check their condition; the producer notifies everyone.
fn condvar_hand_off_with_spurious_wake_ups() {
    let slot = Arc::new((
        Mutex::named("slot", (0u32, false)),
        Condvar::named("changed"),
    ));
    let taken = Arc::new(AtomicUsize::new(0));
    const ITEMS: usize = 40;
    spawn_join(3, move |i| {
        let (m, cv) = &*slot;
        if i == 0 {
            for item in 1..=ITEMS as u32 {
                let mut g = m.lock();
                while g.0 != 0 {
                    let _ = cv.wait_for(&mut g, Duration::from_micros(200));
                }
                g.0 = item;
                cv.notify_all();
            }
            let mut g = m.lock();
            while g.0 != 0 {
                let _ = cv.wait_for(&mut g, Duration::from_micros(200));
            }
            g.1 = true;
            cv.notify_all();
        } else {
            loop {
                let mut g = m.lock();
                while g.0 == 0 && !g.1 {
                    // A timeout here is a wake-up with nothing to do.
                    let _ = cv.wait_for(&mut g, Duration::from_micros(300));
                }
                if g.0 == 0 {
                    return;
                }
                g.0 = 0;
                taken.fetch_add(1, Ordering::Relaxed);
                cv.notify_all();
            }
        }
    });
}

/// Opposite orders, but the second lock is only tried: on failure the thread
/// lets go of everything and starts again.
fn try_lock_back_off() {
    let a = Arc::new(Mutex::named("A", 0));
    let b = Arc::new(Mutex::named("B", 0));
    spawn_join(2, move |i| {
        let (first, second) = if i == 0 { (&a, &b) } else { (&b, &a) };
        let mut done = 0;
        while done < 50 {
            let mut f = first.lock();
            if let Some(mut s) = second.try_lock() {
                *f += 1;
                *s += 1;
                done += 1;
            } else {
                drop(f);
                std::thread::yield_now();
            }
        }
    });
}

/// Opposite orders with a timed second lock: the threads may time out on each
/// other, which is not a deadlock (a timed wait ends by itself).
fn timed_lock_in_a_cycle() {
    let a = Arc::new(Mutex::named("A", ()));
    let b = Arc::new(Mutex::named("B", ()));
    let both = Arc::new(Barrier::new(2));
    spawn_join(2, move |i| {
        let (first, second) = if i == 0 { (&a, &b) } else { (&b, &a) };
        let _f = first.lock();
        both.wait(); // each holds its first lock: both will time out
        let _ = second.try_lock_for(Duration::from_millis(2));
    });
}

/// One thread takes A then B, lets both go, then takes B then A. Never two
/// at once, so never a deadlock; the two orders are a potential one.
fn released_then_retaken_in_the_other_order() {
    let a = Arc::new(Mutex::named("A", ()));
    let b = Arc::new(Mutex::named("B", ()));
    spawn_join(1, move |_| {
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        {
            let _b = b.lock();
            let _a = a.lock();
        }
    });
}

fn nested_same_order_across_many_threads() {
    let locks: Arc<Vec<Mutex<u64>>> =
        Arc::new((0..4).map(|i| Mutex::named(format!("L{i}"), 0)).collect());
    spawn_join(16, move |t| {
        for r in 0..30 {
            // Any subset, always in ascending order.
            let mask = (t + r) % 15 + 1;
            let guards: Vec<_> = (0..4)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| locks[i].lock())
                .collect();
            drop(guards);
        }
    });
}

/// Readers and writers over two RwLocks, always taken in the same order.
fn rwlocks_in_a_consistent_order() {
    let first = Arc::new(RwLock::named("index", 0u64));
    let second = Arc::new(RwLock::named("data", 0u64));
    spawn_join(6, move |t| {
        for r in 0..30 {
            if (t + r) % 3 == 0 {
                let mut i = first.write();
                let mut d = second.write();
                *i += 1;
                *d += 1;
            } else {
                let i = first.read();
                let d = second.read();
                assert!(*d >= *i || *d <= *i);
            }
        }
    });
}

/// Lock coupling down a chain: hold node k, take node k+1, let go of node k.
fn hand_over_hand_down_a_chain() {
    let chain: Arc<Vec<Mutex<u32>>> = Arc::new(
        (0..8)
            .map(|i| Mutex::named(format!("node {i}"), 0))
            .collect(),
    );
    spawn_join(4, move |_| {
        for _ in 0..10 {
            let mut held = chain[0].lock();
            for next in chain.iter().skip(1) {
                let mut g = next.lock();
                *g += 1;
                held = g;
            }
            drop(held);
        }
    });
}

/// A barrier built from a mutex and a condvar, used twice.
fn condvar_barrier() {
    let state = Arc::new((
        Mutex::named("arrived", (0usize, 0u32)),
        Condvar::named("all here"),
    ));
    const N: usize = 4;
    spawn_join(N, move |_| {
        let (m, cv) = &*state;
        for _ in 0..2 {
            let mut g = m.lock();
            let generation = g.1;
            g.0 += 1;
            if g.0 == N {
                g.0 = 0;
                g.1 += 1;
                cv.notify_all();
            } else {
                while g.1 == generation {
                    cv.wait(&mut g);
                }
            }
        }
    });
}

/// A thread panics holding a lock (parking_lot does not poison it); the
/// next thread takes the lock as usual.
fn a_panic_while_holding_a_lock() {
    let m = Arc::new(Mutex::named("survives", 0));
    let m2 = Arc::clone(&m);
    let panicked = thread::spawn(move || {
        let _g = m2.lock();
        std::panic::panic_any("on purpose, holding the lock");
    })
    .join();
    assert!(panicked.is_err());
    spawn_join(2, move |_| *m.lock() += 1);
}

/// Chapter 16 of the Rust book: ten threads and a shared counter.
fn the_rust_book_counter() {
    let counter = Arc::new(Mutex::named("counter", 0));
    let c = Arc::clone(&counter);
    spawn_join(10, move |_| *c.lock() += 1);
    assert_eq!(*counter.lock(), 10);
}

/// Plain `std::thread::scope` threads using lockscope's locks.
fn scoped_std_threads() {
    let m = Mutex::named("scoped", 0);
    let rw = RwLock::named("config", 1);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    let factor = *rw.read();
                    *m.lock() += factor;
                }
            });
        }
    });
    assert_eq!(*m.lock(), 80);
}

#[test]
fn readers_sharing_a_lock() {
    never_reported(readers_share, false);
}

#[test]
fn a_writer_waiting_for_readers() {
    never_reported(writer_waits_for_readers, false);
}

#[test]
fn philosophers_taking_forks_in_order() {
    never_reported(ordered_philosophers, false);
}

#[test]
fn a_condvar_hand_off_with_spurious_wake_ups() {
    never_reported(condvar_hand_off_with_spurious_wake_ups, false);
}

#[test]
fn try_lock_with_back_off_in_opposite_orders() {
    never_reported(try_lock_back_off, false);
}

#[test]
fn timed_locks_in_a_cycle_time_out_instead() {
    // Not even a potential deadlock: a timed request adds no lock order,
    // since it cannot wait forever.
    never_reported(timed_lock_in_a_cycle, false);
}

#[test]
fn a_lock_released_then_retaken_in_the_other_order() {
    never_reported(released_then_retaken_in_the_other_order, true);
}

#[test]
fn nested_locking_in_one_order_across_sixteen_threads() {
    never_reported(nested_same_order_across_many_threads, false);
}

#[test]
fn rwlocks_read_and_written_in_one_order() {
    never_reported(rwlocks_in_a_consistent_order, false);
}

#[test]
fn hand_over_hand_locking_down_a_chain() {
    never_reported(hand_over_hand_down_a_chain, false);
}

#[test]
fn a_barrier_made_of_a_mutex_and_a_condvar() {
    never_reported(condvar_barrier, false);
}

#[test]
fn a_thread_panicking_while_holding_a_lock() {
    never_reported(a_panic_while_holding_a_lock, false);
}

#[test]
fn the_rust_book_shared_counter() {
    never_reported(the_rust_book_counter, false);
}

#[test]
fn scoped_std_threads_sharing_locks() {
    never_reported(scoped_std_threads, false);
}
