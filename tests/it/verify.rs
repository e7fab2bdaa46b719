//! `fordeling verify`: every outcome (identical, an input changed or
//! missing, a result differs), for run, project, scenarios and decide
//! outputs, across thread counts and a moved directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use std::path::Path;
use std::process::Output;

/// Copies the fixtures and the reference model into `dir` so that every
/// path the commands get is relative to it.
fn workspace(dir: &Path) {
    std::fs::create_dir_all(dir.join("in")).unwrap();
    for name in ["population.parquet", "clinics.parquet"] {
        std::fs::copy(
            repo().join("fixtures").join(name),
            dir.join("in").join(name),
        )
        .unwrap();
    }
    std::fs::copy(
        repo().join("models/reference-2027.toml"),
        dir.join("in/model.toml"),
    )
    .unwrap();
}

const INPUTS: [&str; 6] = [
    "--population",
    "in/population.parquet",
    "--clinics",
    "in/clinics.parquet",
    "--model",
    "in/model.toml",
];

fn with_inputs<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(INPUTS);
    all
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_run_made_with_one_thread_verifies_with_two() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    workspace(dir);
    ok_in(
        dir,
        &with_inputs(&[
            "run",
            "--threads",
            "1",
            "--report",
            "--xlsx",
            "--out",
            "out",
            "-q",
        ]),
    );
    let before = snapshot(&dir.join("out"));
    let output = run_in(dir, &["verify", "out", "--threads", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let said = text(&output);
    // clinics and areas (CSV and Parquet), the manifest, report and workbook.
    assert!(
        said.contains("identical: 7 result file(s) of `run`"),
        "{said}"
    );
    assert!(!said.contains("made by"), "same engine: {said}");
    // Verifying writes nothing into the directory.
    assert_eq!(snapshot(&dir.join("out")), before);
}

#[test]
fn a_changed_or_missing_input_is_exit_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    workspace(dir);
    ok_in(dir, &with_inputs(&["run", "--out", "out", "-q"]));
    // A comment changes no coefficient, but the model file is another file.
    let model = dir.join("in/model.toml");
    let mut text_of_model = std::fs::read_to_string(&model).unwrap();
    text_of_model.push_str("# edited\n");
    std::fs::write(&model, text_of_model).unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let said = text(&output);
    assert!(said.contains("model `in/model.toml` changed"), "{said}");
    assert!(!said.contains("population"), "only the model: {said}");

    std::fs::remove_file(dir.join("in/population.parquet")).unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output);
    assert!(
        said.contains("population `in/population.parquet` is missing")
            && said.contains("model `in/model.toml` changed"),
        "every problem named: {said}"
    );
}

#[test]
fn a_changed_result_is_exit_4_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    workspace(dir);
    ok_in(dir, &with_inputs(&["run", "--out", "out", "-q"]));
    // One count one patient higher in the CSV only.
    let path = dir.join("out/clinics.csv");
    let csv = Csv::read(&path);
    let count = csv.get(0, "min_patients").to_string();
    let original = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    let at = csv.col("min_patients");
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    fields[at] = (count.parse::<i64>().unwrap() + 1).to_string();
    lines[1] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    let said = text(&output);
    assert!(
        said.contains("1 result file(s) of `run` differ from the recomputation: clinics.csv"),
        "{said}"
    );

    // A removed result file is named as missing.
    std::fs::write(&path, original).unwrap();
    std::fs::remove_file(dir.join("out/areas.parquet")).unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(text(&output).contains("areas.parquet (missing)"));
}

#[test]
fn the_manifest_is_compared_without_times_and_names_another_engine() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    workspace(dir);
    ok_in(dir, &with_inputs(&["run", "--out", "out", "-q"]));
    let path = dir.join("out/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["engine"]["version"] = "0.0.1".into();
    manifest["engine"]["commit"] = "0123456789ab".into();
    manifest["wall_time_seconds"] = 1234.5.into();
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("made by fordeling 0.0.1 (commit 0123456789ab), this is fordeling"),
        "{}",
        text(&output)
    );

    // A result in the manifest is a result: a changed L differs.
    manifest["L"] = 1.0.into();
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(4));
    let said = text(&output);
    assert!(said.contains("differ from the recomputation: manifest.json"));
    assert!(said.contains("made by fordeling 0.0.1"), "{said}");

    // Without an invocation there is nothing to recompute from.
    manifest
        .as_object_mut()
        .unwrap()
        .remove("invocation")
        .unwrap();
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let output = run_in(dir, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("records no invocation"));

    let output = run_in(dir, &["verify", "no-such-dir"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("no-such-dir"));
}

#[test]
fn project_scenarios_and_decide_outputs_verify() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    workspace(dir);
    std::fs::copy(
        repo().join("examples/scenarios.toml"),
        dir.join("in/scenarios.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("dec")).unwrap();
    ok_in(dir, &with_inputs(&["run", "--out", "run", "-q"]));
    let run = Csv::read(&dir.join("run/clinics.csv"));
    let id = run.get(0, "clinic_id").to_string();
    let count: i64 = run.get(0, "min_patients").parse().unwrap();
    std::fs::write(
        dir.join("dec/decisions-2027.csv"),
        format!(
            "clinic_id,min_patients,reason\n{id},{},local_conditions\n",
            count - 20
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("in/capacities.csv"),
        "year,capacities\n2027,40\n2028,42\n",
    )
    .unwrap();
    ok_in(
        dir,
        &with_inputs(&[
            "project",
            "--from",
            "2027",
            "--to",
            "2028",
            "--capacity-path",
            "in/capacities.csv",
            "--decisions-dir",
            "dec",
            "--threads",
            "1",
            "--report",
            "--out",
            "proj",
            "-q",
        ]),
    );
    ok_in(
        dir,
        &with_inputs(&[
            "scenarios",
            "--scenarios",
            "in/scenarios.toml",
            "--xlsx",
            "--out",
            "scen",
            "-q",
        ]),
    );
    ok_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "dec/decisions-2027.csv",
            "--report",
            "--out",
            "decided",
            "-q",
        ],
    );
    for (out, command) in [
        ("proj", "project"),
        ("scen", "scenarios"),
        ("decided", "decide"),
    ] {
        let output = run_in(dir, &["verify", out, "--threads", "2"]);
        assert_eq!(output.status.code(), Some(0), "{out}: {}", text(&output));
        assert!(
            text(&output).contains(&format!("of `{command}` recomputed byte for byte")),
            "{}",
            text(&output)
        );
    }

    // The chain's inputs include each year's decisions and the capacity path.
    std::fs::write(
        dir.join("dec/decisions-2027.csv"),
        format!(
            "clinic_id,min_patients,reason\n{id},{},local_conditions\n",
            count - 40
        ),
    )
    .unwrap();
    let output = run_in(dir, &["verify", "proj"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("decisions 2027 `dec/decisions-2027.csv` changed"));
    // ... and the decide output rests on that file too.
    let output = run_in(dir, &["verify", "decided"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("decisions `dec/decisions-2027.csv` changed"));

    // A year's file of the chain that differs is named with its year.
    let path = dir.join("scen/summary.csv");
    let mut summary = std::fs::read_to_string(&path).unwrap();
    summary.push('\n');
    std::fs::write(&path, summary).unwrap();
    let output = run_in(dir, &["verify", "scen"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(text(&output).contains("summary.csv"));
}

#[test]
fn a_moved_directory_verifies_from_where_it_is() {
    let parent = tempfile::tempdir().unwrap();
    let first = parent.path().join("first");
    workspace(&first);
    ok_in(&first, &with_inputs(&["run", "--out", "out", "-q"]));
    // The working directory the manifest names is gone: relative paths are
    // then taken from the current directory.
    let moved = parent.path().join("moved");
    std::fs::rename(&first, &moved).unwrap();
    let output = run_in(&moved, &["verify", "out"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}
