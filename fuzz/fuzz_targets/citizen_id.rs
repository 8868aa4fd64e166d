//! libFuzzer entry for `minzheng_fuzz::citizen_id`; the target itself lives in `crates/fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minzheng_fuzz::citizen_id::run(data));
