//! Any bytes as a model file (format 1 or 2): parsing and validation
//! return a model or an error, never panic; a parsed model writes back to
//! TOML that parses to the same model; a format-1 model converts to a
//! format-2 model that reads back to the same spec.
#![no_main]
use fordeling::model::{format2, Model};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::parse(data, Path::new("fuzz.toml")) else {
        return;
    };
    match &model.format2 {
        Some(spec) => {
            let text = spec.to_toml();
            let again =
                format2::parse(&text, Path::new("again.toml")).expect("written model parses");
            assert_eq!(**spec, again);
        }
        None => {
            let text = model.to_toml().expect("a valid model serialises");
            let again = Model::parse(text.as_bytes(), Path::new("again.toml"))
                .expect("written model parses");
            assert_eq!(model, again);
            if let Ok(spec) = model.spec() {
                let back = format2::parse(&spec.to_toml(), Path::new("converted.toml"))
                    .expect("a converted model parses");
                assert_eq!(spec, back);
            }
        }
    }
});
