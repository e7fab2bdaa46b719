//! `fordeling explain`: one clinic's need and count, term by term, for the
//! region that sets it and the doctor who appeals it. Every number comes
//! from the same computation as `run` (a `RunResult`), so the account adds
//! up to what `clinics.parquet` says.

use super::{positive_float, Failure, InputArgs};
use crate::aggregate::ClinicNeed;
use crate::error::{Error, InputError};
use crate::inputs::{load_inputs, InputPaths, Inputs};
use crate::model::format2::{Coefficient, Term};
use crate::model::Link;
use crate::model::ProposalRules;
use crate::model::{age_band, AGE_BANDS};
use crate::proposal::Proposal;
use crate::terms::{Reading, TermReader};
use crate::weights::{Components, YearTables};
use crate::year::{compute, RunParams, RunResult};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize)]
pub struct AgeSexRow {
    pub band: String,
    pub male: u64,
    pub female: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub name: String,
    pub clinic: f64,
    pub national: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageShare {
    pub id: String,
    pub start_year: i32,
    pub phase_share: f64,
    pub clinic: f64,
    pub national: f64,
    /// What the package adds to the clinic's need (weighted citizens), in
    /// the order packages apply; together the `packages` part.
    pub clinic_need: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub component: &'static str,
    /// The clinic's need from this part (weighted citizens).
    pub clinic_need: f64,
    /// Per listed patient.
    pub clinic_per_patient: f64,
    /// Per person nationally (the average clinic's patient).
    pub national_per_person: f64,
}

/// One cell of a table term the clinic's patients fall in.
#[derive(Debug, Clone, Serialize)]
pub struct CellPart {
    /// `term[level, ...]`.
    pub cell: String,
    pub value: f64,
    pub patients: u64,
    /// The clinic's need from this cell (weighted citizens).
    pub clinic_need: f64,
}

/// One term of a format-2 model: what it adds to the clinic's need.
#[derive(Debug, Clone, Serialize)]
pub struct TermPart {
    pub id: String,
    pub component: &'static str,
    /// The variables of a table (an interaction has two or more), or the
    /// numeric column.
    pub by: Vec<String>,
    pub clinic_need: f64,
    pub clinic_per_patient: f64,
    pub national_per_person: f64,
    /// The cells the clinic's patients are in, largest need first (at most
    /// 12).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<CellPart>,
}

/// A hierarchy and the patients whose dropped flags it set to false.
#[derive(Debug, Clone, Serialize)]
pub struct HierarchyCount {
    pub flag: String,
    pub drops: Vec<String>,
    pub clinic_patients: u64,
    pub national_persons: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Steps {
    /// Effective capacities `d` (the file's capacities + adjustment).
    pub capacities: f64,
    pub capacities_given: f64,
    pub capacity_adjustment: f64,
    /// The load the count uses: `L`, or the `L_a` of the clinic's area.
    #[serde(rename = "L")]
    pub load: f64,
    /// `nation`, `region` or `sundhedsraad`.
    pub load_level: String,
    /// The area whose `L_a` the count uses (`DK` for the nation).
    pub load_area: String,
    /// The national `L`.
    pub national_load: f64,
    #[serde(rename = "D")]
    pub capacity_total: f64,
    pub closing_fraction: f64,
    pub mean_weight: Option<f64>,
    /// d·L·f / mean weight.
    pub raw_min_patients: Option<f64>,
    pub floor: Option<f64>,
    pub ceiling: Option<f64>,
    pub after_floor_and_ceiling: Option<f64>,
    pub previous_min_patients: f64,
    pub cap_lower: Option<f64>,
    pub cap_upper: Option<f64>,
    pub after_cap: Option<f64>,
    pub round_to: i64,
    pub min_patients: Option<i64>,
    pub change: Option<f64>,
    pub change_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Uncertainty {
    pub n_patients: u64,
    pub sd_weight: Option<f64>,
    pub t_quantile: Option<f64>,
    pub raw_lower: Option<f64>,
    pub raw_upper: Option<f64>,
    pub relative_width: Option<f64>,
    pub threshold: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlagReason {
    pub flag: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub clinic_id: i32,
    pub kommune: i16,
    pub kommune_name: String,
    pub sundhedsraad: String,
    pub region: String,
    pub year: i32,
    pub model_id: String,
    pub n_patients: u64,
    pub need: f64,
    pub age_sex: Vec<AgeSexRow>,
    pub conditions: Vec<Share>,
    pub packages: Vec<PackageShare>,
    pub parts: Vec<Part>,
    /// A format-2 model's need term by term (empty for format 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<TermPart>,
    /// A format-2 model's hierarchies and how many patients each touched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hierarchies: Vec<HierarchyCount>,
    pub steps: Steps,
    pub uncertainty: Uncertainty,
    pub flags: Vec<FlagReason>,
}

/// What one pass over the persons gathers for one clinic of an account:
/// its patients by age band and sex, by condition and by package, each
/// package's need, each term's need and cells, each hierarchy's patients.
#[derive(Debug, Clone, Default)]
struct Tally {
    /// `[male, female]` per band (format 1).
    age_sex: Vec<[u64; 2]>,
    conditions: Vec<u64>,
    packages: Vec<u64>,
    package_need: Vec<f64>,
    terms: Vec<f64>,
    cells: Vec<std::collections::BTreeMap<usize, (u64, f64)>>,
    hierarchies: Vec<u64>,
}

impl Tally {
    fn new(conditions: usize, packages: usize, terms: usize, hierarchies: usize) -> Tally {
        Tally {
            age_sex: vec![[0; 2]; AGE_BANDS],
            conditions: vec![0; conditions],
            packages: vec![0; packages],
            package_need: vec![0.0; packages],
            terms: vec![0.0; terms],
            cells: vec![Default::default(); terms],
            hierarchies: vec![0; hierarchies],
        }
    }
}

/// One pass over the persons, in file order, for the clinics `which`
/// (indices) and the nation. Every sum is formed in person order, so a
/// clinic's figures are the same bits whichever other clinics are asked
/// for with it.
fn tally(
    inputs: &Inputs,
    tables: &YearTables,
    result: &RunResult,
    which: &[usize],
) -> (Vec<Tally>, Tally) {
    let model = &inputs.model.model;
    let population = &inputs.population;
    let spec = model.format2.as_deref();
    let fixed = spec.is_none();
    let flags = spec.map_or(0, |spec| spec.flags().len());
    let n_conditions = model.conditions.len().max(flags);
    let n_packages = model.packages.len();
    let n_terms = spec.map_or(0, |spec| spec.terms.len());
    let n_hierarchies = spec.map_or(0, |spec| spec.hierarchies.len());
    let fresh = || Tally::new(n_conditions, n_packages, n_terms, n_hierarchies);
    let mut slots = vec![usize::MAX; inputs.clinics.len()];
    for (slot, &c) in which.iter().enumerate() {
        slots[c] = slot;
    }
    let mut mine = vec![fresh(); which.len()];
    let mut nation = fresh();
    let reader = spec.map(|spec| TermReader::new(spec, &inputs.geography));
    let mean_raw = result.need.mean_raw;
    let mut values = vec![0.0; n_terms];
    let mut readings = vec![Reading::Cell(0); n_terms];
    let mut effects = vec![0.0; n_packages];
    for i in 0..population.len() {
        let slot = slots[population.clinic[i] as usize];
        let mut own = mine.get_mut(slot);
        let mask = population.conditions[i];
        for k in 0..n_conditions {
            if mask & (1u64 << k) != 0 {
                nation.conditions[k] += 1;
                if let Some(t) = own.as_deref_mut() {
                    t.conditions[k] += 1;
                }
            }
        }
        let base = tables.base(population, i);
        for k in 0..n_packages {
            if base.signature & (1 << k) != 0 {
                nation.packages[k] += 1;
                if let Some(t) = own.as_deref_mut() {
                    t.packages[k] += 1;
                }
            }
        }
        if let (true, Some(t)) = (fixed, own.as_deref_mut()) {
            t.age_sex[age_band(population.age[i])]
                [usize::from(population.sex[i].wrapping_sub(1) & 1)] += 1;
        }
        if let Some(reader) = &reader {
            for k in 0..n_hierarchies {
                if reader.hierarchies.touches(k, mask) {
                    nation.hierarchies[k] += 1;
                    if let Some(t) = own.as_deref_mut() {
                        t.hierarchies[k] += 1;
                    }
                }
            }
        }
        let person = tables.with_packages(&base);
        if person.clipped {
            continue;
        }
        if let Some(t) = own.as_deref_mut() {
            tables.package_effects(&base, &mut effects);
            for (sum, effect) in t.package_need.iter_mut().zip(&effects) {
                *sum += effect / mean_raw;
            }
        }
        let (Some(reader), Some(spec)) = (&reader, spec) else {
            continue;
        };
        let effective = reader.effective(mask);
        let mut eta = 0.0;
        for k in 0..n_terms {
            readings[k] = reader.read(k, population, i, effective);
            values[k] = match readings[k] {
                Reading::Cell(cell) => spec.get(Coefficient { term: k, cell }),
                Reading::Value(x) => spec.get(Coefficient { term: k, cell: 0 }) * x,
            };
            eta += values[k];
        }
        let scale = match spec.link {
            Link::Identity => 1.0,
            Link::Log if eta != 0.0 => eta.exp() / eta,
            Link::Log => 0.0,
        } / mean_raw;
        for k in 0..n_terms {
            let part = values[k] * scale;
            nation.terms[k] += part;
            if let Some(t) = own.as_deref_mut() {
                t.terms[k] += part;
                if let Reading::Cell(cell) = readings[k] {
                    let entry = t.cells[k].entry(cell).or_default();
                    entry.0 += 1;
                    entry.1 += part;
                }
            }
        }
    }
    (mine, nation)
}

/// A format-2 model's need term by term for clinic index `c`, in weight
/// units as the components are (persons whose need was clipped add
/// nothing; under the log link each term's share of the base need), and
/// each hierarchy's count.
fn term_parts(
    inputs: &Inputs,
    result: &RunResult,
    c: usize,
    clinic: &Tally,
    nation: &Tally,
) -> (Vec<TermPart>, Vec<HierarchyCount>) {
    let Some(spec) = inputs.model.model.format2.as_deref() else {
        return (Vec::new(), Vec::new());
    };
    let m = result.need.clinics[c].n_patients.max(1) as f64;
    let n = inputs.population.len().max(1) as f64;
    let parts = spec
        .terms
        .iter()
        .enumerate()
        .map(|(k, term)| {
            let (by, cell_parts) = match term {
                Term::Table { by, .. } => {
                    let mut list: Vec<CellPart> = clinic.cells[k]
                        .iter()
                        .map(|(&cell, &(patients, need))| {
                            let at = Coefficient { term: k, cell };
                            CellPart {
                                cell: spec.coefficient_name(at),
                                value: spec.get(at),
                                patients,
                                clinic_need: need,
                            }
                        })
                        .collect();
                    list.sort_by(|a, b| b.clinic_need.abs().total_cmp(&a.clinic_need.abs()));
                    list.truncate(12);
                    (
                        by.iter().map(|&v| spec.variables[v].name.clone()).collect(),
                        list,
                    )
                }
                Term::Numeric { column, .. } => (vec![column.clone()], Vec::new()),
            };
            TermPart {
                id: term.id().to_string(),
                component: term.component().as_str(),
                by,
                clinic_need: clinic.terms[k],
                clinic_per_patient: clinic.terms[k] / m,
                national_per_person: nation.terms[k] / n,
                cells: cell_parts,
            }
        })
        .collect();
    let hierarchies = spec
        .hierarchies
        .iter()
        .enumerate()
        .map(|(k, (flag, drops))| HierarchyCount {
            flag: flag.clone(),
            drops: drops.clone(),
            clinic_patients: clinic.hierarchies[k],
            national_persons: nation.hierarchies[k],
        })
        .collect();
    (parts, hierarchies)
}

/// The clinic's need by component against the national need per person.
fn parts(result: &RunResult, need: &ClinicNeed, persons: usize) -> Vec<Part> {
    let m = need.n_patients.max(1) as f64;
    let n = persons;
    let national = result
        .need
        .clinics
        .iter()
        .fold(Components::default(), |mut acc, c| {
            acc.add(&c.components);
            acc
        });
    Components::NAMES
        .iter()
        .zip(need.components.as_array())
        .zip(national.as_array())
        .map(|((&component, clinic_need), national_need)| Part {
            component,
            clinic_need,
            clinic_per_patient: clinic_need / m,
            national_per_person: national_need / n.max(1) as f64,
        })
        .collect()
}

/// The steps from need to the count (SPEC section 4), as `proposal` took them.
fn steps(inputs: &Inputs, result: &RunResult, c: usize) -> Steps {
    let rules = &inputs.model.model.proposal;
    let need = &result.need.clinics[c];
    let proposal = &result.proposals[c];
    let d = inputs.clinics.capacities[c];
    let previous = result.previous_min_patients[c];
    let kommune = &inputs.geography.kommuner[usize::from(inputs.clinics.kommune[c])];
    let load_area = match result.load_level {
        crate::model::LoadLevel::Nation => "DK".to_string(),
        crate::model::LoadLevel::Region => {
            inputs.geography.regions[usize::from(kommune.region)].clone()
        }
        crate::model::LoadLevel::Sundhedsraad => {
            inputs.geography.sundhedsraad[usize::from(kommune.sundhedsraad)].clone()
        }
    };
    Steps {
        capacities: d,
        capacities_given: inputs.clinics.capacities_given[c],
        capacity_adjustment: inputs.clinics.capacity_adjustment[c],
        load: result.clinic_loads[c],
        load_level: result.load_level.as_str().to_string(),
        load_area,
        national_load: result.load,
        capacity_total: result.capacity_total,
        closing_fraction: rules.closing_fraction,
        mean_weight: need.mean_weight,
        raw_min_patients: proposal.raw,
        floor: (rules.min_per_capacity > 0.0).then_some(rules.min_per_capacity * d),
        ceiling: (rules.max_per_capacity > 0.0).then_some(rules.max_per_capacity * d),
        after_floor_and_ceiling: proposal.after_limits,
        previous_min_patients: previous,
        cap_lower: (rules.max_decrease >= 0.0).then_some(previous * (1.0 - rules.max_decrease)),
        cap_upper: (rules.max_increase >= 0.0).then_some(previous * (1.0 + rules.max_increase)),
        after_cap: proposal.after_cap,
        round_to: rules.round_to,
        min_patients: proposal.min_patients,
        change: proposal.change,
        change_pct: proposal.change_pct,
    }
}

/// The interval of the raw count and its width against the threshold.
fn uncertainty(need: &ClinicNeed, proposal: &Proposal, rules: &ProposalRules) -> Uncertainty {
    let relative_width = match (proposal.raw_lower, proposal.raw_upper, proposal.raw) {
        (Some(lo), Some(hi), Some(raw)) if raw > 0.0 => Some((hi - lo) / raw),
        _ => None,
    };
    Uncertainty {
        n_patients: need.n_patients,
        sd_weight: need.sd_weight,
        t_quantile: proposal.t_quantile,
        raw_lower: proposal.raw_lower,
        raw_upper: proposal.raw_upper,
        relative_width,
        threshold: rules.uncertainty_threshold,
    }
}

/// A sentence for each flag the clinic carries.
fn flag_reasons(
    need: &ClinicNeed,
    proposal: &Proposal,
    rules: &ProposalRules,
    previous: f64,
    relative_width: Option<f64>,
) -> Vec<FlagReason> {
    let mut flags = Vec::new();
    let f = proposal.flags;
    if f.capped {
        let reason = match (proposal.after_limits, proposal.after_cap) {
            (Some(before), Some(after)) if after > before => format!(
                "the count {before:.1} was raised to {after:.1}: at most a {:.0}% fall from last year's {previous:.0} is allowed",
                100.0 * rules.max_decrease
            ),
            (Some(before), Some(after)) => format!(
                "the count {before:.1} was lowered to {after:.1}: at most a {:.0}% rise from last year's {previous:.0} is allowed",
                100.0 * rules.max_increase
            ),
            _ => "the transition cap changed the count".into(),
        };
        flags.push(FlagReason {
            flag: "capped",
            reason,
        });
    }
    if f.uncertain {
        let reason = match (need.n_patients, relative_width) {
            (0 | 1, _) => "one patient or none: no interval can be formed".to_string(),
            (_, None) => "the interval of the mean weight reaches 0: the count has no upper bound"
                .to_string(),
            (_, Some(w)) => format!(
                "the 95% interval is {:.1}% of the raw count wide, above the threshold of {:.1}%",
                100.0 * w,
                100.0 * rules.uncertainty_threshold
            ),
        };
        flags.push(FlagReason {
            flag: "uncertain",
            reason,
        });
    }
    if f.dialogue {
        flags.push(FlagReason {
            flag: "dialogue",
            reason: format!(
                "the proposal {} is more than {:.0}% above the larger of last year's count ({previous:.0}) and today's list ({})",
                proposal.min_patients.unwrap_or(0),
                100.0 * rules.dialogue_threshold,
                need.n_patients
            ),
        });
    }
    if f.vulnerable_area {
        flags.push(FlagReason {
            flag: "vulnerable_area",
            reason: "the clinic file marks the clinic as in or next to a vulnerable housing area"
                .into(),
        });
    }
    if f.empty {
        flags.push(FlagReason {
            flag: "empty",
            reason: "no listed persons: no need and no proposal".into(),
        });
    }
    flags
}

/// The conditions counted in the account: format 1's conditions, or every
/// flag of a format-2 model (its boolean columns).
fn condition_names(model: &crate::model::Model) -> Vec<String> {
    match &model.format2 {
        None => model.conditions.iter().map(|(n, _)| n.clone()).collect(),
        Some(spec) => spec.flags(),
    }
}

/// The account of clinic index `c` in a computed year.
pub fn account(inputs: &Inputs, result: &RunResult, tables: &YearTables, c: usize) -> Account {
    let (mut mine, nation) = tally(inputs, tables, result, &[c]);
    build(inputs, result, c, &mine.remove(0), &nation)
}

/// The accounts of clinic indices `which`, in that order, from one pass
/// over the persons (each the same as `account` gives alone).
pub fn accounts(
    inputs: &Inputs,
    result: &RunResult,
    tables: &YearTables,
    which: &[usize],
) -> Vec<Account> {
    let (mine, nation) = tally(inputs, tables, result, which);
    which
        .iter()
        .zip(&mine)
        .map(|(&c, clinic)| build(inputs, result, c, clinic, &nation))
        .collect()
}

fn build(inputs: &Inputs, result: &RunResult, c: usize, clinic: &Tally, nation: &Tally) -> Account {
    let model = &inputs.model.model;
    let clinics = &inputs.clinics;
    let kommune = &inputs.geography.kommuner[usize::from(clinics.kommune[c])];
    let need = &result.need.clinics[c];
    let proposal = &result.proposals[c];
    let rules = &model.proposal;
    let n = inputs.population.len();
    let (terms, hierarchies) = term_parts(inputs, result, c, clinic, nation);
    let m = need.n_patients.max(1) as f64;
    let share = |mine: u64, all: u64| (mine as f64 / m, all as f64 / n.max(1) as f64);
    let uncertainty = uncertainty(need, proposal, rules);
    let flags = flag_reasons(
        need,
        proposal,
        rules,
        result.previous_min_patients[c],
        uncertainty.relative_width,
    );
    Account {
        clinic_id: clinics.clinic_id[c],
        kommune: kommune.code,
        kommune_name: kommune.name.clone(),
        sundhedsraad: inputs.geography.sundhedsraad[usize::from(kommune.sundhedsraad)].clone(),
        region: inputs.geography.regions[usize::from(kommune.region)].clone(),
        year: result.year,
        model_id: model.id.clone(),
        n_patients: need.n_patients,
        need: need.need,
        age_sex: if model.format2.is_some() {
            Vec::new()
        } else {
            clinic.age_sex.clone()
        }
        .iter()
        .enumerate()
        .map(|(b, counts)| AgeSexRow {
            band: if b == AGE_BANDS - 1 {
                "95+".into()
            } else {
                format!("{}-{}", b * 5, b * 5 + 4)
            },
            male: counts[0],
            female: counts[1],
        })
        .collect(),
        conditions: condition_names(model)
            .into_iter()
            .enumerate()
            .map(|(k, name)| {
                let (clinic, national) = share(clinic.conditions[k], nation.conditions[k]);
                Share {
                    name,
                    clinic,
                    national,
                }
            })
            .collect(),
        packages: model
            .packages
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let (share_clinic, national) = share(clinic.packages[k], nation.packages[k]);
                PackageShare {
                    id: p.id.clone(),
                    start_year: p.start_year,
                    phase_share: p.phase_share(result.year),
                    clinic: share_clinic,
                    national,
                    clinic_need: clinic.package_need[k],
                }
            })
            .collect(),
        parts: parts(result, need, n),
        terms,
        hierarchies,
        steps: steps(inputs, result, c),
        uncertainty,
        flags,
    }
}

fn num(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) => format!("{v:.decimals$}"),
        None => "none".into(),
    }
}

/// The account as readable text.
pub fn text(a: &Account) -> String {
    let mut t = String::new();
    let s = &a.steps;
    let _ = writeln!(
        t,
        "Clinic {} in {} ({}), sundhedsråd {}, region {}",
        a.clinic_id, a.kommune_name, a.kommune, a.sundhedsraad, a.region
    );
    let _ = writeln!(
        t,
        "Year {}, model {}. {} listed patients, {:.1} capacities.\n",
        a.year, a.model_id, a.n_patients, s.capacities
    );
    if !a.age_sex.is_empty() {
        let _ = writeln!(t, "Patients by age and sex");
        let _ = writeln!(t, "  {:<7} {:>6} {:>6}", "age", "men", "women");
        for row in a.age_sex.iter().filter(|r| r.male + r.female > 0) {
            let _ = writeln!(t, "  {:<7} {:>6} {:>6}", row.band, row.male, row.female);
        }
        let _ = writeln!(t);
    }
    let _ = writeln!(
        t,
        "{} (share of the clinic's patients; nationally)",
        if a.terms.is_empty() {
            "Conditions"
        } else {
            "Flags"
        }
    );
    for c in &a.conditions {
        let _ = writeln!(
            t,
            "  {:<22} {:>6.1}%  {:>6.1}%",
            c.name,
            100.0 * c.clinic,
            100.0 * c.national
        );
    }
    let _ = writeln!(
        t,
        "\nCare packages in {} (share qualifying; nationally; phase share this year)",
        a.year
    );
    for p in &a.packages {
        let _ = writeln!(
            t,
            "  {:<22} {:>6.1}%  {:>6.1}%  {:.2} (from {})",
            p.id,
            100.0 * p.clinic,
            100.0 * p.national,
            p.phase_share,
            p.start_year
        );
    }
    let _ = writeln!(
        t,
        "\nNeed by part (need-weighted citizens; per patient; per person nationally)"
    );
    for p in &a.parts {
        let _ = writeln!(
            t,
            "  {:<15} {:>10.2}  {:>7.4}  {:>7.4}",
            p.component, p.clinic_need, p.clinic_per_patient, p.national_per_person
        );
    }
    let _ = writeln!(
        t,
        "  {:<15} {:>10.2}  {:>7.4}  {:>7.4}",
        "total",
        a.need,
        s.mean_weight.unwrap_or(0.0),
        1.0
    );
    if !a.terms.is_empty() {
        let _ = writeln!(
            t,
            "\nNeed by term (need-weighted citizens; per patient; per person nationally)"
        );
        for term in &a.terms {
            let _ = writeln!(
                t,
                "  {:<22} {:<15} {:>10.2}  {:>7.4}  {:>7.4}  by {}",
                term.id,
                term.component,
                term.clinic_need,
                term.clinic_per_patient,
                term.national_per_person,
                term.by.join(" × ")
            );
            for cell in term.cells.iter().filter(|c| c.value != 0.0) {
                let _ = writeln!(
                    t,
                    "      {:<32} cell {:>9.2}, {:>5} patients: {:>9.2}",
                    cell.cell, cell.value, cell.patients, cell.clinic_need
                );
            }
        }
    }
    for h in &a.hierarchies {
        let _ = writeln!(
            t,
            "  hierarchy: {} drops {}: {} of the clinic's patients ({} nationally)",
            h.flag,
            h.drops.join(", "),
            h.clinic_patients,
            h.national_persons
        );
    }
    let _ = writeln!(t, "\nThe count, step by step");
    if s.load_level == "nation" {
        let _ = writeln!(
            t,
            "  L = persons / D = need-weighted citizens per capacity = {:.4} (D = {:.2})",
            s.load, s.capacity_total
        );
    } else {
        let _ = writeln!(
            t,
            "  L = L_a of {} {} = need of the clinics located there / their capacities = {:.4} (national L = {:.4}, D = {:.2})",
            s.load_level, s.load_area, s.load, s.national_load, s.capacity_total
        );
    }
    if s.capacity_adjustment != 0.0 {
        let _ = writeln!(
            t,
            "  d = capacities + capacity adjustment = {} + {} = {}",
            s.capacities_given, s.capacity_adjustment, s.capacities
        );
    }
    let _ = writeln!(
        t,
        "  1. raw = d × L × f / mean weight = {:.2} × {:.4} × {} / {} = {}",
        s.capacities,
        s.load,
        s.closing_fraction,
        num(s.mean_weight, 6),
        num(s.raw_min_patients, 2)
    );
    let _ = writeln!(
        t,
        "  2. floor {} and ceiling {} (per capacity × d): {}",
        num(s.floor, 1),
        num(s.ceiling, 1),
        num(s.after_floor_and_ceiling, 2)
    );
    let _ = writeln!(
        t,
        "  3. transition cap around last year's {:.0}: [{}, {}]: {}",
        s.previous_min_patients,
        num(s.cap_lower, 1),
        num(s.cap_upper, 1),
        num(s.after_cap, 2)
    );
    let _ = writeln!(
        t,
        "  4. rounded half away from zero to a multiple of {}: {}",
        s.round_to,
        s.min_patients
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into())
    );
    let _ = writeln!(
        t,
        "     change from last year: {} ({}%)",
        num(s.change, 0),
        num(s.change_pct, 2)
    );
    let u = &a.uncertainty;
    let _ = writeln!(
        t,
        "\nUncertainty: n = {}, sd of weights {}, t(0.975, n-1) = {}: raw count between {} and {} (width {} of the raw count; threshold {:.1}%)",
        u.n_patients,
        num(u.sd_weight, 4),
        num(u.t_quantile, 4),
        num(u.raw_lower, 2),
        num(u.raw_upper, 2),
        u.relative_width.map(|w| format!("{:.2}%", 100.0 * w)).unwrap_or_else(|| "none".into()),
        100.0 * u.threshold
    );
    let _ = writeln!(t, "\nFlags");
    if a.flags.is_empty() {
        let _ = writeln!(t, "  none");
    }
    for f in &a.flags {
        let _ = writeln!(t, "  {}: {}", f.flag, f.reason);
    }
    t
}

/// Computes a year as `run` does and gives the account of one clinic.
pub fn explain_clinic(
    inputs_paths: &InputPaths,
    params: &RunParams,
    clinic_id: i32,
) -> Result<Account, Error> {
    let inputs = load_inputs(inputs_paths)?;
    let Some(c) = inputs.clinics.index_of(clinic_id) else {
        return Err(InputError::UnknownReference {
            path: PathBuf::from("--clinic"),
            column: "clinic_id".into(),
            row: 1,
            value: clinic_id.to_string(),
            other: inputs_paths.clinics.clone(),
        }
        .into());
    };
    let result = compute(&inputs, params)?;
    let tables = inputs.year_tables(&inputs.model.model, params.year)?;
    Ok(account(&inputs, &result, &tables, c as usize))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The clinic (`clinic_id`).
    #[arg(long)]
    pub clinic: i32,
    /// Model file (TOML).
    #[arg(long, default_value = "models/reference-2027.toml")]
    pub model: PathBuf,
    /// The year computed.
    #[arg(long, default_value_t = 2027, value_parser = clap::value_parser!(i32).range(1900..=2200))]
    pub year: i32,
    /// Total doctor capacities D (default: the sum over the clinic file).
    #[arg(long, value_parser = positive_float)]
    pub capacity_total: Option<f64>,
    /// text (readable) or json (the same as data).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Prints one clinic's account as text or JSON.
pub fn execute(args: &ExplainArgs) -> Result<(), Failure> {
    let paths = args.input.paths(args.model.clone(), false);
    let params = RunParams {
        year: args.year,
        capacity_total: args.capacity_total,
    };
    let account = super::in_pool(args.input.threads, || {
        explain_clinic(&paths, &params, args.clinic)
    })?;
    let text = match args.format {
        Format::Text => text(&account),
        Format::Json => crate::output::json_text(&account).map_err(|e| Failure {
            code: 3,
            stage: super::Stage::Output,
            message: format!("cannot write the account: {e}"),
        })?,
    };
    print!("{text}");
    Ok(())
}
