//! Eight threads hammering four locks as fast as they can, for measuring
//! whether lockscope keeps up: `cargo run --release --example hammer -- 10`
//! (seconds; the viewer opens on a terminal, `LOCKSCOPE=headless` prints the
//! transport counts and peak memory instead).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let session = lockscope::init()?;
    let locks: Arc<Vec<lockscope::Mutex<u64>>> = Arc::new(
        (0..4)
            .map(|i| lockscope::Mutex::named(format!("hot {i}"), 0))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let (locks, stop) = (Arc::clone(&locks), Arc::clone(&stop));
            lockscope::thread::Builder::new()
                .name(format!("hammer {t}"))
                .spawn(move || {
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        *locks[i % 4].lock() += 1;
                        i += 1;
                    }
                })
        })
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let mut peak_rss = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(500));
        let rss = rss_kib();
        peak_rss = peak_rss.max(rss);
        let t = session.transport_now();
        eprintln!(
            "{:>5.1}s  sent {:>11}  received {:>11}  backlog {:>10}  held back {:>9}  dropped {:>10}  skipped {:>8}  late {:>8}  viewer dropped {:>9}  rss {:>7} KiB",
            start.elapsed().as_secs_f64(),
            t.sent,
            t.received,
            t.sent - t.received,
            t.pending,
            t.dropped,
            t.skipped,
            t.late,
            t.listener_dropped,
            rss
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let total: u64 = locks.iter().map(|l| *l.lock()).sum();
    println!("{total} lock+unlock pairs; peak rss {peak_rss} KiB");
    session.wait();
    Ok(())
}

/// Resident memory of this process in KiB (Linux), 0 elsewhere.
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
