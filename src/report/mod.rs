//! `report.html`: one self-contained page (inline CSS, inline SVG, a few
//! lines of inline script for sorting tables; no network, no fonts) for an
//! output directory of `run`, `project`, `evaluate` or `scenarios`. The
//! page is made from the files in the directory, so `fordeling report DIR`
//! and `--report` give the same bytes.

mod decisions;
mod evaluation;
mod frame;
mod html;
pub mod map;
mod projection;
mod run;
mod scenarios;
pub mod svg;

use decisions::*;
use evaluation::*;
use frame::*;
use html::*;
use projection::*;
use run::*;
use scenarios::*;

use crate::error::{Error, InputError, OutputError};
use crate::output::schema::{
    self, AreaRecord, CapacityGapRecord, ClinicRecord, ProjectClinicRecord, ProjectManifest,
    ProjectYear, RunManifest, ScenarioSummaryRecord,
};
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
    Decisions,
}

impl Kind {
    /// Recognises a directory by the files in it.
    pub fn detect(dir: &Path) -> Result<Kind, Error> {
        let has = |name: &str| dir.join(name).is_file();
        if has("decisions.csv") && has("coverage.csv") {
            Ok(Kind::Decisions)
        } else if has("evaluation.json") {
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
                detail: "not an output directory of run, project, evaluate, scenarios or decide (expected clinics.csv and areas.csv, summary.csv and areas_by_year.csv, scenarios.csv, evaluation.json, or decisions.csv and coverage.csv)".into(),
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
            Kind::Decisions => "decisions",
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
        Kind::Decisions => decisions_page(dir)?,
    };
    Ok(page(kind, &title, &subtitle, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = render(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not an output directory"), "{err}");
    }
}
