//! `fordeling` computes Denmark's national distribution model for
//! general-practice capacity: every listed person's need weight, every
//! clinic's and area's need, and every clinic's minimum patient count.
//!
//! The pipeline of one national run, edge to edge:
//!
//! 1. [`load_inputs`]: read and check the model file, the geography, the
//!    clinics and the population (`model`, `ingest`, `validate`);
//! 2. [`compute`]: per-person raw need summed per clinic and kommune in one
//!    parallel pass (`weights`, `aggregate`), the reference load and the
//!    proposals (`proposal`), and the area table (`areas`) — pure functions
//!    of the loaded data;
//! 3. `output::write_run`: the result files, written atomically.
//!
//! [`run`] strings the three together.

pub mod aggregate;
pub mod areas;
pub mod diff;
pub mod domain;
pub mod error;
pub mod evaluation;
pub mod explain;
// Index loops in the estimation code read like the formulas they implement.
#[allow(clippy::needless_range_loop)]
pub mod fit;
pub mod ingest;
pub mod model;
pub mod output;
pub mod progress;
pub mod project;
pub mod proposal;
pub mod report;
pub mod scenarios;
pub mod synth;
pub mod validate;
pub mod weights;

use aggregate::Need;
use areas::AreaRow;
use domain::{Clinics, Geography, Population};
use error::{Error, InputError, ModelError};
use model::{LoadedModel, Model};
use proposal::{ClinicInput, Proposal};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the inputs of a run come from.
#[derive(Debug, Clone)]
pub struct InputPaths {
    pub population: PathBuf,
    pub clinics: PathBuf,
    /// `None`: the engine's built-in geography.
    pub geography: Option<PathBuf>,
    pub model: PathBuf,
    pub nulls_as_unknown: bool,
    /// Read `utilization` and `exposure` too (fit and evaluate).
    pub outcomes: bool,
}

/// The parameters of one year's computation.
#[derive(Debug, Clone, Copy)]
pub struct RunParams {
    pub year: i32,
    /// Overrides `D`, the total capacities.
    pub capacity_total: Option<f64>,
}

/// Everything a national run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub inputs: InputPaths,
    pub params: RunParams,
    pub out: PathBuf,
    /// Also write every person's need weight (`person_weights.parquet`).
    /// Person-level data leaves the engine only then.
    pub write_person_weights: bool,
    /// Also write `report.html`.
    pub report: bool,
}

/// A file that was read: its path, rows and SHA-256.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub path: String,
    pub rows: u64,
    pub sha256: String,
}

/// The checked inputs of a run.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub model: LoadedModel,
    pub geography: Geography,
    pub geography_source: Source,
    pub clinics: Clinics,
    pub clinics_source: Source,
    pub population: Population,
    pub population_source: Source,
    /// Nulls mapped per socioeconomic column (`--nulls-as-unknown`).
    pub nulls_mapped: [u64; 5],
    /// Whether socioeconomic nulls were allowed and mapped.
    pub nulls_as_unknown: bool,
}

impl Inputs {
    /// The weight tables of `year` for `model` (the loaded model or a
    /// variant of it) over these inputs' geography; errors name the loaded
    /// model's file.
    pub fn year_tables(&self, model: &Model, year: i32) -> Result<weights::YearTables, ModelError> {
        weights::YearTables::new(model, &self.geography, year, &self.model.path)
    }
}

/// The results of one year's computation.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub year: i32,
    pub load: f64,
    pub capacity_total: f64,
    pub capacity_total_given: bool,
    pub need: Need,
    /// Last year's counts the transition caps were applied to, by clinic.
    pub previous_min_patients: Vec<f64>,
    pub proposals: Vec<Proposal>,
    pub areas: Vec<AreaRow>,
    pub warnings: Vec<String>,
}

/// Timings of a finished run, for progress lines.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub persons: u64,
    pub clinics: usize,
    pub load: f64,
    pub load_seconds: f64,
    pub compute_seconds: f64,
    pub write_seconds: f64,
    pub warnings: Vec<String>,
}

/// Runs the national computation for one year and writes its output.
pub fn run(config: &RunConfig) -> Result<RunSummary, Error> {
    let started = Instant::now();
    // Person weights need the persons; otherwise they stream past.
    let streamed = if config.write_person_weights {
        None
    } else {
        load_streamed(&config.inputs, config.params.year)?
    };
    let loaded = Instant::now();
    // The streamed sums serve the year unless some need is clipped, which
    // takes the persons themselves.
    let from_stream = match streamed {
        Some((inputs, basis)) => {
            let model = &inputs.model.model;
            let tables = inputs.year_tables(model, config.params.year)?;
            match basis.year_sums(&tables) {
                Some(sums) => {
                    let previous = &inputs.clinics.previous_min_patients;
                    let result = compute_from_sums(&inputs, model, sums, &config.params, previous)?;
                    Some((inputs, result))
                }
                None => None,
            }
        }
        None => None,
    };
    let (inputs, result) = match from_stream {
        Some(done) => done,
        None => {
            let inputs = load_inputs(&config.inputs)?;
            let result = compute(&inputs, &config.params)?;
            (inputs, result)
        }
    };
    let computed = Instant::now();
    let person_weights = if config.write_person_weights {
        let model = &inputs.model.model;
        let tables = inputs.year_tables(model, config.params.year)?;
        Some(person_weights(&inputs, &tables, result.need.mean_raw))
    } else {
        None
    };
    let meta = output::RunMeta {
        threads: rayon::current_num_threads(),
        wall_time_seconds: (computed - started).as_secs_f64(),
        person_weights_written: person_weights.is_some(),
    };
    output::atomic::write_dir_atomically(&config.out, |dir| -> Result<(), error::OutputError> {
        output::write_run_files(dir, &inputs, &result, &meta)?;
        if let Some(table) = &person_weights {
            table.write_parquet(&dir.join("person_weights.parquet"))?;
        }
        if config.report {
            output::report_into(dir)?;
        }
        Ok(())
    })?;
    let written = Instant::now();
    Ok(RunSummary {
        persons: result.need.persons,
        clinics: inputs.clinics.len(),
        load: result.load,
        load_seconds: (loaded - started).as_secs_f64(),
        compute_seconds: (computed - loaded).as_secs_f64(),
        write_seconds: (written - computed).as_secs_f64(),
        warnings: result.warnings,
    })
}

/// Every person's id, clinic, residence and need weight, in file order.
fn person_weights(
    inputs: &Inputs,
    tables: &weights::YearTables,
    mean_raw: f64,
) -> output::table::Table {
    let population = &inputs.population;
    let weights: Vec<Option<f64>> = (0..population.len())
        .into_par_iter()
        .map(|i| Some(tables.person(population, i).raw / mean_raw))
        .collect();
    let mut table = output::table::Table::new();
    table
        .int(
            "person_id",
            population.person_id.iter().map(|&id| Some(id)).collect(),
        )
        .int(
            "clinic_id",
            population
                .clinic
                .iter()
                .map(|&c| Some(i64::from(inputs.clinics.clinic_id[c as usize])))
                .collect(),
        )
        .int(
            "kommune",
            population
                .kommune
                .iter()
                .map(|&k| Some(i64::from(inputs.geography.kommuner[usize::from(k)].code)))
                .collect(),
        )
        .float("weight", weights);
    table
}

/// Reads and checks the model, geography and clinics.
fn load_context(paths: &InputPaths) -> Result<Inputs, Error> {
    let model = model::Model::load(&paths.model)?;
    let (geography, geography_source) = match &paths.geography {
        Some(path) => {
            let geography = ingest::geography::load(path)?;
            let source = source(path, geography.kommuner.len() as u64)?;
            (geography, source)
        }
        None => {
            let geography = ingest::geography::built_in()?;
            let source = Source {
                path: ingest::geography::BUILT_IN_NAME.to_string(),
                rows: geography.kommuner.len() as u64,
                sha256: model::sha256_hex(ingest::geography::BUILT_IN.as_bytes()),
            };
            (geography, source)
        }
    };
    let geography_path = PathBuf::from(&geography_source.path);
    if model.model.area.is_some() && !geography.has_area_index() {
        let missing = geography
            .kommuner
            .iter()
            .find(|k| k.area_index.is_none())
            .map(|k| format!("kommune {} ({})", k.code, k.name))
            .unwrap_or_default();
        return Err(InputError::MissingColumn {
            path: geography_path,
            column: "area_index".into(),
            hint: format!(" (the model's [area] term needs it; first without: {missing})"),
        }
        .into());
    }

    let raw_clinics = ingest::clinics(&paths.clinics)?;
    let clinics_rows = raw_clinics.clinic_id.len() as u64;
    let clinics = validate::clinics(raw_clinics, &geography, &paths.clinics, &geography_path)?;
    let clinics_source = source(&paths.clinics, clinics_rows)?;

    Ok(Inputs {
        model,
        geography,
        geography_source,
        clinics,
        clinics_source,
        population: Population::default(),
        population_source: Source {
            path: paths.population.display().to_string(),
            rows: 0,
            sha256: String::new(),
        },
        nulls_mapped: [0; 5],
        nulls_as_unknown: paths.nulls_as_unknown,
    })
}

/// Reads and checks every input. The population file is hashed while it is
/// decoded.
pub fn load_inputs(paths: &InputPaths) -> Result<Inputs, Error> {
    let mut inputs = load_context(paths)?;
    let options = ingest::PopulationOptions {
        nulls_as_unknown: paths.nulls_as_unknown,
        outcomes: paths.outcomes,
    };
    let raw = ingest::population(&paths.population, &inputs.model.model, options)?;
    inputs.population_source.sha256 = raw.sha256.clone();
    inputs.nulls_mapped = raw.nulls_mapped;
    inputs.population_source.rows = raw.person_id.len() as u64;
    let geography_path = PathBuf::from(&inputs.geography_source.path);
    inputs.population = validate::population(
        raw,
        &inputs.clinics,
        &inputs.geography,
        &validate::Paths {
            population: &paths.population,
            clinics: &paths.clinics,
            geography: &geography_path,
        },
    )?;
    Ok(inputs)
}

/// Reads the inputs streaming the population a few row groups at a time
/// straight into the year-independent sums, so memory holds a window of
/// row groups, never the population. The returned `Inputs` has an empty
/// population; `None` when the model has too many packages for the sums.
pub fn load_streamed(
    paths: &InputPaths,
    year: i32,
) -> Result<Option<(Inputs, aggregate::Basis)>, Error> {
    let mut inputs = load_context(paths)?;
    let model = &inputs.model.model;
    let tables = inputs.year_tables(model, year)?;
    let n_clinics = inputs.clinics.len();
    let n_kommuner = inputs.geography.kommuner.len();
    let Some(mut basis) = aggregate::Basis::empty(&tables, n_clinics, n_kommuner) else {
        return Ok(None);
    };
    let options = ingest::PopulationOptions {
        nulls_as_unknown: paths.nulls_as_unknown,
        outcomes: false,
    };
    let reader = ingest::population_reader(&paths.population, model, options)?;
    let geography_path = PathBuf::from(&inputs.geography_source.path);
    let check_paths = validate::Paths {
        population: &paths.population,
        clinics: &paths.clinics,
        geography: &geography_path,
    };
    // Each row group is checked and summed on the pool; the parts are
    // merged in file order. Ids strictly increasing through the file need
    // no further duplicate check.
    struct Part {
        first_id: Option<i64>,
        last_id: Option<i64>,
        increasing: bool,
        rows: u64,
        first_row: u64,
        nulls_mapped: [u64; 5],
        basis: Option<aggregate::Basis>,
    }
    let mut last_id: Option<i64> = None;
    let mut increasing = true;
    let mut rows = 0u64;
    let mut nulls_mapped = [0u64; 5];
    let window = 2 * rayon::current_num_threads().max(1);
    let sha256 = reader.stream(
        window,
        |raw, first_row| {
            let part_rows = raw.person_id.len() as u64;
            let first_id = raw.person_id.first().copied();
            let last_id = raw.person_id.last().copied();
            let increasing = raw.person_id.windows(2).all(|w| w[0] < w[1]);
            let nulls_mapped = raw.nulls_mapped;
            let chunk = validate::references(
                raw,
                &inputs.clinics,
                &inputs.geography,
                &check_paths,
                first_row,
            )?;
            Ok(Part {
                first_id,
                last_id,
                increasing,
                rows: part_rows,
                first_row,
                nulls_mapped,
                basis: aggregate::Basis::of_range(
                    &tables,
                    &chunk,
                    0..chunk.len(),
                    n_clinics,
                    n_kommuner,
                ),
            })
        },
        |part| {
            increasing = increasing
                && part.increasing
                && match (last_id, part.first_id) {
                    (Some(last), Some(first)) => last < first,
                    _ => true,
                };
            last_id = part.last_id.or(last_id);
            for (a, b) in nulls_mapped.iter_mut().zip(part.nulls_mapped) {
                *a += b;
            }
            rows += part.rows;
            if let Some(p) = &part.basis {
                basis.merge(p, part.first_row as usize);
            }
            Ok(())
        },
    )?;
    if rows == 0 {
        return Err(InputError::Empty {
            path: paths.population.clone(),
        }
        .into());
    }
    if !increasing {
        // Only the ids are read again, to find and name the repeat.
        let ids = ingest::person_ids(&paths.population)?;
        validate::duplicate_ids(&ids, &paths.population)?;
    }
    inputs.population_source.rows = rows;
    inputs.population_source.sha256 = sha256;
    inputs.nulls_mapped = nulls_mapped;
    Ok(Some((inputs, basis)))
}

/// The computation of SPEC section 4 for one year: pure, given the inputs.
pub fn compute(inputs: &Inputs, params: &RunParams) -> Result<RunResult, Error> {
    compute_with(inputs, &inputs.model.model, params)
}

/// `compute` with another model over the same data (its conditions must be
/// the loaded model's, in the same order, as the condition bits are).
pub fn compute_with(
    inputs: &Inputs,
    model: &model::Model,
    params: &RunParams,
) -> Result<RunResult, Error> {
    let tables = inputs.year_tables(model, params.year)?;
    let basis = aggregate::Basis::new(
        &tables,
        &inputs.population,
        inputs.clinics.len(),
        inputs.geography.kommuner.len(),
    );
    compute_year(
        inputs,
        model,
        &tables,
        basis.as_ref(),
        params,
        &inputs.clinics.previous_min_patients,
    )
}

/// One year's computation from year-independent sums over the persons
/// (`basis`, when it applies to this year) or a pass over them, with last
/// year's counts `previous` (by clinic).
pub fn compute_year(
    inputs: &Inputs,
    model: &model::Model,
    tables: &weights::YearTables,
    basis: Option<&aggregate::Basis>,
    params: &RunParams,
    previous: &[f64],
) -> Result<RunResult, Error> {
    let sums = basis.and_then(|b| b.year_sums(tables)).unwrap_or_else(|| {
        aggregate::need_sums(
            tables,
            &inputs.population,
            inputs.clinics.len(),
            inputs.geography.kommuner.len(),
        )
    });
    compute_from_sums(inputs, model, sums, params, previous)
}

/// The rest of a year once the per-clinic and per-kommune sums are known:
/// weights, the reference load, proposals, areas and warnings.
pub fn compute_from_sums(
    inputs: &Inputs,
    model: &model::Model,
    sums: aggregate::NeedSums,
    params: &RunParams,
    previous: &[f64],
) -> Result<RunResult, Error> {
    if let Some(row) = sums.first_non_finite {
        return Err(ModelError::Invalid {
            path: inputs.model.path.clone(),
            key: "model".into(),
            detail: format!(
                "the raw need of population row {} is not a finite number (coefficients too large for the {} link?)",
                row + 1,
                model.link.as_str()
            ),
        }
        .into());
    }
    let need = sums.to_need().ok_or_else(|| ModelError::NoNeed {
        path: inputs.model.path.clone(),
        mean: sums.raw_total / sums.persons.max(1) as f64,
    })?;

    let capacity_total = params
        .capacity_total
        .unwrap_or_else(|| inputs.clinics.total_capacities());
    let load = proposal::reference_load(need.persons, capacity_total);
    let rules = &model.proposal;
    let clinics = &inputs.clinics;
    let proposals: Vec<Proposal> = (0..clinics.len())
        .into_par_iter()
        .map(|c| {
            let clinic = ClinicInput {
                capacities: clinics.capacities[c],
                previous_min_patients: previous[c],
                vulnerable_area: clinics.vulnerable_area[c],
            };
            proposal::propose(&need.clinics[c], &clinic, load, rules)
        })
        .collect();
    let areas = areas::area_rows(
        &need,
        clinics,
        &inputs.geography,
        load,
        rules.closing_fraction,
    );

    let mut warnings = Vec::new();
    if need.clipped > 0 {
        warnings.push(format!(
            "{} persons had a raw need below 0, clipped to 0",
            need.clipped
        ));
    }
    for (column, count) in ingest::SOCIOECONOMIC_COLUMNS
        .iter()
        .zip(inputs.nulls_mapped)
    {
        if count > 0 {
            warnings.push(format!(
                "{count} nulls in `{column}` mapped to its unknown (reference) level"
            ));
        }
    }
    let no_count: Vec<String> = proposals
        .iter()
        .zip(&need.clinics)
        .zip(&clinics.clinic_id)
        .filter(|((p, n), _)| p.min_patients.is_none() && n.n_patients > 0)
        .map(|(_, id)| id.to_string())
        .collect();
    if !no_count.is_empty() {
        warnings.push(format!(
            "{} clinics have no finite count (their patients' need is 0 and no ceiling or cap bounds it): {}",
            no_count.len(),
            no_count.join(", ")
        ));
    }
    Ok(RunResult {
        year: params.year,
        load,
        capacity_total,
        capacity_total_given: params.capacity_total.is_some(),
        need,
        previous_min_patients: previous.to_vec(),
        proposals,
        areas,
        warnings,
    })
}

/// Computes a year as `run` does and gives the account of one clinic.
pub fn explain_clinic(
    inputs_paths: &InputPaths,
    params: &RunParams,
    clinic_id: i32,
) -> Result<explain::Account, Error> {
    let inputs = load_inputs(inputs_paths)?;
    let Some(c) = inputs.clinics.index_of(clinic_id) else {
        return Err(InputError::UnknownReference {
            path: PathBuf::from("--clinic"),
            column: "clinic_id".into(),
            row: 1,
            value: clinic_id.to_string(),
            other: inputs_paths.clinics.clone(),
        }
        .into());
    };
    let result = compute(&inputs, params)?;
    let tables = inputs.year_tables(&inputs.model.model, params.year)?;
    Ok(explain::account(&inputs, &result, &tables, c as usize))
}

/// What `fordeling fit` needs.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// `model` is the structure model.
    pub inputs: InputPaths,
    pub options: fit::FitOptions,
    /// The fitted model's id; default `<structure id>-fitted`.
    pub id: Option<String>,
    pub out: PathBuf,
}

/// One estimated coefficient in the fit report.
#[derive(Debug, Clone, Serialize)]
pub struct Coefficient {
    pub term: String,
    pub estimate: f64,
    pub se: f64,
}

/// The fit report (`fit.json`).
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    pub model_id: String,
    pub structure: Source,
    pub population: Source,
    pub link: &'static str,
    pub outcome: String,
    pub data_year: i32,
    pub persons: u64,
    pub exposure_years: f64,
    pub r2: f64,
    pub iterations: usize,
    pub converged: bool,
    pub ridge: f64,
    pub coefficients: Vec<Coefficient>,
}

/// Estimates a structure's coefficients from utilization and writes the
/// fitted model (`model.toml`) and its report (`fit.json`) into `out`.
pub fn fit_model(config: &FitConfig) -> Result<FitReport, Error> {
    let inputs = load_inputs(&config.inputs)?;
    let structure = &inputs.model.model;
    let design = fit::design::Design::new(structure, &inputs.geography);
    let estimate = fit::fit(&design, &inputs.population, &fit::everyone, &config.options)
        .map_err(|e| not_estimable(&inputs.model.path, e))?;
    let mut model = design.to_model(structure, &estimate.beta);
    model.link = config.options.link;
    model.id = config
        .id
        .clone()
        .unwrap_or_else(|| format!("{}-fitted", structure.id));
    model.description = format!(
        "Fitted by fordeling fit ({} link) from structure `{}` on {} persons of `{}`",
        config.options.link.as_str(),
        structure.id,
        estimate.persons,
        inputs.population_source.path
    );
    let text = model
        .to_toml()
        .map_err(|detail| error::OutputError::Write {
            path: config.out.join("model.toml"),
            detail,
        })?;
    let report = FitReport {
        model_id: model.id.clone(),
        structure: Source {
            path: inputs.model.path.display().to_string(),
            rows: 0,
            sha256: inputs.model.sha256.clone(),
        },
        population: inputs.population_source.clone(),
        link: config.options.link.as_str(),
        outcome: model.outcome.clone(),
        data_year: model.data_year,
        persons: estimate.persons,
        exposure_years: estimate.exposure_years,
        r2: estimate.r2,
        iterations: estimate.iterations,
        converged: estimate.converged,
        ridge: config.options.ridge,
        coefficients: design
            .names
            .iter()
            .zip(estimate.beta.iter().zip(&estimate.se))
            .map(|(term, (&estimate, &se))| Coefficient {
                term: term.clone(),
                estimate,
                se,
            })
            .collect(),
    };
    output::write_fit(&config.out, &text, &report)?;
    Ok(report)
}

/// Evaluates models (see `evaluation`) and writes `evaluation.json` and
/// `evaluation.md` into the configured directory.
pub fn evaluate(config: &evaluation::EvaluateConfig) -> Result<evaluation::Evaluation, Error> {
    let result = evaluation::evaluate(config)?;
    output::write_evaluation(
        &config.out,
        &result,
        &evaluation::markdown(&result),
        config.report,
    )?;
    Ok(result)
}

fn not_estimable(path: &Path, error: fit::NotEstimable) -> Error {
    ModelError::Invalid {
        path: path.to_path_buf(),
        key: "design".into(),
        detail: error.0,
    }
    .into()
}

pub(crate) fn hash_file(path: &Path) -> Result<String, InputError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(|source| InputError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn source(path: &Path, rows: u64) -> Result<Source, InputError> {
    Ok(Source {
        path: path.display().to_string(),
        rows,
        sha256: hash_file(path)?,
    })
}
