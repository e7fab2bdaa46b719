//! `fordeling decide RUN_DIR --decisions FILE --out DIR`: the region's
//! final counts on a run's proposals (SPEC section 7): `decisions.*`,
//! `coverage.*`, `clinics_next.parquet` (next year's clinics file) and a
//! manifest naming the run by the SHA-256 of its manifest.

use super::Failure;
use crate::decisions::{self, Decided, Proposed};
use crate::error::{Error, InputError, OutputError};
use crate::output::schema::{
    read_csv, read_json, AreaRecord, ClinicRecord, ClinicsNextColumns, CoverageColumns,
    DecideManifest, DecisionColumns, Engine, InputFile, ReasonCount, RunManifest, RunReference,
};
use crate::output::table::Table;
use crate::proposal::{round_to_multiple, Flags};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, Args, serde::Serialize, serde::Deserialize)]
pub struct DecideArgs {
    /// The output directory of `fordeling run` (or one year of `project`).
    pub run_dir: PathBuf,
    /// The region's decisions, CSV (`,` or Danish Excel's `;`) or Parquet: clinic_id,
    /// min_patients, reason[, dialogue, note].
    #[arg(long)]
    pub decisions: PathBuf,
    /// Output directory; replaced atomically.
    #[arg(long, default_value = "out-decisions")]
    pub out: PathBuf,
    /// Also write report.html: final counts against proposals, deviations by reason, coverage map.
    #[arg(long)]
    pub report: bool,
    /// Also write decisions.xlsx: every table as a sheet.
    #[arg(long)]
    pub xlsx: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What a run's output directory holds that `decide` needs.
pub struct RunOutput {
    pub manifest: RunManifest,
    pub manifest_sha256: String,
    pub clinics: Vec<ClinicRecord>,
    pub areas: Vec<AreaRecord>,
    pub clinics_path: PathBuf,
}

/// Reads a run's output directory; an error when it is not one.
pub fn read_run(dir: &Path) -> Result<RunOutput, InputError> {
    let not_a_run = |what: &str| {
        InputError::Other {
        path: dir.to_path_buf(),
        detail: format!(
            "not the output directory of `fordeling run` ({what}; expected manifest.json, clinics.csv and areas.csv of a run)"
        ),
    }
    };
    let manifest_path = dir.join("manifest.json");
    if !dir.is_dir() {
        return Err(not_a_run("no such directory"));
    }
    for name in ["manifest.json", "clinics.csv", "areas.csv"] {
        if !dir.join(name).is_file() {
            return Err(not_a_run(&format!("no {name}")));
        }
    }
    let manifest: RunManifest = read_json(&manifest_path)
        .map_err(|e| not_a_run(&format!("manifest.json is not a run's manifest: {e}")))?;
    let bytes = std::fs::read(&manifest_path).map_err(|source| InputError::Open {
        path: manifest_path.clone(),
        source,
    })?;
    let clinics_path = dir.join("clinics.csv");
    Ok(RunOutput {
        manifest,
        manifest_sha256: crate::model::sha256_hex(&bytes),
        clinics: read_csv(&clinics_path)?,
        areas: read_csv(&dir.join("areas.csv"))?,
        clinics_path,
    })
}

/// The run's clinics as `decide` takes them.
fn proposed(run: &RunOutput) -> Result<Vec<Proposed>, InputError> {
    run.clinics
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let bad = |column: &str| InputError::Null {
                path: run.clinics_path.clone(),
                column: column.to_string(),
                row: k as u64 + 1,
                hint: " (the run's own output: was it edited?)".into(),
            };
            Ok(Proposed {
                clinic_id: r
                    .clinic_id
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(|| bad("clinic_id"))?,
                proposal: r.min_patients,
                previous_min_patients: r
                    .previous_min_patients
                    .ok_or_else(|| bad("previous_min_patients"))?,
                listed: r.n_patients.unwrap_or(0).max(0) as u64,
                flags: Flags::from_text(&r.flags),
            })
        })
        .collect()
}

/// What a finished `decide` did.
#[derive(Debug, Clone)]
pub struct DecideSummary {
    pub manifest: DecideManifest,
}

/// The three tables of a decide output.
pub struct DecideTables {
    pub decisions: Table,
    pub coverage: Table,
    pub clinics_next: Table,
}

/// The decisions table.
pub fn decision_table(decided: &[Decided]) -> Table {
    DecisionColumns {
        clinic_id: decided
            .iter()
            .map(|d| Some(i64::from(d.clinic_id)))
            .collect(),
        proposal: decided.iter().map(|d| d.proposal).collect(),
        final_min_patients: decided.iter().map(|d| d.final_min_patients).collect(),
        deviation: decided.iter().map(|d| d.deviation).collect(),
        deviation_pct: decided.iter().map(|d| d.deviation_pct).collect(),
        reason: decided
            .iter()
            .map(|d| d.reason.as_str().to_string())
            .collect(),
        dialogue: decided
            .iter()
            .map(|d| d.dialogue.as_str().to_string())
            .collect(),
        note: decided.iter().map(|d| d.note.clone()).collect(),
        flags: decided.iter().map(|d| d.flags.to_text()).collect(),
    }
    .table()
}

/// Applies the decisions file to a run's output and writes the result
/// into `out`, atomically.
pub fn decide(
    run_dir: &Path,
    decisions_path: &Path,
    out: &Path,
    report: bool,
    xlsx: bool,
    recorded: Option<&crate::output::schema::Recorded>,
) -> Result<DecideSummary, Error> {
    let started = Instant::now();
    let run = read_run(run_dir)?;
    let threshold = run.manifest.dialogue_threshold.ok_or_else(|| InputError::Other {
        path: run_dir.join("manifest.json"),
        detail: "the manifest has no dialogue_threshold (written by an engine before 0.15); run the year again".into(),
    })?;
    let rows = decisions::ingest_rows(decisions_path)?;
    let clinics = proposed(&run)?;
    let decided = decisions::decide(
        &clinics,
        &rows,
        threshold,
        decisions_path,
        &run.clinics_path,
    )?;

    let located: Vec<(String, String)> = run
        .clinics
        .iter()
        .map(|r| (r.sundhedsraad.clone(), r.region.clone()))
        .collect();
    let listed: Vec<u64> = clinics.iter().map(|c| c.listed).collect();
    let areas: Vec<(&'static str, String, Option<u64>)> = run
        .areas
        .iter()
        .filter_map(|a| {
            let level = match a.level.as_str() {
                "sundhedsraad" => "sundhedsraad",
                "region" => "region",
                _ => return None,
            };
            Some((level, a.code.clone(), a.residents.map(|r| r.max(0) as u64)))
        })
        .collect();
    let coverage = decisions::coverage(&decided, &listed, &located, &areas);
    let names: std::collections::BTreeMap<(&str, &str), &str> = run
        .areas
        .iter()
        .map(|a| ((a.level.as_str(), a.code.as_str()), a.name.as_str()))
        .collect();

    let tables = DecideTables {
        decisions: decision_table(&decided),
        coverage: CoverageColumns {
            level: coverage.iter().map(|c| c.level.to_string()).collect(),
            code: coverage.iter().map(|c| c.name.clone()).collect(),
            name: coverage
                .iter()
                .map(|c| {
                    names
                        .get(&(c.level, c.name.as_str()))
                        .map_or_else(|| c.name.clone(), |n| n.to_string())
                })
                .collect(),
            final_min_patients: coverage
                .iter()
                .map(|c| Some(c.final_min_patients))
                .collect(),
            listed: coverage.iter().map(|c| Some(c.listed as i64)).collect(),
            residents: coverage
                .iter()
                .map(|c| c.residents.map(|r| r as i64))
                .collect(),
            covered: coverage.iter().map(|c| c.covered).collect(),
        }
        .table(),
        clinics_next: ClinicsNextColumns {
            clinic_id: run.clinics.iter().map(|r| r.clinic_id).collect(),
            kommune: run.clinics.iter().map(|r| r.kommune).collect(),
            capacities: run.clinics.iter().map(|r| r.capacities).collect(),
            capacity_adjustment: run.clinics.iter().map(|r| r.capacity_adjustment).collect(),
            previous_min_patients: decided
                .iter()
                .zip(&clinics)
                .map(|(d, c)| {
                    Some(round_to_multiple(
                        decisions::next_previous(d, c.previous_min_patients),
                        1,
                    ))
                })
                .collect(),
            vulnerable_area: clinics
                .iter()
                .map(|c| Some(c.flags.vulnerable_area))
                .collect(),
        }
        .table(),
    };

    let councils: Vec<_> = coverage
        .iter()
        .filter(|c| c.level == "sundhedsraad")
        .collect();
    let decisions_source = crate::inputs::Source {
        path: decisions_path.display().to_string(),
        rows: rows.len() as u64,
        sha256: crate::ingest::hash_file(decisions_path)?,
    };
    let manifest = DecideManifest {
        engine: Engine::this(),
        run: RunReference {
            path: run_dir.display().to_string(),
            manifest_sha256: run.manifest_sha256.clone(),
            year: run.manifest.year,
            model_id: run.manifest.model.id.clone(),
            load_level: run.manifest.load_level.clone(),
        },
        decisions: decisions_source.clone(),
        dialogue_threshold: threshold,
        clinics: decided.len(),
        decided: decided.iter().filter(|d| d.decided).count(),
        deviating: decided
            .iter()
            .filter(|d| d.deviation.is_some_and(|v| v != 0))
            .count(),
        by_reason: decisions::by_reason(&decided)
            .into_iter()
            .map(|(reason, clinics, deviation)| ReasonCount {
                reason: reason.as_str().to_string(),
                clinics,
                deviation,
            })
            .collect(),
        dialogue: decided.iter().filter(|d| d.flags.dialogue).count(),
        vulnerable_area: decided.iter().filter(|d| d.flags.vulnerable_area).count(),
        sundhedsraad_covered: councils.iter().filter(|c| c.covered == Some(true)).count(),
        sundhedsraad: councils.len(),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        invocation: match recorded {
            None => None,
            Some(r) => {
                let file = |role: &str, name: &str| -> Result<InputFile, InputError> {
                    let path = run_dir.join(name);
                    Ok(InputFile {
                        role: role.into(),
                        path: path.display().to_string(),
                        sha256: crate::ingest::hash_file(&path)?,
                    })
                };
                Some(r.invocation(vec![
                    file("run manifest", "manifest.json")?,
                    file("run clinics", "clinics.csv")?,
                    file("run areas", "areas.csv")?,
                    InputFile::new("decisions", &decisions_source),
                ]))
            }
        },
    };
    crate::output::atomic::write_dir_atomically(out, |dir| -> Result<(), OutputError> {
        write_decide_files(dir, &tables, &manifest)?;
        if report {
            crate::output::report_into(dir)?;
        }
        if xlsx {
            crate::output::xlsx::write(
                &dir.join("decisions.xlsx"),
                &[
                    ("decisions", &tables.decisions),
                    ("coverage", &tables.coverage),
                    ("clinics_next", &tables.clinics_next),
                ],
            )?;
        }
        Ok(())
    })?;
    Ok(DecideSummary { manifest })
}

/// Writes the tables and the manifest of a decide output into `dir`.
pub fn write_decide_files(
    dir: &Path,
    tables: &DecideTables,
    manifest: &DecideManifest,
) -> Result<(), OutputError> {
    tables
        .decisions
        .write_parquet(&dir.join("decisions.parquet"))?;
    tables.decisions.write_csv(&dir.join("decisions.csv"))?;
    tables
        .coverage
        .write_parquet(&dir.join("coverage.parquet"))?;
    tables.coverage.write_csv(&dir.join("coverage.csv"))?;
    tables
        .clinics_next
        .write_parquet(&dir.join("clinics_next.parquet"))?;
    let path = dir.join("manifest.json");
    let text = crate::output::json_text(manifest).map_err(|e| OutputError::write(&path, e))?;
    crate::output::write_text(&path, &text)
}

/// Runs `fordeling decide` and logs what it did.
pub fn execute(args: &DecideArgs) -> Result<(), Failure> {
    let summary = decide(
        &args.run_dir,
        &args.decisions,
        &args.out,
        args.report,
        args.xlsx,
        Some(&crate::output::schema::Recorded::new("decide", args)),
    )?;
    if !args.quiet {
        let m = &summary.manifest;
        tracing::info!(
            "fordeling: {} clinics, {} decided, {} deviate from the proposal; {} of {} sundhedsråd covered; wrote {}",
            m.clinics,
            m.decided,
            m.deviating,
            m.sundhedsraad_covered,
            m.sundhedsraad,
            args.out.display()
        );
    }
    Ok(())
}
