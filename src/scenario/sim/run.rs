//! Executing steps: acquisitions, releases and hand-offs, condvar queues, the
//! register and variables, and the events each step implies.

use crate::event::{Event, EventKind, Mode, Nanos};

use super::code::Instr;
use super::{Guard, Moved, Sim, SimError, SimOp, Status, lock_id, thread_id};

/// Where a step's events go, if anywhere.
pub(super) struct Events<'a> {
    out: Option<&'a mut Vec<Event>>,
    time: Nanos,
}

impl<'a> Events<'a> {
    pub fn none() -> Self {
        Events { out: None, time: 0 }
    }

    pub fn into(out: &'a mut Vec<Event>, time: Nanos) -> Self {
        Events {
            out: Some(out),
            time,
        }
    }

    fn push(&mut self, t: usize, kind: impl FnOnce() -> EventKind) {
        if let Some(out) = self.out.as_deref_mut() {
            out.push(Event {
                time: self.time,
                thread: thread_id(t),
                kind: kind(),
            });
        }
    }
}

impl Sim {
    /// The operation thread `t` performs next, whether or not it can.
    pub(super) fn pending_op(&self, t: usize) -> Option<SimOp> {
        let th = self.threads.get(t)?;
        if th.status == Status::Done {
            return None;
        }
        match self.prog.threads[t].code.get(th.pc as usize) {
            Some(&Instr::Op { op, .. }) => match (op, th.status) {
                (SimOp::Wait { condvar, mutex }, Status::Ready) => {
                    Some(SimOp::Wait { condvar, mutex })
                }
                (SimOp::Wait { condvar, mutex }, _) => Some(SimOp::Reacquire { condvar, mutex }),
                (op, _) => Some(op),
            },
            // Past the last step: the guards still held are dropped in order.
            _ => th.guards.first().map(|g| SimOp::Unlock(g.lock as usize)),
        }
    }

    /// Whether `t`'s pending operation can complete now (ignoring its status).
    pub(super) fn can_complete(&self, t: usize) -> bool {
        match self.pending_op(t) {
            None => false,
            Some(SimOp::Send(c)) => self.can_send(t, c),
            Some(SimOp::Recv(c)) => self.can_recv(c),
            Some(SimOp::Join(u)) => self
                .threads
                .get(u)
                .is_some_and(|th| th.status == Status::Done),
            Some(op) => match op.acquires() {
                Some((lock, mode)) => self.grantable(lock, mode),
                None => true,
            },
        }
    }

    /// Whether any of `threads` is still running (and so holds its ends).
    pub(super) fn any_live(&self, threads: &[usize]) -> bool {
        threads.iter().any(|&u| {
            self.threads
                .get(u)
                .is_some_and(|th| th.status != Status::Done)
        })
    }

    /// A send by `t` on channel `c` completes: there is room, or no thread
    /// that receives is left (the message is dropped). A rendezvous channel
    /// has room when it is empty and another thread is at a `recv` of it.
    fn can_send(&self, t: usize, c: usize) -> bool {
        if !self.any_live(&self.prog.receivers[c]) {
            return true;
        }
        let queued = self.chans.get(c).map_or(0, Vec::len);
        match self.prog.scenario.locks.get(c).and_then(|l| l.capacity) {
            None => true,
            Some(0) => {
                queued == 0
                    && (0..self.threads.len()).any(|u| {
                        u != t
                            && matches!(self.threads[u].status, Status::Ready | Status::InWait)
                            && self.pending_op(u) == Some(SimOp::Recv(c))
                    })
            }
            Some(cap) => queued < cap,
        }
    }

    /// A receive on channel `c` completes: a message is there, or no thread
    /// that sends is left (disconnected: the register stays as it was).
    fn can_recv(&self, c: usize) -> bool {
        self.chans.get(c).is_some_and(|q| !q.is_empty()) || !self.any_live(&self.prog.senders[c])
    }

    /// Whether a new request for `lock` in `mode` is granted now.
    pub(super) fn grantable(&self, lock: usize, mode: Mode) -> bool {
        let Some(l) = self.locks.get(lock) else {
            return false;
        };
        // Queued requests go first; for a read, a queued writer blocks it.
        l.queued == 0 && l.excl.is_none() && (mode == Mode::Shared || l.shared == 0)
    }

    pub(super) fn step_with(&mut self, t: usize, ev: &mut Events<'_>) -> Result<Moved, SimError> {
        let th = self.threads.get(t).ok_or(SimError::NoSuchThread(t))?;
        match th.status {
            Status::Done => return Err(SimError::Finished(t)),
            Status::Waiting { .. } => {
                let condvar = match self.pending_op(t) {
                    Some(SimOp::Reacquire { condvar, .. }) => condvar,
                    _ => usize::MAX,
                };
                return Err(SimError::CondWaiting { thread: t, condvar });
            }
            Status::Queued { .. } => {
                let lock = self
                    .pending_op(t)
                    .and_then(SimOp::acquires)
                    .map_or(usize::MAX, |(l, _)| l);
                return Err(SimError::Blocked { thread: t, lock });
            }
            Status::InWait if !self.can_complete(t) => return Err(self.waits_error(t)),
            Status::InWait => self.threads[t].status = Status::Ready,
            Status::Ready | Status::Notified => {}
        }
        let Some(op) = self.pending_op(t) else {
            return Err(SimError::Finished(t));
        };
        let site = self.pending_site(t);
        if let Some((lock, mode)) = op.acquires() {
            if !self.grantable(lock, mode) {
                let rank = self.locks[lock].queued;
                self.locks[lock].queued += 1;
                self.threads[t].status = Status::Queued { rank };
                // A notified waiter is already waiting for its mutex: no new request.
                if !matches!(op, SimOp::Reacquire { .. }) {
                    ev.push(t, || EventKind::Request {
                        lock: lock_id(lock),
                        mode,
                        site,
                        timed: false,
                        ticket: u64::from(rank),
                    });
                }
                return Ok(Moved::Blocked);
            }
            self.grant(t, op, ev);
            return Ok(Moved::Completed);
        }
        match op {
            SimOp::Unlock(lock) => {
                self.release(t, lock, ev, None);
                self.handoff(lock, ev);
                if (self.threads[t].pc as usize) < self.prog.threads[t].code.len() {
                    self.threads[t].pc += 1;
                }
            }
            SimOp::Wait { condvar, mutex } => {
                let rank = self.locks.get(condvar).map_or(0, |c| c.queued);
                if let Some(c) = self.locks.get_mut(condvar) {
                    c.queued += 1;
                }
                self.release(t, mutex, ev, Some((condvar, site)));
                self.threads[t].status = Status::Waiting { rank };
                self.handoff(mutex, ev);
                return Ok(Moved::Completed);
            }
            SimOp::Notify(condvar) | SimOp::NotifyAll(condvar) => {
                let all = matches!(op, SimOp::NotifyAll(_));
                let woken = self.notify(condvar, all);
                ev.push(t, || EventKind::Notify {
                    condvar: lock_id(condvar),
                    all,
                    woken,
                    site,
                });
                self.threads[t].pc += 1;
            }
            SimOp::Load(var) => {
                self.threads[t].reg = self.vars.get(var).copied().unwrap_or_default();
                self.threads[t].over = self.overflowed(var);
                self.threads[t].pc += 1;
            }
            SimOp::Store(var) => {
                let (reg, over) = (self.threads[t].reg, self.threads[t].over);
                if let Some(v) = self.vars.get_mut(var) {
                    *v = reg;
                }
                if let Some(o) = self.var_over.get_mut(var) {
                    *o = over;
                }
                self.threads[t].pc += 1;
            }
            SimOp::Send(c) => {
                if !self.can_send(t, c) {
                    return Ok(self.enter_wait(t));
                }
                if self.any_live(&self.prog.receivers[c]) {
                    let message = (self.threads[t].reg, self.threads[t].over);
                    if let Some(q) = self.chans.get_mut(c) {
                        q.push(message);
                    }
                }
                self.threads[t].pc += 1;
            }
            SimOp::Recv(c) => {
                if !self.can_recv(c) {
                    return Ok(self.enter_wait(t));
                }
                if let Some(q) = self.chans.get_mut(c)
                    && !q.is_empty()
                {
                    (self.threads[t].reg, self.threads[t].over) = q.remove(0);
                }
                self.threads[t].pc += 1;
            }
            SimOp::Join(_) => {
                if !self.can_complete(t) {
                    return Ok(self.enter_wait(t));
                }
                self.threads[t].pc += 1;
            }
            SimOp::Lock(_) | SimOp::Read(_) | SimOp::Write(_) | SimOp::Reacquire { .. } => {}
        }
        self.settle(t, ev);
        Ok(Moved::Completed)
    }

    /// `t` enters its send, receive or join, which cannot complete yet.
    fn enter_wait(&mut self, t: usize) -> Moved {
        self.threads[t].status = Status::InWait;
        Moved::Blocked
    }

    /// The error for moving `t`, which waits in a send, receive or join.
    fn waits_error(&self, t: usize) -> SimError {
        SimError::Waits {
            thread: t,
            what: self.wait_text(t).unwrap_or_default(),
        }
    }

    /// The site of `t`'s pending operation.
    pub(super) fn pending_site(&self, t: usize) -> crate::event::Site {
        let code = &self.prog.threads[t];
        match self
            .threads
            .get(t)
            .and_then(|th| code.code.get(th.pc as usize))
        {
            Some(Instr::Op { step, .. }) => code.steps[*step as usize].site,
            _ => code.site,
        }
    }

    /// `t` completes `op`, its pending acquisition, and moves past it.
    fn grant(&mut self, t: usize, op: SimOp, ev: &mut Events<'_>) {
        let Some((lock, mode)) = op.acquires() else {
            return;
        };
        let site = self.pending_site(t);
        let l = &mut self.locks[lock];
        match mode {
            Mode::Exclusive => l.excl = u32::try_from(t).ok(),
            Mode::Shared | Mode::Upgradable => l.shared += 1,
        }
        let seq = self.next_seq(lock);
        let th = &mut self.threads[t];
        th.status = Status::Ready;
        let lock32 = u32::try_from(lock).unwrap_or(u32::MAX);
        match th.guards.last_mut() {
            Some(g) if g.lock == lock32 && g.mode == mode => g.count += 1,
            _ => th.guards.push(Guard {
                lock: lock32,
                mode,
                count: 1,
            }),
        }
        th.pc += 1;
        if let SimOp::Reacquire { condvar, .. } = op {
            ev.push(t, || EventKind::CondWake {
                condvar: lock_id(condvar),
                mutex: lock_id(lock),
                seq,
                timed_out: false,
            });
        } else {
            ev.push(t, || EventKind::Acquired {
                lock: lock_id(lock),
                mode,
                site,
                seq,
                tried: false,
            });
        }
        self.settle(t, ev);
    }

    /// `t` lets go of its most recent hold of `lock`; `wait` is the condvar (and
    /// site) when the release is a condvar wait's.
    fn release(
        &mut self,
        t: usize,
        lock: usize,
        ev: &mut Events<'_>,
        wait: Option<(usize, crate::event::Site)>,
    ) {
        let lock32 = u32::try_from(lock).unwrap_or(u32::MAX);
        let guards = &mut self.threads[t].guards;
        let Some(i) = guards.iter().rposition(|g| g.lock == lock32) else {
            return;
        };
        let mode = guards[i].mode;
        guards[i].count -= 1;
        if guards[i].count == 0 {
            guards.remove(i);
        }
        let l = &mut self.locks[lock];
        match mode {
            Mode::Exclusive => l.excl = None,
            Mode::Shared | Mode::Upgradable => l.shared = l.shared.saturating_sub(1),
        }
        let seq = self.next_seq(lock);
        match wait {
            Some((condvar, site)) => ev.push(t, || EventKind::CondWait {
                condvar: lock_id(condvar),
                mutex: lock_id(lock),
                site,
                seq,
                timed: false,
            }),
            None => ev.push(t, || EventKind::Released {
                lock: lock_id(lock),
                mode,
                seq,
            }),
        }
    }

    /// Grants `lock` to the head of its queue for as long as the head can have it.
    fn handoff(&mut self, lock: usize, ev: &mut Events<'_>) {
        loop {
            let Some(head) = self.queued_at(lock, 0) else {
                return;
            };
            let Some(op) = self.pending_op(head) else {
                return;
            };
            let mode = op.acquires().map_or(Mode::Exclusive, |(_, m)| m);
            let l = &self.locks[lock];
            if l.excl.is_some() || (mode == Mode::Exclusive && l.shared > 0) {
                return;
            }
            self.dequeue(lock, head);
            self.grant(head, op, ev);
        }
    }

    /// The thread queued on `lock` with this rank.
    pub(super) fn queued_at(&self, lock: usize, rank: u32) -> Option<usize> {
        (0..self.threads.len()).find(|&t| {
            self.threads[t].status == Status::Queued { rank }
                && self.pending_op(t).and_then(SimOp::acquires).map(|(l, _)| l) == Some(lock)
        })
    }

    fn dequeue(&mut self, lock: usize, head: usize) {
        for t in 0..self.threads.len() {
            if let Status::Queued { rank } = self.threads[t].status
                && rank > 0
                && self.pending_op(t).and_then(SimOp::acquires).map(|(l, _)| l) == Some(lock)
            {
                self.threads[t].status = Status::Queued { rank: rank - 1 };
            }
        }
        self.threads[head].status = Status::Ready;
        self.locks[lock].queued = self.locks[lock].queued.saturating_sub(1);
    }

    /// Wakes the longest waiter of `condvar`, or all of them; returns how many.
    fn notify(&mut self, condvar: usize, all: bool) -> u32 {
        let mut woken = 0;
        for t in 0..self.threads.len() {
            let Status::Waiting { rank } = self.threads[t].status else {
                continue;
            };
            if !matches!(self.pending_op(t), Some(SimOp::Reacquire { condvar: c, .. }) if c == condvar)
            {
                continue;
            }
            if all || rank == 0 {
                self.threads[t].status = Status::Notified;
                woken += 1;
            } else {
                self.threads[t].status = Status::Waiting { rank: rank - 1 };
            }
        }
        if let Some(c) = self.locks.get_mut(condvar) {
            c.queued -= woken.min(c.queued);
        }
        woken
    }

    fn next_seq(&mut self, lock: usize) -> u64 {
        let seq = self.seqs[lock];
        self.seqs[lock] += 1;
        seq
    }

    /// Runs `t`'s invisible instructions up to its next visible operation, and
    /// finishes it when nothing is left to do.
    pub(super) fn settle(&mut self, t: usize, ev: &mut Events<'_>) {
        let code = &self.prog.threads[t].code;
        let th = &mut self.threads[t];
        if th.status != Status::Ready {
            return;
        }
        // Every loop body holds a visible operation, so this ends within one pass
        // over the code.
        while let Some(instr) = code.get(th.pc as usize) {
            match *instr {
                Instr::Op { .. } => return,
                Instr::Add(n) => match th.reg.checked_add(n) {
                    Some(sum) => th.reg = sum,
                    None => {
                        th.reg = th.reg.wrapping_add(n);
                        th.over = true;
                    }
                },
                Instr::Overflow => th.over = true,
                Instr::Repeat { times, .. } => th.loops.push(times),
                Instr::End { start } => match th.loops.last_mut() {
                    Some(left) if *left > 1 => {
                        *left -= 1;
                        th.pc = start + 1;
                        continue;
                    }
                    _ => {
                        th.loops.pop();
                    }
                },
            }
            th.pc += 1;
        }
        if th.guards.is_empty() {
            th.status = Status::Done;
            ev.push(t, || EventKind::ThreadExit);
        }
    }
}
