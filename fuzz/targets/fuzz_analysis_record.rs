//! libFuzzer entry point of the `analysis_record` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("analysis_record"), |data: &[u8]| trax_fuzz::analysis::record(data));
