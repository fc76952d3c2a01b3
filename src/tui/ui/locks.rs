//! The lock table: who holds each lock, who waits for it, how contended it is.

use std::cmp::Reverse;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::{
    count, count_short, fit, fit_middle, lock_name, natural_cmp, put, thread_name, width,
};
use super::{focused, list_offset, panel};
use crate::event::{LockId, LockKind, Mode, Nanos};
use crate::model::{LockState, LockStats, Model, format_duration};

use crate::tui::app::{App, Focus, SortColumn};

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

/// The locks in table order for `sort` at time `now`: by name in natural
/// order (`fork 2` before `fork 10`, case aside), else by the live statistic
/// descending, ties by id.
pub(crate) fn lock_order(model: &Model, sort: SortColumn, now: Nanos) -> Vec<LockId> {
    let mut locks: Vec<(&LockState, Live)> =
        model.locks().iter().map(|l| (l, live(l, now))).collect();
    match sort {
        SortColumn::Name => {
            locks.sort_by(|(a, _), (b, _)| natural_cmp(&a.name, &b.name).then(a.id.cmp(&b.id)));
        }
        SortColumn::Acquisitions => {
            locks.sort_by_key(|(l, s)| (Reverse(s.stats.acquisitions), l.id))
        }
        SortColumn::Contention => locks.sort_by(|(a, sa), (b, sb)| {
            sb.contention_pct()
                .total_cmp(&sa.contention_pct())
                .then(a.id.cmp(&b.id))
        }),
        SortColumn::MaxWait => locks.sort_by_key(|(l, s)| (Reverse(s.stats.max_wait), l.id)),
    }
    locks.into_iter().map(|(l, _)| l.id).collect()
}

/// A lock's statistics with what goes on now counted in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Live {
    /// Counters as recorded, times with the open holds and waits so far.
    pub(crate) stats: LockStats,
    /// Threads waiting for it now.
    pub(crate) waiting: u64,
}

impl Live {
    /// Contended requests among all requests, in percent: a thread still
    /// waiting counts as a contended request (a lock deadlocked for seconds
    /// is contended, not `0.0`).
    pub(crate) fn contention_pct(&self) -> f64 {
        let requests = self.stats.acquisitions + self.waiting;
        if requests == 0 {
            0.0
        } else {
            (self.stats.contended + self.waiting) as f64 * 100.0 / requests as f64
        }
    }

    /// Whether any request had to wait, or waits now.
    pub(crate) fn any_wait(&self) -> bool {
        self.stats.contended + self.waiting > 0
    }
}

/// `lock`'s statistics at `now`: open waits and holds add their time so far
/// to the totals and maxima, so a wait that never ends is the longest wait.
pub(crate) fn live(lock: &LockState, now: Nanos) -> Live {
    let mut s = lock.stats;
    for w in &lock.waiters {
        let waited = now.saturating_sub(w.since);
        s.total_wait = s.total_wait.saturating_add(waited);
        s.max_wait = s.max_wait.max(waited);
    }
    for h in &lock.holders {
        let held = now.saturating_sub(h.since);
        s.total_hold = s.total_hold.saturating_add(held);
        s.max_hold = s.max_hold.max(held);
    }
    Live {
        stats: s,
        waiting: lock.waiters.len() as u64,
    }
}

/// The row of the selected lock in `order` (the first row when none is selected).
pub(crate) fn selected_lock_row(order: &[LockId], selected: Option<LockId>) -> usize {
    selected
        .and_then(|id| order.iter().position(|&l| l == id))
        .unwrap_or(0)
}

/// The widths of the columns that fit in `width`, in display order (0:
/// hidden), with the name column `name` wide (clamped) and the spare room
/// shared by the holder and waiter columns (or given to the name column when
/// those are hidden).
fn widths(width: u16, name: u16) -> [u16; 7] {
    let mins = COLUMNS.map(|c| {
        if c.0 == Col::Name {
            name.clamp(NAME_MIN, NAME_MAX)
        } else {
            c.2
        }
    });
    let mut shown = [false; 7];
    let mut used = 0u16;
    for col in PRIORITY {
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
    let widths = widths(inner.width, u16::try_from(longest).unwrap_or(NAME_MAX));
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
    for (row, &id) in order.iter().enumerate().skip(offset).take(visible) {
        let Some(lock) = model.lock(id) else { continue };
        let y = inner.y + 1 + (row - offset) as u16;
        let in_cycle = cycle.binary_search(&id).is_ok();
        let mut cells = row_cells(app, model, lock, in_cycle);
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

/// The cells of one lock's row, styled.
fn row_cells(app: &App, model: &Model, lock: &LockState, in_cycle: bool) -> Vec<(String, Style)> {
    let t = app.theme;
    let live = live(lock, app.view().now);
    let s = &live.stats;
    let condvar = lock.kind == LockKind::Condvar;
    let holders = if condvar {
        "—".to_owned()
    } else {
        let names: Vec<String> = lock
            .holders
            .iter()
            .map(|h| match (lock.kind, h.mode) {
                (LockKind::RwLock, Mode::Shared) => format!("{} (r)", thread_name(model, h.thread)),
                _ => thread_name(model, h.thread),
            })
            .collect();
        names.join(", ")
    };
    let waiters: Vec<String> = if condvar {
        lock.cond_waiters
            .iter()
            .map(|&th| thread_name(model, th))
            .collect()
    } else {
        lock.waiters
            .iter()
            .map(|w| thread_name(model, w.thread))
            .collect()
    };
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::fixtures::{MS, Script, abba};

    #[test]
    fn ongoing_waits_and_holds_count_and_bring_stuck_locks_to_the_top() {
        let mut s = Script::new();
        s.lock(0, "free", LockKind::Mutex)
            .lock(1, "A", LockKind::Mutex)
            .thread(0, "t0")
            .thread(1, "t1");
        // "free": ten quick uncontended holds.
        for i in 0..10 {
            s.at(i * MS).acquire(0, 0).at(i * MS + 1).release(0, 0);
        }
        // "A": held from 10 ms, waited for from 20 ms, forever.
        s.at(10 * MS).acquire(0, 1).at(20 * MS).request(1, 1);
        let mut model = Model::new();
        for ev in s.build() {
            model.apply(&ev);
        }
        let a = &model.locks()[1];
        assert_eq!(a.stats.contended, 0, "the model counts closed waits only");
        let at = |now| live(a, now);
        let now = at(30 * MS);
        assert_eq!((now.stats.acquisitions, now.waiting), (1, 1));
        assert_eq!(now.contention_pct(), 50.0);
        assert_eq!(now.stats.max_wait, 10 * MS);
        assert_eq!(
            at(5_000 * MS).stats.max_wait,
            4_980 * MS,
            "it grows with the clock"
        );
        assert_eq!(
            (now.stats.total_hold, now.stats.max_hold),
            (20 * MS, 20 * MS)
        );
        assert_eq!(live(&model.locks()[0], 30 * MS).contention_pct(), 0.0);
        // Sorted by max wait or contention, the stuck lock comes first.
        for sort in [SortColumn::MaxWait, SortColumn::Contention] {
            assert_eq!(lock_order(&model, sort, 30 * MS), [LockId(1), LockId(0)]);
        }
    }

    #[test]
    fn a_deadlocked_table_shows_contention_and_the_wait_so_far() {
        let mut app = crate::tui::App::new(crate::tui::AppConfig {
            title: "abba".into(),
            color: false,
            history_spans: 1_000,
        });
        app.ingest(&abba());
        app.tick(2_000 * MS, crate::TransportStats::default());
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, 5));
        render(&app, buf.area, &mut buf);
        let row: String = (0..70).map(|x| buf[(x, 2)].symbol()).collect();
        // A: acquired once, waited for once (still waiting, since 11.3 ms).
        assert!(row.contains(" 1   50.0") && row.contains("1.988s"), "{row}");
    }

    #[test]
    fn narrow_cells_keep_the_ends_of_names_and_counts_stay_whole() {
        assert_eq!(
            fit_middle("philosopher 3, philosopher 4", 12, false),
            "philo…pher 4"
        );
        assert_eq!(fit_middle("philosopher 3", 8, false), "phi…er 3");
        assert_eq!(count_short(999_999), "999,999");
        assert_eq!(count_short(2_700_000), "2.70M");
        assert_eq!(count_short(3_100_000_000), "3.10G");
        assert!(count_short(u64::MAX).chars().count() <= 12);
    }

    #[test]
    fn names_sort_naturally() {
        let mut s = Script::new();
        for (i, name) in ["fork 10", "gate", "M", "fork 2"].into_iter().enumerate() {
            s.lock(i as u32, name, LockKind::Mutex);
        }
        let mut model = Model::new();
        for ev in s.build() {
            model.apply(&ev);
        }
        let names: Vec<String> = lock_order(&model, SortColumn::Name, 0)
            .into_iter()
            .map(|id| model.lock_name(id).to_owned())
            .collect();
        assert_eq!(names, ["fork 2", "fork 10", "gate", "M"]);
    }

    #[test]
    fn narrow_tables_drop_the_least_useful_columns() {
        let w = widths(34, 6);
        assert!(w[0] >= 6 && w[2] >= 8 && w[3] >= 8, "{w:?}");
        assert_eq!(w[1], 0, "kind goes first: {w:?}");
        let total: u16 = w.iter().sum::<u16>() + w.iter().filter(|&&x| x > 0).count() as u16 - 1;
        assert_eq!(total, 34);
        let wide = widths(120, 6);
        assert!(wide.iter().all(|&x| x > 0), "{wide:?}");
        assert_eq!(wide.iter().sum::<u16>() + 6, 120);
        assert!(
            wide[2].abs_diff(wide[3]) <= 1,
            "holders and waiters share the room"
        );
        assert_eq!(widths(120, 100)[0], NAME_MAX);
        assert_eq!(widths(3, 6), [0; 7]);
        assert_eq!(widths(10, 6)[0], 10, "the name alone takes it all");
    }
}
