//! The bottom line: the few most useful keys, or the filter prompt while it is open.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::text::whole_items;
use crate::model::sanitize;
use crate::tui::app::{App, Focus};

/// Draws the footer.
pub(super) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let t = app.theme;
    let line = match &app.prompt {
        _ if app.confirm_quit => Line::from(vec![
            Span::styled(
                " The program is still running. ",
                t.warning().patch(t.bold()),
            ),
            Span::styled("q", t.key()),
            Span::styled(" again quits and ends it · any other key stays", t.dim()),
        ]),
        Some(text) => Line::from(vec![
            Span::styled(" filter log by thread or lock: ", t.bold()),
            Span::raw(sanitize(text)),
            Span::styled("█", t.key()),
            Span::styled("   Enter applies · Esc cancels · empty clears", t.dim()),
        ]),
        None => {
            let focus = match app.focus {
                Focus::Timeline => "timeline",
                Focus::Locks => "locks",
                Focus::WaitFor => "wait-for",
                Focus::Log => "log",
                Focus::Output => "output",
            };
            let mut groups = vec![vec![Span::styled(format!(" [{focus}] "), t.dim())]];
            // The most useful keys, from the key table, as many as fit whole.
            for (key, what) in crate::tui::keys::footer_hints() {
                groups.push(vec![
                    Span::styled(key, t.key()),
                    Span::styled(format!(" {what}  "), t.dim()),
                ]);
            }
            whole_items(groups, usize::from(area.width))
        }
    };
    buf.set_line(area.x, area.y, &line, area.width);
}
