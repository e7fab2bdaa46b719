//! Cross-file and whole-column checks on data that has passed the schema
//! checks of `ingest`: unique ids, references between files, and the
//! mapping of ids and codes to the dense indices the core works with.
//! Pure: no I/O; the paths are only for messages.

use crate::domain::{Clinics, Geography, Population};
use crate::error::InputError;
use crate::ingest::{RawClinics, RawPopulation};
use rayon::prelude::*;
use std::path::Path;

/// Checks the clinics and sorts them by `clinic_id`.
pub fn clinics(
    raw: RawClinics,
    geography: &Geography,
    path: &Path,
    geography_path: &Path,
) -> Result<Clinics, InputError> {
    let n = raw.clinic_id.len();
    if n > u32::MAX as usize {
        return Err(InputError::Other {
            path: path.to_path_buf(),
            detail: format!(
                "{n} clinics; the engine indexes at most {} clinics",
                u32::MAX
            ),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (raw.clinic_id[i], i));
    for pair in order.windows(2) {
        if raw.clinic_id[pair[0]] == raw.clinic_id[pair[1]] {
            return Err(InputError::Duplicate {
                path: path.to_path_buf(),
                column: "clinic_id".into(),
                row: pair[1] as u64 + 1,
                first_row: pair[0] as u64 + 1,
                value: raw.clinic_id[pair[1]].to_string(),
            });
        }
    }
    let mut clinics = Clinics::default();
    for &i in &order {
        let kommune = geography.kommune_index(raw.kommune[i]).ok_or_else(|| {
            InputError::UnknownReference {
                path: path.to_path_buf(),
                column: "kommune".into(),
                row: i as u64 + 1,
                value: raw.kommune[i].to_string(),
                other: geography_path.to_path_buf(),
            }
        })?;
        clinics.clinic_id.push(raw.clinic_id[i]);
        clinics.kommune.push(kommune);
        clinics.capacities.push(raw.capacities[i]);
        clinics
            .previous_min_patients
            .push(raw.previous_min_patients[i]);
        clinics.previous_given.push(raw.previous_given[i]);
        clinics.vulnerable_area.push(raw.vulnerable_area[i]);
    }
    Ok(clinics)
}

/// A lookup from ids to dense indices: a direct table when the ids span a
/// modest range, binary search otherwise.
struct IdIndex {
    min: i64,
    table: Vec<u32>,
    sorted: Vec<i64>,
}

const NONE: u32 = u32::MAX;
const DIRECT_RANGE: i64 = 1 << 22;

impl IdIndex {
    fn new(sorted_ids: &[i64]) -> Self {
        match (sorted_ids.first(), sorted_ids.last()) {
            (Some(&min), Some(&max)) if max - min < DIRECT_RANGE => {
                let mut table = vec![NONE; (max - min + 1) as usize];
                for (i, &id) in sorted_ids.iter().enumerate() {
                    table[(id - min) as usize] = i as u32;
                }
                IdIndex {
                    min,
                    table,
                    sorted: Vec::new(),
                }
            }
            _ => IdIndex {
                min: 0,
                table: Vec::new(),
                sorted: sorted_ids.to_vec(),
            },
        }
    }

    #[inline]
    fn get(&self, id: i64) -> Option<u32> {
        if self.table.is_empty() {
            return self.sorted.binary_search(&id).ok().map(|i| i as u32);
        }
        let offset = id.checked_sub(self.min)?;
        if offset < 0 {
            return None;
        }
        match self.table.get(offset as usize) {
            Some(&i) if i != NONE => Some(i),
            _ => None,
        }
    }
}

// Rows are checked in fixed blocks so the first bad row reported is the
// same whatever the thread count.
use crate::domain::BLOCK;

/// Checks the population against the clinics and geography and maps ids
/// and codes to indices.
pub fn population(
    raw: RawPopulation,
    clinics: &Clinics,
    geography: &Geography,
    paths: &Paths<'_>,
) -> Result<Population, InputError> {
    duplicate_ids(&raw.person_id, paths.population)?;
    references(raw, clinics, geography, paths, 0)
}

/// Checks one row group's references (its first row is `first_row`,
/// 0-based) and maps ids and codes to indices; duplicates across the file
/// are the caller's to check.
pub fn references(
    raw: RawPopulation,
    clinics: &Clinics,
    geography: &Geography,
    paths: &Paths<'_>,
    first_row: u64,
) -> Result<Population, InputError> {
    let n = raw.person_id.len();

    let clinic_ids: Vec<i64> = clinics.clinic_id.iter().map(|&c| i64::from(c)).collect();
    let clinic_index = IdIndex::new(&clinic_ids);
    let kommune_codes: Vec<i64> = geography
        .kommuner
        .iter()
        .map(|k| i64::from(k.code))
        .collect();
    let kommune_index = IdIndex::new(&kommune_codes);

    let mut clinic = vec![0u32; n];
    let mut kommune = vec![0u16; n];
    clinic
        .par_chunks_mut(BLOCK)
        .zip(kommune.par_chunks_mut(BLOCK))
        .enumerate()
        .try_for_each(|(block, (clinic_out, kommune_out))| {
            let start = block * BLOCK;
            for (j, (c, k)) in clinic_out
                .iter_mut()
                .zip(kommune_out.iter_mut())
                .enumerate()
            {
                let row = start + j;
                *c = clinic_index
                    .get(i64::from(raw.clinic_id[row]))
                    .ok_or_else(|| InputError::UnknownReference {
                        path: paths.population.to_path_buf(),
                        column: "clinic_id".into(),
                        row: first_row + row as u64 + 1,
                        value: raw.clinic_id[row].to_string(),
                        other: paths.clinics.to_path_buf(),
                    })?;
                *k = kommune_index
                    .get(i64::from(raw.kommune[row]))
                    .ok_or_else(|| InputError::UnknownReference {
                        path: paths.population.to_path_buf(),
                        column: "kommune".into(),
                        row: first_row + row as u64 + 1,
                        value: raw.kommune[row].to_string(),
                        other: paths.geography.to_path_buf(),
                    })? as u16;
            }
            Ok(())
        })
        .map_err(|e: InputError| e)?;

    Ok(Population {
        person_id: raw.person_id,
        clinic,
        kommune,
        age: raw.age,
        sex: raw.sex,
        education: raw.education,
        income_quintile: raw.income_quintile,
        labour: raw.labour,
        origin: raw.origin,
        lives_alone: raw.lives_alone,
        conditions: raw.conditions,
        codes: raw.codes,
        numeric: raw.numeric,
        utilization: raw.utilization,
        exposure: raw.exposure,
        row_groups: raw.row_groups,
    })
}

/// The files named in population messages.
pub struct Paths<'a> {
    pub population: &'a Path,
    pub clinics: &'a Path,
    pub geography: &'a Path,
}

/// Rejects a repeated `person_id`, naming both rows. Register extracts are
/// usually sorted by id, so a strictly increasing column is accepted in one
/// pass; otherwise a sorted copy finds the repeat.
pub fn duplicate_ids(ids: &[i64], path: &Path) -> Result<(), InputError> {
    if ids.windows(2).all(|w| w[0] < w[1]) {
        return Ok(());
    }
    let mut order: Vec<(i64, u32)> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i as u32))
        .collect();
    order.par_sort_unstable();
    // The first repeat in row order of the later row, for a stable message.
    let mut worst: Option<(u32, u32, i64)> = None;
    for pair in order.windows(2) {
        if pair[0].0 == pair[1].0 {
            let candidate = (pair[1].1, pair[0].1, pair[0].0);
            if worst.is_none_or(|w| candidate.0 < w.0) {
                worst = Some(candidate);
            }
        }
    }
    match worst {
        Some((row, first_row, id)) => Err(InputError::Duplicate {
            path: path.to_path_buf(),
            column: "person_id".into(),
            row: u64::from(row) + 1,
            first_row: u64::from(first_row) + 1,
            value: id.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_index_direct_and_sparse() {
        let direct = IdIndex::new(&[5, 7, 9]);
        assert_eq!(direct.get(7), Some(1));
        assert_eq!(direct.get(8), None);
        assert_eq!(direct.get(-3), None);
        assert_eq!(direct.get(i64::MIN), None);
        let sparse = IdIndex::new(&[i64::from(i32::MIN), 0, i64::from(i32::MAX)]);
        assert_eq!(sparse.get(i64::from(i32::MAX)), Some(2));
        assert_eq!(sparse.get(1), None);
    }

    #[test]
    fn duplicate_person_id_names_rows() {
        let err = duplicate_ids(&[3, 1, 2, 1], Path::new("p.parquet"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row 4") && err.contains("row 2") && err.contains("`1`"),
            "{err}"
        );
        assert!(duplicate_ids(&[3, 1, 2], Path::new("p")).is_ok());
    }
}
