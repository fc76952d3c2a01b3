//! Tests of the locks widget.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::tui::fixtures::{MS, Script, abba};

#[test]
fn ongoing_waits_and_holds_count_and_bring_stuck_locks_to_the_top() {
    let mut s = Script::new();
    s.lock(0, "free", LockKind::Mutex)
        .lock(1, "A", LockKind::Mutex)
        .thread(0, "t0")
        .thread(1, "t1");
    // "free": ten quick uncontended holds.
    for i in 0..10 {
        s.at(i * MS).acquire(0, 0).at(i * MS + 1).release(0, 0);
    }
    // "A": held from 10 ms, waited for from 20 ms, forever.
    s.at(10 * MS).acquire(0, 1).at(20 * MS).request(1, 1);
    let mut model = Model::new();
    for ev in s.build() {
        model.apply(&ev);
    }
    let a = &model.locks()[1];
    assert_eq!(a.stats.contended, 0, "the model counts closed waits only");
    let at = |now| live(a, now);
    let now = at(30 * MS);
    assert_eq!((now.stats.acquisitions, now.waiting), (1, 1));
    assert_eq!(now.contention_pct(), 50.0);
    assert_eq!(now.stats.max_wait, 10 * MS);
    assert_eq!(
        at(5_000 * MS).stats.max_wait,
        4_980 * MS,
        "it grows with the clock"
    );
    assert_eq!(
        (now.stats.total_hold, now.stats.max_hold),
        (20 * MS, 20 * MS)
    );
    assert_eq!(live(&model.locks()[0], 30 * MS).contention_pct(), 0.0);
    // Sorted by max wait or contention, the stuck lock comes first.
    for sort in [SortColumn::MaxWait, SortColumn::Contention] {
        assert_eq!(lock_order(&model, sort, 30 * MS), [LockId(1), LockId(0)]);
    }
}

#[test]
fn a_deadlocked_table_shows_contention_and_the_wait_so_far() {
    let mut app = crate::tui::App::new(crate::tui::AppConfig {
        title: "abba".into(),
        color: false,
        history_spans: 1_000,
    });
    app.ingest(&abba());
    app.tick(2_000 * MS, crate::TransportStats::default());
    let mut buf = Buffer::empty(Rect::new(0, 0, 70, 5));
    render(&app, buf.area, &mut buf);
    let row: String = (0..70).map(|x| buf[(x, 2)].symbol()).collect();
    // A: acquired once, waited for once (still waiting, since 11.3 ms).
    assert!(row.contains(" 1   50.0") && row.contains("1.988s"), "{row}");
}

#[test]
fn narrow_cells_keep_the_ends_of_names_and_counts_stay_whole() {
    assert_eq!(
        fit_middle("philosopher 3, philosopher 4", 12, false),
        "philo…pher 4"
    );
    assert_eq!(fit_middle("philosopher 3", 8, false), "phi…er 3");
    assert_eq!(count_short(999_999), "999,999");
    assert_eq!(count_short(2_700_000), "2.70M");
    assert_eq!(count_short(3_100_000_000), "3.10G");
    assert!(count_short(u64::MAX).chars().count() <= 12);
}

#[test]
fn names_sort_naturally() {
    let mut s = Script::new();
    for (i, name) in ["fork 10", "gate", "M", "fork 2"].into_iter().enumerate() {
        s.lock(i as u32, name, LockKind::Mutex);
    }
    let mut model = Model::new();
    for ev in s.build() {
        model.apply(&ev);
    }
    let names: Vec<String> = lock_order(&model, SortColumn::Name, 0)
        .into_iter()
        .map(|id| model.lock_name(id).to_owned())
        .collect();
    assert_eq!(names, ["fork 2", "fork 10", "gate", "M"]);
}

#[test]
fn narrow_tables_drop_the_least_useful_columns() {
    let w = widths(34, 6, Col::Name);
    assert!(w[0] >= 6 && w[2] >= 8 && w[3] >= 8, "{w:?}");
    assert_eq!(w[1], 0, "kind goes first: {w:?}");
    let total: u16 = w.iter().sum::<u16>() + w.iter().filter(|&&x| x > 0).count() as u16 - 1;
    assert_eq!(total, 34);
    let wide = widths(120, 6, Col::Name);
    assert!(wide.iter().all(|&x| x > 0), "{wide:?}");
    assert_eq!(wide.iter().sum::<u16>() + 6, 120);
    assert!(
        wide[2].abs_diff(wide[3]) <= 1,
        "holders and waiters share the room"
    );
    assert_eq!(widths(120, 100, Col::Name)[0], NAME_MAX);
    assert_eq!(widths(3, 6, Col::Name), [0; 7]);
    assert_eq!(
        widths(10, 6, Col::Name)[0],
        10,
        "the name alone takes it all"
    );
}

#[test]
fn the_column_sorted_by_stays_shown() {
    let by_name = widths(46, 6, Col::Name);
    assert_eq!(
        by_name[6], 0,
        "max wait gives way at this width: {by_name:?}"
    );
    let by_wait = widths(46, 6, Col::MaxWait);
    assert!(by_wait[6] >= 9, "{by_wait:?}");
    assert!(by_wait[0] >= 6, "the name stays first: {by_wait:?}");
}

/// The rows of a rendered buffer, as text.
fn grid(buf: &Buffer) -> Vec<String> {
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| buf[(x, y)].symbol())
                .collect()
        })
        .collect()
}

#[test]
fn narrow_name_columns_keep_what_tells_names_apart() {
    let mut s = Script::new();
    s.lock(0, "queue", LockKind::Mutex)
        .lock(1, "ledger", LockKind::Mutex);
    for (i, name) in ["pool-1-thread-1", "pool-2-thread-1", "pool-1-thread-2"]
        .into_iter()
        .enumerate()
    {
        s.thread(i as u32, name);
    }
    s.at(MS).acquire(0, 0).acquire(1, 1);
    s.at(2 * MS).request(1, 0).request(2, 0);
    let mut app = crate::tui::App::new(crate::tui::AppConfig {
        title: "pool".into(),
        color: false,
        history_spans: 1_000,
    });
    app.ingest(&s.build());
    app.tick(10 * MS, crate::TransportStats::default());
    let mut buf = Buffer::empty(Rect::new(0, 0, 44, 5));
    render(&app, buf.area, &mut buf);
    // A middle cut would show both holders as `poo…ad-1`; the waiters'
    // shares (4 columns each) keep what tells them apart.
    assert_eq!(
        grid(&buf),
        [
            "┌ Locks (2) sort: name (o) ────────────────┐",
            "│lock▼  held by   waiters        acq  cont%│",
            "│ledger pool-2…-1                  1    0.0│",
            "│queue  pool-1…-1 p…-1, p…-2       1   66.7│",
            "└──────────────────────────────────────────┘",
        ]
    );
}
