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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::ClinicNeed;
    use crate::domain::Kommune;

    fn kommune(code: i16, sundhedsraad: u16, region: u16) -> Kommune {
        Kommune {
            code,
            name: format!("k{code}"),
            sundhedsraad,
            region,
            area_index: None,
        }
    }

    /// Three kommuner: 1 and 2 in council A, 3 in council B; A and B in
    /// one region. Four clinics: need 900 + 1,100 on 1 + 1 capacities in
    /// A (L_A = 2,000 / 2 = 1,000), need 3,000 on 1.5 + 0.5 = 2
    /// capacities in B (L_B = 1,500).
    fn case() -> (Need, Clinics, Geography) {
        let geography = Geography {
            kommuner: vec![kommune(1, 0, 0), kommune(2, 0, 0), kommune(3, 1, 0)],
            sundhedsraad: vec!["A".into(), "B".into()],
            regions: vec!["R".into()],
        };
        let needs = [900.0, 1100.0, 2000.0, 1000.0];
        let clinics = Clinics {
            clinic_id: vec![1, 2, 3, 4],
            kommune: vec![0, 1, 2, 2],
            capacities: vec![1.0, 1.0, 1.5, 0.5],
            capacities_given: vec![1.0, 1.0, 2.0, 0.5],
            capacity_adjustment: vec![0.0, 0.0, -0.5, 0.0],
            previous_min_patients: vec![1000.0; 4],
            previous_given: vec![true; 4],
            vulnerable_area: vec![false; 4],
        };
        let need = Need {
            persons: 5000,
            mean_raw: 1.0,
            clipped: 0,
            clinics: needs
                .iter()
                .map(|&n| ClinicNeed {
                    need: n,
                    ..ClinicNeed::default()
                })
                .collect(),
            kommune_residents: vec![0; 3],
            kommune_need: vec![0.0; 3],
        };
        (need, clinics, geography)
    }

    #[test]
    fn loads_at_each_level_by_hand() {
        let (need, clinics, geography) = case();
        // The nation: 5,000 persons on 4 capacities.
        let national = 5000.0 / 4.0;
        let at = |level| loads(level, national, &need, &clinics, &geography, None).by_clinic;
        assert_eq!(at(LoadLevel::Nation), vec![1250.0; 4]);
        assert_eq!(at(LoadLevel::Region), vec![1250.0; 4]);
        assert_eq!(
            at(LoadLevel::Sundhedsraad),
            vec![1000.0, 1000.0, 1500.0, 1500.0]
        );
        // D = 8 given (twice today's 4): every area's capacities double,
        // so every L_a halves.
        let scaled = loads(
            LoadLevel::Sundhedsraad,
            5000.0 / 8.0,
            &need,
            &clinics,
            &geography,
            Some(8.0),
        );
        assert_eq!(scaled.by_clinic, vec![500.0, 500.0, 750.0, 750.0]);
        assert_eq!(area_load(0.0, 0.0, None), None);
    }
}
