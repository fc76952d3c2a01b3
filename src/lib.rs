//! lockscope: watch threads and locks live, and catch deadlocks the moment
//! they close.
//!
//! Swap `parking_lot::Mutex` for [`lockscope::Mutex`](Mutex) (and `RwLock`,
//! `Condvar`), start a [`Session`] with [`init`], and every lock request,
//! acquisition and release becomes an [`Event`](event::Event). A collector
//! thread keeps a [`Model`](model::Model) of who holds and who waits for what,
//! and reports a wait-for cycle — a deadlock — with the source location of every
//! hold and request, and lock-order inversions as potential deadlocks.
//!
//! # Examples
//!
//! ```
//! let session = lockscope::Session::builder()
//!     .on_deadlock(|report| eprintln!("{report}"))
//!     .start()
//!     .unwrap();
//! let a = lockscope::Mutex::named("a", 0);
//! let b = lockscope::Mutex::named("b", 0);
//! {
//!     let _a = a.lock();
//!     let _b = b.lock();
//! }
//! {
//!     let _b = b.lock();
//!     let _a = a.lock(); // the other order: a potential deadlock
//! }
//! let summary = session.finish().unwrap();
//! assert_eq!(summary.potential_deadlocks.len(), 1);
//! assert!(summary.deadlocks.is_empty());
//! ```

mod bounded;
pub mod cli;
pub mod control;
pub mod event;
mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod launch;
pub mod model;
mod probe;
pub mod render;
pub mod scenario;
mod session_error;
pub mod trace;
pub mod tui;

pub use exit::ExitStatus;
pub use launch::init;
pub use model::StallReport;
pub use probe::channel;
pub use probe::gate;
pub use probe::sync;
pub use probe::thread;
pub use probe::{
    Barrier, BarrierWaitResult, Condvar, DeadlockReport, MappedMutexGuard, Meter, Mutex,
    MutexGuard, ReentrantMutex, ReentrantMutexGuard, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard, Sequencer, Session, SessionBuilder, SessionMode,
    TransportStats,
};
pub use session_error::{SessionError, SessionErrorKind};
