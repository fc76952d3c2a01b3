//! `lockscope::thread::scope`: [`std::thread::scope`] whose joins, explicit
//! or at the end of the scope, are waits in the wait-for graph.

use std::sync::Arc;

use parking_lot::Mutex;

use super::thread::{Ident, joined, run};
use crate::event::Site;

/// Runs `f` with a scope for spawning threads that may borrow from the
/// caller, like [`std::thread::scope`]; every thread not joined by then is
/// joined before it returns, and that wait is recorded too (a scope whose
/// owner holds a lock one of its threads wants is a deadlock).
///
/// One difference from std: `f` receives the [`Scope`] by value, so
/// `|s| { s.spawn(..); }` reads the same, but a spawned thread that spawns
/// more takes a clone (`let s2 = s.clone(); s.spawn(move || s2.spawn(..))`).
///
/// # Panics
///
/// As std's: if a spawned thread panicked and was not joined.
///
/// # Examples
///
/// ```
/// let mut a = vec![1, 2, 3];
/// let mut x = 0;
/// lockscope::thread::scope(|s| {
///     s.spawn(|| assert_eq!(a.len(), 3));
///     let h = s.spawn(|| {
///         x += a[0] + a[2];
///         x
///     });
///     assert_eq!(h.join().unwrap(), 4);
/// });
/// a.push(4);
/// assert_eq!(x, 4);
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(Scope<'scope, 'env>) -> T,
{
    let site = Site::caller();
    let spawned = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        let value = f(Scope {
            inner: s,
            spawned: Arc::clone(&spawned),
        });
        // Threads still running are joined by std right after: record that
        // wait, thread by thread (threads spawned meanwhile included).
        loop {
            let pending: Vec<Arc<Ident>> = std::mem::take(&mut *spawned.lock());
            if pending.is_empty() {
                break;
            }
            for ident in pending {
                joined(&ident, site, &*ident, |i| i.ended(), |i| i.wait_ended());
            }
        }
        value
    })
}

/// A scope to spawn threads in, like [`std::thread::Scope`].
#[derive(Clone)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
    /// The threads spawned, for the joins at the end of the scope.
    spawned: Arc<Mutex<Vec<Arc<Ident>>>>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a scoped thread, like [`std::thread::Scope::spawn`].
    ///
    /// # Panics
    ///
    /// If the OS cannot create a thread, as std's does.
    pub fn spawn<F, T>(&self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let ident = Arc::new(Ident::default());
        self.spawned.lock().push(Arc::clone(&ident));
        let mine = Arc::clone(&ident);
        let inner = self.inner.spawn(move || run(f, &mine));
        ScopedJoinHandle { inner, ident }
    }
}

/// A handle to join a scoped thread, like [`std::thread::ScopedJoinHandle`].
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    ident: Arc<Ident>,
}

impl<T> std::fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("thread", self.inner.thread())
            .finish_non_exhaustive()
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread, recorded as a join.
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        let ScopedJoinHandle { inner, ident } = self;
        joined(
            &ident,
            Site::caller(),
            inner,
            std::thread::ScopedJoinHandle::is_finished,
            std::thread::ScopedJoinHandle::join,
        )
    }

    /// The thread's handle.
    pub fn thread(&self) -> &std::thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread's closure has returned.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}
