//! Compaction: old spans merged into fewer, coarser ones.

use super::{Dom, Lane, Span};

impl Lane {
    /// Merges the older half of the closed spans into at most half as many,
    /// each keeping the dominant activity of what it replaces. Returns how
    /// many spans went away (at least a quarter of them when there are
    /// [`MIN_COMPACT`] or more). O(spans).
    ///
    /// Spans are grouped greedily in time order: a group stops before a span
    /// that would make it last longer than `d`, so groups stay short (a long
    /// span stands alone instead of lending its length to a short wait next to
    /// it) and any two neighbours together last more than `d`, which bounds
    /// their number by `2 × duration / d`.
    pub(in crate::model::timeline) fn compact(&mut self) -> usize {
        let half = self.spans.len() / 2;
        let groups = half / 2;
        if groups == 0 {
            return 0;
        }
        let duration = self.spans[half - 1].end.saturating_sub(self.spans[0].start);
        let d = (2 * u128::from(duration)).div_ceil(groups as u128).max(1);
        let d = u64::try_from(d).unwrap_or(u64::MAX);
        let spans = &mut self.spans;
        let mut kept = 0;
        let mut group = spans[0];
        for i in 1..half {
            let span = spans[i];
            let length = (group.end - group.start).saturating_add(span.end - span.start);
            if length > d {
                emit(spans, &mut kept, group);
                group = span;
            } else {
                let dom = Dom::of(&group).then(Dom::of(&span));
                group = Span {
                    end: span.end,
                    activity: dom.activity(),
                    lock: dom.lock(),
                    ..group
                };
            }
        }
        emit(spans, &mut kept, group);
        spans.drain(kept..half);
        self.rebuild_levels();
        half - kept
    }
}

/// Writes `group` as the next kept span, or extends the previous one when it
/// shows the same (so compaction also coalesces what it made equal).
fn emit(spans: &mut [Span], kept: &mut usize, group: Span) {
    if let Some(prev) = kept.checked_sub(1).map(|i| &mut spans[i])
        && prev.activity == group.activity
        && prev.lock == group.lock
    {
        prev.end = group.end;
        return;
    }
    spans[*kept] = group;
    *kept += 1;
}
