//! The stages of a national run, each with its throughput, on a synthetic
//! Denmark at scale 0.168 (about 1 million persons, 1 row group per 2^20
//! rows), warm page cache, all cores:
//!
//! - `decode_floor`: the `parquet` crate's own Arrow reader decoding just
//!   the columns the run needs, one row group per rayon task — the floor a
//!   reader built on that crate is measured against;
//! - `decode_and_check`: the engine's reading of the population (column
//!   readers into compact vectors, type and range checks, hashing);
//! - `weights`: every person's raw need (`YearTables::person`);
//! - `aggregation`: the pass over persons into per-clinic sums (`Basis`);
//! - `proposals`: one year's sums from the basis and every clinic's count.
#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fordeling::aggregate::Basis;
use fordeling::synth::{write, SynthSpec};
use fordeling::weights::YearTables;
use fordeling::{compute_year, ingest, load_inputs, InputPaths, RunParams};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;
use std::hint::black_box;
use std::path::Path;

const PERSONS: f64 = 1_000_000.0;

fn decode_floor(path: &Path, columns: &[String]) -> usize {
    let file = std::fs::File::open(path).expect("file");
    let metadata = ArrowReaderMetadata::load(&file, Default::default()).expect("metadata");
    let roots: Vec<usize> = metadata
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| columns.contains(f.name()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(metadata.parquet_schema(), roots);
    (0..metadata.metadata().num_row_groups())
        .into_par_iter()
        .map(|group| {
            let file = std::fs::File::open(path).expect("file");
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
                .with_row_groups(vec![group])
                .with_projection(mask.clone())
                .with_batch_size(1 << 20)
                .build()
                .expect("reader")
                .map(|b| b.expect("batch").num_rows())
                .sum::<usize>()
        })
        .sum()
}

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let scale = PERSONS / fordeling::synth::summary::DENMARK_2024;
    let summary =
        write(&SynthSpec::national(2027, scale).expect("scale"), &data).expect("synthetic data");
    let paths = InputPaths {
        memory: Default::default(),
        population: data.join("population.parquet"),
        clinics: data.join("clinics.parquet"),
        geography: None,
        model: Path::new(env!("CARGO_MANIFEST_DIR")).join("models/reference-2027.toml"),
        nulls_as_unknown: false,
        outcomes: false,
        load_level: None,
    };
    let inputs = load_inputs(&paths).expect("inputs");
    let model = &inputs.model.model;
    let persons = summary.persons;
    let mut needed: Vec<String> = [
        "person_id",
        "clinic_id",
        "kommune",
        "age",
        "sex",
        "education",
        "income_quintile",
        "labour",
        "origin",
        "lives_alone",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    needed.extend(model.conditions.iter().map(|(n, _)| format!("cond_{n}")));

    let mut group = c.benchmark_group("stages_1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(persons));
    group.bench_function("decode_floor", |b| {
        b.iter(|| black_box(decode_floor(&paths.population, &needed)))
    });
    let options = ingest::PopulationOptions::default();
    group.bench_function("decode_and_check", |b| {
        b.iter(|| {
            black_box(
                ingest::population(&paths.population, None, model, options).expect("population"),
            )
        })
    });
    let tables = YearTables::new(model, &inputs.geography, 2031, &paths.model).expect("tables");
    let population = &inputs.population;
    group.bench_function("weights", |b| {
        b.iter(|| {
            let total: f64 = (0..population.len())
                .into_par_iter()
                .with_min_len(1 << 16)
                .map(|i| tables.person(population, i).raw)
                .sum();
            black_box(total)
        })
    });
    group.bench_function("aggregation", |b| {
        b.iter(|| {
            black_box(Basis::new(
                &tables,
                population,
                inputs.clinics.len(),
                inputs.geography.kommuner.len(),
            ))
        })
    });
    let basis = Basis::new(
        &tables,
        population,
        inputs.clinics.len(),
        inputs.geography.kommuner.len(),
    );
    group.throughput(Throughput::Elements(inputs.clinics.len() as u64));
    let params = RunParams {
        year: 2031,
        capacity_total: None,
    };
    group.bench_function("proposals", |b| {
        b.iter(|| {
            black_box(
                compute_year(
                    &inputs,
                    model,
                    &tables,
                    &basis,
                    &params,
                    &inputs.clinics.previous_min_patients,
                )
                .expect("year"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
