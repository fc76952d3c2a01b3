//! Where a worker's events go: a per-thread buffer that is shipped to the
//! collector as one channel message per batch.
//!
//! A channel send per event costs 30–55× a parking_lot lock (DESIGN.md), so the
//! hot path only pushes into the thread's own buffer behind an uncontended
//! mutex. The buffer is shipped when it fills, before the thread blocks, and when
//! the thread ends; and because it sits behind a mutex rather than in a
//! thread-local, the collector can take the pending batch of a thread that went
//! quiet (holding a lock, say) on its own tick. Batches carry numbers so the
//! collector can put a thread's batches back in order whichever path they took.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};

use super::{clock, state::State};
use crate::event::{Event, EventKind, ThreadId};

/// Events per batch: big enough to make the channel's cost vanish per event,
/// small enough to ship often under load.
pub(crate) const BATCH: usize = 256;

/// What workers and the session tell the collector.
pub(crate) enum Msg {
    /// A thread's batch of events, numbered per thread from 0.
    Batch {
        thread: ThreadId,
        number: u64,
        events: Vec<Event>,
    },
    /// Take every pending batch, apply everything, then answer.
    Sync(Sender<()>),
    /// Finish: take every pending batch, apply, and return.
    Stop,
}

/// One session's meeting point between workers and the collector.
pub(crate) struct Hub {
    pub(crate) epoch: u32,
    pub(crate) tx: Sender<Msg>,
    /// Every thread buffer of this session, for the collector to take from.
    pub(crate) threads: Mutex<Vec<Arc<ThreadBuf>>>,
    pub(crate) next_thread: AtomicU32,
    pub(crate) next_lock: AtomicU32,
    /// Serialises lock registration (rare: once per lock per session).
    pub(crate) registry: Mutex<()>,
    /// Raw clock reading at the session's start.
    pub(crate) origin: u64,
    /// Events handed to the collector so far, by batches of any path.
    pub(crate) shipped: AtomicU64,
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

/// A thread's pending events.
pub(crate) struct ThreadBuf {
    pub(crate) thread: ThreadId,
    pub(crate) inner: Mutex<BufInner>,
}

pub(crate) struct BufInner {
    pub(crate) events: Vec<Event>,
    pub(crate) next_batch: u64,
    /// Events ever pushed into this buffer.
    pub(crate) pushed: u64,
}

impl BufInner {
    /// Takes the pending events as the next numbered batch, if there are any.
    pub(crate) fn take(&mut self) -> Option<(u64, Vec<Event>)> {
        if self.events.is_empty() {
            return None;
        }
        let events = std::mem::replace(&mut self.events, Vec::with_capacity(BATCH));
        let number = self.next_batch;
        self.next_batch += 1;
        Some((number, events))
    }
}

/// A thread's link to the session it records into.
struct Local {
    hub: Arc<Hub>,
    buf: Arc<ThreadBuf>,
    ended: bool,
}

impl Local {
    fn push(&self, kind: EventKind, ship: bool) {
        let batch = {
            let mut inner = self.buf.inner.lock();
            inner.events.push(Event {
                time: clock::raw(),
                thread: self.buf.thread,
                kind,
            });
            inner.pushed += 1;
            if ship || inner.events.len() >= BATCH {
                inner.take()
            } else {
                None
            }
        };
        if let Some((number, events)) = batch {
            self.send(number, events);
        }
    }

    fn send(&self, number: u64, events: Vec<Event>) {
        self.hub
            .shipped
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        // A send only fails once the session is gone; its events go with it.
        let _ = self.hub.tx.send(Msg::Batch {
            thread: self.buf.thread,
            number,
            events,
        });
    }
}

impl Drop for Local {
    /// The thread is exiting (or moving to a newer session): say so and ship.
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
    let buf = Arc::new(ThreadBuf {
        thread,
        inner: Mutex::new(BufInner {
            events: Vec::with_capacity(BATCH),
            next_batch: 0,
            pushed: 0,
        }),
    });
    hub.threads.lock().push(Arc::clone(&buf));
    let current = std::thread::current();
    let name = match current.name() {
        Some(name) => name.to_owned(),
        None => format!("thread {}", thread.0),
    };
    let local = Local {
        hub,
        buf,
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

/// Makes sure the calling thread is registered (so that it shows up even before
/// its first lock operation).
pub(crate) fn touch(st: State) {
    with_local(st, |_| ());
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
