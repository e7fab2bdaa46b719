//! Dense symmetric linear algebra for models of up to a few hundred
//! parameters: a Cholesky factorisation that reports where and why it
//! fails, solves, the inverse, and the sandwich product. Matrices are
//! row-major `Vec<f64>` of `p × p`; no dependency is needed at this size.

/// A symmetric positive definite matrix factorised as `L Lᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    pub p: usize,
    /// Lower triangle, row-major `p × p`.
    pub l: Vec<f64>,
}

/// Why a factorisation failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Singular {
    /// Column `k` is all zero: nobody has that term.
    Empty { column: usize },
    /// Column `k` lies in the span of earlier columns, with these
    /// coefficients on them (`(column, coefficient)`, the larger ones only).
    Collinear {
        column: usize,
        with: Vec<(usize, f64)>,
    },
}

/// Relative size of a pivot below which the column counts as dependent.
const PIVOT_TOLERANCE: f64 = 1e-10;

impl Cholesky {
    /// Factorises the symmetric matrix `a` (only its lower triangle is read).
    pub fn new(a: &[f64], p: usize) -> Result<Self, Singular> {
        let mut l = vec![0.0; p * p];
        for k in 0..p {
            let diagonal = a[k * p + k];
            if diagonal <= 0.0 {
                return Err(Singular::Empty { column: k });
            }
            let mut d = diagonal;
            for j in 0..k {
                d -= l[k * p + j] * l[k * p + j];
            }
            if d <= PIVOT_TOLERANCE * diagonal {
                return Err(Singular::Collinear {
                    column: k,
                    with: dependency(a, &l, p, k),
                });
            }
            let pivot = d.sqrt();
            l[k * p + k] = pivot;
            for i in k + 1..p {
                let mut s = a[i * p + k];
                for j in 0..k {
                    s -= l[i * p + j] * l[k * p + j];
                }
                l[i * p + k] = s / pivot;
            }
        }
        Ok(Cholesky { p, l })
    }

    /// Solves `A x = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let p = self.p;
        let mut y = b.to_vec();
        for i in 0..p {
            let mut s = y[i];
            for j in 0..i {
                s -= self.l[i * p + j] * y[j];
            }
            y[i] = s / self.l[i * p + i];
        }
        for i in (0..p).rev() {
            let mut s = y[i];
            for j in i + 1..p {
                s -= self.l[j * p + i] * y[j];
            }
            y[i] = s / self.l[i * p + i];
        }
        y
    }

    /// `A⁻¹`, row-major.
    pub fn inverse(&self) -> Vec<f64> {
        let p = self.p;
        let mut inverse = vec![0.0; p * p];
        let mut unit = vec![0.0; p];
        for k in 0..p {
            unit.iter_mut().for_each(|v| *v = 0.0);
            unit[k] = 1.0;
            let column = self.solve(&unit);
            for i in 0..p {
                inverse[i * p + k] = column[i];
            }
        }
        inverse
    }
}

/// The coefficients of column `k` regressed on columns `0..k`, from the
/// partial factor of those columns, keeping the ones that matter.
fn dependency(a: &[f64], l: &[f64], p: usize, k: usize) -> Vec<(usize, f64)> {
    // Solve L_kk Lᵀ_kk γ = a[0..k, k] with the first k rows of `l`.
    let partial = Cholesky {
        p: k,
        l: (0..k * k).map(|idx| l[(idx / k) * p + idx % k]).collect(),
    };
    let rhs: Vec<f64> = (0..k).map(|j| a[k * p + j]).collect();
    let gamma = partial.solve(&rhs);
    let largest = gamma.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let mut with: Vec<(usize, f64)> = gamma
        .into_iter()
        .enumerate()
        .filter(|(_, g)| g.abs() > 1e-6 * largest.max(1e-300))
        .collect();
    with.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then(x.0.cmp(&y.0)));
    with.truncate(6);
    with
}

/// `B M B` for symmetric `B` and `M` (the sandwich of robust variances).
pub fn sandwich(bread: &[f64], meat: &[f64], p: usize) -> Vec<f64> {
    let mut half = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let b = bread[i * p + k];
            if b == 0.0 {
                continue;
            }
            for j in 0..p {
                half[i * p + j] += b * meat[k * p + j];
            }
        }
    }
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let h = half[i * p + k];
            for j in 0..p {
                out[i * p + j] += h * bread[k * p + j];
            }
        }
    }
    out
}

/// Fills the upper triangle from the lower one.
pub fn symmetrize(a: &mut [f64], p: usize) {
    for i in 0..p {
        for j in 0..i {
            a[j * p + i] = a[i * p + j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system_known_by_hand() {
        // A = [[4, 2], [2, 3]], b = [2, 1]: x = [0.5, 0].
        let a = [4.0, 2.0, 2.0, 3.0];
        let c = Cholesky::new(&a, 2).unwrap();
        let x = c.solve(&[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-14 && x[1].abs() < 1e-14, "{x:?}");
        // A⁻¹ = [[3, -2], [-2, 4]] / 8.
        let inv = c.inverse();
        for (got, want) in inv.iter().zip([3.0 / 8.0, -0.25, -0.25, 0.5]) {
            assert!((got - want).abs() < 1e-14);
        }
    }

    #[test]
    fn reports_empty_and_collinear_columns() {
        let a = [1.0, 0.0, 0.0, 0.0];
        assert_eq!(Cholesky::new(&a, 2), Err(Singular::Empty { column: 1 }));
        // Columns x0, x1 and x2 = 2·x1 (X'X of x0=(1,0,0), x1=(0,1,1)).
        let a = [1.0, 0.0, 0.0, 0.0, 2.0, 4.0, 0.0, 4.0, 8.0];
        match Cholesky::new(&a, 3) {
            Err(Singular::Collinear { column: 2, with }) => {
                assert_eq!(with.len(), 1);
                assert_eq!(with[0].0, 1);
                assert!((with[0].1 - 2.0).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
    }
}
