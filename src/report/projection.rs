//! The projection page.

use super::*;
use crate::stats::{self, Rule};

pub(super) fn projection_page(dir: &Path) -> Result<(String, String, String), Error> {
    let manifest: ProjectManifest = schema::read_json(&dir.join("manifest.json"))?;
    let summary: Vec<ProjectClinicRecord> = rows(&dir.join("summary.csv"))?;
    let mut years: Vec<i64> = summary.iter().filter_map(|r| r.year).collect();
    years.sort_unstable();
    years.dedup();
    let xs: Vec<f64> = years.iter().map(|y| *y as f64).collect();
    let first = years.first().copied().unwrap_or(0);
    let last = years.last().copied().unwrap_or(0);
    let title = format!("Projection {first}–{last}");
    let subtitle = format!(
        "Capacity path {} · {} clinics",
        manifest.capacity_path,
        summary.len() / years.len().max(1)
    );
    let mut body = String::new();

    body.push_str(&national_section(&summary, &years, &xs));
    body.push_str(&movers_section(&summary, &years, first, last));
    body.push_str(&packages_section(dir, &manifest, &summary, &years, &xs)?);
    Ok((title, subtitle, body))
}

/// National L per year, and the quantiles of proposals per capacity.
fn national_section(summary: &[ProjectClinicRecord], years: &[i64], xs: &[f64]) -> String {
    let mut out = String::new();
    // National L per year, and the quantiles of proposals per capacity.
    let mut l_by_year = Vec::new();
    let mut bands: [Vec<Option<f64>>; 5] = Default::default();
    for y in years {
        let rows = year_rows(summary, *y);
        l_by_year.push(rows.first().and_then(|r| r.L));
        let mut per: Vec<f64> = rows
            .iter()
            .filter_map(|r| {
                let cap = r.capacities.filter(|c| *c > 0.0)?;
                Some(number(r.min_patients)? / cap)
            })
            .collect();
        per.sort_by(f64::total_cmp);
        for (band, p) in bands.iter_mut().zip([0.05, 0.25, 0.5, 0.75, 0.95]) {
            band.push(stats::quantile(&per, p, Rule::NearestRank));
        }
    }
    let mut charts = svg::lines(
        "National L by year",
        "year",
        "patients per capacity",
        xs,
        &[("s1", "L", l_by_year.clone())],
    );
    let [p5, p25, p50, p75, p95] = bands;
    charts.push_str(&svg::lines(
        "Proposals per capacity by year",
        "year",
        "minimum patients per capacity",
        xs,
        &[
            ("s3", "5th percentile", p5),
            ("s2", "25th", p25),
            ("s1", "median", p50),
            ("s2", "75th", p75),
            ("s3", "95th", p95),
        ],
    ));
    out.push_str(&section(
        "national",
        "National L and the distribution of proposals",
        "L falls as capacity grows; the lines show how the spread of proposals per capacity moves year by year.",
        &charts,
    ));

    out
}

/// The clinics that move most from the first to the last year.
fn movers_section(summary: &[ProjectClinicRecord], years: &[i64], first: i64, last: i64) -> String {
    let mut out = String::new();
    // Clinics that move most from the first to the last year.
    let mut by_clinic: BTreeMap<String, BTreeMap<i64, Option<f64>>> = BTreeMap::new();
    for r in summary {
        if let Some(y) = r.year {
            by_clinic
                .entry(shown(r.clinic_id))
                .or_default()
                .insert(y, number(r.min_patients));
        }
    }
    type Mover<'a> = (f64, &'a String, &'a BTreeMap<i64, Option<f64>>);
    let mut movers: Vec<Mover> = by_clinic
        .iter()
        .filter_map(|(id, ys)| {
            let a = ys.get(&first).copied().flatten()?;
            let b = ys.get(&last).copied().flatten()?;
            Some(((b - a).abs(), id, ys))
        })
        .collect();
    movers.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut headers: Vec<String> = vec!["clinic".into()];
    headers.extend(years.iter().map(|y| y.to_string()));
    headers.push(format!("change {first}–{last}"));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = movers
        .iter()
        .take(25)
        .map(|(_, id, ys)| {
            let mut row = vec![t(id.to_string())];
            row.extend(years.iter().map(|y| n(ys.get(y).copied().flatten(), 0)));
            let a = ys.get(&first).copied().flatten();
            let b = ys.get(&last).copied().flatten();
            row.push(n(a.zip(b).map(|(a, b)| b - a), 0));
            row
        })
        .collect();
    out.push_str(&section(
        "movers",
        "Clinics that move most",
        &format!(
            "The 25 clinics whose minimum patient count changes most between {first} and {last}."
        ),
        &format!(
            r#"<div class="scroll">{}</div>"#,
            table("movers", &header_refs, &rows)
        ),
    ));

    out
}

/// The effect of each care package as it starts.
fn packages_section(
    dir: &Path,
    manifest: &ProjectManifest,
    summary: &[ProjectClinicRecord],
    years: &[i64],
    xs: &[f64],
) -> Result<String, Error> {
    let mut out = String::new();
    // The effect of each care package as it starts.
    let mut share_moved = Vec::new();
    let mut package_share = Vec::new();
    let mut package_rows = Vec::new();
    let mut previous_shares: Option<BTreeMap<String, f64>> = None;
    let year_info: BTreeMap<i64, &ProjectYear> = manifest
        .years
        .iter()
        .map(|y| (i64::from(y.year), y))
        .collect();
    for y in years {
        let shares: BTreeMap<String, f64> = {
            let rows = year_rows(summary, *y);
            let total: f64 = rows.iter().filter_map(|r| r.need).sum();
            rows.iter()
                .map(|r| {
                    (
                        shown(r.clinic_id),
                        r.need.unwrap_or(0.0) / total.max(f64::MIN_POSITIVE),
                    )
                })
                .collect()
        };
        let moved = previous_shares.as_ref().map(|prev| {
            50.0 * shares
                .iter()
                .map(|(id, s)| (s - prev.get(id).copied().unwrap_or(0.0)).abs())
                .sum::<f64>()
        });
        previous_shares = Some(shares);
        // The packages' share of national need, from the year's clinic file.
        let clinics_path = dir.join(y.to_string()).join("clinics.csv");
        let packages = if clinics_path.is_file() {
            let clinics: Vec<ClinicRecord> = frame::rows(&clinics_path)?;
            let total: f64 = clinics.iter().filter_map(|r| r.need).sum();
            let part: f64 = clinics.iter().filter_map(|r| r.need_packages).sum();
            (total > 0.0).then(|| 100.0 * part / total)
        } else {
            None
        };
        share_moved.push(moved);
        package_share.push(packages);
        let info = year_info.get(y);
        let list = |ids: fn(&ProjectYear) -> &Vec<String>| -> String {
            info.map(|y| ids(y).join(", ")).unwrap_or_default()
        };
        package_rows.push(vec![
            t(y.to_string()),
            t(list(|y| &y.packages_starting)),
            t(list(|y| &y.packages_in_force)),
            n(packages, 2),
            n(moved, 3),
        ]);
    }
    let mut packages_html = svg::lines(
        "Care packages: share of national need and need moved between clinics",
        "year",
        "% of national need",
        xs,
        &[
            ("s1", "packages' share of need", package_share),
            ("s4", "need share moved since last year", share_moved),
        ],
    );
    packages_html.push_str(&table(
        "packages",
        &[
            "year",
            "packages starting",
            "packages in force",
            "packages' share of need %",
            "need share moved %",
        ],
        &package_rows,
    ));
    out.push_str(&section(
        "packages",
        "The effect of each care package as it starts",
        "A package reweights the patients it covers; the share of national need that moves between clinics in the year a package starts measures its effect on the distribution (with the same population every year, nothing else moves need between clinics).",
        &packages_html,
    ));
    Ok(out)
}

/// The rows of one year.
fn year_rows(summary: &[ProjectClinicRecord], year: i64) -> Vec<&ProjectClinicRecord> {
    summary.iter().filter(|r| r.year == Some(year)).collect()
}
