//! libFuzzer entry point of the `setlist_toml` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("setlist_toml"), |data: &[u8]| trax_fuzz::setlist::toml(data));
