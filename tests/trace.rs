//! Trace files: round trips (synthetic and recorded), damaged, corrupted and
//! foreign input, and the exports parsed back and checked.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{after, select};
use lockscope::event::{Blocker, End, Event, EventKind, LockId, LockKind, Mode, Site, ThreadId};
use lockscope::scenario::{self, Outcome, RunReport, Scenario};
use lockscope::trace::{self, Header, Recorder, Trace, TraceWriter, export};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);

/// One session per process at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: StdMutex<()> = StdMutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn ev(time: u64, thread: u32, kind: EventKind) -> Event {
    Event {
        time,
        thread: ThreadId(thread),
        kind,
    }
}

fn write_trace(batches: &[&[Event]]) -> Vec<u8> {
    let mut writer = TraceWriter::new(Vec::new(), &Header::at("test \u{1f512}", 42)).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
        writer.flush().unwrap();
    }
    writer.finish().unwrap()
}

/// Every kind, every flag, extreme ids, sequence numbers and times, and names
/// with unicode, control characters and bidi overrides.
fn every_kind() -> Vec<Event> {
    let here = Site::caller();
    let odd = Site::intern("dir/ünï\u{1b}[31m.toml", u32::MAX, u32::MAX);
    let zero = Site::intern("", 0, 0);
    let big = LockId(u32::MAX);
    let mut events = vec![
        ev(
            0,
            0,
            EventKind::ThreadStart {
                name: "main".into(),
            },
        ),
        ev(
            1,
            u32::MAX,
            EventKind::ThreadStart {
                name: "\u{1b}[2J\u{202e}évil\0".into(),
            },
        ),
        ev(
            2,
            7,
            EventKind::ThreadStart {
                name: String::new(),
            },
        ),
    ];
    for (i, kind) in [LockKind::Mutex, LockKind::RwLock, LockKind::Condvar]
        .into_iter()
        .enumerate()
    {
        events.push(ev(
            3 + i as u64,
            0,
            EventKind::LockCreated {
                lock: LockId(i as u32),
                name: format!("lock \u{1f600} {i}\n"),
                kind,
                site: if i == 1 { odd } else { here },
                first_seq: [0, u64::MAX, 1 << 40][i],
            },
        ));
    }
    let mut t = 100u64;
    for thread in [0, u32::MAX, 7] {
        for lock in [LockId(0), LockId(1), big] {
            for mode in [Mode::Exclusive, Mode::Shared, Mode::Upgradable] {
                for flag in [false, true] {
                    t += 17;
                    let site = [here, odd, zero][(t % 3) as usize];
                    let seq = t.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    events.extend([
                        ev(
                            t,
                            thread,
                            EventKind::Request {
                                lock,
                                mode,
                                site,
                                timed: flag,
                                ticket: 0,
                            },
                        ),
                        ev(
                            t + 1,
                            thread,
                            EventKind::Acquired {
                                lock,
                                mode,
                                site,
                                seq,
                                tried: flag,
                            },
                        ),
                        ev(
                            t + 2,
                            thread,
                            EventKind::Released {
                                lock,
                                mode,
                                seq: seq.wrapping_add(1),
                            },
                        ),
                        ev(t + 3, thread, EventKind::TryFailed { lock, mode, site }),
                        ev(t + 4, thread, EventKind::TimedOut { lock, mode }),
                        ev(
                            t + 5,
                            thread,
                            EventKind::CondWait {
                                condvar: LockId(2),
                                mutex: lock,
                                site,
                                seq,
                                timed: flag,
                            },
                        ),
                        ev(
                            t + 6,
                            thread,
                            EventKind::CondWake {
                                condvar: big,
                                mutex: lock,
                                seq: u64::MAX,
                                timed_out: flag,
                            },
                        ),
                        ev(
                            t + 7,
                            thread,
                            EventKind::Notify {
                                condvar: LockId(2),
                                all: flag,
                                woken: u32::MAX,
                                site,
                            },
                        ),
                    ]);
                }
            }
        }
    }
    // Times out of order, to the extremes and back.
    events.extend([
        ev(u64::MAX, 0, EventKind::ThreadExit),
        ev(
            0,
            7,
            EventKind::ThreadPanic {
                message: "boom \u{7f}\u{85} ✓".into(),
            },
        ),
        ev(u64::MAX / 2, u32::MAX, EventKind::ThreadExit),
        ev(5, 1, EventKind::ThreadExit),
    ]);
    // Version 2: joins, bounded or not, to the extreme thread ids.
    for (target, timed) in [(0, false), (u32::MAX, true), (3, false)] {
        let on = Blocker::Join(ThreadId(target));
        events.extend([
            ev(
                9,
                2,
                EventKind::Block {
                    on,
                    site: Site::intern("join.rs", 7, 9),
                    timed,
                    seq: 0,
                },
            ),
            ev(10, 2, EventKind::Unblock { on, seq: 0 }),
        ]);
    }
    // Channels: waits and wake-ups are sequenced per channel; handles move.
    let (ch, site) = (LockId(9), Site::intern("chan.rs", 3, 4));
    events.extend([
        ev(
            11,
            1,
            EventKind::LockCreated {
                lock: ch,
                name: "jobs".into(),
                kind: LockKind::Channel,
                site,
                first_seq: 5,
            },
        ),
        ev(
            12,
            1,
            EventKind::Handle {
                channel: ch,
                end: End::Sender,
                from: None,
                to: Some(ThreadId(1)),
            },
        ),
        ev(
            13,
            3,
            EventKind::Handle {
                channel: ch,
                end: End::Receiver,
                from: Some(ThreadId(u32::MAX - 1)),
                to: None,
            },
        ),
        ev(
            14,
            1,
            EventKind::Block {
                on: Blocker::Send(ch),
                site,
                timed: true,
                seq: 5,
            },
        ),
        ev(
            15,
            3,
            EventKind::ChannelWake {
                channel: ch,
                end: End::Receiver,
                seq: 6,
            },
        ),
        ev(
            16,
            1,
            EventKind::Unblock {
                on: Blocker::Send(ch),
                seq: 7,
            },
        ),
        ev(
            17,
            3,
            EventKind::Block {
                on: Blocker::Recv(ch),
                site,
                timed: false,
                seq: u64::MAX,
            },
        ),
    ]);
    // Barriers: arrivals and the opening, sequenced per barrier.
    let on = Blocker::Barrier {
        barrier: LockId(10),
        parties: u32::MAX,
    };
    events.extend([
        ev(
            18,
            4,
            EventKind::LockCreated {
                lock: LockId(10),
                name: "round".into(),
                kind: LockKind::Barrier,
                site,
                first_seq: 0,
            },
        ),
        ev(
            19,
            4,
            EventKind::Block {
                on,
                site,
                timed: false,
                seq: 0,
            },
        ),
        ev(
            20,
            5,
            EventKind::BarrierTrip {
                barrier: LockId(10),
                seq: 1,
            },
        ),
        ev(21, 4, EventKind::Unblock { on, seq: 2 }),
    ]);
    events
}

#[test]
fn a_version_1_trace_still_reads() {
    // Written by lockscope 0.x before joins: version 1 has no block records,
    // and its events read exactly as they were written.
    let events: Vec<Event> = every_kind()
        .into_iter()
        .filter(|e| {
            !matches!(
                e.kind,
                EventKind::Block { .. }
                    | EventKind::Unblock { .. }
                    | EventKind::Handle { .. }
                    | EventKind::ChannelWake { .. }
                    | EventKind::BarrierTrip { .. }
            ) && !matches!(
                e.kind,
                EventKind::LockCreated {
                    kind: LockKind::Channel | LockKind::Barrier,
                    ..
                }
            )
        })
        .collect();
    let mut bytes = write_trace(&[&events]);
    assert_eq!(bytes[16..18], [2, 0], "this lockscope writes version 2");
    bytes[16] = 1;
    let trace = trace::read_from(&bytes, "old.trace").unwrap();
    assert_eq!(trace.header.version, 1);
    assert_eq!(trace.events, events);
}

#[test]
fn every_kind_of_event_round_trips() {
    let events = every_kind();
    let (a, b) = events.split_at(events.len() / 3);
    let bytes = write_trace(&[a, &[], b]);
    let trace = trace::read_from(&bytes, "all.trace").unwrap();
    assert_eq!(trace.events, events);
    assert_eq!(trace.header, Header::at("test \u{1f512}", 42));
    assert!(trace.complete);
    assert!(trace.damage.is_none());
}

/// A realistic stream: threads taking and releasing locks, some contended.
fn workload(n: usize) -> Vec<Event> {
    let mut rng = Rng(7);
    let sites: Vec<Site> = (1..=24)
        .map(|line| Site::intern("src/bank.rs", line * 10, 9))
        .collect();
    let (threads, locks) = (8u32, 16u32);
    let mut events = Vec::with_capacity(n + 64);
    let mut t = 0u64;
    for i in 0..threads {
        events.push(ev(
            t,
            i,
            EventKind::ThreadStart {
                name: format!("worker {i}"),
            },
        ));
    }
    for l in 0..locks {
        let kind = if l.is_multiple_of(4) {
            LockKind::RwLock
        } else {
            LockKind::Mutex
        };
        let site = sites[l as usize % sites.len()];
        let name = format!("account {l}");
        events.push(ev(
            t,
            0,
            EventKind::LockCreated {
                lock: LockId(l),
                name,
                kind,
                site,
                first_seq: 0,
            },
        ));
    }
    let mut seqs = vec![0u64; locks as usize];
    while events.len() < n {
        let thread = rng.below(u64::from(threads)) as u32;
        let lock = LockId(rng.below(u64::from(locks)) as u32);
        let mode = if lock.0.is_multiple_of(4) && rng.below(2) == 0 {
            Mode::Shared
        } else {
            Mode::Exclusive
        };
        let site = sites[rng.below(sites.len() as u64) as usize];
        t += 50 + rng.below(2_000);
        if rng.below(10) == 0 {
            events.push(ev(
                t,
                thread,
                EventKind::Request {
                    lock,
                    mode,
                    site,
                    timed: false,
                    ticket: 0,
                },
            ));
            t += rng.below(20_000);
        }
        let seq = &mut seqs[lock.index()];
        events.push(ev(
            t,
            thread,
            EventKind::Acquired {
                lock,
                mode,
                site,
                seq: *seq,
                tried: false,
            },
        ));
        t += 20 + rng.below(500);
        events.push(ev(
            t,
            thread,
            EventKind::Released {
                lock,
                mode,
                seq: *seq + 1,
            },
        ));
        *seq += 2;
    }
    events.truncate(n);
    events
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn many_chunks_round_trip_in_about_five_bytes_per_event() {
    let events = workload(200_000);
    let bytes = write_trace(&[&events]);
    let trace = trace::read_from(&bytes, "big.trace").unwrap();
    assert!(trace.complete && trace.damage.is_none());
    assert_eq!(trace.events, events);
    let per_event = bytes.len() as f64 / events.len() as f64;
    assert!(per_event < 7.0, "{per_event:.2} bytes per event");
}

// ---------------------------------------------------------------- recordings

/// Runs a built-in scenario with a recorder attached and returns the live
/// report and the trace read back.
fn record_scenario(name: &str) -> (RunReport, Trace) {
    let _serial = serial();
    let scenario = Scenario::load(name).unwrap();
    let path = std::env::temp_dir().join(format!(
        "lockscope-test-{}-{name}.trace",
        std::process::id()
    ));
    let (sender, recorder) = Recorder::start(&path, Header::new(name)).unwrap();
    let started =
        scenario::start(&scenario, lockscope::Session::builder().listener(sender)).unwrap();
    let deadline = after(TIMEOUT);
    let mut finished = 0;
    let mut reports = Vec::new();
    let outcome = loop {
        if finished == started.threads {
            break Outcome::Finished;
        }
        select! {
            recv(started.done) -> msg => match msg {
                Ok(()) => finished += 1,
                Err(_) => break Outcome::Finished,
            },
            recv(started.deadlocks) -> report => {
                reports.extend(report.ok().map(|r| r.to_string()));
                break Outcome::Deadlock;
            }
            recv(deadline) -> _ => panic!("{name} neither finished nor deadlocked"),
        }
    };
    let report = started.finish(outcome, reports);
    let stats = recorder.finish().unwrap();
    let trace = trace::read(&path).unwrap();
    assert_eq!(stats.events, trace.events.len() as u64);
    assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
    std::fs::remove_file(&path).unwrap();
    assert!(
        trace.complete && trace.damage.is_none(),
        "{:?}",
        trace.damage
    );
    assert_eq!(report.transport.sent, report.transport.received);
    (report, trace)
}

#[test]
fn a_recorded_deadlock_replays_to_the_live_report() {
    let (live, trace) = record_scenario("abba");
    assert_eq!(live.outcome, Outcome::Deadlock);
    let replayed = trace::replay_summary(&trace);
    assert_eq!(replayed, live.summary);
    assert_eq!(replayed.deadlocks.len(), 1);
    assert_eq!(replayed.events, trace.events.len() as u64);
    // The sites of the scenario file survive the trip.
    assert_eq!(replayed.locks[0].site.file, "abba.toml");
}

#[test]
fn recorded_rwlock_and_condvar_runs_replay_to_the_live_report() {
    for name in ["readers-writer", "condvar-handoff"] {
        let (live, trace) = record_scenario(name);
        assert_eq!(live.outcome, Outcome::Finished, "{name}");
        assert_eq!(trace::replay_summary(&trace), live.summary, "{name}");
        assert!(live.summary.events > 50, "{name}");
    }
}

#[test]
fn a_program_of_real_threads_records_and_replays() {
    let _serial = serial();
    let path = std::env::temp_dir().join(format!(
        "lockscope-test-{}-threads.trace",
        std::process::id()
    ));
    let (sender, recorder) = Recorder::start(&path, Header::new("threads")).unwrap();
    let session = lockscope::Session::builder()
        .listener(sender)
        .on_deadlock(|_| {})
        .start()
        .unwrap();
    let counter = std::sync::Arc::new(lockscope::Mutex::named("counter \u{1b}", 0u64));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let counter = std::sync::Arc::clone(&counter);
            lockscope::thread::Builder::new()
                .name(format!("adder {i}"))
                .spawn(move || {
                    for _ in 0..2_000 {
                        *counter.lock() += 1;
                    }
                })
                .unwrap()
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(*counter.lock(), 8_000);
    let live = session.finish().unwrap();
    recorder.finish().unwrap();
    let trace = trace::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(trace::replay_summary(&trace), live);
    assert!(trace.events.len() >= 16_000);
}

#[test]
fn a_recording_is_readable_while_it_runs() {
    let _serial = serial();
    let path =
        std::env::temp_dir().join(format!("lockscope-test-{}-live.trace", std::process::id()));
    let (sender, recorder) = Recorder::start(&path, Header::new("live")).unwrap();
    let events = workload(1_000);
    sender.send(events.clone()).unwrap();
    // Flushed within about 100 ms, without finishing: what a killed process leaves.
    let deadline = Instant::now() + TIMEOUT;
    let trace = loop {
        let trace = trace::read(&path).unwrap();
        if trace.events.len() == events.len() || Instant::now() > deadline {
            break trace;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(trace.events, events);
    assert!(!trace.complete);
    assert!(trace.damage.is_none());
    let stats = recorder.finish().unwrap();
    assert_eq!(stats.events, 1_000);
    assert!(trace::read(&path).unwrap().complete);
    std::fs::remove_file(&path).unwrap();
}

/// Set in the child process of the kill test: where it records.
const CHILD_TRACE: &str = "LOCKSCOPE_TEST_KILLED_RECORDER";

#[test]
fn a_recorder_killed_mid_write_leaves_a_readable_trace() {
    let events = workload(400_000);
    if let Some(path) = std::env::var_os(CHILD_TRACE) {
        // The child: record batches steadily and never finish.
        let (sender, _recorder) = Recorder::start(path.as_ref(), Header::new("killed")).unwrap();
        for batch in events.chunks(256).cycle() {
            sender.send(batch.to_vec()).unwrap();
            std::thread::sleep(Duration::from_micros(200));
        }
        unreachable!();
    }
    let path = std::env::temp_dir().join(format!(
        "lockscope-test-{}-killed.trace",
        std::process::id()
    ));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_recorder_killed_mid_write_leaves_a_readable_trace",
            "--nocapture",
        ])
        .env(CHILD_TRACE, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while std::fs::metadata(&path).map_or(0, |m| m.len()) < 300_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.wait().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let trace = trace::read_from(&bytes, "killed.trace").unwrap();
    assert!(!trace.complete);
    assert!(trace.events.len() > 10_000, "{}", trace.events.len());
    let n = trace.events.len().min(events.len());
    assert_eq!(trace.events[..n], events[..n]);
    if let Some(damage) = &trace.damage {
        assert_eq!(damage.at_byte + damage.dropped_bytes, bytes.len() as u64);
    }
}

// ------------------------------------------------------- damaged and foreign

/// A small trace of several chunks, with the offsets where its chunks end.
fn small_trace() -> (Vec<Event>, Vec<u8>, Vec<usize>) {
    let events = every_kind();
    let mut writer = TraceWriter::new(Vec::new(), &Header::at("small", 1)).unwrap();
    let mut boundaries = vec![writer.bytes_written() as usize];
    for batch in events.chunks(40) {
        writer.write(batch).unwrap();
        writer.flush().unwrap();
        boundaries.push(writer.bytes_written() as usize);
    }
    let bytes = writer.finish().unwrap();
    (events, bytes, boundaries)
}

#[test]
fn a_trace_cut_at_every_byte_reads_back_its_whole_chunks() {
    let (events, bytes, boundaries) = small_trace();
    let header_end = boundaries[0];
    for cut in 0..bytes.len() {
        let result = trace::read_from(&bytes[..cut], "cut.trace");
        if cut < header_end {
            let err = result.unwrap_err().to_string();
            if cut == 0 {
                assert_eq!(err, "cut.trace: not a lockscope trace (the file is empty)");
            } else {
                assert!(
                    err.starts_with("cut.trace: damaged at byte "),
                    "{cut}: {err}"
                );
            }
            continue;
        }
        let trace = result.unwrap();
        assert!(!trace.complete, "{cut}");
        let whole = boundaries.iter().filter(|&&b| b <= cut).count() - 1;
        let expected = (whole * 40).min(events.len());
        assert_eq!(trace.events, events[..expected], "cut at {cut}");
        match &trace.damage {
            None => assert!(boundaries.contains(&cut), "{cut}"),
            Some(damage) => {
                assert_eq!(damage.at_byte as usize, boundaries[whole], "{cut}");
                assert_eq!(damage.at_byte + damage.dropped_bytes, cut as u64);
            }
        }
    }
    assert!(trace::read_from(&bytes, "whole.trace").unwrap().complete);
}

#[test]
fn corrupted_bytes_are_caught_and_never_panic() {
    let (events, bytes, _) = small_trace();
    let mut rng = Rng(0x5eed);
    for round in 0..3_000 {
        let mut bad = bytes.clone();
        for _ in 0..=rng.below(3) {
            let at = rng.below(bad.len() as u64) as usize;
            bad[at] ^= 1 << rng.below(8);
        }
        if let Ok(trace) = trace::read_from(&bad, "bad.trace") {
            // Whatever is read is a true prefix: every chunk is checksummed.
            assert_eq!(trace.events, events[..trace.events.len()], "round {round}");
            if trace.events.len() < events.len() {
                assert!(trace.damage.is_some() || !trace.complete, "round {round}");
            }
        }
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(99);
    let (_, good, _) = small_trace();
    for len in 0..2_000usize {
        // A valid preamble followed by noise, and pure noise.
        let mut noise: Vec<u8> = good[..18].to_vec();
        noise.extend((0..len).map(|_| rng.next() as u8));
        let _ = trace::read_from(&noise, "noise");
        let _ = trace::read_from(&noise[18..], "noise");
    }
}

/// Callers can tell the failures apart without reading the message.
#[test]
fn read_errors_are_typed() {
    use std::error::Error as _;
    use trace::TraceError;
    match trace::read_from(b"GIF89a", "x.gif") {
        Err(TraceError::NotATrace { name, starts_with }) => {
            assert_eq!(
                (name.as_str(), starts_with.as_slice()),
                ("x.gif", &b"GIF89a"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        trace::read_from(b"", "x"),
        Err(TraceError::NotATrace { starts_with, .. }) if starts_with.is_empty()
    ));
    let mut future = write_trace(&[]);
    future[16] = 9;
    assert!(matches!(
        trace::read_from(&future, "x.trace"),
        Err(TraceError::UnsupportedVersion { version: 9, .. })
    ));
    let whole = write_trace(&[]);
    match trace::read_from(&whole[..whole.len().min(18) - 1], "cut.trace") {
        Err(TraceError::Damaged {
            at_byte, reason, ..
        }) => {
            assert_eq!(at_byte, 17);
            assert_eq!(reason, "the file ends inside its preamble");
        }
        other => panic!("{other:?}"),
    }
    match trace::read_from(&whole[..18], "headless.trace") {
        Err(TraceError::Damaged {
            at_byte: 18,
            reason,
            ..
        }) => {
            assert_eq!(reason, "the file ends before its header");
        }
        other => panic!("{other:?}"),
    }
    let missing = std::path::Path::new("/nonexistent/x.trace");
    let err = trace::read(missing).expect_err("missing");
    let TraceError::Io { path, source } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, missing);
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(err.source().is_some());
    assert_eq!(err.to_string(), "/nonexistent/x.trace: cannot read");
}

#[test]
fn foreign_files_are_refused_clearly() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let cases: [(&[u8], &str); 4] = [
        (
            png,
            r#"x.png: not a lockscope trace (starts with "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")"#,
        ),
        (b"", "x.png: not a lockscope trace (the file is empty)"),
        (
            b"hello, world\n",
            r#"x.png: not a lockscope trace (starts with "hello, world\n")"#,
        ),
        (
            b"{\"traceEvents\": []}",
            r#"x.png: not a lockscope trace (starts with "{\"traceEvents\": ")"#,
        ),
    ];
    for (bytes, message) in cases {
        assert_eq!(
            trace::read_from(bytes, "x.png").unwrap_err().to_string(),
            message
        );
    }
    let mut future = write_trace(&[]);
    future[16] = 9;
    assert_eq!(
        trace::read_from(&future, "x.trace")
            .unwrap_err()
            .to_string(),
        "x.trace: unsupported trace version 9 (this lockscope reads versions 1 to 2)"
    );
    let missing = std::path::Path::new("/nonexistent/x.trace");
    assert!(
        trace::read(missing)
            .unwrap_err()
            .to_string()
            .starts_with("/nonexistent/x.trace: cannot read")
    );
}

/// CRC-32 (IEEE), to forge chunks whose checksums hold.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A chunk with a correct checksum around whatever payload.
fn forged_chunk(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut chunk = vec![tag];
    varint(payload.len() as u64, &mut chunk);
    chunk.extend_from_slice(payload);
    let crc = crc32(&chunk);
    chunk.extend_from_slice(&crc.to_le_bytes());
    chunk
}

#[test]
fn lying_lengths_allocate_nothing_and_fail_fast() {
    let preamble = &write_trace(&[])[..18];
    let start = Instant::now();

    // A chunk claiming 2^40 bytes.
    let mut file = preamble.to_vec();
    file.push(b'H');
    varint(1 << 40, &mut file);
    let err = trace::read_from(&file, "x.trace").unwrap_err().to_string();
    assert!(
        err.starts_with("x.trace: damaged at byte 18: chunk length"),
        "{err}"
    );

    // A chunk claiming just under the limit, in a tiny file.
    let mut file = preamble.to_vec();
    file.push(b'H');
    varint((16 << 20) - 1, &mut file);
    file.extend_from_slice(b"tiny");
    let err = trace::read_from(&file, "x.trace").unwrap_err().to_string();
    assert!(err.contains("is cut short"), "{err}");

    // A checksummed header whose program name claims 2^62 bytes.
    let mut payload = vec![0];
    payload.extend_from_slice(b"\x02ns");
    varint(1 << 62, &mut payload);
    let mut file = preamble.to_vec();
    file.extend(forged_chunk(b'H', &payload));
    let err = trace::read_from(&file, "x.trace").unwrap_err().to_string();
    assert_eq!(err, "x.trace: damaged at byte 18: bad header: program name");

    // A good header, then a checksummed chunk claiming 2^50 events and a
    // thread name of 2^60 bytes.
    let good = write_trace(&[]);
    let end_marker = good.len() - 7;
    let mut file = good[..end_marker].to_vec();
    let mut payload = Vec::new();
    varint(1 << 50, &mut payload);
    payload.extend_from_slice(&[0x10, 0]); // ThreadStart on the same thread, time +0
    varint(1 << 60, &mut payload);
    file.extend(forged_chunk(b'E', &payload));
    let trace = trace::read_from(&file, "x.trace").unwrap();
    assert!(trace.events.is_empty());
    let damage = trace.damage.unwrap();
    assert_eq!(damage.at_byte as usize, end_marker);
    assert!(
        damage.reason.contains("runs past its chunk"),
        "{}",
        damage.reason
    );

    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn structural_damage_is_reported_where_it_is() {
    let mut writer = TraceWriter::new(Vec::new(), &Header::at("x", 0)).unwrap();
    writer.write(&every_kind()).unwrap();
    writer.flush().unwrap();
    let end = writer.bytes_written() as usize;
    let good = writer.finish().unwrap();
    // Anything after the end marker.
    let mut extra = good.clone();
    extra.extend_from_slice(b"junk");
    let trace = trace::read_from(&extra, "x").unwrap();
    assert_eq!(trace.events.len(), every_kind().len());
    let damage = trace.damage.unwrap();
    assert_eq!(
        (damage.at_byte, damage.dropped_bytes),
        (good.len() as u64, 4)
    );
    // A trace without its header.
    let mut headless = good[..18].to_vec();
    headless.extend(forged_chunk(b'E', &[0]));
    let err = trace::read_from(&headless, "x").unwrap_err().to_string();
    assert_eq!(
        err,
        "x: damaged at byte 18: expected the header, found a chunk of type 'E'"
    );
    // An unknown optional chunk is skipped; an unknown critical one is damage.
    let mut optional = good[..end].to_vec();
    optional.extend(forged_chunk(b'x', b"later"));
    optional.extend_from_slice(&good[end..]);
    let trace = trace::read_from(&optional, "x").unwrap();
    assert!(trace.complete && trace.damage.is_none());
    let mut critical = good[..end].to_vec();
    critical.extend(forged_chunk(b'Q', b"later"));
    let damage = trace::read_from(&critical, "x").unwrap().damage.unwrap();
    assert_eq!(damage.reason, "unknown chunk type 'Q'");
}

// ------------------------------------------------------------------ exports

/// Two threads, two locks, opposite orders: a handoff of A, then a deadlock.
fn abba() -> Trace {
    let s = |line| Site::intern("abba.toml", line, 1);
    let (a, b) = (LockId(0), LockId(1));
    let x = Mode::Exclusive;
    let events = vec![
        ev(
            0,
            0,
            EventKind::ThreadStart {
                name: "left".into(),
            },
        ),
        ev(
            0,
            1,
            EventKind::ThreadStart {
                name: "right \u{1b}[31m".into(),
            },
        ),
        ev(
            10,
            0,
            EventKind::LockCreated {
                lock: a,
                name: "A \"q\"".into(),
                kind: LockKind::Mutex,
                site: s(5),
                first_seq: 0,
            },
        ),
        ev(
            10,
            0,
            EventKind::LockCreated {
                lock: b,
                name: "B".into(),
                kind: LockKind::Mutex,
                site: s(6),
                first_seq: 0,
            },
        ),
        ev(
            1_000,
            0,
            EventKind::Acquired {
                lock: a,
                mode: x,
                site: s(13),
                seq: 0,
                tried: false,
            },
        ),
        ev(
            1_500,
            1,
            EventKind::Request {
                lock: a,
                mode: x,
                site: s(21),
                timed: false,
                ticket: 0,
            },
        ),
        ev(
            2_000,
            0,
            EventKind::Released {
                lock: a,
                mode: x,
                seq: 1,
            },
        ),
        ev(
            2_100,
            1,
            EventKind::Acquired {
                lock: a,
                mode: x,
                site: s(21),
                seq: 2,
                tried: false,
            },
        ),
        ev(
            2_200,
            1,
            EventKind::Released {
                lock: a,
                mode: x,
                seq: 3,
            },
        ),
        ev(
            3_000,
            0,
            EventKind::Acquired {
                lock: a,
                mode: x,
                site: s(13),
                seq: 4,
                tried: false,
            },
        ),
        ev(
            3_100,
            1,
            EventKind::Acquired {
                lock: b,
                mode: x,
                site: s(23),
                seq: 0,
                tried: false,
            },
        ),
        ev(
            4_000,
            0,
            EventKind::Request {
                lock: b,
                mode: x,
                site: s(15),
                timed: false,
                ticket: 0,
            },
        ),
        ev(
            4_100,
            1,
            EventKind::Request {
                lock: a,
                mode: x,
                site: s(25),
                timed: false,
                ticket: 0,
            },
        ),
    ];
    Trace {
        header: Header::at("abba", 1),
        events,
        damage: None,
        complete: true,
    }
}

fn chrome_events(trace: &Trace) -> Vec<Value> {
    let mut out = Vec::new();
    export::chrome(trace, &mut out).unwrap();
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert!(json["displayTimeUnit"].is_string());
    json["traceEvents"].as_array().unwrap().clone()
}

/// The invariants any chrome export must keep.
fn check_chrome(events: &[Value]) {
    let track = |e: &Value| (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
    let named: HashSet<(u64, u64)> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            assert!(e["args"]["name"].is_string());
            track(e)
        })
        .collect();
    // Perfetto keys threads by tid alone: no tid may serve two processes.
    let mut pids: HashMap<u64, u64> = HashMap::new();
    for e in events {
        let (pid, tid) = track(e);
        assert_eq!(
            *pids.entry(tid).or_insert(pid),
            pid,
            "tid {tid} in two processes"
        );
    }
    let mut flows: HashMap<u64, Vec<&Value>> = HashMap::new();
    for e in events {
        let ph = e["ph"].as_str().unwrap();
        assert!(!e["name"].as_str().unwrap().is_empty() || ph == "M");
        match ph {
            "X" => {
                assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
                assert!(named.contains(&track(e)), "unnamed track: {e}");
            }
            "s" | "f" => flows.entry(e["id"].as_u64().unwrap()).or_default().push(e),
            "i" => assert!(["g", "p", "t"].contains(&e["s"].as_str().unwrap())),
            "M" => {}
            other => panic!("unexpected phase {other}"),
        }
        assert!(e["ts"].as_f64().unwrap() >= 0.0);
    }
    // Each flow: one start, one finish, in time order, on the same lock, each
    // bound to a release / acquire slice of that lock at its time.
    let slices: HashSet<(u64, u64, u64, &str)> = events
        .iter()
        .filter(|x| x["ph"] == "X")
        .map(|x| {
            let (pid, tid) = track(x);
            (
                pid,
                tid,
                x["ts"].as_f64().unwrap().to_bits(),
                x["name"].as_str().unwrap(),
            )
        })
        .collect();
    let slice_at = |e: &Value, prefix: &str| {
        let (pid, tid) = track(e);
        let name = format!("{prefix} {}", e["name"].as_str().unwrap());
        slices.contains(&(pid, tid, e["ts"].as_f64().unwrap().to_bits(), name.as_str()))
    };
    for (id, ends) in flows {
        let [s, f] = ends[..] else {
            panic!("flow {id}: {ends:?}")
        };
        assert_eq!(
            (s["ph"].as_str(), f["ph"].as_str()),
            (Some("s"), Some("f")),
            "flow {id}"
        );
        assert_eq!(s["name"], f["name"]);
        assert_eq!(f["bp"], "e");
        assert!(s["ts"].as_f64() <= f["ts"].as_f64());
        assert_ne!(s["tid"], f["tid"], "a flow goes from one thread to another");
        assert!(
            slice_at(s, "release") && slice_at(f, "acquire"),
            "flow {id}"
        );
    }
}

#[test]
fn chrome_export_names_tracks_ends_waits_links_handoffs_and_marks_the_deadlock() {
    let events = chrome_events(&abba());
    check_chrome(&events);
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    for name in ["left", "right \u{1b}[31m", "A \"q\"", "B"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    // A handed from left to right, and back.
    let track_name = |tid: &Value| {
        events
            .iter()
            .find(|e| e["name"] == "thread_name" && e["tid"] == *tid)
            .map(|e| e["args"]["name"].as_str().unwrap())
    };
    let flows: Vec<(Option<&str>, Option<f64>)> = events
        .iter()
        .filter(|e| e["ph"] == "s")
        .map(|e| (track_name(&e["tid"]), e["ts"].as_f64()))
        .collect();
    assert_eq!(
        flows,
        [
            (Some("left"), Some(2.0)),
            (Some("right \u{1b}[31m"), Some(2.2))
        ]
    );
    // right's wait for A, 1.5 µs to 2.1 µs; both final waits unfinished.
    let waits: Vec<&Value> = events.iter().filter(|e| e["cat"] == "wait").collect();
    assert_eq!(waits.len(), 3);
    assert!(
        waits
            .iter()
            .any(|w| w["ts"] == 1.5 && (w["dur"].as_f64().unwrap() - 0.6).abs() < 1e-9)
    );
    assert_eq!(
        waits
            .iter()
            .filter(|w| w["args"]["outcome"] == "unfinished")
            .count(),
        2
    );
    // Holds on the lock tracks, named after their holders.
    let holds: Vec<&Value> = events.iter().filter(|e| e["cat"] == "hold").collect();
    assert_eq!(holds.len(), 4);
    assert!(holds.iter().all(|h| h["pid"] == 2));
    // The deadlock, global, named with its threads.
    let deadlock: Vec<&Value> = events.iter().filter(|e| e["cat"] == "deadlock").collect();
    assert_eq!(deadlock.len(), 1);
    assert_eq!(deadlock[0]["s"], "g");
    assert_eq!(deadlock[0]["ts"], 4.1);
    let name = deadlock[0]["name"].as_str().unwrap();
    assert!(name.contains("left") && name.contains("right"), "{name}");
}

#[test]
fn chrome_export_of_recordings_keeps_its_invariants() {
    let trace = trace::read_from(&write_trace(&[&workload(20_000)]), "w").unwrap();
    check_chrome(&chrome_events(&trace));
    let (_, recorded) = record_scenario("readers-writer");
    let events = chrome_events(&recorded);
    check_chrome(&events);
    // Readers overlap: shared holds spread over extra tracks of the lock.
    assert!(events.iter().any(|e| {
        e["args"]["name"]
            .as_str()
            .is_some_and(|n| n.contains("(shared 2)"))
    }));
    let (_, deadlocked) = record_scenario("three-cycle");
    let events = chrome_events(&deadlocked);
    check_chrome(&events);
    assert_eq!(events.iter().filter(|e| e["cat"] == "deadlock").count(), 1);
}

#[test]
fn jsonl_has_one_parsable_line_per_event() {
    let trace = abba();
    let mut out = Vec::new();
    export::jsonl(&trace, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), trace.events.len());
    let acquired = &lines[7];
    assert_eq!(acquired["time_ns"], 2_100);
    assert_eq!(acquired["thread_name"], "right \u{1b}[31m");
    assert_eq!(acquired["kind"], "acquired");
    assert_eq!(acquired["lock_name"], "A \"q\"");
    assert_eq!(acquired["lock_kind"], "mutex");
    assert_eq!(acquired["mode"], "exclusive");
    assert_eq!(acquired["site"], "abba.toml:21");
    assert_eq!(acquired["seq"], 2);
    // Control characters stay escaped inside JSON strings.
    assert!(!text.contains('\u{1b}'));

    let all = Trace {
        events: every_kind(),
        ..abba()
    };
    let mut out = Vec::new();
    export::jsonl(&all, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), all.events.len());
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(value["kind"].is_string() && value["thread_name"].is_string());
    }
}

#[test]
fn text_log_reads_as_names_and_sites_with_the_deadlock_reported() {
    let mut out = Vec::new();
    export::text(&abba(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("0.002ms  right \\u{1b}[31m  acquired mutex \"A \"q\"\" (abba.toml:21)\n"),
        "{text}"
    );
    let released = format!("left{}released mutex \"A \"q\"\"\n", " ".repeat(14));
    assert!(text.contains(&released), "{text}");
    assert!(
        text.contains("DEADLOCK: 2 threads wait for each other"),
        "{text}"
    );
    assert!(text.contains("POTENTIAL DEADLOCK"), "{text}");
    assert!(!text.contains('\u{1b}'), "control characters are escaped");

    let mut out = Vec::new();
    export::text(
        &Trace {
            events: every_kind(),
            ..abba()
        },
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
    assert!(text.contains("dir/ünï\\u{1b}[31m.toml"));
}

/// `cargo test --release --test trace -- --ignored --nocapture`
#[test]
#[ignore = "slow: ten million events; run in release"]
fn ten_million_events_load_for_replay_within_three_seconds() {
    let n = 10_000_000;
    let events = workload(n);
    let bytes = write_trace(&[&events]);
    let path =
        std::env::temp_dir().join(format!("lockscope-test-{}-10m.trace", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    drop(events);
    let start = Instant::now();
    let trace = trace::read(&path).unwrap();
    let load = start.elapsed();
    std::fs::remove_file(&path).unwrap();
    let start = Instant::now();
    let summary = trace::replay_summary(&trace);
    let replay = start.elapsed();
    let memory = trace.events.capacity() * size_of::<Event>();
    println!(
        "10M events: file {:.1} MB ({:.2} B/event), load {load:?}, replay_summary {replay:?}, \
         events in memory {:.0} MB ({} B/event)",
        bytes.len() as f64 / 1e6,
        bytes.len() as f64 / n as f64,
        memory as f64 / 1e6,
        size_of::<Event>()
    );
    assert_eq!(trace.events.len(), n);
    assert_eq!(summary.events, n as u64);
    assert!(load < Duration::from_secs(3), "{load:?}");
}

/// "main" holds L and joins "worker", which waits for L: every export says
/// so, and the deadlock through the join is found on replay.
fn join_cycle() -> Trace {
    let site = |line| Site::intern("join.rs", line, 1);
    let (lock, mode) = (LockId(0), Mode::Exclusive);
    let on = Blocker::Join(ThreadId(1));
    let events = vec![
        ev(
            0,
            0,
            EventKind::ThreadStart {
                name: "main".into(),
            },
        ),
        ev(
            1,
            0,
            EventKind::LockCreated {
                lock,
                name: "L".into(),
                kind: LockKind::Mutex,
                site: site(1),
                first_seq: 0,
            },
        ),
        ev(
            2,
            0,
            EventKind::Acquired {
                lock,
                mode,
                site: site(2),
                seq: 0,
                tried: false,
            },
        ),
        ev(
            3,
            1,
            EventKind::ThreadStart {
                name: "worker".into(),
            },
        ),
        ev(
            4,
            0,
            EventKind::Block {
                on,
                site: site(4),
                timed: false,
                seq: 0,
            },
        ),
        ev(
            5,
            1,
            EventKind::Request {
                lock,
                mode,
                site: site(5),
                timed: false,
                ticket: 0,
            },
        ),
    ];
    Trace { events, ..abba() }
}

#[test]
fn exports_name_the_join() {
    let trace = join_cycle();
    let mut out = Vec::new();
    export::text(&trace, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("main    joins thread \"worker\" (join.rs:4)"),
        "{text}"
    );
    assert!(
        text.contains("thread \"main\" joins thread \"worker\" (joined at join.rs:4"),
        "{text}"
    );

    let mut out = Vec::new();
    export::jsonl(&trace, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let block: Value = serde_json::from_str(text.lines().nth(4).unwrap()).unwrap();
    assert_eq!(block["kind"], "block");
    assert_eq!(block["blocker"], "join");
    assert_eq!(block["target"], 1);
    assert_eq!(block["target_name"], "worker");
    assert_eq!(block["site"], "join.rs:4");

    let mut events = trace.events.clone();
    events.push(ev(
        9,
        0,
        EventKind::Unblock {
            on: Blocker::Join(ThreadId(1)),
            seq: 0,
        },
    ));
    let chrome = chrome_events(&Trace { events, ..abba() });
    check_chrome(&chrome);
    let join = chrome
        .iter()
        .find(|e| e["cat"] == "join")
        .expect("a join slice");
    assert_eq!(join["name"], "join worker");
    assert_eq!(chrome.iter().filter(|e| e["cat"] == "deadlock").count(), 1);
}
