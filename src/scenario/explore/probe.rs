//! A depth-first probe for failed expectations.
//!
//! Every complete run has the same number of steps, so breadth-first order
//! gains nothing for `[expect]` and would reach the first finished run only
//! after every shorter state. A bounded depth-first walk (with its own visited
//! set, and the same reduction) usually finds a run that breaks an expectation
//! within a few thousand states, before the breadth-first search for deadlocks.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use super::Found;
use super::search::{FingerprintHasher, Search};
use crate::scenario::sim::{Sim, ThreadState};

impl Search<'_> {
    /// Walks depth-first through at most `budget` states looking for a
    /// finished run whose expectations fail; keeps the first one found.
    pub(super) fn probe_expectations(&mut self, budget: u64) {
        if !self.options.check_expectations
            || self.target.is_some()
            || self.scenario.expect.is_empty()
        {
            return;
        }
        let (mut key_buf, mut records) = (Vec::new(), Vec::new());
        let mut seen: HashSet<u128, BuildHasherDefault<FingerprintHasher>> = HashSet::default();
        let root = self.root.clone();
        seen.insert(self.key(&root, &mut key_buf, &mut records));
        let moves = self.moves(&root);
        let mut stack: Vec<(Sim, Vec<usize>, usize)> = vec![(root, moves, 0)];
        let mut path: Vec<usize> = Vec::new();
        let mut spent = 0u64;
        while let Some((sim, moves, next)) = stack.last_mut() {
            let Some(&t) = moves.get(*next) else {
                stack.pop();
                path.pop();
                continue;
            };
            *next += 1;
            let mut child = sim.clone();
            if child.step(t).is_err() || !seen.insert(self.key(&child, &mut key_buf, &mut records))
            {
                continue;
            }
            spent += 1;
            // Counted as the search's states until the search proper starts
            // over: progress shows them, and the clock is read by the count.
            self.states = spent;
            if spent > budget || self.tick(path.len()) {
                return;
            }
            if child.has_choice() {
                // A wait-for cycle never finishes: leave it to the search.
                if child.cycle().is_none() {
                    path.push(t);
                    let moves = self.moves(&child);
                    stack.push((child, moves, 0));
                }
                continue;
            }
            let finished =
                (0..child.thread_count()).all(|u| child.thread_state(u) == ThreadState::Done);
            if let Some((var, expected, actual)) = child.failed_expectation().filter(|_| finished) {
                path.push(t);
                let schedule = self.schedule(path, &[]);
                let overflowed = child.overflowed(var);
                let var = self.scenario.vars[var].name.clone();
                self.kept = Some(Found::ExpectationViolated {
                    schedule,
                    var,
                    expected,
                    actual,
                    overflowed,
                });
                return;
            }
        }
    }
}
