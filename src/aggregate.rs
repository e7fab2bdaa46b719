//! One parallel pass over the persons: raw need per person, summed per
//! clinic (with its parts and the spread of the weights) and per residence
//! kommune, then scaled to weights by the national mean raw need.
//!
//! Determinism: persons are cut into fixed blocks whatever the thread
//! count, each block is summed in row order, and block results are merged
//! in block order, so every floating-point sum is the same with 1 or 16
//! threads. Memory: one accumulator per clinic per block, nothing per person.

use crate::domain::Population;
use crate::weights::{Components, YearTables};
use rayon::prelude::*;

/// Persons per block. Fixed: changing it changes the last bits of sums.
pub const BLOCK: usize = 1 << 16;

/// Sums over one clinic's persons, in raw-need units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClinicSums {
    pub n: u64,
    pub raw: f64,
    pub components: Components,
    /// Mean raw need of the clinic's persons.
    pub mean: f64,
    /// Sum of squared deviations from `mean`.
    pub m2: f64,
}

impl ClinicSums {
    /// Merges `other` (the later block) into `self` (Chan et al.).
    fn merge(&mut self, other: &ClinicSums) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        let (na, nb) = (self.n as f64, other.n as f64);
        self.mean += delta * nb / n as f64;
        self.m2 += other.m2 + delta * delta * na * nb / n as f64;
        self.n = n;
        self.raw += other.raw;
        self.components.add(&other.components);
    }
}

/// The result of the pass, in raw-need units.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedSums {
    pub persons: u64,
    pub raw_total: f64,
    /// Persons whose raw need was below 0 and was clipped.
    pub clipped: u64,
    /// The first person (0-based row) whose raw need was not finite.
    pub first_non_finite: Option<usize>,
    pub clinics: Vec<ClinicSums>,
    pub kommune_residents: Vec<u64>,
    pub kommune_raw: Vec<f64>,
}

/// Within a block, the deviations are taken from the first value seen for
/// the clinic, which keeps the sums of squares accurate.
#[derive(Clone, Copy, Default)]
struct Accumulator {
    n: u64,
    raw: f64,
    shift: f64,
    s1: f64,
    s2: f64,
    components: Components,
}

/// Computes every person's raw need and sums it per clinic and kommune.
pub fn need_sums(
    tables: &YearTables,
    population: &Population,
    n_clinics: usize,
    n_kommuner: usize,
) -> NeedSums {
    let n = population.len();
    let blocks = n.div_ceil(BLOCK);
    let partials: Vec<NeedSums> = (0..blocks)
        .into_par_iter()
        .map(|block| {
            let start = block * BLOCK;
            let end = (start + BLOCK).min(n);
            block_sums(tables, population, start..end, n_clinics, n_kommuner)
        })
        .collect();
    let mut total = NeedSums {
        persons: 0,
        raw_total: 0.0,
        clipped: 0,
        first_non_finite: None,
        clinics: vec![ClinicSums::default(); n_clinics],
        kommune_residents: vec![0; n_kommuner],
        kommune_raw: vec![0.0; n_kommuner],
    };
    for part in &partials {
        total.persons += part.persons;
        total.raw_total += part.raw_total;
        total.clipped += part.clipped;
        total.first_non_finite = total.first_non_finite.or(part.first_non_finite);
        for (sums, other) in total.clinics.iter_mut().zip(&part.clinics) {
            sums.merge(other);
        }
        for (a, b) in total
            .kommune_residents
            .iter_mut()
            .zip(&part.kommune_residents)
        {
            *a += b;
        }
        for (a, b) in total.kommune_raw.iter_mut().zip(&part.kommune_raw) {
            *a += b;
        }
    }
    total
}

fn block_sums(
    tables: &YearTables,
    population: &Population,
    rows: std::ops::Range<usize>,
    n_clinics: usize,
    n_kommuner: usize,
) -> NeedSums {
    let mut accumulators = vec![Accumulator::default(); n_clinics];
    let mut kommune_residents = vec![0u64; n_kommuner];
    let mut kommune_raw = vec![0.0; n_kommuner];
    let mut raw_total = 0.0;
    let mut clipped = 0u64;
    let mut first_non_finite = None;
    let persons = rows.len() as u64;
    for i in rows {
        let need = tables.person(population, i);
        if !need.raw.is_finite() && first_non_finite.is_none() {
            first_non_finite = Some(i);
        }
        clipped += u64::from(need.clipped);
        raw_total += need.raw;
        let kommune = usize::from(population.kommune[i]);
        kommune_residents[kommune] += 1;
        kommune_raw[kommune] += need.raw;
        let acc = &mut accumulators[population.clinic[i] as usize];
        if acc.n == 0 {
            acc.shift = need.raw;
        }
        acc.n += 1;
        acc.raw += need.raw;
        let d = need.raw - acc.shift;
        acc.s1 += d;
        acc.s2 += d * d;
        acc.components.add(&need.components);
    }
    let clinics = accumulators
        .iter()
        .map(|acc| {
            if acc.n == 0 {
                return ClinicSums::default();
            }
            let n = acc.n as f64;
            ClinicSums {
                n: acc.n,
                raw: acc.raw,
                components: acc.components,
                mean: acc.shift + acc.s1 / n,
                m2: (acc.s2 - acc.s1 * acc.s1 / n).max(0.0),
            }
        })
        .collect();
    NeedSums {
        persons,
        raw_total,
        clipped,
        first_non_finite,
        clinics,
        kommune_residents,
        kommune_raw,
    }
}

/// A clinic's need in weight units (national mean weight 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClinicNeed {
    pub n_patients: u64,
    /// Σ w over the clinic's persons.
    pub need: f64,
    /// `need / n`; `None` for a clinic with no persons.
    pub mean_weight: Option<f64>,
    /// Sample standard deviation of the weights; `None` below 2 persons.
    pub sd_weight: Option<f64>,
    pub components: Components,
}

/// Weights: the sums divided by the national mean raw need.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub persons: u64,
    pub mean_raw: f64,
    pub clipped: u64,
    pub clinics: Vec<ClinicNeed>,
    pub kommune_residents: Vec<u64>,
    pub kommune_need: Vec<f64>,
}

impl NeedSums {
    /// Scales to weights. `None` when the mean raw need is not above 0.
    pub fn to_need(&self) -> Option<Need> {
        if self.persons == 0 {
            return None;
        }
        let mean_raw = self.raw_total / self.persons as f64;
        if !(mean_raw > 0.0 && mean_raw.is_finite()) {
            return None;
        }
        let clinics = self
            .clinics
            .iter()
            .map(|s| {
                let need = s.raw / mean_raw;
                ClinicNeed {
                    n_patients: s.n,
                    need,
                    mean_weight: (s.n > 0).then(|| need / s.n as f64),
                    sd_weight: (s.n > 1).then(|| (s.m2 / (s.n - 1) as f64).sqrt() / mean_raw),
                    components: s.components.scaled(1.0 / mean_raw),
                }
            })
            .collect();
        Some(Need {
            persons: self.persons,
            mean_raw,
            clipped: self.clipped,
            clinics,
            kommune_residents: self.kommune_residents.clone(),
            kommune_need: self.kommune_raw.iter().map(|r| r / mean_raw).collect(),
        })
    }
}
