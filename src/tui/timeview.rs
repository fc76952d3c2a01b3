//! Which slice of time the timeline shows: a zoom level and an anchor.

use crate::event::Nanos;

/// Nanoseconds per column, from 1 µs to 10 s in 1-2-5 steps.
pub(crate) const ZOOM_LADDER: [Nanos; 22] = [
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// The zoom a new screen starts with: 1 ms per column, the scale of the
/// built-in scenarios' work steps.
const DEFAULT_ZOOM: usize = 9;

/// What the timeline's window is pinned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The newest time is at the right edge and the window moves with it.
    Follow,
    /// The right edge is pinned at this time.
    End(Nanos),
    /// The left edge is pinned at this time (after Home).
    Start(Nanos),
}

/// The visible time window's zoom and position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimeView {
    zoom: usize,
    anchor: Anchor,
}

impl Default for TimeView {
    fn default() -> Self {
        TimeView {
            zoom: DEFAULT_ZOOM,
            anchor: Anchor::Follow,
        }
    }
}

impl TimeView {
    /// Nanoseconds per column.
    pub(crate) fn ns_per_col(self) -> Nanos {
        ZOOM_LADDER[self.zoom.min(ZOOM_LADDER.len() - 1)]
    }

    /// Whether the window follows the newest time.
    pub(crate) fn following(self) -> bool {
        self.anchor == Anchor::Follow
    }

    /// One step finer. Returns whether anything changed.
    pub(crate) fn zoom_in(&mut self) -> bool {
        let before = self.zoom;
        self.zoom = self.zoom.saturating_sub(1);
        before != self.zoom
    }

    /// One step coarser. Returns whether anything changed.
    pub(crate) fn zoom_out(&mut self) -> bool {
        let before = self.zoom;
        self.zoom = (self.zoom + 1).min(ZOOM_LADDER.len() - 1);
        before != self.zoom
    }

    /// Back to following the newest time.
    pub(crate) fn follow(&mut self) {
        self.anchor = Anchor::Follow;
    }

    /// Pins the left edge at `time` (the start of the history).
    pub(crate) fn start_at(&mut self, time: Nanos) {
        self.anchor = Anchor::Start(time);
    }

    /// Moves the window by `cols` columns (negative: towards older times).
    /// Scrolling past `now` resumes following.
    pub(crate) fn scroll(&mut self, cols: i64, now: Nanos) {
        let delta = cols.unsigned_abs().saturating_mul(self.ns_per_col());
        let shift = |t: Nanos| {
            if cols < 0 {
                t.saturating_sub(delta)
            } else {
                t.saturating_add(delta)
            }
        };
        self.anchor = match self.anchor {
            Anchor::Follow if cols >= 0 => Anchor::Follow,
            Anchor::Follow => Anchor::End(shift(now)),
            Anchor::End(t) => match shift(t) {
                t if t >= now => Anchor::Follow,
                t => Anchor::End(t),
            },
            Anchor::Start(t) => Anchor::Start(shift(t).min(now)),
        };
    }

    /// The time at the left edge of a window `cols` wide when the clock reads `now`.
    ///
    /// Edges are aligned to whole columns, so a column always covers the same
    /// slice of time and cells do not flicker as the window follows the clock.
    pub(crate) fn from(self, cols: u16, now: Nanos) -> Nanos {
        let ns = self.ns_per_col();
        let width = Nanos::from(cols).saturating_mul(ns);
        match self.anchor {
            // The column holding `end` is the last one.
            Anchor::Follow => (now / ns + 1).saturating_mul(ns).saturating_sub(width),
            Anchor::End(t) => (t / ns + 1).saturating_mul(ns).saturating_sub(width),
            Anchor::Start(t) => t / ns * ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_goes_from_a_microsecond_to_ten_seconds() {
        assert_eq!(ZOOM_LADDER[0], 1_000);
        assert_eq!(ZOOM_LADDER[ZOOM_LADDER.len() - 1], 10_000_000_000);
        assert!(ZOOM_LADDER.windows(2).all(|w| w[0] < w[1]));
        let mut v = TimeView::default();
        assert_eq!(v.ns_per_col(), 1_000_000);
        while v.zoom_in() {}
        assert_eq!(v.ns_per_col(), 1_000);
        while v.zoom_out() {}
        assert_eq!(v.ns_per_col(), 10_000_000_000);
    }

    #[test]
    fn following_puts_now_in_the_last_column() {
        let v = TimeView::default();
        // 10 columns of 1ms, now = 25.5ms: the last column is [25ms, 26ms).
        assert_eq!(v.from(10, 25_500_000), 16_000_000);
        // Early on the window starts at zero.
        assert_eq!(v.from(100, 25_500_000), 0);
    }

    #[test]
    fn scrolling_back_pins_the_window_and_forward_resumes_following() {
        let mut v = TimeView::default();
        let now = 100_000_000;
        v.scroll(-10, now);
        assert_eq!(v.anchor, Anchor::End(90_000_000));
        assert_eq!(v.from(10, now), 81_000_000);
        v.scroll(5, now);
        assert_eq!(v.anchor, Anchor::End(95_000_000));
        v.scroll(10, now);
        assert!(v.following());
        v.start_at(0);
        assert_eq!(v.from(10, now), 0);
        v.scroll(-10, now);
        assert_eq!(v.anchor, Anchor::Start(0));
    }
}
