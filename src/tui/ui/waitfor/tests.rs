//! The wait-for panel's entries, line by line.

use super::*;
use crate::event::ThreadId;
use crate::tui::fixtures::abba;
use crate::tui::rows::{RING_MAX, waitfor_targets};

fn all() -> Sites {
    Sites {
        cycles: true,
        potential: true,
    }
}

#[test]
fn a_deadlock_gives_a_banner_a_ring_its_sites_then_a_potential_cycle() {
    let mut model = Model::new();
    for ev in abba() {
        model.apply(&ev);
    }
    let t = Theme::new(true);
    let text: Vec<String> = entries(&model, &[])
        .iter()
        .flat_map(|e| lines_of(t, &model, e, 70, all()))
        .map(|l| l.to_string())
        .collect();
    assert_eq!(
        text,
        [
            "DEADLOCK at scenario.toml:23 (2 threads)",
            "╭▶left ─waits→ B ─held by↓",
            "╰─right ─waits→ A ─held by↑",
            "  left asked at scenario.toml:22 · held at scenario.toml:21",
            "  right asked at scenario.toml:23 · held at scenario.toml:20",
            "POTENTIAL: A -> B -> A",
            "  left took A at scenario.toml:20, then B at scenario.toml:22",
            "  right took B at scenario.toml:21, then A at scenario.toml:23",
        ]
    );
    let left = Some(ThreadId(0));
    assert_eq!(waitfor_targets(&model), [left, Some(ThreadId(1)), left]);
}

#[test]
fn a_long_cycle_is_listed_and_a_self_loop_waits_for_itself() {
    use crate::event::LockKind;
    use crate::tui::fixtures::Script;
    let n = RING_MAX as u32 + 1;
    let mut s = Script::new();
    for i in 0..n {
        s.lock(i, &format!("L{i}"), LockKind::Mutex)
            .thread(i, &format!("t{i}"));
    }
    for i in 0..n {
        s.acquire(i, i);
    }
    for i in 0..n {
        s.request(i, (i + 1) % n);
    }
    let mut model = Model::new();
    for ev in s.build() {
        model.apply(&ev);
    }
    let t = Theme::new(false);
    let text: Vec<String> = entries(&model, &[])
        .iter()
        .flat_map(|e| lines_of(t, &model, e, 70, all()))
        .map(|l| l.to_string())
        .collect();
    assert!(text[0].starts_with("DEADLOCK at") && text[0].ends_with("(9 threads)"));
    assert_eq!(text[1], "t0 ─waits→ L1 ─held by→ t1");
    assert_eq!(text[9], "t8 ─waits→ L0 ─held by→ t0");

    let mut s = Script::new();
    s.lock(0, "M", LockKind::Mutex).thread(0, "solo");
    s.acquire(0, 0).request(0, 0);
    let mut model = Model::new();
    for ev in s.build() {
        model.apply(&ev);
    }
    let text: Vec<String> = entries(&model, &[])
        .iter()
        .flat_map(|e| lines_of(t, &model, e, 70, all()))
        .map(|l| l.to_string())
        .collect();
    assert_eq!(
        text[0],
        "DEADLOCK at scenario.toml:22 (a thread waits for itself)"
    );
    assert_eq!(text[1], "⟲ solo ─waits→ M ─held by itself");
}
