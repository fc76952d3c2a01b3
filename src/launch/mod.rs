//! Composition: starting a session, and the viewer over a user's program,
//! a scenario or a recording — the one place that knows the recorder
//! (`probe`), the scenarios, the traces and the viewer (`tui`), so that none
//! of them depends on another.

mod program;
mod watch;

pub use watch::{ScenarioEnd, StepStart, watch_scenario, watch_trace};

use std::io::IsTerminal;

use crate::trace::{Header, Recorder};
use crate::{Session, SessionBuilder, SessionError, SessionErrorKind, SessionMode};

impl SessionBuilder {
    /// Starts the session. With [`SessionMode::Tui`] the viewer opens on the
    /// terminal, on a thread of its own, and the program runs on;
    /// [`Session::wait`] (or dropping the session) waits until the user quits
    /// it.
    ///
    /// # Errors
    ///
    /// Fails if another session is running in this process
    /// ([`SessionErrorKind::AlreadyRunning`]), the collector (or viewer) thread
    /// cannot be started ([`SessionErrorKind::Thread`]), the program's output
    /// cannot be captured for the viewer ([`SessionErrorKind::Capture`]), or
    /// the recording file cannot be created ([`SessionErrorKind::Recording`]).
    pub fn start(mut self) -> Result<Session, SessionError> {
        let recording = match self.record.take() {
            Some(path) if self.mode != SessionMode::Off => {
                let name = self.name.clone().unwrap_or_else(program::program_name);
                let header = Header::new(name);
                let (events, recorder) = Recorder::start(&path, header).map_err(|err| {
                    let kind = SessionErrorKind::Recording { path: path.clone() };
                    SessionError::transparent(kind, err)
                })?;
                self.listeners.push(events);
                Some(recorder)
            }
            _ => None,
        };
        let session = match self.mode {
            SessionMode::Tui => program::attach(self),
            SessionMode::Off | SessionMode::Headless => self.start_recording(),
        }?;
        if let Some(recorder) = recording {
            session.finishers().add(Box::new(move || {
                if let Err(err) = recorder.finish() {
                    eprintln!("lockscope: {err:#}");
                }
            }));
        }
        Ok(session)
    }
}

/// `LOCKSCOPE_STALL_GRACE`: a duration, `off` (never: [`Duration::MAX`]), or
/// unset.
///
/// # Errors
///
/// A value that is neither ([`SessionErrorKind::BadEnv`]).
///
/// [`Duration::MAX`]: std::time::Duration::MAX
pub(crate) fn stall_grace_from_env() -> Result<Option<std::time::Duration>, SessionError> {
    match std::env::var("LOCKSCOPE_STALL_GRACE").ok().as_deref() {
        None | Some("") => Ok(None),
        Some("off") => Ok(Some(std::time::Duration::MAX)),
        Some(text) => crate::cli::parse_duration(text).map(Some).map_err(|err| {
            let kind = SessionErrorKind::BadEnv {
                var: "LOCKSCOPE_STALL_GRACE",
                value: text.to_owned(),
            };
            let message = format!("LOCKSCOPE_STALL_GRACE={text:?}: {err} (or \"off\")");
            SessionError::new(kind, message)
        }),
    }
}

/// Starts a session configured by the environment, like `RUST_LOG`:
/// `LOCKSCOPE=tui` (the default when stdout is a terminal), `headless` (the
/// default otherwise) or `off`; `LOCKSCOPE_REPORT=1` prints the summary when
/// the session ends; `LOCKSCOPE_RECORD=FILE` records every event to a trace
/// file; `LOCKSCOPE_STEP=1` starts the viewer in step mode.
///
/// # Errors
///
/// Fails on an unknown `LOCKSCOPE` or `LOCKSCOPE_STALL_GRACE` value
/// ([`SessionErrorKind::BadEnv`]), or as [`SessionBuilder::start`].
///
/// # Examples
///
/// ```
/// let session = lockscope::init().unwrap();
/// let m = lockscope::Mutex::new(0);
/// *m.lock() += 1;
/// session.wait(); // with the viewer up, returns when the user quits it
/// ```
pub fn init() -> Result<Session, SessionError> {
    let mode = match std::env::var("LOCKSCOPE").ok().as_deref() {
        None | Some("") if std::io::stdout().is_terminal() => SessionMode::Tui,
        None | Some("") | Some("headless") => SessionMode::Headless,
        Some("tui") => SessionMode::Tui,
        Some("off") => SessionMode::Off,
        Some(other) => {
            let message = format!(
                "LOCKSCOPE={other:?} is not a mode lockscope knows (expected \"tui\", \"headless\" or \"off\")"
            );
            let kind = SessionErrorKind::BadEnv {
                var: "LOCKSCOPE",
                value: other.to_owned(),
            };
            return Err(SessionError::new(kind, message));
        }
    };
    let report = matches!(
        std::env::var("LOCKSCOPE_REPORT").ok().as_deref(),
        Some("1" | "true" | "yes")
    );
    let mut builder = Session::builder().mode(mode).report_at_end(report);
    if let Some(path) = std::env::var_os("LOCKSCOPE_RECORD").filter(|p| !p.is_empty()) {
        builder = builder.record(path);
    }
    // A thread lockscope has not seen yet (one whose locks register on
    // first use) can look blocked-for-good to it: a program whose notifier
    // starts late sets a longer grace, or turns stall reports off.
    if let Some(grace) = stall_grace_from_env()? {
        builder = builder.stall_grace(grace);
    }
    builder.start()
}
