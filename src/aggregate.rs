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

/// Count, mean and sum of squared deviations of two groups merged, the
/// later second (Chan, Golub and LeVeque's pairwise update).
fn chan_merge(a: (u64, f64, f64), b: (u64, f64, f64)) -> (u64, f64, f64) {
    let ((na, mean_a, m2_a), (nb, mean_b, m2_b)) = (a, b);
    if nb == 0 {
        return a;
    }
    if na == 0 {
        return b;
    }
    let n = na + nb;
    let delta = mean_b - mean_a;
    let mean = mean_a + delta * nb as f64 / n as f64;
    let m2 = m2_a + m2_b + delta * delta * na as f64 * nb as f64 / n as f64;
    (n, mean, m2)
}

impl ClinicSums {
    /// Merges `other` (the later block) into `self`.
    fn merge(&mut self, other: &ClinicSums) {
        (self.n, self.mean, self.m2) = chan_merge(
            (self.n, self.mean, self.m2),
            (other.n, other.mean, other.m2),
        );
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
    let mut total = NeedSums {
        persons: 0,
        raw_total: 0.0,
        clipped: 0,
        first_non_finite: None,
        clinics: vec![ClinicSums::default(); n_clinics],
        kommune_residents: vec![0; n_kommuner],
        kommune_raw: vec![0.0; n_kommuner],
    };
    ordered_blocks(
        n,
        BLOCK,
        |rows| block_sums(tables, population, rows, n_clinics, n_kommuner),
        |part| total.merge(&part),
    );
    total
}

impl NeedSums {
    /// Adds a later block's sums.
    fn merge(&mut self, part: &NeedSums) {
        let total = self;
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
}

/// Maps fixed blocks of rows in parallel and hands the results to `merge`
/// in block order, a window of blocks at a time, so results are the same
/// whatever the thread count and memory holds only a window of partials.
pub fn ordered_blocks<T: Send>(
    rows: usize,
    block: usize,
    map: impl Fn(std::ops::Range<usize>) -> T + Sync,
    mut merge: impl FnMut(T),
) {
    let blocks = rows.div_ceil(block);
    let window = 2 * rayon::current_num_threads().max(1);
    let mut first = 0;
    while first < blocks {
        let last = (first + window).min(blocks);
        let parts: Vec<T> = (first..last)
            .into_par_iter()
            .map(|b| map(b * block..((b + 1) * block).min(rows)))
            .collect();
        parts.into_iter().for_each(&mut merge);
        first = last;
    }
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

/// Sums over the persons of one clinic who share a package signature, in
/// base-need (before packages) units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Group {
    n: u64,
    sum: f64,
    mean: f64,
    m2: f64,
}

impl Group {
    fn merge(&mut self, other: &Group) {
        (self.n, self.mean, self.m2) = chan_merge(
            (self.n, self.mean, self.m2),
            (other.n, other.mean, other.m2),
        );
        self.sum += other.sum;
    }
}

/// The most package signatures the basis keeps (2^8: eight packages).
pub const MAX_SIGNATURES: usize = 256;

/// Everything about the persons that does not depend on the year: per
/// clinic and package signature the count, sum and spread of base need,
/// per clinic the parts of base need, per kommune and signature count and
/// sum. Since a year's packages map base need affinely per signature, any
/// year's clinic sums follow from this without another pass over persons.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    signatures: usize,
    n_kommuner: usize,
    groups: Vec<Group>,
    clinic_parts: Vec<Components>,
    kommune_groups: Vec<(u64, f64)>,
    min_base: Vec<f64>,
    pub persons: u64,
    pub first_non_finite: Option<usize>,
}

impl Basis {
    /// An empty basis; `None` when the model has too many packages for
    /// signatures to pay off.
    pub fn empty(tables: &YearTables, n_clinics: usize, n_kommuner: usize) -> Option<Basis> {
        let signatures = 1usize << tables.package_count();
        if signatures > MAX_SIGNATURES {
            return None;
        }
        Some(Basis {
            signatures,
            n_kommuner,
            groups: vec![Group::default(); n_clinics * signatures],
            clinic_parts: vec![Components::default(); n_clinics],
            kommune_groups: vec![(0, 0.0); n_kommuner * signatures],
            min_base: vec![f64::INFINITY; signatures],
            persons: 0,
            first_non_finite: None,
        })
    }

    /// One parallel pass over the persons, row group by row group (the
    /// population's `row_groups`), so the sums are the same whether the
    /// file was read whole or streamed a row group at a time.
    pub fn new(
        tables: &YearTables,
        population: &Population,
        n_clinics: usize,
        n_kommuner: usize,
    ) -> Option<Basis> {
        let mut total = Basis::empty(tables, n_clinics, n_kommuner)?;
        let ranges = population.row_group_ranges();
        let window = 2 * rayon::current_num_threads().max(1);
        for group in ranges.chunks(window) {
            let parts: Vec<Option<Basis>> = group
                .par_iter()
                .map(|rows| {
                    Basis::of_range(tables, population, rows.clone(), n_clinics, n_kommuner)
                })
                .collect();
            for (rows, part) in group.iter().zip(parts) {
                total.merge(&part?, rows.start);
            }
        }
        Some(total)
    }

    /// The basis of the persons in `rows`, summed in row order on one
    /// thread (indices of `first_non_finite` relative to `rows.start`).
    /// Parallelism comes from taking row groups side by side.
    pub fn of_range(
        tables: &YearTables,
        population: &Population,
        rows: std::ops::Range<usize>,
        n_clinics: usize,
        n_kommuner: usize,
    ) -> Option<Basis> {
        let mut part = Basis::empty(tables, n_clinics, n_kommuner)?;
        let signatures = part.signatures;
        let first = rows.start;
        // Deviations from the first value seen keep sums of squares
        // accurate. One slot's running sums share a cache line.
        #[derive(Clone, Copy, Default)]
        struct Running {
            n: u64,
            sum: f64,
            shift: f64,
            s1: f64,
            s2: f64,
        }
        let mut running = vec![Running::default(); n_clinics * signatures];
        // A table of the condition masks' terms pays off over many persons.
        let table = (rows.len() > 1 << 18)
            .then(|| tables.mask_table())
            .flatten();
        for i in rows {
            let base = match &table {
                Some(table) => tables.base_from_table(table, population, i),
                None => tables.base(population, i),
            };
            let b = base.need;
            if !b.is_finite() && part.first_non_finite.is_none() {
                part.first_non_finite = Some(i - first);
            }
            let sig = base.signature as usize;
            let c = population.clinic[i] as usize;
            let slot = c * signatures + sig;
            let r = &mut running[slot];
            if r.n == 0 {
                r.shift = b;
            }
            r.n += 1;
            r.sum += b;
            let d = b - r.shift;
            r.s1 += d;
            r.s2 += d * d;
            part.clinic_parts[c].add(&base.components);
            let k = usize::from(population.kommune[i]) * signatures + sig;
            part.kommune_groups[k].0 += 1;
            part.kommune_groups[k].1 += b;
            if b < part.min_base[sig] {
                part.min_base[sig] = b;
            }
            part.persons += 1;
        }
        for (group, r) in part.groups.iter_mut().zip(&running) {
            if r.n > 0 {
                let n = r.n as f64;
                group.n = r.n;
                group.sum = r.sum;
                group.mean = r.shift + r.s1 / n;
                group.m2 = (r.s2 - r.s1 * r.s1 / n).max(0.0);
            }
        }
        Some(part)
    }

    /// Adds the basis of later persons; `row_offset` is their first row.
    pub fn merge(&mut self, part: &Basis, row_offset: usize) {
        for (a, b) in self.groups.iter_mut().zip(&part.groups) {
            a.merge(b);
        }
        for (a, b) in self.clinic_parts.iter_mut().zip(&part.clinic_parts) {
            a.add(b);
        }
        for (a, b) in self.kommune_groups.iter_mut().zip(&part.kommune_groups) {
            a.0 += b.0;
            a.1 += b.1;
        }
        for (a, b) in self.min_base.iter_mut().zip(&part.min_base) {
            *a = a.min(*b);
        }
        self.persons += part.persons;
        self.first_non_finite = self
            .first_non_finite
            .or(part.first_non_finite.map(|i| i + row_offset));
    }

    /// The sums of one year, whose packages are in `tables`. `None` when
    /// some person's need could fall below 0 (clipping is per person, so
    /// the caller must take the pass over persons).
    pub fn year_sums(&self, tables: &YearTables) -> Option<NeedSums> {
        let signatures = self.signatures;
        let maps: Vec<(f64, f64)> = (0..signatures).map(|s| tables.affine(s as u32)).collect();
        for (s, &(a, c)) in maps.iter().enumerate() {
            if self.min_base[s].is_finite() && a * self.min_base[s] + c < 0.0 {
                return None;
            }
        }
        let n_clinics = self.clinic_parts.len();
        let mut clinics = Vec::with_capacity(n_clinics);
        let mut raw_total = 0.0;
        for c in 0..n_clinics {
            let mut combined = Group::default();
            let mut base_sum = 0.0;
            for (s, &(a, shift)) in maps.iter().enumerate() {
                let g = &self.groups[c * signatures + s];
                if g.n == 0 {
                    continue;
                }
                base_sum += g.sum;
                combined.merge(&Group {
                    n: g.n,
                    sum: a * g.sum + shift * g.n as f64,
                    mean: a * g.mean + shift,
                    m2: a * a * g.m2,
                });
            }
            let mut components = self.clinic_parts[c];
            components.packages = combined.sum - base_sum;
            raw_total += combined.sum;
            clinics.push(ClinicSums {
                n: combined.n,
                raw: combined.sum,
                components,
                mean: combined.mean,
                m2: combined.m2,
            });
        }
        let mut kommune_residents = vec![0u64; self.n_kommuner];
        let mut kommune_raw = vec![0.0; self.n_kommuner];
        for k in 0..self.n_kommuner {
            for (s, &(a, shift)) in maps.iter().enumerate() {
                let (n, sum) = self.kommune_groups[k * signatures + s];
                kommune_residents[k] += n;
                kommune_raw[k] += a * sum + shift * n as f64;
            }
        }
        Some(NeedSums {
            persons: self.persons,
            raw_total,
            clipped: 0,
            first_non_finite: self.first_non_finite,
            clinics,
            kommune_residents,
            kommune_raw,
        })
    }
}
