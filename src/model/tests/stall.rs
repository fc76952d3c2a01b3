//! Stalls: every live thread blocked without a bound, no cycle among them.

use super::Script;
use crate::event::LockKind;
use crate::model::StallReport;

fn two_threads() -> Script {
    let mut s = Script::new();
    s.thread(0, "consumer");
    s.thread(1, "producer");
    s.mutex(0, "M");
    s.condvar(1, "ready");
    s
}

#[test]
fn a_waiter_left_alone_is_a_stall_once_its_notifier_exits() {
    let mut s = two_threads();
    s.acq(0, 0);
    s.at(50).wait(0, 1, 0);
    assert!(s.m.stall().is_none(), "the producer still runs");
    s.at(70).exit(1);
    let stall = s.m.stall().unwrap();
    assert_eq!(stall.since, 50);
    assert_eq!(stall.waits.len(), 1);
    assert!(stall.waits[0].condvar);
    assert!(s.m.stall_at(60, 20).is_none(), "within the grace period");
    assert!(s.m.stall_at(80, 20).is_some());
    let text = StallReport::new(&s.m, &stall).to_string();
    assert!(
        text.starts_with(
            "STALL: its only thread blocked; \"consumer\" waits on condvar \"ready\" (at test.rs:"
        ),
        "{text}"
    );
    assert!(text.ends_with("no running thread can notify it\n  (every thread blocked since 50ns; nothing lockscope sees can wake them)"), "{text}");
}

#[test]
fn a_lock_held_by_a_finished_thread_stalls_its_waiters() {
    let mut s = two_threads();
    s.acq(1, 0);
    s.exit(1); // leaked its guard
    s.req(0, 0);
    let stall = s.m.stall().unwrap();
    let report = StallReport::new(&s.m, &stall);
    assert_eq!(report.waits[0].kind, LockKind::Mutex);
    assert_eq!(report.waits[0].held_by, ["\"producer\" (finished)"]);
    assert!(
        report.to_string().contains(
            "\"consumer\" waits for mutex \"M\" (at test.rs:200), held by \"producer\" (finished)"
        ),
        "{report}"
    );
}

#[test]
fn a_bounded_wait_or_a_deadlock_is_not_a_stall() {
    let mut s = two_threads();
    s.acq(1, 0);
    s.req_timed(0, 0);
    s.exit(1);
    assert!(s.m.stall().is_none(), "try_lock_for ends by itself");

    let mut s = two_threads();
    s.mutex(2, "N");
    s.acq(0, 0);
    s.acq(1, 2);
    s.req(0, 2);
    s.req(1, 0);
    assert_eq!(s.m.deadlocks().len(), 1);
    assert!(s.m.stall().is_none(), "reported as the deadlock it is");
}

#[test]
fn a_summary_carries_the_stall_the_run_ended_in() {
    let mut s = two_threads();
    s.acq(0, 0);
    s.wait(0, 1, 0);
    assert!(s.m.summary().stalls.is_empty());
    s.exit(1);
    let summary = s.m.summary();
    assert_eq!(summary.stalls.len(), 1);
    assert_eq!(summary.stalls[0].threads, ["consumer"]);
}
