//! Estimating a model's coefficients from utilization (`fordeling fit`) and
//! judging models (`evaluate`). Pure: functions over the loaded population.
//!
//! - Identity link: exposure-weighted least squares of the annualised
//!   utilization `u/e` on the design, weights `e` (so `E[u] = e·x'β`).
//! - Log link: Poisson quasi-likelihood, `E[u] = e·exp(x'β)`, by iteratively
//!   reweighted least squares.
//! - Standard errors: heteroskedasticity-robust (HC1 sandwich).
//!
//! The cross-products are accumulated in one parallel pass over fixed
//! blocks of persons, merged in block order, so estimates are the same
//! with any thread count.

pub mod design;
pub mod evaluate;
pub mod linalg;
pub mod structure;
pub mod terms;

use crate::domain::Population;
use crate::model::Link;
use design::MAX_ROW;
use linalg::{Cholesky, Singular};
use rayon::prelude::*;
use serde::Serialize;

use crate::domain::BLOCK;

/// A design: one column per coefficient to estimate and each person's
/// sparse row (entries in increasing column order).
pub trait Rows: Sync {
    fn columns(&self) -> usize;
    /// The coefficient names, in column order.
    fn names(&self) -> &[String];
    /// Whether a column carries the intercept (format 1's age-sex cells,
    /// format 2's first term): not penalised by ridge, the log link's
    /// starting value.
    fn unpenalised(&self, column: usize) -> bool;
    /// Person `i`'s row; returns the number of entries.
    fn row(&self, population: &Population, i: usize, row: &mut [(u16, f64); MAX_ROW]) -> usize;

    /// Person `i`'s row (in `row`) and linear predictor under `beta`.
    #[inline]
    fn eta(
        &self,
        beta: &[f64],
        population: &Population,
        i: usize,
        row: &mut [(u16, f64); MAX_ROW],
    ) -> (usize, f64) {
        let nnz = self.row(population, i, row);
        let eta = row[..nnz]
            .iter()
            .map(|&(c, v)| beta[usize::from(c)] * v)
            .sum();
        (nnz, eta)
    }

    /// A person's annualised prediction under `beta`.
    #[inline]
    fn predict(
        &self,
        beta: &[f64],
        link: Link,
        population: &Population,
        i: usize,
        row: &mut [(u16, f64); MAX_ROW],
    ) -> f64 {
        let (_, eta) = self.eta(beta, population, i, row);
        match link {
            Link::Identity => eta,
            Link::Log => eta.exp(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    pub link: Link,
    /// Added to the diagonal of every column but the age-sex cells.
    pub ridge: f64,
    pub max_iterations: usize,
    /// Relative change in every coefficient below which IRLS has converged.
    pub tolerance: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            link: Link::Identity,
            ridge: 0.0,
            max_iterations: 100,
            tolerance: 1e-10,
        }
    }
}

/// Estimates with their robust standard errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    pub beta: Vec<f64>,
    pub se: Vec<f64>,
    pub persons: u64,
    pub exposure_years: f64,
    /// Exposure-weighted R² of the annualised utilization.
    pub r2: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Why a design cannot be estimated, in words naming the terms.
#[derive(Debug, Clone, PartialEq)]
pub struct NotEstimable(pub String);

/// Which persons take part (cross-validation leaves folds out).
pub type Include<'a> = &'a (dyn Fn(usize) -> bool + Sync);

/// Accumulated normal equations.
#[derive(Debug, Clone)]
struct Normal {
    /// Lower triangle of X'WX, row-major p × p.
    xtwx: Vec<f64>,
    xtwz: Vec<f64>,
    persons: u64,
    weight: f64,
}

/// What each person contributes to one pass: a weight and a working
/// response, from the person's index and current linear predictor.
type Working<'a> = &'a (dyn Fn(usize, f64) -> Option<(f64, f64)> + Sync);

fn accumulate<D: Rows + ?Sized>(
    design: &D,
    population: &Population,
    include: Include<'_>,
    beta: &[f64],
    working: Working<'_>,
) -> Normal {
    let p = design.columns();
    let n = population.len();
    let blocks: Vec<Normal> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|block| {
            let mut normal = Normal {
                xtwx: vec![0.0; p * p],
                xtwz: vec![0.0; p],
                persons: 0,
                weight: 0.0,
            };
            let mut row = [(0u16, 0.0); MAX_ROW];
            for i in block * BLOCK..((block + 1) * BLOCK).min(n) {
                if !include(i) {
                    continue;
                }
                let (nnz, eta) = design.eta(beta, population, i, &mut row);
                let Some((w, z)) = working(i, eta) else {
                    continue;
                };
                normal.persons += 1;
                normal.weight += w;
                for a in 0..nnz {
                    let (ca, va) = row[a];
                    let ca = usize::from(ca);
                    normal.xtwz[ca] += w * va * z;
                    let wa = w * va;
                    let base = ca * p;
                    for &(cb, vb) in &row[..=a] {
                        normal.xtwx[base + usize::from(cb)] += wa * vb;
                    }
                }
            }
            normal
        })
        .collect();
    let mut total = Normal {
        xtwx: vec![0.0; p * p],
        xtwz: vec![0.0; p],
        persons: 0,
        weight: 0.0,
    };
    for block in &blocks {
        for (a, b) in total.xtwx.iter_mut().zip(&block.xtwx) {
            *a += b;
        }
        for (a, b) in total.xtwz.iter_mut().zip(&block.xtwz) {
            *a += b;
        }
        total.persons += block.persons;
        total.weight += block.weight;
    }
    total
}

fn outcomes(population: &Population) -> (&[f64], Option<&[f64]>) {
    (
        population.utilization.as_deref().unwrap_or(&[]),
        population.exposure.as_deref(),
    )
}

fn solve<D: Rows + ?Sized>(
    design: &D,
    normal: &Normal,
    ridge: f64,
) -> Result<(Vec<f64>, Vec<f64>), NotEstimable> {
    let p = design.columns();
    let mut a = normal.xtwx.clone();
    if ridge > 0.0 {
        for k in 0..p {
            if !design.unpenalised(k) && a[k * p + k] > 0.0 {
                a[k * p + k] += ridge;
            }
        }
    }
    let cholesky = Cholesky::new(&a, p).map_err(|e| explain(design, e))?;
    let beta = cholesky.solve(&normal.xtwz);
    let mut inverse = cholesky.inverse();
    linalg::symmetrize(&mut inverse, p);
    Ok((beta, inverse))
}

fn explain<D: Rows + ?Sized>(design: &D, singular: Singular) -> NotEstimable {
    match singular {
        Singular::Empty { column } => NotEstimable(format!(
            "nobody in the data has `{}`, so its coefficient cannot be estimated; drop the term from the structure",
            design.names()[column]
        )),
        Singular::Collinear { column, with } => {
            let others: Vec<String> = with
                .iter()
                .map(|(c, g)| format!("{g:.3} × `{}`", design.names()[*c]))
                .collect();
            NotEstimable(format!(
                "`{}` is perfectly collinear with {} in these data; drop one of these terms",
                design.names()[column],
                others.join(" + ")
            ))
        }
    }
}

/// Fits the design's coefficients to the population's utilization.
pub fn fit<D: Rows + ?Sized>(
    design: &D,
    population: &Population,
    include: Include<'_>,
    options: &FitOptions,
) -> Result<Fit, NotEstimable> {
    let (utilization, exposure) = outcomes(population);
    if utilization.len() != population.len() {
        return Err(NotEstimable(
            "the population has no `utilization` column".into(),
        ));
    }
    let e = |i: usize| exposure.map_or(1.0, |x| x[i]);
    let p = design.columns();
    let (beta, bread, iterations, converged) = match options.link {
        Link::Identity => {
            let working = |i: usize, _eta: f64| Some((e(i), utilization[i] / e(i)));
            let normal = accumulate(design, population, include, &vec![0.0; p], &working);
            let (beta, bread) = solve(design, &normal, options.ridge)?;
            (beta, bread, 1, true)
        }
        Link::Log => {
            // Start from the overall rate in every age-sex cell.
            let working = |i: usize, _eta: f64| Some((e(i), utilization[i] / e(i)));
            let start = accumulate(design, population, include, &vec![0.0; p], &working);
            let mean =
                // Each person has exactly one cell of the first (intercept)
                // term: its columns' Σ w·z is everyone's.
                ((0..p)
                    .filter(|&k| design.unpenalised(k))
                    .map(|k| start.xtwz[k])
                    .sum::<f64>()
                    / start.weight.max(1e-300))
                .max(1e-12);
            let mut beta: Vec<f64> = (0..p)
                .map(|k| {
                    if design.unpenalised(k) {
                        mean.ln()
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut iterations = 0;
            let mut converged = false;
            let mut bread = Vec::new();
            let progress = crate::progress::Progress::new(
                "fitting (IRLS)",
                options.max_iterations as u64,
                "iterations",
            );
            while iterations < options.max_iterations {
                iterations += 1;
                progress.inc(1);
                let working = |i: usize, eta: f64| {
                    let mu = e(i) * eta.exp();
                    (mu > 0.0 && mu.is_finite()).then(|| (mu, eta + (utilization[i] - mu) / mu))
                };
                let normal = accumulate(design, population, include, &beta, &working);
                let (next, inverse) = solve(design, &normal, options.ridge)?;
                let change = next
                    .iter()
                    .zip(&beta)
                    .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
                    .fold(0.0f64, f64::max);
                beta = next;
                bread = inverse;
                if !beta.iter().all(|b| b.is_finite()) {
                    return Err(NotEstimable(
                        "IRLS diverged: a coefficient became infinite".into(),
                    ));
                }
                if change < options.tolerance {
                    converged = true;
                    break;
                }
            }
            (beta, bread, iterations, converged)
        }
    };

    // Second pass: the meat of the sandwich and the R².
    let blocks: Vec<(Vec<f64>, [f64; 5])> = (0..population.len().div_ceil(BLOCK))
        .into_par_iter()
        .map(|block| {
            let mut meat = vec![0.0; p * p];
            let mut sums = [0.0; 5]; // Σw, Σw·y, Σw·y², Σw·r², persons
            let mut row = [(0u16, 0.0); MAX_ROW];
            for i in block * BLOCK..((block + 1) * BLOCK).min(population.len()) {
                if !include(i) {
                    continue;
                }
                let (nnz, eta) = design.eta(&beta, population, i, &mut row);
                let w = e(i);
                let y = utilization[i] / w;
                let (fitted, score) = match options.link {
                    Link::Identity => (eta, w * (y - eta)),
                    Link::Log => (eta.exp(), utilization[i] - w * eta.exp()),
                };
                sums[0] += w;
                sums[1] += w * y;
                sums[2] += w * y * y;
                sums[3] += w * (y - fitted) * (y - fitted);
                sums[4] += 1.0;
                let s2 = score * score;
                for a in 0..nnz {
                    let (ca, va) = row[a];
                    let base = usize::from(ca) * p;
                    for &(cb, vb) in &row[..=a] {
                        meat[base + usize::from(cb)] += s2 * va * vb;
                    }
                }
            }
            (meat, sums)
        })
        .collect();
    let mut meat = vec![0.0; p * p];
    let mut sums = [0.0; 5];
    for (m, s) in &blocks {
        for (a, b) in meat.iter_mut().zip(m) {
            *a += b;
        }
        for (a, b) in sums.iter_mut().zip(s) {
            *a += b;
        }
    }
    linalg::symmetrize(&mut meat, p);
    let n = sums[4];
    let hc1 = if n > p as f64 {
        n / (n - p as f64)
    } else {
        1.0
    };
    let covariance = linalg::sandwich(&bread, &meat, p);
    let se = (0..p)
        .map(|k| (covariance[k * p + k] * hc1).max(0.0).sqrt())
        .collect();
    let total = sums[2] - sums[1] * sums[1] / sums[0].max(1e-300);
    let r2 = if total > 0.0 {
        1.0 - sums[3] / total
    } else {
        0.0
    };
    Ok(Fit {
        beta,
        se,
        persons: n as u64,
        exposure_years: sums[0],
        r2,
        iterations,
        converged,
    })
}

/// Everyone takes part.
pub fn everyone(_: usize) -> bool {
    true
}
