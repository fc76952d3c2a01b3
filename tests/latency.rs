//! How long from the moment a wait-for cycle closes to the deadlock report:
//! `cargo test --release --test latency -- --ignored --nocapture`.
//! Not a timed assertion (the machines are noisy): it prints the figures.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use lockscope::{Mutex, Session, thread};

#[test]
#[ignore = "a measurement; run explicitly"]
fn report_latency_from_cycle_close_to_report() {
    const RUNS: usize = 50;
    let mut latencies = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (tx, rx) = bounded(1);
        let session = Session::builder()
            .on_deadlock(move |_| {
                let _ = tx.try_send(Instant::now());
            })
            .start()
            .unwrap();
        let a = Arc::new(Mutex::named("A", ()));
        let b = Arc::new(Mutex::named("B", ()));
        let barrier = Arc::new(Barrier::new(2));
        let (closed_tx, closed_rx) = bounded(1);
        {
            let (a, b, barrier) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&barrier));
            thread::spawn(move || {
                let _a = a.lock();
                barrier.wait();
                let _b = b.lock();
            });
        }
        {
            let (a, b, barrier) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&barrier));
            thread::spawn(move || {
                let _b = b.lock();
                barrier.wait();
                // Let the other thread block first, so this request closes the cycle.
                std::thread::sleep(Duration::from_millis(20));
                let _ = closed_tx.send(Instant::now());
                let _a = a.lock();
            });
        }
        let closed = closed_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let reported = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        latencies.push(reported.saturating_duration_since(closed));
        drop(session);
    }
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() - 1) * p / 100];
    println!(
        "deadlock report latency over {RUNS} runs: median {:?}, p90 {:?}, max {:?}",
        pct(50),
        pct(90),
        pct(100)
    );
    assert!(
        pct(50) < Duration::from_secs(1),
        "the report did not come within the tick"
    );
}
