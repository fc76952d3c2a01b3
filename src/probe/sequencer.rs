//! Puts batches from many threads back into an order the model can trust.
//!
//! Each thread's events arrive in order within a batch, but batches are
//! numbered and may arrive out of order (shipped by the thread or taken by the
//! collector), and batches of different threads race each other. Per thread the
//! sequencer restores batch order; per lock it holds back any event that
//! changes the lock's holders until every earlier change of that lock (by its
//! sequence number, taken inside the critical section) has been released. So
//! the model never sees two exclusive holders at once. Requests are held back
//! the same way by their request number (`ticket`), so a lock's queue in the
//! model is its queue in parking_lot: a reader that blocked behind a queued
//! writer is queued behind it in the model too, whichever batch came first.
//!
//! Pure: no threads, no clocks.

use std::collections::{BTreeMap, VecDeque};

use crate::event::{Event, EventKind, LockId, ThreadId};

/// Capacity a thread's emptied queue keeps (events).
const SHRINK_ABOVE: usize = 4096;

/// Restores per-thread and per-lock order; see the module docs.
#[derive(Debug, Default)]
pub struct Sequencer {
    threads: Vec<ThreadQueue>,
    locks: Vec<LockOrder>,
    work: Vec<usize>,
    pending: usize,
    late: u64,
    skipped: u64,
    lossy: bool,
}

#[derive(Debug, Default)]
struct ThreadQueue {
    next_batch: u64,
    early: BTreeMap<u64, Vec<Event>>,
    queue: VecDeque<Event>,
    parked: bool,
}

#[derive(Debug, Default)]
struct LockOrder {
    known: bool,
    next: u64,
    /// The next request number to pass on.
    next_ticket: u64,
    parked: Vec<usize>,
    /// The `(next, next_ticket)` this lock was stuck at, and since which tick.
    stuck: Option<((u64, u64), u64)>,
}

impl Sequencer {
    /// An empty sequencer.
    pub fn new() -> Self {
        Sequencer::default()
    }

    /// Takes batch `number` of `thread` and passes every event that can now go
    /// on, in a causally consistent order, to `out`.
    pub fn push(
        &mut self,
        thread: ThreadId,
        number: u64,
        events: Vec<Event>,
        out: &mut impl FnMut(Event),
    ) {
        let t = thread.index();
        if self.threads.len() <= t {
            self.threads.resize_with(t + 1, ThreadQueue::default);
        }
        self.pending += events.len();
        let q = &mut self.threads[t];
        if number == q.next_batch && q.queue.is_empty() && q.early.is_empty() && !q.parked {
            // The common case, in order with nothing held back: the batch's
            // events go straight on, not through the queue, until one must
            // wait (it and the rest are queued then).
            q.next_batch += 1;
            let mut events = events.into_iter();
            while let Some(ev) = events.next() {
                let Some(woke) = self.admit(t, turn(&ev.kind)) else {
                    let queue = &mut self.threads[t].queue;
                    queue.push_back(ev);
                    queue.extend(events);
                    break;
                };
                self.pending -= 1;
                out(ev);
                if let Some(l) = woke {
                    self.wake(l);
                }
            }
            self.run(out);
            return;
        }
        if number < q.next_batch {
            // A batch number seen before: cannot happen with one sender per
            // thread; keep the events rather than lose them.
            self.late += events.len() as u64;
            q.queue.extend(events);
        } else {
            q.early.insert(number, events);
            while let Some(batch) = q.early.remove(&q.next_batch) {
                q.queue.extend(batch);
                q.next_batch += 1;
            }
        }
        if !q.parked {
            self.work.push(t);
        }
        self.run(out);
    }

    /// In lossy mode (events are known to have been dropped) a missing
    /// sequence number is not waited for: the lock jumps to the number that
    /// came. Turning it on releases everything held back.
    pub fn set_lossy(&mut self, on: bool, out: &mut impl FnMut(Event)) {
        if on && !self.lossy {
            self.lossy = true;
            self.skip_gaps(out);
        }
        self.lossy = on;
    }

    /// Events received but not yet passed on.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Events passed on after a later change of the same lock (should stay 0).
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Sequence numbers given up on by [`skip_gaps`](Self::skip_gaps).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Gives up waiting for sequence numbers that will never come (an event
    /// lost with a session that ended mid-operation): each lock with held-back
    /// events jumps to the smallest number it holds back. Call only after every
    /// buffer has been taken and nothing moved for a while.
    pub fn skip_gaps(&mut self, out: &mut impl FnMut(Event)) {
        for l in 0..self.locks.len() {
            if !self.locks[l].parked.is_empty() {
                self.skip_lock(l);
            }
        }
        self.run(out);
    }

    /// Called on every collector tick: a lock whose held-back events have
    /// waited `ticks` ticks for the same missing sequence number gives up on
    /// it (see [`skip_gaps`](Self::skip_gaps)), even while other locks keep
    /// moving. Returns how many locks skipped.
    pub fn skip_stale(&mut self, tick: u64, ticks: u64, out: &mut impl FnMut(Event)) -> usize {
        let mut stale = Vec::new();
        for (l, lock) in self.locks.iter_mut().enumerate() {
            if lock.parked.is_empty() {
                lock.stuck = None;
                continue;
            }
            let at = (lock.next, lock.next_ticket);
            match lock.stuck {
                Some((was, since)) if was == at => {
                    if tick.saturating_sub(since) >= ticks {
                        stale.push(l);
                    }
                }
                _ => lock.stuck = Some((at, tick)),
            }
        }
        for &l in &stale {
            self.skip_lock(l);
        }
        self.run(out);
        stale.len()
    }

    /// Moves lock `l` on to the smallest sequence number and the smallest
    /// request number held back for it.
    fn skip_lock(&mut self, l: usize) {
        let heads = || {
            self.locks[l]
                .parked
                .iter()
                .filter_map(|&t| self.threads[t].queue.front())
        };
        let smallest = heads()
            .filter_map(|ev| ev.kind.sequenced())
            .map(|s| s.1)
            .min();
        let first_ticket = heads()
            .filter_map(|ev| ev.kind.ticketed())
            .map(|s| s.1)
            .min();
        let lock = &mut self.locks[l];
        if let Some(seq) = smallest {
            self.skipped += seq.saturating_sub(lock.next);
            lock.next = seq;
        }
        if let Some(ticket) = first_ticket {
            self.skipped += ticket.saturating_sub(lock.next_ticket);
            lock.next_ticket = ticket;
        }
        lock.known = true;
        lock.stuck = None;
        self.wake(l);
    }

    fn lock(&mut self, lock: LockId) -> &mut LockOrder {
        let l = lock.index();
        if self.locks.len() <= l {
            self.locks.resize_with(l + 1, LockOrder::default);
        }
        &mut self.locks[l]
    }

    fn wake(&mut self, l: usize) {
        for t in std::mem::take(&mut self.locks[l].parked) {
            self.threads[t].parked = false;
            self.work.push(t);
        }
    }

    fn run(&mut self, out: &mut impl FnMut(Event)) {
        while let Some(t) = self.work.pop() {
            self.drain_thread(t, out);
        }
    }

    /// Whether the event numbered `number` of `lock` (a request number if
    /// `ticket`, else a sequence number) may go now; if so, counts it passed.
    fn take_turn(&mut self, lock: LockId, number: u64, ticket: bool) -> bool {
        let lossy = self.lossy;
        let order = self.lock(lock);
        let next = if ticket {
            &mut order.next_ticket
        } else {
            &mut order.next
        };
        let mut gap = 0;
        if lossy && (!order.known || number > *next) {
            if order.known {
                gap = number - *next;
            }
            order.known = true;
            *next = number;
        }
        if !order.known || number > *next {
            return false;
        }
        if number < *next {
            self.late += 1;
        } else {
            *next += 1;
        }
        self.skipped += gap;
        true
    }

    /// Passes on the thread's events until one must wait for another thread.
    fn drain_thread(&mut self, t: usize, out: &mut impl FnMut(Event)) {
        loop {
            let Some(ev) = self.threads[t].queue.front() else {
                // A burst can leave a huge, empty queue: give the memory back.
                let queue = &mut self.threads[t].queue;
                if queue.capacity() > SHRINK_ABOVE {
                    queue.shrink_to(SHRINK_ABOVE);
                }
                return;
            };
            let Some(woke) = self.admit(t, turn(&ev.kind)) else {
                return;
            };
            if let Some(ev) = self.threads[t].queue.pop_front() {
                self.pending -= 1;
                out(ev);
            }
            if let Some(l) = woke {
                self.wake(l);
            }
        }
    }

    /// Whether thread `t`'s next event (whose [`turn`] is `turn`) may go on
    /// now: `Some` with the lock whose waiting threads it may let go, counted
    /// as passed; or `None`, and the thread is parked on the lock whose turn
    /// it waits for.
    fn admit(&mut self, t: usize, turn: Turn) -> Option<Option<usize>> {
        match turn {
            Turn::Free => Some(None),
            Turn::Created { lock, first_seq } => {
                let order = self.lock(lock);
                if !order.known {
                    order.known = true;
                    order.next = first_seq;
                    order.next_ticket = 0;
                }
                Some(Some(lock.index()))
            }
            Turn::Numbered {
                lock,
                number,
                ticket,
            } => {
                if !self.take_turn(lock, number, ticket) {
                    self.lock(lock).parked.push(t);
                    self.threads[t].parked = true;
                    return None;
                }
                Some(Some(lock.index()))
            }
        }
    }
}

/// What an event waits for before it may go on.
#[derive(Clone, Copy)]
enum Turn {
    /// Nothing.
    Free,
    /// A lock's creation: starts the lock's numbering.
    Created { lock: LockId, first_seq: u64 },
    /// Its number of `lock` (a request number if `ticket`, else a sequence number).
    Numbered {
        lock: LockId,
        number: u64,
        ticket: bool,
    },
}

fn turn(kind: &EventKind) -> Turn {
    if let EventKind::LockCreated {
        lock, first_seq, ..
    } = *kind
    {
        return Turn::Created { lock, first_seq };
    }
    match (kind.sequenced(), kind.ticketed()) {
        (Some((lock, number)), _) => Turn::Numbered {
            lock,
            number,
            ticket: false,
        },
        (None, Some((lock, number))) => Turn::Numbered {
            lock,
            number,
            ticket: true,
        },
        (None, None) => Turn::Free,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::{LockKind, Mode, Site};

    fn ev(thread: u32, kind: EventKind) -> Event {
        Event {
            time: 0,
            thread: ThreadId(thread),
            kind,
        }
    }

    fn created(thread: u32, lock: u32) -> Event {
        ev(
            thread,
            EventKind::LockCreated {
                lock: LockId(lock),
                name: format!("L{lock}"),
                kind: LockKind::Mutex,
                site: Site::UNKNOWN,
                first_seq: 0,
            },
        )
    }

    fn acq(thread: u32, lock: u32, seq: u64) -> Event {
        ev(
            thread,
            EventKind::Acquired {
                lock: LockId(lock),
                mode: Mode::Exclusive,
                site: Site::UNKNOWN,
                seq,
                tried: false,
            },
        )
    }

    fn rel(thread: u32, lock: u32, seq: u64) -> Event {
        ev(
            thread,
            EventKind::Released {
                lock: LockId(lock),
                mode: Mode::Exclusive,
                seq,
            },
        )
    }

    fn collect(seq: &mut Sequencer, batches: Vec<(u32, u64, Vec<Event>)>) -> Vec<Event> {
        let mut out = Vec::new();
        for (t, n, events) in batches {
            seq.push(ThreadId(t), n, events, &mut |e| out.push(e));
        }
        out
    }

    #[test]
    fn holds_back_a_later_holder_until_the_earlier_one_arrives() {
        let mut s = Sequencer::new();
        // Thread 1 took the lock second, but its batch arrives first.
        let out = collect(
            &mut s,
            vec![
                (1, 0, vec![acq(1, 0, 2), rel(1, 0, 3)]),
                (0, 0, vec![created(0, 0), acq(0, 0, 0), rel(0, 0, 1)]),
            ],
        );
        let order: Vec<_> = out.iter().map(|e| (e.thread.0, e.kind.name())).collect();
        assert_eq!(
            order,
            [
                (0, "lock_created"),
                (0, "acquired"),
                (0, "released"),
                (1, "acquired"),
                (1, "released"),
            ]
        );
        assert_eq!(s.pending(), 0);
        assert_eq!(s.late(), 0);
    }

    #[test]
    fn restores_batch_order_within_a_thread() {
        let mut s = Sequencer::new();
        let out = collect(
            &mut s,
            vec![
                (0, 1, vec![rel(0, 0, 1)]),
                (0, 0, vec![created(0, 0), acq(0, 0, 0)]),
            ],
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].kind.name(), "released");
    }

    #[test]
    fn a_parked_thread_keeps_its_own_order() {
        let mut s = Sequencer::new();
        let request = ev(
            1,
            EventKind::ThreadExit, // any unsequenced event after the parked one
        );
        let out = collect(&mut s, vec![(1, 0, vec![acq(1, 0, 2), request])]);
        assert!(out.is_empty(), "everything waits behind the parked event");
        assert_eq!(s.pending(), 2);
        let out = collect(
            &mut s,
            vec![(0, 0, vec![created(0, 0), acq(0, 0, 0), rel(0, 0, 1)])],
        );
        assert_eq!(out.len(), 5);
        assert_eq!(out[4].kind.name(), "thread_exit");
    }

    #[test]
    fn skip_gaps_releases_events_waiting_for_a_lost_number() {
        let mut s = Sequencer::new();
        let out = collect(&mut s, vec![(0, 0, vec![created(0, 0), acq(0, 0, 3)])]);
        assert_eq!(out.len(), 1);
        let mut released = Vec::new();
        s.skip_gaps(&mut |e| released.push(e));
        assert_eq!(released.len(), 1);
        assert_eq!(s.skipped(), 3);
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn a_stale_gap_is_skipped_while_other_locks_keep_moving() {
        let mut s = Sequencer::new();
        // Lock 0 waits for seq 0, which was dropped; lock 1 keeps moving.
        collect(&mut s, vec![(0, 0, vec![created(0, 0), acq(0, 0, 1)])]);
        collect(&mut s, vec![(1, 0, vec![created(1, 1)])]);
        let mut out = Vec::new();
        for tick in 0..3 {
            assert_eq!(s.skip_stale(tick, 3, &mut |e| out.push(e)), 0);
            let seq = tick * 2;
            collect(
                &mut s,
                vec![(1, tick + 1, vec![acq(1, 1, seq), rel(1, 1, seq + 1)])],
            );
        }
        assert!(out.is_empty());
        assert_eq!(s.skip_stale(3, 3, &mut |e| out.push(e)), 1);
        assert_eq!(out.len(), 1, "the held-back acquisition goes on");
        assert_eq!(s.skipped(), 1);
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn many_threads_interleaved_on_one_lock_come_out_in_lock_order() {
        // 4 threads took one lock round-robin; deliver their batches in reverse.
        let mut per_thread: Vec<Vec<Event>> = vec![Vec::new(); 4];
        per_thread[0].push(created(0, 0));
        for round in 0..50u64 {
            for t in 0..4u32 {
                let seq = (round * 4 + u64::from(t)) * 2;
                per_thread[t as usize].push(acq(t, 0, seq));
                per_thread[t as usize].push(rel(t, 0, seq + 1));
            }
        }
        let mut s = Sequencer::new();
        let batches = per_thread
            .into_iter()
            .enumerate()
            .rev()
            .map(|(t, evs)| (t as u32, 0, evs))
            .collect();
        let out = collect(&mut s, batches);
        let seqs: Vec<u64> = out
            .iter()
            .filter_map(|e| e.kind.sequenced())
            .map(|(_, s)| s)
            .collect();
        assert_eq!(seqs, (0..400).collect::<Vec<_>>());
        assert_eq!(s.pending(), 0);
    }

    fn req(thread: u32, lock: u32, mode: Mode, ticket: u64) -> Event {
        ev(
            thread,
            EventKind::Request {
                lock: LockId(lock),
                mode,
                site: Site::UNKNOWN,
                timed: false,
                ticket,
            },
        )
    }

    fn read(thread: u32, lock: u32, seq: u64) -> Event {
        ev(
            thread,
            EventKind::Acquired {
                lock: LockId(lock),
                mode: Mode::Shared,
                site: Site::UNKNOWN,
                seq,
                tried: false,
            },
        )
    }

    /// Every order of `batches` (the batch number of a thread's batch is its
    /// rank among that thread's batches).
    fn every_order(
        batches: &[(u32, Vec<Event>)],
        mut check: impl FnMut(Vec<(u32, u64, Vec<Event>)>),
    ) {
        fn go(left: &mut Vec<usize>, picked: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
            if left.is_empty() {
                f(picked);
                return;
            }
            for i in 0..left.len() {
                let b = left.remove(i);
                picked.push(b);
                go(left, picked, f);
                picked.pop();
                left.insert(i, b);
            }
        }
        let numbered: Vec<(u32, u64, Vec<Event>)> = batches
            .iter()
            .enumerate()
            .map(|(i, (t, evs))| {
                let n = batches[..i].iter().filter(|(u, _)| u == t).count() as u64;
                (*t, n, evs.clone())
            })
            .collect();
        let mut left: Vec<usize> = (0..numbered.len()).collect();
        go(&mut left, &mut Vec::new(), &mut |order| {
            check(order.iter().map(|&i| numbered[i].clone()).collect());
        });
    }

    /// The first bug shape of issue 11: reader A holds rwlock L and asks for
    /// mutex M; B holds M and asks to read L behind writer W, who queued
    /// first. Whatever order the five batches arrive in, the model sees the
    /// cycle A -> B -> W -> A.
    #[test]
    fn a_reader_behind_a_queued_writer_is_seen_in_every_batch_order() {
        let rw = |t, l| {
            ev(
                t,
                EventKind::LockCreated {
                    lock: LockId(l),
                    name: format!("L{l}"),
                    kind: if l == 0 {
                        LockKind::RwLock
                    } else {
                        LockKind::Mutex
                    },
                    site: Site::UNKNOWN,
                    first_seq: 0,
                },
            )
        };
        let batches = vec![
            (0, vec![rw(0, 0), rw(0, 1), read(0, 0, 0)]),
            (1, vec![acq(1, 1, 0)]),
            (2, vec![req(2, 0, Mode::Exclusive, 0)]),
            (1, vec![req(1, 0, Mode::Shared, 1)]),
            (0, vec![req(0, 1, Mode::Exclusive, 0)]),
        ];
        let mut orders = 0;
        every_order(&batches, |order| {
            orders += 1;
            let mut s = Sequencer::new();
            let mut model = crate::model::Model::new();
            let out = collect(&mut s, order.clone());
            for e in &out {
                model.apply(e);
            }
            assert_eq!(s.pending(), 0, "{order:?}");
            assert_eq!(model.deadlocks().len(), 1, "{order:?}");
            let threads: Vec<u32> = model.deadlocks()[0].threads().map(|t| t.0).collect();
            assert_eq!(threads, [0, 1, 2], "{order:?}");
            assert_eq!(model.anomalies(), 0, "{order:?}");
        });
        assert_eq!(orders, 120);
    }

    /// The second shape: A reads L twice with writer W queued in between.
    #[test]
    fn a_recursive_read_behind_a_queued_writer_is_seen_in_every_batch_order() {
        let created = ev(
            0,
            EventKind::LockCreated {
                lock: LockId(0),
                name: "L".into(),
                kind: LockKind::RwLock,
                site: Site::UNKNOWN,
                first_seq: 0,
            },
        );
        let batches = vec![
            (0, vec![created, read(0, 0, 0)]),
            (1, vec![req(1, 0, Mode::Exclusive, 0)]),
            (0, vec![req(0, 0, Mode::Shared, 1)]),
        ];
        every_order(&batches, |order| {
            let mut s = Sequencer::new();
            let mut model = crate::model::Model::new();
            for e in collect(&mut s, order.clone()) {
                model.apply(&e);
            }
            assert_eq!(model.deadlocks().len(), 1, "{order:?}");
        });
    }

    #[test]
    fn requests_wait_for_earlier_request_numbers_and_a_stale_gap_is_skipped() {
        let mut s = Sequencer::new();
        let out = collect(
            &mut s,
            vec![
                (0, 0, vec![created(0, 0)]),
                (1, 0, vec![req(1, 0, Mode::Exclusive, 1)]),
            ],
        );
        assert_eq!(out.len(), 1, "request 1 waits for request 0");
        let mut out = Vec::new();
        assert_eq!(s.skip_stale(0, 3, &mut |e| out.push(e)), 0);
        assert_eq!(s.skip_stale(3, 3, &mut |e| out.push(e)), 1);
        assert_eq!(out.len(), 1, "request 0 never came: given up on");
        assert_eq!(s.skipped(), 1);
        assert_eq!(s.pending(), 0);
    }
}
