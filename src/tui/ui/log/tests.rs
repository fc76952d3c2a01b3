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
    let said: Vec<String> = abba()
        .iter()
        .map(|e| describe(&e.kind, &model).to_string())
        .collect();
    // The text export's words.
    assert_eq!(said[0], "created mutex \"A\" (scenario.toml:2)");
    assert_eq!(said[4], "acquired mutex \"A\" (scenario.toml:20)");
    assert_eq!(said[6], "waits for mutex \"B\" (scenario.toml:22)");
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
    let said = |what: &str, site: Option<&str>| Description {
        what: what.into(),
        site: site.map(Into::into),
    };
    let waits = said("waits for fork 1", Some("philosophers.toml:77"));
    assert_eq!(fit_sentence(&waits, 30), "waits for fork 1 (phi…toml:77)");
    assert_eq!(
        fit_sentence(&said("waits for B", Some("abba.toml:15")), 40),
        "waits for B (abba.toml:15)"
    );
    assert_eq!(
        fit_sentence(&said("a long sentence without a site", None), 10),
        "a lo… site"
    );
    // No room for the site's file: its line number alone, then no site; the
    // lock the sentence names stays (it was cut out of the middle before).
    assert_eq!(fit_sentence(&waits, 22), "waits for fork 1 (:77)");
    assert_eq!(fit_sentence(&waits, 20), "waits for fork 1");
    // Too narrow for the sentence itself: cut in the middle, both ends kept.
    assert_eq!(fit_sentence(&waits, 12), "waits…fork 1");
    // The lock's kind word goes before any of the site does.
    let kind = said("waits for mutex \"A\"", Some("abba.toml:25"));
    assert_eq!(
        fit_sentence(&kind, 34),
        "waits for mutex \"A\" (abba.toml:25)"
    );
    assert_eq!(fit_sentence(&kind, 30), "waits for \"A\" (abba.toml:25)");
    assert_eq!(fit_sentence(&kind, 25), "waits for \"A\" (ab…oml:25)");
    assert_eq!(fit_sentence(&kind, 19), "waits for \"A\" (:25)");
    assert_eq!(fit_sentence(&kind, 18), "waits for \"A\"");
    assert_eq!(fit_sentence(&kind, 11), "waits…r \"A\"");
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
        describe(&events[0].kind, &model).to_string(),
        "created mutex \"Mutex<Account> scenario.toml:2:5\""
    );
}

#[test]
fn the_log_says_what_the_text_export_says() {
    use crate::trace::{Header, Trace, export};
    let events = abba();
    let mut model = Model::new();
    for ev in &events {
        model.apply(ev);
    }
    let trace = Trace {
        header: Header::new("abba"),
        events: events.clone(),
        damage: None,
        complete: true,
    };
    let mut out = Vec::new();
    export::text(&trace, &mut out).expect("written to memory");
    let exported = String::from_utf8(out).expect("UTF-8");
    let lines: Vec<&str> = exported.lines().filter(|l| !l.starts_with('#')).collect();
    for (ev, line) in events.iter().zip(&lines) {
        let said = describe(&ev.kind, &model).to_string();
        assert!(line.ends_with(&format!("  {said}")), "{line:?} vs {said:?}");
    }
    assert!(lines[events.len()].contains("DEADLOCK"), "{exported}");
}
