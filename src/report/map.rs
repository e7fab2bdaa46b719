//! The choropleth of the 98 kommuner, drawn from the simplified DAGI map
//! compiled into the binary (`data/kommuner-map.txt`, made by
//! `data/make_kommune_map.py`; source and licence in `data/README.md`).

use super::svg::{esc, num};
use std::collections::BTreeMap;
use std::fmt::Write;

const MAP: &str = include_str!("../../data/kommuner-map.txt");

/// Seven sequential colours, light to dark (ColorBrewer YlGnBu).
const COLOURS: [&str; 7] = [
    "#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84",
];

/// The parsed map: size, Bornholm's inset box and each kommune's rings.
pub struct KommuneMap {
    pub width: u32,
    pub height: u32,
    pub inset: [u32; 4],
    pub kommuner: Vec<(i64, String)>,
}

impl KommuneMap {
    /// The built-in map. The file is part of the source tree, so a parse
    /// failure is a build defect; it yields an empty map rather than a panic.
    pub fn built_in() -> KommuneMap {
        let mut map = KommuneMap {
            width: 1000,
            height: 1200,
            inset: [0; 4],
            kommuner: Vec::new(),
        };
        for line in MAP.lines().filter(|l| !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("size") => {
                    let v: Vec<u32> = words.filter_map(|w| w.parse().ok()).collect();
                    if let [w, h] = v[..] {
                        map.width = w;
                        map.height = h;
                    }
                }
                Some("inset") => {
                    let v: Vec<u32> = words.filter_map(|w| w.parse().ok()).collect();
                    if let [a, b, c, d] = v[..] {
                        map.inset = [a, b, c, d];
                    }
                }
                _ => {
                    if let Some((code, body)) = line.split_once('\t') {
                        if let Ok(code) = code.parse::<i64>() {
                            map.kommuner.push((code, path_data(body)));
                        }
                    }
                }
            }
        }
        map
    }
}

/// `x,y x,y;x,y ...` rings as SVG path data.
fn path_data(body: &str) -> String {
    let mut d = String::with_capacity(body.len() + body.len() / 6);
    for ring in body.split(';') {
        for (k, point) in ring.split(' ').enumerate() {
            d.push(if k == 0 { 'M' } else { 'L' });
            d.push_str(point);
        }
        d.push('Z');
    }
    d
}

/// Class boundaries: seven equal-count classes over the values.
fn breaks(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<f64> = (1..COLOURS.len())
        .map(|k| sorted[(k * sorted.len() / COLOURS.len()).min(sorted.len() - 1)])
        .collect();
    out.dedup();
    out
}

/// The choropleth: each kommune coloured by its value (none: hatched grey),
/// with its name and value in a tooltip and a legend of the classes.
pub fn choropleth(
    title: &str,
    value_label: &str,
    values: &BTreeMap<i64, Option<f64>>,
    names: &BTreeMap<i64, String>,
) -> String {
    let map = KommuneMap::built_in();
    let known: Vec<f64> = values.values().flatten().copied().collect();
    let cuts = breaks(&known);
    let class_of = |v: f64| cuts.iter().filter(|b| v >= **b).count();
    let legend_width = 360.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart map" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><text class="title" x="8" y="22">{}</text><g class="kommuner">"#,
        map.width + legend_width as u32,
        map.height,
        esc(title),
        esc(title)
    );
    for (code, d) in &map.kommuner {
        let name = names.get(code).map(String::as_str).unwrap_or("");
        let value = values.get(code).copied().flatten();
        let (fill, text) = match value {
            Some(v) => (COLOURS[class_of(v)].to_string(), num(v, 0)),
            None => ("url(#nodata)".to_string(), "no data".to_string()),
        };
        let _ = write!(
            svg,
            r#"<path class="kommune" data-code="{code}" fill="{fill}" d="{d}"><title>{} ({code}): {}</title></path>"#,
            esc(name),
            esc(&text)
        );
    }
    let [x0, y0, x1, y1] = map.inset;
    let _ = write!(
        svg,
        r##"</g><rect class="inset" x="{x0}" y="{y0}" width="{}" height="{}"/><defs><pattern id="nodata" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="8" stroke="#cccccc" stroke-width="3"/></pattern></defs>"##,
        x1.saturating_sub(x0),
        y1.saturating_sub(y0)
    );
    // Legend.
    let lx = map.width as f64 + 20.0;
    let _ = write!(
        svg,
        r#"<text class="legend-title" x="{lx}" y="60">{}</text>"#,
        esc(value_label)
    );
    let mut lower = known.iter().copied().fold(f64::INFINITY, f64::min);
    let upper = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (k, colour) in COLOURS.iter().enumerate().take(cuts.len() + 1) {
        let top = cuts.get(k).copied().unwrap_or(upper);
        let y = 80.0 + 40.0 * k as f64;
        let label = if known.is_empty() {
            String::new()
        } else {
            format!("{} – {}", num(lower, 0), num(top, 0))
        };
        let _ = write!(
            svg,
            r##"<rect x="{lx}" y="{y}" width="36" height="30" fill="{colour}" stroke="#666"/><text class="legend" x="{}" y="{}">{}</text>"##,
            lx + 46.0,
            y + 22.0,
            label
        );
        lower = top;
    }
    let y = 80.0 + 40.0 * (cuts.len() + 1) as f64;
    let _ = write!(
        svg,
        r##"<rect x="{lx}" y="{y}" width="36" height="30" fill="url(#nodata)" stroke="#666"/><text class="legend" x="{}" y="{}">no data</text><text class="source" x="8" y="{}">Kommune boundaries: DAGI (Geodatastyrelsen, 2014), simplified.</text></svg>"##,
        lx + 46.0,
        y + 22.0,
        map.height - 8
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_map_has_the_98_kommuner() {
        let map = KommuneMap::built_in();
        assert_eq!(map.kommuner.len(), 98);
        assert!(map.width > 0 && map.height > 0);
        assert!(map.inset[2] > map.inset[0] && map.inset[3] > map.inset[1]);
        let codes: std::collections::BTreeSet<i64> = map.kommuner.iter().map(|k| k.0).collect();
        let geography = crate::ingest::geography::built_in().unwrap();
        let expected: std::collections::BTreeSet<i64> = geography
            .kommuner
            .iter()
            .map(|k| i64::from(k.code))
            .collect();
        assert_eq!(codes, expected, "map and geography name the same kommuner");
    }

    #[test]
    fn classes_split_values_evenly() {
        let values: Vec<f64> = (0..70).map(f64::from).collect();
        let b = breaks(&values);
        assert_eq!(b.len(), 6);
        assert_eq!(b[0], 10.0);
        assert_eq!(b[5], 60.0);
    }

    #[test]
    fn missing_values_are_hatched_not_coloured() {
        let mut values = BTreeMap::new();
        values.insert(101i64, Some(1700.0));
        values.insert(147i64, None);
        let svg = choropleth("t", "v", &values, &BTreeMap::new());
        assert!(svg.contains(r#"data-code="147" fill="url(#nodata)""#));
        assert!(svg.contains(r##"data-code="101" fill="#"##));
        assert_eq!(svg.matches("class=\"kommune\"").count(), 98);
    }
}
