//! Which slice of time the timeline shows: a zoom level and an anchor, or,
//! while following a program that has a story to tell (it deadlocked, ended
//! or went idle), that story fitted to the width.
//!
//! The fit keeps the zoom ladder's round steps (so the axis reads `2ms`, not
//! `1.37ms`) and, for a deadlock, leaves at least a fifth of the width after
//! the story's last event, where what goes on (a wait that never ends) shows
//! as it goes on.
//! A compressed axis that squeezes idle stretches was the alternative; a
//! fitted linear axis was chosen because widths and gaps keep their meaning.

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

/// A span of time worth seeing whole, from its first to its last event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Story {
    /// Where it starts.
    pub(crate) start: Nanos,
    /// Its last event.
    pub(crate) end: Nanos,
    /// What it is about, for the panel's title.
    pub(crate) kind: StoryKind,
}

/// What a [`Story`] tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoryKind {
    /// Threads holding locks, then waiting for each other's.
    Deadlock,
    /// A run that ended.
    Finished,
    /// A run with no event for a while.
    Idle,
}

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

    /// The left edge and nanoseconds per column of a window `cols` wide when
    /// the clock reads `now`: `story` fitted while following, else
    /// [`from`](Self::from) and the zoom.
    pub(crate) fn window(self, cols: u16, now: Nanos, story: Option<Story>) -> (Nanos, Nanos) {
        match story {
            Some(story) if self.following() => {
                let ns = ZOOM_LADDER[fit_level(story, cols)];
                (story.start / ns * ns, ns)
            }
            _ => (self.from(cols, now), self.ns_per_col()),
        }
    }

    /// Leaves a fitted story for the same window pinned, so that zooming or
    /// scrolling starts from what is on the screen.
    pub(crate) fn unfit(&mut self, cols: u16, story: Story) {
        if !self.following() {
            return;
        }
        self.zoom = fit_level(story, cols);
        let ns = ZOOM_LADDER[self.zoom];
        let right = (story.start / ns * ns).saturating_add(Nanos::from(cols.max(1) - 1) * ns);
        self.anchor = Anchor::End(right);
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

/// The finest zoom at which `story` takes at most four fifths of `cols` (a
/// deadlock: its waits go on after its last event), or all but one column (a
/// run that ended or went idle: nothing goes on after it).
fn fit_level(story: Story, cols: u16) -> usize {
    let usable = match story.kind {
        StoryKind::Deadlock => Nanos::from(cols) * 4 / 5,
        StoryKind::Finished | StoryKind::Idle => Nanos::from(cols).saturating_sub(1),
    }
    .max(1);
    let span = story.end.saturating_sub(story.start).max(1);
    ZOOM_LADDER
        .iter()
        // One column more than the span: aligning the start down can cost one.
        .position(|&ns| ns.saturating_mul(usable) >= span.saturating_add(ns))
        .unwrap_or(ZOOM_LADDER.len() - 1)
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
    fn a_story_is_fitted_while_following_with_room_after_it() {
        let story = Story {
            start: 6_400_000,
            end: 57_600_000,
            kind: StoryKind::Deadlock,
        };
        let v = TimeView::default();
        // 51.2 ms in 4/5 of 72 columns: 1 ms per column, from 6 ms.
        assert_eq!(
            v.window(72, 2_000_000_000, Some(story)),
            (6_000_000, 1_000_000)
        );
        // Narrower: the next round step, the end still four fifths in at most.
        let (from, ns) = v.window(50, 2_000_000_000, Some(story));
        assert_eq!(ns, 2_000_000);
        assert!(story.end < from + 50 * ns * 4 / 5 + ns);
        // Scrolled away, the story is not forced on the user.
        let mut pinned = v;
        pinned.scroll(-10, 2_000_000_000);
        assert_eq!(pinned.window(72, 2_000_000_000, Some(story)).1, 1_000_000);
        assert_ne!(pinned.window(72, 2_000_000_000, Some(story)).0, 6_000_000);
        // A long story takes the coarsest step, a one-instant story the finest.
        let long = Story {
            end: u64::MAX,
            ..story
        };
        assert_eq!(v.window(72, 0, Some(long)).1, 10_000_000_000);
        let instant = Story {
            end: story.start,
            ..story
        };
        assert_eq!(v.window(72, 0, Some(instant)).1, 1_000);
    }

    #[test]
    fn a_run_that_ended_takes_the_whole_width() {
        let run = Story {
            start: 0,
            end: 289_000_000,
            kind: StoryKind::Finished,
        };
        let v = TimeView::default();
        // 289 ms in 67 columns: 5 ms per column (58 columns), where a
        // deadlock's four fifths would need 10.
        assert_eq!(v.window(67, 0, Some(run)).1, 5_000_000);
        let stuck = Story {
            kind: StoryKind::Deadlock,
            ..run
        };
        assert_eq!(v.window(67, 0, Some(stuck)).1, 10_000_000);
    }

    #[test]
    fn leaving_a_fitted_story_keeps_the_window_on_screen() {
        let story = Story {
            start: 6_400_000,
            end: 57_600_000,
            kind: StoryKind::Finished,
        };
        let mut v = TimeView::default();
        v.zoom_out();
        v.unfit(72, story);
        assert_eq!(v.ns_per_col(), 1_000_000);
        assert_eq!(v.from(72, 2_000_000_000), 6_000_000);
        assert!(!v.following());
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
