//! Step mode in the viewer: every instrumented thread stops before its next
//! lock operation, and the user chooses which one moves.
//!
//! The threads stop at lockscope's step gate ([`crate::gate`]); a moved thread
//! performs one operation and stops again before the next (or blocks on a lock,
//! or waits on a condvar, or finishes, as the model then shows). The moves
//! taken form a schedule that `w` writes for `run --schedule`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::event::{LockId, Site};
use crate::gate::{self, HoldGate, Op, Parked};
use crate::model::{Model, ThreadStatus, sanitize};
use crate::scenario::{Op as StepOp, Scenario, Schedule, ScheduledStep, Step};

/// A step-mode key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepAction {
    /// Turn step mode on or off.
    Toggle,
    /// Move the n-th movable thread (1-based, as listed).
    Move(usize),
    /// Move the next movable thread after the last one moved.
    Next,
    /// Let every thread run free (step mode off).
    Continue,
    /// Write the schedule of the steps taken.
    Write,
    /// Undo the last step.
    Back,
}

mod panel;

pub use panel::{StepLine, StepLineKind, StepPanel};

/// A step taken.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Taken {
    thread: String,
    text: String,
    site: Site,
}

/// Step mode's state for one viewer.
pub struct Stepper {
    gate: Arc<HoldGate>,
    on: bool,
    taken: Vec<Taken>,
    /// Scenario step texts by site, to write schedules in the scenario's words.
    texts: HashMap<Site, String>,
    /// Scenario thread order, for a stable listing.
    order: Vec<String>,
    scenario: Option<Scenario>,
    last_moved: Option<String>,
    note: Option<String>,
    /// Threads to move next, in order (a schedule being stepped through).
    plan: std::collections::VecDeque<String>,
    /// Move the plan's threads without keys.
    auto: bool,
    /// `b` asked to start over with these moves.
    restart: Option<Vec<String>>,
    /// `n` presses waiting for a running thread to reach its next operation:
    /// keys typed faster than threads run are kept, not lost.
    queued: usize,
    /// The length of the schedule being stepped through (0: none).
    schedule_len: usize,
}

impl Stepper {
    /// Step mode for `scenario` (or a program, with `None`), off until turned on.
    pub fn new(scenario: Option<&Scenario>) -> Stepper {
        let mut texts = HashMap::new();
        if let Some(scenario) = scenario {
            for thread in &scenario.threads {
                collect_texts(&thread.steps, &mut texts);
            }
        }
        Stepper {
            gate: Arc::new(HoldGate::default()),
            on: false,
            taken: Vec::new(),
            texts,
            order: scenario
                .map(|s| s.threads.iter().map(|t| t.name.clone()).collect())
                .unwrap_or_default(),
            scenario: scenario.cloned(),
            last_moved: None,
            note: None,
            plan: Default::default(),
            auto: false,
            restart: None,
            queued: 0,
            schedule_len: 0,
        }
    }

    /// Threads to move first, by name, in order: `n` (or, with `auto`, the
    /// viewer itself) moves them.
    pub fn set_plan(&mut self, plan: Vec<String>, auto: bool) {
        // A schedule stepped by hand shows its progress; a replay of the
        // steps before a `b` is over at once.
        self.schedule_len = if auto { 0 } else { plan.len() };
        self.plan = plan.into();
        self.auto = auto;
    }

    /// What `b` asked for: start over and replay these moves.
    pub fn restart_request(&self) -> Option<&Vec<String>> {
        self.restart.as_ref()
    }

    /// Takes the restart request, leaving the threads of this run stopped
    /// where they are (they belong to a run that is being abandoned).
    pub fn take_restart(&mut self) -> Option<Vec<String>> {
        let restart = self.restart.take()?;
        gate::install(None);
        self.on = false; // so that dropping does not let them run free
        Some(restart)
    }

    /// On every tick: carries out a queued `n` once its thread has arrived,
    /// and moves the plan's next thread when the last move has settled
    /// (auto).
    pub fn autoplay(&mut self, model: &Model) {
        if self.on && self.queued > 0 && self.settled(model) {
            self.queued -= 1;
            self.act(StepAction::Next, model);
        }
        if !self.auto || !self.on || self.plan.is_empty() || !self.settled(model) {
            return;
        }
        self.move_planned(model);
        if self.plan.is_empty() {
            self.auto = false;
            self.note = Some(format!("replayed {} steps; your move", self.taken.len()));
        }
    }

    /// Whether the thread moved last has stopped again, blocked, or ended.
    fn settled(&self, model: &Model) -> bool {
        let Some(last) = &self.last_moved else {
            return true;
        };
        if self.gate.is_parked(last) {
            return true;
        }
        model.threads().iter().any(|t| {
            &t.name == last
                && matches!(
                    t.status,
                    ThreadStatus::Waiting { timed: false, .. }
                        | ThreadStatus::CondWait { .. }
                        | ThreadStatus::Finished
                        | ThreadStatus::Panicked { .. }
                )
        })
    }

    /// Whether the thread called `name` is on its way to its next operation:
    /// moved (or never stopped), not at the gate, not blocked, not ended.
    fn on_its_way(&self, name: &str, model: &Model) -> bool {
        !self.gate.is_parked(name)
            && model.threads().iter().any(|t| {
                t.name == name
                    && matches!(
                        t.status,
                        ThreadStatus::Running | ThreadStatus::Waiting { timed: true, .. }
                    )
            })
    }

    /// Keeps an `n` that cannot be carried out yet because `name` (or, with
    /// `None`, any thread) is still on its way; false if none is.
    fn queue_next(&mut self, name: Option<&str>, model: &Model) -> bool {
        let waiting_for = match name {
            Some(name) => self.on_its_way(name, model).then(|| name.to_owned()),
            None => model
                .threads()
                .iter()
                .find(|t| self.on_its_way(&t.name, model))
                .map(|t| t.name.clone()),
        };
        let Some(thread) = waiting_for else {
            return false;
        };
        self.queued += 1;
        self.note = Some(format!(
            "n: {} is on its way; it moves when it gets there",
            sanitize(&thread)
        ));
        true
    }

    /// Moves the thread called `name` (the one selected in the timeline), if
    /// it is stopped at the gate.
    pub fn move_named(&mut self, name: &str, model: &Model) {
        self.note = None;
        match self.movable().into_iter().find(|p| p.name == name) {
            Some(p) => self.release(&p, model),
            None => self.note = Some(format!("{} cannot move now", sanitize(name))),
        }
    }

    /// Moves the plan's next thread if it is stopped at the gate.
    fn move_planned(&mut self, model: &Model) {
        let Some(next) = self.plan.front().cloned() else {
            return;
        };
        match self.movable().into_iter().find(|p| p.name == next) {
            Some(p) => {
                self.plan.pop_front();
                self.release(&p, model);
            }
            None if self.queue_next(Some(&next), model) => {}
            None => {
                self.note = Some(format!(
                    "the schedule's next thread, {}, is not at its next operation yet",
                    sanitize(&next)
                ));
            }
        }
    }

    /// Whether threads stop at the gate.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Turns step mode on: threads stop before their next operation.
    pub fn turn_on(&mut self) {
        self.gate.close();
        gate::install(Some(self.gate.clone()));
        self.on = true;
    }

    /// Turns step mode off: every thread runs free.
    pub fn turn_off(&mut self) {
        gate::install(None);
        self.gate.open();
        self.on = false;
    }

    /// Threads stopped at the gate, in listing order.
    fn movable(&self) -> Vec<Parked> {
        let mut parked = self.gate.parked();
        let rank = |name: &str| {
            self.order
                .iter()
                .position(|n| n == name)
                .unwrap_or(usize::MAX)
        };
        parked.sort_by(|a, b| rank(&a.name).cmp(&rank(&b.name)).then(a.name.cmp(&b.name)));
        parked
    }

    /// Handles a step-mode key.
    pub fn act(&mut self, action: StepAction, model: &Model) {
        self.note = None;
        if action != StepAction::Next {
            // Any other key takes over from the queued presses.
            self.queued = 0;
        }
        match action {
            StepAction::Toggle if self.on => self.turn_off(),
            StepAction::Toggle => self.turn_on(),
            StepAction::Continue => self.turn_off(),
            StepAction::Move(n) => {
                // A thread's number is its lane's, for the whole run.
                let Some(thread) = n.checked_sub(1).and_then(|i| model.threads().get(i)) else {
                    self.note = Some(format!("there is no thread {n}"));
                    return;
                };
                match self.movable().into_iter().find(|p| p.name == thread.name) {
                    Some(p) => self.release(&p, model),
                    None => {
                        self.note = Some(format!("{n} {} cannot move now", sanitize(&thread.name)));
                    }
                }
            }
            StepAction::Next if !self.plan.is_empty() => self.move_planned(model),
            StepAction::Next => {
                let movable = self.movable();
                let after = self
                    .last_moved
                    .as_ref()
                    .and_then(|last| movable.iter().position(|p| &p.name == last));
                let next = match after {
                    Some(i) => movable.get(i + 1).or(movable.first()),
                    None => movable.first(),
                };
                match next.cloned() {
                    Some(p) => self.release(&p, model),
                    None if self.queue_next(None, model) => {}
                    None => self.note = Some("no thread can move now".into()),
                }
            }
            StepAction::Write => self.note = Some(self.write()),
            StepAction::Back => match &self.scenario {
                Some(_) if self.taken.is_empty() => {
                    self.note = Some("b: no step to undo".into());
                }
                Some(_) => {
                    // Threads are real: start over and replay all but the last.
                    let mut moves: Vec<String> =
                        self.taken.iter().map(|t| t.thread.clone()).collect();
                    moves.pop();
                    self.restart = Some(moves);
                }
                None => {
                    // Said short: the panel is narrow.
                    self.note = Some("b: a program's threads cannot be restarted".into());
                }
            },
        }
    }

    fn release(&mut self, p: &Parked, model: &Model) {
        let text = self.op_text(p.op, p.site, model);
        self.taken.push(Taken {
            thread: p.name.clone(),
            text,
            site: p.site,
        });
        self.last_moved = Some(p.name.clone());
        self.gate.release(p.id);
    }

    /// The operation in the scenario's words when known (`lock fork 3`).
    fn op_text(&self, op: Op, site: Site, model: &Model) -> String {
        if let Some(text) = self.texts.get(&site)
            && !matches!(op, Op::Unlock { .. })
        {
            return text.clone();
        }
        let name = |lock: LockId| model.lock_name(lock).to_owned();
        match op {
            Op::Lock { lock, mode, .. } => match (mode, model.lock(lock).map(|l| l.kind)) {
                (crate::event::Mode::Shared, _) => format!("read {}", name(lock)),
                (_, Some(crate::event::LockKind::RwLock)) => format!("write {}", name(lock)),
                _ => format!("lock {}", name(lock)),
            },
            Op::Unlock { lock, .. } => format!("unlock {}", name(lock)),
            Op::Wait { condvar, mutex } => format!("wait {} {}", name(condvar), name(mutex)),
            Op::Notify {
                condvar,
                all: false,
            } => format!("notify {}", name(condvar)),
            Op::Notify { condvar, all: true } => format!("notify_all {}", name(condvar)),
            Op::Send { channel } => format!("send {}", name(channel)),
            Op::Recv { channel } => format!("recv {}", name(channel)),
            Op::Join {
                thread: Some(thread),
            } => format!("join {}", model.thread_name(thread)),
            Op::Join { thread: None } => "join".to_owned(),
        }
    }

    /// Writes the steps taken as a schedule file; says where (or why not).
    fn write(&self) -> String {
        let Some(scenario) = &self.scenario else {
            return "w: schedules replay scenarios; this is a program".into();
        };
        let schedule = Schedule {
            scenario: scenario.name.clone(),
            steps: self
                .taken
                .iter()
                .map(|t| ScheduledStep {
                    thread: t.thread.clone(),
                    op: t.text.clone(),
                })
                .collect(),
        };
        let path = format!("{}.schedule", scenario.name);
        match std::fs::write(&path, schedule.to_text(scenario)) {
            Ok(()) => format!("{} steps written to {path}", self.taken.len()),
            Err(err) => format!("cannot write {path}: {err}"),
        }
    }
}

impl Drop for Stepper {
    /// Never leave threads parked behind a viewer that is gone.
    fn drop(&mut self) {
        if self.on {
            self.turn_off();
        }
    }
}

fn collect_texts(steps: &[Step], texts: &mut HashMap<Site, String>) {
    for step in steps {
        match &step.op {
            StepOp::Repeat { body, .. } => collect_texts(body, texts),
            _ => {
                let text = step.text.split_whitespace().collect::<Vec<_>>().join(" ");
                texts.insert(step.site, text);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scenario_texts_are_found_by_site() {
        let scenario = Scenario::load("abba").unwrap();
        let stepper = Stepper::new(Some(&scenario));
        let site = scenario.threads[0].steps[0].site;
        assert_eq!(stepper.texts.get(&site).map(String::as_str), Some("lock A"));
    }
}
