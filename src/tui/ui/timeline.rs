//! The timeline: one lane per thread, time flowing right, an axis with units.
//!
//! Each cell shows the thread's dominant state in its slice of time (waiting
//! beats condvar waiting beats holding beats running) by symbol and colour;
//! a run of cells long enough gets the lock's name written inside it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::{lock_name, put, thread_name, unique, width};
use super::{focused, list_offset, panel};
use crate::event::{LockId, Nanos, ThreadId};
use crate::model::{CellState, Model, format_duration};
use crate::tui::app::{App, Focus};
use crate::tui::theme::{
    SYM_BLOCKED, SYM_CONDWAIT, SYM_DEADLOCKED, SYM_HOLDING, SYM_NONE, SYM_PANICKED, SYM_PARKED,
    SYM_RUNNING, SYM_WAITING, Theme,
};
use crate::tui::timeview::StoryKind;
use legend::legend;

/// The widest a lane's name column gets.
const MAX_NAME: usize = 18;
/// The fewest columns between two axis ticks.
const MIN_TICK_GAP: u64 = 12;

/// Draws the timeline panel.
pub(super) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let view = app.view();
    let threads = view.model.threads();
    let is_focused = focused(app, Focus::Timeline);
    let inner = inner(area);
    let (name_w, cols) = geometry(app, inner);
    let story = app.story();
    let (from, ns) = app.time.window(cols, view.now, story);
    let mut title = vec![Span::raw(" Timeline ")];
    title.push(Span::styled(
        format!("{}/col ", format_duration(ns)),
        t.dim(),
    ));
    title.push(match story {
        _ if !app.time.following() => Span::styled("· scrolled (f follows) ", t.warning()),
        Some(story) => Span::styled(
            match story.kind {
                StoryKind::Deadlock => "· the deadlock, whole ",
                StoryKind::Finished => "· the whole run ",
                StoryKind::Idle => "· idle: the run so far ",
            },
            t.dim(),
        ),
        None => Span::styled("· following ", t.dim()),
    });
    let stepping = app.step_panel.as_ref().is_some_and(|p| p.on);
    // A wait for another thread (a join, a channel, a barrier), now or in
    // the lanes drawn, brings its symbol into the legend.
    let blocking = threads
        .iter()
        .any(|th| matches!(th.status, crate::model::ThreadStatus::Blocked { .. }));
    let legend_cols = usize::from(area.width.saturating_sub(2));
    let block = panel(t, Line::from(title), is_focused).title_bottom(legend(
        t,
        stepping,
        blocking,
        legend_cols,
    ));
    block.render(area, buf);
    if inner.height < 2 || inner.width < 8 {
        return;
    }
    if threads.is_empty() {
        put(
            buf,
            inner.x + 1,
            inner.y,
            "no threads yet",
            usize::from(inner.width),
            t.dim(),
        );
        return;
    }
    let names: Vec<String> = threads
        .iter()
        .map(|th| thread_name(view.model, th.id))
        .collect();
    let column: Vec<&str> = names.iter().map(String::as_str).collect();
    let cells_x = inner.x + name_w as u16 + 2;
    let lanes_h = usize::from(inner.height - 1);
    let selected = app.thread_sel.min(threads.len() - 1);
    let offset = list_offset(selected, threads.len(), lanes_h);
    let in_cycle = view.model.threads_in_cycles();
    let mut cells = vec![CellState::Absent; usize::from(cols)];
    let mut drawn_blocked = false;
    let live_cols = match view.now.checked_sub(from) {
        // Columns that start before `now`.
        Some(d) => usize::try_from(d.div_ceil(ns))
            .unwrap_or(usize::MAX)
            .min(cells.len()),
        None => 0,
    };
    for (row, th) in threads.iter().enumerate().skip(offset).take(lanes_h) {
        let y = inner.y + (row - offset) as u16;
        let mut style = if in_cycle.binary_search(&th.id).is_ok() {
            t.deadlock()
        } else if th.status.is_done() {
            t.dim()
        } else {
            t.text()
        };
        if row == selected {
            style = style.patch(t.selected(is_focused));
            put(buf, inner.x, y, "▶", 1, t.bold());
        }
        // Cut to what tells it from the other lanes, never to a shared prefix.
        let name = unique(&names[row], &column, name_w);
        put(buf, inner.x + 1, y, &name, name_w, style);
        // Nothing after `now` shows, even if recorded (a paused view's future).
        let (past, future) = cells.split_at_mut(live_cols);
        app.timeline.cells(th.id, from, ns, view.now, past);
        future.fill(CellState::Absent);
        let stuck = stuck_from(view.model, th.id, from, ns);
        render_cells(t, view.model, &cells, stuck, (cells_x, y), buf);
        drawn_blocked |= cells.contains(&CellState::Blocked);
        if let Some(at) = parked_from(app, th, from, ns) {
            render_parked(t, &cells, at, (cells_x, y), buf);
        }
    }
    if drawn_blocked && !blocking {
        // Over the legend drawn with the border: the same, one item longer.
        let bottom = Rect::new(
            area.x + 1,
            area.bottom() - 1,
            area.width.saturating_sub(2),
            1,
        );
        legend(t, stepping, true, legend_cols).render(bottom, buf);
    }
    let hidden = threads.len().saturating_sub(lanes_h);
    if hidden > 0 {
        let note = format!("{}–{} of {}", offset + 1, offset + lanes_h, threads.len());
        put(buf, inner.x, inner.bottom() - 1, &note, name_w + 1, t.dim());
    }
    render_axis(t, from, ns, cells_x, inner.bottom() - 1, cols, buf);
}

/// The panel's inside.
fn inner(area: Rect) -> Rect {
    Rect::new(
        area.x.saturating_add(1),
        area.y.saturating_add(1),
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    )
}

/// The width of the lanes' name column and the number of time columns in
/// the panel's inside `inner`.
fn geometry(app: &App, inner: Rect) -> (usize, u16) {
    let model = app.view().model;
    let longest = model
        .threads()
        .iter()
        .map(|th| width(&thread_name(model, th.id)))
        .max()
        .unwrap_or(0);
    let name_w = longest
        .clamp(4, MAX_NAME)
        .min(usize::from(inner.width) / 4)
        .max(1);
    let cells_x = inner.x.saturating_add(name_w as u16 + 2);
    (name_w, inner.right().saturating_sub(cells_x))
}

/// The number of time columns the timeline has on a screen of size `screen`.
pub(crate) fn timeline_cols(app: &App, screen: Rect) -> u16 {
    super::screen_layout(app, screen).map_or(screen.width, |l| geometry(app, inner(l.timeline)).1)
}

/// The first column where `th`, stopped at the step gate, has been parked
/// (since its last change), if it is.
fn parked_from(app: &App, th: &crate::model::ThreadState, from: Nanos, ns: Nanos) -> Option<usize> {
    let panel = app.step_panel.as_ref()?;
    if !panel.parked.contains(&th.name) {
        return None;
    }
    let since = app
        .timeline
        .spans(th.id)
        .last()
        .map_or(th.started_at, |s| s.end);
    usize::try_from(since.saturating_sub(from) / ns.max(1)).ok()
}

/// Redraws the running cells of a parked lane from column `at` on.
fn render_parked(t: Theme, cells: &[CellState], at: usize, (x, y): (u16, u16), buf: &mut Buffer) {
    for (i, &cell) in cells.iter().enumerate().skip(at) {
        if cell != CellState::Running {
            continue;
        }
        let Some(cx) = u16::try_from(i).ok().and_then(|d| x.checked_add(d)) else {
            return;
        };
        if let Some(c) = buf.cell_mut((cx, y)) {
            c.set_symbol(SYM_PARKED).set_style(t.parked());
        }
    }
}

/// What a cell looks like: its symbol, its style, and the lock to name in a long run.
fn look(t: Theme, cell: CellState) -> (&'static str, Style, Option<LockId>) {
    match cell {
        CellState::Absent | CellState::Finished => (SYM_NONE, t.text(), None),
        CellState::Running => (SYM_RUNNING, t.running(), None),
        CellState::Holding(l) => (SYM_HOLDING, t.holding(), Some(l)),
        CellState::CondWait(l) => (SYM_CONDWAIT, t.cond_wait(), Some(l)),
        CellState::Waiting(l) => (SYM_WAITING, t.waiting(), Some(l)),
        CellState::Blocked => (SYM_BLOCKED, t.waiting(), None),
        CellState::Panicked => (SYM_PANICKED, t.panicked(), None),
    }
}

/// Where `thread`'s wait in a deadlock cycle starts, as (first column, lock),
/// in a window from `from` at `ns` per column.
fn stuck_from(model: &Model, thread: ThreadId, from: Nanos, ns: Nanos) -> Option<(usize, LockId)> {
    let edge = model
        .active_deadlocks()
        .flat_map(|d| d.edges.iter())
        .find(|e| e.thread == thread)?;
    let col = edge.since.saturating_sub(from) / ns.max(1);
    Some((usize::try_from(col).unwrap_or(usize::MAX), edge.lock))
}

/// Draws one lane's cells at (`x`, `y`), with lock names inside runs that
/// fit them; from `stuck`'s column on, a wait for its lock is drawn as
/// deadlocked.
pub(super) fn render_cells(
    t: Theme,
    model: &Model,
    cells: &[CellState],
    stuck: Option<(usize, LockId)>,
    (x, y): (u16, u16),
    buf: &mut Buffer,
) {
    let area = buf.area;
    if y < area.top() || y >= area.bottom() {
        return;
    }
    let mut i = 0;
    while i < cells.len() {
        let cell = cells[i];
        // A wait in the cycle: for its lock, or for a thread (a join, a
        // channel, a barrier: drawn with its own symbol, in the deadlock colour).
        let is_stuck = |j: usize, c: CellState| match (stuck, c) {
            (Some((at, l)), CellState::Waiting(w)) => j >= at && w == l,
            (Some((at, _)), CellState::Blocked) => j >= at,
            _ => false,
        };
        let stuck_here = is_stuck(i, cell);
        let run = cells[i..]
            .iter()
            .enumerate()
            .take_while(|&(k, &c)| c == cell && is_stuck(i + k, c) == stuck_here)
            .count();
        let (sym, style, lock) = match look(t, cell) {
            (SYM_BLOCKED, _, lock) if stuck_here => (SYM_BLOCKED, t.deadlocked(), lock),
            (_, _, lock) if stuck_here => (SYM_DEADLOCKED, t.deadlocked(), lock),
            other => other,
        };
        for j in 0..run {
            let Some(cx) = u16::try_from(i + j).ok().and_then(|d| x.checked_add(d)) else {
                return;
            };
            // A panic is marked once, where the lane (or the window) meets it.
            let sym = if cell == CellState::Panicked && j > 0 {
                SYM_NONE
            } else {
                sym
            };
            if let Some(c) = buf.cell_mut((cx, y)) {
                c.set_symbol(sym).set_style(style);
            }
        }
        if let Some(lock) = lock {
            label(t, model, lock, style, (x, y), (i, run), buf);
        }
        i += run;
    }
}

/// Writes the name of `lock` inside the run of `run.1` cells starting at cell
/// `run.0`, if the name and a cell either side fit.
fn label(
    t: Theme,
    model: &Model,
    lock: LockId,
    style: Style,
    (x, y): (u16, u16),
    (start, len): (usize, usize),
    buf: &mut Buffer,
) {
    if len < 4 {
        return;
    }
    let name = lock_name(model, lock);
    if width(&name) + 2 > len {
        return;
    }
    if let Some(lx) = u16::try_from(start + 1).ok().and_then(|d| x.checked_add(d)) {
        put(buf, lx, y, &name, len - 2, t.label_on(style));
    }
}

/// Draws the time axis: ticks at round times, labelled with units, at least
/// [`MIN_TICK_GAP`] columns apart.
fn render_axis(t: Theme, from: Nanos, ns: Nanos, x: u16, y: u16, cols: u16, buf: &mut Buffer) {
    let step = tick_step(ns);
    let end = from.saturating_add(Nanos::from(cols).saturating_mul(ns));
    let mut tick = from.div_ceil(step).saturating_mul(step);
    while tick < end {
        let col = (tick - from) / ns;
        let label = if tick == 0 {
            "0".to_owned()
        } else {
            format_duration(tick)
        };
        let room = usize::from(cols).saturating_sub(col as usize);
        // A label is shown whole or not at all.
        if width(&label) < room {
            let after = put(buf, x + col as u16, y, "╵", room, t.dim());
            put(buf, after, y, &label, room - 1, t.dim());
        }
        tick = match tick.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
}

/// The distance between ticks: the smallest 1-2-5 multiple of a unit that
/// spans at least [`MIN_TICK_GAP`] columns of `ns` each.
pub(super) fn tick_step(ns: Nanos) -> Nanos {
    let wanted = ns.saturating_mul(MIN_TICK_GAP);
    let mut unit: Nanos = 1;
    loop {
        for m in [1, 2, 5] {
            let step = unit.saturating_mul(m);
            if step >= wanted || step == u64::MAX {
                return step;
            }
        }
        unit = unit.saturating_mul(10);
    }
}

/// The thread whose lane is at row `row` of the panel `area`, if any.
pub(crate) fn lane_at(app: &App, area: Rect, row: u16) -> Option<ThreadId> {
    let inner = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    if row < inner.y || row + 1 >= inner.bottom() {
        return None;
    }
    let threads = app.view().model.threads();
    let lanes_h = usize::from(inner.height.saturating_sub(1));
    let selected = app.thread_sel.min(threads.len().saturating_sub(1));
    let offset = list_offset(selected, threads.len(), lanes_h);
    threads
        .get(offset + usize::from(row - inner.y))
        .map(|th| th.id)
}

mod legend;
#[cfg(test)]
mod tests;
