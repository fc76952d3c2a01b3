//! The event log (newest at the bottom, filterable by thread or lock name)
//! and the observed program's captured output.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::{fit, fit_middle, put, thread_name};
use super::{focused, panel};
use crate::control::{StepLineKind, StepPanel};
use crate::event::{Event, EventKind, LockId};
use crate::model::{Description, Model, describe, format_duration, sanitize};
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

/// The style an event's sentence is shown in.
fn style_of(t: Theme, kind: &EventKind) -> Style {
    match kind {
        EventKind::ThreadStart { .. }
        | EventKind::ThreadExit
        | EventKind::LockCreated { .. }
        | EventKind::Released { .. } => t.dim(),
        EventKind::ThreadPanic { .. } => t.panicked(),
        EventKind::Request { .. } => t.waiting(),
        EventKind::Acquired { .. } => t.holding(),
        EventKind::TryFailed { .. } | EventKind::TimedOut { .. } => t.warning(),
        EventKind::CondWait { .. } | EventKind::CondWake { .. } => t.cond_wait(),
        EventKind::Notify { .. } => t.text(),
        EventKind::Block { .. } => t.waiting(),
        EventKind::Unblock { .. }
        | EventKind::BarrierTrip { .. }
        | EventKind::ChannelWake { .. }
        | EventKind::Handle { .. } => t.dim(),
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
    let what_w = usize::from(inner.width).saturating_sub(10 + 1 + thread_w + 1);
    for (i, (ev, name)) in shown.iter().zip(&names).enumerate() {
        // The text export's sentence; cut in the middle when narrow, since
        // a line's end is its site's line number.
        let what = describe(&ev.kind, model);
        let line = Line::from(vec![
            Span::styled(fit(&format_duration(ev.time), 10, true), t.dim()),
            Span::raw(" "),
            Span::styled(fit_middle(name, thread_w, false), t.bold()),
            Span::raw(" "),
            Span::styled(fit_sentence(&what, what_w), style_of(t, &ev.kind)),
        ]);
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}

/// A log sentence in `cols` columns: whole if it fits; else the lock's kind
/// word gives way (`waits for "A" (abba.toml:25)`), then the site's file is
/// shortened in the middle (`(phi…toml:77)`), then only the line number is
/// left (`(:77)`), then the site goes, so the sentence keeps the lock it
/// names; only then is the sentence itself cut in the middle.
fn fit_sentence(said: &Description, cols: usize) -> String {
    use super::text::{middle, width};
    let whole = said.to_string();
    if width(&whole) <= cols {
        return whole;
    }
    let what = said.what.as_str();
    let bare = without_kind(what);
    if let Some(site) = &said.site
        && let Some((file, line)) = site.rsplit_once(':')
    {
        // The whole site without the kind word, before a file cut short.
        let plain = format!("{bare} ({site})");
        if width(&plain) <= cols {
            return plain;
        }
        for (text, least) in [(what, 8), (bare.as_str(), 4)] {
            let room = cols.saturating_sub(width(text) + 2 + 1 + width(line) + 1);
            if room >= least {
                return format!("{text} ({}:{line})", middle(file, room));
            }
        }
        let short = format!("{bare} (:{line})");
        if width(&short) <= cols {
            return short;
        }
    }
    if width(what) <= cols {
        return what.to_owned();
    }
    middle(&bare, cols).into_owned()
}

/// The sentence without the kind word before its first quoted lock name.
fn without_kind(what: &str) -> String {
    for kind in ["mutex ", "rwlock ", "condvar ", "channel ", "barrier "] {
        if let Some(at) = what.find(&format!("{kind}\"")) {
            let mut bare = what.to_owned();
            bare.replace_range(at..at + kind.len(), "");
            return bare;
        }
    }
    what.to_owned()
}

/// A step-panel line in `cols` columns: whole if it fits; else its
/// `  (file:line)` is shortened, the line number kept; else the site goes and
/// the rest is cut at its end (what moves next matters most).
fn fit_step(text: &str, cols: usize) -> String {
    use super::text::{truncate, width};
    if width(text) <= cols {
        return text.to_owned();
    }
    let Some((head, site)) = text.strip_suffix(')').and_then(|t| t.rsplit_once("  (")) else {
        return truncate(text, cols).into_owned();
    };
    if let Some((file, line)) = site.rsplit_once(':') {
        let room = cols.saturating_sub(width(head) + 3 + 1 + width(line) + 1);
        if room >= 4 {
            return format!("{head}  ({}:{line})", super::text::middle(file, room));
        }
    }
    truncate(head, cols).into_owned()
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
    // A schedule's progress, then the threads; of the steps taken, the
    // latest that fit.
    let progress = panel
        .lines
        .iter()
        .take_while(|l| l.kind == StepLineKind::Note)
        .count();
    let threads = progress
        + panel.lines[progress..]
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
            // Blocked is ordinary waiting; the deadlock has its own lines.
            StepLineKind::Blocked => t.waiting(),
            StepLineKind::Quiet | StepLineKind::Note => t.dim(),
            StepLineKind::Taken => t.text(),
            StepLineKind::Deadlock => t.deadlock().patch(t.bold()),
        };
        let text = fit_step(&line.text, usize::from(inner.width));
        put(
            buf,
            inner.x,
            inner.y + i as u16,
            &text,
            usize::from(inner.width),
            style,
        );
    }
}

#[cfg(test)]
mod tests;
