//! Format-2 model files (SPEC section 3.1): declared variables, hierarchies,
//! table terms over the product of any variables, numeric terms and
//! packages that qualify by flags or a count. This module reads such a file
//! and validates it into a `Spec`: every variable resolved, every table's
//! shape checked against its variables' levels and flattened, every package
//! rule resolved. Not yet wired into the commands (issue 13).

use super::check::Check;
use super::file::{Header, ProposalFile};
use super::{Link, ProposalRules, MAX_CONDITIONS, MAX_PACKAGES};
use crate::error::ModelError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The `[model]` table of a format-2 file: format 1's keys and `format`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header2 {
    pub format: i64,
    #[serde(flatten)]
    pub rest: HeaderKeys,
}

/// Format 1's header keys (`file::Header` denies unknown keys, so it cannot
/// be flattened beside `format`).
#[derive(Debug, Clone, Deserialize)]
pub struct HeaderKeys {
    pub id: String,
    #[serde(default)]
    pub description: String,
    pub link: String,
    pub outcome: String,
    pub data_year: i32,
}

impl From<HeaderKeys> for Header {
    fn from(h: HeaderKeys) -> Header {
        Header {
            id: h.id,
            description: h.description,
            link: h.link,
            outcome: h.outcome,
            data_year: h.data_year,
        }
    }
}

/// One `[variables]` entry as on disk: exactly one of `levels`, `edges`
/// (with `column`) or `count` (with `top`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableFile {
    pub column: Option<String>,
    pub levels: Option<Vec<i64>>,
    pub edges: Option<Vec<i64>>,
    pub count: Option<Vec<String>>,
    pub top: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HierarchyFile {
    #[serde(rename = "if")]
    pub if_flag: String,
    pub drop: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermFile {
    pub id: String,
    pub component: String,
    #[serde(default)]
    pub by: Vec<String>,
    pub values: Option<toml::Value>,
    pub numeric: Option<String>,
    pub coefficient: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountAtLeast {
    pub variable: String,
    pub value: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageFile2 {
    pub id: String,
    pub start_year: i32,
    #[serde(default)]
    pub any_of: Vec<String>,
    pub count_at_least: Option<CountAtLeast>,
    #[serde(default)]
    pub add: f64,
    #[serde(default = "one")]
    pub multiply: f64,
    #[serde(default)]
    pub phase_in: Vec<f64>,
}

fn one() -> f64 {
    1.0
}

/// A format-2 model file as on disk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File2 {
    pub model: Header2,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableFile>,
    #[serde(default)]
    pub hierarchies: Vec<HierarchyFile>,
    #[serde(default)]
    pub terms: Vec<TermFile>,
    #[serde(default)]
    pub packages: Vec<PackageFile2>,
    pub proposal: ProposalFile,
}

/// What a term's parts are reported under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    AgeSex,
    Socioeconomic,
    Conditions,
    Multimorbidity,
    Area,
}

impl Component {
    /// In the order of `weights::Components` (the component's index).
    pub const ALL: [Component; 5] = [
        Component::AgeSex,
        Component::Socioeconomic,
        Component::Conditions,
        Component::Multimorbidity,
        Component::Area,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Component::AgeSex => "age_sex",
            Component::Socioeconomic => "socioeconomic",
            Component::Conditions => "conditions",
            Component::Multimorbidity => "multimorbidity",
            Component::Area => "area",
        }
    }

    /// The index in `weights::Components`.
    pub fn index(self) -> usize {
        self as usize
    }

    fn parse(text: &str) -> Option<Component> {
        Some(match text {
            "age_sex" => Component::AgeSex,
            "socioeconomic" => Component::Socioeconomic,
            "conditions" => Component::Conditions,
            "multimorbidity" => Component::Multimorbidity,
            "area" => Component::Area,
            _ => return None,
        })
    }
}

/// How a variable gets a person's level from the population.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// An integer column whose values are the declared levels.
    Levels { column: String, levels: Vec<i64> },
    /// An integer column cut at lower edges; the last level is open above.
    Bands { column: String, edges: Vec<i64> },
    /// How many of these flags are true, top-coded at `top`.
    Count { flags: Vec<String>, top: u32 },
    /// A boolean column: levels false, true.
    Flag { column: String },
}

/// A validated variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub kind: Kind,
}

impl Variable {
    /// The number of levels.
    pub fn levels(&self) -> usize {
        match &self.kind {
            Kind::Levels { levels, .. } => levels.len(),
            Kind::Bands { edges, .. } => edges.len(),
            Kind::Count { top, .. } => *top as usize + 1,
            Kind::Flag { .. } => 2,
        }
    }
}

/// A validated term.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A table over the product of `by`'s levels, flattened with the last
    /// variable varying fastest.
    Table {
        id: String,
        component: Component,
        by: Vec<usize>,
        shape: Vec<usize>,
        values: Vec<f64>,
    },
    /// `coefficient × column`.
    Numeric {
        id: String,
        component: Component,
        column: String,
        coefficient: f64,
    },
}

/// A validated package.
#[derive(Debug, Clone, PartialEq)]
pub struct Package2 {
    pub id: String,
    pub start_year: i32,
    pub any_of: Vec<String>,
    /// (count variable index, level reached).
    pub count_at_least: Option<(usize, u32)>,
    pub add: f64,
    pub multiply: f64,
    pub phase_in: Vec<f64>,
}

/// A validated format-2 model.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub id: String,
    pub description: String,
    pub link: Link,
    pub outcome: String,
    pub data_year: i32,
    pub variables: Vec<Variable>,
    /// (the `if` flag, the flags it drops).
    pub hierarchies: Vec<(String, Vec<String>)>,
    pub terms: Vec<Term>,
    pub packages: Vec<Package2>,
    pub proposal: ProposalRules,
}

/// Whether model text declares `format = 2` in its `[model]` table.
pub fn is_format2(text: &str) -> bool {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("model")?.get("format")?.as_integer())
        == Some(2)
}

/// Reads and validates format-2 model text; errors name `path` and the key.
pub fn parse(text: &str, path: &Path) -> Result<Spec, ModelError> {
    let file: File2 = toml::from_str(text).map_err(|e| ModelError::Parse {
        path: path.to_path_buf(),
        detail: super::one_line(&e.to_string()),
    })?;
    validate(file, path)
}

/// Validates a format-2 file.
pub fn validate(file: File2, path: &Path) -> Result<Spec, ModelError> {
    let check = Check { path };
    if file.model.format != 2 {
        return Err(check.invalid(
            "model.format",
            format!("format `{}` is not 2", file.model.format),
        ));
    }
    let header: Header = file.model.rest.into();
    if header.id.trim().is_empty() {
        return Err(check.invalid("model.id", "must not be empty".into()));
    }
    let link = check.link(&header.link)?;
    let mut variables = Vec::new();
    for (name, v) in &file.variables {
        variables.push(variable(&check, name, v)?);
    }
    let mut hierarchies = Vec::new();
    for (k, h) in file.hierarchies.iter().enumerate() {
        if h.drop.is_empty() {
            return Err(check.invalid(
                &format!("hierarchies[{k}].drop"),
                "names no flag to drop".into(),
            ));
        }
        hierarchies.push((h.if_flag.clone(), h.drop.clone()));
    }
    let mut terms = Vec::new();
    for (k, t) in file.terms.iter().enumerate() {
        if terms.iter().any(|other: &Term| term_id(other) == t.id) {
            return Err(check.invalid(
                &format!("terms[{k}].id"),
                format!("term id `{}` is used twice", t.id),
            ));
        }
        terms.push(term(&check, k, t, &mut variables)?);
    }
    let mut packages: Vec<Package2> = Vec::new();
    for (k, p) in file.packages.iter().enumerate() {
        if packages.iter().any(|other| other.id == p.id) {
            return Err(check.invalid(
                &format!("packages[{k}].id"),
                format!("package id `{}` is used twice", p.id),
            ));
        }
        packages.push(package(&check, k, p, &variables)?);
    }
    if packages.len() > MAX_PACKAGES {
        return Err(check.invalid(
            "packages",
            format!(
                "{} packages, at most {MAX_PACKAGES} are supported",
                packages.len()
            ),
        ));
    }
    for v in &variables {
        if v.levels() > MAX_LEVELS {
            return Err(check.invalid(
                &format!("variables.{}", v.name),
                format!("{} levels, at most {MAX_LEVELS} are supported", v.levels()),
            ));
        }
    }
    let proposal = check.proposal(&file.proposal)?;
    let spec = Spec {
        id: header.id,
        description: header.description,
        link,
        outcome: header.outcome,
        data_year: header.data_year,
        variables,
        hierarchies,
        terms,
        packages,
        proposal,
    };
    check_flags(&check, &spec)?;
    Ok(spec)
}

/// The most levels a variable may have (a person's level is one byte).
pub const MAX_LEVELS: usize = 256;

/// The numeric column a numeric term takes from the geography (joined on
/// the residence kommune); any other name is a population column.
pub const GEOGRAPHY_NUMERIC: &str = "area_index";

/// Hierarchies name flags the model uses, and do not drop their own flag;
/// at most `MAX_CONDITIONS` flags in all.
fn check_flags(check: &Check, spec: &Spec) -> Result<(), ModelError> {
    let used = spec.flags();
    for (k, (flag, dropped)) in spec.hierarchies.iter().enumerate() {
        if !used.contains(flag) {
            return Err(check.invalid(
                &format!("hierarchies[{k}].if"),
                format!("`{flag}` is not a flag of the model (no term, count or package uses it)"),
            ));
        }
        for (j, d) in dropped.iter().enumerate() {
            if d == flag {
                return Err(check.invalid(
                    &format!("hierarchies[{k}].drop[{j}]"),
                    format!("the hierarchy of `{flag}` drops its own flag"),
                ));
            }
            if !used.contains(d) {
                return Err(check.invalid(
                    &format!("hierarchies[{k}].drop[{j}]"),
                    format!("`{d}` is not a flag of the model (no term, count or package uses it)"),
                ));
            }
        }
    }
    let flags = spec.flags();
    if flags.len() > MAX_CONDITIONS {
        return Err(check.invalid(
            "variables",
            format!(
                "the model uses {} boolean columns, at most {MAX_CONDITIONS} are supported",
                flags.len()
            ),
        ));
    }
    Ok(())
}

fn term_id(term: &Term) -> &str {
    match term {
        Term::Table { id, .. } | Term::Numeric { id, .. } => id,
    }
}

fn variable(check: &Check, name: &str, v: &VariableFile) -> Result<Variable, ModelError> {
    let key = format!("variables.{name}");
    let kind =
        match (&v.levels, &v.edges, &v.count) {
            (Some(levels), None, None) => {
                if levels.is_empty() || levels.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(check.invalid(
                        &format!("{key}.levels"),
                        "levels must be one or more integers in increasing order".into(),
                    ));
                }
                Kind::Levels {
                    column: v.column.clone().unwrap_or_else(|| name.to_string()),
                    levels: levels.clone(),
                }
            }
            (None, Some(edges), None) => {
                if edges.is_empty() || edges.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(check.invalid(
                        &format!("{key}.edges"),
                        "edges must be one or more integers in increasing order".into(),
                    ));
                }
                Kind::Bands {
                    column: v.column.clone().unwrap_or_else(|| name.to_string()),
                    edges: edges.clone(),
                }
            }
            (None, None, Some(flags)) => {
                let top = v.top.ok_or_else(|| {
                    check.invalid(&format!("{key}.top"), "a count needs `top`".into())
                })?;
                if !(1..=64).contains(&top) || flags.is_empty() {
                    return Err(check.invalid(
                        &format!("{key}.top"),
                        format!("value `{top}` must be 1..=64, over one or more flags"),
                    ));
                }
                Kind::Count {
                    flags: flags.clone(),
                    top: top as u32,
                }
            }
            _ => return Err(check.invalid(
                &key,
                "declare exactly one of `levels`, `edges` (with `column`) or `count` (with `top`)"
                    .into(),
            )),
        };
    if v.top.is_some() && !matches!(kind, Kind::Count { .. }) {
        return Err(check.invalid(&format!("{key}.top"), "only a count has `top`".into()));
    }
    Ok(Variable {
        name: name.to_string(),
        kind,
    })
}

/// The variable `name` names: a declared one, or a boolean column (added).
fn resolve(name: &str, variables: &mut Vec<Variable>) -> usize {
    if let Some(k) = variables.iter().position(|v| v.name == name) {
        return k;
    }
    variables.push(Variable {
        name: name.to_string(),
        kind: Kind::Flag {
            column: name.to_string(),
        },
    });
    variables.len() - 1
}

fn term(
    check: &Check,
    k: usize,
    t: &TermFile,
    variables: &mut Vec<Variable>,
) -> Result<Term, ModelError> {
    let key = format!("terms[{k}]");
    if t.id.trim().is_empty() {
        return Err(check.invalid(&format!("{key}.id"), "must not be empty".into()));
    }
    let component = Component::parse(&t.component).ok_or_else(|| {
        check.invalid(
            &format!("{key}.component"),
            format!(
                "`{}` is not a component; expected age_sex, socioeconomic, conditions, multimorbidity or area",
                t.component
            ),
        )
    })?;
    match (&t.numeric, &t.values) {
        (Some(column), None) => {
            if !t.by.is_empty() {
                return Err(check.invalid(
                    &format!("{key}.by"),
                    format!("numeric term `{}` has no `by`", t.id),
                ));
            }
            let coefficient = t.coefficient.ok_or_else(|| {
                check.invalid(
                    &format!("{key}.coefficient"),
                    format!("numeric term `{}` needs a coefficient", t.id),
                )
            })?;
            Ok(Term::Numeric {
                id: t.id.clone(),
                component,
                column: column.clone(),
                coefficient: check.finite(&format!("{key}.coefficient"), coefficient)?,
            })
        }
        (None, Some(values)) => {
            if t.by.is_empty() || t.coefficient.is_some() {
                return Err(check.invalid(
                    &key,
                    format!(
                        "table term `{}` needs `by` and `values`, not `coefficient`",
                        t.id
                    ),
                ));
            }
            let by: Vec<usize> = t.by.iter().map(|n| resolve(n, variables)).collect();
            let shape: Vec<usize> = by.iter().map(|&v| variables[v].levels()).collect();
            let mut flat = Vec::with_capacity(shape.iter().product());
            flatten(values, &shape, &mut flat).map_err(|()| {
                let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
                check.invalid(
                    &format!("{key}.values"),
                    format!(
                        "term `{}` needs values nested as [{}] (by {}), finite numbers",
                        t.id,
                        dims.join("]["),
                        t.by.join(" × ")
                    ),
                )
            })?;
            Ok(Term::Table {
                id: t.id.clone(),
                component,
                by,
                shape,
                values: flat,
            })
        }
        _ => Err(check.invalid(
            &key,
            format!(
                "term `{}` needs either `by` and `values` or `numeric`",
                t.id
            ),
        )),
    }
}

/// Appends a nested array of `shape` to `out`, outer dimension first.
fn flatten(value: &toml::Value, shape: &[usize], out: &mut Vec<f64>) -> Result<(), ()> {
    let Some((&n, rest)) = shape.split_first() else {
        let number = match value {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            _ => return Err(()),
        };
        if !number.is_finite() {
            return Err(());
        }
        out.push(number);
        return Ok(());
    };
    let items = value.as_array().ok_or(())?;
    if items.len() != n {
        return Err(());
    }
    items.iter().try_for_each(|item| flatten(item, rest, out))
}

fn package(
    check: &Check,
    k: usize,
    p: &PackageFile2,
    variables: &[Variable],
) -> Result<Package2, ModelError> {
    let key = format!("packages[{k}]");
    if p.id.trim().is_empty() {
        return Err(check.invalid(&format!("{key}.id"), "must not be empty".into()));
    }
    let count_at_least = match &p.count_at_least {
        None => None,
        Some(rule) => {
            let v = variables
                .iter()
                .position(|v| v.name == rule.variable)
                .filter(|&v| matches!(variables[v].kind, Kind::Count { .. }))
                .ok_or_else(|| {
                    check.invalid(
                        &format!("{key}.count_at_least.variable"),
                        format!("`{}` is not a declared count variable", rule.variable),
                    )
                })?;
            let top = variables[v].levels() as i64 - 1;
            if !(1..=top).contains(&rule.value) {
                return Err(check.invalid(
                    &format!("{key}.count_at_least.value"),
                    format!("value `{}` must be 1..={top}", rule.value),
                ));
            }
            Some((v, rule.value as u32))
        }
    };
    if p.any_of.is_empty() && count_at_least.is_none() {
        return Err(check.invalid(
            &key,
            format!(
                "package `{}` has no qualifying rule: name `any_of` or set `count_at_least`",
                p.id
            ),
        ));
    }
    let multiply = check.finite(&format!("{key}.multiply"), p.multiply)?;
    if multiply < 0.0 {
        return Err(check.invalid(
            &format!("{key}.multiply"),
            format!("value `{multiply}` is negative, expected a factor of 0 or more"),
        ));
    }
    for (j, &share) in p.phase_in.iter().enumerate() {
        if !(0.0..=1.0).contains(&share) {
            return Err(check.invalid(
                &format!("{key}.phase_in[{j}]"),
                format!("share `{share}` is outside 0..=1"),
            ));
        }
    }
    Ok(Package2 {
        id: p.id.clone(),
        start_year: p.start_year,
        any_of: p.any_of.clone(),
        count_at_least,
        add: check.finite(&format!("{key}.add"), p.add)?,
        multiply,
        phase_in: p.phase_in.clone(),
    })
}

impl Term {
    pub fn id(&self) -> &str {
        term_id(self)
    }

    pub fn component(&self) -> Component {
        match self {
            Term::Table { component, .. } | Term::Numeric { component, .. } => *component,
        }
    }
}

impl Variable {
    /// The label of level `k` in a cell's name: the declared value, a
    /// band's lower edge, `false`/`true`, or the count.
    pub fn label(&self, k: usize) -> String {
        match &self.kind {
            Kind::Levels { levels, .. } => levels.get(k).map_or(String::new(), i64::to_string),
            Kind::Bands { edges, .. } => edges.get(k).map_or(String::new(), i64::to_string),
            Kind::Flag { .. } => (k == 1).to_string(),
            Kind::Count { .. } => k.to_string(),
        }
    }

    /// The level whose label is `label` (a band also by any value in it).
    pub fn level_of(&self, label: &str) -> Option<usize> {
        match &self.kind {
            Kind::Levels { levels, .. } => {
                let v: i64 = label.parse().ok()?;
                levels.iter().position(|&l| l == v)
            }
            Kind::Bands { edges, .. } => {
                let v: i64 = label.parse().ok()?;
                edges.iter().position(|&e| e == v)
            }
            Kind::Flag { .. } => match label {
                "true" | "1" => Some(1),
                "false" | "0" => Some(0),
                _ => None,
            },
            Kind::Count { top, .. } => label.parse::<usize>().ok().filter(|&k| k <= *top as usize),
        }
    }
}

/// A coefficient of a format-2 model: a table's cell or a numeric term's
/// coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coefficient {
    pub term: usize,
    /// The flat cell index (0 for a numeric term).
    pub cell: usize,
}

impl Spec {
    /// The readable name of a coefficient: `term[label, label]` for a
    /// table's cell (levels in `by` order: the declared value, a band's
    /// lower edge, `true`/`false`, a count), the term id for a numeric
    /// term. E.g. `age_sex[2, 85]`, `copd_by_age[true, 65]`, `area`.
    pub fn coefficient_name(&self, c: Coefficient) -> String {
        match &self.terms[c.term] {
            Term::Numeric { id, .. } => id.clone(),
            Term::Table { id, by, shape, .. } => {
                let mut rest = c.cell;
                let mut labels = vec![String::new(); by.len()];
                for k in (0..by.len()).rev() {
                    labels[k] = self.variables[by[k]].label(rest % shape[k]);
                    rest /= shape[k];
                }
                format!("{id}[{}]", labels.join(", "))
            }
        }
    }

    /// The coefficient a name addresses (as `coefficient_name` writes it;
    /// spaces optional).
    pub fn coefficient(&self, name: &str) -> Result<Coefficient, String> {
        let name = name.trim();
        let (id, labels) = match name.split_once('[') {
            Some((id, rest)) => {
                let inner = rest
                    .strip_suffix(']')
                    .ok_or_else(|| format!("`{name}`: expected term[level, ...]"))?;
                (id.trim(), Some(inner))
            }
            None => (name, None),
        };
        let term = self
            .terms
            .iter()
            .position(|t| t.id() == id)
            .ok_or_else(|| format!("the model has no term `{id}`"))?;
        match (&self.terms[term], labels) {
            (Term::Numeric { .. }, None) => Ok(Coefficient { term, cell: 0 }),
            (Term::Numeric { .. }, Some(_)) => {
                Err(format!("`{id}` is a numeric term: name it without levels"))
            }
            (Term::Table { by, shape, .. }, Some(inner)) => {
                let labels: Vec<&str> = inner.split(',').map(str::trim).collect();
                if labels.len() != by.len() {
                    return Err(format!(
                        "`{id}` is a table over {} variables; name one level of each",
                        by.len()
                    ));
                }
                let mut cell = 0;
                for ((&v, &n), label) in by.iter().zip(shape).zip(&labels) {
                    let variable = &self.variables[v];
                    let level = variable.level_of(label).ok_or_else(|| {
                        let all: Vec<String> = (0..n).map(|k| variable.label(k)).collect();
                        format!(
                            "`{label}` is not a level of `{}`; expected one of {}",
                            variable.name,
                            all.join(", ")
                        )
                    })?;
                    cell = cell * n + level;
                }
                Ok(Coefficient { term, cell })
            }
            (Term::Table { .. }, None) => Err(format!(
                "`{id}` is a table: name a cell as {id}[level, ...]"
            )),
        }
    }

    /// Sets a coefficient.
    pub fn set(&mut self, c: Coefficient, value: f64) {
        match &mut self.terms[c.term] {
            Term::Numeric { coefficient, .. } => *coefficient = value,
            Term::Table { values, .. } => {
                if let Some(v) = values.get_mut(c.cell) {
                    *v = value;
                }
            }
        }
    }

    /// A coefficient's value.
    pub fn get(&self, c: Coefficient) -> f64 {
        match &self.terms[c.term] {
            Term::Numeric { coefficient, .. } => *coefficient,
            Term::Table { values, .. } => values.get(c.cell).copied().unwrap_or(0.0),
        }
    }

    /// The boolean columns the model reads, each once: flags named by terms
    /// (flag variables), counts and packages' `any_of` (a hierarchy names
    /// only these). Bit `k` of a person's flag mask is `flags()[k]`.
    pub fn flags(&self) -> Vec<String> {
        let mut used = Vec::new();
        let mut add = |name: &String| {
            if !used.contains(name) {
                used.push(name.clone());
            }
        };
        for v in &self.variables {
            match &v.kind {
                Kind::Flag { column } => add(column),
                Kind::Count { flags, .. } => flags.iter().for_each(&mut add),
                Kind::Levels { .. } | Kind::Bands { .. } => {}
            }
        }
        for p in &self.packages {
            p.any_of.iter().for_each(&mut add);
        }
        used
    }

    /// The mask of some flags (names the model does not read are left out).
    pub fn flag_mask(&self, names: &[String]) -> u64 {
        let flags = self.flags();
        names
            .iter()
            .filter_map(|n| flags.iter().position(|f| f == n))
            .fold(0, |mask, k| mask | 1u64 << k)
    }

    /// The bit of a flag column, if the model reads it.
    pub fn flag_bit(&self, column: &str) -> Option<usize> {
        self.flags().iter().position(|f| f == column)
    }

    /// The variables read from an integer column (levels and bands), in
    /// variable order: a person's level of `coded()[k]` is code column `k`.
    pub fn coded(&self) -> Vec<usize> {
        (0..self.variables.len())
            .filter(|&v| {
                matches!(
                    self.variables[v].kind,
                    Kind::Levels { .. } | Kind::Bands { .. }
                )
            })
            .collect()
    }

    /// The population float columns numeric terms read (all but
    /// `GEOGRAPHY_NUMERIC`), each once, in term order.
    pub fn numeric_columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for t in &self.terms {
            if let Term::Numeric { column, .. } = t {
                if column != GEOGRAPHY_NUMERIC && !columns.contains(column) {
                    columns.push(column.clone());
                }
            }
        }
        columns
    }

    /// Whether a numeric term reads the geography's `area_index`.
    pub fn uses_area_index(&self) -> bool {
        self.terms
            .iter()
            .any(|t| matches!(t, Term::Numeric { column, .. } if column == GEOGRAPHY_NUMERIC))
    }

    /// How a population read for this model is laid out: its flags, the
    /// kinds of its coded variables, its numeric columns.
    pub fn layout(&self) -> (Vec<String>, Vec<Kind>, Vec<String>) {
        (
            self.flags(),
            self.coded()
                .into_iter()
                .map(|v| self.variables[v].kind.clone())
                .collect(),
            self.numeric_columns(),
        )
    }

    /// What in the model names a population column, for messages: the
    /// first term that reads it (through a variable), else the variable,
    /// package or hierarchy.
    pub fn named_by(&self, column: &str) -> String {
        let reads = |v: &Variable| match &v.kind {
            Kind::Levels { column: c, .. }
            | Kind::Bands { column: c, .. }
            | Kind::Flag { column: c } => c == column,
            Kind::Count { flags, .. } => flags.iter().any(|f| f == column),
        };
        for t in &self.terms {
            let named = match t {
                Term::Table { by, .. } => by.iter().any(|&v| reads(&self.variables[v])),
                Term::Numeric { column: c, .. } => c == column,
            };
            if named {
                return format!("term `{}`", t.id());
            }
        }
        if let Some(v) = self.variables.iter().find(|v| reads(v)) {
            return format!("variable `{}`", v.name);
        }
        if let Some(p) = self
            .packages
            .iter()
            .find(|p| p.any_of.iter().any(|f| f == column))
        {
            return format!("package `{}`", p.id);
        }
        "hierarchy".into()
    }

    /// The free parameters of each term under SPEC 3.1's fitting rule:
    /// every cell of the first term, the cells of other tables where no
    /// variable is at its first level, and each numeric coefficient.
    pub fn free_parameters(&self) -> Vec<usize> {
        self.terms
            .iter()
            .enumerate()
            .map(|(k, term)| match term {
                Term::Table { shape, .. } if k == 0 => shape.iter().product(),
                Term::Table { shape, .. } => shape.iter().map(|n| n.saturating_sub(1)).product(),
                Term::Numeric { .. } => 1,
            })
            .collect()
    }

    /// The population columns the model names (sorted, each once);
    /// numeric terms' columns may instead come from the geography.
    pub fn columns(&self) -> (Vec<String>, Vec<String>) {
        let mut population = std::collections::BTreeSet::new();
        for v in &self.variables {
            match &v.kind {
                Kind::Levels { column, .. }
                | Kind::Bands { column, .. }
                | Kind::Flag { column } => {
                    population.insert(column.clone());
                }
                Kind::Count { flags, .. } => population.extend(flags.iter().cloned()),
            }
        }
        for (flag, dropped) in &self.hierarchies {
            population.insert(flag.clone());
            population.extend(dropped.iter().cloned());
        }
        for p in &self.packages {
            population.extend(p.any_of.iter().cloned());
        }
        let numeric = self
            .terms
            .iter()
            .filter_map(|t| match t {
                Term::Numeric { column, .. } => Some(column.clone()),
                Term::Table { .. } => None,
            })
            .collect();
        (population.into_iter().collect(), numeric)
    }

    /// The model as a readable table: variables, terms with their shapes
    /// and free parameters, packages.
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "model {} (format 2, {} link)",
            self.id,
            self.link.as_str()
        );
        let _ = writeln!(out, "\nvariables");
        for v in &self.variables {
            let what = match &v.kind {
                Kind::Levels { column, levels } => format!("column `{column}`, levels {levels:?}"),
                Kind::Bands { column, edges } => format!("column `{column}`, bands from {edges:?}"),
                Kind::Count { flags, top } => format!("count of {}, top {top}", flags.join(", ")),
                Kind::Flag { column } => format!("flag `{column}`"),
            };
            let _ = writeln!(out, "  {:<20} {:>3} levels  {what}", v.name, v.levels());
        }
        let _ = writeln!(out, "\nterms");
        let free = self.free_parameters();
        for (term, free) in self.terms.iter().zip(&free) {
            let (id, component, shape) = match term {
                Term::Table {
                    id,
                    component,
                    by,
                    shape,
                    ..
                } => {
                    let names: Vec<&str> = by
                        .iter()
                        .map(|&v| self.variables[v].name.as_str())
                        .collect();
                    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
                    (
                        id,
                        component,
                        format!("{} [{}]", names.join(" × "), dims.join("×")),
                    )
                }
                Term::Numeric {
                    id,
                    component,
                    column,
                    ..
                } => (id, component, format!("× `{column}`")),
            };
            let _ = writeln!(
                out,
                "  {id:<20} {:<15} {shape:<40} {free} free",
                format!("{component:?}")
            );
        }
        let _ = writeln!(
            out,
            "  {:<20} {:<15} {:<40} {} free",
            "total",
            "",
            "",
            free.iter().sum::<usize>()
        );
        if !self.hierarchies.is_empty() {
            let _ = writeln!(out, "\nhierarchies");
            for (flag, dropped) in &self.hierarchies {
                let _ = writeln!(out, "  {flag} drops {}", dropped.join(", "));
            }
        }
        if !self.packages.is_empty() {
            let _ = writeln!(out, "\npackages");
            for p in &self.packages {
                let mut rule = p.any_of.join(" or ");
                if let Some((v, level)) = p.count_at_least {
                    if !rule.is_empty() {
                        rule.push_str(" or ");
                    }
                    let _ = write!(rule, "{} ≥ {level}", self.variables[v].name);
                }
                let _ = writeln!(
                    out,
                    "  {:<20} from {}  {rule}  add {} multiply {}",
                    p.id, p.start_year, p.add, p.multiply
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROPOSAL: &str = "[proposal]\nclosing_fraction = 1.0\nround_to = 10\nmin_per_capacity = 0\nmax_per_capacity = 0\nmax_increase = 0.05\nmax_decrease = 0.10\ndialogue_threshold = 0.10\nuncertainty_threshold = 0.10\n";

    fn model(body: &str) -> String {
        format!("[model]\nformat = 2\nid = \"t\"\nlink = \"identity\"\noutcome = \"x\"\ndata_year = 2025\n{body}\n{PROPOSAL}")
    }

    fn error(body: &str) -> String {
        parse(&model(body), Path::new("m.toml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn an_interaction_a_flag_a_count_and_a_numeric_term() {
        let text = model(
            r#"
[variables]
sex = { levels = [1, 2] }
age_band = { column = "age", edges = [0, 65, 80] }
n_conditions = { count = ["cond_copd", "cond_asthma"], top = 2 }

[[hierarchies]]
if = "cond_copd"
drop = ["cond_asthma"]

[[terms]]
id = "age_sex"
component = "age_sex"
by = ["sex", "age_band"]
values = [[1, 2, 3], [4, 5, 6]]

[[terms]]
id = "copd_by_age"
component = "conditions"
by = ["cond_copd", "age_band"]
values = [[0, 0, 0], [10.5, 20, 30]]

[[terms]]
id = "area"
component = "area"
numeric = "area_index"
coefficient = 280.0

[[packages]]
id = "multi"
start_year = 2031
count_at_least = { variable = "n_conditions", value = 2 }
add = 240.0
"#,
        );
        assert!(is_format2(&text));
        let spec = parse(&text, Path::new("m.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.terms.len(), 3);
        let Term::Table {
            shape, values, by, ..
        } = &spec.terms[1]
        else {
            panic!("a table")
        };
        assert_eq!(shape, &vec![2, 3]);
        assert_eq!(values, &vec![0.0, 0.0, 0.0, 10.5, 20.0, 30.0]);
        // `cond_copd` was not declared: a boolean flag variable.
        assert_eq!(
            spec.variables[by[0]].kind,
            Kind::Flag {
                column: "cond_copd".into()
            }
        );
        assert_eq!(spec.variables[by[1]].levels(), 3);
        let count = spec.packages[0].count_at_least.unwrap_or((usize::MAX, 0));
        assert_eq!(spec.variables[count.0].name, "n_conditions");
        assert_eq!(count.1, 2);
        assert_eq!(
            spec.hierarchies,
            vec![("cond_copd".to_string(), vec!["cond_asthma".to_string()])]
        );
    }

    #[test]
    fn a_shape_mismatch_names_the_term_and_the_shape() {
        let e = error(
            "[variables]\nsex = { levels = [1, 2] }\n[[terms]]\nid = \"s\"\ncomponent = \"age_sex\"\nby = [\"sex\"]\nvalues = [1, 2, 3]\n",
        );
        assert!(
            e.contains("terms[0].values") && e.contains("`s`") && e.contains("[2]"),
            "{e}"
        );
    }

    #[test]
    fn bad_declarations_are_named() {
        for (body, expect) in [
            ("[variables]\nx = { levels = [2, 1] }\n", "variables.x.levels"),
            ("[variables]\nx = { column = \"age\", edges = [0, 0] }\n", "variables.x.edges"),
            ("[variables]\nx = { count = [\"cond_a\"] }\n", "variables.x.top"),
            ("[variables]\nx = { levels = [1], edges = [0] }\n", "exactly one"),
            ("[[terms]]\nid = \"a\"\ncomponent = \"weird\"\nnumeric = \"z\"\ncoefficient = 1.0\n", "not a component"),
            ("[[packages]]\nid = \"p\"\nstart_year = 2027\n", "no qualifying rule"),
            ("[[packages]]\nid = \"p\"\nstart_year = 2027\ncount_at_least = { variable = \"n\", value = 2 }\n", "not a declared count"),
            ("[variables]\nq = { levels = [1] }\nbogus = 1\n", "m.toml"),
        ] {
            let e = error(body);
            assert!(e.contains(expect), "{body}: {e}");
        }
    }

    #[test]
    fn an_unknown_header_key_is_an_error() {
        let text = model("").replace("data_year = 2025", "data_year = 2025\nbogus = 1");
        let e = parse(&text, Path::new("m.toml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn format_1_text_is_not_format_2() {
        assert!(!is_format2("[model]\nid = \"x\"\n"));
        assert!(!is_format2("not toml ["));
    }
}
