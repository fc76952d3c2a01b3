//! `lockscope::Condvar`: parking_lot's condition variable, recorded.
//!
//! A wait is shown as a wait but creates no wait-for edge: no one knows who
//! will notify. Once notified, the waiter needs its mutex back, and that wait
//! is a real one (the model follows parking_lot's FIFO wake order).

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant};

use super::gate::{self, Op};
use super::meta::LockMeta;
use super::mutex::MutexGuard;
use super::sink;
use super::state;
use crate::event::{EventKind, LockKind, Site};

/// A condition variable that lockscope can see: a drop-in for
/// `parking_lot::Condvar`, used with [`lockscope::Mutex`](crate::Mutex).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let pair = Arc::new((lockscope::Mutex::new(false), lockscope::Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// let t = lockscope::thread::spawn(move || {
///     let (ready, cv) = &*pair2;
///     *ready.lock() = true;
///     cv.notify_one();
/// });
/// let (ready, cv) = &*pair;
/// let mut guard = ready.lock();
/// while !*guard {
///     cv.wait(&mut guard);
/// }
/// drop(guard);
/// t.join().unwrap();
/// ```
pub struct Condvar {
    meta: LockMeta,
    inner: parking_lot::Condvar,
}

/// Whether a bounded wait ended by its timeout.
pub type WaitTimeoutResult = parking_lot::WaitTimeoutResult;

impl Condvar {
    /// A new condvar, named after the place it is created.
    ///
    /// A `const fn`, so it can make a `static`: the condvar registers with a
    /// session when it is first used, on the thread that uses it.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: lockscope::Condvar = lockscope::Condvar::new();
    /// assert_eq!(READY.notify_all(), 0);
    /// ```
    #[track_caller]
    pub const fn new() -> Self {
        Condvar {
            meta: LockMeta::lazy(LockKind::Condvar, None, Site::caller()),
            inner: parking_lot::Condvar::new(),
        }
    }

    /// A new condvar with a name for reports and the viewer.
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>) -> Self {
        Condvar {
            meta: LockMeta::new(LockKind::Condvar, Some(name.into()), Site::caller()),
            inner: parking_lot::Condvar::new(),
        }
    }

    /// A named condvar whose creation is recorded at `site` (scenario files).
    pub(crate) fn named_at(name: String, site: Site) -> Self {
        Condvar {
            meta: LockMeta::new(LockKind::Condvar, Some(name.into()), site),
            inner: parking_lot::Condvar::new(),
        }
    }

    /// Releases the guard's mutex, waits for a notification, and takes the
    /// mutex again before returning. parking_lot's condvar has no spurious
    /// wake-ups.
    #[track_caller]
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        self.wait_at(guard, Site::caller());
    }

    /// [`wait`](Self::wait), recording the operation at `site`.
    pub(crate) fn wait_at<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, site: Site) {
        self.wait_inner(guard, false, site, |cv, inner| {
            cv.wait(inner);
            ((), false)
        });
    }

    /// Like [`wait`](Self::wait), but gives up after `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let m = lockscope::Mutex::new(());
    /// let cv = lockscope::Condvar::new();
    /// let mut g = m.lock();
    /// assert!(cv.wait_for(&mut g, Duration::from_millis(1)).timed_out());
    /// ```
    #[track_caller]
    pub fn wait_for<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        self.wait_inner(guard, true, Site::caller(), |cv, inner| {
            let result = cv.wait_for(inner, timeout);
            (result, result.timed_out())
        })
    }

    /// Waits while `condition` holds: checks it, and waits for a
    /// notification each time it is true.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let pair = Arc::new((lockscope::Mutex::new(0), lockscope::Condvar::new()));
    /// let pair2 = Arc::clone(&pair);
    /// let t = lockscope::thread::spawn(move || {
    ///     let (count, cv) = &*pair2;
    ///     *count.lock() = 3;
    ///     cv.notify_all();
    /// });
    /// let (count, cv) = &*pair;
    /// let mut guard = count.lock();
    /// cv.wait_while(&mut guard, |n| *n < 3);
    /// assert_eq!(*guard, 3);
    /// drop(guard);
    /// t.join().unwrap();
    /// ```
    #[track_caller]
    pub fn wait_while<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) {
        let site = Site::caller();
        while condition(&mut *guard) {
            self.wait_at(guard, site);
        }
    }

    /// Like [`wait`](Self::wait), but gives up at `deadline`. A bounded wait:
    /// never part of a stall.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let m = lockscope::Mutex::new(());
    /// let cv = lockscope::Condvar::new();
    /// let mut g = m.lock();
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert!(cv.wait_until(&mut g, deadline).timed_out());
    /// ```
    #[track_caller]
    pub fn wait_until<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
    ) -> WaitTimeoutResult {
        self.wait_inner(guard, true, Site::caller(), |cv, inner| {
            let result = cv.wait_until(inner, deadline);
            (result, result.timed_out())
        })
    }

    /// Records the wait around `park`, which releases the mutex, waits, takes
    /// the mutex again and says whether it timed out.
    fn wait_inner<T: ?Sized, R>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timed: bool,
        site: Site,
        park: impl FnOnce(&parking_lot::Condvar, &mut parking_lot::MutexGuard<'_, T>) -> (R, bool),
    ) -> R {
        let st = state::load();
        let ids = match (st.active(), guard.release.tracked) {
            (true, Some((mutex, epoch))) if epoch == st.epoch() => {
                self.meta.id(st).map(|condvar| (condvar, mutex))
            }
            _ => None,
        };
        let Some((condvar, mutex)) = ids else {
            return park(&self.inner, &mut guard.inner).0;
        };
        gate::before(st, || Some(Op::Wait { condvar, mutex }), site);
        let seq = guard.lock.meta.next_seq_exclusive();
        let kind = EventKind::CondWait {
            condvar,
            mutex,
            site,
            seq,
            timed,
        };
        sink::emit_and_ship(st, kind);
        let (result, timed_out) = park(&self.inner, &mut guard.inner);
        // The mutex is held again: this is its next holder change. If the
        // session ended meanwhile, the event is simply not recorded.
        let seq = guard.lock.meta.next_seq_exclusive();
        let kind = EventKind::CondWake {
            condvar,
            mutex,
            seq,
            timed_out,
        };
        let now = state::load();
        if now.active() && now.epoch() == st.epoch() {
            sink::emit(now, kind);
        }
        result
    }

    /// Wakes one waiting thread, if any. Returns whether one was woken.
    #[track_caller]
    pub fn notify_one(&self) -> bool {
        self.notify(false, Site::caller()) > 0
    }

    /// Wakes every waiting thread. Returns how many were woken.
    #[track_caller]
    pub fn notify_all(&self) -> usize {
        self.notify(true, Site::caller())
    }

    /// Notifies one or all waiters, recording the operation at `site`.
    pub(crate) fn notify(&self, all: bool, site: Site) -> usize {
        let st = state::load();
        let id = if st.active() { self.meta.id(st) } else { None };
        if let Some(condvar) = id {
            gate::before(st, || Some(Op::Notify { condvar, all }), site);
        }
        let woken = if all {
            self.inner.notify_all()
        } else {
            usize::from(self.inner.notify_one())
        };
        if let Some(condvar) = id {
            let kind = EventKind::Notify {
                condvar,
                all,
                woken: u32::try_from(woken).unwrap_or(u32::MAX),
                site,
            };
            sink::emit(st, kind);
        }
        woken
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar")
            .field("name", &self.meta.name())
            .finish_non_exhaustive()
    }
}
