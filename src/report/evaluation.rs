//! The evaluation page.

use super::*;

pub(super) fn evaluation_page(dir: &Path) -> Result<(String, String, String), Error> {
    let e = read_json(&dir.join("evaluation.json"))?;
    let models = e
        .get("models")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let title = "Model evaluation".to_string();
    let subtitle = format!(
        "{} persons · {} model(s) · {}-fold cross-validation",
        num(get_f64(&e, "persons").unwrap_or(f64::NAN), 0),
        models.len(),
        num(get_f64(&e, "folds").unwrap_or(f64::NAN), 0)
    );
    let mut body = String::new();

    let metric =
        |m: &serde_json::Value, part: &str, key: &str| m.get(part).and_then(|p| get_f64(p, key));
    let rows: Vec<Vec<Cell>> = models
        .iter()
        .map(|m| {
            vec![
                t(get_str(m, "id")),
                t(get_str(m, "link")),
                n(get_f64(m, "parameters"), 0),
                n(metric(m, "in_sample", "r2"), 4),
                n(metric(m, "out_of_sample", "r2"), 4),
                n(metric(m, "in_sample", "cpm"), 4),
                n(metric(m, "in_sample", "mape"), 1),
                n(metric(m, "clinic", "r2"), 4),
            ]
        })
        .collect();
    body.push_str(&section(
        "models",
        "Models",
        "Person-level fit in and out of sample (R², Cumming's prediction measure, mean absolute prediction error) and the R² of clinic totals.",
        &table(
            "models",
            &["model", "link", "parameters", "R²", "R² out of sample", "CPM", "MAPE", "clinic R²"],
            &rows,
        ),
    ));

    let mut ratios_html = String::new();
    let mut calibration_html = String::new();
    for m in &models {
        let ratios = m
            .get("predictive_ratios")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        let dots: Vec<(String, Option<f64>)> = ratios
            .iter()
            .filter(|r| get_str(r, "group") != "predicted_need_decile")
            .map(|r| {
                (
                    format!("{}: {}", get_str(r, "group"), get_str(r, "level")),
                    get_f64(r, "ratio"),
                )
            })
            .collect();
        ratios_html.push_str(&svg::dots(
            &format!("Predictive ratios, {}", get_str(m, "id")),
            "predicted / observed (1.0 = unbiased)",
            &dots,
            1.0,
        ));
        let points: Vec<svg::Point> = ratios
            .iter()
            .filter(|r| get_str(r, "group") == "predicted_need_decile")
            .filter_map(|r| {
                let persons = get_f64(r, "persons").filter(|p| *p > 0.0)?;
                Some(svg::Point {
                    x: get_f64(r, "predicted")? / persons,
                    y: get_f64(r, "observed")? / persons,
                    highlight: false,
                    label: format!(
                        "decile {}: predicted {}, observed {}",
                        get_str(r, "level"),
                        num(get_f64(r, "predicted")? / persons, 0),
                        num(get_f64(r, "observed")? / persons, 0)
                    ),
                })
            })
            .collect();
        calibration_html.push_str(&svg::scatter(
            &format!(
                "Calibration by decile of predicted need, {}",
                get_str(m, "id")
            ),
            "mean predicted per person",
            "mean observed per person",
            &points,
            ("decile of predicted need", ""),
            true,
        ));
    }
    body.push_str(&section(
        "ratios",
        "Predictive ratios by group",
        "Predicted over observed utilization for every group the model should treat fairly; dots away from the dashed 1.0 line are groups the model over- or under-predicts.",
        &ratios_html,
    ));
    body.push_str(&section(
        "calibration",
        "Calibration by decile of predicted need",
        "Persons grouped by decile of predicted need: mean observed against mean predicted utilization; a calibrated model lies on the diagonal.",
        &calibration_html,
    ));

    let ladder = e
        .get("ladder")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let categories: Vec<String> = ladder
        .iter()
        .map(|r| get_str(r, "rung").to_string())
        .collect();
    let r2 = |part: &str| -> Vec<f64> {
        ladder
            .iter()
            .map(|r| metric(r, part, "r2").unwrap_or(f64::NAN))
            .collect()
    };
    let mut ladder_html = svg::grouped_bars(
        "Insight versus simplicity: R² by rung",
        "R²",
        &categories,
        &[
            ("s1", "in sample", r2("in_sample")),
            ("s3", "out of sample", r2("out_of_sample")),
        ],
    );
    let rows: Vec<Vec<Cell>> = ladder
        .iter()
        .map(|r| {
            let change = r.get("proposal_change_from_previous");
            vec![
                t(get_str(r, "rung")),
                n(get_f64(r, "parameters"), 0),
                n(metric(r, "in_sample", "r2"), 4),
                n(metric(r, "out_of_sample", "r2"), 4),
                n(metric(r, "in_sample", "cpm"), 4),
                n(change.and_then(|c| get_f64(c, "median")), 1),
                n(change.and_then(|c| get_f64(c, "p95")), 1),
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
    body.push_str(&section(
        "ladder",
        "The insight-versus-simplicity ladder",
        "Each rung adds a block of terms to the one before; what each block buys in fit, and how much it moves the proposals.",
        &ladder_html,
    ));
    Ok((title, subtitle, body))
}
