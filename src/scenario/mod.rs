//! Scenario files: small TOML programs of threads taking locks.
//!
//! A scenario declares locks, condvars and shared integer variables, and gives each
//! thread a list of steps such as `"lock A"` or `"work 10ms"`. [`Scenario::parse`] turns
//! the text into a validated [`Scenario`]; every step keeps the [`Site`] of its string in
//! the file, so a deadlock report can say `abba.toml:9`. The format is documented in
//! the README ("Scenario files").
//!
//! Built-in scenarios live in `assets/scenarios/` and are embedded in the binary; see
//! [`builtins`].

use std::time::Duration;

use crate::event::{LockKind, Site};

mod builtin;
mod error;
mod explore;
mod parse;
mod pos;
mod replay;
mod run;
mod schedule;
mod sim;
mod steps;
mod validate;

#[cfg(test)]
mod tests;

pub use builtin::{Builtin, DEFAULT_SCENARIO, builtins};
pub use error::{ScenarioError, ScenarioErrorKind};
pub use explore::{Bound, ExploreOptions, ExploreReport, Found, Progress, explore, format_report};
pub use replay::replay;
pub use run::{ExpectResult, Outcome, RunOptions, RunReport, Started, run, start};
pub use schedule::{Schedule, ScheduledStep, validate};
pub use sim::{Moved, PendingOp, Sim, SimError, SimOp, SimStatus, StateKey, ThreadState};

/// A parsed and validated scenario, ready to run.
///
/// Indices in [`Op`] point into [`Scenario::locks`] and [`Scenario::vars`]. Validation
/// guarantees that every index is in range, that every lock index names an object of the
/// right kind, and that a thread only unlocks (or waits with) a lock it holds at that
/// point of its program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The scenario's name: the `name` key, or the file name without its extension.
    pub name: String,
    /// One line saying what the scenario shows (the `description` key, may be empty).
    pub description: String,
    /// The file as shown in sites and messages, e.g. `"abba.toml"` or the user's path.
    pub file: &'static str,
    /// The locks and condvars of the `[locks]` table, in file order.
    pub locks: Vec<LockDecl>,
    /// The shared integer variables of the `[vars]` table, in file order.
    pub vars: Vec<VarDecl>,
    /// The threads, in file order, with `count` templates already expanded.
    pub threads: Vec<ThreadDecl>,
    /// The final values the `[expect]` table asks for, checked after the run.
    pub expect: Vec<Expect>,
}

/// A lock or condvar declared in `[locks]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockDecl {
    /// The name as written (untrusted text: may contain spaces or control characters).
    pub name: String,
    /// Mutex, RwLock, Condvar or Channel.
    pub kind: LockKind,
    /// A channel's capacity: `None` for an unbounded channel (`"channel"`),
    /// `Some(0)` for a rendezvous (`"channel 0"`); `None` for other kinds.
    pub capacity: Option<usize>,
    /// Where the name is declared.
    pub site: Site,
}

/// A shared integer variable declared in `[vars]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarDecl {
    /// The name as written (untrusted text).
    pub name: String,
    /// The value the variable starts with.
    pub initial: i64,
    /// Where the name is declared.
    pub site: Site,
}

/// An entry of `[expect]`: the value a variable must have when all threads are done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// Index into [`Scenario::vars`].
    pub var: usize,
    /// The expected final value.
    pub value: i64,
    /// Where the expectation is written.
    pub site: Site,
}

/// One thread of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadDecl {
    /// The thread's name (untrusted text). Copies made with `count = N` are named
    /// `"NAME 0"` to `"NAME N-1"`.
    pub name: String,
    /// The thread's program, with `repeat` blocks kept as a tree (never unrolled).
    pub steps: Vec<Step>,
    /// Where the thread's `[[thread]]` table starts.
    pub site: Site,
}

/// One step of a thread's program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the step does.
    pub op: Op,
    /// Where the step's string starts in the file (its opening quote).
    pub site: Site,
    /// The step's string as written, e.g. `"lock fork 3"`.
    pub text: String,
}

/// What a [`Step`] does. `usize` fields index [`Scenario::locks`] or [`Scenario::vars`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Lock a mutex. (`lock` on an rwlock parses as [`Op::Write`], so this is always a
    /// mutex; a runner may still treat it as "exclusive lock of whatever it names".)
    /// Locking a mutex the thread already holds is allowed: it self-deadlocks.
    Lock(usize),
    /// Take an rwlock for reading.
    Read(usize),
    /// Take an rwlock for writing.
    Write(usize),
    /// Release everything the thread holds of a mutex or rwlock, read or write.
    Unlock(usize),
    /// Wait on a condvar, releasing the mutex for the wait and holding it again after.
    Wait {
        /// Index of the condvar.
        condvar: usize,
        /// Index of the mutex, which the thread holds at this point.
        mutex: usize,
    },
    /// Wake one thread waiting on the condvar (lost if none waits).
    Notify(usize),
    /// Wake every thread waiting on the condvar.
    NotifyAll(usize),
    /// Block the thread for this long (`sleep`).
    Sleep(Duration),
    /// Keep the thread busy for this long (`work`): spin, do not sleep.
    Work(Duration),
    /// Run `body` `times` times in a row (`times` is 1 to [`MAX_REPEAT`]).
    Repeat {
        /// How many times the body runs.
        times: u32,
        /// The steps between `repeat N` and its `end`.
        body: Vec<Step>,
    },
    /// Copy a shared variable into the thread's register (which starts at 0).
    Load(usize),
    /// Add to the thread's register (wrapping on overflow); may be negative.
    Add(i64),
    /// Copy the thread's register into a shared variable.
    Store(usize),
    /// Send the thread's register on a channel (`send CH`): blocks while a
    /// bounded channel is full (a rendezvous until a receiver takes it); the
    /// message is dropped when no thread that receives from it is left.
    Send(usize),
    /// Receive from a channel into the thread's register (`recv CH`): blocks
    /// until a message comes; when no thread that sends on it is left
    /// (disconnected), it goes on and leaves the register as it was.
    Recv(usize),
    /// Wait for a thread (an index into [`Scenario::threads`]) to finish
    /// (`join NAME`). Validation makes sure a thread is joined by at most one
    /// step, run at most once, and never by itself.
    Join(usize),
}

/// Calls `f` with every operation of `steps`, those inside `repeat` blocks
/// too (once each: blocks are not unrolled), in program order.
pub(crate) fn each_op(steps: &[Step], f: &mut impl FnMut(&Op)) {
    for step in steps {
        match &step.op {
            Op::Repeat { body, .. } => each_op(body, f),
            op => f(op),
        }
    }
}

/// The largest count `repeat N` accepts.
pub const MAX_REPEAT: u32 = 1_000_000;

impl Scenario {
    /// Parses and validates scenario text. `file` names the text in sites and messages.
    ///
    /// # Errors
    ///
    /// Any syntax or validation problem, as one [`ScenarioErrorKind::At`] whose
    /// message starts with `FILE:LINE:COLUMN: ` and points at the offending
    /// key or step string (or [`ScenarioErrorKind::TooLarge`] over 1 MiB), e.g.
    /// `abba.toml:9:30: unknown lock "C" in step "lock C" (declared locks: A, B)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::scenario::{Op, Scenario};
    ///
    /// let text = r#"
    /// [locks]
    /// A = "mutex"
    /// [[thread]]
    /// name = "t"
    /// steps = ["lock A", "work 1ms", "unlock A"]
    /// "#;
    /// let scenario = Scenario::parse("mine.toml", text)?;
    /// assert_eq!(scenario.name, "mine");
    /// assert_eq!(scenario.threads[0].steps[0].op, Op::Lock(0));
    /// assert_eq!(scenario.threads[0].steps[0].site.to_string(), "mine.toml:6");
    ///
    /// let err = Scenario::parse("mine.toml", &text.replace("unlock A", "unlock B")).unwrap_err();
    /// assert!(err.to_string().starts_with("mine.toml:6:32: unknown lock \"B\""), "{err}");
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        parse::parse(file, text)
    }

    /// Loads a built-in scenario by name, or else the scenario file at that path.
    ///
    /// A built-in scenario's file is shown as `NAME.toml`; a user's file as the path given.
    ///
    /// # Errors
    ///
    /// When no built-in has that name and there is no such file
    /// ([`ScenarioErrorKind::NotFound`], the message lists the built-in names),
    /// the file cannot be read ([`ScenarioErrorKind::Io`]), is larger than
    /// 1 MiB ([`ScenarioErrorKind::TooLarge`]) or not UTF-8
    /// ([`ScenarioErrorKind::NotUtf8`]), or any error of [`Scenario::parse`].
    ///
    /// # Examples
    ///
    /// ```
    /// let scenario = lockscope::scenario::Scenario::load("abba")?;
    /// assert_eq!(scenario.file, "abba.toml");
    /// assert_eq!(scenario.threads.len(), 2);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn load(path_or_builtin_name: &str) -> Result<Scenario, ScenarioError> {
        builtin::load(path_or_builtin_name)
    }

    /// Whether any thread sends, receives or joins: the simulator (and with
    /// it `explore` and `--schedule`) covers locks and condvars only.
    pub fn has_channels_or_joins(&self) -> bool {
        let mut found = false;
        for thread in &self.threads {
            each_op(&thread.steps, &mut |op| {
                found |= matches!(op, Op::Send(_) | Op::Recv(_) | Op::Join(_));
            });
        }
        found
    }

    /// The index of the lock or condvar with this name, if one is declared.
    ///
    /// # Examples
    ///
    /// ```
    /// let scenario = lockscope::scenario::Scenario::load("philosophers")?;
    /// assert_eq!(scenario.lock_index("fork 3"), Some(3));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn lock_index(&self, name: &str) -> Option<usize> {
        self.locks.iter().position(|lock| lock.name == name)
    }
}
