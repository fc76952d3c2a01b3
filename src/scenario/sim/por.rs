//! The explorer's moves, and a partial-order reduction over them.
//!
//! **Moves.** A state's moves are its enabled threads plus, for parking_lot's
//! fair `RwLock`, the writers that could *queue* on an rwlock held for reading
//! (a queued writer blocks new readers, which no completed step can show). A
//! state without moves is terminal: finished, deadlocked or stuck. Blocked
//! requests of mutexes and reads need no move of their own: a thread that would
//! block simply takes its step later, when the lock is free.
//!
//! **Reduction.** Exploring only a *persistent set* of moves in each state
//! reaches every terminal state of the full search (Godefroid, *Partial-Order
//! Methods for the Verification of Concurrent Systems*, 1996, thm. 4.3); the
//! state graph here is acyclic (every step advances a program counter or a
//! loop counter), so a visited set keeps that true. Persistent sets are built
//! as stubborn sets at thread granularity: start from one thread with a move;
//! for each thread `u` in the set with a move, add every thread that may later
//! do something dependent on `u`'s move; for each thread in the set without
//! one, add a thread that must move first to enable it (a holder of the lock it
//! needs, or the threads that may notify its condvar). The result is the set's
//! moves; the smallest over all starting threads is kept.
//!
//! Independence is refined by locks: a later access of thread `v` cannot happen
//! before the set moves when `v` must first take a lock that a thread of the
//! set holds in a conflicting mode (from the must-held analysis in `code`).
//! That is what lets one thread's critical section run without interleaving
//! every unrelated thread around it. Deadlocks (wait-for cycles) persist once
//! formed, so every one is still found; the schedule found may be longer than
//! the shortest, which the explorer trims.

use crate::event::{LockKind, Mode};

use super::code::NONE;
use super::facts::{Access, Obj, op_accesses};
use super::{Sim, SimOp, Status};

/// At most this many starting threads are tried per state.
const SEEDS: usize = 32;

impl Sim {
    /// The explorer's moves in this state, in thread order.
    pub(in crate::scenario) fn choices(&self) -> Vec<usize> {
        (0..self.threads.len())
            .filter(|&t| self.is_choice(t))
            .collect()
    }

    /// Whether the state has a move (is not terminal).
    pub(in crate::scenario) fn has_choice(&self) -> bool {
        (0..self.threads.len()).any(|t| self.is_choice(t))
    }

    fn is_choice(&self, t: usize) -> bool {
        self.is_enabled(t) || self.queueable(t)
    }

    /// A writer that cannot have its rwlock now but can queue for it, because
    /// the lock is held for reading.
    fn queueable(&self, t: usize) -> bool {
        if self.threads[t].status != Status::Ready {
            return false;
        }
        match self.pending_op(t) {
            Some(SimOp::Write(l) | SimOp::Lock(l)) => {
                self.prog.kind(l) == Some(LockKind::RwLock)
                    && self.locks[l].shared > 0
                    && !self.grantable(l, Mode::Exclusive)
            }
            _ => false,
        }
    }

    /// A persistent subset of `choices` (the state's moves), in thread order.
    pub(in crate::scenario) fn persistent(&self, choices: &[usize]) -> Vec<usize> {
        if choices.len() <= 1 {
            return choices.to_vec();
        }
        let ctx = Ctx::new(self, choices);
        let mut in_set = vec![false; self.threads.len()];
        let mut work = Vec::new();
        let mut best: Option<(usize, usize)> = None;
        for &seed in choices.iter().take(SEEDS) {
            let limit = best.map_or(choices.len(), |(_, size)| size);
            if let Some(size) = ctx.closure(seed, limit, &mut in_set, &mut work) {
                best = Some((seed, size));
                if size == 1 {
                    break;
                }
            }
        }
        let Some((seed, _)) = best else {
            return choices.to_vec();
        };
        ctx.closure(seed, usize::MAX, &mut in_set, &mut work);
        choices.iter().copied().filter(|&t| in_set[t]).collect()
    }
}

struct Ctx<'a> {
    sim: &'a Sim,
    is_choice: Vec<bool>,
}

impl<'a> Ctx<'a> {
    fn new(sim: &'a Sim, choices: &[usize]) -> Self {
        let mut is_choice = vec![false; sim.threads.len()];
        for &t in choices {
            is_choice[t] = true;
        }
        Ctx { sim, is_choice }
    }

    /// Fills `in_set` with the stubborn set grown from `seed` and returns how
    /// many moves it holds, or `None` as soon as it holds `limit` (it would not
    /// be smaller than one found before). The set only grows, so a test against
    /// it made early stays sound later.
    fn closure(
        &self,
        seed: usize,
        limit: usize,
        in_set: &mut [bool],
        work: &mut Vec<usize>,
    ) -> Option<usize> {
        let sim = self.sim;
        let n = sim.threads.len();
        in_set.fill(false);
        work.clear();
        let mut moves = 0;
        let mut add = |v: usize, in_set: &mut [bool], work: &mut Vec<usize>| {
            in_set[v] = true;
            work.push(v);
            if self.is_choice[v] {
                moves += 1;
            }
            moves < limit
        };
        if !add(seed, in_set, work) {
            return None;
        }
        while let Some(u) = work.pop() {
            if self.is_choice[u] {
                let (accesses, len) = self.move_accesses(u);
                for &(obj, access) in &accesses[..len] {
                    for v in 0..n {
                        if v != u
                            && !in_set[v]
                            && sim.threads[v].status != Status::Done
                            && self.may_conflict(v, obj, access, in_set)
                            && !add(v, in_set, work)
                        {
                            return None;
                        }
                    }
                }
            }
            if !sim.is_enabled(u) {
                for v in self.necessary(u, in_set) {
                    if !in_set[v] && !add(v, in_set, work) {
                        return None;
                    }
                }
            }
        }
        Some(moves)
    }

    /// What `u`'s move touches, with the release mode known.
    fn move_accesses(&self, u: usize) -> ([(Obj, Access); 3], usize) {
        let sim = self.sim;
        let none = (NONE, Access::Load);
        let Some(op) = sim.pending_op(u) else {
            return ([none; 3], 0);
        };
        match op {
            SimOp::Unlock(l) => {
                let mode = sim.threads[u]
                    .guards
                    .iter()
                    .rev()
                    .find(|g| g.lock as usize == l)
                    .map_or(Mode::Exclusive, |g| g.mode);
                let access = match mode {
                    Mode::Exclusive => Access::RelEx,
                    Mode::Shared | Mode::Upgradable => Access::RelSh,
                };
                ([(obj(l), access), none, none], 1)
            }
            // The wait itself; the reacquire is a later move.
            SimOp::Wait { condvar, mutex } => (
                [
                    (obj(mutex), Access::RelEx),
                    (obj(condvar), Access::Join),
                    none,
                ],
                2,
            ),
            op => op_accesses(op, sim.locks.len()),
        }
    }

    /// Whether thread `v` may, from now on and before any thread of the set
    /// moves, do something on `obj` that conflicts with `access`.
    fn may_conflict(&self, v: usize, obj: Obj, access: Access, in_set: &[bool]) -> bool {
        if self.holds(v, obj) && access.conflicts(Access::Rel) {
            return true;
        }
        self.may_do(v, obj, |theirs| access.conflicts(theirs), in_set)
    }

    /// Whether thread `v` may, before any thread of the set moves, access `obj`
    /// in a way `wanted` picks (held locks' releases aside).
    fn may_do(&self, v: usize, obj: Obj, wanted: impl Fn(Access) -> bool, in_set: &[bool]) -> bool {
        let sim = self.sim;
        let code = &sim.prog.threads[v];
        let Some(list) = code.accesses.get(&obj) else {
            return false;
        };
        let from = self.reach_from(v);
        let first = list.partition_point(|&(pc, _)| pc < from);
        list[first..]
            .iter()
            .any(|&(pc, theirs)| wanted(theirs) && !self.blocked(v, pc, obj, theirs, in_set))
    }

    /// The first instruction `v` may still execute: its program counter, or the
    /// start of the outermost enclosing loop that will go round again.
    fn reach_from(&self, v: usize) -> u32 {
        let th = &self.sim.threads[v];
        let code = &self.sim.prog.threads[v];
        if th.pc as usize >= code.code.len() {
            return NONE;
        }
        // Walk out from the innermost loop; the last loop that will go round
        // again is the outermost one.
        let mut from = th.pc;
        let mut depth = th.loops.len();
        let mut e = code.enclosing[th.pc as usize];
        while e != NONE {
            depth = depth.saturating_sub(1);
            if th.loops.get(depth).is_none_or(|&left| left > 1) {
                from = e;
            }
            e = code.enclosing.get(e as usize).copied().unwrap_or(NONE);
        }
        from
    }

    fn holds(&self, v: usize, lock: Obj) -> bool {
        self.sim.threads[v].guards.iter().any(|g| g.lock == lock)
    }

    /// Whether a thread of the set holds `lock` in a mode that conflicts with `mode`.
    fn set_holds(&self, lock: Obj, mode: Mode, except: usize, in_set: &[bool]) -> bool {
        self.sim.threads.iter().enumerate().any(|(h, th)| {
            h != except
                && in_set[h]
                && th
                    .guards
                    .iter()
                    .any(|g| g.lock == lock && g.mode.conflicts_with(mode))
        })
    }

    /// Whether a thread of the set is queued to write `lock`.
    fn set_queued_writer(&self, lock: Obj, except: usize, in_set: &[bool]) -> bool {
        let sim = self.sim;
        (0..sim.threads.len()).any(|w| {
            w != except
                && in_set[w]
                && matches!(sim.threads[w].status, Status::Queued { .. })
                && sim.pending_op(w).and_then(SimOp::acquires)
                    == Some((lock as usize, Mode::Exclusive))
        })
    }

    /// Whether `v`'s access at `pc` cannot happen before the set moves: it needs
    /// a lock `v` does not hold now and a thread of the set holds against it.
    fn blocked(&self, v: usize, pc: u32, obj: Obj, access: Access, in_set: &[bool]) -> bool {
        let code = &self.sim.prog.threads[v];
        let must = code.must.get(pc as usize).map_or(&[][..], Vec::as_slice);
        for &(m, mode) in must {
            if !self.holds(v, m) && self.set_holds(m, mode, v, in_set) {
                return true;
            }
        }
        let rwlock = self.sim.prog.kind(obj as usize) == Some(LockKind::RwLock);
        match access {
            // A writer may queue on a lock held for reading: only a writer of
            // the set stops it.
            Access::AcqEx if rwlock => self.set_holds(obj, Mode::Shared, v, in_set),
            Access::AcqEx => self.set_holds(obj, Mode::Exclusive, v, in_set),
            Access::AcqSh => {
                self.set_holds(obj, Mode::Shared, v, in_set)
                    || self.set_queued_writer(obj, v, in_set)
            }
            Access::RelEx | Access::RelSh | Access::Rel if !self.holds(v, obj) => {
                let mode = if rwlock {
                    Mode::Shared
                } else {
                    Mode::Exclusive
                };
                self.set_holds(obj, mode, v, in_set)
            }
            _ => false,
        }
    }

    /// Threads one of which must move before `u` can (empty if one is in the set).
    fn necessary(&self, u: usize, in_set: &[bool]) -> Vec<usize> {
        let sim = self.sim;
        let n = sim.threads.len();
        if let Status::Waiting { .. } = sim.threads[u].status {
            let Some(SimOp::Reacquire { condvar, .. }) = sim.pending_op(u) else {
                return Vec::new();
            };
            return (0..n)
                .filter(|&v| {
                    v != u
                        && !in_set[v]
                        && sim.threads[v].status != Status::Done
                        && self.may_do(v, obj(condvar), |a| a == Access::Notify, in_set)
                })
                .collect();
        }
        let blockers = match sim.waits_for(u) {
            Some((_, who)) if !who.is_empty() => who,
            // Not explained by holders: stay safe and take everyone.
            _ => return (0..n).filter(|&v| !in_set[v]).collect(),
        };
        if blockers.iter().any(|&b| in_set[b]) {
            Vec::new()
        } else {
            blockers.into_iter().take(1).collect()
        }
    }
}

fn obj(lock: usize) -> Obj {
    u32::try_from(lock).unwrap_or(NONE)
}
