//! A scenario compiled for the simulator: each thread's steps as flat code with
//! loop instructions (a `repeat` block is never unrolled), plus the static facts
//! the partial-order reduction relies on.
//!
//! Only *visible* operations (scheduling points) become [`Instr::Op`]. `sleep` and
//! `work` vanish, `add` becomes [`Instr::Add`], and a `repeat` block without any
//! visible operation folds into one `Add` of its total effect, so a program never
//! spins through invisible loops: every loop body holds a scheduling point.

use std::collections::HashMap;

use super::SimOp;
use super::facts::{Access, Obj, accesses, must_held, reg_live};
use crate::event::{LockKind, Mode, Site};
use crate::scenario::{Op, Scenario, Step};

/// Marks "no enclosing loop".
pub(super) const NONE: u32 = u32::MAX;

/// Above this many must-held entries in total the analysis gives up (and claims
/// nothing, which is always sound): hostile files must not cost unbounded memory.
const MUST_BUDGET: usize = 4_000_000;

/// One instruction of a thread's flat code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Instr {
    /// A visible operation; `step` indexes [`ThreadCode::steps`].
    Op { op: SimOp, step: u32 },
    /// Add to the register (an `add`, or a folded invisible loop).
    Add(i64),
    /// The register went past the 64-bit range in a folded invisible loop
    /// (its [`Instr::Add`] follows, wrapped).
    Overflow,
    /// Enter a loop body run `times` times; `end` is the index of its [`Instr::End`].
    Repeat { times: u32, end: u32 },
    /// End of a loop body: go round again from `start + 1` or fall through.
    End { start: u32 },
}

/// Where a visible step came from, for display.
#[derive(Clone, Debug)]
pub(super) struct StepInfo {
    pub site: Site,
    /// The step as written, whitespace collapsed and the verb in lower case.
    pub text: String,
}

/// One thread, compiled.
#[derive(Debug)]
pub(super) struct ThreadCode {
    pub name: String,
    pub site: Site,
    pub code: Vec<Instr>,
    pub steps: Vec<StepInfo>,
    /// For each instruction, the innermost enclosing `Repeat` (or [`NONE`]).
    pub enclosing: Vec<u32>,
    /// For each instruction, the locks held on every path reaching it.
    pub must: Vec<Vec<(u32, Mode)>>,
    /// Per object, the instructions touching it, in code order.
    pub accesses: HashMap<Obj, Vec<(u32, Access)>>,
    /// For each instruction, whether the register's value before it may still
    /// be stored (a `store` can come before the next `load`).
    live: Vec<bool>,
}

impl ThreadCode {
    /// Whether the register matters at `pc` (past the end it never does).
    pub fn reg_live(&self, pc: u32) -> bool {
        self.live.get(pc as usize).copied().unwrap_or(false)
    }
}

/// The whole scenario, compiled; shared by every [`Sim`](super::Sim) state.
#[derive(Debug)]
pub(super) struct Program {
    pub scenario: Scenario,
    pub threads: Vec<ThreadCode>,
    /// Per thread, the first thread with the same program (copies made by
    /// `count = N` behave alike and can be swapped: symmetry).
    pub group: Vec<usize>,
    /// Whether any two threads share a program (and swapping them changes
    /// nothing: never when a thread is joined by name).
    pub symmetric: bool,
    /// Per lock index, the threads that send on it (a channel), in order.
    pub senders: Vec<Vec<usize>>,
    /// Per lock index, the threads that receive from it (a channel), in order.
    pub receivers: Vec<Vec<usize>>,
}

impl Program {
    pub fn new(scenario: &Scenario) -> Program {
        let mut budget = MUST_BUDGET;
        let threads = scenario
            .threads
            .iter()
            .map(|decl| {
                let mut c = Compiler::default();
                c.emit(&decl.steps, NONE);
                let must = must_held(&c.code, &mut budget);
                let accesses = accesses(&c.code, scenario.locks.len());
                let live = reg_live(&c.code);
                ThreadCode {
                    name: decl.name.clone(),
                    site: decl.site,
                    code: c.code,
                    steps: c.steps,
                    enclosing: c.enclosing,
                    must,
                    accesses,
                    live,
                }
            })
            .collect::<Vec<ThreadCode>>();
        let group: Vec<usize> = (0..threads.len())
            .map(|t| {
                (0..t)
                    .find(|&u| same_program(&threads[u], &threads[t]))
                    .unwrap_or(t)
            })
            .collect();
        // A join names one copy: copies are no longer interchangeable.
        let joins = threads.iter().any(|c| {
            c.code.iter().any(|i| {
                matches!(
                    i,
                    Instr::Op {
                        op: SimOp::Join(_),
                        ..
                    }
                )
            })
        });
        let group = if joins {
            (0..threads.len()).collect()
        } else {
            group
        };
        let symmetric = group.iter().enumerate().any(|(t, &g)| g != t);
        let (mut senders, mut receivers) = (
            vec![Vec::new(); scenario.locks.len()],
            vec![Vec::new(); scenario.locks.len()],
        );
        for (t, c) in threads.iter().enumerate() {
            for instr in &c.code {
                let (list, ch) = match *instr {
                    Instr::Op {
                        op: SimOp::Send(ch),
                        ..
                    } => (&mut senders, ch),
                    Instr::Op {
                        op: SimOp::Recv(ch),
                        ..
                    } => (&mut receivers, ch),
                    _ => continue,
                };
                if let Some(list) = list.get_mut(ch)
                    && list.last() != Some(&t)
                {
                    list.push(t);
                }
            }
        }
        Program {
            scenario: scenario.clone(),
            threads,
            group,
            symmetric,
            senders,
            receivers,
        }
    }

    pub fn kind(&self, lock: usize) -> Option<LockKind> {
        self.scenario.locks.get(lock).map(|l| l.kind)
    }

    pub fn lock_name(&self, lock: usize) -> &str {
        self.scenario
            .locks
            .get(lock)
            .map_or("?", |l| l.name.as_str())
    }

    pub fn thread_name(&self, t: usize) -> &str {
        self.threads.get(t).map_or("?", |c| c.name.as_str())
    }

    pub fn var_name(&self, var: usize) -> &str {
        self.scenario.vars.get(var).map_or("?", |v| v.name.as_str())
    }
}

/// Two threads whose futures are the same from the same local state.
fn same_program(a: &ThreadCode, b: &ThreadCode) -> bool {
    a.code == b.code
        && a.steps.len() == b.steps.len()
        && a.steps
            .iter()
            .zip(&b.steps)
            .all(|(x, y)| x.site == y.site && x.text == y.text)
}

#[derive(Default)]
struct Compiler {
    code: Vec<Instr>,
    steps: Vec<StepInfo>,
    enclosing: Vec<u32>,
}

impl Compiler {
    fn push(&mut self, instr: Instr, outer: u32) -> u32 {
        let at = u32::try_from(self.code.len()).unwrap_or(NONE);
        self.code.push(instr);
        self.enclosing.push(outer);
        at
    }

    fn emit(&mut self, steps: &[Step], outer: u32) {
        for step in steps {
            let op = match &step.op {
                Op::Sleep(_) | Op::Work(_) => continue,
                Op::Add(n) => {
                    self.push(Instr::Add(*n), outer);
                    continue;
                }
                Op::Repeat { times, body } => {
                    if has_visible(body) {
                        let start = self.push(
                            Instr::Repeat {
                                times: *times,
                                end: 0,
                            },
                            outer,
                        );
                        self.emit(body, start);
                        let end = self.push(Instr::End { start }, outer);
                        if let Some(Instr::Repeat { end: e, .. }) =
                            self.code.get_mut(start as usize)
                        {
                            *e = end;
                        }
                    } else {
                        let (delta, over) = invisible_delta(body);
                        let total = delta.checked_mul(i64::from(*times));
                        if over || total.is_none() {
                            self.push(Instr::Overflow, outer);
                        }
                        let total = delta.wrapping_mul(i64::from(*times));
                        if total != 0 {
                            self.push(Instr::Add(total), outer);
                        }
                    }
                    continue;
                }
                Op::Lock(l) => SimOp::Lock(*l),
                Op::Read(l) => SimOp::Read(*l),
                Op::Write(l) => SimOp::Write(*l),
                Op::Unlock(l) => SimOp::Unlock(*l),
                Op::Wait { condvar, mutex } => SimOp::Wait {
                    condvar: *condvar,
                    mutex: *mutex,
                },
                Op::Notify(c) => SimOp::Notify(*c),
                Op::NotifyAll(c) => SimOp::NotifyAll(*c),
                Op::Load(v) => SimOp::Load(*v),
                Op::Store(v) => SimOp::Store(*v),
                Op::Send(c) => SimOp::Send(*c),
                Op::Recv(c) => SimOp::Recv(*c),
                Op::Join(t) => SimOp::Join(*t),
            };
            let index = u32::try_from(self.steps.len()).unwrap_or(NONE);
            self.steps.push(StepInfo {
                site: step.site,
                text: written(&step.text),
            });
            self.push(Instr::Op { op, step: index }, outer);
        }
    }
}

/// A step's text as schedules show it: whitespace runs collapsed, verb in lower case.
fn written(text: &str) -> String {
    let mut words = text.split_whitespace();
    let mut out = words.next().unwrap_or_default().to_lowercase();
    for word in words {
        out.push(' ');
        out.push_str(word);
    }
    out
}

fn has_visible(steps: &[Step]) -> bool {
    steps.iter().any(|s| match &s.op {
        Op::Sleep(_) | Op::Work(_) | Op::Add(_) => false,
        Op::Repeat { body, .. } => has_visible(body),
        _ => true,
    })
}

/// The register change of a block without visible operations.
///
/// Also whether working it out went past the 64-bit range: the fold then says
/// so with an [`Instr::Overflow`]. (A fold can hide an overflow that only some
/// orders of mixed-sign adds make; a run step by step sees it.)
fn invisible_delta(steps: &[Step]) -> (i64, bool) {
    steps
        .iter()
        .fold((0i64, false), |(acc, over), s| match &s.op {
            Op::Add(n) => match acc.checked_add(*n) {
                Some(sum) => (sum, over),
                None => (acc.wrapping_add(*n), true),
            },
            Op::Repeat { times, body } => {
                let (inner, inner_over) = invisible_delta(body);
                let times = i64::from(*times);
                let total = inner.checked_mul(times);
                let sum = total.and_then(|t| acc.checked_add(t));
                let wrapped = acc.wrapping_add(inner.wrapping_mul(times));
                (wrapped, over || inner_over || sum.is_none())
            }
            _ => (acc, over),
        })
}
