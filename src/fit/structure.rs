//! A structure of either format as one design (`AnyDesign`), and the
//! insight-versus-simplicity ladder as data: rungs that each add terms of
//! a format-2 structure to the previous rung.

use super::design::{Design, MAX_ROW};
use super::terms::TermDesign;
use super::{NotEstimable, Rows};
use crate::domain::{Geography, Population};
use crate::model::format2::{Component, Spec};
use crate::model::Model;
use serde::Deserialize;

/// The design of a format-1 or a format-2 structure.
#[derive(Debug, Clone)]
pub enum AnyDesign {
    Fixed(Box<Design>),
    Terms(Box<TermDesign>),
}

impl AnyDesign {
    /// Every coefficient of the model's structure.
    pub fn of(model: &Model, geography: &Geography) -> Result<AnyDesign, NotEstimable> {
        Ok(match &model.format2 {
            None => AnyDesign::Fixed(Box::new(Design::new(model, geography))),
            Some(spec) => AnyDesign::Terms(Box::new(TermDesign::new(spec, geography, None)?)),
        })
    }

    /// The structure with these coefficients (a format-2 structure's
    /// tables filled, its other cells 0).
    pub fn to_model(&self, structure: &Model, beta: &[f64]) -> Model {
        match (self, &structure.format2) {
            (AnyDesign::Fixed(design), _) => design.to_model(structure, beta),
            (AnyDesign::Terms(design), Some(spec)) => Model::from_spec(design.to_spec(spec, beta)),
            (AnyDesign::Terms(_), None) => structure.clone(),
        }
    }
}

impl Rows for AnyDesign {
    fn columns(&self) -> usize {
        match self {
            AnyDesign::Fixed(d) => d.columns(),
            AnyDesign::Terms(d) => d.columns(),
        }
    }

    fn names(&self) -> &[String] {
        match self {
            AnyDesign::Fixed(d) => d.names(),
            AnyDesign::Terms(d) => d.names(),
        }
    }

    fn unpenalised(&self, column: usize) -> bool {
        match self {
            AnyDesign::Fixed(d) => d.unpenalised(column),
            AnyDesign::Terms(d) => d.unpenalised(column),
        }
    }

    #[inline]
    fn row(&self, population: &Population, i: usize, row: &mut [(u16, f64); MAX_ROW]) -> usize {
        match self {
            AnyDesign::Fixed(d) => d.row(population, i, row),
            AnyDesign::Terms(d) => d.row(population, i, row),
        }
    }
}

/// One rung as given: its name and the terms it adds to the previous rung
/// (term ids; `prefix*` for every term whose id starts so; `@component`
/// for every term of a component).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RungSpec {
    pub name: String,
    pub add: Vec<String>,
}

/// A ladder file: `[[rung]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LadderFile {
    rung: Vec<RungSpec>,
}

/// Reads a ladder file's text.
pub fn parse_ladder(text: &str) -> Result<Vec<RungSpec>, String> {
    let file: LadderFile =
        toml::from_str(text).map_err(|e| crate::model::one_line(&e.to_string()))?;
    if file.rung.is_empty() {
        return Err("a ladder needs at least one [[rung]]".into());
    }
    Ok(file.rung)
}

/// A `--rung NAME=ID,ID,...` argument.
pub fn parse_rung(text: &str) -> Result<RungSpec, String> {
    let (name, terms) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected NAME=TERM,TERM,..."))?;
    let add: Vec<String> = terms
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if name.trim().is_empty() || add.is_empty() {
        return Err(format!("`{text}`: expected NAME=TERM,TERM,..."));
    }
    Ok(RungSpec {
        name: name.trim().to_string(),
        add,
    })
}

/// The default ladder of a format-2 structure, by component: the first
/// term and the age-sex terms; + socioeconomic; + conditions; + multi-
/// morbidity and area (full). Rungs that add nothing are left out.
pub fn default_ladder(spec: &Spec) -> Vec<RungSpec> {
    let of = |c: Component| format!("@{}", c.as_str());
    let first = spec
        .terms
        .first()
        .map(|t| t.id().to_string())
        .unwrap_or_default();
    vec![
        RungSpec {
            name: "age and sex".into(),
            add: vec![first, of(Component::AgeSex)],
        },
        RungSpec {
            name: "+ socioeconomic".into(),
            add: vec![of(Component::Socioeconomic)],
        },
        RungSpec {
            name: "+ conditions".into(),
            add: vec![of(Component::Conditions)],
        },
        RungSpec {
            name: "+ multimorbidity and area (full)".into(),
            add: vec![of(Component::Multimorbidity), of(Component::Area)],
        },
    ]
}

/// The rungs as cumulative sets of term indices (each rung keeps the
/// previous rung's terms). An id that names no term is an error; a rung
/// that adds no new term is left out unless it is the first.
pub fn resolve_ladder(
    spec: &Spec,
    rungs: &[RungSpec],
) -> Result<Vec<(String, Vec<usize>)>, String> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    let mut kept: Vec<usize> = Vec::new();
    for rung in rungs {
        let before = kept.len();
        for pattern in &rung.add {
            let matches: Vec<usize> = (0..spec.terms.len())
                .filter(|&k| {
                    let term = &spec.terms[k];
                    if let Some(component) = pattern.strip_prefix('@') {
                        term.component().as_str() == component
                    } else if let Some(prefix) = pattern.strip_suffix('*') {
                        term.id().starts_with(prefix)
                    } else {
                        term.id() == pattern
                    }
                })
                .collect();
            if matches.is_empty() && !pattern.starts_with('@') {
                return Err(format!(
                    "rung `{}`: `{pattern}` names no term of the structure",
                    rung.name
                ));
            }
            for k in matches {
                if !kept.contains(&k) {
                    kept.push(k);
                }
            }
        }
        if kept.len() > before || out.is_empty() {
            let mut terms = kept.clone();
            terms.sort_unstable();
            out.push((rung.name.clone(), terms));
        }
    }
    Ok(out)
}
