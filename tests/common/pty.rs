//! A program in a real pseudo-terminal, with a vt100 model of its screen:
//! type keys, read the screen, resize it, and check the terminal is given
//! back (main screen, cursor shown, mouse off, the line discipline as it was).

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ENTER_ALT: &[u8] = b"\x1b[?1049h";
pub const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// Every wait for the screen is bounded by this.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a process may take to exit once asked to: a hang check, not a
/// timing test.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// A program running in a pseudo-terminal, with a vt100 model of its screen.
pub struct Pty {
    pub child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    /// Everything the program wrote, from the start.
    pub raw: Vec<u8>,
    pub screen: vt100::Parser,
    /// The line discipline's flags before the program started.
    cooked: String,
}

impl Pty {
    /// Runs `program` in a 120×40 terminal.
    pub fn spawn(program: &str, args: &[&str], env: &[(&str, &str)]) -> Pty {
        let (rows, cols) = (40, 120);
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let cooked = line_discipline(&*pair.master);
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        cmd.env_remove("LOCKSCOPE");
        cmd.env_remove("LOCKSCOPE_STEP");
        cmd.env_remove("LOCKSCOPE_RECORD");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let (tx, rx) = unbounded();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Pty {
            child,
            master: pair.master,
            writer,
            output: rx,
            raw: Vec::new(),
            screen: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
            cooked,
        }
    }

    /// Runs the `lockscope` binary.
    pub fn lockscope(args: &[&str], env: &[(&str, &str)]) -> Pty {
        Pty::spawn(env!("CARGO_BIN_EXE_lockscope"), args, env)
    }

    /// Reads output until `done(screen text)` holds; panics with the screen
    /// after the timeout.
    pub fn wait_for(&mut self, what: &str, mut done: impl FnMut(&str) -> bool) {
        self.wait_for_screen(what, |screen| done(&screen.contents()));
    }

    /// Reads output for up to `wait` until `done(screen text)` holds; says
    /// whether it did.
    pub fn shows_within(&mut self, wait: Duration, mut done: impl FnMut(&str) -> bool) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if done(&self.screen.screen().contents()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Ok(bytes) = self
                .output
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                self.take(&bytes);
            }
        }
    }

    /// Reads output until `done(screen)` holds; panics with the screen after
    /// the timeout.
    pub fn wait_for_screen(&mut self, what: &str, mut done: impl FnMut(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            if done(self.screen.screen()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; screen:\n{}",
                self.screen.screen().contents()
            );
            if let Ok(bytes) = self
                .output
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                self.take(&bytes);
            }
        }
    }

    /// Reads whatever output is there now, without waiting.
    pub fn drain(&mut self) {
        while let Ok(bytes) = self.output.try_recv() {
            self.take(&bytes);
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
        self.screen.process(bytes);
    }

    pub fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Resizes the terminal (the program gets SIGWINCH) and the model of it.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.drain();
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        self.screen.set_size(nonzero(rows), nonzero(cols));
    }

    /// Whether the terminal is in raw mode now (no line editing, no echo).
    pub fn raw_mode(&self) -> bool {
        !line_discipline(&*self.master).contains("ICANON")
    }

    /// Whether the process exits within `wait` (draining its output).
    pub fn exits_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            self.drain();
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits (bounded) for the process to exit, draining its output; kills it
    /// and fails if it hangs.
    pub fn exit_code(&mut self) -> u32 {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        loop {
            self.drain();
            if let Some(status) = self.child.try_wait().unwrap() {
                // Whatever was written before the exit.
                while let Ok(bytes) = self.output.recv_timeout(Duration::from_millis(200)) {
                    self.take(&bytes);
                }
                return status.exit_code();
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!(
                    "the process did not exit within {EXIT_TIMEOUT:?}; screen:\n{}",
                    self.screen.screen().contents()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The offset of the last occurrence of `needle` in the output.
    pub fn position(&self, needle: &[u8]) -> Option<usize> {
        self.raw.windows(needle.len()).rposition(|w| w == needle)
    }

    /// Checks, after the exit, that the terminal was given back: the main
    /// screen, the cursor shown, mouse reporting off, and the line discipline
    /// exactly as before (no raw mode left behind).
    pub fn assert_restored(&self) {
        let screen = self.screen.screen();
        let output = || String::from_utf8_lossy(&self.raw).into_owned();
        assert!(
            !screen.alternate_screen(),
            "left on the alternate screen:\n{}",
            output()
        );
        let entered = self
            .position(ENTER_ALT)
            .expect("never entered the alternate screen");
        let left = self
            .position(LEAVE_ALT)
            .expect("never left the alternate screen");
        assert!(left > entered);
        assert!(self.position(SHOW_CURSOR).is_some_and(|at| at > entered));
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting is still on"
        );
        assert_eq!(
            line_discipline(&*self.master),
            self.cooked,
            "the terminal's modes were not restored (raw mode left on?)"
        );
    }
}

impl Drop for Pty {
    /// Never leave a program behind a failed test.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// The terminal's input, output, control and local flags, as text
/// (`ICANON` and `ECHO` among the local flags when not in raw mode).
fn line_discipline(master: &dyn MasterPty) -> String {
    let termios = master
        .get_termios()
        .expect("cannot read the terminal's modes");
    format!(
        "{:?} {:?} {:?} {:?}",
        termios.input_flags, termios.output_flags, termios.control_flags, termios.local_flags
    )
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n.max(1)).unwrap()
}

/// An example program (`examples/NAME.rs`), built by `cargo test` next to the
/// test binaries.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join(name)
}
