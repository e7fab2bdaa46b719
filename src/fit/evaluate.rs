//! Judging models against observed utilization: person-level R², Cumming's
//! prediction measure and mean absolute error; clinic-level R² and the
//! spread of predicted over observed; predictive ratios by group;
//! out-of-sample predictions by k-fold cross-validation. Pure functions.
//!
//! Every person-level measure is on the annualised scale `y = u/e` with
//! weight `e` (the exposure), the scale the identity fit minimises over.

use super::design::{TermSet, MAX_ROW};
use super::{fit, FitOptions, NotEstimable};
use crate::domain::{Clinics, Geography, Population};
use crate::fit::Rows;
use crate::model::{age_band, Link, Model, AGE_BANDS};
use crate::stats::{quantile, Rule};
use crate::terms::Axis;
use crate::weights::YearTables;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

use crate::domain::BLOCK;

/// Person-level fit of predictions to utilization.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Metrics {
    pub persons: u64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub r2: f64,
    /// Cumming's prediction measure: 1 − Σ|y − ŷ| / Σ|y − ȳ|.
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub cpm: f64,
    /// Mean absolute prediction error, per exposure year.
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub mape: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub observed_mean: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub predicted_mean: f64,
}

/// Exposure and annualised utilization of person `i`.
#[inline]
fn observed(population: &Population, i: usize) -> (f64, f64) {
    let e = population.exposure.as_ref().map_or(1.0, |x| x[i]);
    let u = population.utilization.as_ref().map_or(0.0, |x| x[i]);
    (e, u / e)
}

/// Sums over fixed blocks merged in order (deterministic).
fn block_sums<const N: usize>(n: usize, f: impl Fn(usize, &mut [f64; N]) + Sync) -> [f64; N] {
    let parts: Vec<[f64; N]> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut sums = [0.0; N];
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                f(i, &mut sums);
            }
            sums
        })
        .collect();
    let mut total = [0.0; N];
    for part in &parts {
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
    total
}

/// R², CPM and MAPE of annualised predictions `predicted`.
pub fn person_metrics(population: &Population, predicted: &[f64]) -> Metrics {
    let n = population.len();
    let [w, wy, wp] = block_sums(n, |i, s| {
        let (e, y) = observed(population, i);
        s[0] += e;
        s[1] += e * y;
        s[2] += e * predicted[i];
    });
    let mean = wy / w.max(1e-300);
    let [ss_res, ss_tot, abs_res, abs_tot] = block_sums(n, |i, s| {
        let (e, y) = observed(population, i);
        let r = y - predicted[i];
        s[0] += e * r * r;
        s[1] += e * (y - mean) * (y - mean);
        s[2] += e * r.abs();
        s[3] += e * (y - mean).abs();
    });
    Metrics {
        persons: n as u64,
        r2: 1.0 - ss_res / ss_tot.max(1e-300),
        cpm: 1.0 - abs_res / abs_tot.max(1e-300),
        mape: abs_res / w.max(1e-300),
        observed_mean: mean,
        predicted_mean: wp / w.max(1e-300),
    }
}

/// Quantiles of a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Quantiles {
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub min: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub p5: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub p25: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub median: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub p75: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub p95: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub max: f64,
}

/// Quantiles of the finite values by the rounded-index rule
/// (`stats::Rule::RoundedIndex`) on a sorted copy; `None` when empty.
pub fn quantiles(values: &[f64]) -> Option<Quantiles> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| quantile(&sorted, q, Rule::RoundedIndex).unwrap_or(f64::NAN);
    Some(Quantiles {
        min: sorted[0],
        p5: at(0.05),
        p25: at(0.25),
        median: at(0.5),
        p75: at(0.75),
        p95: at(0.95),
        max: sorted[sorted.len() - 1],
    })
}

/// Clinic-level fit: predicted total need against observed utilization.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClinicMetrics {
    pub clinics: usize,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub r2: f64,
    /// Predicted over observed, over clinics with observed utilization.
    pub ratio: Option<Quantiles>,
}

pub fn clinic_metrics(
    population: &Population,
    predicted: &[f64],
    n_clinics: usize,
) -> ClinicMetrics {
    let mut totals = vec![[0.0f64; 2]; n_clinics];
    for i in 0..population.len() {
        let (e, y) = observed(population, i);
        let t = &mut totals[population.clinic[i] as usize];
        t[0] += e * predicted[i];
        t[1] += e * y;
    }
    let with: Vec<&[f64; 2]> = totals.iter().filter(|t| t[1] > 0.0).collect();
    let mean = with.iter().map(|t| t[1]).sum::<f64>() / with.len().max(1) as f64;
    let ss_res: f64 = with.iter().map(|t| (t[1] - t[0]).powi(2)).sum();
    let ss_tot: f64 = with.iter().map(|t| (t[1] - mean).powi(2)).sum();
    let ratios: Vec<f64> = with.iter().map(|t| t[0] / t[1]).collect();
    ClinicMetrics {
        clinics: with.len(),
        r2: 1.0 - ss_res / ss_tot.max(1e-300),
        ratio: quantiles(&ratios),
    }
}

/// Predicted over observed for one group of persons.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Ratio {
    pub group: String,
    pub level: String,
    pub persons: u64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub predicted: f64,
    #[serde(deserialize_with = "crate::output::schema::f64_or_nan")]
    pub observed: f64,
    pub ratio: Option<f64>,
}

/// Predictive ratios by age band, sex, every socioeconomic level, every
/// condition, number of conditions (a format-2 model: by every level of
/// each of its variables), region, clinic-size decile and decile of
/// predicted need.
pub fn predictive_ratios(
    population: &Population,
    predicted: &[f64],
    model: &Model,
    geography: &Geography,
    clinics: &Clinics,
) -> Vec<Ratio> {
    let n = population.len();
    // Group slots: a flat list of (group, level) labels.
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut slot = |group: &str, level: String| {
        labels.push((group.to_string(), level));
        labels.len() - 1
    };
    // Format 1: its fixed columns; format 2: every variable of the model.
    let fixed = model.format2.is_none().then(|| {
        let age: Vec<usize> = (0..AGE_BANDS)
            .map(|b| {
                let label = if b == AGE_BANDS - 1 {
                    "95+".into()
                } else {
                    format!("{}-{}", b * 5, b * 5 + 4)
                };
                slot("age_band", label)
            })
            .collect();
        let sex = [slot("sex", "male".into()), slot("sex", "female".into())];
        let education: Vec<usize> = (0..5).map(|l| slot("education", l.to_string())).collect();
        let income: Vec<usize> = (0..6)
            .map(|l| slot("income_quintile", l.to_string()))
            .collect();
        let labour: Vec<usize> = (0..6).map(|l| slot("labour", l.to_string())).collect();
        let origin: Vec<usize> = (0..3).map(|l| slot("origin", l.to_string())).collect();
        let alone = [
            slot("lives_alone", "false".into()),
            slot("lives_alone", "true".into()),
        ];
        let conditions: Vec<usize> = model
            .conditions
            .iter()
            .map(|(name, _)| slot("condition", name.clone()))
            .collect();
        let counts: Vec<usize> = (0..6)
            .map(|k| {
                slot(
                    "number_of_conditions",
                    if k == 5 { "5+".into() } else { k.to_string() },
                )
            })
            .collect();
        (
            age, sex, education, income, labour, origin, alone, conditions, counts,
        )
    });
    let terms = model.format2.as_deref().map(|spec| {
        let reader = crate::terms::TermReader::new(spec, geography);
        let variables: Vec<(Axis, Vec<usize>)> = spec
            .variables
            .iter()
            .enumerate()
            .map(|(v, variable)| {
                let levels = (0..variable.levels())
                    .map(|k| slot(&variable.name, variable.label(k)))
                    .collect();
                (Axis::of(spec, v), levels)
            })
            .collect();
        (reader, variables)
    });
    let regions: Vec<usize> = geography
        .regions
        .iter()
        .map(|r| slot("region", r.clone()))
        .collect();
    let size_deciles: Vec<usize> = (1..=10)
        .map(|d| slot("clinic_size_decile", d.to_string()))
        .collect();
    let need_deciles: Vec<usize> = (1..=10)
        .map(|d| slot("predicted_need_decile", d.to_string()))
        .collect();

    // Clinic-size deciles by number of listed persons (ties by index).
    let mut listed = vec![0u64; clinics.len()];
    for &c in &population.clinic {
        listed[c as usize] += 1;
    }
    let mut order: Vec<usize> = (0..clinics.len()).collect();
    order.sort_by_key(|&c| (listed[c], c));
    let mut clinic_decile = vec![0usize; clinics.len()];
    for (rank, &c) in order.iter().enumerate() {
        clinic_decile[c] = rank * 10 / clinics.len().max(1);
    }
    // Deciles of predicted need by its sorted values.
    let mut sorted = predicted.to_vec();
    sorted.par_sort_by(f64::total_cmp);
    let cuts: Vec<f64> = (1..10)
        .map(|d| sorted[(d * n / 10).min(n.saturating_sub(1))])
        .collect();

    let slots = labels.len();
    let parts: Vec<Vec<[f64; 3]>> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut sums = vec![[0.0f64; 3]; slots];
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                let (e, y) = observed(population, i);
                let add = |sums: &mut Vec<[f64; 3]>, s: usize| {
                    sums[s][0] += 1.0;
                    sums[s][1] += e * predicted[i];
                    sums[s][2] += e * y;
                };
                if let Some((
                    age,
                    sex,
                    education,
                    income,
                    labour,
                    origin,
                    alone,
                    conditions,
                    counts,
                )) = &fixed
                {
                    add(&mut sums, age[age_band(population.age[i])]);
                    add(
                        &mut sums,
                        sex[usize::from(population.sex[i].wrapping_sub(1) & 1)],
                    );
                    add(
                        &mut sums,
                        education[usize::from(population.education[i]).min(4)],
                    );
                    add(
                        &mut sums,
                        income[usize::from(population.income_quintile[i]).min(5)],
                    );
                    add(&mut sums, labour[usize::from(population.labour[i]).min(5)]);
                    add(&mut sums, origin[usize::from(population.origin[i]).min(2)]);
                    add(&mut sums, alone[usize::from(population.lives_alone[i])]);
                    let mask = population.conditions[i];
                    for (k, &s) in conditions.iter().enumerate() {
                        if mask & (1u64 << k) != 0 {
                            add(&mut sums, s);
                        }
                    }
                    add(&mut sums, counts[(mask.count_ones() as usize).min(5)]);
                }
                if let Some((reader, variables)) = &terms {
                    let original = population.conditions[i];
                    let mask = reader.effective(original);
                    for (axis, levels) in variables {
                        // A flag as in the data; a count after hierarchies.
                        let seen = match axis {
                            Axis::Flag(_) => original,
                            _ => mask,
                        };
                        let level = axis.level(population, i, seen);
                        if let Some(&s) = levels.get(level) {
                            add(&mut sums, s);
                        }
                    }
                }
                let region = geography.kommuner[usize::from(population.kommune[i])].region;
                add(&mut sums, regions[usize::from(region)]);
                add(
                    &mut sums,
                    size_deciles[clinic_decile[population.clinic[i] as usize]],
                );
                let decile = cuts.partition_point(|&c| c <= predicted[i]).min(9);
                add(&mut sums, need_deciles[decile]);
            }
            sums
        })
        .collect();
    let mut total = vec![[0.0f64; 3]; slots];
    for part in &parts {
        for (t, p) in total.iter_mut().zip(part) {
            for k in 0..3 {
                t[k] += p[k];
            }
        }
    }
    labels
        .into_iter()
        .zip(total)
        .map(|((group, level), [persons, predicted, observed])| Ratio {
            group,
            level,
            persons: persons as u64,
            predicted,
            observed,
            ratio: (observed > 0.0).then(|| predicted / observed),
        })
        .collect()
}

/// Every person's annualised prediction under a model as given, in its
/// data year.
pub fn predictions(
    model: &Model,
    geography: &Geography,
    population: &Population,
) -> Result<Vec<f64>, crate::error::ModelError> {
    let tables = YearTables::new(model, geography, model.data_year, Path::new(&model.id))?;
    let mut out = vec![0.0; population.len()];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(b, chunk)| {
            for (j, v) in chunk.iter_mut().enumerate() {
                *v = tables.person(population, b * BLOCK + j).raw;
            }
        });
    Ok(out)
}

/// The fold (0..k) of a person, from its id and the seed, so folds do not
/// depend on row order.
pub fn fold_of(person_id: i64, seed: u64, folds: usize) -> usize {
    let mut z = (person_id as u64) ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % folds.max(1) as u64) as usize
}

/// Out-of-sample predictions: each fold predicted by the design fitted on
/// the other folds.
pub fn cross_validated<D: Rows + ?Sized>(
    design: &D,
    population: &Population,
    options: &FitOptions,
    folds: usize,
    seed: u64,
) -> Result<Vec<f64>, NotEstimable> {
    let fold: Vec<u8> = population
        .person_id
        .iter()
        .map(|&id| fold_of(id, seed, folds) as u8)
        .collect();
    let mut out = vec![0.0; population.len()];
    for f in 0..folds {
        let include = |i: usize| usize::from(fold[i]) != f;
        let estimate = fit(design, population, &include, options)?;
        out.par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(b, chunk)| {
                let mut row = [(0u16, 0.0); MAX_ROW];
                for (j, v) in chunk.iter_mut().enumerate() {
                    let i = b * BLOCK + j;
                    if usize::from(fold[i]) == f {
                        *v = design.predict(&estimate.beta, options.link, population, i, &mut row);
                    }
                }
            });
    }
    Ok(out)
}

/// The rungs of the insight-versus-simplicity ladder, each nested in the next.
pub fn ladder() -> [(&'static str, TermSet); 4] {
    let none = TermSet {
        socioeconomic: [false; 5],
        conditions: false,
        multimorbidity: false,
        area: false,
    };
    let socio = TermSet {
        socioeconomic: [true; 5],
        ..none
    };
    let conditions = TermSet {
        conditions: true,
        ..socio
    };
    let full = TermSet {
        multimorbidity: true,
        area: true,
        ..conditions
    };
    [
        ("age and sex", none),
        ("+ socioeconomic", socio),
        ("+ conditions", conditions),
        ("+ multimorbidity and area (full)", full),
    ]
}

/// A link's annualised prediction from a linear predictor.
pub fn inverse_link(link: Link, eta: f64) -> f64 {
    match link {
        Link::Identity => eta,
        Link::Log => eta.exp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(u: &[f64]) -> Population {
        Population {
            codes: Vec::new(),
            numeric: Vec::new(),
            person_id: (0..u.len() as i64).collect(),
            clinic: vec![0; u.len()],
            kommune: vec![0; u.len()],
            age: vec![40; u.len()],
            sex: vec![1; u.len()],
            education: vec![0; u.len()],
            income_quintile: vec![0; u.len()],
            labour: vec![0; u.len()],
            origin: vec![0; u.len()],
            lives_alone: vec![false; u.len()],
            conditions: vec![0; u.len()],
            utilization: Some(u.to_vec()),
            exposure: None,
            row_groups: Vec::new(),
        }
    }

    #[test]
    fn metrics_on_a_tiny_vector_known_by_hand() {
        // y = [1, 2, 3, 6], ŷ = [2, 2, 2, 6]: mean 3; residuals -1, 0, 1, 0.
        // SS_res = 2, SS_tot = 4 + 1 + 0 + 9 = 14: R² = 1 - 2/14.
        // Σ|r| = 2, Σ|y - ȳ| = 2 + 1 + 0 + 3 = 6: CPM = 1 - 2/6; MAPE = 2/4.
        let population = tiny(&[1.0, 2.0, 3.0, 6.0]);
        let m = person_metrics(&population, &[2.0, 2.0, 2.0, 6.0]);
        assert!((m.r2 - (1.0 - 2.0 / 14.0)).abs() < 1e-15);
        assert!((m.cpm - (1.0 - 2.0 / 6.0)).abs() < 1e-15);
        assert!((m.mape - 0.5).abs() < 1e-15);
        assert_eq!(m.observed_mean, 3.0);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let q = quantiles(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((q.min, q.median, q.max), (1.0, 3.0, 5.0));
        assert_eq!(q.p25, 2.0);
        assert!(quantiles(&[]).is_none());
    }

    #[test]
    fn folds_are_balanced_and_stable() {
        let mut counts = [0usize; 5];
        for id in 0..50_000 {
            counts[fold_of(id, 7, 5)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(fold_of(123, 7, 5), fold_of(123, 7, 5));
    }
}
