//! Channels on real threads: `lockscope::channel` waits are wait-for edges.
//! A thread holding a lock the only other end needs is caught every time;
//! the safe channel patterns are never reported. Interleavings are forced
//! with std barriers; every wait is bounded. Deadlocked threads stay blocked
//! for the rest of the test process, as they would in a program.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{TIMEOUT, expect_deadlock, never_reported, serial, session};
use lockscope::channel::{self, Receiver};
use lockscope::{Mutex, thread};

fn small(name: &str) -> thread::Builder {
    thread::Builder::new()
        .name(name.into())
        .stack_size(64 * 1024)
}

/// The producer holds `L` and sends into a full channel; the consumer, the
/// only receiver, wants `L` before it receives again.
fn send_while_holding() {
    let (tx, rx) = channel::named_bounded::<u32>("jobs", 1);
    let l = Arc::new(Mutex::named("L", ()));
    let received = Arc::new(Barrier::new(2));
    let full = Arc::new(Barrier::new(2));
    {
        let (l, received, full) = (Arc::clone(&l), Arc::clone(&received), Arc::clone(&full));
        small("consumer")
            .spawn(move || {
                rx.recv_timeout(TIMEOUT).unwrap();
                received.wait();
                full.wait();
                let _l = l.lock();
                let _ = rx.recv();
            })
            .unwrap();
    }
    small("producer")
        .spawn(move || {
            tx.send(1).unwrap();
            received.wait();
            let _l = l.lock();
            tx.send(2).unwrap();
            full.wait();
            let _ = tx.send(3);
        })
        .unwrap();
}

/// The consumer holds `L` and waits for a message; the producer, the only
/// sender, wants `L` before it sends.
fn recv_while_holding() {
    let (tx, rx) = channel::named_unbounded::<u32>("results");
    let l = Arc::new(Mutex::named("L", ()));
    let started = Arc::new(Barrier::new(2));
    let holding = Arc::new(Barrier::new(2));
    {
        let (l, started, holding) = (Arc::clone(&l), Arc::clone(&started), Arc::clone(&holding));
        small("consumer")
            .spawn(move || {
                rx.recv_timeout(TIMEOUT).unwrap();
                started.wait();
                let _l = l.lock();
                holding.wait();
                let _ = rx.recv();
            })
            .unwrap();
    }
    small("producer")
        .spawn(move || {
            tx.send(1).unwrap();
            started.wait();
            holding.wait();
            let _l = l.lock();
            let _ = tx.send(2);
        })
        .unwrap();
}

#[test]
fn sending_into_a_full_channel_while_holding_the_receivers_lock_is_caught_every_time() {
    for run in 0..20 {
        let _serial = serial();
        let (session, reports) = session();
        send_while_holding();
        let text = expect_deadlock(&reports).to_string();
        assert!(
            text.contains(
                "thread \"producer\" waits for room on channel \"jobs\" (send at tests/channels.rs:"
            ),
            "run {run}: {text}"
        );
        assert!(
            text.contains("only thread \"consumer\" can receive from it"),
            "run {run}: {text}"
        );
        assert!(
            text.contains("thread \"consumer\" waits for mutex \"L\""),
            "run {run}: {text}"
        );
        session.sync();
        assert!(reports.try_recv().is_err(), "run {run}: reported twice");
    }
}

#[test]
fn receiving_while_holding_the_senders_lock_is_caught_every_time() {
    for run in 0..20 {
        let _serial = serial();
        let (session, reports) = session();
        recv_while_holding();
        let text = expect_deadlock(&reports).to_string();
        assert!(
            text.contains("thread \"consumer\" waits for a message on channel \"results\" (recv at tests/channels.rs:"),
            "run {run}: {text}"
        );
        assert!(
            text.contains("only thread \"producer\" can send to it"),
            "run {run}: {text}"
        );
        session.sync();
    }
}

#[test]
fn a_rendezvous_channel_send_waits_for_the_receiver() {
    let _serial = serial();
    let (session, reports) = session();
    let (tx, rx) = channel::named_bounded::<u32>("meet", 0);
    let l = Arc::new(Mutex::named("L", ()));
    let claimed = Arc::new(Barrier::new(2));
    {
        let (l, claimed) = (Arc::clone(&l), Arc::clone(&claimed));
        small("receiver")
            .spawn(move || {
                assert!(rx.try_recv().is_err());
                claimed.wait();
                let _l = l.lock();
                let _ = rx.recv();
            })
            .unwrap();
    }
    small("sender")
        .spawn(move || {
            let _l = l.lock();
            claimed.wait();
            let _ = tx.send(1);
        })
        .unwrap();
    let text = expect_deadlock(&reports).to_string();
    assert!(
        text.contains("waits for room on channel \"meet\""),
        "{text}"
    );
    session.sync();
}

/// A producer ahead of its consumer, held back by a channel of 2.
fn producer_consumer_under_back_pressure() {
    let (tx, rx) = channel::named_bounded("queue", 2);
    let total = Arc::new(Mutex::named("total", 0u64));
    let consumer = {
        let total = Arc::clone(&total);
        thread::spawn(move || {
            for x in rx.iter() {
                *total.lock() += x;
            }
        })
    };
    let producer = thread::spawn(move || {
        for x in 0..100 {
            tx.send(x).unwrap();
        }
    });
    producer.join().unwrap();
    consumer.join().unwrap();
    assert_eq!(*total.lock(), 4950);
}

/// Eight senders, one receiver.
fn fan_in() {
    let (tx, rx) = channel::named_unbounded::<u64>("fan-in");
    let senders: Vec<_> = (0..8)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || {
                for j in 0..50 {
                    tx.send(i * 50 + j).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let got: u64 = rx.iter().sum();
    assert_eq!(got, (0..400u64).sum::<u64>());
    for s in senders {
        s.join().unwrap();
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The Rust book's ch. 20 thread pool: workers share the receiver behind a
/// mutex and hold it while they wait for a job.
fn book_worker_pool() {
    let (tx, rx) = channel::named_unbounded::<Job>("jobs");
    let rx: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::named("receiver", rx));
    let done = Arc::new(Mutex::named("done", 0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let rx = Arc::clone(&rx);
            thread::spawn(move || {
                loop {
                    let message = rx.lock().recv();
                    match message {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    for _ in 0..16 {
        let done = Arc::clone(&done);
        tx.send(Box::new(move || *done.lock() += 1)).unwrap();
    }
    drop(tx);
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(*done.lock(), 16);
}

/// Three stages joined by channels of one, each stage holding its own lock
/// between messages but never across a send.
fn pipeline() {
    let (a_tx, a_rx) = channel::named_bounded::<u32>("stage 1", 1);
    let (b_tx, b_rx) = channel::named_bounded::<u32>("stage 2", 1);
    let seen = Arc::new(Mutex::named("seen", 0u32));
    let middle = {
        let seen = Arc::clone(&seen);
        thread::spawn(move || {
            for x in a_rx {
                *seen.lock() += 1;
                b_tx.send(x * 2).unwrap();
            }
        })
    };
    let last = thread::spawn(move || b_rx.iter().sum::<u32>());
    for x in 0..50 {
        a_tx.send(x).unwrap();
    }
    drop(a_tx);
    middle.join().unwrap();
    assert_eq!(last.join().unwrap(), 2 * (0..50).sum::<u32>());
    assert_eq!(*seen.lock(), 50);
}

/// Timed waits on a channel nobody sends to: they time out, no report.
fn timed_waits() {
    let (tx, rx) = channel::named_bounded::<u32>("quiet", 0);
    let l = Mutex::named("L", ());
    let _held = l.lock();
    assert!(rx.recv_timeout(Duration::from_millis(1)).is_err());
    assert!(tx.send_timeout(1, Duration::from_millis(1)).is_err());
}

#[test]
fn a_producer_and_consumer_under_back_pressure_is_never_reported() {
    never_reported(producer_consumer_under_back_pressure);
}

#[test]
fn a_fan_in_of_eight_senders_is_never_reported() {
    never_reported(fan_in);
}

#[test]
fn the_rust_book_worker_pool_is_never_reported() {
    never_reported(book_worker_pool);
}

#[test]
fn a_three_stage_pipeline_is_never_reported() {
    never_reported(pipeline);
}

#[test]
fn timed_channel_waits_are_never_reported() {
    never_reported(timed_waits);
}

/// The built-in `pipeline` scenario (a producer, two workers and a collector
/// over bounded channels, the producer under back-pressure) on real threads:
/// it finishes with every job counted and no report, run after run.
#[test]
fn the_pipeline_scenario_finishes_without_a_report_every_time() {
    use lockscope::scenario::{Outcome, RunOptions, Scenario, run};
    let scenario = Scenario::load("pipeline").unwrap();
    let options = RunOptions {
        timeout: Some(TIMEOUT),
        ..RunOptions::default()
    };
    for n in 0..100 {
        let _serial = serial();
        let report = run(&scenario, &options).unwrap();
        assert_eq!(
            report.outcome,
            Outcome::Finished,
            "run {n}: {:?}",
            report.reports
        );
        assert!(report.reports.is_empty(), "run {n}: {:?}", report.reports);
        assert!(report.summary.deadlocks.is_empty(), "run {n}");
        assert!(report.summary.potential_deadlocks.is_empty(), "run {n}");
        let held: Vec<bool> = report.expectations.iter().map(|e| e.held()).collect();
        assert_eq!(held, [true], "run {n}: {:?}", report.expectations);
    }
}

/// A schedule through sends, receives (a rendezvous among them) and a join,
/// replayed on real threads one step at a time: the run follows it to the
/// end, and a schedule that closes a cycle through a receive is reported.
#[test]
fn schedules_through_channels_and_joins_replay_on_real_threads() {
    use lockscope::scenario::{Outcome, RunOptions, Scenario, Schedule, Sim, SimStatus, replay};
    let scenario = Scenario::parse(
        "relay.toml",
        r#"[locks]
jobs = "channel 1"
hand = "channel 0"
[vars]
got = 0
[expect]
got = 2
[[thread]]
name = "producer"
steps = ["repeat 2", "add 1", "send jobs", "end"]
[[thread]]
name = "relay"
steps = ["repeat 2", "recv jobs", "send hand", "end"]
[[thread]]
name = "main"
steps = ["join producer", "repeat 2", "recv hand", "load got", "add 1", "store got", "end"]
"#,
    )
    .unwrap();
    // Round robin over the threads that can move, blocking ones included.
    let mut sim = Sim::new(&scenario);
    let mut order = Vec::new();
    let mut next = 0;
    while sim.status() == SimStatus::Running && order.len() < 100 {
        let t = (next..next + 3)
            .map(|t| t % 3)
            .find(|&t| sim.is_enabled(t))
            .unwrap();
        sim.step(t).unwrap();
        order.push(t);
        next = t + 1;
    }
    assert_eq!(sim.status(), SimStatus::Finished);
    let schedule = Schedule::from_threads(&scenario, &order).unwrap();
    let options = RunOptions {
        timeout: Some(TIMEOUT),
        ..RunOptions::default()
    };
    for run in 0..5 {
        let _serial = serial();
        let report = replay(&scenario, &schedule, &options).unwrap();
        assert_eq!(
            report.outcome,
            Outcome::Finished,
            "run {run}: {:?}",
            report.reports
        );
        assert!(report.expectations.iter().all(|e| e.held()), "run {run}");
    }

    // A cycle through a receive, replayed: reported every time.
    let cycle = Scenario::load("channel-cycle").unwrap();
    let text = "# lockscope schedule 1\nscenario channel-cycle\n1 collector lock cache\n\
                2 collector recv results\n3 worker lock cache\n";
    let schedule = Schedule::parse("cycle.schedule", text).unwrap();
    for run in 0..5 {
        let _serial = serial();
        let report = replay(&cycle, &schedule, &options).unwrap();
        assert_eq!(report.outcome, Outcome::Deadlock, "run {run}");
        assert!(
            report.reports[0].contains("waits for a message on channel \"results\""),
            "run {run}: {}",
            report.reports[0]
        );
    }
}
