//! Whole screens drawn from synthetic event sequences: insta snapshots of the
//! text, plus assertions on the styles that carry meaning.
#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

use super::fixtures::{MS, Script, abba, philosophers_deadlock, philosophers_running};
use super::{Action, App, AppConfig, Flow, Focus, RunState, draw, layout};
use crate::TransportStats;
use crate::event::{Event, LockKind};

fn app(title: &str, color: bool, events: &[Event], now: u64) -> App {
    let mut app = App::new(AppConfig {
        title: title.into(),
        color,
        history_spans: 100_000,
    });
    app.ingest(events);
    app.tick(now, TransportStats::default());
    app
}

fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    terminal
}

fn running() -> App {
    let mut app = app("philosophers", true, &philosophers_running(), 60 * MS);
    app.push_output("philosopher 3 is thinking\nphilosopher 1 is hungry\n");
    app
}

fn deadlocked(color: bool) -> App {
    let mut app = app("philosophers", color, &philosophers_deadlock(), 40 * MS);
    app.set_run_state(RunState::Deadlocked);
    app
}

/// Where `needle` first appears on screen, as (column, row).
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    for y in 0..buf.area.height {
        let cells: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let row: String = cells.concat();
        if let Some(at) = row.find(needle) {
            // Columns, not bytes: count the cells before the match.
            let mut bytes = 0;
            for (x, c) in cells.iter().enumerate() {
                if bytes == at {
                    return Some((x as u16, y));
                }
                bytes += c.len();
            }
        }
    }
    None
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn philosophers_running_snapshot() {
    let mut app = running();
    app.on_action(Action::Down); // select philosopher 1
    let terminal = screen(&app, 120, 40);
    insta::assert_snapshot!("philosophers_running", terminal.backend());
}

#[test]
fn philosophers_deadlock_snapshot() {
    let terminal = screen(&deadlocked(true), 120, 40);
    insta::assert_snapshot!("philosophers_deadlock", terminal.backend());
    let buf = terminal.backend().buffer();
    let all = text(buf);
    assert!(
        all.contains("DEADLOCK at scenario.toml:26 (5 threads)"),
        "{all}"
    );
    // The cycle's threads are red in the timeline, the banner white on red.
    let (x, y) = find(buf, "philosopher 0").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find(buf, "DEADLOCK at").unwrap();
    assert_eq!((buf[(x, y)].fg, buf[(x, y)].bg), (Color::White, Color::Red));
    // The cycle's sites come first; on a taller screen the potential
    // deadlock follows, in yellow.
    assert!(find(buf, "POTENTIAL").is_none(), "{all}");
    let tall = screen(&deadlocked(true), 120, 60);
    let buf = tall.backend().buffer();
    let (x, y) = find(buf, "POTENTIAL").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
    assert!(y > find(buf, "philosopher 4 asked at").unwrap().1);
}

#[test]
fn abba_deadlock_at_80x24_snapshot() {
    let mut app = app("abba", true, &abba(), 30 * MS);
    app.set_run_state(RunState::Deadlocked);
    let terminal = screen(&app, 80, 24);
    insta::assert_snapshot!("abba_deadlock_80x24", terminal.backend());
}

#[test]
fn help_overlay_snapshot() {
    let mut app = running();
    app.on_action(Action::ToggleHelp);
    let terminal = screen(&app, 120, 40);
    insta::assert_snapshot!("help_overlay", terminal.backend());
    assert_eq!(app.on_action(Action::Back), Flow::Continue);
    assert!(!app.help);
}

#[test]
fn lock_details_snapshot() {
    let mut app = deadlocked(true);
    app.on_action(Action::NextFocus); // locks
    app.on_action(Action::Down); // fork 1
    app.on_action(Action::ToggleDetails);
    let terminal = screen(&app, 120, 40);
    insta::assert_snapshot!("lock_details", terminal.backend());
    let all = text(terminal.backend().buffer());
    assert!(all.contains("fork 1  mutex #1"));
    assert!(all.contains("created at scenario.toml:3"));
}

#[test]
fn thread_details_snapshot() {
    let mut app = deadlocked(true);
    app.on_action(Action::ToggleDetails);
    let terminal = screen(&app, 120, 40);
    insta::assert_snapshot!("thread_details", terminal.backend());
    let all = text(terminal.backend().buffer());
    assert!(all.contains("IN A DEADLOCK CYCLE"));
    assert!(all.contains("requested at scenario.toml:22"));
    // Esc closes the details, and never quits.
    assert_eq!(app.on_action(Action::Back), Flow::Continue);
    assert!(!app.details);
    assert_eq!(app.on_action(Action::Back), Flow::Continue);
}

#[test]
fn too_small_snapshot() {
    let terminal = screen(&running(), 20, 5);
    insta::assert_snapshot!("too_small", terminal.backend());
}

#[test]
fn no_color_snapshot() {
    let terminal = screen(&deadlocked(false), 120, 40);
    insta::assert_snapshot!("no_color", terminal.backend());
    let buf = terminal.backend().buffer();
    // Not one colour anywhere; meaning is carried by symbols and modifiers.
    for cell in buf.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    let (x, y) = find(buf, "philosopher 0").unwrap();
    assert!(
        buf[(x, y)]
            .modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    let (x, y) = find(buf, "DEADLOCK at").unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    // Same text as in colour.
    let colour = screen(&deadlocked(true), 120, 40);
    assert_eq!(text(buf), text(colour.backend().buffer()));
}

#[test]
fn filtered_log_snapshot() {
    let mut app = running();
    app.on_action(Action::Filter);
    for c in "FORK 2".chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let typing = screen(&app, 120, 40);
    assert!(text(typing.backend().buffer()).contains("filter log by thread or lock: FORK 2█"));
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(app.filter, "FORK 2");
    let terminal = screen(&app, 120, 40);
    insta::assert_snapshot!("filtered_log", terminal.backend());
}

#[test]
fn the_prompt_takes_q_as_text_and_esc_cancels() {
    let mut app = running();
    app.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    assert_eq!(
        app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
        Flow::Continue
    );
    assert_eq!(app.prompt.as_deref(), Some("q"));
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!((app.prompt.as_deref(), app.filter.as_str()), (None, ""));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    app.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    assert_eq!(app.on_key(ctrl_c), Flow::Quit);
}

/// Draws `app` at three sizes, with and without details, and checks that no
/// control or bidi character reaches a cell and that every panel's right
/// border is where the layout puts it. Returns each screen's text.
fn safe_layouts(app: &mut App) -> Vec<String> {
    let mut screens = Vec::new();
    for (w, h) in [(120, 40), (80, 24), (61, 15)] {
        for details in [false, true] {
            app.details = details;
            let terminal = screen(app, w, h);
            let buf = terminal.backend().buffer();
            for cell in buf.content() {
                let sym = cell.symbol();
                assert!(
                    !sym.chars().any(|c| c.is_control()
                        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                    "{sym:?} at {w}x{h}"
                );
            }
            let l = layout(Rect::new(0, 0, w, h), 2).unwrap();
            for r in [l.timeline, l.locks, l.log] {
                for y in r.y + 1..r.bottom() - 1 {
                    assert_eq!(
                        buf[(r.right() - 1, y)].symbol(),
                        "│",
                        "{w}x{h} {r:?} row {y}"
                    );
                }
            }
            screens.push(text(buf));
        }
    }
    screens
}

/// Names far wider than the screen, of wide (CJK, emoji), zero-width and
/// combining characters, and C1 controls: clipped, never spilling over a
/// border.
#[test]
fn very_long_and_wide_names_keep_the_layout() {
    let mut s = Script::new();
    s.lock(0, &"死锁🔒".repeat(2_000), LockKind::Mutex);
    s.lock(
        1,
        &"👨\u{200d}👩\u{200d}👧e\u{301}\u{200b}".repeat(500),
        LockKind::RwLock,
    );
    s.thread(0, &format!("\u{85}\u{9b}2J{}", "线程🧵".repeat(3_000)));
    s.thread(1, &"a".repeat(10_000));
    s.at(MS).acquire(0, 0);
    s.at(2 * MS).acquire(1, 1);
    s.at(3 * MS).request(1, 0).request(0, 1);
    let mut app = app(&"標題".repeat(1_000), true, &s.build(), 30 * MS);
    app.push_output(&format!("{}\n", "输出🔥".repeat(5_000)));
    for all in safe_layouts(&mut app) {
        assert!(all.contains("Locks (2)"), "{all}");
    }
}

#[test]
fn hostile_names_never_reach_the_terminal_raw() {
    let mut s = Script::new();
    s.lock(
        0,
        "\u{202e}kcol\u{2066} 死锁🔒🔒🔒🔒🔒🔒 lock",
        LockKind::Mutex,
    );
    s.lock(1, "\u{1b}[2J\u{9b}31m", LockKind::RwLock);
    s.thread(0, "\u{1b}[31mevil\u{1b}]0;x\u{7}");
    s.thread(1, "数据库线程🧵🧵🧵🧵🧵🧵🧵🧵🧵🧵");
    s.at(MS).acquire(0, 0);
    s.at(2 * MS).acquire(1, 1);
    s.at(3 * MS).request(1, 0).request(0, 1);
    let mut app = app("\u{1b}[2Jtitle\u{7}", true, &s.build(), 30 * MS);
    app.push_output("\u{1b}[31mred\u{1b}[0m \u{202e}txet\n\u{7}bell\r\n");
    for all in safe_layouts(&mut app) {
        assert!(all.contains("\\u{1b}[31mevi"), "{all}");
    }
    app.details = false;
    let terminal = screen(&app, 120, 40);
    insta::assert_snapshot!("hostile_names", terminal.backend());
}

#[test]
fn condvar_waits_exits_and_panics_snapshot() {
    let mut s = Script::new();
    s.lock(0, "queue", LockKind::Mutex)
        .lock(1, "ready", LockKind::Condvar);
    s.thread(0, "consumer").thread(1, "producer");
    s.thread(2, "crasher").thread(3, "quitter");
    s.at(MS).acquire(0, 0);
    s.at(2 * MS).cond_wait(0, 1, 0);
    s.at(3 * MS).exit(3);
    s.at(4 * MS).acquire(1, 0);
    s.at(5 * MS).panic(2, "index out of bounds\u{1b}[2J");
    let app = app("condvar", true, &s.build(), 12 * MS);
    let terminal = screen(&app, 100, 30);
    insta::assert_snapshot!("condvar_exit_panic", terminal.backend());
    let all = text(terminal.backend().buffer());
    assert!(all.contains("consumer ┄waits on→ ready"), "{all}");
    assert!(all.contains("alive 2/4"), "{all}");
    assert!(
        all.contains("PANICKED: index out of bounds\\u{1b}[2J"),
        "{all}"
    );
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "crasher").unwrap();
    let lane: String = (x..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
    assert!(lane.contains("─✗ "), "{lane}");
    let (x, y) = find(buf, "consumer").unwrap();
    let lane: String = (x..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
    assert!(lane.contains("░ready░"), "{lane}");
}

#[test]
fn any_size_draws_without_panicking() {
    let mut apps = vec![running(), deadlocked(false), app("empty", true, &[], 0)];
    let mut with_overlays = deadlocked(true);
    with_overlays.on_action(Action::ToggleDetails);
    with_overlays.on_action(Action::ToggleHelp);
    apps.push(with_overlays);
    let sizes = [
        (0, 0),
        (1, 1),
        (20, 5),
        (40, 12),
        (59, 15),
        (60, 14),
        (60, 15),
        (80, 24),
        (200, 50),
        (300, 100),
    ];
    for app in &apps {
        for (w, h) in sizes {
            let terminal = screen(app, w, h);
            if (w, h) == (20, 5) {
                assert!(text(terminal.backend().buffer()).contains("too small"));
            }
        }
        for w in 0..70 {
            for h in [0, 3, 14, 15, 16, 17, 30] {
                screen(app, w, h);
            }
        }
    }
}

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

/// Step mode's panel replaces the output panel: pending operations with
/// their numbers, threads that cannot move, the steps taken, the deadlock.
#[test]
fn step_mode_panel_lists_pending_operations_and_the_steps_to_the_deadlock() {
    use crate::control::{StepLine, StepLineKind, StepPanel};
    let line = |text: &str, kind| StepLine {
        text: text.into(),
        kind,
    };
    let mut app = app("abba", true, &abba(), 40 * MS);
    app.set_run_state(RunState::Deadlocked);
    app.set_step_panel(Some(StepPanel {
        title: " Step: 1-9 move · n next · c run free · w write · s off ".into(),
        lines: vec![
            line(
                "  left cannot move: waits for B, held by right",
                StepLineKind::Blocked,
            ),
            line(
                "  right cannot move: waits for A, held by left",
                StepLineKind::Blocked,
            ),
            line(
                "step 1: left → lock A  (abba.toml:13)",
                StepLineKind::Deadlock,
            ),
            line(
                "step 2: right → lock B  (abba.toml:23)",
                StepLineKind::Deadlock,
            ),
            line(
                "step 3: left → lock B  (abba.toml:15)",
                StepLineKind::Deadlock,
            ),
            line(
                "step 4: right → lock A  (abba.toml:25)",
                StepLineKind::Deadlock,
            ),
            line("DEADLOCK after step 4", StepLineKind::Deadlock),
        ],
        ..StepPanel::default()
    }));
    let terminal = screen(&app, 120, 40);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "DEADLOCK after step 4").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(
        find(buf, "Output").is_none(),
        "the step panel replaces the output"
    );
    insta::assert_snapshot!("step_mode_deadlock", terminal.backend());
    // Pending operations, numbered and bold, while threads can still move.
    app.set_step_panel(Some(StepPanel {
        title: " Step: 1-9 move · n next · c run free · w write · s off ".into(),
        lines: vec![
            line("1 left → lock A  (abba.toml:13)", StepLineKind::Movable),
            line("2 right → lock B  (abba.toml:23)", StepLineKind::Movable),
        ],
        on: true,
        parked: vec!["left".into(), "right".into()],
        progress: Some((1, 4)),
    }));
    let terminal = screen(&app, 120, 40);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "1 left → lock A").unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    insta::assert_snapshot!("step_mode_pending", terminal.backend());
}

/// `lost-update` as the viewer ends it: four workers finished, the counter
/// short of what `[expect]` wants.
#[test]
fn a_failed_expectation_snapshot() {
    let mut s = Script::new();
    s.lock(0, "M", LockKind::Mutex);
    for w in 0..4u32 {
        s.thread(w, &format!("worker {w}"));
    }
    for w in 0..4u32 {
        let at = (1 + 2 * u64::from(w)) * MS;
        s.at(at).acquire(w, 0).at(at + MS / 2).release(w, 0);
    }
    for w in 0..4u32 {
        s.at(12 * MS).exit(w);
    }
    let mut app = app("lost-update", true, &s.build(), 40 * MS);
    app.set_run_state(RunState::Finished);
    app.set_expectations(vec![crate::scenario::ExpectResult {
        var: "counter".into(),
        expected: 20,
        actual: 6,
    }]);
    for (w, h, name) in [
        (80, 24, "expect_failed_80x24"),
        (120, 30, "expect_failed_120x30"),
    ] {
        let terminal = screen(&app, w, h);
        let buf = terminal.backend().buffer();
        let all = text(buf);
        assert!(all.contains("finished, expect FAILED"), "{all}");
        let (x, y) = find(buf, "EXPECT FAILED: counter = 6").unwrap();
        assert_eq!(buf[(x, y)].bg, Color::Red, "as loud as a deadlock");
        insta::assert_snapshot!(name, terminal.backend());
    }
    assert!(app.expectation_failed());
    app.set_expectations(vec![crate::scenario::ExpectResult {
        var: "counter".into(),
        expected: 20,
        actual: 20,
    }]);
    assert!(!app.expectation_failed());
    let all = text(screen(&app, 80, 24).backend().buffer());
    assert!(
        all.contains("expect counter = 20: ok") && !all.contains("FAILED"),
        "{all}"
    );
}

/// Step mode looks like step mode: STEP (with a schedule's progress) in the
/// header, parked lanes drawn apart, and the output a Tab away.
#[test]
fn step_mode_header_parked_lanes_and_the_output_within_reach() {
    use crate::control::{StepLine, StepLineKind, StepPanel};
    let mut s = Script::new();
    s.lock(0, "A", LockKind::Mutex)
        .thread(0, "left")
        .thread(1, "right");
    s.at(MS).acquire(0, 0).at(2 * MS).release(0, 0);
    let mut app = app("abba", true, &s.build(), 10 * MS);
    app.push_output("hello from the program\n");
    app.set_step_panel(Some(StepPanel {
        title: " Step ".into(),
        lines: vec![StepLine {
            text: "step 1/4, next: left → lock A  (n)".into(),
            kind: StepLineKind::Note,
        }],
        on: true,
        parked: vec!["left".into()],
        progress: Some((1, 4)),
    }));
    let terminal = screen(&app, 120, 30);
    let buf = terminal.backend().buffer();
    let all = text(buf);
    assert!(
        all.lines().next().unwrap().contains("│ STEP 1/4 │"),
        "{all}"
    );
    assert!(!all.contains("LIVE"));
    // left, parked since its release at 2 ms, is ┄ from there; right runs.
    let lane = |name: &str| {
        let lane = all.lines().find(|l| l.starts_with('│') && l.contains(name));
        lane.unwrap().to_owned()
    };
    assert!(
        lane("left").contains("┄┄┄") && !lane("left").contains("───"),
        "{all}"
    );
    assert!(
        lane("right").contains("───") && !lane("right").contains('┄'),
        "{all}"
    );
    assert!(all.contains("step 1/4, next: left → lock A") && !all.contains("hello from"));
    app.focus = Focus::Output;
    let all = text(screen(&app, 120, 30).backend().buffer());
    assert!(all.contains("hello from the program"), "{all}");
}
