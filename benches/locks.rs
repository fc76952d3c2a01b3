//! Lock+unlock cost of lockscope's Mutex against parking_lot's, in one run so
//! the ratio is meaningful on a noisy machine.
//!
//! `cargo bench --bench locks`. With a session on, the timed loop is cut into
//! chunks and the collector is synced (untimed) between chunks, so every event
//! is delivered and memory stays bounded while the worker-side cost is timed.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// Lock+unlock pairs per timed chunk with a session on.
const CHUNK: u64 = 50_000;

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("uncontended lock+unlock");
    let pl = parking_lot::Mutex::new(0u64);
    g.bench_function("parking_lot", |b| b.iter(|| *black_box(&pl).lock() += 1));
    let off = lockscope::Mutex::new(0u64);
    g.bench_function("lockscope, no session", |b| {
        b.iter(|| *black_box(&off).lock() += 1)
    });
    let session = lockscope::Session::builder()
        .on_deadlock(|_| {})
        .start()
        .unwrap();
    let on = lockscope::Mutex::new(0u64);
    g.bench_function("lockscope, session on", |b| {
        b.iter_custom(|iters| chunked(iters, &session, || *black_box(&on).lock() += 1))
    });
    let t = session.transport();
    assert_eq!(t.sent, t.received, "events lost: {t:?}");
    drop(session);
    g.finish();
}

/// Times `iters` calls of `op` in chunks, syncing the session between chunks.
fn chunked(iters: u64, session: &lockscope::Session, mut op: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let start = Instant::now();
        for _ in 0..n {
            op();
        }
        total += start.elapsed();
        session.sync();
        left -= n;
    }
    total
}

/// Two threads taking turns on one lock as fast as they can.
fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("2 threads contending one lock");
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, Arc::new(parking_lot::Mutex::new(0u64)), |m| {
                *m.lock() += 1
            })
        })
    });
    let session = lockscope::Session::builder()
        .on_deadlock(|_| {})
        .start()
        .unwrap();
    g.bench_function("lockscope, session on", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                total += two_threads(n, Arc::new(lockscope::Mutex::new(0u64)), |m| *m.lock() += 1);
                session.sync();
                left -= n;
            }
            total
        })
    });
    let t = session.transport();
    assert_eq!(t.sent, t.received, "events lost: {t:?}");
    drop(session);
    g.finish();
}

/// Wall time for two threads to do `iters` operations between them; the time
/// per iteration is the cost of one contended lock+unlock.
fn two_threads<M: Send + Sync + 'static>(iters: u64, lock: Arc<M>, op: fn(&M)) -> Duration {
    let barrier = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (lock, barrier) = (Arc::clone(&lock), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..iters / 2 {
                    op(&lock);
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    start.elapsed()
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = uncontended, contended
}
criterion_main!(benches);
