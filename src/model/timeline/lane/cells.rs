//! The column walk behind [`Timeline::cells`](super::super::Timeline::cells).

use crate::event::Nanos;

use super::{Activity, CellState, Dom, FAN_BITS, Item, Lane, reach, span_reach};

impl Lane {
    /// Fills the columns of `out` (all `Absent` on entry) starting at `from`,
    /// `w` (≥ 1) nanoseconds each.
    pub(in crate::model::timeline) fn fill(
        &self,
        from: Nanos,
        w: Nanos,
        now: Nanos,
        out: &mut [CellState],
    ) {
        let open = self.open.map(|o| Item {
            start: o.start,
            reach: reach(o.start, now),
            dom: o.dom,
        });
        let count = self.spans.len() + usize::from(open.is_some());
        let mut pos = self.spans.partition_point(|s| span_reach(s) <= from);
        if pos == self.spans.len() && open.is_some_and(|o| o.reach <= from) {
            pos = count;
        }
        let mut col = 0;
        while pos < count && col < out.len() {
            let start = from.saturating_add((col as u64).saturating_mul(w));
            let end = start.saturating_add(w);
            if start == end {
                break; // Saturated: no time left to show.
            }
            let first = self.item(pos, open);
            if first.start >= end {
                // Before the thread's start: skip to the column of its start.
                col = column_of(first.start, from, w, false).max(col + 1);
                continue;
            }
            let (dom, next) = self.column(pos, end, open);
            if let Some(dom) = dom {
                out[col] = dom.cell();
            }
            pos = next;
            col += 1;
        }
        if let Some(end) = self.end {
            let state = if end.panicked {
                CellState::Panicked
            } else {
                CellState::Finished
            };
            let after = column_of(end.at, from, w, true).min(out.len());
            for cell in &mut out[after..] {
                if *cell == CellState::Absent {
                    *cell = state;
                }
            }
        }
    }

    /// Span `i`, or the open span when `i` is the number of spans.
    fn item(&self, i: usize, open: Option<Item>) -> Item {
        match (self.spans.get(i), open) {
            (Some(s), _) => Item {
                start: s.start,
                reach: span_reach(s),
                dom: Dom::of(s),
            },
            // The walk never goes past the open span.
            (None, Some(o)) => o,
            (None, None) => Item {
                start: Nanos::MAX,
                reach: Nanos::MAX,
                dom: Dom::new(Activity::Running, None),
            },
        }
    }

    /// The dominant of the items from `pos` (which overlaps the column) up to
    /// the column's `end`, and the first item of the next column: the last one
    /// taken if it reaches past `end`, else the one after it.
    ///
    /// Climbs the summary levels while whole aligned blocks fit in the column,
    /// then descends once the next block reaches past `end` (reaches only
    /// grow, so no later block fits either): O(FAN × levels) steps, in one
    /// tight loop per level so that branches mispredict about once per level.
    fn column(&self, mut pos: usize, end: Nanos, open: Option<Item>) -> (Option<Dom>, usize) {
        let count = self.spans.len() + usize::from(open.is_some());
        let top = self.levels.len();
        let mut dom: Option<Dom> = None;
        let mut add = |d: Dom| dom = Some(dom.map_or(d, |acc| acc.then(d)));
        // Up: at level k (0: spans, k: blocks of `levels[k - 1]`, FAN^k spans
        // each), take units until `pos` is aligned for level k + 1.
        let mut k = 0;
        'up: loop {
            let bits = k as u32 * FAN_BITS;
            let align = (1usize << (bits + FAN_BITS)) - 1;
            if k == 0 {
                while pos & align != 0 {
                    if pos >= count {
                        return (dom, pos);
                    }
                    let item = self.item(pos, open);
                    if item.start >= end {
                        return (dom, pos);
                    }
                    add(item.dom);
                    if item.reach > end {
                        return (dom, pos);
                    }
                    pos += 1;
                }
            } else {
                let level = &self.levels[k - 1];
                while k == top || pos & align != 0 {
                    match level.get(pos >> bits) {
                        Some(block) if block.reach <= end => {
                            add(block.dom);
                            pos += 1 << bits;
                        }
                        _ => break 'up,
                    }
                }
            }
            if k == top {
                break;
            }
            k += 1;
        }
        // Down: the unit at level k does not fit; take the smaller ones that do.
        while k > 1 {
            k -= 1;
            let bits = k as u32 * FAN_BITS;
            let level = &self.levels[k - 1];
            while let Some(block) = level.get(pos >> bits)
                && block.reach <= end
            {
                add(block.dom);
                pos += 1 << bits;
            }
        }
        while pos < count {
            let item = self.item(pos, open);
            if item.start >= end {
                break;
            }
            add(item.dom);
            if item.reach > end {
                break;
            }
            pos += 1;
        }
        (dom, pos)
    }
}

/// The column holding instant `t` (`ceil` false), or the first column
/// starting at or after it (`ceil` true).
fn column_of(t: Nanos, from: Nanos, w: Nanos, ceil: bool) -> usize {
    let offset = t.saturating_sub(from);
    let col = if ceil { offset.div_ceil(w) } else { offset / w };
    usize::try_from(col).unwrap_or(usize::MAX)
}

#[cfg(test)]
impl Lane {
    /// [`fill`](Self::fill) the obvious way, every item against every column:
    /// the reference the fast walk is checked against.
    pub(in crate::model::timeline) fn fill_naive(
        &self,
        from: Nanos,
        w: Nanos,
        now: Nanos,
        out: &mut [CellState],
    ) {
        let open = self.open.map(|o| Item {
            start: o.start,
            reach: reach(o.start, now),
            dom: o.dom,
        });
        let closed = self.spans.iter().map(|s| Item {
            start: s.start,
            reach: span_reach(s),
            dom: Dom::of(s),
        });
        let items: Vec<Item> = closed.chain(open).collect();
        for (col, cell) in out.iter_mut().enumerate() {
            let start = from.saturating_add((col as u64).saturating_mul(w));
            let end = start.saturating_add(w);
            let dom = items
                .iter()
                .filter(|it| it.start < end && it.reach > start)
                .map(|it| it.dom)
                .reduce(Dom::then);
            *cell = match (dom, self.end) {
                (Some(dom), _) => dom.cell(),
                (None, Some(e)) if start >= e.at && e.panicked => CellState::Panicked,
                (None, Some(e)) if start >= e.at => CellState::Finished,
                (None, _) => CellState::Absent,
            };
        }
    }

    /// Whether the summary levels are what rebuilding them would give.
    pub(in crate::model::timeline) fn levels_consistent(&self) -> bool {
        let mut rebuilt = self.clone();
        rebuilt.rebuild_levels();
        let key = |l: &Lane| -> Vec<Vec<(Nanos, Dom)>> {
            l.levels
                .iter()
                .map(|v| v.iter().map(|b| (b.reach, b.dom)).collect())
                .collect()
        };
        key(&rebuilt) == key(self)
    }
}
