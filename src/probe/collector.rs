//! The collector thread: reads the threads' rings when woken and on a tick
//! (so quiet threads are seen too), receives the batches of threads whose ring
//! was full, restores order, applies events to the model and reports deadlocks
//! the moment the model sees a cycle close.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, select};
use parking_lot::Mutex;

use super::clock;
use super::ring::Ring;
use super::sequencer::Sequencer;
use super::session::DeadlockReport;
use super::sink::{Hub, Msg};
use crate::event::{Event, ThreadId};
use crate::model::Model;

/// How often the collector takes the pending batches of threads that have not
/// shipped their own: well inside the 50 ms liveness bound.
const TICK: Duration = Duration::from_millis(10);

/// Ticks a lock's held-back events wait for the same missing sequence number
/// before giving up on it (it was dropped, or lost with an earlier session).
const STALL_TICKS: u64 = 3;

/// Ticks (1 s) the sequencer stays lossy after events were dropped: the
/// gaps they left are not waited for.
const LOSSY_TICKS: u64 = 100;

/// Events the sequencer may hold back waiting for order before it turns
/// lossy (about 80 MB).
const MAX_HELD_BACK: usize = 1_000_000;

/// Events gathered before they are applied, so that memory stays bounded
/// while a large backlog is taken.
const APPLY_EVERY: usize = 65_536;

/// Events per message to a listener.
const LISTENER_BATCH: usize = 4096;

/// Messages a listener may leave unread (about 1 M events, 80 MB) before it
/// loses batches.
const LISTENER_BACKLOG: usize = 256;

/// What the session wants done when a deadlock is found.
pub(crate) type DeadlockHandler = Box<dyn FnMut(&DeadlockReport) + Send>;

/// Something that wants every event, in model order, as it is applied.
pub(crate) type Listener = Sender<Vec<Event>>;

/// Counters shared with the session.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) pending: AtomicU64,
    pub(crate) late: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) listener_dropped: AtomicU64,
}

pub(crate) struct Collector {
    pub(crate) rx: Receiver<Msg>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) model: Arc<Mutex<Model>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) on_deadlock: DeadlockHandler,
    pub(crate) listeners: Vec<Listener>,
    pub(crate) sequencer: Sequencer,
    pub(crate) ready: Vec<Event>,
    /// Thread rings by thread id, for wake-ups.
    pub(crate) rings: Vec<Option<Arc<Ring>>>,
    /// The sequencer went lossy since the last tick.
    pub(crate) lossy_now: bool,
}

impl Collector {
    /// Runs until the session stops or every sender is gone.
    pub(crate) fn run(mut self) {
        let ticker = crossbeam_channel::tick(TICK);
        let mut tick = 0;
        let (mut last_dropped, mut lossy_until) = (0, 0);
        loop {
            select! {
                recv(self.rx) -> msg => match msg {
                    Ok(Msg::Batch { thread, number, events }) => {
                        self.accept_shipped(thread, number, events);
                        self.apply_ready();
                    }
                    Ok(Msg::Wake(thread)) => {
                        self.read_ring(thread);
                        self.apply_ready();
                    }
                    Ok(Msg::Sync(reply)) => {
                        self.take_all();
                        let _ = reply.send(());
                    }
                    Ok(Msg::Stop) | Err(_) => {
                        self.take_all();
                        return;
                    }
                },
                recv(ticker) -> _ => {
                    if self.take_all() {
                        return;
                    }
                    tick += 1;
                    let dropped = self.hub.dropped.load(Ordering::Relaxed);
                    if dropped > last_dropped || std::mem::take(&mut self.lossy_now) {
                        last_dropped = dropped;
                        lossy_until = tick + LOSSY_TICKS;
                    }
                    let ready = &mut self.ready;
                    self.sequencer
                        .set_lossy(tick < lossy_until, &mut |ev| ready.push(ev));
                    self.sequencer
                        .skip_stale(tick, STALL_TICKS, &mut |ev| ready.push(ev));
                    self.apply_ready();
                }
            }
        }
    }

    /// Takes everything: first the channel, then every thread's ring.
    /// Returns true if a stop request was seen on the way (answered after).
    fn take_all(&mut self) -> bool {
        let mut replies = Vec::new();
        let mut stop = false;
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Batch {
                    thread,
                    number,
                    events,
                } => self.accept_shipped(thread, number, events),
                // Every ring is read below.
                Msg::Wake(_) => {}
                Msg::Sync(reply) => replies.push(reply),
                Msg::Stop => stop = true,
            }
        }
        let rings: Vec<_> = self.hub.threads.lock().clone();
        for (thread, ring) in rings {
            if let Some((number, events)) = ring.take(thread) {
                self.accept(thread, number, events);
            }
        }
        self.apply_ready();
        for reply in replies {
            let _ = reply.send(());
        }
        stop
    }

    /// Reads one thread's ring.
    fn read_ring(&mut self, thread: ThreadId) {
        let t = thread.index();
        if self.rings.get(t).is_none_or(Option::is_none) {
            for (id, ring) in self.hub.threads.lock().iter() {
                let i = id.index();
                if self.rings.len() <= i {
                    self.rings.resize(i + 1, None);
                }
                self.rings[i] = Some(Arc::clone(ring));
            }
        }
        let batch = match self.rings.get(t) {
            Some(Some(ring)) => ring.take(thread),
            _ => None,
        };
        if let Some((number, events)) = batch {
            self.accept(thread, number, events);
        }
    }

    /// Takes a batch that came over the channel (it no longer counts as in
    /// flight).
    fn accept_shipped(&mut self, thread: ThreadId, number: u64, events: Vec<Event>) {
        self.hub
            .in_flight
            .fetch_sub(events.len() as u64, Ordering::Relaxed);
        self.accept(thread, number, events);
    }

    fn accept(&mut self, thread: ThreadId, number: u64, mut events: Vec<Event>) {
        self.counters
            .received
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        let origin = self.hub.origin;
        for ev in &mut events {
            ev.time = clock::to_nanos(origin, ev.time);
        }
        let ready = &mut self.ready;
        self.sequencer
            .push(thread, number, events, &mut |ev| ready.push(ev));
        if self.sequencer.pending() > MAX_HELD_BACK {
            // So much is held back that waiting for order costs more memory
            // than it is worth: let it through (counted as skipped).
            self.sequencer.set_lossy(true, &mut |ev| ready.push(ev));
            self.lossy_now = true;
        }
        if self.ready.len() >= APPLY_EVERY {
            self.apply_ready();
        }
    }

    /// Applies the events the sequencer let through, reporting new deadlocks
    /// after the model is unlocked (a handler may want to look at it).
    fn apply_ready(&mut self) {
        self.counters
            .pending
            .store(self.sequencer.pending() as u64, Ordering::Relaxed);
        self.counters
            .late
            .store(self.sequencer.late(), Ordering::Relaxed);
        self.counters
            .skipped
            .store(self.sequencer.skipped(), Ordering::Relaxed);
        if self.ready.is_empty() {
            return;
        }
        let mut reports = Vec::new();
        {
            let mut model = self.model.lock();
            for ev in &self.ready {
                let change = model.apply(ev);
                if change.deadlock
                    && let Some(deadlock) = model.deadlocks().last()
                {
                    reports.push(DeadlockReport::new(&model, deadlock.clone()));
                }
            }
        }
        // A few messages per applied batch: a viewer keeps up with millions of
        // events a second without a channel operation per event. A listener
        // that falls too far behind loses batches (counted) rather than let
        // memory grow without bound.
        let counters = &self.counters;
        let ready = &self.ready;
        self.listeners.retain(|listener| {
            ready.chunks(LISTENER_BATCH).all(|chunk| {
                if listener.len() >= LISTENER_BACKLOG {
                    counters
                        .listener_dropped
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    true
                } else {
                    listener.send(chunk.to_vec()).is_ok()
                }
            })
        });
        self.ready.clear();
        for report in &reports {
            (self.on_deadlock)(report);
        }
    }
}
