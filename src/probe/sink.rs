//! Where a worker's events go: the thread's own [`Ring`], read by the collector.
//!
//! A channel send per event costs 30–55× a parking_lot lock (DESIGN.md), so the
//! hot path only writes into the thread's ring. The collector reads every ring
//! on its tick (so a thread that went quiet holding a lock is still seen) and at
//! once when a thread wakes it: before the thread blocks, when it ends, when its
//! ring is half full. A thread whose ring is full takes the batch itself and
//! ships it over the channel rather than wait. Batches carry numbers so the
//! collector puts a thread's batches back in order whichever path they took.
//!
//! Overload slows the program down rather than lose events: past
//! [`MAX_BACKLOG`] a thread that shipped a batch, or whose ring is half full,
//! waits for the collector (see [`STALL_LIMIT`]). Only a collector that stops moving altogether — a
//! deadlock handler that never returns, say — makes threads drop batches, and
//! every dropped event is counted.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};

use super::ring::{AfterWrite, Producer, Ring, Shipment};
use super::{clock, state::State};
use crate::event::{EventKind, ThreadId};

/// What workers and the session tell the collector.
pub(crate) enum Msg {
    /// A batch a thread took from its own full ring, numbered per thread.
    /// `lost`: its events were dropped (the collector stopped moving) and only
    /// its number comes, so the thread's later batches are not held back.
    Batch {
        thread: ThreadId,
        number: u64,
        events: Shipment,
        lost: bool,
    },
    /// A thread's ring wants reading now: it is about to block, it ended, or
    /// its ring is filling up.
    Wake(ThreadId),
    /// Take every pending event, apply everything, then answer.
    Sync(Sender<()>),
    /// Finish: take every pending event, apply, and return.
    Stop,
}

/// One session's meeting point between workers and the collector.
pub(crate) struct Hub {
    pub(crate) epoch: u32,
    pub(crate) tx: Sender<Msg>,
    /// Every thread's ring in this session, for the collector to read.
    pub(crate) threads: Mutex<Vec<(ThreadId, Arc<Ring>)>>,
    pub(crate) next_thread: AtomicU32,
    pub(crate) next_lock: AtomicU32,
    /// Serialises lock registration (rare: once per lock per session).
    pub(crate) registry: Mutex<()>,
    /// Raw clock reading at the session's start.
    pub(crate) origin: u64,
    /// Events in batches sent but not yet taken by the collector.
    pub(crate) in_flight: AtomicU64,
    /// Events dropped because the collector stopped moving.
    pub(crate) dropped: AtomicU64,
    /// Events the collector has taken, ever: its progress.
    pub(crate) taken: AtomicU64,
    /// Events the collector holds back waiting for order (it stores this).
    pub(crate) held_back: AtomicU64,
    /// A thread waited [`STALL_LIMIT`] for the collector in vain: until the
    /// backlog shrinks, batches past the bound are dropped without waiting.
    pub(crate) stalled: AtomicBool,
}

/// The most events that may wait for the collector: in the channel, or held
/// back by it waiting for order (about 50 MB). Past it, a thread that ships
/// a batch or fills half its ring waits until a quarter of them are gone, so memory
/// stays bounded, the collector gets the CPU it needs, and nothing is lost.
pub(crate) const MAX_BACKLOG: u64 = 1_000_000;

/// How long a thread waits for a collector that takes nothing at all before
/// later batches are dropped (counted, shown, and the analysis marked unreliable)
/// without waiting: a program must not hang on its debugger.
pub(crate) const STALL_LIMIT: Duration = Duration::from_secs(5);

impl Hub {
    /// A new session's hub: no threads, no locks, nothing in flight.
    pub(crate) fn new(epoch: u32, tx: Sender<Msg>, origin: u64) -> Hub {
        Hub {
            epoch,
            tx,
            threads: Mutex::new(Vec::new()),
            next_thread: AtomicU32::new(0),
            next_lock: AtomicU32::new(0),
            registry: Mutex::new(()),
            origin,
            in_flight: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            held_back: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
        }
    }

    /// Events waiting for the collector.
    fn backlog(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed) + self.held_back.load(Ordering::Relaxed)
    }

    /// The collector stopped moving: batches past the bound are dropped.
    fn drop_batch(&self) -> bool {
        self.stalled.load(Ordering::Relaxed) && self.backlog() > MAX_BACKLOG
    }

    /// Slows the calling thread to the collector's pace: waits (bounded)
    /// while the backlog is past the bound. The thread's batch is already
    /// sent, so the collector never waits for a thread that waits for it.
    fn wait_for_collector(&self) {
        if self.backlog() <= MAX_BACKLOG {
            if self.stalled.load(Ordering::Relaxed) {
                self.stalled.store(false, Ordering::Relaxed);
            }
            return;
        }
        if self.stalled.load(Ordering::Relaxed) {
            return;
        }
        let mut deadline = Instant::now() + STALL_LIMIT;
        let mut taken = self.taken.load(Ordering::Relaxed);
        let mut nap = Duration::from_micros(100);
        while self.backlog() > MAX_BACKLOG / 4 * 3 {
            // A slow path: the collector needs the CPU more than this thread.
            // The naps grow (to 5 ms) so that a thousand waiting threads do
            // not take that CPU waking up to look.
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(5));
            let now = self.taken.load(Ordering::Relaxed);
            if now != taken {
                // The collector moves, however slowly: keep waiting for it.
                taken = now;
                deadline = Instant::now() + STALL_LIMIT;
            } else if Instant::now() >= deadline {
                self.stalled.store(true, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// The current session's hub, read only on slow paths (registration).
pub(crate) static HUB: RwLock<Option<Arc<Hub>>> = RwLock::new(None);

/// The hub of the session with this epoch, if it is still the current one.
pub(crate) fn hub_for(st: State) -> Option<Arc<Hub>> {
    HUB.read()
        .as_ref()
        .filter(|hub| hub.epoch == st.epoch())
        .cloned()
}

/// A thread's link to the session it records into.
struct Local {
    hub: Arc<Hub>,
    thread: ThreadId,
    ring: Arc<Ring>,
    producer: Producer,
    ended: bool,
}

impl Local {
    #[inline]
    fn push(&mut self, kind: EventKind, wake: bool) {
        let time = clock::raw();
        match self.ring.write(&mut self.producer, self.thread, time, kind) {
            AfterWrite::Nothing if !wake => {}
            AfterWrite::Nothing => {
                // A send only fails once the session is gone.
                let _ = self.hub.tx.send(Msg::Wake(self.thread));
            }
            AfterWrite::Wake => {
                let _ = self.hub.tx.send(Msg::Wake(self.thread));
                // Events the collector reads from rings count too: a thread
                // whose events are held back behind a slow one must not
                // outrun it without bound.
                self.hub.wait_for_collector();
            }
            AfterWrite::Ship(number, events) => {
                let n = events.len() as u64;
                if self.hub.drop_batch() {
                    self.hub.dropped.fetch_add(n, Ordering::Relaxed);
                    // The batch's number still arrives, empty, so the
                    // thread's later batches are not held back for it.
                    let _ = self.hub.tx.send(Msg::Batch {
                        thread: self.thread,
                        number,
                        events: Shipment::Events(Vec::new()),
                        lost: true,
                    });
                } else {
                    self.hub.in_flight.fetch_add(n, Ordering::Relaxed);
                    let _ = self.hub.tx.send(Msg::Batch {
                        thread: self.thread,
                        number,
                        events,
                        lost: false,
                    });
                }
                self.ring.shipped();
                if wake {
                    let _ = self.hub.tx.send(Msg::Wake(self.thread));
                }
                self.hub.wait_for_collector();
            }
        }
    }
}

impl Drop for Local {
    /// The thread is exiting (or moving to a newer session): say so.
    fn drop(&mut self) {
        if !self.ended {
            self.push(EventKind::ThreadExit, true);
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Registers the calling thread with `hub`, pushing its start event.
fn register(hub: Arc<Hub>) -> Local {
    let thread = ThreadId(hub.next_thread.fetch_add(1, Ordering::Relaxed));
    let ring = Arc::new(Ring::new());
    hub.threads.lock().push((thread, Arc::clone(&ring)));
    let current = std::thread::current();
    let name = match current.name() {
        Some(name) => name.to_owned(),
        None => format!("thread {}", thread.0),
    };
    let mut local = Local {
        hub,
        thread,
        ring,
        producer: Producer::new(),
        ended: false,
    };
    local.push(EventKind::ThreadStart { name }, false);
    local
}

/// Runs `f` with the calling thread's link to the current session, registering
/// the thread first if needed. Returns `None` when there is no session for
/// `st`, or when the thread is being torn down.
#[inline]
fn with_local<R>(st: State, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCAL
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            let current = matches!(&*slot, Some(local) if local.hub.epoch == st.epoch());
            if !current {
                let hub = hub_for(st)?;
                // Replacing a stale link drops it, which closes it in its own session.
                *slot = Some(register(hub));
            }
            slot.as_mut().map(f)
        })
        .ok()
        .flatten()
}

/// Records `kind` on the calling thread.
#[inline]
pub(crate) fn emit(st: State, kind: EventKind) {
    with_local(st, |local| local.push(kind, false));
}

/// Records `kind` and ships the thread's batch at once: the thread is about to
/// block, and its request must reach the model even if it never runs again.
pub(crate) fn emit_and_ship(st: State, kind: EventKind) {
    with_local(st, |local| local.push(kind, true));
}

/// The calling thread's id in the current session (registering it first),
/// with the session's epoch.
pub(crate) fn current(st: State) -> Option<(u32, ThreadId)> {
    with_local(st, |local| (local.hub.epoch, local.thread))
}

/// Records the end of the calling thread: a panic with its message, or a normal
/// exit. Later events of this thread (from destructors) are still recorded.
pub(crate) fn thread_ended(st: State, panic: Option<String>) {
    with_local(st, |local| {
        let kind = match panic {
            Some(message) => EventKind::ThreadPanic { message },
            None => EventKind::ThreadExit,
        };
        local.ended = true;
        local.push(kind, true);
    });
}
