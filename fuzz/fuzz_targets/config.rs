#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| doorward::fuzzing::config(data));
