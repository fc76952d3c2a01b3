//! The explorer's report as text.

use std::fmt::Write as _;

use super::{Bound, ExploreReport, Found};
use crate::scenario::pos::Plain;
use crate::scenario::schedule::{Schedule, validate};
use crate::scenario::sim::{Sim, ThreadState};
use crate::scenario::{Scenario, SimOp};

/// The report as readable text: what was found, the schedule as numbered steps
/// (`thread → operation (site)`), and how much was explored in how long. Names
/// have control characters escaped.
///
/// # Examples
///
/// ```
/// use lockscope::scenario::{ExploreOptions, Scenario, explore, format_report};
///
/// let scenario = Scenario::load("abba")?;
/// let report = explore(&scenario, &ExploreOptions::default(), &mut |_| {})?;
/// let text = format_report(&report, &scenario);
/// assert!(text.starts_with("DEADLOCK in abba: 2 threads wait for each other"), "{text}");
/// assert!(text.contains("   1  left → lock A  (abba.toml:13)\n"), "{text}");
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn format_report(report: &ExploreReport, scenario: &Scenario) -> String {
    let mut out = String::new();
    let name = Plain(&scenario.name);
    match &report.outcome {
        Found::Deadlock { schedule, cycle } => {
            let who = if cycle.len() == 1 {
                "a thread waits for itself".to_string()
            } else {
                format!("{} threads wait for each other in a cycle", cycle.len())
            };
            let _ = writeln!(
                out,
                "DEADLOCK in {name}: {who}, after {}:",
                plural(schedule.steps.len(), "step"),
            );
            steps(&mut out, schedule, scenario);
            // The state at the end of the schedule, to say how each waits.
            let mut sim = Sim::new(scenario);
            for t in validate(schedule, scenario).unwrap_or_default() {
                let _ = sim.step(t);
            }
            for (i, &(t, lock)) in cycle.iter().enumerate() {
                let next = cycle[(i + 1) % cycle.len()].0;
                let who = Plain(sim.thread_name(t));
                if let Some(what) = sim.wait_text(t) {
                    let _ = writeln!(out, "  thread {who} {}", Plain(&what));
                    continue;
                }
                let lock = Plain(lock_name(scenario, lock));
                let holder = if next == t {
                    "itself".to_string()
                } else {
                    format!("thread {}", Plain(sim.thread_name(next)))
                };
                let _ = writeln!(out, "  thread {who} waits for {lock}, held by {holder}");
            }
        }
        Found::ExpectationViolated {
            schedule,
            var,
            expected,
            actual,
            overflowed,
        } => {
            let how = if *overflowed {
                " (an add overflowed the 64-bit range)"
            } else {
                ""
            };
            let site = scenario
                .vars
                .iter()
                .position(|v| &v.name == var)
                .and_then(|i| scenario.expect.iter().find(|e| e.var == i))
                .map(|e| format!(" ({})", e.site))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "EXPECTATION FAILED in {name}: {} = {actual} at the end{how}, expected \
                 {expected}{site}, after {}:",
                Plain(var),
                plural(schedule.steps.len(), "step"),
            );
            steps(&mut out, schedule, scenario);
        }
        Found::Stuck { schedule, blocked } => {
            let _ = writeln!(
                out,
                "STUCK in {name}: after {} no thread can move, and no wait-for cycle explains it:",
                plural(schedule.steps.len(), "step"),
            );
            steps(&mut out, schedule, scenario);
            stuck_threads(&mut out, schedule, scenario, blocked);
        }
        Found::Exhausted => {
            let what = match (
                &report.options.target_locks,
                report.options.check_expectations,
            ) {
                (Some(locks), _) => {
                    let names: Vec<String> = locks.iter().map(|l| Plain(l).to_string()).collect();
                    format!("no deadlock involving {}", names.join(", "))
                }
                (None, true) if !scenario.expect.is_empty() => {
                    "no deadlock, no stuck run and no failed expectation".to_string()
                }
                (None, _) => "no deadlock and no stuck run".to_string(),
            };
            let _ = writeln!(
                out,
                "{what} in any of the {} reachable states of {name}",
                count(report.states)
            );
        }
        Found::BoundReached { bound } => {
            let which = bound_text(report, *bound);
            let _ = writeln!(
                out,
                "BOUND REACHED in {name} ({which}): nothing found in the states explored, \
                 but the search is incomplete",
            );
        }
    }
    let found_other = matches!(
        report.outcome,
        Found::Stuck { .. } | Found::ExpectationViolated { .. }
    );
    match report.bound {
        _ if !found_other => {}
        None if report.complete => {
            let _ = writeln!(
                out,
                "no deadlock in any of the {} reachable states",
                count(report.states)
            );
        }
        Some(bound) => {
            let _ = writeln!(
                out,
                "the search for deadlocks stopped at {}: none found so far",
                bound_text(report, bound)
            );
        }
        None => {}
    }
    let no_deadlock_claimed =
        matches!(report.outcome, Found::Exhausted) || (found_other && report.complete);
    if let (Some(order), false, false) = (
        &report.lock_order,
        no_deadlock_claimed,
        matches!(report.outcome, Found::Deadlock { .. }),
    ) {
        let _ = if order.is_empty() {
            writeln!(
                out,
                "no deadlock can happen anyway: no thread takes a lock while it holds another"
            )
        } else {
            let names: Vec<String> = order
                .iter()
                .take(10)
                .map(|&l| Plain(lock_name(scenario, l)).to_string())
                .collect();
            let more = if order.len() > 10 { " → …" } else { "" };
            writeln!(
                out,
                "no deadlock can happen anyway: every thread takes its locks in one order ({}{more})",
                names.join(" → ")
            )
        };
    }
    let reduction = match (report.options.reduce, scenario.has_channels_or_joins()) {
        (true, false) => "partial-order reduction on",
        (true, true) => "symmetry reduction only: channels and joins need every interleaving",
        (false, _) => "no reduction",
    };
    let _ = writeln!(
        out,
        "explored {} and {}, {} deep, in {:.2?} ({reduction})",
        plural_count(report.states, "state"),
        plural_count(report.schedules, "schedule"),
        plural(report.depth, "step"),
        report.elapsed,
    );
    out
}

/// `   3  left → lock B  (abba.toml:15)  blocks: waits for B, held by right`.
fn steps(out: &mut String, schedule: &Schedule, scenario: &Scenario) {
    let Ok(threads) = validate(schedule, scenario) else {
        for (i, step) in schedule.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:>4}  {} → {}",
                i + 1,
                Plain(&step.thread),
                Plain(&step.op)
            );
        }
        return;
    };
    let mut sim = Sim::new(scenario);
    for (i, &t) in threads.iter().enumerate() {
        let Some(pending) = sim.pending(t) else {
            break;
        };
        let at = if pending.end_of_thread {
            "end of thread".to_string()
        } else {
            pending.site.to_string()
        };
        let _ = write!(
            out,
            "{:>4}  {} → {}  ({at})",
            i + 1,
            Plain(sim.thread_name(t)),
            Plain(&pending.text)
        );
        match sim.thread_state(t) {
            ThreadState::WouldBlock { lock, holders } => {
                let _ = write!(out, "  blocks: {}", waits(&sim, lock, &holders));
            }
            ThreadState::WouldWait { .. } => {
                let what = sim.wait_text(t).unwrap_or_default();
                let _ = write!(out, "  blocks: {}", Plain(&what));
            }
            _ => {}
        }
        let before = sim.vars().to_vec();
        let _ = sim.step(t);
        // Values make a lost update visible: a store that does not add up.
        match pending.op {
            SimOp::Load(v) => {
                let _ = write!(
                    out,
                    "  reads {}",
                    before.get(v).copied().unwrap_or_default()
                );
            }
            SimOp::Store(v) => {
                let name = Plain(scenario.vars.get(v).map_or("?", |d| d.name.as_str()));
                let old = before.get(v).copied().unwrap_or_default();
                let new = sim.vars().get(v).copied().unwrap_or_default();
                let _ = write!(out, "  {name}: {old} → {new}");
            }
            _ => {}
        }
        out.push('\n');
    }
}

/// What each thread of a stuck run waits for.
fn stuck_threads(out: &mut String, schedule: &Schedule, scenario: &Scenario, blocked: &[usize]) {
    let mut sim = Sim::new(scenario);
    for t in validate(schedule, scenario).unwrap_or_default() {
        let _ = sim.step(t);
    }
    for &t in blocked {
        let who = Plain(sim.thread_name(t));
        let what = match sim.thread_state(t) {
            ThreadState::CondWaiting { condvar } => format!(
                "waits on condvar {} and no thread will notify it",
                Plain(lock_name(scenario, condvar))
            ),
            ThreadState::Blocked { lock, holders } | ThreadState::WouldBlock { lock, holders } => {
                let reacquire =
                    matches!(sim.pending(t), Some(p) if matches!(p.op, SimOp::Reacquire { .. }));
                let what = waits(&sim, lock, &holders);
                if reacquire {
                    format!("was notified and {what}")
                } else {
                    what
                }
            }
            ThreadState::Waits { .. } | ThreadState::WouldWait { .. } => {
                let what = sim.wait_text(t).unwrap_or_default();
                Plain(&what).to_string()
            }
            ThreadState::Enabled | ThreadState::Done => continue,
        };
        let _ = writeln!(out, "  thread {who} {what}");
    }
}

fn bound_text(report: &ExploreReport, bound: Bound) -> String {
    match bound {
        Bound::States => format!("max_states = {}", count(report.options.max_states as u64)),
        Bound::Schedules => format!("max_schedules = {}", count(report.options.max_schedules)),
        Bound::Time => match report.options.timeout {
            Some(t) => format!("timeout = {t:?}"),
            None => "timeout".into(),
        },
    }
}

fn waits(sim: &Sim, lock: usize, holders: &[usize]) -> String {
    let lock = Plain(lock_name(sim.scenario(), lock));
    let who: Vec<String> = holders
        .iter()
        .map(|&h| Plain(sim.thread_name(h)).to_string())
        .collect();
    if who.is_empty() {
        format!("waits for {lock}")
    } else {
        format!("waits for {lock}, held by {}", who.join(" and "))
    }
}

fn lock_name(scenario: &Scenario, lock: usize) -> &str {
    scenario.locks.get(lock).map_or("?", |l| l.name.as_str())
}

fn plural(n: usize, what: &str) -> String {
    plural_count(n as u64, what)
}

fn plural_count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", count(n))
    }
}

/// `1234567` as `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
