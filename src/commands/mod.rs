//! The commands: one module per subcommand, each owning its command-line
//! arguments (clap), its configuration, the calls into the engine and the
//! files it writes. Nothing outside this folder knows clap or a command;
//! the engine below never imports from here.
//!
//! `execute` is the one dispatch: it runs a parsed subcommand and turns
//! its error into a `Failure` (exit code and message) for `main`.

pub mod completions;
pub mod decide;
pub mod diff;
pub mod evaluate;
pub mod explain;
pub mod fit;
pub mod logging;
pub mod model;
pub mod project;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod statement;
pub mod synth;
pub mod verify;

use crate::error::Error;
use crate::inputs::InputPaths;
use clap::{Args, Parser, Subcommand, ValueEnum};
use completions::CompletionsArgs;
use decide::DecideArgs;
use diff::DiffArgs;
use evaluate::EvaluateArgs;
use explain::ExplainArgs;
use fit::FitArgs;
use model::ModelArgs;
use project::ProjectArgs;
use report::ReportArgs;
use run::RunArgs;
use scenarios::ScenariosArgs;
use statement::StatementArgs;
use std::path::PathBuf;
use synth::SynthArgs;
use verify::VerifyArgs;

/// The version with the commit the binary was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("FORDELING_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "fordeling",
    version = VERSION,
    about = "Denmark's national distribution model for GP capacity: need weights, clinic need and minimum patient counts",
    after_help = "Examples:\n  fordeling run --report                 the shipped fixtures, models/reference-2027.toml, year 2027, into out/ with out/report.html\n  fordeling synth --scale 1 --out dk     synthetic Denmark (about 6 million persons)\n  fordeling completions bash > fordeling.bash"
)]
pub struct Cli {
    /// How log lines on stderr look: text for people, json (one object per line) for a batch scheduler.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute need weights, clinic and area need and minimum patient counts for one year.
    #[command(
        after_help = "Example: fordeling run --population pop.parquet --clinics clinics.parquet --model models/reference-2027.toml --year 2028 --out out-2028"
    )]
    Run(RunArgs),
    /// Write synthetic national data: population, clinics, geography, the true model and a summary.
    #[command(after_help = "Example: fordeling synth --scale 0.01 --seed 1 --out synth-small")]
    Synth(SynthArgs),
    /// Estimate a structure model's coefficients from utilization; writes model.toml and fit.json.
    #[command(
        after_help = "Example: fordeling fit --population dk/population.parquet --clinics dk/clinics.parquet --geography dk/geography.csv --structure models/reference-2027.toml --out fitted"
    )]
    Fit(FitArgs),
    /// Judge one or more models against utilization; writes evaluation.json and evaluation.md.
    #[command(
        after_help = "Example: fordeling evaluate --population dk/population.parquet --clinics dk/clinics.parquet --model models/reference-2027.toml --folds 5 --out evaluation"
    )]
    Evaluate(EvaluateArgs),
    /// The yearly chain: proposals for every year, capacities along a path, packages by start year, caps chained.
    #[command(
        after_help = "Example: fordeling project --from 2027 --to 2035 --capacity-path linear:5000@2035 --out projection"
    )]
    Project(ProjectArgs),
    /// One clinic's need and count, term by term, with the reason for every flag.
    #[command(after_help = "Example: fordeling explain --clinic 100003 --year 2028")]
    Explain(ExplainArgs),
    /// Why proposals moved between two output directories: population, model, packages, capacity, caps and rounding.
    #[command(after_help = "Example: fordeling diff out-2027 out-2028 --out diff-2027-2028")]
    Diff(DiffArgs),
    /// The region's final counts on a run's proposals: decisions, coverage per sundhedsråd and next year's clinics file.
    #[command(
        after_help = "Example: fordeling decide out --decisions examples/decisions.csv --out out-decisions --report"
    )]
    Decide(DecideArgs),
    /// Evaluate a list or grid of variants of the model and run parameters over data read once.
    #[command(
        after_help = "Example: fordeling scenarios --scenarios scenarios.toml --out scenario-results"
    )]
    Scenarios(ScenariosArgs),
    /// One printable page per clinic explaining its count (Danish by default), from a run or a decide output.
    #[command(
        after_help = "Example: fordeling statement out --out statements   (then open statements/index.html; --language en for English)"
    )]
    Statement(StatementArgs),
    /// Recompute an output directory of run, project, scenarios or decide from the inputs its manifest names, and compare.
    #[command(
        after_help = "Example: fordeling verify out   (exit 0 identical, 1 an input changed or is missing, 4 a result differs)"
    )]
    Verify(VerifyArgs),
    /// Check or describe a model file (format 1 or 2).
    #[command(
        after_help = "Example: fordeling model check models/reference-2027.toml --population dk/population.parquet"
    )]
    Model(ModelArgs),
    /// Write report.html for an existing output directory of run, project, evaluate or scenarios.
    #[command(
        after_help = "Example: fordeling report out   (then open out/report.html in a browser)"
    )]
    Report(ReportArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example: fordeling completions bash > ~/.local/share/bash-completion/completions/fordeling"
    )]
    Completions(CompletionsArgs),
}

impl Command {
    /// Runs the subcommand.
    pub fn execute(self) -> Result<(), Failure> {
        match self {
            Command::Run(args) => run::execute(&args),
            Command::Synth(args) => synth::execute(&args),
            Command::Fit(args) => fit::execute(&args),
            Command::Evaluate(args) => evaluate::execute(&args),
            Command::Project(args) => project::execute(&args),
            Command::Explain(args) => explain::execute(&args),
            Command::Diff(args) => diff::execute(&args),
            Command::Scenarios(args) => scenarios::execute(&args),
            Command::Decide(args) => decide::execute(&args),
            Command::Verify(args) => verify::execute(&args),
            Command::Statement(args) => statement::execute(&args),
            Command::Report(args) => report::execute(&args),
            Command::Model(args) => model::execute(&args),
            Command::Completions(args) => completions::execute(&args),
        }
    }

    /// Whether the subcommand was asked to be quiet.
    pub fn quiet(&self) -> bool {
        match self {
            Command::Run(a) => a.input.quiet,
            Command::Fit(a) => a.input.quiet,
            Command::Evaluate(a) => a.input.quiet,
            Command::Project(a) => a.input.quiet,
            Command::Explain(a) => a.input.quiet,
            Command::Scenarios(a) => a.input.quiet,
            Command::Synth(a) => a.quiet,
            Command::Diff(a) => a.quiet,
            Command::Decide(a) => a.quiet,
            Command::Verify(a) => a.quiet,
            Command::Statement(a) => a.quiet,
            Command::Report(a) => a.quiet,
            Command::Completions(_) => true,
            Command::Model(_) => true,
        }
    }
}

/// The data inputs every computing subcommand shares.
#[derive(Debug, Clone, Args, serde::Serialize, serde::Deserialize)]
pub struct InputArgs {
    /// Population Parquet file, one row per listed person.
    #[arg(long, default_value = "fixtures/population.parquet")]
    pub population: PathBuf,
    /// Clinic Parquet file, one row per clinic.
    #[arg(long, default_value = "fixtures/clinics.parquet")]
    pub clinics: PathBuf,
    /// Geography CSV or Parquet; default: the built-in 98 kommuner with an illustrative area index.
    #[arg(long)]
    pub geography: Option<PathBuf>,
    /// Map nulls in socioeconomic columns to their unknown (reference) level, and count them.
    #[arg(long)]
    pub nulls_as_unknown: bool,
    /// Where the reference load is formed: one L for the nation, or an L_a for each region or
    /// sundhedsråd over the clinics located there (default: the model's proposal.load_level).
    #[arg(long, value_parser = load_level)]
    pub load_level: Option<crate::model::LoadLevel>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Inputs given in memory in place of the files named above (the
    /// Python package); never from the command line.
    #[arg(skip)]
    #[serde(skip)]
    pub memory: crate::inputs::InMemory,
}

impl InputArgs {
    pub fn paths(&self, model: PathBuf, outcomes: bool) -> InputPaths {
        InputPaths {
            memory: self.memory.clone(),
            population: self.population.clone(),
            clinics: self.clinics.clone(),
            geography: self.geography.clone(),
            model,
            nulls_as_unknown: self.nulls_as_unknown,
            outcomes,
            load_level: self.load_level,
        }
    }
}

pub(crate) fn load_level(text: &str) -> Result<crate::model::LoadLevel, String> {
    crate::model::LoadLevel::parse(text)
        .ok_or_else(|| format!("`{text}` is not one of nation, region, sundhedsraad"))
}

pub(crate) fn positive_float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a number above 0")),
    }
}

pub(crate) fn non_negative_float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a number of 0 or more")),
    }
}

/// A command that failed: the exit code (SPEC section 6: 1 bad input or
/// model, 2 usage, 3 anything else) and the one-line message.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// What failed (the Python package raises `InputError`, `ModelError`
    /// or `OutputError` by it).
    pub stage: Stage,
}

/// The stage a command failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Input,
    Model,
    Output,
    /// The command's arguments (exit code 2).
    Usage,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            code: error.exit_code() as u8,
            stage: match &error {
                Error::Input(_) => Stage::Input,
                Error::Model(_) => Stage::Model,
                Error::Output(_) => Stage::Output,
            },
            message: error.to_string(),
        }
    }
}

/// Runs `work` in a rayon pool of `threads` workers (default: all cores).
pub fn in_pool<T: Send>(
    threads: Option<u16>,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Failure> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(usize::from(n));
    }
    let pool = builder.build().map_err(|e| Failure {
        code: 3,
        stage: Stage::Output,
        message: format!("cannot start worker threads: {e}"),
    })?;
    Ok(pool.install(work)?)
}
