//! Human-readable reports. Every name passes through [`sanitize`] first.

use std::fmt::Write as _;

use crate::event::{Blocker, LockKind, Mode, Nanos};

use super::lockorder::PotentialKind;
use super::summary::{DeadlockReport, PotentialReport, Summary, WaitEdgeReport};
use super::waitfor::{Deadlock, EdgeReason};
use super::{Model, PotentialDeadlock};

/// Neutralises untrusted text for a terminal: C0 and C1 control characters
/// (including ESC and DEL) and the invisible bidirectional controls
/// (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) become `\u{..}`.
///
/// The result contains none of them, so sanitizing twice changes nothing.
///
/// # Examples
///
/// ```
/// use lockscope::model::sanitize;
///
/// assert_eq!(sanitize("evil\x1b[2Jname"), "evil\\u{1b}[2Jname");
/// assert_eq!(sanitize("abc\u{202e}"), "abc\\u{202e}");
/// assert_eq!(sanitize("fine ünïcode"), "fine ünïcode");
/// ```
pub fn sanitize(name: &str) -> String {
    if !name.chars().any(needs_escape) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// What a thread blocked on another thread waits for, in words, names
/// sanitised: `joins thread "worker"`, `waits for a message on channel
/// "jobs"`, `waits for room on channel "jobs"`. The log, the details panel, step mode
/// and the text export all say it this way.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Blocker, ThreadId};
/// use lockscope::model::{Model, describe_blocker};
///
/// let model = Model::new();
/// assert_eq!(describe_blocker(&model, Blocker::Join(ThreadId(3))), "joins thread \"?\"");
/// ```
pub fn describe_blocker(model: &Model, on: Blocker) -> String {
    match on {
        Blocker::Join(t) => format!("joins thread \"{}\"", sanitize(model.thread_name(t))),
        Blocker::Recv(c) => format!(
            "waits for a message on channel \"{}\"",
            sanitize(model.lock_name(c))
        ),
        Blocker::Send(c) => format!(
            "waits for room on channel \"{}\"",
            sanitize(model.lock_name(c))
        ),
        Blocker::Barrier { barrier, .. } => format!(
            "waits at barrier \"{}\"",
            sanitize(model.lock_name(barrier))
        ),
    }
}

/// A duration in human units: `850ns`, `1.5µs`, `12.301ms`, `2s` (up to three decimals).
///
/// # Examples
///
/// ```
/// use lockscope::model::format_duration;
///
/// assert_eq!(format_duration(12_301_000), "12.301ms");
/// assert_eq!(format_duration(10_200_000), "10.2ms");
/// ```
pub fn format_duration(ns: Nanos) -> String {
    let (unit, suffix) = match ns {
        0..1_000 => return format!("{ns}ns"),
        1_000..1_000_000 => (1_000, "µs"),
        1_000_000..1_000_000_000 => (1_000_000, "ms"),
        _ => (1_000_000_000, "s"),
    };
    let whole = ns / unit;
    let millis = (ns % unit) / (unit / 1_000);
    if millis == 0 {
        return format!("{whole}{suffix}");
    }
    let frac = format!("{millis:03}");
    format!("{whole}.{}{suffix}", frac.trim_end_matches('0'))
}

/// A multi-line report of one actual deadlock: who waits for what, held by whom, where.
pub fn format_deadlock(model: &Model, d: &Deadlock) -> String {
    let mut out = String::new();
    write_deadlock(&mut out, &DeadlockReport::new(model, d));
    out
}

/// A report of one potential deadlock: the inconsistent lock order with its witnesses.
pub fn format_potential(model: &Model, p: &PotentialDeadlock) -> String {
    let mut out = String::new();
    write_potential(&mut out, &PotentialReport::new(model, p));
    out
}

pub(super) fn write_deadlock(out: &mut String, d: &DeadlockReport) {
    let at = format_duration(d.detected_at_ns);
    let _ = match d.edges.len() {
        1 => writeln!(
            out,
            "DEADLOCK: a thread waits for itself (detected at {at})"
        ),
        n => writeln!(
            out,
            "DEADLOCK: {n} threads wait for each other in a cycle (detected at {at})"
        ),
    };
    for e in &d.edges {
        if e.reason == EdgeReason::Joins {
            let _ = writeln!(
                out,
                "  thread \"{}\" joins thread \"{}\" (joined at {}, waiting since {})",
                sanitize(&e.thread),
                sanitize(&e.holder),
                e.requested_at,
                format_duration(e.since_ns),
            );
            continue;
        }
        if let Some((what, verb, who)) = match e.reason {
            EdgeReason::AwaitsMessage => Some(("a message on", "recv", "send to")),
            EdgeReason::AwaitsRoom => Some(("room on", "send", "receive from")),
            EdgeReason::AwaitsArrival => {
                let _ = writeln!(
                    out,
                    "  thread \"{}\" waits at barrier \"{}\" (wait at {}, waiting since {})",
                    sanitize(&e.thread),
                    sanitize(&e.lock),
                    e.requested_at,
                    format_duration(e.since_ns),
                );
                let _ = writeln!(
                    out,
                    "      for thread \"{}\", which has not arrived",
                    sanitize(&e.holder)
                );
                continue;
            }
            _ => None,
        } {
            let _ = writeln!(
                out,
                "  thread \"{}\" waits for {what} channel \"{}\" ({verb} at {}, waiting since {})",
                sanitize(&e.thread),
                sanitize(&e.lock),
                e.requested_at,
                format_duration(e.since_ns),
            );
            let _ = writeln!(
                out,
                "      only thread \"{}\" can {who} it",
                sanitize(&e.holder)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "  thread \"{}\" {} \"{}\" (requested at {}, waiting since {})",
            sanitize(&e.thread),
            wants(e),
            sanitize(&e.lock),
            e.requested_at,
            format_duration(e.since_ns),
        );
        let holder = sanitize(&e.holder);
        let _ = match e.reason {
            EdgeReason::Holds => writeln!(
                out,
                "      held{} by thread \"{holder}\" (acquired at {})",
                held_how(e),
                e.held_at
            ),
            EdgeReason::QueuedWriter => writeln!(
                out,
                "      queued behind writer thread \"{holder}\" (requested at {})",
                e.held_at
            ),
            EdgeReason::Joins
            | EdgeReason::AwaitsMessage
            | EdgeReason::AwaitsRoom
            | EdgeReason::AwaitsArrival => Ok(()),
        };
    }
}

fn wants(e: &WaitEdgeReport) -> String {
    match (e.lock_kind, e.mode) {
        (LockKind::RwLock, Mode::Shared) => "waits to read rwlock".to_owned(),
        (LockKind::RwLock, Mode::Exclusive) => "waits to write rwlock".to_owned(),
        (LockKind::RwLock, Mode::Upgradable) => "waits for an upgradable read of rwlock".to_owned(),
        (kind, _) => format!("waits for {kind}"),
    }
}

fn held_how(e: &WaitEdgeReport) -> &'static str {
    match (e.lock_kind, e.holder_mode) {
        (LockKind::RwLock, Mode::Shared) => " for reading",
        (LockKind::RwLock, Mode::Exclusive) => " for writing",
        (LockKind::RwLock, Mode::Upgradable) => " for an upgradable read",
        _ => "",
    }
}

pub(super) fn write_potential(out: &mut String, p: &PotentialReport) {
    if p.kind == PotentialKind::RecursiveRead {
        write_recursive_read(out, p);
        return;
    }
    let mut chain: Vec<String> = p
        .locks
        .iter()
        .map(|l| format!("\"{}\"", sanitize(l)))
        .collect();
    if let Some(first) = chain.first().cloned() {
        chain.push(first);
    }
    let _ = writeln!(
        out,
        "POTENTIAL DEADLOCK: locks acquired in inconsistent order: {} (detected at {})",
        chain.join(" -> "),
        format_duration(p.detected_at_ns),
    );
    for e in &p.edges {
        let (from, to) = (sanitize(&e.from), sanitize(&e.to));
        let _ = writeln!(
            out,
            "  \"{from}\" -> \"{to}\": thread \"{}\" took \"{from}\" at {}, then \"{to}\" at {}",
            sanitize(&e.thread),
            e.from_site,
            e.to_site,
        );
    }
}

/// `POTENTIAL DEADLOCK: recursive read of rwlock "L" at A then B: …`, with
/// both sites and the fix.
fn write_recursive_read(out: &mut String, p: &PotentialReport) {
    for e in &p.edges {
        let lock = sanitize(&e.from);
        let _ = writeln!(
            out,
            "POTENTIAL DEADLOCK: recursive read of rwlock \"{lock}\" at {} then {}: a queued writer deadlocks it; use read_recursive or drop the first guard (detected at {})",
            e.from_site,
            e.to_site,
            format_duration(p.detected_at_ns),
        );
        let _ = writeln!(
            out,
            "  thread \"{}\" read \"{lock}\" at {}, then again at {} while still reading it",
            sanitize(&e.thread),
            e.from_site,
            e.to_site,
        );
    }
}

/// A readable text version of a [`Summary`]: totals, a per-lock table, a
/// per-thread table, then every deadlock and potential deadlock.
pub fn format_summary(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} events over {}, {} anomalies",
        s.events,
        format_duration(s.duration_ns),
        s.anomalies
    );
    // Findings first: they are what a reader came for.
    out.push('\n');
    if s.deadlocks.is_empty() {
        out.push_str("no deadlocks\n");
    }
    for d in &s.deadlocks {
        write_deadlock(&mut out, d);
    }
    if s.potential_deadlocks.is_empty() {
        out.push_str("no potential deadlocks\n");
    }
    for p in &s.potential_deadlocks {
        write_potential(&mut out, p);
    }
    for stall in &s.stalls {
        super::stall::write_stall(&mut out, stall);
    }
    let mut locks = vec![row(&[
        "lock",
        "kind",
        "acq",
        "contended",
        "wait",
        "max wait",
        "hold",
        "max hold",
        "try-fail",
        "timeouts",
    ])];
    for l in &s.locks {
        locks.push(vec![
            format!("\"{}\"", sanitize(&l.name)),
            l.kind.to_string(),
            l.acquisitions.to_string(),
            format!("{} ({:.1}%)", l.contended, l.contention_pct),
            format_duration(l.total_wait_ns),
            format_duration(l.max_wait_ns),
            format_duration(l.total_hold_ns),
            format_duration(l.max_hold_ns),
            l.try_failures.to_string(),
            l.timeouts.to_string(),
        ]);
    }
    out.push('\n');
    write_table(&mut out, &locks);
    let mut threads = vec![row(&[
        "thread",
        "status",
        "acq",
        "contended",
        "waiting",
        "cond wait",
        "holding",
        "running",
    ])];
    for t in &s.threads {
        threads.push(vec![
            format!("\"{}\"", sanitize(&t.name)),
            t.status.to_owned(),
            t.acquisitions.to_string(),
            t.contended.to_string(),
            format_duration(t.waiting_ns),
            format_duration(t.cond_waiting_ns),
            format_duration(t.holding_ns),
            format_duration(t.running_ns),
        ]);
    }
    out.push('\n');
    write_table(&mut out, &threads);
    out
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

/// Columns padded to their widest cell: the first left-aligned, the rest right-aligned.
fn write_table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c == 0 {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            } else {
                line.push_str("  ");
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_controls_and_bidi_overrides() {
        assert_eq!(sanitize("a\u{7}b\u{7f}c\u{9b}"), "a\\u{7}b\\u{7f}c\\u{9b}");
        assert_eq!(sanitize("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(sanitize("line\nbreak\ttab"), "line\\u{a}break\\u{9}tab");
        assert_eq!(sanitize("plain"), "plain");
        let once = sanitize("\u{1b}]0;title\u{7}");
        assert_eq!(sanitize(&once), once);
    }

    #[test]
    fn durations_use_human_units() {
        assert_eq!(format_duration(0), "0ns");
        assert_eq!(format_duration(999), "999ns");
        assert_eq!(format_duration(1_000), "1µs");
        assert_eq!(format_duration(1_500), "1.5µs");
        assert_eq!(format_duration(12_301_000), "12.301ms");
        assert_eq!(format_duration(12_301_999), "12.301ms");
        assert_eq!(format_duration(2_000_000_000), "2s");
        assert_eq!(format_duration(u64::MAX), "18446744073.709s");
    }

    #[test]
    fn tables_align_columns() {
        let mut out = String::new();
        write_table(&mut out, &[row(&["name", "n"]), row(&["x", "100"])]);
        assert_eq!(out, "name    n\nx     100\n");
    }
}
