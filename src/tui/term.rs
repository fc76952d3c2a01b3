//! The terminal: one way in, one way out.
//!
//! The viewer draws on the controlling terminal (`/dev/tty`), not on stdout,
//! so a program's own stdout can be captured while the viewer is up. Leaving
//! is done by [`restore`], called by the guard's `Drop` *and* by a panic hook
//! that restores first and then runs the previous hook, so the terminal comes
//! back whatever way the viewer ends.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The backend the viewer draws with.
/// Buffered: a frame goes out in a few writes, not one per escape sequence
/// (ratatui flushes at the end of every draw).
pub type Backend = CrosstermBackend<BufWriter<File>>;

/// Whether the terminal is in the viewer's mode (raw, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The thread that runs the viewer: a panic there must give the terminal
/// back; a panic in a watched program's thread must not (it is shown as a
/// panicked lane while the viewer goes on).
static VIEWER: parking_lot::Mutex<Option<std::thread::ThreadId>> = parking_lot::Mutex::new(None);

/// Holds the terminal in the viewer's mode; restores it when dropped.
pub struct TermGuard {
    terminal: Terminal<Backend>,
}

impl TermGuard {
    /// Opens the controlling terminal and switches it to the viewer's mode.
    ///
    /// # Errors
    ///
    /// Fails when there is no controlling terminal or it refuses raw mode; the
    /// terminal is left as it was.
    pub fn enter() -> anyhow::Result<TermGuard> {
        install_panic_hook();
        *VIEWER.lock() = Some(std::thread::current().id());
        let tty = open_tty().context("lockscope needs a terminal for its viewer (/dev/tty)")?;
        let mut out = tty.try_clone().context("cannot use /dev/tty")?;
        enable_raw_mode().context("cannot switch the terminal to raw mode")?;
        ACTIVE.store(true, Ordering::SeqCst);
        let entered = execute!(out, EnterAlternateScreen, EnableMouseCapture, cursor::Hide);
        if let Err(err) = entered {
            restore();
            return Err(err).context("cannot set up the terminal");
        }
        match Terminal::new(CrosstermBackend::new(BufWriter::with_capacity(
            1 << 16,
            tty,
        ))) {
            Ok(terminal) => Ok(TermGuard { terminal }),
            Err(err) => {
                restore();
                Err(err).context("cannot size the terminal")
            }
        }
    }

    /// The terminal to draw on.
    pub fn terminal(&mut self) -> &mut Terminal<Backend> {
        &mut self.terminal
    }
}

impl Drop for TermGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn open_tty() -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty")
}

/// Puts the terminal back: cooked mode, main screen, mouse off, cursor shown.
/// Safe to call any number of times; only the first call after entering acts.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    if let Ok(mut tty) = open_tty() {
        let _ = execute!(tty, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
        let _ = tty.flush();
    }
}

/// Restores the terminal before any panic message is printed, then hands over
/// to whatever hook was there before (so the message lands on a sane screen).
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let viewer = *VIEWER.lock();
            if viewer == Some(std::thread::current().id()) {
                restore();
            }
            previous(info);
        }));
    });
}
