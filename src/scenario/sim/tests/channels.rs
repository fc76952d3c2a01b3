//! Channels and joins in the simulator: when sends, receives and joins
//! complete, what they wait for, and the cycles through them.

use super::*;
use crate::scenario::{ExploreOptions, Found, explore, format_report};

/// Channels Q (bounded 1), R (rendezvous), U (unbounded), mutex M, var n;
/// one thread `tI` per step list.
fn channels(threads: &[&[&str]]) -> Scenario {
    declared(
        "[locks]\nQ = \"channel 1\"\nR = \"channel 0\"\nU = \"channel\"\nM = \"mutex\"\n\
         [vars]\nn = 0\n",
        threads,
    )
}

const Q: usize = 0;
const M: usize = 3;

#[test]
fn a_bounded_send_waits_for_room_and_a_recv_for_a_message() {
    let mut sim = Sim::new(&channels(&[
        &["add 5", "send Q", "add 1", "send Q"],
        &["sleep 1ms", "recv Q", "store n", "recv Q", "store n"],
    ]));
    // Nothing to receive yet: only the sender can move.
    assert_eq!(sim.enabled(), vec![0]);
    assert_eq!(
        sim.thread_state(1),
        ThreadState::WouldWait {
            op: SimOp::Recv(Q),
            threads: vec![0]
        }
    );
    assert_eq!(
        sim.wait_text(1).as_deref(),
        Some("waits for a message on channel Q, and only t0 can send to it")
    );
    // Moving it makes it wait in its recv, where it cannot move again ...
    assert_eq!(sim.step(1), Ok(Moved::Blocked));
    let state = sim.thread_state(1);
    assert_eq!(
        state,
        ThreadState::Waits {
            op: SimOp::Recv(Q),
            threads: vec![0]
        }
    );
    assert!(matches!(
        sim.step(1),
        Err(SimError::Waits { thread: 1, .. })
    ));
    assert_eq!(sim.status(), SimStatus::Running);
    // ... until a message comes.
    sim.step(0).unwrap();
    // Full: the second send waits for the receiver.
    assert_eq!(sim.enabled(), vec![1]);
    assert_eq!(
        sim.wait_text(0).as_deref(),
        Some("waits for room on channel Q, and only t1 can receive from it")
    );
    sim.step(1).unwrap(); // recv 5
    sim.step(1).unwrap(); // store
    assert_eq!(sim.vars(), [5]);
    sim.step(0).unwrap(); // send 6
    sim.step(1).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.vars(), [6]);
    assert_eq!(sim.status(), SimStatus::Finished);
}

#[test]
fn a_rendezvous_send_needs_a_receiver_at_its_recv() {
    let mut sim = Sim::new(&channels(&[&["send R"], &["load n", "recv R"]]));
    assert_eq!(sim.enabled(), vec![1], "no receiver waits yet");
    sim.step(1).unwrap(); // load: now at its recv
    assert_eq!(sim.enabled(), vec![0]);
    sim.step(0).unwrap();
    assert_eq!(sim.enabled(), vec![1]);
    sim.step(1).unwrap();
    assert_eq!(sim.status(), SimStatus::Finished);
}

#[test]
fn with_no_sender_left_a_recv_goes_on_and_with_no_receiver_a_send_does() {
    let mut sim = Sim::new(&channels(&[
        &["load n"],
        &["add 3", "store n", "recv U", "store n"],
        &["send Q", "send Q", "send Q"],
    ]));
    // t1 may receive from U: no thread sends on U at all.
    sim.step(1).unwrap();
    sim.step(1).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.vars(), [3], "the register stays as it was");
    // Nobody receives from Q: every send is dropped, none waits.
    for _ in 0..3 {
        assert!(sim.is_enabled(2));
        sim.step(2).unwrap();
    }
    assert!(sim.threads[2].status == Status::Done);
}

#[test]
fn a_channel_wait_with_several_possible_senders_waits_for_no_one() {
    let sim = Sim::new(&channels(&[
        &["lock M", "recv U", "unlock M"],
        &["lock M", "send U", "unlock M"],
        &["lock M", "send U", "unlock M"],
    ]));
    let mut sim = sim;
    sim.step(0).unwrap();
    assert_eq!(
        sim.thread_state(0),
        ThreadState::WouldWait {
            op: SimOp::Recv(2),
            threads: vec![]
        }
    );
    sim.step(1).unwrap(); // blocks on M
    sim.step(2).unwrap();
    // Everyone is stuck, but no cycle proves it: the same rule as the live model.
    assert_eq!(sim.cycle(), None);
    assert!(matches!(sim.status(), SimStatus::Stuck { .. }));
}

#[test]
fn a_join_waits_for_the_thread_and_closes_a_cycle_through_a_lock() {
    let scenario = channels(&[&["lock M", "join t1", "unlock M"], &["lock M", "unlock M"]]);
    let mut sim = Sim::new(&scenario);
    sim.step(0).unwrap();
    assert_eq!(
        sim.thread_state(0),
        ThreadState::WouldWait {
            op: SimOp::Join(1),
            threads: vec![1]
        }
    );
    // t1 cannot take M, which the joiner holds: deadlocked for good already.
    assert_eq!(sim.cycle(), Some(vec![(0, usize::MAX), (1, M)]));
    assert_eq!(sim.step(1), Ok(Moved::Blocked));
    assert_eq!(
        sim.status(),
        SimStatus::Deadlock {
            cycle: vec![(0, usize::MAX), (1, M)]
        }
    );
    // The other order finishes: the join completes once t1 is done.
    let mut sim = Sim::new(&scenario);
    sim.step(1).unwrap();
    sim.step(1).unwrap();
    assert!(sim.is_enabled(0));
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    sim.step(0).unwrap();
    assert_eq!(sim.status(), SimStatus::Finished);
}

#[test]
fn messages_in_flight_are_part_of_the_state() {
    let scenario = channels(&[&["add 1", "send U", "add 1", "send U"], &["recv U"]]);
    let mut one = Sim::new(&scenario);
    one.step(0).unwrap();
    let mut buf = Vec::new();
    one.encode(&mut buf);
    let back = one.decode(&buf).unwrap();
    assert_eq!(back.key(), one.key());
    assert_eq!(back.chans, one.chans);
    assert_eq!(one.chans[2], [(1, false)]);
    let mut two = one.clone();
    two.step(0).unwrap();
    assert_ne!(one.key(), two.key(), "two messages are not one");
}

#[test]
fn explore_finds_the_join_and_channel_cycles_and_clears_the_pipeline() {
    for (name, waits) in [
        (
            "join-cycle",
            "thread main joins worker, which has not finished",
        ),
        (
            "channel-cycle",
            "thread collector waits for a message on channel results, and only worker can send to it",
        ),
    ] {
        let scenario = Scenario::load(name).unwrap();
        let report = explore(&scenario, &ExploreOptions::default(), &mut |_| {}).unwrap();
        let text = format_report(&report, &scenario);
        assert!(matches!(report.outcome, Found::Deadlock { .. }), "{text}");
        assert!(text.contains(waits), "{text}");
        assert!(text.contains("symmetry reduction only"), "{text}");
        assert_eq!(report.lock_order, None, "one lock proves nothing here");
    }
    // A small pipeline under back-pressure: every interleaving finishes.
    let scenario = Scenario::parse(
        "p.toml",
        r#"[locks]
jobs = "channel 1"
out = "channel 0"
[vars]
got = 0
[expect]
got = 3
[[thread]]
name = "producer"
steps = ["repeat 3", "add 1", "send jobs", "end"]
[[thread]]
name = "worker"
steps = ["repeat 3", "recv jobs", "send out", "end"]
[[thread]]
name = "collector"
steps = ["repeat 3", "recv out", "load got", "add 1", "store got", "end"]
"#,
    )
    .unwrap();
    let report = explore(&scenario, &ExploreOptions::default(), &mut |_| {}).unwrap();
    assert!(
        matches!(report.outcome, Found::Exhausted) && report.complete,
        "{}",
        format_report(&report, &scenario)
    );
}
