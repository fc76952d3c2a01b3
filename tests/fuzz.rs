//! A deterministic, seeded mutation fuzzer over the three parsers of untrusted
//! input (trace reader, scenario parser, schedule parser), run on stable as
//! part of `cargo test`. The target bodies are `lockscope::fuzzing`'s, the same
//! the cargo-fuzz targets in `fuzz/` run for longer.
//!
//! Every input must parse or fail without a panic, within a time bound, and
//! without allocating beyond its real size: a counting global allocator
//! measures each parse, and its peak must stay under `A·len + B`.
//!
//! `fuzz/run.sh` runs the cargo-fuzz targets; it writes their seeds and
//! dictionaries first with the `export` test below.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lockscope::event::Event;
use lockscope::fuzzing::{self, Meter};
use lockscope::scenario::Scenario;

mod counting {
    //! A global allocator that counts, per thread, the bytes live and their
    //! peak. It never allocates itself: its state is two const-initialised
    //! thread-local cells, which need neither allocation nor a destructor.
    #![allow(unsafe_code)]

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    /// [`System`], counting.
    pub struct Counting;

    fn grew(bytes: usize) {
        let _ = LIVE.try_with(|live| {
            let now = live.get().wrapping_add(bytes as isize);
            live.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
    }

    fn shrank(bytes: usize) {
        let _ = LIVE.try_with(|live| live.set(live.get().wrapping_sub(bytes as isize)));
    }

    // SAFETY: every method forwards to `System` with the caller's arguments
    // unchanged, so `System`'s guarantees hold; the counting around it only
    // touches thread-local cells and never allocates.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded as is (see above).
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                grew(layout.size());
            }
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded as is (see above).
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                grew(layout.size());
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded as is (see above).
            unsafe { System.dealloc(ptr, layout) };
            shrank(layout.size());
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded as is (see above).
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            // On failure the old block stays allocated: nothing changed.
            if !new.is_null() {
                // Counted as the block it may briefly be: old and new at once.
                grew(new_size);
                shrank(layout.size());
            }
            new
        }
    }

    /// Runs `f`; returns the most bytes this thread held at once during it
    /// and the bytes it still held after it, both over what it held before.
    pub fn measure(f: impl FnOnce()) -> (usize, usize) {
        let before = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(before));
        f();
        let after = LIVE.with(Cell::get);
        let peak = PEAK.with(Cell::get);
        (
            peak.saturating_sub(before).max(0) as usize,
            after.saturating_sub(before).max(0) as usize,
        )
    }
}

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

/// The most a parse may allocate at once for an input of `len` bytes:
/// `per_byte · len + fixed`.
#[derive(Clone, Copy, Debug)]
struct Bound {
    per_byte: usize,
    fixed: usize,
}

impl Bound {
    fn allows(self, len: usize) -> usize {
        self.per_byte * len + self.fixed
    }
}

/// One parser under test.
struct Target {
    name: &'static str,
    run: fn(&[u8], Meter<'_>),
    seeds: fn() -> Vec<Vec<u8>>,
    tokens: &'static [&'static [u8]],
    bound: Bound,
    execs: usize,
}

/// The trace reader keeps at most one event per two bytes of input (each
/// needs an op byte and a time delta; the event vector is sized by what the
/// intact chunks' bytes can hold, never by a count they claim), and interns
/// strings it read: `size_of::<Event>() / 2` per byte, plus 48 for the
/// strings, the chunk list and the tables of files, sites and locks, each a
/// few words per record of at least two bytes. The fixed part is error
/// messages, the decoder's empty tables and the intern table's growth.
fn trace_bound() -> Bound {
    Bound {
        per_byte: size_of::<Event>() / 2 + 48,
        fixed: FIXED,
    }
}

/// TOML's document tree keeps a spanned value per token (each at least a
/// byte, or two for a string) and the scenario a few words per name and step:
/// 160 bytes per byte is that with room for vector growth. A scenario's size
/// counts the names and steps that `count` copies as well as its text.
const SCENARIO: Bound = Bound {
    per_byte: 160,
    fixed: FIXED,
};

/// A schedule holds each line's thread and operation once (quotes decode to
/// at most their own length) and a step per line of at least six bytes.
const SCHEDULE: Bound = Bound {
    per_byte: 16,
    fixed: FIXED,
};

/// Every parse may build an error: its message, and the backtrace anyhow
/// captures when `RUST_BACKTRACE` is set (about 6 KiB here).
const FIXED: usize = 16 << 10;

fn targets() -> [Target; 3] {
    [
        Target {
            name: "trace_reader",
            run: fuzzing::trace_reader_metered,
            seeds: fuzzing::trace_seeds,
            tokens: fuzzing::TRACE_TOKENS,
            bound: trace_bound(),
            execs: 50_000,
        },
        Target {
            name: "scenario_parser",
            run: fuzzing::scenario_parser_metered,
            seeds: fuzzing::scenario_seeds,
            tokens: fuzzing::SCENARIO_TOKENS,
            bound: SCENARIO,
            execs: 20_000,
        },
        Target {
            name: "schedule_parser",
            run: fuzzing::schedule_parser_metered,
            seeds: fuzzing::schedule_seeds,
            tokens: fuzzing::SCHEDULE_TOKENS,
            bound: SCHEDULE,
            execs: 50_000,
        },
    ]
}

/// The longest one input may take (debug build, a loaded 2-core machine).
const SLOW: Duration = Duration::from_secs(2);
/// A watchdog aborts the run, printing the input, when one takes this long.
const HUNG: Duration = Duration::from_secs(20);
/// Inputs grow no larger than this.
const MAX_LEN: usize = 64 << 10;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four mutations of `input`: bit flips, byte changes, inserts,
/// deletions, copies within the input, dictionary tokens, splices with
/// another input of the pool.
fn mutate(rng: &mut Rng, input: &[u8], pool: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = [0, 0xff, 0x7f, 0x80, b'"', b'\n', rng.next() as u8][rng.below(7)];
            }
            2 => out.insert(at, rng.next() as u8),
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            4 if !out.is_empty() => {
                let from = rng.below(out.len());
                let end = (from + 1 + rng.below(64)).min(out.len());
                let piece = out[from..end].to_vec();
                out.splice(at..at, piece);
            }
            5 | 6 => {
                let token = tokens[rng.below(tokens.len())];
                if rng.below(2) == 0 || at + token.len() > out.len() {
                    out.splice(at..at, token.iter().copied());
                } else {
                    out[at..at + token.len()].copy_from_slice(token);
                }
            }
            7 => {
                let other = &pool[rng.below(pool.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                // A run of the same byte: long names, deep nesting, big varints.
                let byte = [b'[', b'{', b'"', b' ', 0x80, 0xff, b'9'][rng.below(7)];
                let n = 1 << rng.below(12);
                out.splice(at..at, std::iter::repeat_n(byte, n));
            }
        }
    }
    out.truncate(MAX_LEN);
    out
}

/// What one fuzzing run found.
#[derive(Default)]
struct Report {
    execs: usize,
    parses: usize,
    worst_ratio: f64,
    worst_peak: (usize, usize),
    /// The most bytes allocated per byte of an input of at least 1 KiB.
    worst_per_byte: f64,
    slowest: Duration,
    failures: Vec<String>,
}

/// Runs `input` through the target, checking panics, time and allocation.
fn exec(target: &Target, input: &[u8], report: &mut Report) {
    let bound = target.bound;
    let mut over = Vec::new();
    let mut meter = |parse: &mut dyn FnMut() -> usize| {
        let mut len = 0;
        let (peak, retained) = counting::measure(|| len = parse());
        let allowed = bound.allows(len);
        report.parses += 1;
        let ratio = peak as f64 / allowed as f64;
        if ratio > report.worst_ratio {
            report.worst_ratio = ratio;
            report.worst_peak = (peak, len);
        }
        if len >= 1024 {
            report.worst_per_byte = report.worst_per_byte.max(peak as f64 / len as f64);
        }
        if peak > allowed || retained > allowed {
            over.push(format!(
                "allocated {peak} bytes at peak ({retained} kept) parsing {len} bytes, \
                 over the bound of {allowed}"
            ));
        }
    };
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(input, &mut meter)));
    let took = start.elapsed();
    report.execs += 1;
    report.slowest = report.slowest.max(took);
    let mut problems = over;
    if let Err(panic) = outcome {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(not a string)");
        problems.push(format!("panicked: {message}"));
    }
    if took > SLOW {
        problems.push(format!("took {took:?} (the bound is {SLOW:?})"));
    }
    if !problems.is_empty() {
        let mut failure = format!("{}: {}\n  input: ", target.name, problems.join("; "));
        let _ = write!(failure, "b\"{}\"", input.escape_ascii());
        report.failures.push(failure);
    }
}

/// Aborts the process, printing the input, if an input runs for [`HUNG`].
struct Watchdog {
    current: Arc<Mutex<(Instant, Vec<u8>)>>,
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(name: &'static str) -> Watchdog {
        let current = Arc::new(Mutex::new((Instant::now(), Vec::new())));
        let done = Arc::new(AtomicBool::new(false));
        let (watched, finished) = (Arc::clone(&current), Arc::clone(&done));
        std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let guard = watched.lock().unwrap_or_else(|p| p.into_inner());
                if guard.0.elapsed() > HUNG {
                    eprintln!(
                        "{name}: one input has run for over {HUNG:?}: b\"{}\"",
                        guard.1.escape_ascii()
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog { current, done }
    }

    fn watch(&self, input: &[u8]) {
        let mut guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 = Instant::now();
        guard.1.clear();
        guard.1.extend_from_slice(input);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Fuzzes one target: the seeds, then `execs` mutants. Inputs that parse
/// join the pool (up to a bound), so mutation reaches deeper than the seeds.
fn fuzz(target: &Target, rng_seed: u64) -> Report {
    let watchdog = Watchdog::start(target.name);
    let mut rng = Rng(rng_seed);
    let mut pool = (target.seeds)();
    assert!(!pool.is_empty(), "{} has no seeds", target.name);
    let seeds = pool.len();
    let mut report = Report::default();
    for input in &pool {
        watchdog.watch(input);
        exec(target, input, &mut report);
    }
    while report.execs < target.execs + seeds {
        let parent = &pool[rng.below(pool.len())];
        let input = mutate(&mut rng, parent, &pool, target.tokens);
        watchdog.watch(&input);
        let parses_before = report.parses;
        exec(target, &input, &mut report);
        // Keep some inputs that got through to a second parse or look fresh.
        if report.parses > parses_before + 1 || rng.below(8) == 0 {
            if pool.len() < seeds + 64 {
                pool.push(input);
            } else {
                let i = seeds + rng.below(64);
                pool[i] = input;
            }
        }
    }
    report
}

/// Runs the three targets; prints how many inputs each ran and the worst
/// allocation ratio seen; fails listing each reproducer.
#[test]
fn parsers_survive_mutated_input() {
    // Built once, before any measurement: the schedule target's scenario.
    let _ = fuzzing::abba();
    static TOTAL: AtomicU64 = AtomicU64::new(0);
    let mut failures = Vec::new();
    for (i, target) in targets().iter().enumerate() {
        let start = Instant::now();
        let report = fuzz(target, 0x5eed_0000 + i as u64);
        TOTAL.fetch_add(report.execs as u64, Ordering::Relaxed);
        println!(
            "{}: {} executions ({} parses) clean in {:.1?}; slowest input {:.1?}; \
             worst peak {:.3} of the bound ({} bytes for {} bytes of input); \
             at most {:.1} bytes per byte of inputs over 1 KiB",
            target.name,
            report.execs - report.failures.len(),
            report.parses,
            start.elapsed(),
            report.slowest,
            report.worst_ratio,
            report.worst_peak.0,
            report.worst_peak.1,
            report.worst_per_byte,
        );
        failures.extend(report.failures);
    }
    failures.truncate(20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------ regressions

/// Runs one input through the named target; fails on any problem.
fn check_one(name: &str, input: &[u8]) -> Report {
    let target = targets().into_iter().find(|t| t.name == name).unwrap();
    let mut report = Report::default();
    exec(&target, input, &mut report);
    assert!(report.failures.is_empty(), "{}", report.failures.join("\n"));
    report
}

/// A trace with a header and one events chunk holding `records` (one event);
/// the target recomputes the zeroed checksums.
fn forged_trace(records: &[u8]) -> Vec<u8> {
    let mut bytes = b"lockscope trace\n\x01\x00".to_vec();
    bytes.extend_from_slice(b"H\x06\x00\x02ns\x00\x00\0\0\0\0");
    bytes.push(b'E');
    bytes.push(records.len() as u8 + 1);
    bytes.push(1);
    bytes.extend_from_slice(records);
    bytes.extend_from_slice(b"\0\0\0\0");
    bytes
}

#[test]
fn a_far_lock_id_allocates_no_table() {
    // Released (same thread, time +0) of lock 65535, seq +1: the reader used
    // to size its table of sequence numbers by the id, 512 KiB for 40 bytes.
    let input = forged_trace(b"\x16\x00\xff\xff\x03\x02");
    let report = check_one("trace_reader", &input);
    assert_eq!(report.parses, 2, "the checksums were fixed and read");
}

#[test]
fn claimed_sizes_allocate_nothing() {
    let cases: [&[u8]; 4] = [
        // A chunk claiming 4 GiB.
        b"lockscope trace\n\x01\x00H\x80\x80\x80\x80\x10\0\0\0\0",
        // A header whose program name claims 2^62 bytes.
        b"lockscope trace\n\x01\x00H\x0d\x00\x02ns\x80\x80\x80\x80\x80\x80\x80\x80\x40\0\0\0\0",
        // An events chunk claiming 2^50 events, holding a thread start whose
        // name claims 2^60 bytes.
        &forged_trace(b"\x10\x00\x80\x80\x80\x80\x80\x80\x80\x80\x10")[..],
        // An end marker claiming u64::MAX events.
        b"lockscope trace\n\x01\x00H\x06\x00\x02ns\x00\x00\0\0\0\0Z\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\0\0\0\0",
    ];
    for input in cases {
        check_one("trace_reader", input);
    }
}

#[test]
fn count_copies_are_capped() {
    // Fifty 1 KiB steps copied a thousand times (50 MiB from 52 KiB of text),
    // and a 20 KiB name copied a thousand times (twice: names and the
    // duplicate check), used to be built before any limit applied.
    let lock = "L".repeat(1000);
    let steps = format!("\"lock {lock}\", \"unlock {lock}\", ").repeat(25);
    let long_steps = format!(
        "[locks]\n{lock} = \"mutex\"\n[[thread]]\nname = \"t\"\ncount = 1000\nsteps = [{steps}]\n"
    );
    let long_name = format!(
        "[[thread]]\nname = \"{}\"\ncount = 1000\n",
        "n".repeat(20_000)
    );
    for text in [long_steps, long_name] {
        let mut result = None;
        let (peak, _) = counting::measure(|| result = Some(Scenario::parse("t.toml", &text)));
        let allowed = SCENARIO.allows(text.len());
        assert!(
            peak <= allowed,
            "{peak} bytes at peak for {} bytes",
            text.len()
        );
        let err = result.unwrap().unwrap_err().to_string();
        assert!(err.contains("scenario is too big (at most 4 MiB"), "{err}");
    }
}

/// Writes the seeds and dictionaries of the cargo-fuzz targets to
/// `$LOCKSCOPE_FUZZ_EXPORT/{seeds,dict}`; does nothing without it.
#[test]
fn export() {
    let Some(dir) = std::env::var_os("LOCKSCOPE_FUZZ_EXPORT") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for target in targets() {
        let corpus = dir.join("seeds").join(target.name);
        std::fs::create_dir_all(&corpus).unwrap();
        for (i, seed) in (target.seeds)().iter().enumerate() {
            std::fs::write(corpus.join(format!("seed-{i:02}")), seed).unwrap();
        }
        let dict: String = target
            .tokens
            .iter()
            .map(|token| {
                let escaped: String = token
                    .iter()
                    .map(|&b| match b {
                        b' '..=b'~' if b != b'"' && b != b'\\' => char::from(b).to_string(),
                        _ => format!("\\x{b:02x}"),
                    })
                    .collect();
                format!("\"{escaped}\"\n")
            })
            .collect();
        std::fs::create_dir_all(dir.join("dict")).unwrap();
        std::fs::write(dir.join("dict").join(format!("{}.dict", target.name)), dict).unwrap();
    }
}
