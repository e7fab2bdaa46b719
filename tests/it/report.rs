//! The HTML reports: self-contained files for all four kinds of output,
//! the same bytes from `--report` and from `fordeling report DIR`, and (where
//! Chromium is installed, which `.ci/run` does) a real browser opening each
//! one with no console errors, every chart and the map present and drawn.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn model() -> String {
    repo()
        .join("models/reference-2027.toml")
        .display()
        .to_string()
}

/// The four kinds of output directory, each written with `--report`, in
/// `dir`; returns (kind, directory).
fn all_reports(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let model = model();
    ok_on_fixtures(dir, &["run", "--report", "--model", &model, "--out", "run"]);
    ok_on_fixtures(
        dir,
        &[
            "project",
            "--report",
            "--model",
            &model,
            "--capacity-path",
            "linear:60@2035",
            "--out",
            "projection",
        ],
    );
    ok_on_fixtures(
        dir,
        &[
            "evaluate",
            "--report",
            "--model",
            &model,
            "--folds",
            "2",
            "--out",
            "evaluation",
        ],
    );
    std::fs::write(
        dir.join("scenarios.toml"),
        "[[scenario]]\nname = \"more capacity\"\ncapacity_total = 42.0\n\n[[scenario]]\nname = \"closing 0.9\"\nclosing_fraction = 0.9\n",
    )
    .unwrap();
    ok_on_fixtures(
        dir,
        &[
            "scenarios",
            "--report",
            "--model",
            &model,
            "--scenarios",
            "scenarios.toml",
            "--out",
            "scenarios",
        ],
    );
    std::fs::copy(
        repo().join("examples/decisions.csv"),
        dir.join("decisions.csv"),
    )
    .unwrap();
    let output = run_in(
        dir,
        &[
            "decide",
            "run",
            "--decisions",
            "decisions.csv",
            "--report",
            "--out",
            "decisions",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    ["run", "projection", "evaluation", "scenarios", "decisions"]
        .into_iter()
        .map(|k| (k, dir.join(k)))
        .collect()
}

#[test]
fn reports_are_self_contained_and_remade_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, out) in all_reports(dir.path()) {
        let path = out.join("report.html");
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{kind}");
        assert!(
            html.contains(&format!("data-report=\"{kind}\"")),
            "{kind}: kind recognised"
        );
        // Nothing is fetched: the only URL is the SVG namespace.
        let without_namespace = html.replace("http://www.w3.org/2000/svg", "");
        for needle in [
            "http://",
            "https://",
            "<script src",
            "<link",
            "@import",
            "@font-face",
        ] {
            assert!(
                !without_namespace.contains(needle),
                "{kind}: `{needle}` in report"
            );
        }
        assert!(html.contains("<svg class=\"chart"), "{kind}: has charts");
        // `fordeling report DIR` writes the same bytes.
        std::fs::remove_file(&path).unwrap();
        let output = run_in(dir.path(), &["report", out.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            html,
            "{kind}: same page"
        );
    }
}

#[test]
fn the_run_report_holds_what_the_issue_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    ok_on_fixtures(
        dir.path(),
        &["run", "--report", "--model", &model(), "--out", "out"],
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    // The national L, as the manifest has it, rounded to one decimal.
    let l = manifest["L"].as_f64().unwrap();
    let shown = format!("{:.1}", l);
    let (int, frac) = shown.split_once('.').unwrap();
    let grouped = if int.len() > 3 {
        format!("{}\u{202f}{}", &int[..int.len() - 3], &int[int.len() - 3..])
    } else {
        int.to_string()
    };
    assert!(
        html.contains(&format!("{grouped}.{frac}")),
        "L {shown} shown"
    );
    assert_eq!(html.matches("class=\"kommune\"").count(), 98, "98 kommuner");
    for section in ["national", "clinics", "gap", "map", "flags"] {
        assert!(
            html.contains(&format!("<section id=\"{section}\"")),
            "{section}"
        );
    }
    // Every capped clinic of the clinic file is in the capped table.
    let clinics = Csv::read(&dir.path().join("out/clinics.csv"));
    let capped: Vec<&str> = (0..clinics.rows.len())
        .filter(|&r| clinics.get(r, "flags").split(';').any(|f| f == "capped"))
        .map(|r| clinics.get(r, "clinic_id"))
        .collect();
    assert!(!capped.is_empty());
    let table_start = html.find("id=\"flag-capped\"").unwrap();
    let table = &html[table_start..table_start + html[table_start..].find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr>").count(),
        capped.len() + 1,
        "header + rows"
    );
    // The vulnerable-area clinics whose count rises, with their interval.
    let rising: Vec<usize> = (0..clinics.rows.len())
        .filter(|&r| {
            clinics.get(r, "flags").contains("vulnerable_area")
                && clinics.f64(r, "change").is_some_and(|c| c > 0.0)
        })
        .collect();
    assert!(!rising.is_empty(), "the fixtures have such clinics");
    let start = html.find("id=\"vulnerable-rising\"").unwrap();
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), rising.len() + 1);
    for &r in &rising {
        let lower = clinics.f64(r, "raw_lower").unwrap();
        let shown = format!("{:.0}", lower);
        let grouped = if shown.len() > 3 {
            format!(
                "{}\u{202f}{}",
                &shown[..shown.len() - 3],
                &shown[shown.len() - 3..]
            )
        } else {
            shown
        };
        assert!(table.contains(&grouped), "interval {grouped} shown");
    }
    // An unknown directory is an input error naming it.
    let output = run_in(dir.path(), &["report", "fixtures-that-are-not-there"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not an output directory"));
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The value of a `data-*` attribute on `<body>` in a dumped DOM.
fn body_attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let key = format!("{name}=\"");
    let start = body.find(&key)? + key.len();
    Some(&body[start..start + body[start..].find('"')?])
}

#[test]
fn reports_render_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("Chromium is required in CI (.ci/run installs Debian's chromium)");
        }
        eprintln!(
            "skipped: no Chromium on this machine (set FORDELING_CHROMIUM or install chromium)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    for (kind, out) in all_reports(dir.path()) {
        let page = out.join("report.html");
        let url = format!("file://{}", page.display());
        let output = headless(&browser, profile.path())
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&output.stdout);
        let log = String::from_utf8_lossy(&output.stderr);
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "{kind}: console messages: {console:#?}");
        assert_eq!(
            body_attribute(&dom, "data-ready"),
            Some("yes"),
            "{kind}: script ran\n{log}"
        );
        assert_eq!(body_attribute(&dom, "data-js-errors"), Some("0"), "{kind}");
        assert_eq!(
            body_attribute(&dom, "data-empty-charts"),
            Some("0"),
            "{kind}: every chart drawn"
        );
        let charts: usize = body_attribute(&dom, "data-charts")
            .unwrap()
            .parse()
            .unwrap();
        let tables: usize = body_attribute(&dom, "data-tables")
            .unwrap()
            .parse()
            .unwrap();
        let (min_charts, min_tables, kommuner) = match kind {
            "run" => (4, 1, "98"),
            "projection" => (3, 2, "0"),
            "evaluation" => (3, 2, "0"),
            "decisions" => (4, 3, "98"),
            _ => (2, 2, "0"),
        };
        assert!(charts >= min_charts, "{kind}: {charts} charts");
        assert!(tables >= min_tables, "{kind}: {tables} tables");
        assert_eq!(
            body_attribute(&dom, "data-map-kommuner"),
            Some(kommuner),
            "{kind}: map"
        );

        let shot = dir.path().join(format!("{kind}.png"));
        let output = headless(&browser, profile.path())
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=1280,2400")
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let png = std::fs::read(&shot).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{kind}: a PNG");
        // A blank 1280×2400 page compresses to a few kilobytes; charts do not.
        assert!(
            png.len() > 40_000,
            "{kind}: screenshot of {} bytes",
            png.len()
        );
    }
}
