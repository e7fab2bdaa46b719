//! The names of a model's coefficients, defined once: `fit` writes them in
//! `fit.json`, scenario files set coefficients by them, and both go
//! through `CoefficientName`.
//!
//! The forms: `age_sex.male[3]`, `age_sex.female[19]`,
//! `socioeconomic.education.1`, `socioeconomic.lives_alone.true`,
//! `conditions.copd`, `multimorbidity[0]` (fit adds ` (at_least 2)`), and
//! `area.coefficient`.

use std::fmt;

/// One coefficient of a model, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoefficientName {
    /// A cell of the age-sex table (`band` 0 = ages 0–4).
    AgeSex {
        female: bool,
        band: usize,
    },
    /// A level of a socioeconomic column, as the model file keys it.
    Socioeconomic {
        column: String,
        level: String,
    },
    Condition(String),
    /// The `index`-th multimorbidity threshold; `at_least` is shown when
    /// known and ignored when read.
    Multimorbidity {
        index: usize,
        at_least: Option<u32>,
    },
    Area,
}

impl fmt::Display for CoefficientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoefficientName::AgeSex { female, band } => {
                let sex = if *female { "female" } else { "male" };
                write!(f, "age_sex.{sex}[{band}]")
            }
            CoefficientName::Socioeconomic { column, level } => {
                write!(f, "socioeconomic.{column}.{level}")
            }
            CoefficientName::Condition(name) => write!(f, "conditions.{name}"),
            CoefficientName::Multimorbidity { index, at_least } => match at_least {
                Some(n) => write!(f, "multimorbidity[{index}] (at_least {n})"),
                None => write!(f, "multimorbidity[{index}]"),
            },
            CoefficientName::Area => write!(f, "area.coefficient"),
        }
    }
}

impl CoefficientName {
    /// Reads a name in any of the forms above; `None` when it is none of
    /// them. Whether the model has that coefficient is the caller's check.
    pub fn parse(name: &str) -> Option<CoefficientName> {
        if let Some(rest) = name.strip_prefix("age_sex.") {
            let (sex, band) = rest.split_once('[')?;
            let band = band.trim_end_matches(']').parse().ok()?;
            let female = match sex {
                "male" => false,
                "female" => true,
                _ => return None,
            };
            Some(CoefficientName::AgeSex { female, band })
        } else if let Some(rest) = name.strip_prefix("socioeconomic.") {
            let (column, level) = rest.split_once('.')?;
            Some(CoefficientName::Socioeconomic {
                column: column.to_string(),
                level: level.to_string(),
            })
        } else if let Some(condition) = name.strip_prefix("conditions.") {
            Some(CoefficientName::Condition(condition.to_string()))
        } else if let Some(rest) = name.strip_prefix("multimorbidity[") {
            let index = rest.split(']').next()?.parse().ok()?;
            Some(CoefficientName::Multimorbidity {
                index,
                at_least: None,
            })
        } else if name == "area.coefficient" {
            Some(CoefficientName::Area)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_written() {
        let names = [
            CoefficientName::AgeSex {
                female: true,
                band: 19,
            },
            CoefficientName::Socioeconomic {
                column: "lives_alone".into(),
                level: "true".into(),
            },
            CoefficientName::Condition("copd".into()),
            CoefficientName::Multimorbidity {
                index: 1,
                at_least: None,
            },
            CoefficientName::Area,
        ];
        for name in names {
            assert_eq!(CoefficientName::parse(&name.to_string()), Some(name));
        }
        let fitted = CoefficientName::Multimorbidity {
            index: 0,
            at_least: Some(2),
        };
        assert_eq!(fitted.to_string(), "multimorbidity[0] (at_least 2)");
        assert_eq!(
            CoefficientName::parse(&fitted.to_string()),
            Some(CoefficientName::Multimorbidity {
                index: 0,
                at_least: None
            })
        );
        for bad in [
            "age_sex.other[1]",
            "age_sex.male[x]",
            "area",
            "x.y",
            "multimorbidity[a]",
        ] {
            assert_eq!(CoefficientName::parse(bad), None, "{bad}");
        }
    }
}
