//! libFuzzer entry point of the `markers` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("markers"), |data: &[u8]| trax_fuzz::markers::files(data));
