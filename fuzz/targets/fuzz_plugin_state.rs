//! libFuzzer entry point of the `plugin_state` target (see `trax_fuzz::TARGETS`).
#![no_main]

libfuzzer_sys::fuzz_target!(init: trax_fuzz::init("plugin_state"), |data: &[u8]| trax_fuzz::state::plugin_state(data));
