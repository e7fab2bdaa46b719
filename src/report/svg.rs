//! Small, dependency-free SVG charts for the HTML report: histogram,
//! scatter, horizontal bars, lines, dot plots and grouped bars. Every chart
//! is a self-contained `<svg class="chart">` styled by the page's CSS;
//! numbers are written with fixed precision so the same data give the same
//! bytes.

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A number for people: thousands separated by a thin space, at most
/// `decimals` decimals, no trailing zeros.
pub fn num(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (text.as_str(), ""),
    };
    let mut grouped = String::new();
    for (k, c) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    let sign = if value < 0.0 && (int != "0" || !frac.is_empty()) {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// Coordinates in the SVG, one decimal.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// A linear map from data to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        let (mut d0, mut d1) = domain;
        if !(d1 - d0).is_normal() {
            d0 -= 0.5;
            d1 += 0.5;
        }
        Scale {
            d0,
            d1,
            r0: range.0,
            r1: range.1,
        }
    }
    pub fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// About `count` round tick values covering `lo..=hi`.
pub fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// The extent of finite values, padded a little; `(0, 1)` when empty.
pub fn extent(values: impl IntoIterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = ((hi - lo) * 0.05).max(if hi == lo { 1.0 } else { 0.0 });
    (
        if include_zero && lo >= 0.0 {
            lo
        } else {
            lo - pad
        },
        hi + pad,
    )
}

/// Tick labels with just enough decimals for the tick spacing; `plain`
/// writes whole numbers without grouping (years).
fn tick_label(v: f64, ticks: &[f64], plain: bool) -> String {
    if plain {
        return format!("{v:.0}");
    }
    let step = ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    // The fewest decimals that show the step exactly (2.5 needs one).
    let decimals = if step.is_finite() {
        (0..=4)
            .find(|d| {
                let scaled = step * 10f64.powi(*d);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
            })
            .unwrap_or(4) as usize
    } else {
        0
    };
    num(v, decimals.min(4))
}

/// One chart's canvas: title, plot area and axes.
pub struct Canvas {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    body: String,
    kind: &'static str,
    /// x tick labels as plain whole numbers (years).
    pub plain_x: bool,
}

impl Canvas {
    pub fn new(kind: &'static str, width: f64, height: f64, left: f64, title: &str) -> Self {
        let mut body = String::new();
        let _ = write!(
            body,
            r#"<text class="title" x="{}" y="18">{}</text>"#,
            c(left),
            esc(title)
        );
        Canvas {
            width,
            height,
            left,
            right: width - 16.0,
            top: 34.0,
            bottom: height - 42.0,
            body,
            kind,
            plain_x: false,
        }
    }

    pub fn push(&mut self, element: &str) {
        self.body.push_str(element);
    }

    /// A y axis with grid lines and tick labels.
    pub fn y_axis(&mut self, y: &Scale, domain: (f64, f64), label: &str) {
        let t = ticks(domain.0, domain.1, 5);
        for v in &t {
            let py = y.map(*v);
            let _ = write!(
                self.body,
                r#"<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
                c(self.left),
                c(self.right),
                c(py),
                c(py),
                c(self.left - 6.0),
                c(py + 4.0),
                tick_label(*v, &t, false)
            );
        }
        let _ = write!(
            self.body,
            r#"<text class="axis-label" transform="translate(14,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
            c((self.top + self.bottom) / 2.0),
            esc(label)
        );
    }

    /// An x axis with tick labels.
    pub fn x_axis(&mut self, x: &Scale, domain: (f64, f64), label: &str) {
        let t = ticks(domain.0, domain.1, 6);
        for v in &t {
            let px = x.map(*v);
            let _ = write!(
                self.body,
                r#"<line class="tickline" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                c(px),
                c(px),
                c(self.bottom),
                c(self.bottom + 4.0),
                c(px),
                c(self.bottom + 16.0),
                tick_label(*v, &t, self.plain_x)
            );
        }
        self.x_label(label);
    }

    pub fn x_label(&mut self, label: &str) {
        let _ = write!(
            self.body,
            r#"<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            c(self.left),
            c(self.right),
            c(self.bottom),
            c(self.bottom),
            c((self.left + self.right) / 2.0),
            c(self.height - 6.0),
            esc(label)
        );
    }

    /// A labelled horizontal reference line at data value `v`.
    pub fn reference(&mut self, y: &Scale, v: f64, label: &str) {
        let py = y.map(v);
        let _ = write!(
            self.body,
            r#"<line class="reference" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="reference-label" x="{}" y="{}" text-anchor="end">{}</text>"#,
            c(self.left),
            c(self.right),
            c(py),
            c(py),
            c(self.right),
            c(py - 4.0),
            esc(label)
        );
    }

    /// Makes room for a legend row under the title.
    pub fn with_legend(mut self) -> Self {
        self.top += 20.0;
        self
    }

    /// A legend of `(class, label)` swatches in a row under the title.
    pub fn legend(&mut self, items: &[(&str, &str)]) {
        let mut x = self.left;
        for (class, label) in items.iter().filter(|(_, label)| !label.is_empty()) {
            let _ = write!(
                self.body,
                r#"<rect class="{}" x="{}" y="30" width="10" height="10"/><text class="legend" x="{}" y="39">{}</text>"#,
                esc(class),
                c(x),
                c(x + 14.0),
                esc(label)
            );
            x += 24.0 + 6.6 * label.chars().count() as f64;
        }
    }

    pub fn finish(self, aria: &str) -> String {
        format!(
            r#"<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>"#,
            self.kind,
            self.width,
            self.height,
            esc(aria),
            self.body
        )
    }
}

/// A histogram of `values` in about `bins` equal bins.
pub fn histogram(title: &str, x_label: &str, values: &[f64], bins: usize) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let mut canvas = Canvas::new("histogram", 640.0, 300.0, 56.0, title);
    let (lo, hi) = extent(finite.iter().copied(), false);
    let t = ticks(lo, hi, bins.max(1));
    let step = if t.len() >= 2 { t[1] - t[0] } else { 1.0 };
    let start = (lo / step).floor() * step;
    let n_bins = (((hi - start) / step).ceil() as usize).max(1);
    let mut counts = vec![0usize; n_bins];
    for v in &finite {
        let k = (((v - start) / step).floor() as usize).min(n_bins - 1);
        counts[k] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    let domain_x = (start, start + step * n_bins as f64);
    let x = Scale::new(domain_x, (canvas.left, canvas.right));
    let y = Scale::new((0.0, max.max(1.0)), (canvas.bottom, canvas.top));
    canvas.y_axis(&y, (0.0, max.max(1.0)), "clinics");
    for (k, count) in counts.iter().enumerate() {
        let x0 = x.map(start + step * k as f64);
        let x1 = x.map(start + step * (k + 1) as f64);
        let y0 = y.map(*count as f64);
        canvas.push(&format!(
            r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}–{}: {} clinics</title></rect>"#,
            c(x0 + 0.5),
            c(y0),
            c((x1 - x0 - 1.0).max(0.5)),
            c(canvas.bottom - y0),
            num(start + step * k as f64, 2),
            num(start + step * (k + 1) as f64, 2),
            count
        ));
    }
    canvas.x_axis(&x, domain_x, x_label);
    canvas.finish(title)
}

/// One point of a scatter plot.
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub highlight: bool,
    pub label: String,
}

/// A scatter plot; highlighted points are drawn on top in another class.
pub fn scatter(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[Point],
    legend: (&str, &str),
    diagonal: bool,
) -> String {
    let mut canvas = Canvas::new("scatter", 640.0, 400.0, 64.0, title).with_legend();
    let xs = extent(points.iter().map(|p| p.x), false);
    let ys = extent(points.iter().map(|p| p.y), false);
    let (xs, ys) = if diagonal {
        let both = (xs.0.min(ys.0), xs.1.max(ys.1));
        (both, both)
    } else {
        (xs, ys)
    };
    let x = Scale::new(xs, (canvas.left, canvas.right));
    let y = Scale::new(ys, (canvas.bottom, canvas.top));
    canvas.y_axis(&y, ys, y_label);
    if diagonal {
        canvas.push(&format!(
            r#"<line class="reference" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
            c(x.map(xs.0)),
            c(y.map(xs.0)),
            c(x.map(xs.1)),
            c(y.map(xs.1))
        ));
    }
    for pass in [false, true] {
        for p in points
            .iter()
            .filter(|p| p.highlight == pass && p.x.is_finite() && p.y.is_finite())
        {
            canvas.push(&format!(
                r#"<circle class="{}" cx="{}" cy="{}" r="{}"><title>{}</title></circle>"#,
                if pass { "dot flagged" } else { "dot" },
                c(x.map(p.x)),
                c(y.map(p.y)),
                if pass { 3.5 } else { 2.5 },
                esc(&p.label)
            ));
        }
    }
    canvas.legend(&[("dot-swatch", legend.0), ("flagged-swatch", legend.1)]);
    canvas.x_axis(&x, xs, x_label);
    canvas.finish(title)
}

/// Horizontal bars, one per label, around zero.
pub fn hbars(title: &str, x_label: &str, rows: &[(String, f64)]) -> String {
    let height = 34.0 + 22.0 * rows.len().max(1) as f64 + 50.0;
    let mut canvas = Canvas::new("hbars", 640.0, height, 190.0, title);
    let xs = extent(rows.iter().map(|r| r.1), true);
    let x = Scale::new(xs, (canvas.left, canvas.right));
    let zero = x.map(0.0);
    for (k, (label, value)) in rows.iter().enumerate() {
        let top = canvas.top + 22.0 * k as f64;
        let end = x.map(*value);
        let (x0, x1) = if end < zero { (end, zero) } else { (zero, end) };
        canvas.push(&format!(
            r#"<text class="tick" x="{}" y="{}" text-anchor="end">{}</text><rect class="{}" x="{}" y="{}" width="{}" height="16"><title>{}: {}</title></rect>"#,
            c(canvas.left - 6.0),
            c(top + 12.0),
            esc(label),
            if *value < 0.0 { "bar negative" } else { "bar" },
            c(x0),
            c(top),
            c((x1 - x0).max(0.5)),
            esc(label),
            num(*value, 2)
        ));
    }
    canvas.push(&format!(
        r#"<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>"#,
        c(zero),
        c(zero),
        c(canvas.top - 4.0),
        c(canvas.bottom)
    ));
    canvas.x_axis(&x, xs, x_label);
    canvas.finish(title)
}

/// Lines over a shared x (years); `None` leaves a gap.
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[f64],
    series: &[(&str, &str, Vec<Option<f64>>)],
) -> String {
    let mut canvas = Canvas::new("lines", 640.0, 320.0, 64.0, title).with_legend();
    canvas.plain_x = true;
    let xd = extent(xs.iter().copied(), false);
    let yd = extent(
        series
            .iter()
            .flat_map(|s| s.2.iter().flatten().copied())
            .collect::<Vec<_>>(),
        false,
    );
    let x = Scale::new(xd, (canvas.left, canvas.right));
    let y = Scale::new(yd, (canvas.bottom, canvas.top));
    canvas.y_axis(&y, yd, y_label);
    for (class, name, values) in series {
        let mut path = String::new();
        let mut pen_down = false;
        for (xv, yv) in xs.iter().zip(values) {
            match yv {
                Some(v) if v.is_finite() => {
                    let _ = write!(
                        path,
                        "{}{},{} ",
                        if pen_down { "L" } else { "M" },
                        c(x.map(*xv)),
                        c(y.map(*v))
                    );
                    pen_down = true;
                }
                _ => pen_down = false,
            }
        }
        canvas.push(&format!(
            r#"<path class="line {}" d="{}"><title>{}</title></path>"#,
            esc(class),
            path.trim_end(),
            esc(name)
        ));
        for (xv, yv) in xs.iter().zip(values) {
            if let Some(v) = yv.filter(|v| v.is_finite()) {
                canvas.push(&format!(
                    r#"<circle class="marker {}" cx="{}" cy="{}" r="2.5"><title>{} {}: {}</title></circle>"#,
                    esc(class),
                    c(x.map(*xv)),
                    c(y.map(v)),
                    esc(name),
                    num(*xv, 0),
                    num(v, 2)
                ));
            }
        }
    }
    let legend: Vec<(&str, &str)> = series.iter().map(|s| (s.0, s.1)).collect();
    canvas.legend(&legend);
    canvas.x_axis(&x, xd, x_label);
    canvas.finish(title)
}

/// A dot per labelled row with a vertical reference line (e.g. ratio 1.0).
pub fn dots(title: &str, x_label: &str, rows: &[(String, Option<f64>)], reference: f64) -> String {
    let height = 34.0 + 14.0 * rows.len().max(1) as f64 + 50.0;
    let mut canvas = Canvas::new("dots", 640.0, height, 230.0, title);
    let xs = extent(
        rows.iter()
            .filter_map(|r| r.1)
            .chain(std::iter::once(reference)),
        false,
    );
    let x = Scale::new(xs, (canvas.left, canvas.right));
    let rx = x.map(reference);
    canvas.push(&format!(
        r#"<line class="reference" x1="{}" x2="{}" y1="{}" y2="{}"/>"#,
        c(rx),
        c(rx),
        c(canvas.top - 4.0),
        c(canvas.bottom)
    ));
    for (k, (label, value)) in rows.iter().enumerate() {
        let cy = canvas.top + 14.0 * k as f64 + 6.0;
        canvas.push(&format!(
            r#"<text class="tick small" x="{}" y="{}" text-anchor="end">{}</text>"#,
            c(canvas.left - 6.0),
            c(cy + 3.5),
            esc(label)
        ));
        if let Some(v) = value.filter(|v| v.is_finite()) {
            canvas.push(&format!(
                r#"<line class="stem" x1="{}" x2="{}" y1="{}" y2="{}"/><circle class="dot" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>"#,
                c(rx),
                c(x.map(v)),
                c(cy),
                c(cy),
                c(x.map(v)),
                c(cy),
                esc(label),
                num(v, 3)
            ));
        }
    }
    canvas.x_axis(&x, xs, x_label);
    canvas.finish(title)
}

/// Vertical bars in groups: one group per category, one bar per series.
pub fn grouped_bars(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(&str, &str, Vec<f64>)],
) -> String {
    let mut canvas = Canvas::new("grouped", 640.0, 320.0, 64.0, title).with_legend();
    let yd = extent(
        series
            .iter()
            .flat_map(|s| s.2.iter().copied())
            .collect::<Vec<_>>(),
        true,
    );
    let y = Scale::new(yd, (canvas.bottom, canvas.top));
    canvas.y_axis(&y, yd, y_label);
    let band = (canvas.right - canvas.left) / categories.len().max(1) as f64;
    let bar = (band * 0.8) / series.len().max(1) as f64;
    let zero = y.map(0.0);
    for (k, category) in categories.iter().enumerate() {
        let x0 = canvas.left + band * k as f64 + band * 0.1;
        for (s, (class, name, values)) in series.iter().enumerate() {
            if let Some(v) = values.get(k).filter(|v| v.is_finite()) {
                let top = y.map(*v);
                let (y0, y1) = if top < zero { (top, zero) } else { (zero, top) };
                canvas.push(&format!(
                    r#"<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{} – {}: {}</title></rect>"#,
                    esc(class),
                    c(x0 + bar * s as f64),
                    c(y0),
                    c((bar - 1.0).max(0.5)),
                    c((y1 - y0).max(0.5)),
                    esc(category),
                    esc(name),
                    num(*v, 4)
                ));
            }
        }
        let mut label = format!(
            r#"<text class="tick" x="{}" y="{}" text-anchor="middle"><title>{}</title>"#,
            c(x0 + band * 0.4),
            c(canvas.bottom + 16.0),
            esc(category)
        );
        for (line, text) in wrap(category, (band / 6.2).max(4.0) as usize, 2)
            .iter()
            .enumerate()
        {
            let _ = write!(
                label,
                r#"<tspan x="{}" dy="{}">{}</tspan>"#,
                c(x0 + band * 0.4),
                if line == 0 { 0.0 } else { 13.0 },
                esc(text)
            );
        }
        label.push_str("</text>");
        canvas.push(&label);
    }
    let legend: Vec<(&str, &str)> = series.iter().map(|s| (s.0, s.1)).collect();
    canvas.legend(&legend);
    canvas.x_label("");
    canvas.finish(title)
}

/// Words in at most `lines` lines of about `width` characters; the last
/// line ends in an ellipsis when words are left over.
fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let fits = out
            .last()
            .is_some_and(|line| line.chars().count() + 1 + word.chars().count() <= width);
        if fits {
            if let Some(line) = out.last_mut() {
                line.push(' ');
                line.push_str(word);
            }
        } else if out.len() == lines {
            if let Some(line) = out.last_mut() {
                let keep: String = line.chars().take(width.saturating_sub(1)).collect();
                *line = format!("{keep}…");
            }
            break;
        } else {
            out.push(word.chars().take(width).collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1605.263, 1), "1\u{202f}605.3");
        assert_eq!(num(-0.5, 2), "−0.5");
        assert_eq!(num(0.0, 2), "0");
        assert_eq!(num(1_000_000.0, 0), "1\u{202f}000\u{202f}000");
        assert_eq!(num(f64::NAN, 0), "–");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(1480.0, 1740.0, 5);
        assert!(t.iter().all(|v| (1480.0..=1740.0).contains(v)));
        assert_eq!(t, vec![1500.0, 1600.0, 1700.0]);
    }

    #[test]
    fn labels_wrap_onto_two_lines() {
        assert_eq!(wrap("closing at 90%", 20, 2), vec!["closing at 90%"]);
        assert_eq!(
            wrap("COPD package weighs double", 13, 2),
            vec!["COPD package", "weighs double"]
        );
        assert_eq!(wrap("a b c d e f", 3, 2), vec!["a b", "c …"]);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn histogram_counts_every_value() {
        let svg = histogram("t", "x", &[1.0, 1.1, 2.0, 9.0, f64::NAN], 5);
        let total: usize = svg
            .match_indices(" clinics</title>")
            .map(|(at, _)| {
                let head = &svg[..at];
                let start = head.rfind(": ").map(|p| p + 2).unwrap_or(0);
                head[start..].parse::<usize>().unwrap()
            })
            .sum();
        assert_eq!(total, 4);
    }
}
