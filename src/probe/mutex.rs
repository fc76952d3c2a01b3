//! `lockscope::Mutex`: parking_lot's mutex, with every request, acquisition and
//! release recorded while a session is on.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use super::gate::{self, Op};
use super::meta::LockMeta;
use super::sink;
use super::state::{self, State};
use crate::event::{EventKind, LockId, LockKind, Mode, Site};

/// A mutual exclusion lock that lockscope can see: a drop-in for
/// `parking_lot::Mutex` (no poisoning).
///
/// # Examples
///
/// ```
/// let counter = lockscope::Mutex::new(0);
/// *counter.lock() += 1;
/// assert_eq!(counter.into_inner(), 1);
/// ```
pub struct Mutex<T: ?Sized> {
    pub(crate) meta: LockMeta,
    pub(crate) inner: parking_lot::Mutex<T>,
}

/// Holds a [`Mutex`] locked; derefs to the data and unlocks on drop.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Fields drop in order: the release is recorded before `inner` unlocks.
    pub(crate) release: Release<'a>,
    pub(crate) inner: parking_lot::MutexGuard<'a, T>,
    pub(crate) lock: &'a Mutex<T>,
}

/// A [`MutexGuard`] mapped to a part of the data by [`MutexGuard::map`];
/// unlocks on drop.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    #[allow(dead_code, reason = "held for its drop")]
    release: Release<'a>,
    inner: parking_lot::MappedMutexGuard<'a, T>,
}

/// Records a guard's release when dropped: the guard's first field, so
/// before the mutex is let go. Not on the guard itself, so that
/// [`MutexGuard::map`] can move the parking_lot guard out.
pub(crate) struct Release<'a> {
    meta: &'a LockMeta,
    /// The lock's id in the session that saw it taken, with that session's epoch.
    pub(crate) tracked: Option<(LockId, u32)>,
}

impl Drop for Release<'_> {
    /// Inlined, so that an untracked guard (no session) costs a test here;
    /// the recording is a call.
    #[inline]
    fn drop(&mut self) {
        if let Some((lock, epoch)) = self.tracked {
            released(self.meta, lock, epoch);
        }
    }
}

/// Records the release of a guard taken in session `epoch`.
fn released(meta: &LockMeta, lock: LockId, epoch: u32) {
    let st = state::load();
    if !st.active() || st.epoch() != epoch {
        return;
    }
    let mode = Mode::Exclusive;
    gate::before(st, || Some(Op::Unlock { lock, mode }), Site::UNKNOWN);
    let seq = meta.next_seq_exclusive();
    sink::emit(st, EventKind::Released { lock, mode, seq });
}

impl<T> Mutex<T> {
    /// A new unlocked mutex, named after its type and the place it is created
    /// (`Mutex<Vec<i32>> main.rs:12:13`).
    ///
    /// A `const fn`, so it can make a `static`: the mutex registers with a
    /// session when it is first used, on the thread that uses it.
    ///
    /// # Examples
    ///
    /// ```
    /// static TOTAL: lockscope::Mutex<u64> = lockscope::Mutex::new(0);
    /// let m = lockscope::Mutex::new(vec![1, 2]);
    /// assert_eq!(m.lock().len(), 2);
    /// *TOTAL.lock() += 2;
    /// assert_eq!(*TOTAL.lock(), 2);
    /// ```
    #[track_caller]
    pub const fn new(value: T) -> Self {
        Mutex {
            meta: LockMeta::lazy(
                LockKind::Mutex,
                Some(std::any::type_name::<T>),
                Site::caller(),
            ),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// A new unlocked mutex with a name for reports and the viewer.
    ///
    /// # Examples
    ///
    /// ```
    /// let fork = lockscope::Mutex::named(format!("fork {}", 3), ());
    /// drop(fork.lock());
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, value: T) -> Self {
        Mutex {
            meta: LockMeta::new(LockKind::Mutex, Some(name.into()), Site::caller()),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// A named mutex whose creation is recorded at `site` (scenario files).
    pub(crate) fn named_at(name: String, value: T, site: Site) -> Self {
        Mutex {
            meta: LockMeta::new(LockKind::Mutex, Some(name.into()), site),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, blocking until it is free.
    ///
    /// Re-locking a mutex the thread already holds deadlocks (as with
    /// parking_lot); a session reports it as a self-deadlock.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::Mutex::new(1);
    /// *m.lock() += 1;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let (inner, tracked) = self.lock_parts();
        self.guard(inner, tracked)
    }

    /// [`lock`](Self::lock) without the guard: the parking_lot guard and the
    /// release state for [`guard`](Self::guard), two registers, so that
    /// `sync::Mutex` builds its own guard around it in place.
    #[track_caller]
    #[inline]
    pub(crate) fn lock_parts(&self) -> (parking_lot::MutexGuard<'_, T>, u64) {
        let st = state::load();
        if !st.active() {
            return (self.inner.lock(), 0);
        }
        self.lock_tracked(st, Site::caller())
    }

    /// Locks the mutex, recording the operation at `site`.
    pub(crate) fn lock_at(&self, site: Site) -> MutexGuard<'_, T> {
        let st = state::load();
        if !st.active() {
            return self.untracked(self.inner.lock());
        }
        let (inner, tracked) = self.lock_tracked(st, site);
        self.guard(inner, tracked)
    }

    /// The recorded lock: the parking_lot guard and the [`Release`] state
    /// packed in a word, two registers. Returning the whole guard (through
    /// memory) while the untracked path built it in registers made every
    /// caller copy it around: several copies, each stalling on the one
    /// before, once `sync::Mutex` wraps it in its own guard and a `LockResult`.
    fn lock_tracked(&self, st: State, site: Site) -> (parking_lot::MutexGuard<'_, T>, u64) {
        let Some(id) = before_lock(&self.meta, st, site, false) else {
            return (self.inner.lock(), 0);
        };
        let inner = match self.inner.try_lock() {
            Some(inner) => inner,
            None => {
                requested(&self.meta, st, id, site, false);
                self.inner.lock()
            }
        };
        record_acquired(&self.meta, st, id, site, false);
        (inner, pack(id, st.epoch()))
    }

    /// The guard for `inner`, recorded when `tracked` (from [`pack`]) is not 0.
    #[inline]
    pub(crate) fn guard<'a>(
        &'a self,
        inner: parking_lot::MutexGuard<'a, T>,
        tracked: u64,
    ) -> MutexGuard<'a, T> {
        MutexGuard {
            release: Release {
                meta: &self.meta,
                tracked: unpack(tracked),
            },
            inner,
            lock: self,
        }
    }

    /// Takes the lock if it is free, without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::Mutex::new(());
    /// let held = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(held);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.try_lock().map(|g| self.untracked(g));
        }
        let site = Site::caller();
        let Some(id) = before_lock(&self.meta, st, site, true) else {
            return self.inner.try_lock().map(|g| self.untracked(g));
        };
        match self.inner.try_lock() {
            Some(inner) => Some(self.acquired(st, id, inner, site, true)),
            None => {
                let kind = EventKind::TryFailed {
                    lock: id,
                    mode: Mode::Exclusive,
                    site,
                };
                sink::emit(st, kind);
                None
            }
        }
    }

    /// Takes the lock, waiting at most `timeout` for it.
    ///
    /// A bounded wait cannot hang, so it is shown as a wait but never counted
    /// in a deadlock cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let m = lockscope::Mutex::new(());
    /// let held = m.lock();
    /// assert!(m.try_lock_for(Duration::from_millis(1)).is_none());
    /// drop(held);
    /// assert!(m.try_lock_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.try_lock_for(timeout).map(|g| self.untracked(g));
        }
        let site = Site::caller();
        let Some(id) = before_lock(&self.meta, st, site, true) else {
            return self.inner.try_lock_for(timeout).map(|g| self.untracked(g));
        };
        if let Some(inner) = self.inner.try_lock() {
            return Some(self.acquired(st, id, inner, site, true));
        }
        requested(&self.meta, st, id, site, true);
        match self.inner.try_lock_for(timeout) {
            Some(inner) => Some(self.acquired(st, id, inner, site, true)),
            None => {
                let kind = EventKind::TimedOut {
                    lock: id,
                    mode: Mode::Exclusive,
                };
                sink::emit(st, kind);
                None
            }
        }
    }

    /// Whether some thread holds the mutex. A query only: not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockscope::Mutex::new(());
    /// let held = m.lock();
    /// assert!(m.is_locked());
    /// drop(held);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// A mutable reference to the data: no locking needed, the borrow proves
    /// no one else can reach it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockscope::Mutex::new(1);
    /// *m.get_mut() = 5;
    /// assert_eq!(*m.lock(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    #[inline]
    fn untracked<'a>(&'a self, inner: parking_lot::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard {
            release: Release {
                meta: &self.meta,
                tracked: None,
            },
            inner,
            lock: self,
        }
    }

    #[inline]
    fn acquired<'a>(
        &'a self,
        st: State,
        id: LockId,
        inner: parking_lot::MutexGuard<'a, T>,
        site: Site,
        tried: bool,
    ) -> MutexGuard<'a, T> {
        record_acquired(&self.meta, st, id, site, tried);
        MutexGuard {
            release: Release {
                meta: &self.meta,
                tracked: Some((id, st.epoch())),
            },
            inner,
            lock: self,
        }
    }
}

/// A tracked guard's lock id and epoch in one word: never 0, epochs start at 1.
#[inline]
fn pack(lock: LockId, epoch: u32) -> u64 {
    (u64::from(epoch) << 32) | u64::from(lock.0)
}

/// [`pack`] undone; 0 is an untracked guard.
#[inline]
fn unpack(tracked: u64) -> Option<(LockId, u32)> {
    (tracked != 0).then_some((LockId(tracked as u32), (tracked >> 32) as u32))
}

/// Registers the lock (on first use) and passes the step gate before taking
/// it: its id, or `None` when the session has gone.
fn before_lock(meta: &LockMeta, st: State, site: Site, try_only: bool) -> Option<LockId> {
    let id = meta.id(st);
    gate::before(st, || id.map(|lock| lock_op(lock, try_only)), site);
    id
}

/// Records a request, about to block on the lock: shipped at once.
fn requested(meta: &LockMeta, st: State, lock: LockId, site: Site, timed: bool) {
    let ticket = meta.next_ticket();
    sink::emit_and_ship(st, request(lock, site, timed, ticket));
}

/// Records an acquisition, with the lock held.
fn record_acquired(meta: &LockMeta, st: State, lock: LockId, site: Site, tried: bool) {
    let seq = meta.next_seq_exclusive();
    let kind = EventKind::Acquired {
        lock,
        mode: Mode::Exclusive,
        site,
        seq,
        tried,
    };
    sink::emit(st, kind);
}

fn lock_op(lock: LockId, try_only: bool) -> Op {
    Op::Lock {
        lock,
        mode: Mode::Exclusive,
        try_only,
    }
}

fn request(lock: LockId, site: Site, timed: bool, ticket: u64) -> EventKind {
    EventKind::Request {
        lock,
        mode: Mode::Exclusive,
        site,
        timed,
        ticket,
    }
}

impl<T: ?Sized> MutexGuard<'_, T> {
    /// Lets go of the mutex while `f` runs, then takes it back (blocking if
    /// another thread took it meanwhile). Recorded as a release, and an
    /// acquisition (with a request first if the mutex was taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{Mutex, MutexGuard};
    /// let m = Mutex::new(1);
    /// let mut g = m.lock();
    /// let free = MutexGuard::unlocked(&mut g, || m.try_lock().is_some());
    /// assert!(free);
    /// *g += 1;
    /// assert_eq!(*g, 2);
    /// ```
    #[track_caller]
    pub fn unlocked<U>(s: &mut Self, f: impl FnOnce() -> U) -> U {
        let site = Site::caller();
        let st = state::load();
        let tracked = s
            .release
            .tracked
            .take()
            .filter(|&(_, epoch)| st.active() && st.epoch() == epoch);
        let Some((lock, _)) = tracked else {
            return parking_lot::MutexGuard::unlocked(&mut s.inner, f);
        };
        let mode = Mode::Exclusive;
        let mutex = s.lock;
        gate::before(st, || Some(Op::Unlock { lock, mode }), site);
        let seq = mutex.meta.next_seq_exclusive();
        sink::emit(st, EventKind::Released { lock, mode, seq });
        let result = parking_lot::MutexGuard::unlocked(&mut s.inner, || {
            let result = f();
            // parking_lot takes the mutex back as this returns: a request if
            // it is taken, as `lock` records one.
            let now = state::load();
            if now.active() && now.epoch() == st.epoch() {
                gate::before(now, || Some(lock_op(lock, false)), site);
                if mutex.inner.is_locked() {
                    let ticket = mutex.meta.next_ticket();
                    sink::emit_and_ship(now, request(lock, site, false, ticket));
                }
            }
            result
        });
        let now = state::load();
        if now.active() && now.epoch() == st.epoch() {
            let seq = mutex.meta.next_seq_exclusive();
            let kind = EventKind::Acquired {
                lock,
                mode,
                site,
                seq,
                tried: false,
            };
            sink::emit(now, kind);
            s.release.tracked = tracked;
        }
        result
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the data; the mutex stays locked until
    /// the mapped guard is dropped (recorded then, as for the guard).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{Mutex, MutexGuard};
    /// let m = Mutex::new((1, String::from("a")));
    /// let mut name = MutexGuard::map(m.lock(), |pair| &mut pair.1);
    /// name.push('b');
    /// drop(name);
    /// assert_eq!(m.lock().1, "ab");
    /// ```
    pub fn map<U: ?Sized>(s: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        let MutexGuard { release, inner, .. } = s;
        MappedMutexGuard {
            release,
            inner: parking_lot::MutexGuard::map(inner, f),
        }
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("name", &self.meta.name())
            .field("data", &self.inner)
            .finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}
