//! JSON lines: one object per event.

use std::io::{self, Write};

use serde::Serialize;

use super::Names;
use crate::event::{Blocker, EventKind, LockId, LockKind, Mode, Site};
use crate::trace::Trace;

/// Writes one JSON object per event and line, in recorded order.
///
/// Every line has `time_ns`, `thread`, `thread_name` and `kind` (as
/// [`EventKind::name`]); the rest depends on the kind and is left out when it
/// does not apply: `lock`, `lock_name`, `lock_kind`, `mode`, `site`
/// (`"file:line"`), `seq`, `tried`, `timed`, `timed_out`, `condvar`,
/// `condvar_name`, `mutex`, `mutex_name`, `all`, `woken`, `name`,
/// `first_seq`, `message`. Names are raw text, JSON-escaped.
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
/// let start = Event { time: 7, thread: ThreadId(0), kind: EventKind::ThreadStart { name: "main".into() } };
/// let trace = Trace { header: Header::new("doc"), events: vec![start], damage: None, complete: true };
/// let mut out = Vec::new();
/// export::jsonl(&trace, &mut out).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "{\"time_ns\":7,\"thread\":0,\"thread_name\":\"main\",\"kind\":\"thread_start\",\"name\":\"main\"}\n"
/// );
/// ```
pub fn jsonl(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let mut names = Names::default();
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    for event in &trace.events {
        names.learn(event);
        let thread_name = names.thread(event.thread);
        let mut line = Line {
            time_ns: event.time,
            thread: event.thread.0,
            thread_name: &thread_name,
            kind: event.kind.name(),
            ..Line::default()
        };
        let lock_name;
        let target_name;
        let condvar_name;
        let mutex_name;
        match &event.kind {
            EventKind::ThreadStart { name } => line.name = Some(name),
            EventKind::ThreadExit => {}
            EventKind::ThreadPanic { message } => line.message = Some(message),
            EventKind::LockCreated {
                lock,
                name,
                kind,
                site,
                first_seq,
            } => {
                line.lock = Some(lock.0);
                line.name = Some(name);
                line.lock_name = Some(name);
                line.lock_kind = Some(*kind);
                line.site = Some(*site);
                line.first_seq = Some(*first_seq);
            }
            EventKind::Request {
                lock,
                mode,
                site,
                timed,
                ..
            } => {
                lock_name = names.lock(*lock);
                line.lock(*lock, &lock_name, &names, *mode);
                line.site = Some(*site);
                line.timed = Some(*timed);
            }
            EventKind::Acquired {
                lock,
                mode,
                site,
                seq,
                tried,
            } => {
                lock_name = names.lock(*lock);
                line.lock(*lock, &lock_name, &names, *mode);
                line.site = Some(*site);
                line.seq = Some(*seq);
                line.tried = Some(*tried);
            }
            EventKind::Released { lock, mode, seq } => {
                lock_name = names.lock(*lock);
                line.lock(*lock, &lock_name, &names, *mode);
                line.seq = Some(*seq);
            }
            EventKind::TryFailed { lock, mode, site } => {
                lock_name = names.lock(*lock);
                line.lock(*lock, &lock_name, &names, *mode);
                line.site = Some(*site);
            }
            EventKind::TimedOut { lock, mode } => {
                lock_name = names.lock(*lock);
                line.lock(*lock, &lock_name, &names, *mode);
            }
            EventKind::CondWait {
                condvar,
                mutex,
                site,
                seq,
                timed,
            } => {
                (condvar_name, mutex_name) = (names.lock(*condvar), names.lock(*mutex));
                line.cond(*condvar, &condvar_name, *mutex, &mutex_name);
                line.site = Some(*site);
                line.seq = Some(*seq);
                line.timed = Some(*timed);
            }
            EventKind::CondWake {
                condvar,
                mutex,
                seq,
                timed_out,
            } => {
                (condvar_name, mutex_name) = (names.lock(*condvar), names.lock(*mutex));
                line.cond(*condvar, &condvar_name, *mutex, &mutex_name);
                line.seq = Some(*seq);
                line.timed_out = Some(*timed_out);
            }
            EventKind::Notify {
                condvar,
                all,
                woken,
                site,
            } => {
                condvar_name = names.lock(*condvar);
                line.condvar = Some(condvar.0);
                line.condvar_name = Some(&*condvar_name);
                line.all = Some(*all);
                line.woken = Some(*woken);
                line.site = Some(*site);
            }
            EventKind::Block { on, site, timed } => {
                let Blocker::Join(target) = *on;
                target_name = names.thread(target);
                line.blocker = Some(on.name());
                line.target = Some(target.0);
                line.target_name = Some(&*target_name);
                line.site = Some(*site);
                line.timed = Some(*timed);
            }
            EventKind::Unblock { on } => {
                let Blocker::Join(target) = *on;
                target_name = names.thread(target);
                line.blocker = Some(on.name());
                line.target = Some(target.0);
                line.target_name = Some(&*target_name);
            }
        }
        crate::model::to_json_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// One line of the export.
#[derive(Default, Serialize)]
struct Line<'a> {
    time_ns: u64,
    thread: u32,
    thread_name: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock_kind: Option<LockKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<Mode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<Site>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tried: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timed_out: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condvar: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condvar_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mutex: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mutex_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    all: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    woken: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    /// `join`, for a block on another thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    blocker: Option<&'static str>,
    /// The thread joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_name: Option<&'a str>,
}

impl<'a> Line<'a> {
    fn lock(&mut self, lock: LockId, name: &'a str, names: &Names, mode: Mode) {
        self.lock = Some(lock.0);
        self.lock_name = Some(name);
        self.lock_kind = names.kind(lock);
        self.mode = Some(mode);
    }

    fn cond(&mut self, condvar: LockId, condvar_name: &'a str, mutex: LockId, mutex_name: &'a str) {
        self.condvar = Some(condvar.0);
        self.condvar_name = Some(condvar_name);
        self.mutex = Some(mutex.0);
        self.mutex_name = Some(mutex_name);
    }
}
