//! The files a run writes (SPEC section 5): `clinics.parquet`/`.csv`,
//! `areas.parquet`/`.csv` and `manifest.json`, all into one directory that
//! appears atomically. Only this module knows the output formats.

pub mod atomic;
mod decimal;
pub mod schema;
pub mod table;
pub mod xlsx;

use crate::areas::AreaRow;
use crate::error::OutputError;
use crate::{Inputs, RunResult};
use schema::{Engine, ModelInfo, RunManifest};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use table::Table;

/// What the manifest says about how the run was made (beyond the results).
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub threads: usize,
    pub wall_time_seconds: f64,
    /// Whether `person_weights.parquet` was written (person-level data).
    pub person_weights_written: bool,
    /// How the run was invoked (`None`: not from the command line).
    pub invocation: Option<schema::Invocation>,
}

/// The files a run read, for its invocation: model, population, clinics
/// and geography.
pub fn run_inputs(inputs: &Inputs) -> Vec<schema::InputFile> {
    let model = &inputs.model;
    vec![
        schema::InputFile {
            role: "model".into(),
            path: model.path.display().to_string(),
            sha256: model.sha256.clone(),
        },
        schema::InputFile::new("population", &inputs.population_source),
        schema::InputFile::new("clinics", &inputs.clinics_source),
        schema::InputFile::new("geography", &inputs.geography_source),
    ]
}

/// The clinic table of SPEC section 5.
pub fn clinic_table(inputs: &Inputs, result: &RunResult) -> Table {
    let clinics = &inputs.clinics;
    let geography = &inputs.geography;
    let n = clinics.len();
    let kommune = |c: usize| &geography.kommuner[usize::from(clinics.kommune[c])];
    let need = &result.need.clinics;
    let proposals = &result.proposals;
    let component = |k: usize| -> Vec<Option<f64>> {
        (0..n)
            .map(|c| Some(need[c].components.as_array()[k]))
            .collect()
    };
    let table = crate::output::schema::ClinicColumns {
        clinic_id: clinics
            .clinic_id
            .iter()
            .map(|&id| Some(i64::from(id)))
            .collect(),
        kommune: (0..n).map(|c| Some(i64::from(kommune(c).code))).collect(),
        sundhedsraad: (0..n)
            .map(|c| geography.sundhedsraad[usize::from(kommune(c).sundhedsraad)].clone())
            .collect(),
        region: (0..n)
            .map(|c| geography.regions[usize::from(kommune(c).region)].clone())
            .collect(),
        capacities: clinics.capacities_given.iter().map(|&d| Some(d)).collect(),
        capacity_adjustment: clinics
            .capacity_adjustment
            .iter()
            .map(|&d| Some(d))
            .collect(),
        effective_capacities: clinics.capacities.iter().map(|&d| Some(d)).collect(),
        n_patients: need.iter().map(|c| Some(c.n_patients as i64)).collect(),
        need: need.iter().map(|c| Some(c.need)).collect(),
        mean_weight: need.iter().map(|c| c.mean_weight).collect(),
        need_age_sex: component(0),
        need_socioeconomic: component(1),
        need_conditions: component(2),
        need_multimorbidity: component(3),
        need_area: component(4),
        need_packages: component(5),
        reference_load: result.clinic_loads.iter().map(|&l| Some(l)).collect(),
        raw_min_patients: proposals.iter().map(|p| p.raw).collect(),
        raw_lower: proposals.iter().map(|p| p.raw_lower).collect(),
        raw_upper: proposals.iter().map(|p| p.raw_upper).collect(),
        previous_min_patients: result
            .previous_min_patients
            .iter()
            .map(|&p| Some(p))
            .collect(),
        min_patients: proposals.iter().map(|p| p.min_patients).collect(),
        change: proposals.iter().map(|p| p.change).collect(),
        change_pct: proposals.iter().map(|p| p.change_pct).collect(),
        flags: proposals.iter().map(|p| p.flags.to_text()).collect(),
    }
    .table();
    table
}

/// The area table of SPEC section 5. Rows resting on fewer than 5
/// persons show their person-based figures as null and carry the flag
/// `suppressed`; capacities (clinic data) are always shown.
pub fn area_table(rows: &[AreaRow]) -> Table {
    let shown = |r: &AreaRow| !r.suppressed();
    let float = |f: fn(&AreaRow) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter()
            .map(|r| if shown(r) { f(r) } else { None })
            .collect()
    };
    let count = |f: fn(&AreaRow) -> u64| -> Vec<Option<i64>> {
        rows.iter().map(|r| shown(r).then(|| f(r) as i64)).collect()
    };
    let table = crate::output::schema::AreaColumns {
        level: rows.iter().map(|r| r.level.as_str().to_string()).collect(),
        code: rows.iter().map(|r| r.code.clone()).collect(),
        name: rows.iter().map(|r| r.name.clone()).collect(),
        residents: count(|r| r.residents),
        need: float(|r| Some(r.need)),
        mean_weight: float(|r| r.mean_weight),
        capacities: rows.iter().map(|r| Some(r.capacities)).collect(),
        target_capacities: float(|r| Some(r.target_capacities)),
        capacity_gap: float(|r| Some(r.capacity_gap)),
        listed: count(|r| r.listed),
        listed_per_capacity: float(|r| r.listed_per_capacity),
        norm_patients_per_capacity: float(|r| r.norm_patients_per_capacity),
        reference_load: float(|r| r.reference_load),
        flags: rows
            .iter()
            .map(|r| {
                if r.suppressed() {
                    "suppressed".to_string()
                } else {
                    String::new()
                }
            })
            .collect(),
    }
    .table();
    table
}

/// The manifest as JSON text.
pub fn manifest_json(inputs: &Inputs, result: &RunResult, meta: &RunMeta) -> String {
    let model = &inputs.model;
    let mut sources = BTreeMap::new();
    sources.insert("population".to_string(), inputs.population_source.clone());
    sources.insert("clinics".to_string(), inputs.clinics_source.clone());
    sources.insert("geography".to_string(), inputs.geography_source.clone());
    let flag_counts = crate::proposal::Flags::counts(&result.proposals)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let nulls_mapped = crate::ingest::SOCIOECONOMIC_COLUMNS
        .iter()
        .zip(inputs.nulls_mapped)
        .map(|(&c, n)| (c.to_string(), n))
        .collect();
    let manifest = RunManifest {
        engine: Engine::this(),
        model: ModelInfo {
            id: model.model.id.clone(),
            path: model.path.display().to_string(),
            sha256: model.sha256.clone(),
            link: model.model.link.as_str().to_string(),
            outcome: model.model.outcome.clone(),
            data_year: model.model.data_year,
        },
        year: result.year,
        inputs: sources,
        reference_load: result.load,
        capacity_total: result.capacity_total,
        capacity_total_from: if result.capacity_total_given {
            "--capacity-total"
        } else {
            "clinics"
        }
        .to_string(),
        load_level: result.load_level.as_str().to_string(),
        dialogue_threshold: Some(model.model.proposal.dialogue_threshold),
        persons: result.need.persons,
        clinics: inputs.clinics.len(),
        need_weighted_citizens: result.need.clinics.iter().map(|c| c.need).sum(),
        mean_raw_need: result.need.mean_raw,
        clipped_persons: result.need.clipped,
        nulls_as_unknown: inputs.nulls_as_unknown,
        nulls_mapped,
        flag_counts,
        threads: meta.threads,
        person_weights_written: meta.person_weights_written,
        warnings: result.warnings.clone(),
        wall_time_seconds: meta.wall_time_seconds,
        invocation: meta.invocation.clone(),
    };
    json_text(&manifest).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}\n"))
}

/// Writes the files of a run into an existing directory.
pub fn write_run_files(
    dir: &Path,
    inputs: &Inputs,
    result: &RunResult,
    meta: &RunMeta,
) -> Result<(), OutputError> {
    let (clinics, areas) = rayon::join(
        || clinic_table(inputs, result),
        || area_table(&result.areas),
    );
    // The four tables are written side by side; the first failure in
    // this order is the one reported.
    let ((clinics_parquet, clinics_csv), (areas_parquet, areas_csv)) = rayon::join(
        || {
            rayon::join(
                || clinics.write_parquet(&dir.join("clinics.parquet")),
                || clinics.write_csv(&dir.join("clinics.csv")),
            )
        },
        || {
            rayon::join(
                || areas.write_parquet(&dir.join("areas.parquet")),
                || areas.write_csv(&dir.join("areas.csv")),
            )
        },
    );
    clinics_parquet?;
    clinics_csv?;
    areas_parquet?;
    areas_csv?;
    let manifest_path = dir.join("manifest.json");
    std::fs::write(&manifest_path, manifest_json(inputs, result, meta))
        .map_err(|e| OutputError::write(&manifest_path, e))
}

/// Writes `report.html` into a directory being written (before it appears).
pub fn report_into(dir: &Path) -> Result<(), OutputError> {
    crate::report::write(dir)
        .map(|_| ())
        .map_err(|e| OutputError::write(dir.join("report.html"), e))
}

/// A value as pretty JSON text with a final newline: the one way every
/// JSON file and JSON output of the engine is written.
pub fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// Writes `text` to `path`, naming the path in an error.
pub fn write_text(path: &Path, text: &str) -> Result<(), OutputError> {
    std::fs::write(path, text).map_err(|e| OutputError::write(path, e))
}
