//! The model file as it is on disk (SPEC section 3): a serde mirror of the
//! TOML with `deny_unknown_fields` everywhere, so a misspelt key is an error
//! rather than a silently ignored coefficient. Nothing here is validated
//! beyond shape; `Model::from_file` turns this into a model whose
//! invariants hold.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub model: Header,
    pub age_sex: AgeSex,
    #[serde(default)]
    pub socioeconomic: Socioeconomic,
    #[serde(default)]
    pub conditions: BTreeMap<String, f64>,
    #[serde(default)]
    pub multimorbidity: Vec<Threshold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    #[serde(default)]
    pub packages: Vec<PackageFile>,
    pub proposal: ProposalFile,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub id: String,
    #[serde(default)]
    pub description: String,
    pub link: String,
    pub outcome: String,
    pub data_year: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgeSex {
    pub male: Vec<f64>,
    pub female: Vec<f64>,
}

/// One table per categorical column; the keys are the levels as text
/// (`"1"`, `"2"`, ... or `"true"` for `lives_alone`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Socioeconomic {
    #[serde(default)]
    pub education: BTreeMap<String, f64>,
    #[serde(default)]
    pub income_quintile: BTreeMap<String, f64>,
    #[serde(default)]
    pub labour: BTreeMap<String, f64>,
    #[serde(default)]
    pub origin: BTreeMap<String, f64>,
    #[serde(default)]
    pub lives_alone: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub at_least: i64,
    pub add: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub coefficient: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackageFile {
    pub id: String,
    pub start_year: i32,
    #[serde(default)]
    pub conditions: Vec<String>,
    #[serde(default)]
    pub min_conditions: i64,
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalFile {
    #[serde(default = "one")]
    pub closing_fraction: f64,
    #[serde(default = "ten")]
    pub round_to: i64,
    #[serde(default)]
    pub min_per_capacity: f64,
    #[serde(default)]
    pub max_per_capacity: f64,
    #[serde(default = "default_max_increase")]
    pub max_increase: f64,
    #[serde(default = "default_max_decrease")]
    pub max_decrease: f64,
    #[serde(default = "default_threshold")]
    pub dialogue_threshold: f64,
    #[serde(default = "default_threshold")]
    pub uncertainty_threshold: f64,
    /// `nation` (default), `region` or `sundhedsraad`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_level: Option<String>,
}

fn ten() -> i64 {
    10
}
fn default_max_increase() -> f64 {
    0.05
}
fn default_max_decrease() -> f64 {
    0.10
}
fn default_threshold() -> f64 {
    0.10
}
