//! The yearly chain, explain and diff: care packages lower the counts of
//! clinics whose patients are in them, phased in; `L` follows the capacity
//! path; caps chain year to year as worked by hand; explain's account is
//! the run's numbers; diff's parts add up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use sha2::Digest;
use std::path::Path;

const MODEL: &str = r#"
[model]
id = "packages"
link = "identity"
outcome = "gp_fee_dkk"
data_year = 2025
[age_sex]
male   = [100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100]
female = [100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100]
[conditions]
copd = 50.0
diabetes_t2 = 0.0
[[packages]]
id = "copd"
start_year = 2027
conditions = ["copd"]
add = 100.0
phase_in = [0.5]
[proposal]
closing_fraction = 1.0
round_to = 1
max_increase = -1
max_decrease = -1
"#;

const GEOGRAPHY: &str =
    "kommune_code,kommune_name,sundhedsraad,region_2027\n101,København,Hovedstaden,Østdanmark\n";

/// Clinic 1: two patients with COPD; clinic 2: two without. D is 0.004
/// every year, so L = 4 persons / 0.004 = 1000.
fn copd_inputs(dir: &Path, model: &str) {
    std::fs::write(dir.join("model.toml"), model).unwrap();
    std::fs::write(dir.join("geography.csv"), GEOGRAPHY).unwrap();
    std::fs::write(
        dir.join("capacity.csv"),
        "year,capacities\n2026,0.004\n2027,0.004\n2028,0.004\n2029,0.004\n2030,0.004\n",
    )
    .unwrap();
    let mut persons = vec![
        Person::new(1, 1, 101, 40, 1),
        Person::new(2, 1, 101, 50, 2),
        Person::new(3, 2, 101, 40, 1),
        Person::new(4, 2, 101, 50, 2),
    ];
    persons[0].copd = true;
    persons[1].copd = true;
    write_parquet(
        &dir.join("population.parquet"),
        population_columns(&persons),
    );
    write_parquet(
        &dir.join("clinics.parquet"),
        vec![
            ("clinic_id", i32s(&[1, 2])),
            ("kommune", i16s(&[101, 101])),
            ("capacities", f64s(&[1.0, 1.0])),
            ("previous_min_patients", i32s(&[1000, 1000])),
        ],
    );
}

/// Runs the chain on the inputs `copd_inputs` wrote, into `out`.
fn project_into(
    dir: &Path,
    from: &str,
    to: &str,
    extra: &[&str],
    out: &str,
) -> std::process::Output {
    let mut args = vec![
        "project",
        "--population",
        "population.parquet",
        "--clinics",
        "clinics.parquet",
        "--geography",
        "geography.csv",
        "--model",
        "model.toml",
        "--from",
        from,
        "--to",
        to,
        "--capacity-path",
        "capacity.csv",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

/// Runs the chain into `chain`, asserting success.
fn project(dir: &Path, from: &str, to: &str, extra: &[&str]) {
    let output = project_into(dir, from, to, extra, "chain");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn raw(dir: &Path, year: i32, clinic: &str) -> f64 {
    let clinics = Csv::read(&dir.join(format!("chain/{year}/clinics.csv")));
    let row = clinics.find("clinic_id", clinic);
    clinics.f64(row, "raw_min_patients").unwrap()
}

#[test]
fn copd_package_lowers_the_copd_clinic_phased_in() {
    let dir = tempfile::tempdir().unwrap();
    copd_inputs(dir.path(), MODEL);
    project(dir.path(), "2026", "2028", &[]);
    // 2026, no package: raw need 150, 150 | 100, 100; mean 125.
    //   mean weights 1.2 and 0.8: counts 1000/1.2 and 1000/0.8.
    assert_close(raw(dir.path(), 2026, "1"), 1000.0 / 1.2, "2026 copd clinic");
    assert_close(
        raw(dir.path(), 2026, "2"),
        1000.0 / 0.8,
        "2026 other clinic",
    );
    // 2027, half the package: 150 + 50 = 200 each; mean (400 + 200)/4 = 150.
    assert_close(
        raw(dir.path(), 2027, "1"),
        1000.0 / (200.0 / 150.0),
        "2027 copd clinic",
    );
    assert_close(
        raw(dir.path(), 2027, "2"),
        1000.0 / (100.0 / 150.0),
        "2027 other clinic",
    );
    // 2028, the full package: 250 each; mean 175.
    assert_close(
        raw(dir.path(), 2028, "1"),
        1000.0 / (250.0 / 175.0),
        "2028 copd clinic",
    );
    assert_close(
        raw(dir.path(), 2028, "2"),
        1000.0 / (100.0 / 175.0),
        "2028 other clinic",
    );
    assert!(raw(dir.path(), 2027, "1") < raw(dir.path(), 2026, "1"));
    assert!(raw(dir.path(), 2028, "1") < raw(dir.path(), 2027, "1"));
    assert!(raw(dir.path(), 2027, "2") > raw(dir.path(), 2026, "2"));
    // The summary holds every clinic and year.
    let summary = Csv::read(&dir.path().join("chain/summary.csv"));
    assert_eq!(summary.rows.len(), 6);
    let r = (0..6)
        .find(|&r| summary.get(r, "year") == "2028" && summary.get(r, "clinic_id") == "1")
        .unwrap();
    assert_eq!(summary.get(r, "min_patients"), "700");
}

#[test]
fn caps_chain_as_worked_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let model = MODEL
        .replace("max_increase = -1", "max_increase = 0.05")
        .replace("round_to = 1", "round_to = 10");
    copd_inputs(dir.path(), &model);
    project(dir.path(), "2026", "2030", &[]);
    // Clinic 2's raw count (1,250 and more) is far above 1,000 every year,
    // so each year it may rise 5% on last year's rounded count:
    // 1000 × 1.05 = 1050; 1050 × 1.05 = 1102.5 → 1100; 1100 × 1.05 = 1155 → 1160
    // (half away from zero); 1160 × 1.05 = 1218 → 1220; 1220 × 1.05 = 1281 → 1280.
    let summary = Csv::read(&dir.path().join("chain/summary.csv"));
    let counts: Vec<(String, String, String)> = (0..summary.rows.len())
        .filter(|&r| summary.get(r, "clinic_id") == "2")
        .map(|r| {
            (
                summary.get(r, "previous_min_patients").to_string(),
                summary.get(r, "min_patients").to_string(),
                summary.get(r, "flags").to_string(),
            )
        })
        .collect();
    let expected = [
        ("1000", "1050"),
        ("1050", "1100"),
        ("1100", "1160"),
        ("1160", "1220"),
        ("1220", "1280"),
    ];
    for ((previous, count, flags), (want_previous, want_count)) in counts.iter().zip(expected) {
        assert_eq!(
            (previous.as_str(), count.as_str()),
            (want_previous, want_count)
        );
        assert!(flags.contains("capped"));
    }
    assert_eq!(counts.len(), 5);
}

#[test]
fn linear_path_lowers_l_every_year_to_need_over_5000() {
    let dir = tempfile::tempdir().unwrap();
    let model = reference_model();
    ok_on_fixtures(
        dir.path(),
        &[
            "project",
            "--model",
            &model,
            "--capacity-path",
            "linear:5000@2035",
            "--out",
            "chain",
        ],
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("chain/manifest.json")).unwrap(),
    )
    .unwrap();
    let years = manifest["years"].as_array().unwrap();
    assert_eq!(years.len(), 9);
    let loads: Vec<f64> = years.iter().map(|y| y["L"].as_f64().unwrap()).collect();
    assert!(loads.windows(2).all(|w| w[1] < w[0]), "{loads:?}");
    // Total need is the number of persons: 61,000 / 5,000 in 2035.
    assert_close(loads[8], 61_000.0 / 5_000.0, "L in 2035");
    // 2027 starts from today's total capacities.
    let today: f64 = {
        let c = Csv::read(&dir.path().join("chain/2027/clinics.csv"));
        (0..c.rows.len())
            .map(|r| c.f64(r, "capacities").unwrap())
            .sum()
    };
    assert_close(loads[0], 61_000.0 / today, "L in 2027");
    let areas = Csv::read(&dir.path().join("chain/areas_by_year.csv"));
    assert_eq!(
        (0..areas.rows.len())
            .filter(|&r| areas.get(r, "level") == "nation")
            .count(),
        9
    );
}

#[test]
fn explain_is_the_run_for_every_fixture_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let model = reference_model();
    let base = ["--model", model.as_str(), "--year", "2029"];
    let mut args = vec!["run", "--out", "result"];
    args.extend_from_slice(&base);
    ok_on_fixtures(dir.path(), &args);
    let clinics = Csv::read(&dir.path().join("result/clinics.csv"));
    for r in 0..clinics.rows.len() {
        let id = clinics.get(r, "clinic_id").to_string();
        let mut args = vec!["explain", "--clinic", &id, "--format", "json"];
        args.extend_from_slice(&base);
        let output = run_on_fixtures(dir.path(), &args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let a: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let what = format!("clinic {id}");
        assert_close(
            a["need"].as_f64().unwrap(),
            clinics.f64(r, "need").unwrap(),
            &what,
        );
        let steps = &a["steps"];
        assert_close(
            steps["mean_weight"].as_f64().unwrap(),
            clinics.f64(r, "mean_weight").unwrap(),
            &what,
        );
        assert_close(
            steps["raw_min_patients"].as_f64().unwrap(),
            clinics.f64(r, "raw_min_patients").unwrap(),
            &what,
        );
        assert_eq!(
            steps["min_patients"].to_string(),
            clinics.get(r, "min_patients"),
            "{what}"
        );
        assert_close(
            steps["previous_min_patients"].as_f64().unwrap(),
            clinics.f64(r, "previous_min_patients").unwrap(),
            &what,
        );
        assert_close(
            a["uncertainty"]["raw_lower"].as_f64().unwrap(),
            clinics.f64(r, "raw_lower").unwrap(),
            &what,
        );
        assert_close(
            a["uncertainty"]["raw_upper"].as_f64().unwrap(),
            clinics.f64(r, "raw_upper").unwrap(),
            &what,
        );
        let flags: Vec<&str> = a["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["flag"].as_str().unwrap())
            .collect();
        assert_eq!(flags.join(";"), clinics.get(r, "flags"), "{what}");
        // The parts add up to the need, and the age-sex table to the list.
        let parts: f64 = a["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["clinic_need"].as_f64().unwrap())
            .sum();
        assert_close(parts, clinics.f64(r, "need").unwrap(), &what);
        let listed: u64 = a["age_sex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["male"].as_u64().unwrap() + b["female"].as_u64().unwrap())
            .sum();
        assert_eq!(listed.to_string(), clinics.get(r, "n_patients"));
    }
    // The text form names every step.
    let mut args = vec!["explain", "--clinic", clinics.get(0, "clinic_id")];
    args.extend_from_slice(&base);
    let text = String::from_utf8(run_on_fixtures(dir.path(), &args).stdout).unwrap();
    for phrase in [
        "raw = d × L × f / mean weight",
        "transition cap",
        "rounded half away from zero",
        "Uncertainty",
        "Flags",
    ] {
        assert!(text.contains(phrase), "{phrase} missing from:\n{text}");
    }
}

#[test]
fn diff_parts_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let model_a = reference_model();
    let text = std::fs::read_to_string(&model_a).unwrap();
    std::fs::write(
        dir.path().join("model-b.toml"),
        text.replace(
            "copd                 = 920.0",
            "copd                 = 1500.0",
        )
        .replace("closing_fraction = 1.0", "closing_fraction = 0.95"),
    )
    .unwrap();
    let run = |model: &str, year: &str, extra: &[&str], out: &str| {
        let mut args = vec!["run", "--model", model, "--year", year, "--out", out];
        args.extend_from_slice(extra);
        ok_on_fixtures(dir.path(), &args);
    };
    run(&model_a, "2027", &[], "a");
    run("model-b.toml", "2029", &["--capacity-total", "45"], "b");
    let output = run_in(dir.path(), &["diff", "a", "b", "--out", "d"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let d = Csv::read(&dir.path().join("d/diff.csv"));
    let a = Csv::read(&dir.path().join("a/clinics.csv"));
    let b = Csv::read(&dir.path().join("b/clinics.csv"));
    let mut attributed = 0;
    for r in 0..d.rows.len() {
        if d.get(r, "status") != "attributed" {
            continue;
        }
        attributed += 1;
        let id = d.get(r, "clinic_id");
        let parts = ["population", "model", "packages", "capacity"];
        let raw_change: f64 = parts.iter().map(|p| d.f64(r, p).unwrap()).sum();
        // The raw parts run from A's raw count to B's.
        let raw_a = a.f64(a.find("clinic_id", id), "raw_min_patients").unwrap();
        let raw_b = b.f64(b.find("clinic_id", id), "raw_min_patients").unwrap();
        assert!(
            (raw_change - (raw_b - raw_a)).abs() < 1e-6 * raw_a,
            "clinic {id}: {raw_change} vs {}",
            raw_b - raw_a
        );
        let total = raw_change + d.f64(r, "caps_and_rounding").unwrap();
        assert!(
            (total - d.f64(r, "change").unwrap()).abs() < 1e-6,
            "clinic {id}"
        );
        // Same persons on both sides: no population part.
        assert!(d.f64(r, "population").unwrap().abs() < 1e-6);
        assert!(d.f64(r, "model").unwrap().abs() > 0.0);
    }
    assert_eq!(attributed, 38);
}

#[test]
fn population_dir_gives_each_year_its_persons() {
    let dir = tempfile::tempdir().unwrap();
    copd_inputs(dir.path(), MODEL);
    let years = dir.path().join("years");
    std::fs::create_dir(&years).unwrap();
    std::fs::copy(
        dir.path().join("population.parquet"),
        years.join("population_2026.parquet"),
    )
    .unwrap();
    // In 2027 a fifth person, without COPD, lists at clinic 1.
    let mut persons = vec![
        Person::new(1, 1, 101, 40, 1),
        Person::new(2, 1, 101, 50, 2),
        Person::new(3, 2, 101, 40, 1),
        Person::new(4, 2, 101, 50, 2),
        Person::new(5, 1, 101, 30, 2),
    ];
    persons[0].copd = true;
    persons[1].copd = true;
    write_parquet(
        &years.join("population_2027.parquet"),
        population_columns(&persons),
    );
    project(dir.path(), "2026", "2027", &["--population-dir", "years"]);
    let summary = Csv::read(&dir.path().join("chain/summary.csv"));
    let listed: Vec<&str> = (0..summary.rows.len())
        .filter(|&r| summary.get(r, "clinic_id") == "1")
        .map(|r| summary.get(r, "n_patients"))
        .collect();
    assert_eq!(listed, ["2", "3"]);
    // 2027: needs 200, 200, 100 | 100, 100: mean 140; clinic 1's mean
    // weight 500/3/140; L = 5 / 0.004.
    assert_close(
        raw(dir.path(), 2027, "1"),
        1250.0 / (500.0 / 3.0 / 140.0),
        "2027 clinic 1",
    );
    // Each year's file is streamed past, hashed as it is read: the
    // manifest names it with the SHA-256 of its bytes.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("chain/manifest.json")).unwrap(),
    )
    .unwrap();
    let read = manifest["invocation"]["inputs"].as_array().unwrap();
    for (role, file) in [
        ("population", "population_2026.parquet"),
        ("population 2027", "population_2027.parquet"),
    ] {
        let entry = read.iter().find(|e| e["role"] == role).unwrap();
        assert!(entry["path"].as_str().unwrap().ends_with(file), "{entry}");
        let bytes = std::fs::read(years.join(file)).unwrap();
        let hex: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry["sha256"], hex, "{role}");
    }
    // A later year's bad file is named, with its column, row and value,
    // and nothing is written.
    persons[4].clinic = 7;
    write_parquet(
        &years.join("population_2027.parquet"),
        population_columns(&persons),
    );
    let output = project_into(
        dir.path(),
        "2026",
        "2027",
        &["--population-dir", "years"],
        "chain3",
    );
    assert_eq!(output.status.code(), Some(1));
    let message = String::from_utf8_lossy(&output.stderr);
    for phrase in ["population_2027.parquet", "`clinic_id`", "row 5", "`7`"] {
        assert!(message.contains(phrase), "{phrase}: {message}");
    }
    assert!(!dir.path().join("chain3").exists());
    // A missing year is a clear error.
    std::fs::remove_file(years.join("population_2027.parquet")).unwrap();
    let output = project_into(
        dir.path(),
        "2026",
        "2027",
        &["--population-dir", "years"],
        "chain2",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("population_2027.parquet"));
    assert!(!dir.path().join("chain2").exists());
}

/// A manifest that lacks a field or has one of the wrong type is refused by
/// `diff` and `report`, naming the file and the field.
#[test]
fn a_damaged_manifest_names_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let model = reference_model();
    ok_on_fixtures(dir.path(), &["run", "--model", &model, "--out", "a"]);
    ok_on_fixtures(dir.path(), &["run", "--model", &model, "--out", "b"]);
    let manifest = dir.path().join("b/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let cases = [
        ("missing", text.replace("\"year\": 2027,", ""), "`year`"),
        (
            "mistyped",
            text.replace("\"year\": 2027,", "\"year\": \"2027\","),
            "year",
        ),
    ];
    for (what, damaged, field) in cases {
        assert_ne!(damaged, text, "{what}: the damage applies");
        std::fs::write(&manifest, &damaged).unwrap();
        for args in [&["diff", "a", "b", "--out", "d"][..], &["report", "b"][..]] {
            let output = run_in(dir.path(), args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{what} {args:?}: {stderr}");
            assert!(
                stderr.contains("manifest.json"),
                "{what} {args:?}: {stderr}"
            );
            assert!(stderr.contains(field), "{what} {args:?}: {stderr}");
        }
        assert!(!dir.path().join("d").exists());
    }
}
