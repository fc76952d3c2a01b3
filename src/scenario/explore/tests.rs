//! Explorer tests: the built-in scenarios, replaying what is found, options,
//! reports, and the reduction checked against the full search.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::scenario::{Sim, SimStatus, ThreadState, validate};

mod random;

fn load(name: &str) -> Scenario {
    Scenario::load(name).unwrap()
}

fn run(scenario: &Scenario, options: &ExploreOptions) -> ExploreReport {
    explore(scenario, options, &mut |_| {}).unwrap()
}

fn bounded(max_states: usize) -> ExploreOptions {
    ExploreOptions {
        max_states,
        ..ExploreOptions::default()
    }
}

/// Replays a schedule in a fresh simulator and returns it.
fn replay(schedule: &Schedule, scenario: &Scenario) -> Sim {
    let mut sim = Sim::new(scenario);
    for t in validate(schedule, scenario).unwrap_or_else(|e| panic!("{e:#}")) {
        sim.step(t).unwrap();
    }
    sim
}

#[track_caller]
fn assert_deadlock(name: &str, cycle_len: usize, steps: usize) {
    let scenario = load(name);
    let report = run(&scenario, &ExploreOptions::default());
    let Found::Deadlock { schedule, cycle } = &report.outcome else {
        panic!("{name}: {}", format_report(&report, &scenario));
    };
    assert_eq!(cycle.len(), cycle_len, "{name}");
    assert_eq!(schedule.steps.len(), steps, "{name}: {schedule:?}");
    let sim = replay(schedule, &scenario);
    assert_eq!(sim.cycle().as_ref(), Some(cycle), "{name}");
    // The cycle's threads have all asked for their locks: nothing can move.
    for &(t, _) in cycle {
        assert!(
            matches!(sim.thread_state(t), ThreadState::Blocked { .. }),
            "{name}: {}",
            sim.describe(t)
        );
    }
}

#[test]
fn finds_the_deadlocks_of_the_deadlocking_builtins() {
    assert_deadlock("abba", 2, 4);
    assert_deadlock("three-cycle", 3, 6);
    assert_deadlock("heisenbug", 2, 4);
    assert_deadlock("philosophers", 5, 10);
    assert_deadlock("self-deadlock", 1, 2);
    assert_deadlock("rwlock-upgrade", 1, 2);
}

#[test]
fn the_abba_schedule_is_the_shortest_one() {
    let scenario = load("abba");
    let report = run(&scenario, &ExploreOptions::default());
    let Found::Deadlock { schedule, cycle } = &report.outcome else {
        panic!()
    };
    assert_eq!(cycle, &vec![(0, 1), (1, 0)]);
    let text = schedule.to_text(&scenario);
    assert_eq!(
        text,
        "# lockscope schedule 1\nscenario abba\n\
         1 left  lock A  # abba.toml:13\n\
         2 right lock B  # abba.toml:23\n\
         3 left  lock B  # abba.toml:15, blocks: waits for B, held by right\n\
         4 right lock A  # abba.toml:25, blocks: waits for A, held by left\n"
    );
}

#[test]
fn exploring_is_deterministic() {
    for name in ["philosophers", "three-cycle", "condvar-handoff"] {
        let scenario = load(name);
        let a = run(&scenario, &ExploreOptions::default());
        let b = run(&scenario, &ExploreOptions::default());
        assert_eq!(a.outcome, b.outcome, "{name}");
        assert_eq!((a.states, a.schedules), (b.states, b.schedules), "{name}");
    }
}

#[test]
fn without_reduction_the_same_deadlock_is_found() {
    for name in ["philosophers", "three-cycle", "abba"] {
        let scenario = load(name);
        let full = ExploreOptions {
            reduce: false,
            ..ExploreOptions::default()
        };
        let (a, b) = (
            run(&scenario, &full),
            run(&scenario, &ExploreOptions::default()),
        );
        let (Found::Deadlock { schedule: x, .. }, Found::Deadlock { schedule: y, .. }) =
            (&a.outcome, &b.outcome)
        else {
            panic!("{name}")
        };
        assert_eq!(x.steps.len(), y.steps.len(), "{name}");
    }
}

#[test]
fn condvar_handoff_has_no_deadlock_but_can_run_out_of_notifies() {
    let scenario = load("condvar-handoff");
    let report = run(&scenario, &ExploreOptions::default());
    assert!(report.complete, "every state explored");
    let Found::Stuck { schedule, blocked } = &report.outcome else {
        panic!("{}", format_report(&report, &scenario));
    };
    assert_eq!(
        blocked,
        &vec![0],
        "the consumer waits for a notify that never comes"
    );
    let sim = replay(schedule, &scenario);
    assert_eq!(sim.status(), SimStatus::Stuck { blocked: vec![0] });
    let text = format_report(&report, &scenario);
    assert!(text.contains("thread consumer waits on condvar ready and no thread will notify it"));
    assert!(text.contains("no deadlock in any of the"), "{text}");
}

#[test]
fn philosophers_ordered_reaches_its_bound_without_a_deadlock() {
    let scenario = load("philosophers-ordered");
    let report = run(&scenario, &bounded(20_000));
    assert_eq!(
        report.outcome,
        Found::BoundReached {
            bound: Bound::States
        }
    );
    assert_eq!((report.states, report.complete), (20_000, false));
    let text = format_report(&report, &scenario);
    assert!(
        text.starts_with(
            "BOUND REACHED in philosophers-ordered (max_states = 20,000): nothing found"
        )
    );
}

#[test]
fn readers_writer_bounded_finds_nothing() {
    let report = run(&load("readers-writer"), &bounded(20_000));
    assert_eq!(report.bound, Some(Bound::States));
}

#[test]
#[ignore = "exhaustive: 250,000 states, about 1 s in release"]
fn readers_writer_has_no_deadlock() {
    let scenario = load("readers-writer");
    let report = run(&scenario, &ExploreOptions::default());
    assert_eq!(report.outcome, Found::Exhausted);
    assert!(report.complete);
}

const MINI_LOST_UPDATE: &str = r#"
name = "mini"
[locks]
M = "mutex"
[vars]
counter = 0
[[thread]]
name = "worker"
count = 2
steps = ["repeat 2", "lock M", "load counter", "unlock M", "add 1",
         "lock M", "store counter", "unlock M", "end"]
[expect]
counter = 4
"#;

#[test]
fn a_lost_update_is_found_and_replays() {
    let scenario = Scenario::parse("mini.toml", MINI_LOST_UPDATE).unwrap();
    let report = run(&scenario, &ExploreOptions::default());
    let Found::ExpectationViolated {
        schedule,
        var,
        expected,
        actual,
        overflowed: false,
    } = &report.outcome
    else {
        panic!("{}", format_report(&report, &scenario));
    };
    assert_eq!((var.as_str(), *expected), ("counter", 4));
    assert!(*actual < 4);
    assert!(report.complete);
    let sim = replay(schedule, &scenario);
    assert_eq!(sim.status(), SimStatus::Finished);
    assert_eq!(sim.vars(), &[*actual]);
    let text = format_report(&report, &scenario);
    assert!(
        text.starts_with(&format!(
            "EXPECTATION FAILED in mini: counter = {actual} at the end, expected 4 (mini.toml:13)"
        )),
        "{text}"
    );
    assert!(
        text.contains("→ load counter  (mini.toml:10)  reads 0\n"),
        "{text}"
    );
    assert!(
        text.contains("→ store counter  (mini.toml:11)  counter: 0 → 1\n"),
        "{text}"
    );

    let unchecked = ExploreOptions {
        check_expectations: false,
        ..ExploreOptions::default()
    };
    assert_eq!(run(&scenario, &unchecked).outcome, Found::Exhausted);
}

#[test]
#[ignore = "exhaustive: 7 million states, about 12 s in release"]
fn lost_update_loses_an_update() {
    let scenario = load("lost-update");
    let report = run(&scenario, &ExploreOptions::default());
    let Found::ExpectationViolated { actual, .. } = report.outcome else {
        panic!("{}", format_report(&report, &scenario));
    };
    assert!(actual < 20);
}

const TWO_CYCLES: &str = r#"
name = "two"
[locks]
A = "mutex"
B = "mutex"
C = "mutex"
D = "mutex"
[[thread]]
name = "ab"
steps = ["lock A", "lock B", "unlock B", "unlock A"]
[[thread]]
name = "ba"
steps = ["lock B", "lock A", "unlock A", "unlock B"]
[[thread]]
name = "cd"
steps = ["lock C", "lock D", "unlock D", "unlock C"]
[[thread]]
name = "dc"
steps = ["lock D", "lock C", "unlock C", "unlock D"]
"#;

#[test]
fn target_locks_pick_the_deadlock_to_make_real() {
    let scenario = Scenario::parse("two.toml", TWO_CYCLES).unwrap();
    let report = run(&scenario, &ExploreOptions::default());
    let Found::Deadlock { cycle, .. } = &report.outcome else {
        panic!()
    };
    assert_eq!(cycle, &vec![(0, 1), (1, 0)], "A/B is found first");
    let target = ExploreOptions {
        target_locks: Some(vec!["D".into(), "C".into()]),
        ..ExploreOptions::default()
    };
    let report = run(&scenario, &target);
    let Found::Deadlock { cycle, schedule } = &report.outcome else {
        panic!()
    };
    assert_eq!(cycle, &vec![(2, 3), (3, 2)]);
    assert_eq!(replay(schedule, &scenario).cycle().as_ref(), Some(cycle));
    let nowhere = ExploreOptions {
        target_locks: Some(vec!["A".into(), "C".into()]),
        ..ExploreOptions::default()
    };
    let report = run(&scenario, &nowhere);
    assert_eq!(report.outcome, Found::Exhausted);
    let text = format_report(&report, &scenario);
    assert!(
        text.starts_with("no deadlock involving A, C in any of the"),
        "{text}"
    );
}

#[test]
fn the_schedule_bound_stops_the_search() {
    let options = ExploreOptions {
        max_schedules: 100,
        ..ExploreOptions::default()
    };
    let report = run(&load("convoy"), &options);
    assert_eq!(
        report.outcome,
        Found::BoundReached {
            bound: Bound::Schedules
        }
    );
    assert_eq!(report.schedules, 100);
}

#[test]
fn progress_is_reported_while_a_long_search_runs() {
    // However slow the machine, a search stopped by a 600 ms timeout has run
    // past the first 250 ms progress report.
    let mut seen = Vec::new();
    let options = ExploreOptions {
        timeout: Some(Duration::from_millis(600)),
        ..ExploreOptions::default()
    };
    let report = explore(&many_workers(), &options, &mut |p| seen.push(p.clone())).unwrap();
    assert_eq!(report.bound, Some(Bound::Time));
    assert!(!seen.is_empty());
    assert!(
        seen.windows(2).all(|w| w[0].elapsed < w[1].elapsed),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|p| p.states > 0 && p.elapsed < report.elapsed)
    );
}

/// `lost-update` with 40 workers: far too many states to search in a test.
fn many_workers() -> Scenario {
    let text = crate::scenario::builtins()
        .iter()
        .find(|b| b.name == "lost-update")
        .unwrap()
        .source
        .replace("count = 4", "count = 40");
    Scenario::parse("many.toml", &text).unwrap()
}

#[test]
fn the_timeout_stops_the_search_and_says_so() {
    let options = ExploreOptions {
        timeout: Some(Duration::ZERO),
        check_expectations: false,
        ..ExploreOptions::default()
    };
    let scenario = many_workers();
    let report = run(&scenario, &options);
    assert_eq!(report.bound, Some(Bound::Time));
    assert_eq!(report.outcome, Found::BoundReached { bound: Bound::Time });
    assert!(report.states < 1_000, "{} states", report.states);
    let text = format_report(&report, &scenario);
    assert!(text.contains("(timeout = 0ns)"), "{text}");
}

#[test]
fn target_locks_must_name_declared_locks() {
    let scenario = Scenario::parse("two.toml", TWO_CYCLES).unwrap();
    let typo = ExploreOptions {
        target_locks: Some(vec!["A".into(), "Z".into()]),
        ..ExploreOptions::default()
    };
    let err = explore(&scenario, &typo, &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown lock \"Z\" in the locks to target (scenario two declares: A, B, C, D)"
    );
}

const DINERS: &str = r#"
[locks]
"fork 0" = "mutex"
"fork 1" = "mutex"
"fork 2" = "mutex"
[[thread]]
name = "diner 0"
steps = ["repeat 3", "lock fork 0", "lock fork 1", "unlock fork 1", "unlock fork 0", "end"]
[[thread]]
name = "diner 1"
steps = ["repeat 3", "lock fork 1", "lock fork 2", "unlock fork 2", "unlock fork 1", "end"]
[[thread]]
name = "diner 2"
steps = ["repeat 3", "lock fork 2", "lock fork 0", "unlock fork 0", "unlock fork 2", "end"]
"#;

#[test]
fn a_deadlock_report_reads_well() {
    let scenario = Scenario::parse("diners.toml", DINERS).unwrap();
    let report = run(&scenario, &ExploreOptions::default());
    let text = format_report(&report, &scenario);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..10],
        [
            "DEADLOCK in diners: 3 threads wait for each other in a cycle, after 6 steps:",
            "   1  diner 0 → lock fork 0  (diners.toml:8)",
            "   2  diner 1 → lock fork 1  (diners.toml:11)",
            "   3  diner 2 → lock fork 2  (diners.toml:14)",
            "   4  diner 0 → lock fork 1  (diners.toml:8)  blocks: waits for fork 1, held by diner 1",
            "   5  diner 1 → lock fork 2  (diners.toml:11)  blocks: waits for fork 2, held by diner 2",
            "   6  diner 2 → lock fork 0  (diners.toml:14)  blocks: waits for fork 0, held by diner 0",
            "  thread diner 0 waits for fork 1, held by thread diner 1",
            "  thread diner 1 waits for fork 2, held by thread diner 2",
            "  thread diner 2 waits for fork 0, held by thread diner 0",
        ],
        "{text}"
    );
    assert!(lines[10].starts_with("explored "), "{text}");
    assert!(
        lines[10].ends_with("(partial-order reduction on)"),
        "{text}"
    );
    assert_eq!(lines.len(), 11);
    let scenario = load("self-deadlock");
    let text = format_report(&run(&scenario, &ExploreOptions::default()), &scenario);
    assert!(text.contains("a thread waits for itself"), "{text}");
    assert!(
        text.contains("thread main waits for A, held by itself"),
        "{text}"
    );
}

#[test]
fn many_threads_and_huge_loops_stay_within_the_bound() {
    let text = "[locks]\nA = \"mutex\"\nB = \"mutex\"\n\
                [[thread]]\nname = \"w\"\ncount = 50\n\
                steps = [\"repeat 1000000\", \"lock A\", \"unlock A\", \"end\"]\n\
                [[thread]]\nname = \"x\"\nsteps = [\"repeat 1000000\", \"repeat 1000000\", \
                \"lock B\", \"lock A\", \"unlock A\", \"unlock B\", \"end\", \"end\"]\n";
    let scenario = Scenario::parse("big.toml", text).unwrap();
    let report = run(&scenario, &bounded(2_000));
    assert_eq!(report.bound, Some(Bound::States));
    assert_eq!(report.states, 2_000);
    assert_eq!(report.lock_order, Some(vec![1, 0]));
}

#[test]
fn hostile_names_are_escaped_in_reports() {
    let text = "[locks]\n\"A\\u001b[2J\" = \"mutex\"\n[[thread]]\nname = \"t\\u001b]0;x\"\n\
                steps = [\"lock A\\u001b[2J\", \"lock A\\u001b[2J\"]\n";
    let scenario = Scenario::parse("evil.toml", text).unwrap();
    let report = run(&scenario, &ExploreOptions::default());
    let out = format_report(&report, &scenario);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("t\\u{1b}]0;x"), "{out}");
}

#[test]
#[ignore = "prints the reports of the built-in scenarios and their measurements"]
fn measure_builtins() {
    let max: usize = std::env::var("EXPLORE_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(ExploreOptions::default().max_states);
    let only = std::env::var("EXPLORE_SCENARIO").ok();
    for builtin in crate::scenario::builtins() {
        if only.as_deref().is_some_and(|o| o != builtin.name) {
            continue;
        }
        let scenario = builtin.scenario().unwrap();
        for reduce in [true, false] {
            let options = ExploreOptions {
                reduce,
                max_states: max,
                ..ExploreOptions::default()
            };
            let report = run(&scenario, &options);
            println!(
                "$ explore {} (reduce: {reduce})\n{}",
                builtin.name,
                format_report(&report, &scenario)
            );
        }
    }
}

#[test]
fn an_add_past_the_64_bit_range_fails_the_expectation_and_says_overflow() {
    // The value it wraps to is the one expected: still no pass.
    let text = r#"
[vars]
c = 9223372036854775807
[expect]
c = -9223372036854775808
[[thread]]
name = "t"
steps = ["load c", "add 1", "store c"]
"#;
    let scenario = Scenario::parse("o.toml", text).unwrap();
    let report = run(&scenario, &ExploreOptions::default());
    let text = format_report(&report, &scenario);
    let Found::ExpectationViolated { overflowed, .. } = report.outcome else {
        panic!("{text}");
    };
    assert!(overflowed, "{text}");
    assert!(
        text.contains("(an add overflowed the 64-bit range)"),
        "{text}"
    );
    // Through a folded loop without a visible step (3 × 2^62 wraps to
    // -2^62, the value expected), then through a channel to another thread.
    let text = r#"
[locks]
q = "channel"
[vars]
c = 0
[expect]
c = -4611686018427387904
[[thread]]
name = "t"
steps = ["repeat 3", "add 4611686018427387904", "end", "send q"]
[[thread]]
name = "u"
steps = ["recv q", "store c"]
"#;
    let scenario = Scenario::parse("o.toml", text).unwrap();
    let report = run(&scenario, &ExploreOptions::default());
    assert!(
        matches!(
            report.outcome,
            Found::ExpectationViolated {
                overflowed: true,
                ..
            }
        ),
        "{}",
        format_report(&report, &scenario)
    );
}
