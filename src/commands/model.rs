//! `fordeling model check|describe|convert FILE`: validate a model file
//! (against a population's columns, with `--population`), print its
//! structure term by term (a format-1 file as the format-2 model it is
//! equivalent to), and write any model as a format-2 file (SPEC 3.1).

use super::Failure;
use crate::error::{Error, InputError};
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
    /// Write a model (format 1 or 2) as a format-2 file with the same results.
    #[command(
        after_help = "Example: fordeling model convert models/reference-2027.toml --out reference-2027.format2.toml"
    )]
    Convert {
        /// The model file.
        file: PathBuf,
        /// Where to write the format-2 file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a model's variables, terms (with each table's shape and free parameters) and packages.
    #[command(after_help = "Example: fordeling model describe my-model.toml")]
    Describe {
        /// The model file.
        file: PathBuf,
    },
}

fn load(path: &Path) -> Result<Model, Error> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Model::parse(&bytes, path)?)
}

/// The format-2 model a model is (a format-1 model converted).
fn spec_of(model: &Model, path: &Path) -> Result<format2::Spec, Error> {
    model.spec().map_err(|detail| {
        Error::from(crate::error::ModelError::Invalid {
            path: path.to_path_buf(),
            key: "packages".into(),
            detail,
        })
    })
}

/// The model as a readable table, saying which format the file is.
fn describe(model: &Model, path: &Path) -> Result<String, Error> {
    let spec = spec_of(model, path)?;
    let mut text = spec.describe();
    if model.format2.is_none() {
        text = text.replacen(
            "(format 2,",
            "(format 1, read as the format-2 model it is equivalent to;",
            1,
        );
    }
    Ok(text)
}

/// Runs `fordeling model …`.
pub fn execute(args: &ModelArgs) -> Result<(), Failure> {
    match &args.action {
        ModelAction::Describe { file } => {
            print!("{}", describe(&load(file)?, file)?);
            Ok(())
        }
        ModelAction::Convert { file, out } => {
            let model = load(file)?;
            let spec = spec_of(&model, file)?;
            let text = format!(
                "# {} in format 2 (SPEC 3.1), written by `fordeling model convert` from {}\n# (format {}); it gives the same outputs, byte for byte.\n\n{}",
                spec.id,
                file.display(),
                if model.format2.is_some() { 2 } else { 1 },
                spec.to_toml()
            );
            // What is written must read back as the same model.
            let again = format2::parse(&text, out).map_err(Error::from)?;
            if again != spec {
                return Err(Failure {
                    code: 3,
                    stage: super::Stage::Output,
                    message: format!(
                        "`{}`: the converted model does not read back to the same model (a bug)",
                        out.display()
                    ),
                });
            }
            crate::output::write_text(out, &text).map_err(Error::from)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        ModelAction::Check { file, population } => {
            let model = load(file)?;
            let summary = describe(&model, file)?;
            if let Some(path) = population {
                // The columns the model reads, present and of the right
                // kind, as a run would open the file (no rows are read).
                let reader = crate::ingest::population_reader(
                    path,
                    None,
                    &model,
                    crate::ingest::PopulationOptions::default(),
                )
                .map_err(Error::from)?;
                reader.check_schema().map_err(Error::from)?;
            }
            print!("{summary}");
            println!("valid: {}", file.display());
            Ok(())
        }
    }
}
