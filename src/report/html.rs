//! The page's chrome: table cells, sortable tables, sections, cards, and
//! the page itself with its inline CSS and self-check script.

use super::*;

/// One table cell: the text shown and the value it sorts by.
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) sort: Option<f64>,
}

pub(super) fn t(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        sort: None,
    }
}

pub(super) fn n(value: Option<f64>, decimals: usize) -> Cell {
    Cell {
        text: value.map_or_else(|| "–".into(), |v| num(v, decimals)),
        sort: value,
    }
}

pub(super) fn table(id: &str, headers: &[&str], rows: &[Vec<Cell>]) -> String {
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

pub(super) fn section(id: &str, heading: &str, intro: &str, content: &str) -> String {
    format!(
        r#"<section id="{}"><h2>{}</h2><p class="intro">{}</p>{}</section>"#,
        esc(id),
        esc(heading),
        esc(intro),
        content
    )
}

pub(super) fn cards(items: &[(&str, String)]) -> String {
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

pub(super) const STYLE: &str = r#"
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

pub(super) const SCRIPT: &str = r#"
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

pub(super) fn page(kind: Kind, title: &str, subtitle: &str, body: &str) -> String {
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
