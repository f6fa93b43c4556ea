//! libFuzzer entry point of the `setlist_folder` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("setlist_folder"), |data: &[u8]| trax_fuzz::setlist::folder(data));
