//! `fordeling fit`: estimate a structure's coefficients from utilization
//! and write the fitted model and its report.

use super::{non_negative_float, Failure, InputArgs};
use crate::error::{self, Error, ModelError};
use crate::fit;
use crate::inputs::{load_inputs, InputPaths, Source};
use crate::model::Link;
use crate::output;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::{Path, PathBuf};

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
    let id = config
        .id
        .clone()
        .unwrap_or_else(|| format!("{}-fitted", structure.id));
    let description = |persons: u64| {
        format!(
            "Fitted by fordeling fit ({} link) from structure `{}` on {} persons of `{}`",
            config.options.link.as_str(),
            structure.id,
            persons,
            inputs.population_source.path
        )
    };
    let (estimate, names, text, outcome, data_year) = match &structure.format2 {
        None => {
            let design = fit::design::Design::new(structure, &inputs.geography);
            let estimate = fit::fit(&design, &inputs.population, &fit::everyone, &config.options)
                .map_err(|e| not_estimable(&inputs.model.path, e))?;
            let mut model = design.to_model(structure, &estimate.beta);
            model.link = config.options.link;
            model.id = id.clone();
            model.description = description(estimate.persons);
            let text = model
                .to_toml()
                .map_err(|detail| error::OutputError::Write {
                    path: config.out.join("model.toml"),
                    detail,
                })?;
            (estimate, design.names, text, model.outcome, model.data_year)
        }
        Some(spec) => {
            // Any format-2 structure: SPEC 3.1's fitting rule; the fitted
            // model is format 2 with every table filled.
            let design = fit::terms::TermDesign::new(spec, &inputs.geography, None)
                .map_err(|e| not_estimable(&inputs.model.path, e))?;
            let estimate = fit::fit(&design, &inputs.population, &fit::everyone, &config.options)
                .map_err(|e| not_estimable(&inputs.model.path, e))?;
            let mut fitted = design.to_spec(spec, &estimate.beta);
            fitted.link = config.options.link;
            fitted.id = id.clone();
            fitted.description = description(estimate.persons);
            let text = format!(
                "# Fitted by `fordeling fit` (format 2): cells where any variable is at its\n# first level are fixed at 0, except in the first term.\n\n{}",
                fitted.to_toml()
            );
            use crate::fit::Rows;
            let names = design.names().to_vec();
            (estimate, names, text, fitted.outcome, fitted.data_year)
        }
    };
    let report = FitReport {
        model_id: id.clone(),
        structure: Source {
            path: inputs.model.path.display().to_string(),
            rows: 0,
            sha256: inputs.model.sha256.clone(),
        },
        population: inputs.population_source.clone(),
        link: config.options.link.as_str(),
        outcome,
        data_year,
        persons: estimate.persons,
        exposure_years: estimate.exposure_years,
        r2: estimate.r2,
        iterations: estimate.iterations,
        converged: estimate.converged,
        ridge: config.options.ridge,
        coefficients: names
            .iter()
            .zip(estimate.beta.iter().zip(&estimate.se))
            .map(|(term, (&estimate, &se))| Coefficient {
                term: term.clone(),
                estimate,
                se,
            })
            .collect(),
    };
    write_fit(&config.out, &text, &report)?;
    Ok(report)
}

fn not_estimable(path: &Path, error: fit::NotEstimable) -> Error {
    ModelError::Invalid {
        path: path.to_path_buf(),
        key: "design".into(),
        detail: error.0,
    }
    .into()
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

impl FitArgs {
    pub fn to_config(&self) -> FitConfig {
        FitConfig {
            inputs: self.input.paths(self.structure.clone(), true),
            options: fit::FitOptions {
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

/// Writes a fitted model and its report into `out`, atomically.
fn write_fit(out: &Path, model_toml: &str, report: &FitReport) -> Result<(), error::OutputError> {
    let json = output::json_text(report).map_err(|e| error::OutputError::write(out, e))?;
    output::atomic::write_dir_atomically(out, |dir| {
        output::write_text(&dir.join("model.toml"), model_toml)?;
        output::write_text(&dir.join("fit.json"), &json)
    })
}

/// Runs `fordeling fit` and logs what it did.
pub fn execute(args: &FitArgs) -> Result<(), Failure> {
    let config = args.to_config();
    let report = super::in_pool(args.input.threads, || fit_model(&config))?;
    if !args.input.quiet {
        tracing::info!(
            "fordeling: fitted {} coefficients on {} persons ({} link, R² {:.4}, {} iteration(s){}) into {}",
            report.coefficients.len(),
            report.persons,
            report.link,
            report.r2,
            report.iterations,
            if report.converged { "" } else { ", NOT converged" },
            config.out.display()
        );
    }
    Ok(())
}
