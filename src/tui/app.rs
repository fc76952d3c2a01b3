//! The screen's state: the model it draws, what is selected, what is open.
//!
//! Input changes it ([`App::on_action`], [`App::on_key`], [`App::on_mouse`]),
//! the runtime feeds it ([`App::ingest`], [`App::tick`], [`App::push_output`]),
//! and [`draw`](super::draw) only reads it.

use crossterm::event::KeyEvent;

use crate::TransportStats;
use crate::control::StepPanel;
use crate::event::{Event, LockId, Nanos, ThreadId};
use crate::model::{Model, Timeline};
use crate::scenario::ExpectResult;

use super::buffers::{EventLog, Output, RateMeter};
use super::input::{Action, PromptKey, map_key, map_prompt_key};
use super::theme::Theme;
use super::timeview::TimeView;
use super::ui;

/// How many columns a key press scrolls the timeline.
const SCROLL_COLS: i64 = 10;
/// How many rows PageUp / PageDown move.
const PAGE_ROWS: isize = 10;
/// The longest filter kept, in characters.
const FILTER_CAP: usize = 64;

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

    fn step(self, by: isize) -> Focus {
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
    fn next(self) -> SortColumn {
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
    model: Model,
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
    live: bool,
    /// `q` was pressed while the program runs: the next key confirms or stays.
    pub(crate) confirm_quit: bool,
    /// A scenario's `[expect]` checks, once it finished.
    pub(crate) expectations: Vec<ExpectResult>,
    /// The terminal's size as last drawn (for keys that act on what is seen).
    pub(crate) screen: ratatui::layout::Rect,
    dirty: bool,
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

    /// `q`: quits, or, the first time while a live program still runs,
    /// asks (the footer says what the next key does).
    fn quit(&mut self) -> Flow {
        let runs = self.live
            && self.run_state == RunState::Running
            && self.model.active_deadlocks().next().is_none();
        if runs && !self.confirm_quit {
            self.confirm_quit = true;
            return Flow::Continue;
        }
        Flow::Quit
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

    /// Handles a key press: text for the filter prompt while it is open, an
    /// [`Action`] (through [`map_key`]) otherwise. The runtime should call this
    /// rather than `map_key` + [`on_action`](Self::on_action), so that `q`
    /// can be typed into the filter.
    pub fn on_key(&mut self, key: KeyEvent) -> Flow {
        if self.confirm_quit && key.kind == crossterm::event::KeyEventKind::Press {
            // `q` (or `y`) confirms; any other key stays.
            return match map_key(key) {
                Some(Action::Quit | Action::Interrupt) => Flow::Quit,
                _ if key.code == crossterm::event::KeyCode::Char('y') => Flow::Quit,
                _ => {
                    self.confirm_quit = false;
                    self.dirty = true;
                    Flow::Continue
                }
            };
        }
        if self.prompt.is_none() {
            return match map_key(key) {
                Some(action) => self.on_action(action),
                None => Flow::Continue,
            };
        }
        let Some(pk) = map_prompt_key(key) else {
            return Flow::Continue;
        };
        self.dirty = true;
        match pk {
            PromptKey::Quit => return Flow::Quit,
            PromptKey::Insert(c) => {
                if let Some(p) = self
                    .prompt
                    .as_mut()
                    .filter(|p| p.chars().count() < FILTER_CAP)
                {
                    p.push(c);
                }
            }
            PromptKey::Backspace => {
                if let Some(p) = self.prompt.as_mut() {
                    p.pop();
                }
            }
            PromptKey::Apply => self.apply_filter(),
            PromptKey::Cancel => self.prompt = None,
        }
        Flow::Continue
    }

    fn apply_filter(&mut self) {
        if let Some(p) = self.prompt.take() {
            self.filter = p.trim().to_owned();
            self.log_scroll = 0;
        }
    }

    /// Does what `action` asks. Returns [`Flow::Quit`] when the user quits.
    pub fn on_action(&mut self, action: Action) -> Flow {
        self.dirty = true;
        if self.prompt.is_some() {
            // Without on_key the prompt can still be closed.
            match action {
                Action::Quit | Action::Interrupt => return Flow::Quit,
                Action::Back => self.prompt = None,
                Action::ToggleDetails => self.apply_filter(),
                _ => {}
            }
            return Flow::Continue;
        }
        if self.help {
            match action {
                Action::Quit => return self.quit(),
                Action::Interrupt => return Flow::Quit,
                Action::Back | Action::ToggleHelp => self.help = false,
                _ => {}
            }
            return Flow::Continue;
        }
        let now = self.view().now;
        match action {
            Action::Quit => return self.quit(),
            Action::Interrupt => return Flow::Quit,
            Action::Back => self.details = false,
            Action::TogglePause => self.toggle_pause(),
            Action::ScrollLeft => {
                self.leave_story();
                self.time.scroll(-SCROLL_COLS, now);
            }
            Action::ScrollRight => {
                self.leave_story();
                self.time.scroll(SCROLL_COLS, now);
            }
            Action::ZoomIn => {
                self.leave_story();
                self.time.zoom_in();
            }
            Action::ZoomOut => {
                self.leave_story();
                self.time.zoom_out();
            }
            Action::Follow => self.time.follow(),
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-PAGE_ROWS),
            Action::PageDown => self.move_selection(PAGE_ROWS),
            Action::Home if self.focus == Focus::Timeline => {
                self.time.start_at(self.timeline.first_time());
            }
            Action::End if self.focus == Focus::Timeline => self.time.follow(),
            Action::Home => self.move_selection(isize::MIN / 2),
            Action::End => self.move_selection(isize::MAX / 2),
            Action::NextFocus => self.focus = self.focus.step(1),
            Action::PrevFocus => self.focus = self.focus.step(-1),
            Action::ToggleDetails => self.details = !self.details,
            Action::Filter => self.prompt = Some(self.filter.clone()),
            Action::CycleSort => self.sort = self.sort.next(),
            Action::ToggleHelp => self.help = true,
        }
        Flow::Continue
    }

    fn toggle_pause(&mut self) {
        self.frozen = match self.frozen.take() {
            Some(_) => None,
            None => Some(Box::new(Frozen {
                model: self.model.clone(),
                log: self.log.clone(),
                now: self.now,
            })),
        };
    }

    /// Moves the selection (or the scroll position) of the focused panel by `by` rows.
    pub(crate) fn move_selection(&mut self, by: isize) {
        let step = |i: usize, len: usize| -> usize {
            let target = (i as isize).saturating_add(by);
            target.clamp(0, len.saturating_sub(1) as isize) as usize
        };
        match self.focus {
            Focus::Timeline => {
                let len = self.view().model.threads().len();
                self.thread_sel = step(self.thread_sel.min(len.saturating_sub(1)), len);
            }
            Focus::Locks => {
                let order = ui::lock_order(self.view().model, self.sort, self.view().now);
                let at = ui::selected_lock_row(&order, self.lock_sel);
                self.lock_sel = order.get(step(at, order.len())).copied();
            }
            Focus::WaitFor => {
                let rows = ui::waitfor_targets(self.view().model);
                self.edge_sel = step(self.edge_sel.min(rows.len()), rows.len());
                if let Some(&Some(t)) = rows.get(self.edge_sel) {
                    self.thread_sel = t.index();
                }
            }
            // Up goes back in time: further from the newest line.
            Focus::Log => {
                let max = self.view().log.events().len().saturating_sub(1);
                self.log_scroll = self.log_scroll.saturating_add_signed(-by).min(max);
            }
            Focus::Output => {
                let max = self.output.len().saturating_sub(1);
                self.output_scroll = self.output_scroll.saturating_add_signed(-by).min(max);
            }
        }
    }

    /// Selects thread `id` (from a click on its lane).
    pub(crate) fn select_thread(&mut self, id: ThreadId) {
        self.thread_sel = id.index();
        self.focus = Focus::Timeline;
    }

    /// Selects lock `id` (from a click on its row).
    pub(crate) fn select_lock(&mut self, id: LockId) {
        self.lock_sel = Some(id);
        self.focus = Focus::Locks;
    }

    /// Handles a mouse event on a screen of size `area`: the wheel scrolls
    /// (time in the timeline, the list elsewhere), a left click focuses a panel
    /// and selects the lane or row under it.
    pub fn on_mouse(
        &mut self,
        mouse: crossterm::event::MouseEvent,
        area: ratatui::layout::Rect,
    ) -> Flow {
        super::mouse::handle(self, mouse, area)
    }

    /// Marks the screen for redrawing.
    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }
}
