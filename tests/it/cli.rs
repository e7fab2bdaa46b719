//! The command as a user meets it: the default run on the shipped data,
//! identical bytes whatever the thread count, the fixtures' recipe, and the
//! Parquet and CSV outputs agreeing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A temporary directory laid out like the repository for the default run.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("fixtures"), &dir.path().join("fixtures"));
    copy_dir(&repo().join("models"), &dir.path().join("models"));
    dir
}

#[test]
fn default_run_writes_every_file() {
    let dir = workspace();
    let output = run_in(dir.path(), &["run"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "progress goes to stderr only");
    for file in [
        "clinics.parquet",
        "clinics.csv",
        "areas.parquet",
        "areas.csv",
        "manifest.json",
    ] {
        assert!(dir.path().join("out").join(file).is_file(), "{file}");
    }
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["model"]["id"], "reference-2027");
    assert_eq!(manifest["year"], 2027);
    assert_eq!(manifest["inputs"]["population"]["rows"], 61000);
    assert_eq!(manifest["model"]["sha256"].as_str().unwrap().len(), 64);
    let clinics = Csv::read(&dir.path().join("out/clinics.csv"));
    assert!(clinics.rows.len() >= 30);
    let regions: std::collections::BTreeSet<&str> = (0..clinics.rows.len())
        .map(|r| clinics.get(r, "region"))
        .collect();
    assert_eq!(regions.len(), 4, "clinics in every region: {regions:?}");
    // Σ need over clinics is the number of persons (mean weight exactly 1).
    let total: f64 = (0..clinics.rows.len())
        .map(|r| clinics.f64(r, "need").unwrap())
        .sum();
    assert!((total - 61000.0).abs() < 1e-6, "{total}");
}

/// The population is hashed on one worker while the other reads the
/// model, clinics and geography and then the persons: the manifest names
/// it by the SHA-256 of its bytes (computed here over the whole file)
/// whether the persons stream past or are held, and an input read before
/// the persons is still the one an error names.
#[test]
fn the_population_is_hashed_alongside_and_errors_keep_their_order() {
    let dir = workspace();
    let bytes = std::fs::read(dir.path().join("fixtures/population.parquet")).unwrap();
    let expected = fordeling::model::sha256_hex(&bytes);
    for (args, out) in [
        (&["run", "--out", "streamed"][..], "streamed"),
        (
            &["run", "--out", "held", "--write-person-weights"][..],
            "held",
        ),
    ] {
        let output = run_in(dir.path(), args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(out).join("manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            manifest["inputs"]["population"]["sha256"],
            expected.as_str()
        );
    }
    // A missing model and a missing population: the model, read first, is
    // named, whichever path reads the persons.
    for extra in [&[][..], &["--write-person-weights"][..]] {
        let mut args = vec![
            "run",
            "--model",
            "models/none.toml",
            "--population",
            "fixtures/none.parquet",
            "--out",
            "failed",
        ];
        args.extend_from_slice(extra);
        let output = run_in(dir.path(), &args);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("none.toml"), "{stderr}");
        assert!(!stderr.contains("none.parquet"), "{stderr}");
        assert!(!dir.path().join("failed").exists());
    }
    // A missing population alone is named as such.
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--population",
            "fixtures/none.parquet",
            "--out",
            "failed",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("none.parquet"), "{stderr}");
}

/// Every column of a Parquet file rendered as the engine's CSV text.
fn parquet_as_csv_text(path: &Path) -> Vec<Vec<String>> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        for i in 0..batch.num_rows() {
            let row = batch
                .columns()
                .iter()
                .map(|a| {
                    if a.is_null(i) {
                        return String::new();
                    }
                    match a.data_type() {
                        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
                        DataType::Float64 => a.as_primitive::<Float64Type>().value(i).to_string(),
                        _ => a.as_string::<i32>().value(i).to_string(),
                    }
                })
                .collect();
            rows.push(row);
        }
    }
    rows
}

#[test]
fn parquet_and_csv_hold_the_same_values() {
    let dir = workspace();
    assert!(run_in(dir.path(), &["run", "--year", "2029"])
        .status
        .success());
    for name in ["clinics", "areas"] {
        let csv = Csv::read(&dir.path().join(format!("out/{name}.csv")));
        let parquet = parquet_as_csv_text(&dir.path().join(format!("out/{name}.parquet")));
        assert_eq!(csv.rows, parquet, "{name}");
    }
}

#[test]
fn one_and_four_threads_give_identical_files() {
    let dir = workspace();
    for threads in ["1", "4"] {
        let out = format!("out-{threads}");
        let output = run_in(
            dir.path(),
            &["run", "--year", "2031", "--threads", threads, "--out", &out],
        );
        assert!(output.status.success());
    }
    for file in [
        "clinics.parquet",
        "clinics.csv",
        "areas.parquet",
        "areas.csv",
    ] {
        let one = std::fs::read(dir.path().join("out-1").join(file)).unwrap();
        let four = std::fs::read(dir.path().join("out-4").join(file)).unwrap();
        assert!(one == four, "{file} differs between 1 and 4 threads");
    }
    let manifest = |t: &str| -> serde_json::Value {
        let mut m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("out-{t}/manifest.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(m["threads"].as_u64().unwrap().to_string(), t);
        m["threads"] = serde_json::Value::Null;
        m["wall_time_seconds"] = serde_json::Value::Null;
        // How the run was invoked (`--threads`, `--out`) is not a result.
        assert_eq!(
            m["invocation"]["arguments"]["input"]["threads"]
                .as_u64()
                .unwrap()
                .to_string(),
            t
        );
        m["invocation"] = serde_json::Value::Null;
        m
    };
    assert_eq!(manifest("1"), manifest("4"));
}

#[test]
fn fixtures_are_remade_byte_for_byte_by_their_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(
        dir.path(),
        &["synth", "--fixture", "--seed", "2027", "--out", "made"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["population.parquet", "clinics.parquet"] {
        let made = std::fs::read(dir.path().join("made").join(file)).unwrap();
        let shipped = std::fs::read(repo().join("fixtures").join(file)).unwrap();
        assert!(
            made == shipped,
            "fixtures/{file} is not what `fordeling synth --fixture --seed 2027` makes"
        );
    }
}

#[test]
fn capacity_total_sets_d_and_l() {
    let dir = workspace();
    let output = run_in(dir.path(), &["run", "--capacity-total", "50"]);
    assert!(output.status.success());
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["D"], 50.0);
    assert_eq!(manifest["L"], 61000.0 / 50.0);
    assert_eq!(manifest["capacity_total_from"], "--capacity-total");
}

#[test]
fn streamed_run_and_in_memory_chain_give_identical_files() {
    // `run` streams row groups into its sums; `project` holds the
    // population. Sums follow row-group boundaries in both, so the year's
    // files are the same bytes.
    let dir = workspace();
    let run = run_in(dir.path(), &["run", "--year", "2031", "--out", "streamed"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let project = run_in(
        dir.path(),
        &[
            "project", "--from", "2031", "--to", "2031", "--out", "chain",
        ],
    );
    assert!(
        project.status.success(),
        "{}",
        String::from_utf8_lossy(&project.stderr)
    );
    for file in [
        "clinics.csv",
        "clinics.parquet",
        "areas.csv",
        "areas.parquet",
    ] {
        let a = std::fs::read(dir.path().join("streamed").join(file)).unwrap();
        let b = std::fs::read(dir.path().join("chain/2031").join(file)).unwrap();
        assert!(a == b, "{file} differs between run and project");
    }
}

#[test]
fn person_level_data_only_with_the_flag() {
    let dir = workspace();
    assert!(run_in(dir.path(), &["run", "--out", "plain"])
        .status
        .success());
    let names: Vec<String> = std::fs::read_dir(dir.path().join("plain"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("person")), "{names:?}");
    let manifest = |out: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(out).join("manifest.json")).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(manifest("plain")["person_weights_written"], false);

    let output = run_in(
        dir.path(),
        &["run", "--write-person-weights", "--out", "persons"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(manifest("persons")["person_weights_written"], true);
    let file = std::fs::File::open(dir.path().join("persons/person_weights.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut by_clinic: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    let mut persons = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let clinic = batch
            .column_by_name("clinic_id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .clone();
        let weight = batch
            .column_by_name("weight")
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone();
        for i in 0..batch.num_rows() {
            *by_clinic.entry(clinic.value(i)).or_default() += weight.value(i);
            persons += 1;
        }
    }
    assert_eq!(persons, 61_000);
    let total: f64 = by_clinic.values().sum();
    assert!(
        (total - 61_000.0).abs() < 1e-6,
        "weights average 1: {total}"
    );
    // Each clinic's weights add up to its need in clinics.csv, and the
    // clinic files are the same bytes as without the flag.
    let clinics = Csv::read(&dir.path().join("persons/clinics.csv"));
    for (id, sum) in &by_clinic {
        let r = clinics.find("clinic_id", &id.to_string());
        assert!(
            (clinics.f64(r, "need").unwrap() - sum).abs() < 1e-6 * sum.max(1.0),
            "clinic {id}"
        );
    }
    let a = std::fs::read(dir.path().join("plain/clinics.csv")).unwrap();
    let b = std::fs::read(dir.path().join("persons/clinics.csv")).unwrap();
    assert!(a == b, "the flag does not change the results");
}

#[test]
fn command_line_manners() {
    let bin = binary();
    let run = |args: &[&str]| {
        std::process::Command::new(&bin)
            .args(args)
            .output()
            .unwrap()
    };
    // The version names the commit it was built from.
    let version = String::from_utf8_lossy(&run(&["--version"]).stdout).to_string();
    assert!(
        version.starts_with(&format!("fordeling {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // Every subcommand's help gives an example.
    let top = String::from_utf8_lossy(&run(&["--help"]).stdout).to_string();
    assert!(top.contains("Examples:"), "{top}");
    for sub in [
        "run",
        "synth",
        "fit",
        "evaluate",
        "project",
        "explain",
        "diff",
        "scenarios",
        "report",
        "completions",
    ] {
        let help = String::from_utf8_lossy(&run(&[sub, "--help"]).stdout).to_string();
        assert!(help.contains("Example: fordeling"), "{sub}: {help}");
    }
    // With NO_COLOR a usage error has no escape sequences.
    let output = std::process::Command::new(&bin)
        .env("NO_COLOR", "1")
        .args(["run", "--year", "soon"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!output.stderr.contains(&0x1b), "no colour codes");
    // Shell completions name the subcommands.
    let bash = String::from_utf8_lossy(&run(&["completions", "bash"]).stdout).to_string();
    for sub in ["scenarios", "report", "evaluate"] {
        assert!(bash.contains(sub), "bash completion knows `{sub}`");
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = workspace();
    let output = run_in(dir.path(), &["run", "--log-format", "json"]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.trim().is_empty());
    for line in stderr.lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect(line);
        assert!(event["fields"]["message"].is_string(), "{line}");
        assert!(event["level"].is_string(), "{line}");
    }
    // Errors too, with the exit code as a field.
    let output = run_in(
        dir.path(),
        &["run", "--log-format", "json", "--model", "missing.toml"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let event: serde_json::Value = serde_json::from_str(stderr.trim()).expect(&stderr);
    assert_eq!(event["level"], "ERROR");
    assert_eq!(event["fields"]["exit_code"], 1);
    assert!(event["fields"]["message"]
        .as_str()
        .unwrap()
        .contains("missing.toml"));
}

/// Every table a run and a projection write reads back through its schema,
/// with the schema's columns in order.
#[test]
fn output_tables_read_back_through_their_schema() {
    use fordeling::output::schema::{
        read_csv, AreaColumns, AreaRecord, ClinicColumns, ClinicRecord, ProjectClinicColumns,
        ProjectClinicRecord,
    };
    let dir = tempfile::tempdir().unwrap();
    ok_on_fixtures(
        dir.path(),
        &["run", "--model", &reference_model(), "--out", "r"],
    );
    ok_on_fixtures(
        dir.path(),
        &[
            "project",
            "--model",
            &reference_model(),
            "--to",
            "2028",
            "--out",
            "p",
        ],
    );
    let header = |path: &str| {
        std::fs::read_to_string(dir.path().join(path))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(header("r/clinics.csv"), ClinicColumns::NAMES.join(","));
    assert_eq!(header("r/areas.csv"), AreaColumns::NAMES.join(","));
    assert_eq!(
        header("p/summary.csv"),
        ProjectClinicColumns::NAMES.join(",")
    );
    let clinics: Vec<ClinicRecord> = read_csv(&dir.path().join("r/clinics.csv")).unwrap();
    assert_eq!(clinics.len(), 38, "the fixture's clinics");
    assert!(clinics
        .iter()
        .all(|c| c.clinic_id.is_some() && c.need.is_some()));
    let areas: Vec<AreaRecord> = read_csv(&dir.path().join("r/areas.csv")).unwrap();
    assert_eq!(areas.iter().filter(|a| a.level == "nation").count(), 1);
    let summary: Vec<ProjectClinicRecord> = read_csv(&dir.path().join("p/summary.csv")).unwrap();
    assert_eq!(summary.len(), 2 * 38, "two years of 38 clinics");
}

/// `fordeling model check` and `describe` on a format-2 file with an
/// interaction: its shape and free parameters (first term 2×20 = 40 free,
/// the copd × sex table (2−1)×(2−1) = 1), and a missing column named.
#[test]
fn model_check_and_describe_a_format_2_file() {
    let dir = tempfile::tempdir().unwrap();
    let edges: Vec<String> = (0..20).map(|k| (5 * k).to_string()).collect();
    let row = vec!["1000"; 20].join(", ");
    let proposal = "[proposal]\nclosing_fraction = 1.0\nround_to = 10\nmin_per_capacity = 0\nmax_per_capacity = 0\nmax_increase = 0.05\nmax_decrease = 0.10\ndialogue_threshold = 0.10\nuncertainty_threshold = 0.10\n";
    let text = format!(
        "[model]\nformat = 2\nid = \"two\"\nlink = \"identity\"\noutcome = \"x\"\ndata_year = 2025\n\
         [variables]\nsex = {{ levels = [1, 2] }}\nage_band = {{ column = \"age\", edges = [{}] }}\n\
         [[terms]]\nid = \"age_sex\"\ncomponent = \"age_sex\"\nby = [\"sex\", \"age_band\"]\nvalues = [[{row}], [{row}]]\n\
         [[terms]]\nid = \"copd_sex\"\ncomponent = \"conditions\"\nby = [\"cond_copd\", \"sex\"]\nvalues = [[0, 0], [900, 950]]\n{proposal}",
        edges.join(", ")
    );
    std::fs::write(dir.path().join("two.toml"), &text).unwrap();
    let population = repo()
        .join("fixtures/population.parquet")
        .display()
        .to_string();
    let out = run_in(
        dir.path(),
        &["model", "check", "two.toml", "--population", &population],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid: two.toml"), "{stdout}");
    assert!(
        stdout.contains("[2×20]") && stdout.contains("40 free"),
        "{stdout}"
    );
    assert!(
        stdout.contains("copd_sex") && stdout.contains("41 free"),
        "{stdout}"
    );

    std::fs::write(
        dir.path().join("three.toml"),
        text.replace("\"cond_copd\"", "\"cond_nowhere\""),
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["model", "check", "three.toml", "--population", &population],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cond_nowhere") && stderr.contains("population.parquet"),
        "{stderr}"
    );

    // A column of the wrong kind is found without reading rows.
    std::fs::write(
        dir.path().join("kind.toml"),
        text.replace("\"cond_copd\"", "\"age\""),
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["model", "check", "kind.toml", "--population", &population],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`age`") && stderr.contains("boolean"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("bad.toml"),
        text.replace("[[0, 0], [900, 950]]", "[0, 900]"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["model", "describe", "bad.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("terms[1].values") && stderr.contains("[2][2]"),
        "{stderr}"
    );
}
