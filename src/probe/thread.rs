//! `lockscope::thread`: `std::thread::spawn` that makes the thread's start, exit
//! and panic events.
//!
//! Threads started with plain `std::thread` work too: they are registered on
//! their first event under their std name, and their exit is recorded when their
//! thread-locals are torn down.
//!
//! [`JoinHandle::join`] is a wait like a lock request: the joining thread
//! waits for the joined one until it ends, so a thread that holds a lock and
//! joins a thread that wants it is a deadlock, reported as one. Only handles
//! from this module make that edge; a `std::thread::JoinHandle` is invisible.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::gate::{self, Op};
pub use super::scope::{Scope, ScopedJoinHandle, scope};
use super::{sink, state};
use crate::event::{Blocker, EventKind, Site, ThreadId};

/// Who a spawned thread is, as lockscope numbers it: the thread fills it in
/// before its first instruction, so its joiner can name it.
#[derive(Default)]
pub(crate) struct Ident {
    slot: Mutex<Slot>,
    filled: Condvar,
}

#[derive(Default)]
struct Slot {
    /// `None` until the thread ran; then its (session epoch, id), or `None`
    /// if no session recorded it.
    me: Option<Option<(u32, ThreadId)>>,
    /// The thread's closure returned or panicked.
    ended: bool,
}

impl Ident {
    fn set(&self, me: Option<(u32, ThreadId)>) {
        self.slot.lock().me = Some(me);
        self.filled.notify_all();
    }

    fn end(&self) {
        self.slot.lock().ended = true;
        self.filled.notify_all();
    }

    /// Whether the thread's closure has returned or panicked.
    pub(super) fn ended(&self) -> bool {
        self.slot.lock().ended
    }

    /// The thread's id, waiting for it to have started. `is_finished` covers
    /// a thread that ended without getting there (it cannot, but a join must
    /// never hang on lockscope's account).
    fn get(&self, is_finished: impl Fn() -> bool) -> Option<(u32, ThreadId)> {
        loop {
            {
                let mut slot = self.slot.lock();
                if slot.me.is_none() && !slot.ended {
                    self.filled.wait_for(&mut slot, Duration::from_millis(10));
                }
                if let Some(me) = slot.me {
                    return me;
                }
                if slot.ended {
                    return None;
                }
            }
            // Not under the slot's lock: `is_finished` may take it.
            if is_finished() {
                return None;
            }
        }
    }

    /// Waits until the thread's closure has returned or panicked.
    pub(super) fn wait_ended(&self) {
        let mut slot = self.slot.lock();
        while !slot.ended {
            self.filled.wait(&mut slot);
        }
    }
}

/// Joins `handle` (the thread of `ident`) with `join`, as a recorded wait:
/// the calling thread joins that thread in the wait-for graph.
pub(super) fn joined<H, R>(
    ident: &Ident,
    site: Site,
    handle: H,
    is_finished: impl Fn(&H) -> bool,
    join: impl FnOnce(H) -> R,
) -> R {
    let st = state::load();
    if st.active() && st.stepping() {
        // Step mode names the thread joined: wait for it to have started
        // (the join would wait for that anyway).
        let thread = || {
            let known = ident.get(|| is_finished(&handle));
            let known = known.filter(|&(epoch, _)| epoch == st.epoch());
            Some(Op::Join {
                thread: known.map(|(_, id)| id),
            })
        };
        gate::before(st, thread, site);
    }
    let st = state::load();
    if !st.active() || is_finished(&handle) {
        return join(handle);
    }
    let target = match ident.get(|| is_finished(&handle)) {
        Some((epoch, id)) if epoch == st.epoch() => id,
        _ => return join(handle),
    };
    let on = Blocker::Join(target);
    let kind = EventKind::Block {
        on,
        site,
        timed: false,
        seq: 0,
    };
    sink::emit_and_ship(st, kind);
    let result = join(handle);
    let st = state::load();
    if st.active() {
        sink::emit(st, EventKind::Unblock { on, seq: 0 });
    }
    result
}

/// An owned permission to join a thread, like [`std::thread::JoinHandle`],
/// that lockscope sees: [`join`](Self::join) waits for the thread in the
/// wait-for graph.
///
/// # Examples
///
/// ```
/// let handle = lockscope::thread::spawn(|| 6 * 7);
/// assert!(handle.thread().id() != std::thread::current().id());
/// assert_eq!(handle.join().unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    ident: Arc<Ident>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish, like [`std::thread::JoinHandle::join`].
    /// While it waits, the joining thread waits for the joined one: if the
    /// joined thread waits (directly or not) for a lock the joiner holds, the
    /// session reports a deadlock naming the join.
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = lockscope::thread::spawn(|| panic!("oops"));
    /// assert!(handle.join().is_err());
    /// ```
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        self.join_at(Site::caller())
    }

    /// [`join`](Self::join), recorded at `site`.
    pub(crate) fn join_at(self, site: Site) -> std::thread::Result<T> {
        let JoinHandle { inner, ident } = self;
        joined(
            &ident,
            site,
            inner,
            std::thread::JoinHandle::is_finished,
            std::thread::JoinHandle::join,
        )
    }

    /// The thread's handle, like [`std::thread::JoinHandle::thread`].
    pub fn thread(&self) -> &std::thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished running its closure, like
    /// [`std::thread::JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The std handle inside; joining it makes no wait-for edge.
    pub fn into_std(self) -> std::thread::JoinHandle<T> {
        self.inner
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", self.inner.thread())
            .finish_non_exhaustive()
    }
}

/// Spawns a thread, like [`std::thread::spawn`], that lockscope follows from its
/// first instruction.
///
/// # Panics
///
/// Panics if the OS cannot create a thread, as `std::thread::spawn` does.
///
/// # Examples
///
/// ```
/// let handle = lockscope::thread::spawn(|| 6 * 7);
/// assert_eq!(handle.join().unwrap(), 42);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Thread configuration, like [`std::thread::Builder`].
///
/// # Examples
///
/// ```
/// let handle = lockscope::thread::Builder::new()
///     .name("worker".into())
///     .spawn(|| std::thread::current().name().map(String::from))
///     .unwrap();
/// assert_eq!(handle.join().unwrap().as_deref(), Some("worker"));
/// ```
#[derive(Debug)]
pub struct Builder {
    inner: std::thread::Builder,
}

impl Builder {
    /// A builder with std's defaults.
    pub fn new() -> Builder {
        Builder {
            inner: std::thread::Builder::new(),
        }
    }

    /// Names the thread; lockscope shows this name.
    pub fn name(self, name: String) -> Builder {
        Builder {
            inner: self.inner.name(name),
        }
    }

    /// Sets the stack size in bytes.
    pub fn stack_size(self, size: usize) -> Builder {
        Builder {
            inner: self.inner.stack_size(size),
        }
    }

    /// Spawns the thread.
    ///
    /// # Errors
    ///
    /// Fails when the OS cannot create a thread.
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let ident = Arc::new(Ident::default());
        let mine = Arc::clone(&ident);
        let inner = self.inner.spawn(move || run(f, &mine))?;
        Ok(JoinHandle { inner, ident })
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// Runs a spawned thread's body between its start and its end events. A panic
/// is recorded and then resumed, so `join` sees it exactly as with std.
pub(super) fn run<F: FnOnce() -> T, T>(f: F, ident: &Ident) -> T {
    let st = state::load();
    let me = if st.active() { sink::current(st) } else { None };
    ident.set(me);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    ident.end();
    match result {
        Ok(value) => {
            let st = state::load();
            if st.active() {
                sink::thread_ended(st, None);
            }
            value
        }
        Err(payload) => {
            let st = state::load();
            if st.active() {
                sink::thread_ended(st, Some(panic_message(payload.as_ref())));
            }
            panic::resume_unwind(payload)
        }
    }
}

/// The text of a panic payload, when it has one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
