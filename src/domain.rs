//! The in-memory data the model core works on: column-oriented, compact and
//! already validated. Clinics and kommuner are referred to by dense indices
//! (`u32` and `u16`) so per-clinic and per-area sums are plain arrays.

/// Persons per block wherever persons are processed in fixed blocks
/// (estimation's cross products, evaluation's sums, the row checks, the
/// synthetic generator's random streams). Fixed: the last bits of those
/// sums, the first bad row reported and the synthetic files depend on it.
pub const BLOCK: usize = 1 << 16;

/// One kommune of the geography, with indices into the council and region
/// name lists of its `Geography`.
#[derive(Debug, Clone, PartialEq)]
pub struct Kommune {
    pub code: i16,
    pub name: String,
    pub sundhedsraad: u16,
    pub region: u16,
    pub area_index: Option<f64>,
}

/// The geography table: kommuner sorted by code, and the names of the
/// sundhedsråd and regions in sorted order.
#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    pub kommuner: Vec<Kommune>,
    pub sundhedsraad: Vec<String>,
    pub regions: Vec<String>,
}

impl Geography {
    /// The index of a kommune code, if it is in the table.
    pub fn kommune_index(&self, code: i16) -> Option<u16> {
        self.kommuner
            .binary_search_by_key(&code, |k| k.code)
            .ok()
            .map(|i| i as u16)
    }

    /// Whether every kommune has an `area_index`.
    pub fn has_area_index(&self) -> bool {
        self.kommuner.iter().all(|k| k.area_index.is_some())
    }
}

/// Clinics sorted by `clinic_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clinics {
    pub clinic_id: Vec<i32>,
    /// Index into `Geography::kommuner` of where the clinic is located.
    pub kommune: Vec<u16>,
    /// Effective capacities, `capacities + capacity_adjustment` of the
    /// file (SPEC section 4): what every computation uses.
    pub capacities: Vec<f64>,
    /// `capacities` as the file gives them, before the adjustment.
    pub capacities_given: Vec<f64>,
    /// `capacity_adjustment` of the file (0 when absent).
    pub capacity_adjustment: Vec<f64>,
    /// Last year's minimum patient count, or 1,600 × capacities when the
    /// file has none for the clinic.
    pub previous_min_patients: Vec<f64>,
    /// Whether the previous count came from the file (false: the default).
    pub previous_given: Vec<bool>,
    pub vulnerable_area: Vec<bool>,
}

impl Clinics {
    pub fn len(&self) -> usize {
        self.clinic_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clinic_id.is_empty()
    }

    /// The index of a clinic id, if it is in the table.
    pub fn index_of(&self, clinic_id: i32) -> Option<u32> {
        self.clinic_id
            .binary_search(&clinic_id)
            .ok()
            .map(|i| i as u32)
    }

    pub fn total_capacities(&self) -> f64 {
        self.capacities.iter().sum()
    }
}

/// The old closing limit: listed persons per capacity used as the previous
/// minimum patient count when the clinic file has none.
pub const OLD_CLOSING_LIMIT: f64 = 1600.0;

/// The listed persons, one entry per person in every column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Population {
    pub person_id: Vec<i64>,
    /// Index into `Clinics`.
    pub clinic: Vec<u32>,
    /// Index into `Geography::kommuner` (residence).
    pub kommune: Vec<u16>,
    pub age: Vec<u8>,
    /// 1 = male, 2 = female.
    pub sex: Vec<u8>,
    pub education: Vec<u8>,
    pub income_quintile: Vec<u8>,
    pub labour: Vec<u8>,
    pub origin: Vec<u8>,
    pub lives_alone: Vec<bool>,
    /// Bit `k` set when the person has the model's condition `k` (format
    /// 2: flag `k` of `Spec::flags`, before hierarchies).
    pub conditions: Vec<u64>,
    /// Format 2: the person's level (0-based) of each variable read from
    /// an integer column, one column per `Spec::coded` variable (format 1:
    /// empty, the fixed columns above are used).
    pub codes: Vec<Vec<u8>>,
    /// Format 2: the float columns of numeric terms (`Spec::numeric_columns`).
    pub numeric: Vec<Vec<f64>>,
    pub utilization: Option<Vec<f64>>,
    pub exposure: Option<Vec<f64>>,
    /// Rows per row group of the file the persons came from (empty: one
    /// group). Sums over persons follow these boundaries, so a streamed
    /// and a whole read give the same bits.
    pub row_groups: Vec<usize>,
}

impl Population {
    /// The row ranges of the row groups.
    pub fn row_group_ranges(&self) -> Vec<std::ops::Range<usize>> {
        if self.row_groups.is_empty() || self.row_groups.iter().sum::<usize>() != self.len() {
            return std::iter::once(0..self.len()).collect();
        }
        let mut start = 0;
        self.row_groups
            .iter()
            .map(|&rows| {
                let range = start..start + rows;
                start += rows;
                range
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.person_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.person_id.is_empty()
    }
}
