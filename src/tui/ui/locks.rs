//! The lock table: who holds each lock, who waits for it, how contended it is.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::{
    count, count_short, fit, fit_middle, lock_name, put, thread_name, unique, unique_list, width,
};
use super::{focused, list_offset, panel};
use crate::event::{LockId, LockKind, Mode};
use crate::model::{LockState, Model, format_duration};

use crate::tui::app::{App, Focus, SortColumn};
use crate::tui::rows::{live, lock_order, selected_lock_row};

/// A column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Name,
    Kind,
    Holders,
    Waiters,
    Acquisitions,
    Contention,
    MaxWait,
}

/// Columns in display order: (column, heading, minimum width, grows, right-aligned).
/// The name column's width is its longest name's, within [`NAME_MIN`, `NAME_MAX`].
const COLUMNS: [(Col, &str, u16, bool, bool); 7] = [
    (Col::Name, "lock", NAME_MIN, false, false),
    (Col::Kind, "kind", 7, false, false),
    (Col::Holders, "held by", 8, true, false),
    (Col::Waiters, "waiters", 8, true, false),
    (Col::Acquisitions, "acq", 7, false, true),
    (Col::Contention, "cont%", 6, false, true),
    (Col::MaxWait, "max wait", 9, false, true),
];

/// The narrowest and widest the name column gets.
const NAME_MIN: u16 = 6;
const NAME_MAX: u16 = 24;

/// Which columns are dropped first when the panel is narrow: the last first.
const PRIORITY: [Col; 7] = [
    Col::Name,
    Col::Holders,
    Col::Waiters,
    Col::Contention,
    Col::Acquisitions,
    Col::MaxWait,
    Col::Kind,
];

/// The widths of the columns that fit in `width`, in display order (0:
/// hidden), with the name column `name` wide (clamped) and the spare room
/// shared by the holder and waiter columns (or given to the name column when
/// those are hidden). The column the table is sorted by comes right after the
/// name: a sort shows what it sorts by.
fn widths(width: u16, name: u16, sorted: Col) -> [u16; 7] {
    let mut priority = PRIORITY.to_vec();
    if let Some(at) = priority.iter().position(|&c| c == sorted && c != Col::Name) {
        let col = priority.remove(at);
        priority.insert(1.min(priority.len()), col);
    }
    let mins = COLUMNS.map(|c| {
        if c.0 == Col::Name {
            name.clamp(NAME_MIN, NAME_MAX)
        } else {
            c.2
        }
    });
    let mut shown = [false; 7];
    let mut used = 0u16;
    for col in priority {
        let i = COLUMNS.iter().position(|c| c.0 == col).unwrap_or(0);
        let need = mins[i] + u16::from(used > 0);
        if used + need <= width {
            used += need;
            shown[i] = true;
        }
    }
    let mut grows: Vec<usize> = (0..7).filter(|&i| shown[i] && COLUMNS[i].3).collect();
    if grows.is_empty() && shown[0] {
        grows.push(0);
    }
    let spare = width - used;
    let mut out = [0u16; 7];
    for i in 0..7 {
        if shown[i] {
            out[i] = mins[i];
        }
    }
    let n = grows.len() as u16;
    for (k, &i) in grows.iter().enumerate() {
        // The last growing column takes the remainder.
        out[i] += if k + 1 == grows.len() {
            spare - spare / n * (n - 1)
        } else {
            spare / n
        };
    }
    out
}

/// Draws the lock table.
pub(super) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let model = app.view().model;
    let is_focused = focused(app, Focus::Locks);
    let sort = match app.sort {
        SortColumn::Name => "name",
        SortColumn::Acquisitions => "acq",
        SortColumn::Contention => "cont%",
        SortColumn::MaxWait => "max wait",
    };
    let title = Line::from(vec![
        Span::raw(format!(" Locks ({}) ", model.locks().len())),
        Span::styled(format!("sort: {sort} (o) "), t.dim()),
    ]);
    let block = panel(t, title, is_focused);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 2 || inner.width < 8 {
        return;
    }
    let longest = model
        .locks()
        .iter()
        .map(|l| width(&lock_name(model, l.id)))
        .max()
        .unwrap_or(0);
    let sorted = match app.sort {
        SortColumn::Name => Col::Name,
        SortColumn::Acquisitions => Col::Acquisitions,
        SortColumn::Contention => Col::Contention,
        SortColumn::MaxWait => Col::MaxWait,
    };
    let widths = widths(
        inner.width,
        u16::try_from(longest).unwrap_or(NAME_MAX),
        sorted,
    );
    let sort_col = match app.sort {
        SortColumn::Name => Col::Name,
        SortColumn::Acquisitions => Col::Acquisitions,
        SortColumn::Contention => Col::Contention,
        SortColumn::MaxWait => Col::MaxWait,
    };
    let headings: Vec<String> = COLUMNS
        .iter()
        .map(|c| {
            if c.0 == sort_col {
                format!("{}▼", c.1)
            } else {
                c.1.to_owned()
            }
        })
        .collect();
    let heading_cells: Vec<(String, Style)> = headings.into_iter().map(|h| (h, t.bold())).collect();
    render_row(&widths, &heading_cells, inner.x, inner.y, buf);
    let order = lock_order(model, app.sort, app.view().now);
    if order.is_empty() {
        put(
            buf,
            inner.x,
            inner.y + 1,
            "no locks yet",
            usize::from(inner.width),
            t.dim(),
        );
        return;
    }
    let visible = usize::from(inner.height - 1);
    let selected = selected_lock_row(&order, app.lock_sel);
    let offset = list_offset(selected, order.len(), visible);
    let cycle = model.locks_in_cycles();
    let columns = NameColumns::new(model, &order);
    for (row, &id) in order.iter().enumerate().skip(offset).take(visible) {
        let Some(lock) = model.lock(id) else { continue };
        let y = inner.y + 1 + (row - offset) as u16;
        let in_cycle = cycle.binary_search(&id).is_ok();
        let mut cells = row_cells(app, model, lock, in_cycle);
        columns.fit(&mut cells, &widths, model, lock);
        if row == selected {
            for (_, s) in &mut cells {
                *s = s.patch(t.selected(is_focused));
            }
            // Fill the gaps between columns too, so the selection reads as a bar.
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                t.selected(is_focused),
            );
        }
        render_row(&widths, &cells, inner.x, y, buf);
    }
}

/// A lock's holders as the table names them (`reader (r)` for a shared
/// holder of an RwLock).
fn holders(model: &Model, lock: &LockState) -> Vec<String> {
    lock.holders
        .iter()
        .map(|h| match (lock.kind, h.mode) {
            (LockKind::RwLock, Mode::Shared) => format!("{} (r)", thread_name(model, h.thread)),
            _ => thread_name(model, h.thread),
        })
        .collect()
}

/// The threads waiting for a lock (or on a condvar).
fn waiters(model: &Model, lock: &LockState) -> Vec<String> {
    if lock.kind == LockKind::Condvar {
        let waiting = lock.cond_waiters.iter();
        waiting.map(|&th| thread_name(model, th)).collect()
    } else {
        let waiting = lock.waiters.iter();
        waiting.map(|w| thread_name(model, w.thread)).collect()
    }
}

/// Every name shown in the name, held-by and waiters columns, over all
/// rows: a name too wide for its column is cut to a form that tells it apart
/// from the others of its column.
struct NameColumns {
    locks: Vec<String>,
    holders: Vec<String>,
    waiters: Vec<String>,
}

impl NameColumns {
    fn new(model: &Model, order: &[LockId]) -> NameColumns {
        let mut columns = NameColumns {
            locks: Vec::new(),
            holders: Vec::new(),
            waiters: Vec::new(),
        };
        for lock in order.iter().filter_map(|&id| model.lock(id)) {
            columns.locks.push(lock_name(model, lock.id));
            columns.holders.extend(holders(model, lock));
            columns.waiters.extend(waiters(model, lock));
        }
        for names in [
            &mut columns.locks,
            &mut columns.holders,
            &mut columns.waiters,
        ] {
            names.sort_unstable();
            names.dedup();
        }
        columns
    }

    /// Cuts the row's name cells (from [`row_cells`]) to their columns.
    fn fit(
        &self,
        cells: &mut [(String, Style)],
        widths: &[u16; 7],
        model: &Model,
        lock: &LockState,
    ) {
        fn column(names: &[String]) -> Vec<&str> {
            names.iter().map(String::as_str).collect()
        }
        let at = |col: Col| COLUMNS.iter().position(|c| c.0 == col).unwrap_or(0);
        let w = |col: Col| usize::from(widths[at(col)]);
        let name = &mut cells[at(Col::Name)].0;
        *name = unique(name, &column(&self.locks), w(Col::Name)).into_owned();
        if lock.kind != LockKind::Condvar {
            let items = holders(model, lock);
            cells[at(Col::Holders)].0 =
                unique_list(&items, &column(&self.holders), w(Col::Holders));
        }
        let items = waiters(model, lock);
        cells[at(Col::Waiters)].0 = unique_list(&items, &column(&self.waiters), w(Col::Waiters));
    }
}

/// The cells of one lock's row, styled.
fn row_cells(app: &App, model: &Model, lock: &LockState, in_cycle: bool) -> Vec<(String, Style)> {
    let t = app.theme;
    let live = live(lock, app.view().now);
    let s = &live.stats;
    let condvar = lock.kind == LockKind::Condvar;
    let holders = if condvar {
        "—".to_owned()
    } else {
        holders(model, lock).join(", ")
    };
    let waiters = waiters(model, lock);
    let name_style = if in_cycle { t.deadlock() } else { t.text() };
    let waiter_style = if in_cycle {
        t.deadlock()
    } else if condvar {
        t.cond_wait()
    } else {
        t.waiting()
    };
    let (acq, cont, max_wait) = if condvar {
        (count(s.waits), String::new(), String::new())
    } else {
        (
            count_short(s.acquisitions),
            format!("{:.1}", live.contention_pct()),
            if !live.any_wait() {
                "-".to_owned()
            } else {
                format_duration(s.max_wait)
            },
        )
    };
    vec![
        (lock_name(model, lock.id), name_style),
        (lock.kind.to_string(), t.dim()),
        (holders, t.holding()),
        (waiters.join(", "), waiter_style),
        (acq, t.text()),
        (cont, t.text()),
        (max_wait, t.text()),
    ]
}

/// Writes one row of cells into the columns of `widths` at (`x`, `y`).
fn render_row(widths: &[u16; 7], cells: &[(String, Style)], x: u16, y: u16, buf: &mut Buffer) {
    let mut cx = x;
    for (i, (w, (text, style))) in widths.iter().zip(cells).enumerate() {
        if *w == 0 {
            continue;
        }
        let right = COLUMNS[i].4;
        // Names are cut in the middle (`phi…er 3`), never to a shared prefix.
        let text = if right {
            fit(text, usize::from(*w), right)
        } else {
            fit_middle(text, usize::from(*w), right)
        };
        put(buf, cx, y, &text, usize::from(*w), *style);
        cx = cx.saturating_add(*w + 1);
    }
}

/// The lock in row `row` of the table drawn in `area`, if any.
pub(crate) fn lock_at(app: &App, area: Rect, row: u16) -> Option<LockId> {
    let first = area.y + 2; // border, heading
    let visible = usize::from(area.height.saturating_sub(3));
    if row < first || usize::from(row - first) >= visible {
        return None;
    }
    let order = lock_order(app.view().model, app.sort, app.view().now);
    let selected = selected_lock_row(&order, app.lock_sel);
    let offset = list_offset(selected, order.len(), visible);
    order.get(offset + usize::from(row - first)).copied()
}

#[cfg(test)]
mod tests;
