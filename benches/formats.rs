//! Format 1 against format 2 on the same persons: a synthetic Denmark at
//! scale 0.168 (about 1 million persons) with the richer columns
//! (`synth --rich`), read and summed for three models:
//!
//! - `format1`: `models/reference-2027.toml` (the fixed format-1 tables);
//! - `format2_reference`: its conversion, `models/reference-2027.format2.toml`
//!   (the same need to the last bit, through the compiled terms);
//! - `format2_rich`: `models/synth-truth-rich.format2.toml` (27 terms, two
//!   interactions, a hierarchy, a numeric population column).
//!
//! For each, `read` is the population read for the model (decoding, checks,
//! coding of levels) and `sums` the pass over persons into the basis.
#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fordeling::aggregate::Basis;
use fordeling::synth::{write, SynthSpec};
use fordeling::{ingest, load_inputs, InputPaths};
use std::hint::black_box;
use std::path::Path;

fn formats(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let scale = 1_000_000.0 / fordeling::synth::summary::DENMARK_2024;
    let mut spec = SynthSpec::national(2027, scale).expect("scale");
    spec.rich = true;
    let summary = write(&spec, &data).expect("synthetic data");
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut group = c.benchmark_group("formats_1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(summary.persons));
    for (name, file) in [
        ("format1", "reference-2027.toml"),
        ("format2_reference", "reference-2027.format2.toml"),
        ("format2_rich", "synth-truth-rich.format2.toml"),
    ] {
        let paths = InputPaths {
            memory: Default::default(),
            population: data.join("population.parquet"),
            clinics: data.join("clinics.parquet"),
            geography: None,
            model: models.join(file),
            nulls_as_unknown: false,
            outcomes: false,
            load_level: None,
        };
        let inputs = load_inputs(&paths).expect("inputs");
        let model = &inputs.model.model;
        let options = ingest::PopulationOptions::default();
        group.bench_function(format!("{name}/read"), |b| {
            b.iter(|| {
                black_box(
                    ingest::population(&paths.population, None, model, options)
                        .expect("population"),
                )
            })
        });
        let tables = inputs.year_tables(model, 2031).expect("tables");
        group.bench_function(format!("{name}/sums"), |b| {
            b.iter(|| {
                black_box(Basis::new(
                    &tables,
                    &inputs.population,
                    inputs.clinics.len(),
                    inputs.geography.kommuner.len(),
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
