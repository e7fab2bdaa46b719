//! The checks that turn a model file (`file::ModelFile`) into a valid
//! `Model`, one unit per section of the file; every error names the file
//! and the key.

use super::file::{self as on_disk, AgeSex, PackageFile, ProposalFile};
use super::*;
use std::collections::BTreeMap;

/// Checks against one model file, named in every error.
pub(super) struct Check<'a> {
    pub(super) path: &'a Path,
}

impl Check<'_> {
    pub(super) fn invalid(&self, key: &str, detail: String) -> ModelError {
        ModelError::Invalid {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            detail,
        }
    }

    pub(super) fn finite(&self, key: &str, value: f64) -> Result<f64, ModelError> {
        if value.is_finite() {
            Ok(value)
        } else {
            Err(self.invalid(key, format!("value `{value}` is not a finite number")))
        }
    }

    /// `model.link`.
    pub(super) fn link(&self, link: &str) -> Result<Link, ModelError> {
        let link = match link {
            "identity" => Link::Identity,
            "log" => Link::Log,
            other => {
                return Err(self.invalid(
                    "model.link",
                    format!("`{other}` is not a link; expected `identity` or `log`"),
                ))
            }
        };
        Ok(link)
    }

    /// `[age_sex]`: 20 finite numbers for each sex.
    pub(super) fn age_sex(&self, table: &AgeSex) -> Result<[[f64; AGE_BANDS]; 2], ModelError> {
        let mut age_sex = [[0.0; AGE_BANDS]; 2];
        for (sex, key, values) in [
            (0, "age_sex.male", &table.male),
            (1, "age_sex.female", &table.female),
        ] {
            if values.len() != AGE_BANDS {
                return Err(self.invalid(
                    key,
                    format!(
                        "has {} numbers, expected {AGE_BANDS} (bands 0-4, 5-9, ..., 95+)",
                        values.len()
                    ),
                ));
            }
            for (band, &value) in values.iter().enumerate() {
                age_sex[sex][band] = self.finite(&format!("{key}[{band}]"), value)?;
            }
        }
        Ok(age_sex)
    }

    /// `socioeconomic.lives_alone`: levels `false` and `true`.
    pub(super) fn lives_alone(
        &self,
        table: &BTreeMap<String, f64>,
    ) -> Result<[f64; 2], ModelError> {
        let mut lives_alone = [0.0; 2];
        for (level, &value) in table {
            let key = format!("socioeconomic.lives_alone.{level}");
            let index = match level.as_str() {
                "false" => 0,
                "true" => 1,
                _ => {
                    return Err(self.invalid(
                        &key,
                        format!("`{level}` is not a level; expected \"true\" or \"false\""),
                    ))
                }
            };
            lives_alone[index] = self.finite(&key, value)?;
        }
        Ok(lives_alone)
    }

    /// `[conditions]`: at most 64, names that can be column suffixes.
    pub(super) fn conditions(
        &self,
        table: &BTreeMap<String, f64>,
    ) -> Result<Vec<(String, f64)>, ModelError> {
        if table.len() > MAX_CONDITIONS {
            return Err(self.invalid(
                "conditions",
                format!(
                    "{} conditions, at most {MAX_CONDITIONS} are supported",
                    table.len()
                ),
            ));
        }
        let mut conditions = Vec::with_capacity(table.len());
        for (name, &value) in table {
            let key = format!("conditions.{name}");
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(self.invalid(
                    &key,
                    "a condition name must be lower-case letters, digits and `_`".into(),
                ));
            }
            conditions.push((name.clone(), self.finite(&key, value)?));
        }
        Ok(conditions)
    }

    /// `[[multimorbidity]]` thresholds.
    pub(super) fn multimorbidity(
        &self,
        thresholds: &[on_disk::Threshold],
    ) -> Result<Vec<Threshold>, ModelError> {
        let mut multimorbidity = Vec::with_capacity(thresholds.len());
        for (k, threshold) in thresholds.iter().enumerate() {
            let key = format!("multimorbidity[{k}]");
            if threshold.at_least < 1 || threshold.at_least > MAX_CONDITIONS as i64 {
                return Err(self.invalid(
                    &format!("{key}.at_least"),
                    format!(
                        "value `{}` is out of range, expected 1..={MAX_CONDITIONS}",
                        threshold.at_least
                    ),
                ));
            }
            multimorbidity.push(Threshold {
                at_least: threshold.at_least as u32,
                add: self.finite(&format!("{key}.add"), threshold.add)?,
            });
        }
        Ok(multimorbidity)
    }

    /// `[[packages]]`: unique ids, known conditions, a qualifying rule,
    /// factors of 0 or more, phase-in shares in 0..=1.
    pub(super) fn packages(
        &self,
        file_packages: &[PackageFile],
        conditions: &[(String, f64)],
    ) -> Result<Vec<Package>, ModelError> {
        let condition_bit = |name: &str| {
            conditions
                .iter()
                .position(|(n, _)| n == name)
                .map(|k| 1u64 << k)
        };
        if file_packages.len() > MAX_PACKAGES {
            return Err(self.invalid(
                "packages",
                format!(
                    "{} packages, at most {MAX_PACKAGES} are supported",
                    file_packages.len()
                ),
            ));
        }
        let mut packages: Vec<Package> = Vec::with_capacity(file_packages.len());
        for (k, package) in file_packages.iter().enumerate() {
            let key = format!("packages[{k}]");
            if package.id.trim().is_empty() {
                return Err(self.invalid(&format!("{key}.id"), "must not be empty".into()));
            }
            if packages.iter().any(|p| p.id == package.id) {
                return Err(self.invalid(
                    &format!("{key}.id"),
                    format!("package id `{}` is used twice", package.id),
                ));
            }
            let mut condition_mask = 0u64;
            for name in &package.conditions {
                match condition_bit(name) {
                    Some(bit) => condition_mask |= bit,
                    None => {
                        return Err(self.invalid(
                            &format!("{key}.conditions"),
                            format!(
                            "package `{}` names condition `{name}`, which is not in [conditions]",
                            package.id
                        ),
                        ))
                    }
                }
            }
            if package.min_conditions < 0 || package.min_conditions > MAX_CONDITIONS as i64 {
                return Err(self.invalid(
                    &format!("{key}.min_conditions"),
                    format!(
                        "value `{}` is out of range, expected 0..={MAX_CONDITIONS}",
                        package.min_conditions
                    ),
                ));
            }
            if condition_mask == 0 && package.min_conditions == 0 {
                return Err(self.invalid(
                    &key,
                    format!(
                        "package `{}` has no qualifying rule: name `conditions` or set `min_conditions`",
                        package.id
                    ),
                ));
            }
            let multiply = self.finite(&format!("{key}.multiply"), package.multiply)?;
            if multiply < 0.0 {
                return Err(self.invalid(
                    &format!("{key}.multiply"),
                    format!("value `{multiply}` is negative, expected a factor of 0 or more"),
                ));
            }
            for (j, &share) in package.phase_in.iter().enumerate() {
                let share = self.finite(&format!("{key}.phase_in[{j}]"), share)?;
                if !(0.0..=1.0).contains(&share) {
                    return Err(self.invalid(
                        &format!("{key}.phase_in[{j}]"),
                        format!("share `{share}` is outside 0..=1"),
                    ));
                }
            }
            packages.push(Package {
                id: package.id.clone(),
                start_year: package.start_year,
                condition_mask,
                min_conditions: package.min_conditions as u32,
                count_mask: u64::MAX,
                count_top: MAX_CONDITIONS as u32,
                add: self.finite(&format!("{key}.add"), package.add)?,
                multiply,
                phase_in: package.phase_in.clone(),
            });
        }
        Ok(packages)
    }

    /// `[proposal]`: the rules of SPEC section 4, in range.
    pub(super) fn proposal(&self, p: &ProposalFile) -> Result<ProposalRules, ModelError> {
        let proposal = ProposalRules {
            closing_fraction: self.finite("proposal.closing_fraction", p.closing_fraction)?,
            round_to: p.round_to,
            min_per_capacity: self.finite("proposal.min_per_capacity", p.min_per_capacity)?,
            max_per_capacity: self.finite("proposal.max_per_capacity", p.max_per_capacity)?,
            max_increase: self.finite("proposal.max_increase", p.max_increase)?,
            max_decrease: self.finite("proposal.max_decrease", p.max_decrease)?,
            dialogue_threshold: self.finite("proposal.dialogue_threshold", p.dialogue_threshold)?,
            uncertainty_threshold: self
                .finite("proposal.uncertainty_threshold", p.uncertainty_threshold)?,
            load_level: match p.load_level.as_deref() {
                None => LoadLevel::Nation,
                Some(text) => LoadLevel::parse(text).ok_or_else(|| {
                    self.invalid(
                        "proposal.load_level",
                        format!("value `{text}` is not one of nation, region, sundhedsraad"),
                    )
                })?,
            },
        };
        if proposal.closing_fraction <= 0.0 {
            return Err(self.invalid(
                "proposal.closing_fraction",
                format!("value `{}` must be above 0", proposal.closing_fraction),
            ));
        }
        if proposal.round_to < 1 {
            return Err(self.invalid(
                "proposal.round_to",
                format!(
                    "value `{}` must be a whole number of 1 or more",
                    proposal.round_to
                ),
            ));
        }
        for (key, value) in [
            ("proposal.min_per_capacity", proposal.min_per_capacity),
            ("proposal.max_per_capacity", proposal.max_per_capacity),
            ("proposal.dialogue_threshold", proposal.dialogue_threshold),
            (
                "proposal.uncertainty_threshold",
                proposal.uncertainty_threshold,
            ),
        ] {
            if value < 0.0 {
                return Err(self.invalid(key, format!("value `{value}` must not be negative")));
            }
        }
        if proposal.max_per_capacity > 0.0 && proposal.min_per_capacity > proposal.max_per_capacity
        {
            return Err(self.invalid(
                "proposal.min_per_capacity",
                format!(
                    "floor `{}` is above the ceiling `{}`",
                    proposal.min_per_capacity, proposal.max_per_capacity
                ),
            ));
        }
        if proposal.max_decrease > 1.0 {
            return Err(self.invalid(
                "proposal.max_decrease",
                format!(
                    "value `{}` would allow a negative count; expected at most 1",
                    proposal.max_decrease
                ),
            ));
        }
        Ok(proposal)
    }
}
