//! How long from the moment a wait-for cycle closes to the deadlock report,
//! for a 2-thread and a 100-thread ring:
//! `cargo test --release --test latency -- --ignored --nocapture`.
//! Not a timed assertion (the machines are noisy): it prints the figures.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use lockscope::{Mutex, Session, thread};

const RUNS: usize = 50;

/// One ring of `n` threads: all but the last block on their next lock, then
/// the last one's request closes the cycle. Returns the time from just
/// before that request to the report.
fn one_ring(n: usize) -> Duration {
    let (tx, rx) = bounded(1);
    let session = Session::builder()
        .on_deadlock(move |_| {
            let _ = tx.try_send(Instant::now());
        })
        .start()
        .unwrap();
    let locks: Arc<Vec<Mutex<()>>> =
        Arc::new((0..n).map(|i| Mutex::named(format!("L{i}"), ())).collect());
    let barrier = Arc::new(Barrier::new(n));
    let (go_tx, go_rx) = bounded::<()>(1);
    let (closed_tx, closed_rx) = bounded(1);
    for i in 0..n {
        let (locks, barrier) = (Arc::clone(&locks), Arc::clone(&barrier));
        let (go_rx, closed_tx) = (go_rx.clone(), closed_tx.clone());
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let _mine = locks[i].lock();
                barrier.wait();
                if i == n - 1 {
                    // Close the cycle only once every other thread waits.
                    go_rx.recv().unwrap();
                    let _ = closed_tx.send(Instant::now());
                }
                let _next = locks[(i + 1) % n].lock();
            })
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while session
        .with_model(|m| m.locks().iter().filter(|l| !l.waiters.is_empty()).count())
        .unwrap()
        < n - 1
    {
        assert!(Instant::now() < deadline, "the ring never formed");
        std::thread::yield_now();
    }
    go_tx.send(()).unwrap();
    let closed = closed_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let reported = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    drop(session);
    reported.saturating_duration_since(closed)
}

fn measure(n: usize) {
    let mut latencies: Vec<_> = (0..RUNS).map(|_| one_ring(n)).collect();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() - 1) * p / 100];
    println!(
        "{n}-thread ring, {RUNS} runs: report latency median {:?}, p90 {:?}, max {:?}",
        pct(50),
        pct(90),
        pct(100)
    );
    assert!(
        pct(50) < Duration::from_secs(1),
        "the report did not come within the tick"
    );
}

#[test]
#[ignore = "a measurement; run explicitly"]
fn report_latency_from_cycle_close_to_report() {
    measure(2);
    measure(100);
}
