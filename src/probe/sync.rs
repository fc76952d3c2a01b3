//! `lockscope::sync`: the `std::sync` API on lockscope's instrumented locks.
//!
//! Changing `use std::sync::{Arc, Mutex, Condvar};` to
//! `use lockscope::sync::{Arc, Mutex, Condvar};` is the whole port: the
//! same signatures (`lock() -> LockResult<MutexGuard>`, `try_lock() ->
//! TryLockResult`, `Condvar::wait(guard) -> LockResult<guard>`,
//! `wait_while`, `wait_timeout`, `wait_timeout_while`) and std's poisoning
//! (a panic while holding a `MutexGuard` or `RwLockWriteGuard` poisons the
//! lock; `into_inner`, `get_mut`, `clear_poison`, `is_poisoned`). Every
//! operation is recorded as for [`crate::Mutex`].
//!
//! What is not instrumented is re-exported from std, so the import line
//! keeps working: `Arc`, `Weak`, `Once`, `OnceLock`, `LazyLock`, `atomic`,
//! `mpsc` (use [`crate::channel`] to see channel waits), and the error
//! types. `Mutex::new`, `RwLock::new` and `Condvar::new` are `const`, as
//! std's, so a `static` needs no `LazyLock`: such a lock registers with a
//! session when it is first used. The one difference from std:
//! [`WaitTimeoutResult`] is lockscope's (same `timed_out()`).
//!
//! # Examples
//!
//! ```
//! use lockscope::sync::{Arc, Condvar, Mutex};
//!
//! let pair = Arc::new((Mutex::new(false), Condvar::new()));
//! let pair2 = Arc::clone(&pair);
//! let t = lockscope::thread::spawn(move || {
//!     let (lock, cvar) = &*pair2;
//!     *lock.lock().unwrap() = true;
//!     cvar.notify_one();
//! });
//! let (lock, cvar) = &*pair;
//! let started = cvar.wait_while(lock.lock().unwrap(), |started| !*started).unwrap();
//! assert!(*started);
//! drop(started);
//! t.join().unwrap();
//! ```
//!
//! A `static`, as with std:
//!
//! ```
//! use lockscope::sync::{Condvar, Mutex, RwLock};
//!
//! static HITS: Mutex<u64> = Mutex::new(0);
//! static CONFIG: RwLock<u32> = RwLock::new(5);
//! static CHANGED: Condvar = Condvar::new();
//!
//! *HITS.lock().unwrap() += 1;
//! *CONFIG.write().unwrap() += 1;
//! CHANGED.notify_all();
//! assert_eq!(*HITS.lock().unwrap(), 1);
//! assert_eq!(*CONFIG.read().unwrap(), 6);
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use std::sync::{
    Arc, LazyLock, LockResult, Once, OnceLock, PoisonError, TryLockError, TryLockResult, Weak,
    atomic, mpsc,
};

pub use super::barrier::{Barrier, BarrierWaitResult};

/// Whether a timed condvar wait returned because its time was up, like
/// [`std::sync::WaitTimeoutResult`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait timed out.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A lock's poison flag, set when a guard is dropped during a panic.
#[derive(Debug)]
struct Flag(AtomicBool);

impl Flag {
    /// A clear flag (`const`, for `static` locks).
    const fn new() -> Self {
        Flag(AtomicBool::new(false))
    }

    #[inline]
    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    #[inline]
    fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }
}

/// Whether the guard taken now must poison its lock if dropped while
/// panicking: only a panic that starts while it is held does.
///
/// `#[inline]`, as every helper on the lock path: they are not generic, so
/// without it each is a call from the user's crate.
#[inline]
fn guard_state() -> bool {
    std::thread::panicking()
}

#[inline]
fn result<G>(poisoned: bool, guard: G) -> LockResult<G> {
    if poisoned {
        Err(PoisonError::new(guard))
    } else {
        Ok(guard)
    }
}

/// [`std::sync::Mutex`], recorded: see the [module docs](self).
pub struct Mutex<T: ?Sized> {
    poison: Flag,
    inner: crate::Mutex<T>,
}

/// [`std::sync::MutexGuard`]; poisons its mutex if dropped while panicking.
pub struct MutexGuard<'a, T: ?Sized> {
    inner: crate::MutexGuard<'a, T>,
    poison: &'a Flag,
    panicking: bool,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex, named after the place it is created.
    ///
    /// A `const fn`, as std's, so it can make a `static`: the mutex
    /// registers with a session when it is first used.
    #[track_caller]
    pub const fn new(value: T) -> Self {
        Mutex {
            poison: Flag::new(),
            inner: crate::Mutex::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    ///
    /// # Errors
    ///
    /// The data, inside the error, if the mutex is poisoned.
    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.poison.get();
        result(poisoned, self.inner.into_inner())
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, blocking until it is free.
    ///
    /// # Errors
    ///
    /// The guard, inside the error, if a thread panicked holding it.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        // The guard is built from registers straight into the variant
        // returned: making `crate::MutexGuard` first and moving it into ours
        // and then into the `LockResult` left three copies of it through
        // memory in the caller (lock+unlock was 4× std's; now near 1×).
        let (inner, tracked) = self.inner.lock_parts();
        let panicking = guard_state();
        let guard = || MutexGuard {
            inner: self.inner.guard(inner, tracked),
            poison: &self.poison,
            panicking,
        };
        if self.poison.get() {
            Err(PoisonError::new(guard()))
        } else {
            Ok(guard())
        }
    }

    /// Locks the mutex if it is free.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if it is held; `Poisoned` with the guard if poisoned.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        match self.inner.try_lock() {
            None => Err(TryLockError::WouldBlock),
            Some(inner) => {
                let guard = self.guard(inner);
                if self.poison.get() {
                    Err(TryLockError::Poisoned(PoisonError::new(guard)))
                } else {
                    Ok(guard)
                }
            }
        }
    }

    /// Whether a thread panicked while holding the mutex.
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poison flag.
    pub fn clear_poison(&self) {
        self.poison.set(false);
    }

    /// The data, through a unique borrow (no locking needed).
    ///
    /// # Errors
    ///
    /// The reference, inside the error, if the mutex is poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.poison.get();
        result(poisoned, self.inner.get_mut())
    }

    #[inline]
    fn guard<'a>(&'a self, inner: crate::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard {
            inner,
            poison: &self.poison,
            panicking: guard_state(),
        }
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

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("poisoned", &self.poison.get())
            .finish_non_exhaustive()
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

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.panicking && std::thread::panicking() {
            poison(self.poison);
        }
    }
}

/// Poisons a lock whose guard is dropped by a panic: out of line, so that
/// the guard's drop stays small in the caller.
#[cold]
#[inline(never)]
fn poison(flag: &Flag) {
    flag.set(true);
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// [`std::sync::Condvar`], recorded: see the [module docs](self).
#[derive(Debug)]
pub struct Condvar {
    inner: crate::Condvar,
}

impl Condvar {
    /// A new condition variable, named after the place it is created.
    ///
    /// A `const fn`, as std's, so it can make a `static`.
    #[track_caller]
    pub const fn new() -> Self {
        Condvar {
            inner: crate::Condvar::new(),
        }
    }

    /// Releases the guard's mutex, waits for a notification, and takes the
    /// mutex again.
    ///
    /// # Errors
    ///
    /// The guard, inside the error, if the mutex is poisoned.
    #[track_caller]
    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.inner.wait(&mut guard.inner);
        let poisoned = guard.poison.get();
        result(poisoned, guard)
    }

    /// Waits while `condition` holds (checked first, and after each wake-up).
    ///
    /// # Errors
    ///
    /// The guard, inside the error, if the mutex is poisoned.
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Waits for a notification or until `timeout` has passed.
    ///
    /// # Errors
    ///
    /// The guard and the result, inside the error, if the mutex is poisoned.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let timed_out = self.inner.wait_for(&mut guard.inner, timeout).timed_out();
        let poisoned = guard.poison.get();
        result(poisoned, (guard, WaitTimeoutResult(timed_out)))
    }

    /// Waits while `condition` holds, at most `timeout` in all.
    ///
    /// # Errors
    ///
    /// The guard and the result, inside the error, if the mutex is poisoned.
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if !condition(&mut guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // As std: timed out, with the condition still holding.
                return Ok((guard, WaitTimeoutResult(true)));
            }
            let (g, _) = self.wait_timeout(guard, left)?;
            guard = g;
        }
    }

    /// Wakes one waiting thread.
    #[track_caller]
    pub fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Wakes every waiting thread.
    #[track_caller]
    pub fn notify_all(&self) {
        self.inner.notify_all();
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Self {
        Condvar::new()
    }
}

/// [`std::sync::RwLock`], recorded: see the [module docs](self).
pub struct RwLock<T: ?Sized> {
    poison: Flag,
    inner: crate::RwLock<T>,
}

/// [`std::sync::RwLockReadGuard`]; a reader never poisons.
pub struct RwLockReadGuard<'a, T: ?Sized> {
    inner: crate::RwLockReadGuard<'a, T>,
}

/// [`std::sync::RwLockWriteGuard`]; poisons its lock if dropped while panicking.
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: crate::RwLockWriteGuard<'a, T>,
    poison: &'a Flag,
    panicking: bool,
}

impl<T> RwLock<T> {
    /// A new unlocked rwlock, named after the place it is created.
    ///
    /// A `const fn`, as std's, so it can make a `static`.
    #[track_caller]
    pub const fn new(value: T) -> Self {
        RwLock {
            poison: Flag::new(),
            inner: crate::RwLock::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    ///
    /// # Errors
    ///
    /// The data, inside the error, if the lock is poisoned.
    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.poison.get();
        result(poisoned, self.inner.into_inner())
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, blocking while a writer holds or waits for it.
    ///
    /// # Errors
    ///
    /// The guard, inside the error, if the lock is poisoned.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let guard = RwLockReadGuard {
            inner: self.inner.read(),
        };
        result(self.poison.get(), guard)
    }

    /// Locks for writing, blocking until no one holds it.
    ///
    /// # Errors
    ///
    /// The guard, inside the error, if the lock is poisoned.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let guard = self.write_guard(self.inner.write());
        result(self.poison.get(), guard)
    }

    /// Locks for reading if it can without blocking.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `Poisoned` with the guard.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        match self.inner.try_read() {
            None => Err(TryLockError::WouldBlock),
            Some(inner) => {
                let guard = RwLockReadGuard { inner };
                if self.poison.get() {
                    Err(TryLockError::Poisoned(PoisonError::new(guard)))
                } else {
                    Ok(guard)
                }
            }
        }
    }

    /// Locks for writing if it can without blocking.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `Poisoned` with the guard.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        match self.inner.try_write() {
            None => Err(TryLockError::WouldBlock),
            Some(inner) => {
                let guard = self.write_guard(inner);
                if self.poison.get() {
                    Err(TryLockError::Poisoned(PoisonError::new(guard)))
                } else {
                    Ok(guard)
                }
            }
        }
    }

    /// Whether a writer panicked while holding the lock.
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poison flag.
    pub fn clear_poison(&self) {
        self.poison.set(false);
    }

    /// The data, through a unique borrow.
    ///
    /// # Errors
    ///
    /// The reference, inside the error, if the lock is poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.poison.get();
        result(poisoned, self.inner.get_mut())
    }

    #[inline]
    fn write_guard<'a>(&'a self, inner: crate::RwLockWriteGuard<'a, T>) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            inner,
            poison: &self.poison,
            panicking: guard_state(),
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock")
            .field("poisoned", &self.poison.get())
            .finish_non_exhaustive()
    }
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

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.panicking && std::thread::panicking() {
            poison(self.poison);
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
