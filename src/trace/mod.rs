//! Recording and reading trace files, replaying them headless, and exporting
//! them to Chrome/Perfetto JSON, JSON lines and a readable text log.
//!
//! A trace is a compact binary stream (about 5 bytes per event; the format is
//! described in the README, "The trace format"): a versioned header, then
//! checksummed chunks of varint-encoded records with delta-encoded times and
//! each source location stored once. A recording killed mid-write reads back
//! up to its last whole chunk.
//!
//! # Examples
//!
//! ```
//! use lockscope::event::{Event, EventKind, LockId, LockKind, Mode, Site, ThreadId};
//! use lockscope::trace::{self, Header, TraceWriter};
//!
//! let site = Site::intern("demo.toml", 3, 1);
//! let ev = |time, kind| Event { time, thread: ThreadId(0), kind };
//! let events = [
//!     ev(0, EventKind::ThreadStart { name: "main".into() }),
//!     ev(10, EventKind::LockCreated { lock: LockId(0), name: "A".into(), kind: LockKind::Mutex, site, first_seq: 0 }),
//!     ev(20, EventKind::Acquired { lock: LockId(0), mode: Mode::Exclusive, site, seq: 0, tried: false }),
//!     ev(90, EventKind::Released { lock: LockId(0), mode: Mode::Exclusive, seq: 1 }),
//! ];
//! let mut writer = TraceWriter::new(Vec::new(), &Header::new("demo")).unwrap();
//! writer.write(&events).unwrap();
//! let bytes = writer.finish().unwrap();
//!
//! let trace = trace::read_from(&bytes, "demo.trace").unwrap();
//! assert_eq!(trace.events, events);
//! assert_eq!(trace::replay_summary(&trace).locks[0].total_hold_ns, 70);
//! ```

mod codec;
mod error;
pub mod export;
mod format;
mod reader;
mod record;
mod writer;

use std::fmt;

use serde::Serialize;

use crate::event::Event;
use crate::model::{Model, Summary};

pub use error::TraceError;
pub(crate) use reader::fix_checksums;
pub use reader::{read, read_from};
pub use record::{RecordStats, Recorder};
pub use writer::TraceWriter;

/// The trace format version this lockscope writes and reads.
pub const FORMAT_VERSION: u16 = format::VERSION;

/// What a trace says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The program or scenario recorded (untrusted text when read back).
    pub program: String,
    /// Wall-clock time of the session's start, in nanoseconds since the Unix
    /// epoch; event times count from it.
    pub started_unix_ns: u64,
    /// The format version (the writer always writes [`FORMAT_VERSION`]; a
    /// file read back keeps the version it was written in).
    pub version: u16,
    /// What wrote the trace, e.g. `lockscope 0.1.0`.
    pub writer: String,
}

impl Header {
    /// A header for a recording of `program` starting now.
    ///
    /// # Examples
    ///
    /// ```
    /// let header = lockscope::trace::Header::new("abba");
    /// assert!(header.started_unix_ns > 0);
    /// assert!(header.writer.starts_with("lockscope "));
    /// ```
    pub fn new(program: impl Into<String>) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Header::at(program, now)
    }

    /// A header for a recording of `program` that started at `started_unix_ns`.
    pub fn at(program: impl Into<String>, started_unix_ns: u64) -> Self {
        Header {
            program: program.into(),
            started_unix_ns,
            version: FORMAT_VERSION,
            writer: concat!("lockscope ", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Where a trace stopped being readable, and how much of it was dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Damage {
    /// Offset of the first unreadable byte (the start of the damaged chunk).
    pub at_byte: u64,
    /// Bytes from there to the end of the input, all dropped.
    pub dropped_bytes: u64,
    /// What was wrong there.
    pub reason: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dropped {} bytes of a damaged tail at byte {}: {}",
            self.dropped_bytes, self.at_byte, self.reason
        )
    }
}

/// A trace read back.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The header.
    pub header: Header,
    /// Every event read, in recorded (model) order.
    pub events: Vec<Event>,
    /// Set when the tail could not be read (a killed recording, a cut or
    /// corrupted file); `events` holds everything before it.
    pub damage: Option<Damage>,
    /// Whether the recording was finished cleanly (its end marker was read
    /// and agrees). `false` with no damage: the recorder was killed between
    /// two chunks, nothing was lost on disk.
    pub complete: bool,
}

/// Applies every event of `trace` to a fresh [`Model`].
pub fn replay_model(trace: &Trace) -> Model {
    let mut model = Model::new();
    for event in &trace.events {
        model.apply(event);
    }
    model
}

/// The report a headless run prints, from a recording of it: every event
/// applied to a fresh [`Model`], then [`Model::summary`].
pub fn replay_summary(trace: &Trace) -> Summary {
    replay_model(trace).summary()
}
