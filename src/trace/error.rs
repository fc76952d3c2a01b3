//! Why a trace could not be read.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use super::format::{OLDEST_VERSION, VERSION};

/// Why [`read`](super::read) or [`read_from`](super::read_from) returned no
/// trace. Each message starts with the input's name.
///
/// # Examples
///
/// ```
/// use lockscope::trace::{self, TraceError};
///
/// let err = trace::read_from(b"GIF89a", "x.gif").unwrap_err();
/// assert!(matches!(&err, TraceError::NotATrace { starts_with, .. } if starts_with == b"GIF89a"));
/// assert_eq!(err.to_string(), r#"x.gif: not a lockscope trace (starts with "GIF89a")"#);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TraceError {
    /// The input does not start like a trace.
    NotATrace {
        /// The input's name.
        name: String,
        /// Its first bytes (up to the length of the magic); empty for an
        /// empty input.
        starts_with: Vec<u8>,
    },
    /// A trace of a format version this lockscope does not read.
    UnsupportedVersion {
        /// The input's name.
        name: String,
        /// The version it says it is.
        version: u16,
    },
    /// Damaged before any event could be read (a damaged tail is not an
    /// error: see [`Trace::damage`](super::Trace::damage)).
    Damaged {
        /// The input's name.
        name: String,
        /// Where the damage starts.
        at_byte: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A pipe or device streamed more than the reader takes.
    TooLarge {
        /// The input's name.
        name: String,
        /// The most bytes read from a stream.
        limit: u64,
    },
    /// The file cannot be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::NotATrace { name, starts_with } if starts_with.is_empty() => {
                write!(f, "{name}: not a lockscope trace (the file is empty)")
            }
            TraceError::NotATrace { name, starts_with } => write!(
                f,
                "{name}: not a lockscope trace (starts with \"{}\")",
                starts_with.escape_ascii()
            ),
            TraceError::UnsupportedVersion { name, version } => write!(
                f,
                "{name}: unsupported trace version {version} (this lockscope reads versions {OLDEST_VERSION} to {VERSION})"
            ),
            TraceError::Damaged {
                name,
                at_byte,
                reason,
            } => write!(f, "{name}: damaged at byte {at_byte}: {reason}"),
            TraceError::TooLarge { name, limit } => write!(
                f,
                "{name}: more than {} MiB from a pipe or device (save it to a file first)",
                limit >> 20
            ),
            TraceError::Io { path, .. } => write!(f, "{}: cannot read", path.display()),
        }
    }
}

impl Error for TraceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TraceError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
