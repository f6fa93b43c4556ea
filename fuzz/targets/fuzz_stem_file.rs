//! libFuzzer entry point of the `stem_file` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("stem_file"), |data: &[u8]| trax_fuzz::stem::file(data));
