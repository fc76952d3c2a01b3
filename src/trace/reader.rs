//! Reading a trace: check the preamble and header, then decode chunk after
//! chunk until the end marker, the end of the input, or the first damage.

use std::path::Path;

use super::codec::{Cursor, DecodeError, crc32, undelta};
use super::format::{
    CLOCK_UNIT, MAGIC, MAX_CHUNK, MIN_EVENT_BYTES, OLDEST_VERSION, PREAMBLE, SeqTable, TAG_END,
    TAG_EVENTS, TAG_HEADER, VERSION, kind_from_code, op,
};
use super::{Damage, Header, Trace, TraceError};
use crate::bounded;
use crate::event::{Blocker, End, Event, EventKind, LockId, Mode, Site, ThreadId, intern};

/// Reads the trace file at `path`.
///
/// # Errors
///
/// The file cannot be read ([`TraceError::Io`]), is not a lockscope trace
/// ([`TraceError::NotATrace`]), has a version this lockscope does not read
/// ([`TraceError::UnsupportedVersion`]), or is damaged before its first
/// event chunk ([`TraceError::Damaged`]); a pipe or device that streams more
/// than 1 GiB ([`TraceError::TooLarge`]). Whatever the input, the first
/// bytes are checked before the rest is read.
/// A damaged *tail* is not an error: see [`Trace::damage`].
pub fn read(path: &Path) -> Result<Trace, TraceError> {
    let name = path.display().to_string();
    let limit = bounded::Limit::Streams(MAX_STREAM);
    let bytes = bounded::read(path, PREAMBLE, limit, |head| check_preamble(head, &name))
        .map_err(|err| match err {
            bounded::ReadError::Io(source) => TraceError::Io {
                path: path.to_owned(),
                source,
            },
            bounded::ReadError::Refused(err) => err,
        })?
        .ok_or_else(|| TraceError::TooLarge {
            name: name.clone(),
            limit: MAX_STREAM,
        })?;
    read_from(&bytes, &name)
}

/// The most bytes read from a pipe or device (a regular file is read whole:
/// its size is known).
const MAX_STREAM: u64 = 1 << 30;

/// Reads a trace from memory; `name` names it in error messages.
///
/// Everything up to the first damaged chunk is returned, with
/// [`Trace::damage`] saying where and how much was dropped. No length field
/// can make the reader allocate more than the input's size warrants.
///
/// # Errors
///
/// As [`read`]: not a trace, an unsupported version, or damage before any
/// event could be read ([`TraceError`]), e.g. `x.bin: not a lockscope trace (starts with "\x89PNG\r\n\x1a\n")`.
///
/// # Examples
///
/// ```
/// let err = lockscope::trace::read_from(b"hello", "x.txt").unwrap_err();
/// assert_eq!(err.to_string(), r#"x.txt: not a lockscope trace (starts with "hello")"#);
/// ```
pub fn read_from(bytes: &[u8], name: &str) -> Result<Trace, TraceError> {
    check_preamble(bytes, name)?;
    let at = PREAMBLE;
    let damaged = |reason: String| TraceError::Damaged {
        name: name.to_owned(),
        at_byte: at as u64,
        reason,
    };
    let (header, mut pos) = match next_chunk(bytes, at) {
        Ok(Some(chunk)) if chunk.tag == TAG_HEADER => {
            let version = u16::from_le_bytes([bytes[MAGIC.len()], bytes[MAGIC.len() + 1]]);
            let header = parse_header(chunk.payload, version).map_err(damaged)?;
            (header, chunk.end)
        }
        Ok(Some(chunk)) => {
            return Err(damaged(format!(
                "expected the header, found a chunk of type {}",
                tag_name(chunk.tag)
            )));
        }
        Ok(None) => return Err(damaged("the file ends before its header".into())),
        Err(reason) => return Err(damaged(reason)),
    };

    // Pass 1: the intact chunks (framing and checksums only), so the event
    // vector is allocated once, at the size the intact chunks vouch for.
    let mut chunks = Vec::new();
    let mut damage = None;
    let mut end_count = None;
    let mut expected_events = 0u64;
    while pos < bytes.len() {
        if end_count.is_some() {
            damage = Some(damage_at(bytes, pos, "data after the end marker".into()));
            break;
        }
        match next_chunk(bytes, pos) {
            Ok(None) => break,
            Ok(Some(chunk)) => {
                match chunk.tag {
                    TAG_EVENTS => {
                        let count = Cursor::new(chunk.payload).varint().unwrap_or(0);
                        let most = chunk.payload.len() as u64 / MIN_EVENT_BYTES;
                        expected_events += count.min(most);
                        chunks.push((pos, chunk.payload));
                    }
                    TAG_END => match Cursor::new(chunk.payload).varint() {
                        Ok(count) => end_count = Some(count),
                        Err(_) => {
                            damage = Some(damage_at(bytes, pos, "bad end marker".into()));
                            break;
                        }
                    },
                    TAG_HEADER => {
                        damage = Some(damage_at(bytes, pos, "a second header".into()));
                        break;
                    }
                    tag if tag.is_ascii_lowercase() => {} // optional: skipped
                    tag => {
                        let reason = format!("unknown chunk type {}", tag_name(tag));
                        damage = Some(damage_at(bytes, pos, reason));
                        break;
                    }
                }
                pos = chunk.end;
            }
            Err(reason) => {
                damage = Some(damage_at(bytes, pos, reason));
                break;
            }
        }
    }

    // Pass 2: decode.
    let mut events = Vec::with_capacity(usize::try_from(expected_events).unwrap_or(0));
    let mut decoder = Decoder::default();
    for (at, payload) in chunks {
        let before = events.len();
        if let Err(reason) = decoder.chunk(payload, &mut events) {
            events.truncate(before);
            damage = Some(damage_at(bytes, at, reason));
            end_count = None;
            break;
        }
    }
    let mut complete = false;
    if let Some(count) = end_count {
        if count == events.len() as u64 {
            complete = true;
        } else if damage.is_none() {
            let reason = format!(
                "the end marker counts {count} events, the chunks hold {}",
                events.len()
            );
            damage = Some(Damage {
                at_byte: bytes.len() as u64,
                dropped_bytes: 0,
                reason,
            });
        }
    }
    events.shrink_to_fit();
    Ok(Trace {
        header,
        events,
        damage,
        complete,
    })
}

fn check_preamble(bytes: &[u8], name: &str) -> Result<(), TraceError> {
    let magic_len = MAGIC.len().min(bytes.len());
    if bytes.is_empty() || bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(TraceError::NotATrace {
            name: name.to_owned(),
            starts_with: bytes[..magic_len].to_vec(),
        });
    }
    if bytes.len() < PREAMBLE {
        return Err(TraceError::Damaged {
            name: name.to_owned(),
            at_byte: bytes.len() as u64,
            reason: "the file ends inside its preamble".into(),
        });
    }
    let version = u16::from_le_bytes([bytes[MAGIC.len()], bytes[MAGIC.len() + 1]]);
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(TraceError::UnsupportedVersion {
            name: name.to_owned(),
            version,
        });
    }
    Ok(())
}

fn damage_at(bytes: &[u8], at: usize, reason: String) -> Damage {
    Damage {
        at_byte: at as u64,
        dropped_bytes: (bytes.len() - at) as u64,
        reason,
    }
}

/// One framed chunk.
struct Chunk<'a> {
    tag: u8,
    payload: &'a [u8],
    /// The offset just past it.
    end: usize,
}

/// The chunk at `pos`, `None` at the end of the input, or why it is damaged.
fn next_chunk(bytes: &[u8], pos: usize) -> Result<Option<Chunk<'_>>, String> {
    let rest = &bytes[pos..];
    if rest.is_empty() {
        return Ok(None);
    }
    let mut cur = Cursor::new(rest);
    let truncated = || format!("the file ends inside a chunk ({} bytes left)", rest.len());
    let tag = cur.byte().map_err(|_| truncated())?;
    let len = cur.varint().map_err(|e| match e {
        DecodeError::End => truncated(),
        DecodeError::Overlong => "bad chunk length".to_owned(),
    })?;
    if len > MAX_CHUNK {
        return Err(format!(
            "chunk length {len} is over the limit of {MAX_CHUNK} bytes"
        ));
    }
    let payload = cur.take(len).map_err(|_| {
        format!(
            "a chunk of {len} bytes is cut short ({} bytes left)",
            cur.remaining()
        )
    })?;
    let stored = cur.take(4).map_err(|_| truncated())?;
    let framed = &rest[..cur.pos() - 4];
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    if crc32(framed) != stored {
        return Err(format!("checksum mismatch in a chunk of {len} bytes"));
    }
    Ok(Some(Chunk {
        tag,
        payload,
        end: pos + cur.pos(),
    }))
}

/// `bytes` with the checksum of every chunk whose framing holds recomputed,
/// so that a fuzzer's mutations reach the record decoder.
pub(crate) fn fix_checksums(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut pos = PREAMBLE;
    while pos < out.len() {
        let mut cur = Cursor::new(&out[pos..]);
        let framed = cur.byte().is_ok()
            && cur.varint().is_ok_and(|len| cur.take(len).is_ok())
            && cur.remaining() >= 4;
        if !framed {
            break;
        }
        let end = pos + cur.pos();
        let crc = crc32(&out[pos..end]);
        out[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        pos = end + 4;
    }
    out
}

fn tag_name(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}'", tag as char)
    } else {
        format!("0x{tag:02x}")
    }
}

fn parse_header(payload: &[u8], version: u16) -> Result<Header, String> {
    let mut cur = Cursor::new(payload);
    let bad = |what: &str| format!("bad header: {what}");
    let started_unix_ns = cur.varint().map_err(|_| bad("start time"))?;
    let unit = string(&mut cur).map_err(|_| bad("clock unit"))?;
    if unit != CLOCK_UNIT {
        return Err(format!("unsupported clock unit {unit:?} (expected \"ns\")"));
    }
    let program = string(&mut cur).map_err(|_| bad("program name"))?;
    let writer = string(&mut cur).map_err(|_| bad("writer"))?;
    // Later fields of the header would follow here; this reader ignores them.
    Ok(Header {
        program,
        started_unix_ns,
        version,
        writer,
    })
}

fn string(cur: &mut Cursor<'_>) -> Result<String, String> {
    let len = cur.varint().map_err(|e| format!("{e:?}"))?;
    let bytes = cur
        .take(len)
        .map_err(|_| format!("a string of {len} bytes runs past its chunk"))?;
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| "a name is not valid UTF-8".to_owned())
}

/// The running state of the decoder: the encoder's, mirrored.
#[derive(Default)]
struct Decoder {
    prev_time: u64,
    prev_thread: u32,
    prev_lock: u32,
    seqs: SeqTable,
    files: Vec<&'static str>,
    sites: Vec<Site>,
    /// An [`op::UPGRADABLE`] mark was read: the next record's shared mode
    /// is an upgradable read.
    upgradable_next: bool,
}

/// A record failed to decode: what, and where in its chunk.
type RecordError = String;

impl Decoder {
    fn chunk(&mut self, payload: &[u8], events: &mut Vec<Event>) -> Result<(), RecordError> {
        let mut cur = Cursor::new(payload);
        let count = cur.varint().map_err(|_| "bad event count".to_owned())?;
        let mut decoded = 0u64;
        while !cur.is_empty() {
            let at = cur.pos();
            let record = self
                .record(&mut cur)
                .map_err(|why| format!("bad record at byte {at} of its chunk: {why}"))?;
            if let Some(event) = record {
                events.push(event);
                decoded += 1;
            }
        }
        if decoded != count {
            return Err(format!(
                "the chunk counts {count} events but holds {decoded}"
            ));
        }
        Ok(())
    }

    /// One record: an event, or `None` for a definition.
    #[inline]
    fn record(&mut self, cur: &mut Cursor<'_>) -> Result<Option<Event>, String> {
        let byte = cur.byte().map_err(why)?;
        let code = byte & op::TYPE_MASK;
        let flags = byte & !op::TYPE_MASK;
        let allowed = allowed_flags(code).ok_or_else(|| format!("unknown record type {code}"))?;
        if flags & !allowed != 0 {
            return Err(format!("flags 0x{flags:02x} do not fit record type {code}"));
        }
        match code {
            op::DEFINE_FILE => {
                let file = string(cur)?;
                self.files.push(intern(&file));
                return Ok(None);
            }
            op::UPGRADABLE => {
                if self.upgradable_next {
                    return Err("two upgradable marks in a row".to_owned());
                }
                self.upgradable_next = true;
                return Ok(None);
            }
            op::DEFINE_SITE => {
                let file = self.index(cur, |d| d.files.len(), "file")?;
                let site = Site {
                    file: self.files[file],
                    line: u32_field(cur, "line")?,
                    column: u32_field(cur, "column")?,
                };
                self.sites.push(site);
                return Ok(None);
            }
            _ => {}
        }
        let time = undelta(self.prev_time, cur.varint().map_err(why)?);
        self.prev_time = time;
        if flags & op::SAME_THREAD == 0 {
            self.prev_thread = u32_field(cur, "thread id")?;
        }
        let thread = ThreadId(self.prev_thread);
        if allowed & op::SAME_LOCK != 0 && flags & op::SAME_LOCK == 0 {
            self.prev_lock = u32_field(cur, "lock id")?;
        }
        let lock = LockId(self.prev_lock);
        let upgradable = std::mem::take(&mut self.upgradable_next);
        let mode = match (flags & op::SHARED != 0, upgradable) {
            (true, true) => Mode::Upgradable,
            (true, false) => Mode::Shared,
            (false, false) => Mode::Exclusive,
            (false, true) => {
                return Err("an upgradable mark before a record without a shared mode".to_owned());
            }
        };
        let flag = flags & op::FLAG != 0;
        let kind = match code {
            op::THREAD_START => EventKind::ThreadStart { name: string(cur)? },
            op::THREAD_EXIT => EventKind::ThreadExit,
            op::THREAD_PANIC => EventKind::ThreadPanic {
                message: string(cur)?,
            },
            op::LOCK_CREATED => {
                let name = string(cur)?;
                let code = cur.byte().map_err(why)?;
                let kind =
                    kind_from_code(code).ok_or_else(|| format!("unknown lock kind {code}"))?;
                let site = self.site(cur)?;
                let first_seq = self.seq(cur, lock)?;
                EventKind::LockCreated {
                    lock,
                    name,
                    kind,
                    site,
                    first_seq,
                }
            }
            op::REQUEST => EventKind::Request {
                lock,
                mode,
                site: self.site(cur)?,
                timed: flag,
                // A trace is stored in order: request numbers are not kept.
                ticket: 0,
            },
            op::ACQUIRED => EventKind::Acquired {
                lock,
                mode,
                site: self.site(cur)?,
                seq: self.seq(cur, lock)?,
                tried: flag,
            },
            op::RELEASED => EventKind::Released {
                lock,
                mode,
                seq: self.seq(cur, lock)?,
            },
            op::TRY_FAILED => EventKind::TryFailed {
                lock,
                mode,
                site: self.site(cur)?,
            },
            op::TIMED_OUT => EventKind::TimedOut { lock, mode },
            op::COND_WAIT => {
                let condvar = LockId(u32_field(cur, "condvar id")?);
                let mutex = LockId(u32_field(cur, "mutex id")?);
                EventKind::CondWait {
                    condvar,
                    mutex,
                    site: self.site(cur)?,
                    seq: self.seq(cur, mutex)?,
                    timed: flag,
                }
            }
            op::COND_WAKE => {
                let condvar = LockId(u32_field(cur, "condvar id")?);
                let mutex = LockId(u32_field(cur, "mutex id")?);
                EventKind::CondWake {
                    condvar,
                    mutex,
                    seq: self.seq(cur, mutex)?,
                    timed_out: flag,
                }
            }
            op::BLOCK => match cur.byte().map_err(why)? {
                op::BLOCK_BEGIN => {
                    let on = blocker(cur)?;
                    let site = self.site(cur)?;
                    EventKind::Block {
                        on,
                        site,
                        timed: flag,
                        seq: self.channel_seq(cur, on)?,
                    }
                }
                op::BLOCK_END if !flag => {
                    let on = blocker(cur)?;
                    EventKind::Unblock {
                        on,
                        seq: self.channel_seq(cur, on)?,
                    }
                }
                op::BARRIER_TRIP if !flag => {
                    let barrier = LockId(u32_field(cur, "barrier id")?);
                    EventKind::BarrierTrip {
                        barrier,
                        seq: self.seq(cur, barrier)?,
                    }
                }
                op::CHANNEL_WAKE if !flag => {
                    let channel = LockId(u32_field(cur, "channel id")?);
                    EventKind::ChannelWake {
                        channel,
                        end: end(cur)?,
                        seq: self.seq(cur, channel)?,
                    }
                }
                op::HANDLE if !flag => {
                    let channel = LockId(u32_field(cur, "channel id")?);
                    let end = end(cur)?;
                    let from = owner(cur)?;
                    let to = owner(cur)?;
                    EventKind::Handle {
                        channel,
                        end,
                        from,
                        to,
                    }
                }
                sub => return Err(format!("unknown block record {sub}")),
            },
            _ => EventKind::Notify {
                condvar: LockId(u32_field(cur, "condvar id")?),
                woken: u32_field(cur, "woken count")?,
                site: self.site(cur)?,
                all: flag,
            },
        };
        Ok(Some(Event { time, thread, kind }))
    }

    #[inline]
    fn site(&mut self, cur: &mut Cursor<'_>) -> Result<Site, String> {
        let i = self.index(cur, |d| d.sites.len(), "site")?;
        Ok(self.sites[i])
    }

    /// A channel wait's sequence number (a join has none: 0).
    fn channel_seq(&mut self, cur: &mut Cursor<'_>, on: Blocker) -> Result<u64, String> {
        match on.object() {
            Some(object) => self.seq(cur, object),
            None => Ok(0),
        }
    }

    #[inline]
    fn seq(&mut self, cur: &mut Cursor<'_>, lock: LockId) -> Result<u64, String> {
        let last = self.seqs.slot(lock.0);
        *last = undelta(*last, cur.varint().map_err(why)?);
        Ok(*last)
    }

    /// An index into one of the tables, checked against its length.
    fn index(
        &self,
        cur: &mut Cursor<'_>,
        len: impl Fn(&Self) -> usize,
        what: &str,
    ) -> Result<usize, String> {
        let i = cur.varint().map_err(why)?;
        match usize::try_from(i) {
            Ok(i) if i < len(self) => Ok(i),
            _ => Err(format!("unknown {what} #{i}")),
        }
    }
}

/// The flags a record type may carry, or `None` for an unknown type.
fn allowed_flags(code: u8) -> Option<u8> {
    let lock = op::SAME_THREAD | op::SAME_LOCK;
    Some(match code {
        op::THREAD_START | op::THREAD_EXIT | op::THREAD_PANIC => op::SAME_THREAD,
        op::LOCK_CREATED => lock,
        op::REQUEST | op::ACQUIRED => lock | op::SHARED | op::FLAG,
        op::RELEASED | op::TRY_FAILED | op::TIMED_OUT => lock | op::SHARED,
        op::COND_WAIT | op::COND_WAKE | op::NOTIFY | op::BLOCK => op::SAME_THREAD | op::FLAG,
        op::DEFINE_FILE | op::DEFINE_SITE | op::UPGRADABLE => 0,
        _ => return None,
    })
}

fn blocker(cur: &mut Cursor<'_>) -> Result<Blocker, String> {
    match cur.byte().map_err(why)? {
        op::BLOCKER_JOIN => Ok(Blocker::Join(ThreadId(u32_field(cur, "thread id")?))),
        op::BLOCKER_RECV => Ok(Blocker::Recv(LockId(u32_field(cur, "channel id")?))),
        op::BLOCKER_SEND => Ok(Blocker::Send(LockId(u32_field(cur, "channel id")?))),
        op::BLOCKER_BARRIER => Ok(Blocker::Barrier {
            barrier: LockId(u32_field(cur, "barrier id")?),
            parties: u32_field(cur, "parties")?,
        }),
        other => Err(format!("unknown blocker kind {other}")),
    }
}

fn end(cur: &mut Cursor<'_>) -> Result<End, String> {
    match cur.byte().map_err(why)? {
        0 => Ok(End::Sender),
        1 => Ok(End::Receiver),
        other => Err(format!("unknown channel end {other}")),
    }
}

/// A channel handle's owner: 0 for none, else the thread id + 1.
fn owner(cur: &mut Cursor<'_>) -> Result<Option<ThreadId>, String> {
    match cur.varint().map_err(why)? {
        0 => Ok(None),
        n => u32::try_from(n - 1)
            .map(|t| Some(ThreadId(t)))
            .map_err(|_| format!("owner {n} is out of range")),
    }
}

fn u32_field(cur: &mut Cursor<'_>, what: &str) -> Result<u32, String> {
    let v = cur.varint().map_err(why)?;
    u32::try_from(v).map_err(|_| format!("{what} {v} is out of range"))
}

fn why(e: DecodeError) -> String {
    match e {
        DecodeError::End => "it runs past the end of its chunk".to_owned(),
        DecodeError::Overlong => "a number is too long".to_owned(),
    }
}
