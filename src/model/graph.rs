//! Small directed-graph helpers shared by the wait-for and lock-order graphs.
//!
//! Both graphs have dense node numbers (thread or lock indices), so visited
//! marks live in a `Vec<u32>` stamped with an epoch: starting a new search is
//! O(1) and a search allocates nothing once its buffers have grown.

/// A directed graph whose out-edges can be walked one at a time.
pub(crate) trait Digraph {
    /// What the search reports for each edge on a path.
    type Edge: Copy;

    /// Number of nodes; nodes are `0..len()`.
    fn len(&self) -> usize;

    /// The next out-edge of `node` at or after `*cursor`, advancing the cursor
    /// past it; `None` when there are no more.
    fn next_edge(&self, node: usize, cursor: &mut usize) -> Option<(usize, Self::Edge)>;
}

/// Reusable depth-first search state.
#[derive(Clone, Debug)]
pub(crate) struct Dfs<E> {
    marks: Vec<u32>,
    epoch: u32,
    stack: Vec<(usize, usize)>,
    path: Vec<E>,
}

impl<E> Default for Dfs<E> {
    fn default() -> Self {
        Dfs {
            marks: Vec::new(),
            epoch: 0,
            stack: Vec::new(),
            path: Vec::new(),
        }
    }
}

impl<E: Copy> Dfs<E> {
    /// Walks simple paths from `from` to `to` (`from == to` finds cycles through
    /// `from`), calling `found` with each path's edges; `found` returns whether
    /// to keep looking. Each node is expanded at most once per search, so this
    /// finds at least one path when any exists, in O(nodes + edges).
    pub(crate) fn paths<G>(
        &mut self,
        graph: &G,
        from: usize,
        to: usize,
        mut found: impl FnMut(&[E]) -> bool,
    ) where
        G: Digraph<Edge = E>,
    {
        if from >= graph.len() {
            return;
        }
        self.begin(graph.len());
        self.stack.clear();
        self.path.clear();
        self.mark(from);
        self.stack.push((from, 0));
        while let Some(top) = self.stack.last_mut() {
            let node = top.0;
            match graph.next_edge(node, &mut top.1) {
                None => {
                    self.stack.pop();
                    self.path.pop();
                }
                Some((next, edge)) => {
                    if next == to {
                        self.path.push(edge);
                        let more = found(&self.path);
                        self.path.pop();
                        if !more {
                            return;
                        }
                    } else if next < self.marks.len() && self.mark(next) {
                        self.path.push(edge);
                        self.stack.push((next, 0));
                    }
                }
            }
        }
    }

    fn begin(&mut self, nodes: usize) {
        if self.marks.len() < nodes {
            self.marks.resize(nodes, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Stale stamps could equal a recycled epoch: start clean.
            self.marks.fill(0);
            self.epoch = 1;
        }
    }

    /// Marks `node` visited; returns whether it was not visited yet.
    fn mark(&mut self, node: usize) -> bool {
        let slot = &mut self.marks[node];
        let fresh = *slot != self.epoch;
        *slot = self.epoch;
        fresh
    }
}

/// Rotates `cycle` so that the element with the smallest key comes first:
/// the same cycle found from different starting points compares equal.
pub(crate) fn rotate_to_min<T, K: Ord>(cycle: &mut [T], key: impl Fn(&T) -> K) {
    let start = cycle
        .iter()
        .enumerate()
        .min_by_key(|(_, item)| key(item))
        .map_or(0, |(i, _)| i);
    cycle.rotate_left(start);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A literal adjacency list; edges are reported as `(from, to)`.
    struct Adj(Vec<Vec<usize>>);

    impl Digraph for Adj {
        type Edge = (usize, usize);

        fn len(&self) -> usize {
            self.0.len()
        }

        fn next_edge(&self, node: usize, cursor: &mut usize) -> Option<(usize, (usize, usize))> {
            let to = *self.0[node].get(*cursor)?;
            *cursor += 1;
            Some((to, (node, to)))
        }
    }

    fn all_paths(g: &Adj, from: usize, to: usize) -> Vec<Vec<(usize, usize)>> {
        let mut dfs = Dfs::default();
        let mut out = Vec::new();
        dfs.paths(g, from, to, |p| {
            out.push(p.to_vec());
            true
        });
        out
    }

    #[test]
    fn finds_a_two_cycle() {
        let g = Adj(vec![vec![1], vec![0]]);
        assert_eq!(all_paths(&g, 0, 0), vec![vec![(0, 1), (1, 0)]]);
    }

    #[test]
    fn finds_a_self_loop() {
        let g = Adj(vec![vec![0]]);
        assert_eq!(all_paths(&g, 0, 0), vec![vec![(0, 0)]]);
    }

    #[test]
    fn ignores_cycles_not_through_the_start() {
        // 0 -> 1 -> 2 -> 1: a cycle, but 0 is not on it.
        let g = Adj(vec![vec![1], vec![2], vec![1]]);
        assert!(all_paths(&g, 0, 0).is_empty());
    }

    #[test]
    fn finds_a_path_between_distinct_nodes() {
        let g = Adj(vec![vec![1, 2], vec![3], vec![3], vec![]]);
        let paths = all_paths(&g, 0, 3);
        assert_eq!(paths[0], vec![(0, 1), (1, 3)]);
        // Node 3 is the target, not marked, so the second route is seen too.
        assert_eq!(paths[1], vec![(0, 2), (2, 3)]);
    }

    #[test]
    fn stops_when_asked() {
        let g = Adj(vec![vec![0, 0, 0]]);
        let mut dfs = Dfs::default();
        let mut n = 0;
        dfs.paths(&g, 0, 0, |_| {
            n += 1;
            false
        });
        assert_eq!(n, 1);
    }

    #[test]
    fn out_of_range_nodes_are_ignored() {
        let g = Adj(vec![vec![7], vec![]]);
        assert!(all_paths(&g, 0, 0).is_empty());
        assert!(all_paths(&g, 9, 9).is_empty());
    }

    #[test]
    fn epochs_reset_between_searches() {
        let g = Adj(vec![vec![1], vec![2], vec![0]]);
        let mut dfs = Dfs::default();
        for _ in 0..3 {
            let mut n = 0;
            dfs.paths(&g, 0, 0, |p| {
                assert_eq!(p, &[(0, 1), (1, 2), (2, 0)]);
                n += 1;
                true
            });
            assert_eq!(n, 1);
        }
        dfs.epoch = u32::MAX;
        let mut n = 0;
        dfs.paths(&g, 1, 1, |_| {
            n += 1;
            true
        });
        assert_eq!(n, 1);
    }

    #[test]
    fn rotation_puts_the_smallest_first() {
        let mut c = [5, 3, 9, 4];
        rotate_to_min(&mut c, |x| *x);
        assert_eq!(c, [3, 9, 4, 5]);
        let mut empty: [u32; 0] = [];
        rotate_to_min(&mut empty, |x| *x);
    }
}
