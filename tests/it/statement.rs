//! `fordeling statement`: a page per clinic whose count is the run's (or
//! the region's decision), in Danish and English, self-contained, one A4
//! page when printed by headless Chromium, and refused when the run no
//! longer follows from its inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use arrow::array::{Array, Int64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::Path;

/// A run of the fixtures into `dir/run`.
fn fixture_run(dir: &Path) {
    let model = reference_model();
    ok_on_fixtures(dir, &["run", "--model", &model, "--out", "run", "-q"]);
}

/// `clinic_id -> min_patients` of a run's `clinics.parquet`, read with the
/// `parquet` crate (not the engine).
fn counts_in_parquet(path: &Path) -> BTreeMap<i64, Option<i64>> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut counts = BTreeMap::new();
    for batch in reader {
        let batch = batch.unwrap();
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .clone()
        };
        let (ids, counts_col) = (column("clinic_id"), column("min_patients"));
        for i in 0..batch.num_rows() {
            let count = (!counts_col.is_null(i)).then(|| counts_col.value(i));
            counts.insert(ids.value(i), count);
        }
    }
    counts
}

/// The `data-count` of a statement page.
fn shown_count(html: &str) -> Option<i64> {
    let key = "data-count=\"";
    let start = html.find(key)? + key.len();
    html[start..start + html[start..].find('"')?].parse().ok()
}

fn page(dir: &Path, id: i64) -> String {
    std::fs::read_to_string(dir.join(format!("clinic-{id}.html"))).unwrap()
}

#[test]
fn every_clinic_gets_a_danish_page_with_the_runs_count() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    ok_in(dir, &["statement", "run", "--out", "st", "-q"]);
    let counts = counts_in_parquet(&dir.join("run/clinics.parquet"));
    let files: Vec<String> = std::fs::read_dir(dir.join("st"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.len(),
        counts.len() + 1,
        "a page per clinic and the index"
    );
    let index = std::fs::read_to_string(dir.join("st/index.html")).unwrap();
    for (&id, &count) in &counts {
        let html = page(&dir.join("st"), id);
        assert_eq!(shown_count(&html), count, "clinic {id}");
        assert!(index.contains(&format!("href=\"clinic-{id}.html\"")));
        // Self-contained: nothing fetched, nothing run.
        for outside in ["http://", "https://", "<script", "src=", "@import", "url("] {
            assert!(!html.contains(outside), "clinic {id}: {outside}");
        }
    }
    // Danish domain language on every page, and the sections the issue names.
    let run = Csv::read(&dir.join("run/clinics.csv"));
    let id = run.get(0, "clinic_id").to_string();
    let html = page(&dir.join("st"), id.parse().unwrap());
    for word in [
        "lang=\"da\"",
        "Minimumspatienttal 2027",
        "behandlingsbehov",
        "sygdomsvægtede borgere",
        "Lægekapacitet",
        "Sundhedsråd",
        "Pakkeforløb",
        "Referencebelastningen",
        "Sidste års minimumspatienttal",
        "usikkerhedsinterval",
        "Overgangsloftet",
        "fordeling verify",
    ] {
        assert!(html.contains(word), "{word}");
    }
    assert!(!html.contains("Minimum patient count"));
    // The kommune comparison is the kommune's row of the area table.
    let areas = Csv::read(&dir.join("run/areas.csv"));
    let kommune = run.get(0, "kommune");
    let row = (0..areas.rows.len())
        .find(|&r| areas.get(r, "level") == "kommune" && areas.get(r, "code") == kommune)
        .unwrap();
    let weight: f64 = areas.get(row, "mean_weight").parse().unwrap();
    let danish = format!("{weight:.3}").replace('.', ",");
    assert!(
        html.contains(&format!("er {danish}.")),
        "kommune mean {danish}"
    );
}

#[test]
fn english_pages_and_one_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let run = Csv::read(&dir.join("run/clinics.csv"));
    let id = run.get(3, "clinic_id").to_string();
    ok_in(
        dir,
        &[
            "statement",
            "run",
            "--clinic",
            &id,
            "--language",
            "en",
            "--out",
            "en",
            "-q",
        ],
    );
    let files = std::fs::read_dir(dir.join("en")).unwrap().count();
    assert_eq!(files, 2, "one page and the index");
    let html = page(&dir.join("en"), id.parse().unwrap());
    for word in [
        "lang=\"en\"",
        "Minimum patient count 2027",
        "treatment need",
        "need-weighted citizens",
        "Doctor capacity",
        "Care packages",
    ] {
        assert!(html.contains(word), "{word}");
    }
    assert!(!html.contains("behandlingsbehov"));
    // English numbers: 1,234.5; the count in thousands with a comma.
    let count: i64 = run.get(3, "min_patients").parse().unwrap();
    if count >= 1000 {
        let english = format!("{},{:03}", count / 1000, count % 1000);
        assert!(html.contains(&english), "{english}");
    }

    let output = run_in(dir, &["statement", "run", "--clinic", "999", "--out", "x"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("999"));
    assert!(!dir.join("x").exists(), "no partial output");
    let output = run_in(dir, &["statement", "run", "--language", "de", "--out", "x"]);
    assert_eq!(output.status.code(), Some(2));
}

/// Each package's addition to need, as the statement and `explain` show
/// it, adds up to the clinic's `need_packages` (what the packages add in
/// the order they apply).
#[test]
fn package_additions_add_up_to_the_packages_part() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let run = Csv::read(&dir.join("run/clinics.csv"));
    let model = reference_model();
    for row in [0, 5, 11] {
        let id = run.get(row, "clinic_id").to_string();
        let output = ok_on_fixtures(
            dir,
            &[
                "explain", "--model", &model, "--clinic", &id, "--format", "json",
            ],
        );
        let account: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let sum: f64 = account["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["clinic_need"].as_f64().unwrap())
            .sum();
        let part = run.f64(row, "need_packages").unwrap();
        assert!(
            (sum - part).abs() < 1e-9 * part.abs().max(1.0),
            "clinic {id}: {sum} against {part}"
        );
        // Packages not in force add nothing.
        for p in account["packages"].as_array().unwrap() {
            if p["phase_share"].as_f64().unwrap() == 0.0 {
                assert_eq!(p["clinic_need"].as_f64().unwrap(), 0.0);
            }
        }
    }
}

#[test]
fn a_decide_output_states_the_final_count_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let run = Csv::read(&dir.join("run/clinics.csv"));
    let id = run.get(2, "clinic_id").to_string();
    let proposal: i64 = run.get(2, "min_patients").parse().unwrap();
    let previous: f64 = run.get(2, "previous_min_patients").parse().unwrap();
    let final_count = proposal - 30;
    std::fs::write(
        dir.join("decisions.csv"),
        format!(
            "clinic_id,min_patients,reason,dialogue,note\n{id},{final_count},local_conditions,agreed,Klinikken deler lokaler & personale\n"
        ),
    )
    .unwrap();
    ok_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "decisions.csv",
            "--out",
            "decided",
            "-q",
        ],
    );
    ok_in(dir, &["statement", "decided", "--out", "st", "-q"]);
    let html = page(&dir.join("st"), id.parse().unwrap());
    assert_eq!(shown_count(&html), Some(final_count));
    assert!(html.contains("regionens afgørelse"));
    assert!(html.contains("Lokale forhold"));
    assert!(html.contains("dialog ført, enighed"));
    assert!(html.contains("afviger −30 patienter"), "deviation stated");
    assert!(
        html.contains("Klinikken deler lokaler &amp; personale"),
        "note, escaped"
    );
    assert!(html.contains("Praksisklagenævnet"));
    let change = final_count as f64 - previous;
    let sign = if change > 0.0 {
        "+"
    } else if change < 0.0 {
        "−"
    } else {
        ""
    };
    assert!(
        html.contains(&format!("Det er {sign}{} patienter", change.abs() as i64)),
        "change of the final count from last year"
    );
    // The model's proposal is shown beside it.
    let thousands = |v: i64| {
        if v >= 1000 {
            format!("{}.{:03}", v / 1000, v % 1000)
        } else {
            v.to_string()
        }
    };
    assert!(html.contains(&format!("Modellens forslag: {}", thousands(proposal))));
    // Clinics without a row keep the proposal.
    let other_id: i64 = run.get(0, "clinic_id").parse().unwrap();
    let other = page(&dir.join("st"), other_id);
    assert_eq!(
        shown_count(&other),
        Some(run.get(0, "min_patients").parse().unwrap())
    );
    assert!(other.contains("Modellens forslag"));
}

#[test]
fn statements_do_not_explain_a_run_its_inputs_no_longer_give() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for name in ["population.parquet", "clinics.parquet"] {
        std::fs::copy(repo().join("fixtures").join(name), dir.join(name)).unwrap();
    }
    let model = reference_model();
    ok_in(
        dir,
        &[
            "run",
            "--population",
            "population.parquet",
            "--clinics",
            "clinics.parquet",
            "--model",
            &model,
            "--out",
            "run",
            "-q",
        ],
    );
    // Threads change no byte.
    ok_in(
        dir,
        &["statement", "run", "--threads", "1", "--out", "one", "-q"],
    );
    ok_in(
        dir,
        &["statement", "run", "--threads", "2", "--out", "two", "-q"],
    );
    assert_eq!(snapshot(&dir.join("one")), snapshot(&dir.join("two")));

    // A count edited in the run's table does not follow from the inputs.
    let path = dir.join("run/clinics.csv");
    let original = std::fs::read_to_string(&path).unwrap();
    let csv = Csv::read(&path);
    let at = csv.col("min_patients");
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    fields[at] = (fields[at].parse::<i64>().unwrap() + 10).to_string();
    lines[1] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = run_in(dir, &["statement", "run", "--out", "bad"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not follow from its inputs"));
    assert!(!dir.join("bad").exists());
    std::fs::write(&path, original).unwrap();

    // A changed input is named.
    std::fs::copy(
        repo().join("fixtures/clinics.parquet"),
        dir.join("population.parquet"),
    )
    .unwrap();
    let output = run_in(dir, &["statement", "run", "--out", "bad"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("population.parquet"));
    assert!(!dir.join("bad").exists());
}

/// A year of a projection: last year's count is the chain's.
#[test]
fn a_projection_year_gets_its_statements() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let model = reference_model();
    ok_on_fixtures(
        dir,
        &[
            "project", "--model", &model, "--from", "2027", "--to", "2028", "--out", "proj", "-q",
        ],
    );
    ok_in(dir, &["statement", "proj/2028", "--out", "st", "-q"]);
    let counts = counts_in_parquet(&dir.join("proj/2028/clinics.parquet"));
    for (&id, &count) in &counts {
        assert_eq!(
            shown_count(&page(&dir.join("st"), id)),
            count,
            "clinic {id}"
        );
    }
}

fn headless(browser: &Path, profile: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// Pages of a PDF Chromium wrote (its page objects are not compressed).
fn pdf_pages(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    text.match_indices("/Type /Page")
        .filter(|(at, m)| !text[at + m.len()..].starts_with('s'))
        .count()
}

/// The longest pages (a decided, capped and flagged clinic with a note, and
/// a format-2 model's terms) print on one A4 page, with no console message,
/// and show the count of `clinics.parquet`.
#[test]
fn statements_print_on_one_page_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("Chromium is required in CI (.ci/run installs Debian's chromium)");
        }
        eprintln!("skipped: no Chromium on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fixture_run(dir);
    let run = Csv::read(&dir.join("run/clinics.csv"));
    // The clinic with the most flags gets a decision with a long note.
    let row = (0..run.rows.len())
        .max_by_key(|&r| run.get(r, "flags").len())
        .unwrap();
    let id = run.get(row, "clinic_id").to_string();
    let proposal: i64 = run.get(row, "min_patients").parse().unwrap();
    let note =
        "Klinikken har dokumenteret særlige lokale forhold, som regionen har vurderet i dialogen. "
            .repeat(3);
    std::fs::write(
        dir.join("decisions.csv"),
        format!(
            "clinic_id,min_patients,reason,dialogue,note\n{id},{},local_conditions,agreed,\"{}\"\n",
            proposal - 40,
            note.trim()
        ),
    )
    .unwrap();
    ok_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "decisions.csv",
            "--out",
            "decided",
            "-q",
        ],
    );
    ok_in(dir, &["statement", "decided", "--out", "st", "-q"]);
    // A format-2 model's statement lists its terms.
    let format2 = repo().join("models/reference-2027.format2.toml");
    let mut pages = vec![(
        dir.join("st").join(format!("clinic-{id}.html")),
        Some(proposal - 40),
    )];
    {
        ok_on_fixtures(
            dir,
            &[
                "run",
                "--model",
                &format2.display().to_string(),
                "--out",
                "run2",
                "-q",
            ],
        );
        ok_in(
            dir,
            &[
                "statement",
                "run2",
                "--language",
                "en",
                "--out",
                "st2",
                "-q",
            ],
        );
        let counts = counts_in_parquet(&dir.join("run2/clinics.parquet"));
        let (&first, &count) = counts.iter().next().unwrap();
        pages.push((dir.join("st2").join(format!("clinic-{first}.html")), count));
    }
    let counts = counts_in_parquet(&dir.join("run/clinics.parquet"));
    let plain: i64 = run.get(0, "clinic_id").parse().unwrap();
    pages.push((
        dir.join("st").join(format!("clinic-{plain}.html")),
        counts[&plain],
    ));

    let profile = tempfile::tempdir().unwrap();
    for (page, count) in pages {
        let url = format!("file://{}", page.display());
        let pdf = dir.join("page.pdf");
        let output = headless(&browser, profile.path())
            .arg("--no-pdf-header-footer")
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(&url)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&output.stderr);
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "{}: {console:#?}", page.display());
        let bytes = std::fs::read(&pdf).unwrap_or_else(|_| panic!("no PDF: {log}"));
        assert_eq!(pdf_pages(&bytes), 1, "{}: one A4 page", page.display());
        // The count shown in the rendered page.
        let output = headless(&browser, profile.path())
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&output.stdout);
        assert_eq!(shown_count(&dom), count, "{}", page.display());
        std::fs::remove_file(&pdf).unwrap();
    }
}

/// A clinic with no listed patients gets a page that says so (no count,
/// no need), not a panic or a page of invented figures.
#[test]
fn a_clinic_without_patients_gets_a_page_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // The fixtures' clinics and one more, 999999, that nobody lists.
    fixture_run(dir);
    let run = Csv::read(&dir.join("run/clinics.csv"));
    let column = |name: &str| -> Vec<String> {
        (0..run.rows.len())
            .map(|r| run.get(r, name).to_string())
            .chain(std::iter::once(match name {
                "clinic_id" => "999999".to_string(),
                _ => run.get(0, name).to_string(),
            }))
            .collect()
    };
    let number =
        |name: &str| -> Vec<f64> { column(name).iter().map(|v| v.parse().unwrap()).collect() };
    let ids: Vec<i32> = number("clinic_id").iter().map(|&v| v as i32).collect();
    let kommuner: Vec<i16> = number("kommune").iter().map(|&v| v as i16).collect();
    let previous: Vec<i32> = number("previous_min_patients")
        .iter()
        .map(|&v| v as i32)
        .collect();
    write_parquet(
        &dir.join("clinics.parquet"),
        vec![
            ("clinic_id", i32s(&ids)),
            ("kommune", i16s(&kommuner)),
            ("capacities", f64s(&number("capacities"))),
            ("previous_min_patients", i32s(&previous)),
        ],
    );
    let population = repo()
        .join("fixtures/population.parquet")
        .display()
        .to_string();
    let model = reference_model();
    ok_in(
        dir,
        &[
            "run",
            "--population",
            &population,
            "--clinics",
            "clinics.parquet",
            "--model",
            &model,
            "--out",
            "run2",
            "-q",
        ],
    );
    ok_in(
        dir,
        &[
            "statement",
            "run2",
            "--clinic",
            "999999",
            "--out",
            "st",
            "-q",
        ],
    );
    let html = page(&dir.join("st"), 999999);
    assert_eq!(shown_count(&html), None);
    assert!(html.contains("ingen tilmeldte patienter"));
    assert!(html.contains("Ingen patienter"));
}
