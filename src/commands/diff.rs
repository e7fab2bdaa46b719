//! `fordeling diff A B`: why each clinic's proposal moved between two
//! output directories (two years, two models, two scenarios), by
//! sequential substitution of the raw count `d · (N/D) · f / mean weight`:
//!
//! 1. population: B's persons, A's model, year, capacities;
//! 2. model: B's coefficients and closing fraction, still A's year;
//! 3. packages: B's year (the packages in force and their phase);
//! 4. capacity: B's clinic capacities and `D`;
//! 5. load level: B's load level (nation, region or sundhedsråd), where
//!    steps 1 to 4 take B's model at A's level;
//! 6. caps and rounding: what floors, ceilings, transition caps and
//!    rounding made of the raw counts on both sides.
//!
//! The six parts add up to B's proposal minus A's by construction. The
//! inputs are re-read from the paths in the two manifests, and must still
//! have the SHA-256 recorded there.

use super::Failure;
use crate::error::{Error, InputError, OutputError};
use crate::model::Model;
use crate::output::schema::{read_csv, read_json, ClinicRecord, DiffColumns, RunManifest};
use crate::{compute_with, load_inputs, InputPaths, Inputs, RunParams};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One side of the comparison, as its manifest describes it.
#[derive(Debug, Clone)]
struct Side {
    paths: InputPaths,
    year: i32,
    /// `None`: the clinics' own total.
    capacity_total: Option<f64>,
    proposals: BTreeMap<i32, Option<i64>>,
}

fn read_side(dir: &Path) -> Result<Side, Error> {
    let manifest_path = dir.join("manifest.json");
    let bad = |detail: String| InputError::Other {
        path: manifest_path.clone(),
        detail,
    };
    let m: RunManifest = read_json(&manifest_path)?;
    let input = |name: &str| -> Result<(PathBuf, String), InputError> {
        let source = m.input(name, &manifest_path)?;
        Ok((PathBuf::from(&source.path), source.sha256.clone()))
    };
    let (population, population_sha) = input("population")?;
    let (clinics, clinics_sha) = input("clinics")?;
    let (geography, geography_sha) = input("geography")?;
    let model = PathBuf::from(&m.model.path);
    let model_sha = m.model.sha256.clone();
    for (path, sha) in [
        (&population, &population_sha),
        (&clinics, &clinics_sha),
        (&model, &model_sha),
    ] {
        let now = crate::ingest::hash_file(path)?;
        if &now != sha {
            return Err(bad(format!(
                "the input `{}` has changed since the run (SHA-256 {now}, the manifest says {sha})",
                path.display()
            ))
            .into());
        }
    }
    let built_in = geography.to_str() == Some(crate::ingest::geography::BUILT_IN_NAME);
    if !built_in && crate::ingest::hash_file(&geography)? != geography_sha {
        return Err(bad(format!(
            "the input `{}` has changed since the run",
            geography.display()
        ))
        .into());
    }
    let capacity_total = (m.capacity_total_from == "--capacity-total").then_some(m.capacity_total);
    let csv_path = dir.join("clinics.csv");
    let mut proposals = BTreeMap::new();
    for (k, row) in read_csv::<ClinicRecord>(&csv_path)?.into_iter().enumerate() {
        let id = row
            .clinic_id
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| InputError::BadValue {
                path: csv_path.clone(),
                column: "clinic_id".into(),
                row: k as u64 + 1,
                value: row.clinic_id.map_or_else(String::new, |v| v.to_string()),
                expected: "a clinic id".into(),
            })?;
        proposals.insert(id, row.min_patients);
    }
    Ok(Side {
        paths: InputPaths {
            memory: Default::default(),
            population,
            clinics,
            geography: (!built_in).then_some(geography),
            model,
            nulls_as_unknown: m.nulls_as_unknown,
            outcomes: false,
            load_level: Some(
                crate::model::LoadLevel::parse(&m.load_level).ok_or_else(|| {
                    bad(format!(
                        "load_level `{}` is not one of nation, region, sundhedsraad",
                        m.load_level
                    ))
                })?,
            ),
        },
        year: m.year,
        capacity_total,
        proposals,
    })
}

/// One step of the substitution: each clinic's mean weight and the load
/// its count uses, by clinic id.
type Step = BTreeMap<i32, (Option<f64>, f64)>;

/// A step's mean weights and loads, for a population under a model (at
/// its load level) in a year, with `D` given or the clinics' own.
fn step(
    inputs: &Inputs,
    model: &Model,
    year: i32,
    capacity_total: Option<f64>,
) -> Result<(Step, crate::aggregate::Need), Error> {
    let result = compute_with(
        inputs,
        model,
        &RunParams {
            year,
            capacity_total,
        },
    )?;
    let step = inputs
        .clinics
        .clinic_id
        .iter()
        .zip(&result.need.clinics)
        .zip(&result.clinic_loads)
        .map(|((&id, need), &load)| (id, (need.mean_weight, load)))
        .collect();
    Ok((step, result.need))
}

/// The loads by clinic id of `need` at `level` with `D` given or not
/// (the steps that change only capacities or the level reuse the need).
fn loads_at(
    inputs: &Inputs,
    need: &crate::aggregate::Need,
    level: crate::model::LoadLevel,
    capacity_total: Option<f64>,
) -> BTreeMap<i32, f64> {
    let d = capacity_total.unwrap_or_else(|| inputs.clinics.total_capacities());
    let national = crate::proposal::reference_load(need.persons, d);
    let loads = crate::load::loads(
        level,
        national,
        need,
        &inputs.clinics,
        &inputs.geography,
        capacity_total,
    );
    inputs
        .clinics
        .clinic_id
        .iter()
        .copied()
        .zip(loads.by_clinic)
        .collect()
}

/// One clinic's change and its parts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClinicChange {
    pub clinic_id: i32,
    pub min_patients_a: Option<i64>,
    pub min_patients_b: Option<i64>,
    pub change: Option<f64>,
    pub population: Option<f64>,
    pub model: Option<f64>,
    pub packages: Option<f64>,
    pub capacity: Option<f64>,
    /// A change of load level (nation, region, sundhedsråd).
    pub load_level: Option<f64>,
    pub caps_and_rounding: Option<f64>,
    /// `attributed`, `only in A`, `only in B`, or `no count`.
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffSummary {
    pub a: String,
    pub b: String,
    pub clinics: usize,
    pub attributed: usize,
    /// Sum over attributed clinics of each part.
    pub totals: BTreeMap<&'static str, f64>,
    /// The 20 clinics that moved most.
    pub largest_movers: Vec<ClinicChange>,
}

/// Attributes every clinic's change and writes `diff.parquet`, `diff.csv`
/// and `summary.json` into `out`, atomically.
pub fn diff(a_dir: &Path, b_dir: &Path, out: &Path) -> Result<DiffSummary, Error> {
    let a = read_side(a_dir)?;
    let b = read_side(b_dir)?;
    let inputs_a = load_inputs(&a.paths)?;
    let inputs_b = load_inputs(&b.paths)?;
    let (model_a, model_b) = (&inputs_a.model.model, &inputs_b.model.model);
    if !model_a.reads_like(model_b) {
        return Err(InputError::Other {
            path: b.paths.model.clone(),
            detail: "the two models read the population differently (other conditions, or other format-2 variables, flags or numeric columns); diff can attribute changes only between models that read the same columns".into(),
        }
        .into());
    }
    let d_total_a = a
        .capacity_total
        .unwrap_or_else(|| inputs_a.clinics.total_capacities());
    let (f_a, f_b) = (
        model_a.proposal.closing_fraction,
        model_b.proposal.closing_fraction,
    );
    // Until the level step, B's model is taken at A's load level.
    let level_a = model_a.proposal.load_level;
    let mut model_b_at_a = model_b.clone();
    model_b_at_a.proposal.load_level = level_a;
    let (w0, _) = step(&inputs_a, model_a, a.year, a.capacity_total)?;
    let (w1, _) = step(&inputs_b, model_a, a.year, Some(d_total_a))?;
    let (w2, _) = step(&inputs_b, &model_b_at_a, a.year, Some(d_total_a))?;
    let (w3, need_b) = step(&inputs_b, &model_b_at_a, b.year, Some(d_total_a))?;
    let l4 = loads_at(&inputs_b, &need_b, level_a, b.capacity_total);
    let l5 = loads_at(
        &inputs_b,
        &need_b,
        model_b.proposal.load_level,
        b.capacity_total,
    );
    let capacity = |inputs: &Inputs, id: i32| {
        inputs
            .clinics
            .index_of(id)
            .map(|c| inputs.clinics.capacities[c as usize])
    };

    let ids: std::collections::BTreeSet<i32> = a
        .proposals
        .keys()
        .chain(b.proposals.keys())
        .copied()
        .collect();
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let pa = a.proposals.get(&id).copied().flatten();
        let pb = b.proposals.get(&id).copied().flatten();
        let mut row = ClinicChange {
            clinic_id: id,
            min_patients_a: pa,
            min_patients_b: pb,
            change: match (pa, pb) {
                (Some(x), Some(y)) => Some((y - x) as f64),
                _ => None,
            },
            population: None,
            model: None,
            packages: None,
            capacity: None,
            load_level: None,
            caps_and_rounding: None,
            status: "no count",
        };
        match (a.proposals.contains_key(&id), b.proposals.contains_key(&id)) {
            (true, false) => row.status = "only in A",
            (false, true) => row.status = "only in B",
            _ => {}
        }
        let at = |s: &Step| match s.get(&id) {
            Some(&(Some(m), l)) => Some((m, l)),
            _ => None,
        };
        if let (
            Some(x),
            Some(y),
            Some(da),
            Some(db),
            (Some((m0, l0)), Some((m1, l1)), Some((m2, l2)), Some((m3, l3))),
            Some(&l4),
            Some(&l5),
        ) = (
            pa,
            pb,
            capacity(&inputs_a, id),
            capacity(&inputs_b, id),
            (at(&w0), at(&w1), at(&w2), at(&w3)),
            l4.get(&id),
            l5.get(&id),
        ) {
            let r0 = da * l0 * f_a / m0;
            let r1 = da * l1 * f_a / m1;
            let r2 = da * l2 * f_b / m2;
            let r3 = da * l3 * f_b / m3;
            let r4 = db * l4 * f_b / m3;
            let r5 = db * l5 * f_b / m3;
            let total = (y - x) as f64;
            row.population = Some(r1 - r0);
            row.model = Some(r2 - r1);
            row.packages = Some(r3 - r2);
            row.capacity = Some(r4 - r3);
            row.load_level = Some(r5 - r4);
            row.caps_and_rounding = Some(total - (r5 - r0));
            row.status = "attributed";
        }
        rows.push(row);
    }

    let mut totals = BTreeMap::new();
    for (name, get) in [
        (
            "population",
            (|r: &ClinicChange| r.population) as fn(&ClinicChange) -> Option<f64>,
        ),
        ("model", |r| r.model),
        ("packages", |r| r.packages),
        ("capacity", |r| r.capacity),
        ("load_level", |r| r.load_level),
        ("caps_and_rounding", |r| r.caps_and_rounding),
        ("change", |r| {
            if r.status == "attributed" {
                r.change
            } else {
                None
            }
        }),
    ] {
        totals.insert(name, rows.iter().filter_map(get).sum());
    }
    let mut movers: Vec<&ClinicChange> = rows.iter().filter(|r| r.change.is_some()).collect();
    movers.sort_by(|x, y| {
        y.change
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&x.change.unwrap_or(0.0).abs())
            .then(x.clinic_id.cmp(&y.clinic_id))
    });
    let summary = DiffSummary {
        a: a_dir.display().to_string(),
        b: b_dir.display().to_string(),
        clinics: rows.len(),
        attributed: rows.iter().filter(|r| r.status == "attributed").count(),
        totals,
        largest_movers: movers.into_iter().take(20).cloned().collect(),
    };

    let float = |f: fn(&ClinicChange) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let table = DiffColumns {
        clinic_id: rows.iter().map(|r| Some(i64::from(r.clinic_id))).collect(),
        min_patients_a: rows.iter().map(|r| r.min_patients_a).collect(),
        min_patients_b: rows.iter().map(|r| r.min_patients_b).collect(),
        change: float(|r| r.change),
        population: float(|r| r.population),
        model: float(|r| r.model),
        packages: float(|r| r.packages),
        capacity: float(|r| r.capacity),
        load_level: float(|r| r.load_level),
        caps_and_rounding: float(|r| r.caps_and_rounding),
        status: rows.iter().map(|r| r.status.to_string()).collect(),
    }
    .table();
    crate::output::atomic::write_dir_atomically(out, |dir| -> Result<(), OutputError> {
        table.write_parquet(&dir.join("diff.parquet"))?;
        table.write_csv(&dir.join("diff.csv"))?;
        let path = dir.join("summary.json");
        let text = crate::output::json_text(&summary).map_err(|e| OutputError::write(&path, e))?;
        crate::output::write_text(&path, &text)
    })?;
    Ok(summary)
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier (or baseline) output directory.
    pub a: PathBuf,
    /// The later (or variant) output directory.
    pub b: PathBuf,
    /// Output directory for diff.parquet, diff.csv and summary.json; replaced atomically.
    #[arg(long, default_value = "out-diff")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `fordeling diff` and logs the attribution of the total change.
pub fn execute(args: &DiffArgs) -> Result<(), Failure> {
    let summary = super::in_pool(args.threads, || diff(&args.a, &args.b, &args.out))?;
    if !args.quiet {
        tracing::info!(
            "fordeling: {} clinics, {} attributed; total change {:.0} = population {:.0} + model {:.0} + packages {:.0} + capacity {:.0} + load level {:.0} + caps and rounding {:.0}; wrote {}",
            summary.clinics,
            summary.attributed,
            summary.totals["change"],
            summary.totals["population"],
            summary.totals["model"],
            summary.totals["packages"],
            summary.totals["capacity"],
            summary.totals["load_level"],
            summary.totals["caps_and_rounding"],
            args.out.display()
        );
    }
    Ok(())
}
