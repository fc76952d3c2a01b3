//! Scenario tests: literal event sequences, no threads.
//!
//! Sites encode who did what: thread `t` acquires lock `l` at line
//! `100 + 10 t + l` and requests it at line `200 + 10 t + l`.

#![allow(clippy::unwrap_used)]

mod barrier;
mod channel;
mod deadlock;
mod join;
mod potential;
mod report;
mod robust;
mod stall;
mod stats;

use crate::event::{Event, EventKind, LockId, LockKind, Mode, Nanos, Site, ThreadId};

use super::{Change, Model, ThreadStatus};

pub(super) fn site(line: u32) -> Site {
    Site {
        file: "test.rs",
        line,
        column: 1,
    }
}

pub(super) fn acq_site(t: u32, l: u32) -> Site {
    site(100u32.wrapping_add(t.wrapping_mul(10)).wrapping_add(l))
}

pub(super) fn req_site(t: u32, l: u32) -> Site {
    site(200u32.wrapping_add(t.wrapping_mul(10)).wrapping_add(l))
}

/// Applies events as they are written; each event is 10ns after the previous
/// one unless [`Script::at`] sets the time.
pub(super) struct Script {
    pub m: Model,
    now: Nanos,
}

impl Script {
    pub fn new() -> Self {
        Script {
            m: Model::new(),
            now: 0,
        }
    }

    /// The next event happens at `time`.
    pub fn at(&mut self, time: Nanos) -> &mut Self {
        self.now = time;
        self
    }

    pub fn ev(&mut self, thread: u32, kind: EventKind) -> Change {
        let ev = Event {
            time: self.now,
            thread: ThreadId(thread),
            kind,
        };
        self.now += 10;
        self.m.apply(&ev)
    }

    pub fn thread(&mut self, t: u32, name: &str) -> Change {
        self.ev(t, EventKind::ThreadStart { name: name.into() })
    }

    pub fn create(&mut self, l: u32, name: &str, kind: LockKind) -> Change {
        let kind = EventKind::LockCreated {
            lock: LockId(l),
            name: name.into(),
            kind,
            site: site(l),
            first_seq: 0,
        };
        self.ev(0, kind)
    }

    pub fn mutex(&mut self, l: u32, name: &str) -> Change {
        self.create(l, name, LockKind::Mutex)
    }

    pub fn rwlock(&mut self, l: u32, name: &str) -> Change {
        self.create(l, name, LockKind::RwLock)
    }

    pub fn condvar(&mut self, l: u32, name: &str) -> Change {
        self.create(l, name, LockKind::Condvar)
    }

    fn acquired(&mut self, t: u32, l: u32, mode: Mode) -> Change {
        let kind = EventKind::Acquired {
            lock: LockId(l),
            mode,
            site: acq_site(t, l),
            seq: 0,
            tried: false,
        };
        self.ev(t, kind)
    }

    /// Exclusive acquisition (`lock()` / `write()`).
    pub fn acq(&mut self, t: u32, l: u32) -> Change {
        self.acquired(t, l, Mode::Exclusive)
    }

    /// Shared acquisition (`read()`).
    pub fn read(&mut self, t: u32, l: u32) -> Change {
        self.acquired(t, l, Mode::Shared)
    }

    fn request(&mut self, t: u32, l: u32, mode: Mode, timed: bool) -> Change {
        let kind = EventKind::Request {
            lock: LockId(l),
            mode,
            site: req_site(t, l),
            timed,
            ticket: 0,
        };
        self.ev(t, kind)
    }

    pub fn req(&mut self, t: u32, l: u32) -> Change {
        self.request(t, l, Mode::Exclusive, false)
    }

    pub fn req_read(&mut self, t: u32, l: u32) -> Change {
        self.request(t, l, Mode::Shared, false)
    }

    pub fn req_timed(&mut self, t: u32, l: u32) -> Change {
        self.request(t, l, Mode::Exclusive, true)
    }

    fn released(&mut self, t: u32, l: u32, mode: Mode) -> Change {
        let kind = EventKind::Released {
            lock: LockId(l),
            mode,
            seq: 0,
        };
        self.ev(t, kind)
    }

    pub fn rel(&mut self, t: u32, l: u32) -> Change {
        self.released(t, l, Mode::Exclusive)
    }

    pub fn rel_read(&mut self, t: u32, l: u32) -> Change {
        self.released(t, l, Mode::Shared)
    }

    pub fn try_failed(&mut self, t: u32, l: u32) -> Change {
        let kind = EventKind::TryFailed {
            lock: LockId(l),
            mode: Mode::Exclusive,
            site: req_site(t, l),
        };
        self.ev(t, kind)
    }

    pub fn timeout(&mut self, t: u32, l: u32) -> Change {
        let kind = EventKind::TimedOut {
            lock: LockId(l),
            mode: Mode::Exclusive,
        };
        self.ev(t, kind)
    }

    pub fn wait(&mut self, t: u32, cv: u32, m: u32) -> Change {
        let kind = EventKind::CondWait {
            condvar: LockId(cv),
            mutex: LockId(m),
            site: req_site(t, cv),
            seq: 0,
            timed: false,
        };
        self.ev(t, kind)
    }

    pub fn notify(&mut self, t: u32, cv: u32, woken: u32) -> Change {
        let kind = EventKind::Notify {
            condvar: LockId(cv),
            all: woken > 1,
            woken,
            site: req_site(t, cv),
        };
        self.ev(t, kind)
    }

    pub fn wake(&mut self, t: u32, cv: u32, m: u32) -> Change {
        let kind = EventKind::CondWake {
            condvar: LockId(cv),
            mutex: LockId(m),
            seq: 0,
            timed_out: false,
        };
        self.ev(t, kind)
    }

    /// Thread `t` joins thread `target` (at line `300 + 10 t + target`).
    pub fn join(&mut self, t: u32, target: u32) -> Change {
        let kind = EventKind::Block {
            on: crate::event::Blocker::Join(ThreadId(target)),
            site: site(300 + 10 * t + target),
            timed: false,
            seq: 0,
        };
        self.ev(t, kind)
    }

    /// Thread `t`'s join of `target` returned.
    pub fn joined(&mut self, t: u32, target: u32) -> Change {
        let on = crate::event::Blocker::Join(ThreadId(target));
        self.ev(t, EventKind::Unblock { on, seq: 0 })
    }

    pub fn exit(&mut self, t: u32) -> Change {
        self.ev(t, EventKind::ThreadExit)
    }

    pub fn panic(&mut self, t: u32, message: &str) -> Change {
        let message = message.into();
        self.ev(t, EventKind::ThreadPanic { message })
    }

    pub fn status(&self, t: u32) -> &ThreadStatus {
        &self.m.threads()[t as usize].status
    }
}

/// Checks the model's internal consistency: queues agree with statuses, and
/// the locks' holders agree with the threads' held lists.
pub(super) fn check_invariants(m: &Model) {
    for l in m.locks() {
        for w in &l.waiters {
            assert!(
                matches!(m.threads()[w.thread.index()].status,
                    ThreadStatus::Waiting { lock, .. } if lock == l.id),
                "waiter {w:?} of {:?} is not waiting for it",
                l.id
            );
        }
        for &t in &l.cond_waiters {
            assert!(
                matches!(m.threads()[t.index()].status,
                    ThreadStatus::CondWait { condvar, .. } if condvar == l.id),
                "cond waiter {t:?} of {:?} is not waiting on it",
                l.id
            );
        }
    }
    let mut from_locks = Vec::new();
    let mut from_threads = Vec::new();
    for t in m.threads() {
        match t.status {
            ThreadStatus::Waiting { lock, .. } => {
                let n = m.locks()[lock.index()]
                    .waiters
                    .iter()
                    .filter(|w| w.thread == t.id)
                    .count();
                assert_eq!(
                    n, 1,
                    "{:?} waits for {lock:?} but is queued {n} times",
                    t.id
                );
            }
            ThreadStatus::CondWait { condvar, .. } => {
                let n = m.locks()[condvar.index()]
                    .cond_waiters
                    .iter()
                    .filter(|&&w| w == t.id)
                    .count();
                assert_eq!(n, 1);
            }
            _ => {}
        }
        from_threads.extend(t.held.iter().map(|h| (t.id, h.lock, h.mode as u8, h.since)));
    }
    for l in m.locks() {
        from_locks.extend(
            l.holders
                .iter()
                .map(|h| (h.thread, l.id, h.mode as u8, h.since)),
        );
    }
    from_locks.sort_unstable();
    from_threads.sort_unstable();
    assert_eq!(from_locks, from_threads);
}
