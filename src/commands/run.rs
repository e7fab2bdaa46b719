//! `fordeling run`: one year's computation over the inputs, written as the
//! clinic and area tables and the manifest (SPEC section 5).

use super::{positive_float, Failure, InputArgs};
use crate::error::{self, Error};
use crate::inputs::{load_with_basis, InputPaths, Inputs};
use crate::output;
use crate::weights;
use crate::year::{compute_year, RunParams, RunResult};
use clap::Args;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

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
    /// Also write `run.xlsx` (clinics and areas as sheets).
    pub xlsx: bool,
    /// The command line's arguments, for the manifest (`None`: a library call).
    pub recorded: Option<output::schema::Recorded>,
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
    // Person weights need the persons held; otherwise they stream past.
    let (inputs, tables, result, loaded) =
        compute_run(&config.inputs, &config.params, config.write_person_weights)?;
    let computed = Instant::now();
    let person_weights = if config.write_person_weights {
        Some(person_weights(&inputs, &tables, result.need.mean_raw))
    } else {
        None
    };
    let meta = output::RunMeta {
        threads: rayon::current_num_threads(),
        wall_time_seconds: (computed - started).as_secs_f64(),
        person_weights_written: person_weights.is_some(),
        invocation: config
            .recorded
            .as_ref()
            .map(|r| r.invocation(output::run_inputs(&inputs))),
    };
    output::atomic::write_dir_atomically(&config.out, |dir| -> Result<(), error::OutputError> {
        output::write_run_files(dir, &inputs, &result, &meta)?;
        if let Some(table) = &person_weights {
            table.write_parquet(&dir.join("person_weights.parquet"))?;
        }
        if config.report {
            output::report_into(dir)?;
        }
        if config.xlsx {
            output::xlsx::write(
                &dir.join("run.xlsx"),
                &[
                    ("clinics", &output::clinic_table(&inputs, &result)),
                    ("areas", &output::area_table(&result.areas)),
                ],
            )?;
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

/// One year computed as `run` computes it (and the Python package's
/// `run`): the checked inputs — the persons held when `hold`, else
/// streamed past into the basis — the year's weight tables, the result,
/// and when the inputs were read.
pub fn compute_run(
    paths: &InputPaths,
    params: &RunParams,
    hold: bool,
) -> Result<(Inputs, weights::YearTables, RunResult, Instant), Error> {
    let (inputs, basis) = load_with_basis(paths, params.year, hold)?;
    let loaded = Instant::now();
    let model = &inputs.model.model;
    let tables = inputs.year_tables(model, params.year)?;
    let previous = &inputs.clinics.previous_min_patients;
    let result = compute_year(&inputs, model, &tables, &basis, params, previous)?;
    Ok((inputs, tables, result, loaded))
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
    let table = crate::output::schema::PersonWeightColumns {
        person_id: population.person_id.iter().map(|&id| Some(id)).collect(),
        clinic_id: population
            .clinic
            .iter()
            .map(|&c| Some(i64::from(inputs.clinics.clinic_id[c as usize])))
            .collect(),
        kommune: population
            .kommune
            .iter()
            .map(|&k| Some(i64::from(inputs.geography.kommuner[usize::from(k)].code)))
            .collect(),
        weight: weights,
    }
    .table();
    table
}

#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Model file (TOML).
    #[arg(long, default_value = "models/reference-2027.toml")]
    pub model: PathBuf,
    /// The year computed (selects the care packages in force).
    #[arg(long, default_value_t = 2027, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub year: i32,
    /// Total doctor capacities D for scenarios (default: the sum over the clinic file).
    #[arg(long, value_parser = positive_float)]
    pub capacity_total: Option<f64>,
    /// Output directory; replaced atomically.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Also write person_weights.parquet (every person's need weight). Person-level
    /// data leaves the engine only with this flag; the manifest records it.
    #[arg(long)]
    pub write_person_weights: bool,
    /// Also write report.html: charts, a kommune map and tables in one self-contained page.
    #[arg(long)]
    pub report: bool,
    /// Also write run.xlsx: the clinic and area tables as sheets, for Excel.
    #[arg(long)]
    pub xlsx: bool,
}

impl RunArgs {
    pub fn to_config(&self) -> RunConfig {
        RunConfig {
            inputs: self.input.paths(self.model.clone(), false),
            params: RunParams {
                year: self.year,
                capacity_total: self.capacity_total,
            },
            out: self.out.clone(),
            write_person_weights: self.write_person_weights,
            report: self.report,
            xlsx: self.xlsx,
            recorded: Some(output::schema::Recorded::new("run", self)),
        }
    }
}

/// Runs `fordeling run` and logs what it did.
pub fn execute(args: &RunArgs) -> Result<(), Failure> {
    let config = args.to_config();
    let summary = super::in_pool(args.input.threads, || run(&config))?;
    if !args.input.quiet {
        tracing::info!(
            "fordeling: {} persons in {} clinics, L = {:.3}; read {:.3} s, computed {:.3} s, wrote {:.3} s into {}",
            summary.persons,
            summary.clinics,
            summary.load,
            summary.load_seconds,
            summary.compute_seconds,
            summary.write_seconds,
            config.out.display()
        );
        for warning in &summary.warnings {
            tracing::warn!("fordeling: warning: {warning}");
        }
    }
    Ok(())
}
