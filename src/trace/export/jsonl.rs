//! JSON lines: one object per event.

use std::io::{self, Write};

use serde::Serialize;

use super::Names;
use crate::event::{Blocker, End, EventKind, LockId, LockKind, Mode, Site};
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
            EventKind::Block {
                on, site, timed, ..
            } => {
                target_name = blocker_target(&names, *on);
                line.blocker(*on, &target_name);
                line.site = Some(*site);
                line.timed = Some(*timed);
            }
            EventKind::Unblock { on, .. } => {
                target_name = blocker_target(&names, *on);
                line.blocker(*on, &target_name);
            }
            EventKind::BarrierTrip { barrier, seq } => {
                lock_name = names.lock(*barrier);
                line.lock = Some(barrier.0);
                line.lock_name = Some(&*lock_name);
                line.seq = Some(*seq);
            }
            EventKind::ChannelWake { channel, end, seq } => {
                lock_name = names.lock(*channel);
                line.channel = Some(channel.0);
                line.channel_name = Some(&*lock_name);
                line.end = Some(*end);
                line.seq = Some(*seq);
            }
            EventKind::Handle {
                channel,
                end,
                from,
                to,
            } => {
                lock_name = names.lock(*channel);
                line.channel = Some(channel.0);
                line.channel_name = Some(&*lock_name);
                line.end = Some(*end);
                line.from = from.map(|t| t.0);
                line.to = to.map(|t| t.0);
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
    /// `join`, `recv` or `send`, for a block on other threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    blocker: Option<&'static str>,
    /// The thread joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_name: Option<&'a str>,
    /// The channel waited on, or whose handle changed owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_name: Option<&'a str>,
    /// Which end of the channel a handle is.
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<End>,
    /// A handle's owner before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<u32>,
    /// A barrier's party count.
    #[serde(skip_serializing_if = "Option::is_none")]
    parties: Option<u32>,
}

/// The name of what a block waits for: the thread joined, the channel or
/// the barrier.
fn blocker_target(names: &Names, on: Blocker) -> String {
    match on {
        Blocker::Join(t) => names.thread(t).into_owned(),
        Blocker::Recv(c) | Blocker::Send(c) => names.lock(c).into_owned(),
        Blocker::Barrier { barrier, .. } => names.lock(barrier).into_owned(),
    }
}

impl<'a> Line<'a> {
    fn blocker(&mut self, on: Blocker, name: &'a str) {
        self.blocker = Some(on.name());
        match on {
            Blocker::Join(t) => {
                self.target = Some(t.0);
                self.target_name = Some(name);
            }
            Blocker::Recv(c) | Blocker::Send(c) => {
                self.channel = Some(c.0);
                self.channel_name = Some(name);
            }
            Blocker::Barrier { barrier, parties } => {
                self.lock = Some(barrier.0);
                self.lock_name = Some(name);
                self.parties = Some(parties);
            }
        }
    }

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
