//! Time travel over a recording: a cursor over its events that plays at a
//! chosen speed, steps one event forward or back, and jumps to the start, the
//! end, the next deadlock or the next contended acquisition. The viewer shows
//! the state *at the cursor*: going back applies the events up to it again.

use crate::event::{Event, EventKind, Nanos};
use crate::model::Model;

/// Playback speeds, slowest first.
const SPEEDS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];

/// What a replay key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayAction {
    /// Play or pause.
    TogglePlay,
    /// One event forward.
    StepForward,
    /// One event back.
    StepBack,
    /// Slower.
    Slower,
    /// Faster.
    Faster,
    /// To the first event.
    Start,
    /// To the last event.
    End,
    /// To the event that closes the next deadlock.
    NextDeadlock,
    /// To the next acquisition that had to wait.
    NextContended,
}

/// A cursor over a recording's events.
#[derive(Debug)]
pub struct Replay {
    events: Vec<Event>,
    /// Events applied: the state shown is after `events[..cursor]`.
    cursor: usize,
    playing: bool,
    speed: usize,
    /// Where playback is, in recording time.
    clock: Nanos,
    /// Indices of events that close a deadlock.
    deadlocks: Vec<usize>,
    /// Indices of acquisitions that ended a wait.
    contended: Vec<usize>,
}

/// How the viewer must catch up after a move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Catchup {
    /// Nothing changed.
    None,
    /// Apply `events[from..to]` on top of what is shown.
    Forward {
        /// First event to apply.
        from: usize,
        /// One past the last.
        to: usize,
    },
    /// Start over and apply `events[..to]`.
    Rebuild {
        /// One past the last event to apply.
        to: usize,
    },
}

impl Replay {
    /// A replay positioned at the start, paused, at 1×.
    pub fn new(events: Vec<Event>) -> Replay {
        let mut model = Model::new();
        let mut deadlocks = Vec::new();
        let mut contended = Vec::new();
        let mut waiting: Vec<bool> = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            if model.apply(ev).deadlock {
                deadlocks.push(i);
            }
            let t = ev.thread.index();
            if waiting.len() <= t {
                waiting.resize(t + 1, false);
            }
            match ev.kind {
                EventKind::Request { .. } => waiting[t] = true,
                EventKind::Acquired { .. } if waiting[t] => {
                    waiting[t] = false;
                    contended.push(i);
                }
                EventKind::TimedOut { .. } | EventKind::Acquired { .. } => waiting[t] = false,
                _ => {}
            }
        }
        let clock = events.first().map_or(0, |e| e.time);
        Replay {
            events,
            cursor: 0,
            playing: false,
            speed: 2,
            clock,
            deadlocks,
            contended,
        }
    }

    /// The events.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Events applied so far.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The recording time at the cursor.
    pub fn now(&self) -> Nanos {
        match self.cursor {
            0 => self.events.first().map_or(0, |e| e.time),
            n => self.events[n - 1].time.max(self.clock),
        }
    }

    /// The header label: `REPLAY ▶ 2× 120/456`.
    pub fn label(&self) -> String {
        let state = if self.playing { "▶" } else { "❚❚" };
        let speed = SPEEDS[self.speed];
        format!(
            "REPLAY {state} {speed}× {}/{}",
            self.cursor,
            self.events.len()
        )
    }

    /// Handles a replay key.
    pub fn act(&mut self, action: ReplayAction) -> Catchup {
        match action {
            ReplayAction::TogglePlay => {
                if self.cursor == self.events.len() {
                    return self.seek(0);
                }
                self.playing = !self.playing;
                Catchup::None
            }
            ReplayAction::StepForward => {
                self.playing = false;
                self.seek(self.cursor + 1)
            }
            ReplayAction::StepBack => {
                self.playing = false;
                self.seek(self.cursor.saturating_sub(1))
            }
            ReplayAction::Slower => {
                self.speed = self.speed.saturating_sub(1);
                Catchup::None
            }
            ReplayAction::Faster => {
                self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
                Catchup::None
            }
            ReplayAction::Start => self.seek(0),
            ReplayAction::End => self.seek(self.events.len()),
            ReplayAction::NextDeadlock => self.seek_next(&self.deadlocks.clone()),
            ReplayAction::NextContended => self.seek_next(&self.contended.clone()),
        }
    }

    /// Advances playback by `elapsed_ns` of wall time.
    pub fn tick(&mut self, elapsed_ns: u64) -> Catchup {
        if !self.playing {
            return Catchup::None;
        }
        let advance = (elapsed_ns as f64 * SPEEDS[self.speed]) as u64;
        self.clock = self.now().saturating_add(advance);
        let to = self.cursor + self.events[self.cursor..].partition_point(|e| e.time <= self.clock);
        if to == self.events.len() {
            self.playing = false;
        }
        self.move_to(to)
    }

    /// Moves the cursor so that `events[..to]` are applied.
    fn seek(&mut self, to: usize) -> Catchup {
        let to = to.min(self.events.len());
        let catchup = self.move_to(to);
        self.clock = self.now();
        catchup
    }

    /// To just after the first index in `marks` at or after the cursor.
    fn seek_next(&mut self, marks: &[usize]) -> Catchup {
        self.playing = false;
        match marks.iter().find(|&&i| i >= self.cursor) {
            Some(&i) => self.seek(i + 1),
            None => Catchup::None,
        }
    }

    fn move_to(&mut self, to: usize) -> Catchup {
        let from = self.cursor;
        self.cursor = to;
        match to.cmp(&from) {
            std::cmp::Ordering::Equal => Catchup::None,
            std::cmp::Ordering::Greater => Catchup::Forward { from, to },
            std::cmp::Ordering::Less => Catchup::Rebuild { to },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::{LockId, LockKind, Mode, Site, ThreadId};

    fn ev(time: Nanos, thread: u32, kind: EventKind) -> Event {
        Event {
            time,
            thread: ThreadId(thread),
            kind,
        }
    }

    /// abba: both take their first lock, both ask for the other's.
    fn abba() -> Vec<Event> {
        let site = Site::UNKNOWN;
        let mut events = Vec::new();
        for (t, name) in [(0, "left"), (1, "right")] {
            events.push(ev(0, t, EventKind::ThreadStart { name: name.into() }));
        }
        for l in 0..2 {
            events.push(ev(
                1,
                l,
                EventKind::LockCreated {
                    lock: LockId(l),
                    name: format!("L{l}"),
                    kind: LockKind::Mutex,
                    site,
                    first_seq: 0,
                },
            ));
        }
        for t in 0..2 {
            events.push(ev(
                10 + u64::from(t),
                t,
                EventKind::Acquired {
                    lock: LockId(t),
                    mode: Mode::Exclusive,
                    site,
                    seq: 0,
                    tried: false,
                },
            ));
        }
        for t in 0..2 {
            events.push(ev(
                100 + u64::from(t),
                t,
                EventKind::Request {
                    lock: LockId(1 - t),
                    mode: Mode::Exclusive,
                    site,
                    timed: false,
                    ticket: 0,
                },
            ));
        }
        events
    }

    #[test]
    fn steps_go_forward_incrementally_and_back_by_rebuilding() {
        let mut r = Replay::new(abba());
        assert_eq!(
            r.act(ReplayAction::StepForward),
            Catchup::Forward { from: 0, to: 1 }
        );
        assert_eq!(
            r.act(ReplayAction::StepForward),
            Catchup::Forward { from: 1, to: 2 }
        );
        assert_eq!(r.act(ReplayAction::StepBack), Catchup::Rebuild { to: 1 });
        assert_eq!(
            r.act(ReplayAction::End),
            Catchup::Forward { from: 1, to: 8 }
        );
        assert_eq!(r.act(ReplayAction::StepForward), Catchup::None);
        assert_eq!(r.act(ReplayAction::Start), Catchup::Rebuild { to: 0 });
        assert_eq!(r.label(), "REPLAY ❚❚ 1× 0/8");
    }

    #[test]
    fn next_deadlock_lands_just_after_the_closing_request() {
        let mut r = Replay::new(abba());
        assert_eq!(
            r.act(ReplayAction::NextDeadlock),
            Catchup::Forward { from: 0, to: 8 }
        );
        let mut model = Model::new();
        for e in &r.events()[..r.cursor()] {
            model.apply(e);
        }
        assert_eq!(model.deadlocks().len(), 1);
        assert_eq!(r.act(ReplayAction::NextDeadlock), Catchup::None);
    }

    #[test]
    fn playing_follows_recording_time_at_the_chosen_speed() {
        let mut r = Replay::new(abba());
        r.act(ReplayAction::TogglePlay);
        // 10 ns of wall time at 1x reaches the acquisitions at 10 and 11? only 10.
        assert_eq!(r.tick(10), Catchup::Forward { from: 0, to: 5 });
        r.act(ReplayAction::Faster);
        r.act(ReplayAction::Faster); // 4x
        assert_eq!(r.tick(25), Catchup::Forward { from: 5, to: 8 });
        assert!(!r.label().contains('▶'), "stops at the end: {}", r.label());
        assert_eq!(r.tick(1000), Catchup::None);
    }
}
