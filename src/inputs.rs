//! The inputs of a computation: where they come from (`InputPaths`), what
//! was read (`Source`, with its SHA-256), and the checked data (`Inputs`).
//! Loading either holds the population (`load_inputs`) or streams it past
//! in row groups into year-independent sums (`load_streamed`).

use crate::aggregate;
use crate::domain::{Clinics, Geography, Population};
use crate::error::{Error, InputError, ModelError};
use crate::ingest::ArrowTable;
use crate::model::{self, LoadedModel, Model};
use crate::{ingest, validate, weights};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// `--load-level`: overrides the model's `[proposal] load_level`.
    pub load_level: Option<model::LoadLevel>,
    /// Inputs given in memory (the Python package) instead of the files
    /// above, whose paths then only name them.
    pub memory: InMemory,
}

/// Inputs held in memory rather than read from files: Arrow tables for the
/// population, clinics and geography, and a model already loaded. Each one
/// given replaces the file of its role; a table's SHA-256 in the manifest
/// is empty (there are no bytes of a file to hash).
#[derive(Debug, Clone, Default)]
pub struct InMemory {
    pub population: Option<Arc<ArrowTable>>,
    pub clinics: Option<Arc<ArrowTable>>,
    pub geography: Option<Arc<ArrowTable>>,
    pub model: Option<LoadedModel>,
}

impl InputPaths {
    /// The model: the one given in memory, else the file's.
    pub fn load_model(&self) -> Result<LoadedModel, ModelError> {
        match &self.memory.model {
            Some(model) => Ok(model.clone()),
            None => model::Model::load(&self.model),
        }
    }
}

/// A file that was read: its path, rows and SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Reads and checks the model, geography and clinics (the population is
/// left empty: `load_inputs` holds it, `stream_bases` streams it past).
pub fn load_context(paths: &InputPaths) -> Result<Inputs, Error> {
    load_context_with(paths, paths.load_model()?)
}

/// `load_context` with a model already loaded (e.g. a format-1 model as
/// the format-2 model it is).
fn load_context_with(paths: &InputPaths, mut model: LoadedModel) -> Result<Inputs, Error> {
    if let Some(level) = paths.load_level {
        model.model.proposal.load_level = level;
        if let Some(spec) = model.model.format2.as_mut() {
            std::sync::Arc::make_mut(spec).proposal.load_level = level;
        }
    }
    let (geography, geography_source) = match (&paths.memory.geography, &paths.geography) {
        (Some(table), _) => {
            let geography = ingest::geography::from_batches(&table.batches, &table.label)?;
            let source = table_source(table, geography.kommuner.len() as u64);
            (geography, source)
        }
        (None, Some(path)) => {
            let geography = ingest::geography::load(path)?;
            let source = source(path, geography.kommuner.len() as u64)?;
            (geography, source)
        }
        (None, None) => {
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
    let reads_area_index = model.model.area.is_some()
        || model
            .model
            .format2
            .as_ref()
            .is_some_and(|spec| spec.uses_area_index());
    if reads_area_index && !geography.has_area_index() {
        let missing = geography
            .kommuner
            .iter()
            .find(|k| k.area_index.is_none())
            .map(|k| format!("kommune {} ({})", k.code, k.name))
            .unwrap_or_default();
        return Err(InputError::MissingColumn {
            path: geography_path,
            column: "area_index".into(),
            hint: format!(
                " (the model's {} needs it; first without: {missing})",
                if model.model.format2.is_some() {
                    "numeric term on area_index"
                } else {
                    "[area] term"
                }
            ),
        }
        .into());
    }

    let raw_clinics = ingest::clinics(&paths.clinics, paths.memory.clinics.as_ref())?;
    let clinics_rows = raw_clinics.clinic_id.len() as u64;
    let clinics = validate::clinics(raw_clinics, &geography, &paths.clinics, &geography_path)?;
    let clinics_source = match &paths.memory.clinics {
        Some(table) => table_source(table, clinics_rows),
        None => source(&paths.clinics, clinics_rows)?,
    };

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

/// Reads the inputs and sums the persons into the year-independent basis
/// (`year`'s tables give the model's package signatures): held in memory
/// when `hold` (for person-level outputs), else streamed past.
pub fn load_with_basis(
    paths: &InputPaths,
    year: i32,
    hold: bool,
) -> Result<(Inputs, aggregate::Basis), Error> {
    if !hold {
        return load_streamed(paths, year);
    }
    let inputs = load_inputs(paths)?;
    let tables = inputs.year_tables(&inputs.model.model, year)?;
    let basis = aggregate::Basis::new(
        &tables,
        &inputs.population,
        inputs.clinics.len(),
        inputs.geography.kommuner.len(),
    );
    Ok((inputs, basis))
}

/// Reads and checks every input. The population file is hashed alongside,
/// from the start (`ingest::hashing`).
pub fn load_inputs(paths: &InputPaths) -> Result<Inputs, Error> {
    with_population_hash(paths, || read_inputs(paths, paths.load_model()?))
}

/// `load_inputs` with a model already loaded in place of `paths.model`:
/// the population is read for it.
pub fn load_inputs_with(paths: &InputPaths, model: LoadedModel) -> Result<Inputs, Error> {
    with_population_hash(paths, || read_inputs(paths, model))
}

/// The inputs `read` makes, with the population's SHA-256 made alongside
/// from the start (`ingest::hashing`; empty for a table in memory).
fn with_population_hash(
    paths: &InputPaths,
    read: impl FnOnce() -> Result<Inputs, Error> + Send,
) -> Result<Inputs, Error> {
    let (mut inputs, sha256) = population_hashed(paths, read)?;
    inputs.population_source.sha256 = sha256;
    Ok(inputs)
}

/// `work` and the SHA-256 of `paths`' population, made alongside from the
/// start (`ingest::hashing`; empty for a table in memory).
fn population_hashed<T: Send>(
    paths: &InputPaths,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<(T, String), Error> {
    let in_memory = paths.memory.population.is_some();
    ingest::hashing(&paths.population, in_memory, work)
}

/// `load_inputs_with` but for the population's SHA-256.
fn read_inputs(paths: &InputPaths, model: LoadedModel) -> Result<Inputs, Error> {
    let mut inputs = load_context_with(paths, model)?;
    let options = ingest::PopulationOptions {
        nulls_as_unknown: paths.nulls_as_unknown,
        outcomes: paths.outcomes,
    };
    let raw = ingest::population_reader(
        &paths.population,
        paths.memory.population.as_ref(),
        &inputs.model.model,
        options,
    )?
    .read_all()?;
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
/// straight into the year-independent sums, so memory holds the row
/// groups being read, never the population. The returned `Inputs` has an empty
/// population.
pub fn load_streamed(paths: &InputPaths, year: i32) -> Result<(Inputs, aggregate::Basis), Error> {
    let ((mut inputs, basis), sha256) = population_hashed(paths, || {
        let mut inputs = load_context(paths)?;
        let tables = inputs.year_tables(&inputs.model.model, year)?;
        let bases = stream_unhashed(&mut inputs, paths, std::slice::from_ref(&tables))?;
        let basis = only_basis(bases, &tables, &inputs);
        Ok((inputs, basis))
    })?;
    inputs.population_source.sha256 = sha256;
    Ok((inputs, basis))
}

/// `stream_bases` for one set of tables.
pub fn stream_basis(
    inputs: &mut Inputs,
    paths: &InputPaths,
    tables: &weights::YearTables,
) -> Result<aggregate::Basis, Error> {
    let bases = stream_bases(inputs, paths, std::slice::from_ref(tables))?;
    Ok(only_basis(bases, tables, inputs))
}

/// The one basis streamed for `tables` (an empty one if none was made).
fn only_basis(
    mut bases: Vec<aggregate::Basis>,
    tables: &weights::YearTables,
    inputs: &Inputs,
) -> aggregate::Basis {
    bases.pop().unwrap_or_else(|| {
        aggregate::Basis::empty(
            tables,
            inputs.clinics.len(),
            inputs.geography.kommuner.len(),
        )
    })
}

/// Streams the population past once, a few row groups at a time, into one
/// basis per set of year tables (in `tables`' order), and records the
/// population's source (path, rows, SHA-256) and mapped nulls in `inputs`, which
/// come from `load_context` and keep an empty population. Every table
/// must be of a model with the loaded model's conditions (the population
/// is read for the loaded model): a batch of scenarios sums the persons
/// into each of its bases in one reading of the file.
pub fn stream_bases(
    inputs: &mut Inputs,
    paths: &InputPaths,
    tables: &[weights::YearTables],
) -> Result<Vec<aggregate::Basis>, Error> {
    let (bases, sha256) = population_hashed(paths, || stream_unhashed(inputs, paths, tables))?;
    inputs.population_source.sha256 = sha256;
    Ok(bases)
}

/// `stream_bases` but for the population's SHA-256, which is left empty.
fn stream_unhashed(
    inputs: &mut Inputs,
    paths: &InputPaths,
    tables: &[weights::YearTables],
) -> Result<Vec<aggregate::Basis>, Error> {
    let model = &inputs.model.model;
    let n_clinics = inputs.clinics.len();
    let n_kommuner = inputs.geography.kommuner.len();
    let options = ingest::PopulationOptions {
        nulls_as_unknown: paths.nulls_as_unknown,
        outcomes: false,
    };
    let reader = ingest::population_reader(
        &paths.population,
        paths.memory.population.as_ref(),
        model,
        options,
    )?;
    let geography_path = PathBuf::from(&inputs.geography_source.path);
    let check_paths = validate::Paths {
        population: &paths.population,
        clinics: &paths.clinics,
        geography: &geography_path,
    };
    // Each row group is checked and summed on the pool; the parts are
    // merged in file order. Ids strictly increasing through the file need
    // no further duplicate check; other files' ids are checked as sets of
    // bits kept per worker (`validate::IdPool`) and, when a row group was
    // left out of the sets or they are too sparse or find a repeat, by
    // reading the ids again and sorting them.
    struct Part {
        first_id: Option<i64>,
        last_id: Option<i64>,
        increasing: bool,
        rows: u64,
        nulls_mapped: [u64; 5],
    }
    let references = validate::References::new(&inputs.clinics, &inputs.geography);
    let pools: Vec<aggregate::BasisPool> = tables
        .iter()
        .map(|t| aggregate::BasisPool::new(t, n_clinics, n_kommuner))
        .collect();
    let mut last_id: Option<i64> = None;
    let mut increasing = true;
    let id_sets = validate::IdPool::new(reader.rows());
    let mut rows = 0u64;
    let mut nulls_mapped = [0u64; 5];
    let window = 2 * rayon::current_num_threads().max(1);
    // Set once the ids of the groups merged so far stop increasing.
    let broken = std::sync::atomic::AtomicBool::new(false);
    reader.stream(
        window,
        |raw, first_row| {
            let part_rows = raw.person_id.len() as u64;
            let first_id = raw.person_id.first().copied();
            let last_id = raw.person_id.last().copied();
            let increasing = validate::increasing(&raw.person_id);
            // While the file's ids increase, an increasing row group's ids
            // are not put in a set: they are only needed once they stop (a
            // group left out before that means the ids are sorted).
            if increasing && !broken.load(std::sync::atomic::Ordering::Relaxed) {
                id_sets.leave_out();
            } else {
                id_sets.add(&raw.person_id);
            }
            let nulls_mapped = raw.nulls_mapped;
            let chunk = validate::references(raw, &references, &check_paths, first_row)?;
            for pool in &pools {
                pool.add(&chunk, 0..chunk.len(), first_row as usize);
            }
            Ok(Part {
                first_id,
                last_id,
                increasing,
                rows: part_rows,
                nulls_mapped,
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
            if !increasing {
                broken.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            for (a, b) in nulls_mapped.iter_mut().zip(part.nulls_mapped) {
                *a += b;
            }
            rows += part.rows;
            Ok(())
        },
    )?;
    let bases = pools
        .into_iter()
        .map(aggregate::BasisPool::finish)
        .collect();
    if rows == 0 {
        return Err(InputError::Empty {
            path: paths.population.clone(),
        }
        .into());
    }
    let unique = increasing || matches!(id_sets.finish(), validate::Ids::Unique(_));
    if !unique {
        // Only the ids are read again, to find and name the repeat.
        let ids = ingest::person_ids(&paths.population, paths.memory.population.as_ref())?;
        validate::duplicate_ids(&ids, &paths.population)?;
    }
    inputs.population_source = Source {
        path: paths.population.display().to_string(),
        rows,
        sha256: String::new(),
    };
    inputs.nulls_mapped = nulls_mapped;
    Ok(bases)
}

/// A table held in memory as a source: named by its label, with no
/// bytes of a file to hash.
fn table_source(table: &ArrowTable, rows: u64) -> Source {
    Source {
        path: table.label.display().to_string(),
        rows,
        sha256: String::new(),
    }
}

fn source(path: &Path, rows: u64) -> Result<Source, InputError> {
    Ok(Source {
        path: path.display().to_string(),
        rows,
        sha256: ingest::hash_file(path)?,
    })
}
