//! Each kind of [`ScenarioError`], matched on, with its message and source.

use std::error::Error as _;
use std::path::PathBuf;

use super::*;

/// A scratch file, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, bytes: &[u8]) -> Scratch {
        let path =
            std::env::temp_dir().join(format!("lockscope-kinds-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("a scratch file");
        Scratch(path)
    }

    fn name(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_scenario_problem_is_at_its_file_line_and_column() {
    let text = ABBA.replace("\"lock B\", \"unlock B\"", "\"lock C\", \"unlock B\"");
    let err = Scenario::parse("t.toml", &text).expect_err("an unknown lock");
    let want = ScenarioErrorKind::At {
        file: "t.toml".into(),
        line: 8,
        column: Some(33),
    };
    assert_eq!(err.kind(), &want);
    assert!(err.to_string().starts_with("t.toml:8:33: unknown lock"));
    assert!(err.source().is_none());
}

#[test]
fn loading_names_what_is_wrong_with_the_file() {
    let err = Scenario::load("no-such-scenario-here").expect_err("not found");
    let ScenarioErrorKind::NotFound { name, builtins } = err.kind() else {
        panic!("{err:?}");
    };
    assert_eq!(name, "no-such-scenario-here");
    assert_eq!(builtins.first(), Some(&DEFAULT_SCENARIO));
    assert!(
        err.to_string()
            .ends_with(&format!("(built-in scenarios: {})", builtins.join(", ")))
    );

    let bad = Scratch::new("bad.toml", b"name = \"x\xff\"\n");
    let err = Scenario::load(bad.name()).expect_err("not UTF-8");
    let want = ScenarioErrorKind::NotUtf8 {
        file: bad.name().into(),
        offset: 9,
    };
    assert_eq!(err.kind(), &want);
    assert!(
        err.to_string()
            .ends_with("is not UTF-8 text (bad byte at offset 9)")
    );

    let big = Scratch::new("big.toml", &vec![b'#'; (1 << 20) + 1]);
    let err = Scenario::load(big.name()).expect_err("too large");
    assert!(
        matches!(err.kind(), ScenarioErrorKind::TooLarge { limit, .. } if *limit == 1 << 20),
        "{err:?}"
    );
    let text = "#".repeat((1 << 20) + 1);
    let err = Scenario::parse("big.toml", &text).expect_err("too large");
    assert!(matches!(err.kind(), ScenarioErrorKind::TooLarge { .. }));
    assert!(
        err.to_string()
            .starts_with("big.toml:1:1: scenario file is too large")
    );

    // A directory opens but cannot be read: the cause is the source, and
    // `{:#}` prints it after the message as before.
    let dir = std::env::temp_dir();
    let dir = dir.to_str().expect("a UTF-8 temp dir");
    let err = Scenario::load(dir).expect_err("a directory");
    assert_eq!(err.kind(), &ScenarioErrorKind::Io { file: dir.into() });
    assert_eq!(
        err.to_string(),
        format!("cannot read scenario file {dir:?}")
    );
    let cause = err.source().expect("the I/O error").to_string();
    let chained = format!("{:#}", anyhow::Error::new(err));
    assert!(chained.ends_with(&format!(": {cause}")), "{chained}");
}

#[test]
fn schedules_fail_at_a_line_a_step_or_the_scenario() {
    let err = Schedule::parse(
        "s.txt",
        "# lockscope schedule 1\nscenario abba\n2 left lock A\n",
    )
    .expect_err("out of sequence");
    let want = ScenarioErrorKind::At {
        file: "s.txt".into(),
        line: 3,
        column: None,
    };
    assert_eq!(err.kind(), &want);
    assert_eq!(err.to_string(), "s.txt:3: expected step 1, found step 2");

    let abba = Scenario::load("abba").expect("built in");
    let text = "# lockscope schedule 1\nscenario abba\n1 left lock A\n2 left lock C\n";
    let schedule = Schedule::parse("s.txt", text).expect("parses");
    let err = validate(&schedule, &abba).expect_err("a wrong step");
    assert_eq!(err.kind(), &ScenarioErrorKind::Step { step: 2 });
    assert!(
        err.to_string().starts_with("step 2: thread \"left\""),
        "{err}"
    );

    let other =
        Schedule::parse("s.txt", "# lockscope schedule 1\nscenario convoy\n").expect("parses");
    let err = validate(&other, &abba).expect_err("another scenario");
    let want = ScenarioErrorKind::WrongScenario {
        schedule: "convoy".into(),
        scenario: "abba".into(),
    };
    assert_eq!(err.kind(), &want);
    assert_eq!(
        err.to_string(),
        "schedule is for scenario \"convoy\", not \"abba\""
    );

    let missing = std::path::Path::new("/nonexistent/s.txt");
    let err = Schedule::read(missing).expect_err("missing");
    assert_eq!(
        err.kind(),
        &ScenarioErrorKind::Io {
            file: "/nonexistent/s.txt".into()
        }
    );
    assert_eq!(err.to_string(), "/nonexistent/s.txt: cannot read");
    let cause = err
        .source()
        .and_then(|e| e.downcast_ref::<std::io::Error>());
    assert_eq!(
        cause.map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );

    let bad = Scratch::new("bad.schedule", b"# lockscope schedule 1\n\xfe");
    let err = Schedule::read(&bad.0).expect_err("not UTF-8");
    assert!(
        matches!(err.kind(), ScenarioErrorKind::NotUtf8 { offset: 23, .. }),
        "{err:?}"
    );
}
