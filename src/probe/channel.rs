//! `lockscope::channel`: crossbeam-channel's `bounded` and `unbounded` with
//! the same API, whose blocking operations are waits in the wait-for graph.
//!
//! A `recv` that blocks waits for the threads owning the channel's senders; a
//! `send` that blocks (a full bounded channel, or a zero-capacity one with no
//! receiver waiting) waits for the threads owning its receivers.
//!
//! **Ownership rule**: a handle is owned by the thread that last used it
//! (sent or received through it, `try_*` and timed forms included); a new or
//! cloned handle is owned by no one until its first use. lockscope cannot
//! see a handle move between threads, only its next use; so a used handle
//! moved into another thread (a closure, a message, a shared structure)
//! still counts as its old owner's until the new thread uses it, and a
//! handle never used (kept alive in a struct, say) counts for no one. The model is built so that
//! this errs towards silence: a wait on a channel gets a wait-for edge only
//! when exactly one live thread other than the waiter owns the other end and
//! the waiter owns none of it; every other case (several possible senders, a
//! handle parked unused in a shared structure) is left to stall detection.
//! `select!` over these channels is not supported (use the std-like methods).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

pub use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

use super::gate::{self, Op};
use super::meta::LockMeta;
use super::sink;
use super::state::{self, State};
use crate::event::{Blocker, End, EventKind, LockId, LockKind, Site, ThreadId};

/// What a retried operation found: it would block (the message back), or
/// it failed for good.
enum Again<M, E> {
    Block(M),
    Fail(E),
}

/// The channel's identity, shared by all its handles.
struct Shared {
    meta: LockMeta,
    /// Threads recorded as blocked in `send` ([`SENDERS`]) and in `recv`
    /// ([`RECEIVERS`]): an operation that goes through while the other side
    /// has some records that it woke them.
    blocked: [AtomicU32; 2],
}

const SENDERS: usize = 0;
const RECEIVERS: usize = 1;

impl Shared {
    fn new(name: Option<std::borrow::Cow<'static, str>>, site: Site) -> Shared {
        Shared {
            meta: LockMeta::new(LockKind::Channel, name, site),
            blocked: [AtomicU32::new(0), AtomicU32::new(0)],
        }
    }
}

/// A handle's owner: `(epoch << 32) | (thread id + 1)`, 0 for none.
#[derive(Default)]
struct Owner(AtomicU64);

fn pack(epoch: u32, thread: ThreadId) -> u64 {
    (u64::from(epoch) << 32) | (u64::from(thread.0) + 1)
}

impl Owner {
    /// The owner in session `epoch`, if any.
    fn get(&self, epoch: u32) -> Option<ThreadId> {
        let packed = self.0.load(Ordering::Relaxed);
        let id = packed as u32;
        ((packed >> 32) as u32 == epoch && id != 0).then(|| ThreadId(id - 1))
    }
}

/// What both ends do: claim ownership on use, block with events, let go on drop.
struct Handle {
    shared: Arc<Shared>,
    owner: Owner,
    end: End,
}

impl Handle {
    /// A handle no thread owns yet: a new or cloned handle is usually moved
    /// to another thread before its first use, and counting it as its
    /// maker's would make a thread wait for itself.
    fn new(shared: Arc<Shared>, end: End) -> Handle {
        Handle {
            shared,
            owner: Owner::default(),
            end,
        }
    }

    /// Makes the calling thread this handle's owner, recording the change.
    /// Returns the channel's id in the session.
    #[inline]
    fn claim(&self, st: State) -> Option<LockId> {
        let channel = self.shared.meta.id(st)?;
        let (epoch, me) = sink::current(st)?;
        let packed = pack(epoch, me);
        let old = self.owner.0.load(Ordering::Relaxed);
        if old != packed {
            self.owner.0.store(packed, Ordering::Relaxed);
            let from = Owner(AtomicU64::new(old)).get(epoch);
            let kind = EventKind::Handle {
                channel,
                end: self.end,
                from,
                to: Some(me),
            };
            sink::emit(st, kind);
        }
        Some(channel)
    }

    /// The side this handle's blocked operations are counted on.
    fn side(&self) -> usize {
        match self.end {
            End::Sender => SENDERS,
            End::Receiver => RECEIVERS,
        }
    }

    /// Runs `op` (a blocking operation) as a wait, after its non-blocking
    /// form found it would block.
    ///
    /// The thread counts itself as blocked, then tries once more (`retry`):
    /// an operation of the other side either sees the count (and records
    /// that it woke this side, see [`Handle::went_through`]) or made room
    /// before the retry (which then goes through). Fences on both sides make
    /// that an either-or. The wait's events carry the channel's sequence
    /// numbers, taken before the count, so the model applies the wait before
    /// the wake-up whatever order the threads' events arrive in: it never
    /// keeps a thread waiting that an operation already let through.
    fn wait<M, T, E>(
        &self,
        st: State,
        (timed, site): (bool, Site),
        msg: M,
        retry: impl FnOnce(M) -> Result<T, Again<M, E>>,
        op: impl FnOnce(M) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(channel) = self.claim(st) else {
            return op(msg);
        };
        let on = match self.end {
            End::Sender => Blocker::Send(channel),
            End::Receiver => Blocker::Recv(channel),
        };
        let meta = &self.shared.meta;
        let blocked = &self.shared.blocked[self.side()];
        let seq = meta.next_seq_shared();
        blocked.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let done = match retry(msg) {
            Err(Again::Block(msg)) => Err(msg),
            Ok(value) => Ok(Ok(value)),
            Err(Again::Fail(e)) => Ok(Err(e)),
        };
        let msg = match done {
            Err(msg) => msg,
            Ok(result) => {
                // Went through (or failed) without blocking: the number
                // taken records the operation, which may wake the other side.
                let kind = EventKind::ChannelWake {
                    channel,
                    end: self.end,
                    seq,
                };
                sink::emit(st, kind);
                blocked.fetch_sub(1, Ordering::SeqCst);
                return result;
            }
        };
        let kind = EventKind::Block {
            on,
            site,
            timed,
            seq,
        };
        sink::emit_and_ship(st, kind);
        let result = op(msg);
        let seq = meta.next_seq_shared();
        blocked.fetch_sub(1, Ordering::SeqCst);
        // Emitted even if the session ended meanwhile (it is then refused):
        // a number taken is a number recorded.
        sink::emit(st, EventKind::Unblock { on, seq });
        if result.is_ok() {
            self.went_through(st);
        }
        result
    }

    /// An operation went through: if threads are recorded as blocked on the
    /// other side, it may have woken them, and the model must not keep them
    /// waiting (a stale wait could close a cycle that is not there).
    #[inline]
    fn went_through(&self, st: State) {
        let other = &self.shared.blocked[1 - self.side()];
        fence(Ordering::SeqCst);
        if other.load(Ordering::SeqCst) == 0 {
            return;
        }
        if let Some(channel) = self.shared.meta.id(st) {
            let seq = self.shared.meta.next_seq_shared();
            let kind = EventKind::ChannelWake {
                channel,
                end: self.end,
                seq,
            };
            sink::emit(st, kind);
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let st = state::load();
        if !st.active() {
            return;
        }
        let Some(owner) = self.owner.get(st.epoch()) else {
            return;
        };
        if let Some(channel) = self.shared.meta.id(st) {
            let kind = EventKind::Handle {
                channel,
                end: self.end,
                from: Some(owner),
                to: None,
            };
            sink::emit(st, kind);
        }
    }
}

/// The sending side of a channel, like [`crossbeam_channel::Sender`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = lockscope::channel::unbounded();
/// let tx2 = tx.clone();
/// lockscope::thread::spawn(move || tx2.send(1).unwrap()).join().unwrap();
/// tx.send(2).unwrap();
/// assert_eq!(rx.recv(), Ok(1));
/// assert_eq!(rx.recv(), Ok(2));
/// ```
pub struct Sender<T> {
    inner: crossbeam_channel::Sender<T>,
    handle: Handle,
}

/// The receiving side of a channel, like [`crossbeam_channel::Receiver`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = lockscope::channel::bounded(1);
/// tx.send("hi").unwrap();
/// drop(tx);
/// assert_eq!(rx.recv(), Ok("hi"));
/// assert!(rx.recv().is_err(), "no sender left: disconnected");
/// ```
pub struct Receiver<T> {
    inner: crossbeam_channel::Receiver<T>,
    handle: Handle,
}

#[track_caller]
fn make<T>(
    name: Option<std::borrow::Cow<'static, str>>,
    pair: (crossbeam_channel::Sender<T>, crossbeam_channel::Receiver<T>),
) -> (Sender<T>, Receiver<T>) {
    make_at(name, pair, Site::caller())
}

fn make_at<T>(
    name: Option<std::borrow::Cow<'static, str>>,
    pair: (crossbeam_channel::Sender<T>, crossbeam_channel::Receiver<T>),
    site: Site,
) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared::new(name, site));
    let (tx, rx) = pair;
    let sender = Sender {
        inner: tx,
        handle: Handle::new(Arc::clone(&shared), End::Sender),
    };
    let receiver = Receiver {
        inner: rx,
        handle: Handle::new(shared, End::Receiver),
    };
    (sender, receiver)
}

/// A channel of capacity `cap`, like [`crossbeam_channel::bounded`]; `0`
/// makes a rendezvous channel, whose `send` waits for a `recv`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = lockscope::channel::bounded(0);
/// let t = lockscope::thread::spawn(move || tx.send(7).unwrap());
/// assert_eq!(rx.recv(), Ok(7));
/// t.join().unwrap();
/// ```
#[track_caller]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    make(None, crossbeam_channel::bounded(cap))
}

/// A channel of unbounded capacity, like [`crossbeam_channel::unbounded`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = lockscope::channel::unbounded();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    make(None, crossbeam_channel::unbounded())
}

/// [`bounded`], with a name for reports and the viewer.
///
/// # Examples
///
/// ```
/// let (tx, rx) = lockscope::channel::named_bounded("jobs", 4);
/// tx.send(()).unwrap();
/// assert_eq!(rx.len(), 1);
/// ```
#[track_caller]
pub fn named_bounded<T>(
    name: impl Into<std::borrow::Cow<'static, str>>,
    cap: usize,
) -> (Sender<T>, Receiver<T>) {
    make(Some(name.into()), crossbeam_channel::bounded(cap))
}

/// [`unbounded`], with a name for reports and the viewer.
///
/// # Examples
///
/// ```
/// let (tx, rx) = lockscope::channel::named_unbounded::<u8>("events");
/// drop(tx);
/// assert!(rx.recv().is_err());
/// ```
#[track_caller]
pub fn named_unbounded<T>(
    name: impl Into<std::borrow::Cow<'static, str>>,
) -> (Sender<T>, Receiver<T>) {
    make(Some(name.into()), crossbeam_channel::unbounded())
}

/// A named channel declared at `site` (a scenario's `[locks]` entry):
/// bounded with `Some(cap)`, unbounded with `None`.
pub(crate) fn named_at<T>(
    name: String,
    cap: Option<usize>,
    site: Site,
) -> (Sender<T>, Receiver<T>) {
    let pair = match cap {
        Some(cap) => crossbeam_channel::bounded(cap),
        None => crossbeam_channel::unbounded(),
    };
    make_at(Some(name.into()), pair, site)
}

impl<T> Sender<T> {
    /// Sends a message, blocking while the channel is full, like
    /// [`crossbeam_channel::Sender::send`].
    ///
    /// # Errors
    ///
    /// The message back, if every receiver is gone.
    #[track_caller]
    #[inline]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        self.send_at(msg, Site::caller())
    }

    /// Makes the calling thread this sender's owner now, before its first
    /// use (a scenario thread owns the ends its steps use from its start).
    pub(crate) fn claim(&self) {
        let st = state::load();
        if st.active() {
            self.handle.claim(st);
        }
    }

    /// [`send`](Self::send), recorded at `site`.
    pub(crate) fn send_at(&self, msg: T, site: Site) -> Result<(), SendError<T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.send(msg);
        }
        let channel = self.handle.claim(st);
        gate::before(st, || channel.map(|channel| Op::Send { channel }), site);
        match self.inner.try_send(msg) {
            Ok(()) => {
                self.handle.went_through(st);
                Ok(())
            }
            Err(TrySendError::Disconnected(msg)) => Err(SendError(msg)),
            Err(TrySendError::Full(msg)) => {
                let retry = |msg| match self.inner.try_send(msg) {
                    Ok(()) => Ok(()),
                    Err(TrySendError::Full(msg)) => Err(Again::Block(msg)),
                    Err(TrySendError::Disconnected(msg)) => Err(Again::Fail(SendError(msg))),
                };
                self.handle
                    .wait(st, (false, site), msg, retry, |msg| self.inner.send(msg))
            }
        }
    }

    /// Sends without blocking, like [`crossbeam_channel::Sender::try_send`].
    ///
    /// # Errors
    ///
    /// The message back, if the channel is full or disconnected.
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.try_send(msg);
        }
        self.handle.claim(st);
        let result = self.inner.try_send(msg);
        if result.is_ok() {
            self.handle.went_through(st);
        }
        result
    }

    /// Sends, waiting at most `timeout` for room, like
    /// [`crossbeam_channel::Sender::send_timeout`]. A bounded wait makes no
    /// wait-for edge.
    ///
    /// # Errors
    ///
    /// The message back, on timeout or if disconnected.
    #[track_caller]
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        let st = state::load();
        if !st.active() {
            return self.inner.send_timeout(msg, timeout);
        }
        self.handle.claim(st);
        match self.inner.try_send(msg) {
            Ok(()) => {
                self.handle.went_through(st);
                Ok(())
            }
            Err(TrySendError::Disconnected(msg)) => Err(SendTimeoutError::Disconnected(msg)),
            Err(TrySendError::Full(msg)) => {
                let site = Site::caller();
                let deadline = Instant::now() + timeout;
                let retry = |msg| match self.inner.try_send(msg) {
                    Ok(()) => Ok(()),
                    Err(TrySendError::Full(msg)) => Err(Again::Block(msg)),
                    Err(TrySendError::Disconnected(msg)) => {
                        Err(Again::Fail(SendTimeoutError::Disconnected(msg)))
                    }
                };
                self.handle.wait(st, (true, site), msg, retry, |msg| {
                    self.inner.send_deadline(msg, deadline)
                })
            }
        }
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether the channel is full.
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// The number of messages in the channel.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The channel's capacity, `None` if unbounded.
    pub fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Receiver<T> {
    /// Receives a message, blocking while the channel is empty, like
    /// [`crossbeam_channel::Receiver::recv`].
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is empty and every sender is gone.
    #[track_caller]
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_at(Site::caller())
    }

    /// Makes the calling thread this receiver's owner now, before its first
    /// use (a scenario thread owns the ends its steps use from its start).
    pub(crate) fn claim(&self) {
        let st = state::load();
        if st.active() {
            self.handle.claim(st);
        }
    }

    /// [`recv`](Self::recv), recorded at `site`.
    pub(crate) fn recv_at(&self, site: Site) -> Result<T, RecvError> {
        let st = state::load();
        if !st.active() {
            return self.inner.recv();
        }
        let channel = self.handle.claim(st);
        gate::before(st, || channel.map(|channel| Op::Recv { channel }), site);
        match self.inner.try_recv() {
            Ok(msg) => {
                self.handle.went_through(st);
                Ok(msg)
            }
            Err(TryRecvError::Disconnected) => Err(RecvError),
            Err(TryRecvError::Empty) => {
                let retry = |()| match self.inner.try_recv() {
                    Ok(msg) => Ok(msg),
                    Err(TryRecvError::Empty) => Err(Again::Block(())),
                    Err(TryRecvError::Disconnected) => Err(Again::Fail(RecvError)),
                };
                self.handle
                    .wait(st, (false, site), (), retry, |()| self.inner.recv())
            }
        }
    }

    /// Receives without blocking, like [`crossbeam_channel::Receiver::try_recv`].
    ///
    /// # Errors
    ///
    /// Empty or disconnected.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let st = state::load();
        if !st.active() {
            return self.inner.try_recv();
        }
        self.handle.claim(st);
        let result = self.inner.try_recv();
        if result.is_ok() {
            self.handle.went_through(st);
        }
        result
    }

    /// Receives, waiting at most `timeout`, like
    /// [`crossbeam_channel::Receiver::recv_timeout`]. A bounded wait makes no
    /// wait-for edge.
    ///
    /// # Errors
    ///
    /// On timeout, or once empty and disconnected.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let st = state::load();
        if !st.active() {
            return self.inner.recv_timeout(timeout);
        }
        self.handle.claim(st);
        match self.inner.try_recv() {
            Ok(msg) => {
                self.handle.went_through(st);
                Ok(msg)
            }
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {
                let site = Site::caller();
                let deadline = Instant::now() + timeout;
                let retry = |()| match self.inner.try_recv() {
                    Ok(msg) => Ok(msg),
                    Err(TryRecvError::Empty) => Err(Again::Block(())),
                    Err(TryRecvError::Disconnected) => {
                        Err(Again::Fail(RecvTimeoutError::Disconnected))
                    }
                };
                self.handle.wait(st, (true, site), (), retry, |()| {
                    self.inner.recv_deadline(deadline)
                })
            }
        }
    }

    /// A blocking iterator over messages, ending when the channel is empty
    /// and disconnected.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = lockscope::channel::unbounded();
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(rx.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// A non-blocking iterator over the messages there now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether the channel is full.
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// The number of messages in the channel.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The channel's capacity, `None` if unbounded.
    pub fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Clone for Sender<T> {
    /// Another sender, owned by no thread until one uses it.
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            handle: Handle::new(Arc::clone(&self.handle.shared), End::Sender),
        }
    }
}

impl<T> Clone for Receiver<T> {
    /// Another receiver, owned by no thread until one uses it.
    fn clone(&self) -> Self {
        Receiver {
            inner: self.inner.clone(),
            handle: Handle::new(Arc::clone(&self.handle.shared), End::Receiver),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", &self.handle.shared.meta)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("channel", &self.handle.shared.meta)
            .finish_non_exhaustive()
    }
}

/// A blocking iterator over a receiver's messages ([`Receiver::iter`]).
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// A non-blocking iterator over a receiver's messages ([`Receiver::try_iter`]).
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// An owning blocking iterator over a receiver's messages.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
