//! Exports of a [`Trace`](super::Trace): Chrome Trace Event JSON (for Perfetto
//! UI and `chrome://tracing`), JSON lines, and a readable text log.
//!
//! Names in a trace are untrusted text: the JSON exports keep them as they
//! are, escaped by serde_json; the text log passes them through
//! [`sanitize`](crate::model::sanitize).

mod chrome;
mod jsonl;
mod text;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::event::{Event, EventKind, LockId, LockKind, ThreadId};
use crate::model::LockNames;

pub use chrome::chrome;
pub use jsonl::jsonl;
pub use text::text;

/// Thread and lock names as the events so far declared them. Ids come from an
/// untrusted file, so the tables are maps, not vectors indexed by id.
#[derive(Default)]
struct Names {
    threads: HashMap<ThreadId, String>,
    locks: HashMap<LockId, (String, LockKind)>,
}

impl Names {
    /// Learns the names `event` declares.
    fn learn(&mut self, event: &Event) {
        match &event.kind {
            EventKind::ThreadStart { name } => {
                self.threads.insert(event.thread, name.clone());
            }
            EventKind::LockCreated {
                lock, name, kind, ..
            } => {
                self.locks.insert(*lock, (name.clone(), *kind));
            }
            _ => {}
        }
    }

    /// A thread's name (raw), or the model's placeholder `thread#N`.
    fn thread(&self, id: ThreadId) -> Cow<'_, str> {
        match self.threads.get(&id) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("thread#{}", id.0)),
        }
    }

    /// A lock's name (raw), or the model's placeholder `lock#N`.
    fn lock(&self, id: LockId) -> Cow<'_, str> {
        match self.locks.get(&id) {
            Some((name, _)) => Cow::Borrowed(name),
            None => Cow::Owned(format!("lock#{}", id.0)),
        }
    }

    /// A lock's kind, if declared.
    fn kind(&self, id: LockId) -> Option<LockKind> {
        self.locks.get(&id).map(|(_, kind)| *kind)
    }
}

impl LockNames for Names {
    fn lock_name(&self, id: LockId) -> Cow<'_, str> {
        self.lock(id)
    }

    fn lock_kind(&self, id: LockId) -> Option<LockKind> {
        self.kind(id)
    }

    fn thread_name(&self, id: ThreadId) -> Cow<'_, str> {
        self.thread(id)
    }
}
