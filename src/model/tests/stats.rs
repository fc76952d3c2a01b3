//! Statistics from literal timestamps.

use super::*;
use crate::model::{LockStats, ThreadStats, ThreadTimes};

#[test]
fn contended_mutex() {
    let mut s = Script::new();
    s.at(0).mutex(0, "m");
    s.at(100).acq(0, 0);
    s.at(150).req(1, 0);
    s.at(400).rel(0, 0);
    s.at(410).acq(1, 0);
    s.at(500).rel(1, 0);
    s.at(520).try_failed(2, 0);
    assert_eq!(
        s.m.locks()[0].stats,
        LockStats {
            acquisitions: 2,
            contended: 1,
            try_failures: 1,
            total_wait: 260,
            max_wait: 260,
            total_hold: 390,
            max_hold: 300,
            ..LockStats::default()
        }
    );
    assert_eq!(
        s.m.threads()[1].stats,
        ThreadStats {
            acquisitions: 1,
            contended: 1,
            waiting: 260,
            cond_waiting: 0,
            holding: 90,
        }
    );
    assert_eq!(s.m.threads()[0].stats.holding, 300);
    assert_eq!((s.m.events(), s.m.last_time()), (7, 520));
    assert_eq!(s.m.locks()[0].stats.contention_pct(), 50.0);
}

#[test]
fn shared_holds_are_timed_per_holder() {
    let mut s = Script::new();
    s.at(0).read(0, 0);
    s.at(10).read(1, 0);
    s.at(50).rel_read(0, 0);
    s.at(100).rel_read(1, 0);
    let st = s.m.locks()[0].stats;
    assert_eq!((st.acquisitions, st.total_hold, st.max_hold), (2, 140, 90));
}

#[test]
fn timeouts_count_as_waiting_but_not_as_lock_waits() {
    let mut s = Script::new();
    s.at(0).acq(0, 0);
    s.at(10).req_timed(1, 0);
    s.at(40).timeout(1, 0);
    assert_eq!(s.m.locks()[0].stats.timeouts, 1);
    assert_eq!(s.m.locks()[0].stats.total_wait, 0);
    assert_eq!(s.m.threads()[1].stats.waiting, 30);
}

#[test]
fn condvar_round_trip() {
    let mut s = Script::new();
    s.at(0).thread(0, "waiter");
    s.at(0).acq(0, 0);
    s.at(10).wait(0, 1, 0);
    s.at(20).acq(1, 0);
    s.at(30).notify(1, 1, 1);
    s.at(50).rel(1, 0);
    s.at(60).wake(0, 1, 0);
    s.at(100).rel(0, 0);
    let cv = s.m.locks()[1].stats;
    assert_eq!((cv.waits, cv.notifies), (1, 1));
    let m = s.m.locks()[0].stats;
    assert_eq!((m.acquisitions, m.contended, m.total_wait), (3, 1, 30));
    assert_eq!((m.total_hold, m.max_hold), (10 + 30 + 40, 40));
    assert_eq!(
        s.m.threads()[0].times(100),
        ThreadTimes {
            alive: 100,
            running: 50,
            waiting: 30,
            cond_waiting: 20,
            holding: 50,
        }
    );
}

#[test]
fn holding_time_is_the_union_of_holds() {
    let mut s = Script::new();
    s.at(0).acq(0, 0);
    s.at(10).acq(0, 1);
    s.at(20).rel(0, 0);
    s.at(30).rel(0, 1);
    s.at(50).acq(0, 2);
    assert_eq!(s.m.threads()[0].stats.holding, 30);
    assert_eq!(s.m.threads()[0].times(80).holding, 60);
    assert_eq!(s.m.threads()[0].stats.acquisitions, 3);
}

#[test]
fn times_of_a_finished_thread_stop_at_its_end() {
    let mut s = Script::new();
    s.at(5).thread(0, "t");
    s.at(10).acq(1, 0);
    s.at(15).req(0, 0);
    s.at(45).rel(1, 0);
    s.at(55).acq(0, 0);
    s.at(65).rel(0, 0);
    s.at(105).exit(0);
    let times = s.m.threads()[0].times(1_000);
    assert_eq!(times.alive, 100);
    assert_eq!(times.waiting, 40);
    assert_eq!(times.running, 60);
    assert_eq!(times.holding, 10);
    assert_eq!(s.m.threads()[0].ended_at, Some(105));
}

#[test]
fn the_same_events_give_the_same_state() {
    let run = || {
        let mut s = Script::new();
        s.mutex(0, "A");
        s.acq(0, 0);
        s.req(1, 0);
        s.rel(0, 0);
        s.acq(1, 0);
        s.acq(1, 1);
        format!("{:?}", s.m)
    };
    assert_eq!(run(), run());
}
