//! `fordeling decide` and the yearly cycle: final counts checked by hand,
//! every bad input refused with no output, the decisions chain in
//! `project`, Danish Excel's CSV files and the `.xlsx` workbooks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A run of the fixtures into `dir/run`.
fn fixture_run(dir: &Path) {
    let model = reference_model();
    ok_on_fixtures(dir, &["run", "--model", &model, "--out", "run"]);
}

fn decide(dir: &Path, decisions: &str, out: &str) -> std::process::Output {
    std::fs::write(dir.join("decisions.csv"), decisions).unwrap();
    run_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "decisions.csv",
            "--out",
            out,
        ],
    )
}

#[test]
fn decisions_final_counts_deviations_and_coverage_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let run = Csv::read(&dir.join("run/clinics.csv"));
    // The run, as the test reads it: proposal, previous and listed.
    let proposal = |id: &str| {
        run.get(run.find("clinic_id", id), "min_patients")
            .to_string()
    };
    assert_eq!(proposal("100063"), "1410");
    assert_eq!(proposal("100050"), "1770");
    // 100050: previous 1690, listed 1283, limit 1.1 × 1690 = 1859: 1900
    // needs the dialogue, which is recorded.
    let decisions = std::fs::read_to_string(repo().join("examples/decisions.csv")).unwrap();
    let output = decide(dir, &decisions, "decided");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let d = Csv::read(&dir.join("decided/decisions.csv"));
    assert_eq!(d.rows.len(), run.rows.len(), "every clinic has a row");
    let row = |id: &str| d.find("clinic_id", id);
    // 100063: 1500 against 1410: +90, 90/1410 = 6.3829787...%.
    let r = row("100063");
    assert_eq!(d.get(r, "final_min_patients"), "1500");
    assert_eq!(d.get(r, "deviation"), "90");
    assert_close(d.f64(r, "deviation_pct").unwrap(), 9000.0 / 1410.0, "pct");
    assert_eq!(d.get(r, "reason"), "local_conditions");
    assert_eq!(d.get(r, "dialogue"), "agreed");
    let r = row("100050");
    assert_eq!(
        (d.get(r, "final_min_patients"), d.get(r, "deviation")),
        ("1900", "130")
    );
    assert!(d.get(r, "flags").split(';').any(|f| f == "dialogue"));
    // 100105 is in a vulnerable area: the flag stays beside the decision.
    let r = row("100105");
    assert_eq!(d.get(r, "reason"), "vulnerable_area");
    assert!(d.get(r, "flags").contains("vulnerable_area"));
    // A clinic without a row keeps the proposal.
    let r = row("100005");
    assert_eq!(d.get(r, "final_min_patients"), proposal("100005"));
    assert_eq!((d.get(r, "reason"), d.get(r, "deviation")), ("model", "0"));

    // Coverage, summed here from the two tables.
    let mut finals: BTreeMap<String, i64> = BTreeMap::new();
    let mut listed: BTreeMap<String, i64> = BTreeMap::new();
    for (k, _) in run.rows.iter().enumerate() {
        let id = run.get(k, "clinic_id");
        let f: i64 = d.get(row(id), "final_min_patients").parse().unwrap_or(0);
        let n: i64 = run.get(k, "n_patients").parse().unwrap();
        for key in [run.get(k, "sundhedsraad"), run.get(k, "region")] {
            *finals.entry(key.to_string()).or_default() += f;
            *listed.entry(key.to_string()).or_default() += n;
        }
    }
    let areas = Csv::read(&dir.join("run/areas.csv"));
    let coverage = Csv::read(&dir.join("decided/coverage.csv"));
    assert_eq!(coverage.rows.len(), 17 + 4);
    for k in 0..coverage.rows.len() {
        let code = coverage.get(k, "code").to_string();
        let level = coverage.get(k, "level");
        let a = (0..areas.rows.len())
            .find(|&a| areas.get(a, "level") == level && areas.get(a, "code") == code)
            .unwrap();
        let residents: i64 = areas.get(a, "residents").parse().unwrap();
        let f = finals.get(&code).copied().unwrap_or(0);
        assert_eq!(
            coverage.get(k, "final_min_patients"),
            f.to_string(),
            "{code}"
        );
        assert_eq!(
            coverage.get(k, "listed"),
            listed.get(&code).copied().unwrap_or(0).to_string()
        );
        assert_eq!(coverage.get(k, "residents"), residents.to_string());
        assert_eq!(
            coverage.get(k, "covered"),
            (f >= residents).to_string(),
            "{code}"
        );
    }
    // Østsjælland og Øerne: 1500 + 2960 + 300 = 4760 final against 6000.
    let k = coverage.find("code", "Østsjælland og Øerne");
    assert_eq!(coverage.get(k, "final_min_patients"), "4760");
    assert_eq!(coverage.get(k, "covered"), "false");

    // The manifest names the run by its manifest's SHA-256.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("decided/manifest.json")).unwrap())
            .unwrap();
    let bytes = std::fs::read(dir.join("run/manifest.json")).unwrap();
    let sha = fordeling::model::sha256_hex(&bytes);
    assert_eq!(manifest["run"]["manifest_sha256"], sha.as_str());
    assert_eq!(manifest["decided"], 5);
    assert_eq!(manifest["deviating"], 4);
}

#[test]
fn bad_decisions_are_refused_with_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let header = "clinic_id,min_patients,reason,dialogue,note\n";
    for (rows, needles) in [
        (
            "999999,1500,model,,\n",
            vec!["clinic_id", "row 1", "`999999`"],
        ),
        (
            "100001,1700,model,,\n100001,1710,model,,\n",
            vec!["clinic_id", "row 2", "duplicates row 1"],
        ),
        ("100001,-1,model,,\n", vec!["min_patients", "`-1`"]),
        ("100001,1500.5,model,,\n", vec!["min_patients", "`1500.5`"]),
        ("100001,1500,cheaper,,\n", vec!["reason", "`cheaper`"]),
        ("100001,1500,model,maybe,\n", vec!["dialogue", "`maybe`"]),
        (
            // 100050: limit 1.1 × max(1690, 1283) = 1859.
            "100050,1900,local_conditions,none,\n100005,1620,model,,\n",
            vec!["clinic 100050", "dialogue"],
        ),
    ] {
        let output = decide(dir, &format!("{header}{rows}"), "decided");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{rows}: {stderr}");
        for needle in &needles {
            assert!(
                stderr.contains(needle),
                "{rows}: `{needle}` not in {stderr}"
            );
        }
        assert!(!dir.join("decided").exists(), "{rows}: no output");
    }
    // A directory that is not a run's output.
    std::fs::create_dir(dir.join("empty")).unwrap();
    std::fs::write(dir.join("d.csv"), format!("{header}100001,1700,model,,\n")).unwrap();
    let output = run_in(
        dir,
        &[
            "decide",
            "empty",
            "--decisions",
            "d.csv",
            "--out",
            "decided",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not the output directory"));
    assert!(!dir.join("decided").exists());
}

/// Danish Excel's CSV: `;`, decimal comma, Windows-1252 (æ = 0xE6, ø = 0xF8).
fn to_excel(text: &str) -> Vec<u8> {
    let swapped: String = text
        .lines()
        .map(|line| {
            // Separators first, then decimal points to commas.
            let mut fields = Vec::new();
            for field in line.split(',') {
                let numeric = field.parse::<f64>().is_ok();
                fields.push(if numeric {
                    field.replace('.', ",")
                } else {
                    field.to_string()
                });
            }
            fields.join(";") + "\r\n"
        })
        .collect();
    swapped
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect()
}

#[test]
fn danish_excel_files_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let plain = "clinic_id,min_patients,reason,dialogue,note\n100063,1500,local_conditions,agreed,Mange ældre på øerne\n100001,1720.0,model,,\n";
    assert!(decide(dir, plain, "plain").status.success());
    std::fs::write(dir.join("excel.csv"), to_excel(plain)).unwrap();
    let output = run_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "excel.csv",
            "--out",
            "excel",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in ["decisions.csv", "coverage.csv"] {
        assert_eq!(
            std::fs::read(dir.join("plain").join(name)).unwrap(),
            std::fs::read(dir.join("excel").join(name)).unwrap(),
            "{name}"
        );
    }
    let text = std::fs::read_to_string(dir.join("excel/decisions.csv")).unwrap();
    assert!(text.contains("Mange ældre på øerne"));

    // The geography and a capacity path in Excel's dialect give the same run.
    let geography = std::fs::read_to_string(repo().join("data/geography-dk-2027.csv")).unwrap();
    std::fs::write(dir.join("geography-excel.csv"), to_excel(&geography)).unwrap();
    std::fs::write(dir.join("geography.csv"), &geography).unwrap();
    std::fs::write(
        dir.join("path.csv"),
        "year,capacities\n2027,36.5\n2028,40.25\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("path-excel.csv"),
        to_excel("year,capacities\n2027,36.5\n2028,40.25\n"),
    )
    .unwrap();
    let model = reference_model();
    for (geo, path, out) in [
        ("geography.csv", "path.csv", "p-plain"),
        ("geography-excel.csv", "path-excel.csv", "p-excel"),
    ] {
        ok_on_fixtures(
            dir,
            &[
                "project",
                "--model",
                &model,
                "--from",
                "2027",
                "--to",
                "2028",
                "--geography",
                geo,
                "--capacity-path",
                path,
                "--out",
                out,
            ],
        );
    }
    for name in ["2028/clinics.csv", "2028/areas.csv", "summary.csv"] {
        assert_eq!(
            std::fs::read(dir.join("p-plain").join(name)).unwrap(),
            std::fs::read(dir.join("p-excel").join(name)).unwrap(),
            "{name}"
        );
    }
    // A file in neither dialect says what was seen.
    std::fs::write(
        dir.join("odd.csv"),
        "clinic_id|min_patients|reason\n100001|1700|model\n",
    )
    .unwrap();
    let output = run_in(
        dir,
        &["decide", "run", "--decisions", "odd.csv", "--out", "odd"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("separator `,`, encoding UTF-8"), "{stderr}");
}

#[test]
fn a_decided_count_not_the_proposal_sets_next_years_cap() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let model = reference_model();
    std::fs::create_dir(dir.join("decisions")).unwrap();
    // 100063's 2027 proposal is 1410 (capped at 0.9 × 1570 = 1413 → 1410).
    // The region decides 1500; 2028's caps must start from 1500:
    // [1350, 1575].
    std::fs::write(
        dir.join("decisions/decisions-2027.csv"),
        "clinic_id,min_patients,reason,dialogue,note\n100063,1500,local_conditions,agreed,\n",
    )
    .unwrap();
    ok_on_fixtures(
        dir,
        &[
            "project",
            "--model",
            &model,
            "--from",
            "2027",
            "--to",
            "2029",
            "--decisions-dir",
            "decisions",
            "--out",
            "chain",
        ],
    );
    ok_on_fixtures(
        dir,
        &[
            "project", "--model", &model, "--from", "2027", "--to", "2029", "--out", "plain",
        ],
    );
    let y2028 = Csv::read(&dir.join("chain/2028/clinics.csv"));
    let plain = Csv::read(&dir.join("plain/2028/clinics.csv"));
    let r = y2028.find("clinic_id", "100063");
    assert_eq!(y2028.get(r, "previous_min_patients"), "1500");
    let count: f64 = y2028.f64(r, "min_patients").unwrap();
    assert!((1350.0..=1580.0).contains(&count), "{count}");
    let p = plain.find("clinic_id", "100063");
    assert_eq!(plain.get(p, "previous_min_patients"), "1410");
    // The others carry their proposals, as without decisions.
    let other = y2028.find("clinic_id", "100005");
    assert_eq!(
        y2028.get(other, "previous_min_patients"),
        plain.get(plain.find("clinic_id", "100005"), "previous_min_patients")
    );
    assert!(dir.join("chain/2027/decisions.csv").is_file());
    assert!(!dir.join("chain/2028/decisions.csv").exists());

    // decide's clinics_next.parquet is next year's clinics file: a run of
    // 2028 on it gives the chain's 2028 counts.
    let output = run_in(
        dir,
        &[
            "decide",
            "chain/2027",
            "--decisions",
            "decisions/decisions-2027.csv",
            "--out",
            "decided",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let population = repo().join("fixtures/population.parquet");
    let output = run_in(
        dir,
        &[
            "run",
            "--model",
            &model,
            "--year",
            "2028",
            "--population",
            population.to_str().unwrap(),
            "--clinics",
            "decided/clinics_next.parquet",
            "--out",
            "run-2028",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let next = Csv::read(&dir.join("run-2028/clinics.csv"));
    for k in 0..next.rows.len() {
        let id = next.get(k, "clinic_id");
        let c = y2028.find("clinic_id", id);
        assert_eq!(
            next.get(k, "min_patients"),
            y2028.get(c, "min_patients"),
            "{id}"
        );
        assert_eq!(next.get(k, "flags"), y2028.get(c, "flags"), "{id}");
    }
}

#[test]
fn workbooks_hold_the_parquet_tables() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let model = reference_model();
    ok_on_fixtures(dir, &["run", "--model", &model, "--xlsx", "--out", "run"]);
    let decisions = std::fs::read_to_string(repo().join("examples/decisions.csv")).unwrap();
    std::fs::write(dir.join("decisions.csv"), decisions).unwrap();
    let output = run_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "decisions.csv",
            "--xlsx",
            "--out",
            "decided",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (book, sheet, csv) in [
        ("run/run.xlsx", "clinics", "run/clinics.csv"),
        ("run/run.xlsx", "areas", "run/areas.csv"),
        (
            "decided/decisions.xlsx",
            "decisions",
            "decided/decisions.csv",
        ),
        ("decided/decisions.xlsx", "coverage", "decided/coverage.csv"),
    ] {
        let mut workbook: Xlsx<_> = open_workbook(dir.join(book)).unwrap();
        let range = workbook.worksheet_range(sheet).unwrap();
        let table = Csv::read(&dir.join(csv));
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows.len(), table.rows.len() + 1, "{book} {sheet}");
        for (c, name) in table.header.iter().enumerate() {
            assert_eq!(rows[0][c], Data::String(name.clone()), "{sheet} header");
        }
        for (r, row) in table.rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                let cell = rows[r + 1].get(c).cloned().unwrap_or(Data::Empty);
                let what = format!("{sheet} row {} column {}", r + 1, table.header[c]);
                match cell {
                    Data::Empty => assert!(text.is_empty(), "{what}: {text}"),
                    Data::Float(v) => assert_eq!(v, text.parse::<f64>().unwrap(), "{what}"),
                    Data::Int(v) => assert_eq!(v, text.parse::<i64>().unwrap(), "{what}"),
                    Data::Bool(v) => assert_eq!(v.to_string(), *text, "{what}"),
                    Data::String(s) => assert_eq!(s, *text, "{what}"),
                    other => panic!("{what}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn diff_attributes_a_change_of_load_level_to_its_own_step() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let model = reference_model();
    ok_on_fixtures(dir, &["run", "--model", &model, "--out", "nation"]);
    ok_on_fixtures(
        dir,
        &[
            "run",
            "--model",
            &model,
            "--load-level",
            "sundhedsraad",
            "--out",
            "council",
        ],
    );
    let output = run_in(dir, &["diff", "nation", "council", "--out", "diff"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let diff = Csv::read(&dir.join("diff/diff.csv"));
    let mut moved = 0;
    for k in 0..diff.rows.len() {
        if diff.get(k, "status") != "attributed" {
            continue;
        }
        for step in ["population", "model", "packages", "capacity"] {
            assert_eq!(diff.f64(k, step), Some(0.0), "{step}");
        }
        let level = diff.f64(k, "load_level").unwrap();
        moved += usize::from(level.abs() > 1.0);
        let sum = level + diff.f64(k, "caps_and_rounding").unwrap();
        assert!((sum - diff.f64(k, "change").unwrap()).abs() < 1e-6);
    }
    assert!(moved >= 10, "the level moves most raw counts: {moved}");
}

#[test]
fn project_and_scenarios_write_workbooks_with_a_sheet_per_table() {
    use calamine::{open_workbook, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let model = reference_model();
    ok_on_fixtures(
        dir,
        &[
            "project", "--model", &model, "--to", "2028", "--xlsx", "--out", "p",
        ],
    );
    std::fs::write(
        dir.join("s.toml"),
        "[grid]\nclosing_fraction = [0.9, 1.0]\nload_level = [\"nation\", \"sundhedsraad\"]\n",
    )
    .unwrap();
    ok_on_fixtures(
        dir,
        &[
            "scenarios",
            "--model",
            &model,
            "--scenarios",
            "s.toml",
            "--xlsx",
            "--out",
            "s",
        ],
    );
    for (book, sheets) in [
        (
            "p/project.xlsx",
            vec![
                ("summary", "p/summary.csv"),
                ("areas_by_year", "p/areas_by_year.csv"),
            ],
        ),
        (
            "s/scenarios.xlsx",
            vec![
                ("summary", "s/summary.csv"),
                ("capacity_gaps", "s/capacity_gaps.csv"),
                ("scenarios", "s/scenarios.csv"),
            ],
        ),
    ] {
        let mut workbook: Xlsx<_> = open_workbook(dir.join(book)).unwrap();
        for (sheet, csv) in sheets {
            let range = workbook.worksheet_range(sheet).unwrap();
            let rows = Csv::read(&dir.join(csv)).rows.len();
            assert_eq!(range.rows().count(), rows + 1, "{book} {sheet}");
        }
    }
    // The load level varies the counts between scenarios.
    let summary = Csv::read(&dir.join("s/summary.csv"));
    assert_eq!(summary.rows.len(), 5, "baseline and four scenarios");
    let long = Csv::read(&dir.join("s/scenarios.csv"));
    let counts = |name: &str| -> Vec<String> {
        (0..long.rows.len())
            .filter(|&k| long.get(k, "scenario") == name)
            .map(|k| long.get(k, "min_patients").to_string())
            .collect()
    };
    assert_ne!(counts("grid-00003"), counts("grid-00004"));
}
