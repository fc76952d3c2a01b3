//! Nonsense in, no panic out: unknown ids, impossible orders, garbage.

use super::*;
use crate::model::{format_deadlock, format_potential, format_summary};

#[test]
fn releasing_a_lock_not_held_is_an_anomaly() {
    let mut s = Script::new();
    s.rel(0, 0);
    s.rel_read(0, 3);
    assert_eq!(s.m.anomalies(), 2);
    assert_eq!(s.m.locks().len(), 4);
}

#[test]
fn unknown_ids_get_placeholders_filled_in_later() {
    let mut s = Script::new();
    s.read(5, 3);
    assert_eq!(s.m.threads().len(), 6);
    assert_eq!(s.m.thread_name(ThreadId(5)), "thread#5");
    assert_eq!(s.m.lock_name(LockId(3)), "lock#3");
    assert_eq!(
        s.m.locks()[3].kind,
        LockKind::RwLock,
        "guessed from the shared mode"
    );
    assert!(!s.m.locks()[3].known);
    s.rwlock(3, "table");
    s.thread(5, "worker");
    assert_eq!(s.m.lock_name(LockId(3)), "table");
    assert_eq!(s.m.thread_name(ThreadId(5)), "worker");
    assert!(s.m.threads()[5].known);
    assert_eq!(s.m.thread_name(ThreadId(99)), "?");
    assert!(s.m.lock(LockId(99)).is_none());
    assert_eq!(s.m.anomalies(), 0);
}

#[test]
fn absurd_ids_are_ignored() {
    let mut s = Script::new();
    s.acq(u32::MAX, 0);
    s.acq(0, u32::MAX);
    s.acq(0, 1 << 20);
    assert_eq!(s.m.anomalies(), 3);
    assert_eq!(s.m.events(), 3);
    assert!(s.m.locks().len() <= 1);
    assert_eq!(s.m.threads().len(), 1);
}

#[test]
fn events_after_the_end_do_not_revive_a_thread() {
    let mut s = Script::new();
    s.thread(0, "t");
    s.exit(0);
    s.req(0, 0);
    s.wait(0, 1, 0);
    s.exit(0);
    s.panic(0, "late");
    assert_eq!(*s.status(0), ThreadStatus::Finished);
    assert_eq!(s.m.anomalies(), 4);
    assert!(s.m.locks()[0].waiters.is_empty());
    check_invariants(&s.m);
}

#[test]
fn a_panic_releases_what_is_left() {
    let mut s = Script::new();
    s.acq(0, 0);
    s.read(0, 1);
    s.req(0, 2);
    s.panic(0, "boom");
    assert_eq!(
        *s.status(0),
        ThreadStatus::Panicked {
            message: "boom".into()
        }
    );
    assert!(s.m.threads()[0].held.is_empty());
    assert!(
        s.m.locks()
            .iter()
            .all(|l| l.holders.is_empty() && l.waiters.is_empty())
    );
    check_invariants(&s.m);
}

#[test]
fn a_leaked_guard_stays_held_after_exit() {
    let mut s = Script::new();
    s.acq(0, 0);
    s.exit(0);
    assert_eq!(s.m.locks()[0].holders.len(), 1);
    assert_eq!(s.m.anomalies(), 0);
}

#[test]
fn two_exclusive_holders_are_an_anomaly() {
    let mut s = Script::new();
    s.acq(0, 0);
    s.acq(1, 0);
    assert_eq!(s.m.anomalies(), 1);
    s.rel(0, 0);
    s.rel(1, 0);
    assert!(s.m.locks()[0].holders.is_empty());
}

#[test]
fn notify_with_fewer_known_waiters_is_tolerated() {
    let mut s = Script::new();
    s.condvar(1, "cv");
    s.notify(0, 1, 5);
    assert_eq!(s.m.anomalies(), 0);
    assert_eq!(s.m.locks()[1].stats.notifies, 1);
}

/// A fixed-seed xorshift generator: reproducible garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_event(rng: &mut Rng, time: &mut Nanos) -> Event {
    let id = |rng: &mut Rng| match rng.below(100) {
        0 => u32::MAX - rng.below(3) as u32,
        1 => 8 + rng.below(5_000) as u32,
        _ => rng.below(8) as u32,
    };
    let lock = LockId(id(rng));
    let other = LockId(id(rng));
    let mode = if rng.below(2) == 0 {
        Mode::Shared
    } else {
        Mode::Exclusive
    };
    let site = site(rng.below(50) as u32);
    let flag = rng.below(4) == 0;
    let name = ["a", "\u{1b}[31mred", "\u{202e}evil", ""][rng.below(4) as usize].to_owned();
    let kind = match rng.below(24) {
        0 => EventKind::ThreadStart { name },
        1 => EventKind::ThreadExit,
        2 => EventKind::ThreadPanic { message: name },
        3 => EventKind::LockCreated {
            lock,
            name,
            kind: [LockKind::Mutex, LockKind::RwLock, LockKind::Condvar][rng.below(3) as usize],
            site,
            first_seq: 0,
        },
        4..=7 => EventKind::Request {
            lock,
            mode,
            site,
            timed: flag,
            ticket: 0,
        },
        8..=11 => EventKind::Acquired {
            lock,
            mode,
            site,
            seq: 0,
            tried: lock.0.is_multiple_of(3),
        },
        12..=16 => EventKind::Released { lock, mode, seq: 0 },
        17 => EventKind::TryFailed { lock, mode, site },
        18 => EventKind::TimedOut { lock, mode },
        19 | 20 => EventKind::CondWait {
            condvar: lock,
            mutex: other,
            site,
            seq: 0,
            timed: flag,
        },
        21 => EventKind::CondWake {
            condvar: lock,
            mutex: other,
            seq: 0,
            timed_out: flag,
        },
        _ => EventKind::Notify {
            condvar: lock,
            all: flag,
            woken: rng.below(4) as u32,
            site,
        },
    };
    *time = match rng.below(1_000) {
        0 => time.saturating_sub(rng.below(1_000)),
        1 => u64::MAX - rng.below(10),
        2 => 0,
        _ => time.saturating_add(rng.below(100)),
    };
    Event {
        time: *time,
        thread: ThreadId(id(rng)),
        kind,
    }
}

#[test]
fn random_event_sequences_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut time = 0;
    let mut m = Model::new();
    for i in 0..300_000u32 {
        let ev = random_event(&mut rng, &mut time);
        m.apply(&ev);
        if i % 1_000 == 0 {
            check_invariants(&m);
        }
        if i % 50_000 == 0 {
            // Fresh models now and then, so short histories are covered too.
            m = Model::new();
        }
    }
    check_invariants(&m);
    assert!(m.threads().len() <= 5_008 && m.locks().len() <= 5_008);
    assert!(m.anomalies() > 0);
    // Everything that reads the model copes with what it built.
    let _ = m.wait_for_edges();
    let _ = m.threads_in_cycles();
    for d in m.deadlocks().iter().take(50) {
        assert!(!format_deadlock(&m, d).contains('\u{1b}'));
    }
    for p in m.potential_deadlocks().iter().take(50) {
        assert!(!format_potential(&m, p).contains('\u{202e}'));
    }
    let text = format_summary(&m.summary());
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
    assert!(serde_json::to_string(&m.summary()).is_ok());
}

#[test]
fn random_sequences_are_deterministic() {
    let run = || {
        let mut rng = Rng(42);
        let mut time = 0;
        let mut m = Model::new();
        for _ in 0..20_000 {
            m.apply(&random_event(&mut rng, &mut time));
        }
        serde_json::to_string(&m.summary()).unwrap()
    };
    assert_eq!(run(), run());
}

/// After the collector dropped some of a thread's events (a release among
/// them), what the model thinks it holds is stale: re-taking the lock it
/// "still holds" must not read as a self-deadlock or a stall, nor its stale
/// holds as a lock order. The same events from a thread that lost nothing
/// are all three.
#[test]
fn a_thread_that_lost_events_proves_no_deadlock_and_no_order() {
    for lost in [false, true] {
        let mut s = Script::new();
        s.thread(1, "worker");
        s.thread(2, "other");
        s.mutex(0, "hot");
        s.mutex(1, "cold");
        // The order cold → hot.
        s.acq(2, 1);
        s.acq(2, 0);
        s.rel(2, 0);
        s.rel(2, 1);
        s.ev(2, EventKind::ThreadExit);
        s.acq(1, 0);
        if lost {
            // Its release of "hot" was in the dropped batch.
            s.m.lose_events(ThreadId(1));
        }
        assert_eq!(s.acq(1, 1).potential, !lost, "hot → cold; lost: {lost}");
        s.rel(1, 1);
        assert_eq!(s.req(1, 0).deadlock, !lost, "lost: {lost}");
        assert_eq!(s.m.deadlocks().is_empty(), lost);
        assert_eq!(s.m.threads()[1].lost_events, lost);
    }
}

/// A condvar wait whose wake-up was in a dropped batch is no stall.
#[test]
fn a_thread_that_lost_events_proves_no_stall() {
    for lost in [false, true] {
        let mut s = Script::new();
        s.thread(0, "consumer");
        s.thread(1, "producer");
        s.mutex(0, "m");
        s.condvar(1, "ready");
        s.acq(0, 0);
        s.wait(0, 1, 0);
        if lost {
            s.m.lose_events(ThreadId(0));
        }
        s.exit(1);
        assert_eq!(s.m.stall().is_some(), !lost, "lost: {lost}");
    }
}
