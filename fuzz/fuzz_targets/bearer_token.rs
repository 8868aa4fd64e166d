//! libFuzzer entry for `minzheng_fuzz::bearer_token`; the target itself lives in `crates/fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minzheng_fuzz::bearer_token::run(data));
