//! Simulator semantics: each operation, enabled sets, condvar queues, rwlock
//! fairness, hand-offs, deadlock versus stuck, keys, and events.

#![allow(clippy::unwrap_used)]

use super::*;

mod channels;
mod events;

/// Locks A, B (mutexes), L (rwlock), CV (condvar), var n; one thread per step list.
fn scenario(threads: &[&[&str]]) -> Scenario {
    declared(
        "[locks]\nA = \"mutex\"\nB = \"mutex\"\nL = \"rwlock\"\nCV = \"condvar\"\n[vars]\nn = 0\n",
        threads,
    )
}

/// The declarations `head`, then one thread `tI` per step list.
fn declared(head: &str, threads: &[&[&str]]) -> Scenario {
    let mut text = String::from(head);
    for (i, steps) in threads.iter().enumerate() {
        let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
        text.push_str(&format!(
            "[[thread]]\nname = \"t{i}\"\nsteps = [{}]\n",
            steps.join(", ")
        ));
    }
    Scenario::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e:#}"))
}

const A: usize = 0;
const B: usize = 1;
const L: usize = 2;
const CV: usize = 3;

fn text(sim: &Sim, t: usize) -> String {
    sim.pending(t).map(|p| p.text).unwrap_or_default()
}

#[test]
fn locks_exclude_and_unlock_frees() {
    let mut sim = Sim::new(&scenario(&[
        &["lock A", "unlock A"],
        &["lock A", "unlock A"],
    ]));
    assert_eq!(sim.enabled(), vec![0, 1]);
    assert_eq!(sim.step(0), Ok(Moved::Completed));
    assert_eq!(sim.enabled(), vec![0]);
    assert_eq!(
        sim.thread_state(1),
        ThreadState::WouldBlock {
            lock: A,
            holders: vec![0]
        }
    );
    sim.step(0).unwrap();
    assert_eq!(sim.thread_state(0), ThreadState::Done);
    assert_eq!(sim.enabled(), vec![1]);
    sim.step(1).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.status(), SimStatus::Finished);
}

#[test]
fn invisible_steps_run_with_the_next_visible_one_and_loops_are_counted() {
    let s = scenario(&[
        &["sleep 1ms", "work 1ms"],
        &[
            "repeat 1000000",
            "add 2",
            "repeat 3",
            "add 1",
            "end",
            "end",
            "lock A",
            "store n",
            "unlock A",
        ],
    ]);
    let mut sim = Sim::new(&s);
    assert_eq!(
        sim.thread_state(0),
        ThreadState::Done,
        "nothing visible to do"
    );
    assert_eq!(sim.enabled(), vec![1]);
    sim.step(1).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.vars(), &[5_000_000]);

    let s = scenario(&[&["repeat 3", "lock A", "work 1ms", "unlock A", "end"]]);
    let mut sim = Sim::new(&s);
    let mut steps = 0;
    while sim.status() == SimStatus::Running {
        sim.step(0).unwrap();
        steps += 1;
    }
    assert_eq!(steps, 6);
    assert_eq!(sim.status(), SimStatus::Finished);
}

#[test]
fn load_add_store_use_the_register() {
    let s = scenario(&[
        &["load n", "add 1", "store n"],
        &["load n", "add 1", "store n"],
    ]);
    let mut sim = Sim::new(&s);
    // Both read 0 before either writes: one update is lost.
    for t in [0, 1, 0, 1] {
        sim.step(t).unwrap();
    }
    assert_eq!(sim.vars(), &[1]);
    let mut sim = Sim::new(&s);
    for t in [0, 0, 1, 1] {
        sim.step(t).unwrap();
    }
    assert_eq!(sim.vars(), &[2]);
}

#[test]
fn expectations_are_checked_on_the_variables() {
    let text = "[vars]\nn = 0\n[[thread]]\nname = \"t\"\nsteps = [\"load n\", \"add 1\", \"store n\"]\n\
                [expect]\nn = 2\n";
    let mut sim = Sim::new(&Scenario::parse("e.toml", text).unwrap());
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    assert_eq!(sim.status(), SimStatus::Finished);
    assert!(!sim.expectations_hold());
    assert_eq!(sim.failed_expectation(), Some((0, 2, 1)));
}

#[test]
fn pending_shows_the_step_as_written_with_its_site() {
    let text = "[locks]\n\"fork 2\" = \"mutex\"\n\"fork 3\" = \"mutex\"\n\
                [[thread]]\nname = \"philosopher 2\"\n\
                steps = [\"LOCK  fork 2\", \"lock fork   3\"]\n";
    let mut sim = Sim::new(&Scenario::parse("p.toml", text).unwrap());
    sim.step(0).unwrap();
    let p = sim.pending(0).unwrap();
    assert_eq!(p.op, SimOp::Lock(1));
    assert_eq!(p.text, "lock fork 3");
    assert_eq!(p.site.to_string(), "p.toml:6");
    assert_eq!(sim.describe(0), "philosopher 2 → lock fork 3 (p.toml:6)");
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    assert_eq!(
        sim.describe(0),
        "philosopher 2 → unlock fork 3 (end of thread)"
    );
}

#[test]
fn readers_share_and_a_writer_waits_for_all_of_them() {
    let reader: &[&str] = &["read L", "unlock L"];
    let s = scenario(&[reader, reader, &["write L", "unlock L"]]);
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap();
    sim.step(1).unwrap();
    assert_eq!(
        sim.thread_state(2),
        ThreadState::WouldBlock {
            lock: L,
            holders: vec![0, 1]
        }
    );
    assert_eq!(sim.enabled(), vec![0, 1]);
    sim.step(0).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.enabled(), vec![2]);
}

#[test]
fn a_queued_writer_blocks_new_readers_and_is_handed_the_lock() {
    let s = scenario(&[
        &["read L", "unlock L"],
        &["write L", "unlock L"],
        &["read L", "unlock L"],
    ]);
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap();
    assert_eq!(sim.step(1), Ok(Moved::Blocked), "the writer queues");
    assert_eq!(
        sim.thread_state(1),
        ThreadState::Blocked {
            lock: L,
            holders: vec![0]
        }
    );
    assert_eq!(sim.step(1), Err(SimError::Blocked { thread: 1, lock: L }));
    // parking_lot's RwLock is fair: the new reader waits behind the writer.
    assert_eq!(
        sim.thread_state(2),
        ThreadState::WouldBlock {
            lock: L,
            holders: vec![1]
        }
    );
    let mut events = Vec::new();
    sim.step_events(0, 7, &mut events).unwrap();
    let kinds: Vec<(u32, &str)> = events.iter().map(|e| (e.thread.0, e.kind.name())).collect();
    assert_eq!(
        kinds,
        vec![(0, "released"), (1, "acquired"), (0, "thread_exit")]
    );
    assert_eq!(text(&sim, 1), "unlock L", "the writer holds L and moved on");
    assert_eq!(sim.enabled(), vec![1]);
}

#[test]
fn rereading_while_a_writer_queues_deadlocks_through_the_writer() {
    // The second read guard is dropped when the thread ends.
    let s = scenario(&[&["read L", "read L", "unlock L"], &["write L", "unlock L"]]);
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.enabled(), Vec::<usize>::new());
    assert_eq!(
        sim.status(),
        SimStatus::Deadlock {
            cycle: vec![(0, L), (1, L)]
        }
    );
    // Without the queued writer, the second read is fine.
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    assert_eq!(text(&sim, 0), "unlock L");
}

#[test]
fn relocking_a_mutex_and_upgrading_a_read_lock_wait_for_themselves() {
    let mut sim = Sim::new(&Scenario::load("self-deadlock").unwrap());
    sim.step(0).unwrap();
    assert_eq!(
        sim.status(),
        SimStatus::Deadlock {
            cycle: vec![(0, 0)]
        }
    );
    assert_eq!(
        sim.thread_state(1),
        ThreadState::WouldBlock {
            lock: A,
            holders: vec![0]
        },
        "the bystander waits behind"
    );
    // A cycle is final even while other threads can still move.
    let s = scenario(&[&["lock A", "lock A"], &["lock B", "unlock B"]]);
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap();
    assert_eq!(sim.cycle(), Some(vec![(0, A)]));
    assert_eq!(sim.status(), SimStatus::Running);

    let mut sim = Sim::new(&Scenario::load("rwlock-upgrade").unwrap());
    sim.step(0).unwrap();
    assert_eq!(
        sim.status(),
        SimStatus::Deadlock {
            cycle: vec![(0, 0)]
        }
    );
}

#[test]
fn notify_wakes_the_longest_waiter_and_the_waker_must_reacquire() {
    let waiter: &[&str] = &["lock A", "wait CV A", "unlock A"];
    let s = scenario(&[
        waiter,
        waiter,
        &["lock A", "notify CV", "unlock A", "notify_all CV"],
    ]);
    let mut sim = Sim::new(&s);
    for t in [1, 1, 0, 0] {
        sim.step(t).unwrap();
    }
    assert_eq!(
        sim.thread_state(1),
        ThreadState::CondWaiting { condvar: CV }
    );
    assert_eq!(
        sim.step(0),
        Err(SimError::CondWaiting {
            thread: 0,
            condvar: CV
        })
    );
    assert_eq!(sim.enabled(), vec![2]);
    sim.step(2).unwrap(); // lock A
    sim.step(2).unwrap(); // notify: wakes t1, which waited first
    assert_eq!(text(&sim, 1), "reacquire A");
    assert_eq!(
        sim.thread_state(1),
        ThreadState::WouldBlock {
            lock: A,
            holders: vec![2]
        }
    );
    assert_eq!(
        sim.thread_state(0),
        ThreadState::CondWaiting { condvar: CV }
    );
    sim.step(2).unwrap(); // unlock A
    assert_eq!(sim.enabled(), vec![1, 2]);
    sim.step(2).unwrap(); // notify_all: wakes t0
    assert_eq!(text(&sim, 0), "reacquire A");
    sim.step(1).unwrap();
    assert_eq!(sim.enabled(), vec![1], "t0 waits for A again");
    sim.step(1).unwrap();
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    assert_eq!(sim.status(), SimStatus::Finished);
}

#[test]
fn a_notify_nobody_waits_for_is_lost_and_the_waiter_is_stuck() {
    let s = scenario(&[&["lock A", "wait CV A", "unlock A"], &["notify CV"]]);
    let mut sim = Sim::new(&s);
    sim.step(1).unwrap();
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    assert_eq!(sim.status(), SimStatus::Stuck { blocked: vec![0] });
    assert_eq!(sim.cycle(), None);
}

#[test]
fn a_thread_waiting_behind_a_stuck_one_is_stuck_not_deadlocked() {
    let s = scenario(&[
        &["lock B", "lock A", "wait CV A", "unlock A", "unlock B"],
        &["lock B", "unlock B"],
    ]);
    let mut sim = Sim::new(&s);
    for _ in 0..3 {
        sim.step(0).unwrap();
    }
    assert_eq!(
        sim.status(),
        SimStatus::Stuck {
            blocked: vec![0, 1]
        }
    );
}

#[test]
fn a_finished_thread_lets_go_of_its_locks_one_unlock_at_a_time() {
    let s = scenario(&[&["lock A", "lock B"], &["lock B", "unlock B"]]);
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    let p = sim.pending(0).unwrap();
    assert_eq!((p.text.as_str(), p.end_of_thread), ("unlock A", true));
    assert_eq!(sim.describe(0), "t0 → unlock A (end of thread)");
    sim.step(0).unwrap();
    assert_eq!(text(&sim, 0), "unlock B");
    assert_eq!(sim.enabled(), vec![0]);
    sim.step(0).unwrap();
    assert_eq!(sim.thread_state(0), ThreadState::Done);
    assert_eq!(sim.step(0), Err(SimError::Finished(0)));
    assert_eq!(sim.enabled(), vec![1]);
}

#[test]
fn keys_identify_states_not_paths() {
    let s = scenario(&[&["lock A", "unlock A"], &["lock B", "unlock B"]]);
    let mut one = Sim::new(&s);
    let mut two = Sim::new(&s);
    one.step(0).unwrap();
    one.step(1).unwrap();
    two.step(1).unwrap();
    assert_ne!(one.key(), two.key());
    two.step(0).unwrap();
    assert_eq!(one.key(), two.key());
    let mut buf = Vec::new();
    one.encode(&mut buf);
    let back = one.decode(&buf).unwrap();
    assert_eq!(back.key(), one.key());
    assert_eq!(back.enabled(), one.enabled());
    assert_eq!(one.decode(&buf[..buf.len() - 1]).map(|s| s.key()), None);
}

#[test]
fn dead_registers_do_not_split_states() {
    let s = scenario(&[&["load n", "lock A", "load n", "add 1", "store n", "unlock A"]]);
    let mut sim = Sim::new(&s);
    sim.step(0).unwrap(); // load n: the value is overwritten before any store
    let key = sim.key();
    sim.threads[0].reg = 99;
    assert_eq!(sim.key(), key);
    sim.step(0).unwrap(); // lock A
    sim.step(0).unwrap(); // load n, add 1: now the register will be stored
    let key = sim.key();
    sim.threads[0].reg = 99;
    assert_ne!(sim.key(), key);
}

#[test]
fn identical_copies_share_a_symmetric_key() {
    let s = Scenario::load("lost-update").unwrap();
    let (mut one, mut two) = (Sim::new(&s), Sim::new(&s));
    one.step(0).unwrap();
    two.step(3).unwrap();
    assert_ne!(one.key(), two.key());
    let (mut buf, mut records) = (Vec::new(), Vec::new());
    let a = one.symmetric_key(&mut buf, &mut records);
    let b = two.symmetric_key(&mut buf, &mut records);
    assert_eq!(a, b);
    // Not for different threads (philosophers take different forks).
    let s = Scenario::load("philosophers").unwrap();
    let (mut one, mut two) = (Sim::new(&s), Sim::new(&s));
    one.step(0).unwrap();
    two.step(1).unwrap();
    let a = one.symmetric_key(&mut buf, &mut records);
    let b = two.symmetric_key(&mut buf, &mut records);
    assert_ne!(a, b);
}

#[test]
fn hostile_programs_do_not_hang_or_panic() {
    // Nested loops with no visible step, and deep nesting with one.
    let mut steps = vec!["repeat 1000000"; 32];
    steps.push("add 1");
    steps.extend(vec!["end"; 32]);
    steps.push("lock A");
    let deep: Vec<&str> = steps.clone();
    let mut sim = Sim::new(&scenario(&[&deep]));
    sim.step(0).unwrap();
    assert_eq!(text(&sim, 0), "unlock A");
    let mut nested = vec!["repeat 1000000"; 32];
    nested.push("lock A");
    nested.push("unlock A");
    nested.extend(vec!["end"; 32]);
    let mut sim = Sim::new(&scenario(&[&nested]));
    for _ in 0..1000 {
        sim.step(0).unwrap();
    }
    assert_eq!(sim.status(), SimStatus::Running);
}

#[test]
fn a_global_lock_order_is_found_or_refused() {
    let order = |threads: &[&[&str]]| Sim::new(&scenario(threads)).lock_order();
    let unnested: &[&str] = &["lock A", "unlock A", "lock B", "unlock B"];
    assert_eq!(order(&[unnested, unnested]), Some(vec![]));
    let b_then_a: &[&str] = &["lock B", "lock A", "unlock A", "unlock B"];
    assert_eq!(order(&[b_then_a, unnested]), Some(vec![B, A]));
    let a_then_b: &[&str] = &["lock A", "lock B", "unlock B", "unlock A"];
    assert_eq!(order(&[a_then_b, b_then_a]), None, "abba");
    assert_eq!(order(&[&["lock A", "lock A"]]), None, "a relock");
    assert_eq!(
        order(&[&["read L", "unlock L"]]),
        None,
        "rwlocks are left out"
    );
    // A wait takes its mutex back while the thread still holds B.
    let waits: &[&str] = &["lock B", "lock A", "wait CV A", "unlock A", "unlock B"];
    assert_eq!(order(&[waits]), Some(vec![B, A]));
    let reverse: &[&str] = &["lock A", "lock B", "unlock B", "unlock A"];
    assert_eq!(order(&[waits, reverse]), None);
    // The second round of a loop takes B while still holding A from the first.
    let looped: &[&str] = &[
        "repeat 2", "lock B", "unlock B", "lock A", "end", "unlock A",
    ];
    assert_eq!(order(&[looped, b_then_a]), None);
}
