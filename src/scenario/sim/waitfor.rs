//! Who waits for whom, and wait-for cycles (the same semantics as the model's:
//! a request waits for every holder in a conflicting mode, and a read also waits
//! for the writers queued ahead of it; condvar waits wait for no one).

use crate::event::Mode;

use super::{Sim, SimOp, Status};

impl Sim {
    /// Whether some thread asks for a lock it cannot have now (or is queued).
    pub(super) fn any_blocked(&self) -> bool {
        (0..self.threads.len()).any(|t| match self.threads[t].status {
            Status::Queued { .. } => true,
            Status::Ready | Status::Notified | Status::InWait => match self.pending_op(t) {
                Some(SimOp::Send(_) | SimOp::Recv(_) | SimOp::Join(_)) => !self.can_complete(t),
                op => op
                    .and_then(SimOp::acquires)
                    .is_some_and(|(l, m)| !self.grantable(l, m)),
            },
            Status::Waiting { .. } | Status::Done => false,
        })
    }

    /// For a thread at a send, receive or join: the operation and the
    /// threads it waits for in the wait-for graph (whether or not it can
    /// complete now). The same rule as the live model's: a join waits for
    /// the joined thread; a channel operation waits for the one live thread
    /// other than itself that owns the other end, and for no one when
    /// several do or when it owns the other end too (any of them could end
    /// the wait, which a cycle cannot prove it never does).
    pub(super) fn waits_on(&self, t: usize) -> Option<(SimOp, Vec<usize>)> {
        let op = self.pending_op(t)?;
        let other = match op {
            SimOp::Join(u) => return Some((op, vec![u])),
            SimOp::Send(c) => &self.prog.receivers[c],
            SimOp::Recv(c) => &self.prog.senders[c],
            _ => return None,
        };
        let live: Vec<usize> = other
            .iter()
            .copied()
            .filter(|&u| self.threads[u].status != Status::Done)
            .collect();
        let waits = match live.as_slice() {
            [u] if *u != t => vec![*u],
            _ => Vec::new(),
        };
        Some((op, waits))
    }

    /// For a thread whose pending acquisition cannot complete now (or that is
    /// queued), the lock and the threads in its way.
    /// The lock (or channel; `usize::MAX` for a join) `t` waits for, and the
    /// threads it waits for; `None` if it does not wait.
    pub(super) fn waits_for(&self, t: usize) -> Option<(usize, Vec<usize>)> {
        let th = self.threads.get(t)?;
        if let Some((op, threads)) = self.waits_on(t) {
            if self.can_complete(t) || threads.is_empty() {
                return None;
            }
            let lock = match op {
                SimOp::Send(c) | SimOp::Recv(c) => c,
                _ => usize::MAX,
            };
            return Some((lock, threads));
        }
        let (lock, mode) = match th.status {
            Status::Ready | Status::Notified | Status::Queued { .. } | Status::InWait => {
                self.pending_op(t).and_then(SimOp::acquires)?
            }
            Status::Waiting { .. } | Status::Done => return None,
        };
        let my_rank = match th.status {
            Status::Queued { rank } => Some(rank),
            _ if self.grantable(lock, mode) => return None,
            _ => None,
        };
        let lock32 = u32::try_from(lock).ok()?;
        let who = (0..self.threads.len())
            .filter(|&u| {
                let other = &self.threads[u];
                let holds = other
                    .guards
                    .iter()
                    .any(|g| g.lock == lock32 && g.mode.conflicts_with(mode));
                let queued_writer_ahead = match other.status {
                    Status::Queued { rank } if u != t && mode == Mode::Shared => {
                        my_rank.is_none_or(|mine| rank < mine)
                            && self.pending_op(u).and_then(SimOp::acquires)
                                == Some((lock, Mode::Exclusive))
                    }
                    _ => false,
                };
                holds || queued_writer_ahead
            })
            .collect();
        Some((lock, who))
    }
}

/// A wait-for cycle, rotated to start at its smallest thread; found by a
/// depth-first search visiting threads and their successors in index order, so
/// the same state always gives the same cycle.
pub(super) fn cycle(sim: &Sim) -> Option<Vec<(usize, usize)>> {
    if !sim.any_blocked() {
        return None;
    }
    let n = sim.threads.len();
    let edges: Vec<Option<(usize, Vec<usize>)>> = (0..n).map(|t| sim.waits_for(t)).collect();
    if edges.iter().all(Option::is_none) {
        return None;
    }
    const WHITE: u8 = 0;
    const GRAY: u8 = 1;
    const BLACK: u8 = 2;
    let mut color = vec![WHITE; n];
    for start in 0..n {
        if color[start] != WHITE || edges[start].is_none() {
            continue;
        }
        // (thread, index of the next successor to try)
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        color[start] = GRAY;
        while let Some(&(node, next)) = stack.last() {
            let succ = edges[node]
                .as_ref()
                .map_or(&[][..], |(_, who)| who.as_slice());
            let Some(&v) = succ.get(next) else {
                color[node] = BLACK;
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            if color[v] == GRAY {
                let from = stack.iter().position(|&(u, _)| u == v).unwrap_or(0);
                let mut cycle: Vec<(usize, usize)> = stack[from..]
                    .iter()
                    .map(|&(u, _)| (u, edges[u].as_ref().map_or(usize::MAX, |(l, _)| *l)))
                    .collect();
                let min = (0..cycle.len()).min_by_key(|&i| cycle[i].0).unwrap_or(0);
                cycle.rotate_left(min);
                return Some(cycle);
            }
            if color[v] == WHITE && edges[v].is_some() {
                color[v] = GRAY;
                stack.push((v, 0));
            }
        }
    }
    None
}
