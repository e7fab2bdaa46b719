//! Marginals of a synthetic data set next to the public figures they aim
//! at. Counts are gathered per block while the data is made (so nothing is
//! kept per person) and merged in block order.

use super::clinics::SynthClinics;
use super::people::{Person, RUKS_SIX};
use serde::Serialize;

/// FOLK1A, 1 January 2024, by the 2007-2026 regions.
pub const FOLK1A_2024: [(&str, f64); 5] = [
    ("Hovedstaden", 1_911_067.0),
    ("Midtjylland", 1_365_688.0),
    ("Syddanmark", 1_238_406.0),
    ("Sjælland", 852_953.0),
    ("Nordjylland", 593_135.0),
];
pub const DENMARK_2024: f64 = 5_961_249.0;

/// Counts over persons, mergeable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub persons: u64,
    pub by_old_region: [u64; 5],
    pub age_0_17: u64,
    pub age_65_plus: u64,
    pub age_80_plus: u64,
    pub female_80_plus: u64,
    pub age_25_69: u64,
    pub education_25_69: [u64; 5],
    pub immigrants: u64,
    pub capital: u64,
    pub capital_immigrants: u64,
    pub ruks_six: u64,
    pub ruks_six_80_plus: u64,
    pub age_67_plus: u64,
    pub pensioners_67_plus: u64,
    pub age_16_24: u64,
    pub students_16_24: u64,
    pub alone_80_plus: u64,
    pub age_30_64: u64,
    pub alone_30_64: u64,
    pub utilization_sum: f64,
    pub utilization_zero: u64,
    pub listed_at_home: u64,
    pub condition_counts: Vec<u64>,
    pub multimorbid: u64,
}

impl Stats {
    pub fn new(conditions: usize) -> Self {
        Stats {
            condition_counts: vec![0; conditions],
            ..Stats::default()
        }
    }

    /// Counts one person. `ruks_mask` selects the six RUKS conditions among
    /// the model's, `old_region` is the 2007-2026 region's index in
    /// `FOLK1A_2024`.
    pub fn add(
        &mut self,
        person: &Person,
        old_region: usize,
        ruks_mask: u64,
        utilization: f64,
        at_home: bool,
    ) {
        let age = person.age;
        self.persons += 1;
        self.by_old_region[old_region] += 1;
        self.age_0_17 += u64::from(age <= 17);
        self.age_65_plus += u64::from(age >= 65);
        if age >= 80 {
            self.age_80_plus += 1;
            self.female_80_plus += u64::from(person.sex == 2);
            self.ruks_six_80_plus += u64::from(person.conditions & ruks_mask != 0);
            self.alone_80_plus += u64::from(person.lives_alone);
        }
        if (25..=69).contains(&age) {
            self.age_25_69 += 1;
            self.education_25_69[usize::from(person.education)] += 1;
        }
        self.immigrants += u64::from(person.origin != 0);
        if old_region == 0 {
            self.capital += 1;
            self.capital_immigrants += u64::from(person.origin != 0);
        }
        self.ruks_six += u64::from(person.conditions & ruks_mask != 0);
        if age >= 67 {
            self.age_67_plus += 1;
            self.pensioners_67_plus += u64::from(person.labour == 4);
        }
        if (16..=24).contains(&age) {
            self.age_16_24 += 1;
            self.students_16_24 += u64::from(person.labour == 2);
        }
        if (30..=64).contains(&age) {
            self.age_30_64 += 1;
            self.alone_30_64 += u64::from(person.lives_alone);
        }
        self.utilization_sum += utilization;
        self.utilization_zero += u64::from(utilization == 0.0);
        self.listed_at_home += u64::from(at_home);
        let mut bits = person.conditions;
        while bits != 0 {
            self.condition_counts[bits.trailing_zeros() as usize] += 1;
            bits &= bits - 1;
        }
        self.multimorbid += u64::from(person.conditions.count_ones() >= 2);
    }

    pub fn merge(&mut self, other: &Stats) {
        self.persons += other.persons;
        for (a, b) in self.by_old_region.iter_mut().zip(&other.by_old_region) {
            *a += b;
        }
        for (a, b) in self.education_25_69.iter_mut().zip(&other.education_25_69) {
            *a += b;
        }
        for (a, b) in self
            .condition_counts
            .iter_mut()
            .zip(&other.condition_counts)
        {
            *a += b;
        }
        self.age_0_17 += other.age_0_17;
        self.age_65_plus += other.age_65_plus;
        self.age_80_plus += other.age_80_plus;
        self.female_80_plus += other.female_80_plus;
        self.age_25_69 += other.age_25_69;
        self.immigrants += other.immigrants;
        self.capital += other.capital;
        self.capital_immigrants += other.capital_immigrants;
        self.ruks_six += other.ruks_six;
        self.ruks_six_80_plus += other.ruks_six_80_plus;
        self.age_67_plus += other.age_67_plus;
        self.pensioners_67_plus += other.pensioners_67_plus;
        self.age_16_24 += other.age_16_24;
        self.students_16_24 += other.students_16_24;
        self.alone_80_plus += other.alone_80_plus;
        self.age_30_64 += other.age_30_64;
        self.alone_30_64 += other.alone_30_64;
        self.utilization_sum += other.utilization_sum;
        self.utilization_zero += other.utilization_zero;
        self.listed_at_home += other.listed_at_home;
        self.multimorbid += other.multimorbid;
    }
}

/// The bit mask of the six RUKS conditions among the model's conditions.
pub fn ruks_mask(conditions: &[&str]) -> u64 {
    conditions
        .iter()
        .enumerate()
        .filter(|(_, name)| RUKS_SIX.contains(name))
        .fold(0, |mask, (k, _)| mask | 1 << k)
}

/// One marginal next to its target.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Marginal {
    pub name: String,
    pub value: f64,
    pub target: f64,
    /// Allowed absolute difference.
    pub tolerance: f64,
    /// Whether the marginal is held to its target at this scale (clinic
    /// structure is only meaningful for a country of some size).
    pub checked: bool,
    pub ok: bool,
    pub source: &'static str,
}

/// The whole `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub scale: Option<f64>,
    pub persons: u64,
    pub clinics: usize,
    pub capacities: f64,
    pub condition_prevalence: std::collections::BTreeMap<String, f64>,
    pub marginals: Vec<Marginal>,
    pub all_ok: bool,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The marginals being collected, each checked against its target.
struct Marginals(Vec<Marginal>);

impl Marginals {
    fn add(
        &mut self,
        name: &str,
        value: f64,
        target: f64,
        tolerance: f64,
        checked: bool,
        source: &'static str,
    ) {
        self.0.push(Marginal {
            name: name.to_string(),
            value,
            target,
            tolerance,
            checked,
            ok: !checked || (value - target).abs() <= tolerance,
            source,
        });
    }
}

/// The persons' marginals against public figures for Denmark at scale `s`.
fn population_marginals(marginals: &mut Marginals, stats: &Stats, s: f64, national: bool) {
    marginals.add(
        "persons",
        stats.persons as f64,
        DENMARK_2024 * s,
        0.01 * DENMARK_2024 * s,
        national,
        "FOLK1A 2024",
    );
    for (k, (region, count)) in FOLK1A_2024.iter().enumerate() {
        marginals.add(
            &format!("persons_{region}"),
            stats.by_old_region[k] as f64,
            count * s,
            0.01 * count * s,
            national,
            "FOLK1A 2024, regions 2007-2026",
        );
    }
    let p = stats.persons;
    marginals.add(
        "share_age_0_17",
        ratio(stats.age_0_17, p),
        0.195,
        0.015,
        national,
        "FOLK1A 2024",
    );
    marginals.add(
        "share_age_65_plus",
        ratio(stats.age_65_plus, p),
        0.207,
        0.015,
        national,
        "FOLK1A 2024",
    );
    marginals.add(
        "female_share_80_plus",
        ratio(stats.female_80_plus, stats.age_80_plus),
        0.58,
        0.03,
        national,
        "FOLK1A 2024",
    );
    let e = &stats.education_25_69;
    marginals.add(
        "education_primary_25_69",
        ratio(e[1], stats.age_25_69),
        0.25,
        0.03,
        national,
        "education 25-69, 2019",
    );
    marginals.add(
        "education_vocational_25_69",
        ratio(e[2], stats.age_25_69),
        0.34,
        0.03,
        national,
        "education 25-69, 2019",
    );
    marginals.add(
        "education_higher_25_69",
        ratio(e[3] + e[4], stats.age_25_69),
        0.40,
        0.03,
        national,
        "education 25-69, 2019",
    );
    marginals.add(
        "share_immigrants_descendants",
        ratio(stats.immigrants, p),
        0.15,
        0.015,
        national,
        "about 14-15% of the population",
    );
    marginals.add(
        "share_immigrants_descendants_capital",
        ratio(stats.capital_immigrants, stats.capital),
        0.21,
        0.03,
        national,
        "larger share in the capital area",
    );
    marginals.add(
        "share_one_of_six_ruks",
        ratio(stats.ruks_six, p),
        1.0e6 / DENMARK_2024,
        0.025,
        national,
        "RUKS 2023: about 1 million",
    );
    marginals.add(
        "share_one_of_six_ruks_80_plus",
        ratio(stats.ruks_six_80_plus, stats.age_80_plus),
        0.5,
        0.07,
        national,
        "RUKS 2023: half of those 80+",
    );
    marginals.add(
        "old_age_pension_67_plus",
        ratio(stats.pensioners_67_plus, stats.age_67_plus),
        0.88,
        0.06,
        national,
        "pension age 67",
    );
    marginals.add(
        "students_16_24",
        ratio(stats.students_16_24, stats.age_16_24),
        0.55,
        0.06,
        national,
        "education participation 16-24",
    );
    marginals.add(
        "lives_alone_80_plus",
        ratio(stats.alone_80_plus, stats.age_80_plus),
        0.55,
        0.07,
        national,
        "living alone is common among the old",
    );
    marginals.add(
        "lives_alone_30_64",
        ratio(stats.alone_30_64, stats.age_30_64),
        0.19,
        0.05,
        national,
        "households 2024",
    );
    marginals.add(
        "utilization_mean_dkk",
        stats.utilization_sum / p.max(1) as f64,
        1700.0,
        200.0,
        national,
        "GP spending about DKK 10 billion a year",
    );
    marginals.add(
        "utilization_zero_share",
        ratio(stats.utilization_zero, p),
        0.15,
        0.03,
        national,
        "85% saw their GP in 2023",
    );
    marginals.add(
        "listed_in_residence_kommune",
        ratio(stats.listed_at_home, p),
        0.94,
        0.04,
        national,
        "most list in their own kommune",
    );
}

/// The clinics' marginals (count, capacities, structure); returns the
/// total capacities.
fn clinic_marginals(
    marginals: &mut Marginals,
    clinics: &SynthClinics,
    listed: &[u64],
    persons: u64,
    s: f64,
    national: bool,
    structure: bool,
) -> f64 {
    let p = persons;
    let n = clinics.clinic_id.len();
    let capacities: f64 = clinics.capacities.iter().sum();
    marginals.add(
        "clinics",
        n as f64,
        1850.0 * s,
        150.0 * s,
        national && s >= 0.5,
        "about 1,700-2,000 clinics",
    );
    marginals.add(
        "capacities",
        capacities,
        3600.0 * s,
        100.0 * s,
        national && s >= 0.5,
        "about 3,500-3,700 capacities",
    );
    let single = clinics.capacities.iter().filter(|&&d| d <= 1.0).count();
    marginals.add(
        "single_handed_share",
        ratio(single as u64, n as u64),
        0.33,
        0.05,
        structure,
        "about 27-33% single-handed",
    );
    marginals.add(
        "persons_per_capacity",
        p as f64 / capacities.max(1e-9),
        1600.0,
        100.0,
        structure,
        "about 1,600 per capacity",
    );
    let vulnerable = clinics.vulnerable_area.iter().filter(|&&v| v).count();
    marginals.add(
        "vulnerable_area_share",
        ratio(vulnerable as u64, n as u64),
        0.04,
        0.025,
        structure,
        "12 vulnerable housing areas, in the cities",
    );
    // Spread of listed persons per capacity between clinics (coefficient of variation).
    let per_capacity: Vec<f64> = listed
        .iter()
        .zip(&clinics.capacities)
        .map(|(&l, &d)| l as f64 / d)
        .collect();
    let mean = per_capacity.iter().sum::<f64>() / per_capacity.len().max(1) as f64;
    let sd = (per_capacity.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        / per_capacity.len().max(1) as f64)
        .sqrt();
    marginals.add(
        "listed_per_capacity_cv",
        sd / mean.max(1e-9),
        0.2,
        0.08,
        structure,
        "list sizes per doctor vary, roughly 1,100 to 2,500",
    );

    capacities
}

/// Compares the data set with its targets.
pub fn summarize(
    stats: &Stats,
    clinics: &SynthClinics,
    listed: &[u64],
    conditions: &[&str],
    seed: u64,
    scale: Option<f64>,
) -> Summary {
    // A data set that is not a scaled Denmark (the fixture) is described,
    // not held to the national figures.
    let national = scale.is_some();
    let structure = scale.is_some_and(|s| s >= 0.2);
    let s = scale.unwrap_or(0.0);
    let p = stats.persons;
    let mut marginals = Marginals(Vec::new());
    population_marginals(&mut marginals, stats, s, national);
    let capacities = clinic_marginals(&mut marginals, clinics, listed, p, s, national, structure);
    let marginals = marginals.0;
    let condition_prevalence = conditions
        .iter()
        .zip(&stats.condition_counts)
        .map(|(name, &count)| (name.to_string(), ratio(count, p)))
        .collect();
    let all_ok = marginals.iter().all(|m| m.ok);
    Summary {
        seed,
        scale,
        persons: p,
        clinics: clinics.clinic_id.len(),
        capacities,
        condition_prevalence,
        marginals,
        all_ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(age: u8, sex: u8) -> Person {
        Person {
            age,
            sex,
            education: 0,
            income_quintile: 1,
            labour: 0,
            origin: 0,
            lives_alone: false,
            conditions: 0,
        }
    }

    #[test]
    fn a_marginal_off_target_is_flagged() {
        // A country of 1,000 persons, all aged 30: no one is 65+, so that
        // marginal (target 20.7%) must fail; the age 0-17 one too.
        let mut stats = Stats::new(1);
        for _ in 0..1000 {
            stats.add(&person(30, 1), 0, 1, 1700.0, true);
        }
        let summary = summarize(
            &stats,
            &SynthClinics::default(),
            &[],
            &["copd"],
            1,
            Some(0.001),
        );
        let get = |name: &str| summary.marginals.iter().find(|m| m.name == name).unwrap();
        assert!(!get("share_age_65_plus").ok);
        assert_eq!(get("share_age_65_plus").value, 0.0);
        assert!(!get("share_age_0_17").ok);
        assert!(get("utilization_mean_dkk").ok);
        assert!(!summary.all_ok);
    }

    #[test]
    fn merging_equals_counting_once() {
        let mut one = Stats::new(2);
        let mut a = Stats::new(2);
        let mut b = Stats::new(2);
        for (k, age) in [3u8, 70, 85, 40, 20].iter().enumerate() {
            let mut p = person(*age, 1 + (k % 2) as u8);
            p.conditions = k as u64 % 4;
            one.add(&p, k % 5, 1, k as f64, k % 2 == 0);
            if k < 2 {
                a.add(&p, k % 5, 1, k as f64, k % 2 == 0)
            } else {
                b.add(&p, k % 5, 1, k as f64, k % 2 == 0)
            }
        }
        a.merge(&b);
        assert_eq!(a, one);
    }
}
