//! A thread's event ring: single producer (the thread), one consumer at a
//! time (the collector, or the thread itself when the ring is full).
//!
//! Publishing an event is four relaxed stores and one release store: no atomic
//! read-modify-write, so the worker never stalls on a fenced instruction, and
//! the collector can read the events of a thread that went quiet while holding
//! a lock without that thread's help. Events carrying text (thread and lock
//! names, panic messages) are rare; they go through a side queue in order, and
//! their slot in the ring only marks their place.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::sites;
use crate::event::{Event, EventKind, LockId, Mode, Site, ThreadId};

/// Slots per thread (32 bytes each).
pub(crate) const RING: u64 = 1024;

/// Keeps a value on a cache line of its own (two, against adjacent-line
/// prefetch), so the producer's and consumer's indices do not share one.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Padded<T>(pub(crate) T);

#[derive(Default)]
struct Slot([AtomicU64; 4]);

pub(crate) struct Ring {
    slots: Box<[Slot]>,
    /// Events ever written; only the owner thread stores it.
    head: Padded<AtomicU64>,
    /// Events ever read; only the current consumer stores it.
    tail: Padded<AtomicU64>,
    /// Whoever holds this is the consumer; it numbers the batches it takes.
    consumer: Mutex<u64>,
    rare: Mutex<VecDeque<EventKind>>,
    /// The owner took a batch to ship and has not sent it yet: events missing
    /// from the collector's view are on their way, however long the thread
    /// is descheduled.
    shipping: AtomicBool,
}

const RARE: u64 = 0;
const REQUEST: u64 = 1;
const ACQUIRED: u64 = 2;
const RELEASED: u64 = 3;
const TRY_FAILED: u64 = 4;
const TIMED_OUT: u64 = 5;
const COND_WAIT: u64 = 6;
const COND_WAKE: u64 = 7;
const NOTIFY: u64 = 8;
const EXIT: u64 = 9;

const SHARED: u64 = 1 << 8;
const FLAG: u64 = 1 << 9;
const UPGRADABLE: u64 = 1 << 10;

/// The words of an event after its timestamp.
type Words = [u64; 3];

fn head_word(tag: u64, lock: LockId, mode: Mode, flag: bool) -> u64 {
    let mode = match mode {
        Mode::Exclusive => 0,
        Mode::Shared => SHARED,
        Mode::Upgradable => UPGRADABLE,
    };
    let flag = if flag { FLAG } else { 0 };
    tag | mode | flag | (u64::from(lock.0) << 32)
}

fn pair(low: u32, high: LockId) -> u64 {
    u64::from(low) | (u64::from(high.0) << 32)
}

/// Encodes an event that fits in three words; `None` for the rare kinds that
/// carry text.
fn encode(kind: &EventKind, sites: &mut sites::SiteCache) -> Option<Words> {
    let x = LockId(0);
    Some(match *kind {
        EventKind::Request {
            lock,
            mode,
            site,
            timed,
            ticket,
        } => [
            head_word(REQUEST, lock, mode, timed),
            ticket,
            pair(sites.id(site), x),
        ],
        EventKind::Acquired {
            lock,
            mode,
            site,
            seq,
            tried,
        } => [
            head_word(ACQUIRED, lock, mode, tried),
            seq,
            pair(sites.id(site), x),
        ],
        EventKind::Released { lock, mode, seq } => [head_word(RELEASED, lock, mode, false), seq, 0],
        EventKind::TryFailed { lock, mode, site } => [
            head_word(TRY_FAILED, lock, mode, false),
            0,
            pair(sites.id(site), x),
        ],
        EventKind::TimedOut { lock, mode } => [head_word(TIMED_OUT, lock, mode, false), 0, 0],
        EventKind::CondWait {
            condvar,
            mutex,
            site,
            seq,
            timed,
        } => [
            head_word(COND_WAIT, condvar, Mode::Exclusive, timed),
            seq,
            pair(sites.id(site), mutex),
        ],
        EventKind::CondWake {
            condvar,
            mutex,
            seq,
            timed_out,
        } => [
            head_word(COND_WAKE, condvar, Mode::Exclusive, timed_out),
            seq,
            pair(0, mutex),
        ],
        EventKind::Notify {
            condvar,
            all,
            woken,
            site,
        } => [
            head_word(NOTIFY, condvar, Mode::Exclusive, all),
            u64::from(woken),
            pair(sites.id(site), x),
        ],
        EventKind::ThreadExit => [EXIT, 0, 0],
        // Joins, channel waits and handle moves are rare next to lock
        // operations (a channel operation that does not block makes none):
        // the side queue keeps them.
        EventKind::ThreadStart { .. }
        | EventKind::ThreadPanic { .. }
        | EventKind::LockCreated { .. }
        | EventKind::Block { .. }
        | EventKind::Unblock { .. }
        | EventKind::Handle { .. }
        | EventKind::ChannelWake { .. }
        | EventKind::BarrierTrip { .. } => return None,
    })
}

/// Decodes what [`encode`] wrote. `None` only for a word no encoder writes.
fn decode(words: Words, rare: &mut VecDeque<EventKind>, sites: &[Site]) -> Option<EventKind> {
    let [w1, w2, w3] = words;
    let lock = LockId((w1 >> 32) as u32);
    let mode = if w1 & SHARED != 0 {
        Mode::Shared
    } else if w1 & UPGRADABLE != 0 {
        Mode::Upgradable
    } else {
        Mode::Exclusive
    };
    let flag = w1 & FLAG != 0;
    let site = sites
        .get(w3 as u32 as usize)
        .copied()
        .unwrap_or(Site::UNKNOWN);
    let second = LockId((w3 >> 32) as u32);
    Some(match w1 & 0xff {
        RARE => return rare.pop_front(),
        REQUEST => EventKind::Request {
            lock,
            mode,
            site,
            timed: flag,
            ticket: w2,
        },
        ACQUIRED => EventKind::Acquired {
            lock,
            mode,
            site,
            seq: w2,
            tried: flag,
        },
        RELEASED => EventKind::Released {
            lock,
            mode,
            seq: w2,
        },
        TRY_FAILED => EventKind::TryFailed { lock, mode, site },
        TIMED_OUT => EventKind::TimedOut { lock, mode },
        COND_WAIT => EventKind::CondWait {
            condvar: lock,
            mutex: second,
            site,
            seq: w2,
            timed: flag,
        },
        COND_WAKE => EventKind::CondWake {
            condvar: lock,
            mutex: second,
            seq: w2,
            timed_out: flag,
        },
        NOTIFY => EventKind::Notify {
            condvar: lock,
            all: flag,
            woken: u32::try_from(w2).unwrap_or(u32::MAX),
            site,
        },
        EXIT => EventKind::ThreadExit,
        _ => return None,
    })
}

/// The owner thread's side of a ring: its cached view of the indices.
pub(crate) struct Producer {
    head: u64,
    tail: u64,
    sites: sites::SiteCache,
}

impl Producer {
    pub(crate) fn new() -> Self {
        Producer {
            head: 0,
            tail: 0,
            sites: sites::SiteCache::new(),
        }
    }
}

/// What [`Ring::write`] asks of its caller after the event is in.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterWrite {
    /// Nothing.
    Nothing,
    /// The ring is half full: the collector should come and read it.
    Wake,
    /// The ring was full, so the thread took a batch itself: ship it.
    Ship(u64, Shipment),
}

/// A batch on its way to the collector.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Shipment {
    /// Events ready to apply.
    Events(Vec<Event>),
    /// Slots a thread copied out of its own full ring, still encoded, with
    /// the rare kinds they refer to: the thread only copies (its time is the
    /// program's), the collector decodes.
    Raw {
        /// The thread whose ring it was.
        thread: ThreadId,
        /// `[time, word, word, word]` per event, in ring order.
        slots: Vec<[u64; 4]>,
        /// The rare kinds of the `RARE` slots among them, in order.
        rare: VecDeque<EventKind>,
    },
}

impl Shipment {
    /// How many events it carries.
    pub(crate) fn len(&self) -> usize {
        match self {
            Shipment::Events(events) => events.len(),
            Shipment::Raw { slots, .. } => slots.len(),
        }
    }

    /// The events, decoded.
    pub(crate) fn into_events(self) -> Vec<Event> {
        match self {
            Shipment::Events(events) => events,
            Shipment::Raw {
                thread,
                slots,
                mut rare,
            } => {
                let sites = sites::table();
                slots
                    .iter()
                    .filter_map(|s| {
                        let kind = decode([s[1], s[2], s[3]], &mut rare, &sites)?;
                        Some(Event {
                            time: s[0],
                            thread,
                            kind,
                        })
                    })
                    .collect()
            }
        }
    }
}

impl Ring {
    pub(crate) fn new() -> Self {
        Ring {
            slots: (0..RING).map(|_| Slot::default()).collect(),
            head: Padded::default(),
            tail: Padded::default(),
            consumer: Mutex::new(0),
            rare: Mutex::new(VecDeque::new()),
            shipping: AtomicBool::new(false),
        }
    }

    /// Events written so far.
    pub(crate) fn written(&self) -> u64 {
        self.head.0.load(Ordering::Acquire)
    }

    /// Writes one event. Called only by the owner thread, with its producer.
    #[inline]
    pub(crate) fn write(
        &self,
        p: &mut Producer,
        thread: ThreadId,
        time: u64,
        kind: EventKind,
    ) -> AfterWrite {
        let mut after = AfterWrite::Nothing;
        if p.head - p.tail >= RING {
            p.tail = self.tail.0.load(Ordering::Acquire);
            if p.head - p.tail >= RING {
                // The collector is behind: take the batch ourselves rather
                // than wait for it or drop anything. The flag is published
                // (by the consumer lock) with the take.
                self.shipping.store(true, Ordering::Relaxed);
                match self.take_as(self.consumer.lock(), thread) {
                    Some((number, batch)) => after = AfterWrite::Ship(number, batch),
                    // The collector took it meanwhile.
                    None => self.shipped(),
                }
                p.tail = self.tail.0.load(Ordering::Acquire);
            }
        }
        let words = match encode(&kind, &mut p.sites) {
            Some(words) => words,
            None => {
                self.rare.lock().push_back(kind);
                [RARE, 0, 0]
            }
        };
        let slot = &self.slots[(p.head % RING) as usize].0;
        slot[0].store(time, Ordering::Relaxed);
        slot[1].store(words[0], Ordering::Relaxed);
        slot[2].store(words[1], Ordering::Relaxed);
        slot[3].store(words[2], Ordering::Relaxed);
        p.head += 1;
        self.head.0.store(p.head, Ordering::Release);
        if matches!(after, AfterWrite::Nothing) && p.head.is_multiple_of(RING / 2) {
            after = AfterWrite::Wake;
        }
        after
    }

    /// A batch taken by the owner may be on its way (see [`Ring::shipped`]).
    pub(crate) fn shipping(&self) -> bool {
        self.shipping.load(Ordering::Acquire)
    }

    /// The owner has sent (or dropped) the batch it took.
    pub(crate) fn shipped(&self) {
        self.shipping.store(false, Ordering::Release);
    }

    /// Takes every published event as the next numbered batch (raw times).
    #[cfg(test)]
    pub(crate) fn take(&self, thread: ThreadId) -> Option<(u64, Vec<Event>)> {
        let (number, batch) = self.take_as(self.consumer.lock(), thread)?;
        Some((number, batch.into_events()))
    }

    /// [`take`](Self::take) for the collector: never waits for the owner.
    /// When the owner is taking its own batch (perhaps descheduled halfway,
    /// among a thousand busy threads), that batch is on its way
    /// ([`shipping`](Self::shipping) says so) and this takes nothing.
    pub(crate) fn try_take(&self, thread: ThreadId) -> Option<(u64, Vec<Event>)> {
        let (number, batch) = self.take_as(self.consumer.try_lock()?, thread)?;
        Some((number, batch.into_events()))
    }

    /// Takes every published event as the next numbered batch, the slots
    /// copied out as they are (with the rare kinds they refer to): the owner
    /// of a full ring ships them so, and the collector decodes them.
    fn take_as(
        &self,
        mut next_batch: parking_lot::MutexGuard<'_, u64>,
        thread: ThreadId,
    ) -> Option<(u64, Shipment)> {
        let tail = self.tail.0.load(Ordering::Relaxed);
        let head = self.head.0.load(Ordering::Acquire);
        if head == tail {
            return None;
        }
        let mut slots = Vec::with_capacity((head - tail) as usize);
        let mut rares = 0;
        for i in tail..head {
            let slot = &self.slots[(i % RING) as usize].0;
            let words = [
                slot[0].load(Ordering::Relaxed),
                slot[1].load(Ordering::Relaxed),
                slot[2].load(Ordering::Relaxed),
                slot[3].load(Ordering::Relaxed),
            ];
            if words[1] & 0xff == RARE {
                rares += 1;
            }
            slots.push(words);
        }
        let rare = {
            let mut queue = self.rare.lock();
            let n = rares.min(queue.len());
            queue.drain(..n).collect()
        };
        // Only now may the producer reuse the slots.
        self.tail.0.store(head, Ordering::Release);
        let number = *next_batch;
        *next_batch += 1;
        let batch = Shipment::Raw {
            thread,
            slots,
            rare,
        };
        Some((number, batch))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::LockKind;

    fn every_kind() -> Vec<EventKind> {
        let site = Site::intern("ring-test.toml", 3, 4);
        let (a, b) = (LockId(7), LockId(u32::MAX));
        vec![
            EventKind::ThreadStart { name: "t".into() },
            EventKind::LockCreated {
                lock: a,
                name: "a".into(),
                kind: LockKind::RwLock,
                site,
                first_seq: 9,
            },
            EventKind::Request {
                lock: a,
                mode: Mode::Shared,
                site,
                timed: true,
                ticket: u64::MAX - 1,
            },
            EventKind::Acquired {
                lock: b,
                mode: Mode::Exclusive,
                site,
                seq: u64::MAX,
                tried: true,
            },
            EventKind::Released {
                lock: a,
                mode: Mode::Shared,
                seq: 3,
            },
            EventKind::TryFailed {
                lock: a,
                mode: Mode::Exclusive,
                site,
            },
            EventKind::TimedOut {
                lock: a,
                mode: Mode::Shared,
            },
            EventKind::Acquired {
                lock: a,
                mode: Mode::Upgradable,
                site,
                seq: 4,
                tried: false,
            },
            EventKind::CondWait {
                condvar: a,
                mutex: b,
                site,
                seq: 5,
                timed: true,
            },
            EventKind::CondWake {
                condvar: b,
                mutex: a,
                seq: 6,
                timed_out: true,
            },
            EventKind::Notify {
                condvar: a,
                all: true,
                woken: 3,
                site,
            },
            EventKind::ThreadPanic {
                message: "boom".into(),
            },
            EventKind::ThreadExit,
        ]
    }

    #[test]
    fn every_kind_round_trips_in_order() {
        let ring = Ring::new();
        let mut p = Producer::new();
        let kinds = every_kind();
        for (i, kind) in kinds.iter().enumerate() {
            assert_eq!(
                ring.write(&mut p, ThreadId(4), i as u64, kind.clone()),
                AfterWrite::Nothing
            );
        }
        let (number, events) = ring.take(ThreadId(4)).unwrap();
        assert_eq!(number, 0);
        let back: Vec<_> = events.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(back, kinds);
        assert!(
            events
                .iter()
                .enumerate()
                .all(|(i, e)| e.time == i as u64 && e.thread == ThreadId(4))
        );
        assert!(ring.take(ThreadId(4)).is_none());
    }

    #[test]
    fn a_full_ring_is_taken_by_its_own_thread_and_nothing_is_lost() {
        let ring = Ring::new();
        let mut p = Producer::new();
        let mut shipped = Vec::new();
        let mut wakes = 0;
        let n = RING * 3 + 17;
        for i in 0..n {
            let kind = EventKind::Released {
                lock: LockId(1),
                mode: Mode::Exclusive,
                seq: i,
            };
            match ring.write(&mut p, ThreadId(0), i, kind) {
                AfterWrite::Ship(number, events) => shipped.push((number, events.into_events())),
                AfterWrite::Wake => wakes += 1,
                AfterWrite::Nothing => {}
            }
        }
        shipped.extend(ring.take(ThreadId(0)));
        let numbers: Vec<u64> = shipped.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, (0..numbers.len() as u64).collect::<Vec<_>>());
        let seqs: Vec<u64> = shipped
            .iter()
            .flat_map(|(_, evs)| evs.iter())
            .filter_map(|e| e.kind.sequenced())
            .map(|(_, s)| s)
            .collect();
        assert_eq!(seqs, (0..n).collect::<Vec<_>>());
        assert!(wakes > 0);
        assert_eq!(ring.written(), n);
    }

    #[test]
    fn a_batch_shipped_raw_decodes_to_the_events_written_rare_ones_too() {
        let ring = Ring::new();
        let mut p = Producer::new();
        let mut written = Vec::new();
        let mut got = Vec::new();
        let n = RING * 2 + 5;
        for i in 0..n {
            let kind = if i % 7 == 0 {
                EventKind::ThreadStart {
                    name: format!("t{i}"),
                }
            } else {
                EventKind::Released {
                    lock: LockId(2),
                    mode: Mode::Exclusive,
                    seq: i,
                }
            };
            written.push(kind.clone());
            if let AfterWrite::Ship(_, batch) = ring.write(&mut p, ThreadId(3), i, kind) {
                assert!(matches!(batch, Shipment::Raw { .. }));
                got.extend(batch.into_events());
            }
        }
        // The collector reads the rest the usual way, interleaved correctly.
        got.extend(
            ring.take(ThreadId(3))
                .map(|(_, evs)| evs)
                .unwrap_or_default(),
        );
        let kinds: Vec<EventKind> = got.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(kinds, written);
        assert!(got.iter().all(|e| e.thread == ThreadId(3)));
        let times: Vec<u64> = got.iter().map(|e| e.time).collect();
        assert_eq!(times, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn a_consumer_on_another_thread_sees_every_event() {
        let ring = std::sync::Arc::new(Ring::new());
        let n = 200_000u64;
        let writer = {
            let ring = std::sync::Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut p = Producer::new();
                let mut own = Vec::new();
                for i in 0..n {
                    let kind = EventKind::Released {
                        lock: LockId(0),
                        mode: Mode::Exclusive,
                        seq: i,
                    };
                    if let AfterWrite::Ship(number, events) =
                        ring.write(&mut p, ThreadId(0), i, kind)
                    {
                        own.push((number, events.into_events()));
                    }
                }
                own
            })
        };
        let mut batches = Vec::new();
        while !writer.is_finished() {
            batches.extend(ring.take(ThreadId(0)));
        }
        batches.extend(writer.join().unwrap());
        batches.extend(ring.take(ThreadId(0)));
        batches.sort_by_key(|(number, _)| *number);
        let seqs: Vec<u64> = batches
            .iter()
            .flat_map(|(_, evs)| evs.iter())
            .filter_map(|e| e.kind.sequenced())
            .map(|(_, s)| s)
            .collect();
        assert_eq!(seqs.len() as u64, n);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    }
}
