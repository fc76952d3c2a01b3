//! [`Model::apply`]: one event in, state and findings updated.
//!
//! Invariants kept here and in `ops`: a thread is in a lock's `waiters`
//! exactly when its status is `Waiting` on that lock, and in a condvar's
//! `cond_waiters` exactly when its status is `CondWait` on it; every status
//! change that ends a wait goes through `leave_wait`; a lock's holders and the
//! threads' held lists describe the same holds. Durations use saturating
//! arithmetic, so out-of-order or absurd timestamps cannot panic.

use std::mem;

use crate::event::{Blocker, End, Event, EventKind, LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::state::{ThreadStatus, Waiter};
use super::{Change, Model};

impl Model {
    /// Applies one event and reports whether it revealed a new deadlock or a
    /// new potential deadlock.
    ///
    /// Never panics: ids never seen get placeholder entries (`thread#N`,
    /// `lock#N`) that later `ThreadStart`/`LockCreated` events fill in, and
    /// events inconsistent with the state are tolerated and counted in
    /// [`anomalies`](Self::anomalies).
    pub fn apply(&mut self, ev: &Event) -> Change {
        self.also_changed.clear();
        self.events += 1;
        self.last_time = self.last_time.max(ev.time);
        let change = self
            .thread_slot(ev.thread, ev.time)
            .and_then(|t| self.dispatch(t, ev.time, &ev.kind));
        change.unwrap_or_else(|| {
            self.anomalies += 1;
            Change::default()
        })
    }

    /// Handles one event; `None` means it was ignored as inconsistent.
    fn dispatch(&mut self, t: usize, time: Nanos, kind: &EventKind) -> Option<Change> {
        let mut change = Change::default();
        match *kind {
            EventKind::ThreadStart { ref name } => self.on_start(t, name, time),
            EventKind::ThreadExit => change.deadlock = self.on_exit(t, time)?,
            EventKind::ThreadPanic { ref message } => self.on_panic(t, message, time)?,
            EventKind::LockCreated {
                lock,
                ref name,
                kind,
                site,
                ..
            } => self.on_created(lock, name, kind, site)?,
            EventKind::Request {
                lock,
                mode,
                site,
                timed,
                ..
            } => {
                change.deadlock = self.on_request(t, lock, mode, site, timed, time)?;
                if !timed {
                    change.potential = self.record_order(t, lock, mode, site, time);
                }
            }
            EventKind::Acquired {
                lock,
                mode,
                site,
                tried,
                ..
            } => {
                let l = self.lock_slot(lock, Some(mode))?;
                let potential = !tried && self.record_order(t, lock, mode, site, time);
                // Acquiring another lock than the one waited for: a late event
                // (sequenced events can be held back behind unsequenced ones),
                // the acquisition happened before the wait, which goes on.
                let waited = match self.threads[t].status {
                    ThreadStatus::Waiting { lock: w, since, .. } if w == lock => {
                        self.leave_wait(t, time);
                        Some(since)
                    }
                    _ => None,
                };
                change = self.acquire(t, l, mode, site, time, waited);
                if tried && let Some(held) = self.threads[t].held.last_mut() {
                    held.tried = true;
                }
                change.potential |= potential;
            }
            EventKind::Released { lock, mode, .. } => {
                let l = self.lock_slot(lock, Some(mode))?;
                if !self.release(t, l, mode, time) {
                    return None;
                }
            }
            EventKind::TryFailed { lock, mode, .. } => {
                let l = self.lock_slot(lock, Some(mode))?;
                self.locks[l].stats.try_failures += 1;
            }
            EventKind::TimedOut { lock, mode } => {
                let l = self.lock_slot(lock, Some(mode))?;
                self.locks[l].stats.timeouts += 1;
                match self.threads[t].status {
                    ThreadStatus::Waiting { lock: w, .. } if w == lock => {
                        self.leave_wait(t, time);
                    }
                    _ => return None,
                }
            }
            EventKind::CondWait {
                condvar,
                mutex,
                site,
                timed,
                ..
            } => self.on_cond_wait(t, (condvar, mutex), site, timed, time)?,
            EventKind::Notify { condvar, woken, .. } => {
                change.deadlock = self.on_notify(condvar, woken, time)?;
            }
            EventKind::CondWake { condvar, mutex, .. } => {
                change = self.on_cond_wake(t, condvar, mutex, time)?;
            }
            EventKind::Block {
                on, site, timed, ..
            } => {
                change.deadlock = self.on_block(t, on, site, timed, time)?;
            }
            EventKind::Handle {
                channel,
                end,
                from,
                to,
            } => {
                change.deadlock = self.on_handle(channel, end, from, to, time)?;
            }
            EventKind::Unblock { on, .. } => match self.threads[t].status {
                ThreadStatus::Blocked { on: b, .. } if b == on => {
                    self.leave_wait(t, time);
                }
                // Already woken by the operation that let it through.
                _ if on.object().is_some() => {}
                _ => return None,
            },
            EventKind::BarrierTrip { barrier, .. } => {
                let b = self.barrier_slot(barrier)?;
                let mut arrived = mem::take(&mut self.locks[b].arrived);
                for w in &arrived {
                    let at_barrier = matches!(
                        self.threads[w.index()].status,
                        ThreadStatus::Blocked { on: Blocker::Barrier { barrier: x, .. }, .. } if x == barrier
                    );
                    if at_barrier {
                        self.leave_wait(w.index(), time);
                    }
                }
                let leader = ThreadId(t as u32);
                if !arrived.contains(&leader) {
                    arrived.push(leader);
                }
                arrived.sort_unstable();
                self.locks[b].participants = arrived;
            }
            EventKind::ChannelWake { channel, end, .. } => {
                self.channel_slot(channel)?;
                let woken = match end {
                    End::Sender => Blocker::Recv(channel),
                    End::Receiver => Blocker::Send(channel),
                };
                for w in 0..self.threads.len() {
                    if matches!(self.threads[w].status, ThreadStatus::Blocked { on, .. } if on == woken)
                    {
                        self.leave_wait(w, time);
                    }
                }
            }
        }
        Some(change)
    }

    fn on_start(&mut self, t: usize, name: &str, time: Nanos) {
        let th = &mut self.threads[t];
        if th.known || th.status.is_done() {
            self.anomalies += 1;
        }
        th.known = true;
        th.name.clear();
        th.name.push_str(name);
        th.started_at = th.started_at.min(time);
    }

    /// A thread that returns still holding a lock leaked its guard: the lock
    /// stays held, so it is kept.
    ///
    /// A thread that ends can no longer send, receive or arrive: a channel
    /// or barrier wait that counted it among several candidates may now
    /// have one left, whose edge can close a cycle.
    fn on_exit(&mut self, t: usize, time: Nanos) -> Option<bool> {
        if self.threads[t].status.is_done() {
            return None;
        }
        if self.leave_wait(t, time).is_some() {
            self.anomalies += 1;
        }
        self.end_thread(t, ThreadStatus::Finished, time);
        let mut deadlock = false;
        for w in 0..self.threads.len() {
            let waits = matches!(
                self.threads[w].status,
                ThreadStatus::Blocked { on, timed: false, .. } if on.object().is_some()
            );
            if waits {
                deadlock |= self.check_from(w, time);
            }
        }
        Some(deadlock)
    }

    /// Unwinding released the thread's locks (their `Released` events came
    /// first); whatever is left is released here.
    fn on_panic(&mut self, t: usize, message: &str, time: Nanos) -> Option<()> {
        if self.threads[t].status.is_done() {
            return None;
        }
        self.leave_wait(t, time);
        let mut held = mem::take(&mut self.threads[t].held);
        for h in held.drain(..) {
            let lock = &mut self.locks[h.lock.index()];
            let id = ThreadId(t as u32);
            if let Some(i) = lock.holders.iter().rposition(|x| x.thread == id) {
                let holder = lock.holders.remove(i);
                lock.stats.record_hold(time.saturating_sub(holder.since));
            }
        }
        self.threads[t].held = held;
        let message = message.to_owned();
        self.end_thread(t, ThreadStatus::Panicked { message }, time);
        Some(())
    }

    fn end_thread(&mut self, t: usize, status: ThreadStatus, time: Nanos) {
        let th = &mut self.threads[t];
        if let Some(since) = th.holding_since.take() {
            th.stats.holding = th.stats.holding.saturating_add(time.saturating_sub(since));
        }
        th.status = status;
        th.ended_at = Some(time);
    }

    fn on_created(&mut self, lock: LockId, name: &str, kind: LockKind, site: Site) -> Option<()> {
        let l = self.lock_slot(lock, None)?;
        let state = &mut self.locks[l];
        if state.known {
            self.anomalies += 1;
        }
        state.known = true;
        state.name.clear();
        state.name.push_str(name);
        state.kind = kind;
        state.site = site;
        Some(())
    }

    fn on_request(
        &mut self,
        t: usize,
        lock: LockId,
        mode: Mode,
        site: Site,
        timed: bool,
        time: Nanos,
    ) -> Option<bool> {
        let l = self.lock_slot(lock, Some(mode))?;
        if self.threads[t].status.is_done() {
            return None;
        }
        // Already waiting: the event that ended that wait is held back (it is
        // sequenced, a request is not). The newer wait is the one that counts.
        self.leave_wait(t, time);
        let th = &mut self.threads[t];
        th.status = ThreadStatus::Waiting {
            lock,
            mode,
            since: time,
            site,
            timed,
        };
        self.locks[l].waiters.push_back(Waiter {
            thread: th.id,
            mode,
            since: time,
            site,
            timed,
        });
        Some(!timed && self.check_from(t, time))
    }

    /// The thread blocks on another thread. The target may be unseen yet (a
    /// thread spawned and joined before it ran): it gets a placeholder.
    fn on_block(
        &mut self,
        t: usize,
        on: Blocker,
        site: Site,
        timed: bool,
        time: Nanos,
    ) -> Option<bool> {
        match on {
            Blocker::Join(target) => {
                self.thread_slot(target, time)?;
            }
            Blocker::Recv(c) | Blocker::Send(c) => {
                self.channel_slot(c)?;
            }
            Blocker::Barrier { barrier, .. } => {
                self.barrier_slot(barrier)?;
            }
        }
        if self.threads[t].status.is_done() {
            return None;
        }
        self.leave_wait(t, time);
        self.threads[t].status = ThreadStatus::Blocked {
            on,
            since: time,
            site,
            timed,
        };
        if let Blocker::Barrier { barrier, .. } = on {
            let arrived = &mut self.locks[barrier.index()].arrived;
            let id = ThreadId(t as u32);
            if !arrived.contains(&id) {
                arrived.push(id);
            }
        }
        Some(!timed && self.check_from(t, time))
    }

    /// A channel handle changed owner. Losing an owner can leave a waiter on
    /// the channel with a single one, whose wait may close a cycle.
    fn on_handle(
        &mut self,
        channel: LockId,
        end: End,
        from: Option<ThreadId>,
        to: Option<ThreadId>,
        time: Nanos,
    ) -> Option<bool> {
        let c = self.channel_slot(channel)?;
        for (thread, delta) in [(from, -1), (to, 1)] {
            if let Some(thread) = thread {
                self.thread_slot(thread, time)?;
                self.locks[c].own(end, thread, delta);
            }
        }
        let mut deadlock = false;
        for w in 0..self.threads.len() {
            let waits_here = matches!(
                self.threads[w].status,
                ThreadStatus::Blocked { on, timed: false, .. } if on.channel() == Some(channel)
            );
            if waits_here {
                deadlock |= self.check_from(w, time);
            }
        }
        Some(deadlock)
    }

    fn on_cond_wait(
        &mut self,
        t: usize,
        (condvar, mutex): (LockId, LockId),
        site: Site,
        timed: bool,
        time: Nanos,
    ) -> Option<()> {
        let c = self.condvar_slot(condvar)?;
        let m = self.lock_slot(mutex, None)?;
        if self.threads[t].status.is_done() {
            return None;
        }
        self.locks[c].stats.waits += 1;
        if !self.release(t, m, Mode::Exclusive, time) {
            self.anomalies += 1;
        }
        if self.threads[t].status != ThreadStatus::Running {
            // A late event: the thread already waits for something newer, so
            // this wait (and its wake-up, held back with it) is over.
            return Some(());
        }
        self.threads[t].status = ThreadStatus::CondWait {
            condvar,
            mutex,
            since: time,
            site,
            timed,
        };
        self.locks[c].cond_waiters.push(ThreadId(t as u32));
        Some(())
    }

    /// Wakes the first `woken` waiters of the condvar, which then wait for their
    /// mutex. A notify is not sequenced with the waiters' events, so fewer
    /// known waiters than `woken` is not an anomaly.
    fn on_notify(&mut self, condvar: LockId, woken: u32, time: Nanos) -> Option<bool> {
        let c = self.condvar_slot(condvar)?;
        self.locks[c].stats.notifies += 1;
        let n = (woken as usize).min(self.locks[c].cond_waiters.len());
        let mut deadlock = false;
        for _ in 0..n {
            let w = self.locks[c].cond_waiters[0].index();
            let (mutex, site) = match self.threads[w].status {
                ThreadStatus::CondWait {
                    condvar: cv,
                    mutex,
                    site,
                    ..
                } if cv == condvar => (mutex, site),
                _ => {
                    // Out of sync with the status: drop the stray entry.
                    self.locks[c].cond_waiters.remove(0);
                    self.anomalies += 1;
                    continue;
                }
            };
            self.leave_wait(w, time);
            let id = self.threads[w].id;
            self.threads[w].status = ThreadStatus::Waiting {
                lock: mutex,
                mode: Mode::Exclusive,
                since: time,
                site,
                timed: false,
            };
            self.locks[mutex.index()].waiters.push_back(Waiter {
                thread: id,
                mode: Mode::Exclusive,
                since: time,
                site,
                timed: false,
            });
            deadlock |= self.check_from(w, time);
        }
        Some(deadlock)
    }

    fn on_cond_wake(
        &mut self,
        t: usize,
        condvar: LockId,
        mutex: LockId,
        time: Nanos,
    ) -> Option<Change> {
        self.condvar_slot(condvar)?;
        let m = self.lock_slot(mutex, None)?;
        let (waited, site) = match self.threads[t].status {
            // Notified, then waited for the mutex.
            ThreadStatus::Waiting {
                lock, since, site, ..
            } if lock == mutex => (Some(since), site),
            // Timed out, woke spuriously, or the notify is not applied yet.
            ThreadStatus::CondWait {
                condvar: c, site, ..
            } if c == condvar => (None, site),
            // A late event: the thread already waits for something else.
            ThreadStatus::Waiting { .. } | ThreadStatus::CondWait { .. } => {
                let potential = self.record_order(t, mutex, Mode::Exclusive, Site::UNKNOWN, time);
                let mut change = self.acquire(t, m, Mode::Exclusive, Site::UNKNOWN, time, None);
                change.potential |= potential;
                return Some(change);
            }
            _ => {
                self.anomalies += 1;
                (None, Site::UNKNOWN)
            }
        };
        self.leave_wait(t, time);
        let potential = self.record_order(t, mutex, Mode::Exclusive, site, time);
        let mut change = self.acquire(t, m, Mode::Exclusive, site, time, waited);
        change.potential |= potential;
        Some(change)
    }
}
