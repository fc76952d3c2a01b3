//! [`TraceWriter`]: events in, chunks of varint records out.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};

use super::Header;
use super::codec::{crc32, crc32_update, delta, put_varint};
use super::format::{
    CHUNK_TARGET, CLOCK_UNIT, MAGIC, SeqTable, TAG_END, TAG_EVENTS, TAG_HEADER, VERSION, kind_code,
    op,
};
use crate::event::{Blocker, End, Event, EventKind, LockId, Mode, Site};

/// Room kept at the front of the chunk buffer for the chunk's tag, length and
/// event count, so a chunk goes out in one `write_all` without a copy.
const HEAD_ROOM: usize = 1 + 10 + 10;

/// Writes events to a trace stream (the format is described in the README, "The trace format").
///
/// Events are encoded into an in-memory chunk of about 64 KiB that is written
/// out, framed and checksummed, when full or on [`flush`](Self::flush). A
/// stream cut anywhere reads back up to its last whole chunk.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Event, EventKind, ThreadId};
/// use lockscope::trace::{Header, TraceWriter, read_from};
///
/// let mut writer = TraceWriter::new(Vec::new(), &Header::new("demo")).unwrap();
/// let start = EventKind::ThreadStart { name: "main".into() };
/// writer.write(&[Event { time: 5, thread: ThreadId(0), kind: start }]).unwrap();
/// let bytes = writer.finish().unwrap();
/// let trace = read_from(&bytes, "demo.trace").unwrap();
/// assert_eq!(trace.events.len(), 1);
/// assert!(trace.complete && trace.damage.is_none());
/// ```
pub struct TraceWriter<W: Write> {
    out: W,
    chunk: Vec<u8>,
    chunk_events: u64,
    events: u64,
    bytes: u64,
    enc: Encoder,
}

impl<W: Write> TraceWriter<W> {
    /// Writes the preamble and `header` to `w` at once, so even a recording
    /// killed before its first event leaves a valid (empty) trace.
    ///
    /// # Errors
    ///
    /// Any error of `w`.
    pub fn new(mut w: W, header: &Header) -> io::Result<Self> {
        let mut head = Vec::with_capacity(64 + header.program.len());
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        let mut payload = Vec::new();
        put_varint(&mut payload, header.started_unix_ns);
        put_str(&mut payload, CLOCK_UNIT);
        put_str(&mut payload, &header.program);
        put_str(&mut payload, &header.writer);
        frame(&mut head, TAG_HEADER, &payload);
        w.write_all(&head)?;
        w.flush()?;
        let mut chunk = Vec::with_capacity(HEAD_ROOM + CHUNK_TARGET + 1024);
        chunk.resize(HEAD_ROOM, 0);
        Ok(TraceWriter {
            out: w,
            chunk,
            chunk_events: 0,
            events: 0,
            bytes: head.len() as u64,
            enc: Encoder::default(),
        })
    }

    /// Encodes `events`, writing out each chunk that fills up.
    ///
    /// # Errors
    ///
    /// Any error of the underlying writer. The chunk that failed is dropped:
    /// a reader will report the stream as damaged from there on.
    pub fn write(&mut self, events: &[Event]) -> io::Result<()> {
        for event in events {
            self.enc.encode(&mut self.chunk, event);
            self.chunk_events += 1;
            if self.chunk.len() >= HEAD_ROOM + CHUNK_TARGET {
                self.emit()?;
            }
        }
        self.events += events.len() as u64;
        Ok(())
    }

    /// Writes out the events encoded so far (as a possibly short chunk) and
    /// flushes the underlying writer.
    ///
    /// # Errors
    ///
    /// Any error of the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.emit()?;
        self.out.flush()
    }

    /// Writes out everything, then the end marker that tells a reader the
    /// recording was finished cleanly, and returns the underlying writer.
    ///
    /// # Errors
    ///
    /// Any error of the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.emit()?;
        let mut payload = Vec::new();
        put_varint(&mut payload, self.events);
        let mut end = Vec::new();
        frame(&mut end, TAG_END, &payload);
        self.out.write_all(&end)?;
        self.bytes += end.len() as u64;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Events passed to [`write`](Self::write) so far.
    pub fn events_written(&self) -> u64 {
        self.events
    }

    /// Bytes handed to the underlying writer so far (events still in the
    /// current chunk are not counted until it is written out).
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Frames the pending records as an events chunk and writes it.
    fn emit(&mut self) -> io::Result<()> {
        if self.chunk_events == 0 && self.chunk.len() == HEAD_ROOM {
            return Ok(());
        }
        let records = self.chunk.len() - HEAD_ROOM;
        let mut count = Vec::with_capacity(10);
        put_varint(&mut count, self.chunk_events);
        let mut head = Vec::with_capacity(HEAD_ROOM);
        head.push(TAG_EVENTS);
        put_varint(&mut head, (count.len() + records) as u64);
        head.extend_from_slice(&count);
        let start = HEAD_ROOM - head.len();
        self.chunk[start..HEAD_ROOM].copy_from_slice(&head);
        let crc = crc32(&self.chunk[start..]);
        self.chunk.extend_from_slice(&crc.to_le_bytes());
        let result = self.out.write_all(&self.chunk[start..]);
        if result.is_ok() {
            self.bytes += (self.chunk.len() - start) as u64;
        }
        self.chunk.truncate(HEAD_ROOM);
        self.chunk_events = 0;
        result
    }
}

/// Appends a framed chunk: tag, payload length, payload, CRC-32 of all three.
fn frame(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    let start = out.len();
    out.push(tag);
    put_varint(out, payload.len() as u64);
    let crc = crc32_update(crc32(&out[start..]), payload);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A site as the writer keys it: by the file name's address, not its text.
/// Sites come from `Location::caller` or interned scenario files, so equal
/// names nearly always share an address; when they do not, the site is
/// merely defined twice.
type SiteKey = (usize, usize, u32, u32);

/// The running state of the encoder.
#[derive(Default)]
struct Encoder {
    prev_time: u64,
    prev_thread: u32,
    prev_lock: u32,
    seqs: SeqTable,
    sites: HashMap<SiteKey, u32, BuildHasherDefault<FastHasher>>,
    files: HashMap<(usize, usize), u32, BuildHasherDefault<FastHasher>>,
}

impl Encoder {
    #[inline]
    fn encode(&mut self, out: &mut Vec<u8>, ev: &Event) {
        // Definitions go before the record that first uses them.
        let site = match &ev.kind {
            EventKind::LockCreated { site, .. }
            | EventKind::Request { site, .. }
            | EventKind::Acquired { site, .. }
            | EventKind::TryFailed { site, .. }
            | EventKind::CondWait { site, .. }
            | EventKind::Notify { site, .. }
            | EventKind::Block { site, .. } => self.site(out, *site),
            _ => 0,
        };
        let (code, flags) = match &ev.kind {
            EventKind::ThreadStart { .. } => (op::THREAD_START, 0),
            EventKind::ThreadExit => (op::THREAD_EXIT, 0),
            EventKind::ThreadPanic { .. } => (op::THREAD_PANIC, 0),
            EventKind::LockCreated { lock, .. } => (op::LOCK_CREATED, self.same_lock(*lock)),
            EventKind::Request {
                lock, mode, timed, ..
            } => (
                op::REQUEST,
                self.same_lock(*lock) | shared(*mode) | flag(*timed),
            ),
            EventKind::Acquired {
                lock, mode, tried, ..
            } => (
                op::ACQUIRED,
                self.same_lock(*lock) | shared(*mode) | flag(*tried),
            ),
            EventKind::Released { lock, mode, .. } => {
                (op::RELEASED, self.same_lock(*lock) | shared(*mode))
            }
            EventKind::TryFailed { lock, mode, .. } => {
                (op::TRY_FAILED, self.same_lock(*lock) | shared(*mode))
            }
            EventKind::TimedOut { lock, mode } => {
                (op::TIMED_OUT, self.same_lock(*lock) | shared(*mode))
            }
            EventKind::CondWait { timed, .. } => (op::COND_WAIT, flag(*timed)),
            EventKind::CondWake { timed_out, .. } => (op::COND_WAKE, flag(*timed_out)),
            EventKind::Notify { all, .. } => (op::NOTIFY, flag(*all)),
            EventKind::Block { timed, .. } => (op::BLOCK, flag(*timed)),
            EventKind::Unblock { .. }
            | EventKind::Handle { .. }
            | EventKind::ChannelWake { .. }
            | EventKind::BarrierTrip { .. } => (op::BLOCK, 0),
        };
        if event_mode(&ev.kind) == Some(Mode::Upgradable) {
            out.push(op::UPGRADABLE);
        }
        let same_thread = ev.thread.0 == self.prev_thread;
        out.push(code | flags | if same_thread { op::SAME_THREAD } else { 0 });
        put_varint(out, delta(self.prev_time, ev.time));
        self.prev_time = ev.time;
        if !same_thread {
            put_varint(out, u64::from(ev.thread.0));
            self.prev_thread = ev.thread.0;
        }
        if let Some(lock) = lock_field(&ev.kind) {
            if flags & op::SAME_LOCK == 0 {
                put_varint(out, u64::from(lock.0));
            }
            self.prev_lock = lock.0;
        }
        match &ev.kind {
            EventKind::ThreadStart { name } => put_str(out, name),
            EventKind::ThreadPanic { message } => put_str(out, message),
            EventKind::ThreadExit => {}
            EventKind::LockCreated {
                lock,
                name,
                kind,
                first_seq,
                ..
            } => {
                put_str(out, name);
                out.push(kind_code(*kind));
                put_varint(out, u64::from(site));
                self.seq(out, *lock, *first_seq);
            }
            EventKind::Request { .. } | EventKind::TryFailed { .. } => {
                put_varint(out, u64::from(site));
            }
            EventKind::Acquired { lock, seq, .. } => {
                put_varint(out, u64::from(site));
                self.seq(out, *lock, *seq);
            }
            EventKind::Released { lock, seq, .. } => self.seq(out, *lock, *seq),
            EventKind::TimedOut { .. } => {}
            EventKind::CondWait {
                condvar,
                mutex,
                seq,
                ..
            } => {
                put_varint(out, u64::from(condvar.0));
                put_varint(out, u64::from(mutex.0));
                put_varint(out, u64::from(site));
                self.seq(out, *mutex, *seq);
            }
            EventKind::CondWake {
                condvar,
                mutex,
                seq,
                ..
            } => {
                put_varint(out, u64::from(condvar.0));
                put_varint(out, u64::from(mutex.0));
                self.seq(out, *mutex, *seq);
            }
            EventKind::Notify { condvar, woken, .. } => {
                put_varint(out, u64::from(condvar.0));
                put_varint(out, u64::from(*woken));
                put_varint(out, u64::from(site));
            }
            EventKind::Block { on, seq, .. } => {
                out.push(op::BLOCK_BEGIN);
                put_blocker(out, *on);
                put_varint(out, u64::from(site));
                if let Some(object) = on.object() {
                    self.seq(out, object, *seq);
                }
            }
            EventKind::Unblock { on, seq } => {
                out.push(op::BLOCK_END);
                put_blocker(out, *on);
                if let Some(object) = on.object() {
                    self.seq(out, object, *seq);
                }
            }
            EventKind::BarrierTrip { barrier, seq } => {
                out.push(op::BARRIER_TRIP);
                put_varint(out, u64::from(barrier.0));
                self.seq(out, *barrier, *seq);
            }
            EventKind::ChannelWake { channel, end, seq } => {
                out.push(op::CHANNEL_WAKE);
                put_varint(out, u64::from(channel.0));
                out.push(match end {
                    End::Sender => 0,
                    End::Receiver => 1,
                });
                self.seq(out, *channel, *seq);
            }
            EventKind::Handle {
                channel,
                end,
                from,
                to,
            } => {
                out.push(op::HANDLE);
                put_varint(out, u64::from(channel.0));
                out.push(match end {
                    End::Sender => 0,
                    End::Receiver => 1,
                });
                for owner in [from, to] {
                    put_varint(out, owner.map_or(0, |t| u64::from(t.0) + 1));
                }
            }
        }
    }

    #[inline]
    fn same_lock(&self, lock: LockId) -> u8 {
        if lock.0 == self.prev_lock {
            op::SAME_LOCK
        } else {
            0
        }
    }

    #[inline]
    fn seq(&mut self, out: &mut Vec<u8>, lock: LockId, seq: u64) {
        let last = self.seqs.slot(lock.0);
        put_varint(out, delta(*last, seq));
        *last = seq;
    }

    /// The site's index, defining it (and its file) first if new.
    #[inline]
    fn site(&mut self, out: &mut Vec<u8>, site: Site) -> u32 {
        let file_key = (site.file.as_ptr() as usize, site.file.len());
        let key = (file_key.0, file_key.1, site.line, site.column);
        if let Some(&index) = self.sites.get(&key) {
            return index;
        }
        let next_file = self.files.len() as u32;
        let file = *self.files.entry(file_key).or_insert_with(|| {
            out.push(op::DEFINE_FILE);
            put_str(out, site.file);
            next_file
        });
        out.push(op::DEFINE_SITE);
        put_varint(out, u64::from(file));
        put_varint(out, u64::from(site.line));
        put_varint(out, u64::from(site.column));
        let index = self.sites.len() as u32;
        self.sites.insert(key, index);
        index
    }
}

/// The lock a record's lock field names (records that have one).
#[inline]
fn put_blocker(out: &mut Vec<u8>, on: Blocker) {
    match on {
        Blocker::Join(thread) => {
            out.push(op::BLOCKER_JOIN);
            put_varint(out, u64::from(thread.0));
        }
        Blocker::Recv(channel) => {
            out.push(op::BLOCKER_RECV);
            put_varint(out, u64::from(channel.0));
        }
        Blocker::Send(channel) => {
            out.push(op::BLOCKER_SEND);
            put_varint(out, u64::from(channel.0));
        }
        Blocker::Barrier { barrier, parties } => {
            out.push(op::BLOCKER_BARRIER);
            put_varint(out, u64::from(barrier.0));
            put_varint(out, u64::from(parties));
        }
    }
}

pub(crate) fn lock_field(kind: &EventKind) -> Option<LockId> {
    match kind {
        EventKind::LockCreated { lock, .. }
        | EventKind::Request { lock, .. }
        | EventKind::Acquired { lock, .. }
        | EventKind::Released { lock, .. }
        | EventKind::TryFailed { lock, .. }
        | EventKind::TimedOut { lock, .. } => Some(*lock),
        _ => None,
    }
}

/// The mode of a record that has one.
#[inline]
fn event_mode(kind: &EventKind) -> Option<Mode> {
    match *kind {
        EventKind::Request { mode, .. }
        | EventKind::Acquired { mode, .. }
        | EventKind::Released { mode, .. }
        | EventKind::TryFailed { mode, .. }
        | EventKind::TimedOut { mode, .. } => Some(mode),
        _ => None,
    }
}

/// The mode bit; an upgradable read is a shared one announced by an
/// [`op::UPGRADABLE`] record just before.
#[inline]
fn shared(mode: Mode) -> u8 {
    match mode {
        Mode::Shared | Mode::Upgradable => op::SHARED,
        Mode::Exclusive => 0,
    }
}

#[inline]
fn flag(on: bool) -> u8 {
    if on { op::FLAG } else { 0 }
}

/// A multiply-rotate hasher (as in rustc's FxHash) for the writer's small
/// integer keys: the default SipHash would be most of the cost of a record.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}
