//! Any bytes as a model file: parsing and validation return a model or an
//! error, never panic; a parsed model writes back to TOML that parses to
//! the same model.
#![no_main]
use fordeling::model::Model;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::parse(data, Path::new("fuzz.toml")) {
        let text = model.to_toml().expect("a valid model serialises");
        let again = Model::parse(text.as_bytes(), Path::new("again.toml")).expect("written model parses");
        assert_eq!(model, again);
    }
});
