//! `report.html`: one self-contained page (inline CSS, inline SVG, a few
//! lines of inline script for sorting tables; no network, no fonts) for an
//! output directory of `run`, `project`, `evaluate` or `scenarios`. The
//! page is made from the files in the directory, so `fordeling report DIR`
//! and `--report` give the same bytes.

pub mod map;
pub mod svg;

use crate::error::{Error, InputError, OutputError};
use crate::output::schema::{self, ProjectManifest, ProjectYear, RunManifest};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use svg::{esc, num};

/// What kind of output directory this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Projection,
    Evaluation,
    Scenarios,
}

impl Kind {
    /// Recognises a directory by the files in it.
    pub fn detect(dir: &Path) -> Result<Kind, Error> {
        let has = |name: &str| dir.join(name).is_file();
        if has("evaluation.json") {
            Ok(Kind::Evaluation)
        } else if has("scenarios.csv") && has("summary.csv") {
            Ok(Kind::Scenarios)
        } else if has("summary.csv") && has("areas_by_year.csv") {
            Ok(Kind::Projection)
        } else if has("clinics.csv") && has("areas.csv") && has("manifest.json") {
            Ok(Kind::Run)
        } else {
            Err(InputError::Other {
                path: dir.to_path_buf(),
                detail: "not an output directory of run, project, evaluate or scenarios (expected clinics.csv and areas.csv, summary.csv and areas_by_year.csv, scenarios.csv, or evaluation.json)".into(),
            }
            .into())
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Projection => "projection",
            Kind::Evaluation => "evaluation",
            Kind::Scenarios => "scenarios",
        }
    }
}

/// Writes `report.html` into `dir` (via a temporary file and a rename) and
/// returns its path.
pub fn write(dir: &Path) -> Result<PathBuf, Error> {
    let html = render(dir)?;
    let path = dir.join("report.html");
    let temp = dir.join(".report.html.tmp");
    std::fs::write(&temp, html).map_err(|e| OutputError::write(&temp, e))?;
    std::fs::rename(&temp, &path).map_err(|e| OutputError::write(&path, e))?;
    Ok(path)
}

/// The page for the output directory `dir`.
pub fn render(dir: &Path) -> Result<String, Error> {
    let kind = Kind::detect(dir)?;
    let (title, subtitle, body) = match kind {
        Kind::Run => run_page(dir)?,
        Kind::Projection => projection_page(dir)?,
        Kind::Evaluation => evaluation_page(dir)?,
        Kind::Scenarios => scenarios_page(dir)?,
    };
    Ok(page(kind, &title, &subtitle, &body))
}

// ---------------------------------------------------------------- data

/// A CSV file read into strings, with typed access by column name.
struct Frame {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Frame {
    fn read(path: &Path) -> Result<Frame, Error> {
        let mut reader = csv::Reader::from_path(path).map_err(|e| InputError::Other {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let header = reader
            .headers()
            .map_err(|e| InputError::Other {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (k, record) in reader.records().enumerate() {
            let record = record.map_err(|e| InputError::Csv {
                path: path.to_path_buf(),
                line: k as u64 + 2,
                detail: e.to_string(),
            })?;
            rows.push(record.iter().map(str::to_string).collect());
        }
        Ok(Frame {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn col(&self, name: &str) -> Result<usize, Error> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            InputError::MissingColumn {
                path: self.path.clone(),
                column: name.into(),
                hint: String::new(),
            }
            .into()
        })
    }

    fn text<'a>(&'a self, row: &'a [String], col: usize) -> &'a str {
        row.get(col).map(String::as_str).unwrap_or("")
    }

    fn number(&self, row: &[String], col: usize) -> Option<f64> {
        row.get(col)?.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| InputError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| {
        InputError::Other {
            path: path.to_path_buf(),
            detail: format!("not valid JSON: {e}"),
        }
        .into()
    })
}

fn get_f64(v: &serde_json::Value, key: &str) -> Option<f64> {
    v.get(key).and_then(serde_json::Value::as_f64)
}

fn get_str<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(serde_json::Value::as_str).unwrap_or("")
}

/// The `p`-quantile (nearest rank) of sorted values.
fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

// ---------------------------------------------------------------- html

/// One table cell: the text shown and the value it sorts by.
struct Cell {
    text: String,
    sort: Option<f64>,
}

fn t(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        sort: None,
    }
}

fn n(value: Option<f64>, decimals: usize) -> Cell {
    Cell {
        text: value.map_or_else(|| "–".into(), |v| num(v, decimals)),
        sort: value,
    }
}

fn table(id: &str, headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut html = format!(r#"<table class="sortable" id="{}"><thead><tr>"#, esc(id));
    for h in headers {
        let _ = write!(html, "<th>{}</th>", esc(h));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            match cell.sort {
                Some(v) => {
                    let _ = write!(
                        html,
                        r#"<td class="num" data-v="{v}">{}</td>"#,
                        esc(&cell.text)
                    );
                }
                None => {
                    let _ = write!(html, "<td>{}</td>", esc(&cell.text));
                }
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn section(id: &str, heading: &str, intro: &str, content: &str) -> String {
    format!(
        r#"<section id="{}"><h2>{}</h2><p class="intro">{}</p>{}</section>"#,
        esc(id),
        esc(heading),
        esc(intro),
        content
    )
}

fn cards(items: &[(&str, String)]) -> String {
    let mut html = String::from(r#"<div class="cards">"#);
    for (label, value) in items {
        let _ = write!(
            html,
            r#"<div class="card"><div class="value">{}</div><div class="label">{}</div></div>"#,
            esc(value),
            esc(label)
        );
    }
    html.push_str("</div>");
    html
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2433;background:#f6f7f9;line-height:1.45}
header{background:#12304f;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header .meta{margin:0;opacity:.85;font-size:14px}
main{max-width:1100px;margin:0 auto;padding:12px 24px 40px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:18px 0;padding:16px 20px}
h2{font-size:19px;margin:0 0 6px;color:#12304f}
.intro{margin:0 0 12px;color:#4a5568;font-size:14px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 150px;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;background:#fbfcfd}
.card .value{font-size:22px;font-weight:600;color:#12304f}
.card .label{font-size:13px;color:#4a5568}
svg.chart{width:100%;max-width:820px;height:auto;display:block;margin:6px 0 14px}
svg.map{max-width:820px}
svg.map .title{font-size:28px}
svg.map .legend{font-size:22px}
svg.map .legend-title{font-size:24px}
svg.map .source{font-size:18px}
svg .title{font-size:14px;font-weight:600;fill:#1d2433}
svg .tick{font-size:11px;fill:#4a5568}
svg .small{font-size:10px}
svg .axis-label,svg .legend,svg .legend-title{font-size:12px;fill:#1d2433}
svg .legend-title{font-weight:600}
svg .source{font-size:11px;fill:#6b7280}
svg .grid{stroke:#e5e8ed;stroke-width:1}
svg .axis,svg .tickline{stroke:#9aa3af;stroke-width:1}
svg .bar{fill:#3b82c4}
svg .bar.negative{fill:#d9822b}
svg .bar.alt{fill:#9cc3e6}
svg .dot{fill:#3b82c4;fill-opacity:.75}
svg .dot.flagged{fill:#d9482b;fill-opacity:.9}
svg .dot-swatch{fill:#3b82c4}
svg .flagged-swatch{fill:#d9482b}
svg path.line{fill:none !important;stroke-width:2}
svg .s1{stroke:#12304f;fill:#12304f}
svg .s2{stroke:#3b82c4;fill:#3b82c4}
svg .s3{stroke:#9cc3e6;fill:#9cc3e6}
svg .s4{stroke:#d9822b;fill:#d9822b}
svg .s5{stroke:#7a4cc0;fill:#7a4cc0}
svg rect.s1,svg rect.s2,svg rect.s3,svg rect.s4,svg rect.s5{stroke:none}
svg .reference{stroke:#d9482b;stroke-width:1.5;stroke-dasharray:5 4}
svg .reference-label{font-size:11px;fill:#d9482b}
svg .stem{stroke:#c3cad4;stroke-width:1}
svg .kommune{stroke:#55606e;stroke-width:.6}
svg .kommune:hover{stroke:#000;stroke-width:1.5}
svg .inset{fill:none;stroke:#9aa3af;stroke-width:1}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 14px}
th,td{border-bottom:1px solid #e5e8ed;padding:4px 8px;text-align:left}
th{background:#f0f3f7;cursor:pointer;user-select:none;position:sticky;top:0}
th:after{content:" \2195";color:#9aa3af}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{max-height:420px;overflow:auto;border:1px solid #e5e8ed}
h3{font-size:15px;margin:14px 0 4px}
footer{text-align:center;color:#6b7280;font-size:12px;padding:0 0 24px}
"#;

const SCRIPT: &str = r#"
(function(){
  var errors=0;
  window.addEventListener('error',function(){errors++;document.body.setAttribute('data-js-errors',String(errors));});
  function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent:parseFloat(v);}
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th').forEach(function(th,i){
      th.addEventListener('click',function(){
        var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        var dir=th.getAttribute('data-dir')==='asc'?-1:1;
        table.querySelectorAll('th').forEach(function(o){o.removeAttribute('data-dir');});
        th.setAttribute('data-dir',dir===1?'asc':'desc');
        rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
          if(typeof x==='number'&&typeof y==='number'){return dir*((isNaN(x)?-Infinity:x)-(isNaN(y)?-Infinity:y));}
          return dir*String(x).localeCompare(String(y));});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  var charts=document.querySelectorAll('svg.chart'),empty=0;
  charts.forEach(function(s){if(s.querySelectorAll('rect,circle,path').length===0){empty++;}});
  document.body.setAttribute('data-charts',String(charts.length));
  document.body.setAttribute('data-empty-charts',String(empty));
  document.body.setAttribute('data-map-kommuner',String(document.querySelectorAll('svg.map path.kommune').length));
  document.body.setAttribute('data-tables',String(document.querySelectorAll('table.sortable').length));
  document.body.setAttribute('data-js-errors',String(errors));
  document.body.setAttribute('data-ready','yes');
})();
"#;

fn page(kind: Kind, title: &str, subtitle: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{}</style></head>
<body data-report="{}"><header><h1>{}</h1><p class="meta">{}</p></header><main>{}</main>
<footer>Made by fordeling {} · one self-contained file: no network, scripts or fonts are fetched.</footer>
<script>{}</script></body></html>
"#,
        esc(title),
        STYLE,
        kind.name(),
        esc(title),
        esc(subtitle),
        body,
        env!("CARGO_PKG_VERSION"),
        SCRIPT
    )
}

// ---------------------------------------------------------------- run

const FLAGS: [(&str, &str); 5] = [
    ("capped", "The transition cap changed the proposal (it moved more than the cap allows from last year's count)."),
    ("uncertain", "The statistical interval of the proposal is wide relative to the proposal, or the clinic has a single patient."),
    ("dialogue", "The proposal is well above both last year's count and the current list: the region should talk with the clinic first."),
    ("vulnerable_area", "In or next to a vulnerable housing area (from the clinic file)."),
    ("empty", "No listed persons, so no proposal."),
];

fn kommune_names(areas: &Frame) -> Result<BTreeMap<i64, String>, Error> {
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
fn kommune_name(
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
fn year_rows(frame: &Frame, col: usize, year: i64) -> Vec<&Vec<String>> {
    frame
        .rows
        .iter()
        .filter(|r| frame.text(r, col).parse::<i64>().ok() == Some(year))
        .collect()
}

fn run_page(dir: &Path) -> Result<(String, String, String), Error> {
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

// ---------------------------------------------------------------- projection

fn projection_page(dir: &Path) -> Result<(String, String, String), Error> {
    let manifest: ProjectManifest = schema::read_json(&dir.join("manifest.json"))?;
    let summary = Frame::read(&dir.join("summary.csv"))?;
    let (s_year, s_id, s_cap, s_min, s_l, s_need) = (
        summary.col("year")?,
        summary.col("clinic_id")?,
        summary.col("capacities")?,
        summary.col("min_patients")?,
        summary.col("L")?,
        summary.col("need")?,
    );
    let mut years: Vec<i64> = summary
        .rows
        .iter()
        .filter_map(|r| summary.text(r, s_year).parse().ok())
        .collect();
    years.sort_unstable();
    years.dedup();
    let xs: Vec<f64> = years.iter().map(|y| *y as f64).collect();
    let first = years.first().copied().unwrap_or(0);
    let last = years.last().copied().unwrap_or(0);
    let title = format!("Projection {first}–{last}");
    let subtitle = format!(
        "Capacity path {} · {} clinics",
        manifest.capacity_path,
        summary.rows.len() / years.len().max(1)
    );
    let mut body = String::new();

    // National L per year, and the quantiles of proposals per capacity.
    let mut l_by_year = Vec::new();
    let mut bands: [Vec<Option<f64>>; 5] = Default::default();
    for y in &years {
        let rows = year_rows(&summary, s_year, *y);
        l_by_year.push(rows.first().and_then(|r| summary.number(r, s_l)));
        let mut per: Vec<f64> = rows
            .iter()
            .filter_map(|r| {
                let cap = summary.number(r, s_cap).filter(|c| *c > 0.0)?;
                Some(summary.number(r, s_min)? / cap)
            })
            .collect();
        per.sort_by(f64::total_cmp);
        for (band, p) in bands.iter_mut().zip([0.05, 0.25, 0.5, 0.75, 0.95]) {
            band.push(quantile(&per, p));
        }
    }
    let mut charts = svg::lines(
        "National L by year",
        "year",
        "patients per capacity",
        &xs,
        &[("s1", "L", l_by_year.clone())],
    );
    let [p5, p25, p50, p75, p95] = bands;
    charts.push_str(&svg::lines(
        "Proposals per capacity by year",
        "year",
        "minimum patients per capacity",
        &xs,
        &[
            ("s3", "5th percentile", p5),
            ("s2", "25th", p25),
            ("s1", "median", p50),
            ("s2", "75th", p75),
            ("s3", "95th", p95),
        ],
    ));
    body.push_str(&section(
        "national",
        "National L and the distribution of proposals",
        "L falls as capacity grows; the lines show how the spread of proposals per capacity moves year by year.",
        &charts,
    ));

    // Clinics that move most from the first to the last year.
    let mut by_clinic: BTreeMap<String, BTreeMap<i64, Option<f64>>> = BTreeMap::new();
    for r in &summary.rows {
        if let Ok(y) = summary.text(r, s_year).parse::<i64>() {
            by_clinic
                .entry(summary.text(r, s_id).to_string())
                .or_default()
                .insert(y, summary.number(r, s_min));
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
    body.push_str(&section(
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
    for y in &years {
        let shares: BTreeMap<String, f64> = {
            let rows = year_rows(&summary, s_year, *y);
            let total: f64 = rows.iter().filter_map(|r| summary.number(r, s_need)).sum();
            rows.iter()
                .map(|r| {
                    (
                        summary.text(r, s_id).to_string(),
                        summary.number(r, s_need).unwrap_or(0.0) / total.max(f64::MIN_POSITIVE),
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
            let f = Frame::read(&clinics_path)?;
            let (need, pk) = (f.col("need")?, f.col("need_packages")?);
            let total: f64 = f.rows.iter().filter_map(|r| f.number(r, need)).sum();
            let part: f64 = f.rows.iter().filter_map(|r| f.number(r, pk)).sum();
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
        &xs,
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
    body.push_str(&section(
        "packages",
        "The effect of each care package as it starts",
        "A package reweights the patients it covers; the share of national need that moves between clinics in the year a package starts measures its effect on the distribution (with the same population every year, nothing else moves need between clinics).",
        &packages_html,
    ));
    Ok((title, subtitle, body))
}

// ---------------------------------------------------------------- evaluation

fn evaluation_page(dir: &Path) -> Result<(String, String, String), Error> {
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

// ---------------------------------------------------------------- scenarios

fn scenarios_page(dir: &Path) -> Result<(String, String, String), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.0));
        assert_eq!(quantile(&v, 0.95), Some(4.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn an_unknown_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = render(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not an output directory"), "{err}");
    }
}
