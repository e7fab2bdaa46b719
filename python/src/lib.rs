//! `fordeling._native`: the engine in-process for Python. The Python
//! package (`fordeling/__init__.py`) wraps these functions; this module is
//! only the edge: Arrow tables in and out through the Arrow C stream
//! interface (PyCapsules, no copies), the engine's errors as Python
//! exceptions, the GIL released and a rayon pool of `threads` around every
//! computation. The computation itself is the engine's (`fordeling`), the
//! same code the command line runs.

use argv::parse_command;
use arrow::datatypes::SchemaRef;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow::record_batch::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use fordeling::commands::{self, Failure, Stage};
use fordeling::error::Error;
use fordeling::ingest::ArrowTable;
use fordeling::inputs::{InMemory, InputPaths, Inputs};
use fordeling::model::{sha256_hex, LoadLevel, LoadedModel, Model};
use fordeling::year::{RunParams, RunResult};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

mod argv;

pyo3::create_exception!(
    fordeling,
    InputError,
    PyValueError,
    "Bad input data: the message names the file (or table), column, row and value."
);
pyo3::create_exception!(
    fordeling,
    ModelError,
    PyValueError,
    "A model file (or model text) that cannot be used: the message names the key."
);
pyo3::create_exception!(
    fordeling,
    OutputError,
    PyOSError,
    "Output that could not be written."
);

/// The reference model shipped with the engine, used when no model is given.
const REFERENCE_MODEL: &str = include_str!("../../models/reference-2027.toml");
const REFERENCE_NAME: &str = "<built-in>/reference-2027.toml";
const STREAM: &CStr = c"arrow_array_stream";

fn raise(stage: Stage, message: String) -> PyErr {
    match stage {
        Stage::Input => InputError::new_err(message),
        Stage::Model => ModelError::new_err(message),
        Stage::Output => OutputError::new_err(message),
        Stage::Usage => PyValueError::new_err(message),
    }
}

/// Runs `work` without the GIL, in a rayon pool of `threads` workers
/// (default or 0: all cores; a command given by `argv` makes its own pool
/// of its `--threads`), turning a panic into a `RuntimeError`: nothing
/// unwinds into Python.
fn compute<T: Send>(
    py: Python<'_>,
    threads: Option<usize>,
    work: impl FnOnce() -> Result<T, Raised> + Send,
) -> PyResult<T> {
    let outcome = py.detach(move || {
        // A pool per call: one kept across calls would leave a forked
        // child (multiprocessing) a pool whose threads it does not have.
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = threads {
            // 0: all cores, as the command line's `--threads 0`.
            builder = builder.num_threads(n);
        }
        let pool = builder.build().map_err(|e| Raised {
            stage: Some(Stage::Output),
            message: format!("cannot start worker threads: {e}"),
        })?;
        catch_unwind(AssertUnwindSafe(|| pool.install(work))).unwrap_or_else(|panic| {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(Raised {
                stage: None,
                message: format!("internal error in fordeling (a bug, please report it): {detail}"),
            })
        })
    });
    outcome.map_err(|e| match e.stage {
        Some(stage) => raise(stage, e.message),
        None => PyRuntimeError::new_err(e.message),
    })
}

/// An error made without the GIL, raised once it is held again: by its
/// stage, or (`None`) as an internal error.
pub(crate) struct Raised {
    pub(crate) stage: Option<Stage>,
    pub(crate) message: String,
}

impl From<Error> for Raised {
    fn from(error: Error) -> Self {
        Failure::from(error).into()
    }
}

impl From<Failure> for Raised {
    fn from(failure: Failure) -> Self {
        Raised {
            stage: Some(failure.stage),
            message: failure.message,
        }
    }
}

/// An input as the caller gave it: a path, or a table read from an object
/// with `__arrow_c_stream__`.
enum Given {
    Path(PathBuf),
    Table(Arc<ArrowTable>),
}

impl Given {
    /// The path that names the input (a table's label), and the table.
    fn split(self) -> (PathBuf, Option<Arc<ArrowTable>>) {
        match self {
            Given::Path(path) => (path, None),
            Given::Table(table) => (table.label.clone(), Some(table)),
        }
    }
}

/// Reads an input argument: any object with the Arrow PyCapsule stream
/// interface is imported through the C stream interface (the arrays keep
/// the producer's buffers: no copy), anything else must be a path.
fn given(obj: &Bound<'_, PyAny>, role: &str) -> PyResult<Given> {
    let py = obj.py();
    if obj.hasattr("__arrow_c_stream__")? {
        let kind = obj.get_type();
        let label = format!(
            "<{role}: {}.{}>",
            kind.module()?
                .to_string()
                .split('.')
                .next()
                .unwrap_or_default(),
            kind.qualname()?
        );
        let capsule = obj.call_method0("__arrow_c_stream__")?;
        let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
            InputError::new_err(format!(
                "`{label}`: __arrow_c_stream__ did not return a PyCapsule"
            ))
        })?;
        let pointer = capsule.pointer_checked(Some(STREAM))?;
        // SAFETY: the capsule is an `arrow_array_stream` capsule (its name
        // was checked), so it points to a valid FFI_ArrowArrayStream; the
        // reader moves the stream out and leaves a released one, as the
        // PyCapsule interface asks of a consumer.
        let reader = unsafe {
            RecordBatchStreamReader::from_raw(pointer.as_ptr().cast::<FFI_ArrowArrayStream>())
        }
        .map_err(|e| {
            InputError::new_err(format!("`{label}`: cannot read the Arrow stream: {e}"))
        })?;
        let schema = reader.schema();
        let batches = reader
            .collect::<Result<Vec<RecordBatch>, _>>()
            .map_err(|e| {
                InputError::new_err(format!("`{label}`: cannot read the Arrow stream: {e}"))
            })?;
        return Ok(Given::Table(Arc::new(ArrowTable::new(
            label, schema, batches,
        ))));
    }
    let os = py.import("os")?;
    let path = os.call_method1("fspath", (obj,)).map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "{role}: expected a path or a table with __arrow_c_stream__ (pyarrow, Polars, DuckDB), got {}",
            obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    Ok(Given::Path(path.extract::<PathBuf>()?))
}

/// A model: the built-in reference, a `Model`, or a path.
fn model_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<(PathBuf, Option<LoadedModel>)> {
    match obj {
        None => {
            let reference = PyModel::reference()?;
            Ok((reference.loaded.path.clone(), Some(reference.loaded)))
        }
        Some(obj) => {
            if let Ok(model) = obj.cast::<PyModel>() {
                let loaded = model.borrow().loaded.clone();
                return Ok((loaded.path.clone(), Some(loaded)));
            }
            match given(obj, "model")? {
                Given::Path(path) => Ok((path, None)),
                Given::Table(_) => Err(pyo3::exceptions::PyTypeError::new_err(
                    "model: expected a path or a fordeling.Model, not a table",
                )),
            }
        }
    }
}

/// The tables and model given in memory, and the paths that name the rest.
struct Sources {
    population: PathBuf,
    clinics: PathBuf,
    geography: Option<PathBuf>,
    model: PathBuf,
    memory: InMemory,
}

fn sources(
    population: &Bound<'_, PyAny>,
    clinics: &Bound<'_, PyAny>,
    geography: Option<&Bound<'_, PyAny>>,
    model: Option<&Bound<'_, PyAny>>,
) -> PyResult<Sources> {
    let mut memory = InMemory::default();
    let (population, table) = given(population, "population")?.split();
    memory.population = table;
    let (clinics, table) = given(clinics, "clinics")?.split();
    memory.clinics = table;
    let geography = match geography {
        Some(g) => {
            let (path, table) = given(g, "geography")?.split();
            memory.geography = table;
            Some(path)
        }
        None => None,
    };
    let (model, loaded) = model_of(model)?;
    memory.model = loaded;
    Ok(Sources {
        population,
        clinics,
        geography,
        model,
        memory,
    })
}

/// Record batches as an object with `__arrow_c_stream__` (taken once).
#[pyclass(module = "fordeling._native")]
struct ArrowStream {
    table: Option<(SchemaRef, Vec<RecordBatch>)>,
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule stream interface; `requested_schema` is ignored.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &mut self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let (schema, batches) = self
            .table
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this stream was already read"))?;
        let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
            batches.into_iter().map(Ok),
            schema,
        ));
        PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(reader), STREAM)
    }
}

fn stream_of(table: &fordeling::output::table::Table) -> PyResult<ArrowStream> {
    let batch = table
        .to_record_batch()
        .map_err(|e| OutputError::new_err(format!("cannot make the Arrow table: {e}")))?;
    Ok(ArrowStream {
        table: Some((batch.schema(), vec![batch])),
    })
}

/// A model, loaded and checked.
#[pyclass(name = "Model", module = "fordeling", frozen)]
#[derive(Clone)]
struct PyModel {
    loaded: LoadedModel,
    text: String,
    report: Option<String>,
}

impl PyModel {
    fn parse(text: &str, path: PathBuf) -> PyResult<PyModel> {
        let model = Model::parse(text.as_bytes(), &path)
            .map_err(|e| ModelError::new_err(Error::from(e).to_string()))?;
        Ok(PyModel {
            loaded: LoadedModel {
                model,
                path,
                sha256: sha256_hex(text.as_bytes()),
            },
            text: text.to_string(),
            report: None,
        })
    }
}

#[pymethods]
impl PyModel {
    /// Reads and checks a model file (format 1 or 2).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyModel> {
        let bytes = std::fs::read(&path)
            .map_err(|e| ModelError::new_err(format!("cannot read `{}`: {e}", path.display())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ModelError::new_err(format!("`{}` is not UTF-8 text", path.display())))?;
        PyModel::parse(&text, path)
    }

    /// Checks model text (TOML, format 1 or 2).
    #[staticmethod]
    #[pyo3(signature = (text, name="<model text>"))]
    fn from_toml(text: &str, name: &str) -> PyResult<PyModel> {
        PyModel::parse(text, PathBuf::from(name))
    }

    /// The reference model shipped with the engine (`models/reference-2027.toml`).
    #[staticmethod]
    fn reference() -> PyResult<PyModel> {
        PyModel::parse(REFERENCE_MODEL, PathBuf::from(REFERENCE_NAME))
    }

    /// The model's TOML text.
    fn to_toml(&self) -> String {
        self.text.clone()
    }

    /// The model's id.
    #[getter]
    fn id(&self) -> String {
        self.loaded.model.id.clone()
    }

    /// SHA-256 of the model text.
    #[getter]
    fn sha256(&self) -> String {
        self.loaded.sha256.clone()
    }

    /// Where the model came from (a path, or a label).
    #[getter]
    fn path(&self) -> String {
        self.loaded.path.display().to_string()
    }

    /// The fit report (JSON text, as `fit.json`) of a fitted model, else None.
    #[getter]
    fn fit_report_json(&self) -> Option<String> {
        self.report.clone()
    }

    /// The fit report (`fit.json`) of a fitted model as a dict, else None.
    #[getter]
    fn fit_report<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.report {
            None => Ok(None),
            Some(text) => Ok(Some(py.import("json")?.call_method1("loads", (text,))?)),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "fordeling.Model(id={:?}, path={:?})",
            self.loaded.model.id,
            self.path()
        )
    }
}

/// A fitted model's text and report, made into a `Model`.
#[pyfunction]
fn fitted_model(text: &str, name: &str, report: String) -> PyResult<PyModel> {
    let mut model = PyModel::parse(text, PathBuf::from(name))?;
    model.report = Some(report);
    Ok(model)
}

/// A finished national run held in memory.
#[pyclass(module = "fordeling._native", frozen)]
struct Run {
    paths: InputPaths,
    params: RunParams,
    inputs: Inputs,
    result: RunResult,
    threads: Option<usize>,
    wall_time_seconds: f64,
    threads_used: usize,
}

#[pymethods]
impl Run {
    /// The clinic table, as the CLI's `clinics.parquet`.
    fn clinics(&self) -> PyResult<ArrowStream> {
        stream_of(&fordeling::output::clinic_table(&self.inputs, &self.result))
    }

    /// The area table, as the CLI's `areas.parquet`.
    fn areas(&self) -> PyResult<ArrowStream> {
        stream_of(&fordeling::output::area_table(&self.result.areas))
    }

    /// The manifest, as the CLI's `manifest.json` (without an invocation).
    fn manifest(&self) -> String {
        let meta = fordeling::output::RunMeta {
            threads: self.threads_used,
            wall_time_seconds: self.wall_time_seconds,
            person_weights_written: false,
            invocation: None,
        };
        fordeling::output::manifest_json(&self.inputs, &self.result, &meta)
    }

    /// The account of one clinic (JSON text), as `fordeling explain --format json`.
    fn explain(&self, py: Python<'_>, clinic_id: i32) -> PyResult<String> {
        let paths = self.paths.clone();
        let params = self.params;
        compute(py, self.threads, move || {
            let account = commands::explain::explain_clinic(&paths, &params, clinic_id)?;
            fordeling::output::json_text(&account).map_err(|e| Raised {
                stage: Some(Stage::Output),
                message: format!("cannot write the account: {e}"),
            })
        })
    }
}

/// One national run in memory (see `fordeling.run`).
#[pyfunction]
#[pyo3(signature = (*, population, clinics, geography=None, model=None, year=2027, capacity_total=None, load_level=None, nulls_as_unknown=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    population: &Bound<'_, PyAny>,
    clinics: &Bound<'_, PyAny>,
    geography: Option<&Bound<'_, PyAny>>,
    model: Option<&Bound<'_, PyAny>>,
    year: i32,
    capacity_total: Option<f64>,
    load_level: Option<&str>,
    nulls_as_unknown: bool,
    threads: Option<usize>,
) -> PyResult<Run> {
    let load_level = match load_level {
        None => None,
        Some(text) => Some(LoadLevel::parse(text).ok_or_else(|| {
            PyValueError::new_err(format!(
                "load_level `{text}` is not one of nation, region, sundhedsraad"
            ))
        })?),
    };
    if let Some(d) = capacity_total {
        if !(d.is_finite() && d > 0.0) {
            return Err(PyValueError::new_err(format!(
                "capacity_total `{d}` is not a number above 0"
            )));
        }
    }
    if !(1900..=2200).contains(&year) {
        return Err(PyValueError::new_err(format!(
            "year {year} is not in 1900..=2200"
        )));
    }
    let s = sources(population, clinics, geography, model)?;
    let paths = InputPaths {
        population: s.population,
        clinics: s.clinics,
        geography: s.geography,
        model: s.model,
        nulls_as_unknown,
        outcomes: false,
        load_level,
        memory: s.memory,
    };
    let params = RunParams {
        year,
        capacity_total,
    };
    let (worker_paths, worker_params) = (paths.clone(), params);
    let (inputs, result, wall, used) = compute(py, threads, move || {
        let started = std::time::Instant::now();
        let (inputs, _, result, _) =
            commands::run::compute_run(&worker_paths, &worker_params, false)?;
        Ok((
            inputs,
            result,
            started.elapsed().as_secs_f64(),
            rayon::current_num_threads(),
        ))
    })?;
    Ok(Run {
        paths,
        params,
        inputs,
        result,
        threads,
        wall_time_seconds: wall,
        threads_used: used,
    })
}

/// Runs a subcommand as the command line would, from its arguments
/// (`argv`, without the program name), with tables and a model given in
/// memory in place of the files the arguments name.
#[pyfunction]
#[pyo3(signature = (argv, *, population=None, clinics=None, geography=None, model=None, threads=None))]
fn command(
    py: Python<'_>,
    argv: Vec<String>,
    population: Option<&Bound<'_, PyAny>>,
    clinics: Option<&Bound<'_, PyAny>>,
    geography: Option<&Bound<'_, PyAny>>,
    model: Option<&Bound<'_, PyAny>>,
    threads: Option<usize>,
) -> PyResult<()> {
    let mut memory = InMemory::default();
    let mut argv = argv;
    let mut table = |obj: Option<&Bound<'_, PyAny>>,
                     role: &str,
                     flag: &str|
     -> PyResult<Option<Arc<ArrowTable>>> {
        let Some(obj) = obj else { return Ok(None) };
        let (name, table) = given(obj, role)?.split();
        argv.push(flag.to_string());
        argv.push(name.display().to_string());
        Ok(table)
    };
    memory.population = table(population, "population", "--population")?;
    memory.clinics = table(clinics, "clinics", "--clinics")?;
    memory.geography = table(geography, "geography", "--geography")?;
    if let Some(obj) = model {
        if let Ok(m) = obj.cast::<PyModel>() {
            memory.model = Some(m.borrow().loaded.clone());
        }
    }
    let command = parse_command(&argv, memory).map_err(|e| raise(Stage::Usage, e))?;
    compute(py, threads, move || command.execute().map_err(Raised::from))
}

/// The engine's version and commit.
#[pyfunction]
fn version() -> String {
    fordeling::output::schema::Engine::this().describe()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(command, m)?)?;
    m.add_function(wrap_pyfunction!(fitted_model, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_class::<PyModel>()?;
    m.add_class::<Run>()?;
    m.add_class::<ArrowStream>()?;
    let py = m.py();
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    Ok(())
}
