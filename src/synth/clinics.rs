//! Synthetic clinics and where persons list. Each kommune's capacities are
//! its persons divided by a load per capacity that rises with the area's
//! morbidity index (as today, sicker areas have fewer doctors per person);
//! clinics of 1 to 5 capacities, some part-time, are drawn until the
//! capacities are filled. Most persons list in their own kommune, a few
//! percent at a clinic elsewhere in their sundhedsråd.

use super::rng::Rng;
use super::{KommuneSpec, SynthSpec};
use crate::domain::Geography;

/// Synthetic clinics, in kommune order (ids increase with the index).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynthClinics {
    pub clinic_id: Vec<i32>,
    /// Kommune code where the clinic is located.
    pub kommune: Vec<i16>,
    pub capacities: Vec<f64>,
    pub previous_min_patients: Vec<i32>,
    pub vulnerable_area: Vec<bool>,
}

/// Listed persons per capacity before local variation.
pub const BASE_PER_CAPACITY: f64 = 1640.0;
/// Share of persons who list outside their residence kommune.
pub const CROSS_BORDER: f64 = 0.06;

/// Where each kommune's persons can list: cumulative attraction weights
/// over its own clinics, and over the clinics of the rest of its
/// sundhedsråd (both by capacity, so listed persons per capacity stay even).
#[derive(Debug, Clone)]
pub struct Listing {
    pub own_start: Vec<usize>,
    pub own_cumulative: Vec<Vec<f64>>,
    pub neighbours: Vec<Vec<usize>>,
    pub neighbour_cumulative: Vec<Vec<f64>>,
}

impl Listing {
    /// The clinic (global index) for a person of kommune `position`.
    pub fn choose(&self, rng: &mut Rng, position: usize) -> usize {
        let neighbours = &self.neighbours[position];
        if !neighbours.is_empty() && rng.bernoulli(CROSS_BORDER) {
            return neighbours[rng.choose_cumulative(&self.neighbour_cumulative[position])];
        }
        self.own_start[position] + rng.choose_cumulative(&self.own_cumulative[position])
    }
}

/// Makes the clinics of every kommune of the spec and the listing rules.
/// `index` maps a spec position to the geography's kommune index.
pub fn make(spec: &SynthSpec, geography: &Geography, index: &[u16]) -> (SynthClinics, Listing) {
    let mut clinics = SynthClinics::default();
    let mut own_start = Vec::with_capacity(spec.kommuner.len());
    let mut own_cumulative = Vec::with_capacity(spec.kommuner.len());
    for (position, kommune) in spec.kommuner.iter().enumerate() {
        let info = &geography.kommuner[usize::from(index[position])];
        let morbidity = info.area_index.unwrap_or(1.0);
        let mut rng = Rng::derived(spec.seed, 0xC11C_0000 ^ kommune.code as u64);
        let start = clinics.clinic_id.len();
        kommune_clinics(&mut rng, spec, kommune, morbidity, &mut clinics);
        let mut cumulative = Vec::with_capacity(clinics.clinic_id.len() - start);
        let mut total = 0.0;
        for c in start..clinics.clinic_id.len() {
            total += clinics.capacities[c] * (0.85 + 0.3 * rng.uniform());
            cumulative.push(total);
        }
        own_start.push(start);
        own_cumulative.push(cumulative);
    }
    let neighbours: Vec<Vec<usize>> = (0..spec.kommuner.len())
        .map(|position| {
            let council = geography.kommuner[usize::from(index[position])].sundhedsraad;
            (0..spec.kommuner.len())
                .filter(|&other| {
                    other != position
                        && geography.kommuner[usize::from(index[other])].sundhedsraad == council
                })
                .flat_map(|other| own_start[other]..own_start[other] + own_cumulative[other].len())
                .collect()
        })
        .collect();
    let neighbour_cumulative = neighbours
        .iter()
        .map(|list| {
            let mut total = 0.0;
            list.iter()
                .map(|&c| {
                    total += clinics.capacities[c];
                    total
                })
                .collect()
        })
        .collect();
    (
        clinics,
        Listing {
            own_start,
            own_cumulative,
            neighbours,
            neighbour_cumulative,
        },
    )
}

fn kommune_clinics(
    rng: &mut Rng,
    spec: &SynthSpec,
    kommune: &KommuneSpec,
    morbidity: f64,
    clinics: &mut SynthClinics,
) {
    let per_capacity =
        BASE_PER_CAPACITY * (1.0 + 0.6 * (morbidity - 1.0)) * (0.95 + 0.1 * rng.uniform());
    let target = (kommune.persons as f64 / per_capacity).max(0.1);
    let start = clinics.clinic_id.len();
    let mut filled = 0.0;
    while filled < target - 0.05 {
        let mut capacity = (rng.choose(&spec.clinic_sizes) + 1) as f64;
        if rng.bernoulli(0.12) {
            capacity -= 0.1 * (1 + rng.below(5)) as f64;
        }
        let capacity = ((capacity.min(target - filled).max(0.1)) * 10.0).round() / 10.0;
        filled += capacity;
        // Provider-number-like ids: six digits, increasing, not consecutive.
        let id = 100_000 + clinics.clinic_id.len() as i32 * 4 + rng.below(4) as i32;
        clinics.clinic_id.push(id);
        clinics.kommune.push(kommune.code);
        clinics.capacities.push(capacity);
        let previous = 1600.0 * capacity * (0.93 + 0.14 * rng.uniform());
        clinics
            .previous_min_patients
            .push(((previous / 10.0).round() * 10.0) as i32);
        clinics.vulnerable_area.push(false);
    }
    // Vulnerable housing areas: a share of the kommune's clinics, at random.
    let n = clinics.clinic_id.len() - start;
    let vulnerable = (kommune.vulnerable_share * n as f64).round() as usize;
    let mut flagged = 0;
    while flagged < vulnerable.min(n) {
        let c = start + rng.below(n as u64) as usize;
        if !clinics.vulnerable_area[c] {
            clinics.vulnerable_area[c] = true;
            flagged += 1;
        }
    }
}
