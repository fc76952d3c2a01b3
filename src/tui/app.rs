//! The screen's state: the model it draws, what is selected, what is open.
//!
//! Input changes it ([`App::on_action`], [`App::on_key`], [`App::on_mouse`]),
//! the runtime feeds it ([`App::ingest`], [`App::tick`], [`App::push_output`]),
//! and [`draw`](super::draw) only reads it.

use crate::TransportStats;
use crate::control::StepPanel;
use crate::event::{Event, LockId, Nanos};
use crate::model::{Model, Timeline};
use crate::scenario::ExpectResult;

use super::buffers::{EventLog, Output, RateMeter};
use super::theme::Theme;
use super::timeview::TimeView;

/// How the screen is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConfig {
    /// What runs: the scenario's or the program's name (untrusted text).
    pub title: String,
    /// Whether to use colours; `false` for `NO_COLOR` or `--color never`.
    pub color: bool,
    /// The timeline's history budget in spans (see [`Timeline::with_budget`]).
    pub history_spans: usize,
}

/// What the observed program is doing, as the runtime knows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunState {
    /// Its threads run.
    #[default]
    Running,
    /// Every thread ended.
    Finished,
    /// A wait-for cycle closed: some threads can never proceed.
    Deadlocked,
    /// The run hit its time limit.
    TimedOut,
}

/// Whether the event loop goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep running.
    Continue,
    /// The user asked to quit.
    Quit,
}

/// The panel that receives ↑/↓, Home/End and Enter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Focus {
    /// The timeline: ↑/↓ select a thread.
    #[default]
    Timeline,
    /// The lock table: ↑/↓ select a lock.
    Locks,
    /// The wait-for panel: ↑/↓ select an edge.
    WaitFor,
    /// The event log: ↑/↓ scroll.
    Log,
    /// The program's output: ↑/↓ scroll.
    Output,
}

impl Focus {
    const ORDER: [Focus; 5] = [
        Focus::Timeline,
        Focus::Locks,
        Focus::WaitFor,
        Focus::Log,
        Focus::Output,
    ];

    pub(super) fn step(self, by: isize) -> Focus {
        let i = Self::ORDER.iter().position(|&f| f == self).unwrap_or(0) as isize;
        let n = Self::ORDER.len() as isize;
        Self::ORDER[(i + by).rem_euclid(n) as usize]
    }
}

/// The lock table's sort column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortColumn {
    /// By name, ascending.
    #[default]
    Name,
    /// Most acquired first.
    Acquisitions,
    /// Most contended (in %) first.
    Contention,
    /// Longest maximum wait first.
    MaxWait,
}

impl SortColumn {
    pub(super) fn next(self) -> SortColumn {
        match self {
            SortColumn::Name => SortColumn::Acquisitions,
            SortColumn::Acquisitions => SortColumn::Contention,
            SortColumn::Contention => SortColumn::MaxWait,
            SortColumn::MaxWait => SortColumn::Name,
        }
    }
}

/// What the screen shows when the view is paused: the model and log as they were.
///
/// Recording goes on underneath (the live model and timeline keep applying
/// events), so pausing costs one copy of the model, never a growing buffer.
#[derive(Clone, Debug)]
struct Frozen {
    pub(super) model: Model,
    log: EventLog,
    now: Nanos,
}

/// What the body of the screen draws from: live state, or the paused copy.
pub(crate) struct View<'a> {
    /// The model.
    pub(crate) model: &'a Model,
    /// The event log.
    pub(crate) log: &'a EventLog,
    /// The time the view shows.
    pub(crate) now: Nanos,
}

/// The state of the live screen.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Event, EventKind, ThreadId};
/// use lockscope::tui::{Action, App, AppConfig, Flow};
///
/// let mut app = App::new(AppConfig { title: "demo".into(), color: true, history_spans: 10_000 });
/// let start = EventKind::ThreadStart { name: "main".into() };
/// app.ingest(&[Event { time: 0, thread: ThreadId(0), kind: start }]);
/// assert_eq!(app.model().threads().len(), 1);
/// assert!(app.dirty());
/// assert_eq!(app.on_action(Action::Quit), Flow::Quit);
/// ```
pub struct App {
    pub(crate) config: AppConfig,
    pub(crate) theme: Theme,
    model: Model,
    pub(crate) timeline: Timeline,
    log: EventLog,
    pub(crate) output: Output,
    frozen: Option<Box<Frozen>>,
    pub(crate) now: Nanos,
    pub(crate) transport: TransportStats,
    rate: RateMeter,
    pub(crate) run_state: RunState,
    pub(crate) focus: Focus,
    pub(crate) time: TimeView,
    /// Index into the model's threads.
    pub(crate) thread_sel: usize,
    /// The selected lock (kept by id, so re-sorting does not move the selection).
    pub(crate) lock_sel: Option<LockId>,
    /// Index into the wait-for panel's selectable rows.
    pub(crate) edge_sel: usize,
    /// Lines scrolled up from the newest log entry.
    pub(crate) log_scroll: usize,
    /// Lines scrolled up from the newest output line.
    pub(crate) output_scroll: usize,
    pub(crate) sort: SortColumn,
    pub(crate) details: bool,
    pub(crate) help: bool,
    /// The filter being typed, while the prompt is open.
    pub(crate) prompt: Option<String>,
    /// The log filter in force (empty: none).
    pub(crate) filter: String,
    /// Shown in the header instead of LIVE/PAUSED (a replay's position).
    pub(crate) mode_label: Option<String>,
    /// Step mode's panel, shown instead of the program's output.
    pub(crate) step_panel: Option<StepPanel>,
    /// Whether a live program is watched (not a recording): quitting ends it.
    pub(super) live: bool,
    /// `q` was pressed while the program runs: the next key confirms or stays.
    pub(crate) confirm_quit: bool,
    /// A scenario's `[expect]` checks, once it finished.
    pub(crate) expectations: Vec<ExpectResult>,
    /// The terminal's size as last drawn (for keys that act on what is seen).
    pub(crate) screen: ratatui::layout::Rect,
    pub(super) dirty: bool,
}

impl App {
    /// A screen with nothing seen yet.
    pub fn new(config: AppConfig) -> App {
        App {
            theme: Theme::new(config.color),
            timeline: Timeline::with_budget(config.history_spans),
            config,
            model: Model::new(),
            log: EventLog::default(),
            output: Output::default(),
            frozen: None,
            now: 0,
            transport: TransportStats::default(),
            rate: RateMeter::default(),
            run_state: RunState::Running,
            focus: Focus::Timeline,
            time: TimeView::default(),
            thread_sel: 0,
            lock_sel: None,
            edge_sel: 0,
            log_scroll: 0,
            output_scroll: 0,
            sort: SortColumn::Name,
            details: false,
            help: false,
            prompt: None,
            filter: String::new(),
            mode_label: None,
            step_panel: None,
            live: false,
            confirm_quit: false,
            expectations: Vec::new(),
            screen: ratatui::layout::Rect::new(0, 0, 80, 24),
            dirty: true,
        }
    }

    /// Tells the screen the terminal's size (the runtime does before drawing).
    pub fn set_screen(&mut self, area: ratatui::layout::Rect) {
        if area != self.screen {
            self.screen = area;
            self.dirty = true;
        }
    }

    /// Says that a live program is watched: `q` then asks before ending it
    /// while it still runs.
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }

    /// Shows a scenario's `[expect]` checks (a failed one loudly).
    pub fn set_expectations(&mut self, results: Vec<ExpectResult>) {
        if results != self.expectations {
            self.expectations = results;
            self.dirty = true;
        }
    }

    /// Whether an `[expect]` check failed: the run is not a success.
    pub fn expectation_failed(&self) -> bool {
        self.expectations.iter().any(|e| !e.held())
    }

    /// Shows (or, with `None`, hides) the step-mode panel.
    pub fn set_step_panel(&mut self, panel: Option<StepPanel>) {
        if panel != self.step_panel {
            self.step_panel = panel;
            self.dirty = true;
        }
    }

    /// Whether a prompt takes the keys as text (the log filter).
    pub fn typing(&self) -> bool {
        self.prompt.is_some() || self.confirm_quit
    }

    /// Replaces LIVE/PAUSED in the header (a replay says where it is).
    pub fn set_mode_label(&mut self, label: Option<String>) {
        if label != self.mode_label {
            self.mode_label = label;
            self.dirty = true;
        }
    }

    /// Forgets every event seen (model, timeline, log), keeping how the
    /// screen is set up (selection, zoom, focus, filter): a replay going back
    /// in time applies the events up to its cursor again.
    pub fn reset_events(&mut self) {
        self.model = Model::new();
        self.timeline = Timeline::with_budget(self.config.history_spans);
        self.log = EventLog::default();
        self.frozen = None;
        self.dirty = true;
    }

    /// Applies events, in order, to the model, the timeline and the log.
    ///
    /// Recording goes on while the view is paused; the screen shows what it
    /// showed when paused until it resumes.
    pub fn ingest(&mut self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        for ev in events {
            self.model.apply(ev);
            self.timeline.record(&self.model, ev);
        }
        self.log.extend(events);
        self.dirty = true;
    }

    /// Advances the clock (nanoseconds since the session started) and updates
    /// the transport counters and the event rate.
    pub fn tick(&mut self, now: Nanos, transport: TransportStats) {
        let ns = self.time.ns_per_col();
        let moved = now / 100_000_000 != self.now / 100_000_000
            || (self.time.following() && self.frozen.is_none() && now / ns != self.now / ns);
        let rate_before = self.rate.per_second();
        self.rate.sample(now, self.model.events());
        if moved || transport != self.transport || rate_before != self.rate.per_second() {
            self.dirty = true;
        }
        self.now = now;
        self.transport = transport;
    }

    /// Tells the screen how the observed program is doing.
    pub fn set_run_state(&mut self, state: RunState) {
        if state != self.run_state {
            self.run_state = state;
            self.dirty = true;
        }
    }

    /// Appends the observed program's captured stdout/stderr (bounded, sanitised).
    pub fn push_output(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.output.push(text);
        self.dirty = true;
    }

    /// Whether something changed since [`clear_dirty`](Self::clear_dirty): redraw.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// Marks the screen as drawn.
    pub fn clear_dirty(&mut self) {
        self.dirty = false;
    }

    /// Pauses the view (a copy of what it shows) or resumes it.
    pub(super) fn toggle_pause(&mut self) {
        self.frozen = match self.frozen.take() {
            Some(_) => None,
            None => Some(Box::new(Frozen {
                model: self.model.clone(),
                log: self.log.clone(),
                now: self.now,
            })),
        };
    }

    /// The live model (the view may show a paused copy).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether the view is paused.
    pub fn paused(&self) -> bool {
        self.frozen.is_some()
    }

    /// What the body of the screen shows: the paused copy, or the live state.
    pub(crate) fn view(&self) -> View<'_> {
        match &self.frozen {
            Some(f) => View {
                model: &f.model,
                log: &f.log,
                now: f.now,
            },
            None => View {
                model: &self.model,
                log: &self.log,
                now: self.now,
            },
        }
    }

    /// Events per second, measured over the last second of ticks.
    pub(crate) fn rate(&self) -> u64 {
        self.rate.per_second()
    }
}
