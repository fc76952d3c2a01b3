//! Cells at different zooms, windows and extremes.

use super::*;

use CellState::*;

/// Thread 0: runs, holds A, waits for B, holds B, holds A, runs, finishes at 60.
fn busy() -> Sim {
    let mut sim = Sim::new();
    sim.start(0, 0)
        .acquire(10, 0, A)
        .request(20, 0, B)
        .acquire(30, 0, B)
        .release(40, 0, B)
        .release(50, 0, A)
        .exit(60, 0);
    sim
}

#[test]
fn one_column_per_span() {
    let cells = busy().cells(0, 0, 10, 100, 8);
    let expected = [
        Running,
        Holding(A),
        Waiting(B),
        Holding(B),
        Holding(A),
        Running,
        Finished,
        Finished,
    ];
    assert_eq!(cells, expected);
}

#[test]
fn wider_columns_show_the_dominant_state() {
    let sim = busy();
    assert_eq!(
        sim.cells(0, 0, 20, 100, 4),
        [Holding(A), Waiting(B), Holding(A), Finished]
    );
    assert_eq!(sim.cells(0, 0, 100, 100, 2), [Waiting(B), Finished]);
    assert_eq!(sim.cells(0, 0, u64::MAX, 100, 2), [Waiting(B), Finished]);
}

#[test]
fn columns_need_not_align_with_spans() {
    let cells = busy().cells(0, 5, 7, 100, 10);
    let expected = [
        Holding(A), // [5, 12)
        Holding(A), // [12, 19)
        Waiting(B), // [19, 26)
        Waiting(B), // [26, 33)
        Holding(B), // [33, 40)
        Holding(A), // [40, 47)
        Holding(A), // [47, 54)
        Running,    // [54, 61): running until the end at 60 beats finished
        Finished,   // [61, 68)
        Finished,   // [68, 75)
    ];
    assert_eq!(cells, expected);
}

#[test]
fn zoomed_in_columns_repeat_the_span() {
    let cells = busy().cells(0, 18, 1, 100, 4);
    assert_eq!(cells, [Holding(A), Holding(A), Waiting(B), Waiting(B)]);
}

#[test]
fn a_short_wait_inside_a_long_hold_shows_when_zoomed_out() {
    let mut sim = Sim::new();
    sim.acquire(0, 0, A)
        .request(500, 0, B)
        .acquire(501, 0, B)
        .release(502, 0, B)
        .release(1000, 0, A)
        .exit(1000, 0);
    let mut expected = [Holding(A); 11];
    expected[5] = Waiting(B);
    // The running instant at 1000 left no span: finished from the end on.
    expected[10] = Finished;
    assert_eq!(sim.cells(0, 0, 100, 2000, 11), expected);
    assert_eq!(sim.cells(0, 0, 2000, 2000, 1), [Waiting(B)]);
}

#[test]
fn ties_go_to_the_earlier_span() {
    let mut sim = Sim::new();
    sim.acquire(0, 0, A)
        .release(10, 0, A)
        .acquire(20, 0, B)
        .release(30, 0, B);
    assert_eq!(sim.cells(0, 0, 100, 40, 1), [Holding(A)]);
    assert_eq!(sim.cells(0, 15, 100, 40, 1), [Holding(B)]);
}

#[test]
fn before_the_start_is_absent_and_the_open_span_reaches_now() {
    let mut sim = Sim::new();
    sim.start(100, 1).acquire(120, 1, A);
    let expected = [
        Absent,     // [80, 90)
        Absent,     // [90, 100)
        Running,    // [100, 110)
        Running,    // [110, 120)
        Holding(A), // [120, 130)
        Holding(A), // [130, 140)
        Holding(A), // [140, 150)
        Absent,     // [150, 160): after now
    ];
    assert_eq!(sim.cells(1, 80, 10, 150, 8), expected);
    // A `now` before the open span's start still shows its first instant.
    let early = [
        Absent,
        Absent,
        Running,
        Running,
        Holding(A),
        Absent,
        Absent,
        Absent,
    ];
    assert_eq!(sim.cells(1, 80, 10, 50, 8), early);
    // Columns far after now.
    assert_eq!(sim.cells(1, 10_000, 10, 150, 3), [Absent; 3]);
    // Thread 0 never existed.
    assert_eq!(sim.cells(0, 80, 10, 150, 3), [Absent; 3]);
}

#[test]
fn a_thread_that_only_ended_is_finished_from_its_end() {
    let mut sim = Sim::new();
    sim.exit(25, 0);
    assert!(sim.spans(0).is_empty());
    assert_eq!(
        sim.cells(0, 0, 10, 100, 4),
        [Absent, Absent, Absent, Finished]
    );
}

#[test]
fn extreme_windows_never_panic() {
    let sim = busy();
    let max = u64::MAX;
    for (from, w) in [
        (0, 0),
        (0, 1),
        (0, max),
        (max, 0),
        (max, max),
        (max - 3, 1),
        (max / 2, max / 2),
        (59, max),
        (61, 0),
    ] {
        for n in [0, 1, 3, 200] {
            sim.cells(0, from, w, max, n);
            sim.cells(0, from, w, 0, n);
        }
    }
    assert_eq!(sim.cells(0, 0, 0, 100, 3), [Running; 3]);
    assert_eq!(sim.cells(0, max, max, 100, 2), [Finished; 2]);
    // Column 1 starts at u64::MAX: saturated, but after the end.
    assert_eq!(
        sim.cells(0, 0, max, 100, 3),
        [Waiting(B), Finished, Finished]
    );
}

#[test]
fn times_near_the_end_of_the_clock_never_panic() {
    let max = u64::MAX;
    let mut sim = Sim::new();
    sim.start(max - 2, 0)
        .acquire(max - 1, 0, A)
        .request(max, 0, B)
        .acquire(max, 0, B)
        .start(max, 1)
        .panic(max, 1);
    for (from, w) in [(0, 1), (max - 4, 1), (max - 4, 2), (0, max), (max, 1)] {
        for now in [0, max] {
            sim.cells(0, from, w, now, 8);
            sim.cells(1, from, w, now, 8);
        }
    }
    let cells = sim.cells(0, max - 3, 1, max, 4);
    assert_eq!(cells, [Absent, Running, Holding(A), Absent]);
}
