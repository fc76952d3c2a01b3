//! Mouse input: the wheel scrolls, a left click focuses and selects. Hit-tests
//! use the same layout as drawing, so a click lands where the eye sees it.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::app::{App, Flow, Focus};
use super::ui;

/// How many columns one wheel notch scrolls the timeline.
const WHEEL_COLS: i64 = 5;

/// Handles `mouse` on a screen of size `area`.
pub(super) fn handle(app: &mut App, mouse: MouseEvent, area: Rect) -> Flow {
    let Some(layout) = ui::screen_layout(app, area) else {
        return Flow::Continue;
    };
    let pos = Position::new(mouse.column, mouse.row);
    let clicked = matches!(mouse.kind, MouseEventKind::Down(MouseButton::Left));
    if app.help {
        if clicked {
            app.help = false;
            app.touch();
        }
        return Flow::Continue;
    }
    let Some(panel) = panel_at(&layout, pos, app.details) else {
        return Flow::Continue;
    };
    let now = app.view().now;
    app.set_screen(area);
    if matches!(
        mouse.kind,
        MouseEventKind::ScrollLeft | MouseEventKind::ScrollRight
    ) || (panel == Some(Focus::Timeline)
        && matches!(
            mouse.kind,
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
        ))
    {
        app.leave_story();
    }
    match mouse.kind {
        MouseEventKind::ScrollLeft => app.time.scroll(-WHEEL_COLS, now),
        MouseEventKind::ScrollRight => app.time.scroll(WHEEL_COLS, now),
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let up = mouse.kind == MouseEventKind::ScrollUp;
            match panel {
                // Up goes back in time, like scrolling up a log.
                Some(Focus::Timeline) => app
                    .time
                    .scroll(if up { -WHEEL_COLS } else { WHEEL_COLS }, now),
                Some(focus) => {
                    app.focus = focus;
                    app.move_selection(if up { -1 } else { 1 });
                }
                None => return Flow::Continue,
            }
        }
        MouseEventKind::Down(MouseButton::Left) => match panel {
            Some(Focus::Timeline) => {
                app.focus = Focus::Timeline;
                if let Some(id) = ui::lane_at(app, layout.timeline, pos.y) {
                    app.select_thread(id);
                }
            }
            Some(Focus::Locks) => {
                app.focus = Focus::Locks;
                if let Some(id) = ui::lock_at(app, layout.locks, pos.y) {
                    app.select_lock(id);
                }
            }
            Some(Focus::WaitFor) => {
                app.focus = Focus::WaitFor;
                if let Some(row) = ui::waitfor_row_at(app, layout.waitfor, pos.y) {
                    app.edge_sel = row;
                    if let Some(&Some(t)) = super::rows::waitfor_targets(app.view().model).get(row)
                    {
                        app.thread_sel = t.index();
                    }
                }
            }
            Some(focus) => app.focus = focus,
            None => return Flow::Continue,
        },
        _ => return Flow::Continue,
    }
    app.touch();
    Flow::Continue
}

/// The panel under `pos`: `Some(None)` for the details panel (no focus of its
/// own), `None` outside every panel.
fn panel_at(l: &ui::ScreenLayout, pos: Position, details: bool) -> Option<Option<Focus>> {
    if details && l.details.contains(pos) {
        return Some(None);
    }
    [
        (l.timeline, Focus::Timeline),
        (l.locks, Focus::Locks),
        (l.waitfor, Focus::WaitFor),
        (l.log, Focus::Log),
        (l.output, Focus::Output),
    ]
    .into_iter()
    .find(|(r, _)| r.contains(pos))
    .map(|(_, f)| Some(f))
}
