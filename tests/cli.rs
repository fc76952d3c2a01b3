//! The real binary on every built-in scenario, and on bad input.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use serde_json::Value;

fn lockscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs a scenario headless with `--json`; returns the exit status and report.
fn run_json(scenario: &str) -> (i32, Value) {
    let out = lockscope(&["run", scenario, "--headless", "--json", "--timeout", "30s"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{scenario}: not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

fn names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn assert_deadlock(scenario: &str, threads: &[&str], locks: &[&str]) -> Value {
    let (code, report) = run_json(scenario);
    assert_eq!(code, 3, "{scenario}: {report:#}");
    assert_eq!(report["outcome"], "deadlock");
    let deadlock = &report["deadlocks"][0];
    assert_eq!(names(&deadlock["threads"]), threads, "{report:#}");
    assert_eq!(names(&deadlock["locks"]), locks, "{report:#}");
    assert!(report["events"].as_u64().unwrap() > 0);
    report
}

fn assert_finishes_cleanly(scenario: &str) -> Value {
    let (code, report) = run_json(scenario);
    assert_eq!(code, 0, "{scenario}: {report:#}");
    assert_eq!(report["outcome"], "finished");
    assert_eq!(report["deadlocks"].as_array().unwrap().len(), 0);
    assert_eq!(report["anomalies"], 0);
    report
}

#[test]
fn abba_deadlocks_with_both_threads_named() {
    let report = assert_deadlock("abba", &["left", "right"], &["A", "B"]);
    assert_eq!(
        report["potential_deadlocks"][0]["locks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let edge = &report["deadlocks"][0]["edges"][0];
    assert!(
        edge["requested_at"]
            .as_str()
            .unwrap()
            .starts_with("abba.toml:"),
        "{edge}"
    );
    assert!(
        edge["held_at"].as_str().unwrap().starts_with("abba.toml:"),
        "{edge}"
    );
}

#[test]
fn three_cycle_deadlocks() {
    let (code, report) = run_json("three-cycle");
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(
        report["deadlocks"][0]["threads"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn philosophers_deadlock_all_five() {
    let (code, report) = run_json("philosophers");
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(
        report["deadlocks"][0]["threads"].as_array().unwrap().len(),
        5
    );
}

#[test]
fn self_deadlock_and_rwlock_upgrade_are_one_thread_cycles() {
    for scenario in ["self-deadlock", "rwlock-upgrade"] {
        let (code, report) = run_json(scenario);
        assert_eq!(code, 3, "{scenario}: {report:#}");
        assert_eq!(
            report["deadlocks"][0]["threads"].as_array().unwrap().len(),
            1
        );
    }
}

#[test]
fn safe_scenarios_finish_without_reports() {
    for scenario in [
        "philosophers-ordered",
        "readers-writer",
        "convoy",
        "condvar-handoff",
    ] {
        let report = assert_finishes_cleanly(scenario);
        if scenario == "philosophers-ordered" {
            assert_eq!(report["potential_deadlocks"].as_array().unwrap().len(), 0);
        }
        if scenario == "convoy" {
            let lock = &report["locks"][0];
            assert!(lock["contended"].as_u64().unwrap() > 0, "{lock}");
        }
    }
}

#[test]
fn join_and_channel_cycles_deadlock_and_name_the_join_and_the_channel() {
    // The cycle's "locks" are its locks and channels; a join has none.
    let report = assert_deadlock("join-cycle", &["main", "worker"], &["state"]);
    let text = report["deadlocks"][0]["report"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = lockscope(&["run", "join-cycle", "--headless"]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("thread \"main\" joins thread \"worker\" (joined at join-cycle.toml:16"),
        "{stdout}{text}"
    );
    assert!(
        stdout.contains(
            "thread \"worker\" waits for mutex \"state\" (requested at join-cycle.toml:24"
        ),
        "{stdout}"
    );
    assert_deadlock(
        "channel-cycle",
        &["collector", "worker"],
        &["cache", "results"],
    );
    let out = lockscope(&["run", "channel-cycle", "--headless"]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "thread \"collector\" waits for a message on channel \"results\" \
             (recv at channel-cycle.toml:16"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("only thread \"worker\" can send to it"),
        "{stdout}"
    );
}

#[test]
fn the_pipeline_finishes_with_every_job_counted() {
    let report = assert_finishes_cleanly("pipeline");
    assert_eq!(report["potential_deadlocks"].as_array().unwrap().len(), 0);
    assert_eq!(report["expectations"][0]["actual"], 20, "{report:#}");
}

#[test]
fn lockscope_stall_grace_applies_to_scenarios_too() {
    let with = |grace: &str| {
        Command::new(env!("CARGO_BIN_EXE_lockscope"))
            .args(["run", "lost-wakeup", "--headless", "--timeout", "3s"])
            .env("LOCKSCOPE_STALL_GRACE", grace)
            .output()
            .unwrap()
    };
    // Off: the lost wake-up does not end the run as a stall; it times out
    // (the summary still says the run ended stalled: that is where it ended).
    let out = with("off");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("timed out after"),
        "{out:?}"
    );
    let out = with("20ms");
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let out = with("soon");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("LOCKSCOPE_STALL_GRACE=\"soon\""),
        "{stderr}"
    );
}

#[test]
fn a_lost_wakeup_is_a_stall_not_a_deadlock() {
    let (code, report) = run_json("lost-wakeup");
    assert_eq!(code, 6, "{report:#}");
    assert_eq!(report["outcome"], "stall");
    assert!(report["deadlocks"].as_array().unwrap().is_empty());
    let stall = report["stalls"][0].to_string();
    assert!(
        stall.contains("consumer") && stall.contains("ready"),
        "{stall}"
    );
    let out = lockscope(&["run", "lost-wakeup", "--headless"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\"consumer\" waits on condvar \"ready\" (at lost-wakeup.toml:23) and no running thread can notify it"),
        "{stdout}"
    );
}

#[test]
fn heisenbug_shows_its_lock_order_inversion_even_when_it_does_not_hang() {
    let (code, report) = run_json("heisenbug");
    assert!(code == 0 || code == 3, "{report:#}");
    assert!(
        !report["potential_deadlocks"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
}

#[test]
fn lost_update_shows_the_total_against_the_expected_one() {
    let (code, report) = run_json("lost-update");
    let expect = &report["expectations"][0];
    let (expected, actual) = (
        expect["expected"].as_i64().unwrap(),
        expect["actual"].as_i64().unwrap(),
    );
    assert!(actual <= expected);
    assert_eq!(code, if actual == expected { 0 } else { 5 }, "{report:#}");
    let text = lockscope(&["run", "lost-update", "--headless"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("expect counter ="), "{stdout}");
}

#[test]
fn the_text_report_names_threads_locks_and_sites() {
    let out = lockscope(&["run", "abba", "--headless"]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in ["DEADLOCK", "left", "right", "abba.toml:", "POTENTIAL"] {
        assert!(stdout.contains(needle), "missing {needle}: {stdout}");
    }
}

#[test]
fn list_shows_every_builtin_with_its_description() {
    let out = lockscope(&["list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in [
        "philosophers",
        "philosophers-ordered",
        "abba",
        "three-cycle",
        "self-deadlock",
        "rwlock-upgrade",
        "readers-writer",
        "convoy",
        "lost-update",
        "condvar-handoff",
        "lost-wakeup",
        "heisenbug",
        "join-cycle",
        "channel-cycle",
        "pipeline",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name));
        let line = line.unwrap_or_else(|| panic!("{name} not listed: {stdout}"));
        assert!(line.len() > name.len() + 10, "{line}");
    }
    assert!(!stdout.contains("does not load"), "{stdout}");
}

#[test]
fn a_user_file_runs_and_its_errors_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("lockscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("mine.toml");
    std::fs::write(
        &good,
        "name = \"mine\"\ndescription = \"one thread\"\n[locks]\nA = \"mutex\"\n[[thread]]\nname = \"solo\"\nsteps = [\"lock A\", \"unlock A\"]\n",
    )
    .unwrap();
    let (code, report) = run_json(good.to_str().unwrap());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["locks"][0]["acquisitions"], 1);

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\ndescription = \"x\"\n[locks]\nA = \"mutex\"\n[[thread]]\nname = \"t\"\nsteps = [\"lock A\", \"lock C\"]\n",
    )
    .unwrap();
    let out = lockscope(&["run", bad.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:7:"), "{stderr}");
    assert!(stderr.contains("unknown lock"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file name with an escape sequence and a bidi override (say, from a
/// glob over someone else's directory) is shown escaped.
#[test]
fn hostile_file_names_are_escaped_in_errors() {
    let dir = std::env::temp_dir().join(format!("lockscope-cli-evil-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let evil = dir.join("x\u{1b}[31mred\u{202e}.toml");
    std::fs::write(&evil, "garbage").unwrap();
    for args in [
        vec!["run", evil.to_str().unwrap(), "--headless"],
        vec!["replay", evil.to_str().unwrap(), "--headless"],
    ] {
        let out = lockscope(&args);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("x\\u{1b}[31mred\\u{202e}.toml"), "{stderr}");
        assert!(
            !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["run"][..],
        &["frobnicate"],
        &["run", "no-such-scenario"],
        &["run", "abba", "--timeout", "soon"],
    ] {
        let out = lockscope(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn a_scenario_that_hangs_without_a_cycle_times_out_with_status_4() {
    let dir = std::env::temp_dir().join(format!("lockscope-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hang.toml");
    std::fs::write(
        &file,
        "name = \"hang\"\ndescription = \"waits for a notify that never comes\"\n[locks]\nM = \"mutex\"\nCV = \"condvar\"\n[[thread]]\nname = \"waiter\"\nsteps = [\"lock M\", \"wait CV M\", \"unlock M\"]\n",
    )
    .unwrap();
    let out = lockscope(&[
        "run",
        file.to_str().unwrap(),
        "--headless",
        "--timeout",
        "300ms",
    ]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_scenario_waiting_for_a_notify_that_never_comes_is_a_stall_with_status_6() {
    let dir = std::env::temp_dir().join(format!("lockscope-stall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lost.toml");
    std::fs::write(
        &file,
        "name = \"lost\"\ndescription = \"the producer forgets to notify\"\n[locks]\nM = \"mutex\"\nready = \"condvar\"\n[[thread]]\nname = \"consumer\"\nsteps = [\"lock M\", \"wait ready M\", \"unlock M\"]\n[[thread]]\nname = \"producer\"\nsteps = [\"lock M\", \"unlock M\"]\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = lockscope(&["run", path, "--headless", "--timeout", "60s"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{text}");
    assert!(text.contains("scenario lost: STALL after"), "{text}");
    assert!(
        text.contains(
            "STALL: its only thread blocked; \"consumer\" waits on condvar \"ready\" (at "
        ),
        "{text}"
    );
    assert!(text.contains("no running thread can notify it"), "{text}");
    let out = lockscope(&["run", path, "--json", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(6));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outcome"], "stall");
    assert_eq!(json["stalls"][0]["threads"][0], "consumer");
    assert_eq!(json["stalls"][0]["waits"][0]["on"], "ready");
    assert_eq!(json["stalls"][0]["waits"][0]["kind"], "condvar");
    assert_eq!(json["deadlocks"].as_array().unwrap().len(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_recorded_run_replays_to_the_same_report_and_exports() {
    let dir = std::env::temp_dir().join(format!("lockscope-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("abba.trace");
    let path = file.to_str().unwrap();
    let live = lockscope(&["run", "abba", "--json", "--record", path]);
    assert_eq!(live.status.code(), Some(3));
    let live: Value = serde_json::from_slice(&live.stdout).unwrap();

    let replayed = lockscope(&["replay", path, "--json"]);
    assert_eq!(
        replayed.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let replayed: Value = serde_json::from_slice(&replayed.stdout).unwrap();
    for key in [
        "events",
        "deadlocks",
        "potential_deadlocks",
        "locks",
        "anomalies",
    ] {
        assert_eq!(live[key], replayed[key], "{key} differs");
    }

    let chrome = lockscope(&["export", path, "--format", "chrome"]);
    assert!(chrome.status.success());
    let chrome: Value = serde_json::from_slice(&chrome.stdout).unwrap();
    let events = chrome["traceEvents"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "left")
    );
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "i" && e["name"].as_str().unwrap_or("").contains("deadlock"))
    );

    let text = lockscope(&["export", path, "--format", "text"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("abba.toml:13") && text.contains("DEADLOCK"),
        "{text}"
    );

    let jsonl_file = dir.join("abba.jsonl");
    let out = lockscope(&[
        "export",
        path,
        "--format",
        "jsonl",
        "-o",
        jsonl_file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let lines = std::fs::read_to_string(&jsonl_file).unwrap();
    assert_eq!(
        lines.lines().count() as u64,
        live["events"].as_u64().unwrap()
    );
    for line in lines.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replaying_a_file_that_is_not_a_trace_is_a_clear_error() {
    let out = lockscope(&["replay", "Cargo.toml", "--headless"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Cargo.toml: not a lockscope trace"),
        "{stderr}"
    );
}

#[test]
fn explore_finds_the_shortest_deadlock_and_writes_its_schedule() {
    let dir = std::env::temp_dir().join(format!("lockscope-explore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("abba.schedule");
    let out = lockscope(&["explore", "abba", "--out", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("DEADLOCK in abba") && stdout.contains("after 4 steps"),
        "{stdout}"
    );
    let schedule = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        schedule.starts_with("# lockscope schedule 1\nscenario abba\n"),
        "{schedule}"
    );
    assert_eq!(schedule.lines().filter(|l| !l.starts_with('#')).count(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explore_makes_the_race_of_lost_update_reproducible() {
    let dir = std::env::temp_dir().join(format!("lockscope-explore-lu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("lu.schedule");
    let out = lockscope(&[
        "explore",
        "lost-update",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(5));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("EXPECTATION FAILED in lost-update"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explore_exhausts_a_safe_scenario() {
    let out = lockscope(&["explore", "readers-writer"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no deadlock"), "{stdout}");
}

/// Thread ids (and so the viewer's lanes) follow the scenario's order on
/// every run, however the threads' first instructions race.
#[test]
fn threads_are_numbered_in_the_scenarios_order_on_every_run() {
    for _ in 0..5 {
        let (_, report) = run_json("lost-update");
        let threads: Vec<&str> = report["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(threads, ["worker 0", "worker 1", "worker 2", "worker 3"]);
    }
}

#[test]
fn after_a_partial_schedule_every_thread_runs_free_to_its_end() {
    // One step, then the rest of the threads (four of them parked at the
    // gate before their first lock) run free: they used to stay parked
    // until the replay gave up (exit 4 after a minute).
    let dir = std::env::temp_dir().join(format!("lockscope-partial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("one.schedule");
    std::fs::write(
        &path,
        "# lockscope schedule 1\nscenario philosophers-ordered\n1 \"philosopher 0\" lock fork 0\n",
    )
    .unwrap();
    let (code, report) = {
        let out = lockscope(&[
            "run",
            "philosophers-ordered",
            "--schedule",
            path.to_str().unwrap(),
            "--json",
            "--timeout",
            "50s",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        (out.status.code().unwrap(), report)
    };
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["outcome"], "finished");
    let _ = std::fs::remove_dir_all(&dir);
}
