//! libFuzzer entry point of the `cache_chunk` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("cache_chunk"), |data: &[u8]| trax_fuzz::cache::chunk(data));
