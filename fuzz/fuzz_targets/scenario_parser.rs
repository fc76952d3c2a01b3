//! Fuzzes the scenario parser, `lockscope::scenario::Scenario::parse`: errors
//! must point inside the text; a scenario that parses must keep its type's
//! promises, and a few simulated steps of it must round-trip as a schedule.
//! The body is `lockscope::fuzzing::scenario_parser`, which `tests/fuzz.rs`
//! also runs on stable. Run with `fuzz/run.sh scenario_parser SECONDS`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockscope::fuzzing::scenario_parser(data));
