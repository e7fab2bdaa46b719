//! The JSON files the engine writes, defined once: each is written from
//! these types and read back through them (`read_json`), so a reader
//! (`diff`, `report`, anything that takes an output directory) sees the
//! same names and types the writer used, and a missing or mistyped field is
//! an error naming the file and the field. The column tables are defined
//! the same way (`output_table!`): the writer fills a struct of columns,
//! and a reader gets rows of the same names and types back with
//! `read_csv` (the `csv` crate).
//!
//! Field order is the order on disk (serde writes struct fields in
//! declaration order), so changing it changes output bytes.

use crate::error::InputError;
use crate::fit::evaluate::{ClinicMetrics, Metrics, Quantiles, Ratio};
use crate::inputs::Source;
use crate::output::table::Table;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The engine that wrote a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    pub name: String,
    pub version: String,
    /// The commit the binary was built from (`-modified` when the tree
    /// had changes); empty in files written before it was recorded.
    #[serde(default)]
    pub commit: String,
}

impl Engine {
    /// This engine.
    pub fn this() -> Engine {
        Engine {
            name: "fordeling".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            commit: env!("FORDELING_COMMIT").into(),
        }
    }

    /// `fordeling 0.1.0 (commit abc)`.
    pub fn describe(&self) -> String {
        if self.commit.is_empty() {
            format!("{} {}", self.name, self.version)
        } else {
            format!("{} {} (commit {})", self.name, self.version, self.commit)
        }
    }
}

/// How an output directory was made, in its `manifest.json`: what
/// `fordeling verify` checks and recomputes it from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// `run`, `project`, `scenarios` or `decide`.
    pub command: String,
    /// The working directory relative paths were taken from.
    pub cwd: String,
    /// Every argument of the command as parsed, defaults included.
    pub arguments: serde_json::Value,
    /// Every file the command read, with its SHA-256.
    pub inputs: Vec<InputFile>,
}

/// One file an output rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// What the file is to the command (`population`, `model`,
    /// `decisions-2028`, `run manifest`, ...).
    pub role: String,
    /// As the command was given it (relative to `cwd`), or `built-in`.
    pub path: String,
    pub sha256: String,
}

/// A command's parsed arguments, for its manifest's `Invocation`.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub command: &'static str,
    pub arguments: serde_json::Value,
}

impl Recorded {
    /// `arguments` as JSON (every field, defaults included).
    pub fn new<T: Serialize>(command: &'static str, arguments: &T) -> Recorded {
        Recorded {
            command,
            arguments: serde_json::to_value(arguments).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The invocation of this command that read `inputs`, from the
    /// current working directory.
    pub fn invocation(&self, inputs: Vec<InputFile>) -> Invocation {
        Invocation {
            command: self.command.to_string(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            arguments: self.arguments.clone(),
            inputs,
        }
    }
}

impl InputFile {
    pub fn new(role: impl Into<String>, source: &Source) -> InputFile {
        InputFile {
            role: role.into(),
            path: source.path.clone(),
            sha256: source.sha256.clone(),
        }
    }
}

/// The model a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub path: String,
    pub sha256: String,
    pub link: String,
    pub outcome: String,
    pub data_year: i32,
}

/// `manifest.json` of a run (SPEC section 5), also each year of a
/// projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub engine: Engine,
    pub model: ModelInfo,
    pub year: i32,
    /// `population`, `clinics` and `geography`.
    pub inputs: BTreeMap<String, Source>,
    #[serde(rename = "L")]
    pub reference_load: f64,
    #[serde(rename = "D")]
    pub capacity_total: f64,
    /// `clinics` or `--capacity-total`.
    pub capacity_total_from: String,
    /// Where the reference load was formed: `nation`, `region` or
    /// `sundhedsraad` (each area's `L_a` is in the area table).
    #[serde(default = "nation")]
    pub load_level: String,
    /// The model's `dialogue_threshold`, which `decide` checks final
    /// counts against.
    #[serde(default)]
    pub dialogue_threshold: Option<f64>,
    pub persons: u64,
    pub clinics: usize,
    pub need_weighted_citizens: f64,
    pub mean_raw_need: f64,
    pub clipped_persons: u64,
    pub nulls_as_unknown: bool,
    pub nulls_mapped: BTreeMap<String, u64>,
    pub flag_counts: BTreeMap<String, usize>,
    pub threads: usize,
    pub person_weights_written: bool,
    pub warnings: Vec<String>,
    pub wall_time_seconds: f64,
    /// How the directory was made (absent in files before `verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
}

fn nation() -> String {
    "nation".to_string()
}

impl RunManifest {
    /// The input named `name` (`population`, `clinics`, `geography`);
    /// an error naming the manifest when it is not there.
    pub fn input(&self, name: &str, path: &Path) -> Result<&Source, InputError> {
        self.inputs.get(name).ok_or_else(|| InputError::Other {
            path: path.to_path_buf(),
            detail: format!("missing field `inputs.{name}`"),
        })
    }
}

/// One year of a projection, in its `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectYear {
    pub year: i32,
    #[serde(rename = "L")]
    pub load: f64,
    #[serde(rename = "D")]
    pub capacity_total: f64,
    pub population: String,
    /// Seconds to compute the year (after loading; the first year includes
    /// the pass over persons).
    pub compute_seconds: f64,
    pub clinics_capped: usize,
    pub clinics_dialogue: usize,
    /// The model's care packages whose start year is this year.
    pub packages_starting: Vec<String>,
    /// The packages in force this year (started, phase share above 0).
    pub packages_in_force: Vec<String>,
    /// The decisions file whose final counts set next year's caps
    /// (`--decisions-dir`); absent: the proposals did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<String>,
}

/// The run a `decide` output rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReference {
    pub path: String,
    /// SHA-256 of the run's `manifest.json`.
    pub manifest_sha256: String,
    pub year: i32,
    pub model_id: String,
    pub load_level: String,
}

/// Decisions by reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub clinics: usize,
    /// Σ (final − proposal) over them.
    pub deviation: i64,
}

/// `manifest.json` of `decide`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideManifest {
    pub engine: Engine,
    pub run: RunReference,
    pub decisions: crate::inputs::Source,
    pub dialogue_threshold: f64,
    pub clinics: usize,
    /// Clinics with a row in the decisions file.
    pub decided: usize,
    /// Clinics whose final count differs from the proposal.
    pub deviating: usize,
    pub by_reason: Vec<ReasonCount>,
    /// Final counts needing a dialogue (all with one recorded).
    pub dialogue: usize,
    pub vulnerable_area: usize,
    /// Sundhedsråd whose final counts cover their residents, of all.
    pub sundhedsraad_covered: usize,
    pub sundhedsraad: usize,
    pub wall_time_seconds: f64,
    /// How the directory was made (absent in files before `verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
}

/// `manifest.json` of a projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectManifest {
    pub from: i32,
    pub to: i32,
    pub capacity_path: String,
    pub load_seconds: f64,
    pub years: Vec<ProjectYear>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    /// How the directory was made (absent in files before `verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
}

/// The model of a scenario batch's baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineModel {
    pub id: String,
    pub path: String,
    pub sha256: String,
}

/// `manifest.json` of a scenario batch (fields in alphabetical order, as
/// written since the first version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenariosManifest {
    pub compute_seconds: f64,
    pub engine: Engine,
    /// `clinics`, `geography` and `population`.
    pub inputs: BTreeMap<String, Source>,
    /// How the directory was made (absent in files before `verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
    pub load_seconds: f64,
    pub model: BaselineModel,
    /// Distinct sets of sums over persons (one per distinct set of
    /// coefficient overrides), all summed in one reading of the population.
    pub passes_over_persons: usize,
    pub scenarios: usize,
}

// ---------------------------------------------------------------- tables

/// Defines an output table once: a struct of columns that the writer fills
/// (every column must be given, in this order, and `table()` names them by
/// their field names), and a row struct of the same names and types that
/// readers get from `read_csv`. `int` columns are `Option<i64>`, `float`
/// columns `Option<f64>` (non-finite values are written as nulls), `text`
/// columns `String`.
macro_rules! output_table {
    ($(#[$doc:meta])* $columns:ident / $row:ident { $($field:ident : $kind:ident),* $(,)? }) => {
        $(#[$doc])*
        /// The columns, as the writer fills them.
        #[allow(non_snake_case)]
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $columns {
            $(pub $field: output_table!(@column $kind),)*
        }

        $(#[$doc])*
        /// One row, as a reader gets it back.
        #[allow(non_snake_case)]
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        pub struct $row {
            $(pub $field: output_table!(@cell $kind),)*
        }

        impl $columns {
            /// The column names, in order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The table to write.
            pub fn table(self) -> Table {
                let mut table = Table::new();
                $(output_table!(@push table, $field, self.$field, $kind);)*
                table
            }
        }
    };
    (@column int) => { Vec<Option<i64>> };
    (@column float) => { Vec<Option<f64>> };
    (@column text) => { Vec<String> };
    (@column bool) => { Vec<Option<bool>> };
    (@cell int) => { Option<i64> };
    (@cell float) => { Option<f64> };
    (@cell text) => { String };
    (@cell bool) => { Option<bool> };
    (@push $table:ident, $field:ident, $values:expr, int) => { $table.int(stringify!($field), $values); };
    (@push $table:ident, $field:ident, $values:expr, float) => { $table.float(stringify!($field), $values); };
    (@push $table:ident, $field:ident, $values:expr, text) => { $table.text(stringify!($field), $values); };
    (@push $table:ident, $field:ident, $values:expr, bool) => { $table.boolean(stringify!($field), $values); };
}

output_table! {
    /// The clinic table of SPEC section 5 (`clinics.parquet`, `clinics.csv`).
    ClinicColumns / ClinicRecord {
        clinic_id: int,
        kommune: int,
        sundhedsraad: text,
        region: text,
        capacities: float,
        capacity_adjustment: float,
        effective_capacities: float,
        n_patients: int,
        need: float,
        mean_weight: float,
        need_age_sex: float,
        need_socioeconomic: float,
        need_conditions: float,
        need_multimorbidity: float,
        need_area: float,
        need_packages: float,
        reference_load: float,
        raw_min_patients: float,
        raw_lower: float,
        raw_upper: float,
        previous_min_patients: float,
        min_patients: int,
        change: float,
        change_pct: float,
        flags: text,
    }
}

output_table! {
    /// The area table of SPEC section 5 (`areas.parquet`, `areas.csv`).
    AreaColumns / AreaRecord {
        level: text,
        code: text,
        name: text,
        residents: int,
        need: float,
        mean_weight: float,
        capacities: float,
        target_capacities: float,
        capacity_gap: float,
        listed: int,
        listed_per_capacity: float,
        norm_patients_per_capacity: float,
        reference_load: float,
        flags: text,
    }
}

output_table! {
    /// The region's decisions on every clinic (`decisions.parquet`, `decisions.csv`).
    DecisionColumns / DecisionRecord {
        clinic_id: int,
        proposal: int,
        final_min_patients: int,
        deviation: int,
        deviation_pct: float,
        reason: text,
        dialogue: text,
        note: text,
        flags: text,
    }
}

output_table! {
    /// Final counts against persons per sundhedsråd and region (`coverage.parquet`, `coverage.csv`).
    CoverageColumns / CoverageRecord {
        level: text,
        code: text,
        name: text,
        final_min_patients: int,
        listed: int,
        residents: int,
        covered: bool,
    }
}

output_table! {
    /// Next year's clinics file (`clinics_next.parquet`).
    ClinicsNextColumns / ClinicsNextRecord {
        clinic_id: int,
        kommune: int,
        capacities: float,
        capacity_adjustment: float,
        previous_min_patients: int,
        vulnerable_area: bool,
    }
}

output_table! {
    /// Every person's need weight (`person_weights.parquet`).
    PersonWeightColumns / PersonWeightRecord {
        person_id: int,
        clinic_id: int,
        kommune: int,
        weight: float,
    }
}

output_table! {
    /// A projection's clinic × year table (`summary.parquet`, `summary.csv`).
    ProjectClinicColumns / ProjectClinicRecord {
        year: int,
        clinic_id: int,
        capacities: float,
        n_patients: int,
        need: float,
        mean_weight: float,
        previous_min_patients: float,
        min_patients: int,
        change: float,
        change_pct: float,
        flags: text,
        L: float,
    }
}

output_table! {
    /// A projection's national and per-sundhedsråd rows by year (`areas_by_year.*`).
    ProjectAreaColumns / ProjectAreaRecord {
        year: int,
        level: text,
        name: text,
        need: float,
        capacities: float,
        target_capacities: float,
        capacity_gap: float,
        norm_patients_per_capacity: float,
        L: float,
        reference_load: float,
        D: float,
    }
}

output_table! {
    /// The attribution of each clinic's change (`diff.parquet`, `diff.csv`).
    DiffColumns / DiffRecord {
        clinic_id: int,
        min_patients_a: int,
        min_patients_b: int,
        change: float,
        population: float,
        model: float,
        packages: float,
        capacity: float,
        load_level: float,
        caps_and_rounding: float,
        status: text,
    }
}

output_table! {
    /// Every scenario × clinic (`scenarios.parquet`, `scenarios.csv`).
    ScenarioClinicColumns / ScenarioClinicRecord {
        scenario: text,
        clinic_id: int,
        need: float,
        mean_weight: float,
        min_patients: int,
        change_vs_baseline: int,
        flags: text,
    }
}

output_table! {
    /// One row per scenario (`summary.parquet`, `summary.csv` of a batch).
    ScenarioSummaryColumns / ScenarioSummaryRecord {
        scenario: text,
        parameters: text,
        year: int,
        L: float,
        D: float,
        per_capacity_p5: float,
        per_capacity_p25: float,
        per_capacity_median: float,
        per_capacity_p75: float,
        per_capacity_p95: float,
        capped: int,
        uncertain: int,
        dialogue: int,
        vulnerable_area: int,
        empty: int,
        clinics_changed_vs_baseline: int,
        mean_abs_change_vs_baseline: float,
    }
}

output_table! {
    /// Every scenario × sundhedsråd (`capacity_gaps.parquet`, `capacity_gaps.csv`).
    CapacityGapColumns / CapacityGapRecord {
        scenario: text,
        sundhedsraad: text,
        capacities: float,
        target_capacities: float,
        capacity_gap: float,
    }
}

// ---------------------------------------------------------------- evaluation.json

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEvaluation {
    pub id: String,
    pub path: String,
    pub sha256: String,
    pub link: String,
    pub parameters: usize,
    pub in_sample: Metrics,
    pub out_of_sample: Metrics,
    pub clinic: ClinicMetrics,
    pub predictive_ratios: Vec<Ratio>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    pub rung: String,
    /// The structure's terms in the rung (a ladder over a format-2
    /// structure; empty for format 1's fixed ladder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
    pub parameters: usize,
    pub in_sample: Metrics,
    pub out_of_sample: Metrics,
    /// |Δ minimum patient count| against the previous rung, over clinics
    /// with a count in both.
    pub proposal_change_from_previous: Option<Quantiles>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientChange {
    pub term: String,
    #[serde(deserialize_with = "f64_or_nan")]
    pub first: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub next: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub difference: f64,
    /// difference / √(se₁² + se₂²).
    #[serde(deserialize_with = "f64_or_nan")]
    pub z: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    pub population_next: Source,
    pub coefficients: Vec<CoefficientChange>,
    #[serde(deserialize_with = "f64_or_nan")]
    pub median_abs_z: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub share_abs_z_above_2: f64,
    /// |Δ minimum patient count| between the two years' fitted models, each
    /// on its own year's population.
    pub proposal_change: Option<Quantiles>,
    pub proposal_change_pct: Option<Quantiles>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub population: Source,
    pub persons: u64,
    pub folds: usize,
    pub seed: u64,
    pub year: i32,
    pub models: Vec<ModelEvaluation>,
    pub ladder: Vec<Rung>,
    pub stability: Option<Stability>,
}

/// A number written by serde_json, where a NaN or infinity became `null`:
/// read back as NaN.
pub fn f64_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// Reads a JSON file of the engine's into its type; errors name the file
/// and, through serde, the field that is missing or of the wrong type.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut json = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut json).map_err(|e| InputError::Other {
        path: path.to_path_buf(),
        detail: format!(
            "not a file this engine can read: field `{}`: {}",
            e.path(),
            e.inner()
        ),
    })
}

/// Reads a CSV file of the engine's into typed rows (the header names the
/// fields); errors name the file, the line and the field.
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, InputError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| InputError::Csv {
        path: path.to_path_buf(),
        line: 1,
        detail: e.to_string(),
    })?;
    let mut rows = Vec::new();
    for (k, row) in reader.deserialize().enumerate() {
        rows.push(row.map_err(|e: csv::Error| InputError::Csv {
            path: path.to_path_buf(),
            line: e.position().map_or(k as u64 + 2, |p| p.line()),
            detail: e.to_string(),
        })?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_written_as_null_reads_back_as_nan() {
        let metrics = Metrics {
            persons: 3,
            r2: f64::NAN,
            cpm: 0.5,
            mape: f64::INFINITY,
            observed_mean: 1.0,
            predicted_mean: 2.0,
        };
        let text = serde_json::to_string(&metrics).unwrap_or_default();
        assert!(text.contains("\"r2\":null"), "{text}");
        let back: Metrics = serde_json::from_str(&text).unwrap_or(Metrics {
            persons: 0,
            r2: 0.0,
            cpm: 0.0,
            mape: 0.0,
            observed_mean: 0.0,
            predicted_mean: 0.0,
        });
        assert_eq!(back.persons, 3);
        assert!(back.r2.is_nan() && back.mape.is_nan());
        assert_eq!((back.cpm, back.predicted_mean), (0.5, 2.0));
    }

    #[test]
    fn a_missing_field_is_named_with_the_file() {
        let dir = std::env::temp_dir().join(format!("fordeling-schema-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("manifest.json");
        let _ = std::fs::write(&path, r#"{"from": 2027, "to": "x"}"#);
        let error = read_json::<ProjectManifest>(&path)
            .err()
            .map(|e| e.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        let error = error.unwrap_or_default();
        assert!(error.contains("manifest.json"), "{error}");
        assert!(error.contains("field `to`"), "{error}");
    }
}
