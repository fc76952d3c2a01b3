//! Fuzzes the trace reader, `lockscope::trace::read_from`: raw bytes, and the
//! same bytes with every framed chunk's checksum recomputed so mutations reach
//! the record decoder. What reads back must write and read again unchanged.
//! The body is `lockscope::fuzzing::trace_reader`, which `tests/fuzz.rs` also
//! runs on stable. Run with `fuzz/run.sh trace_reader SECONDS`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockscope::fuzzing::trace_reader(data));
