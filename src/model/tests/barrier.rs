//! Barriers: a waiter waits for the threads that can still arrive, with an
//! edge to each only when every one of them is needed.

use super::*;
use crate::event::Blocker;
use crate::model::{EdgeReason, format_deadlock};

const B: u32 = 5;

fn arrive(s: &mut Script, t: u32, parties: u32) -> Change {
    let kind = EventKind::Block {
        on: Blocker::Barrier {
            barrier: LockId(B),
            parties,
        },
        site: site(500 + t),
        timed: false,
        seq: 0,
    };
    s.ev(t, kind)
}

fn trip(s: &mut Script, leader: u32) -> Change {
    let kind = EventKind::BarrierTrip {
        barrier: LockId(B),
        seq: 0,
    };
    s.ev(leader, kind)
}

/// Threads 0, 1, 2 ("w0".."w2") and barrier "B" of 3; lock 0 "L".
fn three() -> Script {
    let mut s = Script::new();
    for t in 0..3 {
        s.thread(t, &format!("w{t}"));
    }
    s.mutex(0, "L");
    s.create(B, "B", LockKind::Barrier);
    s
}

#[test]
fn holding_a_lock_the_last_participant_needs_is_a_deadlock() {
    let mut s = three();
    // A first round teaches the model who takes part.
    arrive(&mut s, 0, 3);
    arrive(&mut s, 1, 3);
    trip(&mut s, 2);
    assert_eq!(s.m.locks()[B as usize].participants.len(), 3);
    assert_eq!(*s.status(0), ThreadStatus::Running);
    // w0 holds L and waits; w1 arrives; w2 wants L.
    s.acq(0, 0);
    assert!(!arrive(&mut s, 0, 3).deadlock);
    assert!(!arrive(&mut s, 1, 3).deadlock);
    assert!(s.req(2, 0).deadlock);
    let d = &s.m.deadlocks()[0];
    let reasons: Vec<EdgeReason> = d.edges.iter().map(|e| e.reason).collect();
    assert_eq!(reasons, [EdgeReason::AwaitsArrival, EdgeReason::Holds]);
    let text = format_deadlock(&s.m, d);
    assert!(
        text.contains("thread \"w0\" waits at barrier \"B\" (wait at test.rs:500"),
        "{text}"
    );
    assert!(
        text.contains("for thread \"w2\", which has not arrived"),
        "{text}"
    );
}

#[test]
fn before_the_first_opening_no_wait_makes_an_edge() {
    // Threads not seen yet may arrive: w0 holding L and waiting, w2 wanting
    // L, is not provably stuck while the participants are unknown.
    let mut s = three();
    s.acq(0, 0);
    arrive(&mut s, 0, 2);
    assert!(!s.req(2, 0).deadlock);
    s.exit(1);
    assert!(
        s.m.wait_for_edges()
            .iter()
            .all(|e| e.reason == EdgeReason::Holds)
    );
}

#[test]
fn more_candidates_than_missing_arrivals_make_no_edge() {
    let mut s = three();
    arrive(&mut s, 0, 3);
    arrive(&mut s, 1, 3);
    trip(&mut s, 2);
    // A barrier of 3 now waited by w0 with n = 2: one of w1, w2 suffices.
    arrive(&mut s, 0, 2);
    assert!(s.m.wait_for_edges().is_empty());
}

#[test]
fn an_opening_lets_every_waiter_go_and_a_late_unblock_is_no_anomaly() {
    let mut s = three();
    arrive(&mut s, 0, 3);
    arrive(&mut s, 1, 3);
    trip(&mut s, 2);
    assert!(s.m.locks()[B as usize].arrived.is_empty());
    for t in 0..2 {
        assert_eq!(*s.status(t), ThreadStatus::Running);
        let on = Blocker::Barrier {
            barrier: LockId(B),
            parties: 3,
        };
        s.ev(t, EventKind::Unblock { on, seq: 0 });
    }
    assert_eq!(s.m.anomalies(), 0);
}

#[test]
fn a_loop_of_rounds_is_never_a_deadlock() {
    let mut s = three();
    for round in 0..10 {
        let leader = round % 3;
        for t in (0..3).filter(|&t| t != leader) {
            assert!(!arrive(&mut s, t, 3).deadlock);
        }
        trip(&mut s, leader);
    }
    assert!(s.m.deadlocks().is_empty());
    assert!(s.m.stall().is_none());
}

#[test]
fn everyone_at_the_barrier_with_one_missing_for_good_is_a_stall() {
    let mut s = three();
    arrive(&mut s, 0, 4);
    arrive(&mut s, 1, 4);
    arrive(&mut s, 2, 4);
    let stall = s.m.stall().expect("a barrier of 4 with 3 threads");
    let text = crate::model::StallReport::new(&s.m, &stall).to_string();
    assert!(text.contains("waits at barrier \"B\""), "{text}");
}
