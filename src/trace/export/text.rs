//! A readable log: one line per event, with deadlocks reported where they close.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Names;
use crate::event::{Event, EventKind, Nanos};
use crate::model::{Model, describe, format_deadlock, format_potential, sanitize};
use crate::trace::Trace;

/// Thread names are padded to the longest, up to this many characters.
const MAX_NAME_WIDTH: usize = 24;

/// Writes a readable log of `trace`: a header, then one line per event such as
/// `   12.301ms  left   acquired mutex "A" (abba.toml:13)`, with each
/// deadlock and potential deadlock reported after the event that closed its
/// cycle. Every name is passed through [`sanitize`].
///
/// # Errors
///
/// Any error of `out`.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Event, EventKind, ThreadId};
/// use lockscope::trace::{Header, Trace, export};
///
/// let start = Event { time: 12_301_000, thread: ThreadId(0), kind: EventKind::ThreadStart { name: "left\x1b".into() } };
/// let trace = Trace { header: Header::new("doc"), events: vec![start], damage: None, complete: true };
/// let mut out = Vec::new();
/// export::text(&trace, &mut out).unwrap();
/// let log = String::from_utf8(out).unwrap();
/// assert!(log.contains("   12.301ms  left\\u{1b}  started\n"), "{log}");
/// ```
pub fn text(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let header = &trace.header;
    writeln!(
        out,
        "# lockscope trace of \"{}\" (format {}, written by {}), started at unix time {}.{:09}s",
        sanitize(&header.program),
        header.version,
        sanitize(&header.writer),
        header.started_unix_ns / 1_000_000_000,
        header.started_unix_ns % 1_000_000_000
    )?;
    writeln!(out, "# {} events", trace.events.len())?;
    let width = name_width(&trace.events);
    let mut names = Names::default();
    let mut model = Model::new();
    let mut line = String::new();
    for event in &trace.events {
        names.learn(event);
        line.clear();
        let thread = sanitize(&names.thread(event.thread));
        let _ = write!(line, "{}  {thread:<width$}  ", time(event.time));
        let _ = write!(line, "{}", describe(&event.kind, &names));
        writeln!(out, "{line}")?;
        let change = model.apply(event);
        if change.deadlock
            && let Some(deadlock) = model.deadlocks().last()
        {
            report(&mut out, event.time, &format_deadlock(&model, deadlock))?;
        }
        if change.potential
            && let Some(potential) = model.potential_deadlocks().last()
        {
            report(&mut out, event.time, &format_potential(&model, potential))?;
        }
    }
    match (&trace.damage, trace.complete) {
        (Some(damage), _) => writeln!(out, "# {damage}")?,
        (None, false) => writeln!(out, "# the recording did not end cleanly")?,
        (None, true) => writeln!(out, "# end of recording")?,
    }
    out.flush()
}

/// `   12.301ms`: milliseconds with microsecond digits, right-aligned.
fn time(ns: Nanos) -> String {
    format!("{:>8}.{:03}ms", ns / 1_000_000, (ns / 1_000) % 1_000)
}

fn name_width(events: &[Event]) -> usize {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ThreadStart { name } => Some(sanitize(name).chars().count()),
            _ => None,
        })
        .max()
        .unwrap_or(8)
        .min(MAX_NAME_WIDTH)
}

/// A multi-line report, its first line after the time, the rest indented.
fn report(out: &mut impl Write, time_ns: Nanos, text: &str) -> io::Result<()> {
    let pad = " ".repeat(time(0).len());
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            writeln!(out, "{}  {line}", time(time_ns))?;
        } else {
            writeln!(out, "{pad}  {line}")?;
        }
    }
    Ok(())
}
