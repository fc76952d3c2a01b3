//! A readable log: one line per event, with deadlocks reported where they close.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Names;
use crate::event::{Blocker, Event, EventKind, LockId, LockKind, Mode, Nanos, Site};
use crate::model::{Model, format_deadlock, format_potential, sanitize};
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
        describe(&mut line, &names, &event.kind);
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

fn describe(line: &mut String, names: &Names, kind: &EventKind) {
    let lock = |id: LockId| {
        let kind = names.kind(id).map_or("lock".to_owned(), |k| k.to_string());
        format!("{kind} \"{}\"", sanitize(&names.lock(id)))
    };
    let site = |s: &Site| format!(" ({})", sanitize(&s.to_string()));
    let rw = |id: LockId, mode: Mode, read: &str, write: &str| match (names.kind(id), mode) {
        (Some(LockKind::RwLock), Mode::Shared) => read.to_owned(),
        (Some(LockKind::RwLock), Mode::Exclusive) => write.to_owned(),
        _ => String::new(),
    };
    let _ = match kind {
        EventKind::ThreadStart { .. } => write!(line, "started"),
        EventKind::ThreadExit => write!(line, "exited"),
        EventKind::ThreadPanic { message } => write!(line, "panicked: \"{}\"", sanitize(message)),
        EventKind::LockCreated {
            lock: id, site: s, ..
        } => write!(line, "created {}{}", lock(*id), site(s)),
        EventKind::Request {
            lock: id,
            mode,
            site: s,
            timed,
            ..
        } => write!(
            line,
            "waits{} for {}{}{}",
            rw(*id, *mode, " to read", " to write"),
            lock(*id),
            if *timed { " (with a timeout)" } else { "" },
            site(s)
        ),
        EventKind::Acquired {
            lock: id,
            mode,
            site: s,
            tried,
            ..
        } => write!(
            line,
            "acquired {}{}{}{}",
            lock(*id),
            rw(*id, *mode, " for reading", " for writing"),
            if *tried { " (try)" } else { "" },
            site(s)
        ),
        EventKind::Released { lock: id, mode, .. } => write!(
            line,
            "released {}{}",
            lock(*id),
            rw(*id, *mode, " (read)", " (write)")
        ),
        EventKind::TryFailed {
            lock: id,
            mode,
            site: s,
        } => write!(
            line,
            "tried{} {}: taken{}",
            rw(*id, *mode, " to read", " to write"),
            lock(*id),
            site(s)
        ),
        EventKind::TimedOut { lock: id, .. } => {
            write!(line, "gave up waiting for {} (timed out)", lock(*id))
        }
        EventKind::CondWait {
            condvar,
            mutex,
            site: s,
            timed,
            ..
        } => write!(
            line,
            "waits on {}{}, releasing {}{}",
            lock(*condvar),
            if *timed { " (with a timeout)" } else { "" },
            lock(*mutex),
            site(s)
        ),
        EventKind::CondWake {
            condvar,
            mutex,
            timed_out,
            ..
        } => write!(
            line,
            "woke from {} ({}), holding {} again",
            lock(*condvar),
            if *timed_out { "timed out" } else { "notified" },
            lock(*mutex)
        ),
        EventKind::Notify {
            condvar,
            all,
            woken,
            site: s,
        } => write!(
            line,
            "notified {} ({}): woke {woken}{}",
            lock(*condvar),
            if *all { "all" } else { "one" },
            site(s)
        ),
        EventKind::Block {
            on: Blocker::Join(target),
            site: s,
            timed,
            ..
        } => write!(
            line,
            "joins thread \"{}\"{}{}",
            sanitize(&names.thread(*target)),
            if *timed { " (with a timeout)" } else { "" },
            site(s)
        ),
        EventKind::Unblock {
            on: Blocker::Join(target),
            ..
        } => write!(
            line,
            "joined thread \"{}\"",
            sanitize(&names.thread(*target))
        ),
        EventKind::Block {
            on: on @ (Blocker::Recv(c) | Blocker::Send(c)),
            site: s,
            timed,
            ..
        } => write!(
            line,
            "waits for {} {}{}{}",
            if matches!(on, Blocker::Recv(_)) {
                "a message on"
            } else {
                "room on"
            },
            lock(*c),
            if *timed { " (with a timeout)" } else { "" },
            site(s)
        ),
        EventKind::Unblock {
            on: on @ (Blocker::Recv(c) | Blocker::Send(c)),
            ..
        } => write!(line, "{} on {} returned", on.name(), lock(*c)),
        EventKind::Block {
            on: Blocker::Barrier { barrier, parties },
            site: s,
            ..
        } => write!(
            line,
            "waits at {} (of {parties}){}",
            lock(*barrier),
            site(s)
        ),
        EventKind::Unblock {
            on: Blocker::Barrier { barrier, .. },
            ..
        } => write!(line, "passed {}", lock(*barrier)),
        EventKind::BarrierTrip { barrier, .. } => {
            write!(line, "arrived last at {}: it opens", lock(*barrier))
        }
        EventKind::ChannelWake { channel, end, .. } => write!(
            line,
            "{} on {} while threads wait on the other side",
            match end {
                crate::event::End::Sender => "sent",
                crate::event::End::Receiver => "received",
            },
            lock(*channel)
        ),
        EventKind::Handle {
            channel,
            end,
            from,
            to,
        } => {
            let who = |t: &Option<crate::event::ThreadId>| match t {
                Some(t) => format!("thread \"{}\"", sanitize(&names.thread(*t))),
                None => "no one".to_owned(),
            };
            let end = match end {
                crate::event::End::Sender => "sender",
                crate::event::End::Receiver => "receiver",
            };
            write!(
                line,
                "a {end} of {}: owned by {} (was {})",
                lock(*channel),
                who(to),
                who(from)
            )
        }
    };
}
