//! Whole screens drawn from synthetic event sequences: insta snapshots of the
//! text, plus assertions on the styles that carry meaning.
#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

use super::fixtures::{MS, Script, abba, philosophers_deadlock, philosophers_running};
use super::{Action, App, AppConfig, Flow, RunState, draw, layout};
use crate::TransportStats;
use crate::event::{Event, LockKind};

pub(super) fn app(title: &str, color: bool, events: &[Event], now: u64) -> App {
    let mut app = App::new(AppConfig {
        title: title.into(),
        color,
        history_spans: 100_000,
    });
    app.ingest(events);
    app.tick(now, TransportStats::default());
    app
}

pub(super) fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    terminal
}

pub(super) fn running() -> App {
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
pub(super) fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
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

pub(super) fn text(buf: &Buffer) -> String {
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
        // Escaped, whole or cut in the middle (a narrow lane keeps both ends).
        let evil = ["\\u{1b}[31mevi", "\\u{1b}…;x\\u{7}"];
        assert!(evil.iter().any(|e| all.contains(e)), "{all}");
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
    // The text export's words, the escape sanitised, cut in the middle.
    assert!(all.contains("crasher  panicked: \"index o…"), "{all}");
    assert!(all.contains("…of bounds\\u{1b}[2J\""), "{all}");
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
