//! The std port is the import line: the same worker pool source compiles
//! against `std::sync` and against `lockscope::sync`, and behaves the same.
//! Plus std's poisoning, try-lock and timed-wait semantics, recorded.
#![allow(clippy::unwrap_used)]

mod common;

mod with_std {
    use std::collections::VecDeque;
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread::{JoinHandle, spawn};
    use std::time::Duration;

    include!("std_port/pool.rs");
}

mod with_lockscope {
    use lockscope::sync::{Arc, Condvar, Mutex};
    use lockscope::thread::{JoinHandle, spawn};
    use std::collections::VecDeque;
    use std::time::Duration;

    include!("std_port/pool.rs");
}

use std::time::Duration;

use common::{serial, session};
use lockscope::sync::{Arc, Condvar, Mutex, RwLock, TryLockError};

// `new` is `const`, as std's: statics need no `LazyLock`.
static HITS: Mutex<u64> = Mutex::new(0);
static CONFIG: RwLock<u32> = RwLock::new(0);
static CHANGED: Condvar = Condvar::new();

#[test]
fn the_same_pool_runs_on_std_and_on_lockscope() {
    assert_eq!(with_std::run(50), 50);
    let _serial = serial();
    let (session, reports) = session();
    assert_eq!(with_lockscope::run(50), 50);
    session.sync();
    assert!(reports.try_recv().is_err());
    let summary = session.finish().unwrap();
    assert!(summary.deadlocks.is_empty());
    assert!(summary.stalls.is_empty());
    assert_eq!(summary.anomalies, 0);
    // The pool's locks were seen: the queue, and the done counter.
    assert!(summary.locks.iter().filter(|l| l.acquisitions > 0).count() >= 2);
}

#[test]
fn a_panic_while_holding_poisons_and_the_data_stays_reachable() {
    // No session may see this test's threads (they panic on purpose).
    let _serial = serial();
    let m = Arc::new(Mutex::new(1));
    let m2 = Arc::clone(&m);
    let r = lockscope::thread::spawn(move || {
        let mut g = m2.lock().unwrap();
        *g = 2;
        panic!("while holding");
    })
    .join();
    assert!(r.is_err());
    assert!(m.is_poisoned());
    let err = m.lock().unwrap_err();
    assert_eq!(**err.get_ref(), 2);
    drop(err);
    assert!(matches!(m.try_lock(), Err(TryLockError::Poisoned(_))));
    m.clear_poison();
    assert_eq!(*m.lock().unwrap(), 2);
    let m = Arc::try_unwrap(m).unwrap();
    assert_eq!(m.into_inner().unwrap(), 2);
}

#[test]
fn a_guard_taken_while_already_panicking_does_not_poison() {
    // No session may see this test's threads (they panic on purpose).
    let _serial = serial();
    struct LockOnDrop(Arc<Mutex<u8>>);
    impl Drop for LockOnDrop {
        fn drop(&mut self) {
            let _g = self.0.lock();
        }
    }
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let _ = lockscope::thread::spawn(move || {
        let _d = LockOnDrop(m2);
        panic!("unwinding");
    })
    .join();
    assert!(!m.is_poisoned());
}

#[test]
fn try_lock_would_block_while_held() {
    // No session may see this test's threads (they panic on purpose).
    let _serial = serial();
    let m = Mutex::new(());
    let g = m.lock().unwrap();
    assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    drop(g);
    assert!(m.try_lock().is_ok());
    let mut m = m;
    assert!(m.get_mut().is_ok());
}

#[test]
fn only_a_writer_poisons_an_rwlock() {
    // No session may see this test's threads (they panic on purpose).
    let _serial = serial();
    let l = Arc::new(RwLock::new(0));
    let l2 = Arc::clone(&l);
    let _ = lockscope::thread::spawn(move || {
        let _r = l2.read().unwrap();
        panic!("reader");
    })
    .join();
    assert!(!l.is_poisoned());
    let l2 = Arc::clone(&l);
    let _ = lockscope::thread::spawn(move || {
        let mut w = l2.write().unwrap();
        *w = 5;
        panic!("writer");
    })
    .join();
    assert!(l.is_poisoned());
    assert_eq!(*l.read().unwrap_err().into_inner(), 5);
    assert!(matches!(l.try_write(), Err(TryLockError::Poisoned(_))));
    l.clear_poison();
    assert!(l.try_read().is_ok());
}

#[test]
fn timed_waits_time_out_with_the_guard_back() {
    // No session may see this test's threads (they panic on purpose).
    let _serial = serial();
    let m = Mutex::new(false);
    let cv = Condvar::new();
    let (g, r) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(1))
        .unwrap();
    assert!(r.timed_out());
    let (g, r) = cv
        .wait_timeout_while(g, Duration::from_millis(1), |ready| !*ready)
        .unwrap();
    assert!(r.timed_out());
    assert!(!*g);
    drop(g);
    let (_g, r) = cv
        .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(1), |_| false)
        .unwrap();
    assert!(!r.timed_out());
}

#[test]
fn a_lock_order_cycle_through_sync_mutexes_is_a_deadlock() {
    let _serial = serial();
    let (session, reports) = session();
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let both = Arc::new(std::sync::Barrier::new(2));
    for (first, second, name) in [(&a, &b, "left"), (&b, &a, "right")] {
        let (first, second, both) = (Arc::clone(first), Arc::clone(second), Arc::clone(&both));
        lockscope::thread::Builder::new()
            .name(name.into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let _f = first.lock().unwrap();
                both.wait();
                let _s = second.lock().unwrap();
            })
            .unwrap();
    }
    let text = common::expect_deadlock(&reports).to_string();
    // Sites name this file: the recorded call is the user's, not sync.rs.
    assert!(text.contains("tests/std_port.rs:"), "{text}");
    assert!(!text.contains("sync.rs"), "{text}");
    session.sync();
}

#[test]
fn static_sync_locks_register_on_first_use_with_their_site() {
    let _serial = serial();
    let (session, reports) = session();
    lockscope::thread::spawn(|| {
        *HITS.lock().unwrap() += 1;
        *CONFIG.write().unwrap() += 1;
        assert_eq!(*CONFIG.read().unwrap(), 1);
        let (g, r) = CHANGED
            .wait_timeout(HITS.lock().unwrap(), Duration::from_millis(1))
            .unwrap();
        assert!(r.timed_out());
        drop(g);
        CHANGED.notify_all();
    })
    .join()
    .unwrap();
    session.sync();
    assert!(reports.try_recv().is_err());
    let summary = session.finish().unwrap();
    assert_eq!(summary.anomalies, 0);
    assert!(summary.deadlocks.is_empty());
    assert!(summary.stalls.is_empty());
    // Named after the protected type and the static's line here, not sync.rs.
    let find = |prefix: &str| {
        let found = summary.locks.iter().find(|l| l.name.starts_with(prefix));
        found.unwrap_or_else(|| panic!("no {prefix}: {:?}", summary.locks))
    };
    let hits = find("Mutex<u64> std_port.rs:");
    assert!(hits.acquisitions >= 2, "{hits:?}");
    let config = find("RwLock<u32> std_port.rs:");
    assert_eq!(config.acquisitions, 2, "{config:?}");
    let changed = find("Condvar std_port.rs:");
    assert_eq!(changed.waits, 1, "{changed:?}");
    assert_eq!(changed.notifies, 1, "{changed:?}");
    assert_eq!(summary.locks.len(), 3, "{:?}", summary.locks);
}
