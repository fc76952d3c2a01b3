//! Input on whole screens: zoom and scroll, pause, sorting, clicks and the
//! wheel, and when the screen needs drawing.
#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::fixtures::{MS, abba};
use super::tests::{app, running, screen, text};
use super::{Action, Flow, Focus, layout};
use crate::TransportStats;

#[test]
fn zoom_scroll_and_follow_move_the_window() {
    let mut app = running();
    let before = text(screen(&app, 120, 40).backend().buffer());
    assert!(before.contains("1ms/col · following"));
    app.on_action(Action::ZoomIn);
    app.on_action(Action::ScrollLeft);
    let after = text(screen(&app, 120, 40).backend().buffer());
    assert!(
        after.contains("500µs/col · scrolled (f follows)"),
        "{after}"
    );
    app.on_action(Action::Follow);
    app.on_action(Action::ZoomOut);
    assert_eq!(text(screen(&app, 120, 40).backend().buffer()), before);
    // Zoomed in far enough, lock names show inside the bars.
    assert!(before.contains("fork 0"));
}

#[test]
fn pausing_freezes_the_view_while_recording_goes_on() {
    let mut app = app("abba", true, &abba()[..6], 5 * MS);
    app.on_action(Action::TogglePause);
    let frozen = text(screen(&app, 120, 40).backend().buffer());
    app.ingest(&abba()[6..]);
    app.tick(30 * MS, TransportStats::default());
    assert_eq!(app.model().events(), 8, "the live model keeps recording");
    let still = text(screen(&app, 120, 40).backend().buffer());
    assert!(still.contains("PAUSED"));
    assert!(!still.contains("DEADLOCK at"), "the body stays as it was");
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&frozen), body(&still));
    app.on_action(Action::TogglePause);
    let live = text(screen(&app, 120, 40).backend().buffer());
    assert!(live.contains("DEADLOCK at scenario.toml:23"), "{live}");
}

#[test]
fn the_lock_table_sorts_by_each_column_in_turn() {
    let mut app = running();
    app.focus = Focus::Locks;
    let titles = ["sort: acq", "sort: cont%", "sort: max wait", "sort: name"];
    for title in titles {
        app.on_action(Action::CycleSort);
        assert!(
            text(screen(&app, 120, 40).backend().buffer()).contains(title),
            "{title}"
        );
    }
}

#[test]
fn clicks_select_lanes_and_rows_and_the_wheel_scrolls() {
    let mut app = running();
    let area = Rect::new(0, 0, 120, 40);
    let l = layout(area, 5).unwrap();
    let click = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // The fourth lane: philosopher 3.
    app.on_mouse(click(5, l.timeline.y + 4), area);
    assert_eq!((app.focus, app.thread_sel), (Focus::Timeline, 3));
    // The third lock row (sorted by name): fork 2.
    app.on_mouse(click(3, l.locks.y + 2 + 2), area);
    assert_eq!(app.focus, Focus::Locks);
    assert_eq!(app.lock_sel, Some(crate::event::LockId(2)));
    let wheel = |kind| MouseEvent {
        kind,
        column: 50,
        row: l.timeline.y + 2,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(wheel(MouseEventKind::ScrollUp), area);
    assert!(!app.time.following());
    app.on_mouse(wheel(MouseEventKind::ScrollDown), area);
    assert!(app.time.following());
    app.on_mouse(click(3, l.log.y + 2), area);
    assert_eq!(app.focus, Focus::Log);
    // A click on the tiny screen's message does nothing.
    assert_eq!(
        app.on_mouse(click(1, 1), Rect::new(0, 0, 20, 5)),
        Flow::Continue
    );
}

#[test]
fn dirty_tracks_changes() {
    let mut app = running();
    assert!(app.dirty());
    app.clear_dirty();
    app.tick(60 * MS + 10, TransportStats::default());
    assert!(!app.dirty(), "same column, same tenth of a second");
    app.tick(61 * MS, TransportStats::default());
    assert!(app.dirty());
    app.clear_dirty();
    app.ingest(&[]);
    assert!(!app.dirty());
    app.push_output("x");
    assert!(app.dirty());
}
