//! The real binary on hostile input that once crashed it or took unbounded
//! memory: each runs under a memory ceiling (`ulimit -v`) and a deadline, so a
//! regression fails here instead of eating the machine.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space allowed (KiB): a lockscope run needs well under 200 MiB;
/// the regressions wanted gigabytes.
const CEILING_KIB: u32 = 1 << 20;

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `sh -c SCRIPT` with `$LOCKSCOPE` set to the binary, under the memory
/// ceiling; kills it after a minute.
fn sh(script: &str) -> Ran {
    let script = format!("ulimit -v {CEILING_KIB} || exit 99\n{script}");
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .env("LOCKSCOPE", env!("CARGO_BIN_EXE_lockscope"))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes while waiting, so a chatty child cannot block.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after a minute: {script}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ran = Ran {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    assert_ne!(ran.code, Some(99), "cannot set a memory ceiling");
    ran
}

fn assert_refused(script: &str, message: &str) {
    let ran = sh(script);
    assert_eq!(ran.code, Some(2), "{script}\n{}", ran.stderr);
    assert!(ran.stderr.contains(message), "{script}\n{}", ran.stderr);
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockscope-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_nul_in_a_thread_name_is_an_error_in_every_mode() {
    let file = temp("nul.toml");
    std::fs::write(
        &file,
        "[locks]\nA = \"mutex\"\n[[thread]]\nname = \"a\\u0000b\"\nsteps = [\"lock A\"]\n",
    )
    .unwrap();
    let f = file.display();
    let want = format!("{f}:4:8: thread name \"a\\0b\" must not contain a NUL character");
    for args in [
        "--headless",
        "--json",
        &format!("--headless --record {}", temp("nul.trace").display()),
        "--headless --schedule /dev/null",
    ] {
        assert_refused(&format!("\"$LOCKSCOPE\" run {f} {args}"), &want);
    }
}

#[test]
fn a_device_or_pipe_that_never_ends_is_refused_at_once() {
    let trace = "not a lockscope trace (starts with \"\\x00\\x00";
    assert_refused("\"$LOCKSCOPE\" replay /dev/zero --headless", trace);
    assert_refused("\"$LOCKSCOPE\" export /dev/zero", trace);
    assert_refused(
        "yes | \"$LOCKSCOPE\" replay /dev/stdin --headless",
        "/dev/stdin: not a lockscope trace (starts with \"y\\ny\\n",
    );
    assert_refused(
        "\"$LOCKSCOPE\" run abba --headless --schedule /dev/zero",
        "/dev/zero:1: file too large (over 16777216 bytes)",
    );
}

/// A scenario of one thread nesting `n` distinct mutexes, then letting them go.
fn nesting(n: usize) -> String {
    let mut text = String::from("[locks]\n");
    for i in 0..n {
        text.push_str(&format!("m{i} = \"mutex\"\n"));
    }
    let takes = (0..n).map(|i| format!("\"lock m{i}\""));
    let lets_go = (0..n).rev().map(|i| format!("\"unlock m{i}\""));
    let steps: Vec<String> = takes.chain(lets_go).collect();
    text.push_str(&format!(
        "[[thread]]\nname = \"nester\"\nsteps = [{}]\n",
        steps.join(",")
    ));
    text
}

#[test]
fn twenty_thousand_nested_locks_run_replay_and_export_in_bounded_memory() {
    // N²/2 lock-order pairs took 3.9 GB at N = 10,000: run, replay and
    // export each read the whole lock order.
    let file = temp("nest.toml");
    std::fs::write(&file, nesting(20_000)).unwrap();
    let trace = temp("nest.trace");
    let ran = sh(&format!(
        "\"$LOCKSCOPE\" run {} --json --record {}",
        file.display(),
        trace.display()
    ));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(report["outcome"], "finished");
    assert_eq!(report["potential_deadlocks"].as_array().unwrap().len(), 0);
    for script in [
        format!("\"$LOCKSCOPE\" replay {} --headless", trace.display()),
        format!(
            "\"$LOCKSCOPE\" export {} --format chrome -o {}",
            trace.display(),
            temp("nest.json").display()
        ),
    ] {
        let ran = sh(&script);
        assert_eq!(ran.code, Some(0), "{script}: {}", ran.stderr);
    }
    assert!(Path::new(&temp("nest.json")).metadata().unwrap().len() > 0);
}

#[test]
fn a_full_disk_names_the_file_once() {
    let trace = temp("full.trace");
    let ran = sh(&format!(
        "\"$LOCKSCOPE\" run abba --headless --record {}",
        trace.display()
    ));
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    let t = trace.display();
    let full = "lockscope: /dev/full: cannot write: No space left on device (os error 28)\n";
    for script in [
        format!("\"$LOCKSCOPE\" export {t} --format text -o /dev/full"),
        format!("\"$LOCKSCOPE\" export {t} --format chrome -o /dev/full"),
        "\"$LOCKSCOPE\" demo --gif /dev/full --seconds 1".into(),
        "\"$LOCKSCOPE\" demo --cast /dev/full --seconds 1".into(),
    ] {
        let ran = sh(&script);
        assert_eq!((ran.code, ran.stderr.as_str()), (Some(2), full), "{script}");
    }
    let ran = sh("\"$LOCKSCOPE\" list > /dev/full");
    let stdout =
        "lockscope: standard output: cannot write: No space left on device (os error 28)\n";
    assert_eq!((ran.code, ran.stderr.as_str()), (Some(2), stdout));
}

#[test]
fn a_typo_in_explore_locks_is_an_error_not_a_clean_result() {
    assert_refused(
        "\"$LOCKSCOPE\" explore abba --locks Z,Q",
        "unknown lock \"Z\" in the locks to target (scenario abba declares: A, B)",
    );
}

#[test]
fn an_add_past_the_64_bit_range_says_overflow_not_race() {
    let file = temp("overflow.toml");
    std::fs::write(
        &file,
        "[vars]\nn = 0\n[[thread]]\nname = \"t\"\n\
         steps = [\"load n\", \"add 9223372036854775807\", \"add 1\", \"store n\"]\n\
         [expect]\nn = 0\n",
    )
    .unwrap();
    let ran = sh(&format!("\"$LOCKSCOPE\" run {} --headless", file.display()));
    assert_eq!(ran.code, Some(5), "{}", ran.stderr);
    assert!(
        ran.stdout.contains(
            "expect n = 0: FAILED, got -9223372036854775808 (an add overflowed the 64-bit range)"
        ),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("lost"), "{}", ran.stdout);
    let ran = sh(&format!("\"$LOCKSCOPE\" run {} --json", file.display()));
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(report["expectations"][0]["overflowed"], true);
}

#[test]
fn names_round_trip_through_json() {
    // JSON escapes control characters itself: a name escaped before that
    // came out with its backslashes doubled.
    let file = temp("esc.toml");
    std::fs::write(
        &file,
        "name = \"s\\u001b[2J\"\n[locks]\n\"L\\u001b[31m\" = \"mutex\"\n\
         [[thread]]\nname = \"t\\u202e\"\nsteps = [\"lock L\\u001b[31m\", \"unlock L\\u001b[31m\"]\n",
    )
    .unwrap();
    let ran = sh(&format!("\"$LOCKSCOPE\" run {} --json", file.display()));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(!ran.stdout.contains('\u{1b}') && !ran.stdout.contains('\u{202e}'));
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(report["scenario"], "s\u{1b}[2J");
    assert_eq!(report["locks"][0]["name"], "L\u{1b}[31m");
    assert_eq!(report["threads"][0]["name"], "t\u{202e}");
}
