//! Reports and the summary, on real model state.

use super::*;
use crate::model::{format_deadlock, format_potential, format_summary};

fn abba() -> Script {
    let mut s = Script::new();
    s.at(0).thread(0, "left");
    s.thread(1, "right");
    s.mutex(0, "A");
    s.mutex(1, "B");
    s.at(1_000_000).acq(0, 0);
    s.at(2_000_000).acq(1, 1);
    s.at(10_200_000).req(0, 1);
    s.at(12_301_000).req(1, 0);
    s
}

#[test]
fn deadlock_report_names_threads_locks_and_sites() {
    let s = abba();
    let text = format_deadlock(&s.m, &s.m.deadlocks()[0]);
    assert_eq!(
        text,
        "DEADLOCK: 2 threads wait for each other in a cycle (detected at 12.301ms)\n\
         \x20 thread \"left\" waits for mutex \"B\" (requested at test.rs:201, waiting since 10.2ms)\n\
         \x20     held by thread \"right\" (acquired at test.rs:111)\n\
         \x20 thread \"right\" waits for mutex \"A\" (requested at test.rs:210, waiting since 12.301ms)\n\
         \x20     held by thread \"left\" (acquired at test.rs:100)\n"
    );
}

#[test]
fn rwlock_reports_say_read_and_write() {
    let mut s = Script::new();
    s.rwlock(0, "rw");
    s.at(0).read(0, 0);
    s.at(5).req(1, 0);
    s.at(7).req_read(0, 0);
    let text = format_deadlock(&s.m, &s.m.deadlocks()[0]);
    assert_eq!(
        text,
        "DEADLOCK: 2 threads wait for each other in a cycle (detected at 7ns)\n\
         \x20 thread \"thread#0\" waits to read rwlock \"rw\" (requested at test.rs:200, waiting since 7ns)\n\
         \x20     queued behind writer thread \"thread#1\" (requested at test.rs:210)\n\
         \x20 thread \"thread#1\" waits to write rwlock \"rw\" (requested at test.rs:210, waiting since 5ns)\n\
         \x20     held for reading by thread \"thread#0\" (acquired at test.rs:100)\n"
    );
}

#[test]
fn self_loop_report() {
    let mut s = Script::new();
    s.at(0).acq(0, 0);
    s.at(3_000).req(0, 0);
    let text = format_deadlock(&s.m, &s.m.deadlocks()[0]);
    assert!(
        text.starts_with("DEADLOCK: a thread waits for itself (detected at 3µs)\n"),
        "{text}"
    );
}

#[test]
fn potential_report_shows_both_orders() {
    let mut s = abba();
    s.rel(1, 1);
    s.rel(0, 0);
    let mut s2 = Script::new();
    s2.thread(0, "left");
    s2.thread(1, "right");
    s2.mutex(0, "A");
    s2.mutex(1, "B");
    s2.acq(0, 0);
    s2.acq(0, 1);
    s2.rel(0, 1);
    s2.rel(0, 0);
    s2.acq(1, 1);
    s2.at(5_000_000).acq(1, 0);
    let text = format_potential(&s2.m, &s2.m.potential_deadlocks()[0]);
    assert_eq!(
        text,
        "POTENTIAL DEADLOCK: locks acquired in inconsistent order: \"A\" -> \"B\" -> \"A\" (detected at 5ms)\n\
         \x20 \"A\" -> \"B\": thread \"left\" took \"A\" at test.rs:100, then \"B\" at test.rs:101\n\
         \x20 \"B\" -> \"A\": thread \"right\" took \"B\" at test.rs:111, then \"A\" at test.rs:110\n"
    );
    // The deadlocked run has the same order cycle, from its requests: neither
    // thread got its second lock, but each asked for it while holding the first.
    assert_eq!(s.m.potential_deadlocks().len(), 1);
}

#[test]
fn hostile_names_are_neutralised_everywhere() {
    let mut s = Script::new();
    s.thread(0, "\u{1b}]0;pwned\u{7}");
    s.mutex(0, "\u{202e}kcol");
    s.acq(0, 0);
    s.req(0, 0);
    let text = format_deadlock(&s.m, &s.m.deadlocks()[0]);
    assert!(text.contains("thread \"\\u{1b}]0;pwned\\u{7}\""), "{text}");
    assert!(text.contains("mutex \"\\u{202e}kcol\""), "{text}");
    // The summary keeps names as given (the terminal-safe JSON escapes
    // them, and they round-trip); its text form is neutralised.
    let summary = s.m.summary();
    assert_eq!(summary.threads[0].name, "\u{1b}]0;pwned\u{7}");
    assert_eq!(summary.deadlocks[0].locks, ["\u{202e}kcol"]);
    let mut json = Vec::new();
    crate::model::to_json_writer(&mut json, &summary).unwrap();
    let json = String::from_utf8(json).unwrap();
    assert!(
        !json.contains('\u{1b}') && !json.contains('\u{202e}'),
        "{json}"
    );
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(back["threads"][0]["name"], "\u{1b}]0;pwned\u{7}");
    let all = format_summary(&summary);
    assert!(!all.contains('\u{1b}') && !all.contains('\u{202e}'));
    assert!(all.contains("\\u{1b}]0;pwned\\u{7}"), "{all}");
}

#[test]
fn summary_serializes_names_sites_and_stats() {
    let s = abba();
    let json = serde_json::to_value(s.m.summary()).unwrap();
    assert_eq!(json["events"], 8);
    assert_eq!(json["anomalies"], 0);
    let d = &json["deadlocks"][0];
    assert_eq!(d["threads"], serde_json::json!(["left", "right"]));
    assert_eq!(d["locks"], serde_json::json!(["B", "A"]));
    assert_eq!(d["edges"][0]["requested_at"], "test.rs:201");
    assert_eq!(d["edges"][0]["held_at"], "test.rs:111");
    assert_eq!(d["edges"][0]["holder"], "right");
    assert_eq!(d["edges"][0]["reason"], "holds");
    assert_eq!(d["edges"][0]["mode"], "exclusive");
    let p = &json["potential_deadlocks"][0];
    assert_eq!(p["locks"], serde_json::json!(["A", "B"]));
    assert_eq!(p["edges"][0]["to_site"], "test.rs:201");
    let a = &json["locks"][0];
    assert_eq!(
        (a["name"].as_str(), a["kind"].as_str()),
        (Some("A"), Some("mutex"))
    );
    assert_eq!(a["acquisitions"], 1);
    assert_eq!(a["contention_pct"], 0.0);
    let left = &json["threads"][0];
    assert_eq!(left["status"], "waiting");
    assert_eq!(left["waiting_ns"], 12_301_000 - 10_200_000);
    assert_eq!(left["holding_ns"], 12_301_000 - 1_000_000);
}

#[test]
fn summary_text_has_tables_and_findings() {
    let s = abba();
    let text = format_summary(&s.m.summary());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "8 events over 12.301ms, 0 anomalies");
    // Findings come first, right after the headline.
    assert!(lines[2].starts_with("DEADLOCK: 2 threads"), "{text}");
    let potential = lines
        .iter()
        .position(|l| l.starts_with("POTENTIAL DEADLOCK: locks acquired in inconsistent order"))
        .unwrap();
    let table = lines.iter().position(|l| l.starts_with("lock ")).unwrap();
    assert!(potential < table, "{text}");
    assert_eq!(
        lines[table],
        "lock   kind  acq  contended  wait  max wait  hold  max hold  try-fail  timeouts"
    );
    assert_eq!(
        lines[table + 1],
        "\"A\"   mutex    1   0 (0.0%)   0ns       0ns   0ns       0ns         0         0"
    );
    assert_eq!(
        lines[table + 5],
        "\"left\"   waiting    1          0  2.101ms        0ns  11.301ms   10.2ms"
    );
}
