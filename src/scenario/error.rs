//! Why a scenario or a schedule could not be loaded or did not fit.

use std::error::Error;
use std::fmt;
use std::io;

/// Why [`Scenario::parse`](super::Scenario::parse),
/// [`Scenario::load`](super::Scenario::load), [`Schedule::parse`](super::Schedule::parse),
/// [`Schedule::read`](super::Schedule::read) or [`validate`](super::validate)
/// failed: what kind of failure ([`ScenarioError::kind`]), and the message a
/// user reads (its [`Display`](fmt::Display)), such as
/// `mine.toml:6:32: unknown lock "B"`.
///
/// # Examples
///
/// ```
/// use lockscope::scenario::{Scenario, ScenarioErrorKind};
///
/// let err = Scenario::parse("mine.toml", "name = 1").unwrap_err();
/// assert!(matches!(err.kind(), ScenarioErrorKind::At { line: 1, column: Some(8), .. }));
/// assert!(err.to_string().starts_with("mine.toml:1:8: "), "{err}");
/// ```
#[derive(Debug)]
pub struct ScenarioError {
    kind: ScenarioErrorKind,
    message: String,
    source: Option<io::Error>,
}

/// What kind of [`ScenarioError`] happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScenarioErrorKind {
    /// Something wrong at a place in the file (`FILE:LINE:COL`, or
    /// `FILE:LINE` in a schedule, whose lines are read whole).
    At {
        /// The file, as named in the message.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column, in characters, when the message gives one.
        column: Option<u32>,
    },
    /// The file is larger than lockscope reads.
    TooLarge {
        /// The file.
        file: String,
        /// The most bytes read.
        limit: usize,
    },
    /// The file is not UTF-8 text.
    NotUtf8 {
        /// The file.
        file: String,
        /// The offset of the first bad byte.
        offset: usize,
    },
    /// The file cannot be opened or read (the cause is the
    /// [`source`](Error::source)).
    Io {
        /// The file.
        file: String,
    },
    /// No built-in scenario has this name and there is no such file.
    NotFound {
        /// The name or path asked for.
        name: String,
        /// The built-in scenarios' names.
        builtins: Vec<&'static str>,
    },
    /// The schedule was written for another scenario.
    WrongScenario {
        /// The scenario the schedule names.
        schedule: String,
        /// The scenario it was checked against.
        scenario: String,
    },
    /// A step of the schedule does not fit the scenario.
    Step {
        /// The step's number (1-based).
        step: usize,
    },
}

impl ScenarioError {
    /// What kind of failure this is.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockscope::scenario::{Scenario, ScenarioErrorKind};
    ///
    /// let err = Scenario::load("no-such-scenario").unwrap_err();
    /// let ScenarioErrorKind::NotFound { builtins, .. } = err.kind() else { panic!("{err}") };
    /// assert!(builtins.contains(&"abba"));
    /// ```
    pub fn kind(&self) -> &ScenarioErrorKind {
        &self.kind
    }

    pub(crate) fn new(kind: ScenarioErrorKind, message: impl fmt::Display) -> Self {
        ScenarioError {
            kind,
            message: message.to_string(),
            source: None,
        }
    }

    /// `FILE:LINE:COL: message`, or `FILE:LINE: message` without a column.
    pub(crate) fn at(
        file: &str,
        line: u32,
        column: Option<u32>,
        message: impl fmt::Display,
    ) -> Self {
        let text = match column {
            Some(column) => format!("{file}:{line}:{column}: {message}"),
            None => format!("{file}:{line}: {message}"),
        };
        let kind = ScenarioErrorKind::At {
            file: file.to_owned(),
            line,
            column,
        };
        ScenarioError::new(kind, text)
    }

    pub(crate) fn io(file: &str, message: impl fmt::Display, source: io::Error) -> Self {
        ScenarioError {
            kind: ScenarioErrorKind::Io {
                file: file.to_owned(),
            },
            message: message.to_string(),
            source: Some(source),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for ScenarioError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn Error + 'static))
    }
}
