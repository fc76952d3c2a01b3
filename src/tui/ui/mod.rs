//! Rendering: a pure function of the [`App`] and the terminal size.
//!
//! Nothing here reads a clock, does I/O or changes state; the time shown is
//! the `now` the runtime passed to [`App::tick`], so the same state always
//! draws the same screen.
//!
//! ```text
//! header (1 line)
//! ┌ Timeline ────────────────────────────────────────────┐
//! │ one lane per thread, time flowing right, an axis     │
//! └──────────────────────────────────────────────────────┘
//! ┌ Locks (60%) ──────────────┐┌ Wait-for ───────────────┐
//! └───────────────────────────┘└─────────────────────────┘  Details cover the
//! ┌ Log ──────────────────────┐┌ Output ─────────────────┐  right column when open
//! └───────────────────────────┘└─────────────────────────┘
//! footer (1 line)
//! ```

mod cycle;
mod details;
mod footer;
mod header;
mod help;
mod locks;
mod log;
mod text;
mod timeline;
mod waitfor;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::app::{App, Focus};
use super::theme::Theme;

pub(crate) use locks::lock_at;
pub(crate) use timeline::{lane_at, timeline_cols};
pub(crate) use waitfor::row_at as waitfor_row_at;

/// The most lanes a deadlock's story claims rows for on a small screen.
const STORY_LANES: usize = 8;

/// The narrowest terminal the full layout needs.
pub const MIN_WIDTH: u16 = 60;
/// The shortest terminal the full layout needs.
pub const MIN_HEIGHT: u16 = 15;

/// Where each part of the screen goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScreenLayout {
    /// The status line at the top.
    pub header: Rect,
    /// The timeline panel, full width.
    pub timeline: Rect,
    /// The lock table (left column).
    pub locks: Rect,
    /// The wait-for panel (right column).
    pub waitfor: Rect,
    /// The event log (left column, bottom).
    pub log: Rect,
    /// The program's output (right column, bottom).
    pub output: Rect,
    /// The details panel, over the right column, when open.
    pub details: Rect,
    /// The key hints at the bottom.
    pub footer: Rect,
}

/// Splits a screen of size `area` showing `lanes` timeline lanes, or `None`
/// when it is smaller than [`MIN_WIDTH`] × [`MIN_HEIGHT`].
///
/// The timeline gets one row per lane (plus borders and the axis), up to 45%
/// of the body; the rest is split 55/45 between the tables and the logs.
///
/// # Examples
///
/// ```
/// use ratatui::layout::Rect;
/// use lockscope::tui::layout;
///
/// let l = layout(Rect::new(0, 0, 120, 40), 5).unwrap();
/// assert_eq!(l.timeline.height, 8); // 5 lanes, the axis, two borders
/// assert!(layout(Rect::new(0, 0, 20, 5), 5).is_none());
/// ```
pub fn layout(area: Rect, lanes: usize) -> Option<ScreenLayout> {
    layout_for(area, lanes, 0, false)
}

/// [`layout`] with room for `waitfor_rows` rows inside the wait-for panel
/// where the logs below can spare it (they keep at least two rows). With
/// `story` (a deadlock among at most [`STORY_LANES`] threads) every lane
/// gets its row if the screen has it, the logs giving theirs up on the
/// smallest screens: the hold-then-wait of each thread comes first.
fn layout_for(area: Rect, lanes: usize, waitfor_rows: usize, story: bool) -> Option<ScreenLayout> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let body = area.height - 2;
    let wanted = u16::try_from(lanes.max(1))
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let story = story && lanes <= STORY_LANES;
    let cap = if story {
        // The tables keep five rows: the banner and two of the ring.
        body.saturating_sub(5)
    } else {
        body * 45 / 100
    };
    let timeline_h = wanted.clamp(4, cap.max(4));
    let rest = body - timeline_h;
    let waitfor_h = u16::try_from(waitfor_rows)
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(rest.saturating_sub(4));
    let (middle_h, bottom_h) = if rest < 8 {
        // Too short for the logs as well (only with a story): they go.
        (rest, 0)
    } else {
        let middle_h = (rest * 55 / 100).max(4).max(waitfor_h);
        (middle_h, rest - middle_h)
    };
    let left_w = area.width * 3 / 5;
    let right_w = area.width - left_w;
    let (x, y) = (area.x, area.y);
    let mid_y = y + 1 + timeline_h;
    let bottom_y = mid_y + middle_h;
    Some(ScreenLayout {
        header: Rect::new(x, y, area.width, 1),
        timeline: Rect::new(x, y + 1, area.width, timeline_h),
        locks: Rect::new(x, mid_y, left_w, middle_h),
        waitfor: Rect::new(x + left_w, mid_y, right_w, middle_h),
        log: Rect::new(x, bottom_y, left_w, bottom_h),
        output: Rect::new(x + left_w, bottom_y, right_w, bottom_h),
        details: Rect::new(x + left_w, mid_y, right_w, middle_h + bottom_h),
        footer: Rect::new(x, area.bottom() - 1, area.width, 1),
    })
}

/// Draws the whole screen.
///
/// # Examples
///
/// ```
/// use ratatui::{Terminal, backend::TestBackend};
/// use lockscope::tui::{App, AppConfig, draw};
///
/// let app = App::new(AppConfig { title: "demo".into(), color: false, history_spans: 1_000 });
/// let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
/// terminal.draw(|frame| draw(frame, &app)).unwrap();
/// ```
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    render(app, area, frame.buffer_mut());
}

/// Draws the whole screen into `buf` over `area`.
pub(crate) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    let Some(l) = screen_layout(app, area) else {
        too_small(app.theme, area, buf);
        return;
    };
    header::render(app, l.header, buf);
    timeline::render(app, l.timeline, buf);
    locks::render(app, l.locks, buf);
    if !l.log.is_empty() {
        log::render_log(app, l.log, buf);
    }
    if app.details {
        details::render(app, l.details, buf);
    } else {
        waitfor::render(app, l.waitfor, buf);
        // Step mode's panel takes the output's place; focusing it (Tab,
        // a click) shows the program's output again.
        match &app.step_panel {
            _ if l.output.is_empty() => {}
            Some(panel) if app.focus != Focus::Output => {
                log::render_steps(app, panel, l.output, buf);
            }
            _ => log::render_output(app, l.output, buf),
        }
    }
    footer::render(app, l.footer, buf);
    if app.help {
        help::render(app.theme, area, buf);
    }
}

/// The layout of `app`'s screen over `area`: a deadlock's ring gets the rows
/// it needs in the wait-for panel.
pub(crate) fn screen_layout(app: &App, area: Rect) -> Option<ScreenLayout> {
    let model = app.view().model;
    let story = model.active_deadlocks().next().is_some();
    layout_for(
        area,
        model.threads().len(),
        super::rows::wanted_rows(model),
        story,
    )
}

/// The short message shown instead of the layout on a tiny terminal.
fn too_small(theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let lines = vec![
        Line::styled("lockscope", theme.bold()),
        Line::raw(format!("too small: {}x{}", area.width, area.height)),
        Line::raw(format!("needs {MIN_WIDTH}x{MIN_HEIGHT}")),
        Line::styled("q quits", theme.dim()),
    ];
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

/// A bordered panel titled `title`, highlighted when it has the focus.
fn panel<'a>(theme: Theme, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(title.into().style(theme.title(focused)))
}

/// Whether `focus` is the app's focus (and no overlay hides it).
fn focused(app: &App, focus: Focus) -> bool {
    app.focus == focus && !app.help
}

/// The first row to show so that row `selected` of `len` is visible in `visible` rows.
pub(crate) fn list_offset(selected: usize, len: usize, visible: usize) -> usize {
    if visible == 0 || len <= visible {
        return 0;
    }
    selected.min(len - 1).saturating_sub(visible - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_fits_the_screen_without_overlap() {
        for (w, h) in [
            (60, 15),
            (80, 24),
            (120, 40),
            (200, 50),
            (300, 100),
            (61, 16),
        ] {
            for lanes in [0, 1, 5, 64, 100_000] {
                let area = Rect::new(0, 0, w, h);
                let l = layout(area, lanes).expect("big enough");
                let parts = [
                    l.header, l.timeline, l.locks, l.waitfor, l.log, l.output, l.footer,
                ];
                for (i, a) in parts.iter().enumerate() {
                    assert!(area.contains(a.as_position()), "{w}x{h} {a:?}");
                    assert!(a.right() <= area.right() && a.bottom() <= area.bottom());
                    assert!(a.height >= 1);
                    for b in &parts[i + 1..] {
                        assert!(!a.intersects(*b), "{w}x{h}: {a:?} overlaps {b:?}");
                    }
                }
                assert!(l.timeline.height >= 4 && l.locks.height >= 4 && l.log.height >= 4);
                assert_eq!(l.details, l.waitfor.union(l.output));
            }
        }
    }

    #[test]
    fn offsets_keep_the_selection_visible() {
        assert_eq!(list_offset(0, 100, 10), 0);
        assert_eq!(list_offset(9, 100, 10), 0);
        assert_eq!(list_offset(10, 100, 10), 1);
        assert_eq!(list_offset(500, 100, 10), 90);
        assert_eq!(list_offset(5, 3, 10), 0);
        assert_eq!(list_offset(5, 30, 0), 0);
    }
}
