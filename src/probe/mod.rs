//! Instrumentation: the locks, thread spawning, the per-thread event buffers, the
//! collector and the session that owns them.
//!
//! The hot path of every lock operation is one relaxed load of [`state::STATE`];
//! everything else happens only while a session is on.

mod barrier;
pub mod channel;
mod clock;
mod collector;
mod condvar;
pub mod gate;
mod meta;
mod mutex;
mod remutex;
mod ring;
mod rwlock;
mod scope;
mod sequencer;
mod session;
mod sink;
mod sites;
mod state;
pub mod sync;
pub mod thread;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::Condvar;
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard};
pub use remutex::{ReentrantMutex, ReentrantMutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard};
pub use sequencer::Sequencer;
pub(crate) use session::Viewer;
pub use session::{DeadlockReport, Meter, Session, SessionBuilder, SessionMode, TransportStats};
