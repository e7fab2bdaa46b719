//! A format-2 model's terms (SPEC 3.1) compiled to small lookup tables
//! indexed by per-person codes.
//!
//! Each table term becomes a flat `f64` table and, per variable of its
//! `by`, where the person's level comes from and its stride: a code column
//! of the population (levels and bands, one byte per person, coded once at
//! ingest), a bit of the person's flag mask, or a count of mask bits
//! (top-coded). Terms over flags alone (conditions, counts, their
//! interactions) depend on nothing but the flag mask, so their sums are
//! looked up per mask (`YearTables::mask_table`) instead of per person.
//!
//! Summation order (what fixes the last bit): each component is the sum of
//! its terms over any code column or numeric column, in file order, plus
//! the sum of its terms over flags alone, in file order; each sum starts at
//! 0. The linear predictor is the components added in the order age_sex,
//! socioeconomic, conditions, multimorbidity, area. For a converted
//! format-1 model this is exactly format 1's arithmetic.
//!
//! Pure: no I/O, nothing allocated per person.

use crate::domain::{Geography, Population};
use crate::model::format2::{Kind, Spec, Term, GEOGRAPHY_NUMERIC};

/// Persons per block of `Compiled::block_parts`.
pub const BLOCK_PERSONS: usize = 256;

/// Where one variable of a term gets a person's level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Axis {
    /// Code column `k` of the population.
    Code(usize),
    /// Bit `k` of the flag mask after hierarchies.
    Flag(u32),
    /// The number of set bits of the mask under `mask`, at most `top`.
    Count { mask: u64, top: u32 },
}

impl Axis {
    /// Where variable `v` of `spec` gets a person's level.
    pub fn of(spec: &Spec, v: usize) -> Axis {
        match &spec.variables[v].kind {
            Kind::Levels { .. } | Kind::Bands { .. } => {
                Axis::Code(spec.coded().iter().position(|&c| c == v).unwrap_or(0))
            }
            Kind::Flag { column } => Axis::Flag(spec.flag_bit(column).unwrap_or(0) as u32),
            Kind::Count { flags, top } => Axis::Count {
                mask: spec.flag_mask(flags),
                top: *top,
            },
        }
    }

    /// Person `i`'s level, their flag mask being `mask`.
    #[inline(always)]
    pub fn level(self, population: &Population, i: usize, mask: u64) -> usize {
        match self {
            Axis::Code(k) => usize::from(population.codes[k][i]),
            Axis::Flag(bit) => ((mask >> bit) & 1) as usize,
            Axis::Count { mask: m, top } => (mask & m).count_ones().min(top) as usize,
        }
    }
}

/// A compiled table term: component index, axes with strides, cells.
#[derive(Debug, Clone, PartialEq)]
struct Table {
    component: usize,
    axes: Vec<(Axis, usize)>,
    values: Vec<f64>,
}

impl Table {
    /// The cell of a person whose flag mask (after hierarchies) is `mask`.
    #[inline(always)]
    fn cell(&self, population: &Population, i: usize, mask: u64) -> f64 {
        // Levels are in range by construction (codes checked at ingest);
        // `get` keeps a foreign population from reading out of bounds.
        self.values
            .get(self.index(population, i, mask))
            .copied()
            .unwrap_or(0.0)
    }

    /// The flat index of a person's cell.
    #[inline(always)]
    fn index(&self, population: &Population, i: usize, mask: u64) -> usize {
        index(&self.axes, population, i, mask)
    }
}

/// A term that needs the person, not only the flag mask.
#[derive(Debug, Clone, PartialEq)]
enum PersonTerm {
    Table(Table),
    /// `coefficient × numeric column k`.
    Numeric {
        component: usize,
        column: usize,
        coefficient: f64,
    },
    /// `coefficient × area_index` of the residence kommune, by kommune.
    Geography {
        component: usize,
        values: Vec<f64>,
    },
}

/// A model's hierarchies on flag masks: (bit of the `if` flag, mask of the
/// flags it drops).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hierarchies(Vec<(u32, u64)>);

impl Hierarchies {
    pub fn of(spec: &Spec) -> Hierarchies {
        Hierarchies(
            spec.hierarchies
                .iter()
                .map(|(flag, dropped)| {
                    (
                        spec.flag_bit(flag).unwrap_or(0) as u32,
                        spec.flag_mask(dropped),
                    )
                })
                .collect(),
        )
    }

    /// The flag mask after hierarchies: each looks at the original flags.
    #[inline]
    pub fn effective(&self, original: u64) -> u64 {
        let mut mask = original;
        for &(flag, dropped) in &self.0 {
            if original & (1u64 << flag) != 0 {
                mask &= !dropped;
            }
        }
        mask
    }

    /// Whether hierarchy `k` set a flag of this original mask to false.
    pub fn touches(&self, k: usize, original: u64) -> bool {
        self.0.get(k).is_some_and(|&(flag, dropped)| {
            original & (1u64 << flag) != 0 && original & dropped != 0
        })
    }
}

/// Where each variable of a table term over `by` (of `shape`) gets a
/// person's level, with its stride (the last variable varies fastest).
fn axes(spec: &Spec, by: &[usize], shape: &[usize]) -> Vec<(Axis, usize)> {
    let mut stride: usize = shape.iter().product();
    by.iter()
        .zip(shape)
        .map(|(&v, &levels)| {
            stride /= levels.max(1);
            (Axis::of(spec, v), stride)
        })
        .collect()
}

/// The flat index of person `i`'s cell of a table with these axes, their
/// mask after hierarchies being `mask`.
#[inline(always)]
fn index(axes: &[(Axis, usize)], population: &Population, i: usize, mask: u64) -> usize {
    axes.iter()
        .map(|&(axis, stride)| axis.level(population, i, mask) * stride)
        .sum()
}

/// What a term reads of a person: a table's cell (flat index), or a
/// numeric term's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Cell(usize),
    Value(f64),
}

/// A format-2 model's terms in file order, read person by person (for
/// estimation and for explaining a clinic's need term by term).
#[derive(Debug, Clone, PartialEq)]
pub struct TermReader {
    pub hierarchies: Hierarchies,
    terms: Vec<Read>,
}

#[derive(Debug, Clone, PartialEq)]
enum Read {
    Table(Vec<(Axis, usize)>),
    Population(usize),
    /// `area_index` by kommune (0 where the geography has none).
    Geography(Vec<f64>),
}

impl TermReader {
    pub fn new(spec: &Spec, geography: &Geography) -> TermReader {
        let numeric = spec.numeric_columns();
        let terms = spec
            .terms
            .iter()
            .map(|term| match term {
                Term::Table { by, shape, .. } => Read::Table(axes(spec, by, shape)),
                Term::Numeric { column, .. } if column == GEOGRAPHY_NUMERIC => Read::Geography(
                    geography
                        .kommuner
                        .iter()
                        .map(|k| k.area_index.unwrap_or(0.0))
                        .collect(),
                ),
                Term::Numeric { column, .. } => {
                    Read::Population(numeric.iter().position(|c| c == column).unwrap_or(0))
                }
            })
            .collect();
        TermReader {
            hierarchies: Hierarchies::of(spec),
            terms,
        }
    }

    /// The flag mask after hierarchies.
    #[inline]
    pub fn effective(&self, original: u64) -> u64 {
        self.hierarchies.effective(original)
    }

    /// What term `k` reads of person `i`, whose mask after hierarchies is
    /// `mask`.
    #[inline]
    pub fn read(&self, k: usize, population: &Population, i: usize, mask: u64) -> Reading {
        match &self.terms[k] {
            Read::Table(axes) => Reading::Cell(index(axes, population, i, mask)),
            Read::Population(column) => Reading::Value(population.numeric[*column][i]),
            Read::Geography(x) => Reading::Value(
                x.get(usize::from(population.kommune[i]))
                    .copied()
                    .unwrap_or(0.0),
            ),
        }
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// A format-2 model's terms, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    hierarchies: Hierarchies,
    /// Terms over flags alone, in file order.
    flag_terms: Vec<Table>,
    /// The other terms, in file order.
    person_terms: Vec<PersonTerm>,
    /// Number of flags (bits of the mask).
    pub flag_bits: u32,
}

/// What a flag mask gives: the components' sums of the terms over flags
/// alone, and the mask after hierarchies.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlagParts {
    pub parts: [f64; 5],
    pub mask: u64,
}

impl Compiled {
    /// Compiles a spec; fails (with a detail and the term's key) when a
    /// numeric term reads `area_index` and a kommune has none.
    pub fn new(spec: &Spec, geography: &Geography) -> Result<Compiled, (String, String)> {
        let flags = spec.flags();
        let numeric = spec.numeric_columns();
        let mut flag_terms = Vec::new();
        let mut person_terms = Vec::new();
        for (k, term) in spec.terms.iter().enumerate() {
            match term {
                Term::Table {
                    component,
                    by,
                    shape,
                    values,
                    ..
                } => {
                    let table = Table {
                        component: component.index(),
                        axes: axes(spec, by, shape),
                        values: values.clone(),
                    };
                    if table
                        .axes
                        .iter()
                        .any(|(axis, _)| matches!(axis, Axis::Code(_)))
                    {
                        person_terms.push(PersonTerm::Table(table));
                    } else {
                        flag_terms.push(table);
                    }
                }
                Term::Numeric {
                    id,
                    component,
                    column,
                    coefficient,
                } if column == GEOGRAPHY_NUMERIC => {
                    let mut values = Vec::with_capacity(geography.kommuner.len());
                    for kommune in &geography.kommuner {
                        match kommune.area_index {
                            Some(index) => values.push(coefficient * index),
                            None => {
                                return Err((
                                    format!("terms[{k}].numeric"),
                                    format!(
                                        "term `{id}` reads area_index, but the geography has none for kommune {} ({})",
                                        kommune.code, kommune.name
                                    ),
                                ))
                            }
                        }
                    }
                    person_terms.push(PersonTerm::Geography {
                        component: component.index(),
                        values,
                    });
                }
                Term::Numeric {
                    component,
                    column,
                    coefficient,
                    ..
                } => person_terms.push(PersonTerm::Numeric {
                    component: component.index(),
                    column: numeric.iter().position(|c| c == column).unwrap_or(0),
                    coefficient: *coefficient,
                }),
            }
        }
        Ok(Compiled {
            hierarchies: Hierarchies::of(spec),
            flag_terms,
            person_terms,
            flag_bits: flags.len() as u32,
        })
    }

    /// The sums of the terms over flags alone for an original flag mask.
    pub fn flag_parts(&self, original: u64) -> FlagParts {
        let mask = self.hierarchies.effective(original);
        let mut parts = [0.0; 5];
        let none = Population::default();
        for table in &self.flag_terms {
            parts[table.component] += table.cell(&none, 0, mask);
        }
        FlagParts { parts, mask }
    }

    /// The sums of the other terms for the persons `start..start + n`
    /// (`n = masks.len()`, at most `BLOCK_PERSONS`), added to `parts[c][j]`
    /// term by term in file order: each term's look-up runs as one tight
    /// loop over the block. `masks` are the persons' masks after
    /// hierarchies. Gives the same bits as `person_parts`.
    pub fn block_parts(
        &self,
        population: &Population,
        start: usize,
        masks: &[u64],
        parts: &mut [[f64; BLOCK_PERSONS]; 5],
    ) {
        let n = masks.len();
        let rows = start..start + n;
        for term in &self.person_terms {
            match term {
                PersonTerm::Table(table) => {
                    let out = &mut parts[table.component][..n];
                    match table.axes.as_slice() {
                        [(Axis::Code(k), _)] => {
                            let codes = &population.codes[*k][rows.clone()];
                            for (o, &c) in out.iter_mut().zip(codes) {
                                *o += table.values.get(usize::from(c)).copied().unwrap_or(0.0);
                            }
                        }
                        [(Axis::Code(a), sa), (Axis::Code(b), sb)] => {
                            let (ca, cb) = (
                                &population.codes[*a][rows.clone()],
                                &population.codes[*b][rows.clone()],
                            );
                            for ((o, &x), &y) in out.iter_mut().zip(ca).zip(cb) {
                                let index = usize::from(x) * sa + usize::from(y) * sb;
                                *o += table.values.get(index).copied().unwrap_or(0.0);
                            }
                        }
                        _ => {
                            for (j, o) in out.iter_mut().enumerate() {
                                *o += table.cell(population, start + j, masks[j]);
                            }
                        }
                    }
                }
                PersonTerm::Numeric {
                    component,
                    column,
                    coefficient,
                } => {
                    let x = &population.numeric[*column][rows.clone()];
                    for (o, &x) in parts[*component][..n].iter_mut().zip(x) {
                        *o += coefficient * x;
                    }
                }
                PersonTerm::Geography { component, values } => {
                    let kommune = &population.kommune[rows.clone()];
                    for (o, &k) in parts[*component][..n].iter_mut().zip(kommune) {
                        *o += values.get(usize::from(k)).copied().unwrap_or(0.0);
                    }
                }
            }
        }
    }

    /// The sums of the other terms for person `i`, whose mask after
    /// hierarchies is `mask`.
    #[inline]
    pub fn person_parts(&self, population: &Population, i: usize, mask: u64) -> [f64; 5] {
        let mut parts = [0.0; 5];
        for term in &self.person_terms {
            match term {
                PersonTerm::Table(table) => {
                    parts[table.component] += table.cell(population, i, mask);
                }
                PersonTerm::Numeric {
                    component,
                    column,
                    coefficient,
                } => {
                    let x = population.numeric[*column][i];
                    parts[*component] += coefficient * x;
                }
                PersonTerm::Geography { component, values } => {
                    parts[*component] += values[usize::from(population.kommune[i])];
                }
            }
        }
        parts
    }
}
