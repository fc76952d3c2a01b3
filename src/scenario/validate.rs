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

/// Checks the `join` steps of the threads (`(name, steps)`, in thread index
/// order): a thread is joined by at most one step, which runs at most once (not
/// inside a `repeat` of more than one pass), and never by itself. A join handle
/// is used up by its join, as in Rust.
pub(super) fn joins<'a>(
    threads: impl IntoIterator<Item = (&'a str, &'a [Step])>,
) -> Result<(), ScenarioError> {
    let threads: Vec<(&str, &[Step])> = threads.into_iter().collect();
    let mut joined: BTreeMap<usize, (&str, Site)> = BTreeMap::new();
    for (me, &(name, steps)) in threads.iter().enumerate() {
        let mut found = Vec::new();
        collect_joins(steps, false, &mut found);
        for (target, step, repeated) in found {
            let target_name = threads.get(target).map_or("?", |t| t.0);
            if target == me {
                let message = format!(
                    "step {}: thread {} cannot join itself (it would wait for its own end)",
                    Quoted(&step.text),
                    Quoted(name)
                );
                return Err(at(step.site, message));
            }
            if repeated {
                let message = format!(
                    "step {}: a join inside a repeat block would join thread {} more than once",
                    Quoted(&step.text),
                    Quoted(target_name)
                );
                return Err(at(step.site, message));
            }
            if let Some((first, site)) = joined.get(&target) {
                let message = format!(
                    "step {}: thread {} is already joined by thread {} at line {} \
                     (a thread can be joined once)",
                    Quoted(&step.text),
                    Quoted(target_name),
                    Quoted(first),
                    site.line
                );
                return Err(at(step.site, message));
            }
            joined.insert(target, (name, step.site));
        }
    }
    Ok(())
}

/// The `join` steps in `steps`: target, step, and whether a `repeat` of more
/// than one pass encloses it.
fn collect_joins<'a>(steps: &'a [Step], repeated: bool, out: &mut Vec<(usize, &'a Step, bool)>) {
    for step in steps {
        match &step.op {
            Op::Join(target) => out.push((*target, step, repeated)),
            Op::Repeat { times, body } => collect_joins(body, repeated || *times > 1, out),
            _ => {}
        }
    }
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
                | Op::Store(_)
                | Op::Send(_)
                | Op::Recv(_)
                | Op::Join(_) => {}
            }
        }
        Ok(())
    }
}
