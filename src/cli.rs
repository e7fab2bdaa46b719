//! The command line: clap's raw flags, resolved into the library's configs.
//! This is the only module that knows clap.

use clap::{Args, Parser, Subcommand, ValueEnum};
use fordeling::model::Link;
use std::path::PathBuf;

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
    /// Evaluate a list or grid of variants of the model and run parameters over data read once.
    #[command(
        after_help = "Example: fordeling scenarios --scenarios scenarios.toml --out scenario-results"
    )]
    Scenarios(ScenariosArgs),
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
            Command::Report(a) => a.quiet,
            Command::Completions(_) => true,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The output directory (of run, project, evaluate or scenarios).
    pub dir: PathBuf,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ScenariosArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The scenario file (TOML): [[scenario]] entries and/or a [grid].
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

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The clinic (`clinic_id`).
    #[arg(long)]
    pub clinic: i32,
    /// Model file (TOML).
    #[arg(long, default_value = "models/reference-2027.toml")]
    pub model: PathBuf,
    /// The year computed.
    #[arg(long, default_value_t = 2027, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub year: i32,
    /// Total doctor capacities D (default: the sum over the clinic file).
    #[arg(long, value_parser = positive_float)]
    pub capacity_total: Option<f64>,
    /// text (readable) or json (the same as data).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// The data inputs every computing subcommand shares.
#[derive(Debug, Args)]
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
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl InputArgs {
    pub fn paths(&self, model: PathBuf, outcomes: bool) -> fordeling::InputPaths {
        fordeling::InputPaths {
            population: self.population.clone(),
            clinics: self.clinics.clone(),
            geography: self.geography.clone(),
            model,
            nulls_as_unknown: self.nulls_as_unknown,
            outcomes,
        }
    }
}

#[derive(Debug, Args)]
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
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Denmark at this scale: 1 = about 5.96 million persons, 0.01 a small country, 10 sixty million.
    #[arg(long, conflicts_with = "fixture", required_unless_present = "fixture")]
    pub scale: Option<f64>,
    /// The fixture recipe instead: 8 kommuner in all 4 regions, 61,000 persons in 38 clinics.
    #[arg(long)]
    pub fixture: bool,
    /// Random seed; the same seed and scale give byte-identical files.
    #[arg(long, default_value_t = 2027)]
    pub seed: u64,
    /// Another draw of persons over the same clinics (a next data year); 0 = the first.
    #[arg(long, default_value_t = 0)]
    pub draw: u64,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads (default: all cores). The files do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LinkArg {
    Identity,
    Log,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Structure model: its terms and conditions say what to estimate (its values are ignored);
    /// its packages and proposal rules are carried over.
    #[arg(long)]
    pub structure: PathBuf,
    /// identity: exposure-weighted least squares; log: Poisson quasi-likelihood by IRLS.
    #[arg(long, value_enum, default_value = "identity")]
    pub link: LinkArg,
    /// Ridge penalty added to every coefficient but the age-sex cells.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative_float)]
    pub ridge: f64,
    /// The fitted model's id (default: the structure's id with `-fitted`).
    #[arg(long)]
    pub id: Option<String>,
    /// Output directory for model.toml and fit.json; replaced atomically.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
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
    #[arg(long)]
    pub population_dir: Option<PathBuf>,
    /// Output directory: one run directory per year plus summary tables; replaced atomically.
    #[arg(long, default_value = "out-project")]
    pub out: PathBuf,
    /// Also write report.html: charts, a kommune map and tables in one self-contained page.
    #[arg(long)]
    pub report: bool,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// A model to evaluate; repeat for several. The first also gives the
    /// structure and link of the insight-versus-simplicity ladder.
    #[arg(long = "model", required = true)]
    pub models: Vec<PathBuf>,
    /// The year whose proposals the ladder and stability compare.
    #[arg(long, default_value_t = 2027, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub year: i32,
    /// Folds of the cross-validation.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=50))]
    pub folds: u16,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A second data year's population, for the stability of coefficients and proposals.
    #[arg(long)]
    pub population_next: Option<PathBuf>,
    /// Output directory for evaluation.json and evaluation.md; replaced atomically.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write report.html: charts, a kommune map and tables in one self-contained page.
    #[arg(long)]
    pub report: bool,
}

impl EvaluateArgs {
    pub fn to_config(&self) -> fordeling::evaluation::EvaluateConfig {
        fordeling::evaluation::EvaluateConfig {
            inputs: self.input.paths(self.models[0].clone(), true),
            models: self.models.clone(),
            year: self.year,
            folds: usize::from(self.folds),
            seed: self.seed,
            population_next: self.population_next.clone(),
            out: self.out.clone(),
            report: self.report,
        }
    }
}

fn positive_float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a number above 0")),
    }
}

fn non_negative_float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a number of 0 or more")),
    }
}

impl RunArgs {
    pub fn to_config(&self) -> fordeling::RunConfig {
        fordeling::RunConfig {
            inputs: self.input.paths(self.model.clone(), false),
            params: fordeling::RunParams {
                year: self.year,
                capacity_total: self.capacity_total,
            },
            out: self.out.clone(),
            write_person_weights: self.write_person_weights,
            report: self.report,
        }
    }
}

impl FitArgs {
    pub fn to_config(&self) -> fordeling::FitConfig {
        fordeling::FitConfig {
            inputs: self.input.paths(self.structure.clone(), true),
            options: fordeling::fit::FitOptions {
                link: match self.link {
                    LinkArg::Identity => Link::Identity,
                    LinkArg::Log => Link::Log,
                },
                ridge: self.ridge,
                ..Default::default()
            },
            id: self.id.clone(),
            out: self.out.clone(),
        }
    }
}
