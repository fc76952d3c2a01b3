//! Constants and shared state of the trace format, version 2 (see the README, "The trace format").
//!
//! Version 2 adds one record type, [`op::BLOCK`] (joins); a version 1 file
//! has none, and is otherwise read exactly as before.
//!
//! Writer and reader keep the same running state (previous time, thread and
//! lock, each lock's last sequence number), so every delta is decoded against
//! exactly what it was encoded against.

use std::collections::HashMap;

use crate::event::LockKind;

/// The first 16 bytes of every trace: readable with `head -1`.
pub(crate) const MAGIC: &[u8; 16] = b"lockscope trace\n";

/// The version this lockscope writes.
pub(crate) const VERSION: u16 = 2;

/// The oldest version this lockscope still reads.
pub(crate) const OLDEST_VERSION: u16 = 1;

/// Bytes before the first chunk: the magic and the version (u16, little-endian).
pub(crate) const PREAMBLE: usize = MAGIC.len() + 2;

/// The only clock unit: timestamps are nanoseconds.
pub(crate) const CLOCK_UNIT: &str = "ns";

/// Chunk tags. Upper-case tags are critical; a reader that meets an unknown
/// lower-case tag skips the chunk (room for optional data within a version).
pub(crate) const TAG_HEADER: u8 = b'H';
/// A chunk of event records.
pub(crate) const TAG_EVENTS: u8 = b'E';
/// The end marker, written when a recording is finished cleanly.
pub(crate) const TAG_END: u8 = b'Z';

/// An events chunk is emitted once its payload reaches this size.
pub(crate) const CHUNK_TARGET: usize = 64 * 1024;

/// The largest chunk payload a reader accepts.
pub(crate) const MAX_CHUNK: u64 = 16 * 1024 * 1024;

/// The fewest bytes one event record takes (its op byte and its time delta):
/// a chunk of `n` bytes holds at most `n / 2` events.
pub(crate) const MIN_EVENT_BYTES: u64 = 2;

/// Record types: the low four bits of a record's op byte.
pub(crate) mod op {
    pub(crate) const THREAD_START: u8 = 0;
    pub(crate) const THREAD_EXIT: u8 = 1;
    pub(crate) const THREAD_PANIC: u8 = 2;
    pub(crate) const LOCK_CREATED: u8 = 3;
    pub(crate) const REQUEST: u8 = 4;
    pub(crate) const ACQUIRED: u8 = 5;
    pub(crate) const RELEASED: u8 = 6;
    pub(crate) const TRY_FAILED: u8 = 7;
    pub(crate) const TIMED_OUT: u8 = 8;
    pub(crate) const COND_WAIT: u8 = 9;
    pub(crate) const COND_WAKE: u8 = 10;
    pub(crate) const NOTIFY: u8 = 11;
    /// Not an event: adds a file name to the string table.
    pub(crate) const DEFINE_FILE: u8 = 12;
    /// Not an event: adds a (file, line, column) to the site table.
    pub(crate) const DEFINE_SITE: u8 = 13;
    /// Not an event, no fields: the next record's shared mode is an
    /// upgradable read.
    pub(crate) const UPGRADABLE: u8 = 14;
    /// Version 2: a `Block` (sub-kind byte 0, then the blocker, then the
    /// site), an `Unblock` (sub-kind byte 1, then the blocker) or a `Handle`
    /// (sub-kind byte 2, then the channel id, the end byte (0 sender, 1
    /// receiver), and the old and new owners, each 0 for none or id + 1). A
    /// blocker is its kind byte (0: join, 1: recv, 2: send) and the thread or
    /// channel id; a Block or Unblock on a channel ends with its seq.
    pub(crate) const BLOCK: u8 = 15;
    /// Sub-kind byte of [`BLOCK`]: the wait begins.
    pub(crate) const BLOCK_BEGIN: u8 = 0;
    /// Sub-kind byte of [`BLOCK`]: the wait ends.
    pub(crate) const BLOCK_END: u8 = 1;
    /// Sub-kind byte of [`BLOCK`]: a channel handle changes owner.
    pub(crate) const HANDLE: u8 = 2;
    /// Sub-kind byte of [`BLOCK`]: a channel operation woke the other side
    /// (then the channel id, the end byte and the seq).
    pub(crate) const CHANNEL_WAKE: u8 = 3;
    /// Sub-kind byte of [`BLOCK`]: a barrier tripped (then its id and seq).
    pub(crate) const BARRIER_TRIP: u8 = 4;
    /// Blocker kind byte: a join.
    pub(crate) const BLOCKER_JOIN: u8 = 0;
    /// Blocker kind byte: a `recv`.
    pub(crate) const BLOCKER_RECV: u8 = 1;
    /// Blocker kind byte: a `send`.
    pub(crate) const BLOCKER_SEND: u8 = 2;
    /// Blocker kind byte: a barrier wait (then the barrier id and parties).
    pub(crate) const BLOCKER_BARRIER: u8 = 3;

    /// The record type bits.
    pub(crate) const TYPE_MASK: u8 = 0x0f;
    /// The thread is the previous event's: no thread field.
    pub(crate) const SAME_THREAD: u8 = 0x10;
    /// The mode is shared (records with a mode).
    pub(crate) const SHARED: u8 = 0x20;
    /// `timed` (Request, CondWait, Block), `tried` (Acquired), `timed_out` (CondWake), `all` (Notify).
    pub(crate) const FLAG: u8 = 0x40;
    /// The lock is the previous lock record's: no lock field (records with a lock).
    pub(crate) const SAME_LOCK: u8 = 0x80;
}

/// The byte a lock kind is stored as.
pub(crate) fn kind_code(kind: LockKind) -> u8 {
    match kind {
        LockKind::Mutex => 0,
        LockKind::RwLock => 1,
        LockKind::Condvar => 2,
        LockKind::Channel => 3,
        LockKind::Barrier => 4,
    }
}

/// The lock kind a byte stands for.
pub(crate) fn kind_from_code(code: u8) -> Option<LockKind> {
    match code {
        0 => Some(LockKind::Mutex),
        1 => Some(LockKind::RwLock),
        2 => Some(LockKind::Condvar),
        3 => Some(LockKind::Channel),
        4 => Some(LockKind::Barrier),
        _ => None,
    }
}

/// The most locks kept in the vector; ids beyond it (never in a real
/// recording, always possible in a hostile file) live in the map.
const DENSE_LOCKS: usize = 1 << 16;

/// The last sequence number seen per lock: sequence numbers are stored as
/// deltas against it (usually +1, one byte).
///
/// Lock ids are handed out in order, so the vector only ever grows by the next
/// id: a lock that shows up before its predecessors waits in the map until the
/// vector reaches it. A record naming lock 65535 therefore costs one map entry,
/// not a 512 KiB table: no id can make either side allocate more than a few
/// words per record.
#[derive(Default)]
pub(crate) struct SeqTable {
    dense: Vec<u64>,
    /// Locks at or past `dense.len()`, never below it.
    sparse: HashMap<u32, u64>,
}

impl SeqTable {
    /// Returns the lock's last sequence number (0 if none) and records `next`
    /// in its place once the caller has it.
    #[inline]
    pub(crate) fn slot(&mut self, lock: u32) -> &mut u64 {
        let i = lock as usize;
        if i == self.dense.len() && i < DENSE_LOCKS {
            let parked = self.sparse.remove(&lock).unwrap_or(0);
            self.dense.push(parked);
        }
        match self.dense.get_mut(i) {
            Some(last) => last,
            None => self.sparse.entry(lock).or_insert(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_lock_id_does_not_grow_the_table() {
        let mut seqs = SeqTable::default();
        *seqs.slot(65_535) = 7;
        assert!(seqs.dense.capacity() < 16, "{}", seqs.dense.capacity());
        assert_eq!(*seqs.slot(65_535), 7);
    }

    #[test]
    fn locks_seen_out_of_order_keep_their_values() {
        let mut seqs = SeqTable::default();
        for lock in [2, 0, 5, 1, 3, 2, 4, 5, 6, 1 << 20] {
            *seqs.slot(lock) += u64::from(lock) + 1;
        }
        let values: Vec<u64> = [0, 1, 2, 3, 4, 5, 6, 1 << 20]
            .iter()
            .map(|&lock| *seqs.slot(lock))
            .collect();
        assert_eq!(values, [1, 2, 6, 4, 5, 12, 7, (1 << 20) + 1]);
        assert_eq!(seqs.dense.len(), 7);
        assert_eq!(seqs.sparse.len(), 1);
    }
}
