//! Bounded rwlock requests: `try_read_for` and `try_write_for`. A bounded
//! wait cannot hang: shown as a wait, never in a cycle, a stall or the lock
//! order.

use std::time::Duration;

use super::{RwLock, RwLockReadGuard, RwLockWriteGuard, op, timed_request};
use crate::event::{EventKind, Mode, Site};
use crate::probe::gate;
use crate::probe::sink;
use crate::probe::state;

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting at most `timeout`.
    ///
    /// A bounded wait cannot hang, so it is shown as a wait but never counted
    /// in a deadlock cycle or a stall, and adds no lock-order edge.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = lockscope::RwLock::new(());
    /// let w = l.write();
    /// assert!(l.try_read_for(Duration::from_millis(1)).is_none());
    /// drop(w);
    /// assert!(l.try_read_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    pub fn try_read_for(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        let st = state::load();
        let site = Site::caller();
        let id = if st.active() { self.meta.id(st) } else { None };
        if let Some(id) = id {
            gate::before(st, || Some(op(id, Mode::Shared, true)), site);
            if let Some(inner) = self.inner.try_read() {
                return Some(self.acquired_read(st, id, inner, site, true));
            }
            let ticket = self.meta.next_ticket();
            sink::emit_and_ship(st, timed_request(id, Mode::Shared, site, ticket));
        }
        let inner = self.inner.try_read_for(timeout);
        match (id, inner) {
            (None, inner) => inner.map(|g| self.untracked_read(g)),
            (Some(id), Some(inner)) => Some(self.acquired_read(st, id, inner, site, true)),
            (Some(id), None) => {
                let mode = Mode::Shared;
                sink::emit(st, EventKind::TimedOut { lock: id, mode });
                None
            }
        }
    }

    /// Locks for writing, waiting at most `timeout`.
    ///
    /// A bounded wait cannot hang, so it is shown as a wait but never counted
    /// in a deadlock cycle or a stall, and adds no lock-order edge.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = lockscope::RwLock::new(());
    /// let r = l.read();
    /// assert!(l.try_write_for(Duration::from_millis(1)).is_none());
    /// drop(r);
    /// assert!(l.try_write_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    pub fn try_write_for(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        let st = state::load();
        let site = Site::caller();
        let id = if st.active() { self.meta.id(st) } else { None };
        if let Some(id) = id {
            gate::before(st, || Some(op(id, Mode::Exclusive, true)), site);
            if let Some(inner) = self.inner.try_write() {
                return Some(self.acquired_write(st, id, inner, site, true));
            }
            let ticket = self.meta.next_ticket();
            sink::emit_and_ship(st, timed_request(id, Mode::Exclusive, site, ticket));
        }
        let inner = self.inner.try_write_for(timeout);
        match (id, inner) {
            (None, inner) => inner.map(|g| self.untracked_write(g)),
            (Some(id), Some(inner)) => Some(self.acquired_write(st, id, inner, site, true)),
            (Some(id), None) => {
                let mode = Mode::Exclusive;
                sink::emit(st, EventKind::TimedOut { lock: id, mode });
                None
            }
        }
    }
}
