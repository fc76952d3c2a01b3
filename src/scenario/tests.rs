//! Scenario parsing and validation: the happy path and every error.

use std::time::Duration;

use super::*;

fn parse(text: &str) -> Scenario {
    Scenario::parse("t.toml", text).unwrap_or_else(|err| panic!("{err:#}"))
}

fn error(text: &str) -> String {
    match Scenario::parse("t.toml", text) {
        Ok(scenario) => panic!("parsed, but should not have: {scenario:?}"),
        Err(err) => err.to_string(),
    }
}

#[track_caller]
fn assert_error(text: &str, want: &str) {
    let got = error(text);
    assert!(got.starts_with(want), "\n got: {got}\nwant: {want}…");
}

/// A scenario with two mutexes, an rwlock, a condvar and a var, and one thread.
fn with_steps(steps: &str) -> String {
    format!(
        "[locks]\nA = \"mutex\"\nB = \"mutex\"\nL = \"rwlock\"\nCV = \"condvar\"\n\
         [vars]\nn = 0\n[[thread]]\nname = \"t\"\nsteps = [{steps}]\n"
    )
}

const ABBA: &str = r#"name = "abba"
description = "Two threads take two locks in opposite order"
[locks]
A = "mutex"
B = "mutex"
[[thread]]
name = "left"
steps = ["lock A", "work 10ms", "lock B", "unlock B", "unlock A"]
[[thread]]
name = "right"
steps = ["lock B", "work 10ms", "lock A", "unlock A", "unlock B"]
"#;

#[test]
fn the_example_parses_with_sites_of_each_step() {
    let s = parse(ABBA);
    assert_eq!(s.name, "abba");
    assert_eq!(
        s.description,
        "Two threads take two locks in opposite order"
    );
    assert_eq!(s.file, "t.toml");
    assert_eq!(s.locks.len(), 2);
    assert_eq!(
        (s.locks[1].name.as_str(), s.locks[1].kind),
        ("B", LockKind::Mutex)
    );
    assert_eq!((s.locks[1].site.line, s.locks[1].site.column), (5, 1));
    let left = &s.threads[0];
    assert_eq!(left.name, "left");
    assert_eq!((left.site.line, left.site.column), (6, 1));
    let ops: Vec<&Op> = left.steps.iter().map(|step| &step.op).collect();
    let ten_ms = Duration::from_millis(10);
    let want = [
        Op::Lock(0),
        Op::Work(ten_ms),
        Op::Lock(1),
        Op::Unlock(1),
        Op::Unlock(0),
    ];
    assert_eq!(ops, want.iter().collect::<Vec<_>>());
    // `steps = [` is nine characters: the first string opens at column 10.
    let columns: Vec<u32> = left.steps.iter().map(|step| step.site.column).collect();
    assert_eq!(columns, [10, 20, 33, 43, 55]);
    assert_eq!(left.steps[2].site.to_string(), "t.toml:8");
    assert_eq!(left.steps[2].text, "lock B");
    assert_eq!(s.threads[1].steps[2].op, Op::Lock(0));
}

#[test]
fn name_defaults_to_the_file_stem() {
    let text = ABBA.replace("name = \"abba\"\n", "");
    let s = Scenario::parse("dir/mine.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.name.as_str(), s.file), ("mine", "dir/mine.toml"));
}

#[test]
fn repeat_blocks_nest_as_a_tree() {
    let s = parse(&with_steps(
        "\"repeat 2\", \"lock A\", \"repeat 3\", \"sleep 1ms\", \"end\", \"unlock A\", \"end\", \"work 1us\"",
    ));
    let steps = &s.threads[0].steps;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].text, "repeat 2");
    assert_eq!(steps[0].site.column, 10);
    let Op::Repeat { times: 2, body } = &steps[0].op else {
        panic!("{:?}", steps[0].op);
    };
    assert_eq!(body.len(), 3);
    let Op::Repeat {
        times: 3,
        body: inner,
    } = &body[1].op
    else {
        panic!("{:?}", body[1].op);
    };
    assert_eq!(inner[0].op, Op::Sleep(Duration::from_millis(1)));
    assert_eq!(steps[1].op, Op::Work(Duration::from_micros(1)));
}

#[test]
fn holding_is_checked_across_repeat_passes() {
    // Fine once, but the second pass unlocks what the first already let go.
    assert_error(
        &with_steps("\"lock A\", \"repeat 2\", \"unlock A\", \"end\""),
        "t.toml:10:32: step \"unlock A\": thread \"t\" does not hold A here",
    );
    // Once is fine.
    parse(&with_steps(
        "\"lock A\", \"repeat 1\", \"unlock A\", \"end\"",
    ));
    // Taking a lock inside a block and letting it go after it is fine.
    parse(&with_steps(
        "\"repeat 3\", \"read L\", \"end\", \"unlock L\"",
    ));
    // Unlocking inside a nested block what the outer block took on its first pass.
    assert_error(
        &with_steps("\"repeat 2\", \"lock A\", \"repeat 2\", \"unlock A\", \"end\", \"end\""),
        "t.toml:10:44: step \"unlock A\"",
    );
}

#[test]
fn deadlocking_programs_are_valid() {
    // Self-deadlock, read-to-write upgrade, write-then-read, ending while holding.
    let s = parse(&with_steps(
        "\"lock A\", \"lock A\", \"read L\", \"write L\", \"read L\", \"unlock L\", \"lock B\"",
    ));
    let ops: Vec<&Op> = s.threads[0].steps.iter().map(|step| &step.op).collect();
    assert_eq!(ops[3], &Op::Write(2));
    assert_eq!(ops[6], &Op::Lock(1));
}

#[test]
fn lock_on_an_rwlock_means_write() {
    let s = parse(&with_steps(
        "\"lock L\", \"unlock L\", \"LOCK A\", \"notify-all CV\"",
    ));
    let ops: Vec<&Op> = s.threads[0].steps.iter().map(|step| &step.op).collect();
    assert_eq!(
        ops,
        [
            &Op::Write(2),
            &Op::Unlock(2),
            &Op::Lock(0),
            &Op::NotifyAll(3)
        ]
    );
}

#[test]
fn lock_names_may_contain_spaces() {
    let text = r#"
[locks]
"fork 1" = "mutex"
"fork 12" = "mutex"
"big cv" = "condvar"
"big" = "mutex"
"cv" = "condvar"
"big cv big" = "mutex"
[[thread]]
name = "p"
steps = ["lock   fork 12", "lock fork 1", "lock big", "lock big cv big", "wait big cv big cv big", "wait cv big", "unlock fork 1"]
"#;
    let s = parse(text);
    let ops: Vec<&Op> = s.threads[0].steps.iter().map(|step| &step.op).collect();
    assert_eq!(ops[0], &Op::Lock(1));
    assert_eq!(ops[1], &Op::Lock(0));
    // "big cv big cv big": the longest condvar name that leaves a declared mutex.
    assert_eq!(
        ops[4],
        &Op::Wait {
            condvar: 2,
            mutex: 5
        }
    );
    assert_eq!(
        ops[5],
        &Op::Wait {
            condvar: 4,
            mutex: 3
        }
    );
    assert_eq!(s.threads[0].steps[0].text, "lock   fork 12");
    assert_eq!(s.lock_index("fork 12"), Some(1));
}

#[test]
fn count_makes_numbered_copies() {
    let s = parse("[[thread]]\nname = \"w\"\ncount = 3\nsteps = [\"work 1ms\"]\n");
    let names: Vec<&str> = s.threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["w 0", "w 1", "w 2"]);
    assert_eq!(s.threads[2].steps, s.threads[0].steps);
    assert_eq!(s.threads[2].site.line, 1);
}

#[test]
fn vars_and_expectations() {
    let text = "[vars]\ncounter = 0\nother = -5\n[[thread]]\nname = \"t\"\n\
                steps = [\"load counter\", \"add -3\", \"add +1\", \"store other\"]\n\
                [expect]\nother = 7\n";
    let s = parse(text);
    assert_eq!(s.vars[1].name, "other");
    assert_eq!(s.vars[1].initial, -5);
    assert_eq!((s.vars[1].site.line, s.vars[1].site.column), (3, 1));
    let ops: Vec<&Op> = s.threads[0].steps.iter().map(|step| &step.op).collect();
    assert_eq!(
        ops,
        [&Op::Load(0), &Op::Add(-3), &Op::Add(1), &Op::Store(1)]
    );
    assert_eq!(s.expect.len(), 1);
    assert_eq!((s.expect[0].var, s.expect[0].value), (1, 7));
    assert_eq!(s.expect[0].site.line, 8);

    assert_error(
        &text.replace("store other", "store x"),
        "t.toml:6:46: unknown var \"x\" in step \"store x\" (declared vars: counter, other)",
    );
    assert_error(
        &text.replace("other = 7", "missing = 7"),
        "t.toml:8:1: unknown var \"missing\" in [expect] (declared vars: counter, other)",
    );
    assert_error(
        &text.replace("add -3", "add three"),
        "t.toml:6:26: bad number \"three\" for \"add\"",
    );
    assert_error(
        &text.replace("counter = 0", "counter = 1.5"),
        "t.toml:2:11: invalid type: floating point `1.5`, expected i64",
    );
}

#[test]
fn durations_in_steps() {
    let s = parse(&with_steps(
        "\"sleep 1.5ms\", \"work 250us\", \"work 250µs\", \"sleep 2 s\", \"sleep 7ns\"",
    ));
    let ops: Vec<&Op> = s.threads[0].steps.iter().map(|step| &step.op).collect();
    assert_eq!(ops[0], &Op::Sleep(Duration::from_micros(1500)));
    assert_eq!(ops[1], &Op::Work(Duration::from_micros(250)));
    assert_eq!(ops[2], ops[1]);
    assert_eq!(ops[3], &Op::Sleep(Duration::from_secs(2)));
    assert_eq!(ops[4], &Op::Sleep(Duration::from_nanos(7)));
}

#[test]
fn every_builtin_loads() {
    assert_eq!(builtins().len(), 15);
    for builtin in builtins() {
        let s = Scenario::load(builtin.name).unwrap_or_else(|e| panic!("{}: {e:#}", builtin.name));
        assert_eq!(s.name, builtin.name);
        assert_eq!(s.file, format!("{}.toml", builtin.name));
        assert!(
            !s.description.is_empty() && !s.description.contains('\n'),
            "{}",
            s.name
        );
        assert!(
            s.description.len() <= 110,
            "{}: description too long",
            s.name
        );
    }
    let philosophers = Scenario::load(DEFAULT_SCENARIO).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(philosophers.threads.len(), 5);
    assert_eq!(philosophers.locks[4].name, "fork 4");
    let lost = Scenario::load("lost-update").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((lost.threads.len(), lost.expect[0].value), (4, 20));
    let convoy = Scenario::load("convoy").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(convoy.threads[7].name, "worker 7");
}

#[test]
fn load_reads_files_and_lists_builtins_when_missing() {
    let missing = Scenario::load("no/such/scenario.toml")
        .err()
        .map(|e| e.to_string());
    let missing = missing.unwrap_or_default();
    assert!(missing.starts_with("no built-in scenario or file named \"no/such/scenario.toml\" (built-in scenarios: philosophers, philosophers-ordered, abba"), "{missing}");

    let dir = std::env::temp_dir().join(format!("lockscope-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("mine.toml");
    std::fs::write(&path, ABBA.replace("lock C", "x")).unwrap_or_else(|e| panic!("{e}"));
    let path_text = path.to_string_lossy().into_owned();
    let s = Scenario::load(&path_text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.file, path_text);
    assert!(
        s.threads[0].steps[0]
            .site
            .to_string()
            .ends_with("mine.toml:8")
    );

    std::fs::write(&path, vec![b'#'; parse::MAX_TEXT + 1]).unwrap_or_else(|e| panic!("{e}"));
    let big = Scenario::load(&path_text)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(big.contains("is too large"), "{big}");
    std::fs::write(&path, b"name = \"\xff\"").unwrap_or_else(|e| panic!("{e}"));
    let bad = Scenario::load(&path_text)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        bad.contains("is not UTF-8 text (bad byte at offset 8)"),
        "{bad}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

mod errors;
mod hostile;
mod kinds;

/// Channels and joins: a producer, a consumer and a main thread that joins both.
const PIPE: &str = r#"[locks]
jobs = "channel 2"
done = "channel"
meet = "Channel 0"
L = "mutex"
[[thread]]
name = "producer"
steps = ["add 7", "send jobs", "send meet"]
[[thread]]
name = "consumer"
count = 2
steps = ["recv jobs", "recv meet", "send done"]
[[thread]]
name = "main"
steps = ["join consumer 1", "recv done", "join  producer"]
"#;

#[test]
fn channels_and_joins_parse_with_capacities_and_thread_indices() {
    let s = parse(PIPE);
    let kinds: Vec<(LockKind, Option<usize>)> =
        s.locks.iter().map(|l| (l.kind, l.capacity)).collect();
    assert_eq!(
        kinds,
        [
            (LockKind::Channel, Some(2)),
            (LockKind::Channel, None),
            (LockKind::Channel, Some(0)),
            (LockKind::Mutex, None),
        ]
    );
    let ops = |t: usize| {
        s.threads[t]
            .steps
            .iter()
            .map(|st| st.op.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ops(0), [Op::Add(7), Op::Send(0), Op::Send(2)]);
    assert_eq!(ops(1), [Op::Recv(0), Op::Recv(2), Op::Send(1)]);
    // Thread names after `count` copies, whitespace runs collapsed.
    assert_eq!(ops(3), [Op::Join(2), Op::Recv(1), Op::Join(0)]);
    assert!(s.has_channels_or_joins());
    assert!(!parse(ABBA).has_channels_or_joins());
}

#[test]
fn channel_and_join_mistakes_name_the_place_and_what_was_expected() {
    let pipe = |from: &str, to: &str| {
        assert!(PIPE.contains(from), "{from}");
        PIPE.replacen(from, to, 1)
    };
    assert_error(
        &pipe("\"channel 2\"", "\"channel two\""),
        "t.toml:2:8: unknown lock kind \"channel two\" for jobs (expected mutex, rwlock, condvar, \
         channel (unbounded) or channel N (bounded, 0 for a rendezvous))",
    );
    assert_error(
        &pipe("\"channel 2\"", "\"channel 1000001\""),
        "t.toml:2:8: unknown lock kind \"channel 1000001\" for jobs (expected a channel capacity \
         from 0 to 1000000)",
    );
    assert_error(
        &pipe("\"send jobs\"", "\"send L\""),
        "t.toml:8:19: \"send\" needs a channel but L is a mutex",
    );
    assert_error(
        &pipe("\"send jobs\"", "\"lock jobs\""),
        "t.toml:8:19: \"lock\" needs a mutex or rwlock but jobs is a channel",
    );
    assert_error(
        &pipe("\"recv jobs\"", "\"recv\""),
        "t.toml:12:10: \"recv\" needs a lock name",
    );
    assert_error(
        &pipe("\"join consumer 1\"", "\"join consumer\""),
        "t.toml:15:10: unknown thread \"consumer\" in step \"join consumer\" (threads: producer, \
         consumer 0, consumer 1, main)",
    );
    assert_error(
        &pipe("\"join consumer 1\"", "\"join main\""),
        "t.toml:15:10: step \"join main\": thread \"main\" cannot join itself",
    );
    assert_error(
        &pipe("\"join  producer\"", "\"join consumer 1\""),
        "t.toml:15:42: step \"join consumer 1\": thread \"consumer 1\" is already joined by \
         thread \"main\" at line 15 (a thread can be joined once)",
    );
    assert_error(
        &pipe(
            "\"join consumer 1\", ",
            "\"repeat 2\", \"join consumer 1\", \"end\", ",
        ),
        "t.toml:15:22: step \"join consumer 1\": a join inside a repeat block would join thread \
         \"consumer 1\" more than once",
    );
    // Copies of a template that joins one thread would join it twice.
    assert_error(
        &pipe("\"send done\"]", "\"send done\", \"join producer\"]"),
        "t.toml:12:49: step \"join producer\": thread \"producer\" is already joined by thread \
         \"consumer 0\" at line 12",
    );
    // A repeat of one pass runs its join once.
    parse(&pipe(
        "\"join consumer 1\", ",
        "\"repeat 1\", \"join consumer 1\", \"end\", ",
    ));
}
