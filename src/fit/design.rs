//! The design of a structure model: one column per coefficient to
//! estimate, and each person's sparse design row. Reference levels
//! (unknown education, income quintile 0, employed, Danish origin, not
//! living alone, no condition) have no column: they are fixed at 0.

use super::Rows;
use crate::domain::{Geography, Population};
use crate::model::coefficient::CoefficientName;
use crate::model::{age_band, Model, AGE_BANDS, MAX_CONDITIONS};

/// The most non-zero entries a design row can have: one age-sex cell, five
/// socioeconomic levels, every condition, every threshold, the area.
pub const MAX_ROW: usize = 1 + 5 + MAX_CONDITIONS + MAX_CONDITIONS + 1;

/// What a column estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    AgeSex { sex: u8, band: u8 },
    Education(u8),
    Income(u8),
    Labour(u8),
    Origin(u8),
    LivesAlone,
    Condition(u8),
    Multimorbidity(u8),
    Area,
}

/// Which groups of terms a design estimates (the age-sex cells always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermSet {
    /// Education, income quintile, labour, origin, lives alone.
    pub socioeconomic: [bool; 5],
    pub conditions: bool,
    pub multimorbidity: bool,
    pub area: bool,
}

impl TermSet {
    /// Everything the structure names.
    pub fn of(structure: &Model) -> Self {
        TermSet {
            socioeconomic: structure.socioeconomic_terms,
            conditions: true,
            multimorbidity: true,
            area: structure.area.is_some(),
        }
    }
}

/// The columns of a structure and how persons map onto them.
#[derive(Debug, Clone)]
pub struct Design {
    pub terms: Vec<Term>,
    pub set: TermSet,
    pub names: Vec<String>,
    /// Socioeconomic columns by level (`None` for the reference or an
    /// unestimated table), in the order education, income, labour, origin.
    education: [Option<u16>; 5],
    income: [Option<u16>; 6],
    labour: [Option<u16>; 6],
    origin: [Option<u16>; 3],
    lives_alone: Option<u16>,
    condition: Vec<u16>,
    condition_mask: u64,
    multimorbidity: Vec<(u32, u16)>,
    area: Option<u16>,
    area_index: Vec<f64>,
}

/// A person's design row: `(column, value)` in increasing column order.
pub type Row = ([(u16, f64); MAX_ROW], usize);

impl Design {
    /// The design of a structure model over a geography's area index.
    pub fn new(structure: &Model, geography: &Geography) -> Self {
        Design::with_terms(structure, geography, TermSet::of(structure))
    }

    /// The design of some of a structure's terms (a rung of the ladder).
    pub fn with_terms(structure: &Model, geography: &Geography, set: TermSet) -> Self {
        let mut terms = Vec::new();
        let mut names = Vec::new();
        let mut push = |term: Term, name: String| -> u16 {
            terms.push(term);
            names.push(name);
            (terms.len() - 1) as u16
        };
        for sex in 0..2u8 {
            for band in 0..AGE_BANDS as u8 {
                let name = CoefficientName::AgeSex {
                    female: sex == 1,
                    band: usize::from(band),
                };
                push(Term::AgeSex { sex, band }, name.to_string());
            }
        }
        let present = set.socioeconomic;
        let mut levels = |on: bool, n: usize, column: &str, make: fn(u8) -> Term| {
            let mut out = vec![None; n];
            if on {
                for (level, slot) in out.iter_mut().enumerate().skip(1) {
                    let name = CoefficientName::Socioeconomic {
                        column: column.to_string(),
                        level: level.to_string(),
                    };
                    *slot = Some(push(make(level as u8), name.to_string()));
                }
            }
            out
        };
        let education = levels(present[0], 5, "education", Term::Education);
        let income = levels(present[1], 6, "income_quintile", Term::Income);
        let labour = levels(present[2], 6, "labour", Term::Labour);
        let origin = levels(present[3], 3, "origin", Term::Origin);
        let lives_alone = present[4].then(|| {
            let name = CoefficientName::Socioeconomic {
                column: "lives_alone".into(),
                level: "true".into(),
            };
            push(Term::LivesAlone, name.to_string())
        });
        let condition: Vec<u16> = if set.conditions {
            structure
                .conditions
                .iter()
                .enumerate()
                .map(|(k, (name, _))| {
                    let name = CoefficientName::Condition(name.clone());
                    push(Term::Condition(k as u8), name.to_string())
                })
                .collect()
        } else {
            Vec::new()
        };
        let thresholds = if set.multimorbidity {
            structure.multimorbidity.as_slice()
        } else {
            &[]
        };
        let multimorbidity = thresholds
            .iter()
            .enumerate()
            .map(|(k, t)| {
                (
                    t.at_least,
                    push(
                        Term::Multimorbidity(k as u8),
                        CoefficientName::Multimorbidity {
                            index: k,
                            at_least: Some(t.at_least),
                        }
                        .to_string(),
                    ),
                )
            })
            .collect();
        let area = (set.area && structure.area.is_some())
            .then(|| push(Term::Area, CoefficientName::Area.to_string()));
        Design {
            terms,
            set,
            names,
            education: education.try_into().unwrap_or([None; 5]),
            income: income.try_into().unwrap_or([None; 6]),
            labour: labour.try_into().unwrap_or([None; 6]),
            origin: origin.try_into().unwrap_or([None; 3]),
            lives_alone,
            condition_mask: if condition.len() >= 64 {
                u64::MAX
            } else {
                (1u64 << condition.len()) - 1
            },
            condition,
            multimorbidity,
            area,
            area_index: geography
                .kommuner
                .iter()
                .map(|k| k.area_index.unwrap_or(0.0))
                .collect(),
        }
    }

    /// The structure with these coefficients in place of its own; terms the
    /// design does not estimate are 0 (conditions stay listed, so packages
    /// and condition columns keep their meaning).
    pub fn to_model(&self, structure: &Model, beta: &[f64]) -> Model {
        let mut model = structure.clone();
        model.age_sex = [[0.0; AGE_BANDS]; 2];
        model.education = [0.0; 5];
        model.income_quintile = [0.0; 6];
        model.labour = [0.0; 6];
        model.origin = [0.0; 3];
        model.lives_alone = [0.0; 2];
        model.socioeconomic_terms = self.set.socioeconomic;
        for condition in &mut model.conditions {
            condition.1 = 0.0;
        }
        for threshold in &mut model.multimorbidity {
            threshold.add = 0.0;
        }
        model.area = None;
        for (term, &value) in self.terms.iter().zip(beta) {
            match *term {
                Term::AgeSex { sex, band } => {
                    model.age_sex[usize::from(sex)][usize::from(band)] = value
                }
                Term::Education(l) => model.education[usize::from(l)] = value,
                Term::Income(l) => model.income_quintile[usize::from(l)] = value,
                Term::Labour(l) => model.labour[usize::from(l)] = value,
                Term::Origin(l) => model.origin[usize::from(l)] = value,
                Term::LivesAlone => model.lives_alone[1] = value,
                Term::Condition(k) => model.conditions[usize::from(k)].1 = value,
                Term::Multimorbidity(k) => model.multimorbidity[usize::from(k)].add = value,
                Term::Area => model.area = Some(value),
            }
        }
        model
    }

    /// The structure's own coefficients in column order (e.g. the truth).
    pub fn coefficients(&self, model: &Model) -> Vec<f64> {
        self.terms
            .iter()
            .map(|term| match *term {
                Term::AgeSex { sex, band } => model.age_sex[usize::from(sex)][usize::from(band)],
                Term::Education(l) => model.education[usize::from(l)],
                Term::Income(l) => model.income_quintile[usize::from(l)],
                Term::Labour(l) => model.labour[usize::from(l)],
                Term::Origin(l) => model.origin[usize::from(l)],
                Term::LivesAlone => model.lives_alone[1],
                Term::Condition(k) => model.conditions.get(usize::from(k)).map_or(0.0, |c| c.1),
                Term::Multimorbidity(k) => model
                    .multimorbidity
                    .get(usize::from(k))
                    .map_or(0.0, |t| t.add),
                Term::Area => model.area.unwrap_or(0.0),
            })
            .collect()
    }
}

impl Rows for Design {
    fn columns(&self) -> usize {
        self.terms.len()
    }

    fn names(&self) -> &[String] {
        &self.names
    }

    fn unpenalised(&self, column: usize) -> bool {
        matches!(self.terms[column], Term::AgeSex { .. })
    }

    /// Person `i`'s design row.
    #[inline]
    fn row(&self, population: &Population, i: usize, row: &mut [(u16, f64); MAX_ROW]) -> usize {
        let mut n = 0;
        let mut put = |column: u16, value: f64| {
            row[n] = (column, value);
            n += 1;
        };
        let sex = usize::from(population.sex[i].wrapping_sub(1) & 1);
        put((sex * AGE_BANDS + age_band(population.age[i])) as u16, 1.0);
        if let Some(c) = self.education[usize::from(population.education[i]).min(4)] {
            put(c, 1.0);
        }
        if let Some(c) = self.income[usize::from(population.income_quintile[i]).min(5)] {
            put(c, 1.0);
        }
        if let Some(c) = self.labour[usize::from(population.labour[i]).min(5)] {
            put(c, 1.0);
        }
        if let Some(c) = self.origin[usize::from(population.origin[i]).min(2)] {
            put(c, 1.0);
        }
        if let (Some(c), true) = (self.lives_alone, population.lives_alone[i]) {
            put(c, 1.0);
        }
        let mask = population.conditions[i] & self.condition_mask;
        if !self.condition.is_empty() {
            let mut bits = mask;
            while bits != 0 {
                put(self.condition[bits.trailing_zeros() as usize], 1.0);
                bits &= bits - 1;
            }
        }
        let count = mask.count_ones();
        for &(at_least, c) in &self.multimorbidity {
            if count >= at_least {
                put(c, 1.0);
            }
        }
        if let Some(c) = self.area {
            put(c, self.area_index[usize::from(population.kommune[i])]);
        }
        // Multimorbidity columns follow all condition columns, but the
        // thresholds may be listed in any order: keep the row sorted.
        row[..n].sort_unstable_by_key(|&(c, _)| c);
        n
    }
}
