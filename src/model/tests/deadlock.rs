//! Actual deadlocks: every cycle shape is found the moment it closes, once;
//! every look-alike that is not a deadlock is not reported.

use super::*;
use crate::model::{EdgeReason, WaitEdge};

/// Threads `ids[i]` hold lock `i`, then each requests the next lock; the last
/// request closes the ring.
fn ring(ids: &[u32]) -> Script {
    let mut s = Script::new();
    let n = ids.len() as u32;
    for (i, &t) in ids.iter().enumerate() {
        s.mutex(i as u32, &format!("L{i}"));
        s.acq(t, i as u32);
    }
    for (i, &t) in ids.iter().enumerate() {
        let c = s.req(t, (i as u32 + 1) % n);
        assert_eq!(c.deadlock, i + 1 == ids.len(), "request {i}");
        // The order counts from the request: the closing one is also potential.
        assert_eq!(c.potential, c.deadlock, "request {i}");
    }
    check_invariants(&s.m);
    s
}

fn assert_chained(edges: &[WaitEdge]) {
    for (i, e) in edges.iter().enumerate() {
        let next = &edges[(i + 1) % edges.len()];
        assert_eq!(
            e.holder,
            next.thread,
            "edge {i} does not lead to edge {}",
            i + 1
        );
    }
}

#[test]
fn two_threads_two_mutexes() {
    let s = ring(&[0, 1]);
    let d = &s.m.deadlocks()[0];
    assert_eq!(s.m.deadlocks().len(), 1);
    assert_eq!(d.detected_at, s.m.last_time());
    let e = d.edges[0];
    assert_eq!(
        (e.thread, e.lock, e.holder),
        (ThreadId(0), LockId(1), ThreadId(1))
    );
    assert_eq!(
        (e.requested_at, e.held_at),
        (req_site(0, 1), acq_site(1, 1))
    );
    assert_eq!((e.mode, e.holder_mode), (Mode::Exclusive, Mode::Exclusive));
    assert_eq!(e.reason, EdgeReason::Holds);
    let e = d.edges[1];
    assert_eq!(
        (e.thread, e.lock, e.holder),
        (ThreadId(1), LockId(0), ThreadId(0))
    );
    assert_chained(&d.edges);
}

#[test]
fn three_and_five_cycles() {
    for n in [3, 5] {
        let ids: Vec<u32> = (0..n).collect();
        let s = ring(&ids);
        let d = &s.m.deadlocks()[0];
        assert_eq!(d.edges.len(), n as usize);
        let threads: Vec<u32> = d.threads().map(|t| t.0).collect();
        assert_eq!(threads, ids);
        assert_chained(&d.edges);
    }
}

#[test]
fn cycles_start_at_the_smallest_thread() {
    // Thread 8 closes the ring, thread 2 comes first in the report.
    let s = ring(&[4, 7, 2, 9, 8]);
    let threads: Vec<u32> = s.m.deadlocks()[0].threads().map(|t| t.0).collect();
    assert_eq!(threads, [2, 9, 8, 4, 7]);
    assert_chained(&s.m.deadlocks()[0].edges);
}

#[test]
fn a_deadlock_is_reported_once() {
    let mut s = ring(&[0, 1]);
    // Another waiter for a lock in the cycle, and a (bogus) late acquisition
    // by thread 1, which makes the model search from thread 0 again and find
    // the same cycle.
    assert!(!s.req(2, 0).deadlock);
    assert!(!s.acq(1, 1).deadlock);
    assert_eq!(s.m.anomalies(), 1);
    assert_eq!(s.m.deadlocks().len(), 1);
}

#[test]
fn live_view_knows_who_is_in_a_cycle() {
    let mut s = ring(&[0, 1]);
    s.acq(2, 5);
    s.req(3, 5);
    assert_eq!(s.m.threads_in_cycles(), [ThreadId(0), ThreadId(1)]);
    assert_eq!(s.m.locks_in_cycles(), [LockId(0), LockId(1)]);
    assert!(s.m.in_cycle(ThreadId(1)));
    assert!(!s.m.in_cycle(ThreadId(3)));
    assert_eq!(s.m.wait_for_edges().len(), 3);
    // Only nonsense can break a deadlock: the model follows it.
    s.timeout(0, 1);
    assert!(!s.m.is_active(&s.m.deadlocks()[0]));
    assert!(s.m.threads_in_cycles().is_empty());
}

#[test]
fn relocking_a_mutex_is_a_self_loop() {
    let mut s = Script::new();
    s.mutex(0, "m");
    s.acq(0, 0);
    assert!(s.req(0, 0).deadlock);
    let d = &s.m.deadlocks()[0];
    assert_eq!(d.edges.len(), 1);
    assert_eq!(
        (d.edges[0].thread, d.edges[0].holder),
        (ThreadId(0), ThreadId(0))
    );
}

#[test]
fn upgrading_a_read_lock_is_a_self_loop() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.read(0, 0);
    assert!(s.req(0, 0).deadlock);
    let e = s.m.deadlocks()[0].edges[0];
    assert_eq!((e.mode, e.holder_mode), (Mode::Exclusive, Mode::Shared));
}

#[test]
fn mixed_mutex_and_rwlock_cycle() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.mutex(1, "m");
    s.acq(0, 0); // write lock
    s.acq(1, 1);
    assert!(!s.req(0, 1).deadlock);
    assert!(s.req_read(1, 0).deadlock);
    let e = s.m.deadlocks()[0].edges[1];
    assert_eq!(
        (e.thread, e.mode, e.holder_mode),
        (ThreadId(1), Mode::Shared, Mode::Exclusive)
    );
}

/// T1 holds X and waits on CV with mutex M; T2 holds M, notifies, then
/// requests X: T2 waits for T1 (X), T1 waits for T2 (M).
#[test]
fn cycle_formed_after_a_condvar_notify() {
    let mut s = Script::new();
    s.mutex(0, "X");
    s.mutex(1, "M");
    s.condvar(2, "CV");
    s.acq(1, 0);
    s.acq(1, 1);
    assert!(!s.wait(1, 2, 1).deadlock);
    assert!(matches!(s.status(1), ThreadStatus::CondWait { .. }));
    assert!(s.m.wait_for_edges().is_empty());
    s.acq(2, 1);
    assert!(!s.notify(2, 2, 1).deadlock);
    assert!(matches!(
        s.status(1),
        ThreadStatus::Waiting {
            lock: LockId(1),
            ..
        }
    ));
    assert!(s.req(2, 0).deadlock);
    let d = &s.m.deadlocks()[0];
    let e = d.edges[0];
    assert_eq!(
        (e.thread, e.lock, e.holder),
        (ThreadId(1), LockId(1), ThreadId(2))
    );
    assert_eq!(e.requested_at, req_site(1, 2), "the wait site");
    let e = d.edges[1];
    assert_eq!(
        (e.thread, e.lock, e.holder),
        (ThreadId(2), LockId(0), ThreadId(1))
    );
    check_invariants(&s.m);
}

/// parking_lot's RwLock is task-fair: T0's second read blocks behind T1's
/// queued write, which waits for T0's first read.
#[test]
fn reader_behind_a_queued_writer_while_holding_a_read() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.read(0, 0);
    assert!(!s.req(1, 0).deadlock);
    assert!(s.req_read(0, 0).deadlock);
    let d = &s.m.deadlocks()[0];
    let e = d.edges[0];
    assert_eq!(
        (e.thread, e.holder, e.reason),
        (ThreadId(0), ThreadId(1), EdgeReason::QueuedWriter)
    );
    assert_eq!(
        (e.holder_mode, e.held_at),
        (Mode::Exclusive, req_site(1, 0))
    );
    let e = d.edges[1];
    assert_eq!(
        (e.thread, e.holder, e.reason),
        (ThreadId(1), ThreadId(0), EdgeReason::Holds)
    );
}

/// Events can apply a request before the acquisition that makes it wait: the
/// cycle closes at that late `Acquired`.
#[test]
fn cycle_closed_by_a_late_acquisition() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    assert!(!s.req(0, 1).deadlock);
    assert!(!s.req(1, 0).deadlock);
    // Thread 1 took B before it asked for A; the event arrives now.
    let c = s.acq(1, 1);
    assert!(c.deadlock);
    assert!(matches!(
        s.status(1),
        ThreadStatus::Waiting {
            lock: LockId(0),
            ..
        }
    ));
    assert_eq!(s.m.deadlocks().len(), 1);
    assert_eq!(s.m.anomalies(), 0);
    check_invariants(&s.m);
}

#[test]
fn readers_share_without_edges() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    for t in 0..3 {
        assert_eq!(s.read(t, 0), Change::default());
    }
    assert!(s.m.wait_for_edges().is_empty());
    assert_eq!(s.m.locks()[0].holders.len(), 3);
    assert_eq!(s.m.anomalies(), 0);
}

#[test]
fn writer_waiting_for_readers_is_no_deadlock() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.read(0, 0);
    s.read(1, 0);
    assert!(!s.req(2, 0).deadlock);
    let holders: Vec<ThreadId> = s.m.wait_for_edges().iter().map(|e| e.holder).collect();
    assert_eq!(holders, [ThreadId(0), ThreadId(1)]);
    s.rel_read(0, 0);
    s.rel_read(1, 0);
    assert!(!s.acq(2, 0).deadlock);
    assert!(s.m.deadlocks().is_empty());
}

#[test]
fn readers_do_not_wait_for_writers_queued_behind_them() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.acq(0, 0);
    s.req_read(1, 0);
    s.req(2, 0);
    let edges: Vec<(u32, u32)> =
        s.m.wait_for_edges()
            .iter()
            .map(|e| (e.thread.0, e.holder.0))
            .collect();
    assert_eq!(edges, [(1, 0), (2, 0)]);
}

#[test]
fn a_timed_queued_writer_blocks_no_one_forever() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.read(0, 0);
    s.req_timed(1, 0);
    assert!(!s.req_read(0, 0).deadlock);
    assert!(s.m.wait_for_edges().is_empty());
}

#[test]
fn condvar_waits_make_no_edges() {
    let mut s = Script::new();
    s.mutex(0, "m");
    s.condvar(1, "cv");
    s.acq(0, 0);
    s.wait(0, 1, 0);
    s.acq(1, 0);
    assert!(s.m.wait_for_edges().is_empty());
    s.notify(1, 1, 1);
    assert_eq!(s.m.wait_for_edges().len(), 1);
    s.rel(1, 0);
    assert!(!s.wake(0, 1, 0).deadlock);
    assert_eq!(*s.status(0), ThreadStatus::Running);
    assert!(s.m.deadlocks().is_empty());
    assert_eq!(s.m.anomalies(), 0);
    check_invariants(&s.m);
}

#[test]
fn a_timed_wait_cannot_close_a_cycle() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    s.acq(1, 1);
    assert!(!s.req_timed(0, 1).deadlock);
    assert!(!s.req(1, 0).deadlock);
    s.timeout(0, 1);
    assert_eq!(*s.status(0), ThreadStatus::Running);
    assert!(s.m.deadlocks().is_empty());
    assert!(s.m.locks()[1].waiters.is_empty());
}

#[test]
fn opposite_orders_at_different_times_are_only_potential() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    s.acq(0, 1);
    s.rel(0, 1);
    s.rel(0, 0);
    s.acq(1, 1);
    let c = s.acq(1, 0);
    assert_eq!(
        c,
        Change {
            deadlock: false,
            potential: true
        }
    );
    assert!(s.m.deadlocks().is_empty());
    assert_eq!(s.m.potential_deadlocks().len(), 1);
}

#[test]
fn a_cycle_is_dated_by_its_last_wait_whatever_order_the_events_arrive_in() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.at(10).acq(0, 0);
    s.at(11).acq(1, 1);
    // Thread 1's wait began at 90 but its event is applied first; thread 0's,
    // from 40, arrives late and closes the cycle in the model.
    s.at(90).req(1, 0);
    let c = s.at(40).req(0, 1);
    assert!(c.deadlock);
    assert_eq!(s.m.deadlocks()[0].detected_at, 90);
}
