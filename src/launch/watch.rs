//! The viewer over a scenario or a recording.

use anyhow::Context;
use crossbeam_channel::{Receiver, select, unbounded};

use crate::control::{Replay, Stepper};
use crate::event::Event;
use crate::scenario::{self, ExpectResult, Scenario};
use crate::tui::{Notice, RunState, ViewerOptions, Watched, run_viewer};
use crate::{DeadlockReport, SessionBuilder};

/// Runs `scenario` with the viewer open on it, until the user quits. Returns
/// the state the scenario was in at that moment (deadlocked threads are left
/// blocked; the caller exits the process).
///
/// # Errors
///
/// Fails when a session cannot start or the terminal cannot be used.
pub fn watch_scenario(
    scenario: &Scenario,
    builder: SessionBuilder,
    options: &ViewerOptions,
    step: Option<StepStart>,
) -> anyhow::Result<ScenarioEnd> {
    let mut stepper = Stepper::new(Some(scenario));
    if let Some(start) = step {
        // On before the threads start: they stop before their first operation.
        stepper.turn_on();
        stepper.set_plan(start.plan, start.auto);
    }
    let (events_tx, events_rx) = unbounded();
    let started = scenario::start(scenario, builder.listener(events_tx))?;
    let meter = started
        .session
        .meter()
        .ok_or_else(|| anyhow::anyhow!("the session is not recording"))?;
    let check = started.checker();
    // Dropped on the way out: the bridge ends with this viewer, even when
    // threads left parked by `b` never say they are done.
    let (viewer_open, closed) = crossbeam_channel::bounded::<()>(0);
    let notices = bridge(
        started.done.clone(),
        started.deadlocks.clone(),
        closed,
        check,
    )?;
    let mut watched = Watched::live(meter, events_rx, notices);
    watched.threads = started.threads;
    watched.stepper = Some(stepper);
    let state = run_viewer(&mut watched, options);
    let restart = watched.stepper.as_mut().and_then(Stepper::take_restart);
    let state = state?;
    // Checked as headless checks them: only a run that finished has a result.
    let expectations = if state == RunState::Finished {
        (started.checker())()
    } else {
        Vec::new()
    };
    let reports = reports_at_quit(&mut watched, state);
    let stalled = started.stalls.try_recv().is_ok();
    drop(viewer_open);
    // The viewer reads no more: its listener must not make the collector
    // wait for it (under load that held the quit up for seconds).
    watched.events = crossbeam_channel::never();
    // The session (and its recording) ends at the quit, before dropping the
    // stepper lets parked threads run on where no one sees them.
    drop(started);
    Ok(ScenarioEnd {
        state,
        restart,
        expectations,
        reports,
        stalled,
    })
}

/// The deadlock reports to print once the terminal is back: those the viewer
/// received, or, when it saw the cycle a moment before the collector's report
/// arrived, that report (waited for briefly).
pub(super) fn reports_at_quit(watched: &mut Watched, state: RunState) -> Vec<DeadlockReport> {
    let mut reports = std::mem::take(&mut watched.reports);
    if state == RunState::Deadlocked && reports.is_empty() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while let Ok(notice) = watched.notices.recv_deadline(deadline) {
            if let Notice::Deadlock(report) = notice {
                reports.push(report);
                break;
            }
        }
    }
    reports
}

/// How to start step mode.
#[derive(Clone, Debug, Default)]
pub struct StepStart {
    /// Threads to move first, in order (a schedule's), by name.
    pub plan: Vec<String>,
    /// Move them without waiting for keys (going back replays so).
    pub auto: bool,
}

/// How the viewer on a scenario ended.
#[derive(Debug)]
pub struct ScenarioEnd {
    /// The scenario's state when the user quit.
    pub state: RunState,
    /// Step mode's `b`: start over and replay these moves (the steps taken
    /// but the last), by thread name.
    pub restart: Option<Vec<String>>,
    /// The `[expect]` checks of a run that finished (empty otherwise).
    pub expectations: Vec<ExpectResult>,
    /// The deadlocks found, for the report printed after the viewer.
    pub reports: Vec<DeadlockReport>,
    /// A stall was reported (every thread blocked, nobody to wake them).
    pub stalled: bool,
}

/// Opens the viewer on a recording, at its start, paused: space plays,
/// `.`/`,` step one event forward/back, `[`/`]` change the speed, Home/End
/// jump, `d` goes to the next deadlock and `x` to the next contended
/// acquisition. Everything shown is the state at the cursor.
///
/// # Errors
///
/// Fails when the terminal cannot be used.
pub fn watch_trace(events: Vec<Event>, options: &ViewerOptions) -> anyhow::Result<RunState> {
    run_viewer(&mut Watched::replay(Replay::new(events)), options)
}

/// The scenario's two channels as the viewer's one typed feed: a thread that
/// ends when both close, or when `closed` does (the viewer is gone).
fn bridge(
    done: Receiver<()>,
    deadlocks: Receiver<DeadlockReport>,
    closed: Receiver<()>,
    check: impl Fn() -> Vec<ExpectResult> + Send + 'static,
) -> anyhow::Result<Receiver<Notice>> {
    let (tx, rx) = unbounded();
    std::thread::Builder::new()
        .name("lockscope-notices".into())
        .spawn(move || {
            let (mut done, mut deadlocks) = (Some(done), Some(deadlocks));
            while done.is_some() || deadlocks.is_some() {
                use crossbeam_channel::never;
                let notice = select! {
                    recv(done.clone().unwrap_or_else(never)) -> msg => match msg {
                        Ok(()) => Notice::ThreadDone,
                        // Every thread is gone (one that panicked said nothing):
                        // the shared variables hold their final values.
                        Err(_) => {
                            done = None;
                            if tx.send(Notice::Expectations(check())).is_err() {
                                return;
                            }
                            Notice::ProgramEnded
                        }
                    },
                    recv(closed) -> _ => return,
                    recv(deadlocks.clone().unwrap_or_else(never)) -> msg => match msg {
                        Ok(report) => Notice::Deadlock(report),
                        Err(_) => {
                            deadlocks = None;
                            continue;
                        }
                    },
                };
                if tx.send(notice).is_err() {
                    return;
                }
            }
        })
        .context("cannot start the lockscope notice thread")?;
    Ok(rx)
}
