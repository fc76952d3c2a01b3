//! The events of one deterministic run of a scenario, on a virtual clock.
//!
//! The [`Sim`] decides what each lock operation does; this module decides
//! *when*: each thread's `sleep` and `work` steps before an operation delay
//! it, and the thread whose next operation is due first moves next (ties go to
//! the lowest thread index). No real thread runs and no clock is read, so a
//! scenario gives the same events, to the nanosecond, on every machine.

use crate::event::{Event, EventKind, Nanos};
use crate::scenario::{Moved, Op, Scenario, Sim, SimOp, SimStatus, Step, ThreadState};

/// How a scripted run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every thread finished.
    Finished,
    /// Blocked threads wait for each other in a cycle.
    Deadlock,
    /// No thread can move, and no cycle explains it (a lost notify).
    Stuck,
    /// Still running at the horizon.
    Cut,
}

/// A scripted run: its events in time order and how it ended.
#[derive(Clone, Debug)]
pub(crate) struct Script {
    /// Every event, in the order the model must see them (times never decrease).
    pub(crate) events: Vec<Event>,
    /// How the run ended.
    pub(crate) outcome: Outcome,
    /// When it ended: the last event's time, or the horizon when cut.
    pub(crate) end: Nanos,
}

/// The most invisible steps walked between two operations (a `repeat` of a
/// million `work` steps is walked; an endless run of them is not).
const WALK_LIMIT: u32 = 4_000_000;

/// Runs `scenario` on the virtual clock until it finishes, deadlocks or gets
/// stuck, or until `horizon` nanoseconds or `max_events` events.
pub(crate) fn run(scenario: &Scenario, horizon: Nanos, max_events: usize) -> Script {
    let mut sim = Sim::new(scenario);
    let mut events = sim.initial_events(0);
    let mut walkers: Vec<Walker<'_>> = scenario
        .threads
        .iter()
        .map(|t| Walker::new(&t.steps))
        .collect();
    // When each thread's next operation is due; `None` while it cannot move.
    let mut due: Vec<Option<Nanos>> = (0..sim.thread_count())
        .map(|t| match sim.thread_state(t) {
            ThreadState::Done => None,
            _ => Some(walkers[t].advance()),
        })
        .collect();
    let mut end = 0;
    loop {
        let next = due
            .iter()
            .enumerate()
            .filter_map(|(t, d)| d.map(|at| (at, t)))
            .min();
        let Some((at, t)) = next else {
            let outcome = match sim.status() {
                SimStatus::Finished => Outcome::Finished,
                SimStatus::Deadlock { .. } => Outcome::Deadlock,
                SimStatus::Running | SimStatus::Stuck { .. } => Outcome::Stuck,
            };
            return Script {
                events,
                outcome,
                end,
            };
        };
        if at > horizon || events.len() >= max_events {
            return Script {
                events,
                outcome: Outcome::Cut,
                end: horizon.max(end),
            };
        }
        end = at;
        let waits = matches!(sim.pending(t).map(|p| p.op), Some(SimOp::Wait { .. }));
        let from = events.len();
        due[t] = match sim.step_events(t, at, &mut events) {
            // A wait moves on only when notified (see below).
            Ok(Moved::Completed) if waits => None,
            Ok(Moved::Completed) => {
                walkers[t].consume();
                Some(at + walkers[t].advance())
            }
            Ok(Moved::Blocked) | Err(_) => None,
        };
        // Threads handed a lock by this step, and threads that finished.
        for ev in &events[from..] {
            let u = ev.thread.index();
            match ev.kind {
                EventKind::Acquired { .. } | EventKind::CondWake { .. } if u != t => {
                    if let Some(w) = walkers.get_mut(u) {
                        w.consume();
                        due[u] = Some(at + w.advance());
                    }
                }
                EventKind::ThreadExit => {
                    if let Some(d) = due.get_mut(u) {
                        *d = None;
                    }
                }
                _ => {}
            }
        }
        // Notified waiters: their reacquire is due now.
        for (u, d) in due.iter_mut().enumerate() {
            if d.is_none()
                && matches!(
                    sim.thread_state(u),
                    ThreadState::Enabled | ThreadState::WouldBlock { .. }
                )
            {
                *d = Some(at);
            }
        }
    }
}

/// Follows one thread's steps as the simulator does, to time its operations.
struct Walker<'a> {
    /// The blocks being run, innermost last: steps, position, runs left.
    stack: Vec<(&'a [Step], usize, u32)>,
}

impl<'a> Walker<'a> {
    fn new(steps: &'a [Step]) -> Self {
        Walker {
            stack: vec![(steps, 0, 1)],
        }
    }

    /// Moves to the next visible operation (staying put if already there) and
    /// returns the time the `sleep` and `work` steps on the way take.
    fn advance(&mut self) -> Nanos {
        let mut spent: Nanos = 0;
        for _ in 0..WALK_LIMIT {
            let Some(top) = self.stack.last_mut() else {
                return spent;
            };
            let (steps, at, runs) = *top;
            let Some(step) = steps.get(at) else {
                if runs > 1 {
                    *top = (steps, 0, runs - 1);
                } else {
                    self.stack.pop();
                    self.consume();
                }
                continue;
            };
            match &step.op {
                Op::Sleep(d) | Op::Work(d) => {
                    spent = spent.saturating_add(Nanos::try_from(d.as_nanos()).unwrap_or(0));
                    top.1 += 1;
                }
                Op::Add(_) => top.1 += 1,
                Op::Repeat { times, body } => self.stack.push((body, 0, *times)),
                _ => return spent,
            }
        }
        spent
    }

    /// Steps past the operation just done.
    fn consume(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            top.1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    const MS: Nanos = 1_000_000;

    #[test]
    fn abba_deadlocks_after_its_sleeps() {
        let scenario = Scenario::load("abba").expect("built in");
        let script = run(&scenario, 10_000 * MS, 10_000);
        assert_eq!(script.outcome, Outcome::Deadlock);
        assert_eq!(
            script.end,
            50 * MS,
            "both sleep 50ms holding their first lock"
        );
        let mut model = Model::new();
        for ev in &script.events {
            model.apply(ev);
        }
        assert_eq!(model.deadlocks().len(), 1);
        assert_eq!(model.anomalies(), 0);
    }

    #[test]
    fn philosophers_eat_for_a_while_then_deadlock() {
        let scenario = Scenario::load("philosophers").expect("built in");
        let script = run(&scenario, 10_000 * MS, 100_000);
        assert_eq!(script.outcome, Outcome::Deadlock);
        assert!(script.end > 500 * MS, "{}", script.end);
        let mut model = Model::new();
        let mut first = None;
        for ev in &script.events {
            model.apply(ev);
            if first.is_none() && !model.deadlocks().is_empty() {
                first = Some(ev.time);
            }
        }
        assert_eq!(first, Some(script.end));
        assert_eq!(model.anomalies(), 0);
        assert!(script.events.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn every_builtin_runs_cleanly_and_repeatably() {
        for builtin in crate::scenario::builtins() {
            let scenario = Scenario::load(builtin.name).expect("built in");
            let a = run(&scenario, 5_000 * MS, 50_000);
            let b = run(&scenario, 5_000 * MS, 50_000);
            assert_eq!(a.events, b.events, "{}", builtin.name);
            let mut model = Model::new();
            for ev in &a.events {
                model.apply(ev);
            }
            assert_eq!(model.anomalies(), 0, "{}", builtin.name);
        }
    }

    #[test]
    fn a_long_run_is_cut_at_the_horizon() {
        let text = r#"
[locks]
A = "mutex"
[[thread]]
name = "t"
steps = ["repeat 1000000", "lock A", "work 1ms", "unlock A", "end"]
"#;
        let scenario = Scenario::parse("long.toml", text).expect("valid");
        let script = run(&scenario, 100 * MS, 1_000_000);
        assert_eq!(script.outcome, Outcome::Cut);
        assert_eq!(script.end, 100 * MS);
        assert!(script.events.iter().all(|e| e.time <= 100 * MS));
    }
}
