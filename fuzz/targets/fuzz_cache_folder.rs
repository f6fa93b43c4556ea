//! libFuzzer entry point of the `cache_folder` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("cache_folder"), |data: &[u8]| trax_fuzz::cache::folder(data));
