//! Area figures (SPEC section 4) for every kommune, sundhedsråd, region and
//! the nation, by the residence of their people; capacities and listed
//! persons by where the clinics are located.

use crate::aggregate::Need;
use crate::domain::{Clinics, Geography};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Kommune,
    Sundhedsraad,
    Region,
    Nation,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Kommune => "kommune",
            Level::Sundhedsraad => "sundhedsraad",
            Level::Region => "region",
            Level::Nation => "nation",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    pub level: Level,
    /// The kommune code as text; for councils and regions their name; `DK`
    /// for the nation.
    pub code: String,
    pub name: String,
    pub residents: u64,
    pub need: f64,
    pub mean_weight: Option<f64>,
    pub capacities: f64,
    pub target_capacities: f64,
    pub capacity_gap: f64,
    pub listed: u64,
    pub listed_per_capacity: Option<f64>,
    pub norm_patients_per_capacity: Option<f64>,
    /// `L_a`: Σ need of the clinics located in the area / their
    /// capacities (SPEC section 4, load level); `L` for the nation;
    /// `None` for an area with no clinics.
    pub reference_load: Option<f64>,
}

/// The fewest persons an area figure may rest on before it is suppressed
/// in the output files (the usual rule for register statistics).
pub const SUPPRESS_BELOW: u64 = 5;

impl AreaRow {
    /// Whether the row's person-based figures rest on too few persons to
    /// publish: 1 to 4 residents, or 1 to 4 listed persons.
    pub fn suppressed(&self) -> bool {
        (1..SUPPRESS_BELOW).contains(&self.residents) || (1..SUPPRESS_BELOW).contains(&self.listed)
    }
}

/// Sums that roll up from kommuner.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    residents: u64,
    need: f64,
    capacities: f64,
    listed: u64,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.residents += other.residents;
        self.need += other.need;
        self.capacities += other.capacities;
        self.listed += other.listed;
    }
}

/// The area table: kommuner by code, then councils and regions by name,
/// then the nation.
pub fn area_rows(
    need: &Need,
    clinics: &Clinics,
    geography: &Geography,
    load: f64,
    closing_fraction: f64,
    capacity_scale: Option<f64>,
) -> Vec<AreaRow> {
    use crate::load::{area_load, listed_sums};
    let area_loads = |n_areas: usize, area_of: &dyn Fn(usize) -> usize| -> Vec<Option<f64>> {
        listed_sums(need, clinics, n_areas, area_of)
            .into_iter()
            .map(|(n, d)| area_load(n, d, capacity_scale))
            .collect()
    };
    let info_of = |c: usize| &geography.kommuner[usize::from(clinics.kommune[c])];
    let kommune_loads = area_loads(geography.kommuner.len(), &|c| {
        usize::from(clinics.kommune[c])
    });
    let council_loads = area_loads(geography.sundhedsraad.len(), &|c| {
        usize::from(info_of(c).sundhedsraad)
    });
    let region_loads = area_loads(geography.regions.len(), &|c| usize::from(info_of(c).region));
    let mut kommune = vec![Sums::default(); geography.kommuner.len()];
    for (k, sums) in kommune.iter_mut().enumerate() {
        sums.residents = need.kommune_residents[k];
        sums.need = need.kommune_need[k];
    }
    for (c, &k) in clinics.kommune.iter().enumerate() {
        let sums = &mut kommune[usize::from(k)];
        sums.capacities += clinics.capacities[c];
        sums.listed += need.clinics[c].n_patients;
    }
    let mut councils = vec![Sums::default(); geography.sundhedsraad.len()];
    let mut regions = vec![Sums::default(); geography.regions.len()];
    let mut nation = Sums::default();
    for (k, sums) in kommune.iter().enumerate() {
        let info = &geography.kommuner[k];
        councils[usize::from(info.sundhedsraad)].add(sums);
        regions[usize::from(info.region)].add(sums);
        nation.add(sums);
    }
    let row =
        |level: Level, code: String, name: String, sums: &Sums, reference_load: Option<f64>| {
            let target = sums.need / load;
            let mean_weight = (sums.residents > 0).then(|| sums.need / sums.residents as f64);
            AreaRow {
                level,
                code,
                name,
                residents: sums.residents,
                need: sums.need,
                mean_weight,
                capacities: sums.capacities,
                target_capacities: target,
                capacity_gap: sums.capacities - target,
                listed: sums.listed,
                listed_per_capacity: (sums.capacities > 0.0)
                    .then(|| sums.listed as f64 / sums.capacities),
                norm_patients_per_capacity: mean_weight
                    .filter(|&w| w > 0.0)
                    .map(|w| load * closing_fraction / w),
                reference_load,
            }
        };
    let mut rows = Vec::with_capacity(kommune.len() + councils.len() + regions.len() + 1);
    for (k, sums) in kommune.iter().enumerate() {
        let info = &geography.kommuner[k];
        rows.push(row(
            Level::Kommune,
            info.code.to_string(),
            info.name.clone(),
            sums,
            kommune_loads[k],
        ));
    }
    for (i, sums) in councils.iter().enumerate() {
        let name = geography.sundhedsraad[i].clone();
        rows.push(row(
            Level::Sundhedsraad,
            name.clone(),
            name,
            sums,
            council_loads[i],
        ));
    }
    for (i, sums) in regions.iter().enumerate() {
        let name = geography.regions[i].clone();
        rows.push(row(
            Level::Region,
            name.clone(),
            name,
            sums,
            region_loads[i],
        ));
    }
    rows.push(row(
        Level::Nation,
        "DK".into(),
        "Danmark".into(),
        &nation,
        Some(load),
    ));
    rows
}
