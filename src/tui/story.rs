//! The story the timeline tells when following: once a program deadlocked,
//! ended or went idle, the newest time is no longer where the information
//! is, so the span that explains what happened is shown whole instead.

use crate::event::Nanos;
use crate::model::Model;

use super::app::{App, RunState};
use super::timeview::{Story, StoryKind};

/// How long without an event before a running program counts as idle.
pub(crate) const IDLE: Nanos = 2_000_000_000;

impl App {
    /// The span worth showing whole now, if any: for a deadlock, from a
    /// little before its threads took the locks they hold to the event that
    /// closed the cycle; for a run that ended or went idle, the whole run kept.
    /// `None` while a program runs busily, and in a replay (its cursor is the
    /// moment shown).
    pub(crate) fn story(&self) -> Option<Story> {
        if self.mode_label.is_some() {
            return None;
        }
        let view = self.view();
        let model = view.model;
        if model.events() == 0 {
            return None;
        }
        let first = self.timeline.first_time();
        let end = model.last_time().max(first);
        if let Some(hold) = deadlock_holds(model) {
            // A lead-in of half the story: what the threads did before.
            let lead = end.saturating_sub(hold) / 2;
            return Some(Story {
                start: hold.saturating_sub(lead).max(first).min(end),
                end,
                kind: StoryKind::Deadlock,
            });
        }
        let kind = match self.run_state {
            RunState::Finished | RunState::TimedOut | RunState::Deadlocked => StoryKind::Finished,
            RunState::Running if view.now.saturating_sub(end) >= IDLE => StoryKind::Idle,
            RunState::Running => return None,
        };
        Some(Story {
            start: first,
            end,
            kind,
        })
    }

    /// The time the header shows: the clock, stopped at the last event once
    /// the program finished or deadlocked.
    pub(crate) fn clock(&self) -> Nanos {
        match self.run_state {
            RunState::Running => self.now,
            _ if self.mode_label.is_some() => self.now,
            _ => self.model().last_time(),
        }
    }

    /// Before zooming or scrolling: a fitted story becomes the same window,
    /// pinned, so the keys act on what the user sees.
    pub(crate) fn leave_story(&mut self) {
        if let Some(story) = self.story() {
            let cols = super::ui::timeline_cols(self, self.screen);
            self.time.unfit(cols, story);
        }
    }
}

/// The earliest time a thread in an active deadlock took a lock it still holds.
fn deadlock_holds(model: &Model) -> Option<Nanos> {
    model
        .active_deadlocks()
        .flat_map(|d| d.threads())
        .filter_map(|t| model.threads().get(t.index()))
        .flat_map(|th| th.held.iter().map(|h| h.since))
        .min()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::TransportStats;
    use crate::tui::fixtures::{MS, Script, abba, philosophers_deadlock};
    use crate::tui::{Action, AppConfig, draw};

    fn app(events: &[crate::event::Event], now: Nanos) -> App {
        let mut app = App::new(AppConfig {
            title: "story".into(),
            color: false,
            history_spans: 10_000,
        });
        app.ingest(events);
        app.tick(now, TransportStats::default());
        app
    }

    fn lines(app: &App, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| draw(frame, app)).unwrap();
        let buf = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    }

    /// The lane of `name`: its hold (`█`) comes before its wait (`▒`).
    fn holds_then_waits(lines: &[String], name: &str) -> bool {
        let Some(lane) = lines
            .iter()
            .find(|l| l.starts_with('│') && l.contains(&format!("{name} ")))
        else {
            return false;
        };
        match (lane.find('█'), lane.rfind('█'), lane.find(['▒', '▓'])) {
            (Some(first_hold), Some(last_hold), Some(wait)) => {
                first_hold < wait && last_hold < wait
            }
            _ => false,
        }
    }

    #[test]
    fn long_after_a_deadlock_each_thread_shows_its_hold_then_its_wait() {
        // Ten seconds on: following the clock would show only waiting.
        let mut app = app(&abba(), 10_000 * MS);
        app.set_run_state(RunState::Deadlocked);
        for (w, h) in [(60, 15), (80, 24), (120, 30), (140, 40)] {
            let screen = lines(&app, w, h);
            assert!(
                screen[1].contains("the deadlock, whole"),
                "{w}x{h}: {}",
                screen[1]
            );
            for name in ["left", "right"] {
                assert!(
                    holds_then_waits(&screen, name),
                    "{w}x{h} {name}:\n{}",
                    screen.join("\n")
                );
            }
        }
        // Every thread of the cycle, even on the smallest screen drawn.
        let mut app = app_with(philosophers_deadlock(), 10_000 * MS);
        app.set_run_state(RunState::Deadlocked);
        let mut three = app_with(crate::tui::fixtures::three_cycle(), 10_000 * MS);
        three.set_run_state(RunState::Deadlocked);
        for (w, h) in [(60, 15), (80, 24)] {
            let screen = lines(&app, w, h);
            for p in 0..5 {
                let name = format!("philosopher {p}");
                let all = screen.join("\n");
                assert!(holds_then_waits(&screen, &name), "{w}x{h} {name}:\n{all}");
            }
            let screen = lines(&three, w, h);
            for name in ["first", "second", "third"] {
                let all = screen.join("\n");
                assert!(holds_then_waits(&screen, name), "{w}x{h} {name}:\n{all}");
            }
        }
    }

    fn app_with(events: Vec<crate::event::Event>, now: Nanos) -> App {
        app(&events, now)
    }

    #[test]
    fn the_model_seeing_the_cycle_is_enough_and_the_lead_in_is_bounded() {
        // The collector's notice has not come yet: the cycle is in the model.
        let app = app(&abba(), 500 * MS);
        let story = app.story().unwrap();
        assert_eq!(story.kind, StoryKind::Deadlock);
        assert_eq!(story.end, 11 * MS + MS / 3);
        // The holds start at 1 ms; half the story before them reaches 0.
        assert_eq!(story.start, 0);
    }

    #[test]
    fn the_clock_stops_at_the_last_event_once_the_program_ended() {
        let mut s = Script::new();
        s.lock(0, "A", crate::event::LockKind::Mutex)
            .thread(0, "main");
        s.at(2 * MS).acquire(0, 0);
        s.at(5 * MS).release(0, 0);
        s.at(7 * MS).exit(0);
        let mut app = app(&s.build(), 3_000 * MS);
        assert!(lines(&app, 80, 24)[0].contains("3.0s"));
        app.set_run_state(RunState::Finished);
        let screen = lines(&app, 80, 24);
        assert!(screen[0].contains("│ 7ms │"), "{}", screen[0]);
        assert!(screen[1].contains("the whole run"), "{}", screen[1]);
        app.tick(9_000 * MS, TransportStats::default());
        assert!(lines(&app, 80, 24)[0].contains("│ 7ms │"));
    }

    #[test]
    fn a_running_program_is_followed_until_it_goes_idle() {
        let mut s = Script::new();
        s.lock(0, "A", crate::event::LockKind::Mutex)
            .thread(0, "main");
        s.at(2 * MS).acquire(0, 0);
        s.at(5 * MS).release(0, 0);
        let mut app = app(&s.build(), 5 * MS + IDLE - 1);
        assert_eq!(app.story(), None);
        assert!(lines(&app, 80, 24)[1].contains("following"));
        app.tick(5 * MS + IDLE, TransportStats::default());
        assert_eq!(app.story().map(|s| s.kind), Some(StoryKind::Idle));
        let screen = lines(&app, 80, 24);
        assert!(screen[1].contains("idle: the run so far"), "{}", screen[1]);
        // The hold is on screen, not scrolled off two seconds ago.
        assert!(screen[2].contains('█'), "{}", screen[2]);
    }

    #[test]
    fn zooming_a_fitted_story_starts_from_what_is_seen() {
        let mut app = app(&abba(), 10_000 * MS);
        app.set_screen(ratatui::layout::Rect::new(0, 0, 80, 24));
        assert!(lines(&app, 80, 24)[1].contains("500µs/col"));
        app.on_action(Action::ZoomIn);
        let screen = lines(&app, 80, 24);
        assert!(screen[1].contains("200µs/col · scrolled"), "{}", screen[1]);
        // Following again brings the fitted story back.
        app.on_action(Action::Follow);
        assert!(lines(&app, 80, 24)[1].contains("500µs/col · the deadlock"));
        app.on_action(Action::ScrollLeft);
        let screen = lines(&app, 80, 24);
        assert!(screen[1].contains("500µs/col · scrolled"), "{}", screen[1]);
    }

    #[test]
    fn a_replay_shows_its_cursor_not_a_story() {
        let mut app = app(&abba(), 10_000 * MS);
        app.set_mode_label(Some("REPLAY 8/8".into()));
        assert_eq!(app.story(), None);
        assert!(lines(&app, 80, 24)[0].contains("10.0s"));
    }
}
