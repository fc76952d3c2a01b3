//! Channels: a blocked `recv` waits for the one thread that owns the senders,
//! a blocked `send` for the one that owns the receivers; any-of waits (several
//! owners, or a waiter owning the other end itself) make no edge.

use super::*;
use crate::event::{Blocker, End};
use crate::model::{EdgeReason, format_deadlock};

/// Thread `t` now owns one more `end` handle of channel `c` (moved from `from`).
fn own(s: &mut Script, t: u32, c: u32, end: End, from: Option<u32>) -> Change {
    let kind = EventKind::Handle {
        channel: LockId(c),
        end,
        from: from.map(ThreadId),
        to: Some(ThreadId(t)),
    };
    s.ev(t, kind)
}

fn drop_handle(s: &mut Script, t: u32, c: u32, end: End) -> Change {
    let kind = EventKind::Handle {
        channel: LockId(c),
        end,
        from: Some(ThreadId(t)),
        to: None,
    };
    s.ev(t, kind)
}

fn block(s: &mut Script, t: u32, on: Blocker) -> Change {
    let kind = EventKind::Block {
        on,
        site: site(400 + t),
        timed: false,
        seq: 0,
    };
    s.ev(t, kind)
}

/// "producer" (0) owns the sender of "jobs" (1) and holds L (0); "consumer"
/// (1) owns the receiver.
fn pipeline() -> Script {
    let mut s = Script::new();
    s.thread(0, "producer");
    s.thread(1, "consumer");
    s.mutex(0, "L");
    s.create(1, "jobs", LockKind::Channel);
    own(&mut s, 0, 1, End::Sender, None);
    own(&mut s, 1, 1, End::Receiver, None);
    s.acq(0, 0);
    s
}

#[test]
fn a_send_whose_only_receiver_waits_for_your_lock_is_a_deadlock() {
    // The producer holds L and waits for room; the consumer waits for L.
    let mut s = pipeline();
    assert!(!block(&mut s, 0, Blocker::Send(LockId(1))).deadlock);
    assert!(s.req(1, 0).deadlock);
    let d = &s.m.deadlocks()[0];
    assert_eq!(d.edges[0].reason, EdgeReason::AwaitsRoom);
    assert_eq!(d.edges[0].lock, LockId(1));
    let text = format_deadlock(&s.m, d);
    assert!(
        text.contains(
            "thread \"producer\" waits for room on channel \"jobs\" (send at test.rs:400"
        ),
        "{text}"
    );
    assert!(
        text.contains("only thread \"consumer\" can receive from it"),
        "{text}"
    );
}

#[test]
fn a_recv_waits_for_the_only_sender() {
    let mut s = Script::new();
    s.thread(0, "a");
    s.thread(1, "b");
    s.create(0, "ch", LockKind::Channel);
    s.mutex(1, "L");
    own(&mut s, 0, 0, End::Sender, None);
    own(&mut s, 1, 0, End::Receiver, None);
    s.acq(1, 1);
    assert!(!block(&mut s, 1, Blocker::Recv(LockId(0))).deadlock);
    assert!(s.req(0, 1).deadlock);
    let text = format_deadlock(&s.m, &s.m.deadlocks()[0]);
    assert!(
        text.contains("thread \"b\" waits for a message on channel \"ch\" (recv at test.rs:401"),
        "{text}"
    );
    assert!(text.contains("only thread \"a\" can send to it"), "{text}");
}

#[test]
fn two_senders_make_an_any_of_wait_with_no_edge() {
    let mut s = Script::new();
    s.create(0, "ch", LockKind::Channel);
    own(&mut s, 0, 0, End::Sender, None);
    own(&mut s, 2, 0, End::Sender, None);
    block(&mut s, 1, Blocker::Recv(LockId(0)));
    assert!(s.m.wait_for_edges().is_empty());
    // One sender dropped: the other is the only one left.
    drop_handle(&mut s, 2, 0, End::Sender);
    let edges = s.m.wait_for_edges();
    assert_eq!(edges.len(), 1);
    assert_eq!(
        (edges[0].holder, edges[0].reason),
        (ThreadId(0), EdgeReason::AwaitsMessage)
    );
}

#[test]
fn a_waiter_owning_the_other_end_itself_makes_no_edge() {
    // Its sender may have moved, unused, to a thread lockscope cannot name.
    let mut s = Script::new();
    s.create(0, "ch", LockKind::Channel);
    own(&mut s, 0, 0, End::Sender, None);
    own(&mut s, 0, 0, End::Receiver, None);
    own(&mut s, 1, 0, End::Sender, None);
    block(&mut s, 0, Blocker::Recv(LockId(0)));
    assert!(s.m.wait_for_edges().is_empty());
}

#[test]
fn a_handle_moves_with_its_use() {
    let mut s = Script::new();
    s.create(0, "ch", LockKind::Channel);
    own(&mut s, 0, 0, End::Sender, None);
    own(&mut s, 2, 0, End::Receiver, None);
    // Thread 1 uses the sender thread 0 made: it owns it now.
    own(&mut s, 1, 0, End::Sender, Some(0));
    block(&mut s, 2, Blocker::Recv(LockId(0)));
    let edges = s.m.wait_for_edges();
    assert_eq!(edges[0].holder, ThreadId(1));
    assert_eq!(s.m.locks()[0].senders, [(ThreadId(1), 1)]);
}

#[test]
fn no_sender_left_means_disconnected_not_a_hang() {
    let mut s = Script::new();
    s.create(0, "ch", LockKind::Channel);
    own(&mut s, 1, 0, End::Sender, None);
    s.thread(1, "gone");
    s.exit(1);
    block(&mut s, 0, Blocker::Recv(LockId(0)));
    assert!(s.m.wait_for_edges().is_empty());
}

#[test]
fn dropping_a_sender_can_close_a_cycle() {
    // a (0) holds L and waits for room; b (1) and c (2) own receivers; b
    // waits for L. When c drops its receiver, b is the only one: deadlock.
    let mut s = Script::new();
    s.mutex(0, "L");
    s.create(1, "ch", LockKind::Channel);
    own(&mut s, 1, 1, End::Receiver, None);
    own(&mut s, 2, 1, End::Receiver, None);
    s.acq(0, 0);
    block(&mut s, 0, Blocker::Send(LockId(1)));
    assert!(!s.req(1, 0).deadlock);
    assert!(drop_handle(&mut s, 2, 1, End::Receiver).deadlock);
}

#[test]
fn every_thread_in_a_channel_wait_is_a_stall() {
    let mut s = Script::new();
    s.thread(0, "a");
    s.create(0, "ch", LockKind::Channel);
    own(&mut s, 0, 0, End::Sender, None);
    own(&mut s, 0, 0, End::Receiver, None);
    block(&mut s, 0, Blocker::Recv(LockId(0)));
    let stall = s.m.stall().expect("its only thread waits for itself");
    let text = crate::model::StallReport::new(&s.m, &stall).to_string();
    assert!(
        text.contains("\"a\" waits for a message on channel \"ch\" (at test.rs:400)"),
        "{text}"
    );
}

#[test]
fn a_wake_up_ends_the_waits_on_the_other_side() {
    // The producer waits for room; the consumer receives (a wake-up), then
    // waits for L held by the producer: no cycle, the producer is let through.
    let mut s = pipeline();
    block(&mut s, 0, Blocker::Send(LockId(1)));
    let wake = EventKind::ChannelWake {
        channel: LockId(1),
        end: End::Receiver,
        seq: 0,
    };
    s.ev(1, wake);
    assert_eq!(*s.status(0), ThreadStatus::Running);
    assert!(!s.req(1, 0).deadlock);
    // Its own Unblock comes later and is no anomaly.
    let unblock = EventKind::Unblock {
        on: Blocker::Send(LockId(1)),
        seq: 0,
    };
    s.ev(0, unblock);
    assert_eq!(s.m.anomalies(), 0);
    assert!(s.m.deadlocks().is_empty());
}

#[test]
fn a_wake_up_leaves_waits_on_the_same_side_alone() {
    let mut s = pipeline();
    block(&mut s, 0, Blocker::Send(LockId(1)));
    let wake = EventKind::ChannelWake {
        channel: LockId(1),
        end: End::Sender,
        seq: 0,
    };
    s.ev(1, wake);
    assert!(matches!(s.status(0), ThreadStatus::Blocked { .. }));
}

#[test]
fn a_sender_ending_can_leave_one_and_close_a_cycle() {
    // b (1) waits for a message; a (0) and c (2) used senders; b holds L,
    // a waits for L. When c ends (its sender leaked), a is the only sender.
    let mut s = Script::new();
    s.mutex(0, "L");
    s.create(1, "ch", LockKind::Channel);
    own(&mut s, 0, 1, End::Sender, None);
    own(&mut s, 2, 1, End::Sender, None);
    s.acq(1, 0);
    block(&mut s, 1, Blocker::Recv(LockId(1)));
    assert!(!s.req(0, 0).deadlock);
    assert!(s.exit(2).deadlock);
}

#[test]
fn waits_on_both_sides_of_one_channel_are_never_a_cycle() {
    // A channel is not full and empty at once: one wait is stale.
    let mut s = pipeline();
    block(&mut s, 0, Blocker::Send(LockId(1)));
    assert!(!block(&mut s, 1, Blocker::Recv(LockId(1))).deadlock);
    assert!(s.m.wait_for_edges().is_empty());
}
