//! `fordeling statement DIR`: a printable page per clinic explaining its
//! count (SPEC section 8), from a run's output directory (also one year of
//! `project`) or a `decide` output. The run's manifest names the inputs,
//! the year, `D` and the load level; the run's clinic table gives last
//! year's counts. The year is computed again from them (the inputs must
//! have the SHA-256 the manifest records, and every recomputed count must
//! equal the one in the run's `clinics.csv`), then every clinic's account
//! is formed in one pass over the persons and written as a page
//! (`page.rs`, which renders an account and knows no files).

pub mod page;

use super::decide::read_run;
use super::explain::accounts;
use super::Failure;
use crate::error::{Error, InputError};
use crate::inputs::{load_inputs, InputPaths};
use crate::output::schema::{read_csv, DecideManifest, DecisionRecord, RunManifest};
use crate::year::{compute, RunParams};
use clap::Args;
use page::{Context, Decision, IndexRow, Language};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct StatementArgs {
    /// The output directory of `fordeling run` (or one year of `project`), or of `fordeling decide`.
    pub dir: PathBuf,
    /// Only this clinic (`clinic_id`); default: every clinic.
    #[arg(long)]
    pub clinic: Option<i32>,
    /// da (Danish, the default) or en (English).
    #[arg(long, default_value = "da", value_parser = language)]
    pub language: Language,
    /// Output directory: clinic-<id>.html per clinic and index.html; replaced atomically.
    // The help text is shown as written; it is not rustdoc markup.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long, default_value = "statements")]
    pub out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

fn language(text: &str) -> Result<Language, String> {
    Language::parse(text).ok_or_else(|| format!("`{text}` is not one of da, en"))
}

fn other(path: &Path, detail: impl Into<String>) -> Error {
    InputError::Other {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
    .into()
}

/// The directory an invocation's relative paths were given in: the one
/// recorded in `manifest` when it still exists, else the current one.
fn base_of(manifest: &serde_json::Value) -> PathBuf {
    manifest
        .get("invocation")
        .and_then(|i| i.get("cwd"))
        .and_then(|c| c.as_str())
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_default()
}

fn read_value(path: &Path) -> Result<serde_json::Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| other(path, format!("not a manifest of fordeling: {e}")))
}

/// What `statement` found: the clinics written.
#[derive(Debug, Clone)]
pub struct StatementSummary {
    pub clinics: usize,
    pub year: i32,
    pub decided: bool,
}

/// Writes the statements of `dir` into `out`.
pub fn statements(
    dir: &Path,
    clinic: Option<i32>,
    language: Language,
    out: &Path,
) -> Result<StatementSummary, Error> {
    let manifest_path = dir.join("manifest.json");
    if !dir.is_dir() {
        return Err(other(dir, "no such directory"));
    }
    let value = read_value(&manifest_path)?;
    // A decide output names its run; a run is its own.
    let (run_dir, decisions) = if value.get("decisions").is_some() && value.get("run").is_some() {
        let decide: DecideManifest = crate::output::schema::read_json(&manifest_path)?;
        let run_dir = base_of(&value).join(&decide.run.path);
        let rows: Vec<DecisionRecord> = read_csv(&dir.join("decisions.csv"))?;
        (run_dir, Some((decide, rows)))
    } else {
        (dir.to_path_buf(), None)
    };
    let run = read_run(&run_dir)?;
    if let Some((decide, _)) = &decisions {
        if decide.run.manifest_sha256 != run.manifest_sha256 {
            return Err(other(
                &run_dir.join("manifest.json"),
                format!(
                    "the run's manifest has changed since `decide` (SHA-256 {} where the decisions' manifest says {})",
                    run.manifest_sha256, decide.run.manifest_sha256
                ),
            ));
        }
    }
    let m: &RunManifest = &run.manifest;
    let run_value = read_value(&run_dir.join("manifest.json"))?;
    let base = base_of(&run_value);
    let input = |name: &str| -> Result<(PathBuf, String), Error> {
        let source = m.input(name, &run_dir.join("manifest.json"))?;
        Ok((base.join(&source.path), source.sha256.clone()))
    };
    let (population, population_sha) = input("population")?;
    let (clinics_path, clinics_sha) = input("clinics")?;
    let geography = &m.input("geography", &run_dir.join("manifest.json"))?.path;
    let paths = InputPaths {
        memory: Default::default(),
        population,
        clinics: clinics_path,
        geography: (geography != crate::ingest::geography::BUILT_IN_NAME)
            .then(|| base.join(geography)),
        model: base.join(&m.model.path),
        nulls_as_unknown: m.nulls_as_unknown,
        outcomes: false,
        load_level: crate::model::LoadLevel::parse(&m.load_level),
    };
    let mut inputs = load_inputs(&paths)?;
    let geography_sha = &m.input("geography", &run_dir.join("manifest.json"))?.sha256;
    for (what, path, now, then) in [
        (
            "population",
            &paths.population,
            &inputs.population_source.sha256,
            &population_sha,
        ),
        (
            "clinics",
            &paths.clinics,
            &inputs.clinics_source.sha256,
            &clinics_sha,
        ),
        (
            "geography",
            &PathBuf::from(&inputs.geography_source.path),
            &inputs.geography_source.sha256,
            geography_sha,
        ),
        ("model", &paths.model, &inputs.model.sha256, &m.model.sha256),
    ] {
        if now != then {
            return Err(other(
                path,
                format!(
                    "the {what} file has changed since the run (SHA-256 {now} where the run's manifest says {then}); the statement would not explain the run's counts"
                ),
            ));
        }
    }
    // Last year's counts as the run used them (in a projection, the chain's).
    let by_id: BTreeMap<i64, &crate::output::schema::ClinicRecord> = run
        .clinics
        .iter()
        .filter_map(|r| r.clinic_id.map(|id| (id, r)))
        .collect();
    for (c, id) in inputs.clinics.clinic_id.clone().iter().enumerate() {
        let record = by_id.get(&i64::from(*id)).ok_or_else(|| {
            other(
                &run.clinics_path,
                format!("clinic {id} of the clinics file is not in the run's clinic table"),
            )
        })?;
        if let Some(previous) = record.previous_min_patients {
            inputs.clinics.previous_min_patients[c] = previous;
        }
    }
    let params = RunParams {
        year: m.year,
        capacity_total: (m.capacity_total_from != "clinics").then_some(m.capacity_total),
    };
    let result = compute(&inputs, &params)?;
    for (c, proposal) in result.proposals.iter().enumerate() {
        let id = i64::from(inputs.clinics.clinic_id[c]);
        let written = by_id.get(&id).and_then(|r| r.min_patients);
        if written != proposal.min_patients {
            return Err(other(
                &run.clinics_path,
                format!(
                    "clinic {id}: the run says {} but its inputs give {}; the directory does not follow from its inputs (see `fordeling verify`)",
                    written.map_or_else(|| "none".into(), |v| v.to_string()),
                    proposal.min_patients.map_or_else(|| "none".into(), |v| v.to_string())
                ),
            ));
        }
    }
    let which: Vec<usize> = match clinic {
        Some(id) => {
            let c = inputs
                .clinics
                .index_of(id)
                .ok_or_else(|| InputError::UnknownReference {
                    path: PathBuf::from("--clinic"),
                    column: "clinic_id".into(),
                    row: 1,
                    value: id.to_string(),
                    other: paths.clinics.clone(),
                })?;
            vec![c as usize]
        }
        None => (0..inputs.clinics.len()).collect(),
    };
    let tables = inputs.year_tables(&inputs.model.model, m.year)?;
    let accounts = accounts(&inputs, &result, &tables, &which);
    let kommune_weight: BTreeMap<&str, Option<f64>> = result
        .areas
        .iter()
        .filter(|r| r.level == crate::areas::Level::Kommune)
        .map(|r| (r.code.as_str(), r.mean_weight))
        .collect();
    let decided: BTreeMap<i64, &DecisionRecord> = decisions
        .as_ref()
        .map(|(_, rows)| {
            rows.iter()
                .filter_map(|r| r.clinic_id.map(|id| (id, r)))
                .collect()
        })
        .unwrap_or_default();
    let rules = &inputs.model.model.proposal;
    let mut pages = Vec::with_capacity(accounts.len());
    let mut index = Vec::with_capacity(accounts.len());
    for a in &accounts {
        let decision = decided.get(&i64::from(a.clinic_id)).map(|r| Decision {
            final_min_patients: r.final_min_patients,
            proposal: r.proposal,
            deviation: r.deviation,
            deviation_pct: r.deviation_pct,
            reason: r.reason.clone(),
            dialogue: r.dialogue.clone(),
            note: r.note.clone(),
        });
        if decisions.is_some() && decision.is_none() {
            return Err(other(
                &dir.join("decisions.csv"),
                format!("clinic {} has no row", a.clinic_id),
            ));
        }
        let flags = a.flags.iter().map(|f| f.flag).collect::<Vec<_>>().join(";");
        index.push(IndexRow {
            clinic_id: a.clinic_id,
            kommune: a.kommune_name.clone(),
            sundhedsraad: a.sundhedsraad.clone(),
            count: decision
                .as_ref()
                .map_or(a.steps.min_patients, |d| d.final_min_patients),
            flags,
        });
        let context = Context {
            kommune_mean_weight: kommune_weight
                .get(a.kommune.to_string().as_str())
                .copied()
                .flatten(),
            max_increase: rules.max_increase,
            max_decrease: rules.max_decrease,
            dialogue_threshold: rules.dialogue_threshold,
            run_manifest_sha256: run.manifest_sha256.clone(),
            engine: m.engine.describe(),
            decision,
        };
        pages.push((a.clinic_id, page::page(a, &context, language)));
    }
    let index_html = page::index(m.year, &index, decisions.is_some(), language);
    crate::output::atomic::write_dir_atomically(
        out,
        |dir| -> Result<(), crate::error::OutputError> {
            for (id, html) in &pages {
                crate::output::write_text(&dir.join(page::file_name(*id)), html)?;
            }
            crate::output::write_text(&dir.join("index.html"), &index_html)
        },
    )?;
    Ok(StatementSummary {
        clinics: pages.len(),
        year: m.year,
        decided: decisions.is_some(),
    })
}

/// Runs `fordeling statement` and logs what it wrote.
pub fn execute(args: &StatementArgs) -> Result<(), Failure> {
    let summary = super::in_pool(args.threads, || {
        statements(&args.dir, args.clinic, args.language, &args.out)
    })?;
    if !args.quiet {
        tracing::info!(
            "fordeling: {} statement(s) for {}{} into {}",
            summary.clinics,
            summary.year,
            if summary.decided {
                " with the region's decisions"
            } else {
                ""
            },
            args.out.display()
        );
    }
    Ok(())
}
