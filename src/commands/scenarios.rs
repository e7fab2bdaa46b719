//! `fordeling scenarios`: batches of variants of the model and run
//! parameters, evaluated over data read once.
//!
//! A scenario file lists variants (`[[scenario]]`) and/or a grid (`[grid]`,
//! every combination of the listed values). A variant may set the year,
//! `capacity_total`, any proposal rule, any package's `start_year`, `add`,
//! `multiply` and `phase_in`, and any coefficient (named as in `fit.json`,
//! e.g. `conditions.copd`, `age_sex.male[3]`, `socioeconomic.education.1`,
//! `multimorbidity[0]`, `area.coefficient`; for a format-2 model a table's
//! cell as `term[level, ...]`, e.g. `age_sex[2, 85]` or `copd[true]`, and
//! a numeric term by its id). Each variant is applied to the model file and
//! validated as a model file is, so errors read alike.
//!
//! Cost: the population file is read once, streamed a few row groups at a
//! time (never held), and each row group is summed into one basis per
//! distinct set of coefficient overrides (the `Basis`); every other
//! variant costs work proportional to clinics × package signatures.

use super::{positive_float, Failure, InputArgs};
use crate::aggregate::Basis;
use crate::error::{Error, ModelError, OutputError};
use crate::fit::evaluate::{quantiles, Quantiles};
use crate::inputs::{load_context, stream_bases};
use crate::model::coefficient::CoefficientName;
use crate::model::file::ModelFile;
use crate::model::format2::Spec;
use crate::model::Model;
use crate::output::schema::{BaselineModel, Engine, ScenariosManifest};
use crate::output::table::TableStream;
use crate::{InputPaths, Inputs, RunParams, RunResult};
use clap::Args;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The most scenarios a file may make (a grid multiplies quickly).
pub const MAX_SCENARIOS: u64 = 100_000;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PackageOverride {
    pub start_year: Option<i32>,
    pub add: Option<f64>,
    pub multiply: Option<f64>,
    pub phase_in: Option<Vec<f64>>,
}

/// One variant, as written in the scenario file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: Option<String>,
    pub year: Option<i32>,
    pub capacity_total: Option<f64>,
    pub closing_fraction: Option<f64>,
    pub round_to: Option<i64>,
    pub min_per_capacity: Option<f64>,
    pub max_per_capacity: Option<f64>,
    pub max_increase: Option<f64>,
    pub max_decrease: Option<f64>,
    pub dialogue_threshold: Option<f64>,
    pub uncertainty_threshold: Option<f64>,
    /// `nation`, `region` or `sundhedsraad`.
    pub load_level: Option<String>,
    #[serde(default)]
    pub packages: BTreeMap<String, PackageOverride>,
    #[serde(default)]
    pub coefficients: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    scenario: Vec<Variant>,
    #[serde(default)]
    grid: BTreeMap<String, Vec<toml::Value>>,
}

fn number(value: &toml::Value) -> Option<f64> {
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
}

/// A variant's proposal-rule and package overrides applied to a model's
/// proposal rules and packages, of either format (the same field names);
/// an unknown package id returns the error from the enclosing function.
macro_rules! override_rules {
    ($variant:expr, $proposal:expr, $packages:expr) => {
        let v = $variant;
        let p = &mut $proposal;
        for (value, slot) in [
            (v.closing_fraction, &mut p.closing_fraction),
            (v.min_per_capacity, &mut p.min_per_capacity),
            (v.max_per_capacity, &mut p.max_per_capacity),
            (v.max_increase, &mut p.max_increase),
            (v.max_decrease, &mut p.max_decrease),
            (v.dialogue_threshold, &mut p.dialogue_threshold),
            (v.uncertainty_threshold, &mut p.uncertainty_threshold),
        ] {
            if let Some(value) = value {
                *slot = value;
            }
        }
        if let Some(round_to) = v.round_to {
            p.round_to = round_to;
        }
        for (id, o) in &v.packages {
            let package = $packages.iter_mut().find(|p| &p.id == id).ok_or_else(|| {
                (
                    format!("packages.{id}"),
                    format!("the model has no package `{id}`"),
                )
            })?;
            if let Some(value) = o.start_year {
                package.start_year = value;
            }
            if let Some(value) = o.add {
                package.add = value;
            }
            if let Some(value) = o.multiply {
                package.multiply = value;
            }
            if let Some(value) = &o.phase_in {
                package.phase_in = value.clone();
            }
        }
    };
}

impl Variant {
    /// Sets one parameter by its grid key.
    fn set(&mut self, key: &str, value: &toml::Value) -> Result<(), String> {
        let float = || number(value).ok_or_else(|| format!("`{value}` is not a number"));
        let int = || {
            value
                .as_integer()
                .ok_or_else(|| format!("`{value}` is not a whole number"))
        };
        match key {
            "year" => self.year = Some(int()? as i32),
            "capacity_total" => self.capacity_total = Some(float()?),
            "closing_fraction" => self.closing_fraction = Some(float()?),
            "round_to" => self.round_to = Some(int()?),
            "min_per_capacity" => self.min_per_capacity = Some(float()?),
            "max_per_capacity" => self.max_per_capacity = Some(float()?),
            "max_increase" => self.max_increase = Some(float()?),
            "max_decrease" => self.max_decrease = Some(float()?),
            "dialogue_threshold" => self.dialogue_threshold = Some(float()?),
            "uncertainty_threshold" => self.uncertainty_threshold = Some(float()?),
            "load_level" => {
                let text = value.as_str().ok_or_else(|| {
                    format!("`{value}` is not one of nation, region, sundhedsraad")
                })?;
                self.load_level = Some(text.to_string());
            }
            _ => {
                if let Some(name) = key.strip_prefix("coefficients.") {
                    self.coefficients.insert(name.to_string(), float()?);
                } else if let Some(rest) = key.strip_prefix("packages.") {
                    let (id, field) = rest
                        .rsplit_once('.')
                        .ok_or_else(|| "expected packages.<id>.<field>".to_string())?;
                    let package = self.packages.entry(id.to_string()).or_default();
                    match field {
                        "start_year" => package.start_year = Some(int()? as i32),
                        "add" => package.add = Some(float()?),
                        "multiply" => package.multiply = Some(float()?),
                        "phase_in" => {
                            let list = value
                                .as_array()
                                .ok_or_else(|| format!("`{value}` is not a list of shares"))?;
                            package.phase_in = Some(
                                list.iter()
                                    .map(|v| {
                                        number(v).ok_or_else(|| format!("`{v}` is not a number"))
                                    })
                                    .collect::<Result<_, _>>()?,
                            );
                        }
                        other => return Err(format!("a package has no field `{other}`")),
                    }
                } else {
                    return Err("not a parameter a scenario can vary".into());
                }
            }
        }
        Ok(())
    }

    /// The model file with this variant's overrides.
    fn apply(&self, base: &ModelFile) -> Result<ModelFile, (String, String)> {
        let mut file = base.clone();
        override_rules!(self, file.proposal, file.packages);
        if let Some(level) = &self.load_level {
            file.proposal.load_level = Some(level.clone());
        }
        for (name, &value) in &self.coefficients {
            set_coefficient(&mut file, name, value)
                .map_err(|detail| (format!("coefficients.{name}"), detail))?;
        }
        Ok(file)
    }

    /// A format-2 model with this variant's overrides; coefficients are
    /// named `term[level, ...]` (`Spec::coefficient`), e.g.
    /// `age_sex[2, 85]`, `copd[true]`, `area`.
    fn apply_spec(&self, base: &Spec) -> Result<Spec, (String, String)> {
        let mut spec = base.clone();
        override_rules!(self, spec.proposal, spec.packages);
        if let Some(text) = &self.load_level {
            spec.proposal.load_level = crate::model::LoadLevel::parse(text).ok_or_else(|| {
                (
                    "load_level".to_string(),
                    format!("value `{text}` is not one of nation, region, sundhedsraad"),
                )
            })?;
        }
        for (name, &value) in &self.coefficients {
            let at = spec
                .coefficient(name)
                .map_err(|detail| (format!("coefficients.{name}"), detail))?;
            spec.set(at, value);
        }
        Ok(spec)
    }

    /// The overrides that change persons' base need (the basis key).
    fn basis_key(&self) -> String {
        self.coefficients
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// What the variant sets, as one line of `key = value` pairs.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut put = |key: String, value: Option<String>| {
            if let Some(value) = value {
                parts.push(format!("{key} = {value}"));
            }
        };
        put("year".into(), self.year.map(|v| v.to_string()));
        put(
            "capacity_total".into(),
            self.capacity_total.map(|v| v.to_string()),
        );
        put(
            "closing_fraction".into(),
            self.closing_fraction.map(|v| v.to_string()),
        );
        put("round_to".into(), self.round_to.map(|v| v.to_string()));
        put(
            "min_per_capacity".into(),
            self.min_per_capacity.map(|v| v.to_string()),
        );
        put(
            "max_per_capacity".into(),
            self.max_per_capacity.map(|v| v.to_string()),
        );
        put(
            "max_increase".into(),
            self.max_increase.map(|v| v.to_string()),
        );
        put(
            "max_decrease".into(),
            self.max_decrease.map(|v| v.to_string()),
        );
        put(
            "dialogue_threshold".into(),
            self.dialogue_threshold.map(|v| v.to_string()),
        );
        put(
            "uncertainty_threshold".into(),
            self.uncertainty_threshold.map(|v| v.to_string()),
        );
        put("load_level".into(), self.load_level.clone());
        for (id, p) in &self.packages {
            put(
                format!("packages.{id}.start_year"),
                p.start_year.map(|v| v.to_string()),
            );
            put(format!("packages.{id}.add"), p.add.map(|v| v.to_string()));
            put(
                format!("packages.{id}.multiply"),
                p.multiply.map(|v| v.to_string()),
            );
            put(
                format!("packages.{id}.phase_in"),
                p.phase_in.as_ref().map(|v| format!("{v:?}")),
            );
        }
        for (name, value) in &self.coefficients {
            put(format!("coefficients.{name}"), Some(value.to_string()));
        }
        parts.join("; ")
    }
}

/// Sets a coefficient of a model file by its `fit.json` name
/// (`CoefficientName`).
fn set_coefficient(file: &mut ModelFile, name: &str, value: f64) -> Result<(), String> {
    let unknown = || format!("the model has no coefficient `{name}`");
    match CoefficientName::parse(name).ok_or_else(unknown)? {
        CoefficientName::AgeSex { female, band } => {
            let table = if female {
                &mut file.age_sex.female
            } else {
                &mut file.age_sex.male
            };
            *table.get_mut(band).ok_or_else(unknown)? = value;
        }
        CoefficientName::Socioeconomic { column, level } => {
            let s = &mut file.socioeconomic;
            let table = match column.as_str() {
                "education" => &mut s.education,
                "income_quintile" => &mut s.income_quintile,
                "labour" => &mut s.labour,
                "origin" => &mut s.origin,
                "lives_alone" => &mut s.lives_alone,
                _ => return Err(unknown()),
            };
            table.insert(level, value);
        }
        CoefficientName::Condition(condition) => {
            *file.conditions.get_mut(&condition).ok_or_else(unknown)? = value;
        }
        CoefficientName::Multimorbidity { index, .. } => {
            file.multimorbidity.get_mut(index).ok_or_else(unknown)?.add = value;
        }
        CoefficientName::Area => {
            file.area.as_mut().ok_or_else(unknown)?.coefficient = value;
        }
    }
    Ok(())
}

/// Reads a scenario file into named variants (listed ones, then the grid).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Vec<Variant>, ModelError> {
    let parse_error = |detail: String| ModelError::Parse {
        path: path.to_path_buf(),
        detail,
    };
    let text = crate::model::toml_text(bytes, path)?;
    let file: ScenarioFile =
        toml::from_str(text).map_err(|e| parse_error(crate::model::one_line(&e.to_string())))?;
    let mut variants = file.scenario;
    for (k, v) in variants.iter_mut().enumerate() {
        if v.name.is_none() {
            v.name = Some(format!("scenario-{}", k + 1));
        }
    }
    if !file.grid.is_empty() {
        let mut size: u64 = 1;
        for (key, values) in &file.grid {
            if values.is_empty() {
                return Err(ModelError::Invalid {
                    path: path.to_path_buf(),
                    key: format!("grid.{key}"),
                    detail: "an empty list of values".into(),
                });
            }
            size = size.saturating_mul(values.len() as u64);
        }
        let total = size.saturating_add(variants.len() as u64);
        if total > MAX_SCENARIOS {
            return Err(ModelError::Invalid {
                path: path.to_path_buf(),
                key: "grid".into(),
                detail: format!(
                    "the grid makes {total} scenarios; at most {MAX_SCENARIOS} are allowed"
                ),
            });
        }
        let keys: Vec<(&String, &Vec<toml::Value>)> = file.grid.iter().collect();
        for index in 0..size {
            let mut variant = Variant::default();
            let mut rest = index;
            for (key, values) in keys.iter().rev() {
                let value = &values[(rest % values.len() as u64) as usize];
                rest /= values.len() as u64;
                variant
                    .set(key, value)
                    .map_err(|detail| ModelError::Invalid {
                        path: path.to_path_buf(),
                        key: format!("grid.{key}"),
                        detail,
                    })?;
            }
            variant.name = Some(format!("grid-{:05}", index + 1));
            variants.push(variant);
        }
    }
    if variants.len() as u64 > MAX_SCENARIOS {
        return Err(ModelError::Invalid {
            path: path.to_path_buf(),
            key: "scenario".into(),
            detail: format!(
                "{} scenarios; at most {MAX_SCENARIOS} are allowed",
                variants.len()
            ),
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for v in &variants {
        let name = v.name.clone().unwrap_or_default();
        if name == "baseline" || !seen.insert(name.clone()) {
            return Err(ModelError::Invalid {
                path: path.to_path_buf(),
                key: "scenario.name".into(),
                detail: format!(
                    "the name `{name}` is used twice (`baseline` is the model as given)"
                ),
            });
        }
    }
    Ok(variants)
}

/// What `fordeling scenarios` needs.
#[derive(Debug, Clone)]
pub struct ScenariosConfig {
    pub inputs: InputPaths,
    pub scenarios: PathBuf,
    pub params: RunParams,
    pub out: PathBuf,
    /// Also write `report.html`.
    pub report: bool,
    /// Also write `scenarios.xlsx` (the rows are then held until the end).
    pub xlsx: bool,
    /// The command line's arguments, for the manifest (`None`: a library call).
    pub recorded: Option<crate::output::schema::Recorded>,
}

/// One evaluated scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub parameters: String,
    pub year: i32,
    #[serde(rename = "L")]
    pub load: f64,
    #[serde(rename = "D")]
    pub capacity_total: f64,
    pub proposals_per_capacity: Option<Quantiles>,
    pub flag_counts: BTreeMap<&'static str, usize>,
    pub clinics_changed_vs_baseline: usize,
    pub mean_abs_change_vs_baseline: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    pub scenarios: usize,
    /// Distinct sets of sums over persons (`Basis`), one per distinct set
    /// of coefficient overrides; all are summed in one reading of the file.
    pub passes_over_persons: usize,
    pub load_seconds: f64,
    pub compute_seconds: f64,
    pub summaries: Vec<ScenarioSummary>,
}

/// Evaluates the baseline and every scenario and writes the tables into
/// `config.out`, atomically.
pub fn run(config: &ScenariosConfig) -> Result<BatchSummary, Error> {
    let started = std::time::Instant::now();
    let bytes = std::fs::read(&config.scenarios).map_err(|source| ModelError::Open {
        path: config.scenarios.clone(),
        source,
    })?;
    let mut variants = parse(&bytes, &config.scenarios)?;
    // The model, geography and clinics first; the persons are streamed
    // past once the variants are known (below).
    let mut inputs = load_context(&config.inputs)?;
    let base_file = inputs.model.model.to_file();
    variants.insert(
        0,
        Variant {
            name: Some("baseline".into()),
            ..Variant::default()
        },
    );
    // Validate every variant up front, as model files are.
    let mut models = Vec::with_capacity(variants.len());
    for v in &variants {
        let name = v.name.clone().unwrap_or_default();
        let label = PathBuf::from(format!(
            "{} (scenario `{name}`)",
            config.scenarios.display()
        ));
        let invalid = |(key, detail)| ModelError::Invalid {
            path: label.clone(),
            key,
            detail,
        };
        match &inputs.model.model.format2 {
            None => {
                let file = v.apply(&base_file).map_err(invalid)?;
                models.push(Model::from_file(file, &label)?);
            }
            Some(base) => {
                // Checked as a model file is: written out and read back.
                let spec = v.apply_spec(base).map_err(invalid)?;
                let spec = crate::model::format2::parse(&spec.to_toml(), &label)?;
                models.push(Model::from_spec(spec));
            }
        }
    }
    // One basis per distinct set of coefficient overrides and bounds on
    // clipping (which persons the basis keeps one by one), all summed in
    // one streamed reading of the population: the batch never holds the
    // persons.
    let mut keys = Vec::with_capacity(variants.len());
    let mut distinct: Vec<(String, crate::weights::YearTables)> = Vec::new();
    for (v, model) in variants.iter().zip(&models) {
        let tables = inputs.year_tables(model, config.params.year)?;
        let key = format!("{}|{}", v.basis_key(), tables.clip_key());
        if !distinct.iter().any(|(k, _)| *k == key) {
            distinct.push((key.clone(), tables));
        }
        keys.push(key);
    }
    let (distinct_keys, tables): (Vec<String>, Vec<_>) = distinct.into_iter().unzip();
    let streamed = stream_bases(&mut inputs, &config.inputs, &tables)?;
    let bases: BTreeMap<String, Basis> = distinct_keys.into_iter().zip(streamed).collect();
    let invocation = config.recorded.as_ref().map(|r| {
        let mut read = crate::output::run_inputs(&inputs);
        read.push(crate::output::schema::InputFile {
            role: "scenarios".into(),
            path: config.scenarios.display().to_string(),
            sha256: crate::model::sha256_hex(&bytes),
        });
        r.invocation(read)
    });
    // Reading the inputs and the passes over persons (done while the file
    // is read) count as loading; the rest as computing.
    let load_seconds = started.elapsed().as_secs_f64();
    let compute_started = std::time::Instant::now();
    // A year's sums depend on the basis, the year and the packages; the
    // proposal rules, D and the load level do not change them, so a grid
    // over those forms each year's sums once (the same bits: they are
    // exact sums).
    let year_of = |k: usize| variants[k].year.unwrap_or(config.params.year);
    let sums_keys: Vec<String> = (0..variants.len())
        .map(|k| format!("{}|{}|{:?}", keys[k], year_of(k), variants[k].packages))
        .collect();
    let mut firsts: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, key) in sums_keys.iter().enumerate() {
        firsts.entry(key.as_str()).or_insert(k);
    }
    let firsts: Vec<(&str, usize)> = firsts.into_iter().collect();
    let sums: BTreeMap<&str, crate::aggregate::NeedSums> = firsts
        .par_iter()
        .map(|&(key, k)| -> Result<_, Error> {
            let tables = inputs.year_tables(&models[k], year_of(k))?;
            Ok((key, bases[&keys[k]].year_sums(&tables)))
        })
        .collect::<Result<_, Error>>()?;
    let progress =
        crate::progress::Progress::new("computing scenarios", variants.len() as u64, "scenarios");
    let compute = |k: usize| -> Result<RunResult, Error> {
        let v = &variants[k];
        let params = RunParams {
            year: year_of(k),
            capacity_total: v.capacity_total.or(config.params.capacity_total),
        };
        let result = crate::year::compute_from_sums(
            &inputs,
            &models[k],
            sums[sums_keys[k].as_str()].clone(),
            &params,
            &inputs.clinics.previous_min_patients,
        );
        progress.inc(1);
        result
    };
    let batch = crate::output::atomic::write_dir_atomically(&config.out, |dir| {
        // Scenarios are computed a chunk at a time and their rows streamed
        // out, so the batch never holds more than a chunk's results.
        let mut long =
            TableStream::create(&dir.join("scenarios.parquet"), &dir.join("scenarios.csv"))?;
        let mut baseline: Option<RunResult> = None;
        let mut summaries = Vec::with_capacity(variants.len());
        let mut gaps = crate::output::schema::CapacityGapColumns::default();
        let mut held: Option<crate::output::table::Table> = None;
        // Each year's sums and each chunk count as computing (a chunk is
        // computed while the one before is written, so the two overlap).
        let mut compute_seconds = compute_started.elapsed().as_secs_f64();
        let n = variants.len();
        type Chunk = (std::ops::Range<usize>, Vec<RunResult>, f64);
        let chunk_of = |first: usize| -> Result<Chunk, Error> {
            let started = std::time::Instant::now();
            let range = first..(first + SCENARIO_CHUNK).min(n);
            let results: Vec<Result<RunResult, Error>> =
                range.clone().into_par_iter().map(compute).collect();
            let results = results.into_iter().collect::<Result<_, _>>()?;
            Ok((range, results, started.elapsed().as_secs_f64()))
        };
        let mut current = Some(chunk_of(0)?);
        // Each chunk's rows are made and written while the next chunk is
        // computed.
        while let Some((range, results, seconds)) = current.take() {
            compute_seconds += seconds;
            let base = baseline.get_or_insert_with(|| results[0].clone());
            let chunk = &variants[range.clone()];
            let (written, next) = rayon::join(
                || {
                    for (v, r) in chunk.iter().zip(&results) {
                        summaries.push(summarize(&inputs, v, r, base));
                        gap_rows(&mut gaps, v, r);
                    }
                    let rows = long_rows(&inputs, chunk, &results, base);
                    if config.xlsx {
                        match held.as_mut() {
                            Some(all) => all.append(rows.clone()),
                            None => held = Some(rows.clone()),
                        }
                    }
                    long.push(rows)
                },
                || (range.end < n).then(|| chunk_of(range.end)).transpose(),
            );
            written?;
            current = next?;
        }
        long.finish()?;
        let batch = BatchSummary {
            scenarios: n - 1,
            passes_over_persons: bases.len(),
            load_seconds,
            compute_seconds,
            summaries,
        };
        write(dir, &inputs, gaps, &batch, config.report, held, invocation)?;
        Ok::<_, Error>(batch)
    })?;
    Ok(batch)
}

/// Scenarios computed side by side before their rows are written.
const SCENARIO_CHUNK: usize = 64;

fn summarize(inputs: &Inputs, v: &Variant, r: &RunResult, baseline: &RunResult) -> ScenarioSummary {
    let per_capacity: Vec<f64> = r
        .proposals
        .iter()
        .zip(&inputs.clinics.capacities)
        .filter_map(|(p, d)| p.min_patients.map(|m| m as f64 / d))
        .collect();
    let flag_counts = crate::proposal::Flags::counts(&r.proposals);
    let changes: Vec<f64> = r
        .proposals
        .iter()
        .zip(&baseline.proposals)
        .filter_map(|(a, b)| Some((a.min_patients? - b.min_patients?) as f64))
        .collect();
    ScenarioSummary {
        scenario: v.name.clone().unwrap_or_default(),
        parameters: v.describe(),
        year: r.year,
        load: r.load,
        capacity_total: r.capacity_total,
        proposals_per_capacity: quantiles(&per_capacity),
        flag_counts,
        clinics_changed_vs_baseline: changes.iter().filter(|c| **c != 0.0).count(),
        mean_abs_change_vs_baseline: changes.iter().map(|c| c.abs()).sum::<f64>()
            / changes.len().max(1) as f64,
    }
}

/// The scenario × clinic rows of a chunk of scenarios.
fn long_rows(
    inputs: &Inputs,
    variants: &[Variant],
    results: &[RunResult],
    baseline: &RunResult,
) -> crate::output::table::Table {
    let clinics = &inputs.clinics;
    let n = clinics.len();
    let rows = || {
        results
            .iter()
            .zip(variants)
            .flat_map(|(r, v)| (0..n).map(move |c| (r, v, c)))
    };
    crate::output::schema::ScenarioClinicColumns {
        scenario: rows()
            .map(|(_, v, _)| v.name.clone().unwrap_or_default())
            .collect(),
        clinic_id: rows()
            .map(|(_, _, c)| Some(i64::from(clinics.clinic_id[c])))
            .collect(),
        need: rows()
            .map(|(r, _, c)| Some(r.need.clinics[c].need))
            .collect(),
        mean_weight: rows()
            .map(|(r, _, c)| r.need.clinics[c].mean_weight)
            .collect(),
        min_patients: rows()
            .map(|(r, _, c)| r.proposals[c].min_patients)
            .collect(),
        change_vs_baseline: rows()
            .map(|(r, _, c)| {
                Some(r.proposals[c].min_patients? - baseline.proposals[c].min_patients?)
            })
            .collect(),
        flags: rows()
            .map(|(r, _, c)| r.proposals[c].flags.to_text())
            .collect(),
    }
    .table()
}

/// A scenario's rows of `capacity_gaps.*`: one per sundhedsråd.
fn gap_rows(gaps: &mut crate::output::schema::CapacityGapColumns, v: &Variant, r: &RunResult) {
    for a in r
        .areas
        .iter()
        .filter(|a| a.level == crate::areas::Level::Sundhedsraad)
    {
        gaps.scenario.push(v.name.clone().unwrap_or_default());
        gaps.sundhedsraad.push(a.name.clone());
        gaps.capacities.push(Some(a.capacities));
        gaps.target_capacities.push(Some(a.target_capacities));
        gaps.capacity_gap.push(Some(a.capacity_gap));
    }
}

/// The summary, the capacity gaps, the manifest and the report, into the
/// batch's (temporary) output directory.
fn write(
    dir: &Path,
    inputs: &Inputs,
    gaps: crate::output::schema::CapacityGapColumns,
    batch: &BatchSummary,
    report: bool,
    xlsx_rows: Option<crate::output::table::Table>,
    invocation: Option<crate::output::schema::Invocation>,
) -> Result<(), OutputError> {
    let s = &batch.summaries;
    let q = |f: fn(&Quantiles) -> f64| -> Vec<Option<f64>> {
        s.iter()
            .map(|x| x.proposals_per_capacity.as_ref().map(f))
            .collect()
    };
    let count = |flag: &'static str| -> Vec<Option<i64>> {
        s.iter().map(|x| Some(x.flag_counts[flag] as i64)).collect()
    };
    let summary = crate::output::schema::ScenarioSummaryColumns {
        scenario: s.iter().map(|x| x.scenario.clone()).collect(),
        parameters: s.iter().map(|x| x.parameters.clone()).collect(),
        year: s.iter().map(|x| Some(i64::from(x.year))).collect(),
        L: s.iter().map(|x| Some(x.load)).collect(),
        D: s.iter().map(|x| Some(x.capacity_total)).collect(),
        per_capacity_p5: q(|q| q.p5),
        per_capacity_p25: q(|q| q.p25),
        per_capacity_median: q(|q| q.median),
        per_capacity_p75: q(|q| q.p75),
        per_capacity_p95: q(|q| q.p95),
        capped: count("capped"),
        uncertain: count("uncertain"),
        dialogue: count("dialogue"),
        vulnerable_area: count("vulnerable_area"),
        empty: count("empty"),
        clinics_changed_vs_baseline: s
            .iter()
            .map(|x| Some(x.clinics_changed_vs_baseline as i64))
            .collect(),
        mean_abs_change_vs_baseline: s
            .iter()
            .map(|x| Some(x.mean_abs_change_vs_baseline))
            .collect(),
    }
    .table();

    let gaps = gaps.table();
    summary.write_parquet(&dir.join("summary.parquet"))?;
    summary.write_csv(&dir.join("summary.csv"))?;
    gaps.write_parquet(&dir.join("capacity_gaps.parquet"))?;
    gaps.write_csv(&dir.join("capacity_gaps.csv"))?;
    if let Some(rows) = &xlsx_rows {
        crate::output::xlsx::write(
            &dir.join("scenarios.xlsx"),
            &[
                ("summary", &summary),
                ("capacity_gaps", &gaps),
                ("scenarios", rows),
            ],
        )?;
    }
    let path = dir.join("manifest.json");
    let manifest = ScenariosManifest {
        compute_seconds: batch.compute_seconds,
        engine: Engine::this(),
        inputs: [
            ("clinics", &inputs.clinics_source),
            ("geography", &inputs.geography_source),
            ("population", &inputs.population_source),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect(),
        invocation,
        load_seconds: batch.load_seconds,
        model: BaselineModel {
            id: inputs.model.model.id.clone(),
            path: inputs.model.path.display().to_string(),
            sha256: inputs.model.sha256.clone(),
        },
        passes_over_persons: batch.passes_over_persons,
        scenarios: batch.scenarios,
    };
    let text = crate::output::json_text(&manifest).map_err(|e| OutputError::write(&path, e))?;
    crate::output::write_text(&path, &text)?;
    if report {
        crate::output::report_into(dir)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Args, Serialize, serde::Deserialize)]
pub struct ScenariosArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The scenario file (TOML): [[scenario]] entries and/or a [grid].
    // The help text is shown as written; it is not rustdoc markup.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long)]
    pub scenarios: PathBuf,
    /// Model file (TOML): the baseline the variants change.
    #[arg(long, default_value = "models/reference-2027.toml")]
    pub model: PathBuf,
    /// The year of scenarios that do not set one.
    #[arg(long, default_value_t = 2027, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub year: i32,
    /// Total capacities D of scenarios that do not set one (default: the clinic file's).
    #[arg(long, value_parser = positive_float)]
    pub capacity_total: Option<f64>,
    /// Output directory; replaced atomically.
    #[arg(long, default_value = "out-scenarios")]
    pub out: PathBuf,
    /// Also write report.html: charts, a kommune map and tables in one self-contained page.
    #[arg(long)]
    pub report: bool,
    /// Also write scenarios.xlsx: summary, capacity gaps and every scenario's clinics as sheets.
    #[arg(long)]
    pub xlsx: bool,
}

impl ScenariosArgs {
    pub fn to_config(&self) -> ScenariosConfig {
        ScenariosConfig {
            inputs: self.input.paths(self.model.clone(), false),
            scenarios: self.scenarios.clone(),
            params: RunParams {
                year: self.year,
                capacity_total: self.capacity_total,
            },
            out: self.out.clone(),
            report: self.report,
            xlsx: self.xlsx,
            recorded: Some(crate::output::schema::Recorded::new("scenarios", self)),
        }
    }
}

/// Runs `fordeling scenarios` and logs the batch.
pub fn execute(args: &ScenariosArgs) -> Result<(), Failure> {
    let config = args.to_config();
    let batch = super::in_pool(args.input.threads, || run(&config))?;
    if !args.input.quiet {
        tracing::info!(
            "fordeling: {} scenarios and the baseline ({} set(s) of sums over persons, in one reading): loaded in {:.3} s, computed in {:.3} s; wrote {}",
            batch.scenarios,
            batch.passes_over_persons,
            batch.load_seconds,
            batch.compute_seconds,
            config.out.display()
        );
    }
    Ok(())
}
