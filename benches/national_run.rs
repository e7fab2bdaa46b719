//! The whole national run on a generated population of 1 million persons
//! (synthetic Denmark at scale 0.168, fixed seed), and its stages: reading and
//! checking the inputs, the computation, and writing the output.
//!
//! Regime: warm page cache (the files are read once before timing), all
//! cores of the machine, release build. Throughput is persons per second.

#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fordeling::commands::run::{run, RunConfig};
use fordeling::synth::{write, SynthSpec};
use fordeling::{compute, load_inputs, InputPaths, RunParams};
use std::hint::black_box;

const PERSONS: u64 = 1_000_000;

fn national_run(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let scale = PERSONS as f64 / fordeling::synth::summary::DENMARK_2024;
    let spec = SynthSpec::national(2027, scale).expect("scale");
    let summary = write(&spec, &data).expect("synthetic data");
    let inputs = InputPaths {
        memory: Default::default(),
        population: data.join("population.parquet"),
        clinics: data.join("clinics.parquet"),
        geography: None,
        model: std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/reference-2027.toml"
        )),
        nulls_as_unknown: false,
        outcomes: false,
        load_level: None,
    };
    let params = RunParams {
        year: 2031,
        capacity_total: None,
    };
    let config = RunConfig {
        inputs: inputs.clone(),
        params,
        out: dir.path().join("out"),
        write_person_weights: false,
        report: false,
        xlsx: false,
        recorded: None,
    };

    let mut group = c.benchmark_group("national_run_1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(summary.persons));
    group.bench_function("end_to_end", |b| {
        b.iter(|| black_box(run(&config).expect("run")))
    });
    group.bench_function("load_and_check", |b| {
        b.iter(|| black_box(load_inputs(&inputs).expect("inputs")))
    });
    let loaded = load_inputs(&inputs).expect("inputs");
    group.bench_function("compute", |b| {
        b.iter(|| black_box(compute(&loaded, &params).expect("compute")))
    });
    group.finish();
}

criterion_group!(benches, national_run);
criterion_main!(benches);
