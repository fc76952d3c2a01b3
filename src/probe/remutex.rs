//! `lockscope::ReentrantMutex`: parking_lot's reentrant mutex, recorded.
//!
//! The thread that holds it may lock it again without blocking. Only the
//! outermost hold is recorded (its acquisition, and the release when the
//! last guard goes), so the model sees one exclusive holder and a nested
//! lock is never a self-deadlock.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::gate::{self, Op};
use super::meta::LockMeta;
use super::sink;
use super::state::{self, State};
use crate::event::{EventKind, LockId, LockKind, Mode, Site};

/// A mutex the holding thread may lock again: a drop-in for
/// `parking_lot::ReentrantMutex`. Guards give shared access only (`&T`).
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// let m = lockscope::ReentrantMutex::new(Cell::new(1));
/// let outer = m.lock();
/// let inner = m.lock(); // the same thread: no deadlock
/// inner.set(outer.get() + 1);
/// drop(inner);
/// assert_eq!(outer.get(), 2);
/// ```
pub struct ReentrantMutex<T: ?Sized> {
    meta: LockMeta,
    /// Guards alive on the owning thread (written only by the owner).
    depth: AtomicU32,
    /// `(epoch << 32) | id` of the session that recorded the outermost
    /// acquisition, or 0 (written only by the owner).
    recorded: AtomicU64,
    inner: parking_lot::ReentrantMutex<T>,
}

/// A hold on a [`ReentrantMutex`]; the mutex is let go when the last guard
/// of the owning thread is dropped.
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
pub struct ReentrantMutexGuard<'a, T: ?Sized> {
    lock: &'a ReentrantMutex<T>,
    // Dropped after `Drop::drop` has recorded the release.
    inner: parking_lot::ReentrantMutexGuard<'a, T>,
}

impl<T> ReentrantMutex<T> {
    /// A new unlocked mutex, named after the place it is created; a
    /// `const fn`, registered with a session on first use.
    ///
    /// # Examples
    ///
    /// ```
    /// static LOG: lockscope::ReentrantMutex<()> = lockscope::ReentrantMutex::new(());
    /// let _a = LOG.lock();
    /// let _b = LOG.lock();
    /// ```
    #[track_caller]
    pub const fn new(value: T) -> Self {
        ReentrantMutex {
            meta: LockMeta::lazy(
                LockKind::Mutex,
                Some(std::any::type_name::<T>),
                Site::caller(),
            ),
            depth: AtomicU32::new(0),
            recorded: AtomicU64::new(0),
            inner: parking_lot::ReentrantMutex::new(value),
        }
    }

    /// A new unlocked mutex with a name for reports and the viewer.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::ReentrantMutex::named("log", 5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, value: T) -> Self {
        ReentrantMutex {
            meta: LockMeta::new(LockKind::Mutex, Some(name.into()), Site::caller()),
            depth: AtomicU32::new(0),
            recorded: AtomicU64::new(0),
            inner: parking_lot::ReentrantMutex::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::ReentrantMutex::new(7);
    /// assert_eq!(m.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> ReentrantMutex<T> {
    /// Locks the mutex: at once if this thread holds it already, else
    /// blocking until it is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::ReentrantMutex::new(1);
    /// let a = m.lock();
    /// let b = m.lock();
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, T> {
        if self.inner.is_owned_by_current_thread() {
            // Nested: cannot block, and the outermost hold is recorded.
            return self.guard(self.inner.lock());
        }
        let st = state::load();
        let id = if st.active() { self.meta.id(st) } else { None };
        let Some(id) = id else {
            return self.guard(self.inner.lock());
        };
        let site = Site::caller();
        gate::before(st, || Some(lock_op(id, false)), site);
        let inner = match self.inner.try_lock() {
            Some(inner) => inner,
            None => {
                let ticket = self.meta.next_ticket();
                let kind = EventKind::Request {
                    lock: id,
                    mode: Mode::Exclusive,
                    site,
                    timed: false,
                    ticket,
                };
                sink::emit_and_ship(st, kind);
                self.inner.lock()
            }
        };
        self.acquired(st, id, inner, site, false)
    }

    /// Locks the mutex if this thread holds it or it is free, without
    /// blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::ReentrantMutex::new(());
    /// let held = m.lock();
    /// assert!(m.try_lock().is_some(), "the owner may lock again");
    /// ```
    #[track_caller]
    pub fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, T>> {
        if self.inner.is_owned_by_current_thread() {
            return self.inner.try_lock().map(|g| self.guard(g));
        }
        let st = state::load();
        let id = if st.active() { self.meta.id(st) } else { None };
        let Some(id) = id else {
            return self.inner.try_lock().map(|g| self.guard(g));
        };
        let site = Site::caller();
        gate::before(st, || Some(lock_op(id, true)), site);
        match self.inner.try_lock() {
            Some(inner) => Some(self.acquired(st, id, inner, site, true)),
            None => {
                let mode = Mode::Exclusive;
                sink::emit(
                    st,
                    EventKind::TryFailed {
                        lock: id,
                        mode,
                        site,
                    },
                );
                None
            }
        }
    }

    /// Whether this thread holds the mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::ReentrantMutex::new(());
    /// let g = m.lock();
    /// assert!(m.is_owned_by_current_thread());
    /// ```
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.inner.is_owned_by_current_thread()
    }

    fn guard<'a>(
        &'a self,
        inner: parking_lot::ReentrantMutexGuard<'a, T>,
    ) -> ReentrantMutexGuard<'a, T> {
        self.depth.fetch_add(1, Ordering::Relaxed);
        ReentrantMutexGuard { lock: self, inner }
    }

    fn acquired<'a>(
        &'a self,
        st: State,
        id: LockId,
        inner: parking_lot::ReentrantMutexGuard<'a, T>,
        site: Site,
        tried: bool,
    ) -> ReentrantMutexGuard<'a, T> {
        let seq = self.meta.next_seq_exclusive();
        let kind = EventKind::Acquired {
            lock: id,
            mode: Mode::Exclusive,
            site,
            seq,
            tried,
        };
        sink::emit(st, kind);
        let packed = (u64::from(st.epoch()) << 32) | u64::from(id.0);
        self.recorded.store(packed, Ordering::Relaxed);
        self.guard(inner)
    }
}

fn lock_op(lock: LockId, try_only: bool) -> Op {
    Op::Lock {
        lock,
        mode: Mode::Exclusive,
        try_only,
    }
}

impl<T: ?Sized> Drop for ReentrantMutexGuard<'_, T> {
    fn drop(&mut self) {
        let m = self.lock;
        if m.depth.fetch_sub(1, Ordering::Relaxed) != 1 {
            return;
        }
        // The last guard: the mutex is let go once `self.inner` drops.
        let packed = m.recorded.swap(0, Ordering::Relaxed);
        if packed == 0 {
            return;
        }
        let st = state::load();
        if !st.active() || u64::from(st.epoch()) != packed >> 32 {
            return;
        }
        let (lock, mode) = (LockId(packed as u32), Mode::Exclusive);
        gate::before(st, || Some(Op::Unlock { lock, mode }), Site::UNKNOWN);
        let seq = m.meta.next_seq_exclusive();
        sink::emit(st, EventKind::Released { lock, mode, seq });
    }
}

impl<T: ?Sized> Deref for ReentrantMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: Default> Default for ReentrantMutex<T> {
    #[track_caller]
    fn default() -> Self {
        ReentrantMutex::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for ReentrantMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReentrantMutex")
            .field("name", &self.meta.name())
            .field("data", &self.inner)
            .finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}
