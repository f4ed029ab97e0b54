//! Fuzzes Opus input: see `fuzz/harness/opus_input.rs`.
#![no_main]

#[path = "../harness/opus_input.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
