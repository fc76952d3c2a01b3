//! The events steps imply: hand-offs, condvars, and a model fed with them.

use super::{scenario, text};
use crate::event::EventKind;
use crate::model::Model;
use crate::scenario::{Moved, Scenario, Sim, SimError, SimStatus};

#[test]
fn a_blocked_thread_is_handed_the_lock_on_release() {
    let s = scenario(&[&["lock A", "unlock A"], &["lock A", "unlock A"]]);
    let mut sim = Sim::new(&s);
    let mut events = sim.initial_events(0);
    sim.step_events(0, 1, &mut events).unwrap();
    assert_eq!(sim.step_events(1, 2, &mut events), Ok(Moved::Blocked));
    sim.step_events(0, 3, &mut events).unwrap();
    assert_eq!(text(&sim, 1), "unlock A");
    sim.step_events(1, 4, &mut events).unwrap();
    let seen: Vec<String> = events
        .iter()
        .skip(6)
        .map(|e| match &e.kind {
            EventKind::Acquired { lock, seq, .. } => {
                format!("{} acq {} #{seq}", e.thread.0, lock.0)
            }
            EventKind::Released { lock, seq, .. } => {
                format!("{} rel {} #{seq}", e.thread.0, lock.0)
            }
            other => format!("{} {}", e.thread.0, other.name()),
        })
        .collect();
    assert_eq!(
        seen,
        [
            "0 acq 0 #0",
            "1 request",
            "0 rel 0 #1",
            "1 acq 0 #2",
            "0 thread_exit",
            "1 rel 0 #3",
            "1 thread_exit"
        ]
    );
    assert_eq!(sim.step(7), Err(SimError::NoSuchThread(7)));
}

#[test]
fn events_drive_the_model_into_the_same_deadlock() {
    let s = Scenario::load("philosophers").unwrap();
    let mut sim = Sim::new(&s);
    let mut events = sim.initial_events(0);
    for (time, t) in [0, 1, 2, 3, 4, 0, 1, 2, 3, 4].into_iter().enumerate() {
        sim.step_events(t, time as u64 + 1, &mut events).unwrap();
    }
    let SimStatus::Deadlock { cycle } = sim.status() else {
        panic!("{:?}", sim.status())
    };
    assert_eq!(cycle.len(), 5);
    let mut model = Model::new();
    let found = events.iter().filter(|e| model.apply(e).deadlock).count();
    assert_eq!(found, 1);
    assert_eq!(model.anomalies(), 0);
    assert_eq!(model.threads_in_cycles().len(), 5);
}

#[test]
fn condvar_events_are_consistent_for_the_model() {
    let s = scenario(&[
        &["lock A", "wait CV A", "unlock A"],
        &["lock A", "notify CV", "unlock A"],
    ]);
    let mut sim = Sim::new(&s);
    let mut events = sim.initial_events(0);
    for (time, t) in [0, 0, 1, 1, 1, 0, 0].into_iter().enumerate() {
        sim.step_events(t, time as u64 + 1, &mut events).unwrap();
    }
    assert_eq!(sim.status(), SimStatus::Finished);
    let names: Vec<&str> = events.iter().skip(6).map(|e| e.kind.name()).collect();
    assert_eq!(
        names,
        [
            "acquired",
            "cond_wait",
            "acquired",
            "notify",
            "released",
            "thread_exit",
            "cond_wake",
            "released",
            "thread_exit"
        ]
    );
    let mut model = Model::new();
    for e in &events {
        model.apply(e);
    }
    assert_eq!(model.anomalies(), 0);
    assert!(model.deadlocks().is_empty());
}
