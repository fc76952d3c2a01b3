//! Why a session could not start.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;

/// Why [`init`](crate::init) or [`SessionBuilder::start`](crate::SessionBuilder::start)
/// returned no session: what kind of failure ([`SessionError::kind`]), and
/// the message a user reads (its [`Display`](fmt::Display)), with the
/// underlying cause as its [`source`](Error::source).
///
/// # Examples
///
/// ```
/// use lockscope::{Session, SessionErrorKind, SessionMode};
///
/// let first = Session::builder().mode(SessionMode::Headless).start()?;
/// let err = Session::builder().mode(SessionMode::Headless).start().unwrap_err();
/// assert_eq!(err.kind(), &SessionErrorKind::AlreadyRunning);
/// assert_eq!(err.to_string(), "a lockscope session is already running in this process");
/// drop(first);
/// # Ok::<(), lockscope::SessionError>(())
/// ```
#[derive(Debug)]
pub struct SessionError {
    kind: SessionErrorKind,
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    /// A message of its own, and maybe a cause.
    Own {
        message: String,
        source: Option<Box<dyn Error + Send + Sync>>,
    },
    /// Another error's message and causes, as they are.
    Transparent(Box<dyn Error + Send + Sync>),
}

/// What kind of [`SessionError`] happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionErrorKind {
    /// Another session is running in this process.
    AlreadyRunning,
    /// An environment variable [`init`](crate::init) reads has a value it
    /// does not understand.
    BadEnv {
        /// `LOCKSCOPE` or `LOCKSCOPE_STALL_GRACE`.
        var: &'static str,
        /// The value found.
        value: String,
    },
    /// A thread lockscope needs (the collector, the viewer) cannot be
    /// started.
    Thread {
        /// Its name, such as `lockscope-collector`.
        name: &'static str,
    },
    /// The program's stdout or stderr cannot be captured for the viewer.
    Capture,
    /// The recording file cannot be created or written.
    Recording {
        /// The file.
        path: PathBuf,
    },
}

impl SessionError {
    /// What kind of failure this is.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::{Session, SessionErrorKind};
    ///
    /// let err = Session::builder().record("/nonexistent/dir/x.trace").start().unwrap_err();
    /// assert!(matches!(err.kind(), SessionErrorKind::Recording { .. }));
    /// assert_eq!(err.to_string(), "/nonexistent/dir/x.trace: cannot create");
    /// ```
    pub fn kind(&self) -> &SessionErrorKind {
        &self.kind
    }

    pub(crate) fn new(kind: SessionErrorKind, message: impl fmt::Display) -> Self {
        SessionError {
            kind,
            repr: Repr::Own {
                message: message.to_string(),
                source: None,
            },
        }
    }

    pub(crate) fn caused_by(
        kind: SessionErrorKind,
        message: impl fmt::Display,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        SessionError {
            kind,
            repr: Repr::Own {
                message: message.to_string(),
                source: Some(source.into()),
            },
        }
    }

    /// `err`'s message and causes, unchanged, under `kind`.
    pub(crate) fn transparent(
        kind: SessionErrorKind,
        err: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        SessionError {
            kind,
            repr: Repr::Transparent(err.into()),
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Own { message, .. } => f.write_str(message),
            Repr::Transparent(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl Error for SessionError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.repr {
            Repr::Own { source, .. } => source.as_deref().map(|e| e as &(dyn Error + 'static)),
            Repr::Transparent(err) => err.source(),
        }
    }
}
