//! A format-1 model as the format-2 model it is equivalent to (SPEC 3.1),
//! and any format-2 model as TOML text (`fordeling model convert`, and the
//! model `fit` writes).
//!
//! The conversion keeps every number's bits: the age-sex table becomes a
//! term over `sex × age_band` (bands from 0 by 5 years), each socioeconomic
//! table a term over its column's levels (`lives_alone` over the flag),
//! each condition a term over its flag, the multimorbidity thresholds one
//! term over `n_conditions` (the count of the model's conditions, top-coded
//! at the highest threshold or package count; cell `k` the thresholds'
//! additions summed as format 1 sums them), the area term
//! a numeric term on `area_index`, and each package's rule `any_of` its
//! conditions' flags or `count_at_least` on `n_conditions`. Terms come in
//! the order format 1 adds them, so the need is the same to the last bit.

use super::format2::{Component, Kind, Package2, Spec, Term, Variable, GEOGRAPHY_NUMERIC};
use super::{
    LoadLevel, Model, AGE_BANDS, EDUCATION_LEVELS, INCOME_LEVELS, LABOUR_LEVELS, ORIGIN_LEVELS,
};
use std::fmt::Write;

/// The name of the count of a converted model's conditions.
pub const N_CONDITIONS: &str = "n_conditions";

impl Spec {
    /// The format-2 model a format-1 model is. Fails only for a package
    /// that counts conditions in a model without any.
    pub fn from_format1(model: &Model) -> Result<Spec, String> {
        let mut variables = vec![
            Variable {
                name: "sex".into(),
                kind: Kind::Levels {
                    column: "sex".into(),
                    levels: vec![1, 2],
                },
            },
            Variable {
                name: "age_band".into(),
                kind: Kind::Bands {
                    column: "age".into(),
                    edges: (0..AGE_BANDS as i64).map(|b| 5 * b).collect(),
                },
            },
        ];
        let mut terms = vec![Term::Table {
            id: "age_sex".into(),
            component: Component::AgeSex,
            by: vec![0, 1],
            shape: vec![2, AGE_BANDS],
            values: model.age_sex.iter().flatten().copied().collect(),
        }];
        let socio: [(&str, &[f64]); 4] = [
            ("education", &model.education[..EDUCATION_LEVELS]),
            ("income_quintile", &model.income_quintile[..INCOME_LEVELS]),
            ("labour", &model.labour[..LABOUR_LEVELS]),
            ("origin", &model.origin[..ORIGIN_LEVELS]),
        ];
        for (k, (name, values)) in socio.into_iter().enumerate() {
            if !model.socioeconomic_terms[k] {
                continue;
            }
            variables.push(Variable {
                name: name.into(),
                kind: Kind::Levels {
                    column: name.into(),
                    levels: (0..values.len() as i64).collect(),
                },
            });
            terms.push(Term::Table {
                id: name.into(),
                component: Component::Socioeconomic,
                by: vec![variables.len() - 1],
                shape: vec![values.len()],
                values: values.to_vec(),
            });
        }
        let flag = |variables: &mut Vec<Variable>, column: String| -> usize {
            variables.push(Variable {
                name: column.clone(),
                kind: Kind::Flag { column },
            });
            variables.len() - 1
        };
        if model.socioeconomic_terms[4] {
            let v = flag(&mut variables, "lives_alone".into());
            terms.push(Term::Table {
                id: "lives_alone".into(),
                component: Component::Socioeconomic,
                by: vec![v],
                shape: vec![2],
                values: model.lives_alone.to_vec(),
            });
        }
        let columns: Vec<String> = model
            .conditions
            .iter()
            .map(|(name, _)| Model::condition_column(name))
            .collect();
        for ((name, coefficient), column) in model.conditions.iter().zip(&columns) {
            let v = flag(&mut variables, column.clone());
            terms.push(Term::Table {
                id: name.clone(),
                component: Component::Conditions,
                by: vec![v],
                shape: vec![2],
                values: vec![0.0, *coefficient],
            });
        }
        let counted = model.packages.iter().any(|p| p.min_conditions > 0);
        let n_conditions = if !columns.is_empty() && (counted || !model.multimorbidity.is_empty()) {
            // Top-coded at the highest threshold or package count: every
            // count above it has the same terms, and fitting the converted
            // structure estimates no cell nobody reaches.
            let top = model
                .packages
                .iter()
                .map(|p| p.min_conditions)
                .chain(model.multimorbidity.iter().map(|t| t.at_least))
                .fold(1, u32::max);
            variables.push(Variable {
                name: N_CONDITIONS.into(),
                kind: Kind::Count {
                    flags: columns.clone(),
                    top,
                },
            });
            Some((variables.len() - 1, top))
        } else if counted {
            return Err("a package counts conditions, but the model has none".into());
        } else {
            None
        };
        if let (Some((v, top)), false) = (n_conditions, model.multimorbidity.is_empty()) {
            // Summed as `weights::YearTables` sums them, threshold order.
            let values = (0..=top)
                .map(|count| {
                    model
                        .multimorbidity
                        .iter()
                        .filter(|t| count >= t.at_least)
                        .map(|t| t.add)
                        .sum::<f64>()
                        // No threshold reached: +0, not the empty sum's -0.
                        + 0.0
                })
                .collect();
            terms.push(Term::Table {
                id: "multimorbidity".into(),
                component: Component::Multimorbidity,
                by: vec![v],
                shape: vec![top as usize + 1],
                values,
            });
        }
        if let Some(coefficient) = model.area {
            terms.push(Term::Numeric {
                id: "area".into(),
                component: Component::Area,
                column: GEOGRAPHY_NUMERIC.into(),
                coefficient,
            });
        }
        let packages = model
            .packages
            .iter()
            .map(|p| Package2 {
                id: p.id.clone(),
                start_year: p.start_year,
                any_of: columns
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| p.condition_mask & (1u64 << k) != 0)
                    .map(|(_, c)| c.clone())
                    .collect(),
                count_at_least: n_conditions
                    .filter(|_| p.min_conditions > 0)
                    .map(|(v, _)| (v, p.min_conditions)),
                add: p.add,
                multiply: p.multiply,
                phase_in: p.phase_in.clone(),
            })
            .collect();
        let built = Spec {
            id: model.id.clone(),
            description: model.description.clone(),
            link: model.link,
            outcome: model.outcome.clone(),
            data_year: model.data_year,
            variables,
            hierarchies: Vec::new(),
            terms,
            packages,
            proposal: model.proposal.clone(),
        };
        // Read back from its text, the spec is in the form every format-2
        // file takes (variables in the file's order), so comparing specs
        // compares models.
        super::format2::parse(&built.to_toml(), std::path::Path::new("<converted>"))
            .map_err(|e| e.to_string())
    }

    /// The model as format-2 TOML text that `format2::parse` reads back to
    /// the same model (numbers written so they read back to the same bits).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "[model]\nformat = 2");
        let _ = writeln!(out, "id = {}", string(&self.id));
        let _ = writeln!(out, "description = {}", string(&self.description));
        let _ = writeln!(out, "link = {}", string(self.link.as_str()));
        let _ = writeln!(out, "outcome = {}", string(&self.outcome));
        let _ = writeln!(out, "data_year = {}", self.data_year);
        let declared: Vec<&Variable> = self
            .variables
            .iter()
            .filter(|v| !matches!(v.kind, Kind::Flag { .. }))
            .collect();
        if !declared.is_empty() {
            let _ = writeln!(out, "\n[variables]");
            for v in declared {
                let body = match &v.kind {
                    Kind::Levels { column, levels } if *column == v.name => {
                        format!("levels = {}", integers(levels))
                    }
                    Kind::Levels { column, levels } => {
                        format!("column = {}, levels = {}", string(column), integers(levels))
                    }
                    Kind::Bands { column, edges } => {
                        format!("column = {}, edges = {}", string(column), integers(edges))
                    }
                    Kind::Count { flags, top } => {
                        format!("count = {}, top = {top}", strings(flags))
                    }
                    Kind::Flag { .. } => continue,
                };
                let _ = writeln!(out, "{} = {{ {body} }}", key(&v.name));
            }
        }
        for (flag, dropped) in &self.hierarchies {
            let _ = writeln!(
                out,
                "\n[[hierarchies]]\nif = {}\ndrop = {}",
                string(flag),
                strings(dropped)
            );
        }
        for term in &self.terms {
            let _ = writeln!(out, "\n[[terms]]\nid = {}", string(term.id()));
            let _ = writeln!(out, "component = {}", string(term.component().as_str()));
            match term {
                Term::Table {
                    by, shape, values, ..
                } => {
                    let names: Vec<String> =
                        by.iter().map(|&v| self.variables[v].name.clone()).collect();
                    let _ = writeln!(out, "by = {}", strings(&names));
                    let _ = writeln!(out, "values = {}", nested(values, shape));
                }
                Term::Numeric {
                    column,
                    coefficient,
                    ..
                } => {
                    let _ = writeln!(out, "numeric = {}", string(column));
                    let _ = writeln!(out, "coefficient = {}", number(*coefficient));
                }
            }
        }
        for p in &self.packages {
            let _ = writeln!(
                out,
                "\n[[packages]]\nid = {}\nstart_year = {}",
                string(&p.id),
                p.start_year
            );
            if !p.any_of.is_empty() {
                let _ = writeln!(out, "any_of = {}", strings(&p.any_of));
            }
            if let Some((v, value)) = p.count_at_least {
                let _ = writeln!(
                    out,
                    "count_at_least = {{ variable = {}, value = {value} }}",
                    string(&self.variables[v].name)
                );
            }
            let _ = writeln!(out, "add = {}", number(p.add));
            let _ = writeln!(out, "multiply = {}", number(p.multiply));
            let shares: Vec<String> = p.phase_in.iter().map(|&v| number(v)).collect();
            let _ = writeln!(out, "phase_in = [{}]", shares.join(", "));
        }
        let r = &self.proposal;
        let _ = writeln!(out, "\n[proposal]");
        for (name, value) in [
            ("closing_fraction", r.closing_fraction),
            ("round_to", r.round_to as f64),
            ("min_per_capacity", r.min_per_capacity),
            ("max_per_capacity", r.max_per_capacity),
            ("max_increase", r.max_increase),
            ("max_decrease", r.max_decrease),
            ("dialogue_threshold", r.dialogue_threshold),
            ("uncertainty_threshold", r.uncertainty_threshold),
        ] {
            if name == "round_to" {
                let _ = writeln!(out, "round_to = {}", r.round_to);
            } else {
                let _ = writeln!(out, "{name} = {}", number(value));
            }
        }
        if r.load_level != LoadLevel::Nation {
            let _ = writeln!(out, "load_level = {}", string(r.load_level.as_str()));
        }
        out
    }
}

fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn key(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        s.to_string()
    } else {
        string(s)
    }
}

fn strings(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

fn integers(items: &[i64]) -> String {
    let items: Vec<String> = items.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// A finite number as TOML that reads back to the same bits.
fn number(v: f64) -> String {
    toml::Value::Float(v).to_string()
}

/// A flattened table nested to its shape, outer dimension first.
fn nested(values: &[f64], shape: &[usize]) -> String {
    match shape.split_first() {
        None => values.first().map_or_else(String::new, |&v| number(v)),
        Some((&n, rest)) => {
            let size: usize = rest.iter().product();
            let parts: Vec<String> = (0..n)
                .map(|k| nested(&values[k * size..(k + 1) * size], rest))
                .collect();
            format!("[{}]", parts.join(", "))
        }
    }
}
