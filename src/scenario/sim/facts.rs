//! Static facts about a thread's code, for the partial-order reduction and the
//! state encoding: which objects each instruction touches and how, which locks
//! are held on every path to it, and whether the register is still needed.

use std::collections::HashMap;

use super::SimOp;
use super::code::{Instr, NONE};
use crate::event::Mode;

/// How an operation touches an object, for the independence relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// Exclusive acquisition (lock, write, reacquire after a wait).
    AcqEx,
    /// Shared acquisition (read).
    AcqSh,
    /// Release of an exclusive hold.
    RelEx,
    /// Release of a shared hold.
    RelSh,
    /// Release whose mode is not known statically.
    Rel,
    /// Joining a condvar's wait queue.
    Join,
    /// Notifying a condvar.
    Notify,
    /// Reading a shared variable.
    Load,
    /// Writing a shared variable.
    Store,
}

impl Access {
    /// Whether `self` (a step about to be taken) and `other` (a step of another
    /// thread, on the same object) may fail to commute or may enable or disable
    /// each other. Shared acquisitions and shared releases commute with each
    /// other; everything else on a lock conflicts.
    pub fn conflicts(self, other: Access) -> bool {
        use Access::*;
        match self {
            AcqEx | RelEx | Rel => matches!(other, AcqEx | AcqSh | RelEx | RelSh | Rel),
            AcqSh | RelSh => other == AcqEx,
            Join | Notify => matches!(other, Join | Notify),
            Load => other == Store,
            Store => matches!(other, Load | Store),
        }
    }
}

/// Objects are numbered locks first, then vars.
pub(super) type Obj = u32;

/// The (object, access) pairs of a visible operation as code, with `Unlock` of
/// unknown mode. A wait releases its mutex, joins the queue, and takes the mutex back.
pub(super) fn op_accesses(op: SimOp, locks: usize) -> ([(Obj, Access); 3], usize) {
    let o = |i: usize| u32::try_from(i).unwrap_or(NONE);
    let v = |i: usize| u32::try_from(locks + i).unwrap_or(NONE);
    let none = (NONE, Access::Load);
    match op {
        SimOp::Lock(l) | SimOp::Write(l) => ([(o(l), Access::AcqEx), none, none], 1),
        SimOp::Reacquire { mutex, .. } => ([(o(mutex), Access::AcqEx), none, none], 1),
        SimOp::Read(l) => ([(o(l), Access::AcqSh), none, none], 1),
        SimOp::Unlock(l) => ([(o(l), Access::Rel), none, none], 1),
        SimOp::Wait { condvar, mutex } => (
            [
                (o(mutex), Access::RelEx),
                (o(condvar), Access::Join),
                (o(mutex), Access::AcqEx),
            ],
            3,
        ),
        SimOp::Notify(c) | SimOp::NotifyAll(c) => ([(o(c), Access::Notify), none, none], 1),
        SimOp::Load(x) => ([(v(x), Access::Load), none, none], 1),
        SimOp::Store(x) => ([(v(x), Access::Store), none, none], 1),
        // The explorer does not reduce scenarios with channels or joins
        // (their enabling depends on other threads' ends): these accesses
        // only keep the table complete.
        SimOp::Send(c) | SimOp::Recv(c) => ([(o(c), Access::Store), none, none], 1),
        SimOp::Join(_) => ([none, none, none], 0),
    }
}

pub(super) fn accesses(code: &[Instr], locks: usize) -> HashMap<Obj, Vec<(u32, Access)>> {
    let mut map: HashMap<Obj, Vec<(u32, Access)>> = HashMap::new();
    for (pc, instr) in code.iter().enumerate() {
        if let Instr::Op { op, .. } = instr {
            let (list, n) = op_accesses(*op, locks);
            for &(obj, access) in &list[..n] {
                let pc = u32::try_from(pc).unwrap_or(NONE);
                map.entry(obj).or_default().push((pc, access));
            }
        }
    }
    map
}

/// For each instruction, the locks held (and in which mode at least) on every
/// path of the program that reaches it: a forward must-analysis over the flat
/// code, intersecting at loop heads. `unlock` forgets the lock even when a
/// second read guard may remain, so the sets only ever under-approximate.
pub(super) fn must_held(code: &[Instr], budget: &mut usize) -> Vec<Vec<(u32, Mode)>> {
    let n = code.len();
    let mut state: Vec<Option<Vec<(u32, Mode)>>> = vec![None; n + 1];
    if n == 0 {
        return Vec::new();
    }
    state[0] = Some(Vec::new());
    let mut work = vec![0usize];
    let mut spent = 0usize;
    while let Some(pc) = work.pop() {
        if pc >= n {
            continue;
        }
        let Some(held) = state[pc].clone() else {
            continue;
        };
        let (out, succ) = match code[pc] {
            Instr::Op { op, .. } => (transfer(held, op), [pc + 1, NONE as usize]),
            Instr::Add(_) | Instr::Overflow => (held, [pc + 1, NONE as usize]),
            Instr::Repeat { .. } => (held, [pc + 1, NONE as usize]),
            Instr::End { start } => (held, [start as usize + 1, pc + 1]),
        };
        for next in succ {
            if next > n {
                continue;
            }
            let merged = match &state[next] {
                None => out.clone(),
                Some(old) => meet(old, &out),
            };
            if state[next].as_ref() != Some(&merged) {
                spent += merged.len() + 1;
                if spent > *budget {
                    *budget = 0;
                    return vec![Vec::new(); n];
                }
                state[next] = Some(merged);
                work.push(next);
            }
        }
    }
    *budget -= spent.min(*budget);
    state.truncate(n);
    state.into_iter().map(Option::unwrap_or_default).collect()
}

fn transfer(mut held: Vec<(u32, Mode)>, op: SimOp) -> Vec<(u32, Mode)> {
    let set = |held: &mut Vec<(u32, Mode)>, lock: usize, mode: Mode| {
        let lock = u32::try_from(lock).unwrap_or(NONE);
        match held.binary_search_by_key(&lock, |&(l, _)| l) {
            Ok(i) if mode == Mode::Exclusive => held[i].1 = mode,
            Ok(_) => {}
            Err(i) => held.insert(i, (lock, mode)),
        }
    };
    match op {
        SimOp::Lock(l) | SimOp::Write(l) => set(&mut held, l, Mode::Exclusive),
        SimOp::Read(l) => set(&mut held, l, Mode::Shared),
        SimOp::Unlock(l) => held.retain(|&(h, _)| h as usize != l),
        _ => {}
    }
    held
}

/// Intersection; a lock held exclusively on one path and shared on another is
/// at least shared.
fn meet(a: &[(u32, Mode)], b: &[(u32, Mode)]) -> Vec<(u32, Mode)> {
    a.iter()
        .filter_map(|&(lock, mode)| {
            let (_, other) = b.iter().find(|&&(l, _)| l == lock)?;
            let both = if mode == Mode::Exclusive && *other == Mode::Exclusive {
                Mode::Exclusive
            } else {
                Mode::Shared
            };
            Some((lock, both))
        })
        .collect()
}

/// Backward may-analysis: is the register read by a `store` (or `send`)
/// before a `load` overwrites it? (A `recv` may leave it as it was.) Loops are iterated to a fixed point (a few passes; after too
/// many, everything counts as live, which is always sound).
pub(super) fn reg_live(code: &[Instr]) -> Vec<bool> {
    let n = code.len();
    let mut live = vec![false; n + 1];
    for _ in 0..64 {
        let mut changed = false;
        for pc in (0..n).rev() {
            let now = match code[pc] {
                Instr::Op {
                    op: SimOp::Load(_), ..
                } => false,
                Instr::Op {
                    op: SimOp::Store(_) | SimOp::Send(_),
                    ..
                } => true,
                Instr::End { start } => live[start as usize + 1] || live[pc + 1],
                _ => live[pc + 1],
            };
            if now != live[pc] {
                live[pc] = now;
                changed = true;
            }
        }
        if !changed {
            live.truncate(n);
            return live;
        }
    }
    vec![true; n]
}
