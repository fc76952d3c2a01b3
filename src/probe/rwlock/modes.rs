//! Changing a hold's mode without letting go: upgradable reads, upgrading
//! them to writes, and downgrading writes and upgradable reads to reads.
//! Each change is recorded as the old hold's release and the new hold's
//! acquisition, in that order, both numbered inside the critical section.

use std::fmt;
use std::ops::Deref;

use super::{
    Release, RwLock, RwLockReadGuard, RwLockWriteGuard, acquired, op, pl, release, request,
};
use crate::event::{EventKind, Mode, Site};
use crate::probe::gate;
use crate::probe::sink;
use crate::probe::state;

/// Shared access to an [`RwLock`]'s data that may become exclusive
/// ([`upgrade`](Self::upgrade)); released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockUpgradableReadGuard<'a, T: ?Sized> {
    release: Release<'a>,
    inner: pl::RwLockUpgradableReadGuard<'a, T>,
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for an upgradable read: shared with plain readers, exclusive
    /// against writers and other upgradable readers, and able to become a
    /// write lock without letting go ([`RwLockUpgradableReadGuard::upgrade`]).
    ///
    /// In the model an upgradable read conflicts with writers and other
    /// upgradable reads (not with reads), and queues behind a waiting writer
    /// like a read does.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{RwLock, RwLockUpgradableReadGuard};
    /// let l = RwLock::new(1);
    /// let up = l.upgradable_read();
    /// assert_eq!(*l.read(), 1, "readers still get in");
    /// assert!(l.try_write().is_none());
    /// let mut w = RwLockUpgradableReadGuard::upgrade(up);
    /// *w += 1;
    /// drop(w);
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T> {
        let st = state::load();
        let id = if st.active() { self.meta.id(st) } else { None };
        let Some(id) = id else {
            return RwLockUpgradableReadGuard {
                release: self.release(None, Mode::Upgradable),
                inner: self.inner.upgradable_read(),
            };
        };
        let site = Site::caller();
        gate::before(st, || Some(op(id, Mode::Upgradable, false)), site);
        let inner = match self.inner.try_upgradable_read() {
            Some(inner) => inner,
            None => {
                let ticket = self.meta.next_ticket();
                sink::emit_and_ship(st, request(id, Mode::Upgradable, site, ticket));
                self.inner.upgradable_read()
            }
        };
        let seq = self.meta.next_seq_shared();
        sink::emit(st, acquired(id, Mode::Upgradable, site, seq, false));
        RwLockUpgradableReadGuard {
            release: self.release(Some((id, st.epoch())), Mode::Upgradable),
            inner,
        }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting go: no writer
    /// can get in between. Recorded as the write hold's release and a read
    /// hold's acquisition, in that order; other readers may then join.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{RwLock, RwLockWriteGuard};
    /// let l = RwLock::new(1);
    /// let mut w = l.write();
    /// *w += 1;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert_eq!(*l.try_read().unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, T> {
        let RwLockWriteGuard {
            release: mut write,
            inner,
        } = s;
        let tracked = write.tracked.take();
        let meta = write.meta;
        // Recorded while still exclusive, like any release.
        release(tracked, Mode::Exclusive, || meta.next_seq_exclusive());
        let inner = pl::RwLockWriteGuard::downgrade(inner);
        let st = state::load();
        let tracked = tracked.filter(|&(_, epoch)| st.active() && st.epoch() == epoch);
        if let Some((id, _)) = tracked {
            let seq = meta.next_seq_shared();
            sink::emit(st, acquired(id, Mode::Shared, Site::caller(), seq, true));
        }
        RwLockReadGuard {
            release: Release {
                meta,
                tracked,
                mode: Mode::Shared,
            },
            inner,
        }
    }
}

impl<'a, T: ?Sized> RwLockUpgradableReadGuard<'a, T> {
    /// Turns the upgradable read into a write lock, waiting for the plain
    /// readers to leave (no writer can get in first). Recorded as a write
    /// request if it has to wait, then the upgradable hold's release and the
    /// write hold's acquisition.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{RwLock, RwLockUpgradableReadGuard};
    /// let l = RwLock::new(vec![1]);
    /// let up = l.upgradable_read();
    /// if up.len() == 1 {
    ///     RwLockUpgradableReadGuard::upgrade(up).push(2);
    /// }
    /// assert_eq!(*l.read(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn upgrade(s: Self) -> RwLockWriteGuard<'a, T> {
        let site = Site::caller();
        let RwLockUpgradableReadGuard {
            release: mut up,
            inner,
        } = s;
        let tracked = up.tracked.take();
        let meta = up.meta;
        let st = state::load();
        let live = tracked.filter(|&(_, epoch)| st.active() && st.epoch() == epoch);
        let Some((id, _)) = live else {
            return RwLockWriteGuard {
                release: Release {
                    meta,
                    tracked: None,
                    mode: Mode::Exclusive,
                },
                inner: pl::RwLockUpgradableReadGuard::upgrade(inner),
            };
        };
        gate::before(st, || Some(op(id, Mode::Exclusive, false)), site);
        let inner = match pl::RwLockUpgradableReadGuard::try_upgrade(inner) {
            Ok(inner) => inner,
            Err(inner) => {
                let ticket = meta.next_ticket();
                sink::emit_and_ship(st, request(id, Mode::Exclusive, site, ticket));
                pl::RwLockUpgradableReadGuard::upgrade(inner)
            }
        };
        // Exclusive now: both numbers are taken inside the critical section.
        let (lock, mode) = (id, Mode::Upgradable);
        let seq = meta.next_seq_exclusive();
        sink::emit(st, EventKind::Released { lock, mode, seq });
        let seq = meta.next_seq_exclusive();
        sink::emit(st, acquired(id, Mode::Exclusive, site, seq, false));
        RwLockWriteGuard {
            release: Release {
                meta,
                tracked: live,
                mode: Mode::Exclusive,
            },
            inner,
        }
    }

    /// Turns the upgradable read into a plain read without letting go;
    /// another upgradable reader or a writer may then get in.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{RwLock, RwLockUpgradableReadGuard};
    /// let l = RwLock::new(1);
    /// let r = RwLockUpgradableReadGuard::downgrade(l.upgradable_read());
    /// let other = l.upgradable_read(); // the first one is a plain read now
    /// assert_eq!(*r + *other, 2);
    /// ```
    #[track_caller]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, T> {
        let RwLockUpgradableReadGuard {
            release: mut up,
            inner,
        } = s;
        let tracked = up.tracked.take();
        let meta = up.meta;
        release(tracked, Mode::Upgradable, || meta.next_seq_shared());
        let inner = pl::RwLockUpgradableReadGuard::downgrade(inner);
        let st = state::load();
        let tracked = tracked.filter(|&(_, epoch)| st.active() && st.epoch() == epoch);
        if let Some((id, _)) = tracked {
            let seq = meta.next_seq_shared();
            sink::emit(st, acquired(id, Mode::Shared, Site::caller(), seq, true));
        }
        RwLockReadGuard {
            release: Release {
                meta,
                tracked,
                mode: Mode::Shared,
            },
            inner,
        }
    }
}

impl<T: ?Sized> Deref for RwLockUpgradableReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockUpgradableReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}
