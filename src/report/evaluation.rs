//! The evaluation page, from `evaluation.json` read through its schema.

use super::*;
use crate::fit::evaluate::Metrics;
use crate::output::schema::{Evaluation, ModelEvaluation, Rung};

/// A number as the page shows it: non-finite values (written as `null`)
/// are shown as missing.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// One metric, shown as missing when not finite.
fn metric(m: &Metrics, pick: fn(&Metrics) -> f64) -> Option<f64> {
    finite(pick(m))
}

pub(super) fn evaluation_page(dir: &Path) -> Result<(String, String, String), Error> {
    let e: Evaluation = schema::read_json(&dir.join("evaluation.json"))?;
    let models = &e.models;
    let title = "Model evaluation".to_string();
    let subtitle = format!(
        "{} persons · {} model(s) · {}-fold cross-validation",
        num(e.persons as f64, 0),
        models.len(),
        num(e.folds as f64, 0)
    );
    let mut body = String::new();

    body.push_str(&models_section(models));
    body.push_str(&ratio_sections(models));
    body.push_str(&ladder_section(&e.ladder));
    Ok((title, subtitle, body))
}

/// Each model's fit in a table.
fn models_section(models: &[ModelEvaluation]) -> String {
    let mut out = String::new();
    let rows: Vec<Vec<Cell>> = models
        .iter()
        .map(|m| {
            vec![
                t(m.id.as_str()),
                t(m.link.as_str()),
                n(Some(m.parameters as f64), 0),
                n(metric(&m.in_sample, |x| x.r2), 4),
                n(metric(&m.out_of_sample, |x| x.r2), 4),
                n(metric(&m.in_sample, |x| x.cpm), 4),
                n(metric(&m.in_sample, |x| x.mape), 1),
                n(finite(m.clinic.r2), 4),
            ]
        })
        .collect();
    out.push_str(&section(
        "models",
        "Models",
        "Person-level fit in and out of sample (R², Cumming's prediction measure, mean absolute prediction error) and the R² of clinic totals.",
        &table(
            "models",
            &["model", "link", "parameters", "R²", "R² out of sample", "CPM", "MAPE", "clinic R²"],
            &rows,
        ),
    ));

    out
}

/// Predictive ratios by group and calibration by decile, per model.
fn ratio_sections(models: &[ModelEvaluation]) -> String {
    let mut out = String::new();
    let mut ratios_html = String::new();
    let mut calibration_html = String::new();
    for m in models {
        let ratios = &m.predictive_ratios;
        let dots: Vec<(String, Option<f64>)> = ratios
            .iter()
            .filter(|r| r.group != "predicted_need_decile")
            .map(|r| (format!("{}: {}", r.group, r.level), r.ratio))
            .collect();
        ratios_html.push_str(&svg::dots(
            &format!("Predictive ratios, {}", m.id),
            "predicted / observed (1.0 = unbiased)",
            &dots,
            1.0,
        ));
        let points: Vec<svg::Point> = ratios
            .iter()
            .filter(|r| r.group == "predicted_need_decile")
            .filter_map(|r| {
                let persons = Some(r.persons as f64).filter(|p| *p > 0.0)?;
                let (predicted, observed) = (finite(r.predicted)?, finite(r.observed)?);
                Some(svg::Point {
                    x: predicted / persons,
                    y: observed / persons,
                    highlight: false,
                    label: format!(
                        "decile {}: predicted {}, observed {}",
                        r.level,
                        num(predicted / persons, 0),
                        num(observed / persons, 0)
                    ),
                })
            })
            .collect();
        calibration_html.push_str(&svg::scatter(
            &format!("Calibration by decile of predicted need, {}", m.id),
            "mean predicted per person",
            "mean observed per person",
            &points,
            ("decile of predicted need", ""),
            true,
        ));
    }
    out.push_str(&section(
        "ratios",
        "Predictive ratios by group",
        "Predicted over observed utilization for every group the model should treat fairly; dots away from the dashed 1.0 line are groups the model over- or under-predicts.",
        &ratios_html,
    ));
    out.push_str(&section(
        "calibration",
        "Calibration by decile of predicted need",
        "Persons grouped by decile of predicted need: mean observed against mean predicted utilization; a calibrated model lies on the diagonal.",
        &calibration_html,
    ));

    out
}

/// The insight-versus-simplicity ladder.
fn ladder_section(ladder: &[Rung]) -> String {
    let mut out = String::new();
    let categories: Vec<String> = ladder.iter().map(|r| r.rung.clone()).collect();
    let r2 = |pick: fn(&Rung) -> &Metrics| -> Vec<f64> {
        ladder
            .iter()
            .map(|r| metric(pick(r), |x| x.r2).unwrap_or(f64::NAN))
            .collect()
    };
    let mut ladder_html = svg::grouped_bars(
        "Insight versus simplicity: R² by rung",
        "R²",
        &categories,
        &[
            ("s1", "in sample", r2(|r| &r.in_sample)),
            ("s3", "out of sample", r2(|r| &r.out_of_sample)),
        ],
    );
    let rows: Vec<Vec<Cell>> = ladder
        .iter()
        .map(|r| {
            let change = r.proposal_change_from_previous.as_ref();
            vec![
                t(r.rung.as_str()),
                n(Some(r.parameters as f64), 0),
                n(metric(&r.in_sample, |x| x.r2), 4),
                n(metric(&r.out_of_sample, |x| x.r2), 4),
                n(metric(&r.in_sample, |x| x.cpm), 4),
                n(change.and_then(|c| finite(c.median)), 1),
                n(change.and_then(|c| finite(c.p95)), 1),
            ]
        })
        .collect();
    ladder_html.push_str(&table(
        "ladder",
        &[
            "rung",
            "parameters",
            "R²",
            "R² out of sample",
            "CPM",
            "median proposal change vs previous rung",
            "95th percentile",
        ],
        &rows,
    ));
    out.push_str(&section(
        "ladder",
        "The insight-versus-simplicity ladder",
        "Each rung adds a block of terms to the one before; what each block buys in fit, and how much it moves the proposals.",
        &ladder_html,
    ));
    out
}
