//! libFuzzer entry point of the `osc` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("osc"), |data: &[u8]| trax_fuzz::osc::datagram(data));
