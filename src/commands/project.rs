//! `fordeling project`: the yearly chain. Each year's packages switch on by
//! their start year and phase-in, `D` follows a capacity path, and each
//! year's proposals become the next year's previous counts, so transition
//! caps chain. The population file is streamed past into the
//! year-independent sums (the `Basis`), never held; with the same
//! population every year that is done once, and each further year costs
//! only work proportional to clinics × package signatures.

use super::{Failure, InputArgs};
use crate::decisions;
use crate::error::{Error, InputError, OutputError};
use crate::inputs::{load_context, stream_basis};
use crate::output::schema::{ProjectManifest, ProjectYear};
use crate::output::table::Table;
use crate::{compute_year, output, InputPaths, RunParams, RunResult};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How total capacities `D` develop over the years.
#[derive(Debug, Clone, PartialEq)]
pub enum CapacityPath {
    /// The clinics' own capacities every year.
    Actual,
    /// From today's total linearly to `target` in `year`, flat after.
    Linear { target: f64, year: i32 },
    /// A total for every year, from a `year,capacities` file.
    Table(BTreeMap<i32, f64>),
}

impl CapacityPath {
    /// `actual`, `linear:5000@2035`, or the path of a `year,capacities` CSV.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text == "actual" {
            return Ok(CapacityPath::Actual);
        }
        if let Some(rest) = text.strip_prefix("linear:") {
            let bad = || InputError::Other {
                path: PathBuf::from("--capacity-path"),
                detail: format!(
                    "`{text}` is not of the form linear:TARGET@YEAR, e.g. linear:5000@2035"
                ),
            };
            let (target, year) = rest.split_once('@').ok_or_else(bad)?;
            let target: f64 = target.parse().map_err(|_| bad())?;
            let year: i32 = year.parse().map_err(|_| bad())?;
            if !(target.is_finite() && target > 0.0) {
                return Err(bad().into());
            }
            return Ok(CapacityPath::Linear { target, year });
        }
        let path = Path::new(text);
        let csv = crate::ingest::csv_text::CsvText::read(path)?;
        let mut reader = csv.reader();
        csv.header(&mut reader, path, &["year", "capacities"])?;
        /// One line, by column name; the values are checked below so that
        /// an error names the row and value.
        #[derive(serde::Deserialize)]
        struct Line {
            year: String,
            capacities: String,
        }
        let mut table = BTreeMap::new();
        for (k, record) in reader.deserialize::<Line>().enumerate() {
            let row = k as u64 + 1;
            let record = record.map_err(|e| InputError::Csv {
                path: path.to_path_buf(),
                line: row + 1,
                detail: e.to_string(),
            })?;
            let year: i32 = record.year.parse().map_err(|_| InputError::BadValue {
                path: path.to_path_buf(),
                column: "year".into(),
                row,
                value: record.year.clone(),
                expected: "a year".into(),
            })?;
            let total = match csv.number_text(&record.capacities).parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => v,
                _ => {
                    return Err(InputError::BadValue {
                        path: path.to_path_buf(),
                        column: "capacities".into(),
                        row,
                        value: record.capacities.clone(),
                        expected: "total capacities above 0".into(),
                    }
                    .into())
                }
            };
            if table.insert(year, total).is_some() {
                return Err(InputError::Other {
                    path: path.to_path_buf(),
                    detail: format!("year {year} is listed twice"),
                }
                .into());
            }
        }
        Ok(CapacityPath::Table(table))
    }

    /// `D` in `year` (`None`: the clinics' own total), for a chain starting
    /// in `from` with today's total `today`.
    pub fn total(&self, year: i32, from: i32, today: f64) -> Result<Option<f64>, String> {
        match self {
            CapacityPath::Actual => Ok(None),
            CapacityPath::Linear { target, year: end } => {
                if year >= *end || *end <= from {
                    Ok(Some(*target))
                } else {
                    let share = f64::from(year - from) / f64::from(end - from);
                    Ok(Some(today + (target - today) * share))
                }
            }
            CapacityPath::Table(table) => table
                .get(&year)
                .copied()
                .map(Some)
                .ok_or_else(|| format!("the capacity path has no total for {year}")),
        }
    }
}

/// What `fordeling project` needs.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    pub inputs: InputPaths,
    pub from: i32,
    pub to: i32,
    pub capacity_path: CapacityPath,
    /// A directory of `population_<year>.parquet`, one per year.
    pub population_dir: Option<PathBuf>,
    /// A directory of `decisions-<year>.csv` (or `.parquet`): each year's
    /// final counts set the next year's previous counts.
    pub decisions_dir: Option<PathBuf>,
    pub out: PathBuf,
    /// Also write `report.html`.
    pub report: bool,
    /// Also write `project.xlsx` (the summary tables).
    pub xlsx: bool,
    /// The command line's arguments, for the manifest (`None`: a library call).
    pub recorded: Option<output::schema::Recorded>,
}

/// One year of the chain, for the project manifest.
pub type YearSummary = ProjectYear;

/// What the chain did: its manifest.
pub type ProjectSummary = ProjectManifest;

/// Runs the chain and writes it, atomically, into `config.out`.
pub fn project(config: &ProjectConfig, capacity_path_text: &str) -> Result<ProjectSummary, Error> {
    if config.to < config.from {
        return Err(InputError::Other {
            path: PathBuf::from("--to"),
            detail: format!("--to {} is before --from {}", config.to, config.from),
        }
        .into());
    }
    if let Some(dir) = config.decisions_dir.as_ref().filter(|d| !d.is_dir()) {
        return Err(InputError::Other {
            path: dir.clone(),
            detail: "--decisions-dir is not a directory".into(),
        }
        .into());
    }
    let started = Instant::now();
    let mut paths = config.inputs.clone();
    if let Some(dir) = &config.population_dir {
        paths.population = year_population(dir, config.from);
    }
    // The persons are streamed past into the year-independent sums (never
    // held), with the first year's tables, as each later year's file is.
    let mut inputs = load_context(&paths)?;
    let model = inputs.model.model.clone();
    let first_tables = inputs.year_tables(&model, config.from)?;
    let first_basis = stream_basis(&mut inputs, &paths, &first_tables)?;
    let load_seconds = started.elapsed().as_secs_f64();
    // Every file the chain reads, for the manifest's invocation.
    let mut read = output::run_inputs(&inputs);
    if let CapacityPath::Table(_) = config.capacity_path {
        let path = Path::new(capacity_path_text);
        read.push(output::schema::InputFile {
            role: "capacity path".into(),
            path: capacity_path_text.to_string(),
            sha256: crate::ingest::hash_file(path)?,
        });
    }
    let today = inputs.clinics.total_capacities();
    // Check the whole capacity path before any work.
    for year in config.from..=config.to {
        config
            .capacity_path
            .total(year, config.from, today)
            .map_err(|detail| InputError::Other {
                path: PathBuf::from(capacity_path_text),
                detail,
            })?;
    }

    output::atomic::write_dir_atomically(&config.out, |dir| -> Result<ProjectSummary, Error> {
        let mut previous = inputs.clinics.previous_min_patients.clone();
        let mut basis = first_basis;
        let mut summary_rows: Vec<(i32, RunResult)> = Vec::new();
        let mut years = Vec::new();
        let progress = crate::progress::Progress::new(
            "projecting",
            u64::try_from(config.to - config.from + 1).unwrap_or(0),
            "years",
        );
        for year in config.from..=config.to {
            let t0 = Instant::now();
            let tables = inputs.year_tables(&model, year)?;
            if let (Some(pdir), true) = (&config.population_dir, year > config.from) {
                let mut year_paths = paths.clone();
                year_paths.population = year_population(pdir, year);
                year_paths.memory.population = None;
                basis = stream_basis(&mut inputs, &year_paths, &tables)?;
                read.push(output::schema::InputFile::new(
                    format!("population {year}"),
                    &inputs.population_source,
                ));
            }
            let basis = &basis;
            let capacity_total = config
                .capacity_path
                .total(year, config.from, today)
                .unwrap_or(None);
            let params = RunParams {
                year,
                capacity_total,
            };
            let result = compute_year(&inputs, &model, &tables, basis, &params, &previous)?;
            let compute_seconds = t0.elapsed().as_secs_f64();
            let meta = output::RunMeta {
                threads: rayon::current_num_threads(),
                wall_time_seconds: compute_seconds,
                person_weights_written: false,
                invocation: None,
            };
            let year_dir = dir.join(year.to_string());
            std::fs::create_dir(&year_dir).map_err(|e| OutputError::write(&year_dir, e))?;
            output::write_run_files(&year_dir, &inputs, &result, &meta)?;
            let decisions_file = config
                .decisions_dir
                .as_deref()
                .and_then(|d| decisions::year_file(d, year));
            match &decisions_file {
                // The region's final counts set next year's caps.
                Some(path) => {
                    let rows = decisions::ingest_rows(path)?;
                    read.push(output::schema::InputFile {
                        role: format!("decisions {year}"),
                        path: path.display().to_string(),
                        sha256: crate::ingest::hash_file(path)?,
                    });
                    let proposed = decisions::proposed_from(&inputs.clinics.clinic_id, &result);
                    let decided = decisions::decide(
                        &proposed,
                        &rows,
                        model.proposal.dialogue_threshold,
                        path,
                        &paths.clinics,
                    )?;
                    for (c, d) in decided.iter().enumerate() {
                        previous[c] = decisions::next_previous(d, previous[c]);
                    }
                    let table = super::decide::decision_table(&decided);
                    table.write_parquet(&year_dir.join("decisions.parquet"))?;
                    table.write_csv(&year_dir.join("decisions.csv"))?;
                }
                None => {
                    for (c, proposal) in result.proposals.iter().enumerate() {
                        if let Some(count) = proposal.min_patients {
                            previous[c] = count as f64;
                        }
                    }
                }
            }
            years.push(YearSummary {
                year,
                load: result.load,
                capacity_total: result.capacity_total,
                population: inputs.population_source.path.clone(),
                compute_seconds,
                clinics_capped: result.proposals.iter().filter(|p| p.flags.capped).count(),
                clinics_dialogue: result.proposals.iter().filter(|p| p.flags.dialogue).count(),
                packages_starting: model
                    .packages
                    .iter()
                    .filter(|p| p.start_year == year)
                    .map(|p| p.id.clone())
                    .collect(),
                packages_in_force: model
                    .packages
                    .iter()
                    .filter(|p| p.phase_share(year) > 0.0)
                    .map(|p| p.id.clone())
                    .collect(),
                decisions: decisions_file.map(|p| p.display().to_string()),
            });
            summary_rows.push((year, result));
            progress.inc(1);
        }
        let (clinics, areas) = summary_tables(&inputs, &summary_rows);
        clinics.write_parquet(&dir.join("summary.parquet"))?;
        clinics.write_csv(&dir.join("summary.csv"))?;
        areas.write_parquet(&dir.join("areas_by_year.parquet"))?;
        areas.write_csv(&dir.join("areas_by_year.csv"))?;
        if config.xlsx {
            output::xlsx::write(
                &dir.join("project.xlsx"),
                &[("summary", &clinics), ("areas_by_year", &areas)],
            )?;
        }
        let summary = ProjectSummary {
            from: config.from,
            to: config.to,
            capacity_path: capacity_path_text.to_string(),
            load_seconds,
            years,
            engine: Some(output::schema::Engine::this()),
            invocation: config.recorded.as_ref().map(|r| r.invocation(read.clone())),
        };
        let path = dir.join("manifest.json");
        let text = output::json_text(&summary).map_err(|e| OutputError::write(&path, e))?;
        output::write_text(&path, &text)?;
        if config.report {
            output::report_into(dir)?;
        }
        Ok(summary)
    })
}

fn year_population(dir: &Path, year: i32) -> PathBuf {
    dir.join(format!("population_{year}.parquet"))
}

/// The clinic × year summary and the national and per-sundhedsråd table.
fn summary_tables(inputs: &crate::Inputs, years: &[(i32, RunResult)]) -> (Table, Table) {
    let clinics = &inputs.clinics;
    let mut year = Vec::new();
    let mut clinic_id = Vec::new();
    let mut capacities = Vec::new();
    let mut n_patients = Vec::new();
    let mut need = Vec::new();
    let mut mean_weight = Vec::new();
    let mut previous = Vec::new();
    let mut proposal = Vec::new();
    let mut change = Vec::new();
    let mut change_pct = Vec::new();
    let mut flags = Vec::new();
    let mut loads = Vec::new();
    for (y, result) in years {
        for c in 0..clinics.len() {
            year.push(Some(i64::from(*y)));
            clinic_id.push(Some(i64::from(clinics.clinic_id[c])));
            capacities.push(Some(clinics.capacities[c]));
            n_patients.push(Some(result.need.clinics[c].n_patients as i64));
            need.push(Some(result.need.clinics[c].need));
            mean_weight.push(result.need.clinics[c].mean_weight);
            previous.push(Some(result.previous_min_patients[c]));
            let p = &result.proposals[c];
            proposal.push(p.min_patients);
            change.push(p.change);
            change_pct.push(p.change_pct);
            flags.push(p.flags.to_text());
            loads.push(Some(result.clinic_loads[c]));
        }
    }
    let clinic_table = crate::output::schema::ProjectClinicColumns {
        year,
        clinic_id,
        capacities,
        n_patients,
        need,
        mean_weight,
        previous_min_patients: previous,
        min_patients: proposal,
        change,
        change_pct,
        flags,
        L: loads,
    }
    .table();

    let rows: Vec<(i32, &RunResult, &crate::areas::AreaRow)> = years
        .iter()
        .flat_map(|(y, result)| {
            result
                .areas
                .iter()
                .filter(|r| {
                    matches!(
                        r.level,
                        crate::areas::Level::Nation | crate::areas::Level::Sundhedsraad
                    )
                })
                .map(move |row| (*y, result, row))
        })
        .collect();
    let float = |f: fn(&RunResult, &crate::areas::AreaRow) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter().map(|(_, result, row)| f(result, row)).collect()
    };
    let area_table = crate::output::schema::ProjectAreaColumns {
        year: rows.iter().map(|(y, _, _)| Some(i64::from(*y))).collect(),
        level: rows
            .iter()
            .map(|(_, _, r)| r.level.as_str().to_string())
            .collect(),
        name: rows.iter().map(|(_, _, r)| r.name.clone()).collect(),
        need: float(|_, r| Some(r.need)),
        capacities: float(|_, r| Some(r.capacities)),
        target_capacities: float(|_, r| Some(r.target_capacities)),
        capacity_gap: float(|_, r| Some(r.capacity_gap)),
        norm_patients_per_capacity: float(|_, r| r.norm_patients_per_capacity),
        L: float(|result, _| Some(result.load)),
        reference_load: float(|_, r| r.reference_load),
        D: float(|result, _| Some(result.capacity_total)),
    }
    .table();
    (clinic_table, area_table)
}

#[derive(Debug, Clone, Args, serde::Serialize, serde::Deserialize)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Model file (TOML).
    #[arg(long, default_value = "models/reference-2027.toml")]
    pub model: PathBuf,
    /// First year of the chain.
    #[arg(long, default_value_t = 2027, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub from: i32,
    /// Last year of the chain.
    #[arg(long, default_value_t = 2035, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub to: i32,
    /// `actual` (the clinics' own capacities), `linear:TARGET@YEAR` (from today's total to TARGET), or a CSV of `year,capacities`.
    #[arg(long, default_value = "actual")]
    pub capacity_path: String,
    /// A directory of population_<year>.parquet, one per year (default: the same population every year).
    // The help text is shown as written; it is not rustdoc markup.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long)]
    pub population_dir: Option<PathBuf>,
    /// A directory of decisions-<year>.csv (or .parquet): each year's final counts, not the
    /// proposals, set the next year's previous counts and caps (a year without a file uses its proposals).
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long)]
    pub decisions_dir: Option<PathBuf>,
    /// Output directory: one run directory per year plus summary tables; replaced atomically.
    #[arg(long, default_value = "out-project")]
    pub out: PathBuf,
    /// Also write report.html: charts, a kommune map and tables in one self-contained page.
    #[arg(long)]
    pub report: bool,
    /// Also write project.xlsx: the summary tables as sheets.
    #[arg(long)]
    pub xlsx: bool,
}

/// The configuration of `fordeling project` from its arguments.
pub fn config(args: &ProjectArgs) -> Result<ProjectConfig, Error> {
    Ok(ProjectConfig {
        inputs: args.input.paths(args.model.clone(), false),
        from: args.from,
        to: args.to,
        capacity_path: CapacityPath::parse(&args.capacity_path)?,
        population_dir: args.population_dir.clone(),
        decisions_dir: args.decisions_dir.clone(),
        out: args.out.clone(),
        report: args.report,
        xlsx: args.xlsx,
        recorded: Some(output::schema::Recorded::new("project", args)),
    })
}

/// Runs `fordeling project` and logs each year.
pub fn execute(args: &ProjectArgs) -> Result<(), Failure> {
    let config = config(args)?;
    let summary = super::in_pool(args.input.threads, || project(&config, &args.capacity_path))?;
    if !args.input.quiet {
        tracing::info!("fordeling: loaded in {:.3} s", summary.load_seconds);
        for y in &summary.years {
            tracing::info!(
                "fordeling: {}: D = {:.1}, L = {:.2}, {} capped, {} dialogue, computed in {:.4} s",
                y.year,
                y.capacity_total,
                y.load,
                y.clinics_capped,
                y.clinics_dialogue,
                y.compute_seconds
            );
        }
        tracing::info!("fordeling: wrote {}", config.out.display());
    }
    Ok(())
}
