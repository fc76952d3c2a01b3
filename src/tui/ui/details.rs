//! Details of the selected thread (what it holds and waits for, where, since
//! when) or of the selected lock (holders, waiters, statistics, creation site).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::panel;
use super::text::{count, lock_name, thread_name};
use crate::event::{LockKind, Mode, Nanos, Site};
use crate::model::{LockState, Model, ThreadState, ThreadStatus, format_duration};
use crate::tui::app::{App, Focus};
use crate::tui::rows::{live, lock_order, selected_lock_row};
use crate::tui::theme::Theme;

/// Draws the details panel for the focused panel's selection.
pub(super) fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let view = app.view();
    let model = view.model;
    let (title, lines) = if app.focus == Focus::Locks {
        let order = lock_order(model, app.sort, view.now);
        let lock = order.get(selected_lock_row(&order, app.lock_sel));
        match lock.and_then(|&id| model.lock(id)) {
            Some(lock) => (
                " Lock details (Enter closes) ",
                lock_lines(t, model, lock, view.now),
            ),
            None => (
                " Lock details ",
                vec![Line::styled("no lock selected", t.dim())],
            ),
        }
    } else {
        let threads = model.threads();
        match threads.get(app.thread_sel.min(threads.len().saturating_sub(1))) {
            Some(th) => (
                " Thread details (Enter closes) ",
                thread_lines(t, model, th, view.now),
            ),
            None => (
                " Thread details ",
                vec![Line::styled("no thread selected", t.dim())],
            ),
        }
    };
    let block = panel(t, title, true);
    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .render(area, buf);
}

/// `since 12ms (for 3ms)`: an instant and how long ago it was.
fn since(at: Nanos, now: Nanos) -> String {
    format!(
        "since {} (for {})",
        format_duration(at),
        format_duration(now.saturating_sub(at))
    )
}

/// ` (read)` / ` (write)` for an rwlock; nothing for a mutex, which has one mode.
fn mode(kind: LockKind, mode: Mode) -> &'static str {
    match (kind, mode) {
        (LockKind::RwLock, Mode::Shared) => " (read)",
        (LockKind::RwLock, Mode::Exclusive) => " (write)",
        _ => "",
    }
}

/// `    acquired at file:line`, under the line it belongs to.
fn site_line(t: Theme, what: &str, site: Site) -> Line<'static> {
    Line::styled(format!("      {what} {site}"), t.dim())
}

fn heading(t: Theme, text: &str) -> Line<'static> {
    Line::styled(text.to_owned(), t.bold())
}

fn thread_lines(t: Theme, model: &Model, th: &ThreadState, now: Nanos) -> Vec<Line<'static>> {
    let in_cycle = model.in_cycle(th.id);
    let name_style = if in_cycle { t.deadlock() } else { t.bold() };
    let mut lines = vec![Line::from(vec![
        Span::styled(thread_name(model, th.id), name_style),
        Span::styled(format!("  thread #{}", th.id.0), t.dim()),
    ])];
    let mut status = vec![
        Span::raw("status: "),
        Span::styled(th.status.name(), t.bold()),
    ];
    if in_cycle {
        status.push(Span::styled("  IN A DEADLOCK CYCLE", t.deadlock()));
    }
    lines.push(Line::from(status));
    match &th.status {
        ThreadStatus::Waiting {
            lock,
            mode: m,
            since: at,
            site,
            timed,
        } => {
            let kind = model.lock(*lock).map_or(LockKind::Mutex, |l| l.kind);
            lines.push(Line::from(vec![
                Span::raw("waits for "),
                Span::styled(lock_name(model, *lock), t.waiting()),
                Span::raw(format!(
                    "{}{} {}",
                    mode(kind, *m),
                    if *timed { " (timed)" } else { "" },
                    since(*at, now)
                )),
            ]));
            lines.push(site_line(t, "requested at", *site));
            if let Some(l) = model.lock(*lock) {
                for h in &l.holders {
                    lines.push(Line::from(vec![
                        Span::raw("  held by "),
                        Span::styled(thread_name(model, h.thread), t.holding()),
                        Span::raw(mode(l.kind, h.mode)),
                    ]));
                    lines.push(site_line(t, "acquired at", h.site));
                }
            }
        }
        ThreadStatus::CondWait {
            condvar,
            mutex,
            since: at,
            site,
            ..
        } => {
            lines.push(Line::from(vec![
                Span::raw("waits on condvar "),
                Span::styled(lock_name(model, *condvar), t.cond_wait()),
                Span::raw(format!(
                    " ({} released) {}",
                    lock_name(model, *mutex),
                    since(*at, now)
                )),
            ]));
            lines.push(site_line(t, "waiting at", *site));
        }
        ThreadStatus::Blocked {
            on,
            since: at,
            site,
            timed,
        } => {
            lines.push(Line::styled(
                format!(
                    "{}{} {}",
                    crate::model::describe_blocker(model, *on),
                    if *timed { " (timed)" } else { "" },
                    since(*at, now)
                ),
                t.waiting(),
            ));
            lines.push(site_line(t, "waiting at", *site));
        }
        ThreadStatus::Panicked { message } => {
            lines.push(Line::styled(
                format!("panicked: {}", crate::model::sanitize(message)),
                t.panicked(),
            ));
        }
        ThreadStatus::Running | ThreadStatus::Finished => {}
    }
    lines.push(heading(t, "holds:"));
    if th.held.is_empty() {
        lines.push(Line::styled("  nothing", t.dim()));
    }
    for h in &th.held {
        let kind = model.lock(h.lock).map_or(LockKind::Mutex, |l| l.kind);
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(lock_name(model, h.lock), t.holding()),
            Span::raw(format!("{} {}", mode(kind, h.mode), since(h.since, now))),
        ]));
        lines.push(site_line(t, "acquired at", h.site));
    }
    let times = th.times(now);
    lines.push(heading(t, "time:"));
    lines.push(Line::raw(format!(
        "  alive {} · running {} · holding {}",
        format_duration(times.alive),
        format_duration(times.running),
        format_duration(times.holding),
    )));
    lines.push(Line::raw(format!(
        "  waiting {} · condvar {}",
        format_duration(times.waiting),
        format_duration(times.cond_waiting),
    )));
    lines.push(Line::raw(format!(
        "  acquisitions {} · contended {}",
        count(th.stats.acquisitions),
        count(th.stats.contended),
    )));
    let ended = th.ended_at.map_or(String::new(), |e| {
        format!(", ended at {}", format_duration(e))
    });
    lines.push(Line::raw(format!(
        "  started at {}{ended}",
        format_duration(th.started_at)
    )));
    lines
}

fn lock_lines(t: Theme, model: &Model, lock: &LockState, now: Nanos) -> Vec<Line<'static>> {
    let in_cycle = model.locks_in_cycles().binary_search(&lock.id).is_ok();
    let name_style = if in_cycle { t.deadlock() } else { t.bold() };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(lock_name(model, lock.id), name_style),
            Span::styled(format!("  {} #{}", lock.kind, lock.id.0), t.dim()),
        ]),
        Line::styled(format!("created at {}", lock.site), t.dim()),
    ];
    if in_cycle {
        lines.push(Line::styled("waited for in a DEADLOCK cycle", t.deadlock()));
    }
    if lock.kind == LockKind::Condvar {
        lines.push(heading(t, "waiting on it:"));
        if lock.cond_waiters.is_empty() {
            lines.push(Line::styled("  nobody", t.dim()));
        }
        for (i, &th) in lock.cond_waiters.iter().enumerate() {
            lines.push(Line::raw(format!(
                "  {}. {}",
                i + 1,
                thread_name(model, th)
            )));
        }
        lines.push(Line::raw(format!(
            "waits {} · notifies {}",
            count(lock.stats.waits),
            count(lock.stats.notifies)
        )));
        return lines;
    }
    lines.push(heading(t, "held by:"));
    if lock.holders.is_empty() {
        lines.push(Line::styled("  nobody (free)", t.dim()));
    }
    for h in &lock.holders {
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(thread_name(model, h.thread), t.holding()),
            Span::raw(format!(
                "{} {}",
                mode(lock.kind, h.mode),
                since(h.since, now)
            )),
        ]));
        lines.push(site_line(t, "acquired at", h.site));
    }
    lines.push(heading(t, "waiters, first come first:"));
    if lock.waiters.is_empty() {
        lines.push(Line::styled("  none", t.dim()));
    }
    for (i, w) in lock.waiters.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::raw(format!("  {}. ", i + 1)),
            Span::styled(thread_name(model, w.thread), t.waiting()),
            Span::raw(format!(
                "{} {}",
                mode(lock.kind, w.mode),
                since(w.since, now)
            )),
        ]));
        lines.push(site_line(t, "requested at", w.site));
    }
    // What goes on now counts: a wait of seconds is the longest wait.
    let live = live(lock, now);
    let s = &live.stats;
    lines.push(heading(t, "stats (what goes on now included):"));
    lines.push(Line::raw(format!(
        "  acquisitions {} · contended {} · waiting {} ({:.1}%)",
        count(s.acquisitions),
        count(s.contended),
        count(live.waiting),
        live.contention_pct()
    )));
    lines.push(Line::raw(format!(
        "  wait total {} · max {}",
        format_duration(s.total_wait),
        format_duration(s.max_wait)
    )));
    lines.push(Line::raw(format!(
        "  hold total {} · max {}",
        format_duration(s.total_hold),
        format_duration(s.max_hold)
    )));
    lines.push(Line::raw(format!(
        "  try failures {} · timeouts {}",
        count(s.try_failures),
        count(s.timeouts)
    )));
    lines
}
