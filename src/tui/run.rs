//! The viewer's event loop: one `select!` over terminal input, batches of lock
//! events, the watched program's progress and a tick; handle, then draw — only
//! when something changed, at most ~30 frames a second.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded, never, select, tick, unbounded};
use crossterm::event::{self as term_event, Event as TermEvent};

use super::app::{App, AppConfig, Flow, RunState};
use super::replay::{Catchup, Replay, ReplayAction, map_replay_key};
use super::step::{Stepper, map_step_key};
use super::term::TermGuard;
use super::ui;
use crate::event::Event;
use crate::scenario::{self, Scenario};
use crate::{Meter, SessionBuilder, TransportStats};

/// The shortest time between two frames (~30 frames a second).
const FRAME: Duration = Duration::from_millis(33);

/// How the viewer looks.
#[derive(Clone, Debug)]
pub struct ViewerOptions {
    /// What is watched: a scenario or program name.
    pub title: String,
    /// Colours on (false for `NO_COLOR` or `--color never`).
    pub color: bool,
    /// Spans of timeline history kept (memory bound).
    pub history_spans: usize,
}

impl ViewerOptions {
    /// Options for watching `title`, with colour as the environment asks.
    pub fn new(title: impl Into<String>, color: bool) -> Self {
        ViewerOptions {
            title: title.into(),
            color,
            history_spans: 2_000_000,
        }
    }
}

/// Whether colour should be used, from `--color` and `NO_COLOR`.
pub fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// `--color auto|always|never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// What the viewer watches and how it learns about it.
pub struct Watched {
    /// The recording session's clock and counters (`None` for a replay,
    /// whose clock is its cursor).
    pub meter: Option<Meter>,
    /// Events in model order, in batches.
    pub events: Receiver<Vec<Event>>,
    /// One message per scenario thread that finished (never for a program).
    pub done: Receiver<()>,
    /// How many `done` messages mean "finished".
    pub threads: usize,
    /// Deadlock reports as they are found.
    pub deadlocks: Receiver<String>,
    /// A message when the watched program says it has finished.
    pub program_ended: Receiver<()>,
    /// The program's captured output, read on each tick.
    pub output: Vec<Box<dyn Read + Send>>,
    /// A recording to travel through instead of live events.
    pub replay: Option<Replay>,
    /// Step mode (scenarios): threads stop before each lock operation.
    pub stepper: Option<Stepper>,
}

/// Runs the viewer until the user quits. Returns the state the watched
/// program was in at that moment.
///
/// # Errors
///
/// Fails when the terminal cannot be set up or drawn on; the terminal is
/// restored in every case.
pub fn run_viewer(watched: &mut Watched, options: &ViewerOptions) -> anyhow::Result<RunState> {
    let mut app = App::new(AppConfig {
        title: options.title.clone(),
        color: options.color,
        history_spans: options.history_spans,
    });
    let mut guard = TermGuard::enter()?;
    let (input, stop_input) = spawn_input();
    let ticker = tick(FRAME);
    // SIGTERM, SIGHUP (the terminal closing), and SIGINT and SIGQUIT from
    // another process (`kill -INT`, `timeout -s INT`, a signal to the process
    // group; the keys themselves arrive as keys in raw mode) quit like `q`:
    // the terminal is restored and a recording finished, rather than the
    // process dying in raw mode.
    let signalled = Arc::new(AtomicBool::new(false));
    let signals: Vec<_> = QUIT_SIGNALS
        .into_iter()
        .filter_map(|sig| signal_hook::flag::register(sig, Arc::clone(&signalled)).ok())
        .collect();
    let test_panic = std::env::var_os("LOCKSCOPE_TEST_PANIC").is_some();
    let mut finished = 0;
    let mut state = RunState::Running;
    let mut last_draw: Option<Instant> = None;
    let mut force_draw = true;
    let mut drawn_size = None;
    // Live time travel: the events so far, and the cursor when paused.
    let mut history = History::default();
    let mut travel: Option<Replay> = None;
    let mut output = String::new();
    let result = loop {
        let mut flow = Flow::Continue;
        let mut typed = false;
        select! {
            recv(input) -> msg => {
                typed = true;
                match msg {
                Ok(TermEvent::Key(key)) if travels(watched, &app, travel.is_some(), key) => {
                    if key.code == crossterm::event::KeyCode::Char(' ') {
                        // Back to the present, live.
                        travel = None;
                        app.reset_events();
                        app.ingest(&history.events);
                        app.set_mode_label(None);
                    } else if let Some(action) = map_replay_key(key) {
                        if history.full {
                            app.set_mode_label(Some("PAUSED · history too long to travel".into()));
                        } else {
                            let r = travel.get_or_insert_with(|| {
                                let mut r = Replay::new(history.events.clone());
                                r.act(ReplayAction::End);
                                r
                            });
                            let first = app.mode_label.is_none();
                            let catchup = r.act(action);
                            if first {
                                // The screen showed the pause's copy: rebuild.
                                catch_up(&mut app, r, Catchup::Rebuild { to: r.cursor() });
                            } else {
                                catch_up(&mut app, r, catchup);
                            }
                        }
                    }
                }
                Ok(TermEvent::Key(key)) if enter_moves(watched, &app, key) => {
                    // Step mode: Enter moves the thread selected in the timeline.
                    let name = app.model().threads().get(app.thread_sel).map(|t| t.name.clone());
                    if let (Some(stepper), Some(name)) = (watched.stepper.as_mut(), name) {
                        stepper.move_named(&name, app.model());
                        app.set_step_panel(stepper.panel(app.model()));
                    }
                }
                Ok(TermEvent::Key(key)) if stepping(watched, &app, key) => {
                    if let Some(stepper) = watched.stepper.as_mut()
                        && let Some(action) = map_step_key(key, stepper.is_on())
                    {
                        stepper.act(action, app.model());
                        app.set_step_panel(stepper.panel(app.model()));
                        if stepper.restart_request().is_some() {
                            flow = Flow::Quit;
                        }
                    }
                }
                Ok(TermEvent::Key(key)) => {
                    let travel = match &mut watched.replay {
                        Some(replay) if !app.typing() => {
                            map_replay_key(key).map(|action| (replay.act(action), replay))
                        }
                        _ => None,
                    };
                    match travel {
                        Some((catchup, replay)) => {
                            catch_up(&mut app, replay, catchup);
                        }
                        // The app maps keys itself: a filter prompt takes raw text.
                        None => flow = app.on_key(key),
                    }
                }
                Ok(TermEvent::Mouse(mouse)) => {
                    let area = guard.terminal().size().map(|s| ratatui::layout::Rect::new(0, 0, s.width, s.height));
                    if let Ok(area) = area {
                        flow = app.on_mouse(mouse, area);
                    }
                }
                Ok(TermEvent::Resize(..)) => force_draw = true,
                Ok(_) => {}
                Err(_) => break Err(anyhow::anyhow!("the terminal input stopped")),
                }
            },
            recv(watched.events) -> batch => {
                if let Ok(batch) = batch {
                    // Take some of what else is queued (up to 64 k events,
                    // a few ms of work): one frame for all of it, and typed
                    // keys still come through between such bites.
                    let more: Vec<_> = watched.events.try_iter().take(15).collect();
                    for batch in std::iter::once(&batch).chain(&more) {
                        history.keep(batch);
                        // While travelling back, the screen shows the past:
                        // new events wait in the history.
                        if travel.is_none() {
                            app.ingest(batch);
                        }
                    }
                } else {
                    watched.events = never();
                }
            },
            recv(watched.done) -> msg => match msg {
                Ok(()) => {
                    finished += 1;
                    if finished == watched.threads && matches!(state, RunState::Running) {
                        state = RunState::Finished;
                        app.set_run_state(state);
                    }
                }
                Err(_) => {
                    watched.done = never();
                    if matches!(state, RunState::Running) {
                        state = RunState::Finished;
                        app.set_run_state(state);
                    }
                }
            },
            recv(watched.deadlocks) -> msg => {
                if msg.is_ok() {
                    state = RunState::Deadlocked;
                    app.set_run_state(state);
                } else {
                    watched.deadlocks = never();
                }
            },
            recv(watched.program_ended) -> msg => {
                watched.program_ended = never();
                if msg.is_ok() && matches!(state, RunState::Running) {
                    state = RunState::Finished;
                    app.set_run_state(state);
                }
            },
            recv(ticker) -> _ => {
                if signalled.load(Ordering::Relaxed) {
                    flow = Flow::Quit;
                }
                // crossterm 0.29 can drop a resize that arrives together
                // with a key press: look for ourselves.
                if guard.terminal().size().ok() != drawn_size {
                    force_draw = true;
                }
                if let Some(stepper) = &mut watched.stepper {
                    stepper.autoplay(app.model());
                    app.set_step_panel(stepper.panel(app.model()));
                }
                if let Some(replay) = &mut watched.replay {
                    let catchup = replay.tick(FRAME.as_nanos() as u64);
                    catch_up(&mut app, replay, catchup);
                }
                // A replay's clock is its cursor (set by `catch_up`).
                if let Some(meter) = &watched.meter
                    && travel.is_none()
                {
                    app.tick(meter.elapsed_ns(), meter.transport());
                }
                for source in &mut watched.output {
                    output.clear();
                    if source.read_to_string(&mut output).is_ok() && !output.is_empty() {
                        app.push_output(&output);
                    }
                }
            },
        }
        if matches!(flow, Flow::Quit) {
            // The viewer's own model may see the cycle a moment before the
            // collector's report arrives: either one means deadlocked.
            if travel.is_none() && app.model().active_deadlocks().next().is_some() {
                state = RunState::Deadlocked;
            }
            break Ok(state);
        }
        // Events are drawn at most once a frame; what the user typed is drawn
        // at once. (The slack keeps a tick that comes a hair early from
        // putting the draw off by a whole frame.)
        let due = typed || last_draw.is_none_or(|at| at.elapsed() >= FRAME / 4 * 3);
        if (app.dirty() || force_draw) && due {
            force_draw = false;
            match guard.terminal().draw(|frame| ui::draw(frame, &app)) {
                Ok(frame) => drawn_size = Some(frame.area.as_size()),
                Err(err) => break Err(err.into()),
            }
            app.clear_dirty();
            last_draw = Some(Instant::now());
            if test_panic {
                // A test-only switch: the terminal must come back from this.
                panic!("LOCKSCOPE_TEST_PANIC: panicking in the viewer on purpose");
            }
        }
    };
    stop_input.store(true, Ordering::SeqCst);
    for id in signals {
        // Without the viewer, the signals' default action again.
        signal_hook::low_level::unregister(id);
    }
    drop(guard);
    result
}

/// The signals that quit the viewer as `q` does.
const QUIT_SIGNALS: [i32; 4] = {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    [SIGTERM, SIGHUP, SIGINT, SIGQUIT]
};

/// Events kept for travelling back in a live session, up to a bound.
#[derive(Default)]
struct History {
    events: Vec<Event>,
    full: bool,
}

/// Events kept for time travel in a live session (about 160 MB).
const HISTORY_CAP: usize = 2_000_000;

impl History {
    fn keep(&mut self, batch: &[Event]) {
        if self.events.len() + batch.len() > HISTORY_CAP {
            // Travelling needs every event from the start: past the bound
            // it is off, and says so, rather than show a wrong past.
            self.full = true;
            self.events = Vec::new();
        }
        if !self.full {
            self.events.extend_from_slice(batch);
        }
    }
}

/// Whether `key` travels in time: a live session, paused (or already
/// travelling), and a replay key other than play.
fn travels(
    watched: &Watched,
    app: &App,
    travelling: bool,
    key: crossterm::event::KeyEvent,
) -> bool {
    watched.replay.is_none()
        && watched.stepper.as_ref().is_none_or(|s| !s.is_on())
        && !app.typing()
        && (app.paused() || travelling)
        && match map_replay_key(key) {
            Some(ReplayAction::TogglePlay) => {
                travelling && key.code == crossterm::event::KeyCode::Char(' ')
            }
            Some(_) => true,
            None => false,
        }
}

/// Whether `key` is Enter on the timeline in step mode.
fn enter_moves(watched: &Watched, app: &App, key: crossterm::event::KeyEvent) -> bool {
    key.code == crossterm::event::KeyCode::Enter
        && key.kind == crossterm::event::KeyEventKind::Press
        && !app.typing()
        && app.focus == super::app::Focus::Timeline
        && watched.stepper.as_ref().is_some_and(Stepper::is_on)
}

/// Whether `key` is a step-mode key now.
fn stepping(watched: &Watched, app: &App, key: crossterm::event::KeyEvent) -> bool {
    !app.typing()
        && watched
            .stepper
            .as_ref()
            .is_some_and(|s| map_step_key(key, s.is_on()).is_some())
}

/// Shows the state at the replay's cursor after it moved.
fn catch_up(app: &mut App, replay: &Replay, catchup: Catchup) {
    match catchup {
        Catchup::None => {}
        Catchup::Forward { from, to } => app.ingest(&replay.events()[from..to]),
        Catchup::Rebuild { to } => {
            app.reset_events();
            app.ingest(&replay.events()[..to]);
        }
    }
    app.tick(
        replay.now(),
        TransportStats {
            sent: replay.cursor() as u64,
            received: replay.cursor() as u64,
            ..TransportStats::default()
        },
    );
    app.set_mode_label(Some(replay.label()));
}

/// Reads terminal input on a thread of its own, polling so that it notices
/// within 50 ms when the viewer is gone.
fn spawn_input() -> (Receiver<TermEvent>, Arc<AtomicBool>) {
    let (tx, rx) = bounded(64);
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let spawned: std::io::Result<JoinHandle<()>> = std::thread::Builder::new()
        .name("lockscope-input".into())
        .spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match term_event::poll(Duration::from_millis(50)) {
                    Ok(true) => match term_event::read() {
                        Ok(ev) => {
                            if tx.send(ev).is_err() {
                                return;
                            }
                        }
                        Err(_) => return,
                    },
                    Ok(false) => {}
                    Err(_) => return,
                }
            }
        });
    if spawned.is_err() {
        // No input thread: the viewer still shows, and its input channel
        // reports disconnection, which ends the loop with an error.
        let (_, rx) = unbounded();
        return (rx, stop);
    }
    (rx, stop)
}

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
    let mut watched = Watched {
        meter: Some(meter),
        events: events_rx,
        done: started.done.clone(),
        threads: started.threads,
        deadlocks: started.deadlocks.clone(),
        program_ended: never(),
        output: Vec::new(),
        replay: None,
        stepper: Some(stepper),
    };
    let state = run_viewer(&mut watched, options);
    let restart = watched.stepper.as_mut().and_then(Stepper::take_restart);
    // The session (and its recording) ends at the quit, before dropping the
    // stepper lets parked threads run on where no one sees them.
    drop(started);
    Ok(ScenarioEnd {
        state: state?,
        restart,
    })
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
    let mut watched = Watched {
        meter: None,
        events: never(),
        done: never(),
        threads: 0,
        deadlocks: never(),
        program_ended: never(),
        output: Vec::new(),
        replay: Some(Replay::new(events)),
        stepper: None,
    };
    run_viewer(&mut watched, options)
}
