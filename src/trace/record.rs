//! [`Recorder`]: a thread of its own that writes a session's events to a file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use crossbeam_channel::{Receiver, Sender, bounded, select, tick, unbounded};

use super::{Header, TraceWriter};
use crate::event::Event;

/// The longest events wait in memory before they reach the file: what a
/// killed process can lose.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// What a finished recording wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordStats {
    /// The trace file.
    pub path: PathBuf,
    /// Events written.
    pub events: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Records batches of events to a trace file from a thread of its own, so
/// neither the session's collector nor any worker waits on the disk.
///
/// Events reach the file at least every 100 ms: a process killed mid-run
/// leaves a trace that reads back up to its last flush.
///
/// # Examples
///
/// ```
/// use lockscope::trace::{self, Header, Recorder};
///
/// let path = std::env::temp_dir().join(format!("lockscope-doc-{}.trace", std::process::id()));
/// let (sender, recorder) = Recorder::start(&path, Header::new("doc")).unwrap();
/// let session = lockscope::Session::builder().listener(sender).start().unwrap();
/// let m = lockscope::Mutex::named("m", 0);
/// *m.lock() += 1;
/// let live = session.finish().unwrap();
/// let stats = recorder.finish().unwrap();
///
/// let trace = trace::read(&path).unwrap();
/// assert_eq!(stats.events, trace.events.len() as u64);
/// assert_eq!(trace::replay_summary(&trace), live);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub struct Recorder {
    path: PathBuf,
    stop: Option<Sender<()>>,
    handle: Option<JoinHandle<io::Result<(u64, u64)>>>,
}

impl Recorder {
    /// Creates (or truncates) `path`, writes `header` to it, and starts the
    /// recording thread. Send it batches through the returned sender, e.g. by
    /// giving it to [`SessionBuilder::listener`](crate::SessionBuilder::listener).
    ///
    /// # Errors
    ///
    /// The file cannot be created or written, or the thread cannot start.
    pub fn start(path: &Path, header: Header) -> anyhow::Result<(Sender<Vec<Event>>, Recorder)> {
        let shown = path.display();
        let file = File::create(path).with_context(|| format!("{shown}: cannot create"))?;
        let writer =
            TraceWriter::new(file, &header).with_context(|| format!("{shown}: cannot write"))?;
        let (events_tx, events_rx) = unbounded();
        let (stop_tx, stop_rx) = bounded(1);
        let handle = std::thread::Builder::new()
            .name("lockscope-recorder".into())
            .spawn(move || record(writer, &events_rx, &stop_rx))
            .context("cannot start the recording thread")?;
        Ok((
            events_tx,
            Recorder {
                path: path.to_owned(),
                stop: Some(stop_tx),
                handle: Some(handle),
            },
        ))
    }

    /// Writes every batch already sent, flushes, ends the file cleanly and
    /// joins the thread. Call it after the session has finished (so every
    /// event has been sent); batches sent afterwards are not recorded.
    ///
    /// # Errors
    ///
    /// Writing failed at some point (e.g. the disk is full); the file holds
    /// what was written before.
    pub fn finish(mut self) -> anyhow::Result<RecordStats> {
        let path = self.path.clone();
        match self.stop_and_join() {
            Some(Ok(Ok((events, bytes)))) => Ok(RecordStats {
                path,
                events,
                bytes,
            }),
            Some(Ok(Err(err))) => {
                Err(anyhow!(err).context(format!("{}: cannot write", path.display())))
            }
            Some(Err(_)) => Err(anyhow!("{}: the recording thread panicked", path.display())),
            None => Err(anyhow!(
                "{}: the recording was already finished",
                path.display()
            )),
        }
    }

    fn stop_and_join(&mut self) -> Option<std::thread::Result<io::Result<(u64, u64)>>> {
        if let Some(stop) = self.stop.take() {
            // Full or disconnected: either way the thread is stopping.
            let _ = stop.try_send(());
        }
        self.handle.take().map(JoinHandle::join)
    }
}

impl Drop for Recorder {
    /// Finishes the file as [`finish`](Self::finish) does, ignoring errors.
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// The recording thread: write batches as they come, flush on a timer, and
/// end the file once stopped or once every sender is gone. Returns the event
/// count and the file size.
fn record(
    mut writer: TraceWriter<File>,
    events: &Receiver<Vec<Event>>,
    stop: &Receiver<()>,
) -> io::Result<(u64, u64)> {
    let ticker = tick(FLUSH_EVERY / 2);
    let mut last_flush = Instant::now();
    let mut dirty = false;
    loop {
        select! {
            recv(events) -> batch => match batch {
                Ok(batch) => {
                    writer.write(&batch)?;
                    dirty = true;
                    if last_flush.elapsed() >= FLUSH_EVERY {
                        writer.flush()?;
                        (dirty, last_flush) = (false, Instant::now());
                    }
                }
                Err(_) => break,
            },
            recv(stop) -> _ => {
                for batch in events.try_iter() {
                    writer.write(&batch)?;
                }
                break;
            }
            recv(ticker) -> _ => if dirty {
                writer.flush()?;
                (dirty, last_flush) = (false, Instant::now());
            },
        }
    }
    let count = writer.events_written();
    let file = writer.finish()?;
    Ok((count, file.metadata()?.len()))
}
