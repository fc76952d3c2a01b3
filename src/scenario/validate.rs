//! Checks that each thread only unlocks, or waits with, locks it holds.
//!
//! Each thread's program is simulated with the set of locks it holds. A `repeat` body
//! is simulated once, and a second time only when it changed the held set: every step
//! either sets a lock's state outright (`lock`, `write`, `unlock`) or leaves a held lock
//! alone (`read`), so a body maps the held set to the same result on every later pass.
//! Programs are never unrolled, and a work budget bounds hostile nesting.

use std::collections::BTreeMap;

use super::pos::{Plain, Quoted};
use super::{LockDecl, Op, ScenarioError, Step};
use crate::event::{Mode, Site};

/// Simulated steps (plus copied held-set entries) allowed per scenario.
const BUDGET: usize = 1_000_000;

/// Validates the threads' programs; `threads` are `(name, steps)`.
pub(super) fn check<'a>(
    locks: &[LockDecl],
    threads: impl IntoIterator<Item = (&'a str, &'a [Step])>,
) -> Result<(), ScenarioError> {
    let mut budget = BUDGET;
    for (name, steps) in threads {
        let mut sim = Sim {
            locks,
            thread: name,
            budget: &mut budget,
        };
        sim.run(steps, &mut BTreeMap::new())
            .map_err(|(site, message)| at(site, message))?;
    }
    Ok(())
}

fn at(site: Site, message: String) -> ScenarioError {
    ScenarioError::at(site.file, site.line, Some(site.column), message)
}

type Held = BTreeMap<usize, Mode>;

struct Sim<'a> {
    locks: &'a [LockDecl],
    thread: &'a str,
    budget: &'a mut usize,
}

impl Sim<'_> {
    fn spend(&mut self, cost: usize, site: Site) -> Result<(), (Site, String)> {
        *self.budget = self.budget.checked_sub(cost.max(1)).ok_or_else(|| {
            let message = format!(
                "scenario is too complex to check (over {BUDGET} simulated steps); \
                 use fewer nested repeat blocks"
            );
            (site, message)
        })?;
        Ok(())
    }

    fn not_held(&self, step: &Step, lock: usize) -> (Site, String) {
        let message = format!(
            "step {}: thread {} does not hold {} here",
            Quoted(&step.text),
            Quoted(self.thread),
            Plain(&self.locks[lock].name)
        );
        (step.site, message)
    }

    fn run(&mut self, steps: &[Step], held: &mut Held) -> Result<(), (Site, String)> {
        for step in steps {
            self.spend(1, step.site)?;
            match step.op {
                Op::Lock(lock) | Op::Write(lock) => {
                    held.insert(lock, Mode::Exclusive);
                }
                Op::Read(lock) => {
                    held.entry(lock).or_insert(Mode::Shared);
                }
                Op::Unlock(lock) => {
                    if held.remove(&lock).is_none() {
                        return Err(self.not_held(step, lock));
                    }
                }
                Op::Wait { mutex, .. } => {
                    if !held.contains_key(&mutex) {
                        return Err(self.not_held(step, mutex));
                    }
                }
                Op::Repeat { times, ref body } => {
                    self.spend(held.len(), step.site)?;
                    let before = held.clone();
                    self.run(body, held)?;
                    if times > 1 && *held != before {
                        self.run(body, held)?;
                    }
                }
                Op::Notify(_)
                | Op::NotifyAll(_)
                | Op::Sleep(_)
                | Op::Work(_)
                | Op::Load(_)
                | Op::Add(_)
                | Op::Store(_) => {}
            }
        }
        Ok(())
    }
}
