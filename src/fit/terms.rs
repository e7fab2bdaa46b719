//! The design of a format-2 structure (SPEC 3.1's fitting rule): every
//! cell of the first term is a column (it carries the intercept); in every
//! other table a cell is fixed at 0 when any of its variables is at its
//! first level, every other cell is a column; every numeric term is one
//! column. A person's row has at most one entry per term, in term order,
//! so rows are sorted by construction.

use super::design::MAX_ROW;
use super::{NotEstimable, Rows};
use crate::domain::{Geography, Population};
use crate::model::format2::{Coefficient, Spec, Term};
use crate::terms::{Reading, TermReader};

/// The most terms a format-2 structure may have to be estimated (one row
/// entry per term).
pub const MAX_TERMS: usize = MAX_ROW;

/// The columns of a format-2 structure and how persons map onto them.
#[derive(Debug, Clone)]
pub struct TermDesign {
    reader: TermReader,
    /// Per term of the spec: the column of each cell (`None`: fixed at 0,
    /// or a term left out of this design); a numeric term has one cell.
    columns: Vec<Vec<Option<u16>>>,
    /// What each column is.
    coefficients: Vec<Coefficient>,
    names: Vec<String>,
}

impl TermDesign {
    /// The design of `spec`'s terms, or of those `include` keeps (a rung of
    /// the ladder: term indices). The first term kept carries the
    /// intercept.
    pub fn new(
        spec: &Spec,
        geography: &Geography,
        include: Option<&[usize]>,
    ) -> Result<TermDesign, NotEstimable> {
        let kept = |k: usize| include.is_none_or(|keep| keep.contains(&k));
        if spec.terms.len() > MAX_TERMS {
            return Err(NotEstimable(format!(
                "the structure has {} terms; at most {MAX_TERMS} can be estimated",
                spec.terms.len()
            )));
        }
        let mut columns = Vec::with_capacity(spec.terms.len());
        let mut coefficients = Vec::new();
        let mut names = Vec::new();
        let mut first = true;
        for (k, term) in spec.terms.iter().enumerate() {
            let cells = match term {
                Term::Table { values, .. } => values.len(),
                Term::Numeric { .. } => 1,
            };
            let mut of_term = vec![None; cells];
            if kept(k) {
                for (cell, slot) in of_term.iter_mut().enumerate() {
                    let free = match term {
                        Term::Numeric { .. } => true,
                        Term::Table { shape, .. } => first || !at_first_level(cell, shape),
                    };
                    if !free {
                        continue;
                    }
                    if coefficients.len() >= usize::from(u16::MAX) {
                        return Err(NotEstimable(
                            "the structure has more than 65,535 free parameters".into(),
                        ));
                    }
                    let c = Coefficient { term: k, cell };
                    *slot = Some(coefficients.len() as u16);
                    names.push(spec.coefficient_name(c));
                    coefficients.push(c);
                }
                first = false;
            }
            columns.push(of_term);
        }
        Ok(TermDesign {
            reader: TermReader::new(spec, geography),
            columns,
            coefficients,
            names,
        })
    }

    /// `spec` with these coefficients in place of its own: every cell of
    /// every table filled (fixed cells and terms left out 0).
    pub fn to_spec(&self, spec: &Spec, beta: &[f64]) -> Spec {
        let mut fitted = spec.clone();
        for term in &mut fitted.terms {
            match term {
                Term::Table { values, .. } => values.iter_mut().for_each(|v| *v = 0.0),
                Term::Numeric { coefficient, .. } => *coefficient = 0.0,
            }
        }
        for (&c, &value) in self.coefficients.iter().zip(beta) {
            fitted.set(c, value);
        }
        fitted
    }

    /// `spec`'s own values of the design's columns (e.g. the truth).
    pub fn values(&self, spec: &Spec) -> Vec<f64> {
        self.coefficients.iter().map(|&c| spec.get(c)).collect()
    }
}

/// Whether a flat cell of a table of `shape` has any variable at its first
/// level.
fn at_first_level(cell: usize, shape: &[usize]) -> bool {
    let mut rest = cell;
    for &n in shape.iter().rev() {
        if rest.is_multiple_of(n.max(1)) {
            return true;
        }
        rest /= n.max(1);
    }
    false
}

impl Rows for TermDesign {
    fn columns(&self) -> usize {
        self.coefficients.len()
    }

    fn names(&self) -> &[String] {
        &self.names
    }

    fn unpenalised(&self, column: usize) -> bool {
        self.coefficients
            .first()
            .is_some_and(|first| self.coefficients[column].term == first.term)
    }

    #[inline]
    fn row(&self, population: &Population, i: usize, row: &mut [(u16, f64); MAX_ROW]) -> usize {
        let mask = self.reader.effective(population.conditions[i]);
        let mut n = 0;
        for (k, cells) in self.columns.iter().enumerate() {
            if cells.iter().all(Option::is_none) {
                continue;
            }
            let (cell, value) = match self.reader.read(k, population, i, mask) {
                Reading::Cell(cell) => (cell, 1.0),
                Reading::Value(x) => (0, x),
            };
            if let Some(Some(column)) = cells.get(cell) {
                row[n] = (*column, value);
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A person's row: the first term's cell, the interaction's free cell,
    /// a hierarchy's dropped flag left out, the numeric value.
    #[test]
    fn a_row_follows_cells_hierarchies_and_numeric_terms() {
        let text = r#"
[model]
format = 2
id = "t"
link = "identity"
outcome = "x"
data_year = 2025
[variables]
band = { column = "age", edges = [0, 65, 80] }
[[hierarchies]]
if = "cond_b"
drop = ["cond_a"]
[[terms]]
id = "base"
component = "age_sex"
by = ["band"]
values = [0, 0, 0]
[[terms]]
id = "a_by_band"
component = "conditions"
by = ["cond_a", "band"]
values = [[0, 0, 0], [0, 0, 0]]
[[terms]]
id = "b"
component = "conditions"
by = ["cond_b"]
values = [0, 0]
[[terms]]
id = "x"
component = "area"
numeric = "x"
coefficient = 0
[proposal]
closing_fraction = 1.0
round_to = 10
min_per_capacity = 0
max_per_capacity = 0
max_increase = 0.05
max_decrease = 0.10
dialogue_threshold = 0.10
uncertainty_threshold = 0.10
"#;
        let spec = crate::model::format2::parse(text, std::path::Path::new("t.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let geography = Geography {
            kommuner: Vec::new(),
            sundhedsraad: Vec::new(),
            regions: Vec::new(),
        };
        let design = TermDesign::new(&spec, &geography, None).unwrap_or_else(|e| panic!("{e:?}"));
        // base: 3 cells; a_by_band: (true, 65) and (true, 80); b: true; x.
        assert_eq!(
            design.names(),
            [
                "base[0]",
                "base[65]",
                "base[80]",
                "a_by_band[true, 65]",
                "a_by_band[true, 80]",
                "b[true]",
                "x"
            ]
        );
        let a = spec.flag_bit("cond_a").unwrap_or(99);
        let b = spec.flag_bit("cond_b").unwrap_or(99);
        let population = Population {
            codes: vec![vec![2, 2, 1]],
            numeric: vec![vec![0.5, 1.5, 2.5]],
            conditions: vec![1 << a, (1 << a) | (1 << b), 1 << a],
            kommune: vec![0; 3],
            ..Population::default()
        };
        let mut row = [(0u16, 0.0); MAX_ROW];
        let n = design.row(&population, 0, &mut row);
        assert_eq!(&row[..n], &[(2, 1.0), (4, 1.0), (6, 0.5)]);
        // cond_b drops cond_a: no interaction cell, b's cell instead.
        let n = design.row(&population, 1, &mut row);
        assert_eq!(&row[..n], &[(2, 1.0), (5, 1.0), (6, 1.5)]);
        let n = design.row(&population, 2, &mut row);
        assert_eq!(&row[..n], &[(1, 1.0), (3, 1.0), (6, 2.5)]);
        // A rung without the interaction: its cells are no columns.
        let rung = TermDesign::new(&spec, &geography, Some(&[0, 2, 3]))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(rung.columns(), 5);
        let fitted = rung.to_spec(&spec, &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(fitted.get(Coefficient { term: 2, cell: 1 }), 4.0);
        assert_eq!(fitted.get(Coefficient { term: 1, cell: 4 }), 0.0);
        assert_eq!(fitted.get(Coefficient { term: 3, cell: 0 }), 5.0);
    }

    #[test]
    fn cells_at_a_first_level() {
        // 2 × 3: cells (0,0) (0,1) (0,2) (1,0) are at a first level.
        let fixed: Vec<bool> = (0..6).map(|c| at_first_level(c, &[2, 3])).collect();
        assert_eq!(fixed, vec![true, true, true, true, false, false]);
        assert!(at_first_level(0, &[4]));
        assert!(!at_first_level(3, &[4]));
    }
}
