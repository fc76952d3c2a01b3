//! Tests of the timeline widget.

use super::*;
use crate::tui::fixtures::{MS, abba};
use crate::tui::{App, AppConfig};

fn mono_model() -> Model {
    let mut model = Model::new();
    for ev in abba() {
        model.apply(&ev);
    }
    model
}

#[test]
fn a_lane_shows_states_by_symbol_and_names_long_runs() {
    use CellState::*;
    let (a, b) = (LockId(0), LockId(1));
    let mut cells = vec![Absent, Running, Running];
    cells.extend([Holding(a); 6]);
    cells.extend([Waiting(b); 3]);
    cells.extend([CondWait(a), Running, Panicked, Panicked, Finished]);
    let mut buf = Buffer::empty(Rect::new(0, 0, 20, 1));
    render_cells(
        Theme::new(false),
        &mono_model(),
        &cells,
        None,
        (1, 0),
        &mut buf,
    );
    let t = Theme::new(false);
    let mut expected = Buffer::with_lines(["  ──█A████▒▒▒░─✗    "]);
    expected.set_style(Rect::new(2, 0, 2, 1), t.running());
    // The name inside the run is reversed, so it reads as part of the bar.
    expected.set_style(Rect::new(5, 0, 1, 1), t.label_on(t.holding()));
    expected.set_style(Rect::new(14, 0, 1, 1), t.running());
    expected.set_style(Rect::new(15, 0, 2, 1), t.panicked());
    assert_eq!(buf, expected);
}

#[test]
fn names_too_long_for_their_run_are_left_out() {
    let mut model = Model::new();
    let mut s = crate::tui::fixtures::Script::new();
    s.lock(0, "a long lock name", crate::event::LockKind::Mutex);
    for ev in s.build() {
        model.apply(&ev);
    }
    let cells = [CellState::Holding(LockId(0)); 10];
    let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
    render_cells(Theme::new(false), &model, &cells, None, (0, 0), &mut buf);
    assert_eq!(buf, Buffer::with_lines(["██████████"]));
}

#[test]
fn the_whole_panel_draws_lanes_names_and_axis() {
    let mut app = App::new(AppConfig {
        title: "abba".into(),
        color: false,
        history_spans: 1_000,
    });
    app.ingest(&abba());
    app.tick(20 * MS, crate::TransportStats::default());
    let mut buf = Buffer::empty(Rect::new(0, 0, 40, 5));
    render(&app, buf.area, &mut buf);
    buf.set_style(buf.area, Style::reset());
    assert_eq!(
        buf,
        Buffer::with_lines([
            "┌ Timeline 500µs/col · the deadlock, wh┐",
            "│▶left  ──█A██████████████████▓B▓▓▓▓▓▓▓│",
            "│ right ───█B█████████████████▓A▓▓▓▓▓▓▓│",
            "│       ╵0                  ╵10ms      │",
            "└ █ holding  ▒ waiting  ▓ deadlocked  ─┘",
        ])
    );
}

#[test]
fn a_healthy_wait_is_amber_and_a_deadlocked_one_red_with_its_own_symbol() {
    use ratatui::style::Color;
    let draw = |events: &[crate::event::Event]| {
        let mut app = App::new(AppConfig {
            title: "t".into(),
            color: true,
            history_spans: 1_000,
        });
        app.ingest(events);
        app.tick(20 * MS, crate::TransportStats::default());
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 5));
        render(&app, buf.area, &mut buf);
        buf
    };
    let cells_of = |buf: &Buffer, sym: &str| -> Vec<Option<Color>> {
        let (w, h) = (buf.area.width, buf.area.height - 1);
        (1..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&p| buf[p].symbol() == sym)
            .map(|p| Some(buf[p].fg))
            .collect()
    };
    // A convoy: t1 waits for what t0 holds, and gets it.
    let mut s = crate::tui::fixtures::Script::new();
    s.lock(0, "A", crate::event::LockKind::Mutex)
        .thread(0, "t0")
        .thread(1, "t1");
    s.at(MS).acquire(0, 0).at(2 * MS).request(1, 0);
    let convoy = draw(&s.build());
    let waits = cells_of(&convoy, "▒");
    assert!(!waits.is_empty() && waits.iter().all(|&c| c == Some(Color::Yellow)));
    assert!(cells_of(&convoy, "▓").is_empty());
    // abba: the waits in the cycle are red and drawn ▓.
    let stuck = draw(&abba());
    let deadlocked = cells_of(&stuck, "▓");
    assert!(!deadlocked.is_empty() && deadlocked.iter().all(|&c| c == Some(Color::Red)));
    assert!(cells_of(&stuck, "▒").is_empty());
}

#[test]
fn ticks_are_round_and_far_enough_apart() {
    assert_eq!(tick_step(1_000_000), 20_000_000);
    assert_eq!(tick_step(1_000), 20_000);
    assert_eq!(tick_step(10_000_000_000), 200_000_000_000);
    assert_eq!(tick_step(u64::MAX), u64::MAX);
    let _ = MS;
}

#[test]
fn narrow_lanes_keep_the_end_of_names_that_share_a_start() {
    let mut s = crate::tui::fixtures::Script::new();
    s.lock(0, "fork", crate::event::LockKind::Mutex);
    s.thread(0, "philosopher 0").thread(1, "philosopher 1");
    s.at(MS).acquire(0, 0).at(2 * MS).request(1, 0);
    let mut app = App::new(AppConfig {
        title: "forks".into(),
        color: false,
        history_spans: 1_000,
    });
    app.ingest(&s.build());
    app.tick(20 * MS, crate::TransportStats::default());
    let mut buf = Buffer::empty(Rect::new(0, 0, 40, 5));
    render(&app, buf.area, &mut buf);
    buf.set_style(buf.area, Style::reset());
    // Cut at the end, both lanes would read `philoso…`.
    assert_eq!(
        buf,
        Buffer::with_lines([
            "┌ Timeline 1ms/col · following ────────┐",
            "│▶phil…er 0 ─█fork██████████████       │",
            "│ phil…er 1 ──▒fork▒▒▒▒▒▒▒▒▒▒▒▒▒       │",
            "│           ╵0                  ╵20ms  │",
            "└ █ holding  ▒ waiting  ▓ deadlocked  ─┘",
        ])
    );
}
