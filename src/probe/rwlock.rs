//! `lockscope::RwLock`: parking_lot's reader-writer lock, recorded.
//!
//! parking_lot's RwLock is task-fair: a reader blocks while a writer is queued,
//! so a thread re-reading a lock it already reads can deadlock with a queued
//! writer. The model knows this.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};

use parking_lot_012 as pl;

mod modes;
mod timed;

pub use modes::RwLockUpgradableReadGuard;

use super::gate::{self, Op};
use super::meta::LockMeta;
use super::sink;
use super::state::{self, State};
use crate::event::{EventKind, LockId, LockKind, Mode, Site};

/// A reader-writer lock that lockscope can see: a drop-in for
/// `parking_lot::RwLock`.
///
/// # Examples
///
/// ```
/// let config = lockscope::RwLock::new(String::from("a"));
/// assert_eq!(config.read().len(), 1);
/// config.write().push('b');
/// assert_eq!(*config.read(), "ab");
/// ```
pub struct RwLock<T: ?Sized> {
    meta: LockMeta,
    inner: pl::RwLock<T>,
}

/// Shared access to an [`RwLock`]'s data; released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    // Fields drop in order: the release is recorded before `inner` unlocks.
    #[allow(dead_code, reason = "held for its drop")]
    release: Release<'a>,
    inner: pl::RwLockReadGuard<'a, T>,
}

/// Exclusive access to an [`RwLock`]'s data; released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    #[allow(dead_code, reason = "held for its drop")]
    release: Release<'a>,
    inner: pl::RwLockWriteGuard<'a, T>,
}

/// Records a guard's release when dropped (the guard's first field, so
/// before the lock is let go). Not on the guards themselves, so that
/// [`RwLockWriteGuard::downgrade`] can take the parking_lot guard out.
struct Release<'a> {
    meta: &'a LockMeta,
    /// The lock's id in the session that saw it taken, with its epoch.
    tracked: Option<(LockId, u32)>,
    mode: Mode,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let meta = self.meta;
        let mode = self.mode;
        release(self.tracked.take(), mode, || match mode {
            Mode::Exclusive => meta.next_seq_exclusive(),
            // Readers may take numbers alongside an upgradable holder.
            Mode::Shared | Mode::Upgradable => meta.next_seq_shared(),
        });
    }
}

impl<T> RwLock<T> {
    /// A new unlocked lock, named after the place it is created.
    ///
    /// A `const fn`, so it can make a `static`: the lock registers with a
    /// session when it is first used, on the thread that uses it.
    ///
    /// # Examples
    ///
    /// ```
    /// static CONFIG: lockscope::RwLock<u32> = lockscope::RwLock::new(5);
    /// let l = lockscope::RwLock::new(5);
    /// assert_eq!(*l.read(), *CONFIG.read());
    /// ```
    #[track_caller]
    pub const fn new(value: T) -> Self {
        RwLock {
            meta: LockMeta::lazy(
                LockKind::RwLock,
                Some(std::any::type_name::<T>),
                Site::caller(),
            ),
            inner: pl::RwLock::new(value),
        }
    }

    /// A new unlocked lock with a name for reports and the viewer.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::named("config", 5);
    /// assert_eq!(*l.read(), 5);
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, value: T) -> Self {
        RwLock {
            meta: LockMeta::new(LockKind::RwLock, Some(name.into()), Site::caller()),
            inner: pl::RwLock::new(value),
        }
    }

    /// A named rwlock whose creation is recorded at `site` (scenario files).
    pub(crate) fn named_at(name: String, value: T, site: Site) -> Self {
        RwLock {
            meta: LockMeta::new(LockKind::RwLock, Some(name.into()), site),
            inner: pl::RwLock::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for shared reading, blocking while a writer holds the lock or is
    /// queued for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// let (a, b) = (l.read(), l.read());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let st = state::load();
        if !st.active() {
            return self.untracked_read(self.inner.read());
        }
        self.read_at_tracked(st, Site::caller())
    }

    /// Locks for writing, blocking until no one else holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// *l.write() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let st = state::load();
        if !st.active() {
            return self.untracked_write(self.inner.write());
        }
        self.write_at_tracked(st, Site::caller())
    }

    /// Locks for reading, recording the operation at `site`.
    pub(crate) fn read_at(&self, site: Site) -> RwLockReadGuard<'_, T> {
        let st = state::load();
        if !st.active() {
            return self.untracked_read(self.inner.read());
        }
        self.read_at_tracked(st, site)
    }

    /// Locks for writing, recording the operation at `site`.
    pub(crate) fn write_at(&self, site: Site) -> RwLockWriteGuard<'_, T> {
        let st = state::load();
        if !st.active() {
            return self.untracked_write(self.inner.write());
        }
        self.write_at_tracked(st, site)
    }

    fn read_at_tracked(&self, st: State, site: Site) -> RwLockReadGuard<'_, T> {
        let id = self.meta.id(st);
        gate::before(st, || id.map(|lock| op(lock, Mode::Shared, false)), site);
        let Some(id) = id else {
            return self.untracked_read(self.inner.read());
        };
        let inner = match self.inner.try_read() {
            Some(inner) => inner,
            None => {
                let ticket = self.meta.next_ticket();
                sink::emit_and_ship(st, request(id, Mode::Shared, site, ticket));
                self.inner.read()
            }
        };
        self.acquired_read(st, id, inner, site, false)
    }

    fn write_at_tracked(&self, st: State, site: Site) -> RwLockWriteGuard<'_, T> {
        let id = self.meta.id(st);
        gate::before(st, || id.map(|l| op(l, Mode::Exclusive, false)), site);
        let Some(id) = id else {
            return self.untracked_write(self.inner.write());
        };
        let inner = match self.inner.try_write() {
            Some(inner) => inner,
            None => {
                let ticket = self.meta.next_ticket();
                sink::emit_and_ship(st, request(id, Mode::Exclusive, site, ticket));
                self.inner.write()
            }
        };
        self.acquired_write(st, id, inner, site, false)
    }

    /// Locks for reading if that can be done without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(());
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    #[track_caller]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.try_read().map(|g| self.untracked_read(g));
        }
        let site = Site::caller();
        let id = self.meta.id(st);
        gate::before(st, || id.map(|lock| op(lock, Mode::Shared, true)), site);
        let Some(id) = id else {
            return self.inner.try_read().map(|g| self.untracked_read(g));
        };
        match self.inner.try_read() {
            Some(inner) => Some(self.acquired_read(st, id, inner, site, true)),
            None => {
                sink::emit(st, try_failed(id, Mode::Shared, site));
                None
            }
        }
    }

    /// Locks for writing if that can be done without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(());
    /// let r = l.read();
    /// assert!(l.try_write().is_none());
    /// drop(r);
    /// assert!(l.try_write().is_some());
    /// ```
    #[track_caller]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.try_write().map(|g| self.untracked_write(g));
        }
        let site = Site::caller();
        let id = self.meta.id(st);
        gate::before(st, || id.map(|l| op(l, Mode::Exclusive, true)), site);
        let Some(id) = id else {
            return self.inner.try_write().map(|g| self.untracked_write(g));
        };
        match self.inner.try_write() {
            Some(inner) => Some(self.acquired_write(st, id, inner, site, true)),
            None => {
                sink::emit(st, try_failed(id, Mode::Exclusive, site));
                None
            }
        }
    }

    /// Locks for shared reading, like [`read`](Self::read), except that it
    /// does not queue behind a waiting writer while other readers hold the
    /// lock: the fix for reading a lock the thread already reads (parking_lot
    /// 0.12's `read_recursive`). It still waits while a writer holds the lock.
    ///
    /// In the model, like a `try_*` call, it adds no lock-order edge into
    /// the lock (so no recursive-read warning): nesting is what it is for.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// let outer = l.read();
    /// let inner = l.read_recursive(); // safe even with a writer queued
    /// assert_eq!(*outer + *inner, 2);
    /// ```
    #[track_caller]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, T> {
        let st = state::load();
        if !st.active() {
            return self.untracked_read(self.inner.read_recursive());
        }
        let site = Site::caller();
        let id = self.meta.id(st);
        gate::before(st, || id.map(|lock| op(lock, Mode::Shared, false)), site);
        let Some(id) = id else {
            return self.untracked_read(self.inner.read_recursive());
        };
        let inner = match self.inner.try_read_recursive() {
            Some(inner) => inner,
            None => {
                let ticket = self.meta.next_ticket();
                sink::emit_and_ship(st, request(id, Mode::Shared, site, ticket));
                self.inner.read_recursive()
            }
        };
        self.acquired_read(st, id, inner, site, true)
    }

    /// Whether the lock is held, in either mode (a writer that has claimed
    /// it and waits for readers to leave counts). A query only: not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(());
    /// assert!(!l.is_locked());
    /// let r = l.read();
    /// assert!(l.is_locked() && !l.is_locked_exclusive());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether a writer holds the lock (and no reader is still leaving it).
    /// A query only: not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockscope::RwLock::new(());
    /// let w = l.write();
    /// assert!(l.is_locked_exclusive());
    /// ```
    pub fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }

    /// A mutable reference to the data, without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    fn untracked_read<'a>(&'a self, inner: pl::RwLockReadGuard<'a, T>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            release: self.release(None, Mode::Shared),
            inner,
        }
    }

    fn untracked_write<'a>(
        &'a self,
        inner: pl::RwLockWriteGuard<'a, T>,
    ) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            release: self.release(None, Mode::Exclusive),
            inner,
        }
    }

    fn release(&self, tracked: Option<(LockId, u32)>, mode: Mode) -> Release<'_> {
        Release {
            meta: &self.meta,
            tracked,
            mode,
        }
    }

    fn acquired_read<'a>(
        &'a self,
        st: State,
        id: LockId,
        inner: pl::RwLockReadGuard<'a, T>,
        site: Site,
        tried: bool,
    ) -> RwLockReadGuard<'a, T> {
        let seq = self.meta.next_seq_shared();
        sink::emit(st, acquired(id, Mode::Shared, site, seq, tried));
        RwLockReadGuard {
            release: self.release(Some((id, st.epoch())), Mode::Shared),
            inner,
        }
    }

    fn acquired_write<'a>(
        &'a self,
        st: State,
        id: LockId,
        inner: pl::RwLockWriteGuard<'a, T>,
        site: Site,
        tried: bool,
    ) -> RwLockWriteGuard<'a, T> {
        let seq = self.meta.next_seq_exclusive();
        sink::emit(st, acquired(id, Mode::Exclusive, site, seq, tried));
        RwLockWriteGuard {
            release: self.release(Some((id, st.epoch())), Mode::Exclusive),
            inner,
        }
    }
}

fn op(lock: LockId, mode: Mode, try_only: bool) -> Op {
    Op::Lock {
        lock,
        mode,
        try_only,
    }
}

fn request(lock: LockId, mode: Mode, site: Site, ticket: u64) -> EventKind {
    EventKind::Request {
        lock,
        mode,
        site,
        timed: false,
        ticket,
    }
}

fn timed_request(lock: LockId, mode: Mode, site: Site, ticket: u64) -> EventKind {
    EventKind::Request {
        lock,
        mode,
        site,
        timed: true,
        ticket,
    }
}

fn acquired(lock: LockId, mode: Mode, site: Site, seq: u64, tried: bool) -> EventKind {
    EventKind::Acquired {
        lock,
        mode,
        site,
        seq,
        tried,
    }
}

fn try_failed(lock: LockId, mode: Mode, site: Site) -> EventKind {
    EventKind::TryFailed { lock, mode, site }
}

/// Records the release of a tracked guard, before the guard lets go.
fn release(tracked: Option<(LockId, u32)>, mode: Mode, next_seq: impl FnOnce() -> u64) {
    let Some((lock, epoch)) = tracked else {
        return;
    };
    let st = state::load();
    if !st.active() || st.epoch() != epoch {
        return;
    }
    gate::before(st, || Some(Op::Unlock { lock, mode }), Site::UNKNOWN);
    let seq = next_seq();
    sink::emit(st, EventKind::Released { lock, mode, seq });
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock")
            .field("name", &self.meta.name())
            .field("data", &self.inner)
            .finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}
