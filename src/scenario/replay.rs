//! Replaying a schedule on the scenario's real threads, through the step gate.
//!
//! Every scenario thread stops at lockscope's gate before each lock operation;
//! the replay lets exactly one thread through per step, in the schedule's
//! order, and waits until it has settled (stopped at its next operation,
//! blocked on a lock, waiting on a condvar, or finished) before the next step.
//! A [`Sim`] walks the same schedule alongside to know what each step must be
//! and what it leads to. Only one thread ever moves at a time, so the same
//! schedule gives the same events in the same order, and the same outcome,
//! every time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::run::{Outcome, RunOptions, RunReport, start};
use super::{Moved, Scenario, Schedule, Sim, SimOp, SimStatus, validate};
use crate::Session;
use crate::gate::{self, HoldGate, Op};
use crate::model::ThreadStatus;

/// How long one step may take to settle before the replay gives up on it.
const SETTLE: Duration = Duration::from_secs(10);

/// Takes the gate away on every way out, letting parked threads run free.
struct Uninstall(Arc<HoldGate>);

impl Drop for Uninstall {
    fn drop(&mut self) {
        gate::install(None);
        self.0.open();
    }
}

/// Runs `scenario` on real threads in the order `schedule` gives, then lets
/// the threads run free to their end (or reports the deadlock the schedule
/// closes).
///
/// # Errors
///
/// A schedule that does not fit the scenario (see [`validate`]), or a step
/// whose thread does not arrive where the schedule says, fails with the step's
/// number.
pub fn replay(
    scenario: &Scenario,
    schedule: &Schedule,
    options: &RunOptions,
) -> anyhow::Result<RunReport> {
    let steps = validate(schedule, scenario)?;
    let step_gate = Arc::new(HoldGate::default());
    gate::install(Some(step_gate.clone()));
    let _uninstall = Uninstall(Arc::clone(&step_gate));
    let started = start(scenario, options.builder(&scenario.name))?;
    let mut sim = Sim::new(scenario);
    for (i, &t) in steps.iter().enumerate() {
        let number = i + 1;
        let name = scenario.threads[t].name.as_str();
        let pending = sim
            .pending(t)
            .with_context(|| format!("step {number}: thread {name:?} has nothing left to do"))?;
        let gated = !matches!(
            pending.op,
            SimOp::Reacquire { .. } | SimOp::Load(_) | SimOp::Store(_)
        );
        if gated {
            let Some(parked) = step_gate.wait_for(name, Instant::now() + SETTLE) else {
                bail!(
                    "step {number}: thread {name:?} never reached \"{}\" ({})",
                    pending.text,
                    pending.site
                );
            };
            let (op, site) = (parked.op, parked.site);
            let unlock = matches!(op, Op::Unlock { .. });
            if !unlock && site != pending.site {
                bail!(
                    "step {number}: thread {name:?} is at {site}, but the schedule's \"{}\" is at {}",
                    pending.text,
                    pending.site
                );
            }
            step_gate.release(parked.id);
        }
        let moved = sim
            .step(t)
            .map_err(|err| anyhow::anyhow!("step {number}: {err}"))?;
        // Loads and stores run on their own, under the lock order the gated
        // steps fix; a reacquire happens as soon as the mutex is free.
        let expect = match (moved, pending.op) {
            // Blocked in it, or through it: the real step may also wait a
            // moment where the simulator's completes (a rendezvous send for
            // its receiver's next step, a receive or join for a finished
            // thread to drop its ends or exit).
            (_, SimOp::Send(_) | SimOp::Recv(_) | SimOp::Join(_)) => Expect::ParkedOrBlocked,
            (Moved::Blocked, _) => Expect::Blocked,
            (_, SimOp::Wait { .. }) => Expect::CondWait,
            _ => Expect::Parked,
        };
        if gated || matches!(pending.op, SimOp::Reacquire { .. }) {
            settle(&started.session, &step_gate, name, number, expect)?;
        }
    }
    let deadlocked = matches!(sim.status(), SimStatus::Deadlock { .. });
    let (outcome, reports) = if deadlocked {
        let report = started
            .deadlocks
            .recv_timeout(SETTLE)
            .context("the schedule closes a cycle, but no deadlock was reported")?;
        (Outcome::Deadlock, vec![report.to_string()])
    } else {
        // The schedule is over: every thread runs free to its end, those
        // parked at the gate too.
        gate::install(None);
        step_gate.open();
        let deadline = crossbeam_channel::after(options.timeout.unwrap_or(SETTLE * 6));
        let mut finished = 0;
        let mut reports = Vec::new();
        let outcome = loop {
            if finished == started.threads {
                break Outcome::Finished;
            }
            crossbeam_channel::select! {
                recv(started.done) -> msg => match msg {
                    Ok(()) => finished += 1,
                    Err(_) => break Outcome::Finished,
                },
                recv(started.deadlocks) -> report => {
                    reports.extend(report.ok().map(|r| r.to_string()));
                    break Outcome::Deadlock;
                }
                recv(deadline) -> _ => break Outcome::Timeout,
            }
        };
        (outcome, reports)
    };
    Ok(started.finish(outcome, reports))
}

/// Where a step leaves its thread, as the simulator says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// It went on to its next operation (or to its end).
    Parked,
    /// It asked for a lock it cannot have and waits for it.
    Blocked,
    /// It waits on a condvar.
    CondWait,
    /// It went on, or is still in its send, receive or join.
    ParkedOrBlocked,
}

/// Waits until the thread that just moved has settled where the simulator
/// says: parked at the gate again (or finished), blocked on a lock, or
/// waiting on a condvar, as the model sees it.
fn settle(
    session: &Session,
    gate: &HoldGate,
    name: &str,
    number: usize,
    expect: Expect,
) -> anyhow::Result<()> {
    let until = Instant::now() + SETTLE;
    loop {
        if gate.is_parked(name) {
            return Ok(());
        }
        let settled = session
            .with_model(|model| {
                model.threads().iter().any(|t| {
                    t.name == name
                        && match t.status {
                            ThreadStatus::Finished | ThreadStatus::Panicked { .. } => true,
                            ThreadStatus::Waiting { timed: false, .. } => expect == Expect::Blocked,
                            ThreadStatus::CondWait { .. } => expect == Expect::CondWait,
                            ThreadStatus::Blocked { timed: false, .. } => {
                                expect == Expect::ParkedOrBlocked
                            }
                            _ => false,
                        }
                })
            })
            .unwrap_or(false);
        if settled {
            return Ok(());
        }
        if Instant::now() > until {
            bail!("step {number}: thread {name:?} did not settle within {SETTLE:?}");
        }
        std::thread::yield_now();
    }
}
