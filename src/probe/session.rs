//! A session: while it lives, instrumented locks record into it, a collector
//! thread keeps the model up to date, and deadlocks are reported.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, unbounded};
use parking_lot::Mutex;

use super::collector::{
    Collector, Counters, DeadlockHandler, Listener, MAX_HELD_BACK, READ_ALL_ABOVE, StallHandler,
};
use super::sequencer::Sequencer;
use super::sink::{HUB, Hub, Msg};
use super::{clock, state};
use crate::event::Event;
use crate::model::{self, Deadlock, Model, STALL_GRACE_NS, StallReport, Summary};
use crate::{SessionError, SessionErrorKind};

/// How a session runs, as chosen by `LOCKSCOPE` or the builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionMode {
    /// Record nothing: locks cost one relaxed load over parking_lot.
    Off,
    /// Record, report deadlocks on stderr and exit with status 3 (a stall:
    /// status 6).
    Headless,
    /// Record and show the live viewer on the terminal, on a thread of its
    /// own, while the program runs on.
    Tui,
}

/// One deadlock, with everything a person needs to fix it.
#[derive(Clone, Debug)]
pub struct DeadlockReport {
    /// Names of the threads in the cycle, in cycle order.
    pub threads: Vec<String>,
    /// Names of the locks they wait for, in the same order (a join waits
    /// for no lock and has no entry).
    pub locks: Vec<String>,
    /// The cycle as the model found it (ids, sites, times).
    pub deadlock: Deadlock,
    text: String,
}

impl DeadlockReport {
    pub(crate) fn new(model: &Model, deadlock: Deadlock) -> Self {
        let threads = deadlock
            .edges
            .iter()
            .map(|e| model::sanitize(model.thread_name(e.thread)))
            .collect();
        let locks = deadlock
            .locks()
            .map(|l| model::sanitize(model.lock_name(l)))
            .collect();
        let text = model::format_deadlock(model, &deadlock);
        DeadlockReport {
            threads,
            locks,
            deadlock,
            text,
        }
    }
}

impl fmt::Display for DeadlockReport {
    /// The full human-readable report: threads, locks, holders and sites.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Event counts of the transport: `sent == received` once everything is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Events recorded by worker threads.
    pub sent: u64,
    /// Events that reached the collector.
    pub received: u64,
    /// Events received but held back waiting for an earlier one.
    pub pending: u64,
    /// Events that came after a later change of their lock (0 when healthy).
    pub late: u64,
    /// Sequence numbers given up on after a stall (0 when healthy).
    pub skipped: u64,
    /// Events dropped because the collector fell too far behind (0 when
    /// healthy; `sent == received + dropped`).
    pub dropped: u64,
    /// Events a listener (the viewer, a recording) lost because it fell too
    /// far behind the collector (0 when healthy).
    pub listener_dropped: u64,
}

/// Configures a [`Session`] in code, for what `LOCKSCOPE` does from outside.
///
/// # Examples
///
/// ```
/// use lockscope::{Session, SessionMode};
/// let session = Session::builder()
///     .mode(SessionMode::Headless)
///     .on_deadlock(|report| eprintln!("{report}"))
///     .start()
///     .unwrap();
/// let m = lockscope::Mutex::named("m", 0);
/// *m.lock() += 1;
/// assert_eq!(session.summary().locks[0].acquisitions, 1);
/// ```
pub struct SessionBuilder {
    pub(crate) mode: SessionMode,
    pub(crate) on_deadlock: Option<DeadlockHandler>,
    pub(crate) on_stall: Option<StallHandler>,
    pub(crate) stall_grace: Duration,
    pub(crate) report_at_end: bool,
    pub(crate) listeners: Vec<crossbeam_channel::Sender<Vec<Event>>>,
    pub(crate) record: Option<std::path::PathBuf>,
    pub(crate) name: Option<String>,
}

/// Work to do once every event has reached the listeners: finishing a
/// recording. Run when the session ends, or before a headless session exits
/// on a deadlock, whichever comes first.
pub(crate) type Finisher = Box<dyn FnOnce() + Send>;

/// The finishers of one session, shared with its deadlock handler.
#[derive(Clone, Default)]
pub(crate) struct Finishers(Arc<Mutex<Vec<Finisher>>>);

impl Finishers {
    pub(crate) fn add(&self, finisher: Finisher) {
        self.0.lock().push(finisher);
    }

    /// Whether there is nothing to finish (no recording, say).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Runs (and forgets) every finisher.
    pub(crate) fn run(&self) {
        let finishers = std::mem::take(&mut *self.0.lock());
        for finisher in finishers {
            finisher();
        }
    }
}

impl SessionBuilder {
    /// Headless, with the default deadlock handling (report, exit 3).
    pub fn new() -> Self {
        SessionBuilder {
            mode: SessionMode::Headless,
            on_deadlock: None,
            on_stall: None,
            stall_grace: Duration::from_nanos(STALL_GRACE_NS),
            report_at_end: false,
            listeners: Vec::new(),
            record: None,
            name: None,
        }
    }

    /// Chooses how the session runs.
    pub fn mode(mut self, mode: SessionMode) -> Self {
        self.mode = mode;
        self
    }

    /// Calls `handler` on the collector thread for each deadlock, instead of
    /// printing the report and exiting with status 3. The handler must not wait
    /// on the session (no [`Session::summary`] from inside it).
    pub fn on_deadlock(mut self, handler: impl FnMut(&DeadlockReport) + Send + 'static) -> Self {
        self.on_deadlock = Some(Box::new(handler));
        self
    }

    /// Calls `handler` on the collector thread when every live thread has been
    /// blocked for the grace period with nobody to wake it (a lost
    /// notification; see the README's "Stalls"), instead of printing the
    /// report and exiting with status 6. Each stall is reported once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let session = lockscope::Session::builder()
    ///     .on_stall(move |report| drop(tx.send(report.to_string())))
    ///     .stall_grace(Duration::from_millis(50))
    ///     .start()
    ///     .unwrap();
    /// let waiter = lockscope::thread::spawn(|| {
    ///     let (m, cv) = (lockscope::Mutex::new(()), lockscope::Condvar::named("never"));
    ///     let mut g = m.lock();
    ///     cv.wait(&mut g); // nobody will notify it
    /// });
    /// let report = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    /// assert!(report.starts_with("STALL: its only thread blocked"), "{report}");
    /// # drop(waiter);
    /// ```
    pub fn on_stall(mut self, handler: impl FnMut(&StallReport) + Send + 'static) -> Self {
        self.on_stall = Some(Box::new(handler));
        self
    }

    /// How long every thread must stay blocked before a stall is reported
    /// (1 s by default).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let session = lockscope::Session::builder()
    ///     .stall_grace(Duration::from_secs(5))
    ///     .start()
    ///     .unwrap();
    /// drop(session);
    /// ```
    pub fn stall_grace(mut self, grace: Duration) -> Self {
        self.stall_grace = grace;
        self
    }

    /// Prints the summary to stderr when the session ends.
    pub fn report_at_end(mut self, on: bool) -> Self {
        self.report_at_end = on;
        self
    }

    /// Names what is watched (for the viewer's title and a recording's
    /// header); the program's file name by default.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Records every event to a trace file at `path` (see the README's "Trace
    /// files"), written on a thread of its own.
    pub fn record(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Sends every event, in model order, to `listener` as it is applied, in
    /// batches (one message per batch the collector applies).
    pub fn listener(mut self, listener: crossbeam_channel::Sender<Vec<Event>>) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Starts recording (any mode but `Off`); the viewer, if any, is
    /// attached by the caller.
    pub(crate) fn start_recording(self) -> Result<Session, SessionError> {
        if self.mode == SessionMode::Off {
            return Ok(Session {
                running: None,
                viewer: None,
                finishers: Finishers::default(),
            });
        }
        if RUNNING.swap(true, Ordering::SeqCst) {
            return Err(SessionError::new(
                SessionErrorKind::AlreadyRunning,
                "a lockscope session is already running in this process",
            ));
        }
        let finishers = Finishers::default();
        match self.start_running(finishers.clone()) {
            Ok(running) => Ok(Session {
                running: Some(running),
                viewer: None,
                finishers,
            }),
            Err(err) => {
                RUNNING.store(false, Ordering::SeqCst);
                Err(err)
            }
        }
    }

    fn start_running(self, finishers: Finishers) -> Result<Running, SessionError> {
        let epoch = NEXT_EPOCH.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = unbounded();
        let hub = Arc::new(Hub::new(epoch, tx, clock::raw()));
        let model = Arc::new(Mutex::new(Model::new()));
        let counters = Arc::new(Counters::default());
        let stall_finishers = finishers.clone();
        let collector = Collector {
            rx,
            hub: Arc::clone(&hub),
            model: Arc::clone(&model),
            counters: Arc::clone(&counters),
            on_deadlock: self.on_deadlock.unwrap_or_else(|| {
                Box::new(move |report: &DeadlockReport| {
                    eprintln!("{report}");
                    // The recording gets everything up to the deadlock first.
                    finishers.run();
                    crate::ExitStatus::Deadlock.exit();
                })
            }),
            on_stall: self.on_stall.unwrap_or_else(|| {
                Box::new(move |report: &StallReport| {
                    eprintln!("{report}");
                    stall_finishers.run();
                    std::process::exit(6);
                })
            }),
            stall_grace: u64::try_from(self.stall_grace.as_nanos()).unwrap_or(u64::MAX),
            stall_reported: None,
            listeners: self.listeners.into_iter().map(Listener::new).collect(),
            sequencer: Sequencer::new(),
            ready: Vec::new(),
            rings: Vec::new(),
            lossy_now: false,
            in_transit: false,
            read_all_above: READ_ALL_ABOVE,
            read_all_soon: false,
            max_held_back: MAX_HELD_BACK,
        };
        let handle = std::thread::Builder::new()
            .name("lockscope-collector".into())
            .spawn(move || collector.run())
            .map_err(|err| {
                let name = "lockscope-collector";
                let message = "cannot start the lockscope collector thread";
                SessionError::caused_by(SessionErrorKind::Thread { name }, message, err)
            })?;
        *HUB.write() = Some(Arc::clone(&hub));
        state::start(epoch);
        Ok(Running {
            hub,
            collector: Some(handle),
            model,
            counters,
            report_at_end: self.report_at_end,
        })
    }
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder::new()
    }
}

static RUNNING: AtomicBool = AtomicBool::new(false);
static NEXT_EPOCH: AtomicU32 = AtomicU32::new(1);

/// A recording session. Dropping it ends the recording (and prints the summary
/// if asked to).
///
/// # Examples
///
/// ```
/// let session = lockscope::Session::builder().start().unwrap();
/// let a = lockscope::Mutex::named("a", ());
/// drop(a.lock());
/// let summary = session.finish().unwrap();
/// assert_eq!(summary.locks[0].acquisitions, 1);
/// ```
pub struct Session {
    running: Option<Running>,
    viewer: Option<Box<dyn Viewer>>,
    finishers: Finishers,
}

/// A viewer attached to a session (the TUI on its own thread).
pub(crate) trait Viewer: Send {
    /// The program is done: the viewer says so and stays open.
    fn program_ended(&mut self);
    /// Blocks until the user quits the viewer.
    fn wait(self: Box<Self>);
}

/// The session's clock and counters, for a viewer on another thread.
#[derive(Clone)]
pub struct Meter {
    hub: Arc<Hub>,
    counters: Arc<Counters>,
}

impl Meter {
    /// Nanoseconds since the session started.
    pub fn elapsed_ns(&self) -> u64 {
        clock::to_nanos(self.hub.origin, clock::raw())
    }

    /// Transport counts as they stand.
    pub fn transport(&self) -> TransportStats {
        transport(&self.hub, &self.counters)
    }

    /// Has the collector take every pending event through the model and to
    /// the listeners (a recording), waiting at most `wait` for it.
    pub(crate) fn sync(&self, wait: Duration) {
        sync(&self.hub, wait);
    }
}

/// Asks the collector for one pass over every buffer and waits (bounded) for
/// it; a collector that is gone has nothing left to do.
fn sync(hub: &Hub, wait: Duration) {
    let (tx, rx): (_, Receiver<()>) = crossbeam_channel::bounded(1);
    if hub.tx.send(Msg::Sync(tx)).is_ok() {
        let _ = rx.recv_timeout(wait);
    }
}

struct Running {
    hub: Arc<Hub>,
    collector: Option<JoinHandle<()>>,
    model: Arc<Mutex<Model>>,
    counters: Arc<Counters>,
    report_at_end: bool,
}

impl Session {
    /// Configures a session in code.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// Whether this session records (false for `LOCKSCOPE=off`).
    pub fn is_recording(&self) -> bool {
        self.running.is_some()
    }

    /// Waits until every event recorded before this call has been applied.
    pub fn sync(&self) {
        if let Some(running) = &self.running {
            running.sync();
        }
    }

    /// The summary so far (after a [`sync`](Self::sync)); empty when off.
    pub fn summary(&self) -> Summary {
        match &self.running {
            Some(running) => {
                running.sync();
                running.model.lock().summary()
            }
            None => Model::new().summary(),
        }
    }

    /// Runs `f` on the model as it is now (after a [`sync`](Self::sync)).
    pub fn with_model<R>(&self, f: impl FnOnce(&Model) -> R) -> Option<R> {
        let running = self.running.as_ref()?;
        running.sync();
        Some(f(&running.model.lock()))
    }

    /// Event counts of the transport (after a [`sync`](Self::sync)).
    pub fn transport(&self) -> TransportStats {
        match &self.running {
            Some(running) => {
                running.sync();
                running.transport()
            }
            None => TransportStats::default(),
        }
    }

    /// Nanoseconds since the session started, on the clock events use.
    pub fn elapsed_ns(&self) -> u64 {
        match &self.running {
            Some(running) => clock::to_nanos(running.hub.origin, clock::raw()),
            None => 0,
        }
    }

    /// Event counts of the transport as they stand, without waiting for the
    /// collector (for a live view).
    pub fn transport_now(&self) -> TransportStats {
        match &self.running {
            Some(running) => running.transport(),
            None => TransportStats::default(),
        }
    }

    /// The clock and counters, for a viewer (`None` when off).
    pub fn meter(&self) -> Option<Meter> {
        let running = self.running.as_ref()?;
        Some(Meter {
            hub: Arc::clone(&running.hub),
            counters: Arc::clone(&running.counters),
        })
    }

    pub(crate) fn attach_viewer(&mut self, viewer: Box<dyn Viewer>) {
        self.viewer = Some(viewer);
    }

    /// Work to run once every event has reached the listeners.
    pub(crate) fn finishers(&self) -> Finishers {
        self.finishers.clone()
    }

    /// Says the program is done and, when the viewer is up, waits until the
    /// user quits it; then ends the recording. Dropping the session does the
    /// same.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = lockscope::Session::builder().start().unwrap();
    /// // ... the program's work ...
    /// session.wait();
    /// ```
    pub fn wait(mut self) -> Option<Summary> {
        self.end()
    }

    /// Ends the recording and returns the final summary (`None` when off).
    /// With a viewer up, this first waits until the user quits it.
    pub fn finish(mut self) -> Option<Summary> {
        self.end()
    }

    fn end(&mut self) -> Option<Summary> {
        if let Some(mut viewer) = self.viewer.take() {
            viewer.program_ended();
            viewer.wait();
        }
        let mut running = self.running.take()?;
        state::stop();
        let _ = running.hub.tx.send(Msg::Stop);
        if let Some(handle) = running.collector.take() {
            let _ = handle.join();
        }
        *HUB.write() = None;
        RUNNING.store(false, Ordering::SeqCst);
        self.finishers.run();
        let summary = running.model.lock().summary();
        if running.report_at_end {
            eprintln!("{}", model::format_summary(&summary));
        }
        Some(summary)
    }
}

/// Transport counts from a session's hub and counters.
fn transport(hub: &Hub, counters: &Counters) -> TransportStats {
    let sent = hub
        .threads
        .lock()
        .iter()
        .map(|(_, ring)| ring.written())
        .sum();
    TransportStats {
        sent,
        received: counters.received.load(Ordering::Relaxed),
        pending: counters.pending.load(Ordering::Relaxed),
        late: counters.late.load(Ordering::Relaxed),
        skipped: counters.skipped.load(Ordering::Relaxed),
        dropped: hub.dropped.load(Ordering::Relaxed),
        listener_dropped: counters.listener_dropped.load(Ordering::Relaxed),
    }
}

impl Running {
    fn sync(&self) {
        sync(&self.hub, Duration::from_secs(10));
    }

    fn transport(&self) -> TransportStats {
        transport(&self.hub, &self.counters)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.end();
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("recording", &self.is_recording())
            .finish()
    }
}
