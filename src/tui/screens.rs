//! The screens the issue names, as a user first sees them, at 80x24 and
//! 120x30: insta snapshots of the text, so any change to what they show is
//! reviewed.
#![allow(clippy::unwrap_used)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::fixtures::{MS, abba, convoy_finished, philosophers_deadlock, three_cycle};
use super::{App, AppConfig, RunState, draw};
use crate::TransportStats;
use crate::control::{StepLine, StepLineKind, StepPanel};
use crate::event::Event;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 30)];

fn app(title: &str, events: &[Event], now: u64, state: RunState) -> App {
    let mut app = App::new(AppConfig {
        title: title.into(),
        color: true,
        history_spans: 100_000,
    });
    app.ingest(events);
    app.tick(now, TransportStats::default());
    app.set_run_state(state);
    app
}

fn snapshots(name: &str, app: &App, check: impl Fn(&str)) {
    for (w, h) in SIZES {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|frame| draw(frame, app)).unwrap();
        let buf = terminal.backend().buffer();
        let text: String = (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
            .collect();
        check(&text);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn abba_deadlocked() {
    let app = app("abba", &abba(), 3_000 * MS, RunState::Deadlocked);
    snapshots("abba", &app, |s| {
        assert!(s.contains("the deadlock, whole") && s.contains("DEADLOCK at"));
        assert!(s.contains('█') && s.contains('▓'));
    });
}

#[test]
fn three_cycle_deadlocked() {
    let app = app(
        "three-cycle",
        &three_cycle(),
        3_000 * MS,
        RunState::Deadlocked,
    );
    snapshots("three_cycle", &app, |s| {
        for name in ["first", "second", "third"] {
            assert!(s.contains(&format!("{name} ─waits→")), "{s}");
        }
    });
}

#[test]
fn philosophers_deadlocked() {
    let app = app(
        "philosophers",
        &philosophers_deadlock(),
        3_000 * MS,
        RunState::Deadlocked,
    );
    snapshots("philosophers", &app, |s| {
        assert!(s.contains("DEADLOCK at scenario.toml:26"), "{s}");
        for p in 0..5 {
            assert!(s.contains(&format!("philosopher {p} ─waits→")), "{s}");
        }
    });
}

#[test]
fn convoy_finished_screen() {
    let app = app("convoy", &convoy_finished(), 2_000 * MS, RunState::Finished);
    snapshots("convoy_finished", &app, |s| {
        assert!(s.contains("finished") && s.contains("the whole run"), "{s}");
        // Healthy waiting, no alarm: no deadlock anywhere.
        let lanes = s
            .lines()
            .filter(|l| l.contains("writer") && l.contains('█'));
        assert!(!s.contains("DEADLOCK"), "{s}");
        assert!(
            lanes.clone().all(|l| !l.contains('▓')) && lanes.count() == 4,
            "{s}"
        );
        // The clock stopped at the last exit.
        assert!(s.lines().next().unwrap().contains("│ 13ms │"), "{s}");
    });
}

#[test]
fn step_mode_mid_schedule() {
    // abba with steps 1 and 2 of 4 taken: both hold their first lock.
    let events: Vec<Event> = abba().into_iter().take(6).collect();
    let mut app = app("abba", &events, 5 * MS, RunState::Running);
    let line = |text: &str, kind| StepLine {
        text: text.into(),
        kind,
    };
    app.set_step_panel(Some(StepPanel {
        title: " Step: 1-9 move · n next · c run free · w write · b back ".into(),
        lines: vec![
            line("step 2/4, next: left → lock B  (n)", StepLineKind::Note),
            line("1 left → lock B  (abba.toml:15)", StepLineKind::Movable),
            line("2 right → lock A  (abba.toml:25)", StepLineKind::Movable),
            line("step 1: left → lock A  (abba.toml:13)", StepLineKind::Taken),
            line(
                "step 2: right → lock B  (abba.toml:23)",
                StepLineKind::Taken,
            ),
        ],
        on: true,
        parked: vec!["left".into(), "right".into()],
        progress: Some((2, 4)),
    }));
    snapshots("step_mode_mid_schedule", &app, |s| {
        assert!(
            s.contains("STEP 2/4") && s.contains("step 2/4, next: left → lock B"),
            "{s}"
        );
        assert!(s.contains('┄'), "parked lanes look parked:\n{s}");
    });
}
