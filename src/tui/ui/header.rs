//! The status line: what runs, how, for how long, how many events, whether any were lost.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::text::{count, elapsed};
use crate::model::{STALL_GRACE_NS, sanitize};
use crate::tui::app::{App, RunState};

/// Between the header's fields.
const SEP: &str = " │ ";

/// Draws the header line.
pub(super) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let mut line = header_line(app);
    let cols = usize::from(area.width);
    if line.width() > cols {
        // Narrow: the program's name matters more than ours.
        line.spans.drain(..2);
    }
    // Then the last fields give way whole, never cut in the middle.
    while line.width() > cols {
        let Some(sep) = line.spans.iter().rposition(|s| s.content == SEP) else {
            break;
        };
        line.spans.truncate(sep);
    }
    buf.set_line(area.x, area.y, &line, area.width);
}

fn header_line(app: &App) -> Line<'static> {
    let t = app.theme;
    let model = app.model();
    let sep = || Span::styled(SEP, t.dim());
    let mut spans = vec![
        Span::styled(" lockscope", t.bold()),
        Span::styled(" ·", t.dim()),
        Span::styled(format!(" {}", sanitize(&app.config.title)), t.bold()),
        sep(),
    ];
    spans.push(if let Some(label) = &app.mode_label {
        Span::styled(label.clone(), t.warning().patch(t.bold()))
    } else if app.paused() {
        Span::styled("PAUSED", t.warning().patch(t.bold()))
    } else if let Some(panel) = app.step_panel.as_ref().filter(|p| p.on) {
        let text = match panel.progress {
            Some((k, n)) => format!("STEP {k}/{n}"),
            None => "STEP".to_owned(),
        };
        Span::styled(text, t.parked())
    } else {
        Span::styled("LIVE", t.good().patch(t.bold()))
    });
    spans.push(sep());
    let deadlocked =
        app.run_state == RunState::Deadlocked || model.active_deadlocks().next().is_some();
    let stalled = model.stall_at(app.now, STALL_GRACE_NS).is_some();
    spans.push(match app.run_state {
        _ if deadlocked => Span::styled("DEADLOCK", t.deadlock()),
        _ if stalled => Span::styled("STALL", t.deadlock()),
        RunState::Finished if app.expectation_failed() => {
            Span::styled("finished, expect FAILED", t.deadlock())
        }
        RunState::Running => Span::styled("running", t.text()),
        RunState::Finished => Span::styled("finished", t.good()),
        RunState::TimedOut => Span::styled("timed out", t.warning()),
        RunState::Deadlocked => Span::styled("DEADLOCK", t.deadlock()),
    });
    spans.push(sep());
    spans.push(Span::styled(elapsed(app.clock()), t.text()));
    spans.push(sep());
    spans.push(Span::styled(
        format!("{} events", count(model.events())),
        t.text(),
    ));
    spans.push(Span::styled(format!(" {}/s", count(app.rate())), t.dim()));
    spans.push(sep());
    spans.extend(loss(app));
    spans.push(sep());
    let alive = model
        .threads()
        .iter()
        .filter(|th| !th.status.is_done())
        .count();
    spans.push(Span::styled(
        format!("alive {alive}/{}", model.threads().len()),
        t.text(),
    ));
    Line::from(spans)
}

/// `dropped 0` when the transport and the model are healthy; otherwise every
/// problem named, loudly, with what it means for the analysis.
fn loss(app: &App) -> Vec<Span<'static>> {
    let t = app.theme;
    let tr = app.transport;
    let anomalies = app.model().anomalies();
    // Dropped batches, and skipped sequence numbers (events that never
    // arrived), are both lost events.
    let lost = tr.dropped.max(tr.skipped) + tr.listener_dropped;
    if lost == 0 && tr.late == 0 && anomalies == 0 {
        return vec![Span::styled("dropped 0", t.good())];
    }
    let mut parts = vec![format!("dropped {}", count(lost))];
    if tr.late > 0 {
        parts.push(format!("late {}", count(tr.late)));
    }
    if anomalies > 0 {
        parts.push(format!("anomalies {}", count(anomalies)));
    }
    vec![
        Span::styled(parts.join(" · "), t.deadlock()),
        Span::styled(" (analysis unreliable)", t.deadlock()),
    ]
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Style};

    use super::*;
    use crate::TransportStats;
    use crate::tui::AppConfig;
    use crate::tui::fixtures::{abba, philosophers_running};

    fn app(color: bool) -> App {
        App::new(AppConfig {
            title: "philosophers".into(),
            color,
            history_spans: 10_000,
        })
    }

    fn rendered(app: &App, width: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, width, 1));
        render(app, buf.area, &mut buf);
        buf
    }

    fn plain(mut buf: Buffer) -> Buffer {
        buf.set_style(buf.area, Style::reset());
        buf
    }

    /// The row's text and the column where `needle` starts in it.
    fn find(buf: &Buffer, needle: &str) -> (String, u16) {
        let text: String = (0..buf.area.width)
            .map(|x| buf[(x, 0)].symbol().to_owned())
            .collect();
        let at = text.find(needle).map_or(0, |i| text[..i].chars().count());
        (text, u16::try_from(at).unwrap_or(0))
    }

    #[test]
    fn a_healthy_running_header() {
        let mut app = app(true);
        app.ingest(&philosophers_running());
        app.tick(0, TransportStats::default());
        app.tick(1_234_000_000, TransportStats::default());
        let buf = rendered(&app, 96);
        assert_eq!(
            plain(buf.clone()),
            Buffer::with_lines([
                " lockscope · philosophers │ LIVE │ running │ 1.2s │ 40 events 0/s │ dropped 0 │ alive 5/5       "
            ])
        );
        let (_, live) = find(&buf, "LIVE");
        assert_eq!(buf[(live, 0)].fg, Color::Green);
        assert!(
            buf[(live, 0)]
                .modifier
                .contains(ratatui::style::Modifier::BOLD)
        );
        let (_, dropped) = find(&buf, "dropped 0");
        assert_eq!(buf[(dropped, 0)].fg, Color::Green);
        let (_, sep) = find(&buf, "│");
        assert_eq!(buf[(sep, 0)].fg, Color::DarkGray);
    }

    #[test]
    fn the_rate_is_events_per_second_between_ticks() {
        let mut app = app(false);
        app.tick(0, TransportStats::default());
        app.ingest(&abba());
        app.tick(500_000_000, TransportStats::default());
        let (text, _) = find(&rendered(&app, 120), "");
        assert!(text.contains("│ 8 events 16/s │"), "{text}");
    }

    #[test]
    fn a_deadlocked_header_says_so_in_red() {
        let mut app = app(true);
        app.ingest(&abba());
        app.set_run_state(RunState::Deadlocked);
        app.tick(20_000_000, TransportStats::default());
        let buf = rendered(&app, 120);
        let (text, x) = find(&buf, "DEADLOCK");
        assert_eq!(buf[(x, 0)].fg, Color::Red);
        assert!(text.contains("alive 2/2"), "{text}");
    }

    #[test]
    fn a_stall_shows_once_its_grace_period_has_passed() {
        use crate::event::{Event, EventKind, LockId, Site, ThreadId};
        let mut app = app(true);
        let (cv, m) = (LockId(0), LockId(1));
        let ev = |time, kind| Event {
            time,
            thread: ThreadId(0),
            kind,
        };
        app.ingest(&[
            ev(
                0,
                EventKind::ThreadStart {
                    name: "consumer".into(),
                },
            ),
            ev(
                1,
                EventKind::CondWait {
                    condvar: cv,
                    mutex: m,
                    site: Site::UNKNOWN,
                    seq: 1,
                    timed: false,
                },
            ),
        ]);
        app.tick(STALL_GRACE_NS / 2, TransportStats::default());
        let (text, _) = find(&rendered(&app, 120), "");
        assert!(text.contains("│ running │"), "{text}");
        app.tick(STALL_GRACE_NS + 1, TransportStats::default());
        let buf = rendered(&app, 120);
        let (text, x) = find(&buf, "STALL");
        assert!(text.contains("│ STALL │"), "{text}");
        assert_eq!(buf[(x, 0)].fg, Color::Red);
    }

    #[test]
    fn lost_or_late_events_are_loud_and_named() {
        let mut app = app(false);
        app.ingest(&abba());
        let transport = TransportStats {
            sent: 10,
            received: 10,
            late: 2,
            skipped: 3,
            ..TransportStats::default()
        };
        app.tick(0, transport);
        app.on_action(crate::tui::Action::TogglePause);
        let buf = rendered(&app, 160);
        let (text, _) = find(&buf, "");
        assert!(text.contains("PAUSED │ DEADLOCK │ 0ms"), "{text}");
        assert!(
            text.contains("dropped 3 · late 2 (analysis unreliable)"),
            "{text}"
        );
        assert!(
            buf.content()
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
        );
    }
}
