//! A producer, a worker and a joining main thread, watched by lockscope: the
//! new kinds of waits in the viewer (joins, channel waits, barriers).
//!
//! The producer feeds a bounded channel; the worker takes the "stats" lock
//! before each receive. With `--deadlock` the producer also takes "stats"
//! while it sends into the full channel, and main joins it: a cycle through
//! a channel and a lock, with main joining into it.
//!
//! ```sh
//! cargo run --example pipeline                 # the viewer opens; press q to quit
//! cargo run --example pipeline -- --deadlock   # the cycle closes
//! LOCKSCOPE=headless cargo run --example pipeline -- --deadlock   # report, exit 3
//! ```

use std::sync::Arc;
use std::time::Duration;

use lockscope::{Barrier, Mutex, channel, thread};

fn main() -> anyhow::Result<()> {
    let session = lockscope::init()?;
    let deadlock = std::env::args().any(|a| a == "--deadlock");
    let (tx, rx) = channel::named_bounded::<u64>("jobs", 2);
    let stats = Arc::new(Mutex::named("stats", 0u64));
    let start = Arc::new(Barrier::named("start", 2));
    let worker = {
        let (stats, start) = (Arc::clone(&stats), Arc::clone(&start));
        thread::Builder::new()
            .name("worker".into())
            .spawn(move || {
                start.wait();
                loop {
                    let mut s = stats.lock();
                    let Ok(job) = rx.recv() else { break };
                    *s += job;
                    drop(s);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })?
    };
    let producer = {
        let stats = Arc::clone(&stats);
        thread::Builder::new()
            .name("producer".into())
            .spawn(move || {
                start.wait();
                for job in 0..200 {
                    if deadlock && job == 20 {
                        let _s = stats.lock();
                        let _ = tx.send(job);
                    }
                    let _ = tx.send(job);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })?
    };
    let _ = producer.join();
    let _ = worker.join();
    session.wait();
    Ok(())
}
