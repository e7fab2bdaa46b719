//! Any bytes as a scenario file: parsing returns variants or an error,
//! never panics, and never more than the stated bound of scenarios.
#![no_main]
use fordeling::commands::scenarios::{parse, MAX_SCENARIOS};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(variants) = parse(data, Path::new("fuzz.toml")) {
        assert!(variants.len() as u64 <= MAX_SCENARIOS);
    }
});
