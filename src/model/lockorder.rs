//! The lock-order graph (as in Linux lockdep): edge A -> B when a thread takes B
//! while holding A. A cycle means two threads could one day take the same locks
//! in opposite orders and deadlock, even if this run did not.

use std::collections::BTreeSet;

use serde::Serialize;

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

/// What makes a [`PotentialDeadlock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PotentialKind {
    /// A cycle in the lock-order graph: locks taken in inconsistent orders.
    OrderInversion,
    /// A thread read an RwLock it already reads. parking_lot's RwLock is
    /// fair: a writer that queues between the two reads blocks the second,
    /// and waits itself for the first. One edge, from the lock to itself:
    /// `from_site` is the first read, `to_site` the second.
    RecursiveRead,
}

/// A potential deadlock: locks taken in inconsistent orders (a cycle in the
/// lock-order graph), or a recursive read of a fair RwLock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PotentialDeadlock {
    /// The time of the acquisition that closed the cycle.
    pub detected_at: Nanos,
    /// `edges[i].to == edges[i + 1].from`, wrapping around; starts at the smallest lock id.
    pub edges: Vec<OrderEdge>,
    /// An order inversion or a recursive read.
    pub kind: PotentialKind,
}

impl PotentialDeadlock {
    /// The locks in the cycle, in cycle order.
    pub fn locks(&self) -> impl Iterator<Item = LockId> + '_ {
        self.edges.iter().map(|e| e.from)
    }
}

/// The graph, with adjacency kept per lock as a small vector sorted by target:
/// the per-acquisition "is this edge known?" check is a binary search.
///
/// A new edge `a -> b` closes a cycle when `b` reaches `a`. Searching the
/// whole graph for that on every new edge is quadratic in a program with many
/// lock pairs, so the edges that closed no cycle keep a topological rank
/// (Pearce and Kelly's dynamic ordering): along them ranks only grow, so the
/// search skips every lock ranked above `a` and above the start of every
/// cycle-closing edge, and a program that keeps one lock order never
/// searches at all.
#[derive(Clone, Debug, Default)]
pub(super) struct LockOrder {
    /// `adj[a]` holds `(b, index into edges)` sorted by `b`.
    adj: Vec<Vec<(u32, u32)>>,
    edges: Vec<OrderEdge>,
    dfs: Dfs<u32>,
    reported: BTreeSet<Vec<u32>>,
    potentials: Vec<PotentialDeadlock>,
    /// Per lock: its rank in a topological order of the acyclic edges.
    rank: Vec<u32>,
    /// Per lock: the locks with an acyclic edge into it.
    back: Vec<Vec<u32>>,
    /// Per edge: whether it closed a cycle (then it is not ranked).
    closing: Vec<bool>,
    /// The edges that closed a cycle.
    closers: Vec<u32>,
}

/// The graph's out-edges, skipping locks ranked above `bound`.
struct Bounded<'a> {
    adj: &'a [Vec<(u32, u32)>],
    rank: &'a [u32],
    bound: u32,
}

impl Digraph for Bounded<'_> {
    type Edge = u32;

    fn len(&self) -> usize {
        self.adj.len()
    }

    fn next_edge(&self, node: usize, cursor: &mut usize) -> Option<(usize, u32)> {
        let row = self.adj.get(node)?;
        while let Some(&(to, edge)) = row.get(*cursor) {
            *cursor += 1;
            if self.rank[to as usize] <= self.bound {
                return Some((to as usize, edge));
            }
        }
        None
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
        while self.adj.len() < need {
            // A new lock ranks after every known one.
            self.rank.push(self.adj.len() as u32);
            self.back.push(Vec::new());
            self.adj.push(Vec::new());
        }
        let row = &mut self.adj[a];
        let slot = match row.binary_search_by_key(&edge.to.0, |&(to, _)| to) {
            Ok(_) => return false,
            Err(slot) => slot,
        };
        let index = self.edges.len() as u32;
        row.insert(slot, (edge.to.0, index));
        self.edges.push(edge);
        let Some(cycle) = self.find_cycle(index, b, a) else {
            self.closing.push(false);
            self.back[b].push(a as u32);
            if self.rank[b] < self.rank[a] {
                self.reorder(a, b);
            }
            return false;
        };
        self.closing.push(true);
        self.closers.push(index);
        self.report(cycle, time)
    }

    /// Looks for a path `b ->* a`, which with the new edge `a -> b` is a
    /// cycle. On such a path every lock ranks at most as high as `a` or the
    /// start of some cycle-closing edge: ranks grow along the other edges.
    fn find_cycle(&mut self, new: u32, b: usize, a: usize) -> Option<Vec<u32>> {
        let edges = &self.edges;
        let bound = self
            .closers
            .iter()
            .map(|&e| self.rank[edges[e as usize].from.index()])
            .fold(self.rank[a], u32::max);
        if self.rank[b] > bound {
            return None;
        }
        let graph = Bounded {
            adj: &self.adj,
            rank: &self.rank,
            bound,
        };
        let mut cycle = None;
        self.dfs.paths(&graph, b, a, |path| {
            let mut c = Vec::with_capacity(path.len() + 1);
            c.push(new);
            c.extend_from_slice(path);
            cycle = Some(c);
            false
        });
        cycle
    }

    /// Restores the ranks after the acyclic edge `a -> b` with `b` ranked
    /// below `a`: the locks `b` reaches below `a`'s rank and the locks that
    /// reach `a` above `b`'s rank trade ranks, the latter first.
    fn reorder(&mut self, a: usize, b: usize) {
        let (low, high) = (self.rank[b], self.rank[a]);
        let mut forward = vec![b];
        let mut seen = std::collections::HashSet::from([b]);
        let mut i = 0;
        while let Some(&v) = forward.get(i) {
            i += 1;
            for &(w, e) in &self.adj[v] {
                let w = w as usize;
                if !self.closing[e as usize] && self.rank[w] < high && seen.insert(w) {
                    forward.push(w);
                }
            }
        }
        let mut backward = vec![a];
        seen.clear();
        seen.insert(a);
        let mut i = 0;
        while let Some(&v) = backward.get(i) {
            i += 1;
            for &w in &self.back[v] {
                let w = w as usize;
                if self.rank[w] > low && seen.insert(w) {
                    backward.push(w);
                }
            }
        }
        forward.sort_unstable_by_key(|&v| self.rank[v]);
        backward.sort_unstable_by_key(|&v| self.rank[v]);
        let mut ranks: Vec<u32> = backward
            .iter()
            .chain(&forward)
            .map(|&v| self.rank[v])
            .collect();
        ranks.sort_unstable();
        for (&v, r) in backward.iter().chain(&forward).zip(ranks) {
            self.rank[v] = r;
        }
    }

    /// Records the cycle `cycle` (edge indices) unless it was seen before.
    fn report(&mut self, mut cycle: Vec<u32>, time: Nanos) -> bool {
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
            kind: PotentialKind::OrderInversion,
        });
        true
    }

    /// Records a recursive read (`edge.from == edge.to`) unless that lock's
    /// was seen before; returns whether it is new.
    pub(super) fn add_recursive_read(&mut self, edge: OrderEdge, time: Nanos) -> bool {
        // A cycle's key has at least two locks: one lock is this kind's.
        if !self.reported.insert(vec![edge.from.0]) {
            return false;
        }
        self.potentials.push(PotentialDeadlock {
            detected_at: time,
            edges: vec![edge],
            kind: PotentialKind::RecursiveRead,
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

    /// Does `from` reach `to` over `edges`?
    fn reaches(edges: &[(u32, u32)], from: u32, to: u32) -> bool {
        let mut seen = vec![from];
        let mut i = 0;
        while let Some(&v) = seen.get(i) {
            i += 1;
            if v == to {
                return true;
            }
            for &(x, y) in edges {
                if x == v && !seen.contains(&y) {
                    seen.push(y);
                }
            }
        }
        false
    }

    /// The ranked, pruned search against a plain reachability check on
    /// thousands of random graphs: the same edges close cycles, and the ranks
    /// stay a topological order of the other edges.
    #[test]
    fn the_ranked_search_finds_exactly_the_cycles_a_full_search_finds() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as u32
        };
        let mut closing_seen = 0;
        for _ in 0..3_000 {
            let nodes = 2 + u64::from(next(10));
            let mut g = LockOrder::default();
            let mut added: Vec<(u32, u32)> = Vec::new();
            for _ in 0..next(40) {
                let (a, b) = (next(nodes), next(nodes));
                if a == b || added.contains(&(a, b)) {
                    continue;
                }
                let closes = reaches(&added, b, a);
                g.add(edge(a, b), 0);
                added.push((a, b));
                assert_eq!(g.closing.last().copied(), Some(closes), "{added:?}");
                closing_seen += usize::from(closes);
                let mut ranks = g.rank.clone();
                ranks.sort_unstable();
                assert!(ranks.iter().enumerate().all(|(i, &r)| r == i as u32));
                for (e, &closing) in g.edges.iter().zip(&g.closing) {
                    if !closing {
                        let (u, v) = (e.from.index(), e.to.index());
                        assert!(g.rank[u] < g.rank[v], "{added:?}");
                    }
                }
            }
        }
        assert!(closing_seen > 1_000, "{closing_seen}");
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
