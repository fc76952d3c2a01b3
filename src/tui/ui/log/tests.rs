//! Tests of the log widget.

use super::*;
use crate::tui::fixtures::abba;

#[test]
fn filters_match_thread_or_lock_names_case_insensitively() {
    let mut model = Model::new();
    let events = abba();
    for ev in &events {
        model.apply(ev);
    }
    let f = Filter::new(&model, "LEFT").expect("a filter");
    let hits: Vec<&str> = events
        .iter()
        .filter(|e| f.matches(e))
        .map(|e| e.kind.name())
        .collect();
    // The script creates both locks on thread 0, "left".
    let expected = [
        "lock_created",
        "lock_created",
        "thread_start",
        "acquired",
        "request",
    ];
    assert_eq!(hits, expected);
    let f = Filter::new(&model, "b").expect("a filter");
    let hits = events.iter().filter(|e| f.matches(e)).count();
    assert_eq!(hits, 3, "B's creation, right taking it, left asking for it");
    assert!(Filter::new(&model, "").is_none());
}

#[test]
fn events_read_as_sentences() {
    let mut model = Model::new();
    for ev in abba() {
        model.apply(&ev);
    }
    let t = Theme::new(false);
    let said: Vec<String> = abba()
        .iter()
        .map(|e| describe(t, &model, &e.kind).0)
        .collect();
    assert_eq!(said[0], "created mutex A at scenario.toml:2");
    assert_eq!(said[4], "acquired A at scenario.toml:20");
    assert_eq!(said[6], "waits for B at scenario.toml:22");
    // Step lines keep what moves, then the site's line number.
    assert_eq!(
        fit_step("1 left → lock B  (philosophers.toml:15)", 30),
        "1 left → lock B  (phi…toml:15)"
    );
    assert_eq!(
        fit_step("step 2/4, next: left → lock B  (n)", 30),
        "step 2/4, next: left → lock B"
    );
    assert_eq!(fit_step("1 left → lock B  (a.toml:15)", 12), "1 left → lo…");
    // Too long: the site is shortened, its line number kept.
    assert_eq!(
        fit_sentence("waits for fork 1 at philosophers.toml:77", 30),
        "waits for fork 1 at phi…oml:77"
    );
    assert_eq!(
        fit_sentence("waits for B at abba.toml:15", 40),
        "waits for B at abba.toml:15"
    );
    assert_eq!(
        fit_sentence("a long sentence without a site", 10),
        "a lo… site"
    );
    // A default name already names the site: not twice.
    let mut s = crate::tui::fixtures::Script::new();
    s.lock(
        0,
        "Mutex<Account> scenario.toml:2:5",
        crate::event::LockKind::Mutex,
    );
    let events = s.build();
    let mut model = Model::new();
    for ev in &events {
        model.apply(ev);
    }
    assert_eq!(
        describe(t, &model, &events[0].kind).0,
        "created mutex Mutex<Account> scenario.toml:2:5"
    );
}
