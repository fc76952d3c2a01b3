//! Bounded history: compaction keeps the budget and the dominant activity.

use super::*;

/// Holds and releases `lock` `times` times, `period` ns per hold and per gap.
fn churn(
    sim: &mut Sim,
    thread: u32,
    lock: LockId,
    mut time: Nanos,
    period: Nanos,
    times: usize,
) -> Nanos {
    for _ in 0..times {
        sim.acquire(time, thread, lock);
        time += period;
        sim.release(time, thread, lock);
        time += period;
    }
    time
}

fn kept(sim: &Sim) -> usize {
    (0..sim.timeline.lanes() as u32)
        .map(|t| sim.spans(t).len())
        .sum()
}

fn check_lanes(sim: &Sim) {
    for lane in &sim.timeline.lanes {
        check_spans(lane.spans());
        assert!(lane.levels_consistent());
    }
    assert_eq!(kept(sim), sim.timeline.total);
}

#[test]
fn compaction_keeps_the_budget_and_an_old_one_ns_wait() {
    let mut sim = Sim::with_budget(64);
    sim.start(0, 0).acquire(1000, 0, A).request(1000, 0, B);
    sim.acquire(1001, 0, B)
        .release(1002, 0, B)
        .release(1010, 0, A);
    let mut pushed = 5;
    let end = churn(&mut sim, 0, A, 2000, 10, 1000);
    pushed += 2000;
    assert!(sim.spans(0).len() <= 64, "{}", sim.spans(0).len());
    assert!(sim.timeline.compacted() > 0);
    assert_eq!(
        sim.timeline.compacted() as usize + sim.spans(0).len(),
        pushed
    );
    check_lanes(&sim);
    // The wait is 1 ns out of 22,000, long merged, yet still there.
    assert_eq!(sim.cells(0, 0, end, end, 1), [CellState::Waiting(B)]);
    let cells = sim.cells(0, 0, 1000, end, 22);
    assert_eq!(cells[1], CellState::Waiting(B));
    // Recent history keeps its detail.
    let tail = sim
        .spans(0)
        .iter()
        .rev()
        .take(8)
        .copied()
        .collect::<Vec<_>>();
    assert!(tail.iter().all(|s| s.end - s.start == 10), "{tail:?}");
}

#[test]
fn a_long_run_is_not_swallowed_by_a_short_wait_next_to_it() {
    let mut sim = Sim::with_budget(40);
    sim.start(0, 0)
        .request(1_000_000, 0, A)
        .acquire(1_000_001, 0, A);
    churn(&mut sim, 0, B, 1_000_010, 10, 200);
    check_lanes(&sim);
    assert!(sim.timeline.compacted() > 0);
    // Pairwise merging would paint the first millisecond as a wait.
    let first = sim.spans(0)[0];
    assert_eq!(first, running(0, 1_000_000));
    assert_eq!(sim.cells(0, 0, 100_000, 0, 2), [CellState::Running; 2]);
    assert_eq!(
        sim.cells(0, 900_000, 200_000, 0, 1),
        [CellState::Waiting(A)]
    );
}

#[test]
fn the_longest_lanes_are_compacted_first() {
    let mut sim = Sim::with_budget(400);
    sim.start(0, 1);
    churn(&mut sim, 1, B, 1, 3, 10);
    let short = sim.spans(1);
    churn(&mut sim, 0, A, 0, 5, 1000);
    check_lanes(&sim);
    assert!(kept(&sim) <= 400);
    assert_eq!(sim.spans(1), short);
}

#[test]
fn many_short_lanes_stay_within_four_spans_each() {
    for budget in [0, 1, 10, 100] {
        let mut sim = Sim::with_budget(budget);
        for round in 0..40 {
            for thread in 0..50 {
                let t = round * 100 + u64::from(thread);
                sim.acquire(t, thread, A).release(t + 1, thread, A);
                assert!(kept(&sim) <= budget.max(4 * sim.timeline.lanes()));
            }
        }
        check_lanes(&sim);
        assert!(sim.timeline.compacted() > 0);
        for thread in 0..50 {
            let cells = sim.cells(thread, 0, 4000, 4000, 1);
            assert_eq!(cells, [CellState::Holding(A)]);
        }
    }
}

#[test]
fn instants_all_at_one_time_compact() {
    let mut sim = Sim::with_budget(16);
    for _ in 0..100 {
        sim.acquire(7, 0, A).release(7, 0, A);
    }
    check_lanes(&sim);
    assert!(kept(&sim) <= 16);
    assert_eq!(
        sim.cells(0, 0, 5, 7, 3),
        [CellState::Absent, CellState::Holding(A), CellState::Absent]
    );
}

#[test]
fn memory_stays_bounded() {
    let mut sim = Sim::with_budget(1000);
    let mut time = 0;
    for round in 0..20 {
        time = churn(&mut sim, round % 4, A, time, 1, 1000);
    }
    check_lanes(&sim);
    let bytes = sim.timeline.memory_bytes();
    // At most 1000 spans of 32 bytes, but each of the 4 lanes may have
    // grown to a capacity of 1024; plus the summary levels.
    assert!(bytes < 4 * 1024 * 40, "{bytes}");
    assert!(bytes > 1000 * std::mem::size_of::<Span>() / 2, "{bytes}");
}
