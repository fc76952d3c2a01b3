//! Helpers shared by the real-thread tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod pty;

use std::sync::Mutex as StdMutex;
use std::sync::MutexGuard as StdGuard;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use lockscope::{DeadlockReport, Session};

/// Every wait in these tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// One session per process at a time: tests that start one hold this.
pub fn serial() -> StdGuard<'static, ()> {
    static SERIAL: StdMutex<()> = StdMutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A session whose deadlock reports arrive on the returned channel.
pub fn session() -> (Session, Receiver<DeadlockReport>) {
    let (tx, rx) = unbounded();
    let session = Session::builder()
        .on_deadlock(move |report| {
            let _ = tx.send(report.clone());
        })
        .start()
        .unwrap();
    (session, rx)
}

/// Waits (bounded) for the next deadlock report.
pub fn expect_deadlock(rx: &Receiver<DeadlockReport>) -> DeadlockReport {
    rx.recv_timeout(TIMEOUT)
        .expect("no deadlock was reported within the timeout")
}

/// Polls `condition` until it holds or the timeout passes.
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::yield_now();
    }
}
