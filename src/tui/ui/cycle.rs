//! A deadlock drawn in the wait-for panel: a banner naming where the cycle
//! closed, the cycle as a ring (each thread waits for a lock that the thread
//! on the next row holds; the last row's lock is held by the first thread),
//! and the source locations of every request and hold, shortened rather than
//! dropped.

use ratatui::text::{Line, Span};

use super::text::{lock_name, middle, short_site, thread_name, width, wrap};
use crate::event::Mode;
use crate::model::{Deadlock, EdgeReason, Model, WaitEdge};
use crate::tui::theme::Theme;

/// The edge whose request closed the cycle (the latest to start waiting).
fn closing(d: &Deadlock) -> Option<&WaitEdge> {
    d.edges.iter().max_by_key(|e| e.since)
}

/// `DEADLOCK at file:line` (where the cycle closed), in at most `cols` columns.
pub(super) fn banner(t: Theme, d: &Deadlock, cols: usize) -> Line<'static> {
    let word = "DEADLOCK";
    let n = d.edges.len();
    let count = if n == 1 {
        " (a thread waits for itself)".to_owned()
    } else {
        format!(" ({n} threads)")
    };
    let mut text = word.to_owned();
    if let Some(e) = closing(d) {
        let room = cols.saturating_sub(width(word) + 4);
        if room >= 6 {
            text.push_str(" at ");
            text.push_str(&short_site(e.requested_at, room));
        }
    }
    if width(&text) + width(&count) <= cols {
        text.push_str(&count);
    }
    Line::from(Span::styled(middle(&text, cols).into_owned(), t.banner()))
}

/// Row `i` of the ring, in at most `cols` columns: names are shortened in the
/// middle (never to a shared prefix) before the row is cut.
pub(super) fn ring_row(
    t: Theme,
    model: &Model,
    d: &Deadlock,
    i: usize,
    cols: usize,
) -> Line<'static> {
    let n = d.edges.len();
    let e = d.edges[i];
    let prefix = match i {
        _ if n == 1 => "⟲ ",
        0 => "╭▶",
        _ if i + 1 == n => "╰─",
        _ => "│ ",
    };
    let mode = if e.mode == Mode::Shared {
        " (read)"
    } else {
        ""
    };
    let joins = e.reason == EdgeReason::Joins;
    let mut thread = thread_name(model, e.thread);
    let mut lock = if joins {
        thread_name(model, e.holder)
    } else {
        format!("{}{mode}", lock_name(model, e.lock))
    };
    let long_arrow = match e.reason {
        EdgeReason::Joins => " ─joins→ ",
        // The ring is compact; the edge list spells them out.
        EdgeReason::AwaitsMessage => " ─message on→ ",
        EdgeReason::AwaitsRoom => " ─room on→ ",
        EdgeReason::AwaitsArrival => " ─waits at→ ",
        EdgeReason::Holds | EdgeReason::QueuedWriter => " ─waits→ ",
    };
    // Narrow: a plain arrow rather than names cut to nothing.
    let floor = |s: &str| width(s).min(6);
    let arrow = if width(prefix) + width(long_arrow) + floor(&thread) + floor(&lock) > cols {
        " → "
    } else {
        long_arrow
    };
    let held = match (e.reason, i + 1 == n) {
        (EdgeReason::Joins, _) => "",
        (EdgeReason::AwaitsMessage, false) => " ─sender↓",
        (EdgeReason::AwaitsMessage, true) => " ─sender↑",
        (EdgeReason::AwaitsRoom, false) => " ─receiver↓",
        (EdgeReason::AwaitsRoom, true) => " ─receiver↑",
        (EdgeReason::AwaitsArrival, false) => " ─for↓",
        (EdgeReason::AwaitsArrival, true) => " ─for↑",
        (_, _) if n == 1 => " ─held by itself",
        (EdgeReason::QueuedWriter, false) => " ─behind↓",
        (EdgeReason::QueuedWriter, true) => " ─behind↑",
        (EdgeReason::Holds, false) => " ─held by↓",
        (EdgeReason::Holds, true) => " ─held by↑",
    };
    let fixed = width(prefix) + width(arrow);
    let used = |a: &str, b: &str| fixed + width(a) + width(b);
    if used(&thread, &lock) > cols {
        // Shorten the longer name first, down to 6 columns each.
        let over = used(&thread, &lock) - cols;
        let (long, short) = if width(&thread) >= width(&lock) {
            (&mut thread, &mut lock)
        } else {
            (&mut lock, &mut thread)
        };
        let cut = over.min(width(long).saturating_sub(6));
        *long = middle(long, width(long) - cut).into_owned();
        let over = (fixed + width(long) + width(short)).saturating_sub(cols);
        let cut = over.min(width(short).saturating_sub(6));
        *short = middle(short, width(short) - cut).into_owned();
    }
    let style = t.deadlock();
    let mut spans = vec![
        Span::styled(prefix, style),
        Span::styled(thread, style.patch(t.bold())),
        Span::styled(arrow, style),
        Span::styled(lock, style.patch(t.bold())),
    ];
    let w: usize = spans.iter().map(Span::width).sum();
    if w + width(held) <= cols {
        spans.push(Span::styled(held, style));
    }
    Line::from(spans)
}

/// Where each thread of the cycle asked for its lock and where its holder
/// took it, one wrapped entry per edge, sites shortened to fit.
pub(super) fn site_lines(t: Theme, model: &Model, d: &Deadlock, cols: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let room = cols.saturating_sub(4).max(1);
    let site = |s| short_site(s, room);
    for e in &d.edges {
        let asked = site(e.requested_at);
        let held = site(e.held_at);
        let verb = match e.reason {
            EdgeReason::Holds => "held at",
            EdgeReason::QueuedWriter => "writer asked at",
            EdgeReason::Joins
            | EdgeReason::AwaitsMessage
            | EdgeReason::AwaitsRoom
            | EdgeReason::AwaitsArrival => "",
        };
        // A site is named once, even when the request and the hold share it.
        let text = if e.reason == EdgeReason::Joins {
            format!("{} joins at {asked}", thread_name(model, e.thread))
        } else if matches!(
            e.reason,
            EdgeReason::AwaitsMessage | EdgeReason::AwaitsRoom | EdgeReason::AwaitsArrival
        ) {
            format!("{} waits at {asked}", thread_name(model, e.thread))
        } else if e.requested_at == e.held_at {
            format!("{} asked and {verb} {asked}", thread_name(model, e.thread))
        } else {
            format!(
                "{} asked at {asked} · {verb} {held}",
                thread_name(model, e.thread)
            )
        };
        // Too long for one line: the hold starts a line of its own, so a
        // short panel cuts between the two sites, never inside one phrase.
        let parts: Vec<&str> = if text.chars().count() > room {
            text.split(" · ").collect()
        } else {
            vec![text.as_str()]
        };
        let lines = parts.iter().flat_map(|part| wrap(part, room));
        for (i, l) in lines.enumerate() {
            let indent = if i == 0 { "  " } else { "    " };
            out.push(Line::styled(format!("{indent}{l}"), t.dim()));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::super::text::{middle, short_site};
    use crate::TransportStats;
    use crate::event::{LockKind, Site};
    use crate::tui::fixtures::{MS, Script, abba, philosophers_deadlock};
    use crate::tui::{App, AppConfig, RunState, draw};

    /// The wait-for panel's inside, line by line, at `width` × `height`.
    fn panel(events: &[crate::event::Event], width: u16, height: u16) -> Vec<String> {
        let mut app = App::new(AppConfig {
            title: "t".into(),
            color: false,
            history_spans: 10_000,
        });
        app.ingest(events);
        app.tick(5_000 * MS, TransportStats::default());
        app.set_run_state(RunState::Deadlocked);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| draw(frame, &app)).unwrap();
        let buf = terminal.backend().buffer();
        let screen: Vec<String> = (0..height)
            .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect())
            .collect();
        let top = screen.iter().position(|l| l.contains("Wait-for")).unwrap();
        // The panel's left border, in columns.
        let at = screen[top].find("┌ Wait-for").unwrap();
        let x = screen[top][..at].chars().count();
        screen[top + 1..]
            .iter()
            .take_while(|l| l.chars().nth(x).is_none_or(|c| c != '└'))
            .map(|l| l.chars().skip(x + 1).collect::<String>())
            .collect()
    }

    fn three_cycle() -> Vec<crate::event::Event> {
        let mut s = Script::new();
        for (i, (lock, thread)) in [("A", "first"), ("B", "second"), ("C", "third")]
            .into_iter()
            .enumerate()
        {
            s.lock(i as u32, lock, LockKind::Mutex)
                .thread(i as u32, thread);
        }
        for i in 0..3 {
            s.at(MS * (1 + u64::from(i))).acquire(i, i);
        }
        for i in 0..3 {
            s.at(MS * (20 + u64::from(i))).request(i, (i + 1) % 3);
        }
        s.build()
    }

    #[test]
    fn at_80x24_the_panel_names_the_deadlock_every_thread_and_a_site() {
        let cases: [(&str, Vec<crate::event::Event>, Vec<&str>); 3] = [
            ("abba", abba(), vec!["left", "right"]),
            (
                "three-cycle",
                three_cycle(),
                vec!["first", "second", "third"],
            ),
            (
                "philosophers",
                philosophers_deadlock(),
                vec![
                    "philosopher 0",
                    "philosopher 1",
                    "philosopher 2",
                    "philosopher 3",
                    "philosopher 4",
                ],
            ),
        ];
        for (name, events, threads) in cases {
            let lines = panel(&events, 80, 24);
            let all = lines.join("\n");
            assert!(lines[0].starts_with("DEADLOCK"), "{name}:\n{all}");
            for th in threads {
                assert!(all.contains(th), "{name} {th}:\n{all}");
            }
            assert!(
                all.contains("scenario.toml:2"),
                "{name}: no file:line\n{all}"
            );
        }
    }

    #[test]
    fn the_banner_stays_on_top_when_the_selection_scrolls() {
        let mut app = App::new(AppConfig {
            title: "t".into(),
            color: false,
            history_spans: 10_000,
        });
        app.ingest(&philosophers_deadlock());
        app.focus = crate::tui::Focus::WaitFor;
        app.move_selection(isize::MAX / 2);
        let mut terminal = Terminal::new(TestBackend::new(60, 15)).unwrap();
        terminal.draw(|frame| draw(frame, &app)).unwrap();
        let buf = terminal.backend().buffer();
        let text: Vec<String> = (0..15)
            .map(|y| (0..60).map(|x| buf[(x, y)].symbol()).collect())
            .collect();
        let top = text.iter().position(|l| l.contains("Wait-for")).unwrap();
        assert!(text[top + 1].contains("DEADLOCK"), "{}", text.join("\n"));
        // The last selectable row (the potential cycle) is in view below it.
        let mut below = text[top + 2..].iter().take_while(|l| !l.contains('└'));
        assert!(
            below.any(|l| l.contains("POTENTIAL")),
            "{}",
            text.join("\n")
        );
    }

    #[test]
    fn a_narrow_ring_row_keeps_both_names_with_a_plain_arrow() {
        let mut model = crate::model::Model::new();
        for ev in philosophers_deadlock() {
            model.apply(&ev);
        }
        let d = model.active_deadlocks().next().unwrap().clone();
        let t = crate::tui::theme::Theme::new(false);
        let row = |cols| super::ring_row(t, &model, &d, 0, cols).to_string();
        assert_eq!(row(60), "╭▶philosopher 0 ─waits→ fork 1 ─held by↓");
        assert_eq!(row(30), "╭▶philosopher 0 ─waits→ fork 1");
        assert_eq!(row(22), "╭▶philo…her 0 → fork 1");
    }

    #[test]
    fn names_and_sites_are_shortened_in_the_middle() {
        assert_eq!(middle("philosopher 3", 13), "philosopher 3");
        assert_eq!(middle("philosopher 3", 8), "phi…er 3");
        assert_ne!(middle("philosopher 3", 8), middle("philosopher 4", 8));
        assert_eq!(middle("数据库线程", 5), "数…程");
        assert_eq!(middle("abc", 1), "…");
        let site = Site {
            file: "src/very/long/path/to/main.rs",
            line: 48,
            column: 9,
        };
        assert_eq!(short_site(site, 40), "src/very/long/path/to/main.rs:48");
        assert_eq!(short_site(site, 12), "main.rs:48");
        assert_eq!(short_site(site, 8), "ma…rs:48");
        assert!(short_site(site, 2).chars().count() <= 2);
    }
}
