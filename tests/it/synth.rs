//! `fordeling synth`: a small synthetic Denmark meets its public targets,
//! is byte-identical for a seed whatever the thread count, differs between
//! seeds, and is valid input for `fordeling run`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use std::path::Path;

fn synth(dir: &Path, out: &str, scale: &str, seed: &str, threads: &str) {
    let output = run_in(
        dir,
        &[
            "synth",
            "--scale",
            scale,
            "--seed",
            seed,
            "--threads",
            threads,
            "--out",
            out,
            "--quiet",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const FILES: [&str; 5] = [
    "population.parquet",
    "clinics.parquet",
    "geography.csv",
    "truth.toml",
    "summary.json",
];

#[test]
fn small_country_meets_every_target() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "dk", "0.02", "5", "2");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("dk/summary.json")).unwrap())
            .unwrap();
    let failed: Vec<String> = summary["marginals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["checked"].as_bool().unwrap() && !m["ok"].as_bool().unwrap())
        .map(|m| {
            format!(
                "{} = {} (target {} ± {})",
                m["name"], m["value"], m["target"], m["tolerance"]
            )
        })
        .collect();
    assert!(failed.is_empty(), "marginals off target: {failed:#?}");
    let checked = summary["marginals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["checked"].as_bool().unwrap())
        .count();
    assert!(checked >= 20, "only {checked} marginals checked");
    // FOLK1A 2024 × 0.02 = 119,225 persons.
    let persons = summary["persons"].as_f64().unwrap();
    assert!((persons - 119_225.0).abs() / 119_225.0 < 0.01, "{persons}");
}

#[test]
fn same_seed_same_bytes_whatever_the_threads_other_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "a", "0.01", "11", "1");
    synth(dir.path(), "b", "0.01", "11", "4");
    synth(dir.path(), "c", "0.01", "12", "2");
    for file in FILES {
        let a = std::fs::read(dir.path().join("a").join(file)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(file)).unwrap();
        assert!(a == b, "{file} differs between 1 and 4 threads");
    }
    let a = std::fs::read(dir.path().join("a/population.parquet")).unwrap();
    let c = std::fs::read(dir.path().join("c/population.parquet")).unwrap();
    assert!(a != c, "another seed gives another population");
}

#[test]
fn synthetic_data_is_valid_run_input() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "dk", "0.01", "3", "2");
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--population",
            "dk/population.parquet",
            "--clinics",
            "dk/clinics.parquet",
            "--geography",
            "dk/geography.csv",
            "--model",
            "dk/truth.toml",
            "--out",
            "result",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let areas = Csv::read(&dir.path().join("result/areas.csv"));
    let kommuner = (0..areas.rows.len())
        .filter(|&r| areas.get(r, "level") == "kommune")
        .count();
    assert_eq!(kommuner, 98);
    // Every kommune has residents, and Aabenraa's norm is of the order the
    // draft model published (about 1,450 per capacity).
    for r in 0..areas.rows.len() {
        assert!(areas.f64(r, "residents").unwrap() > 0.0, "row {r}");
    }
    let aabenraa = areas.find("code", "580");
    let norm = areas.f64(aabenraa, "norm_patients_per_capacity").unwrap();
    assert!((1200.0..1900.0).contains(&norm), "Aabenraa norm {norm}");
}

#[test]
fn bad_scale_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for scale in ["0", "-1", "1000", "NaN"] {
        let output = run_in(
            dir.path(),
            &["synth", &format!("--scale={scale}"), "--out", "x"],
        );
        assert_eq!(output.status.code(), Some(2), "scale {scale}");
        assert!(!dir.path().join("x").exists());
    }
}
