//! The bodies of the fuzz targets, shared by the cargo-fuzz targets in `fuzz/`
//! and the stable mutation test `tests/fuzz.rs`. Not part of the API.
//!
//! Each target feeds arbitrary bytes to one parser of untrusted input and
//! panics when an invariant breaks: beyond "no panic", whatever parses must
//! survive a round trip through its writer, and every error must point inside
//! the input and carry no control characters (messages reach a terminal).
//!
//! Each parse runs inside a [`Meter`], so the stable test can measure the
//! allocations of the parse alone, not of the checks after it, against the
//! size the parse returns: the input's length, or for a scenario, its length
//! plus the names and steps that `count` copies (copying is the point of
//! `count`, and the parser caps it).

use std::sync::OnceLock;

use crate::scenario::{MAX_REPEAT, Op, Scenario, Schedule, Sim, ThreadState, validate};
use crate::trace::{self, Trace, TraceWriter, fix_checksums};

mod seeds;

pub use seeds::trace_seeds;
pub use seeds::{SCENARIO_TOKENS, SCHEDULE_TOKENS, TRACE_TOKENS, scenario_seeds, schedule_seeds};

/// Runs one parse, which returns the size of what it parsed (see above).
pub type Meter<'a> = &'a mut dyn FnMut(&mut dyn FnMut() -> usize);

/// The file name inputs are parsed under; errors must start with it.
const TRACE_FILE: &str = "fuzz.trace";
const SCENARIO_FILE: &str = "fuzz.toml";
const SCHEDULE_FILE: &str = "fuzz.schedule";

/// Steps simulated to turn a parsed scenario into a schedule.
const SIM_STEPS: usize = 64;

/// Fuzzes [`trace::read_from`]: the input as it is, and again with every
/// chunk checksum that frames made it recomputed, so mutations reach the
/// record decoder instead of stopping at the first checksum.
pub fn trace_reader(data: &[u8]) {
    trace_reader_metered(data, &mut |parse| {
        parse();
    });
}

/// [`trace_reader`], each parse run by `meter`.
pub fn trace_reader_metered(data: &[u8], meter: Meter<'_>) {
    let fixed = fix_checksums(data);
    let inputs: &[&[u8]] = if fixed == data {
        &[data]
    } else {
        &[data, &fixed]
    };
    for &input in inputs {
        let mut result = None;
        meter(&mut || {
            result = Some(trace::read_from(input, TRACE_FILE));
            input.len()
        });
        match result.expect("the meter runs the parse") {
            Ok(trace) => check_trace(input, &trace),
            Err(err) => check_message(&format!("{err:#}"), TRACE_FILE),
        }
    }
}

fn check_trace(input: &[u8], trace: &Trace) {
    // The fewest bytes an event takes is two (its op byte and time delta).
    assert!(
        trace.events.len() <= input.len() / 2,
        "{} events from {} bytes",
        trace.events.len(),
        input.len()
    );
    if let Some(damage) = &trace.damage {
        assert_eq!(
            damage.at_byte + damage.dropped_bytes,
            input.len() as u64,
            "{damage:?}"
        );
        check_message(&damage.reason, "");
    }
    // Whatever was read writes back and reads again to the same events.
    let mut writer = TraceWriter::new(Vec::new(), &trace.header).expect("writing to memory");
    writer.write(&trace.events).expect("writing to memory");
    let bytes = writer.finish().expect("writing to memory");
    let again = trace::read_from(&bytes, TRACE_FILE).expect("a trace just written reads back");
    assert!(
        again.complete && again.damage.is_none(),
        "{:?}",
        again.damage
    );
    // Written back in the current version; everything else is kept.
    assert_eq!(again.header.version, trace::FORMAT_VERSION);
    let header = trace::Header {
        version: trace.header.version,
        ..again.header.clone()
    };
    assert_eq!(header, trace.header);
    assert_eq!(again.events, trace.events);
    // Replaying hostile events into the model must not panic either.
    let _ = trace::replay_summary(trace);
}

/// Fuzzes [`Scenario::parse`] (the input as UTF-8, invalid bytes replaced).
/// A scenario that parses must keep the promises of its type, and a bounded
/// simulation of it must write out as a schedule that reads back and
/// validates against it.
pub fn scenario_parser(data: &[u8]) {
    scenario_parser_metered(data, &mut |parse| {
        parse();
    });
}

/// [`scenario_parser`], the parse run by `meter`.
pub fn scenario_parser_metered(data: &[u8], meter: Meter<'_>) {
    let text = String::from_utf8_lossy(data);
    let mut result = None;
    meter(&mut || {
        let parsed = Scenario::parse(SCENARIO_FILE, &text);
        let copied = parsed.as_ref().map_or(0, program_text);
        result = Some(parsed);
        text.len() + copied
    });
    match result.expect("the meter runs the parse") {
        Ok(scenario) => {
            check_scenario(&text, &scenario);
            check_schedule_of(&scenario, data);
        }
        Err(err) => check_position(&format!("{err:#}"), SCENARIO_FILE, &text, true),
    }
}

/// The bytes of thread names and step text in `s`, copies included.
fn program_text(s: &Scenario) -> usize {
    fn steps(body: &[crate::scenario::Step]) -> usize {
        let nested = |step: &crate::scenario::Step| match &step.op {
            Op::Repeat { body, .. } => steps(body),
            _ => 0,
        };
        body.iter().map(|step| step.text.len() + nested(step)).sum()
    }
    s.threads
        .iter()
        .map(|t| t.name.len() + steps(&t.steps))
        .sum()
}

fn check_scenario(text: &str, s: &Scenario) {
    use crate::event::LockKind::{Channel, Condvar, Mutex, RwLock};

    assert_eq!(s.file, SCENARIO_FILE);
    assert!(
        (1..=1000).contains(&s.threads.len()),
        "{} threads",
        s.threads.len()
    );
    let lines = text.lines().count().max(1) as u32 + 1;
    let in_text = |site: crate::event::Site| {
        site.file == SCENARIO_FILE && (1..=lines).contains(&site.line) && site.column >= 1
    };
    let lock = |i: usize, kinds: &[crate::event::LockKind]| {
        let decl = s.locks.get(i).expect("a lock index in range");
        assert!(
            kinds.contains(&decl.kind),
            "{decl:?} is not one of {kinds:?}"
        );
    };
    let var = |i: usize| assert!(i < s.vars.len(), "var {i} of {}", s.vars.len());
    let mut steps = 0usize;
    let mut todo: Vec<(&[crate::scenario::Step], usize)> = Vec::new();
    for thread in &s.threads {
        assert!(in_text(thread.site), "{:?}", thread.site);
        todo.push((&thread.steps, 1));
    }
    while let Some((body, depth)) = todo.pop() {
        assert!(depth <= 33, "repeat blocks nested {depth} deep");
        for step in body {
            steps += 1;
            assert!(in_text(step.site), "{:?}", step.site);
            match step.op {
                Op::Lock(i) => lock(i, &[Mutex]),
                Op::Read(i) | Op::Write(i) => lock(i, &[RwLock]),
                Op::Unlock(i) => lock(i, &[Mutex, RwLock]),
                Op::Wait { condvar, mutex } => {
                    lock(condvar, &[Condvar]);
                    lock(mutex, &[Mutex]);
                }
                Op::Notify(i) | Op::NotifyAll(i) => lock(i, &[Condvar]),
                Op::Load(i) | Op::Store(i) => var(i),
                Op::Send(i) | Op::Recv(i) => lock(i, &[Channel]),
                Op::Join(t) => assert!(t < s.threads.len(), "join {t} of {}", s.threads.len()),
                Op::Repeat { times, ref body } => {
                    assert!((1..=MAX_REPEAT).contains(&times), "repeat {times}");
                    todo.push((body, depth + 1));
                }
                Op::Sleep(_) | Op::Work(_) | Op::Add(_) => {}
            }
        }
    }
    assert!(steps <= 100_000, "{steps} steps after count copies");
    for (i, expect) in s.expect.iter().enumerate() {
        var(expect.var);
        assert!(in_text(expect.site), "{:?}", expect.site);
        assert!(s.expect[..i].iter().all(|e| e.var != expect.var));
    }
    for decl in &s.locks {
        assert!(in_text(decl.site), "{:?}", decl.site);
    }
}

/// Simulates a few steps of `s` (threads picked by `data`), then writes the
/// moves as a schedule, reads it back and validates it against `s`.
fn check_schedule_of(s: &Scenario, data: &[u8]) {
    let mut sim = Sim::new(s);
    let mut picks = data.iter().rev().copied().cycle();
    let mut order = Vec::new();
    for _ in 0..SIM_STEPS {
        let movable: Vec<usize> = (0..sim.thread_count())
            .filter(|&t| {
                matches!(
                    sim.thread_state(t),
                    ThreadState::Enabled
                        | ThreadState::WouldBlock { .. }
                        | ThreadState::WouldWait { .. }
                )
            })
            .collect();
        if movable.is_empty() {
            break;
        }
        let t = movable[usize::from(picks.next().unwrap_or(0)) % movable.len()];
        sim.step(t).expect("a movable thread moves");
        order.push(t);
    }
    let schedule = Schedule::from_threads(s, &order).expect("the simulated order replays");
    let text = schedule.to_text(s);
    let read = Schedule::parse(SCHEDULE_FILE, &text)
        .unwrap_or_else(|err| panic!("{err:#} in a written schedule:\n{text}"));
    assert_eq!(read, schedule, "{text}");
    let threads = validate(&read, s).unwrap_or_else(|err| panic!("{err:#}:\n{text}"));
    assert_eq!(threads, order);
}

/// Fuzzes [`Schedule::parse`] (the input as UTF-8, invalid bytes replaced).
/// A schedule that parses must write out and read back unchanged, and
/// validating it against a real scenario must not panic.
pub fn schedule_parser(data: &[u8]) {
    schedule_parser_metered(data, &mut |parse| {
        parse();
    });
}

/// [`schedule_parser`], the parse run by `meter`.
pub fn schedule_parser_metered(data: &[u8], meter: Meter<'_>) {
    let text = String::from_utf8_lossy(data);
    let mut result = None;
    meter(&mut || {
        result = Some(Schedule::parse(SCHEDULE_FILE, &text));
        text.len()
    });
    let schedule = match result.expect("the meter runs the parse") {
        Ok(schedule) => schedule,
        Err(err) => return check_position(&format!("{err:#}"), SCHEDULE_FILE, &text, false),
    };
    assert!(!schedule.scenario.is_empty());
    assert!(schedule.steps.iter().all(|step| !step.op.is_empty()));
    assert!(schedule.steps.len() <= text.lines().count());
    let abba = abba();
    let written = schedule.to_text(abba);
    let read = Schedule::parse(SCHEDULE_FILE, &written)
        .unwrap_or_else(|err| panic!("{err:#} in a written schedule:\n{written}"));
    assert_eq!(read, schedule, "{written}");
    let mut renamed = schedule;
    renamed.scenario.clone_from(&abba.name);
    if let Ok(threads) = validate(&renamed, abba) {
        assert_eq!(threads.len(), renamed.steps.len());
    }
}

/// The scenario schedules are checked against (loaded once: its allocations
/// must not count against any input).
pub fn abba() -> &'static Scenario {
    static ABBA: OnceLock<Scenario> = OnceLock::new();
    ABBA.get_or_init(|| Scenario::load("abba").expect("the built-in abba parses"))
}

/// An error message starts with `FILE:LINE:` (and `COLUMN:` for scenarios),
/// pointing inside the text.
fn check_position(message: &str, file: &str, text: &str, column: bool) {
    check_message(message, file);
    let rest = &message[file.len()..];
    let mut fields = rest.splitn(4, ':');
    let _ = fields.next();
    let number = |field: Option<&str>| -> u64 {
        field
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("no position in {message:?}"))
    };
    let line = number(fields.next());
    let lines = text.lines().count().max(1) as u64 + 1;
    assert!(
        (1..=lines).contains(&line),
        "line {line} of {lines}: {message:?}"
    );
    if column {
        assert!(number(fields.next()) >= 1, "{message:?}");
    }
}

/// A message names its file and carries no control characters: it may be
/// printed to a terminal, and hostile names must not reach it raw.
fn check_message(message: &str, file: &str) {
    assert!(
        message.starts_with(file),
        "{message:?} does not start with {file}"
    );
    // No control character (but line breaks) and no bidi override.
    let control = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    assert!(!message.chars().any(control), "{message:?}");
}
