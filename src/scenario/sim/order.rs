//! A static proof of deadlock freedom: one global lock order.
//!
//! Draw an edge A → B whenever some thread may take B (`lock`, or a `wait`'s
//! reacquire) while it may hold A (a must-not-miss, "may" analysis over the
//! program: unions at loop heads). In a deadlock every thread of the cycle
//! holds the lock the previous one waits for while it waits for the next, so
//! the cycle's locks form a cycle of such edges (a thread relocking A gives
//! A → A). No cycle among the edges, no deadlock, in any interleaving.
//!
//! Rwlocks are left out (the proof does not apply to them): a reader can wait
//! behind a queued writer that holds nothing the reader waits for. Without
//! condvars, no run can get stuck either: a thread that cannot move waits for
//! a holder that cannot move, and following holders must close a cycle.

use super::code::{Instr, NONE, ThreadCode};
use super::{Sim, SimOp};

/// Above this many may-held entries in total the analysis gives up.
const BUDGET: usize = 4_000_000;

impl Sim {
    /// A global order in which every thread takes its locks, if there is one
    /// and the scenario uses no rwlock, channel or join (a thread can wait in a
    /// `recv` or `join` holding one lock only): then no interleaving can deadlock. The
    /// order lists the locks taken while another is held (empty when no thread
    /// ever holds a lock while taking another), earliest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::scenario::{Scenario, Sim};
    ///
    /// let ordered = Sim::new(&Scenario::load("philosophers-ordered")?);
    /// let order: Vec<&str> = ordered.lock_order().unwrap().iter()
    ///     .map(|&l| ordered.scenario().locks[l].name.as_str()).collect();
    /// assert_eq!(order, ["fork 0", "fork 1", "fork 2", "fork 3", "fork 4"]);
    /// assert_eq!(Sim::new(&Scenario::load("philosophers")?).lock_order(), None);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn lock_order(&self) -> Option<Vec<usize>> {
        if self.prog.scenario.has_channels_or_joins() {
            return None;
        }
        let n = self.locks.len();
        let mut edges = vec![Vec::new(); n];
        let mut budget = BUDGET;
        for code in &self.prog.threads {
            for (from, to) in thread_edges(code, &mut budget)? {
                if !edges[from].contains(&to) {
                    edges[from].push(to);
                }
            }
        }
        topological(&edges)
    }
}

/// The lock-order edges of one thread; `None` if it uses an rwlock or the
/// analysis is too big.
fn thread_edges(code: &ThreadCode, budget: &mut usize) -> Option<Vec<(usize, usize)>> {
    let n = code.code.len();
    let mut state: Vec<Option<Vec<usize>>> = vec![None; n + 1];
    if n == 0 {
        return Some(Vec::new());
    }
    state[0] = Some(Vec::new());
    let mut work = vec![0usize];
    let mut edges = Vec::new();
    while let Some(pc) = work.pop() {
        if pc >= n {
            continue;
        }
        let held = state[pc].clone()?;
        let (out, succ) = match code.code[pc] {
            Instr::Op { op, .. } => {
                let mut out = held.clone();
                match op {
                    SimOp::Read(_) | SimOp::Write(_) => return None,
                    SimOp::Lock(l) => {
                        edges.extend(held.iter().map(|&h| (h, l)));
                        if !out.contains(&l) {
                            out.push(l);
                        }
                    }
                    SimOp::Unlock(l) => out.retain(|&h| h != l),
                    SimOp::Wait { mutex, .. } => {
                        edges.extend(held.iter().filter(|&&h| h != mutex).map(|&h| (h, mutex)));
                    }
                    _ => {}
                }
                (out, [pc + 1, NONE as usize])
            }
            Instr::Add(_) | Instr::Overflow | Instr::Repeat { .. } => {
                (held, [pc + 1, NONE as usize])
            }
            Instr::End { start } => (held, [start as usize + 1, pc + 1]),
        };
        for next in succ {
            if next > n {
                continue;
            }
            let mut merged = state[next].clone().unwrap_or_default();
            let before = merged.len();
            for &l in &out {
                if !merged.contains(&l) {
                    merged.push(l);
                }
            }
            if state[next].is_none() || merged.len() != before {
                *budget = budget.checked_sub(merged.len() + 1)?;
                merged.sort_unstable();
                state[next] = Some(merged);
                work.push(next);
            }
        }
    }
    Some(edges)
}

/// The locks with edges in an order respecting every edge (smallest index
/// first among the ready ones), or `None` if the edges close a cycle.
fn topological(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    let n = edges.len();
    let mut indegree = vec![0usize; n];
    let mut involved = vec![false; n];
    for (from, tos) in edges.iter().enumerate() {
        for &to in tos {
            indegree[to] += 1;
            involved[from] = true;
            involved[to] = true;
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&l| indegree[l] == 0).collect();
    let mut order = Vec::new();
    while let Some(l) = ready.pop_first() {
        if involved[l] {
            order.push(l);
        }
        for &to in &edges[l] {
            indegree[to] -= 1;
            if indegree[to] == 0 {
                ready.insert(to);
            }
        }
    }
    indegree.iter().all(|&d| d == 0).then_some(order)
}
