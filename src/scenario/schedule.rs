//! Schedules: the sequence of thread choices that drives a scenario through
//! one interleaving, and their text format. See [`Schedule`].

use std::fmt::Write as _;

use super::pos::{Plain, Quoted, name_list};
use super::sim::{Moved, PendingOp, Sim, SimError, SimOp, ThreadState};
use super::steps::normalize;
use super::{Scenario, ScenarioError, ScenarioErrorKind};

mod text;

#[cfg(test)]
mod tests;

/// The format version this lockscope reads and writes.
const VERSION: &str = "1";

/// The first line of every schedule file.
const HEADER: &str = "# lockscope schedule 1";

/// A sequence of thread choices for one scenario: the steps that drive it
/// through one interleaving. Its text format, read by [`Schedule::parse`] and
/// written by [`Schedule::to_text`]:
///
/// ```text
/// # lockscope schedule 1
/// scenario abba
/// 1 left  lock A     # abba.toml:13
/// 2 right lock B     # abba.toml:23
/// 3 left  lock B     # abba.toml:15, blocks: waits for B, held by right
/// 4 right lock A     # abba.toml:25, blocks: waits for A, held by left
/// ```
///
/// - The first non-blank line is the header `# lockscope schedule 1`.
/// - `scenario NAME` names the scenario, before the first step.
/// - Each step is `NUMBER THREAD OPERATION`, numbered from 1 without gaps.
///   `THREAD` is one word, or a double-quoted string when the name has spaces
///   or other awkward characters (`"philosopher 2"`, with Rust's escapes).
///   `OPERATION` is the step as the scenario writes it (`lock fork 3`, `wait
///   ready M`, `unlock A`), or `reacquire M` for a notified waiter taking its
///   mutex back; it runs to the end of the line or to a `#`, and is quoted
///   like a thread name when it holds a `#` or a quote. Case of the verb and
///   runs of spaces do not matter.
/// - `#` starts a comment. Written schedules comment each step with its site,
///   and say when a step blocks or is an unlock at the end of the thread.
///
/// A step moves one thread through its next operation, with the rules of
/// [`Sim`]: a thread asked to take a lock it cannot get blocks (and is handed
/// the lock when it is released); a thread that is blocked, waits on a
/// condvar, or has finished cannot be moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The scenario's name.
    pub scenario: String,
    /// The steps, in order.
    pub steps: Vec<ScheduledStep>,
}

/// One step of a [`Schedule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledStep {
    /// The name of the thread that moves.
    pub thread: String,
    /// The operation it performs, as the scenario writes it (`lock fork 3`).
    pub op: String,
}

impl Schedule {
    /// Reads a schedule file (see [`Schedule`] for the format).
    /// `file` names the text in messages.
    ///
    /// # Errors
    ///
    /// [`ScenarioErrorKind::At`] (no column), `FILE:LINE: what is wrong`: a
    /// missing or unknown header, no `scenario` line, a step number out of
    /// sequence, a missing thread or operation, a bad quoted name; or
    /// [`ScenarioErrorKind::TooLarge`], a text over 16 MiB. Never panics,
    /// whatever the text.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::scenario::Schedule;
    ///
    /// let text = "# lockscope schedule 1\nscenario abba\n1 left lock A # abba.toml:13\n";
    /// let schedule = Schedule::parse("s.txt", text)?;
    /// assert_eq!(schedule.steps[0].thread, "left");
    /// assert_eq!(schedule.steps[0].op, "lock A");
    ///
    /// let err = Schedule::parse("s.txt", &text.replace("1 left", "2 left")).unwrap_err();
    /// assert_eq!(err.to_string(), "s.txt:3: expected step 1, found step 2");
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn parse(file: &str, text: &str) -> Result<Schedule, ScenarioError> {
        text::parse(file, text)
    }

    /// Reads the schedule file at `path`: at most 16 MiB are read, whatever
    /// the input (a pipe or `/dev/zero` included), then [`Schedule::parse`].
    ///
    /// # Errors
    ///
    /// The file cannot be read ([`ScenarioErrorKind::Io`], the cause as the
    /// source), is over 16 MiB ([`ScenarioErrorKind::TooLarge`]), is not
    /// UTF-8 ([`ScenarioErrorKind::NotUtf8`]), or does not parse (as
    /// [`Schedule::parse`]); every message starts with the file's name.
    pub fn read(path: &std::path::Path) -> Result<Schedule, ScenarioError> {
        use crate::bounded::{Limit, ReadError, read};
        let file = path.display().to_string();
        let limit = Limit::Always(text::MAX_TEXT as u64);
        let bytes = read(path, 0, limit, |_| Ok::<(), std::convert::Infallible>(()));
        let bytes = match bytes {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(text::too_large(&file)),
            Err(ReadError::Io(err)) => {
                return Err(ScenarioError::io(
                    &file,
                    format!("{file}: cannot read"),
                    err,
                ));
            }
            Err(ReadError::Refused(never)) => match never {},
        };
        let text = String::from_utf8(bytes).map_err(|err| {
            let offset = err.utf8_error().valid_up_to();
            let kind = ScenarioErrorKind::NotUtf8 {
                file: file.clone(),
                offset,
            };
            let message = format!("{file}: not UTF-8 text (bad byte at offset {offset})");
            ScenarioError::new(kind, message)
        })?;
        Schedule::parse(&file, &text)
    }

    /// The schedule that moves the threads `threads` (indices) in order from the
    /// start of `scenario`.
    ///
    /// # Errors
    ///
    /// When a thread cannot move at its step (see [`Sim::step`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::scenario::{Scenario, Schedule};
    ///
    /// let scenario = Scenario::load("abba")?;
    /// let schedule = Schedule::from_threads(&scenario, &[0, 1])?;
    /// assert_eq!(schedule.steps[1].thread, "right");
    /// assert_eq!(schedule.steps[1].op, "lock B");
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn from_threads(scenario: &Scenario, threads: &[usize]) -> Result<Schedule, SimError> {
        let mut sim = Sim::new(scenario);
        let mut steps = Vec::with_capacity(threads.len());
        for &t in threads {
            let op = sim.pending(t).map(|p| p.text).unwrap_or_default();
            sim.step(t)?;
            steps.push(ScheduledStep {
                thread: sim.thread_name(t).to_string(),
                op,
            });
        }
        Ok(Schedule {
            scenario: scenario.name.clone(),
            steps,
        })
    }

    /// The schedule as a file, each step commented with its site in `scenario`
    /// (as far as the schedule is valid for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::scenario::{Scenario, Schedule};
    ///
    /// let scenario = Scenario::load("abba")?;
    /// let text = Schedule::from_threads(&scenario, &[0, 1, 0])?.to_text(&scenario);
    /// assert!(text.starts_with("# lockscope schedule 1\nscenario abba\n1 left  lock A"));
    /// assert!(text.contains("# abba.toml:15, blocks: waits for B, held by right"));
    /// assert_eq!(Schedule::parse("s", &text)?, Schedule::from_threads(&scenario, &[0, 1, 0])?);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn to_text(&self, scenario: &Scenario) -> String {
        let mut sim = (self.scenario == scenario.name).then(|| Sim::new(scenario));
        let lines: Vec<(String, String, String)> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let thread = text::quote_thread(&step.thread);
                let op = text::quote_value(&step.op);
                let comment = sim
                    .as_mut()
                    .and_then(|s| comment(s, &step.thread, &step.op))
                    .unwrap_or_default();
                if comment.is_empty() {
                    sim = None;
                }
                (format!("{} {thread}", i + 1), op, comment)
            })
            .collect();
        let who = lines.iter().map(|l| l.0.chars().count()).max().unwrap_or(0);
        let what = lines.iter().map(|l| l.1.chars().count()).max().unwrap_or(0);
        let what = what.min(40);
        let mut out = format!("{HEADER}\nscenario {}\n", text::quote_value(&self.scenario));
        for (who_text, op, comment) in lines {
            let line = if comment.is_empty() {
                format!("{who_text:who$} {op}")
            } else {
                format!("{who_text:who$} {op:what$}  # {comment}")
            };
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Takes one step of a valid schedule and describes it, or `None` if the step
/// does not fit the scenario here.
fn comment(sim: &mut Sim, thread: &str, op: &str) -> Option<String> {
    let t = find_thread(sim, thread)?;
    let pending = sim.pending(t)?;
    if !op_matches(&pending, op) {
        return None;
    }
    let blocks = match sim.thread_state(t) {
        ThreadState::WouldBlock { lock, holders } => Some(waits_for(sim, lock, &holders, false)),
        ThreadState::WouldWait { .. } => sim.wait_text(t).map(|w| Plain(&w).to_string()),
        _ => None,
    };
    sim.step(t).ok()?;
    let mut text = pending.site.to_string();
    if pending.end_of_thread {
        text.push_str(", end of thread");
    }
    if let Some(why) = blocks {
        let _ = write!(text, ", blocks: {why}");
    }
    Some(text)
}

/// Checks `schedule` against a fresh run of `scenario` and returns the thread
/// index of each step.
///
/// # Errors
///
/// [`ScenarioErrorKind::Step`], the first step that does not fit, by number:
/// an unknown thread, an operation the thread would not do next, or a thread
/// that cannot move (it is blocked, waits on a condvar, or has finished); or
/// [`ScenarioErrorKind::WrongScenario`], a schedule written for another
/// scenario.
///
/// # Examples
///
/// ```
/// use lockscope::scenario::{Scenario, Schedule, validate};
///
/// let scenario = Scenario::load("abba")?;
/// let text = "# lockscope schedule 1\nscenario abba\n1 left lock A\n2 right lock B\n3 left lock C\n";
/// let err = validate(&Schedule::parse("s", text)?, &scenario).unwrap_err();
/// assert_eq!(err.to_string(), r#"step 3: thread "left" would "lock B" (abba.toml:15), not "lock C""#);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn validate(schedule: &Schedule, scenario: &Scenario) -> Result<Vec<usize>, ScenarioError> {
    let at_step = |n: usize, message: String| {
        ScenarioError::new(
            ScenarioErrorKind::Step { step: n },
            format!("step {n}: {message}"),
        )
    };
    if schedule.scenario != scenario.name {
        let message = format!(
            "schedule is for scenario {}, not {}",
            Quoted(&schedule.scenario),
            Quoted(&scenario.name)
        );
        let kind = ScenarioErrorKind::WrongScenario {
            schedule: schedule.scenario.clone(),
            scenario: scenario.name.clone(),
        };
        return Err(ScenarioError::new(kind, message));
    }
    let mut sim = Sim::new(scenario);
    let mut threads = Vec::with_capacity(schedule.steps.len());
    for (i, step) in schedule.steps.iter().enumerate() {
        let n = i + 1;
        let Some(t) = find_thread(&sim, &step.thread) else {
            let names = scenario.threads.iter().map(|t| t.name.as_str());
            let message = format!(
                "no thread {} in {} (threads: {})",
                Quoted(&step.thread),
                Plain(&scenario.name),
                name_list(names)
            );
            return Err(at_step(n, message));
        };
        let name = Quoted(sim.thread_name(t)).to_string();
        let why = match sim.thread_state(t) {
            ThreadState::Done => Some("it has finished".to_string()),
            ThreadState::CondWaiting { condvar } => Some(format!(
                "it waits on condvar {} until notified",
                Plain(lock_name(scenario, condvar))
            )),
            ThreadState::Blocked { lock, holders } => {
                Some(format!("it {}", waits_for(&sim, lock, &holders, true)))
            }
            ThreadState::Waits { .. } => Some(format!(
                "it {}",
                Plain(&sim.wait_text(t).unwrap_or_default())
            )),
            ThreadState::Enabled
            | ThreadState::WouldBlock { .. }
            | ThreadState::WouldWait { .. } => None,
        };
        if let Some(why) = why {
            return Err(at_step(n, format!("thread {name} cannot move: {why}")));
        }
        let Some(pending) = sim.pending(t) else {
            let message = format!("thread {name} cannot move: it has finished");
            return Err(at_step(n, message));
        };
        if !op_matches(&pending, &step.op) {
            let at = if pending.end_of_thread {
                "end of thread".to_string()
            } else {
                pending.site.to_string()
            };
            let message = format!(
                "thread {name} would {} ({at}), not {}",
                Quoted(&pending.text),
                Quoted(&step.op)
            );
            return Err(at_step(n, message));
        }
        match sim.step(t) {
            Ok(Moved::Completed | Moved::Blocked) => threads.push(t),
            Err(err) => return Err(at_step(n, format!("thread {name} cannot move: {err}"))),
        }
    }
    Ok(threads)
}

/// `waits for B, held by "left"` (quoted names for messages, plain for comments).
fn waits_for(sim: &Sim, lock: usize, holders: &[usize], quoted: bool) -> String {
    let name = |t: usize| {
        if quoted {
            Quoted(sim.thread_name(t)).to_string()
        } else {
            Plain(sim.thread_name(t)).to_string()
        }
    };
    let who: Vec<String> = holders.iter().map(|&t| name(t)).collect();
    let lock = Plain(lock_name(sim.scenario(), lock));
    if who.is_empty() {
        format!("waits for {lock}")
    } else {
        format!("waits for {lock}, held by {}", who.join(" and "))
    }
}

fn lock_name(scenario: &Scenario, lock: usize) -> &str {
    scenario.locks.get(lock).map_or("?", |l| l.name.as_str())
}

/// The thread named so (exactly, or else with runs of whitespace collapsed).
fn find_thread(sim: &Sim, name: &str) -> Option<usize> {
    let n = sim.thread_count();
    (0..n)
        .find(|&t| sim.thread_name(t) == name)
        .or_else(|| (0..n).find(|&t| normalize(sim.thread_name(t)) == normalize(name)))
}

/// Whether `text` names the pending operation: compared with whitespace runs
/// collapsed and the verb in any case; `lock` and `write` are the same on an
/// rwlock.
fn op_matches(pending: &PendingOp, text: &str) -> bool {
    let mut a = pending.text.split_whitespace();
    let mut b = text.split_whitespace();
    let same_verb = match (a.next(), b.next()) {
        (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => true,
        (Some(_), Some(y)) if matches!(pending.op, SimOp::Write(_)) => {
            y.eq_ignore_ascii_case("lock") || y.eq_ignore_ascii_case("write")
        }
        _ => false,
    };
    same_verb && a.eq(b)
}
