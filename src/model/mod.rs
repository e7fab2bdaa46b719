//! The validated model: coefficients, care packages and proposal rules in a
//! form whose invariants hold by construction (20 age bands per sex, levels
//! in range, packages naming known conditions, at most 64 conditions so a
//! person's conditions fit one bit mask).
//!
//! This module does no I/O except `Model::load`, which reads the file and
//! hashes it; everything else works on values.

mod check;
pub mod coefficient;
pub mod convert;
pub mod file;
pub mod format2;

use crate::error::ModelError;
use check::Check;
use file::ModelFile;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Number of 5-year age bands: 0-4, 5-9, ..., 95+.
pub const AGE_BANDS: usize = 20;
/// The most conditions a model may name (one bit each in a `u64`).
pub const MAX_CONDITIONS: usize = 64;

/// The most care packages a model may have (one bit each in a `u32`).
pub const MAX_PACKAGES: usize = 32;

/// Number of levels of each categorical column (SPEC section 2).
pub const EDUCATION_LEVELS: usize = 5;
pub const INCOME_LEVELS: usize = 6;
pub const LABOUR_LEVELS: usize = 6;
pub const ORIGIN_LEVELS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Identity,
    Log,
}

impl Link {
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Identity => "identity",
            Link::Log => "log",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub at_least: u32,
    pub add: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub id: String,
    pub start_year: i32,
    /// Bit mask over the model's conditions: qualifies with any of these.
    pub condition_mask: u64,
    /// Or with at least this many of the flags in `count_mask` (0 = not
    /// used), the count top-coded at `count_top`: format 1 counts every
    /// condition, format 2 a count variable's flags.
    pub min_conditions: u32,
    pub count_mask: u64,
    pub count_top: u32,
    pub add: f64,
    pub multiply: f64,
    pub phase_in: Vec<f64>,
}

impl Package {
    /// The phase share `φ_p(t)`: 0 before the start year, `phase_in[k]` in
    /// year `start_year + k`, and 1.0 once the schedule has run out.
    pub fn phase_share(&self, year: i32) -> f64 {
        if year < self.start_year {
            return 0.0;
        }
        let k = (i64::from(year) - i64::from(self.start_year)) as usize;
        self.phase_in.get(k).copied().unwrap_or(1.0)
    }

    /// Whether a person with these conditions qualifies.
    #[inline]
    pub fn qualifies(&self, conditions: u64) -> bool {
        (conditions & self.condition_mask) != 0
            || (self.min_conditions > 0
                && (conditions & self.count_mask)
                    .count_ones()
                    .min(self.count_top)
                    >= self.min_conditions)
    }
}

/// Where the reference load is formed (SPEC section 4, load level): one
/// `L` for the nation, or an `L_a` for each region or sundhedsråd over the
/// clinics located there.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LoadLevel {
    #[default]
    Nation,
    Region,
    Sundhedsraad,
}

impl LoadLevel {
    pub const ALL: [LoadLevel; 3] = [
        LoadLevel::Nation,
        LoadLevel::Region,
        LoadLevel::Sundhedsraad,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoadLevel::Nation => "nation",
            LoadLevel::Region => "region",
            LoadLevel::Sundhedsraad => "sundhedsraad",
        }
    }

    /// The level named `text` (`nation`, `region`, `sundhedsraad`).
    pub fn parse(text: &str) -> Option<LoadLevel> {
        LoadLevel::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

impl std::fmt::Display for LoadLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The proposal rules of SPEC section 4.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRules {
    pub closing_fraction: f64,
    pub round_to: i64,
    /// 0 = no floor.
    pub min_per_capacity: f64,
    /// 0 = no ceiling.
    pub max_per_capacity: f64,
    /// Negative = off.
    pub max_increase: f64,
    /// Negative = off.
    pub max_decrease: f64,
    pub dialogue_threshold: f64,
    pub uncertainty_threshold: f64,
    /// `load_level`: nation (default), region or sundhedsraad.
    pub load_level: LoadLevel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub id: String,
    pub description: String,
    pub link: Link,
    pub outcome: String,
    pub data_year: i32,
    /// `[sex][band]`, sex 0 = male, 1 = female.
    pub age_sex: [[f64; AGE_BANDS]; 2],
    pub education: [f64; EDUCATION_LEVELS],
    pub income_quintile: [f64; INCOME_LEVELS],
    pub labour: [f64; LABOUR_LEVELS],
    pub origin: [f64; ORIGIN_LEVELS],
    /// `[false, true]`.
    pub lives_alone: [f64; 2],
    /// Which socioeconomic tables the file names, in the order education,
    /// income_quintile, labour, origin, lives_alone (what `fit` estimates).
    pub socioeconomic_terms: [bool; 5],
    /// Condition names in file order (alphabetical), with coefficients. The
    /// population column for condition `k` is `cond_<name>`, bit `k`.
    pub conditions: Vec<(String, f64)>,
    pub multimorbidity: Vec<Threshold>,
    /// Coefficient on the residence kommune's `area_index`, when the model has an `[area]` term.
    pub area: Option<f64>,
    pub packages: Vec<Package>,
    pub proposal: ProposalRules,
    /// A format-2 model's terms (SPEC 3.1). The format-1 tables above are
    /// then all 0, `conditions` is empty and the packages' masks are over
    /// the spec's flags (`Spec::flags`).
    pub format2: Option<std::sync::Arc<format2::Spec>>,
}

/// A model together with where it came from, for the manifest.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    pub model: Model,
    pub path: PathBuf,
    pub sha256: String,
}

impl Model {
    /// Reads, parses and validates a model file.
    pub fn load(path: &Path) -> Result<LoadedModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = sha256_hex(&bytes);
        let model = Model::parse(&bytes, path)?;
        Ok(LoadedModel {
            model,
            path: path.to_path_buf(),
            sha256,
        })
    }

    /// Parses and validates model text; `path` is only used in messages.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Model, ModelError> {
        let text = toml_text(bytes, path)?;
        if format2::is_format2(text) {
            // Checked in full, so a format-2 file's own mistakes are named.
            return Ok(Model::from_spec(format2::parse(text, path)?));
        }
        let file: ModelFile = toml::from_str(text).map_err(|e| ModelError::Parse {
            path: path.to_path_buf(),
            detail: one_line(&e.to_string()),
        })?;
        Model::from_file(file, path)
    }

    /// A format-2 model: header, packages and proposal rules here, the
    /// terms in `format2`.
    pub fn from_spec(spec: format2::Spec) -> Model {
        let packages = spec
            .packages
            .iter()
            .map(|p| {
                let (count_mask, count_top, min_conditions) = match p.count_at_least {
                    Some((v, value)) => match &spec.variables[v].kind {
                        format2::Kind::Count { flags, top } => (spec.flag_mask(flags), *top, value),
                        _ => (0, 0, 0),
                    },
                    None => (0, 0, 0),
                };
                Package {
                    id: p.id.clone(),
                    start_year: p.start_year,
                    condition_mask: spec.flag_mask(&p.any_of),
                    min_conditions,
                    count_mask,
                    count_top,
                    add: p.add,
                    multiply: p.multiply,
                    phase_in: p.phase_in.clone(),
                }
            })
            .collect();
        Model {
            id: spec.id.clone(),
            description: spec.description.clone(),
            link: spec.link,
            outcome: spec.outcome.clone(),
            data_year: spec.data_year,
            age_sex: [[0.0; AGE_BANDS]; 2],
            education: [0.0; EDUCATION_LEVELS],
            income_quintile: [0.0; INCOME_LEVELS],
            labour: [0.0; LABOUR_LEVELS],
            origin: [0.0; ORIGIN_LEVELS],
            lives_alone: [0.0; 2],
            socioeconomic_terms: [false; 5],
            conditions: Vec::new(),
            multimorbidity: Vec::new(),
            area: None,
            packages,
            proposal: spec.proposal.clone(),
            format2: Some(std::sync::Arc::new(spec)),
        }
    }

    /// The format-2 model this model is: its own terms, or a format-1
    /// model converted (`Spec::from_format1`).
    pub fn spec(&self) -> Result<format2::Spec, String> {
        match &self.format2 {
            Some(spec) => Ok(spec.as_ref().clone()),
            None => format2::Spec::from_format1(self),
        }
    }

    /// Whether a population read for `other` holds what this model reads,
    /// in the same places: the same conditions (format 1), or the same
    /// flags, coded variables and numeric columns (format 2).
    pub fn reads_like(&self, other: &Model) -> bool {
        match (&self.format2, &other.format2) {
            (None, None) => self
                .conditions
                .iter()
                .map(|c| &c.0)
                .eq(other.conditions.iter().map(|c| &c.0)),
            (Some(a), Some(b)) => a.layout() == b.layout(),
            _ => false,
        }
    }

    /// Validates an on-disk model.
    pub fn from_file(file: ModelFile, path: &Path) -> Result<Model, ModelError> {
        let check = Check { path };
        if file.model.id.trim().is_empty() {
            return Err(check.invalid("model.id", "must not be empty".into()));
        }
        let link = check.link(&file.model.link)?;
        let age_sex = check.age_sex(&file.age_sex)?;
        let socio = &file.socioeconomic;
        let education =
            level_table::<EDUCATION_LEVELS>(&socio.education, "socioeconomic.education", path)?;
        let income_quintile = level_table::<INCOME_LEVELS>(
            &socio.income_quintile,
            "socioeconomic.income_quintile",
            path,
        )?;
        let labour = level_table::<LABOUR_LEVELS>(&socio.labour, "socioeconomic.labour", path)?;
        let origin = level_table::<ORIGIN_LEVELS>(&socio.origin, "socioeconomic.origin", path)?;
        let lives_alone = check.lives_alone(&socio.lives_alone)?;
        let conditions = check.conditions(&file.conditions)?;
        let multimorbidity = check.multimorbidity(&file.multimorbidity)?;
        let area = match &file.area {
            Some(area) => Some(check.finite("area.coefficient", area.coefficient)?),
            None => None,
        };
        let packages = check.packages(&file.packages, &conditions)?;
        let proposal = check.proposal(&file.proposal)?;
        Ok(Model {
            id: file.model.id,
            description: file.model.description,
            link,
            outcome: file.model.outcome,
            data_year: file.model.data_year,
            age_sex,
            education,
            income_quintile,
            labour,
            origin,
            lives_alone,
            socioeconomic_terms: [
                !socio.education.is_empty(),
                !socio.income_quintile.is_empty(),
                !socio.labour.is_empty(),
                !socio.origin.is_empty(),
                !socio.lives_alone.is_empty(),
            ],
            conditions,
            multimorbidity,
            area,
            packages,
            proposal,
            format2: None,
        })
    }

    /// The model as its on-disk form, for writing a fitted or varied model.
    /// Tables the model does not name stay absent; the reference levels
    /// (0, `false`) are left out as they are 0 by definition.
    pub fn to_file(&self) -> ModelFile {
        use std::collections::BTreeMap;
        // Every level but the reference, and the reference too when a file
        // gave it a coefficient (found by fuzzing: `model_parser`, crash
        // 13b26869, `origin "0" = -25` was lost on the way back).
        let table = |values: &[f64], present: bool| -> BTreeMap<String, f64> {
            if !present {
                return BTreeMap::new();
            }
            values
                .iter()
                .enumerate()
                .filter(|(level, v)| *level > 0 || **v != 0.0)
                .map(|(level, &v)| (level.to_string(), v))
                .collect()
        };
        let names = |mask: u64| -> Vec<String> {
            self.conditions
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1u64 << k) != 0)
                .map(|(_, (name, _))| name.clone())
                .collect()
        };
        ModelFile {
            model: file::Header {
                id: self.id.clone(),
                description: self.description.clone(),
                link: self.link.as_str().to_string(),
                outcome: self.outcome.clone(),
                data_year: self.data_year,
            },
            age_sex: file::AgeSex {
                male: self.age_sex[0].to_vec(),
                female: self.age_sex[1].to_vec(),
            },
            socioeconomic: file::Socioeconomic {
                education: table(&self.education, self.socioeconomic_terms[0]),
                income_quintile: table(&self.income_quintile, self.socioeconomic_terms[1]),
                labour: table(&self.labour, self.socioeconomic_terms[2]),
                origin: table(&self.origin, self.socioeconomic_terms[3]),
                lives_alone: if self.socioeconomic_terms[4] {
                    let mut table = BTreeMap::from([("true".to_string(), self.lives_alone[1])]);
                    if self.lives_alone[0] != 0.0 {
                        table.insert("false".to_string(), self.lives_alone[0]);
                    }
                    table
                } else {
                    BTreeMap::new()
                },
            },
            conditions: self.conditions.iter().cloned().collect(),
            multimorbidity: self
                .multimorbidity
                .iter()
                .map(|t| file::Threshold {
                    at_least: i64::from(t.at_least),
                    add: t.add,
                })
                .collect(),
            area: self.area.map(|coefficient| file::Area { coefficient }),
            packages: self
                .packages
                .iter()
                .map(|p| file::PackageFile {
                    id: p.id.clone(),
                    start_year: p.start_year,
                    conditions: names(p.condition_mask),
                    min_conditions: i64::from(p.min_conditions),
                    add: p.add,
                    multiply: p.multiply,
                    phase_in: p.phase_in.clone(),
                })
                .collect(),
            proposal: file::ProposalFile {
                closing_fraction: self.proposal.closing_fraction,
                round_to: self.proposal.round_to,
                min_per_capacity: self.proposal.min_per_capacity,
                max_per_capacity: self.proposal.max_per_capacity,
                max_increase: self.proposal.max_increase,
                max_decrease: self.proposal.max_decrease,
                dialogue_threshold: self.proposal.dialogue_threshold,
                uncertainty_threshold: self.proposal.uncertainty_threshold,
                load_level: (self.proposal.load_level != LoadLevel::Nation)
                    .then(|| self.proposal.load_level.as_str().to_string()),
            },
        }
    }

    /// The model as TOML text that `Model::parse` reads back to the same model.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(&self.to_file()).map_err(|e| e.to_string())
    }

    /// The population column that holds condition `name`.
    pub fn condition_column(name: &str) -> String {
        format!("cond_{name}")
    }
}

/// The age band (0..20) of an age in years.
#[inline]
pub fn age_band(age: u8) -> usize {
    (usize::from(age) / 5).min(AGE_BANDS - 1)
}

fn level_table<const N: usize>(
    table: &std::collections::BTreeMap<String, f64>,
    key: &str,
    path: &Path,
) -> Result<[f64; N], ModelError> {
    let mut out = [0.0; N];
    for (level, &value) in table {
        let full_key = format!("{key}.{level}");
        let index: usize = match level.parse::<usize>() {
            Ok(i) if i < N => i,
            _ => {
                return Err(ModelError::Invalid {
                    path: path.to_path_buf(),
                    key: full_key,
                    detail: format!("`{level}` is not a level; expected \"0\" to \"{}\"", N - 1),
                })
            }
        };
        if !value.is_finite() {
            return Err(ModelError::Invalid {
                path: path.to_path_buf(),
                key: full_key,
                detail: format!("value `{value}` is not a finite number"),
            });
        }
        out[index] = value;
    }
    Ok(out)
}

/// The text of a TOML file (model or scenarios): UTF-8, a leading byte-order
/// mark dropped; `path` is only used in messages.
pub fn toml_text<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, ModelError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ModelError::Parse {
        path: path.to_path_buf(),
        detail: format!("not valid UTF-8 text ({e})"),
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Collapses a multi-line parser message (toml's carets) into one line.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const MINIMAL: &str = r#"
[model]
id = "t"
link = "identity"
outcome = "gp_fee_dkk"
data_year = 2025
[age_sex]
male = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]
female = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]
[conditions]
copd = 2.0
[proposal]
"#;

    fn parse(text: &str) -> Result<Model, ModelError> {
        Model::parse(text.as_bytes(), Path::new("m.toml"))
    }

    #[test]
    fn minimal_model_parses_with_defaults() {
        let model = parse(MINIMAL).unwrap();
        assert_eq!(model.proposal.round_to, 10);
        assert_eq!(model.conditions, vec![("copd".to_string(), 2.0)]);
    }

    #[test]
    fn unknown_key_is_an_error() {
        let text = MINIMAL.replace("[proposal]", "[proposal]\nround_too = 5");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("round_too"), "{err}");
    }

    #[test]
    fn wrong_length_age_table() {
        let text = MINIMAL.replace("male = [1,1,", "male = [1,");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("age_sex.male") && err.contains("19 numbers"),
            "{err}"
        );
    }

    #[test]
    fn package_with_unknown_condition() {
        let text = format!(
            "{MINIMAL}\n[[packages]]\nid = \"p\"\nstart_year = 2027\nconditions = [\"asthma\"]\nadd = 1.0\n"
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("asthma") && err.contains("packages[0]"),
            "{err}"
        );
    }

    #[test]
    fn phase_share_schedule() {
        let package = Package {
            id: "p".into(),
            start_year: 2027,
            condition_mask: 1,
            min_conditions: 0,
            count_mask: u64::MAX,
            count_top: 64,
            add: 1.0,
            multiply: 1.0,
            phase_in: vec![0.25, 0.5],
        };
        assert_eq!(package.phase_share(2026), 0.0);
        assert_eq!(package.phase_share(2027), 0.25);
        assert_eq!(package.phase_share(2028), 0.5);
        assert_eq!(package.phase_share(2029), 1.0);
    }

    #[test]
    fn writing_and_reading_back_gives_the_same_model() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/reference-2027.toml"
        ))
        .unwrap();
        let model = parse(&text).unwrap();
        let again = parse(&model.to_toml().unwrap()).unwrap();
        assert_eq!(model, again);
    }

    /// Fuzzing (`model_parser`, crash 13b26869): a coefficient on a
    /// reference level must survive writing the model back.
    #[test]
    fn fuzz_13b26869_reference_level_coefficient_round_trips() {
        let text = MINIMAL.replace(
            "[conditions]",
            "[socioeconomic]\norigin = { \"0\" = -25.0, \"2\" = 135.0 }\nlives_alone = { \"false\" = 3.0, \"true\" = 5.0 }\n[conditions]",
        );
        let model = parse(&text).unwrap();
        assert_eq!(model.origin[0], -25.0);
        let again = parse(&model.to_toml().unwrap()).unwrap();
        assert_eq!(model, again);
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        let text = format!("\u{feff}{MINIMAL}");
        assert!(parse(&text).is_ok());
    }
}
