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
use super::ring::{Ring, Shipment};
use super::sequencer::Sequencer;
use super::session::DeadlockReport;
use super::sink::{Hub, MAX_BACKLOG, Msg, STALL_LIMIT};
use crate::event::{Event, ThreadId};
use crate::model::{Model, StallReport};

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
/// lossy. Threads wait for the collector long before (see [`MAX_BACKLOG`]):
/// this many held back means an event is really lost.
pub(crate) const MAX_HELD_BACK: usize = 4 * MAX_BACKLOG as usize;

/// Events held back (waiting for an event of another thread) that make the
/// collector read every ring at once rather than at its next tick: the missing
/// event is most likely sitting in a quiet thread's ring.
pub(crate) const READ_ALL_ABOVE: usize = 65_536;

/// Events gathered before they are applied, so that memory stays bounded
/// while a large backlog is taken.
const APPLY_EVERY: usize = 65_536;

/// Events per message to a listener.
const LISTENER_BATCH: usize = 4096;

/// Messages a listener may leave unread (about 1 M events, 80 MB). Past it
/// the collector waits for the listener (and the program's threads, in turn,
/// for the collector); a listener that reads nothing for [`STALL_LIMIT`]
/// loses batches.
const LISTENER_BACKLOG: usize = 256;

/// What the session wants done when a deadlock is found.
pub(crate) type DeadlockHandler = Box<dyn FnMut(&DeadlockReport) + Send>;

/// What the session wants done when a stall is found.
pub(crate) type StallHandler = Box<dyn FnMut(&StallReport) + Send>;

/// Something that wants every event, in model order, as it is applied.
pub(crate) struct Listener {
    tx: Sender<Vec<Event>>,
    /// It read nothing for [`STALL_LIMIT`] with its backlog full: until it
    /// reads again,
    /// batches for it are dropped without waiting.
    stalled: bool,
}

impl Listener {
    pub(crate) fn new(tx: Sender<Vec<Event>>) -> Listener {
        Listener { tx, stalled: false }
    }

    /// Sends `chunk`, first waiting (bounded) for room in the backlog. Returns
    /// false once the listener is gone.
    fn send(&mut self, chunk: &[Event], dropped: &AtomicU64) -> bool {
        if self.tx.len() >= LISTENER_BACKLOG {
            let mut deadline = std::time::Instant::now() + STALL_LIMIT;
            let mut unread = self.tx.len();
            while !self.stalled && unread >= LISTENER_BACKLOG / 4 * 3 {
                std::thread::sleep(Duration::from_micros(200));
                let now = self.tx.len();
                if now < unread {
                    // It reads, however slowly: keep waiting for it.
                    deadline = std::time::Instant::now() + STALL_LIMIT;
                } else if std::time::Instant::now() >= deadline {
                    self.stalled = true;
                }
                unread = now;
            }
            if self.stalled && self.tx.len() >= LISTENER_BACKLOG {
                dropped.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                return true;
            }
        }
        self.stalled = false;
        self.tx.send(chunk.to_vec()).is_ok()
    }
}

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
    pub(crate) on_stall: StallHandler,
    /// How long every thread must stay blocked before a stall is reported.
    pub(crate) stall_grace: u64,
    /// The stall last reported (when it began, who): reported once.
    pub(crate) stall_reported: Option<(u64, Vec<ThreadId>)>,
    pub(crate) listeners: Vec<Listener>,
    pub(crate) sequencer: Sequencer,
    pub(crate) ready: Vec<Event>,
    /// Thread rings by thread id, for wake-ups.
    pub(crate) rings: Vec<Option<Arc<Ring>>>,
    /// The sequencer went lossy since the last tick.
    pub(crate) lossy_now: bool,
    /// At the last full read, some thread had a batch on its way.
    pub(crate) in_transit: bool,
    /// Held-back events past which every ring is read at once.
    pub(crate) read_all_above: usize,
    /// So many events are held back that every ring should be read now.
    pub(crate) read_all_soon: bool,
    /// Held-back events past which the sequencer turns lossy
    /// ([`MAX_HELD_BACK`]; smaller in tests).
    pub(crate) max_held_back: usize,
}

impl Collector {
    /// Runs until the session stops or every sender is gone.
    pub(crate) fn run(mut self) {
        let ticker = crossbeam_channel::tick(TICK);
        let mut tick = 0;
        // Ticks in which no thread had a batch on its way: how long a missing
        // sequence number has really been missing (a thread descheduled
        // between taking its batch and sending it can take many ticks).
        let mut quiet_ticks = 0;
        let (mut last_dropped, mut lossy_until) = (0, 0);
        loop {
            select! {
                recv(self.rx) -> msg => match msg {
                    Ok(Msg::Batch { thread, number, events, lost }) => {
                        self.accept_shipped(thread, number, events, lost);
                        self.read_rings_if_held_back();
                        self.apply_ready();
                    }
                    Ok(Msg::Wake(thread)) => {
                        self.read_ring(thread);
                        self.read_rings_if_held_back();
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
                    if !self.in_transit {
                        quiet_ticks += 1;
                    }
                    self.sequencer
                        .skip_stale(quiet_ticks, STALL_TICKS, &mut |ev| ready.push(ev));
                    self.apply_ready();
                    self.check_stall();
                }
            }
        }
    }

    /// Takes everything: first what the channel holds, then every thread's
    /// ring. Returns true if a stop request was seen on the way (answered
    /// after).
    fn take_all(&mut self) -> bool {
        let mut replies = Vec::new();
        let mut stop = false;
        // What is in the channel now, and no more: threads that keep shipping
        // would otherwise keep this from ever reaching the rings, and a quiet
        // thread's last events (a request before it blocked) would never be
        // read. Later messages are the next turn's.
        for _ in 0..self.rx.len() {
            let Ok(msg) = self.rx.try_recv() else {
                break;
            };
            match msg {
                Msg::Batch {
                    thread,
                    number,
                    events,
                    lost,
                } => {
                    self.accept_shipped(thread, number, events, lost);
                    // Threads keep shipping while this drains the channel:
                    // the event they hold everything back for may sit in a
                    // ring that would otherwise be read only once it is empty.
                    self.read_rings_if_held_back();
                }
                // Every ring is read below.
                Msg::Wake(_) => {}
                Msg::Sync(reply) => replies.push(reply),
                Msg::Stop => stop = true,
            }
        }
        self.read_rings();
        self.apply_ready();
        for reply in replies {
            let _ = reply.send(());
        }
        stop
    }

    /// Reads every ring if much is held back (see [`READ_ALL_ABOVE`]).
    fn read_rings_if_held_back(&mut self) {
        if std::mem::take(&mut self.read_all_soon) {
            self.read_rings();
        }
    }

    /// Reads every thread's ring.
    fn read_rings(&mut self) {
        let rings: Vec<_> = self.hub.threads.lock().clone();
        self.in_transit = false;
        for (thread, ring) in rings {
            if let Some((number, events)) = ring.try_take(thread) {
                self.accept(thread, number, events);
            }
            self.in_transit |= ring.shipping();
        }
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
            Some(Some(ring)) => ring.try_take(thread),
            _ => None,
        };
        if let Some((number, events)) = batch {
            self.accept(thread, number, events);
        }
    }

    /// Takes a batch that came over the channel (it no longer counts as in
    /// flight). A `lost` batch's events were dropped: the model stops drawing
    /// conclusions from that thread, whose holds may now be stale. This comes
    /// before any later event of the thread, which waits for this number.
    fn accept_shipped(&mut self, thread: ThreadId, number: u64, events: Shipment, lost: bool) {
        if lost {
            self.model.lock().lose_events(thread);
        }
        // As counted when sent: before decoding.
        self.hub
            .in_flight
            .fetch_sub(events.len() as u64, Ordering::Relaxed);
        self.accept(thread, number, events.into_events());
    }

    fn accept(&mut self, thread: ThreadId, number: u64, mut events: Vec<Event>) {
        let n = events.len() as u64;
        self.counters.received.fetch_add(n, Ordering::Relaxed);
        self.hub.taken.fetch_add(n, Ordering::Relaxed);
        let origin = self.hub.origin;
        for ev in &mut events {
            ev.time = clock::to_nanos(origin, ev.time);
        }
        let ready = &mut self.ready;
        self.sequencer
            .push(thread, number, events, &mut |ev| ready.push(ev));
        // Published at once, not only when applying: threads that wait for
        // the collector see what it holds back while it drains a backlog.
        let held_back = self.sequencer.pending() as u64;
        self.hub.held_back.store(held_back, Ordering::Relaxed);
        if self.sequencer.pending() > self.read_all_above {
            // Doubling the bound keeps this rare while a backlog is taken.
            self.read_all_above = self.sequencer.pending() * 2;
            self.read_all_soon = true;
        } else if self.sequencer.pending() < READ_ALL_ABOVE / 2 {
            self.read_all_above = READ_ALL_ABOVE;
        }
        if self.sequencer.pending() > self.max_held_back {
            // So much is held back that waiting for order costs more memory
            // than it is worth: let it through (counted as skipped).
            self.sequencer.set_lossy(true, &mut |ev| ready.push(ev));
            self.lossy_now = true;
        }
        if self.ready.len() >= APPLY_EVERY {
            self.apply_ready();
        }
    }

    /// Reports a stall once every live thread has been blocked, with nobody
    /// to wake it, for the grace period; only with every event in (one still
    /// held back or on its way may be the one that wakes them).
    fn check_stall(&mut self) {
        if self.sequencer.pending() > 0 || self.in_transit {
            return;
        }
        let now = clock::to_nanos(self.hub.origin, clock::raw());
        let report = {
            let model = self.model.lock();
            match model.stall_at(now, self.stall_grace) {
                None => {
                    if model.stall().is_none() {
                        self.stall_reported = None;
                    }
                    None
                }
                Some(stall) => {
                    let key = (stall.since, stall.waits.iter().map(|w| w.thread).collect());
                    if self.stall_reported.as_ref() == Some(&key) {
                        None
                    } else {
                        self.stall_reported = Some(key);
                        Some(StallReport::new(&model, &stall))
                    }
                }
            }
        };
        if let Some(report) = report {
            (self.on_stall)(&report);
        }
    }

    /// Applies the events the sequencer let through, reporting new deadlocks
    /// after the model is unlocked (a handler may want to look at it).
    fn apply_ready(&mut self) {
        let held_back = self.sequencer.pending() as u64;
        self.counters.pending.store(held_back, Ordering::Relaxed);
        self.hub.held_back.store(held_back, Ordering::Relaxed);
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
        // that falls behind slows everything down rather than let memory grow
        // without bound; one that stops reading loses batches (counted).
        let dropped = &self.counters.listener_dropped;
        let ready = &self.ready;
        self.listeners.retain_mut(|listener| {
            ready
                .chunks(LISTENER_BATCH)
                .all(|chunk| listener.send(chunk, dropped))
        });
        self.ready.clear();
        for report in &reports {
            (self.on_deadlock)(report);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::{EventKind, LockId, LockKind, Mode, Site};
    use crate::probe::ring::Producer;

    fn collector(rx: Receiver<Msg>, hub: Arc<Hub>, max_held_back: usize) -> Collector {
        Collector {
            rx,
            hub,
            model: Arc::new(Mutex::new(Model::new())),
            counters: Arc::new(Counters::default()),
            on_deadlock: Box::new(|_| {}),
            on_stall: Box::new(|_| {}),
            stall_grace: u64::MAX,
            stall_reported: None,
            listeners: Vec::new(),
            sequencer: Sequencer::new(),
            ready: Vec::new(),
            rings: Vec::new(),
            lossy_now: false,
            in_transit: false,
            read_all_above: READ_ALL_ABOVE,
            read_all_soon: false,
            max_held_back,
        }
    }

    fn change(acquired: bool, seq: u64) -> EventKind {
        let (lock, mode) = (LockId(0), Mode::Exclusive);
        if acquired {
            let site = Site::UNKNOWN;
            let tried = false;
            EventKind::Acquired {
                lock,
                mode,
                site,
                seq,
                tried,
            }
        } else {
            EventKind::Released { lock, mode, seq }
        }
    }

    #[test]
    fn draining_a_busy_channel_reads_the_ring_everything_waits_for() {
        // Thread 0 took and let go the lock first; its events sit in its ring
        // (never full, so never shipped). Thread 1 took it 75,000 times since
        // and shipped full batches: all of them wait for thread 0's two. While
        // threads keep shipping, the channel is never empty, so the collector
        // must not leave the rings for after the channel: it turned lossy at
        // its held-back bound and skipped millions under load.
        let (tx, rx) = crossbeam_channel::unbounded();
        let hub = Arc::new(Hub::new(0, tx.clone(), 0));
        let ring = Arc::new(Ring::new());
        let mut producer = Producer::new();
        let created = EventKind::LockCreated {
            lock: LockId(0),
            name: "L".into(),
            kind: LockKind::Mutex,
            site: Site::UNKNOWN,
            first_seq: 0,
        };
        for kind in [created, change(true, 0), change(false, 1)] {
            assert_eq!(
                ring.write(&mut producer, ThreadId(0), 1, kind),
                crate::probe::ring::AfterWrite::Nothing
            );
        }
        hub.threads.lock().push((ThreadId(0), ring));
        let per_batch = 1_000;
        // Past the ring-reading threshold, short of the (test's) lossy bound.
        let batches = 150;
        assert!(batches * per_batch > READ_ALL_ABOVE as u64);
        for number in 0..batches {
            let events = (0..per_batch)
                .map(|i| {
                    let seq = 2 + number * per_batch + i;
                    Event {
                        time: 2,
                        thread: ThreadId(1),
                        kind: change(seq % 2 == 0, seq),
                    }
                })
                .collect();
            tx.send(Msg::Batch {
                thread: ThreadId(1),
                number,
                events: Shipment::Events(events),
                lost: false,
            })
            .unwrap();
        }
        let mut collector = collector(rx, hub, 100_000);
        assert!(!collector.take_all());
        assert_eq!(collector.sequencer.skipped(), 0);
        assert_eq!(collector.sequencer.late(), 0);
        assert_eq!(collector.sequencer.pending(), 0);
        assert_eq!(
            collector.counters.received.load(Ordering::Relaxed),
            3 + batches * per_batch
        );
    }

    #[test]
    fn a_dropped_batch_makes_the_model_distrust_its_thread() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let hub = Arc::new(Hub::new(0, tx.clone(), 0));
        for (thread, lost) in [(0, false), (1, true)] {
            tx.send(Msg::Batch {
                thread: ThreadId(thread),
                number: 0,
                events: Shipment::Events(Vec::new()),
                lost,
            })
            .unwrap();
        }
        let mut collector = collector(rx, hub, 100_000);
        assert!(!collector.take_all());
        let model = collector.model.lock();
        let lost: Vec<_> = model.threads().iter().map(|t| t.lost_events).collect();
        assert_eq!(lost, [false, true]);
    }
}
