//! The real binary in a real pseudo-terminal: read the screen, type keys,
//! check the terminal is given back. Needs nothing installed by hand.
#![allow(clippy::unwrap_used)]

mod common;

use common::pty::{LEAVE_ALT, Pty, example};

#[test]
fn abba_deadlock_shows_in_the_viewer_and_q_restores_the_terminal() {
    let mut pty = Pty::lockscope(&["run", "abba"], &[]);
    pty.wait_for("the deadlock banner naming both threads", |screen| {
        screen.contains("DEADLOCK") && screen.contains("left") && screen.contains("right")
    });
    assert!(pty.screen.screen().alternate_screen());
    pty.keys("q");
    assert_eq!(pty.exit_code(), 3);
    pty.assert_restored();
}

#[test]
fn a_panic_in_the_viewer_restores_the_terminal_before_the_message() {
    let mut pty = Pty::lockscope(&["run", "philosophers"], &[("LOCKSCOPE_TEST_PANIC", "1")]);
    let code = pty.exit_code();
    assert_eq!(code, 101, "{}", String::from_utf8_lossy(&pty.raw));
    let left = pty
        .position(LEAVE_ALT)
        .expect("the terminal was not restored");
    let message = pty
        .position(b"panicking in the viewer on purpose")
        .expect("no panic message");
    assert!(
        message > left,
        "the panic message was printed on the alternate screen"
    );
    assert!(!pty.screen.screen().alternate_screen());
}

#[test]
fn help_overlay_opens_and_closes() {
    let mut pty = Pty::lockscope(&["run", "philosophers-ordered"], &[]);
    pty.wait_for("the viewer", |s| s.contains("philosopher"));
    pty.keys("?");
    pty.wait_for("the help overlay", |s| s.contains("Help (? or Esc closes)"));
    // Esc closes it (and only it: the viewer stays).
    pty.keys("\x1b");
    pty.wait_for("the help overlay to close", |s| {
        !s.contains("Help (? or Esc closes)") && s.contains("philosopher")
    });
    // Still running, `q` asks once (and ends it: 130); if it finished
    // meanwhile the first quits (0).
    pty.keys("qq");
    let code = pty.exit_code();
    assert!(code == 0 || code == 130, "exit {code}");
    assert!(!pty.screen.screen().alternate_screen());
}

#[test]
fn a_users_program_opens_the_viewer_and_its_output_is_kept_off_the_screen() {
    let bank = example("bank");
    let mut pty = Pty::spawn(bank.to_str().unwrap(), &["--fixed"], &[]);
    pty.wait_for("the tellers' lanes", |s| {
        s.contains("teller 0") && s.contains("teller 3")
    });
    // The program prints while the viewer is up: it shows in the viewer's
    // output panel, never as raw text across the screen.
    pty.wait_for("the program's output in the viewer", |s| {
        s.contains("transfers done")
    });
    pty.keys("qq");
    let code = pty.exit_code();
    assert!(code == 0 || code == 130, "exit {code}");
    let left = pty
        .position(LEAVE_ALT)
        .expect("the terminal was not restored");
    // Everything the program printed comes out on the real terminal after.
    let printed = pty
        .position(b"teller 0: 0 transfers done")
        .expect("the captured output was not printed after the viewer closed");
    assert!(printed > left);
    assert!(!pty.screen.screen().alternate_screen());
}

#[test]
fn replay_travels_through_a_recording_and_back() {
    let dir = std::env::temp_dir().join(format!("lockscope-pty-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("abba.trace");
    let recorded = std::process::Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args([
            "run",
            "abba",
            "--headless",
            "--record",
            trace.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(recorded.status.code(), Some(3));
    let mut pty = Pty::lockscope(&["replay", trace.to_str().unwrap()], &[]);
    pty.wait_for("the replay at its start", |s| {
        s.contains("REPLAY ❚❚ 1× 0/8")
    });
    // To the deadlock: the state at that event, banner included.
    pty.keys("d");
    pty.wait_for("the deadlock", |s| {
        s.contains("REPLAY ❚❚ 1× 8/8") && s.contains("DEADLOCK")
    });
    // One event back: the cycle is not closed yet.
    pty.keys(",");
    pty.wait_for("one event back", |s| {
        s.contains("7/8") && !s.contains("DEADLOCK")
    });
    pty.keys("q");
    assert_eq!(pty.exit_code(), 0);
    assert!(!pty.screen.screen().alternate_screen());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn step_mode_walks_abba_into_its_deadlock_with_keys_only() {
    let mut pty = Pty::lockscope(&["run", "abba", "--step"], &[]);
    pty.wait_for("both threads stopped before their first lock", |s| {
        s.contains("1 left → lock A") && s.contains("2 right → lock B")
    });
    // Nothing moves on its own.
    assert!(!pty.screen.screen().contents().contains("step 1:"));
    pty.keys("1");
    pty.wait_for("left took A and stopped before B", |s| {
        s.contains("step 1: left → lock A") && s.contains("left → lock B")
    });
    pty.keys("2");
    pty.wait_for("right took B", |s| s.contains("step 2: right → lock B"));
    pty.keys("n");
    pty.wait_for("left asked for B", |s| s.contains("step 3: left → lock B"));
    pty.keys("n");
    pty.wait_for("the cycle closed, with its steps", |s| {
        s.contains("step 4: right → lock A") && s.contains("DEADLOCK after step 4")
    });
    pty.keys("q");
    assert_eq!(pty.exit_code(), 3);
    assert!(!pty.screen.screen().alternate_screen());
}

#[test]
fn back_undoes_a_step_by_replaying_the_others_on_a_fresh_run() {
    let mut pty = Pty::lockscope(&["run", "abba", "--step"], &[]);
    pty.wait_for("both threads stopped", |s| s.contains("2 right → lock B"));
    pty.keys("1");
    pty.wait_for("left at its second lock", |s| s.contains("left → lock B"));
    pty.keys("2");
    pty.wait_for("step 2", |s| s.contains("step 2: right → lock B"));
    pty.keys("n");
    pty.wait_for("step 3", |s| s.contains("step 3: left → lock B"));
    pty.keys("b");
    pty.wait_for("a fresh run with two steps replayed", |s| {
        s.contains("replayed 2 steps; your move")
            && s.contains("step 2: right → lock B")
            && !s.contains("step 3:")
    });
    // Its threads still parked: quitting ends a run that was not over.
    pty.keys("qq");
    assert_eq!(pty.exit_code(), 130);
    assert!(!pty.screen.screen().alternate_screen());
}

#[test]
fn a_schedule_is_stepped_through_with_n_in_the_viewer() {
    let dir = std::env::temp_dir().join(format!("lockscope-pty-sched-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("abba.schedule");
    let explored = std::process::Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(["explore", "abba", "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(explored.status.code(), Some(3));
    let mut pty = Pty::lockscope(&["run", "abba", "--schedule", file.to_str().unwrap()], &[]);
    pty.wait_for(
        "step mode on the schedule, its progress in the header",
        |s| {
            s.contains("2 right → lock B")
                && s.contains("STEP 0/4")
                && s.contains("step 0/4, next: ")
        },
    );
    for step in 1..=4 {
        pty.keys("n");
        pty.wait_for(&format!("step {step}"), |s| {
            s.contains(&format!("step {step}:")) && s.contains(&format!("STEP {step}/4"))
        });
    }
    pty.wait_for("the schedule's deadlock", |s| {
        s.contains("DEADLOCK after step 4")
    });
    pty.keys("q");
    assert_eq!(pty.exit_code(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lockscope_step_stops_a_programs_threads_in_the_viewer() {
    let bank = example("bank");
    let mut pty = Pty::spawn(
        bank.to_str().unwrap(),
        &["--fixed"],
        &[("LOCKSCOPE_STEP", "1")],
    );
    pty.wait_for("tellers stopped before their first lock", |s| {
        s.contains("teller 0 → lock account") && s.contains("teller 3 → lock account")
    });
    // Nothing moves until asked; then one thread takes one step: main,
    // first in line, joins (step mode stops before joins too), then a teller.
    pty.keys("n");
    pty.wait_for("main's join", |s| {
        s.contains("step 1: main → join teller 0")
    });
    pty.keys("n");
    pty.wait_for("a step taken", |s| s.contains("step 2: teller"));
    pty.keys("b");
    pty.wait_for("why a program cannot go back", |s| {
        s.contains("cannot be restarted")
    });
    // Run free and let the program finish: the header says so (the step
    // panel's "teller 0 finished" comes before the program's end).
    pty.keys("c");
    pty.wait_for("the program's end", |s| {
        s.lines()
            .next()
            .is_some_and(|header| header.contains("finished"))
    });
    pty.keys("q");
    assert_eq!(pty.exit_code(), 0);
    assert!(!pty.screen.screen().alternate_screen());
}

#[test]
fn a_paused_live_session_travels_back_in_time() {
    let mut pty = Pty::lockscope(&["run", "abba"], &[]);
    pty.wait_for("the deadlock", |s| s.contains("DEADLOCK at "));
    pty.keys(" ");
    pty.wait_for("paused", |s| s.contains("PAUSED"));
    pty.keys(",");
    pty.wait_for("one event back: the cycle not yet closed", |s| {
        s.contains("REPLAY ❚❚ 1× 7/8") && !s.contains("DEADLOCK at ")
    });
    pty.keys("d");
    pty.wait_for("forward to the deadlock", |s| {
        s.contains("8/8") && s.contains("DEADLOCK at ")
    });
    pty.keys(" ");
    pty.wait_for("live again", |s| s.contains("LIVE"));
    pty.keys("q");
    assert_eq!(pty.exit_code(), 3);
}

#[test]
fn in_step_mode_enter_moves_the_thread_selected_in_the_timeline() {
    let mut pty = Pty::lockscope(&["run", "abba", "--step"], &[]);
    // The step panel comes from the gate, the lanes from the events: both.
    pty.wait_for("both threads stopped, a lane selected", |s| {
        s.contains("2 right → lock B") && s.contains('▶')
    });
    // The selected lane (marked ▶) is the thread that moves.
    let selected = pty
        .screen
        .screen()
        .contents()
        .lines()
        .find_map(|l| {
            l.split('▶')
                .nth(1)
                .map(|r| r.split_whitespace().next().unwrap_or("").to_owned())
        })
        .unwrap();
    pty.keys("\r");
    pty.wait_for("the selected thread took a step", |s| {
        s.contains(&format!("step 1: {selected} → lock"))
    });
    pty.keys("qq");
    pty.exit_code();
}

/// One thread, one increment, a check that wants five: it fails every time.
const ALWAYS_FAILS: &str = r#"
name = "short-count"
description = "One increment where five are expected"

[locks]
M = "mutex"

[vars]
counter = 0

[[thread]]
name = "worker"
steps = ["lock M", "load counter", "add 1", "store counter", "unlock M"]

[expect]
counter = 5
"#;

#[test]
fn a_failed_expectation_shows_in_the_viewer_and_exits_as_headless_does() {
    let dir = std::env::temp_dir().join(format!("lockscope-pty-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("short-count.toml");
    std::fs::write(&file, ALWAYS_FAILS).unwrap();
    let file = file.to_str().unwrap();
    let headless = std::process::Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(["run", file, "--headless"])
        .output()
        .unwrap();
    let mut pty = Pty::lockscope(&["run", file], &[]);
    pty.wait_for("the failed check, in the header and the panel", |screen| {
        screen.contains("expect FAILED") && screen.contains("EXPECT FAILED: counter = 1, not 5")
    });
    pty.keys("q");
    let code = pty.exit_code();
    pty.assert_restored();
    assert_eq!(code, 5);
    assert_eq!(headless.status.code(), Some(5));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn q_asks_once_while_the_program_runs_and_esc_never_quits() {
    let mut pty = Pty::lockscope(&["run", "abba", "--step"], &[]);
    pty.wait_for("both threads stopped", |s| s.contains("2 right → lock B"));
    // Nothing open: Esc does nothing. (A pause after it: Esc and the next
    // key at once read as Alt-key.)
    pty.keys("\x1b");
    assert!(
        !pty.exits_within(std::time::Duration::from_millis(300)),
        "a lone Esc quit"
    );
    pty.keys("?");
    pty.wait_for("the help after a lone Esc", |s| {
        s.contains("Help (? or Esc closes)")
    });
    pty.keys("\x1b");
    pty.wait_for("the help closed by Esc", |s| !s.contains("Help (?"));
    // `q` asks; another key stays.
    pty.keys("q");
    pty.wait_for("the question", |s| {
        s.contains("The program is still running.")
    });
    pty.keys("x");
    pty.wait_for("the question gone", |s| {
        !s.contains("still running") && s.contains("[timeline]")
    });
    // Asked again, `q` confirms.
    pty.keys("q");
    pty.wait_for("the question", |s| s.contains("q again quits and ends it"));
    pty.keys("q");
    assert_eq!(
        pty.exit_code(),
        130,
        "ended while it ran, as a program's viewer says"
    );
    pty.assert_restored();
}

#[test]
fn quitting_on_a_deadlock_prints_the_report_after_the_terminal_is_restored() {
    let mut pty = Pty::lockscope(&["run", "abba"], &[]);
    pty.wait_for("the deadlock", |s| s.contains("DEADLOCK at "));
    // Deadlocked, nothing runs any more: one `q` quits.
    pty.keys("q");
    assert_eq!(pty.exit_code(), 3);
    pty.assert_restored();
    let left = pty
        .position(LEAVE_ALT)
        .expect("the terminal was not restored");
    let report = pty
        .position(b"abba.toml:")
        .expect("no deadlock report after the viewer");
    assert!(
        report > left,
        "the report was printed on the alternate screen"
    );
    let after = String::from_utf8_lossy(&pty.raw[left..]).into_owned();
    assert!(after.contains("left") && after.contains("right"), "{after}");
}

#[test]
fn a_threads_number_keeps_its_meaning_after_others_block() {
    let mut pty = Pty::lockscope(&["run", "abba", "--step"], &[]);
    pty.wait_for("both stopped, STEP in the header", |s| {
        s.contains("1 left → lock A") && s.contains("2 right → lock B") && s.contains("STEP")
    });
    pty.keys("1");
    pty.wait_for("step 1", |s| s.contains("step 1: left → lock A"));
    pty.keys("2");
    pty.wait_for("step 2, left at its next lock", |s| {
        s.contains("step 2: right → lock B") && s.contains("1 left → lock B")
    });
    pty.keys("1");
    // left is blocked now; right is the only one that can move, and is still 2.
    pty.wait_for("left blocked, right still number 2", |s| {
        s.contains("step 3: left → lock B")
            && s.contains("1 left cannot move")
            && s.contains("2 right → lock A")
    });
    pty.keys("2");
    pty.wait_for("the deadlock", |s| s.contains("DEADLOCK after step 4"));
    pty.keys("q");
    assert_eq!(pty.exit_code(), 3);
}
