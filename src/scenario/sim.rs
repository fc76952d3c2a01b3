//! The simulator: a scenario's threads, locks and variables stepped one lock
//! operation at a time, purely and deterministically. See [`Sim`].

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::sync::Arc;

use crate::event::{Event, EventKind, LockId, Mode, Nanos, ThreadId};

use super::Scenario;

mod code;
mod encode;
mod facts;
mod order;
mod por;
mod run;
mod small;
mod types;
mod waitfor;

#[cfg(test)]
mod tests;

use code::{Instr, Program};
use small::Small;

pub use types::{Moved, PendingOp, SimError, SimOp, SimStatus, StateKey, ThreadState};

/// One held lock: `count` holds of `lock` taken in a row in `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Guard {
    lock: u32,
    mode: Mode,
    count: u32,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            lock: 0,
            mode: Mode::Exclusive,
            count: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// At its pending operation (or at its end-of-thread unlocks).
    Ready,
    /// In the wait queue of the condvar of the `wait` at `pc`; `rank` 0 is first.
    Waiting { rank: u32 },
    /// Woken from the `wait` at `pc`: its next operation is the reacquire.
    Notified,
    /// Blocked in the queue of the lock its pending operation asks for.
    Queued { rank: u32 },
    /// In its pending send, receive or join, which has not completed yet: it
    /// completes with a step of its own once it can.
    InWait,
    /// Finished, holding nothing.
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Thread {
    pc: u32,
    status: Status,
    reg: i64,
    /// The register's value went past the 64-bit range on its way here.
    over: bool,
    /// Remaining iterations of each enclosing `repeat`, outermost first.
    loops: Small<u32, 3>,
    /// Held locks in the order taken.
    guards: Small<Guard, 3>,
}

/// Derived from the threads (never part of the key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LockState {
    /// The exclusive holder.
    excl: Option<u32>,
    /// Shared holds, counting repeated reads.
    shared: u32,
    /// Threads queued for it (locks) or waiting on it (condvars).
    queued: u32,
}

/// A pure, deterministic simulator of a [`Scenario`] at lock-operation
/// granularity: its threads, locks and variables at one point of one
/// interleaving. Cloning is cheap enough to branch a search.
///
/// Each thread runs its steps with a program counter (loops are counted, never
/// unrolled), a list of held locks and an integer register. Only *visible*
/// operations are scheduling points: `lock`/`write`, `read`, `unlock`, `wait`,
/// `notify`, `notify_all`, `load`, `store`, and the implicit `reacquire` of a
/// notified waiter. `sleep`, `work` and `add` have no effect anyone else can see,
/// so they run together with the visible operation that follows them.
///
/// A *step* moves one thread through its next visible operation. The rules, as the
/// real threads behave when each one is held at lockscope's step gate:
///
/// - `lock M` / `write L` completes iff nothing holds the lock; `read L` iff no
///   writer holds it and no writer is queued for it (parking_lot's `RwLock` is
///   fair: a queued writer blocks new readers). `unlock`, `notify*`, `load`,
///   `store` and `wait` always complete.
/// - A thread asked to take a lock it cannot get *blocks*, like a real thread: it
///   is queued on the lock and is handed it when the lock is released (in FIFO
///   order; a run of readers at the head of the queue is granted together). A
///   blocked thread cannot be moved.
/// - `wait CV M` releases `M` and queues the thread on `CV`. `notify` wakes the
///   longest waiter, `notify_all` every waiter; a notify nobody waits for is lost.
///   A woken thread's next operation is `reacquire M`, which completes iff `M` is
///   free (or blocks, as above).
/// - `unlock L` releases the thread's most recent hold of `L`. A thread whose
///   steps are done lets go of the locks it still holds, one `unlock` step each in
///   the order it took them (the real scenario thread drops its guards so), and
///   then finishes.
///
/// [`Sim::enabled`] lists the threads whose next step completes.
/// [`Sim::status`] says whether the run goes on, finished, or no thread can
/// complete a step: a [`SimStatus::Deadlock`] when blocked threads wait for each
/// other in a cycle, else [`SimStatus::Stuck`] (a wait nobody will notify).
///
/// # Examples
///
/// ```
/// use lockscope::scenario::{Scenario, Sim, SimStatus};
///
/// let scenario = Scenario::load("abba")?;
/// let mut sim = Sim::new(&scenario);
/// assert_eq!(sim.enabled(), vec![0, 1]);
/// sim.step(0)?; // left: lock A
/// sim.step(1)?; // right: lock B
/// assert_eq!(sim.describe(0), "left → lock B (abba.toml:15)");
/// let SimStatus::Deadlock { cycle } = sim.status() else { panic!() };
/// assert_eq!(cycle, vec![(0, 1), (1, 0)]); // left waits for B, right for A
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sim {
    prog: Arc<Program>,
    threads: Vec<Thread>,
    locks: Vec<LockState>,
    vars: Vec<i64>,
    /// Per variable, whether its value went past the 64-bit range on its way.
    var_over: Vec<bool>,
    /// Per lock index, the messages in a channel (with their overflow
    /// flags), oldest first (empty for other kinds).
    chans: Vec<Vec<(i64, bool)>>,
    /// Per-lock sequence numbers for events (not part of the state).
    seqs: Vec<u64>,
}

impl Sim {
    /// A simulator at the start of `scenario`: every thread before its first
    /// visible operation (threads with none are already done).
    pub fn new(scenario: &Scenario) -> Sim {
        let prog = Arc::new(Program::new(scenario));
        let threads = prog
            .threads
            .iter()
            .map(|_| Thread {
                pc: 0,
                status: Status::Ready,
                reg: 0,
                over: false,
                loops: Small::new(),
                guards: Small::new(),
            })
            .collect();
        let mut sim = Sim {
            threads,
            locks: vec![LockState::default(); scenario.locks.len()],
            vars: scenario.vars.iter().map(|v| v.initial).collect(),
            var_over: vec![false; scenario.vars.len()],
            chans: vec![Vec::new(); scenario.locks.len()],
            seqs: vec![0; scenario.locks.len()],
            prog,
        };
        for t in 0..sim.threads.len() {
            sim.settle(t, &mut run::Events::none());
        }
        sim
    }

    /// The scenario simulated.
    pub fn scenario(&self) -> &Scenario {
        &self.prog.scenario
    }

    /// How many threads the scenario has.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// The threads whose next step completes now, in index order.
    pub fn enabled(&self) -> Vec<usize> {
        (0..self.threads.len())
            .filter(|&t| self.is_enabled(t))
            .collect()
    }

    /// Whether thread `t`'s next step completes now.
    pub fn is_enabled(&self, t: usize) -> bool {
        let Some(th) = self.threads.get(t) else {
            return false;
        };
        matches!(th.status, Status::Ready | Status::Notified | Status::InWait)
            && self.can_complete(t)
    }

    /// What thread `t` would do next, or `None` if it has finished. For a thread
    /// waiting on a condvar this is the `reacquire` it will do once notified.
    pub fn pending(&self, t: usize) -> Option<PendingOp> {
        let th = self.threads.get(t)?;
        let op = self.pending_op(t)?;
        let code = &self.prog.threads[t];
        let (site, text, end_of_thread) = match code.code.get(th.pc as usize) {
            Some(Instr::Op { step, .. }) => {
                let info = &code.steps[*step as usize];
                match op {
                    SimOp::Reacquire { mutex, .. } => (
                        info.site,
                        format!("reacquire {}", self.prog.lock_name(mutex)),
                        false,
                    ),
                    _ => (info.site, info.text.clone(), false),
                }
            }
            _ => (code.site, self.op_text(op), true),
        };
        Some(PendingOp {
            op,
            site,
            text,
            end_of_thread,
        })
    }

    /// `thread → operation (site)`, e.g. `philosopher 2 → lock fork 3
    /// (philosophers.toml:7)`, or `philosopher 2 (done)`. Names are shown as
    /// written: escape them before printing untrusted ones to a terminal.
    pub fn describe(&self, t: usize) -> String {
        let name = self.thread_name(t);
        match self.pending(t) {
            Some(p) if p.end_of_thread => format!("{name} → {} (end of thread)", p.text),
            Some(p) => format!("{name} → {} ({})", p.text, p.site),
            None => format!("{name} (done)"),
        }
    }

    /// The name of thread `t` (`"?"` if there is none).
    pub fn thread_name(&self, t: usize) -> &str {
        self.prog.threads.get(t).map_or("?", |c| c.name.as_str())
    }

    /// Where thread `t` is: able to move, about to block, blocked, waiting on a
    /// condvar, or done.
    pub fn thread_state(&self, t: usize) -> ThreadState {
        let Some(th) = self.threads.get(t) else {
            return ThreadState::Done;
        };
        match th.status {
            Status::Done => ThreadState::Done,
            Status::Waiting { .. } => ThreadState::CondWaiting {
                condvar: match self.pending_op(t) {
                    Some(SimOp::Reacquire { condvar, .. }) => condvar,
                    _ => usize::MAX,
                },
            },
            _ if self.is_enabled(t) => ThreadState::Enabled,
            _ if matches!(
                self.pending_op(t),
                Some(SimOp::Send(_) | SimOp::Recv(_) | SimOp::Join(_))
            ) =>
            {
                let (op, threads) = self
                    .waits_on(t)
                    .unwrap_or((SimOp::Join(usize::MAX), Vec::new()));
                if th.status == Status::InWait {
                    ThreadState::Waits { op, threads }
                } else {
                    ThreadState::WouldWait { op, threads }
                }
            }
            status => {
                let (lock, holders) = self.waits_for(t).unwrap_or((usize::MAX, Vec::new()));
                if matches!(status, Status::Queued { .. }) {
                    ThreadState::Blocked { lock, holders }
                } else {
                    ThreadState::WouldBlock { lock, holders }
                }
            }
        }
    }

    /// Moves thread `t` through its next visible operation (and the invisible
    /// steps before it). A request that cannot be granted makes the thread block.
    ///
    /// # Errors
    ///
    /// When `t` does not exist, has finished, waits on a condvar, or is blocked.
    pub fn step(&mut self, t: usize) -> Result<Moved, SimError> {
        self.step_with(t, &mut run::Events::none())
    }

    /// Like [`step`](Self::step), and appends the events a real run would record
    /// for it (lock ids are lock indices, thread ids thread indices, sequence
    /// numbers counted per lock), all stamped `time`. Other threads can appear:
    /// a thread handed a lock on its release, a thread finishing.
    ///
    /// # Errors
    ///
    /// As [`step`](Self::step); nothing is appended then.
    pub fn step_events(
        &mut self,
        t: usize,
        time: Nanos,
        out: &mut Vec<Event>,
    ) -> Result<Moved, SimError> {
        self.step_with(t, &mut run::Events::into(out, time))
    }

    /// The events that start a run: each thread's start, each lock's creation,
    /// and the exit of threads with nothing visible to do.
    pub fn initial_events(&self, time: Nanos) -> Vec<Event> {
        let event = |t: usize, kind: EventKind| Event {
            time,
            thread: thread_id(t),
            kind,
        };
        let mut out = Vec::new();
        for (t, code) in self.prog.threads.iter().enumerate() {
            let name = code.name.clone();
            out.push(event(t, EventKind::ThreadStart { name }));
        }
        for (l, decl) in self.prog.scenario.locks.iter().enumerate() {
            let kind = EventKind::LockCreated {
                lock: lock_id(l),
                name: decl.name.clone(),
                kind: decl.kind,
                site: decl.site,
                first_seq: 0,
            };
            out.push(event(0, kind));
        }
        for (t, th) in self.threads.iter().enumerate() {
            if th.status == Status::Done {
                out.push(event(t, EventKind::ThreadExit));
            }
        }
        out
    }

    /// Where the run stands.
    pub fn status(&self) -> SimStatus {
        if self.threads.iter().all(|th| th.status == Status::Done) {
            return SimStatus::Finished;
        }
        if (0..self.threads.len()).any(|t| self.is_enabled(t)) {
            return SimStatus::Running;
        }
        match self.cycle() {
            Some(cycle) => SimStatus::Deadlock { cycle },
            None => SimStatus::Stuck {
                blocked: (0..self.threads.len())
                    .filter(|&t| self.threads[t].status != Status::Done)
                    .collect(),
            },
        }
    }

    /// A wait-for cycle among threads that cannot move, even while other threads
    /// still can: those threads are deadlocked for good. Same shape as
    /// [`SimStatus::Deadlock`].
    pub fn cycle(&self) -> Option<Vec<(usize, usize)>> {
        waitfor::cycle(self)
    }

    /// The shared variables' current values, in [`Scenario::vars`] order.
    pub fn vars(&self) -> &[i64] {
        &self.vars
    }

    /// Whether every `[expect]` entry holds now (meant for a finished run).
    pub fn expectations_hold(&self) -> bool {
        self.failed_expectation().is_none()
    }

    /// The first `[expect]` entry that does not hold now: `(var index, expected,
    /// actual)`. A value that went past the 64-bit range on its way (an `add`
    /// overflowed, see [`overflowed`](Self::overflowed)) never holds, as in a run.
    pub fn failed_expectation(&self) -> Option<(usize, i64, i64)> {
        self.prog.scenario.expect.iter().find_map(|e| {
            let actual = self.vars.get(e.var).copied().unwrap_or_default();
            (actual != e.value || self.overflowed(e.var)).then_some((e.var, e.value, actual))
        })
    }

    /// Whether variable `var`'s value went past the 64-bit range on its way
    /// (it then wrapped around).
    pub fn overflowed(&self, var: usize) -> bool {
        self.var_over.get(var).copied().unwrap_or(false)
    }

    /// A fingerprint of the state (program counters, loop counters, registers,
    /// held locks, wait queues, variables), for visited sets.
    pub fn key(&self) -> StateKey {
        let mut buf = Vec::new();
        self.encode(&mut buf);
        fingerprint(&buf)
    }

    fn op_text(&self, op: SimOp) -> String {
        let p = &self.prog;
        match op {
            SimOp::Lock(l) => format!("lock {}", p.lock_name(l)),
            SimOp::Read(l) => format!("read {}", p.lock_name(l)),
            SimOp::Write(l) => format!("write {}", p.lock_name(l)),
            SimOp::Unlock(l) => format!("unlock {}", p.lock_name(l)),
            SimOp::Wait { condvar, mutex } => {
                format!("wait {} {}", p.lock_name(condvar), p.lock_name(mutex))
            }
            SimOp::Reacquire { mutex, .. } => format!("reacquire {}", p.lock_name(mutex)),
            SimOp::Notify(c) => format!("notify {}", p.lock_name(c)),
            SimOp::NotifyAll(c) => format!("notify_all {}", p.lock_name(c)),
            SimOp::Load(v) => format!("load {}", p.var_name(v)),
            SimOp::Store(v) => format!("store {}", p.var_name(v)),
            SimOp::Send(c) => format!("send {}", p.lock_name(c)),
            SimOp::Recv(c) => format!("recv {}", p.lock_name(c)),
            SimOp::Join(t) => format!("join {}", p.thread_name(t)),
        }
    }

    /// What thread `t` waits for when it is in a send, receive or join that
    /// cannot complete, in words (names as written, unquoted), e.g. `waits
    /// for a message on channel results, and only worker can send to it`;
    /// `None` otherwise.
    pub fn wait_text(&self, t: usize) -> Option<String> {
        let (op, threads) = self.waits_on(t)?;
        if self.can_complete(t) {
            return None;
        }
        let p = &self.prog;
        let names: Vec<&str> = threads.iter().map(|&u| p.thread_name(u)).collect();
        let only = |verb: &str| match names.as_slice() {
            [one] => format!(", and only {one} can {verb} it"),
            _ => String::new(),
        };
        Some(match op {
            SimOp::Send(c) => format!(
                "waits for room on channel {}{}",
                p.lock_name(c),
                only("receive from")
            ),
            SimOp::Recv(c) => format!(
                "waits for a message on channel {}{}",
                p.lock_name(c),
                only("send to")
            ),
            SimOp::Join(u) => format!("joins {}, which has not finished", p.thread_name(u)),
            _ => return None,
        })
    }
}

/// Two independent 64-bit SipHashes (fixed keys: deterministic) of the encoding.
pub(super) fn fingerprint(bytes: &[u8]) -> StateKey {
    let mut a = DefaultHasher::new();
    a.write(bytes);
    let mut b = DefaultHasher::new();
    b.write_u64(0x6c6f_636b_7363_6f70);
    b.write(bytes);
    StateKey((u128::from(a.finish()) << 64) | u128::from(b.finish()))
}

fn lock_id(l: usize) -> LockId {
    LockId(u32::try_from(l).unwrap_or(u32::MAX))
}

fn thread_id(t: usize) -> ThreadId {
    ThreadId(u32::try_from(t).unwrap_or(u32::MAX))
}
