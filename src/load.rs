//! The reference loads of SPEC section 4: the national `L`, and at the
//! region or sundhedsråd level an `L_a` for each area over the clinics
//! located there, which the counts of those clinics use.
//!
//! `L_a` = (Σ need of the clinics located in `a`) / (Σ their effective
//! capacities). When a run is given `--capacity-total` (scenarios, the
//! capacity path of `project`), the area capacities are scaled by
//! `D / Σ capacities`, so the total is distributed in proportion to the
//! capacities each area has today; without it the scale is not applied at
//! all and `L_a` is the letter of the SPEC.
//!
//! Sums run over clinics in clinic-id order, one fixed order, so an `L_a`
//! is the same bits in the clinic counts and in the area table.

use crate::aggregate::Need;
use crate::domain::{Clinics, Geography};
use crate::model::LoadLevel;

/// The load each clinic's count uses, and the loads of the areas.
#[derive(Debug, Clone, PartialEq)]
pub struct Loads {
    pub level: LoadLevel,
    /// The national `L`.
    pub national: f64,
    /// By clinic: the `L` or `L_a` its count uses.
    pub by_clinic: Vec<f64>,
}

/// Σ need and Σ capacities of the clinics in each of `n_areas` areas,
/// `area_of(c)` giving clinic `c`'s area, summed in clinic order.
pub fn listed_sums(
    need: &Need,
    clinics: &Clinics,
    n_areas: usize,
    area_of: impl Fn(usize) -> usize,
) -> Vec<(f64, f64)> {
    let mut sums = vec![(0.0, 0.0); n_areas];
    for c in 0..clinics.len() {
        let s = &mut sums[area_of(c)];
        s.0 += need.clinics[c].need;
        s.1 += clinics.capacities[c];
    }
    sums
}

/// `L_a` from an area's Σ need and Σ capacities; `None` for an area with
/// no clinics. `scale` is `D / Σ capacities` when `D` was given.
pub fn area_load(need: f64, capacities: f64, scale: Option<f64>) -> Option<f64> {
    let capacities = match scale {
        Some(s) => capacities * s,
        None => capacities,
    };
    (capacities > 0.0).then(|| need / capacities)
}

/// The scale of area capacities: `Some(D / Σ capacities)` when `D` was
/// given rather than taken from the clinics.
pub fn capacity_scale(clinics: &Clinics, capacity_total: Option<f64>) -> Option<f64> {
    capacity_total.map(|d| d / clinics.total_capacities())
}

/// Which area of `level` clinic `c` is located in (`None` for the nation).
pub fn area_index(level: LoadLevel, clinics: &Clinics, geography: &Geography, c: usize) -> usize {
    let kommune = &geography.kommuner[usize::from(clinics.kommune[c])];
    match level {
        LoadLevel::Nation => 0,
        LoadLevel::Region => usize::from(kommune.region),
        LoadLevel::Sundhedsraad => usize::from(kommune.sundhedsraad),
    }
}

/// The number of areas at `level`.
pub fn area_count(level: LoadLevel, geography: &Geography) -> usize {
    match level {
        LoadLevel::Nation => 1,
        LoadLevel::Region => geography.regions.len(),
        LoadLevel::Sundhedsraad => geography.sundhedsraad.len(),
    }
}

/// The loads of a year at `level`.
pub fn loads(
    level: LoadLevel,
    national: f64,
    need: &Need,
    clinics: &Clinics,
    geography: &Geography,
    capacity_total: Option<f64>,
) -> Loads {
    let by_clinic = if level == LoadLevel::Nation {
        vec![national; clinics.len()]
    } else {
        let scale = capacity_scale(clinics, capacity_total);
        let area_of = |c| area_index(level, clinics, geography, c);
        let area_loads: Vec<Option<f64>> =
            listed_sums(need, clinics, area_count(level, geography), area_of)
                .into_iter()
                .map(|(n, d)| area_load(n, d, scale))
                .collect();
        // Every clinic's area has at least its capacity, above 0.
        (0..clinics.len())
            .map(|c| area_loads[area_of(c)].unwrap_or(national))
            .collect()
    };
    Loads {
        level,
        national,
        by_clinic,
    }
}
