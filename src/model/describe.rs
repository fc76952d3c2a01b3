//! Events in words: the one sentence per event that both the viewer's log and
//! the text export print, so the two say the same thing.

use std::borrow::Cow;
use std::fmt;

use super::{Model, sanitize};
use crate::event::{Blocker, End, EventKind, LockId, LockKind, Mode, Site, ThreadId};

/// Where [`describe`] looks up the locks an event names.
///
/// The model knows them once it has applied their `LockCreated`; the text
/// export keeps its own table.
pub trait LockNames {
    /// A lock's name (raw, untrusted text: [`describe`] sanitises it).
    fn lock_name(&self, id: LockId) -> Cow<'_, str>;
    /// Its kind, if it was declared.
    fn lock_kind(&self, id: LockId) -> Option<LockKind>;
    /// A thread's name (raw, untrusted text), for joins and channel owners.
    fn thread_name(&self, id: ThreadId) -> Cow<'_, str>;
}

impl LockNames for Model {
    fn lock_name(&self, id: LockId) -> Cow<'_, str> {
        Cow::Borrowed(Model::lock_name(self, id))
    }

    fn thread_name(&self, id: ThreadId) -> Cow<'_, str> {
        Cow::Borrowed(Model::thread_name(self, id))
    }

    fn lock_kind(&self, id: LockId) -> Option<LockKind> {
        self.lock(id).filter(|l| l.known).map(|l| l.kind)
    }
}

/// An event in words: what happened and, apart, where in the code, so that a
/// narrow display can shorten the site rather than the sentence.
///
/// Its [`Display`](fmt::Display) is the whole sentence, `what (site)`. Both
/// parts are already [`sanitize`]d.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// What happened, such as `acquired mutex "A"`.
    pub what: String,
    /// Where, such as `abba.toml:13`, when the event says.
    pub site: Option<String>,
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)?;
        match &self.site {
            Some(site) => write!(f, " ({site})"),
            None => Ok(()),
        }
    }
}

/// Says what an event did, naming its locks through `names`.
///
/// A lock is its kind and quoted name (`mutex "A"`, or `lock "A"` before it
/// was declared); read/write modes are spelled out for RwLocks only. A lock
/// whose default name already says where it was made (`Mutex<Account>
/// main.rs:17:22`) is created without the site again.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Event, EventKind, LockId, LockKind, Mode, Site, ThreadId};
/// use lockscope::model::{Model, describe};
///
/// let site = Site { file: "abba.toml", line: 13, column: 5 };
/// let mut model = Model::new();
/// let created = EventKind::LockCreated { lock: LockId(0), name: "A".into(), kind: LockKind::Mutex, site, first_seq: 0 };
/// model.apply(&Event { time: 0, thread: ThreadId(0), kind: created });
/// let acquired = EventKind::Acquired { lock: LockId(0), mode: Mode::Exclusive, site, seq: 0, tried: false };
/// let said = describe(&acquired, &model);
/// assert_eq!(said.what, "acquired mutex \"A\"");
/// assert_eq!(said.to_string(), "acquired mutex \"A\" (abba.toml:13)");
/// ```
pub fn describe(kind: &EventKind, names: &impl LockNames) -> Description {
    let lock = |id: LockId| {
        let kind = names
            .lock_kind(id)
            .map_or("lock".to_owned(), |k| k.to_string());
        format!("{kind} \"{}\"", sanitize(&names.lock_name(id)))
    };
    let rw = |id: LockId, mode: Mode, read: &str, write: &str| match (names.lock_kind(id), mode) {
        (Some(LockKind::RwLock), Mode::Shared) => read.to_owned(),
        (Some(LockKind::RwLock), Mode::Exclusive) => write.to_owned(),
        (Some(LockKind::RwLock), Mode::Upgradable) => format!("{read} (upgradable)"),
        _ => String::new(),
    };
    let timeout = |timed: bool| if timed { " (with a timeout)" } else { "" };
    let (what, site): (String, Option<&Site>) = match kind {
        EventKind::ThreadStart { .. } => ("started".into(), None),
        EventKind::ThreadExit => ("exited".into(), None),
        EventKind::ThreadPanic { message } => {
            (format!("panicked: \"{}\"", sanitize(message)), None)
        }
        EventKind::LockCreated { lock: id, site, .. } => {
            // A site is never printed twice in one line.
            let name = names.lock_name(*id);
            let file = site.file.rsplit(['/', '\\']).next().unwrap_or(site.file);
            let named_there = name.contains(&format!("{file}:{}", site.line));
            (
                format!("created {}", lock(*id)),
                (!named_there).then_some(site),
            )
        }
        EventKind::Request {
            lock: id,
            mode,
            site,
            timed,
            ..
        } => (
            format!(
                "waits{} for {}{}",
                rw(*id, *mode, " to read", " to write"),
                lock(*id),
                timeout(*timed)
            ),
            Some(site),
        ),
        EventKind::Acquired {
            lock: id,
            mode,
            site,
            tried,
            ..
        } => (
            format!(
                "acquired {}{}{}",
                lock(*id),
                rw(*id, *mode, " for reading", " for writing"),
                if *tried { " (try)" } else { "" }
            ),
            Some(site),
        ),
        EventKind::Released { lock: id, mode, .. } => (
            format!(
                "released {}{}",
                lock(*id),
                rw(*id, *mode, " (read)", " (write)")
            ),
            None,
        ),
        EventKind::TryFailed {
            lock: id,
            mode,
            site,
        } => (
            format!(
                "tried{} {}: taken",
                rw(*id, *mode, " to read", " to write"),
                lock(*id)
            ),
            Some(site),
        ),
        EventKind::TimedOut { lock: id, .. } => (
            format!("gave up waiting for {} (timed out)", lock(*id)),
            None,
        ),
        EventKind::CondWait {
            condvar,
            mutex,
            site,
            timed,
            ..
        } => (
            format!(
                "waits on {}{}, releasing {}",
                lock(*condvar),
                timeout(*timed),
                lock(*mutex)
            ),
            Some(site),
        ),
        EventKind::CondWake {
            condvar,
            mutex,
            timed_out,
            ..
        } => (
            format!(
                "woke from {} ({}), holding {} again",
                lock(*condvar),
                if *timed_out { "timed out" } else { "notified" },
                lock(*mutex)
            ),
            None,
        ),
        EventKind::Notify {
            condvar,
            all,
            woken,
            site,
        } => (
            format!(
                "notified {} ({}): woke {woken}",
                lock(*condvar),
                if *all { "all" } else { "one" }
            ),
            Some(site),
        ),
        EventKind::Block {
            on: Blocker::Join(target),
            site,
            timed,
            ..
        } => (
            format!(
                "joins thread \"{}\"{}",
                sanitize(&names.thread_name(*target)),
                timeout(*timed)
            ),
            Some(site),
        ),
        EventKind::Unblock {
            on: Blocker::Join(target),
            ..
        } => (
            format!(
                "joined thread \"{}\"",
                sanitize(&names.thread_name(*target))
            ),
            None,
        ),
        EventKind::Block {
            on: on @ (Blocker::Recv(c) | Blocker::Send(c)),
            site,
            timed,
            ..
        } => (
            format!(
                "waits for {} {}{}",
                if matches!(on, Blocker::Recv(_)) {
                    "a message on"
                } else {
                    "room on"
                },
                lock(*c),
                timeout(*timed)
            ),
            Some(site),
        ),
        EventKind::Unblock {
            on: on @ (Blocker::Recv(c) | Blocker::Send(c)),
            ..
        } => (format!("{} on {} returned", on.name(), lock(*c)), None),
        EventKind::Block {
            on: Blocker::Barrier { barrier, parties },
            site,
            ..
        } => (
            format!("waits at {} (of {parties})", lock(*barrier)),
            Some(site),
        ),
        EventKind::Unblock {
            on: Blocker::Barrier { barrier, .. },
            ..
        } => (format!("passed {}", lock(*barrier)), None),
        EventKind::BarrierTrip { barrier, .. } => (
            format!("arrived last at {}: it opens", lock(*barrier)),
            None,
        ),
        EventKind::ChannelWake { channel, end, .. } => (
            format!(
                "{} on {} while threads wait on the other side",
                match end {
                    End::Sender => "sent",
                    End::Receiver => "received",
                },
                lock(*channel)
            ),
            None,
        ),
        EventKind::Handle {
            channel,
            end,
            from,
            to,
        } => {
            let end = match end {
                End::Sender => "sender",
                End::Receiver => "receiver",
            };
            let thread = |t: ThreadId| format!("thread \"{}\"", sanitize(&names.thread_name(t)));
            // The line names the thread that uses (or drops) the handle.
            let text = match (from, to) {
                (None, Some(_)) => format!("owns a {end} of {}", lock(*channel)),
                (Some(old), Some(_)) => {
                    format!("takes a {end} of {} from {}", lock(*channel), thread(*old))
                }
                (_, None) => format!("drops a {end} of {}", lock(*channel)),
            };
            (text, None)
        }
    };
    Description {
        what,
        site: site.map(|s| sanitize(&s.to_string())),
    }
}
