//! The run page, and the kommune and year helpers the other pages share.

use super::*;

pub(super) const FLAGS: [(&str, &str); 5] = [
    ("capped", "The transition cap changed the proposal (it moved more than the cap allows from last year's count)."),
    ("uncertain", "The statistical interval of the proposal is wide relative to the proposal, or the clinic has a single patient."),
    ("dialogue", "The proposal is well above both last year's count and the current list: the region should talk with the clinic first."),
    ("vulnerable_area", "In or next to a vulnerable housing area (from the clinic file)."),
    ("empty", "No listed persons, so no proposal."),
];

/// Kommune names by code, from a run's area rows.
pub(super) fn kommune_names(areas: &[AreaRecord]) -> BTreeMap<i64, String> {
    areas
        .iter()
        .filter(|r| r.level == "kommune")
        .filter_map(|r| Some((r.code.parse::<i64>().ok()?, r.name.clone())))
        .collect()
}

/// The name of a clinic's kommune.
pub(super) fn kommune_name(clinic: &ClinicRecord, names: &BTreeMap<i64, String>) -> String {
    clinic
        .kommune
        .and_then(|k| names.get(&k).cloned())
        .unwrap_or_default()
}

pub(super) fn run_page(dir: &Path) -> Result<(String, String, String), Error> {
    let manifest: RunManifest = schema::read_json(&dir.join("manifest.json"))?;
    let clinics: Vec<ClinicRecord> = rows(&dir.join("clinics.csv"))?;
    let areas: Vec<AreaRecord> = rows(&dir.join("areas.csv"))?;
    let names = kommune_names(&areas);
    let year = manifest.year;
    let model = &manifest.model.id;
    let title = format!("Minimum patient counts {year}");
    let subtitle = format!(
        "Model {model} · {} listed persons in {} clinics",
        num(manifest.persons as f64, 0),
        num(manifest.clinics as f64, 0)
    );
    let mut body = String::new();

    body.push_str(&national_section(&manifest));
    body.push_str(&load_section(&manifest, &areas));
    body.push_str(&clinics_section(&clinics, &names));
    body.push_str(&gap_section(&areas));
    body.push_str(&map_section(&areas, &names));
    body.push_str(&vulnerable_section(&clinics, &names));
    body.push_str(&flags_section(&clinics, &names));
    Ok((title, subtitle, body))
}

/// The national figures as cards.
fn national_section(manifest: &RunManifest) -> String {
    let mut out = String::new();
    out.push_str(&section(
        "national",
        "National figures",
        "L is the national number of listed patients per doctor capacity; a clinic's proposal is L times its capacities, adjusted for its patients' need.",
        &cards(&[
            ("L, patients per capacity", num(manifest.reference_load, 1)),
            ("need-weighted citizens", num(manifest.need_weighted_citizens, 0)),
            ("doctor capacities D", num(manifest.capacity_total, 1)),
            ("listed persons", num(manifest.persons as f64, 0)),
            ("clinics", num(manifest.clinics as f64, 0)),
            ("load level", manifest.load_level.clone()),
        ]),
    ));

    out
}

/// At the region or sundhedsråd level: each area's own load `L_a`.
fn load_section(manifest: &RunManifest, areas: &[AreaRecord]) -> String {
    if manifest.load_level == "nation" {
        return String::new();
    }
    let bars: Vec<(String, f64)> = areas
        .iter()
        .filter(|r| r.level == manifest.load_level)
        .filter_map(|r| Some((r.name.clone(), r.reference_load?)))
        .collect();
    section(
        "loads",
        "Reference load per area",
        &format!(
            "The counts are distributed inside each {}: a clinic's count uses L_a, the need-weighted patients listed at the clinics located in its area per capacity there, instead of the national L = {}.",
            manifest.load_level,
            num(manifest.reference_load, 1)
        ),
        &svg::hbars("L_a by area", "need-weighted patients per capacity", &bars),
    )
}

/// Proposals per capacity, and need against list size per clinic.
fn clinics_section(clinics: &[ClinicRecord], names: &BTreeMap<i64, String>) -> String {
    let mut out = String::new();
    let per_capacity: Vec<f64> = clinics
        .iter()
        .filter_map(|r| {
            let cap = r.capacities.filter(|c| *c > 0.0)?;
            Some(number(r.min_patients)? / cap)
        })
        .collect();
    let mut histogram = svg::histogram(
        "Proposals per capacity",
        "minimum patients per doctor capacity",
        &per_capacity,
        12,
    );
    let points: Vec<svg::Point> = clinics
        .iter()
        .map(|r| {
            let kommune = kommune_name(r, names);
            let flags = &r.flags;
            svg::Point {
                x: r.need.unwrap_or(f64::NAN),
                y: number(r.n_patients).unwrap_or(f64::NAN),
                highlight: !flags.is_empty(),
                label: format!(
                    "clinic {} ({kommune}): need {}, listed {}{}",
                    shown(r.clinic_id),
                    num(r.need.unwrap_or(f64::NAN), 0),
                    shown(r.n_patients),
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
    out.push_str(&section(
        "clinics",
        "Clinics",
        "The distribution of proposals per doctor capacity, and each clinic's need against its current list: points above the diagonal list more patients than their need-weighted share; flagged clinics are red.",
        &histogram,
    ));

    out
}

/// The capacity gap per sundhedsråd.
fn gap_section(areas: &[AreaRecord]) -> String {
    let mut out = String::new();
    let mut gaps: Vec<(String, f64)> = areas
        .iter()
        .filter(|r| r.level == "sundhedsraad")
        .map(|r| (r.name.clone(), r.capacity_gap.unwrap_or(0.0)))
        .collect();
    gaps.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.push_str(&section(
        "gap",
        "Capacity gap per sundhedsråd",
        "Doctor capacities in the area minus the capacities its need-weighted citizens call for at the national L; negative means the area lacks capacity.",
        &svg::hbars("Capacity gap (capacities)", "capacities above (+) or below (−) need", &gaps),
    ));

    out
}

/// The kommune map of norm patients per capacity.
fn map_section(areas: &[AreaRecord], names: &BTreeMap<i64, String>) -> String {
    let mut out = String::new();
    let values: BTreeMap<i64, Option<f64>> = areas
        .iter()
        .filter(|r| r.level == "kommune")
        .filter_map(|r| Some((r.code.parse::<i64>().ok()?, r.norm_patients_per_capacity)))
        .collect();
    out.push_str(&section(
        "map",
        "Norm patients per capacity by kommune",
        "How many need-weighted patients one doctor capacity would serve in each kommune at the national level of need; hover a kommune for its value. Hatched: no listed persons, or too few to show.",
        &map::choropleth(
            "Norm patients per capacity",
            "patients per capacity",
            &values,
            names,
        ),
    ));

    out
}

/// The vulnerable-area clinics whose count rises, with the uncertainty
/// interval of their raw count: the ones the region must treat with care.
fn vulnerable_section(clinics: &[ClinicRecord], names: &BTreeMap<i64, String>) -> String {
    let rows: Vec<Vec<Cell>> = clinics
        .iter()
        .filter(|r| r.flags.split(';').any(|f| f == "vulnerable_area"))
        .filter(|r| r.change.is_some_and(|c| c > 0.0))
        .map(|r| {
            vec![
                n(number(r.clinic_id), 0),
                t(kommune_name(r, names)),
                n(number(r.n_patients), 0),
                n(r.previous_min_patients, 0),
                n(number(r.min_patients), 0),
                n(r.change, 0),
                n(r.change_pct, 1),
                n(r.raw_lower, 0),
                n(r.raw_min_patients, 0),
                n(r.raw_upper, 0),
                t(if r.flags.split(';').any(|f| f == "dialogue") {
                    "yes"
                } else {
                    ""
                }),
            ]
        })
        .collect();
    let content = if rows.is_empty() {
        "<p>No clinic in or next to a vulnerable housing area gets a higher count.</p>".to_string()
    } else {
        format!(
            r#"<div class="scroll">{}</div>"#,
            table(
                "vulnerable-rising",
                &[
                    "clinic",
                    "kommune",
                    "listed",
                    "last year",
                    "proposal",
                    "change",
                    "change %",
                    "raw lower",
                    "raw",
                    "raw upper",
                    "dialogue",
                ],
                &rows,
            )
        )
    };
    section(
        "vulnerable",
        "Vulnerable-area clinics whose count rises",
        "Clinics in or next to a vulnerable housing area whose proposal is above last year's count, with the 95% interval of the raw count from the uncertainty of their patients' mean weight: the region should look at these with particular care.",
        &content,
    )
}

/// The clinics with each flag.
fn flags_section(clinics: &[ClinicRecord], names: &BTreeMap<i64, String>) -> String {
    let mut out = String::new();
    let mut flags_html = String::new();
    for (flag, meaning) in FLAGS {
        let rows: Vec<Vec<Cell>> = clinics
            .iter()
            .filter(|r| r.flags.split(';').any(|f| f == flag))
            .map(|r| {
                vec![
                    n(number(r.clinic_id), 0),
                    t(kommune_name(r, names)),
                    n(r.capacities, 2),
                    n(number(r.n_patients), 0),
                    n(r.need, 0),
                    n(r.mean_weight, 3),
                    n(r.previous_min_patients, 0),
                    n(number(r.min_patients), 0),
                    n(r.change, 0),
                    n(r.change_pct, 1),
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
    out.push_str(&section(
        "flags",
        "Flagged clinics",
        "Each flag with the clinics that carry it; click a column to sort.",
        &flags_html,
    ));
    out
}
