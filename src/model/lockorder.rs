//! The lock-order graph (as in Linux lockdep): edge A -> B when a thread takes B
//! while holding A. A cycle means two threads could one day take the same locks
//! in opposite orders and deadlock, even if this run did not.

use std::collections::BTreeSet;

use crate::event::{LockId, Mode, Nanos, Site, ThreadId};

use super::graph::{Dfs, Digraph, rotate_to_min};

/// An edge of the lock-order graph, with the first acquisition that showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderEdge {
    /// The lock held.
    pub from: LockId,
    /// The lock taken while holding `from`.
    pub to: LockId,
    /// The thread that did it first.
    pub thread: ThreadId,
    /// Where `from` was acquired.
    pub from_site: Site,
    /// Where `to` was acquired.
    pub to_site: Site,
    /// How `from` was held.
    pub from_mode: Mode,
    /// How `to` was taken.
    pub to_mode: Mode,
}

/// A cycle in the lock-order graph: locks taken in inconsistent orders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PotentialDeadlock {
    /// The time of the acquisition that closed the cycle.
    pub detected_at: Nanos,
    /// `edges[i].to == edges[i + 1].from`, wrapping around; starts at the smallest lock id.
    pub edges: Vec<OrderEdge>,
}

impl PotentialDeadlock {
    /// The locks in the cycle, in cycle order.
    pub fn locks(&self) -> impl Iterator<Item = LockId> + '_ {
        self.edges.iter().map(|e| e.from)
    }
}

/// The graph, with adjacency kept per lock as a small vector sorted by target:
/// the per-acquisition "is this edge known?" check is a binary search.
#[derive(Clone, Debug, Default)]
pub(super) struct LockOrder {
    /// `adj[a]` holds `(b, index into edges)` sorted by `b`.
    adj: Vec<Vec<(u32, u32)>>,
    edges: Vec<OrderEdge>,
    dfs: Dfs<u32>,
    reported: BTreeSet<Vec<u32>>,
    potentials: Vec<PotentialDeadlock>,
}

struct Adjacency<'a>(&'a [Vec<(u32, u32)>]);

impl Digraph for Adjacency<'_> {
    type Edge = u32;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn next_edge(&self, node: usize, cursor: &mut usize) -> Option<(usize, u32)> {
        let &(to, edge) = self.0.get(node)?.get(*cursor)?;
        *cursor += 1;
        Some((to as usize, edge))
    }
}

impl LockOrder {
    /// Every edge, in order of discovery.
    pub(super) fn edges(&self) -> &[OrderEdge] {
        &self.edges
    }

    /// Every potential deadlock, in order of detection.
    pub(super) fn potentials(&self) -> &[PotentialDeadlock] {
        &self.potentials
    }

    /// Records `edge` unless its (from, to) pair is known; returns whether that
    /// closed a new cycle (then it is in [`potentials`](Self::potentials)).
    pub(super) fn add(&mut self, edge: OrderEdge, time: Nanos) -> bool {
        let (a, b) = (edge.from.index(), edge.to.index());
        if a == b {
            return false;
        }
        let need = a.max(b) + 1;
        if self.adj.len() < need {
            self.adj.resize_with(need, Vec::new);
        }
        let row = &mut self.adj[a];
        let slot = match row.binary_search_by_key(&edge.to.0, |&(to, _)| to) {
            Ok(_) => return false,
            Err(slot) => slot,
        };
        let index = self.edges.len() as u32;
        row.insert(slot, (edge.to.0, index));
        self.edges.push(edge);
        self.close_cycle(index, b, a, time)
    }

    /// Looks for a path `b ->* a`, which with the new edge `a -> b` is a cycle.
    fn close_cycle(&mut self, new: u32, b: usize, a: usize, time: Nanos) -> bool {
        let mut cycle: Option<Vec<u32>> = None;
        self.dfs.paths(&Adjacency(&self.adj), b, a, |path| {
            let mut c = Vec::with_capacity(path.len() + 1);
            c.push(new);
            c.extend_from_slice(path);
            cycle = Some(c);
            false
        });
        let Some(mut cycle) = cycle else {
            return false;
        };
        let edges = &self.edges;
        rotate_to_min(&mut cycle, |&e| edges[e as usize].from);
        let key: Vec<u32> = cycle.iter().map(|&e| edges[e as usize].from.0).collect();
        if !self.reported.insert(key) {
            return false;
        }
        let edges = cycle.iter().map(|&e| edges[e as usize]).collect();
        self.potentials.push(PotentialDeadlock {
            detected_at: time,
            edges,
        });
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn edge(from: u32, to: u32) -> OrderEdge {
        OrderEdge {
            from: LockId(from),
            to: LockId(to),
            thread: ThreadId(from),
            from_site: Site::UNKNOWN,
            to_site: Site::UNKNOWN,
            from_mode: Mode::Exclusive,
            to_mode: Mode::Exclusive,
        }
    }

    fn locks(p: &PotentialDeadlock) -> Vec<u32> {
        p.locks().map(|l| l.0).collect()
    }

    #[test]
    fn two_lock_cycle_is_reported_once() {
        let mut g = LockOrder::default();
        assert!(!g.add(edge(0, 1), 1));
        assert!(g.add(edge(1, 0), 2));
        assert!(!g.add(edge(1, 0), 3));
        assert!(!g.add(edge(0, 1), 4));
        assert_eq!(g.potentials().len(), 1);
        assert_eq!(locks(&g.potentials()[0]), [0, 1]);
        assert_eq!(g.potentials()[0].detected_at, 2);
    }

    #[test]
    fn three_lock_cycle_is_rotated_to_the_smallest_lock() {
        let mut g = LockOrder::default();
        assert!(!g.add(edge(5, 2), 1));
        assert!(!g.add(edge(2, 9), 2));
        assert!(g.add(edge(9, 5), 3));
        let p = &g.potentials()[0];
        assert_eq!(locks(p), [2, 9, 5]);
        assert_eq!(p.edges[0], edge(2, 9));
    }

    #[test]
    fn consistent_orders_make_no_cycle() {
        let mut g = LockOrder::default();
        for (a, b) in [(0, 1), (1, 2), (0, 2), (2, 3), (0, 3)] {
            assert!(!g.add(edge(a, b), 0));
        }
        assert_eq!(g.edges().len(), 5);
        assert!(g.potentials().is_empty());
    }

    #[test]
    fn self_edges_are_ignored() {
        let mut g = LockOrder::default();
        assert!(!g.add(edge(4, 4), 0));
        assert!(g.edges().is_empty());
    }

    #[test]
    fn adjacency_stays_sorted() {
        let mut g = LockOrder::default();
        for b in [7, 3, 5, 1] {
            g.add(edge(0, b), 0);
        }
        let targets: Vec<u32> = g.adj[0].iter().map(|&(to, _)| to).collect();
        assert_eq!(targets, [1, 3, 5, 7]);
    }

    #[test]
    fn a_second_cycle_through_other_locks_is_reported_too() {
        let mut g = LockOrder::default();
        g.add(edge(0, 1), 0);
        assert!(g.add(edge(1, 0), 1));
        g.add(edge(1, 2), 2);
        assert!(g.add(edge(2, 0), 3));
        assert_eq!(g.potentials().len(), 2);
        assert_eq!(locks(&g.potentials()[1]), [0, 1, 2]);
    }
}
