//! What input does to the screen's state: keys (through the key table in
//! [`input`](super::input)), actions and the mouse.

use crossterm::event::KeyEvent;

use super::app::{App, Flow, Focus, RunState};
use super::input::{Action, PromptKey, map_key, map_prompt_key};
use super::rows;
use crate::event::{LockId, ThreadId};

/// How many columns a key press scrolls the timeline.
const SCROLL_COLS: i64 = 10;
/// How many rows PageUp / PageDown move.
const PAGE_ROWS: isize = 10;
/// The longest filter kept, in characters.
const FILTER_CAP: usize = 64;

impl App {
    /// `q`: quits, or, the first time while a live program still runs,
    /// asks (the footer says what the next key does).
    fn quit(&mut self) -> Flow {
        let runs = self.live
            && self.run_state == RunState::Running
            && self.model().active_deadlocks().next().is_none();
        if runs && !self.confirm_quit {
            self.confirm_quit = true;
            return Flow::Continue;
        }
        Flow::Quit
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
                let order = rows::lock_order(self.view().model, self.sort, self.view().now);
                let at = rows::selected_lock_row(&order, self.lock_sel);
                self.lock_sel = order.get(step(at, order.len())).copied();
            }
            Focus::WaitFor => {
                let rows = rows::waitfor_targets(self.view().model);
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
