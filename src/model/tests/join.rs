//! Joins: a thread joining another waits for it until it ends; a cycle through
//! a join is a deadlock like any other, and a join that can end is not one.

use super::*;
use crate::model::{EdgeReason, format_deadlock};

/// "main" (0) holds L, "worker" (1) requests L, then main joins worker.
fn main_joins_its_blocked_worker() -> Script {
    let mut s = Script::new();
    s.thread(0, "main");
    s.thread(1, "worker");
    s.mutex(0, "L");
    s.acq(0, 0);
    assert!(!s.req(1, 0).deadlock);
    s
}

#[test]
fn joining_a_thread_that_waits_for_your_lock_is_a_deadlock() {
    let mut s = main_joins_its_blocked_worker();
    assert!(s.join(0, 1).deadlock);
    let d = &s.m.deadlocks()[0];
    assert_eq!(d.edges.len(), 2);
    let join = d.edges[0];
    assert_eq!((join.thread, join.holder), (ThreadId(0), ThreadId(1)));
    assert_eq!(join.reason, EdgeReason::Joins);
    assert_eq!(join.lock, LockId::NONE);
    assert_eq!(join.requested_at, site(301));
    assert_eq!(d.locks().collect::<Vec<_>>(), [LockId(0)]);
    let text = format_deadlock(&s.m, d);
    assert!(
        text.contains("thread \"main\" joins thread \"worker\" (joined at test.rs:301"),
        "{text}"
    );
    assert!(
        text.contains("thread \"worker\" waits for mutex \"L\""),
        "{text}"
    );
    assert!(text.contains("held by thread \"main\""), "{text}");
    check_invariants(&s.m);
}

#[test]
fn the_cycle_closes_whichever_wait_comes_last() {
    let mut s = Script::new();
    s.mutex(0, "L");
    s.acq(0, 0);
    assert!(!s.join(0, 1).deadlock);
    assert!(s.req(1, 0).deadlock);
    assert_eq!(s.m.deadlocks().len(), 1);
}

#[test]
fn joining_a_running_thread_is_a_wait_but_no_deadlock() {
    let mut s = Script::new();
    s.thread(0, "main");
    s.thread(1, "worker");
    assert!(!s.join(0, 1).deadlock);
    assert_eq!(s.status(0).name(), "join");
    let edges = s.m.wait_for_edges();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].reason, EdgeReason::Joins);
    s.exit(1);
    assert!(
        s.m.wait_for_edges().is_empty(),
        "an ended thread blocks no one"
    );
    s.joined(0, 1);
    assert_eq!(*s.status(0), ThreadStatus::Running);
    assert!(s.m.deadlocks().is_empty());
}

#[test]
fn a_join_counts_as_waiting_time() {
    let mut s = Script::new();
    s.thread(0, "main");
    s.at(100).join(0, 1);
    s.at(400).joined(0, 1);
    assert_eq!(s.m.threads()[0].stats.waiting, 300);
}

#[test]
fn joining_a_thread_that_already_ended_makes_no_edge() {
    let mut s = Script::new();
    s.thread(1, "worker");
    s.exit(1);
    s.mutex(0, "L");
    s.acq(0, 0);
    assert!(!s.join(0, 1).deadlock);
    assert!(s.m.wait_for_edges().is_empty());
}

#[test]
fn a_thread_joining_itself_is_a_self_deadlock() {
    let mut s = Script::new();
    assert!(s.join(0, 0).deadlock);
    assert_eq!(s.m.deadlocks()[0].edges.len(), 1);
}

#[test]
fn a_chain_of_joins_and_locks_closes_a_three_cycle() {
    // 0 joins 1, 1 joins 2, 2 waits for L held by 0.
    let mut s = Script::new();
    s.mutex(0, "L");
    s.acq(0, 0);
    assert!(!s.join(0, 1).deadlock);
    assert!(!s.join(1, 2).deadlock);
    assert!(s.req(2, 0).deadlock);
    let d = &s.m.deadlocks()[0];
    let reasons: Vec<EdgeReason> = d.edges.iter().map(|e| e.reason).collect();
    assert_eq!(
        reasons,
        [EdgeReason::Joins, EdgeReason::Joins, EdgeReason::Holds]
    );
}

#[test]
fn an_unblock_that_matches_no_join_is_an_anomaly() {
    let mut s = Script::new();
    s.thread(0, "main");
    s.joined(0, 1);
    assert_eq!(s.m.anomalies(), 1);
}

#[test]
fn a_join_on_a_blocked_thread_with_no_cycle_is_a_stall() {
    // worker waits on a condvar nobody will notify; main joins it.
    let mut s = Script::new();
    s.thread(0, "main");
    s.thread(1, "worker");
    s.condvar(0, "ready");
    s.mutex(1, "m");
    s.acq(1, 1);
    s.wait(1, 0, 1);
    assert!(s.m.stall().is_none(), "main still runs");
    s.join(0, 1);
    let stall = s.m.stall().expect("every live thread is blocked");
    assert_eq!(stall.waits.len(), 2);
    let report = crate::model::StallReport::new(&s.m, &stall).to_string();
    assert!(
        report.contains("\"main\" joins thread \"worker\" (at test.rs:301)"),
        "{report}"
    );
}

#[test]
fn a_timed_join_makes_no_edge() {
    let mut s = Script::new();
    let kind = EventKind::Block {
        on: crate::event::Blocker::Join(ThreadId(0)),
        site: site(1),
        timed: true,
        seq: 0,
    };
    assert!(!s.ev(0, kind).deadlock);
    assert!(s.m.wait_for_edges().is_empty());
}
