//! Helpers shared by the real-thread tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod pty;

use std::sync::Mutex as StdMutex;
use std::sync::MutexGuard as StdGuard;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use lockscope::{DeadlockReport, Session, StallReport};

/// Every wait in these tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// One session per process at a time: tests that start one hold this.
pub fn serial() -> StdGuard<'static, ()> {
    static SERIAL: StdMutex<()> = StdMutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Stall reports of [`session`]s, which expect none: see [`take_stalls`].
static STALLS: StdMutex<Vec<String>> = StdMutex::new(Vec::new());

/// The stall reports of [`session`]s since the last call.
pub fn take_stalls() -> Vec<String> {
    std::mem::take(&mut *STALLS.lock().unwrap_or_else(|p| p.into_inner()))
}

/// A session whose deadlock reports arrive on the returned channel; a stall
/// (not expected) is kept for [`take_stalls`] rather than ending the process.
pub fn session() -> (Session, Receiver<DeadlockReport>) {
    let (tx, rx) = unbounded();
    let session = Session::builder()
        .on_deadlock(move |report| {
            let _ = tx.send(report.clone());
        })
        .on_stall(|report| {
            let mut stalls = STALLS.lock().unwrap_or_else(|p| p.into_inner());
            stalls.push(report.to_string());
        })
        .start()
        .unwrap();
    (session, rx)
}

/// A session whose stall reports (after `grace`) and deadlock reports arrive
/// on the returned channels.
pub fn stall_session(
    grace: Duration,
) -> (Session, Receiver<StallReport>, Receiver<DeadlockReport>) {
    let (stall_tx, stalls) = unbounded();
    let (deadlock_tx, deadlocks) = unbounded();
    let session = Session::builder()
        .on_deadlock(move |report| {
            let _ = deadlock_tx.send(report.clone());
        })
        .on_stall(move |report| {
            let _ = stall_tx.send(report.clone());
        })
        .stall_grace(grace)
        .start()
        .unwrap();
    (session, stalls, deadlocks)
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

/// Runs `pattern` 100 times, each in its own session: no deadlock report,
/// no stall, no anomaly.
pub fn never_reported(pattern: fn()) {
    let _serial = serial();
    for run in 0..100 {
        let (session, reports) = session();
        pattern();
        session.sync();
        if let Ok(r) = reports.try_recv() {
            panic!("run {run}: a false report: {r}");
        }
        let summary = session.finish().unwrap();
        assert!(summary.deadlocks.is_empty(), "run {run}");
        assert!(summary.stalls.is_empty(), "run {run}");
        assert_eq!(take_stalls(), Vec::<String>::new(), "run {run}");
        assert_eq!(summary.anomalies, 0, "run {run}");
    }
}
