//! Deterministic synthetic event sequences for the screen tests.
//!
//! A [`Script`] writes events the way the probes would (per-lock sequence
//! numbers, a `Request` only when a lock is taken), at fixed times.

use crate::event::{Event, EventKind, LockId, LockKind, Mode, Nanos, Site, ThreadId};

/// One millisecond.
pub(crate) const MS: Nanos = 1_000_000;

/// Builds an event sequence at explicit times.
#[derive(Default)]
pub(crate) struct Script {
    events: Vec<Event>,
    seq: Vec<u64>,
    now: Nanos,
}

fn site(line: u32) -> Site {
    Site {
        file: "scenario.toml",
        line,
        column: 5,
    }
}

impl Script {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets the time of the following events.
    pub(crate) fn at(&mut self, time: Nanos) -> &mut Self {
        self.now = time;
        self
    }

    fn push(&mut self, thread: u32, kind: EventKind) -> &mut Self {
        self.events.push(Event {
            time: self.now,
            thread: ThreadId(thread),
            kind,
        });
        self
    }

    fn next_seq(&mut self, lock: u32) -> u64 {
        let i = lock as usize;
        if self.seq.len() <= i {
            self.seq.resize(i + 1, 1);
        }
        self.seq[i] += 1;
        self.seq[i] - 1
    }

    pub(crate) fn thread(&mut self, t: u32, name: &str) -> &mut Self {
        self.push(
            t,
            EventKind::ThreadStart {
                name: name.to_owned(),
            },
        )
    }

    pub(crate) fn lock(&mut self, l: u32, name: &str, kind: LockKind) -> &mut Self {
        self.push(
            0,
            EventKind::LockCreated {
                lock: LockId(l),
                name: name.to_owned(),
                kind,
                site: site(2 + l),
                first_seq: 1,
            },
        )
    }

    pub(crate) fn acquire(&mut self, t: u32, l: u32) -> &mut Self {
        self.acquire_mode(t, l, Mode::Exclusive)
    }

    pub(crate) fn acquire_mode(&mut self, t: u32, l: u32, mode: Mode) -> &mut Self {
        let seq = self.next_seq(l);
        self.push(
            t,
            EventKind::Acquired {
                lock: LockId(l),
                mode,
                site: site(20 + t),
                seq,
                tried: false,
            },
        )
    }

    pub(crate) fn request(&mut self, t: u32, l: u32) -> &mut Self {
        self.push(
            t,
            EventKind::Request {
                lock: LockId(l),
                mode: Mode::Exclusive,
                site: site(22 + t),
                timed: false,
                ticket: 0,
            },
        )
    }

    pub(crate) fn release(&mut self, t: u32, l: u32) -> &mut Self {
        self.release_mode(t, l, Mode::Exclusive)
    }

    pub(crate) fn release_mode(&mut self, t: u32, l: u32, mode: Mode) -> &mut Self {
        let seq = self.next_seq(l);
        self.push(
            t,
            EventKind::Released {
                lock: LockId(l),
                mode,
                seq,
            },
        )
    }

    pub(crate) fn cond_wait(&mut self, t: u32, cv: u32, m: u32) -> &mut Self {
        let seq = self.next_seq(m);
        self.push(
            t,
            EventKind::CondWait {
                condvar: LockId(cv),
                mutex: LockId(m),
                site: site(40 + t),
                seq,
                timed: false,
            },
        )
    }

    pub(crate) fn exit(&mut self, t: u32) -> &mut Self {
        self.push(t, EventKind::ThreadExit)
    }

    pub(crate) fn panic(&mut self, t: u32, message: &str) -> &mut Self {
        self.push(
            t,
            EventKind::ThreadPanic {
                message: message.to_owned(),
            },
        )
    }

    pub(crate) fn build(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

/// Five philosophers, five forks: the start of the table, shared by both scenes.
fn philosophers_table(s: &mut Script) {
    for f in 0..5 {
        s.lock(f, &format!("fork {f}"), LockKind::Mutex);
    }
    for p in 0..5 {
        s.thread(p, &format!("philosopher {p}"));
    }
}

/// Philosophers mid-run at 60 ms, no deadlock: some eat, some wait, one thinks.
///
/// Philosopher p takes fork p then fork (p+1) % 5, like the built-in scenario,
/// but at staggered times so the cycle never closes.
pub(crate) fn philosophers_running() -> Vec<Event> {
    let mut s = Script::new();
    philosophers_table(&mut s);
    // 0 and 2 eat; 1, 3 and 4 wait for them.
    s.at(2 * MS).acquire(0, 0);
    s.at(3 * MS).acquire(2, 2);
    s.at(4 * MS).acquire(0, 1);
    s.at(5 * MS).acquire(2, 3);
    s.at(7 * MS).request(1, 1); // fork 1 is philosopher 0's
    s.at(8 * MS).acquire(4, 4);
    s.at(9 * MS).request(3, 3); // fork 3 is philosopher 2's
    s.at(14 * MS).request(4, 0); // fork 0 is philosopher 0's
    s.at(20 * MS)
        .release(0, 1)
        .acquire(1, 1)
        .release(0, 0)
        .acquire(4, 0);
    s.at(22 * MS).release(2, 3).acquire(3, 3).release(2, 2);
    s.at(24 * MS).acquire(1, 2);
    s.at(30 * MS).release(4, 0).release(4, 4);
    s.at(31 * MS).acquire(3, 4);
    s.at(35 * MS).release(1, 2).release(1, 1);
    s.at(38 * MS).acquire(0, 0);
    s.at(40 * MS).acquire(2, 2);
    s.at(41 * MS).release(3, 4).release(3, 3);
    s.at(42 * MS).acquire(0, 1);
    s.at(44 * MS).acquire(2, 3);
    s.at(47 * MS).acquire(4, 4);
    s.at(50 * MS).request(1, 1); // waits for philosopher 0 again
    s.at(52 * MS).request(4, 0); // and 4 for fork 0
    s.build()
}

/// The five philosophers deadlocked: each holds its left fork and waits for
/// its right one; the cycle closes at 26 ms.
pub(crate) fn philosophers_deadlock() -> Vec<Event> {
    let mut s = Script::new();
    philosophers_table(&mut s);
    for p in 0..5u32 {
        let at = (2 + u64::from(p)) * MS;
        s.at(at).acquire(p, p);
    }
    for p in 0..5u32 {
        let at = (22 + u64::from(p)) * MS;
        s.at(at).request(p, (p + 1) % 5);
    }
    s.build()
}

/// `abba`: left holds A and waits for B, right holds B and waits for A.
pub(crate) fn abba() -> Vec<Event> {
    let mut s = Script::new();
    s.lock(0, "A", LockKind::Mutex)
        .lock(1, "B", LockKind::Mutex);
    s.thread(0, "left").thread(1, "right");
    s.at(MS).acquire(0, 0);
    s.at(MS + MS / 2).acquire(1, 1);
    s.at(11 * MS).request(0, 1);
    s.at(11 * MS + MS / 3).request(1, 0);
    s.build()
}

/// `three-cycle`: first holds A and waits for B, second holds B and waits
/// for C, third holds C and waits for A; the cycle closes at 22 ms.
pub(crate) fn three_cycle() -> Vec<Event> {
    let mut s = Script::new();
    for (i, (lock, thread)) in [("A", "first"), ("B", "second"), ("C", "third")]
        .into_iter()
        .enumerate()
    {
        let i = i as u32;
        s.lock(i, lock, LockKind::Mutex).thread(i, thread);
    }
    for i in 0..3u32 {
        s.at(MS * (1 + u64::from(i))).acquire(i, i);
    }
    for i in 0..3u32 {
        s.at(MS * (20 + u64::from(i))).request(i, (i + 1) % 3);
    }
    s.build()
}

/// `convoy`, finished: four threads queue on one lock, each holding it
/// 3 ms, then all exit by 16 ms.
pub(crate) fn convoy_finished() -> Vec<Event> {
    let mut s = Script::new();
    s.lock(0, "log", LockKind::Mutex);
    for t in 0..4u32 {
        s.thread(t, &format!("writer {t}"));
    }
    s.at(MS).acquire(0, 0);
    for t in 1..4u32 {
        s.at(MS + u64::from(t) * MS / 10).request(t, 0);
    }
    for t in 0..4u32 {
        let end = MS + 3 * MS * (u64::from(t) + 1);
        s.at(end).release(t, 0);
        if t < 3 {
            s.acquire(t + 1, 0);
        }
        s.exit(t);
    }
    s.build()
}
