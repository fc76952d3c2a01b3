//! The wait-for panel: who waits for whom right now, every deadlock cycle in
//! red under a `DEADLOCK:` banner, and potential deadlocks (lock-order
//! cycles) apart, in the warning colour.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::{lock_name, thread_name, wrap, wrap_groups};
use super::{focused, list_offset, panel};
use crate::event::{LockId, Mode, ThreadId};
use crate::model::{
    EdgeReason, Model, PotentialDeadlock, PotentialKind, STALL_GRACE_NS, StallReport, ThreadStatus,
    WaitEdge,
};
use crate::tui::app::{App, Focus};
use crate::tui::theme::Theme;

/// One item of the panel, before it is laid out in lines.
enum Entry<'a> {
    /// An active deadlock: its threads and locks in cycle order.
    Banner(Vec<ThreadId>, Vec<LockId>),
    /// A wait-for edge, and whether it is part of an active cycle.
    Edge(WaitEdge, bool),
    /// A condvar wait (no edge: nobody knows who will notify).
    CondWait(ThreadId, LockId, LockId),
    /// A bounded lock wait (no edge: it cannot hang).
    TimedWait(ThreadId, LockId),
    /// Nobody waits.
    Idle,
    /// A lock-order cycle.
    Potential(&'a PotentialDeadlock),
}

impl Entry<'_> {
    /// Whether ↑/↓ stop on this entry.
    fn selectable(&self) -> bool {
        !matches!(self, Entry::Banner(..) | Entry::Idle)
    }

    /// The thread whose details Enter shows for this entry.
    fn thread(&self) -> Option<ThreadId> {
        match *self {
            Entry::Edge(e, _) => Some(e.thread),
            Entry::CondWait(t, ..) | Entry::TimedWait(t, _) => Some(t),
            Entry::Potential(p) => p.edges.first().map(|e| e.thread),
            Entry::Banner(..) | Entry::Idle => None,
        }
    }
}

fn entries(model: &Model) -> Vec<Entry<'_>> {
    let active: Vec<_> = model.active_deadlocks().collect();
    let mut out: Vec<Entry> = active
        .iter()
        .map(|d| Entry::Banner(d.threads().collect(), d.locks().collect()))
        .collect();
    let edges = model.wait_for_edges();
    let waits = out.len();
    for e in edges {
        let in_cycle = active.iter().any(|d| {
            d.edges
                .iter()
                .any(|c| c.thread == e.thread && c.holder == e.holder && c.lock == e.lock)
        });
        out.push(Entry::Edge(e, in_cycle));
    }
    for th in model.threads() {
        match th.status {
            ThreadStatus::CondWait { condvar, mutex, .. } => {
                out.push(Entry::CondWait(th.id, condvar, mutex));
            }
            ThreadStatus::Waiting {
                lock, timed: true, ..
            } => out.push(Entry::TimedWait(th.id, lock)),
            _ => {}
        }
    }
    if out.len() == waits {
        out.push(Entry::Idle);
    }
    out.extend(model.potential_deadlocks().iter().map(Entry::Potential));
    out
}

/// The panel's selectable rows, in order, each with the thread its details show.
pub(crate) fn waitfor_targets(model: &Model) -> Vec<Option<ThreadId>> {
    entries(model)
        .iter()
        .filter(|e| e.selectable())
        .map(Entry::thread)
        .collect()
}

/// Lays out one entry in lines of at most `cols` columns; `sites` adds the
/// source locations under each edge of a cycle.
fn lines_of(
    t: Theme,
    model: &Model,
    entry: &Entry,
    cols: usize,
    sites: bool,
) -> Vec<Line<'static>> {
    let sp = |s: String, style: Style| Span::styled(s, style);
    match entry {
        Entry::Banner(threads, locks) => {
            let threads: Vec<String> = threads.iter().map(|&x| thread_name(model, x)).collect();
            let locks: Vec<String> = locks.iter().map(|&x| lock_name(model, x)).collect();
            let text = format!("DEADLOCK: {} on {}", threads.join(", "), locks.join(", "));
            wrap(&text, cols)
                .into_iter()
                .map(|l| Line::styled(l, t.banner()))
                .collect()
        }
        Entry::Edge(e, in_cycle) => {
            let (name, dim) = if *in_cycle {
                (t.deadlock(), t.deadlock())
            } else {
                (t.bold(), t.dim())
            };
            let mode = if e.mode == Mode::Shared {
                " (read)"
            } else {
                ""
            };
            let via = match e.reason {
                EdgeReason::Holds => " ─held by→ ",
                EdgeReason::QueuedWriter => " ─queued behind→ ",
            };
            let groups = vec![
                vec![
                    sp(thread_name(model, e.thread), name),
                    sp(" ─waits→ ".into(), dim),
                    sp(format!("{}{mode}", lock_name(model, e.lock)), name),
                ],
                vec![sp(via.into(), dim), sp(thread_name(model, e.holder), name)],
            ];
            let mut lines = wrap_groups(groups, cols, 2);
            if *in_cycle && sites {
                let held = match e.reason {
                    EdgeReason::Holds => "held at",
                    EdgeReason::QueuedWriter => "writer asked at",
                };
                let text = format!("asked at {} · {held} {}", e.requested_at, e.held_at);
                lines.extend(indented(t, &text, cols));
            }
            lines
        }
        Entry::CondWait(th, cv, m) => {
            let groups = vec![
                vec![
                    sp(thread_name(model, *th), t.bold()),
                    sp(" ┄waits on→ ".into(), t.dim()),
                    sp(lock_name(model, *cv), t.cond_wait()),
                ],
                vec![sp(
                    format!(" (condvar, {} released)", lock_name(model, *m)),
                    t.dim(),
                )],
            ];
            wrap_groups(groups, cols, 2)
        }
        Entry::TimedWait(th, lock) => {
            let groups = vec![
                vec![
                    sp(thread_name(model, *th), t.bold()),
                    sp(" ─waits (timed)→ ".into(), t.dim()),
                ],
                vec![sp(lock_name(model, *lock), t.text())],
            ];
            wrap_groups(groups, cols, 2)
        }
        Entry::Idle => vec![Line::styled("no thread is waiting", t.dim())],
        Entry::Potential(p) => potential_lines(t, model, p, cols, sites),
    }
}

/// `text` word-wrapped under an entry, indented, dim.
fn indented(t: Theme, text: &str, cols: usize) -> Vec<Line<'static>> {
    wrap(text, cols.saturating_sub(4).max(1))
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            Line::styled(
                format!("{}{l}", if i == 0 { "  " } else { "    " }),
                t.dim(),
            )
        })
        .collect()
}

fn potential_lines(
    t: Theme,
    model: &Model,
    p: &PotentialDeadlock,
    cols: usize,
    sites: bool,
) -> Vec<Line<'static>> {
    let mut chain: Vec<String> = p.locks().map(|l| lock_name(model, l)).collect();
    if p.kind == PotentialKind::RecursiveRead {
        chain = vec![format!("recursive read of {}", chain.concat())];
    } else if let Some(first) = chain.first().cloned() {
        chain.push(first);
    }
    let style = t.warning().patch(t.bold());
    // Lines break between locks, never inside a name.
    let groups = chain
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let text = if i == 0 {
                format!("POTENTIAL: {name}")
            } else {
                format!(" -> {name}")
            };
            vec![Span::styled(text, style)]
        })
        .collect();
    let mut lines = wrap_groups(groups, cols, 2);
    if sites {
        for e in &p.edges {
            let text = format!(
                "{} took {} at {}, then {} at {}",
                thread_name(model, e.thread),
                lock_name(model, e.from),
                e.from_site,
                lock_name(model, e.to),
                e.to_site
            );
            lines.extend(indented(t, &text, cols));
        }
    }
    lines
}

/// The panel's lines for an inner width of `cols` and height `visible`: the
/// visible lines, each with the index of the selectable row it starts, if any.
fn visible_lines(app: &App, cols: usize, visible: usize) -> Vec<(Line<'static>, Option<usize>)> {
    let model = app.view().model;
    let entries = entries(model);
    let mut lines = layout_entries(app, &entries, cols, true);
    if lines.0.len() > visible {
        // Source locations are in the details too: drop them before anything scrolls away.
        lines = layout_entries(app, &entries, cols, false);
    }
    let (mut lines, selected_line) = lines;
    // Every thread blocked with nobody to wake them: the banner goes on top.
    let view = app.view();
    let stall = view.model.stall_at(view.now, STALL_GRACE_NS);
    let banner: Vec<_> = stall
        .map(|s| StallReport::new(view.model, &s).to_string())
        .into_iter()
        .flat_map(|text| {
            text.lines()
                .flat_map(|l| wrap(l, cols))
                .map(|l| (Line::styled(l, app.theme.banner()), None))
                .collect::<Vec<_>>()
        })
        .collect();
    let selected_line = selected_line.map(|s| s + banner.len());
    lines.splice(0..0, banner);
    let offset = selected_line.map_or(0, |s| list_offset(s, lines.len(), visible));
    lines.into_iter().skip(offset).take(visible).collect()
}

type Laid = (Vec<(Line<'static>, Option<usize>)>, Option<usize>);

/// Every entry's lines, each with the selectable row it starts (if any), and
/// the line index of the selected row.
fn layout_entries(app: &App, entries: &[Entry], cols: usize, sites: bool) -> Laid {
    let t = app.theme;
    let model = app.view().model;
    let is_focused = focused(app, Focus::WaitFor);
    let mut lines: Vec<(Line, Option<usize>)> = Vec::new();
    let mut selected_line = None;
    let mut row = 0;
    for entry in entries {
        let first = lines.len();
        let mut entry_lines = lines_of(t, model, entry, cols, sites);
        let mut this = None;
        if entry.selectable() {
            this = Some(row);
            if row == app.edge_sel {
                selected_line = Some(first);
                if let Some(l) = entry_lines.first_mut() {
                    *l = std::mem::take(l).patch_style(t.selected(is_focused));
                }
            }
            row += 1;
        }
        for (i, line) in entry_lines.into_iter().enumerate() {
            lines.push((line, if i == 0 { this } else { None }));
        }
    }
    (lines, selected_line)
}

/// Draws the wait-for panel.
pub(super) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let model = app.view().model;
    let cycles = model.active_deadlocks().count();
    let title = if cycles > 0 {
        let s = if cycles == 1 { "" } else { "S" };
        Line::from(vec![
            Span::raw(" Wait-for "),
            Span::styled(format!("{cycles} DEADLOCK{s} "), t.deadlock()),
        ])
    } else {
        Line::raw(" Wait-for ")
    };
    let block = panel(t, title, focused(app, Focus::WaitFor));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let lines = visible_lines(app, usize::from(inner.width), usize::from(inner.height));
    for (i, (line, _)) in lines.iter().enumerate() {
        buf.set_line(inner.x, inner.y + i as u16, line, inner.width);
    }
}

/// The selectable row (an index for `App::edge_sel`) at screen row `row` of the panel in `area`.
pub(crate) fn row_at(app: &App, area: Rect, row: u16) -> Option<usize> {
    let inner_y = area.y + 1;
    let height = usize::from(area.height.saturating_sub(2));
    if row < inner_y {
        return None;
    }
    let lines = visible_lines(app, usize::from(area.width.saturating_sub(2)), height);
    lines
        .get(usize::from(row - inner_y))
        .and_then(|(_, target)| *target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::abba;

    #[test]
    fn a_deadlock_gives_a_banner_red_edges_and_a_potential_cycle() {
        let mut model = Model::new();
        for ev in abba() {
            model.apply(&ev);
        }
        let t = Theme::new(true);
        let text: Vec<String> = entries(&model)
            .iter()
            .flat_map(|e| lines_of(t, &model, e, 70, true))
            .map(|l| l.to_string())
            .collect();
        assert_eq!(
            text,
            [
                "DEADLOCK: left, right on B, A",
                "left ─waits→ B ─held by→ right",
                "  asked at scenario.toml:22 · held at scenario.toml:21",
                "right ─waits→ A ─held by→ left",
                "  asked at scenario.toml:23 · held at scenario.toml:20",
                "POTENTIAL: A -> B -> A",
                "  left took A at scenario.toml:20, then B at scenario.toml:22",
                "  right took B at scenario.toml:21, then A at scenario.toml:23",
            ]
        );
        let left = Some(ThreadId(0));
        assert_eq!(waitfor_targets(&model), [left, Some(ThreadId(1)), left]);
    }
}
