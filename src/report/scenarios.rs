//! The scenarios page.

use super::*;

pub(super) fn scenarios_page(dir: &Path) -> Result<(String, String, String), Error> {
    let summary = Frame::read(&dir.join("summary.csv"))?;
    let gaps = Frame::read(&dir.join("capacity_gaps.csv"))?;
    let (s_name, s_params, s_l, s_d, s_p25, s_med, s_p75, s_changed, s_abs) = (
        summary.col("scenario")?,
        summary.col("parameters")?,
        summary.col("L")?,
        summary.col("D")?,
        summary.col("per_capacity_p25")?,
        summary.col("per_capacity_median")?,
        summary.col("per_capacity_p75")?,
        summary.col("clinics_changed_vs_baseline")?,
        summary.col("mean_abs_change_vs_baseline")?,
    );
    let flag_cols: Vec<(&str, usize)> = FLAGS
        .iter()
        .map(|(f, _)| Ok((*f, summary.col(f)?)))
        .collect::<Result<_, Error>>()?;
    let baseline = summary.rows.first();
    let base = |col: usize| baseline.and_then(|b| summary.number(b, col));
    let title = "Scenario comparison".to_string();
    let subtitle = format!(
        "{} scenarios beside the baseline",
        summary.rows.len().saturating_sub(1)
    );
    let mut body = String::new();

    let names: Vec<String> = summary
        .rows
        .iter()
        .map(|r| summary.text(r, s_name).to_string())
        .collect();
    let mut charts = svg::grouped_bars(
        "National L per scenario",
        "patients per capacity",
        &names,
        &[(
            "s1",
            "L",
            summary
                .rows
                .iter()
                .map(|r| summary.number(r, s_l).unwrap_or(f64::NAN))
                .collect(),
        )],
    );
    charts.push_str(&svg::grouped_bars(
        "Proposals per capacity: quartiles per scenario",
        "minimum patients per capacity",
        &names,
        &[
            (
                "s3",
                "25th percentile",
                summary
                    .rows
                    .iter()
                    .map(|r| summary.number(r, s_p25).unwrap_or(f64::NAN))
                    .collect(),
            ),
            (
                "s1",
                "median",
                summary
                    .rows
                    .iter()
                    .map(|r| summary.number(r, s_med).unwrap_or(f64::NAN))
                    .collect(),
            ),
            (
                "s2",
                "75th percentile",
                summary
                    .rows
                    .iter()
                    .map(|r| summary.number(r, s_p75).unwrap_or(f64::NAN))
                    .collect(),
            ),
        ],
    ));
    let mut headers = vec![
        "scenario",
        "parameters",
        "L",
        "L vs baseline",
        "D",
        "median per capacity",
        "median vs baseline",
        "clinics changed",
        "mean |change|",
    ];
    headers.extend(FLAGS.iter().map(|(f, _)| *f));
    let rows: Vec<Vec<Cell>> = summary
        .rows
        .iter()
        .map(|r| {
            let l = summary.number(r, s_l);
            let med = summary.number(r, s_med);
            let mut row = vec![
                t(summary.text(r, s_name)),
                t(summary.text(r, s_params)),
                n(l, 1),
                n(l.zip(base(s_l)).map(|(a, b)| a - b), 1),
                n(summary.number(r, s_d), 1),
                n(med, 0),
                n(med.zip(base(s_med)).map(|(a, b)| a - b), 0),
                n(summary.number(r, s_changed), 0),
                n(summary.number(r, s_abs), 1),
            ];
            row.extend(flag_cols.iter().map(|(_, c)| n(summary.number(r, *c), 0)));
            row
        })
        .collect();
    charts.push_str(&format!(
        r#"<div class="scroll">{}</div>"#,
        table("scenarios", &headers, &rows)
    ));
    body.push_str(&section(
        "summary",
        "Each scenario beside the baseline",
        "The baseline is the model file and run parameters as given; every other row changes what its parameters column says.",
        &charts,
    ));

    let (g_name, g_council, g_gap) = (
        gaps.col("scenario")?,
        gaps.col("sundhedsraad")?,
        gaps.col("capacity_gap")?,
    );
    let mut councils: Vec<String> = gaps
        .rows
        .iter()
        .map(|r| gaps.text(r, g_council).to_string())
        .collect();
    councils.sort();
    councils.dedup();
    let mut headers: Vec<String> = vec!["sundhedsråd".into()];
    headers.extend(names.iter().cloned());
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let gap_of: BTreeMap<(&str, &str), Option<f64>> = gaps
        .rows
        .iter()
        .map(|r| {
            (
                (gaps.text(r, g_name), gaps.text(r, g_council)),
                gaps.number(r, g_gap),
            )
        })
        .collect();
    let rows: Vec<Vec<Cell>> = councils
        .iter()
        .map(|council| {
            let mut row = vec![t(council.clone())];
            row.extend(names.iter().map(|s| {
                n(
                    gap_of
                        .get(&(s.as_str(), council.as_str()))
                        .copied()
                        .flatten(),
                    2,
                )
            }));
            row
        })
        .collect();
    body.push_str(&section(
        "gaps",
        "Capacity gap per sundhedsråd",
        "Capacities minus the capacities need calls for, per council and scenario.",
        &format!(
            r#"<div class="scroll">{}</div>"#,
            table("gaps", &header_refs, &rows)
        ),
    ));
    Ok((title, subtitle, body))
}
