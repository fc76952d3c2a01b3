//! `lockscope::sync::Mutex` against `std::sync::Mutex`, and
//! `lockscope::channel` send+recv against crossbeam-channel's, in one run so
//! the ratios are meaningful on a noisy machine.
//!
//! `cargo bench --bench sync_channel`. With a session on, the timed loop is
//! cut into chunks and the collector synced (untimed) between chunks.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

const CHUNK: u64 = 50_000;

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

fn sync_mutex(c: &mut Criterion) {
    let mut g = c.benchmark_group("sync::Mutex lock+unlock");
    let std = std::sync::Mutex::new(0u64);
    g.bench_function("std", |b| b.iter(|| *black_box(&std).lock().unwrap() += 1));
    let raw = lockscope::Mutex::new(0u64);
    g.bench_function("lockscope::Mutex, no session", |b| {
        b.iter(|| *black_box(&raw).lock() += 1)
    });
    let off = lockscope::sync::Mutex::new(0u64);
    g.bench_function("lockscope::sync, no session", |b| {
        b.iter(|| *black_box(&off).lock().unwrap() += 1)
    });
    let session = lockscope::Session::builder()
        .on_deadlock(|_| {})
        .start()
        .unwrap();
    // The floor for the row below: the same recording, without poisoning.
    let raw_on = lockscope::Mutex::new(0u64);
    g.bench_function("lockscope::Mutex, session on", |b| {
        b.iter_custom(|iters| chunked(iters, &session, || *black_box(&raw_on).lock() += 1))
    });
    let on = lockscope::sync::Mutex::new(0u64);
    g.bench_function("lockscope::sync, session on", |b| {
        b.iter_custom(|iters| chunked(iters, &session, || *black_box(&on).lock().unwrap() += 1))
    });
    drop(session);
    g.finish();
}

fn channel(c: &mut Criterion) {
    let mut g = c.benchmark_group("channel send+recv, one thread");
    let (tx, rx) = crossbeam_channel::bounded::<u64>(64);
    g.bench_function("crossbeam", |b| {
        b.iter(|| {
            tx.send(black_box(1)).unwrap();
            black_box(rx.recv().unwrap())
        })
    });
    let (tx, rx) = lockscope::channel::bounded::<u64>(64);
    g.bench_function("lockscope, no session", |b| {
        b.iter(|| {
            tx.send(black_box(1)).unwrap();
            black_box(rx.recv().unwrap())
        })
    });
    let session = lockscope::Session::builder()
        .on_deadlock(|_| {})
        .start()
        .unwrap();
    let (tx, rx) = lockscope::channel::bounded::<u64>(64);
    g.bench_function("lockscope, session on", |b| {
        b.iter_custom(|iters| {
            chunked(iters, &session, || {
                tx.send(black_box(1)).unwrap();
                black_box(rx.recv().unwrap());
            })
        })
    });
    drop(session);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = sync_mutex, channel
}
criterion_main!(benches);
