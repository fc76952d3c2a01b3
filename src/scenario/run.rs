//! Runs a scenario on real threads with lockscope's own locks, inside a session.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossbeam_channel::{Receiver, after, never, select, unbounded};
use serde::Serialize;

use super::{Op, Scenario, Step};

mod threads;

use crate::ExitStatus;
use crate::event::LockKind;
use crate::model::Summary;
use crate::{
    Condvar, DeadlockReport, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, Session,
    SessionBuilder, TransportStats,
};
use threads::{Ends, JoinSlots, joined_threads};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every thread ran to its end.
    Finished,
    /// A wait-for cycle closed; the deadlocked threads are left blocked.
    Deadlock,
    /// Neither happened within the time limit.
    Timeout,
    /// Every thread stayed blocked with nobody left to wake it (a lost
    /// notification); the threads are left blocked.
    Stall,
}

impl Outcome {
    /// The exit status the CLI ends with: finished, deadlock, timeout or
    /// stall (a failed `[expect]` is the report's, see
    /// [`RunReport::exit_status`]).
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Outcome::Finished => ExitStatus::Finished,
            Outcome::Deadlock => ExitStatus::Deadlock,
            Outcome::Timeout => ExitStatus::Timeout,
            Outcome::Stall => ExitStatus::Stall,
        }
    }
}

/// A scenario's expectation about a shared variable, checked at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectResult {
    /// The variable.
    pub var: String,
    /// What the scenario expects.
    pub expected: i64,
    /// What the run produced.
    pub actual: i64,
    /// An `add` went past the 64-bit range on the way to `actual` (which
    /// then wrapped around): the value says nothing about lost updates.
    pub overflowed: bool,
}

impl ExpectResult {
    /// Whether the expectation held.
    pub fn held(&self) -> bool {
        self.expected == self.actual && !self.overflowed
    }
}

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time of the run in nanoseconds.
    pub elapsed_ns: u64,
    /// Expectations on shared variables (only checked when the run finished).
    pub expectations: Vec<ExpectResult>,
    /// The model's summary: events, locks, threads, deadlocks.
    #[serde(flatten)]
    pub summary: Summary,
    /// The full text of each deadlock report.
    #[serde(skip)]
    pub reports: Vec<String>,
    /// Transport counts: `sent == received` when nothing was lost.
    #[serde(skip)]
    pub transport: TransportStats,
}

impl RunReport {
    /// Expectations that did not hold.
    pub fn failed_expectations(&self) -> impl Iterator<Item = &ExpectResult> {
        self.expectations.iter().filter(|e| !e.held())
    }

    /// How the run ends for the process: a finished run whose `[expect]`
    /// failed is not a success.
    pub fn exit_status(&self) -> ExitStatus {
        match self.outcome {
            Outcome::Finished if self.failed_expectations().next().is_some() => {
                ExitStatus::ExpectationFailed
            }
            outcome => outcome.exit_status(),
        }
    }
}

/// Options of a run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Give up after this long (exit status 4).
    pub timeout: Option<Duration>,
    /// Record every event to this trace file.
    pub record: Option<std::path::PathBuf>,
    /// How long every thread must stay blocked before a stall is reported
    /// (the session's default when `None`).
    pub stall_grace: Option<Duration>,
}

impl RunOptions {
    /// A session builder for a run of `name` with these options.
    pub(crate) fn builder(&self, name: &str) -> SessionBuilder {
        let mut builder = Session::builder().name(name.to_owned());
        if let Some(path) = &self.record {
            builder = builder.record(path);
        }
        if let Some(grace) = self.stall_grace {
            builder = builder.stall_grace(grace);
        }
        builder
    }
}

/// The scenario's synchronisation objects, shared by its threads.
enum Object {
    Mutex(Mutex<()>),
    RwLock(RwLock<()>),
    Condvar(Condvar),
    /// A channel: its ends are handed to the threads that use them.
    Channel,
    /// A kind scenario files cannot declare.
    Undeclarable,
}

/// A lock a scenario thread holds; dropping the guard releases it.
#[allow(dead_code)] // the read and write guards are held only for their drop
enum Held<'a> {
    Mutex(MutexGuard<'a, ()>),
    Read(RwLockReadGuard<'a, ()>),
    Write(RwLockWriteGuard<'a, ()>),
}

struct World {
    objects: Vec<Object>,
    vars: Vec<Var>,
}

/// A shared variable, and whether the value in it went through an overflow.
struct Var {
    value: AtomicI64,
    overflowed: AtomicBool,
}

/// A thread's register: `load`, `add`, `store`.
#[derive(Clone, Copy, Debug, Default)]
struct Register {
    value: i64,
    overflowed: bool,
}

/// A scenario whose threads are running inside a session of their own.
pub struct Started {
    /// The session recording the run.
    pub session: Session,
    /// One message per thread that ran to its end; disconnected once every
    /// thread is gone (a panicking thread sends nothing).
    pub done: Receiver<()>,
    /// Each deadlock report, as the collector finds it.
    pub deadlocks: Receiver<DeadlockReport>,
    /// The text of each stall report, as the collector finds it.
    pub stalls: Receiver<String>,
    /// How many threads the scenario started.
    pub threads: usize,
    handles: Vec<JoinHandle<()>>,
    joins: Arc<JoinSlots>,
    world: Arc<World>,
    started: Instant,
    name: String,
    expect: Vec<(String, usize, i64)>,
}

/// Starts `scenario`'s threads inside a session made from `builder` (its
/// deadlock handler is replaced: reports arrive on [`Started::deadlocks`]).
///
/// # Errors
///
/// Fails if a session is already running or threads cannot be spawned.
pub fn start(scenario: &Scenario, builder: SessionBuilder) -> anyhow::Result<Started> {
    // Made before the session starts, the locks register on first use: their
    // creation is then seen on the scenario's threads, not on this one.
    let world = Arc::new(build_world(scenario));
    // Channels too: made now, each registers with its first owner.
    let mut channels = scenario
        .locks
        .iter()
        .map(|decl| {
            (decl.kind == LockKind::Channel)
                .then(|| crate::channel::named_at(decl.name.clone(), decl.capacity, decl.site))
        })
        .collect::<Vec<_>>();
    let (deadlock_tx, deadlock_rx) = unbounded::<DeadlockReport>();
    let (stall_tx, stall_rx) = unbounded::<String>();
    let session = builder
        .on_deadlock(move |report: &DeadlockReport| {
            let _ = deadlock_tx.send(report.clone());
        })
        .on_stall(move |report| {
            let _ = stall_tx.send(report.to_string());
        })
        .start()?;
    let started = Instant::now();
    let (done_tx, done_rx) = unbounded::<()>();
    let mut handles = Vec::with_capacity(scenario.threads.len());
    let joined = joined_threads(scenario);
    let joins: Arc<JoinSlots> = Arc::new(
        (0..scenario.threads.len())
            .map(|_| std::sync::Mutex::new(None))
            .collect(),
    );
    // Every thread is running (and its join handle in place) before any
    // takes a step: a late thread start on a loaded machine does not change
    // what the scenario shows.
    let start_line = Arc::new(Barrier::new(scenario.threads.len() + 1));
    for (index, decl) in scenario.threads.iter().enumerate() {
        let line = Arc::clone(&start_line);
        let world = Arc::clone(&world);
        let slots = Arc::clone(&joins);
        let steps = decl.steps.clone();
        let ends = Ends::for_steps(&steps, &channels);
        let done = done_tx.clone();
        // Each thread is registered (its start recorded, its id taken)
        // before the next is spawned: thread ids, and the viewer's lanes,
        // follow the scenario's order on every run.
        let (registered_tx, registered) = crossbeam_channel::bounded::<()>(1);
        let spawned = crate::thread::Builder::new()
            .name(decl.name.clone())
            .spawn(move || {
                let _ = registered_tx.send(());
                ends.claim();
                line.wait();
                let mut held = Vec::new();
                let mut register = Register::default();
                let context = ThreadEnv {
                    world: &world,
                    ends: &ends,
                    joins: &slots,
                };
                execute(&context, &steps, &mut held, &mut register);
                drop(held);
                drop(ends);
                let _ = done.send(());
            });
        let handle = match spawned {
            Ok(handle) => handle,
            Err(err) => {
                // The threads already spawned wait at the start line: let
                // them go (they run to their end or block; nothing joins them).
                drop(channels);
                start_line.wait();
                return Err(err).with_context(|| format!("cannot start thread {:?}", decl.name));
            }
        };
        // Bounded: a thread that never runs would hang the barrier anyway.
        let _ = registered.recv_timeout(Duration::from_secs(10));
        if joined[index] {
            if let Ok(mut slot) = joins[index].lock() {
                *slot = Some(handle);
            }
        } else {
            handles.push(handle.into_std());
        }
    }
    // The threads hold their own ends now: without these, a channel
    // disconnects once its last sending (or receiving) thread is done.
    channels.clear();
    start_line.wait();
    let expect = scenario
        .expect
        .iter()
        .map(|e| (scenario.vars[e.var].name.clone(), e.var, e.value))
        .collect();
    Ok(Started {
        session,
        done: done_rx,
        deadlocks: deadlock_rx,
        stalls: stall_rx,
        threads: scenario.threads.len(),
        handles,
        joins,
        world,
        started,
        name: scenario.name.clone(),
        expect,
    })
}

impl Started {
    /// The scenario's `[expect]` checks against the shared variables as they
    /// are now (final once every thread finished), for another thread to call.
    pub fn checker(&self) -> impl Fn() -> Vec<ExpectResult> + Send + 'static {
        let world = Arc::clone(&self.world);
        let expect = self.expect.clone();
        move || check(&world, &expect)
    }

    /// Ends the run as `outcome` and reports on it. After a finished run the
    /// threads are joined first, so their exit events are in the summary;
    /// deadlocked threads are left blocked.
    pub fn finish(self, outcome: Outcome, mut reports: Vec<String>) -> RunReport {
        let elapsed_ns = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if outcome == Outcome::Finished {
            for handle in self.handles {
                let _ = handle.join();
            }
            // Threads joined by a step that never ran (none, once every
            // thread finished): joined here, off the record.
            for slot in self.joins.iter() {
                if let Some(handle) = slot.lock().ok().and_then(|mut s| s.take()) {
                    let _ = handle.into_std().join();
                }
            }
        }
        let transport = self.session.transport();
        let summary = self
            .session
            .finish()
            .unwrap_or_else(|| crate::model::Model::new().summary());
        reports.extend(self.deadlocks.try_iter().map(|r| r.to_string()));
        let expectations = if outcome == Outcome::Finished {
            check(&self.world, &self.expect)
        } else {
            Vec::new()
        };
        RunReport {
            scenario: self.name,
            outcome,
            elapsed_ns,
            expectations,
            summary,
            reports,
            transport,
        }
    }
}

/// Runs `scenario` to its end, its first deadlock, or the timeout, inside a
/// session of its own.
///
/// # Errors
///
/// Fails if a session is already running or threads cannot be spawned.
pub fn run(scenario: &Scenario, options: &RunOptions) -> anyhow::Result<RunReport> {
    let started = start(scenario, options.builder(&scenario.name))?;
    let deadline = options.timeout.map(after).unwrap_or_else(never);
    let mut finished = 0;
    let mut reports = Vec::new();
    let outcome = loop {
        if finished == started.threads {
            break Outcome::Finished;
        }
        select! {
            recv(started.done) -> msg => match msg {
                Ok(()) => finished += 1,
                // Every thread is gone without saying so: it panicked.
                Err(_) => break Outcome::Finished,
            },
            recv(started.deadlocks) -> report => {
                reports.extend(report.ok().map(|r| r.to_string()));
                break Outcome::Deadlock;
            }
            recv(started.stalls) -> report => {
                reports.extend(report.ok());
                break Outcome::Stall;
            }
            recv(deadline) -> _ => break Outcome::Timeout,
        }
    };
    Ok(started.finish(outcome, reports))
}

/// Each expectation with the variable's value now.
fn check(world: &World, expect: &[(String, usize, i64)]) -> Vec<ExpectResult> {
    expect
        .iter()
        .map(|(var, index, expected)| {
            let state = &world.vars[*index];
            ExpectResult {
                var: var.clone(),
                expected: *expected,
                actual: state.value.load(Ordering::SeqCst),
                overflowed: state.overflowed.load(Ordering::SeqCst),
            }
        })
        .collect()
}

fn build_world(scenario: &Scenario) -> World {
    let objects = scenario
        .locks
        .iter()
        .map(|decl| match decl.kind {
            LockKind::Mutex => Object::Mutex(Mutex::named_at(decl.name.clone(), (), decl.site)),
            LockKind::RwLock => Object::RwLock(RwLock::named_at(decl.name.clone(), (), decl.site)),
            LockKind::Condvar => Object::Condvar(Condvar::named_at(decl.name.clone(), decl.site)),
            LockKind::Channel => Object::Channel,
            // Scenario files declare no barriers: no step can name one.
            LockKind::Barrier => Object::Undeclarable,
        })
        .collect();
    let vars = scenario
        .vars
        .iter()
        .map(|v| Var {
            value: AtomicI64::new(v.initial),
            overflowed: AtomicBool::new(false),
        })
        .collect();
    World { objects, vars }
}

/// What a scenario thread works with besides its own state.
struct ThreadEnv<'a> {
    world: &'a World,
    ends: &'a Ends,
    joins: &'a JoinSlots,
}

/// Executes steps on the calling thread. Validation has made sure every lock
/// index names an object of the right kind; a mismatch is skipped, never a panic.
fn execute<'w>(
    context: &ThreadEnv<'w>,
    steps: &[Step],
    held: &mut Vec<(usize, Held<'w>)>,
    register: &mut Register,
) {
    let world = context.world;
    for step in steps {
        let site = step.site;
        match (&step.op, world.objects.get(op_object(&step.op))) {
            (Op::Lock(i) | Op::Write(i), Some(Object::Mutex(m))) => {
                held.push((*i, Held::Mutex(m.lock_at(site))));
            }
            (Op::Lock(i) | Op::Write(i), Some(Object::RwLock(l))) => {
                held.push((*i, Held::Write(l.write_at(site))));
            }
            (Op::Read(i), Some(Object::RwLock(l))) => held.push((*i, Held::Read(l.read_at(site)))),
            (Op::Unlock(i), _) => {
                if let Some(pos) = held.iter().rposition(|(h, _)| h == i) {
                    drop(held.remove(pos));
                }
            }
            (Op::Wait { mutex, .. }, Some(Object::Condvar(cv))) => {
                let guard = held.iter_mut().rev().find_map(|(h, g)| match g {
                    Held::Mutex(g) if h == mutex => Some(g),
                    _ => None,
                });
                if let Some(guard) = guard {
                    cv.wait_at(guard, site);
                }
            }
            (Op::Notify(_), Some(Object::Condvar(cv))) => {
                cv.notify(false, site);
            }
            (Op::NotifyAll(_), Some(Object::Condvar(cv))) => {
                cv.notify(true, site);
            }
            (Op::Sleep(d), _) => std::thread::sleep(*d),
            (Op::Work(d), _) => spin(*d),
            (Op::Repeat { times, body }, _) => {
                for _ in 0..*times {
                    execute(context, body, held, register);
                }
            }
            (Op::Load(v), _) => {
                if let Some(var) = world.vars.get(*v) {
                    *register = Register {
                        value: var.value.load(Ordering::SeqCst),
                        overflowed: var.overflowed.load(Ordering::SeqCst),
                    };
                }
            }
            (Op::Add(n), _) => match register.value.checked_add(*n) {
                Some(value) => register.value = value,
                None => {
                    register.value = register.value.wrapping_add(*n);
                    register.overflowed = true;
                }
            },
            (Op::Send(c), _) => {
                // No receiving thread left: the message is dropped.
                if let Some(tx) = context.ends.sender(*c) {
                    let _ = tx.send_at(*register, site);
                }
            }
            (Op::Recv(c), _) => {
                // No sending thread left: nothing comes, the register stays.
                if let Some(rx) = context.ends.receiver(*c)
                    && let Ok(message) = rx.recv_at(site)
                {
                    *register = message;
                }
            }
            (Op::Join(t), _) => {
                let handle = context
                    .joins
                    .get(*t)
                    .and_then(|slot| slot.lock().ok()?.take());
                if let Some(handle) = handle {
                    let _ = handle.join_at(site);
                }
            }
            (Op::Store(v), _) => {
                if let Some(var) = world.vars.get(*v) {
                    var.value.store(register.value, Ordering::SeqCst);
                    var.overflowed.store(register.overflowed, Ordering::SeqCst);
                }
            }
            _ => {}
        }
    }
}

/// The object a step names, or an index past the end for steps without one.
fn op_object(op: &Op) -> usize {
    match *op {
        Op::Lock(i) | Op::Read(i) | Op::Write(i) | Op::Unlock(i) => i,
        Op::Wait { condvar, .. } => condvar,
        Op::Notify(i) | Op::NotifyAll(i) => i,
        _ => usize::MAX,
    }
}

/// Busy work: keeps the CPU for `d` of wall time.
fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}
