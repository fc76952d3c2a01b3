//! Puts batches from many threads back into an order the model can trust.
//!
//! Each thread's events arrive in order within a batch, but batches are
//! numbered and may arrive out of order (shipped by the thread or taken by the
//! collector), and batches of different threads race each other. Per thread the
//! sequencer restores batch order; per lock it holds back any event that
//! changes the lock's holders until every earlier change of that lock (by its
//! sequence number, taken inside the critical section) has been released. So
//! the model never sees two exclusive holders at once.
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
    parked: Vec<usize>,
    /// The `next` this lock was stuck at, and since which tick.
    stuck: Option<(u64, u64)>,
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
            match lock.stuck {
                Some((next, since)) if next == lock.next => {
                    if tick.saturating_sub(since) >= ticks {
                        stale.push(l);
                    }
                }
                _ => lock.stuck = Some((lock.next, tick)),
            }
        }
        for &l in &stale {
            self.skip_lock(l);
        }
        self.run(out);
        stale.len()
    }

    /// Moves lock `l` on to the smallest sequence number held back for it.
    fn skip_lock(&mut self, l: usize) {
        let smallest = self.locks[l]
            .parked
            .iter()
            .filter_map(|&t| self.threads[t].queue.front())
            .filter_map(|ev| ev.kind.sequenced())
            .map(|(_, seq)| seq)
            .min();
        let lock = &mut self.locks[l];
        if let Some(seq) = smallest {
            self.skipped += seq.saturating_sub(lock.next);
            lock.next = seq;
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
            let woke = match ev.kind {
                EventKind::LockCreated {
                    lock, first_seq, ..
                } => {
                    let order = self.lock(lock);
                    if !order.known {
                        order.known = true;
                        order.next = first_seq;
                    }
                    Some(lock.index())
                }
                _ => match ev.kind.sequenced() {
                    None => None,
                    Some((lock, seq)) => {
                        let lossy = self.lossy;
                        let order = self.lock(lock);
                        if lossy && (!order.known || seq > order.next) {
                            let gap = if order.known { seq - order.next } else { 0 };
                            order.known = true;
                            order.next = seq;
                            self.skipped += gap;
                        }
                        let order = self.lock(lock);
                        if !order.known || seq > order.next {
                            order.parked.push(t);
                            self.threads[t].parked = true;
                            return;
                        }
                        if seq < order.next {
                            self.late += 1;
                        } else {
                            order.next += 1;
                        }
                        Some(lock.index())
                    }
                },
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
}
