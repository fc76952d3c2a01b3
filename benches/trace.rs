//! Trace files: writing and reading a million realistic events, loading ten
//! million for replay, and what recording adds to a lock operation.
//!
//! `cargo bench --bench trace` prints bytes per event, events/s for writing
//! (to memory and to a file) and reading, the load time and memory of a
//! 10-million-event trace, and the cost of recording per lock+unlock; then
//! criterion measures the 1M write and read.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use lockscope::event::{Event, EventKind, LockId, LockKind, Mode, Site, ThreadId};
use lockscope::trace::{self, Header, Recorder, TraceWriter};

const EVENTS: usize = 1_000_000;
const BIG: usize = 10_000_000;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// 8 threads on 16 locks (a quarter of them rwlocks, read half the time),
/// 24 call sites, an acquisition every 50–2000 ns held for 20–500 ns, one in
/// ten contended (a `Request` first, then up to 20 µs of waiting).
fn workload(n: usize) -> Vec<Event> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let sites: Vec<Site> = (1..=24)
        .map(|line| Site::intern("src/bank.rs", line * 10, 9))
        .collect();
    let (threads, locks) = (8u32, 16u32);
    let ev = |time, thread, kind| Event {
        time,
        thread: ThreadId(thread),
        kind,
    };
    let mut events = Vec::with_capacity(n + 64);
    for i in 0..threads {
        let name = format!("worker {i}");
        events.push(ev(0, i, EventKind::ThreadStart { name }));
    }
    for l in 0..locks {
        let kind = if l.is_multiple_of(4) {
            LockKind::RwLock
        } else {
            LockKind::Mutex
        };
        let (lock, name, site) = (LockId(l), format!("account {l}"), sites[l as usize]);
        let created = EventKind::LockCreated {
            lock,
            name,
            kind,
            site,
            first_seq: 0,
        };
        events.push(ev(0, 0, created));
    }
    let mut seqs = vec![0u64; locks as usize];
    let mut t = 0u64;
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
            let timed = false;
            events.push(ev(
                t,
                thread,
                EventKind::Request {
                    lock,
                    mode,
                    site,
                    timed,
                    ticket: 0,
                },
            ));
            t += rng.below(20_000);
        }
        let seq = seqs[lock.index()];
        let tried = false;
        events.push(ev(
            t,
            thread,
            EventKind::Acquired {
                lock,
                mode,
                site,
                seq,
                tried,
            },
        ));
        t += 20 + rng.below(500);
        events.push(ev(
            t,
            thread,
            EventKind::Released {
                lock,
                mode,
                seq: seq + 1,
            },
        ));
        seqs[lock.index()] += 2;
    }
    events.truncate(n);
    events
}

/// Writes `events` in batches of 256, as a session delivers them.
fn write_to<W: std::io::Write>(w: W, events: &[Event]) -> W {
    let mut writer = TraceWriter::new(w, &Header::at("bench", 0)).expect("header");
    for batch in events.chunks(256) {
        writer.write(batch).expect("write");
    }
    writer.finish().expect("finish")
}

fn write_file(path: &Path, events: &[Event]) {
    let file = std::fs::File::create(path).expect("create");
    write_to(file, events).sync_all().expect("sync");
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn rate(n: usize, d: Duration) -> String {
    format!(
        "{:.1} M events/s ({:.1} ns/event, {:.1} ms)",
        n as f64 / d.as_secs_f64() / 1e6,
        d.as_nanos() as f64 / n as f64,
        d.as_secs_f64() * 1e3
    )
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lockscope-bench-{}-{name}", std::process::id()))
}

/// The 10-million-event trace: its load time, and its memory.
fn ten_million() {
    let events = workload(BIG);
    let path = temp("10m.trace");
    write_file(&path, &events);
    drop(events);
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let start = Instant::now();
    let trace = trace::read(&path).expect("read");
    let load = start.elapsed();
    let start = Instant::now();
    let summary = trace::replay_summary(&trace);
    let replay = start.elapsed();
    let memory = trace.events.capacity() * size_of::<Event>();
    println!(
        "trace: load 10M events ({:.1} MB file) in {:.2} s; events take {:.0} MB in memory \
         ({} B/event, plus the file's bytes while it is read); replay_summary {:.2} s ({} events)",
        size as f64 / 1e6,
        load.as_secs_f64(),
        memory as f64 / 1e6,
        size_of::<Event>(),
        replay.as_secs_f64(),
        summary.events
    );
    drop(trace);
    let _ = std::fs::remove_file(&path);
}

/// One thread locking and unlocking in a session, with and without a recorder.
fn recording_overhead() {
    const OPS: u32 = 1_000_000;
    let run = |record: bool| {
        let path = temp("overhead.trace");
        let mut builder = lockscope::Session::builder().on_deadlock(|_| {});
        let mut recorder = None;
        if record {
            let (sender, rec) = Recorder::start(&path, Header::new("bench")).expect("recorder");
            builder = builder.listener(sender);
            recorder = Some(rec);
        }
        let session = builder.start().expect("session");
        let m = lockscope::Mutex::named("m", 0u64);
        let start = Instant::now();
        for _ in 0..OPS {
            *m.lock() += 1;
        }
        let elapsed = start.elapsed();
        session.finish();
        let stats = recorder.map(|r| r.finish().expect("finish"));
        let _ = std::fs::remove_file(&path);
        (elapsed, stats)
    };
    let (off, _) = run(false);
    let (on, stats) = run(true);
    let per = |d: Duration| d.as_nanos() as f64 / f64::from(OPS);
    println!(
        "trace: lock+unlock in a session {:.1} ns, recording too {:.1} ns (+{:.1} ns); {}",
        per(off),
        per(on),
        per(on) - per(off),
        stats.map_or(String::new(), |s| format!(
            "{} events in {} bytes",
            s.events, s.bytes
        ))
    );
}

fn main() {
    let events = workload(EVENTS);
    let bytes = write_to(Vec::new(), &events);
    println!(
        "trace: {} events in {} bytes: {:.2} bytes/event (Event in memory: {} bytes)",
        events.len(),
        bytes.len(),
        bytes.len() as f64 / events.len() as f64,
        size_of::<Event>()
    );
    let to_vec = best_of(5, || write_to(Vec::new(), &events));
    println!("trace: write 1M to memory: {}", rate(EVENTS, to_vec));
    let path = temp("1m.trace");
    let to_file = best_of(5, || write_file(&path, &events));
    println!(
        "trace: write 1M to a file (with fsync): {}",
        rate(EVENTS, to_file)
    );
    let read_mem = best_of(5, || trace::read_from(&bytes, "bench").expect("read"));
    println!("trace: read 1M from memory: {}", rate(EVENTS, read_mem));
    let read_file = best_of(5, || trace::read(&path).expect("read"));
    println!("trace: read 1M from a file: {}", rate(EVENTS, read_file));
    let _ = std::fs::remove_file(&path);
    ten_million();
    recording_overhead();

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("trace");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("write_1M", |b| {
        b.iter(|| write_to(Vec::with_capacity(bytes.len()), black_box(&events)))
    });
    group.bench_function("read_1M", |b| {
        b.iter(|| trace::read_from(black_box(&bytes), "bench"))
    });
    group.finish();
    c.final_summary();
}
