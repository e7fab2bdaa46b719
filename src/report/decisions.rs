//! The decisions page (`decide --report`): final counts against the
//! model's proposals, the deviations by reason, the coverage of each
//! sundhedsråd on the kommune map, and the deviating, dialogue and
//! vulnerable-area clinics side by side.

use super::*;
use crate::output::schema::{CoverageRecord, DecideManifest, DecisionRecord};

pub(super) fn decisions_page(dir: &Path) -> Result<(String, String, String), Error> {
    let manifest: DecideManifest = schema::read_json(&dir.join("manifest.json"))?;
    let decisions: Vec<DecisionRecord> = rows(&dir.join("decisions.csv"))?;
    let coverage: Vec<CoverageRecord> = rows(&dir.join("coverage.csv"))?;
    let title = format!("The region's decisions {}", manifest.run.year);
    let subtitle = format!(
        "On the run of model {} ({}, load level {}) · decisions from {}",
        manifest.run.model_id, manifest.run.path, manifest.run.load_level, manifest.decisions.path
    );
    let mut body = String::new();
    body.push_str(&section(
        "summary",
        "Summary",
        "Clinics without a row in the decisions file keep the model's proposal (reason model).",
        &cards(&[
            ("clinics", num(manifest.clinics as f64, 0)),
            ("decided in the file", num(manifest.decided as f64, 0)),
            (
                "deviate from the proposal",
                num(manifest.deviating as f64, 0),
            ),
            (
                "final counts needing a dialogue",
                num(manifest.dialogue as f64, 0),
            ),
            (
                "in a vulnerable area",
                num(manifest.vulnerable_area as f64, 0),
            ),
            (
                "sundhedsråd covered",
                format!(
                    "{} of {}",
                    manifest.sundhedsraad_covered, manifest.sundhedsraad
                ),
            ),
        ]),
    ));
    body.push_str(&against_section(&decisions));
    body.push_str(&reasons_section(&manifest));
    body.push_str(&coverage_section(&coverage)?);
    body.push_str(&clinics_section(&decisions));
    Ok((title, subtitle, body))
}

fn flagged(record: &DecisionRecord, flag: &str) -> bool {
    record.flags.split(';').any(|f| f == flag)
}

/// Final counts against proposals, deviations highlighted.
fn against_section(decisions: &[DecisionRecord]) -> String {
    let points: Vec<svg::Point> = decisions
        .iter()
        .filter(|d| d.proposal.is_some() && d.final_min_patients.is_some())
        .map(|d| {
            let deviation = d.deviation.unwrap_or(0);
            svg::Point {
                x: number(d.proposal).unwrap_or(f64::NAN),
                y: number(d.final_min_patients).unwrap_or(f64::NAN),
                highlight: deviation != 0,
                label: format!(
                    "clinic {}: proposal {}, final {} ({}{}), reason {}",
                    shown(d.clinic_id),
                    shown(d.proposal),
                    shown(d.final_min_patients),
                    if deviation > 0 { "+" } else { "" },
                    deviation,
                    d.reason
                ),
            }
        })
        .collect();
    section(
        "against",
        "Final counts against the model's proposals",
        "Each clinic's final minimum patient count against the model's proposal; on the diagonal the region kept the proposal, red points deviate from it.",
        &svg::scatter(
            "Final count against proposal",
            "the model's proposal",
            "final minimum patient count",
            &points,
            ("kept", "deviates"),
            true,
        ),
    )
}

/// Deviations by reason.
fn reasons_section(manifest: &DecideManifest) -> String {
    let bars: Vec<(String, f64)> = manifest
        .by_reason
        .iter()
        .map(|r| (r.reason.clone(), r.deviation as f64))
        .collect();
    let rows: Vec<Vec<Cell>> = manifest
        .by_reason
        .iter()
        .map(|r| {
            vec![
                t(r.reason.clone()),
                n(Some(r.clinics as f64), 0),
                n(Some(r.deviation as f64), 0),
            ]
        })
        .collect();
    let mut content = svg::hbars(
        "Deviation by reason",
        "Σ (final − proposal), patients",
        &bars,
    );
    content.push_str(&table(
        "reasons",
        &["reason", "clinics", "Σ deviation"],
        &rows,
    ));
    section(
        "reasons",
        "Deviations by reason",
        "How far the final counts move from the proposals, summed by the reason the region gave.",
        &content,
    )
}

/// Coverage per sundhedsråd: a kommune map coloured by the sundhedsråd
/// the kommune belongs to, and the margins as bars.
fn coverage_section(coverage: &[CoverageRecord]) -> Result<String, Error> {
    let margin = |c: &CoverageRecord| -> Option<f64> {
        let residents = c.residents.filter(|&r| r > 0)? as f64;
        Some(100.0 * (c.final_min_patients.unwrap_or(0) as f64 - residents) / residents)
    };
    let councils: BTreeMap<&str, Option<f64>> = coverage
        .iter()
        .filter(|c| c.level == "sundhedsraad")
        .map(|c| (c.code.as_str(), margin(c)))
        .collect();
    // The kommune map of the built-in geography, each kommune showing its
    // sundhedsråd's margin.
    let geography = crate::ingest::geography::built_in()?;
    let mut values = BTreeMap::new();
    let mut names = BTreeMap::new();
    for k in &geography.kommuner {
        let council = &geography.sundhedsraad[usize::from(k.sundhedsraad)];
        values.insert(
            i64::from(k.code),
            councils.get(council.as_str()).copied().flatten(),
        );
        names.insert(i64::from(k.code), format!("{} ({council})", k.name));
    }
    let mut content = map::choropleth(
        "Coverage by sundhedsråd",
        "final counts above (+) or below (−) residents, %",
        &values,
        &names,
    );
    let bars: Vec<(String, f64)> = coverage
        .iter()
        .filter(|c| c.level == "sundhedsraad")
        .filter_map(|c| Some((c.name.clone(), margin(c)?)))
        .collect();
    content.push_str(&svg::hbars(
        "Coverage margin per sundhedsråd",
        "final counts above (+) or below (−) residents, %",
        &bars,
    ));
    let rows: Vec<Vec<Cell>> = coverage
        .iter()
        .map(|c| {
            vec![
                t(c.level.clone()),
                t(c.name.clone()),
                n(number(c.final_min_patients), 0),
                n(number(c.listed), 0),
                n(number(c.residents), 0),
                t(match c.covered {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "–",
                }),
                n(margin(c), 1),
            ]
        })
        .collect();
    content.push_str(&table(
        "coverage",
        &[
            "level",
            "area",
            "Σ final counts",
            "listed",
            "residents",
            "covered",
            "margin %",
        ],
        &rows,
    ));
    Ok(section(
        "coverage",
        "Coverage",
        "Whether the final counts of the clinics located in each sundhedsråd and region add up to at least its residents; hatched kommuner belong to a sundhedsråd with no residents in the run.",
        &content,
    ))
}

/// The clinics a reader must look at: deviating, needing a dialogue or in
/// a vulnerable area, with the two flags side by side.
fn clinics_section(decisions: &[DecisionRecord]) -> String {
    let rows: Vec<Vec<Cell>> = decisions
        .iter()
        .filter(|d| {
            d.deviation.unwrap_or(0) != 0 || flagged(d, "dialogue") || flagged(d, "vulnerable_area")
        })
        .map(|d| {
            let yes = |on: bool| t(if on { "yes" } else { "" });
            vec![
                n(number(d.clinic_id), 0),
                n(number(d.proposal), 0),
                n(number(d.final_min_patients), 0),
                n(number(d.deviation), 0),
                n(d.deviation_pct, 1),
                t(d.reason.clone()),
                t(d.dialogue.clone()),
                yes(flagged(d, "dialogue")),
                yes(flagged(d, "vulnerable_area")),
                t(d.note.clone()),
            ]
        })
        .collect();
    section(
        "clinics",
        "Deviating, dialogue and vulnerable-area clinics",
        "Every clinic whose final count deviates from the proposal, needs a dialogue (final count above the dialogue threshold) or lies in or next to a vulnerable housing area; click a column to sort.",
        &format!(
            r#"<div class="scroll">{}</div>"#,
            table(
                "decided",
                &[
                    "clinic",
                    "proposal",
                    "final",
                    "deviation",
                    "deviation %",
                    "reason",
                    "dialogue held",
                    "needs dialogue",
                    "vulnerable area",
                    "note",
                ],
                &rows,
            )
        ),
    )
}
