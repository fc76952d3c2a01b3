//! The help overlay: every key, and what the timeline's symbols mean.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::panel;
use super::text::fit;
use crate::tui::keys::help_rows;
use crate::tui::theme::{
    SYM_CONDWAIT, SYM_DEADLOCKED, SYM_HOLDING, SYM_PANICKED, SYM_RUNNING, SYM_WAITING, Theme,
};

/// The widest the key column gets.
const KEY_COL: usize = 15;

/// Draws the help box centred over `area`.
pub(super) fn render(t: Theme, area: Rect, buf: &mut Buffer) {
    let mut lines: Vec<Line> = help_rows()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(fit(keys, KEY_COL, false), t.key()),
                Span::raw(" "),
                Span::raw(what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    let legend = [
        (SYM_RUNNING, t.running(), "running"),
        (
            SYM_HOLDING,
            t.holding(),
            "holding a lock (its name shows when it fits)",
        ),
        (SYM_CONDWAIT, t.cond_wait(), "waiting on a condvar"),
        (
            SYM_WAITING,
            t.waiting(),
            "blocked on a lock (beats holding)",
        ),
        (
            SYM_DEADLOCKED,
            t.deadlocked(),
            "blocked for good: in a deadlock",
        ),
        (SYM_PANICKED, t.panicked(), "panicked"),
    ];
    for (sym, style, what) in legend {
        lines.push(Line::from(vec![
            Span::styled(sym.repeat(3), style),
            Span::raw(" ".repeat(KEY_COL - 2)),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("DEADLOCK", t.deadlock()),
        Span::raw(" a wait-for cycle: these threads never proceed"),
    ]));
    lines.push(Line::from(vec![
        Span::styled("POTENTIAL", t.warning()),
        Span::raw(" locks taken in inconsistent orders: could deadlock"),
    ]));
    let width = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 4;
    let height = lines.len() as u16 + 2;
    let w = width.min(area.width);
    let h = height.min(area.height);
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(popup, buf);
    let block = panel(t, " Help (? or Esc closes) ", true)
        .padding(ratatui::widgets::Padding::horizontal(1));
    Paragraph::new(lines).block(block).render(popup, buf);
}
