//! `fordeling model check FILE` and `fordeling model describe FILE`:
//! validate a model file (against a population's columns, with
//! `--population`) and print its structure. Format-2 files (SPEC 3.1) are
//! described term by term; `convert` comes with the format-2 computation.

use super::Failure;
use crate::error::{Error, InputError};
use crate::ingest::columns::ParquetFile;
use crate::model::{format2, Model};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub action: ModelAction,
}

#[derive(Debug, Subcommand)]
pub enum ModelAction {
    /// Validate a model file, and with --population that the population has every column it names.
    #[command(
        after_help = "Example: fordeling model check models/reference-2027.toml --population dk/population.parquet"
    )]
    Check {
        /// The model file.
        file: PathBuf,
        /// A population file whose columns the model must find.
        #[arg(long)]
        population: Option<PathBuf>,
    },
    /// Print a model's variables, terms (with each table's shape and free parameters) and packages.
    #[command(after_help = "Example: fordeling model describe my-model.toml")]
    Describe {
        /// The model file.
        file: PathBuf,
    },
}

/// What a model file is.
enum Loaded {
    One(Box<Model>),
    Two(Box<format2::Spec>),
}

fn load(path: &Path) -> Result<Loaded, Error> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let text = crate::model::toml_text(&bytes, path)?;
    if format2::is_format2(text) {
        Ok(Loaded::Two(Box::new(format2::parse(text, path)?)))
    } else {
        Ok(Loaded::One(Box::new(Model::parse(text.as_bytes(), path)?)))
    }
}

/// Format 1's population columns: the fixed ones and `cond_<name>`.
fn format1_columns(model: &Model) -> Vec<String> {
    let mut columns: Vec<String> = ["age", "sex"]
        .iter()
        .chain(crate::ingest::SOCIOECONOMIC_COLUMNS.iter())
        .map(|c| c.to_string())
        .collect();
    columns.extend(
        model
            .conditions
            .iter()
            .map(|(n, _)| Model::condition_column(n)),
    );
    columns
}

fn describe_format1(model: &Model) -> String {
    format!(
        "model {} (format 1, {} link)\n  age_sex [2×20], socioeconomic levels, {} conditions, {} multimorbidity thresholds, {}area term, {} packages\n",
        model.id,
        model.link.as_str(),
        model.conditions.len(),
        model.multimorbidity.len(),
        if model.area.is_some() { "an " } else { "no " },
        model.packages.len()
    )
}

/// Runs `fordeling model …`.
pub fn execute(args: &ModelArgs) -> Result<(), Failure> {
    match &args.action {
        ModelAction::Describe { file } => {
            let text = match load(file)? {
                Loaded::One(model) => describe_format1(&model),
                Loaded::Two(spec) => spec.describe(),
            };
            print!("{text}");
            Ok(())
        }
        ModelAction::Check { file, population } => {
            let loaded = load(file)?;
            let (needed, numeric, summary) = match &loaded {
                Loaded::One(model) => (format1_columns(model), Vec::new(), describe_format1(model)),
                Loaded::Two(spec) => {
                    let (needed, numeric) = spec.columns();
                    (needed, numeric, spec.describe())
                }
            };
            if let Some(path) = population {
                let parquet = ParquetFile::open(path).map_err(Error::from)?;
                let mut required = vec![
                    "person_id".to_string(),
                    "clinic_id".into(),
                    "kommune".into(),
                ];
                required.extend(needed);
                if let Some(column) = required.iter().find(|c| !parquet.has_column(c)) {
                    return Err(Error::from(InputError::MissingColumn {
                        path: path.clone(),
                        column: column.clone(),
                        hint: format!(" (the model `{}` names it)", file.display()),
                    })
                    .into());
                }
                for column in numeric.iter().filter(|c| !parquet.has_column(c)) {
                    println!(
                        "note: `{column}` is not in the population; it must be a geography column"
                    );
                }
            }
            print!("{summary}");
            println!("valid: {}", file.display());
            Ok(())
        }
    }
}
