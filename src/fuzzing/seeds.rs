//! Seed inputs and dictionary tokens for the fuzz targets, made from the
//! built-in scenarios so they follow the formats as the code writes them.

use crate::event::{Event, EventKind, LockId, Mode, Site, ThreadId};
use crate::scenario::{Scenario, Schedule, Sim, builtins};
use crate::trace::{Header, TraceWriter};

/// Pieces of the trace format: the magic, the version, chunk tags and lengths,
/// record op bytes with their flags, and varints at the edges.
pub const TRACE_TOKENS: &[&[u8]] = &[
    b"lockscope trace\n",
    b"\x01\x00",
    b"H",
    b"E",
    b"Z",
    b"q",
    b"\x02ns",
    b"\x00\x00\x00\x00",
    b"\x80\x80\x04",
    b"\xff\xff\xff\xff\x0f",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
    b"\x0c\x01a",
    b"\x0d\x00\x01\x01",
    b"\x10\x00",
    b"\x13",
    b"\x95",
    b"\xb5",
    b"\xd5",
    b"\x96",
    b"\x59",
    b"\x5a",
    b"\x5b",
    b"\xff\xff\x03",
];

/// Pieces of the scenario format: tables, keys, lock kinds, step verbs,
/// limits and TOML's quoting.
pub const SCENARIO_TOKENS: &[&[u8]] = &[
    b"[locks]\n",
    b"[vars]\n",
    b"[expect]\n",
    b"[[thread]]\n",
    b"name = ",
    b"description = ",
    b"steps = [",
    b"count = ",
    b"\"mutex\"",
    b"\"rwlock\"",
    b"\"condvar\"",
    b"\"lock A\", ",
    b"\"unlock A\", ",
    b"\"read R\", ",
    b"\"write R\", ",
    b"\"wait C M\", ",
    b"\"notify C\", ",
    b"\"notify_all C\", ",
    b"\"sleep 1ms\", ",
    b"\"work 10us\", ",
    b"\"repeat 1000000\", ",
    b"\"end\", ",
    b"\"load x\", ",
    b"\"add -9223372036854775808\", ",
    b"\"store x\", ",
    b"\"\"\"",
    b"'''",
    b"\\u0000",
    b"\\U0001F512",
    b"1000",
    b"4294967296",
    b" = ",
    b"\n",
    b"#",
];

/// Pieces of the schedule format: the header, keywords, quoting and escapes.
pub const SCHEDULE_TOKENS: &[&[u8]] = &[
    b"# lockscope schedule 1\n",
    b"# lockscope schedule 2\n",
    b"scenario ",
    b"abba",
    b"1 left lock A\n",
    b"2 right lock B\n",
    b"reacquire ",
    b"unlock ",
    b"wait ",
    b"\"",
    b"\\\"",
    b"\\\\",
    b"\\n",
    b"\\u{1b}",
    b"\\u{10ffff}",
    b"\\u{",
    b" # ",
    b"\r\n",
    b"\t",
    b"0000000001 ",
];

/// Each built-in scenario's text.
pub fn scenario_seeds() -> Vec<Vec<u8>> {
    builtins()
        .iter()
        .map(|b| b.source.as_bytes().to_vec())
        .collect()
}

/// A schedule of a few steps of each built-in scenario, as written to a file.
pub fn schedule_seeds() -> Vec<Vec<u8>> {
    builtin_scenarios()
        .map(|s| {
            let order = run(&s, 12, &mut Vec::new());
            let schedule = Schedule::from_threads(&s, &order).expect("a simulated order replays");
            schedule.to_text(&s).into_bytes()
        })
        .collect()
}

/// Recordings of a few steps of some built-in scenarios (every record type
/// a scenario makes), one of events no scenario makes, and a cut recording.
pub fn trace_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = builtin_scenarios()
        .filter(|s| ["abba", "condvar-handoff", "readers-writer"].contains(&s.name.as_str()))
        .map(|s| {
            let mut events = Sim::new(&s).initial_events(0);
            run(&s, 16, &mut events);
            record(&s.name, &events)
        })
        .collect();
    let odd = odd_events();
    seeds.push(record("odd \u{1b}[2J", &odd));
    let mut cut = record("cut", &odd);
    cut.truncate(cut.len() - 9);
    seeds.push(cut);
    seeds
}

fn builtin_scenarios() -> impl Iterator<Item = Scenario> {
    builtins()
        .iter()
        .map(|b| b.scenario().expect("a built-in scenario parses"))
}

/// Moves the threads of `s` round-robin for up to `steps` steps, appending
/// the events a run would record; returns the threads moved.
fn run(s: &Scenario, steps: u64, events: &mut Vec<Event>) -> Vec<usize> {
    let mut sim = Sim::new(s);
    let mut order = Vec::new();
    for time in 1..=steps {
        let enabled = sim.enabled();
        let Some(&t) = enabled.get(time as usize % enabled.len().max(1)) else {
            break;
        };
        sim.step_events(t, time * 1000, events)
            .expect("an enabled thread moves");
        order.push(t);
    }
    order
}

/// Events of kinds and values the simulator never makes.
fn odd_events() -> Vec<Event> {
    let site = Site::intern("dir/ünï.toml", u32::MAX, 0);
    let far = LockId(u32::MAX);
    let ev = |time: u64, thread: u32, kind: EventKind| Event {
        time,
        thread: ThreadId(thread),
        kind,
    };
    vec![
        ev(u64::MAX, 7, EventKind::ThreadStart { name: "t".into() }),
        ev(
            0,
            7,
            EventKind::TryFailed {
                lock: far,
                mode: Mode::Shared,
                site,
            },
        ),
        ev(
            5,
            0,
            EventKind::TimedOut {
                lock: LockId(70_000),
                mode: Mode::Exclusive,
            },
        ),
        ev(
            3,
            7,
            EventKind::Released {
                lock: far,
                mode: Mode::Shared,
                seq: u64::MAX,
            },
        ),
        ev(
            9,
            7,
            EventKind::ThreadPanic {
                message: "boom".into(),
            },
        ),
        ev(9, 7, EventKind::ThreadExit),
    ]
}

/// A finished recording of `events` in two chunks.
fn record(program: &str, events: &[Event]) -> Vec<u8> {
    let mut writer = TraceWriter::new(Vec::new(), &Header::at(program, 1)).expect("in memory");
    let (a, b) = events.split_at(events.len() / 2);
    for part in [a, b] {
        writer.write(part).expect("in memory");
        writer.flush().expect("in memory");
    }
    writer.finish().expect("in memory")
}
