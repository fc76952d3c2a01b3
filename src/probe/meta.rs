//! What every instrumented lock carries besides the parking_lot lock: its name,
//! creation site, its id in the current session, and its sequence counter.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use super::sink::{self, hub_for};
use super::state::State;
use crate::event::{EventKind, LockId, LockKind, Site};

/// Identity and ordering of one lock across sessions.
pub(crate) struct LockMeta {
    /// `(epoch << 32) | id` of the session the lock is registered with; 0 when
    /// it never was. Epochs start at 1.
    id: AtomicU64,
    /// The next sequence number of an event that changes the lock's holders.
    /// Written only inside the critical section (exclusive) or with an atomic
    /// add (shared), so its order is the order in which holders changed.
    seq: AtomicU64,
    /// The next request number: taken (atomic add) by a thread about to block
    /// on the lock, so its order is the order in which waiters queued. Reset
    /// when the lock registers with a session.
    tickets: AtomicU64,
    name: Option<Cow<'static, str>>,
    /// The protected type's name (`std::any::type_name::<T>`, a function so
    /// that `new` stays `const`), for the default name of an unnamed lock.
    type_name: Option<fn() -> &'static str>,
    kind: LockKind,
    site: Site,
}

impl LockMeta {
    /// A new lock made at `site`, registered with a session on first use
    /// (so it can be a `static`).
    /// `type_name` names the protected type for the default name
    /// (`Mutex<Account> main.rs:17:22`).
    pub(crate) const fn lazy(
        kind: LockKind,
        type_name: Option<fn() -> &'static str>,
        site: Site,
    ) -> Self {
        LockMeta {
            id: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            tickets: AtomicU64::new(0),
            name: None,
            type_name,
            kind,
            site,
        }
    }

    /// A new lock made at `site`; registers at once if a session is on.
    pub(crate) fn new(kind: LockKind, name: Option<Cow<'static, str>>, site: Site) -> Self {
        let meta = LockMeta {
            id: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            tickets: AtomicU64::new(0),
            name,
            type_name: None,
            kind,
            site,
        };
        let st = super::state::load();
        if st.active() {
            meta.id(st);
        }
        meta
    }

    /// The lock's id in the session of `st`, registering it on first use.
    #[inline]
    pub(crate) fn id(&self, st: State) -> Option<LockId> {
        let packed = self.id.load(Ordering::Acquire);
        if packed >> 32 == u64::from(st.epoch()) && packed != 0 {
            return Some(LockId(packed as u32));
        }
        self.register(st)
    }

    #[cold]
    fn register(&self, st: State) -> Option<LockId> {
        let hub = hub_for(st)?;
        let _registering = hub.registry.lock();
        let packed = self.id.load(Ordering::Acquire);
        if packed >> 32 == u64::from(st.epoch()) && packed != 0 {
            return Some(LockId(packed as u32));
        }
        let id = LockId(hub.next_lock.fetch_add(1, Ordering::Relaxed));
        // Read before publishing the id: every sequenced event of this session
        // comes after this registration, so its number is at least `first_seq`.
        let first_seq = self.seq.load(Ordering::Relaxed);
        // Request numbers are only taken once the id is seen (acquire), so
        // every request of this session counts from 0.
        self.tickets.store(0, Ordering::Relaxed);
        self.id.store(
            (u64::from(st.epoch()) << 32) | u64::from(id.0),
            Ordering::Release,
        );
        // Every thread's events on this lock wait for this one: send it now,
        // not when the registering thread (perhaps about to sleep) next
        // fills its ring.
        sink::emit_and_ship(
            st,
            EventKind::LockCreated {
                lock: id,
                name: self.name(),
                kind: self.kind,
                site: self.site,
                first_seq,
            },
        );
        Some(id)
    }

    /// The display name: given, or made of the kind, the protected type and
    /// the creation site with its column, so that locks made on one line (a
    /// struct literal) still differ: `Mutex<Account> main.rs:17:22`.
    pub(crate) fn name(&self) -> String {
        match &self.name {
            Some(name) => name.to_string(),
            None => default_name(self.kind, self.type_name.map(|f| f()), self.site),
        }
    }

    /// Takes the next sequence number while holding the lock exclusively.
    #[inline]
    pub(crate) fn next_seq_exclusive(&self) -> u64 {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq + 1, Ordering::Relaxed);
        seq
    }

    /// Takes the next request number, just before blocking on the lock. A
    /// thread that blocks because another is already queued (a reader behind
    /// a parked writer) saw that thread's queueing, which came after its
    /// number: so the numbers follow the lock's real queue.
    #[inline]
    pub(crate) fn next_ticket(&self) -> u64 {
        self.tickets.fetch_add(1, Ordering::Relaxed)
    }

    /// Takes the next sequence number while holding the lock shared: other
    /// readers may be doing the same.
    #[inline]
    pub(crate) fn next_seq_shared(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

/// `Mutex<Account> main.rs:17:22`: the kind, the type without its module
/// paths, the file name without its directories, line and column.
fn default_name(kind: LockKind, type_name: Option<&str>, site: Site) -> String {
    let kind = match kind {
        LockKind::Mutex => "Mutex",
        LockKind::RwLock => "RwLock",
        LockKind::Condvar => "Condvar",
        LockKind::Channel => "Channel",
        LockKind::Barrier => "Barrier",
    };
    let file = site.file.rsplit(['/', '\\']).next().unwrap_or(site.file);
    let at = if site.column == 0 {
        format!("{file}:{}", site.line)
    } else {
        format!("{file}:{}:{}", site.line, site.column)
    };
    match type_name {
        Some(t) => format!("{kind}<{}> {at}", short_type(t)),
        None => format!("{kind} {at}"),
    }
}

/// `alloc::vec::Vec<my_crate::bank::Account>` as `Vec<Account>`: each path
/// keeps its last segment.
fn short_type(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut segment = String::new();
    for c in t.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
    out
}

impl std::fmt::Debug for LockMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockMeta")
            .field("name", &self.name())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_carry_the_kind_the_type_and_the_column() {
        let site = Site {
            file: "examples/bank/src/main.rs",
            line: 17,
            column: 22,
        };
        let account = "bank::accounts::Account";
        assert_eq!(
            default_name(LockKind::Mutex, Some(account), site),
            "Mutex<Account> main.rs:17:22"
        );
        let vec =
            "alloc::vec::Vec<std::collections::hash::map::HashMap<u32, alloc::string::String>>";
        assert_eq!(
            default_name(LockKind::RwLock, Some(vec), site),
            "RwLock<Vec<HashMap<u32, String>>> main.rs:17:22"
        );
        assert_eq!(
            default_name(LockKind::Condvar, None, Site { column: 0, ..site }),
            "Condvar main.rs:17"
        );
        // Two locks made on one line differ by their column.
        let other = Site { column: 40, ..site };
        assert_ne!(
            default_name(LockKind::Mutex, Some(account), site),
            default_name(LockKind::Mutex, Some(account), other)
        );
    }
}
