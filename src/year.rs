//! One year's computation (SPEC section 4), pure given the inputs: the
//! sums over persons, weights, the reference load, the proposals and the
//! area table.

use crate::aggregate::{self, Basis, Need};
use crate::areas::{self, AreaRow};
use crate::error::{Error, ModelError};
use crate::inputs::Inputs;
use crate::proposal::{self, ClinicInput, Proposal};
use crate::{ingest, model, weights};
use rayon::prelude::*;

/// The parameters of one year's computation.
#[derive(Debug, Clone, Copy)]
pub struct RunParams {
    pub year: i32,
    /// Overrides `D`, the total capacities.
    pub capacity_total: Option<f64>,
}

/// The results of one year's computation.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub year: i32,
    /// The national `L`.
    pub load: f64,
    /// The level the counts' loads were formed at.
    pub load_level: crate::model::LoadLevel,
    /// By clinic: the `L` or `L_a` its count used.
    pub clinic_loads: Vec<f64>,
    pub capacity_total: f64,
    pub capacity_total_given: bool,
    pub need: Need,
    /// Last year's counts the transition caps were applied to, by clinic.
    pub previous_min_patients: Vec<f64>,
    pub proposals: Vec<Proposal>,
    pub areas: Vec<AreaRow>,
    pub warnings: Vec<String>,
}

/// The computation of SPEC section 4 for one year: pure, given the inputs.
pub fn compute(inputs: &Inputs, params: &RunParams) -> Result<RunResult, Error> {
    compute_with(inputs, &inputs.model.model, params)
}

/// `compute` with another model over the same held persons (its conditions
/// must be the loaded model's, in the same order, as the condition bits
/// are).
pub fn compute_with(
    inputs: &Inputs,
    model: &model::Model,
    params: &RunParams,
) -> Result<RunResult, Error> {
    let tables = inputs.year_tables(model, params.year)?;
    let basis = Basis::new(
        &tables,
        &inputs.population,
        inputs.clinics.len(),
        inputs.geography.kommuner.len(),
    );
    compute_year(
        inputs,
        model,
        &tables,
        &basis,
        params,
        &inputs.clinics.previous_min_patients,
    )
}

/// One year's computation from the year-independent sums over the persons
/// (`basis`, streamed or held: the one path every command takes), with
/// last year's counts `previous` (by clinic).
pub fn compute_year(
    inputs: &Inputs,
    model: &model::Model,
    tables: &weights::YearTables,
    basis: &Basis,
    params: &RunParams,
    previous: &[f64],
) -> Result<RunResult, Error> {
    compute_from_sums(inputs, model, basis.year_sums(tables), params, previous)
}

/// The rest of a year once the per-clinic and per-kommune sums are known:
/// weights, the reference load, proposals, areas and warnings. `scenarios`
/// forms the sums once per basis, year and packages and calls this for
/// every variant of the proposal rules.
pub fn compute_from_sums(
    inputs: &Inputs,
    model: &model::Model,
    sums: aggregate::NeedSums,
    params: &RunParams,
    previous: &[f64],
) -> Result<RunResult, Error> {
    if let Some(row) = sums.first_non_finite {
        return Err(ModelError::Invalid {
            path: inputs.model.path.clone(),
            key: "model".into(),
            detail: format!(
                "the raw need of population row {} is not a finite number (coefficients too large for the {} link?)",
                row + 1,
                model.link.as_str()
            ),
        }
        .into());
    }
    let need = sums.to_need().ok_or_else(|| ModelError::NoNeed {
        path: inputs.model.path.clone(),
        mean: sums.raw_total / sums.persons.max(1) as f64,
    })?;

    let capacity_total = params
        .capacity_total
        .unwrap_or_else(|| inputs.clinics.total_capacities());
    let load = proposal::reference_load(need.persons, capacity_total);
    let rules = &model.proposal;
    let clinics = &inputs.clinics;
    let loads = crate::load::loads(
        rules.load_level,
        load,
        &need,
        clinics,
        &inputs.geography,
        params.capacity_total,
    );
    proposal::remember_t_quantiles_975(
        need.clinics
            .iter()
            .filter_map(|c| proposal::interval_inputs(c).map(|(_, df)| df)),
    );
    let proposals: Vec<Proposal> = (0..clinics.len())
        .into_par_iter()
        .map(|c| {
            let clinic = ClinicInput {
                capacities: clinics.capacities[c],
                previous_min_patients: previous[c],
                vulnerable_area: clinics.vulnerable_area[c],
            };
            proposal::propose(&need.clinics[c], &clinic, loads.by_clinic[c], rules)
        })
        .collect();
    let areas = areas::area_rows(
        &need,
        clinics,
        &inputs.geography,
        load,
        rules.closing_fraction,
        crate::load::capacity_scale(clinics, params.capacity_total),
    );

    let mut warnings = Vec::new();
    if need.clipped > 0 {
        warnings.push(format!(
            "{} persons had a raw need below 0, clipped to 0",
            need.clipped
        ));
    }
    for (column, count) in ingest::SOCIOECONOMIC_COLUMNS
        .iter()
        .zip(inputs.nulls_mapped)
    {
        if count > 0 {
            warnings.push(format!(
                "{count} nulls in `{column}` mapped to its unknown (reference) level"
            ));
        }
    }
    let no_count: Vec<String> = proposals
        .iter()
        .zip(&need.clinics)
        .zip(&clinics.clinic_id)
        .filter(|((p, n), _)| p.min_patients.is_none() && n.n_patients > 0)
        .map(|(_, id)| id.to_string())
        .collect();
    if !no_count.is_empty() {
        warnings.push(format!(
            "{} clinics have no finite count (their patients' need is 0 and no ceiling or cap bounds it): {}",
            no_count.len(),
            no_count.join(", ")
        ));
    }
    Ok(RunResult {
        year: params.year,
        load,
        load_level: loads.level,
        clinic_loads: loads.by_clinic,
        capacity_total,
        capacity_total_given: params.capacity_total.is_some(),
        need,
        previous_min_patients: previous.to_vec(),
        proposals,
        areas,
        warnings,
    })
}
