//! `lockscope::thread`: `std::thread::spawn` that makes the thread's start, exit
//! and panic events.
//!
//! Threads started with plain `std::thread` work too: they are registered on
//! their first event under their std name, and their exit is recorded when their
//! thread-locals are torn down.

use std::any::Any;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::thread::JoinHandle;

use super::{sink, state};

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
        self.inner.spawn(move || run(f))
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// Runs a spawned thread's body between its start and its end events. A panic
/// is recorded and then resumed, so `join` sees it exactly as with std.
fn run<F: FnOnce() -> T, T>(f: F) -> T {
    let st = state::load();
    if st.active() {
        sink::touch(st);
    }
    match panic::catch_unwind(AssertUnwindSafe(f)) {
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
