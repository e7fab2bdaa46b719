//! Per-person raw need (SPEC section 4, steps 1 to 4), from tables
//! prepared once per model and year so the per-person work is a handful of
//! array look-ups and a loop over the set bits of the condition mask.
//!
//! Pure: no I/O, no allocation per person.

use crate::domain::{Geography, Population};
use crate::error::ModelError;
use crate::model::{age_band, Link, Model, MAX_CONDITIONS};
use crate::terms::{Compiled, FlagParts, BLOCK_PERSONS};
use std::path::Path;

/// The parts of a person's raw need. For the identity link they are the
/// terms of the linear predictor, and `packages` is what the care packages
/// added; for the log link the base need `exp(η)` is split in proportion to
/// each term's share of `η`, and `packages` is again what packages added.
/// Either way the parts add up to the raw need.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Components {
    pub age_sex: f64,
    pub socioeconomic: f64,
    pub conditions: f64,
    pub multimorbidity: f64,
    pub area: f64,
    pub packages: f64,
}

impl Components {
    pub const NAMES: [&'static str; 6] = [
        "age_sex",
        "socioeconomic",
        "conditions",
        "multimorbidity",
        "area",
        "packages",
    ];

    pub fn as_array(&self) -> [f64; 6] {
        [
            self.age_sex,
            self.socioeconomic,
            self.conditions,
            self.multimorbidity,
            self.area,
            self.packages,
        ]
    }

    pub fn from_array(a: [f64; 6]) -> Self {
        Components {
            age_sex: a[0],
            socioeconomic: a[1],
            conditions: a[2],
            multimorbidity: a[3],
            area: a[4],
            packages: a[5],
        }
    }

    /// A format-2 person's parts: per component, the sum of the terms over
    /// a coded or numeric column plus the sum of the terms over flags
    /// alone (the order `terms.rs` documents); `packages` 0.
    #[inline(always)]
    pub fn of_terms(person: [f64; 5], flags: [f64; 5]) -> Components {
        Components {
            age_sex: person[0] + flags[0],
            socioeconomic: person[1] + flags[1],
            conditions: person[2] + flags[2],
            multimorbidity: person[3] + flags[3],
            area: person[4] + flags[4],
            packages: 0.0,
        }
    }

    /// The five terms of the linear predictor (all but `packages`).
    pub fn terms(&self) -> [f64; 5] {
        [
            self.age_sex,
            self.socioeconomic,
            self.conditions,
            self.multimorbidity,
            self.area,
        ]
    }

    pub fn total(&self) -> f64 {
        self.as_array().iter().sum()
    }

    #[inline]
    pub fn add(&mut self, other: &Components) {
        self.age_sex += other.age_sex;
        self.socioeconomic += other.socioeconomic;
        self.conditions += other.conditions;
        self.multimorbidity += other.multimorbidity;
        self.area += other.area;
        self.packages += other.packages;
    }

    pub fn scaled(&self, factor: f64) -> Components {
        Components::from_array(self.as_array().map(|v| v * factor))
    }
}

/// A care package as it applies in one year: qualifying rule and its
/// phased `add` and factor (0 and 1 before its start year).
#[derive(Debug, Clone, Copy, PartialEq)]
struct ActivePackage {
    condition_mask: u64,
    min_conditions: u32,
    count_mask: u64,
    count_top: u32,
    add: f64,
    factor: f64,
    /// The package's most negative addition in any year (`add` at full
    /// share when below 0, else 0) and its smallest factor (`multiply`
    /// at full share when below 1, else 1): what bounds clipping.
    worst_add: f64,
    worst_factor: f64,
}

/// A term by a byte column's value: entry `v` is the model's entry for
/// `min(v, last level)`, so any byte indexes it without a bounds check or
/// a clamp (the same values as clamping, which validation makes moot).
type ByteTable = [f64; 256];

/// `ByteTable` with every entry past `values` the last of `values`.
fn byte_table(values: &[f64]) -> ByteTable {
    let last = values.last().copied().unwrap_or(0.0);
    std::array::from_fn(|v| values.get(v).copied().unwrap_or(last))
}

/// Format 1's age-sex and socioeconomic terms as `ByteTable`s.
#[derive(Debug, Clone)]
struct ByteTables {
    /// `[sex - 1][age]`, ages from 121 on as 120.
    age_sex: [ByteTable; 2],
    education: ByteTable,
    income_quintile: ByteTable,
    labour: ByteTable,
    origin: ByteTable,
    lives_alone: ByteTable,
}

/// Everything needed to compute a person's raw need in one year.
#[derive(Debug, Clone)]
pub struct YearTables {
    link: Link,
    /// The age-sex and socioeconomic terms by the column's byte.
    bytes: Box<ByteTables>,
    conditions: [f64; MAX_CONDITIONS],
    /// Multimorbidity addition by number of conditions.
    multimorbidity: [f64; MAX_CONDITIONS + 1],
    /// Area term by kommune index.
    area: Vec<f64>,
    packages: Vec<ActivePackage>,
    condition_mask: u64,
    /// A format-2 model's compiled terms (the tables above are then 0).
    terms: Option<Compiled>,
    /// `mask_table`, made once on first use and shared by every row group.
    mask_table: std::sync::OnceLock<Option<MaskTable>>,
}

/// One person's raw need and its parts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PersonNeed {
    pub raw: f64,
    pub components: Components,
    /// The raw need was below 0 and was clipped to 0 (all parts are then 0).
    pub clipped: bool,
}

impl YearTables {
    /// Prepares the tables; fails when the model has an area term and the
    /// geography has no `area_index` for some kommune.
    pub fn new(
        model: &Model,
        geography: &Geography,
        year: i32,
        model_path: &Path,
    ) -> Result<Self, ModelError> {
        let terms = match &model.format2 {
            Some(spec) => Some(Compiled::new(spec, geography).map_err(|(key, detail)| {
                ModelError::Invalid {
                    path: model_path.to_path_buf(),
                    key,
                    detail,
                }
            })?),
            None => None,
        };
        let age_sex = [0, 1].map(|sex| {
            let by_age: Vec<f64> = (0..=120u8)
                .map(|age| model.age_sex[sex][age_band(age)])
                .collect();
            byte_table(&by_age)
        });
        let bytes = Box::new(ByteTables {
            age_sex,
            education: byte_table(&model.education),
            income_quintile: byte_table(&model.income_quintile),
            labour: byte_table(&model.labour),
            origin: byte_table(&model.origin),
            lives_alone: byte_table(&model.lives_alone),
        });
        let mut conditions = [0.0; MAX_CONDITIONS];
        for (k, (_, coefficient)) in model.conditions.iter().enumerate() {
            conditions[k] = *coefficient;
        }
        let mut multimorbidity = [0.0; MAX_CONDITIONS + 1];
        for (count, slot) in multimorbidity.iter_mut().enumerate() {
            *slot = model
                .multimorbidity
                .iter()
                .filter(|t| count as u32 >= t.at_least)
                .map(|t| t.add)
                .sum::<f64>()
                // No threshold reached: +0, not the empty sum's -0 (as
                // `Spec::from_format1` writes it).
                + 0.0;
        }
        let area = match model.area {
            None => vec![0.0; geography.kommuner.len()],
            Some(coefficient) => {
                let mut area = Vec::with_capacity(geography.kommuner.len());
                for kommune in &geography.kommuner {
                    match kommune.area_index {
                        Some(index) => area.push(coefficient * index),
                        None => {
                            return Err(ModelError::Invalid {
                                path: model_path.to_path_buf(),
                                key: "area".into(),
                                detail: format!(
                                    "the model has an [area] term but the geography has no area_index for kommune {} ({})",
                                    kommune.code, kommune.name
                                ),
                            })
                        }
                    }
                }
                area
            }
        };
        let packages = model
            .packages
            .iter()
            .map(|p| {
                let share = p.phase_share(year);
                ActivePackage {
                    condition_mask: p.condition_mask,
                    min_conditions: p.min_conditions,
                    count_mask: p.count_mask,
                    count_top: p.count_top,
                    add: share * p.add,
                    factor: 1.0 + share * (p.multiply - 1.0),
                    worst_add: p.add.min(0.0),
                    worst_factor: p.multiply.min(1.0),
                }
            })
            .collect();
        let flags = match &terms {
            Some(terms) => terms.flag_bits as usize,
            None => model.conditions.len(),
        };
        let condition_mask = if flags >= 64 {
            u64::MAX
        } else {
            (1u64 << flags) - 1
        };
        Ok(YearTables {
            link: model.link,
            bytes,
            conditions,
            multimorbidity,
            area,
            packages,
            condition_mask,
            terms,
            mask_table: std::sync::OnceLock::new(),
        })
    }

    /// The raw need of person `i`.
    #[inline]
    pub fn person(&self, population: &Population, i: usize) -> PersonNeed {
        let base = self.base(population, i);
        self.with_packages(&base)
    }

    /// A person's raw need from their base need: the year's packages applied
    /// in file order, clipped at 0 (all parts are then 0).
    #[inline]
    pub fn with_packages(&self, base: &BaseNeed) -> PersonNeed {
        let mut raw = base.need;
        for (k, package) in self.packages.iter().enumerate() {
            if base.signature & (1 << k) != 0 {
                raw = (raw + package.add) * package.factor;
            }
        }
        let mut components = base.components;
        components.packages = raw - base.need;
        if raw < 0.0 {
            return PersonNeed {
                raw: 0.0,
                components: Components::default(),
                clipped: true,
            };
        }
        PersonNeed {
            raw,
            components,
            clipped: false,
        }
    }

    /// What each of the year's packages adds to a person's need, in the
    /// order they apply (`out[k]` for package `k`; 0 where the person does
    /// not qualify). The additions sum to `with_packages`' `packages`
    /// part up to rounding; `explain` and statements show them.
    pub fn package_effects(&self, base: &BaseNeed, out: &mut [f64]) {
        let mut raw = base.need;
        for (k, package) in self.packages.iter().enumerate() {
            let before = raw;
            if base.signature & (1 << k) != 0 {
                raw = (raw + package.add) * package.factor;
            }
            if let Some(slot) = out.get_mut(k) {
                *slot = raw - before;
            }
        }
    }

    /// What decides which persons `never_clipped_from` keeps one by one:
    /// each package's most negative addition and smallest factor. Two
    /// models with the same key and the same other coefficients share a
    /// basis.
    pub fn clip_key(&self) -> String {
        self.packages
            .iter()
            .map(|p| format!("{:?}/{:?}", p.worst_add, p.worst_factor))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The base need from which a person with this package signature is
    /// never clipped, in any year: packages apply `(r + add)·factor` with
    /// a phase share between 0 and 1, so the worst case is each package's
    /// most negative addition and smallest factor, taken backwards from
    /// the last package. 0 when no package can lower need; infinite when a
    /// factor of 0 precedes a negative addition.
    pub fn never_clipped_from(&self, signature: u32) -> f64 {
        let mut threshold = 0.0f64;
        for (k, package) in self.packages.iter().enumerate().rev() {
            if signature & (1 << k) == 0 {
                continue;
            }
            let before = if threshold > 0.0 {
                if package.worst_factor <= 0.0 {
                    return f64::INFINITY;
                }
                threshold / package.worst_factor
            } else {
                0.0
            };
            threshold = before - package.worst_add;
        }
        // A margin for rounding in the sequential products.
        if threshold > 0.0 {
            threshold * (1.0 + 1e-9) + f64::MIN_POSITIVE
        } else {
            0.0
        }
    }

    /// Number of care packages (signature bits).
    pub fn package_count(&self) -> usize {
        self.packages.len()
    }

    /// The map `r ↦ a·r + c` the year's packages apply to the base need of
    /// a person with this package signature (packages in file order).
    pub fn affine(&self, signature: u32) -> (f64, f64) {
        let (mut a, mut c) = (1.0, 0.0);
        for (k, package) in self.packages.iter().enumerate() {
            if signature & (1 << k) != 0 {
                a *= package.factor;
                c = (c + package.add) * package.factor;
            }
        }
        (a, c)
    }

    /// What a condition mask contributes: the condition terms (added in
    /// bit order), the multimorbidity term and the package signature
    /// (bit k = package k, whatever the year).
    #[inline]
    fn mask_terms(&self, mask: u64) -> MaskTerms {
        let mut conditions = 0.0;
        let mut bits = mask;
        while bits != 0 {
            conditions += self.conditions[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        MaskTerms {
            conditions,
            multimorbidity: self.multimorbidity[mask.count_ones() as usize],
            signature: self.signature(mask),
        }
    }

    /// Which packages a person with these flags qualifies for (bit k =
    /// package k, whatever the year); for format 2, the flags after
    /// hierarchies.
    #[inline]
    fn signature(&self, mask: u64) -> u32 {
        let mut signature = 0u32;
        for (k, package) in self.packages.iter().enumerate().take(32) {
            let qualifies = (mask & package.condition_mask) != 0
                || (package.min_conditions > 0
                    && (mask & package.count_mask)
                        .count_ones()
                        .min(package.count_top)
                        >= package.min_conditions);
            signature |= u32::from(qualifies) << k;
        }
        signature
    }

    /// A bound on the magnitude of every base need and part that `base`
    /// and `bases` give from these tables, for any person: with the
    /// identity link a format-1 base need is the sum of five parts, each
    /// a table entry (age and sex, area, multimorbidity), a sum of entries
    /// (socioeconomic) or a sum over the condition coefficients, so each
    /// is bounded by its tables' largest magnitudes and the need by their
    /// sum. `None` for format 2 and the log link, whose values the tables
    /// alone do not bound, and when an entry is not finite (the bound is
    /// then not finite either: the largest magnitude keeps a NaN). The
    /// bound is of the exact sums; a caller leaves room for the roundings
    /// of the at most 13 additions in `f64`.
    pub fn term_bound(&self) -> Option<f64> {
        /// The largest magnitude, or NaN if there is one.
        fn largest<'t>(t: impl IntoIterator<Item = &'t f64>) -> f64 {
            t.into_iter()
                .map(|v| v.abs())
                .fold(0.0, |m, v| if v > m || v.is_nan() { v } else { m })
        }
        if self.terms.is_some() || self.link != Link::Identity {
            return None;
        }
        let bytes = &self.bytes;
        let bound = largest(bytes.age_sex.iter().flatten())
            + [
                &bytes.education[..],
                &bytes.income_quintile,
                &bytes.labour,
                &bytes.origin,
                &bytes.lives_alone,
                &self.multimorbidity,
                &self.area,
            ]
            .iter()
            .map(|t| largest(*t))
            .sum::<f64>()
            + self.conditions.iter().map(|v| v.abs()).sum::<f64>();
        bound.is_finite().then_some(bound)
    }

    /// The terms of every condition mask, for looking up instead of
    /// recomputing per person: `None` for models with more than 16
    /// conditions (the table would outgrow the cache).
    pub fn mask_table(&self) -> Option<&MaskTable> {
        self.mask_table
            .get_or_init(|| self.make_mask_table())
            .as_ref()
    }

    fn make_mask_table(&self) -> Option<MaskTable> {
        let bits = self.condition_mask.count_ones();
        if bits > 16 {
            return None;
        }
        Some(match &self.terms {
            None => MaskTable::Fixed(
                (0..1u64 << bits)
                    .map(|mask| self.mask_terms(mask))
                    .collect(),
            ),
            Some(terms) => MaskTable::Terms(
                (0..1u64 << bits)
                    .map(|mask| self.flag_terms(terms, mask))
                    .collect(),
            ),
        })
    }

    /// The base needs of the persons `start..start + out.len()` (at most
    /// `BLOCK_PERSONS`), the masks' terms looked up in `table` when given:
    /// the same bits as `base` person by person. A format-2 model's terms
    /// are evaluated a term at a time over the block.
    pub fn bases(
        &self,
        table: Option<&MaskTable>,
        population: &Population,
        start: usize,
        out: &mut [BaseNeed],
    ) {
        let Some(terms) = &self.terms else {
            match table {
                Some(MaskTable::Fixed(entries)) => {
                    // Each base built in place (a call that returned it
                    // through the stack, copied out afterwards, stalled on
                    // the copy), from the block's columns sliced once.
                    let columns = Columns::of(population, start..start + out.len());
                    for (j, base) in out.iter_mut().enumerate() {
                        let mask = columns.conditions[j] & self.condition_mask;
                        *base = self.base_of(columns.row(j), self.fixed_terms(entries, mask));
                    }
                }
                _ => {
                    for (j, base) in out.iter_mut().enumerate() {
                        *base = self.base(population, start + j);
                    }
                }
            }
            return;
        };
        let n = out.len().min(BLOCK_PERSONS);
        let mut flags = [(FlagParts::default(), 0u32); BLOCK_PERSONS];
        let mut masks = [0u64; BLOCK_PERSONS];
        let entries = match table {
            Some(MaskTable::Terms(entries)) => entries.as_slice(),
            _ => &[],
        };
        for j in 0..n {
            let mask = population.conditions[start + j] & self.condition_mask;
            flags[j] = match entries.get(mask as usize) {
                Some(&entry) => entry,
                None => self.flag_terms(terms, mask),
            };
            masks[j] = flags[j].0.mask;
        }
        let mut parts = [[0.0; BLOCK_PERSONS]; 5];
        terms.block_parts(population, start, &masks[..n], &mut parts);
        for (j, base) in out.iter_mut().take(n).enumerate() {
            let (f, signature) = flags[j];
            let person = [
                parts[0][j],
                parts[1][j],
                parts[2][j],
                parts[3][j],
                parts[4][j],
            ];
            *base = self.finish(Components::of_terms(person, f.parts), signature);
        }
    }

    /// A format-2 flag mask's parts and package signature.
    fn flag_terms(&self, terms: &Compiled, mask: u64) -> (FlagParts, u32) {
        let parts = terms.flag_parts(mask);
        (parts, self.signature(parts.mask))
    }

    /// A format-2 person's base need from their flag mask's terms.
    #[inline(always)]
    fn base_terms(
        &self,
        terms: &Compiled,
        population: &Population,
        i: usize,
        (flags, signature): (FlagParts, u32),
    ) -> BaseNeed {
        let person = terms.person_parts(population, i, flags.mask);
        self.finish(Components::of_terms(person, flags.parts), signature)
    }

    /// Person `i`'s need before packages, its parts, and which packages
    /// the person qualifies for (bit k = package k, whatever the year).
    #[inline]
    pub fn base(&self, population: &Population, i: usize) -> BaseNeed {
        let mask = population.conditions[i] & self.condition_mask;
        match &self.terms {
            None => self.base_with(population, i, self.mask_terms(mask)),
            Some(terms) => self.base_terms(terms, population, i, self.flag_terms(terms, mask)),
        }
    }

    /// `base`, with the mask's terms looked up in `table` (built by
    /// `mask_table` from these tables). Gives the same bits as `base`.
    #[inline]
    pub fn base_from_table(
        &self,
        table: &MaskTable,
        population: &Population,
        i: usize,
    ) -> BaseNeed {
        let mask = population.conditions[i] & self.condition_mask;
        match (table, &self.terms) {
            (MaskTable::Fixed(entries), None) => {
                self.base_with(population, i, self.fixed_terms(entries, mask))
            }
            (MaskTable::Terms(entries), Some(terms)) => {
                let flags = match entries.get(mask as usize) {
                    Some(&flags) => flags,
                    None => self.flag_terms(terms, mask),
                };
                self.base_terms(terms, population, i, flags)
            }
            _ => self.base(population, i),
        }
    }

    /// A format-1 mask's terms from `mask_table`'s entries, or computed
    /// for a mask past them.
    #[inline(always)]
    fn fixed_terms(&self, entries: &[MaskTerms], mask: u64) -> MaskTerms {
        match entries.get(mask as usize) {
            Some(&terms) => terms,
            None => self.mask_terms(mask),
        }
    }

    #[inline(always)]
    fn base_with(&self, population: &Population, i: usize, terms: MaskTerms) -> BaseNeed {
        self.base_of(Columns::of(population, i..i + 1).row(0), terms)
    }

    /// A format-1 person's base need from their columns and their mask's
    /// terms.
    #[inline(always)]
    fn base_of(&self, row: Row, terms: MaskTerms) -> BaseNeed {
        let bytes = &*self.bytes;
        let sex = usize::from(row.sex.wrapping_sub(1) & 1);
        let age_sex = bytes.age_sex[sex][usize::from(row.age)];
        let socioeconomic = bytes.education[usize::from(row.education)]
            + bytes.income_quintile[usize::from(row.income_quintile)]
            + bytes.labour[usize::from(row.labour)]
            + bytes.origin[usize::from(row.origin)]
            + bytes.lives_alone[usize::from(row.lives_alone)];
        let MaskTerms {
            conditions,
            multimorbidity,
            signature,
        } = terms;
        let area = self.area[usize::from(row.kommune)];
        let terms = Components {
            age_sex,
            socioeconomic,
            conditions,
            multimorbidity,
            area,
            packages: 0.0,
        };
        self.finish(terms, signature)
    }

    /// The base need from the terms of the linear predictor, by component.
    #[inline(always)]
    fn finish(&self, terms: Components, signature: u32) -> BaseNeed {
        let eta = terms.age_sex
            + terms.socioeconomic
            + terms.conditions
            + terms.multimorbidity
            + terms.area;
        let (need, components) = match self.link {
            Link::Identity => (eta, terms),
            Link::Log => {
                let base = eta.exp();
                let components = if eta != 0.0 {
                    terms.scaled(base / eta)
                } else {
                    // No share of a zero predictor is defined: report the
                    // whole base need under age and sex.
                    Components {
                        age_sex: base,
                        ..Components::default()
                    }
                };
                (base, components)
            }
        };
        BaseNeed {
            need,
            components,
            signature,
        }
    }
}

/// The columns format 1's terms read, over some rows.
struct Columns<'a> {
    conditions: &'a [u64],
    sex: &'a [u8],
    age: &'a [u8],
    education: &'a [u8],
    income_quintile: &'a [u8],
    labour: &'a [u8],
    origin: &'a [u8],
    lives_alone: &'a [bool],
    kommune: &'a [u16],
}

impl<'a> Columns<'a> {
    #[inline(always)]
    fn of(p: &'a Population, rows: std::ops::Range<usize>) -> Columns<'a> {
        Columns {
            conditions: &p.conditions[rows.clone()],
            sex: &p.sex[rows.clone()],
            age: &p.age[rows.clone()],
            education: &p.education[rows.clone()],
            income_quintile: &p.income_quintile[rows.clone()],
            labour: &p.labour[rows.clone()],
            origin: &p.origin[rows.clone()],
            lives_alone: &p.lives_alone[rows.clone()],
            kommune: &p.kommune[rows],
        }
    }

    /// Row `j` of these rows.
    #[inline(always)]
    fn row(&self, j: usize) -> Row {
        Row {
            sex: self.sex[j],
            age: self.age[j],
            education: self.education[j],
            income_quintile: self.income_quintile[j],
            labour: self.labour[j],
            origin: self.origin[j],
            lives_alone: self.lives_alone[j],
            kommune: self.kommune[j],
        }
    }
}

/// The columns of one person that format 1's terms read.
#[derive(Debug, Clone, Copy)]
struct Row {
    sex: u8,
    age: u8,
    education: u8,
    income_quintile: u8,
    labour: u8,
    origin: u8,
    lives_alone: bool,
    kommune: u16,
}

/// The terms one condition mask contributes to a person's base need.
#[derive(Debug, Clone, Copy)]
pub struct MaskTerms {
    conditions: f64,
    multimorbidity: f64,
    signature: u32,
}

/// The terms of every mask of a model's flags: format 1's `MaskTerms`,
/// or a format-2 model's flag parts and package signature.
#[derive(Debug, Clone)]
pub enum MaskTable {
    Fixed(Vec<MaskTerms>),
    Terms(Vec<(FlagParts, u32)>),
}

/// A person's need before care packages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BaseNeed {
    pub need: f64,
    /// The parts of `need` (`packages` is 0).
    pub components: Components,
    /// Bit k set when the person qualifies for package k.
    pub signature: u32,
}
