//! Step mode's panel: what each thread would do next (by its lane's number),
//! the steps taken, a schedule's progress.

use std::collections::HashSet;

use super::Stepper;
use crate::event::Site;
use crate::model::{Model, ThreadStatus, sanitize};

/// Step mode's panel: what each thread would do next, and the steps taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepPanel {
    /// The panel's title (the keys).
    pub title: String,
    /// The lines, top first.
    pub lines: Vec<StepLine>,
    /// Whether threads stop at the gate now (the header says STEP).
    pub on: bool,
    /// The threads stopped at the gate, by name (their lanes look parked).
    pub parked: Vec<String>,
    /// A schedule's progress: steps taken and its length.
    pub progress: Option<(usize, usize)>,
}

/// One line of the step panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepLine {
    /// The text (names already sanitised).
    pub text: String,
    /// How it is shown.
    pub kind: StepLineKind,
}

/// What a step-panel line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepLineKind {
    /// A thread stopped before an operation: it can be moved.
    Movable,
    /// A thread that cannot move (blocked on a lock, waiting on a condvar).
    Blocked,
    /// A thread that finished, or is running between operations.
    Quiet,
    /// A step already taken.
    Taken,
    /// A step in the deadlock's cycle, or the deadlock itself.
    Deadlock,
    /// A remark (where a schedule was written, why a key does nothing).
    Note,
}

impl Stepper {
    /// The panel: each thread's next operation (numbered when it can move)
    /// or why it cannot, then the steps taken, numbered.
    pub fn panel(&self, model: &Model) -> Option<StepPanel> {
        if !self.on && self.taken.is_empty() {
            return None;
        }
        let title = if self.on {
            " Step: 1-9 move · n next · c run free · w write · b back ".to_owned()
        } else {
            " Steps (s steps again) ".to_owned()
        };
        let movable = self.movable();
        let mut lines = Vec::new();
        // Numbers are lanes' (thread ids): they keep their meaning all run.
        let number = |name: &str| {
            model
                .threads()
                .iter()
                .position(|t| t.name == name)
                .map_or("·".to_owned(), |i| (i + 1).to_string())
        };
        let progress = (self.schedule_len > 0).then_some((self.taken.len(), self.schedule_len));
        if let Some((k, n)) = progress {
            let next = self.plan.front().map(|name| {
                let op = movable
                    .iter()
                    .find(|p| &p.name == name)
                    .map(|p| self.op_text(p.op, p.site, model))
                    .unwrap_or_else(|| "(not at its next operation yet)".into());
                format!("{} → {}", sanitize(name), sanitize(&op))
            });
            let text = match next {
                Some(next) => format!("step {k}/{n}, next: {next}  (n)"),
                None => format!("schedule done: {k}/{n} steps"),
            };
            lines.push(StepLine {
                text,
                kind: StepLineKind::Note,
            });
        }
        let in_cycle: HashSet<String> = model
            .threads_in_cycles()
            .into_iter()
            .map(|t| model.thread_name(t).to_owned())
            .collect();
        for p in &movable {
            let text = self.op_text(p.op, p.site, model);
            let site = if p.site == Site::UNKNOWN {
                String::new()
            } else {
                format!("  ({})", p.site)
            };
            lines.push(StepLine {
                text: format!(
                    "{} {} → {}{}",
                    number(&p.name),
                    sanitize(&p.name),
                    sanitize(&text),
                    site
                ),
                kind: StepLineKind::Movable,
            });
        }
        for thread in model.threads() {
            if movable.iter().any(|p| p.name == thread.name) {
                continue;
            }
            let name = format!("{} {}", number(&thread.name), sanitize(&thread.name));
            let (text, kind) = match &thread.status {
                ThreadStatus::Waiting { lock, .. } => {
                    let holders: Vec<String> = model
                        .lock(*lock)
                        .map(|l| {
                            l.holders
                                .iter()
                                .map(|h| sanitize(model.thread_name(h.thread)))
                                .collect()
                        })
                        .unwrap_or_default();
                    let held = if holders.is_empty() {
                        String::new()
                    } else {
                        format!(", held by {}", holders.join(", "))
                    };
                    let lock = sanitize(model.lock_name(*lock));
                    (
                        format!("{name} cannot move: waits for {lock}{held}"),
                        StepLineKind::Blocked,
                    )
                }
                ThreadStatus::CondWait { condvar, .. } => (
                    format!("{name} waits on {}", sanitize(model.lock_name(*condvar))),
                    StepLineKind::Blocked,
                ),
                ThreadStatus::Blocked { on, .. } => (
                    format!(
                        "{name} cannot move: {}",
                        crate::model::describe_blocker(model, *on)
                    ),
                    StepLineKind::Blocked,
                ),
                ThreadStatus::Finished => (format!("{name} finished"), StepLineKind::Quiet),
                ThreadStatus::Panicked { .. } => (format!("{name} panicked"), StepLineKind::Quiet),
                ThreadStatus::Running => (format!("{name} running"), StepLineKind::Quiet),
            };
            lines.push(StepLine { text, kind });
        }
        let deadlocked = !in_cycle.is_empty();
        for (i, t) in self.taken.iter().enumerate() {
            let kind = if deadlocked && in_cycle.contains(&t.thread) {
                StepLineKind::Deadlock
            } else {
                StepLineKind::Taken
            };
            let site = if t.site == Site::UNKNOWN {
                String::new()
            } else {
                format!("  ({})", t.site)
            };
            lines.push(StepLine {
                text: format!(
                    "step {}: {} → {}{}",
                    i + 1,
                    sanitize(&t.thread),
                    sanitize(&t.text),
                    site
                ),
                kind,
            });
        }
        if deadlocked {
            lines.push(StepLine {
                text: format!("DEADLOCK after step {}", self.taken.len()),
                kind: StepLineKind::Deadlock,
            });
        }
        if let Some(note) = &self.note {
            lines.push(StepLine {
                text: note.clone(),
                kind: StepLineKind::Note,
            });
        }
        Some(StepPanel {
            title,
            lines,
            on: self.on,
            parked: movable.into_iter().map(|p| p.name).collect(),
            progress,
        })
    }
}
