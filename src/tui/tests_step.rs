//! Step mode and `[expect]` on whole screens: insta snapshots of the text,
//! plus assertions on what carries meaning.
#![allow(clippy::unwrap_used)]

use ratatui::style::{Color, Modifier};

use super::fixtures::{MS, Script, abba};
use super::tests::{app, find, screen, text};
use super::{Focus, RunState};
use crate::event::LockKind;

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
        overflowed: false,
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
        overflowed: false,
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
