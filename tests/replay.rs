//! Schedules found by `explore`, replayed on the real scenario threads
//! through the step gate: the same events in the same order, and the same
//! outcome, every time.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lockscope::event::EventKind;

fn lockscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(args)
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockscope-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Explores `scenario` and returns the schedule file it wrote.
fn explored(scenario: &str, dir: &Path) -> PathBuf {
    let file = dir.join(format!("{scenario}.schedule"));
    let out = lockscope(&["explore", scenario, "--out", file.to_str().unwrap()]);
    assert!(file.exists(), "{}", String::from_utf8_lossy(&out.stdout));
    file
}

/// The recorded lock operations as (thread name, kind, lock name) in the
/// order they happened. Ids are left out: threads and locks are numbered as
/// they first show up, and thread starts race each other before the first
/// step. The order is the events' time order: the collector merges threads'
/// streams in whatever order it reads them (keeping each thread's and each
/// lock's order), while under the gate only one thread moves at a time.
fn shape(trace: &Path) -> Vec<(String, &'static str, String)> {
    let trace = lockscope::trace::read(trace).unwrap();
    assert!(trace.damage.is_none());
    let model = lockscope::trace::replay_model(&trace);
    let mut events: Vec<_> = trace.events.iter().collect();
    events.sort_by_key(|e| e.time);
    events
        .into_iter()
        .filter_map(|e| {
            let lock = match e.kind {
                EventKind::Request { lock, .. }
                | EventKind::Acquired { lock, .. }
                | EventKind::Released { lock, .. } => lock,
                _ => return None,
            };
            let thread = model.thread_name(e.thread).to_owned();
            Some((thread, e.kind.name(), model.lock_name(lock).to_owned()))
        })
        .collect()
}

#[test]
fn a_deadlocking_philosophers_schedule_replays_identically_50_times() {
    let dir = temp_dir("replay-phil");
    let schedule = explored("philosophers", &dir);
    let mut first = None;
    for i in 0..50 {
        let trace = dir.join(format!("run{i}.trace"));
        let out = lockscope(&[
            "run",
            "philosophers",
            "--schedule",
            schedule.to_str().unwrap(),
            "--record",
            trace.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(3),
            "run {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["deadlocks"][0]["threads"].as_array().unwrap().len(),
            5
        );
        let events = shape(&trace);
        match &first {
            None => first = Some(events),
            Some(first) => assert_eq!(first, &events, "run {i} differs"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_heisenbug_schedule_reproduces_it_every_time() {
    let dir = temp_dir("replay-heisen");
    let schedule = explored("heisenbug", &dir);
    for i in 0..20 {
        let out = lockscope(&[
            "run",
            "heisenbug",
            "--schedule",
            schedule.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(3), "replay {i} did not deadlock");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_lost_update_schedule_loses_the_same_update_every_time() {
    let dir = temp_dir("replay-lost");
    let schedule = explored("lost-update", &dir);
    for _ in 0..5 {
        let out = lockscope(&[
            "run",
            "lost-update",
            "--schedule",
            schedule.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(5));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["expectations"][0]["actual"], 19);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_schedule_that_does_not_fit_names_its_step() {
    let dir = temp_dir("replay-bad");
    let bad = dir.join("bad.schedule");
    std::fs::write(
        &bad,
        "# lockscope schedule 1\nscenario abba\n1 left lock A\n2 lefty lock B\n",
    )
    .unwrap();
    let out = lockscope(&["run", "abba", "--schedule", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("step 2") && stderr.contains("lefty"),
        "{stderr}"
    );
    std::fs::write(
        &bad,
        "# lockscope schedule 1\nscenario abba\n1 left lock B\n",
    )
    .unwrap();
    let out = lockscope(&["run", "abba", "--schedule", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("step 1"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
