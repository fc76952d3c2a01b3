//! Fuzzes the schedule parser, `lockscope::scenario::Schedule::parse`: errors
//! must name a line of the text; a schedule that parses must write out and
//! read back unchanged, and validate against a scenario without panicking.
//! The body is `lockscope::fuzzing::schedule_parser`, which `tests/fuzz.rs`
//! also runs on stable. Run with `fuzz/run.sh schedule_parser SECONDS`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockscope::fuzzing::schedule_parser(data));
