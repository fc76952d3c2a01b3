//! Bounded buffers behind the screen: the event log, the program's output, the
//! event-rate meter. Whatever runs for an hour, none of them grows.

use std::collections::VecDeque;

use crate::event::{Event, Nanos};
use crate::model::sanitize;

/// How many events the log keeps.
pub(crate) const LOG_CAP: usize = 2_000;
/// How many lines of program output are kept.
pub(crate) const OUTPUT_CAP: usize = 1_000;
/// Longest output line kept, in characters; the rest is cut.
const LINE_CAP: usize = 512;
/// The window the event rate is measured over.
const RATE_WINDOW: Nanos = 1_000_000_000;

/// The newest events, oldest first.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventLog {
    events: VecDeque<Event>,
}

impl EventLog {
    /// Keeps the newest [`LOG_CAP`] of `events` (only their tail is copied).
    pub(crate) fn extend(&mut self, events: &[Event]) {
        let tail = &events[events.len().saturating_sub(LOG_CAP)..];
        let overflow = (self.events.len() + tail.len()).saturating_sub(LOG_CAP);
        self.events.drain(..overflow.min(self.events.len()));
        self.events.extend(tail.iter().cloned());
    }

    /// The kept events, oldest first.
    pub(crate) fn events(&self) -> &VecDeque<Event> {
        &self.events
    }
}

/// The observed program's output, split into sanitised lines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Output {
    lines: VecDeque<String>,
    /// The last line, until its newline arrives.
    partial: String,
    /// Lines dropped to stay bounded.
    dropped: u64,
}

impl Output {
    /// Appends captured text. Control characters and escape sequences are
    /// neutralised line by line; tabs become spaces.
    pub(crate) fn push(&mut self, text: &str) {
        let mut rest = text;
        while let Some(end) = rest.find('\n') {
            self.append(&rest[..end]);
            let line = std::mem::take(&mut self.partial);
            self.lines.push_back(line);
            if self.lines.len() > OUTPUT_CAP {
                self.lines.pop_front();
                self.dropped += 1;
            }
            rest = &rest[end + 1..];
        }
        self.append(rest);
    }

    fn append(&mut self, piece: &str) {
        let piece = piece.strip_suffix('\r').unwrap_or(piece);
        let room = LINE_CAP.saturating_sub(self.partial.chars().count());
        let piece: String = piece.chars().take(room).collect();
        let piece = piece.replace('\t', "    ");
        self.partial.push_str(&sanitize(&piece));
    }

    /// The complete lines, then the partial one if any, oldest first.
    pub(crate) fn lines(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        let partial = (!self.partial.is_empty()).then_some(self.partial.as_str());
        self.lines.iter().map(String::as_str).chain(partial)
    }

    /// How many lines [`lines`](Self::lines) yields.
    pub(crate) fn len(&self) -> usize {
        self.lines.len() + usize::from(!self.partial.is_empty())
    }

    /// Lines dropped to stay bounded.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Events per second over the last second of ticks.
#[derive(Clone, Debug, Default)]
pub(crate) struct RateMeter {
    /// (clock, events so far), oldest first.
    samples: VecDeque<(Nanos, u64)>,
}

impl RateMeter {
    /// Records the event count at `now`.
    pub(crate) fn sample(&mut self, now: Nanos, events: u64) {
        if self.samples.back().is_some_and(|&(t, _)| now < t) {
            self.samples.clear(); // the clock went back: a new session
        }
        self.samples.push_back((now, events));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|&(t, _)| now.saturating_sub(t) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Events per second, 0 before two samples.
    pub(crate) fn per_second(&self) -> u64 {
        let (Some(&(t0, e0)), Some(&(t1, e1))) = (self.samples.front(), self.samples.back()) else {
            return 0;
        };
        let dt = t1.saturating_sub(t0);
        if dt == 0 {
            return 0;
        }
        (u128::from(e1.saturating_sub(e0)) * 1_000_000_000 / u128::from(dt))
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, ThreadId};

    fn ev(time: Nanos) -> Event {
        Event {
            time,
            thread: ThreadId(0),
            kind: EventKind::ThreadExit,
        }
    }

    #[test]
    fn the_log_keeps_the_newest_events() {
        let mut log = EventLog::default();
        let batch: Vec<Event> = (0..LOG_CAP as u64 + 10).map(ev).collect();
        log.extend(&batch[..5]);
        log.extend(&batch);
        assert_eq!(log.events().len(), LOG_CAP);
        assert_eq!(log.events().front().map(|e| e.time), Some(10));
        log.extend(&[ev(99_999)]);
        assert_eq!(log.events().len(), LOG_CAP);
        assert_eq!(log.events().back().map(|e| e.time), Some(99_999));
    }

    #[test]
    fn output_is_split_sanitised_and_bounded() {
        let mut out = Output::default();
        out.push("hello\r\nwor");
        out.push("ld\t!\n\u{1b}[2Jevil\u{7}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines, ["hello", "world    !", "\\u{1b}[2Jevil\\u{7}"]);
        for i in 0..OUTPUT_CAP + 5 {
            out.push(&format!("{i}\n"));
        }
        assert!(out.len() <= OUTPUT_CAP + 1);
        assert!(out.dropped() > 0);
        out.push(&"x".repeat(10_000));
        assert!(out.lines().last().is_some_and(|l| l.len() <= LINE_CAP));
    }

    #[test]
    fn rate_is_events_per_second_over_the_window() {
        let mut r = RateMeter::default();
        assert_eq!(r.per_second(), 0);
        r.sample(0, 0);
        r.sample(500_000_000, 1_000);
        assert_eq!(r.per_second(), 2_000);
        r.sample(2_000_000_000, 1_000);
        r.sample(2_500_000_000, 1_000);
        assert_eq!(r.per_second(), 0);
        r.sample(1, 0); // a new clock
        assert_eq!(r.per_second(), 0);
    }
}
