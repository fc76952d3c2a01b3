//! The viewer's typed feed: what it watches (batches of lock events, the
//! program's output, a recording or step mode) and the [`Notice`]s that say
//! what happened to the program, plus the terminal input thread.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded, never, unbounded};
use crossterm::event::{self as term_event, Event as TermEvent};

use crate::control::{Replay, Stepper};
use crate::event::Event;
use crate::scenario::ExpectResult;
use crate::{DeadlockReport, Meter};

/// Something that happened to the watched program, as a typed value.
#[derive(Clone, Debug)]
pub enum Notice {
    /// A wait-for cycle closed: the collector's report, with its threads,
    /// locks and sites.
    Deadlock(DeadlockReport),
    /// One of the watched threads ran to its end.
    ThreadDone,
    /// The program ended: it said so, or every watched thread is gone.
    ProgramEnded,
    /// A scenario's `[expect]` checks, once its threads are gone.
    Expectations(Vec<ExpectResult>),
}

/// What the viewer watches and how it learns about it.
pub struct Watched {
    /// The recording session's clock and counters (`None` for a replay,
    /// whose clock is its cursor).
    pub meter: Option<Meter>,
    /// Events in model order, in batches.
    pub events: Receiver<Vec<Event>>,
    /// What happened to the watched program, as it happens.
    pub notices: Receiver<Notice>,
    /// How many [`Notice::ThreadDone`] mean "finished" (0: only
    /// [`Notice::ProgramEnded`] does).
    pub threads: usize,
    /// The program's captured output, read on each tick.
    pub output: Vec<Box<dyn Read + Send>>,
    /// A recording to travel through instead of live events.
    pub replay: Option<Replay>,
    /// Step mode (scenarios): threads stop before each lock operation.
    pub stepper: Option<Stepper>,
    /// The deadlock reports received, in order (for the report printed when
    /// the viewer closes).
    pub reports: Vec<DeadlockReport>,
}

impl Watched {
    /// A program or scenario watched live: its events and notices, nothing
    /// else yet.
    pub fn live(meter: Meter, events: Receiver<Vec<Event>>, notices: Receiver<Notice>) -> Self {
        Watched {
            meter: Some(meter),
            events,
            notices,
            threads: 0,
            output: Vec::new(),
            replay: None,
            stepper: None,
            reports: Vec::new(),
        }
    }

    /// A recording, travelled through with the replay keys.
    pub fn replay(replay: Replay) -> Self {
        Watched {
            meter: None,
            events: never(),
            notices: never(),
            threads: 0,
            output: Vec::new(),
            replay: Some(replay),
            stepper: None,
            reports: Vec::new(),
        }
    }
}

/// Events kept for travelling back in a live session, up to a bound.
#[derive(Default)]
pub(super) struct History {
    pub(super) events: Vec<Event>,
    pub(super) full: bool,
}

/// Events kept for time travel in a live session (about 160 MB).
const HISTORY_CAP: usize = 2_000_000;

impl History {
    pub(super) fn keep(&mut self, batch: &[Event]) {
        if self.events.len() + batch.len() > HISTORY_CAP {
            // Travelling needs every event from the start: past the bound
            // it is off, and says so, rather than show a wrong past.
            self.full = true;
            self.events = Vec::new();
        }
        if !self.full {
            self.events.extend_from_slice(batch);
        }
    }
}

/// Reads terminal input on a thread of its own, polling so that it notices
/// within 50 ms when the viewer is gone.
pub(super) fn spawn_input() -> (Receiver<TermEvent>, Arc<AtomicBool>) {
    let (tx, rx) = bounded(64);
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let spawned: std::io::Result<JoinHandle<()>> = std::thread::Builder::new()
        .name("lockscope-input".into())
        .spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match term_event::poll(Duration::from_millis(50)) {
                    Ok(true) => match term_event::read() {
                        Ok(ev) => {
                            if tx.send(ev).is_err() {
                                return;
                            }
                        }
                        Err(_) => return,
                    },
                    Ok(false) => {}
                    Err(_) => return,
                }
            }
        });
    if spawned.is_err() {
        // No input thread: the viewer still shows, and its input channel
        // reports disconnection, which ends the loop with an error.
        let (_, rx) = unbounded();
        return (rx, stop);
    }
    (rx, stop)
}
