//! `fordeling scenarios`: a scenario gives exactly what `run` gives with
//! the same model and parameters; grids expand; bad scenario files get the
//! errors model files get.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use std::path::Path;

fn scenarios(dir: &Path, file: &str) -> std::process::Output {
    std::fs::write(dir.join("s.toml"), file).unwrap();
    let model = reference_model();
    run_on_fixtures(
        dir,
        &[
            "scenarios",
            "--model",
            &model,
            "--scenarios",
            "s.toml",
            "--out",
            "result",
        ],
    )
}

fn run_model(dir: &Path, model_text: &str, year: &str, extra: &[&str], out: &str) -> Csv {
    std::fs::write(dir.join(format!("{out}.toml")), model_text).unwrap();
    let model = format!("{out}.toml");
    let mut args = vec!["run", "--model", &model, "--year", year, "--out", out];
    args.extend_from_slice(extra);
    ok_on_fixtures(dir, &args);
    Csv::read(&dir.join(out).join("clinics.csv"))
}

#[test]
fn scenarios_equal_runs_with_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let output = scenarios(
        dir.path(),
        r#"
[[scenario]]
name = "tight"
year = 2029
capacity_total = 45
closing_fraction = 0.95
max_increase = 0.02
[scenario.packages.heart_disease]
add = 900.0
phase_in = [1.0]

[[scenario]]
name = "copd-heavier"
year = 2028
coefficients = { "conditions.copd" = 1500.0, "age_sex.female[16]" = 1700.0 }
"#,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference = std::fs::read_to_string(repo().join("models/reference-2027.toml")).unwrap();
    let tight_model = reference
        .replace("closing_fraction = 1.0", "closing_fraction = 0.95")
        .replace("max_increase = 0.05", "max_increase = 0.02")
        .replace(
            "id = \"heart_disease\"\nstart_year = 2029\nconditions = [\"heart_disease\"]\nmin_conditions = 0\nadd = 415.0\nmultiply = 1.0\nphase_in = [0.5, 1.0]",
            "id = \"heart_disease\"\nstart_year = 2029\nconditions = [\"heart_disease\"]\nmin_conditions = 0\nadd = 900.0\nmultiply = 1.0\nphase_in = [1.0]",
        );
    assert_ne!(tight_model, reference);
    assert!(
        tight_model.contains("add = 900.0"),
        "the package edit applied"
    );
    let tight = run_model(
        dir.path(),
        &tight_model,
        "2029",
        &["--capacity-total", "45"],
        "tight",
    );
    let copd_model = reference
        .replace(
            "copd                 = 920.0",
            "copd                 = 1500.0",
        )
        .replace("1600, 1720, 1780, 1740]", "1700, 1720, 1780, 1740]");
    assert!(
        copd_model.contains("1700, 1720"),
        "the age-sex edit applied"
    );
    let copd = run_model(dir.path(), &copd_model, "2028", &[], "copd");
    let baseline = run_model(dir.path(), &reference, "2027", &[], "baseline");

    let long = Csv::read(&dir.path().join("result/scenarios.csv"));
    for (name, run) in [
        ("tight", &tight),
        ("copd-heavier", &copd),
        ("baseline", &baseline),
    ] {
        let rows: Vec<usize> = (0..long.rows.len())
            .filter(|&r| long.get(r, "scenario") == name)
            .collect();
        assert_eq!(rows.len(), run.rows.len(), "{name}");
        for r in rows {
            let id = long.get(r, "clinic_id");
            let c = run.find("clinic_id", id);
            let what = format!("{name} clinic {id}");
            assert_close(
                long.f64(r, "need").unwrap(),
                run.f64(c, "need").unwrap(),
                &what,
            );
            assert_eq!(
                long.get(r, "min_patients"),
                run.get(c, "min_patients"),
                "{what}"
            );
            assert_eq!(long.get(r, "flags"), run.get(c, "flags"), "{what}");
            let base = baseline.find("clinic_id", id);
            let change =
                run.f64(c, "min_patients").unwrap() - baseline.f64(base, "min_patients").unwrap();
            assert_eq!(long.f64(r, "change_vs_baseline").unwrap(), change, "{what}");
        }
    }
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("result/manifest.json")).unwrap(),
    )
    .unwrap();
    // The baseline and "tight" share persons' base need; "copd-heavier" needs its own pass.
    assert_eq!(manifest["passes_over_persons"], 2);
}

#[test]
fn grid_expands_to_every_combination() {
    let dir = tempfile::tempdir().unwrap();
    let output = scenarios(
        dir.path(),
        "[grid]\nyear = [2027, 2031]\nclosing_fraction = [0.9, 1.0, 1.1]\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = Csv::read(&dir.path().join("result/summary.csv"));
    assert_eq!(summary.rows.len(), 7);
    let described: Vec<&str> = (1..7).map(|r| summary.get(r, "parameters")).collect();
    for year in ["2027", "2031"] {
        for f in ["0.9", "1", "1.1"] {
            let want = format!("year = {year}; closing_fraction = {f}");
            assert!(
                described.contains(&want.as_str()),
                "{want} not in {described:?}"
            );
        }
    }
    // One row per scenario and sundhedsråd.
    let gaps = Csv::read(&dir.path().join("result/capacity_gaps.csv"));
    assert_eq!(gaps.rows.len(), 7 * 17);
}

#[test]
fn bad_scenario_files_are_named() {
    for (file, phrases) in [
        ("[[scenario]]\nname = \"a\"\nclosing_fracton = 0.9\n", vec!["s.toml", "closing_fracton"]),
        ("[[scenario]]\nname = \"a\"\n[scenario.packages.dementia]\nadd = 1.0\n", vec!["scenario `a`", "packages.dementia", "no package"]),
        ("[[scenario]]\nname = \"a\"\ncoefficients = { \"conditions.gout\" = 1.0 }\n", vec!["conditions.gout", "no coefficient"]),
        ("[[scenario]]\nname = \"a\"\nclosing_fraction = 0\n", vec!["scenario `a`", "proposal.closing_fraction", "above 0"]),
        ("[[scenario]]\nname = \"a\"\n[scenario.packages.copd]\nphase_in = [2.0]\n", vec!["phase_in", "outside 0..=1"]),
        ("[grid]\nyear = [2027, 2028]\nround_to = [1,2,3,4,5,6,7,8,9,10]\nclosing_fraction = [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]\nmax_increase = [0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1]\nmax_decrease = [0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1]\ndialogue_threshold = [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]\n", vec!["200000 scenarios", "at most 100000"]),
        ("[grid]\nfavourite_colour = [1]\n", vec!["grid.favourite_colour", "not a parameter"]),
        ("[[scenario]]\nname = \"baseline\"\n", vec!["baseline"]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = scenarios(dir.path(), file);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{file}: {stderr}");
        for phrase in phrases {
            assert!(stderr.contains(phrase), "`{phrase}` not in: {stderr}");
        }
        assert!(!dir.path().join("result").exists());
    }
}

/// The README's example file and the 1,000-scenario grid of the benchmark
/// run; the grid's rows come in scenario order across the chunks the batch
/// is computed and written in, each clinic's change is against the
/// baseline's count, and the Parquet file holds what the CSV holds.
#[test]
fn example_files_and_a_thousand_scenarios_stream_out_whole() {
    let dir = tempfile::tempdir().unwrap();
    let model = reference_model();
    for (file, scenarios) in [
        ("examples/scenarios.toml", 4usize),
        ("benches/compare/grid-1000.toml", 1000),
    ] {
        let path = repo().join(file);
        ok_on_fixtures(
            dir.path(),
            &[
                "scenarios",
                "--model",
                &model,
                "--scenarios",
                path.to_str().unwrap(),
                "--out",
                "result",
            ],
        );
        // The example's names hold commas: a real CSV reader.
        let mut reader = csv::Reader::from_path(dir.path().join("result/scenarios.csv")).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (scenario, clinic, count, change) = (
            col("scenario"),
            col("clinic_id"),
            col("min_patients"),
            col("change_vs_baseline"),
        );
        let clinics = rows.iter().filter(|r| r[scenario] == "baseline").count();
        assert!(clinics > 0);
        assert_eq!(rows.len(), (scenarios + 1) * clinics, "{file}");
        let summary: Vec<Vec<String>> =
            csv::Reader::from_path(dir.path().join("result/summary.csv"))
                .unwrap()
                .records()
                .map(|r| r.unwrap().iter().map(String::from).collect())
                .collect();
        assert_eq!(summary.len(), scenarios + 1, "{file}");
        let mut names: Vec<&str> = Vec::new();
        for (k, row) in rows.iter().enumerate() {
            let base = &rows[k % clinics];
            assert_eq!(row[clinic], base[clinic], "{file} row {k}");
            if let (Ok(a), Ok(b)) = (row[count].parse::<i64>(), base[count].parse::<i64>()) {
                assert_eq!(row[change], (a - b).to_string(), "{file} row {k}");
            }
            if k % clinics == 0 {
                names.push(&row[scenario]);
            }
        }
        let expected: Vec<&str> = summary.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(names, expected, "{file}: scenario order");
        let parquet = std::fs::File::open(dir.path().join("result/scenarios.parquet")).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(parquet).unwrap();
        use parquet::file::reader::FileReader;
        assert_eq!(
            reader.metadata().file_metadata().num_rows() as usize,
            rows.len()
        );
    }
}
