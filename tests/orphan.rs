//! No orphan: whatever closes the terminal, the program under the viewer ends
//! with it, with the status a quit gives — also under CPU load, twenty times
//! over. (A closed terminal once left a deadlocked program running, reparented
//! to init and deaf to SIGTERM.)
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::pty::example;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// How long the program may take to end once its terminal is gone: it
/// finishes its recording first (bounded at 5 s); a hang check, not timing.
const END_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `hammer` (eight threads as busy as they can be) in a terminal, waits
/// for its viewer, then closes the terminal: every handle on the master side
/// goes, so the program sees SIGHUP and EIO as when a window or tmux dies.
/// Returns how it ended.
fn close_the_terminal_under(program: &std::path::Path) -> String {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(program);
    cmd.arg("60");
    cmd.env("TERM", "xterm-256color");
    cmd.env("LOCKSCOPE", "tui");
    for var in ["LOCKSCOPE_STEP", "LOCKSCOPE_RECORD", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    // The reader lets go of its handle at its next read after `hang_up`.
    let hang_up = Arc::new(AtomicBool::new(false));
    let (up_tx, up_rx) = crossbeam_channel::bounded(1);
    let reading = {
        let hang_up = Arc::clone(&hang_up);
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut buf = [0u8; 8192];
            while !hang_up.load(Ordering::SeqCst) {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        seen.extend_from_slice(&buf[..n]);
                        if seen.windows(8).any(|w| w == b"hammer 7") {
                            let _ = up_tx.try_send(());
                            seen.clear();
                        }
                    }
                }
            }
        })
    };
    up_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the viewer did not come up");
    hang_up.store(true, Ordering::SeqCst);
    drop(writer);
    drop(pair.master);
    // A busy viewer draws every frame: the reader wakes and lets go.
    reading.join().unwrap();
    let deadline = Instant::now() + END_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.to_string();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the program outlived its terminal by {END_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn closing_the_terminal_twenty_times_under_load_never_leaves_the_program_running() {
    let hammer = example("hammer");
    // Load beside the program's own eight threads.
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut x = 0u64;
            while !stop.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
            }
        })
    };
    let rounds: usize = std::env::var("ORPHAN_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let codes: Vec<String> = (0..rounds)
        .map(|_| close_the_terminal_under(&hammer))
        .collect();
    stop.store(true, Ordering::Relaxed);
    spinner.join().unwrap();
    // The program ran on when the terminal went: ended as `q` ends it.
    assert!(
        codes.iter().all(|c| c == "Exited with code 130"),
        "exit statuses: {codes:?}"
    );
}
