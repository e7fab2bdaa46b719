//! `fordeling evaluate`: the evidence the 2027 evaluation of the model
//! needs, on the same data path as the yearly run. For each model as given:
//! person- and clinic-level fit, predictive ratios by group, and
//! cross-validated (out-of-sample) fit of its structure; the
//! insight-versus-simplicity ladder of nested models fitted on the same
//! data, with how much the clinics' proposals move between rungs; and,
//! given a second data year, how much coefficients and proposals move.

use super::{Failure, InputArgs};
use crate::error::OutputError;
use crate::error::{Error, ModelError};
use crate::fit::design::Design;
use crate::fit::evaluate::{
    clinic_metrics, cross_validated, ladder, person_metrics, predictions, predictive_ratios,
    quantiles, Quantiles,
};
use crate::fit::structure::{default_ladder, resolve_ladder, AnyDesign, RungSpec};
use crate::fit::terms::TermDesign;
use crate::fit::Rows;
use crate::fit::{everyone, fit, FitOptions, NotEstimable};
use crate::inputs::{load_inputs, load_inputs_with, InputPaths, Inputs};
use crate::model::Model;
use crate::output;
use crate::output::schema::{CoefficientChange, Evaluation, ModelEvaluation, Rung, Stability};
use crate::year::{compute_with, RunParams};
use clap::Args;
use std::path::{Path, PathBuf};

/// What `fordeling evaluate` needs.
#[derive(Debug, Clone)]
pub struct EvaluateConfig {
    /// `model` is ignored: the models are `models`.
    pub inputs: InputPaths,
    pub models: Vec<PathBuf>,
    /// The year whose proposals the ladder and stability compare.
    pub year: i32,
    pub folds: usize,
    pub seed: u64,
    pub population_next: Option<PathBuf>,
    pub out: PathBuf,
    /// Also write `report.html`.
    pub report: bool,
    /// The ladder's rungs (each adds terms of the first model's structure,
    /// read as format 2); `None`: the default ladder.
    pub ladder: Option<Vec<RungSpec>>,
}

fn estimable(
    path: &Path,
    result: Result<crate::fit::Fit, NotEstimable>,
) -> Result<crate::fit::Fit, Error> {
    result.map_err(|e| {
        ModelError::Invalid {
            path: path.to_path_buf(),
            key: "design".into(),
            detail: e.0,
        }
        .into()
    })
}

fn cv<D: Rows + ?Sized>(
    path: &Path,
    design: &D,
    inputs: &Inputs,
    options: &FitOptions,
    config: &EvaluateConfig,
) -> Result<Vec<f64>, Error> {
    cross_validated(
        design,
        &inputs.population,
        options,
        config.folds,
        config.seed,
    )
    .map_err(|e| {
        ModelError::Invalid {
            path: path.to_path_buf(),
            key: "design".into(),
            detail: e.0,
        }
        .into()
    })
}

/// Proposals of a model over the inputs' data, by clinic (None = no count).
fn proposals(inputs: &Inputs, model: &Model, year: i32) -> Result<Vec<Option<i64>>, Error> {
    let result = compute_with(
        inputs,
        model,
        &RunParams {
            year,
            capacity_total: None,
        },
    )?;
    Ok(result.proposals.iter().map(|p| p.min_patients).collect())
}

/// |a − b| (and in per cent of a) over clinics with a count in both.
fn change(a: &[Option<i64>], b: &[Option<i64>]) -> (Option<Quantiles>, Option<Quantiles>) {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some(((*x)? as f64, (*y)? as f64)))
        .collect();
    let absolute: Vec<f64> = pairs.iter().map(|(x, y)| (y - x).abs()).collect();
    let relative: Vec<f64> = pairs
        .iter()
        .filter(|(x, _)| *x > 0.0)
        .map(|(x, y)| 100.0 * (y - x).abs() / x)
        .collect();
    (quantiles(&absolute), quantiles(&relative))
}

/// Runs the whole evaluation (no files written).
pub fn evaluate(config: &EvaluateConfig) -> Result<Evaluation, Error> {
    let Some(first_path) = config.models.first() else {
        return Err(ModelError::Parse {
            path: PathBuf::from("--model"),
            detail: "give at least one model to evaluate".into(),
        }
        .into());
    };
    let mut paths = config.inputs.clone();
    paths.model = first_path.clone();
    paths.outcomes = true;
    let inputs = load_inputs(&paths)?;
    let structure = inputs.model.model.clone();

    let steps =
        config.models.len() + ladder().len() + usize::from(config.population_next.is_some());
    let progress = crate::progress::Progress::new("evaluating", steps as u64, "steps");
    let mut models = Vec::new();
    for path in &config.models {
        // Condition bits follow the loaded model: reload only when another
        // model names other conditions.
        let other;
        let data = if path == first_path {
            &inputs
        } else {
            let loaded = Model::load(path)?;
            if loaded.model.reads_like(&structure) {
                &inputs
            } else {
                let mut p = paths.clone();
                p.model = path.clone();
                other = load_inputs(&p)?;
                &other
            }
        };
        let loaded = if path == first_path {
            inputs.model.clone()
        } else {
            Model::load(path)?
        };
        let model = &loaded.model;
        let predicted = predictions(model, &data.geography, &data.population)?;
        let design = AnyDesign::of(model, &data.geography).map_err(|e| not_estimable(path, e))?;
        let options = FitOptions {
            link: model.link,
            ..FitOptions::default()
        };
        let out_of_sample = cv(path, &design, data, &options, config)?;
        progress.inc(1);
        models.push(ModelEvaluation {
            id: model.id.clone(),
            path: path.display().to_string(),
            sha256: loaded.sha256.clone(),
            link: model.link.as_str().to_string(),
            parameters: design.columns(),
            in_sample: person_metrics(&data.population, &predicted),
            out_of_sample: person_metrics(&data.population, &out_of_sample),
            clinic: clinic_metrics(&data.population, &predicted, data.clinics.len()),
            predictive_ratios: predictive_ratios(
                &data.population,
                &predicted,
                model,
                &data.geography,
                &data.clinics,
            ),
        });
    }

    // The ladder, from the first model's structure and link.
    let options = FitOptions {
        link: structure.link,
        ..FitOptions::default()
    };
    let rungs = match (&structure.format2, &config.ladder) {
        (None, None) => fixed_ladder(&inputs, &structure, &options, config, first_path, &progress)?,
        (spec, given) => {
            // A ladder over terms: a format-1 structure is read as the
            // format-2 model it is, its population read for that.
            let converted;
            let (spec, data) = match spec {
                Some(spec) => (spec.as_ref().clone(), &inputs),
                None => {
                    let spec = structure.spec().map_err(|detail| ModelError::Invalid {
                        path: first_path.clone(),
                        key: "model".into(),
                        detail,
                    })?;
                    let loaded = crate::model::LoadedModel {
                        model: Model::from_spec(spec.clone()),
                        path: inputs.model.path.clone(),
                        sha256: inputs.model.sha256.clone(),
                    };
                    converted = load_inputs_with(&paths, loaded)?;
                    (spec, &converted)
                }
            };
            let rungs = given.clone().unwrap_or_else(|| default_ladder(&spec));
            let rungs = resolve_ladder(&spec, &rungs).map_err(|detail| ModelError::Invalid {
                path: PathBuf::from("--ladder"),
                key: "rung".into(),
                detail,
            })?;
            term_ladder(data, &spec, &rungs, &options, config, first_path, &progress)?
        }
    };

    let stability = match &config.population_next {
        None => None,
        Some(next_path) => {
            let mut p = paths.clone();
            p.population = next_path.clone();
            let next = load_inputs(&p)?;
            let design = AnyDesign::of(&structure, &inputs.geography)
                .map_err(|e| not_estimable(first_path, e))?;
            let first = estimable(
                first_path,
                fit(&design, &inputs.population, &everyone, &options),
            )?;
            let second = estimable(
                first_path,
                fit(&design, &next.population, &everyone, &options),
            )?;
            let coefficients: Vec<CoefficientChange> = design
                .names()
                .iter()
                .enumerate()
                .map(|(k, term)| {
                    let difference = second.beta[k] - first.beta[k];
                    let se = (first.se[k].powi(2) + second.se[k].powi(2)).sqrt();
                    CoefficientChange {
                        term: term.clone(),
                        first: first.beta[k],
                        next: second.beta[k],
                        difference,
                        z: if se > 0.0 { difference / se } else { 0.0 },
                    }
                })
                .collect();
            let mut abs_z: Vec<f64> = coefficients.iter().map(|c| c.z.abs()).collect();
            abs_z.sort_by(f64::total_cmp);
            let median_abs_z = abs_z.get(abs_z.len() / 2).copied().unwrap_or(0.0);
            let share =
                abs_z.iter().filter(|&&z| z > 2.0).count() as f64 / abs_z.len().max(1) as f64;
            let a = proposals(
                &inputs,
                &design.to_model(&structure, &first.beta),
                config.year,
            )?;
            let b = proposals(
                &next,
                &design.to_model(&structure, &second.beta),
                config.year,
            )?;
            let (absolute, relative) = change(&a, &b);
            Some(Stability {
                population_next: next.population_source.clone(),
                coefficients,
                median_abs_z,
                share_abs_z_above_2: share,
                proposal_change: absolute,
                proposal_change_pct: relative,
            })
        }
    };

    Ok(Evaluation {
        population: inputs.population_source.clone(),
        persons: inputs.population.len() as u64,
        folds: config.folds,
        seed: config.seed,
        year: config.year,
        models,
        ladder: rungs,
        stability,
    })
}

fn not_estimable(path: &Path, e: NotEstimable) -> Error {
    ModelError::Invalid {
        path: path.to_path_buf(),
        key: "design".into(),
        detail: e.0,
    }
    .into()
}

/// Format 1's fixed ladder of nested term groups.
fn fixed_ladder(
    inputs: &Inputs,
    structure: &Model,
    options: &FitOptions,
    config: &EvaluateConfig,
    first_path: &Path,
    progress: &crate::progress::Progress,
) -> Result<Vec<Rung>, Error> {
    let options = *options;
    let mut rungs = Vec::new();
    let mut previous: Option<Vec<Option<i64>>> = None;
    for (name, set) in ladder() {
        let design = Design::with_terms(structure, &inputs.geography, set);
        let estimate = estimable(
            first_path,
            fit(&design, &inputs.population, &everyone, &options),
        )?;
        let mut row = [(0u16, 0.0); crate::fit::design::MAX_ROW];
        let in_sample: Vec<f64> = (0..inputs.population.len())
            .map(|i| {
                design.predict(
                    &estimate.beta,
                    options.link,
                    &inputs.population,
                    i,
                    &mut row,
                )
            })
            .collect();
        let out_of_sample = cv(first_path, &design, inputs, &options, config)?;
        let model = design.to_model(structure, &estimate.beta);
        let counts = proposals(inputs, &model, config.year)?;
        rungs.push(Rung {
            rung: name.to_string(),
            terms: Vec::new(),
            parameters: design.columns(),
            in_sample: person_metrics(&inputs.population, &in_sample),
            out_of_sample: person_metrics(&inputs.population, &out_of_sample),
            proposal_change_from_previous: previous.as_ref().and_then(|p| change(p, &counts).0),
        });
        previous = Some(counts);
        progress.inc(1);
    }

    Ok(rungs)
}

/// A ladder over a format-2 structure's terms: each rung fitted on the
/// same data, its proposals compared with the previous rung's.
fn term_ladder(
    data: &Inputs,
    spec: &crate::model::format2::Spec,
    rungs: &[(String, Vec<usize>)],
    options: &FitOptions,
    config: &EvaluateConfig,
    first_path: &Path,
    progress: &crate::progress::Progress,
) -> Result<Vec<Rung>, Error> {
    let mut out = Vec::new();
    let mut previous: Option<Vec<Option<i64>>> = None;
    for (name, terms) in rungs {
        let design = TermDesign::new(spec, &data.geography, Some(terms))
            .map_err(|e| not_estimable(first_path, e))?;
        let estimate = estimable(
            first_path,
            fit(&design, &data.population, &everyone, options),
        )?;
        let mut row = [(0u16, 0.0); crate::fit::design::MAX_ROW];
        let in_sample: Vec<f64> = (0..data.population.len())
            .map(|i| design.predict(&estimate.beta, options.link, &data.population, i, &mut row))
            .collect();
        let out_of_sample = cv(first_path, &design, data, options, config)?;
        let mut fitted = design.to_spec(spec, &estimate.beta);
        fitted.link = options.link;
        let counts = proposals(data, &Model::from_spec(fitted), config.year)?;
        out.push(Rung {
            rung: name.clone(),
            terms: terms
                .iter()
                .map(|&k| spec.terms[k].id().to_string())
                .collect(),
            parameters: design.columns(),
            in_sample: person_metrics(&data.population, &in_sample),
            out_of_sample: person_metrics(&data.population, &out_of_sample),
            proposal_change_from_previous: previous.as_ref().and_then(|p| change(p, &counts).0),
        });
        previous = Some(counts);
        progress.inc(1);
    }
    Ok(out)
}

/// The evaluation as readable Markdown.
pub fn markdown(e: &Evaluation) -> String {
    use std::fmt::Write;
    let mut md = String::new();
    let f4 = |x: f64| format!("{x:.4}");
    let q = |q: &Option<Quantiles>| match q {
        Some(q) => format!("{:.0} / {:.0}", q.median, q.p95),
        None => "–".into(),
    };
    let _ = writeln!(md, "# Model evaluation\n");
    let _ = writeln!(
        md,
        "Population `{}`: {} persons. Out-of-sample figures by {}-fold cross-validation (seed {}). Proposals for {}.\n",
        e.population.path, e.persons, e.folds, e.seed, e.year
    );
    let _ = writeln!(md, "Person-level measures are on annualised utilization (u / exposure), weighted by exposure. CPM is Cumming's prediction measure, 1 − Σ|y − ŷ| / Σ|y − ȳ|.\n");
    let _ = writeln!(md, "## Models\n");
    let _ = writeln!(md, "| model | link | parameters | R² | CPM | MAPE | R² out of sample | CPM out of sample | clinic R² | clinic predicted/observed p5–p95 |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for m in &e.models {
        let ratio = m
            .clinic
            .ratio
            .map(|r| format!("{:.3}–{:.3}", r.p5, r.p95))
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            m.id,
            m.link,
            m.parameters,
            f4(m.in_sample.r2),
            f4(m.in_sample.cpm),
            m.in_sample.mape,
            f4(m.out_of_sample.r2),
            f4(m.out_of_sample.cpm),
            f4(m.clinic.r2),
            ratio
        );
    }
    let _ = writeln!(md, "\n## Insight versus simplicity\n");
    let _ = writeln!(md, "Nested models fitted on the same data. The last column is how much the clinics' minimum patient counts move from the rung above (median / 95th percentile of the absolute change, patients).\n");
    let _ = writeln!(
        md,
        "| rung | parameters | R² | CPM | R² out of sample | CPM out of sample | proposals move |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---|");
    for r in &e.ladder {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.rung,
            r.parameters,
            f4(r.in_sample.r2),
            f4(r.in_sample.cpm),
            f4(r.out_of_sample.r2),
            f4(r.out_of_sample.cpm),
            q(&r.proposal_change_from_previous)
        );
    }
    for m in &e.models {
        let _ = writeln!(md, "\n## Predictive ratios: {}\n", m.id);
        let _ = writeln!(md, "Predicted over observed utilization; 1.0 is perfect.\n");
        let _ = writeln!(md, "| group | level | persons | ratio |");
        let _ = writeln!(md, "|---|---|---:|---:|");
        for r in &m.predictive_ratios {
            let ratio = r
                .ratio
                .map(|x| format!("{x:.3}"))
                .unwrap_or_else(|| "–".into());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                r.group, r.level, r.persons, ratio
            );
        }
    }
    if let Some(s) = &e.stability {
        let _ = writeln!(md, "\n## Stability from one data year to the next\n");
        let _ = writeln!(
            md,
            "Second year `{}`. Median |z| of the coefficient changes {:.2}; {:.1}% of coefficients moved by more than 2 standard errors. Proposals move by {} patients (median / p95), {} per cent.\n",
            s.population_next.path,
            s.median_abs_z,
            100.0 * s.share_abs_z_above_2,
            q(&s.proposal_change),
            match &s.proposal_change_pct {
                Some(p) => format!("{:.2} / {:.2}", p.median, p.p95),
                None => "–".into(),
            }
        );
        let _ = writeln!(md, "| term | first | next | difference | z |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|");
        for c in &s.coefficients {
            let _ = writeln!(
                md,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                c.term, c.first, c.next, c.difference, c.z
            );
        }
    }
    md
}

/// Evaluates models (see `evaluation`) and writes `evaluation.json` and
/// `evaluation.md` into the configured directory.
pub fn evaluate_and_write(config: &EvaluateConfig) -> Result<Evaluation, Error> {
    let result = evaluate(config)?;
    write_evaluation(&config.out, &result, &markdown(&result), config.report)?;
    Ok(result)
}

/// Writes an evaluation as JSON and Markdown (and `report.html`) into
/// `out`, atomically.
fn write_evaluation(
    out: &Path,
    evaluation: &Evaluation,
    markdown: &str,
    report: bool,
) -> Result<(), OutputError> {
    let json = output::json_text(evaluation).map_err(|e| OutputError::write(out, e))?;
    output::atomic::write_dir_atomically(out, |dir| {
        output::write_text(&dir.join("evaluation.json"), &json)?;
        output::write_text(&dir.join("evaluation.md"), markdown)?;
        if report {
            output::report_into(dir)?;
        }
        Ok(())
    })
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
    /// The insight-versus-simplicity ladder as a file: `[[rung]]` tables with `name` and `add`
    /// (term ids of the first model's structure; `prefix*`; `@component`), each rung adding to the
    /// previous one. Default: age and sex, + socioeconomic, + conditions, + multimorbidity and area.
    #[arg(long, conflicts_with = "rung")]
    pub ladder: Option<PathBuf>,
    /// One rung as NAME=TERM,TERM,... (repeat for each rung, in order; terms as for --ladder).
    #[arg(long, value_parser = crate::fit::structure::parse_rung)]
    pub rung: Vec<RungSpec>,
}

impl EvaluateArgs {
    pub fn to_config(&self) -> Result<EvaluateConfig, Failure> {
        let ladder = match &self.ladder {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Failure {
                    code: 1,
                    stage: super::Stage::Input,
                    message: format!("cannot read `{}`: {e}", path.display()),
                })?;
                Some(
                    crate::fit::structure::parse_ladder(&text).map_err(|e| Failure {
                        code: 1,
                        stage: super::Stage::Model,
                        message: format!("`{}`: {e}", path.display()),
                    })?,
                )
            }
            None if !self.rung.is_empty() => Some(self.rung.clone()),
            None => None,
        };
        Ok(EvaluateConfig {
            ladder,
            inputs: self.input.paths(self.models[0].clone(), true),
            models: self.models.clone(),
            year: self.year,
            folds: usize::from(self.folds),
            seed: self.seed,
            population_next: self.population_next.clone(),
            out: self.out.clone(),
            report: self.report,
        })
    }
}

/// Runs `fordeling evaluate` and logs each model's fit.
pub fn execute(args: &EvaluateArgs) -> Result<(), Failure> {
    let config = args.to_config()?;
    let evaluation = super::in_pool(args.input.threads, || evaluate_and_write(&config))?;
    if !args.input.quiet {
        for m in &evaluation.models {
            tracing::info!(
                "fordeling: {}: R² {:.4} (out of sample {:.4}), CPM {:.4}, clinic R² {:.4}",
                m.id,
                m.in_sample.r2,
                m.out_of_sample.r2,
                m.in_sample.cpm,
                m.clinic.r2
            );
        }
        tracing::info!("fordeling: wrote {}", config.out.display());
    }
    Ok(())
}
