#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| doorward::fuzzing::token_batch(data));
