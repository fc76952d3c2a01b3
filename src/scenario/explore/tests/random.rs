//! The reduction checked against the full search on random scenarios: the
//! same terminal states, the same kind of finding, schedules that replay, and
//! lock-order proofs that no search contradicts.

use std::collections::{BTreeSet, HashSet};

use super::{replay, run};
use crate::scenario::explore::{ExploreOptions, Found};
use crate::scenario::{Scenario, Sim, SimStatus};

/// A small deterministic generator of valid scenarios mixing every operation.
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn block(&mut self, out: &mut Vec<String>, held: &mut Vec<&'static str>, budget: &mut i32) {
        while *budget > 0 && self.below(5) != 0 {
            *budget -= 1;
            match self.below(11) {
                0..=2 => {
                    let m = ["A", "B"][self.below(2) as usize];
                    out.push(format!("lock {m}"));
                    if held.contains(&m) {
                        return; // a relock: the thread waits for itself here
                    }
                    held.push(m);
                    self.block(out, held, budget);
                    held.retain(|&h| h != m);
                    if self.below(6) != 0 {
                        out.push(format!("unlock {m}"));
                    } else {
                        return; // keep it to the end of the thread
                    }
                }
                3 if !held.contains(&"L") => {
                    out.push(["read L", "write L"][self.below(2) as usize].into());
                    held.push("L");
                    self.block(out, held, budget);
                    held.retain(|&h| h != "L");
                    out.push("unlock L".into());
                }
                4 => {
                    if let Some(m) = held.iter().find(|h| **h != "L") {
                        out.push(format!("wait CV {m}"));
                    }
                }
                5 => out.push(["notify CV", "notify_all CV"][self.below(2) as usize].into()),
                6 => out.push("load n".into()),
                7 => out.push("add 1".into()),
                8 => out.push("store n".into()),
                9 if out.iter().filter(|s| s.starts_with("repeat")).count() < 2 => {
                    out.push("repeat 2".into());
                    let before = held.clone();
                    self.block(out, held, budget);
                    *held = before;
                    out.push("end".into());
                }
                _ => out.push("work 1ms".into()),
            }
        }
    }

    fn scenario(&mut self, i: usize, size: i32, max_threads: u64) -> Option<Scenario> {
        let mut text = String::from(
            "[locks]\nA = \"mutex\"\nB = \"mutex\"\nL = \"rwlock\"\nCV = \"condvar\"\n\
             [vars]\nn = 0\n",
        );
        let threads = 2 + self.below(max_threads - 1);
        for t in 0..threads {
            let mut steps = Vec::new();
            let mut budget = size;
            self.block(&mut steps, &mut Vec::new(), &mut budget);
            let quoted: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
            let count = if t == 0 && self.below(3) == 0 { 2 } else { 1 };
            text.push_str(&format!(
                "[[thread]]\nname = \"t{t}\"\ncount = {count}\nsteps = [{}]\n",
                quoted.join(", ")
            ));
        }
        if self.below(2) == 0 {
            text.push_str(&format!("[expect]\nn = {}\n", self.below(3)));
        }
        Scenario::parse(&format!("random{i}.toml"), &text).ok()
    }
}

/// Every terminal state (by symmetric key) reachable with or without the
/// reduction, and how many states were stored.
fn terminal_states(scenario: &Scenario, reduce: bool) -> (BTreeSet<u128>, usize) {
    let (mut buf, mut records) = (Vec::new(), Vec::new());
    let root = Sim::new(scenario);
    let mut seen = HashSet::new();
    seen.insert(root.symmetric_key(&mut buf, &mut records).0);
    let mut stack = vec![root];
    let mut terminals = BTreeSet::new();
    while let Some(sim) = stack.pop() {
        let choices = sim.choices();
        if choices.is_empty() {
            terminals.insert(sim.symmetric_key(&mut buf, &mut records).0);
            continue;
        }
        let moves = if reduce {
            sim.persistent(&choices)
        } else {
            choices
        };
        for t in moves {
            let mut child = sim.clone();
            child.step(t).unwrap();
            if seen.insert(child.symmetric_key(&mut buf, &mut records).0) {
                stack.push(child);
            }
        }
    }
    (terminals, seen.len())
}

#[test]
fn the_reduction_reaches_every_terminal_state_of_the_full_search() {
    differential(0x9e37_79b9_7f4a_7c15, 400, 5, 3);
}

#[test]
fn the_reduction_holds_on_bigger_programs() {
    differential(0x2545_f491_4f6c_dd1d, 60, 9, 4);
}

/// Random scenarios of `threads` threads with about `size` steps each,
/// explored with and without the reduction.
fn differential(seed: u64, count: usize, size: i32, threads: u64) {
    let mut random = Gen(seed);
    let (mut tried, mut full_states, mut reduced_states, mut deadlocks) = (0, 0, 0, 0);
    let (mut proofs, mut expectations) = (0, 0);
    for i in 0..count {
        let Some(scenario) = random.scenario(i, size, threads) else {
            continue;
        };
        tried += 1;
        let (full, n_full) = terminal_states(&scenario, false);
        let (reduced, n_reduced) = terminal_states(&scenario, true);
        assert_eq!(full, reduced, "scenario {i}:\n{scenario:#?}");
        full_states += n_full;
        reduced_states += n_reduced;
        // What explore reports agrees with and without the reduction.
        let on = run(&scenario, &ExploreOptions::default());
        let off = run(
            &scenario,
            &ExploreOptions {
                reduce: false,
                ..ExploreOptions::default()
            },
        );
        match (&on.outcome, &off.outcome) {
            (Found::Deadlock { schedule, cycle }, Found::Deadlock { .. }) => {
                deadlocks += 1;
                assert_eq!(replay(schedule, &scenario).cycle().as_ref(), Some(cycle));
            }
            (Found::Exhausted, Found::Exhausted)
            | (Found::Stuck { .. }, Found::Stuck { .. })
            | (Found::ExpectationViolated { .. }, Found::ExpectationViolated { .. }) => {}
            (a, b) => panic!("scenario {i}: {a:?} with reduction, {b:?} without"),
        }
        // A global lock order is a proof: no interleaving deadlocks.
        if Sim::new(&scenario).lock_order().is_some() {
            proofs += 1;
            assert!(
                !matches!(on.outcome, Found::Deadlock { .. }),
                "scenario {i}: lock order claimed, yet {:?}",
                on.outcome
            );
        }
        if let Found::ExpectationViolated {
            schedule, actual, ..
        } = &on.outcome
        {
            expectations += 1;
            let sim = replay(schedule, &scenario);
            assert_eq!(
                (sim.status(), sim.vars()),
                (SimStatus::Finished, &[*actual][..])
            );
        }
        if let Found::Stuck { schedule, blocked } = &on.outcome {
            let sim = replay(schedule, &scenario);
            assert_eq!(
                &sim.status(),
                &SimStatus::Stuck {
                    blocked: blocked.clone()
                }
            );
        }
    }
    eprintln!(
        "random: {tried} scenarios, {deadlocks} deadlocks, {expectations} failed expectations, \
         {proofs} lock orders, {full_states} states, {reduced_states} with the reduction"
    );
    assert!(tried * 4 > count * 3, "only {tried} scenarios were valid");
    assert!(proofs * 10 > count, "only {proofs} lock-order proofs");
    assert!(deadlocks * 10 > count, "only {deadlocks} deadlocks");
    assert!(
        expectations * 20 > count,
        "only {expectations} failed expectations"
    );
    assert!(reduced_states < full_states);
}

#[test]
#[ignore = "long: thousands of random scenarios (EXPLORE_FUZZ sets how many)"]
fn the_reduction_holds_on_many_programs() {
    let count = std::env::var("EXPLORE_FUZZ")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    differential(0x51_7cc1_b727_220a, count, 7, 3);
    differential(0x2f2d_c5d0_a8a7_3b19, count / 10, 12, 4);
}
