//! The wait-for panel: who waits for whom right now, every deadlock cycle in
//! red under a `DEADLOCK` banner (the first one pinned to the top line), drawn
//! as a ring with its source locations, and potential deadlocks (lock-order
//! cycles) apart, in the warning colour.
//!
//! When everything does not fit, the potential deadlocks' sites go first,
//! then the cycle's; names and sites are shortened in the middle, not dropped.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::cycle::{banner, ring_row, site_lines};
use super::text::{lock_name, short_site, thread_name, wrap, wrap_groups};
use super::{focused, list_offset, panel};
use crate::event::Mode;
use crate::model::{
    EdgeReason, Model, PotentialDeadlock, PotentialKind, STALL_GRACE_NS, StallReport,
};
use crate::scenario::ExpectResult;
use crate::tui::app::{App, Focus};
use crate::tui::rows::{Entry, entries};
use crate::tui::theme::Theme;

/// Which source locations are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Sites {
    /// Under each deadlock.
    cycles: bool,
    /// Under each potential deadlock.
    potential: bool,
}

/// Lays out one entry in lines of at most `cols` columns, with the source
/// locations `sites` asks for.
fn lines_of(
    t: Theme,
    model: &Model,
    entry: &Entry,
    cols: usize,
    sites: Sites,
) -> Vec<Line<'static>> {
    let sp = |s: String, style: Style| Span::styled(s, style);
    match entry {
        Entry::Expect(e) => expect_lines(t, e, cols),
        Entry::Banner(d) => vec![banner(t, d, cols)],
        Entry::Ring(d, i) => vec![ring_row(t, model, d, *i, cols)],
        Entry::Sites(d) if sites.cycles => site_lines(t, model, d, cols),
        Entry::Sites(_) => Vec::new(),
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
                EdgeReason::AwaitsMessage => " ─sent to by→ ",
                EdgeReason::AwaitsRoom => " ─drained by→ ",
                EdgeReason::AwaitsArrival => " ─for→ ",
                EdgeReason::Joins => "",
            };
            let waits = match e.reason {
                EdgeReason::AwaitsMessage => " ─waits for message on→ ",
                EdgeReason::AwaitsRoom => " ─waits for room on→ ",
                EdgeReason::AwaitsArrival => " ─waits at→ ",
                _ => " ─waits→ ",
            };
            let groups = if e.reason == EdgeReason::Joins {
                vec![vec![
                    sp(thread_name(model, e.thread), name),
                    sp(" ─joins→ ".into(), dim),
                    sp(thread_name(model, e.holder), name),
                ]]
            } else {
                vec![
                    vec![
                        sp(thread_name(model, e.thread), name),
                        sp(waits.into(), dim),
                        sp(format!("{}{mode}", lock_name(model, e.lock)), name),
                    ],
                    vec![sp(via.into(), dim), sp(thread_name(model, e.holder), name)],
                ]
            };
            wrap_groups(groups, cols, 2)
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
        Entry::Potential(p) => potential_lines(t, model, p, cols, sites.potential),
    }
}

/// `EXPECT FAILED: counter = 6, not 20 (14 updates lost to a race)`, or a
/// quiet `expect counter = 20: ok`.
fn expect_lines(t: Theme, e: &ExpectResult, cols: usize) -> Vec<Line<'static>> {
    let var = crate::model::sanitize(&e.var);
    let (text, style) = if e.held() {
        (format!("expect {var} = {}: ok", e.expected), t.good())
    } else {
        let lost = e.expected.saturating_sub(e.actual);
        let why = if e.overflowed {
            " (an add overflowed the 64-bit range)".to_string()
        } else if lost > 0 {
            format!(" ({lost} updates lost to a race)")
        } else {
            String::new()
        };
        let text = format!(
            "EXPECT FAILED: {var} = {}, not {}{why}",
            e.actual, e.expected
        );
        (text, t.banner())
    };
    wrap(&text, cols)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
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
        let site = |s| short_site(s, cols.saturating_sub(8).max(8));
        for e in &p.edges {
            let text = format!(
                "{} took {} at {}, then {} at {}",
                thread_name(model, e.thread),
                lock_name(model, e.from),
                site(e.from_site),
                lock_name(model, e.to),
                site(e.to_site)
            );
            lines.extend(indented(t, &text, cols));
        }
    }
    lines
}

/// The panel's lines for an inner width of `cols` and height `visible`: the
/// visible lines, each with the index of the selectable row it starts, if any.
/// The first deadlock's banner stays on the top line; the rest scrolls to
/// keep the selection in view.
fn visible_lines(app: &App, cols: usize, visible: usize) -> Vec<(Line<'static>, Option<usize>)> {
    let model = app.view().model;
    let entries = entries(model, &app.expectations);
    let all = Sites {
        cycles: true,
        potential: true,
    };
    let mut laid = layout_entries(app, &entries, cols, all);
    if laid.0.len() > visible {
        // The cycle's sites stay, above the potential deadlocks, even if
        // they are cut at the bottom: they say where to look.
        let sites = Sites {
            potential: false,
            ..all
        };
        laid = layout_entries(app, &entries, cols, sites);
    }
    let (mut lines, selected_line) = laid;
    // Every thread blocked with nobody to wake them: the stall's banner goes
    // on top, pinned like a deadlock's.
    let view = app.view();
    let stall = view.model.stall_at(view.now, STALL_GRACE_NS);
    let mut out: Vec<_> = stall
        .map(|s| StallReport::new(view.model, &s).to_string())
        .into_iter()
        .flat_map(|text| {
            text.lines()
                .flat_map(|l| wrap(l, cols))
                .map(|l| (Line::styled(l, app.theme.banner()), None))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut selected_line = selected_line;
    if matches!(entries.first(), Some(Entry::Banner(_) | Entry::Expect(_))) && !lines.is_empty() {
        out.push(lines.remove(0));
        selected_line = selected_line.map(|s| s.saturating_sub(1));
    }
    let rest = visible.saturating_sub(out.len());
    let offset = selected_line.map_or(0, |s| list_offset(s, lines.len(), rest));
    out.extend(lines.into_iter().skip(offset).take(rest));
    out.truncate(visible);
    out
}

type Laid = (Vec<(Line<'static>, Option<usize>)>, Option<usize>);

/// Every entry's lines, each with the selectable row it starts (if any), and
/// the line index of the selected row.
fn layout_entries(app: &App, entries: &[Entry], cols: usize, sites: Sites) -> Laid {
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
mod tests;
