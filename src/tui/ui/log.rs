//! The event log (newest at the bottom, filterable by thread or lock name)
//! and the observed program's captured output.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::{fit, lock_name, put, thread_name};
use super::{focused, panel};
use crate::control::{StepLineKind, StepPanel};
use crate::event::{Event, EventKind, LockId, Mode};
use crate::model::{Model, describe_blocker, format_duration, sanitize};
use crate::tui::app::{App, Focus};
use crate::tui::buffers::LOG_CAP;
use crate::tui::theme::Theme;

/// The widest the log's thread column gets.
const THREAD_COL: usize = 14;

/// The locks an event is about.
fn locks_of(kind: &EventKind) -> [Option<LockId>; 2] {
    match *kind {
        EventKind::LockCreated { lock, .. }
        | EventKind::Request { lock, .. }
        | EventKind::Acquired { lock, .. }
        | EventKind::Released { lock, .. }
        | EventKind::TryFailed { lock, .. }
        | EventKind::TimedOut { lock, .. } => [Some(lock), None],
        EventKind::CondWait { condvar, mutex, .. } | EventKind::CondWake { condvar, mutex, .. } => {
            [Some(condvar), Some(mutex)]
        }
        EventKind::Notify { condvar, .. } => [Some(condvar), None],
        EventKind::ThreadStart { .. } | EventKind::ThreadExit | EventKind::ThreadPanic { .. } => {
            [None, None]
        }
        EventKind::Block { on, .. } | EventKind::Unblock { on, .. } => [on.object(), None],
        EventKind::Handle { channel, .. }
        | EventKind::ChannelWake { channel, .. }
        | EventKind::BarrierTrip {
            barrier: channel, ..
        } => [Some(channel), None],
    }
}

/// Which threads and locks match a filter: a case-insensitive substring of
/// their (sanitised) names.
struct Filter {
    threads: Vec<bool>,
    locks: Vec<bool>,
}

impl Filter {
    fn new(model: &Model, needle: &str) -> Option<Filter> {
        if needle.is_empty() {
            return None;
        }
        let needle = needle.to_lowercase();
        let hit = |name: &str| sanitize(name).to_lowercase().contains(&needle);
        Some(Filter {
            threads: model.threads().iter().map(|t| hit(&t.name)).collect(),
            locks: model.locks().iter().map(|l| hit(&l.name)).collect(),
        })
    }

    fn matches(&self, ev: &Event) -> bool {
        self.threads
            .get(ev.thread.index())
            .copied()
            .unwrap_or(false)
            || locks_of(&ev.kind)
                .into_iter()
                .flatten()
                .any(|l| self.locks.get(l.index()).copied().unwrap_or(false))
    }
}

/// What an event says, in words, and the style it is shown in.
fn describe(t: Theme, model: &Model, kind: &EventKind) -> (String, Style) {
    let lock = |l: LockId| lock_name(model, l);
    let how = |mode: Mode| if mode == Mode::Shared { " (read)" } else { "" };
    match kind {
        EventKind::ThreadStart { .. } => ("started".into(), t.dim()),
        EventKind::ThreadExit => ("exited".into(), t.dim()),
        EventKind::ThreadPanic { message } => {
            (format!("PANICKED: {}", sanitize(message)), t.panicked())
        }
        EventKind::LockCreated {
            lock: l,
            kind,
            site,
            ..
        } => (format!("created {kind} {} at {site}", lock(*l)), t.dim()),
        EventKind::Request {
            lock: l,
            mode,
            site,
            timed,
            ..
        } => (
            format!(
                "waits for {}{}{} at {site}",
                lock(*l),
                how(*mode),
                if *timed { " (timed)" } else { "" }
            ),
            t.waiting(),
        ),
        EventKind::Acquired {
            lock: l,
            mode,
            site,
            tried,
            ..
        } => (
            format!(
                "{} {}{} at {site}",
                if *tried { "try-locked" } else { "acquired" },
                lock(*l),
                how(*mode)
            ),
            t.holding(),
        ),
        EventKind::Released { lock: l, mode, .. } => {
            (format!("released {}{}", lock(*l), how(*mode)), t.dim())
        }
        EventKind::TryFailed { lock: l, site, .. } => {
            (format!("try failed on {} at {site}", lock(*l)), t.warning())
        }
        EventKind::TimedOut { lock: l, .. } => {
            (format!("timed out waiting for {}", lock(*l)), t.warning())
        }
        EventKind::CondWait {
            condvar,
            mutex,
            site,
            ..
        } => (
            format!(
                "waits on {} (releases {}) at {site}",
                lock(*condvar),
                lock(*mutex)
            ),
            t.cond_wait(),
        ),
        EventKind::CondWake {
            condvar,
            mutex,
            timed_out,
            ..
        } => (
            format!(
                "{} {} (holds {} again)",
                if *timed_out {
                    "timed out on"
                } else {
                    "woke from"
                },
                lock(*condvar),
                lock(*mutex)
            ),
            t.cond_wait(),
        ),
        EventKind::Notify {
            condvar,
            all,
            woken,
            site,
        } => (
            format!(
                "{} {} (woke {woken}) at {site}",
                if *all { "notify_all" } else { "notify_one" },
                lock(*condvar)
            ),
            t.text(),
        ),
        EventKind::Block {
            on, site, timed, ..
        } => (
            format!(
                "{}{} at {site}",
                describe_blocker(model, *on),
                if *timed { " (timed)" } else { "" }
            ),
            t.waiting(),
        ),
        EventKind::Unblock { on, .. } => {
            (format!("done: {}", describe_blocker(model, *on)), t.dim())
        }
        EventKind::Handle {
            channel, end, to, ..
        } => {
            let end = match end {
                crate::event::End::Sender => "sender",
                crate::event::End::Receiver => "receiver",
            };
            let verb = if to.is_some() { "owns" } else { "dropped" };
            (format!("{verb} a {end} of {}", lock(*channel)), t.dim())
        }
        EventKind::BarrierTrip { barrier, .. } => (
            format!("arrived last at {}: it opens", lock(*barrier)),
            t.text(),
        ),
        EventKind::ChannelWake { channel, end, .. } => {
            let verb = match end {
                crate::event::End::Sender => "sent on",
                crate::event::End::Receiver => "received from",
            };
            (
                format!("{verb} {}, waking the other side", lock(*channel)),
                t.text(),
            )
        }
    }
}

/// Draws the event log.
pub(super) fn render_log(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let view = app.view();
    let model = view.model;
    let is_focused = focused(app, Focus::Log);
    let mut title = vec![Span::raw(format!(" Log (last {}) ", LOG_CAP))];
    if !app.filter.is_empty() {
        title.push(Span::styled(
            format!("filter: {} ", sanitize(&app.filter)),
            t.warning(),
        ));
    } else {
        title.push(Span::styled("/ filters ", t.dim()));
    }
    if app.log_scroll > 0 {
        title.push(Span::styled(format!("↑{} ", app.log_scroll), t.dim()));
    }
    let block = panel(t, Line::from(title), is_focused);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let filter = Filter::new(model, &app.filter);
    let visible = usize::from(inner.height);
    let mut matching: Vec<&Event> = view
        .log
        .events()
        .iter()
        .filter(|ev| filter.as_ref().is_none_or(|f| f.matches(ev)))
        .collect();
    // In the order things happened: the collector merges threads' streams in
    // the order it reads them (keeping each thread's and each lock's order).
    // A stable sort keeps that order among equal times.
    matching.sort_by_key(|ev| ev.time);
    matching.reverse();
    // Scrolled up at most until the oldest match reaches the top line.
    let scroll = app.log_scroll.min(matching.len().saturating_sub(visible));
    let mut shown: Vec<&Event> = matching.into_iter().skip(scroll).take(visible).collect();
    if shown.is_empty() {
        let msg = if filter.is_some() {
            "no events match the filter"
        } else {
            "no events yet"
        };
        put(
            buf,
            inner.x,
            inner.y,
            msg,
            usize::from(inner.width),
            t.dim(),
        );
        return;
    }
    shown.reverse();
    let names: Vec<String> = shown
        .iter()
        .map(|ev| thread_name(model, ev.thread))
        .collect();
    let thread_w = names
        .iter()
        .map(|n| super::text::width(n))
        .max()
        .unwrap_or(0)
        .min(THREAD_COL);
    for (i, (ev, name)) in shown.iter().zip(&names).enumerate() {
        let (what, style) = describe(t, model, &ev.kind);
        let line = Line::from(vec![
            Span::styled(fit(&format_duration(ev.time), 10, true), t.dim()),
            Span::raw(" "),
            Span::styled(fit(name, thread_w, false), t.bold()),
            Span::raw(" "),
            Span::styled(what, style),
        ]);
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}

/// Draws the program's captured output, newest at the bottom.
pub(super) fn render_output(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let out = &app.output;
    let title = match (out.len(), out.dropped()) {
        (0, _) => " Output ".to_owned(),
        (n, 0) => format!(" Output ({n} lines) "),
        (n, d) => format!(" Output ({n} lines, {d} older dropped) "),
    };
    let block = panel(t, title, focused(app, Focus::Output));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    if out.len() == 0 {
        put(
            buf,
            inner.x,
            inner.y,
            "no output from the program",
            usize::from(inner.width),
            t.dim(),
        );
        return;
    }
    let visible = usize::from(inner.height);
    let scroll = app.output_scroll.min(out.len().saturating_sub(visible));
    let mut lines: Vec<&str> = out.lines().rev().skip(scroll).take(visible).collect();
    lines.reverse();
    for (i, line) in lines.iter().enumerate() {
        // Already sanitised when captured.
        put(
            buf,
            inner.x,
            inner.y + i as u16,
            line,
            usize::from(inner.width),
            t.text(),
        );
    }
}

/// Step mode's panel, in place of the program's output.
pub(super) fn render_steps(app: &App, panel: &StepPanel, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let block = super::panel(t, panel.title.clone(), focused(app, Focus::Output));
    let inner = block.inner(area);
    block.render(area, buf);
    let visible = usize::from(inner.height);
    // The threads first; of the steps taken, the latest that fit.
    let threads = panel
        .lines
        .iter()
        .take_while(|l| {
            !matches!(
                l.kind,
                StepLineKind::Taken | StepLineKind::Deadlock | StepLineKind::Note
            )
        })
        .count();
    let rest = &panel.lines[threads..];
    let room = visible.saturating_sub(threads);
    let shown = panel.lines[..threads]
        .iter()
        .chain(rest.iter().skip(rest.len().saturating_sub(room)));
    for (i, line) in shown.take(visible).enumerate() {
        let style = match line.kind {
            StepLineKind::Movable => t.bold(),
            StepLineKind::Blocked => t.deadlock(),
            StepLineKind::Quiet | StepLineKind::Note => t.dim(),
            StepLineKind::Taken => t.text(),
            StepLineKind::Deadlock => t.deadlock().patch(t.bold()),
        };
        put(
            buf,
            inner.x,
            inner.y + i as u16,
            &line.text,
            usize::from(inner.width),
            style,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::abba;

    #[test]
    fn filters_match_thread_or_lock_names_case_insensitively() {
        let mut model = Model::new();
        let events = abba();
        for ev in &events {
            model.apply(ev);
        }
        let f = Filter::new(&model, "LEFT").expect("a filter");
        let hits: Vec<&str> = events
            .iter()
            .filter(|e| f.matches(e))
            .map(|e| e.kind.name())
            .collect();
        // The script creates both locks on thread 0, "left".
        let expected = [
            "lock_created",
            "lock_created",
            "thread_start",
            "acquired",
            "request",
        ];
        assert_eq!(hits, expected);
        let f = Filter::new(&model, "b").expect("a filter");
        let hits = events.iter().filter(|e| f.matches(e)).count();
        assert_eq!(hits, 3, "B's creation, right taking it, left asking for it");
        assert!(Filter::new(&model, "").is_none());
    }

    #[test]
    fn events_read_as_sentences() {
        let mut model = Model::new();
        for ev in abba() {
            model.apply(&ev);
        }
        let t = Theme::new(false);
        let said: Vec<String> = abba()
            .iter()
            .map(|e| describe(t, &model, &e.kind).0)
            .collect();
        assert_eq!(said[0], "created mutex A at scenario.toml:2");
        assert_eq!(said[4], "acquired A at scenario.toml:20");
        assert_eq!(said[6], "waits for B at scenario.toml:22");
    }
}
