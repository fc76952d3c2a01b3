//! The viewer's event loop: one `select!` over terminal input, batches of lock
//! events, the watched program's progress and a tick; handle, then draw — only
//! when something changed, at most ~30 frames a second.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{never, select, tick};
use crossterm::event::Event as TermEvent;

use super::app::{App, AppConfig, Flow, RunState};
use super::feed::{History, Notice, Watched, spawn_input};
use super::input::{map_replay_key, map_step_key};
use super::term::TermGuard;
use super::ui;
use crate::TransportStats;
use crate::control::{Catchup, Replay, ReplayAction, Stepper};

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
    // Quitting ends a live program: `q` asks first while it runs.
    app.set_live(watched.replay.is_none());
    let mut guard = TermGuard::enter()?;
    let (input, stop_input) = spawn_input();
    let ticker = tick(FRAME);
    // SIGTERM, SIGHUP (the terminal closing), and SIGINT and SIGQUIT from
    // another process (`kill -INT`, `timeout -s INT`, a signal to the process
    // group; the keys themselves arrive as keys in raw mode) quit like `q`:
    // the terminal is restored and a recording finished, rather than the
    // process dying in raw mode. (Unregistering alone would leave them
    // ignored afterwards: see `restore_default_signals`.)
    let signalled = Arc::new(AtomicBool::new(false));
    default_switch().store(false, Ordering::SeqCst);
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
                // The terminal is gone (closed, hung up): end as `q` would,
                // so the watched program does not outlive it.
                Err(_) => flow = Flow::Quit,
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
            recv(watched.notices) -> msg => match msg {
                Ok(Notice::Deadlock(report)) => {
                    watched.reports.push(report);
                    state = RunState::Deadlocked;
                    app.set_run_state(state);
                }
                Ok(Notice::ThreadDone) => {
                    finished += 1;
                    if finished == watched.threads && matches!(state, RunState::Running) {
                        state = RunState::Finished;
                        app.set_run_state(state);
                    }
                }
                Ok(Notice::ProgramEnded) => {
                    if matches!(state, RunState::Running) {
                        state = RunState::Finished;
                        app.set_run_state(state);
                    }
                }
                Ok(Notice::Expectations(results)) => app.set_expectations(results),
                Err(_) => watched.notices = never(),
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
            break Ok(state_at_quit(&app, travel.is_none(), state));
        }
        // Events are drawn at most once a frame; what the user typed is drawn
        // at once. (The slack keeps a tick that comes a hair early from
        // putting the draw off by a whole frame.)
        let due = typed || last_draw.is_none_or(|at| at.elapsed() >= FRAME / 4 * 3);
        if (app.dirty() || force_draw) && due {
            force_draw = false;
            if let Ok(size) = guard.terminal().size() {
                app.set_screen(ratatui::layout::Rect::new(0, 0, size.width, size.height));
            }
            match guard.terminal().draw(|frame| ui::draw(frame, &app)) {
                Ok(frame) => drawn_size = Some(frame.area.as_size()),
                // Drawing failed (EIO: the terminal is gone): as `q`.
                Err(_) => break Ok(state_at_quit(&app, travel.is_none(), state)),
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

/// Gives the quit signals their default action back after a viewer
/// closed, for a program that runs on without it: it must stay stoppable.
/// (Not done on the way to an exit: a second SIGHUP while a recording is
/// finished would cut it short.)
pub fn restore_default_signals() {
    default_switch().store(true, Ordering::SeqCst);
}

/// The switch that gives the quit signals their default action: registered
/// once per process, off while a viewer runs (the `b` restart opens one
/// viewer after another).
fn default_switch() -> Arc<AtomicBool> {
    static SWITCH: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    Arc::clone(SWITCH.get_or_init(|| {
        let on = Arc::new(AtomicBool::new(true));
        for sig in QUIT_SIGNALS {
            let _ = signal_hook::flag::register_conditional_default(sig, Arc::clone(&on));
        }
        on
    }))
}

/// The watched program's state when the viewer closes: the viewer's own
/// model may see a cycle a moment before the collector's report arrives, and
/// either one means deadlocked (not while travelling: that is the past).
fn state_at_quit(app: &App, live: bool, state: RunState) -> RunState {
    if live && app.model().active_deadlocks().next().is_some() {
        RunState::Deadlocked
    } else {
        state
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
