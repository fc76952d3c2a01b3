//! A compact byte encoding of a state. The explorer keeps its frontier in this
//! form, and [`Sim::key`] fingerprints it.
//!
//! Two states that behave the same from here on encode the same: a finished
//! thread is just "done", and a register whose value will be overwritten by a
//! `load` before any `store` reads it is encoded as 0. Lock tables and event
//! sequence numbers are derived or bookkeeping, so they are not encoded.

use crate::event::Mode;

use super::{Guard, LockState, Sim, SimOp, Small, StateKey, Status, Thread, fingerprint};

impl Sim {
    /// Appends the state's encoding to `out`.
    pub(in crate::scenario) fn encode(&self, out: &mut Vec<u8>) {
        for t in 0..self.threads.len() {
            self.encode_thread(t, out);
        }
        self.encode_shared(out);
    }

    /// The variables (each with its overflow flag), then the channels'
    /// messages (the same).
    fn encode_shared(&self, out: &mut Vec<u8>) {
        for (&v, &over) in self.vars.iter().zip(&self.var_over) {
            put(out, zigzag(v));
            put(out, u64::from(over));
        }
        for q in &self.chans {
            put(out, q.len() as u64);
            for &(m, over) in q {
                put(out, zigzag(m));
                put(out, u64::from(over));
            }
        }
    }

    /// The key of the state up to swapping threads that run the same program
    /// (copies made with `count = N`): their records are sorted before hashing,
    /// so states that differ only by which copy is where get the same key. Wait
    /// queue ranks and held locks name no thread, so a record stands alone.
    /// `buf` and `records` are scratch space.
    pub(in crate::scenario) fn symmetric_key(
        &self,
        buf: &mut Vec<u8>,
        records: &mut Vec<(usize, usize, usize)>,
    ) -> StateKey {
        buf.clear();
        if !self.prog.symmetric {
            self.encode(buf);
            return fingerprint(buf);
        }
        records.clear();
        for t in 0..self.threads.len() {
            let start = buf.len();
            self.encode_thread(t, buf);
            records.push((self.prog.group[t], start, buf.len()));
        }
        let bytes = &buf[..];
        records.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| bytes[a.1..a.2].cmp(&bytes[b.1..b.2]))
        });
        let end = buf.len();
        for &(_, start, stop) in records.iter() {
            buf.extend_from_within(start..stop);
        }
        self.encode_shared(buf);
        fingerprint(&buf[end..])
    }

    fn encode_thread(&self, t: usize, out: &mut Vec<u8>) {
        let th = &self.threads[t];
        let (tag, rank) = match th.status {
            Status::Ready => (0, 0),
            Status::Waiting { rank } => (1, rank),
            Status::Notified => (2, 0),
            Status::Queued { rank } => (3, rank),
            Status::InWait => (5, 0),
            Status::Done => {
                put(out, 4);
                return;
            }
        };
        put(out, tag);
        put(out, u64::from(rank));
        put(out, u64::from(th.pc));
        let live = self.prog.threads[t].reg_live(th.pc);
        put(out, if live { zigzag(th.reg) } else { 0 });
        put(out, u64::from(live && th.over));
        put(out, th.loops.len() as u64);
        for &left in &th.loops {
            put(out, u64::from(left));
        }
        put(out, th.guards.len() as u64);
        for g in &th.guards {
            put(out, u64::from(g.lock));
            put(out, u64::from(g.mode == Mode::Exclusive));
            put(out, u64::from(g.count));
        }
    }

    /// The state `bytes` encodes, in the same scenario as `self`; `None` if
    /// the bytes are not such an encoding.
    pub(in crate::scenario) fn decode(&self, bytes: &[u8]) -> Option<Sim> {
        let mut r = Reader { bytes, at: 0 };
        let mut threads = Vec::with_capacity(self.threads.len());
        for code in &self.prog.threads {
            let tag = r.get()?;
            if tag == 4 {
                threads.push(Thread {
                    pc: u32::try_from(code.code.len()).ok()?,
                    status: Status::Done,
                    reg: 0,
                    over: false,
                    loops: Small::new(),
                    guards: Small::new(),
                });
                continue;
            }
            let rank = u32::try_from(r.get()?).ok()?;
            let status = match tag {
                0 => Status::Ready,
                1 => Status::Waiting { rank },
                2 => Status::Notified,
                3 => Status::Queued { rank },
                5 => Status::InWait,
                _ => return None,
            };
            let pc = u32::try_from(r.get()?).ok()?;
            let reg = unzigzag(r.get()?);
            let over = r.get()? == 1;
            let loops = (0..r.len()?)
                .map(|_| r.get().and_then(|x| u32::try_from(x).ok()))
                .collect::<Option<Small<u32, 3>>>()?;
            let guards = (0..r.len()?)
                .map(|_| {
                    let lock = u32::try_from(r.get()?).ok()?;
                    let mode = if r.get()? == 1 {
                        Mode::Exclusive
                    } else {
                        Mode::Shared
                    };
                    let count = u32::try_from(r.get()?).ok()?;
                    Some(Guard { lock, mode, count })
                })
                .collect::<Option<Small<Guard, 3>>>()?;
            threads.push(Thread {
                pc,
                status,
                reg,
                over,
                loops,
                guards,
            });
        }
        let (vars, var_over): (Vec<i64>, Vec<bool>) = (0..self.vars.len())
            .map(|_| r.flagged())
            .collect::<Option<Vec<(i64, bool)>>>()?
            .into_iter()
            .unzip();
        let chans = (0..self.chans.len())
            .map(|_| {
                (0..r.len()?)
                    .map(|_| r.flagged())
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<Vec<(i64, bool)>>>>()?;
        if r.at != bytes.len() {
            return None;
        }
        let mut sim = Sim {
            prog: self.prog.clone(),
            threads,
            locks: vec![LockState::default(); self.locks.len()],
            vars,
            var_over,
            chans,
            seqs: vec![0; self.seqs.len()],
        };
        sim.rebuild_locks()?;
        Some(sim)
    }

    /// Recomputes the lock table from the threads' holds and queues.
    fn rebuild_locks(&mut self) -> Option<()> {
        for (t, th) in self.threads.iter().enumerate() {
            for g in &th.guards {
                let l = self.locks.get_mut(g.lock as usize)?;
                match g.mode {
                    Mode::Exclusive => l.excl = u32::try_from(t).ok(),
                    // Scenario files have no upgradable reads.
                    Mode::Shared | Mode::Upgradable => l.shared += g.count,
                }
            }
        }
        for t in 0..self.threads.len() {
            let queue = match (self.threads[t].status, self.pending_op(t)) {
                (Status::Queued { .. }, Some(op)) => op.acquires().map(|(l, _)| l),
                (Status::Waiting { .. }, Some(SimOp::Reacquire { condvar, .. })) => Some(condvar),
                _ => None,
            };
            if let Some(l) = queue {
                self.locks.get_mut(l)?.queued += 1;
            }
        }
        Some(())
    }
}

fn put(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn get(&mut self) -> Option<u64> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            x |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(x);
            }
        }
        None
    }

    /// A value and its overflow flag.
    fn flagged(&mut self) -> Option<(i64, bool)> {
        Some((unzigzag(self.get()?), self.get()? == 1))
    }

    /// A length, bounded by the bytes left (each element takes at least one).
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.get()?).ok()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }
}
