//! The run page, and the kommune and year helpers the other pages share.

use super::*;

pub(super) const FLAGS: [(&str, &str); 5] = [
    ("capped", "The transition cap changed the proposal (it moved more than the cap allows from last year's count)."),
    ("uncertain", "The statistical interval of the proposal is wide relative to the proposal, or the clinic has a single patient."),
    ("dialogue", "The proposal is well above both last year's count and the current list: the region should talk with the clinic first."),
    ("vulnerable_area", "In or next to a vulnerable housing area (from the clinic file)."),
    ("empty", "No listed persons, so no proposal."),
];

pub(super) fn kommune_names(areas: &Frame) -> Result<BTreeMap<i64, String>, Error> {
    let (level, code, name) = (areas.col("level")?, areas.col("code")?, areas.col("name")?);
    Ok(areas
        .rows
        .iter()
        .filter(|r| areas.text(r, level) == "kommune")
        .filter_map(|r| {
            Some((
                areas.text(r, code).parse::<i64>().ok()?,
                areas.text(r, name).to_string(),
            ))
        })
        .collect())
}

/// The name of the kommune in column `col` of a clinic row.
pub(super) fn kommune_name(
    clinics: &Frame,
    row: &[String],
    col: usize,
    names: &BTreeMap<i64, String>,
) -> String {
    clinics
        .text(row, col)
        .parse::<i64>()
        .ok()
        .and_then(|k| names.get(&k).cloned())
        .unwrap_or_default()
}

/// The rows of one year of a table with a `year` column at `col`.
pub(super) fn year_rows(frame: &Frame, col: usize, year: i64) -> Vec<&Vec<String>> {
    frame
        .rows
        .iter()
        .filter(|r| frame.text(r, col).parse::<i64>().ok() == Some(year))
        .collect()
}

pub(super) fn run_page(dir: &Path) -> Result<(String, String, String), Error> {
    let manifest: RunManifest = schema::read_json(&dir.join("manifest.json"))?;
    let clinics = Frame::read(&dir.join("clinics.csv"))?;
    let areas = Frame::read(&dir.join("areas.csv"))?;
    let names = kommune_names(&areas)?;
    let year = manifest.year;
    let model = &manifest.model.id;
    let title = format!("Minimum patient counts {year}");
    let subtitle = format!(
        "Model {model} · {} listed persons in {} clinics",
        num(manifest.persons as f64, 0),
        num(manifest.clinics as f64, 0)
    );
    let mut body = String::new();

    body.push_str(&section(
        "national",
        "National figures",
        "L is the national number of listed patients per doctor capacity; a clinic's proposal is L times its capacities, adjusted for its patients' need.",
        &cards(&[
            ("L, patients per capacity", num(manifest.reference_load, 1)),
            ("need-weighted citizens", num(manifest.need_weighted_citizens, 0)),
            ("doctor capacities D", num(manifest.capacity_total, 1)),
            ("listed persons", num(manifest.persons as f64, 0)),
            ("clinics", num(manifest.clinics as f64, 0)),
        ]),
    ));

    let (
        c_id,
        c_kommune,
        c_cap,
        c_listed,
        c_need,
        c_weight,
        c_prev,
        c_min,
        c_change,
        c_change_pct,
        c_flags,
    ) = (
        clinics.col("clinic_id")?,
        clinics.col("kommune")?,
        clinics.col("capacities")?,
        clinics.col("n_patients")?,
        clinics.col("need")?,
        clinics.col("mean_weight")?,
        clinics.col("previous_min_patients")?,
        clinics.col("min_patients")?,
        clinics.col("change")?,
        clinics.col("change_pct")?,
        clinics.col("flags")?,
    );
    let per_capacity: Vec<f64> = clinics
        .rows
        .iter()
        .filter_map(|r| {
            let cap = clinics.number(r, c_cap).filter(|c| *c > 0.0)?;
            Some(clinics.number(r, c_min)? / cap)
        })
        .collect();
    let mut histogram = svg::histogram(
        "Proposals per capacity",
        "minimum patients per doctor capacity",
        &per_capacity,
        12,
    );
    let points: Vec<svg::Point> = clinics
        .rows
        .iter()
        .map(|r| {
            let kommune = kommune_name(&clinics, r, c_kommune, &names);
            let flags = clinics.text(r, c_flags);
            svg::Point {
                x: clinics.number(r, c_need).unwrap_or(f64::NAN),
                y: clinics.number(r, c_listed).unwrap_or(f64::NAN),
                highlight: !flags.is_empty(),
                label: format!(
                    "clinic {} ({kommune}): need {}, listed {}{}",
                    clinics.text(r, c_id),
                    num(clinics.number(r, c_need).unwrap_or(f64::NAN), 0),
                    clinics.text(r, c_listed),
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(", flags: {}", flags.replace(';', ", "))
                    }
                ),
            }
        })
        .collect();
    histogram.push_str(&svg::scatter(
        "Need against current list size",
        "need (need-weighted patients)",
        "listed patients",
        &points,
        ("clinic", "flagged clinic"),
        true,
    ));
    body.push_str(&section(
        "clinics",
        "Clinics",
        "The distribution of proposals per doctor capacity, and each clinic's need against its current list: points above the diagonal list more patients than their need-weighted share; flagged clinics are red.",
        &histogram,
    ));

    let (a_level, a_code, a_name, a_gap, a_norm) = (
        areas.col("level")?,
        areas.col("code")?,
        areas.col("name")?,
        areas.col("capacity_gap")?,
        areas.col("norm_patients_per_capacity")?,
    );
    let mut gaps: Vec<(String, f64)> = areas
        .rows
        .iter()
        .filter(|r| areas.text(r, a_level) == "sundhedsraad")
        .map(|r| {
            (
                areas.text(r, a_name).to_string(),
                areas.number(r, a_gap).unwrap_or(0.0),
            )
        })
        .collect();
    gaps.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    body.push_str(&section(
        "gap",
        "Capacity gap per sundhedsråd",
        "Doctor capacities in the area minus the capacities its need-weighted citizens call for at the national L; negative means the area lacks capacity.",
        &svg::hbars("Capacity gap (capacities)", "capacities above (+) or below (−) need", &gaps),
    ));

    let values: BTreeMap<i64, Option<f64>> = areas
        .rows
        .iter()
        .filter(|r| areas.text(r, a_level) == "kommune")
        .filter_map(|r| {
            Some((
                areas.text(r, a_code).parse::<i64>().ok()?,
                areas.number(r, a_norm),
            ))
        })
        .collect();
    body.push_str(&section(
        "map",
        "Norm patients per capacity by kommune",
        "How many need-weighted patients one doctor capacity would serve in each kommune at the national level of need; hover a kommune for its value. Hatched: no listed persons, or too few to show.",
        &map::choropleth(
            "Norm patients per capacity",
            "patients per capacity",
            &values,
            &names,
        ),
    ));

    let mut flags_html = String::new();
    for (flag, meaning) in FLAGS {
        let rows: Vec<Vec<Cell>> = clinics
            .rows
            .iter()
            .filter(|r| clinics.text(r, c_flags).split(';').any(|f| f == flag))
            .map(|r| {
                let kommune = kommune_name(&clinics, r, c_kommune, &names);
                vec![
                    n(clinics.number(r, c_id), 0),
                    t(kommune),
                    n(clinics.number(r, c_cap), 2),
                    n(clinics.number(r, c_listed), 0),
                    n(clinics.number(r, c_need), 0),
                    n(clinics.number(r, c_weight), 3),
                    n(clinics.number(r, c_prev), 0),
                    n(clinics.number(r, c_min), 0),
                    n(clinics.number(r, c_change), 0),
                    n(clinics.number(r, c_change_pct), 1),
                ]
            })
            .collect();
        let _ = write!(
            flags_html,
            "<h3>{} ({} clinics)</h3><p class=\"intro\">{}</p>",
            esc(flag),
            rows.len(),
            esc(meaning)
        );
        if !rows.is_empty() {
            let _ = write!(
                flags_html,
                r#"<div class="scroll">{}</div>"#,
                table(
                    &format!("flag-{flag}"),
                    &[
                        "clinic",
                        "kommune",
                        "capacities",
                        "listed",
                        "need",
                        "mean weight",
                        "last year",
                        "proposal",
                        "change",
                        "change %",
                    ],
                    &rows,
                )
            );
        }
    }
    body.push_str(&section(
        "flags",
        "Flagged clinics",
        "Each flag with the clinics that carry it; click a column to sort.",
        &flags_html,
    ));
    Ok((title, subtitle, body))
}
