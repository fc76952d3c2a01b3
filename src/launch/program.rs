//! The viewer inside a user's own program: `lockscope::init()` with a terminal
//! opens it on a thread of its own while the program's threads run on.
//!
//! While it is up, the program's stdout and stderr are redirected into files of
//! ours: their lines show in the viewer's output panel, and everything is
//! printed to the real stdout and stderr once the viewer closes, so nothing
//! corrupts the screen and nothing is lost.

use std::fs::File;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, never, unbounded};

use crate::control::Stepper;
use crate::probe::Viewer;
use crate::tui::{
    Notice, RunState, ViewerOptions, Watched, color_enabled, restore_default_signals, run_viewer,
};
use crate::{DeadlockReport, ExitStatus, Session, SessionBuilder, SessionError, SessionErrorKind};

/// Starts recording and opens the viewer on its own thread.
pub(super) fn attach(mut builder: SessionBuilder) -> Result<Session, SessionError> {
    let (events_tx, events_rx) = unbounded();
    let (notice_tx, notice_rx) = unbounded();
    let deadlock_tx = notice_tx.clone();
    builder.listeners.push(events_tx);
    let mut user_handler = builder.on_deadlock.take();
    builder.on_deadlock = Some(Box::new(move |report: &DeadlockReport| {
        // The viewer shows it; the program is not ended for it.
        let _ = deadlock_tx.send(Notice::Deadlock(report.clone()));
        if let Some(handler) = &mut user_handler {
            handler(report);
        }
    }));
    // The viewer shows a stall in its banner; the program is not ended for it.
    let mut user_stall = builder.on_stall.take();
    builder.on_stall = Some(Box::new(move |report: &crate::StallReport| {
        if let Some(handler) = &mut user_stall {
            handler(report);
        }
    }));
    let title = builder.name.clone().unwrap_or_else(program_name);
    let mut session = builder.start_recording()?;
    // Tui is a recording mode.
    let meter = session.meter().expect("the session records");
    let finishers = session.finishers();
    let capture = Capture::start()?;
    let mut stepper = Stepper::new(None);
    if matches!(
        std::env::var("LOCKSCOPE_STEP").ok().as_deref(),
        Some("1" | "true" | "yes")
    ) {
        // Before the program's threads go on: each stops at its next lock
        // operation until the user moves it.
        stepper.turn_on();
    }
    let options = ViewerOptions::new(title, color_enabled(Default::default()));
    let handle = std::thread::Builder::new()
        .name("lockscope-viewer".into())
        .spawn(move || {
            let mut watched = Watched::live(meter.clone(), events_rx, notice_rx);
            watched.output = capture.readers();
            watched.stepper = Some(stepper);
            let outcome =
                panic::catch_unwind(AssertUnwindSafe(|| run_viewer(&mut watched, &options)));
            capture.finish();
            if let Ok(Ok(state)) = &outcome {
                // On the restored terminal, after the program's own output.
                for report in super::watch::reports_at_quit(&mut watched, *state) {
                    eprintln!("{report}");
                }
            }
            // The viewer reads no more: nothing must wait for it. (The
            // stepper stays: it holds parked threads until the exit.)
            watched.events = never();
            let mut exit = |status: ExitStatus| {
                if !finishers.is_empty() {
                    // A recording keeps everything up to here, including what
                    // the collector had not taken yet. The program's threads
                    // stop at their next lock operation first, so that backlog
                    // stops growing: quitting is prompt at any event rate.
                    if let Some(stepper) = watched.stepper.as_mut() {
                        stepper.turn_on();
                    }
                    meter.sync(Duration::from_secs(5));
                    finishers.run();
                }
                status.exit()
            };
            match outcome {
                Ok(Ok(RunState::Finished)) => restore_default_signals(),
                Ok(Ok(RunState::Deadlocked)) => exit(ExitStatus::Deadlock),
                Ok(Ok(_)) => exit(ExitStatus::Interrupted),
                Ok(Err(err)) => {
                    restore_default_signals();
                    eprintln!("lockscope: the viewer stopped: {err:#}");
                }
                Err(_) => exit(ExitStatus::Panicked),
            }
        })
        .map_err(|err| {
            let name = "lockscope-viewer";
            let message = "cannot start the lockscope viewer thread";
            SessionError::caused_by(SessionErrorKind::Thread { name }, message, err)
        })?;
    session.attach_viewer(Box::new(ProgramViewer {
        end: Some(notice_tx),
        handle,
    }));
    Ok(session)
}

struct ProgramViewer {
    end: Option<Sender<Notice>>,
    handle: JoinHandle<()>,
}

impl Viewer for ProgramViewer {
    fn program_ended(&mut self) {
        if let Some(end) = self.end.take() {
            let _ = end.send(Notice::ProgramEnded);
        }
    }

    fn wait(self: Box<Self>) {
        let _ = self.handle.join();
    }
}

/// The running program's file name, for titles and trace headers.
pub(super) fn program_name() -> String {
    std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "program".into())
}

/// The program's stdout and stderr, redirected into temporary files.
struct Capture {
    streams: Vec<Stream>,
}

struct Stream {
    path: PathBuf,
    redirect: Option<gag::Redirect<File>>,
    stderr: bool,
}

impl Capture {
    fn start() -> Result<Capture, SessionError> {
        let mut streams = Vec::new();
        for stderr in [false, true] {
            let name = if stderr { "stderr" } else { "stdout" };
            let path =
                std::env::temp_dir().join(format!("lockscope-{}-{name}.txt", std::process::id()));
            let file = File::create(&path).map_err(|err| {
                let message = format!("cannot create {}", path.display());
                SessionError::caused_by(SessionErrorKind::Capture, message, err)
            })?;
            let _ = io::stdout().flush();
            let redirect = if stderr {
                gag::Redirect::stderr(file)
            } else {
                gag::Redirect::stdout(file)
            }
            .map_err(|err| {
                let message = format!("cannot capture the program's {name}");
                SessionError::caused_by(SessionErrorKind::Capture, message, io::Error::from(err))
            })?;
            streams.push(Stream {
                path,
                redirect: Some(redirect),
                stderr,
            });
        }
        Ok(Capture { streams })
    }

    /// Readers that follow what the program writes, for the output panel.
    fn readers(&self) -> Vec<Box<dyn Read + Send>> {
        self.streams
            .iter()
            .filter_map(|s| File::open(&s.path).ok())
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
            .collect()
    }

    /// Gives stdout and stderr back and prints everything captured on them.
    fn finish(mut self) {
        for stream in &mut self.streams {
            let _ = io::stdout().flush();
            drop(stream.redirect.take());
            let mut text = Vec::new();
            if let Ok(mut file) = File::open(&stream.path) {
                let _ = file.read_to_end(&mut text);
            }
            let _ = std::fs::remove_file(&stream.path);
            if stream.stderr {
                let _ = io::stderr().write_all(&text);
            } else {
                let _ = io::stdout().write_all(&text);
                let _ = io::stdout().flush();
            }
        }
    }
}
