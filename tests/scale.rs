//! Scale: 1,000 threads and 10,000 locks in one session, every event
//! accounted for. `cargo test --release --test scale -- --ignored --nocapture`
//! prints the figures.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use lockscope::{Mutex, Session, thread};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "a measurement; run explicitly"]
fn a_thousand_threads_and_ten_thousand_locks() {
    const THREADS: usize = 1_000;
    const LOCKS: usize = 10_000;
    const ROUNDS: usize = 200;
    let session = Session::builder().on_deadlock(|_| {}).start().unwrap();
    let started = Instant::now();
    let locks: Arc<Vec<Mutex<u64>>> = Arc::new(
        (0..LOCKS)
            .map(|i| Mutex::named(format!("L{i}"), 0))
            .collect(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let locks = Arc::clone(&locks);
            thread::Builder::new()
                .name(format!("worker {t}"))
                .stack_size(64 * 1024)
                .spawn(move || {
                    for r in 0..ROUNDS {
                        // Two locks in a global order: no deadlock possible.
                        let i = (t * 7 + r * 13) % LOCKS;
                        let j = (i + 1 + t % 5) % LOCKS;
                        let (lo, hi) = (i.min(j), i.max(j));
                        let _a = locks[lo].lock();
                        let mut b = locks[hi].lock();
                        *b += 1;
                    }
                })
                .unwrap()
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let transport = session.transport();
    let summary = session.finish().unwrap();
    println!(
        "{THREADS} threads, {LOCKS} locks: {} events in {:?}; sent {} received {} dropped {}; \
         {} locks seen, {} deadlocks, {} potential; rss {} MiB",
        summary.events,
        started.elapsed(),
        transport.sent,
        transport.received,
        transport.dropped,
        summary.locks.len(),
        summary.deadlocks.len(),
        summary.potential_deadlocks.len(),
        rss_kib() / 1024
    );
    assert_eq!(transport.sent, transport.received + transport.dropped);
    assert!(summary.deadlocks.is_empty());
    assert!(summary.potential_deadlocks.is_empty());
    assert_eq!(summary.threads.len(), THREADS + 1);
}
