//! `lockscope::init()` as a user's program sees it: configured by the
//! environment, exiting with status 3 on a deadlock. Each case re-runs this
//! test binary as a child process with the case named in `LOCKSCOPE_TEST_CHILD`.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CHILD: &str = "LOCKSCOPE_TEST_CHILD";

/// Runs test `name` of this binary in a child with `env`, killing it if it
/// outlives the timeout.
fn child(name: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env_remove("LOCKSCOPE")
        .env_remove("LOCKSCOPE_REPORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut proc = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while proc.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            proc.kill().unwrap();
            panic!("child {name} hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    proc.wait_with_output().unwrap()
}

fn in_child(name: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(name)
}

fn abba() {
    let a = Arc::new(lockscope::Mutex::named("A", ()));
    let b = Arc::new(lockscope::Mutex::named("B", ()));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [("left", &a, &b), ("right", &b, &a)]
        .into_iter()
        .map(|(name, first, second)| {
            let (first, second, barrier) =
                (Arc::clone(first), Arc::clone(second), Arc::clone(&barrier));
            lockscope::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let _f = first.lock();
                    barrier.wait();
                    let _s = second.lock();
                })
                .unwrap()
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}

#[test]
fn a_headless_session_reports_a_deadlock_and_exits_3() {
    const NAME: &str = "a_headless_session_reports_a_deadlock_and_exits_3";
    if in_child(NAME) {
        let _session = lockscope::init().unwrap();
        abba();
        unreachable!("the deadlock should have ended the process");
    }
    let out = child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("DEADLOCK"), "{stderr}");
    for name in ["left", "right", "\"A\"", "\"B\"", "tests/session_env.rs:"] {
        assert!(stderr.contains(name), "report lacks {name}: {stderr}");
    }
}

#[test]
fn a_headless_session_reports_a_join_deadlock_and_exits_3() {
    const NAME: &str = "a_headless_session_reports_a_join_deadlock_and_exits_3";
    if in_child(NAME) {
        let _session = lockscope::init().unwrap();
        let l = Arc::new(lockscope::Mutex::named("L", ()));
        let _held = l.lock();
        let theirs = Arc::clone(&l);
        let worker = lockscope::thread::Builder::new()
            .name("worker".into())
            .spawn(move || drop(theirs.lock()))
            .unwrap();
        let _ = worker.join();
        unreachable!("the deadlock should have ended the process");
    }
    let out = child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    for part in [
        "joins thread \"worker\" (joined at tests/session_env.rs:",
        "thread \"worker\" waits for mutex \"L\"",
    ] {
        assert!(stderr.contains(part), "report lacks {part}: {stderr}");
    }
}

#[test]
fn a_headless_session_reports_a_channel_deadlock_and_exits_3() {
    const NAME: &str = "a_headless_session_reports_a_channel_deadlock_and_exits_3";
    if in_child(NAME) {
        let _session = lockscope::init().unwrap();
        let (tx, rx) = lockscope::channel::named_bounded::<u32>("jobs", 1);
        let l = Arc::new(lockscope::Mutex::named("L", ()));
        let _held = l.lock();
        let claimed = Arc::new(Barrier::new(2));
        let (theirs, their_barrier) = (Arc::clone(&l), Arc::clone(&claimed));
        let _consumer = lockscope::thread::Builder::new()
            .name("consumer".into())
            .spawn(move || {
                // Before the barrier, so before anything is sent: empty.
                let _ = rx.try_recv();
                their_barrier.wait();
                let _l = theirs.lock();
                let _ = rx.recv();
            })
            .unwrap();
        claimed.wait();
        tx.try_send(1).unwrap();
        let _ = tx.send(2);
        unreachable!("the deadlock should have ended the process");
    }
    let out = child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    for part in [
        "waits for room on channel \"jobs\" (send at tests/session_env.rs:",
        "only thread \"consumer\" can receive from it",
        "thread \"consumer\" waits for mutex \"L\"",
    ] {
        assert!(stderr.contains(part), "report lacks {part}: {stderr}");
    }
}

#[test]
fn a_headless_session_reports_a_barrier_deadlock_and_exits_3() {
    const NAME: &str = "a_headless_session_reports_a_barrier_deadlock_and_exits_3";
    if in_child(NAME) {
        let _session = lockscope::init().unwrap();
        let b = Arc::new(lockscope::Barrier::named("B", 2));
        let l = Arc::new(lockscope::Mutex::named("L", ()));
        let held = Arc::new(Barrier::new(2));
        let (their_b, their_l, their_held) = (Arc::clone(&b), Arc::clone(&l), Arc::clone(&held));
        let _worker = lockscope::thread::Builder::new()
            .name("worker".into())
            .spawn(move || {
                their_b.wait();
                their_held.wait();
                let _l = their_l.lock();
                their_b.wait();
            })
            .unwrap();
        b.wait();
        let _l = l.lock();
        held.wait();
        b.wait();
        unreachable!("the deadlock should have ended the process");
    }
    let out = child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    for part in [
        "waits at barrier \"B\" (wait at tests/session_env.rs:",
        "for thread \"worker\", which has not arrived",
        "thread \"worker\" waits for mutex \"L\"",
    ] {
        assert!(stderr.contains(part), "report lacks {part}: {stderr}");
    }
}

#[test]
fn a_headless_session_reports_a_stall_and_exits_6() {
    const NAME: &str = "a_headless_session_reports_a_stall_and_exits_6";
    if in_child(NAME) {
        // Made before the session: they register on the consumer's first use.
        // This thread, joining the consumer, waits for it: both are blocked.
        let pair = Arc::new((
            lockscope::Mutex::named("M", false),
            lockscope::Condvar::named("ready"),
        ));
        let _session = lockscope::init().unwrap();
        let consumer = lockscope::thread::Builder::new()
            .name("consumer".into())
            .spawn(move || {
                let (ready, cv) = &*pair;
                let mut ready = ready.lock();
                while !*ready {
                    cv.wait(&mut ready);
                }
            })
            .unwrap();
        let _ = consumer.join();
        unreachable!("the stall should have ended the process");
    }
    let out = child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("STALL: all 2 threads blocked; \"consumer\" waits on condvar \"ready\" (at tests/session_env.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains("joins thread \"consumer\""), "{stderr}");
}

#[test]
fn lockscope_off_records_nothing() {
    const NAME: &str = "lockscope_off_records_nothing";
    if in_child(NAME) {
        let session = lockscope::init().unwrap();
        assert!(!session.is_recording());
        let m = lockscope::Mutex::new(0);
        *m.lock() += 1;
        assert_eq!(session.summary().events, 0);
        return;
    }
    let out = child(NAME, &[("LOCKSCOPE", "off")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn lockscope_report_prints_the_summary_at_the_end() {
    const NAME: &str = "lockscope_report_prints_the_summary_at_the_end";
    if in_child(NAME) {
        let session = lockscope::init().unwrap();
        let m = lockscope::Mutex::named("reported lock", 0);
        *m.lock() += 1;
        drop(session);
        return;
    }
    let quiet = child(NAME, &[]);
    assert!(quiet.status.success());
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("reported lock"));
    let out = child(NAME, &[("LOCKSCOPE_REPORT", "1")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("reported lock"), "{stderr}");
}

#[test]
fn a_stall_grace_from_the_environment_is_used_or_a_clear_error() {
    const NAME: &str = "a_stall_grace_from_the_environment_is_used_or_a_clear_error";
    if in_child(NAME) {
        // Made before the session, so this thread is not one of its threads.
        let m = lockscope::Mutex::named("m", ());
        let cv = lockscope::Condvar::named("never");
        match lockscope::init() {
            Err(err) => {
                let bad = lockscope::SessionErrorKind::BadEnv {
                    var: "LOCKSCOPE_STALL_GRACE",
                    value: "soon".into(),
                };
                assert_eq!(err.kind(), &bad);
                let err = err.to_string();
                assert!(err.contains("LOCKSCOPE_STALL_GRACE=\"soon\""), "{err}");
                std::process::exit(2);
            }
            Ok(_session) => {
                // Blocked for good: reported after the 50 ms grace.
                lockscope::thread::spawn(move || cv.wait(&mut m.lock()))
                    .join()
                    .unwrap();
                unreachable!("the stall should have ended the process");
            }
        }
    }
    let out = child(NAME, &[("LOCKSCOPE_STALL_GRACE", "soon")]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = child(NAME, &[("LOCKSCOPE_STALL_GRACE", "50ms")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("STALL: "), "{stderr}");
}

#[test]
fn an_unknown_lockscope_mode_is_a_clear_error() {
    const NAME: &str = "an_unknown_lockscope_mode_is_a_clear_error";
    if in_child(NAME) {
        let err = lockscope::init().unwrap_err();
        let bad = lockscope::SessionErrorKind::BadEnv {
            var: "LOCKSCOPE",
            value: "loud".into(),
        };
        assert_eq!(err.kind(), &bad);
        let err = err.to_string();
        assert_eq!(
            err,
            "LOCKSCOPE=\"loud\" is not a mode lockscope knows (expected \"tui\", \"headless\" or \"off\")"
        );
        assert!(err.contains("expected"), "{err}");
        return;
    }
    let out = child(NAME, &[("LOCKSCOPE", "loud")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
