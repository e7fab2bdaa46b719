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
        let effective = raw.capacities[i] + raw.capacity_adjustment[i];
        if !(effective > 0.0 && effective.is_finite()) {
            return Err(InputError::BadValue {
                path: path.to_path_buf(),
                column: "capacity_adjustment".into(),
                row: i as u64 + 1,
                value: raw.capacity_adjustment[i].to_string(),
                expected: format!(
                    "an adjustment that leaves clinic {} an effective capacity above 0 (capacities {} + adjustment {} = {effective})",
                    raw.clinic_id[i], raw.capacities[i], raw.capacity_adjustment[i]
                ),
            });
        }
        clinics.capacities.push(effective);
        clinics.capacities_given.push(raw.capacities[i]);
        clinics.capacity_adjustment.push(raw.capacity_adjustment[i]);
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

    /// The index of `id`, or `NONE`.
    #[inline]
    fn get(&self, id: i64) -> u32 {
        match self.direct() {
            Some(direct) => direct.get(id),
            None => self.sorted.binary_search(&id).map_or(NONE, |i| i as u32),
        }
    }

    /// The direct table, when there is one.
    fn direct(&self) -> Option<Direct<'_>> {
        (!self.table.is_empty()).then_some(Direct {
            min: self.min,
            table: &self.table,
        })
    }
}

/// An `IdIndex`'s direct table, copied into a loop so that its start,
/// length and `min` stay in registers (read through the index, they are
/// read again for every row, since the loop's stores could alias them).
#[derive(Clone, Copy)]
struct Direct<'a> {
    min: i64,
    table: &'a [u32],
}

impl Direct<'_> {
    #[inline(always)]
    fn get(self, id: i64) -> u32 {
        // Below `min` the offset wraps past the table's end.
        let offset = id.wrapping_sub(self.min) as u64;
        usize::try_from(offset)
            .ok()
            .and_then(|o| self.table.get(o))
            .copied()
            .unwrap_or(NONE)
    }
}

/// Replaces each row's clinic id and kommune code by their indices, in
/// row order, stopping at the first row where either is unknown: its
/// offset is returned and that row (and every later one) keeps its
/// original values.
///
/// Rows go 64 at a time: 64 rows of one clinic id and one kommune code
/// (most of a file sorted by clinic) are looked up once, any other 64 row
/// by row. The check of 64 is a few vector compares, a small cost on files
/// in any other order.
#[inline(always)]
fn map_in_place(
    clinic_ids: &mut [i32],
    codes: &mut [i16],
    clinic: impl Fn(i64) -> u32,
    kommune: impl Fn(i64) -> u32,
) -> Result<(), usize> {
    const RUN: usize = 64;
    let groups = clinic_ids.chunks_mut(RUN).zip(codes.chunks_mut(RUN));
    for (g, (ids, kodes)) in groups.enumerate() {
        let (Some(&id), Some(&code)) = (ids.first(), kodes.first()) else {
            continue;
        };
        let one = ids.iter().fold(true, |same, &v| same & (v == id))
            & kodes.iter().fold(true, |same, &v| same & (v == code));
        if one {
            let (index, k) = (clinic(i64::from(id)), kommune(i64::from(code)));
            if (index != NONE) & (k != NONE) {
                ids.fill(index as i32);
                kodes.fill(k as i16);
                continue;
            }
        }
        for (j, (clinic_id, code)) in ids.iter_mut().zip(kodes.iter_mut()).enumerate() {
            let index = clinic(i64::from(*clinic_id));
            let k = kommune(i64::from(*code));
            if (index == NONE) | (k == NONE) {
                return Err(g * RUN + j);
            }
            *clinic_id = index as i32;
            *code = k as i16;
        }
    }
    Ok(())
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
    references(raw, &References::new(clinics, geography), paths, 0)
}

/// The lookups from clinic ids and kommune codes to their indices, made
/// once for all the row groups of a population (a direct table of the
/// ids' span may take megabytes).
pub struct References {
    clinic_index: IdIndex,
    kommune_index: IdIndex,
}

impl References {
    pub fn new(clinics: &Clinics, geography: &Geography) -> References {
        let clinic_ids: Vec<i64> = clinics.clinic_id.iter().map(|&c| i64::from(c)).collect();
        let kommune_codes: Vec<i64> = geography
            .kommuner
            .iter()
            .map(|k| i64::from(k.code))
            .collect();
        References {
            clinic_index: IdIndex::new(&clinic_ids),
            kommune_index: IdIndex::new(&kommune_codes),
        }
    }
}

/// Checks one row group's references (its first row is `first_row`,
/// 0-based) and maps ids and codes to indices; the first unknown one
/// (clinic before kommune in a row) is an error. Duplicates across the
/// file are the caller's to check.
pub fn references(
    raw: RawPopulation,
    references: &References,
    paths: &Paths<'_>,
    first_row: u64,
) -> Result<Population, InputError> {
    let References {
        clinic_index,
        kommune_index,
    } = references;

    // Ids and codes are replaced by their indices in place (an `i32` id
    // by a `u32` index, an `i16` code by a `u16` one). A row is written
    // only once both are known, so at the first unknown one its original
    // values are still there for the message.
    //
    // Every block is checked and its result kept, and the first error in
    // block order is reported: a short-circuiting `try_for_each` would
    // return whichever block's error a thread met first, so with unknown
    // ids in two blocks the row named could depend on timing.
    let mut clinic = raw.clinic_id;
    let mut kommune = raw.kommune;
    let checked: Vec<Result<(), InputError>> = clinic
        .par_chunks_mut(BLOCK)
        .zip(kommune.par_chunks_mut(BLOCK))
        .enumerate()
        .map(|(block, (clinic_ids, codes))| {
            let mapped = match (clinic_index.direct(), kommune_index.direct()) {
                (Some(c), Some(k)) => map_in_place(
                    clinic_ids,
                    codes,
                    move |id| c.get(id),
                    move |code| k.get(code),
                ),
                _ => map_in_place(
                    clinic_ids,
                    codes,
                    |id| clinic_index.get(id),
                    |code| kommune_index.get(code),
                ),
            };
            let Err(j) = mapped else {
                return Ok(());
            };
            let row = first_row + (block * BLOCK + j) as u64 + 1;
            let (clinic_id, code) = (clinic_ids[j], codes[j]);
            let (column, value, other) = if clinic_index.get(i64::from(clinic_id)) == NONE {
                ("clinic_id", clinic_id.to_string(), paths.clinics)
            } else {
                ("kommune", code.to_string(), paths.geography)
            };
            Err(InputError::UnknownReference {
                path: paths.population.to_path_buf(),
                column: column.into(),
                row,
                value,
                other: other.to_path_buf(),
            })
        })
        .collect();
    checked.into_iter().collect::<Result<(), InputError>>()?;
    // Same sizes and alignments: these reuse the allocations.
    let clinic: Vec<u32> = clinic.into_iter().map(|c| c as u32).collect();
    let kommune: Vec<u16> = kommune.into_iter().map(|k| k as u16).collect();

    Ok(Population {
        person_id: Vec::from(raw.person_id),
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

/// Whether `ids` strictly increase. Each block of pairs is compared
/// without an early exit, so the comparisons vectorize (pair by pair with
/// `windows(2).all` it was 1.5% of a national run).
pub fn increasing(ids: &[i64]) -> bool {
    let Some(rest) = ids.get(1..) else {
        return true;
    };
    ids.chunks(1024)
        .zip(rest.chunks(1024))
        .all(|(a, b)| a.iter().zip(b).fold(true, |ok, (x, y)| ok & (x < y)))
}

/// Rejects a repeated `person_id`, naming both rows. Register extracts are
/// usually sorted by id, so a strictly increasing column is accepted in one
/// pass; otherwise a sorted copy finds the repeat.
pub fn duplicate_ids(ids: &[i64], path: &Path) -> Result<(), InputError> {
    if increasing(ids) {
        return Ok(());
    }
    if let Ids::Unique(_) = IdBits::of(ids, ids.len() as u64) {
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

/// The set of ids of some rows as bits from `base`, for files whose ids
/// do not increase: row groups' sets are made on the workers and joined in
/// file order, so uniqueness is checked without reading the ids again or
/// sorting them. Only for dense ids: a set spans at most
/// `max(64 × its rows, 8 × the file's rows) + 2^16` ids (8 bytes of bits
/// per row of the set, or 1 byte per row of the file), so a small or
/// shuffled row group of a densely numbered file still takes bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdBits {
    base: i64,
    words: Vec<u64>,
    rows: u64,
    /// The rows of the whole file, which bounds how far a set may spread.
    file_rows: u64,
}

/// Sets of ids kept across the row groups a worker reads (as
/// `aggregate::BasisPool` keeps bases), for a file whose ids do not
/// increase: a row group's ids go into a set taken from the pool
/// (`IdBits::with`), so a shuffled file's row groups do not each make, zero
/// and join a set spanning the file's ids. Which set takes which group
/// does not matter: a repeat is found in one set or when they are joined.
pub struct IdPool {
    file_rows: u64,
    free: std::sync::Mutex<Vec<IdBits>>,
    /// A set found a repeat or would have spread too far, or a row group
    /// was left out: sort instead.
    failed: std::sync::atomic::AtomicBool,
}

impl IdPool {
    pub fn new(file_rows: u64) -> IdPool {
        IdPool {
            file_rows,
            free: std::sync::Mutex::new(Vec::new()),
            failed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Adds a row group's ids.
    pub fn add(&self, ids: &[i64]) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.failed.load(Relaxed) {
            return;
        }
        let lock = || self.free.lock().unwrap_or_else(|e| e.into_inner());
        let taken = lock().pop();
        let added = match taken {
            Some(set) => set.with(ids),
            None => IdBits::of(ids, self.file_rows),
        };
        match added {
            Ids::Unique(set) => lock().push(set),
            Ids::Repeated | Ids::Sparse => self.failed.store(true, Relaxed),
        }
    }

    /// A row group whose ids are not added (while the file's ids
    /// increase they are not needed): if they turn out to be, the pool
    /// cannot vouch for the file.
    pub fn leave_out(&self) {
        self.failed
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every id added, in one set (`Unique`), or why not.
    pub fn finish(self) -> Ids {
        if self.failed.into_inner() {
            return Ids::Sparse;
        }
        let sets = self.free.into_inner().unwrap_or_else(|e| e.into_inner());
        sets.into_iter()
            .map(Ids::Unique)
            .reduce(Ids::join)
            .unwrap_or(Ids::Sparse)
    }
}

/// The outcome of collecting ids into an `IdBits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ids {
    /// Distinct so far.
    Unique(IdBits),
    /// An id occurs twice (which is found by `duplicate_ids`).
    Repeated,
    /// Too sparse for bits (or no rows): check by sorting.
    Sparse,
}

impl IdBits {
    fn limit(rows: u64, file_rows: u64) -> u128 {
        (64 * u128::from(rows)).max(8 * u128::from(file_rows)) + (1 << 16)
    }

    /// The ids of one row group of a file of `file_rows` rows.
    pub fn of(ids: &[i64], file_rows: u64) -> Ids {
        let (Some(&lo), Some(&hi)) = (ids.iter().min(), ids.iter().max()) else {
            return Ids::Sparse;
        };
        let span = (i128::from(hi) - i128::from(lo) + 1) as u128;
        if span > IdBits::limit(ids.len() as u64, file_rows) {
            return Ids::Sparse;
        }
        let empty = IdBits {
            base: lo,
            words: vec![0u64; span.div_ceil(64) as usize],
            rows: 0,
            file_rows,
        };
        empty.set(ids)
    }

    /// This set with a row group's `ids` added: in place when they lie
    /// within its words (no set made for the group), else joined with the
    /// group's own set.
    pub fn with(self, ids: &[i64]) -> Ids {
        let (Some(&lo), Some(&hi)) = (ids.iter().min(), ids.iter().max()) else {
            return Ids::Unique(self);
        };
        if i128::from(lo) < i128::from(self.base) || i128::from(hi) >= self.end() {
            return match IdBits::of(ids, self.file_rows) {
                Ids::Unique(group) => self.join(group),
                other => other,
            };
        }
        self.set(ids)
    }

    /// This set with `ids`, which lie within its words, set in place;
    /// `Repeated` when one was set already.
    fn set(mut self, ids: &[i64]) -> Ids {
        let mut repeated = 0u64;
        // A set past the caches (a shuffled file's ids at scale 10 span
        // 7.5 MB) is asked for the word of the id 16 ahead.
        let ahead = (self.words.len() > 1 << 17).then_some(16);
        for (j, &id) in ids.iter().enumerate() {
            if let Some(&later) = ahead.and_then(|d| ids.get(j + d)) {
                let word = (later.wrapping_sub(self.base) as u64 / 64) as usize;
                crate::prefetch::prefetch(self.words.as_ptr().wrapping_add(word));
            }
            let k = (id - self.base) as u64;
            let (word, bit) = ((k / 64) as usize, 1u64 << (k % 64));
            repeated |= self.words[word] & bit;
            self.words[word] |= bit;
        }
        if repeated != 0 {
            return Ids::Repeated;
        }
        self.rows += ids.len() as u64;
        Ids::Unique(self)
    }

    /// One past the last id the words can hold.
    fn end(&self) -> i128 {
        i128::from(self.base) + 64 * self.words.len() as i128
    }

    /// The ids of both sets, or `Repeated` when they share one. The set
    /// whose words cover both takes the other's bits in place (after the
    /// first row groups of a shuffled file, every later one), else both go
    /// into a new set.
    pub fn join(self, other: IdBits) -> Ids {
        let lo = self.base.min(other.base);
        let hi = self.end().max(other.end());
        let rows = self.rows + other.rows;
        let file_rows = self.file_rows.max(other.file_rows);
        let span = (hi - i128::from(lo)) as u128;
        if span > IdBits::limit(rows, file_rows) + 128 {
            return Ids::Sparse;
        }
        let within =
            |outer: &IdBits, inner: &IdBits| outer.base <= inner.base && inner.end() <= outer.end();
        let (mut into, from) = if within(&self, &other) {
            (self, other)
        } else if within(&other, &self) {
            (other, self)
        } else {
            let mut fresh = IdBits {
                base: lo,
                words: vec![0u64; span.div_ceil(64) as usize + 1],
                rows: 0,
                file_rows,
            };
            if !fresh.absorb(&self) {
                return Ids::Repeated;
            }
            (fresh, other)
        };
        if !into.absorb(&from) {
            return Ids::Repeated;
        }
        into.rows = rows;
        into.file_rows = file_rows;
        Ids::Unique(into)
    }

    /// ORs `set` (whose ids lie within this set's words) into this set;
    /// false when they share an id. A set whose base is not a multiple of
    /// 64 from this one's is shifted bit by bit.
    fn absorb(&mut self, set: &IdBits) -> bool {
        let offset = (set.base - self.base) as u64;
        let (shift_words, shift_bits) = ((offset / 64) as usize, offset % 64);
        for (k, &w) in set.words.iter().enumerate() {
            let parts = if shift_bits == 0 {
                [w, 0]
            } else {
                [w << shift_bits, w >> (64 - shift_bits)]
            };
            for (j, part) in parts.into_iter().enumerate() {
                if part == 0 {
                    continue;
                }
                match self.words.get_mut(shift_words + k + j) {
                    Some(slot) if *slot & part == 0 => *slot |= part,
                    // A shared id (or, never for sets within this one, bits
                    // past its words: the sorting check then decides).
                    _ => return false,
                }
            }
        }
        true
    }
}

impl Ids {
    /// Adds a later row group's ids.
    pub fn join(self, later: Ids) -> Ids {
        match (self, later) {
            (Ids::Repeated, _) | (_, Ids::Repeated) => Ids::Repeated,
            (Ids::Sparse, _) | (_, Ids::Sparse) => Ids::Sparse,
            (Ids::Unique(a), Ids::Unique(b)) => a.join(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shuffled file of densely numbered ids in small row groups: each
    /// group's ids spread over the whole range (far more than 64 ids per
    /// row of the group), yet they are kept as bits, judged by the file's
    /// rows, and a repeat anywhere is found.
    #[test]
    fn shuffled_dense_ids_in_small_groups_take_bits() {
        let rows = 200_000u64;
        let mut ids: Vec<i64> = (0..rows as i64).map(|i| 1_000_000 + i).collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for i in (1..ids.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ids.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let join_all = |ids: &[i64]| {
            ids.chunks(1_000)
                .map(|group| IdBits::of(group, rows))
                .reduce(Ids::join)
                .unwrap()
        };
        assert!(
            64 * 1_000 + (1 << 16) < rows,
            "groups must be too spread alone"
        );
        match join_all(&ids) {
            Ids::Unique(bits) => {
                assert_eq!(bits.rows, rows);
                let ones: u64 = bits.words.iter().map(|w| u64::from(w.count_ones())).sum();
                assert_eq!(ones, rows);
                assert!(bits.words.len() as u64 <= rows / 64 + 2);
            }
            other => panic!("{other:?}"),
        }
        let mut repeated = ids.clone();
        repeated[150_000] = repeated[3];
        assert_eq!(join_all(&repeated), Ids::Repeated);
        // Ids spread 100 to a row over the file are sorted instead.
        let sparse: Vec<i64> = ids.iter().map(|&id| id * 100).collect();
        assert_eq!(join_all(&sparse), Ids::Sparse);
    }

    /// Ids and codes mapped in place within and across blocks: every
    /// row's indices equal a lookup by position in the sorted lists, and
    /// an unknown id or code is reported at its file row with its original
    /// value, the earliest row first and the clinic before the kommune in
    /// a row.
    #[test]
    fn references_map_in_place_and_report_the_first_unknown() {
        // Rows placed at multiples of this stride, in both blocks.
        const STRIDE: usize = 1024;
        let clinic_ids = [-7i64, 10, 20, 3_000_000_000];
        let codes = [101i64, 147, 840];
        let index = References {
            clinic_index: IdIndex::new(&clinic_ids),
            kommune_index: IdIndex::new(&codes),
        };
        let paths = Paths {
            population: Path::new("p.parquet"),
            clinics: Path::new("c.parquet"),
            geography: Path::new("g.csv"),
        };
        let rows = BLOCK + 3 * STRIDE + 17;
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let picks: Vec<(usize, usize)> = (0..rows)
            .map(|_| (next(3) as usize, next(3) as usize))
            .collect();
        // The clinic ids that fit an `i32`: all but the last.
        let raw = |bad: &[(usize, &str, i64)]| {
            let mut raw = RawPopulation {
                person_id: (0..rows as i64).collect(),
                clinic_id: picks.iter().map(|&(c, _)| clinic_ids[c] as i32).collect(),
                kommune: picks.iter().map(|&(_, k)| codes[k] as i16).collect(),
                ..RawPopulation::default()
            };
            for &(row, column, value) in bad {
                match column {
                    "clinic_id" => raw.clinic_id[row] = value as i32,
                    _ => raw.kommune[row] = value as i16,
                }
            }
            raw
        };
        let population = references(raw(&[]), &index, &paths, 0).unwrap();
        for (row, &(c, k)) in picks.iter().enumerate() {
            assert_eq!(population.clinic[row], c as u32, "row {row}");
            assert_eq!(population.kommune[row], k as u16, "row {row}");
        }
        type Case<'a> = (&'a [(usize, &'a str, i64)], u64, &'a str, &'a str);
        let cases: [Case; 4] = [
            (
                &[(STRIDE - 1, "kommune", 102)],
                STRIDE as u64 + 4,
                "kommune",
                "102",
            ),
            (
                &[(BLOCK + STRIDE, "clinic_id", 0)],
                BLOCK as u64 + STRIDE as u64 + 5,
                "clinic_id",
                "0",
            ),
            (
                &[
                    (2 * STRIDE + 3, "kommune", 1),
                    (2 * STRIDE + 3, "clinic_id", 11),
                    (rows - 1, "clinic_id", 12),
                ],
                2 * STRIDE as u64 + 3 + 5,
                "clinic_id",
                "11",
            ),
            (
                &[(rows - 1, "kommune", -1), (BLOCK + 1, "kommune", 0)],
                BLOCK as u64 + 1 + 5,
                "kommune",
                "0",
            ),
        ];
        for (bad, row, column, value) in cases {
            match references(raw(bad), &index, &paths, 4) {
                Err(InputError::UnknownReference {
                    row: r,
                    column: c,
                    value: v,
                    ..
                }) => assert_eq!((r, c.as_str(), v.as_str()), (row, column, value), "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    /// With unknown ids in many blocks of one row group, checked on several
    /// threads, the earliest row is reported every time: the later blocks'
    /// errors are found first (each at its block's start, the earliest at
    /// its block's end), so a check that stopped at the first error a
    /// thread met would name one of them.
    #[test]
    fn references_report_the_earliest_unknown_whatever_the_threads() {
        let index = References {
            clinic_index: IdIndex::new(&[1]),
            kommune_index: IdIndex::new(&[101]),
        };
        let paths = Paths {
            population: Path::new("p.parquet"),
            clinics: Path::new("c.parquet"),
            geography: Path::new("g.csv"),
        };
        let blocks = 48;
        let rows = blocks * BLOCK;
        let earliest = 2 * BLOCK - 1;
        let mut clinic_id = vec![1i32; rows];
        clinic_id[earliest] = 9;
        for block in 3..blocks {
            clinic_id[block * BLOCK] = 100 + block as i32;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(8)
            .build()
            .unwrap();
        for round in 0..20 {
            let raw = RawPopulation {
                person_id: (0..rows as i64).collect(),
                clinic_id: clinic_id.clone(),
                kommune: vec![101; rows],
                ..RawPopulation::default()
            };
            match pool.install(|| references(raw, &index, &paths, 0)) {
                Err(InputError::UnknownReference { row, value, .. }) => assert_eq!(
                    (row, value.as_str()),
                    (earliest as u64 + 1, "9"),
                    "round {round}"
                ),
                other => panic!("round {round}: {other:?}"),
            }
        }
    }

    /// Rows in runs of one clinic and kommune (long enough to fill groups
    /// of 64, and short), some ids and codes unknown, map as a plain loop
    /// over the rows maps them: the same indices up to the first unknown
    /// row, the same offset, and that row and later ones untouched.
    #[test]
    fn runs_map_as_row_by_row() {
        let clinic = |id: i64| {
            if (10..20).contains(&id) {
                (id - 10) as u32
            } else {
                NONE
            }
        };
        let kommune = |code: i64| {
            if (100..103).contains(&code) {
                (code - 100) as u32
            } else {
                NONE
            }
        };
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        for round in 0..400 {
            let (mut ids, mut codes) = (Vec::new(), Vec::new());
            let rows = next(600) as usize;
            while ids.len() < rows {
                let run = 1 + next([3, 70, 200][round % 3]) as usize;
                // One in 40 runs has an unknown id or code.
                let (id, code) = match next(40) {
                    0 => (25, 101),
                    1 => (12, 109),
                    _ => (10 + next(10) as i32, 100 + next(3) as i16),
                };
                ids.extend(std::iter::repeat_n(id, run));
                codes.extend(std::iter::repeat_n(code, run));
            }
            let (mut want_ids, mut want_codes) = (ids.clone(), codes.clone());
            let mut want = Ok(());
            for j in 0..want_ids.len() {
                let (c, k) = (
                    clinic(i64::from(want_ids[j])),
                    kommune(i64::from(want_codes[j])),
                );
                if c == NONE || k == NONE {
                    want = Err(j);
                    break;
                }
                want_ids[j] = c as i32;
                want_codes[j] = k as i16;
            }
            let got = map_in_place(&mut ids, &mut codes, clinic, kommune);
            assert_eq!(got, want, "round {round}");
            assert_eq!((ids, codes), (want_ids, want_codes), "round {round}");
        }
    }

    /// A xorshift generator: `next(n)` is below `n`.
    fn xorshift(mut state: u64) -> impl FnMut(u64) -> u64 {
        move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        }
    }

    /// Up to `most` random ids, spread over as many values as rows (case 0
    /// mod 3), three times as many (1), or 2^40 (2: sparse); and whether
    /// they are distinct, by a set.
    fn random_ids(next: &mut impl FnMut(u64) -> u64, case: usize, most: u64) -> (Vec<i64>, bool) {
        let rows = 1 + next(most) as usize;
        let spread = [rows as u64, 3 * rows as u64, 1 << 40][case % 3];
        let offset = next(1 << 20) as i64 - (1 << 19);
        let ids: Vec<i64> = (0..rows).map(|_| offset + next(spread) as i64).collect();
        let distinct = ids.iter().collect::<std::collections::BTreeSet<_>>().len() == rows;
        (ids, distinct)
    }

    /// `ids` cut into consecutive groups of 1 to `longest` ids.
    fn cut<'a>(next: &mut impl FnMut(u64) -> u64, ids: &'a [i64], longest: u64) -> Vec<&'a [i64]> {
        let mut groups = Vec::new();
        let mut start = 0;
        while start < ids.len() {
            let end = (start + 1 + next(longest) as usize).min(ids.len());
            groups.push(&ids[start..end]);
            start = end;
        }
        groups
    }

    /// A set found `Unique` for `rows` ids: they were `distinct`, and it
    /// counts and holds each once.
    #[track_caller]
    fn holds_each_once(bits: &IdBits, distinct: bool, rows: usize, what: &str) {
        assert!(distinct, "{what}: a repeat missed");
        assert_eq!(bits.rows, rows as u64, "{what}");
        let ones: u32 = bits.words.iter().map(|w| w.count_ones()).sum();
        assert_eq!(ones as usize, rows, "{what}");
    }

    /// `IdBits` against a set, over random dense and sparse id lists split
    /// into random groups.
    #[test]
    fn id_bits_find_repeats_as_a_set_does() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for case in 0..400 {
            let (ids, distinct) = random_ids(&mut next, case, 300);
            let rows = ids.len();
            let joined = cut(&mut next, &ids, 40)
                .into_iter()
                .map(|group| IdBits::of(group, rows as u64))
                .reduce(Ids::join);
            match joined.unwrap() {
                Ids::Unique(bits) => {
                    holds_each_once(&bits, distinct, rows, &format!("case {case}"))
                }
                Ids::Repeated => assert!(!distinct, "case {case}: a false repeat"),
                Ids::Sparse => assert_eq!(case % 3, 2, "case {case}: dense ids taken as sparse"),
            }
        }
        assert_eq!(IdBits::of(&[i64::MIN, i64::MAX], 2), Ids::Sparse);
        assert_eq!(IdBits::of(&[], 0), Ids::Sparse);
    }

    /// `IdPool` against a set: random dense and sparse id lists in random
    /// groups, added in file order, in reverse, and from the pool's
    /// threads (so into one set or several, joined at the end).
    #[test]
    fn id_pool_finds_repeats_as_a_set_does() {
        let mut next = xorshift(0x2f4a_7c15_9e37_79b9);
        for case in 0..300 {
            let (ids, distinct) = random_ids(&mut next, case, 3_000);
            let rows = ids.len();
            let groups = cut(&mut next, &ids, 400);
            for order in 0..3 {
                let pool = IdPool::new(rows as u64);
                match order {
                    0 => groups.iter().for_each(|g| pool.add(g)),
                    1 => groups.iter().rev().for_each(|g| pool.add(g)),
                    _ => groups.par_iter().for_each(|g| pool.add(g)),
                }
                match pool.finish() {
                    Ids::Unique(bits) => holds_each_once(
                        &bits,
                        distinct,
                        rows,
                        &format!("case {case} order {order}"),
                    ),
                    _ => assert!(
                        !distinct || case % 3 == 2,
                        "case {case} order {order}: dense distinct ids not taken"
                    ),
                }
            }
        }
    }

    #[test]
    fn id_index_direct_and_sparse() {
        let direct = IdIndex::new(&[5, 7, 9]);
        assert_eq!(direct.get(5), 0);
        assert_eq!(direct.get(7), 1);
        assert_eq!(direct.get(9), 2);
        assert_eq!(direct.get(8), NONE);
        assert_eq!(direct.get(10), NONE);
        assert_eq!(direct.get(4), NONE);
        assert_eq!(direct.get(-3), NONE);
        assert_eq!(direct.get(i64::MIN), NONE);
        assert_eq!(direct.get(i64::MAX), NONE);
        let sparse = IdIndex::new(&[i64::from(i32::MIN), 0, i64::from(i32::MAX)]);
        assert_eq!(sparse.get(i64::from(i32::MAX)), 2);
        assert_eq!(sparse.get(1), NONE);
    }

    #[test]
    fn increasing_ids_compared_in_blocks() {
        let mut ids: Vec<i64> = (0..5000).map(|i| 3 * i - 700).collect();
        assert!(increasing(&ids));
        assert!(increasing(&[]) && increasing(&[7]));
        // A pair out of order or equal anywhere, at a block's edge too.
        for at in [1usize, 2, 1023, 1024, 1025, 2048, 4999] {
            for value in [ids[at - 1], ids[at - 1] - 1] {
                let before = ids[at];
                ids[at] = value;
                assert!(!increasing(&ids), "at {at}");
                assert_eq!(increasing(&ids), ids.windows(2).all(|w| w[0] < w[1]));
                ids[at] = before;
            }
        }
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
