//! libFuzzer entry for `minzheng_fuzz::envelope`; the target itself lives in `crates/fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minzheng_fuzz::envelope::run(data));
