//! Potential deadlocks: lock-order cycles, with their first witnesses.

use super::*;
use crate::model::OrderEdge;

#[test]
fn ab_ba_is_reported_once_with_witnesses() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    assert!(!s.acq(0, 1).potential);
    s.rel(0, 1);
    s.rel(0, 0);
    s.acq(1, 1);
    assert!(s.acq(1, 0).potential);
    s.rel(1, 0);
    s.rel(1, 1);
    // The same orders again: nothing new.
    for _ in 0..2 {
        s.acq(1, 1);
        assert!(!s.acq(1, 0).potential);
        s.rel(1, 0);
        s.rel(1, 1);
        s.acq(0, 0);
        assert!(!s.acq(0, 1).potential);
        s.rel(0, 1);
        s.rel(0, 0);
    }
    assert_eq!(s.m.potential_deadlocks().len(), 1);
    let p = &s.m.potential_deadlocks()[0];
    assert_eq!(
        p.edges,
        [
            OrderEdge {
                from: LockId(0),
                to: LockId(1),
                thread: ThreadId(0),
                from_site: acq_site(0, 0),
                to_site: acq_site(0, 1),
                from_mode: Mode::Exclusive,
                to_mode: Mode::Exclusive,
            },
            OrderEdge {
                from: LockId(1),
                to: LockId(0),
                thread: ThreadId(1),
                from_site: acq_site(1, 1),
                to_site: acq_site(1, 0),
                from_mode: Mode::Exclusive,
                to_mode: Mode::Exclusive,
            },
        ]
    );
    assert_eq!(s.m.order_edges().len(), 2);
    assert!(s.m.deadlocks().is_empty());
}

#[test]
fn three_lock_cycle_starts_at_the_smallest_lock() {
    let mut s = Script::new();
    let take = |s: &mut Script, t, a, b| {
        s.acq(t, a);
        let c = s.acq(t, b);
        s.rel(t, b);
        s.rel(t, a);
        c.potential
    };
    assert!(!take(&mut s, 0, 1, 2));
    assert!(!take(&mut s, 1, 2, 0));
    assert!(take(&mut s, 2, 0, 1));
    assert!(!take(&mut s, 2, 0, 1));
    let p = &s.m.potential_deadlocks()[0];
    let locks: Vec<u32> = p.locks().map(|l| l.0).collect();
    assert_eq!(locks, [0, 1, 2]);
    let witnesses: Vec<u32> = p.edges.iter().map(|e| e.thread.0).collect();
    assert_eq!(witnesses, [2, 0, 1]);
    assert_eq!(s.m.potential_deadlocks().len(), 1);
}

#[test]
fn nested_consistent_order_is_fine() {
    let mut s = Script::new();
    for t in 0..4 {
        for l in 0..4 {
            assert!(!s.acq(t, l).potential);
        }
        for l in (0..4).rev() {
            s.rel(t, l);
        }
    }
    assert_eq!(s.m.order_edges().len(), 6);
    assert!(s.m.potential_deadlocks().is_empty());
}

#[test]
fn a_recursive_read_is_its_own_potential_deadlock_with_both_sites() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.read(0, 0);
    assert!(s.read(0, 0).potential);
    assert!(!s.read(0, 0).potential, "reported once");
    assert!(
        s.m.order_edges().is_empty(),
        "no self edge in the order graph"
    );
    assert_eq!(s.m.anomalies(), 0);
    let p = &s.m.potential_deadlocks()[0];
    assert_eq!(p.kind, crate::model::PotentialKind::RecursiveRead);
    assert_eq!(p.edges.len(), 1);
    assert_eq!((p.edges[0].from, p.edges[0].to), (LockId(0), LockId(0)));
    let text = crate::model::format_potential(&s.m, p);
    assert!(
        text.starts_with(
            "POTENTIAL DEADLOCK: recursive read of rwlock \"rw\" at test.rs:100 then test.rs:100: a queued writer deadlocks it; use read_recursive or drop the first guard"
        ),
        "{text}"
    );
}

/// Read L, lock M, read L again: one thread, one hazard. It used to be an
/// "order inversion" L -> M -> L.
#[test]
fn a_recursive_read_around_another_lock_is_no_order_inversion() {
    let mut s = Script::new();
    s.rwlock(0, "L");
    s.mutex(1, "M");
    s.read(0, 0);
    s.acq(0, 1);
    s.read(0, 0);
    let kinds: Vec<_> = s.m.potential_deadlocks().iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [crate::model::PotentialKind::RecursiveRead]);
    let edges: Vec<_> =
        s.m.order_edges()
            .iter()
            .map(|e| (e.from.0, e.to.0))
            .collect();
    assert_eq!(edges, [(0, 1)], "re-taking a held lock adds no order");
}

#[test]
fn reading_a_lock_held_for_writing_or_a_mutex_twice_is_not_a_recursive_read() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.mutex(1, "m");
    s.acq(0, 0);
    s.req_read(0, 0);
    s.acq(1, 1);
    s.req(1, 1);
    assert!(s.m.potential_deadlocks().is_empty());
    assert_eq!(s.m.deadlocks().len(), 2, "both are self-deadlocks");
}

#[test]
fn waking_from_a_condvar_takes_the_mutex_in_order() {
    let mut s = Script::new();
    s.mutex(0, "X");
    s.mutex(1, "M");
    s.condvar(2, "CV");
    s.acq(0, 0);
    s.acq(0, 1);
    s.wait(0, 2, 1);
    s.wake(0, 2, 1);
    s.rel(0, 1);
    s.rel(0, 0);
    // Another thread takes M then X: the wake-up's X -> M edge is already known.
    s.acq(1, 1);
    assert!(s.acq(1, 0).potential);
    let e = s.m.order_edges()[0];
    assert_eq!((e.from, e.to), (LockId(0), LockId(1)));
}

#[test]
fn shared_modes_are_recorded_on_witnesses() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.read(0, 0);
    s.acq(0, 1);
    let e = s.m.order_edges()[0];
    assert_eq!((e.from_mode, e.to_mode), (Mode::Shared, Mode::Exclusive));
}

#[test]
fn the_order_counts_from_the_request_so_a_real_deadlock_is_also_potential() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    s.acq(1, 1);
    // Neither second lock is ever acquired: the orders come from the requests.
    assert!(!s.req(0, 1).potential);
    let change = s.req(1, 0);
    assert!(change.potential && change.deadlock);
    let p = &s.m.potential_deadlocks()[0];
    assert_eq!(p.edges[0].to_site, req_site(0, 1));
    assert_eq!(p.edges[1].to_site, req_site(1, 0));
}

#[test]
fn a_timed_request_records_no_order() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    s.req_timed(0, 1);
    assert!(s.m.order_edges().is_empty());
}

#[test]
fn a_try_lock_adds_no_order_into_the_tried_lock() {
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    s.acq(0, 1);
    s.rel(0, 1);
    s.rel(0, 0);
    // The other order, but B -> A is only ever tried: the classic back-off fix.
    s.acq(1, 1);
    let change = s.ev(
        1,
        EventKind::Acquired {
            lock: LockId(0),
            mode: Mode::Exclusive,
            site: acq_site(1, 0),
            seq: 0,
            tried: true,
        },
    );
    assert!(!change.potential);
    assert!(s.m.potential_deadlocks().is_empty());
    assert_eq!(s.m.order_edges().len(), 1);
    // The tried lock is held all the same: what comes after it is ordered.
    s.mutex(2, "C");
    s.acq(1, 2);
    assert_eq!(s.m.order_edges().len(), 3);
}

/// Thread `t` takes `locks` nested, then lets them go; whether a take closed
/// a lock-order cycle.
fn nest(s: &mut Script, t: u32, locks: impl IntoIterator<Item = u32> + Clone) -> bool {
    let mut potential = false;
    for l in locks.clone() {
        potential |= s.acq(t, l).potential;
    }
    for l in locks {
        s.rel(t, l);
    }
    potential
}

#[test]
fn deep_nesting_keeps_edges_linear_in_the_acquisitions() {
    // One thread nesting N distinct mutexes: N²/2 pairs, and 3.9 GB at
    // N = 10,000 when every pair was an edge.
    const N: u32 = 2_000;
    let mut s = Script::new();
    for l in 0..N {
        s.mutex(l, "m");
    }
    assert!(!nest(&mut s, 0, 0..N));
    let edges = s.m.order_edges().len();
    assert!(
        edges <= 8 * N as usize,
        "{edges} edges for {N} nested locks"
    );
    assert!(s.m.potential_deadlocks().is_empty());
}

#[test]
fn an_inversion_against_a_deep_hold_is_still_found() {
    // Thread 0 takes 0 and then twenty more locks; thread 1 takes the last
    // one, then 0: lock 0 is far beyond the direct edges of the last take.
    let mut s = Script::new();
    for l in 0..21 {
        s.mutex(l, "m");
    }
    assert!(!nest(&mut s, 0, 0..21));
    assert!(nest(&mut s, 1, [20, 0]));
    let p = &s.m.potential_deadlocks()[0];
    let locks: Vec<u32> = p.locks().map(|l| l.0).collect();
    assert_eq!(locks.first(), Some(&0));
    assert!(locks.contains(&20), "{locks:?}");
    // The chain between names the real witnesses: every edge but the
    // closing one is thread 0's.
    assert!(p.edges.iter().filter(|e| e.thread == ThreadId(1)).count() == 1);
}

#[test]
fn the_chain_skips_no_hold_behind_try_locks() {
    // Thread 0 holds A, then try-locks ten locks (no edge into any of them),
    // then takes B: A -> B must still be known, though A is eleven holds back.
    let mut s = Script::new();
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.acq(0, 0);
    for l in 10..20 {
        s.mutex(l, "tried");
        s.ev(
            0,
            EventKind::Acquired {
                lock: LockId(l),
                mode: Mode::Exclusive,
                site: acq_site(0, l),
                seq: 0,
                tried: true,
            },
        );
    }
    s.acq(0, 1);
    assert!(
        s.m.order_edges()
            .iter()
            .any(|e| e.from == LockId(0) && e.to == LockId(1))
    );
    assert!(nest(&mut s, 1, [1, 0]));
}
