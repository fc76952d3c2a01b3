//! Schedule files: writing, reading back, every error, and hostile input.

#![allow(clippy::unwrap_used)]

use super::*;

fn parse_err(text: &str) -> String {
    match Schedule::parse("s.txt", text) {
        Ok(s) => panic!("parsed, but should not have: {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn abba() -> Scenario {
    Scenario::load("abba").unwrap()
}

fn schedule(scenario: &str, steps: &[(&str, &str)]) -> Schedule {
    Schedule {
        scenario: scenario.into(),
        steps: steps
            .iter()
            .map(|&(thread, op)| ScheduledStep {
                thread: thread.into(),
                op: op.into(),
            })
            .collect(),
    }
}

fn validate_err(s: &Schedule, scenario: &Scenario) -> String {
    match validate(s, scenario) {
        Ok(threads) => panic!("valid, but should not be: {threads:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn written_schedules_read_back_the_same() {
    let scenario = Scenario::load("philosophers").unwrap();
    let s = Schedule::from_threads(&scenario, &[0, 1, 2, 3, 4, 0]).unwrap();
    let text = s.to_text(&scenario);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# lockscope schedule 1");
    assert_eq!(lines[1], "scenario philosophers");
    assert!(lines[2].starts_with("1 \"philosopher 0\" lock fork 0  # philosophers.toml:"));
    assert!(lines[7].contains(", blocks: waits for fork 1, held by philosopher 1"));
    assert_eq!(Schedule::parse("s.txt", &text).unwrap(), s);
    assert_eq!(validate(&s, &scenario).unwrap(), vec![0, 1, 2, 3, 4, 0]);
}

#[test]
fn awkward_names_are_quoted_and_survive() {
    let text = "name = \"odd #1\"\n[locks]\n\"a # b\" = \"mutex\"\n\"q\\\"\" = \"mutex\"\n\
                [[thread]]\nname = \"t \\\"x\\\"\\u001b[2J\\n\"\n\
                steps = [\"lock a # b\", \"lock q\\\"\"]\n\
                [[thread]]\nname = \"plain\"\nsteps = [\"lock q\\\"\"]\n";
    let scenario = Scenario::parse("odd.toml", text).unwrap();
    let s = Schedule::from_threads(&scenario, &[0, 0, 1]).unwrap();
    let written = s.to_text(&scenario);
    assert!(!written.contains('\u{1b}'), "{written}");
    assert!(written.contains("scenario \"odd #1\"\n"), "{written}");
    assert!(
        written.contains("1 \"t \\\"x\\\"\\u{1b}[2J\\n\" \"lock a # b\""),
        "{written}"
    );
    assert!(written.contains("3 plain"), "{written}");
    assert_eq!(written.lines().count(), 5, "{written}");
    let back = Schedule::parse("s.txt", &written).unwrap();
    assert_eq!(back, s);
    assert_eq!(validate(&back, &scenario).unwrap(), vec![0, 0, 1]);
}

#[test]
fn operations_compare_loosely_and_comments_are_ignored() {
    let text = "\n# lockscope   schedule 1\n# a comment\nscenario abba   # the classic\n\n\
                1 left LOCK   A\n002 right lock B#no space needed\n";
    let s = Schedule::parse("s.txt", text).unwrap();
    assert_eq!(
        s,
        schedule("abba", &[("left", "LOCK A"), ("right", "lock B")])
    );
    assert_eq!(validate(&s, &abba()).unwrap(), vec![0, 1]);
    // `lock L` and `write L` name the same operation on an rwlock.
    let rw = Scenario::load("rwlock-upgrade").unwrap();
    let s = schedule(
        "rwlock-upgrade",
        &[("upgrader", "read L"), ("upgrader", "lock L")],
    );
    assert_eq!(validate(&s, &rw).unwrap(), vec![0, 0]);
}

#[test]
fn every_parse_error_names_its_line() {
    let head = "# lockscope schedule 1\nscenario abba\n";
    let cases: &[(&str, &str)] = &[
        ("", "s.txt:1: empty file: not a lockscope schedule"),
        (
            "scenario abba\n",
            "s.txt:1: not a lockscope schedule: the first line must be \"# lockscope schedule 1\"",
        ),
        (
            "# lockscope schedule 2\n",
            "s.txt:1: unsupported schedule version \"2\" (this lockscope reads version 1)",
        ),
        (
            "# lockscope schedule 1\n1 left lock A\n",
            "s.txt:2: expected \"scenario NAME\" before the first step",
        ),
        (
            "# lockscope schedule 1\n",
            "s.txt:1: missing \"scenario NAME\" line",
        ),
        (
            "# lockscope schedule 1\nscenario\n",
            "s.txt:2: \"scenario\" needs the scenario's name",
        ),
        (
            "# lockscope schedule 1\nscenario a\nscenario b\n",
            "s.txt:3: a second \"scenario\" line",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(&parse_err(text), want);
    }
    let steps: &[(&str, &str)] = &[
        (
            "x left lock A",
            "s.txt:3: bad step number \"x\" (a line is: NUMBER THREAD OPERATION # comment)",
        ),
        ("-1 left lock A", "s.txt:3: bad step number \"-1\""),
        ("2 left lock A", "s.txt:3: expected step 1, found step 2"),
        (
            "123456789012345678901234567890 left lock A",
            "s.txt:3: expected step 1, found step 123456789012345678901234567890",
        ),
        ("1", "s.txt:3: step 1: missing thread name"),
        (
            "1   # just a comment",
            "s.txt:3: step 1: missing thread name",
        ),
        ("1 left", "s.txt:3: step 1: missing operation"),
        ("1 left # lock A", "s.txt:3: step 1: missing operation"),
        (
            "1 \"left lock A",
            "s.txt:3: step 1: unterminated quoted name",
        ),
        (
            "1 \"le\\qft\" lock A",
            "s.txt:3: step 1: bad escape \"\\\\q\"",
        ),
        (
            "1 \"x\\u{d800}\" lock A",
            "s.txt:3: step 1: bad escape \\u{d800}: not a character",
        ),
        (
            "1 \"x\\u{12\" lock A",
            "s.txt:3: step 1: bad escape \\u: expected \\u{HEX}",
        ),
        (
            "1 left \"lock A\" B",
            "s.txt:3: step 1: unexpected \"B\" after the quoted name",
        ),
        ("1 left \"\"", "s.txt:3: step 1: missing operation"),
    ];
    for (line, want) in steps {
        let got = parse_err(&format!("{head}{line}\n"));
        assert!(got.starts_with(want), "\n got: {got}\nwant: {want}");
    }
    let big = format!("{head}{}", "#".repeat(text::MAX_TEXT));
    assert_eq!(
        parse_err(&big),
        format!("s.txt:1: file too large (over {} bytes)", text::MAX_TEXT)
    );
}

#[test]
fn validation_names_the_step_that_does_not_fit() {
    let scenario = abba();
    let s = schedule("three-cycle", &[]);
    assert_eq!(
        validate_err(&s, &scenario),
        "schedule is for scenario \"three-cycle\", not \"abba\""
    );
    let s = schedule("abba", &[("left", "lock A"), ("lefty", "lock B")]);
    assert_eq!(
        validate_err(&s, &scenario),
        "step 2: no thread \"lefty\" in abba (threads: left, right)"
    );
    let s = schedule(
        "abba",
        &[("left", "lock A"), ("right", "lock B"), ("left", "lock C")],
    );
    assert_eq!(
        validate_err(&s, &scenario),
        "step 3: thread \"left\" would \"lock B\" (abba.toml:15), not \"lock C\""
    );
    // A thread may block; once blocked it cannot move.
    let s = schedule(
        "abba",
        &[
            ("left", "lock A"),
            ("right", "lock B"),
            ("right", "lock A"),
            ("right", "unlock A"),
        ],
    );
    assert_eq!(
        validate_err(&s, &scenario),
        "step 4: thread \"right\" cannot move: it waits for A, held by \"left\""
    );
    let s = schedule(
        "abba",
        &[
            ("left", "lock A"),
            ("left", "lock B"),
            ("left", "unlock B"),
            ("left", "unlock A"),
            ("left", "lock A"),
        ],
    );
    assert_eq!(
        validate_err(&s, &scenario),
        "step 5: thread \"left\" cannot move: it has finished"
    );
    let handoff = Scenario::load("condvar-handoff").unwrap();
    let s = schedule(
        "condvar-handoff",
        &[
            ("consumer", "lock gate"),
            ("consumer", "lock M"),
            ("consumer", "unlock gate"),
            ("consumer", "wait ready M"),
            ("consumer", "reacquire M"),
        ],
    );
    assert_eq!(
        validate_err(&s, &handoff),
        "step 5: thread \"consumer\" cannot move: it waits on condvar ready until notified"
    );
}

#[test]
fn a_finished_thread_cannot_be_scheduled() {
    let err = Schedule::from_threads(&abba(), &[0, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(err, SimError::Finished(0));
}

/// Mutations of a valid file, and random lines: parsing and validating never
/// panic, whatever the text.
#[test]
fn any_text_is_safe_to_read() {
    let scenario = Scenario::load("philosophers").unwrap();
    let good = Schedule::from_threads(&scenario, &[0, 1, 2, 3, 4, 0, 1])
        .unwrap()
        .to_text(&scenario);
    let alphabet: Vec<char> = "0123456789 \"\\#\nu{}abcdefghijklmnopqrstuvwxyz-é\u{1b}\r\t"
        .chars()
        .collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut parsed = 0;
    for _ in 0..3000 {
        let mut chars: Vec<char> = good.chars().collect();
        for _ in 0..1 + next(4) {
            let at = next(chars.len() + 1);
            match next(3) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 => chars.insert(at, alphabet[next(alphabet.len())]),
                _ => {
                    for _ in 0..next(12) {
                        let c = alphabet[next(alphabet.len())];
                        chars.insert(at.min(chars.len()), c);
                    }
                }
            }
        }
        let text: String = chars.into_iter().collect();
        if let Ok(s) = Schedule::parse("fuzz.txt", &text) {
            parsed += 1;
            let _ = validate(&s, &scenario);
            let _ = s.to_text(&scenario);
        }
    }
    assert!(parsed > 100, "only {parsed} mutated files parsed");
}
