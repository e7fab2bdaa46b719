//! The scenarios page.

use super::*;

pub(super) fn scenarios_page(dir: &Path) -> Result<(String, String, String), Error> {
    let summary: Vec<ScenarioSummaryRecord> = rows(&dir.join("summary.csv"))?;
    let gaps: Vec<CapacityGapRecord> = rows(&dir.join("capacity_gaps.csv"))?;
    let title = "Scenario comparison".to_string();
    let subtitle = format!(
        "{} scenarios beside the baseline",
        summary.len().saturating_sub(1)
    );
    let mut body = String::new();

    let names: Vec<String> = summary.iter().map(|r| r.scenario.clone()).collect();
    body.push_str(&summary_section(&summary, &names));
    body.push_str(&gaps_section(&gaps, &names));
    Ok((title, subtitle, body))
}

/// Each scenario beside the baseline: L, quartiles, flags.
fn summary_section(summary: &[ScenarioSummaryRecord], names: &[String]) -> String {
    let mut out = String::new();
    let baseline = summary.first();
    let base = |pick: fn(&ScenarioSummaryRecord) -> Option<f64>| baseline.and_then(pick);
    let column = |pick: fn(&ScenarioSummaryRecord) -> Option<f64>| -> Vec<f64> {
        summary
            .iter()
            .map(|r| pick(r).unwrap_or(f64::NAN))
            .collect()
    };
    let mut charts = svg::grouped_bars(
        "National L per scenario",
        "patients per capacity",
        names,
        &[("s1", "L", column(|r| r.L))],
    );
    charts.push_str(&svg::grouped_bars(
        "Proposals per capacity: quartiles per scenario",
        "minimum patients per capacity",
        names,
        &[
            ("s3", "25th percentile", column(|r| r.per_capacity_p25)),
            ("s1", "median", column(|r| r.per_capacity_median)),
            ("s2", "75th percentile", column(|r| r.per_capacity_p75)),
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
        .iter()
        .map(|r| {
            let l = r.L;
            let med = r.per_capacity_median;
            let mut row = vec![
                t(r.scenario.as_str()),
                t(r.parameters.as_str()),
                n(l, 1),
                n(l.zip(base(|b| b.L)).map(|(a, b)| a - b), 1),
                n(r.D, 1),
                n(med, 0),
                n(
                    med.zip(base(|b| b.per_capacity_median)).map(|(a, b)| a - b),
                    0,
                ),
                n(number(r.clinics_changed_vs_baseline), 0),
                n(r.mean_abs_change_vs_baseline, 1),
            ];
            row.extend(
                FLAGS
                    .iter()
                    .map(|(flag, _)| n(number(flag_count(r, flag)), 0)),
            );
            row
        })
        .collect();
    charts.push_str(&format!(
        r#"<div class="scroll">{}</div>"#,
        table("scenarios", &headers, &rows)
    ));
    out.push_str(&section(
        "summary",
        "Each scenario beside the baseline",
        "The baseline is the model file and run parameters as given; every other row changes what its parameters column says.",
        &charts,
    ));

    out
}

/// The capacity gap per sundhedsråd and scenario.
fn gaps_section(gaps: &[CapacityGapRecord], names: &[String]) -> String {
    let mut out = String::new();
    let mut councils: Vec<String> = gaps.iter().map(|r| r.sundhedsraad.clone()).collect();
    councils.sort();
    councils.dedup();
    let mut headers: Vec<String> = vec!["sundhedsråd".into()];
    headers.extend(names.iter().cloned());
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let gap_of: BTreeMap<(&str, &str), Option<f64>> = gaps
        .iter()
        .map(|r| {
            (
                (r.scenario.as_str(), r.sundhedsraad.as_str()),
                r.capacity_gap,
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
    out.push_str(&section(
        "gaps",
        "Capacity gap per sundhedsråd",
        "Capacities minus the capacities need calls for, per council and scenario.",
        &format!(
            r#"<div class="scroll">{}</div>"#,
            table("gaps", &header_refs, &rows)
        ),
    ));
    out
}

/// A flag's clinic count in a scenario's summary row.
fn flag_count(row: &ScenarioSummaryRecord, flag: &str) -> Option<i64> {
    match flag {
        "capped" => row.capped,
        "uncertain" => row.uncertain,
        "dialogue" => row.dialogue,
        "vulnerable_area" => row.vulnerable_area,
        "empty" => row.empty,
        _ => None,
    }
}
