//! The one pass over the persons: a `Basis` of year-independent sums per
//! row group, merged in file order, from which any year's clinic and
//! kommune sums follow (`Basis::year_sums`); then the scaling to weights by
//! the national mean raw need (`NeedSums::to_need`).
//!
//! Determinism: every sum over persons is exact (`exact`: each person's
//! value in fixed point, integers added), so it is the same whatever the
//! order of the rows, their split into row groups and pages, and the
//! thread count; sums become `f64` once, from the exact integers, and are
//! then combined in one fixed order (package signature, then clinic or
//! kommune index). Memory: one accumulator per clinic and package
//! signature per row group, and one entry per person whose need could be
//! clipped.

use crate::domain::Population;
use crate::exact::{
    add_square, fixed, to_f64, Moments, WordMoments, WordSums, WordTotal, LIMIT, SCALE_BITS, WORD,
    WORD_RUN,
};
use crate::prefetch::prefetch;
use crate::terms::BLOCK_PERSONS;
use crate::weights::{BaseNeed, Components, YearTables};
use rayon::prelude::*;

/// Sums over one clinic's persons, in raw-need units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClinicSums {
    pub n: u64,
    pub raw: f64,
    pub components: Components,
    /// Mean raw need of the clinic's persons.
    pub mean: f64,
    /// Sum of squared deviations from `mean`.
    pub m2: f64,
}

/// Count, mean and sum of squared deviations of two groups merged, the
/// later second (Chan, Golub and LeVeque's pairwise update).
fn chan_merge(a: (u64, f64, f64), b: (u64, f64, f64)) -> (u64, f64, f64) {
    let ((na, mean_a, m2_a), (nb, mean_b, m2_b)) = (a, b);
    if nb == 0 {
        return a;
    }
    if na == 0 {
        return b;
    }
    let n = na + nb;
    let delta = mean_b - mean_a;
    let mean = mean_a + delta * nb as f64 / n as f64;
    let m2 = m2_a + m2_b + delta * delta * na as f64 * nb as f64 / n as f64;
    (n, mean, m2)
}

/// The result of the pass, in raw-need units.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedSums {
    pub persons: u64,
    pub raw_total: f64,
    /// Persons whose raw need was below 0 and was clipped.
    pub clipped: u64,
    /// The first person (0-based row) whose raw need was not finite.
    pub first_non_finite: Option<usize>,
    pub clinics: Vec<ClinicSums>,
    pub kommune_residents: Vec<u64>,
    pub kommune_raw: Vec<f64>,
}

/// A clinic's need in weight units (national mean weight 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClinicNeed {
    pub n_patients: u64,
    /// Σ w over the clinic's persons.
    pub need: f64,
    /// `need / n`; `None` for a clinic with no persons.
    pub mean_weight: Option<f64>,
    /// Sample standard deviation of the weights; `None` below 2 persons.
    pub sd_weight: Option<f64>,
    pub components: Components,
}

/// Weights: the sums divided by the national mean raw need.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub persons: u64,
    pub mean_raw: f64,
    pub clipped: u64,
    pub clinics: Vec<ClinicNeed>,
    pub kommune_residents: Vec<u64>,
    pub kommune_need: Vec<f64>,
}

impl NeedSums {
    /// Scales to weights. `None` when the mean raw need is not above 0.
    pub fn to_need(&self) -> Option<Need> {
        if self.persons == 0 {
            return None;
        }
        let mean_raw = self.raw_total / self.persons as f64;
        if !(mean_raw > 0.0 && mean_raw.is_finite()) {
            return None;
        }
        let clinics = self
            .clinics
            .iter()
            .map(|s| {
                let need = s.raw / mean_raw;
                ClinicNeed {
                    n_patients: s.n,
                    need,
                    mean_weight: (s.n > 0).then(|| need / s.n as f64),
                    sd_weight: (s.n > 1).then(|| (s.m2 / (s.n - 1) as f64).sqrt() / mean_raw),
                    components: s.components.scaled(1.0 / mean_raw),
                }
            })
            .collect();
        Some(Need {
            persons: self.persons,
            mean_raw,
            clipped: self.clipped,
            clinics,
            kommune_residents: self.kommune_residents.clone(),
            kommune_need: self.kommune_raw.iter().map(|r| r / mean_raw).collect(),
        })
    }
}

/// Sums over the persons of one clinic who share a package signature, in
/// base-need (before packages) units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Group {
    n: u64,
    sum: f64,
    mean: f64,
    m2: f64,
}

impl Group {
    fn merge(&mut self, other: &Group) {
        (self.n, self.mean, self.m2) = chan_merge(
            (self.n, self.mean, self.m2),
            (other.n, other.mean, other.m2),
        );
        self.sum += other.sum;
    }
}

/// Bases kept across row groups: a worker takes a basis from the pool
/// (or makes one), adds a row group to it and gives it back, so no row
/// group makes and zeroes its own clinic × signature accumulators (37 MB
/// each with 18,230 clinics at scale 10). Which basis takes which row
/// group does not matter, since every sum is exact; `finish` merges them.
pub struct BasisPool<'a> {
    tables: &'a YearTables,
    n_clinics: usize,
    n_kommuner: usize,
    /// Whether a basis has been made (the first is made full).
    made: std::sync::atomic::AtomicBool,
    free: std::sync::Mutex<Vec<Basis>>,
}

impl<'a> BasisPool<'a> {
    pub fn new(tables: &'a YearTables, n_clinics: usize, n_kommuner: usize) -> Self {
        BasisPool {
            tables,
            n_clinics,
            n_kommuner,
            made: std::sync::atomic::AtomicBool::new(false),
            free: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Adds the persons in `rows` of `population`, whose index 0 is file
    /// row `first_row`.
    pub fn add(&self, population: &Population, rows: std::ops::Range<usize>, first_row: usize) {
        let lock = || self.free.lock().unwrap_or_else(|e| e.into_inner());
        let taken = lock().pop();
        // The first basis made has every signature's exact sums, the
        // others are lazy: `finish` merges them into the first.
        let mut basis = taken.unwrap_or_else(|| {
            let first = !self.made.swap(true, std::sync::atomic::Ordering::Relaxed);
            if first {
                Basis::empty(self.tables, self.n_clinics, self.n_kommuner)
            } else {
                Basis::lazy(self.tables, self.n_clinics, self.n_kommuner)
            }
        });
        basis.add_range(self.tables, population, rows, first_row);
        lock().push(basis);
    }

    /// Every person added, in one basis: the others merged into the one
    /// made first, which has every signature's exact sums (any order gives
    /// the same sums), their word sums settled straight into its exact
    /// sums, so one full set of them is ever made, not one per worker
    /// (`Basis::lazy`).
    pub fn finish(self) -> Basis {
        let mut parts = self.free.into_inner().unwrap_or_else(|e| e.into_inner());
        let full = parts
            .iter()
            .enumerate()
            .max_by_key(|(_, b)| b.groups.len())
            .map(|(i, _)| i);
        let Some(mut total) = full.map(|i| parts.swap_remove(i)) else {
            return Basis::empty(self.tables, self.n_clinics, self.n_kommuner);
        };
        total.settle();
        for part in parts {
            total.merge(part);
        }
        total
    }
}

/// A cache of per-group floats: per clinic (from `.0[c]` to `.0[c + 1]`)
/// its non-empty groups in signature order, as slot, floats and exact sum.
/// Never part of a basis's value (two bases are equal whether or not
/// either has made it).
#[derive(Debug, Clone, Default)]
struct GroupFloats(std::sync::OnceLock<ClinicGroups>);

/// Clinics' groups in one list: where each clinic's run starts (and, last,
/// where the list ends), and each group's slot, floats and exact sum.
type ClinicGroups = (Vec<usize>, Vec<(usize, Group, i128)>);

impl PartialEq for GroupFloats {
    fn eq(&self, _: &GroupFloats) -> bool {
        true
    }
}

/// Models with at most this many packages keep a slot for every package
/// signature from the start (2^8 = 256 slots, signature = slot); with more,
/// slots are made for the signatures that occur.
const DENSE_PACKAGES: usize = 8;

/// A person whose base need is below their signature's
/// `never_clipped_from`: some year's packages could take their need below
/// 0, and clipping is per person, so they are kept one by one.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Low {
    clinic: u32,
    kommune: u16,
    base: BaseNeed,
}

/// A basis's running sums of small values (`exact::WORD`) in machine
/// words, settled into its exact sums (`groups`, `clinic_parts`,
/// `kommune_groups`): half the memory traffic per person of adding to the
/// exact sums directly. A person without packages (signature 0, most of
/// them) touches one cache line of their clinic (`lines`: the parts and
/// the signature-0 group side by side) and a counter; others also touch
/// their group's `WordMoments`. A kommune's word sum also carries its
/// count, which settles into the exact count. Made for the first block
/// of small values; `Basis::settle` takes them.
#[derive(Debug, Clone, PartialEq)]
struct Words {
    /// Per clinic: the parts of every person and the signature-0 group.
    lines: Vec<ClinicLine>,
    /// Per clinic: persons in its line since it was settled (low byte,
    /// at most `WORD_RUN`) and how many of them have signature 0 (high
    /// byte).
    counts: Vec<u16>,
    /// The groups of signatures other than 0, slot-major as
    /// `Basis::groups` from slot 1: `groups[(slot - 1) * n_clinics + c]`.
    groups: Vec<WordMoments>,
    /// Full word sums of those groups, in the order they filled, for
    /// `Basis::settle` to add to the exact sums: a basis made by a pool
    /// (`Basis::lazy`) has no exact sums for those signatures until then.
    spills: Vec<Spill>,
    kommune: Vec<WordSums<1>>,
}

/// A full word sum of a signature other than 0, to be added to the exact
/// sums `Basis::groups[group]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spill {
    group: usize,
    words: WordMoments,
}

/// One clinic's word sums in one cache line: the parts of base need of its
/// persons and the count-less moments of those of signature 0 (their
/// count is the high byte of `Words::counts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(64))]
struct ClinicLine {
    squares: u128,
    sum: i64,
    parts: [i64; 5],
}

impl Words {
    fn new(slots: usize, n_clinics: usize, n_kommuner: usize) -> Words {
        Words {
            lines: vec![ClinicLine::default(); n_clinics],
            counts: vec![0; n_clinics],
            groups: vec![WordMoments::default(); slots.saturating_sub(1) * n_clinics],
            spills: Vec::new(),
            kommune: vec![WordSums::default(); slots * n_kommuner],
        }
    }
}

/// Moves clinic `c`'s line of word sums into the exact sums (its
/// signature-0 group is `groups[c]`).
#[inline]
fn settle_clinic(
    lines: &mut [ClinicLine],
    counts: &mut [u16],
    groups: &mut [Moments],
    parts: &mut [[i128; 5]],
    c: usize,
) {
    let line = std::mem::take(&mut lines[c]);
    let count = std::mem::take(&mut counts[c]);
    groups[c].add_words(u64::from(count >> 8), line.sum, line.squares);
    parts[c].take(&line.parts, u32::from(count & 0xff));
}

/// What `Basis::add_small_block`'s loop adds to: a basis's word sums and
/// exact sums, borrowed for one block. `holds` checks once for the
/// block that every index the loop will take is inside these slices, so
/// the loop takes them without a check each (seven checks a person, and
/// the loads of their bounds, were a fifth of the loop's instructions).
struct SmallSums<'s> {
    thresholds: &'s [f64],
    n_clinics: usize,
    n_kommuner: usize,
    lines: &'s mut [ClinicLine],
    counts: &'s mut [u16],
    word_groups: &'s mut [WordMoments],
    spills: &'s mut Vec<Spill>,
    word_kommune: &'s mut [WordSums<1>],
    /// Signature 0's exact sums (at least; `Basis::lazy`).
    groups: &'s mut [Moments],
    clinic_parts: &'s mut [[i128; 5]],
    kommune_groups: &'s mut [(u64, i128)],
    low: &'s mut Vec<Low>,
}

impl SmallSums<'_> {
    /// True when, for every person of the block, each index `add` takes
    /// is inside its slice: the clinic below `n_clinics`, the kommune
    /// below `n_kommuner` and the signature below the slots of
    /// `thresholds`, and the slices as long as those bounds make the
    /// indices (one pass of maxima over the block).
    fn holds(&self, block: &[BaseNeed], clinics: &[u32], kommuner: &[u16]) -> bool {
        let (n, k) = (self.n_clinics, self.n_kommuner);
        let slots = self.thresholds.len();
        let clinic = clinics.iter().fold(0, |m, &c| m.max(c)) as usize;
        let kommune = usize::from(kommuner.iter().fold(0, |m, &k| m.max(k)));
        let signature = block.iter().fold(0, |m, b| m.max(b.signature)) as usize;
        let sized = self.lines.len() >= n
            && self.counts.len() >= n
            && self.clinic_parts.len() >= n
            && self.groups.len() >= n
            && self.word_groups.len() >= slots.saturating_sub(1).saturating_mul(n)
            && self.word_kommune.len() >= slots.saturating_mul(k)
            && self.kommune_groups.len() >= slots.saturating_mul(k);
        block.is_empty()
            || (sized
                && clinics.len() == block.len()
                && kommuner.len() == block.len()
                && clinic < n
                && kommune < k
                && signature < slots)
    }

    /// Adds the block's persons, prefetching the word sums of the person
    /// `ahead` rows on when `PREFETCH`. Only after `holds` has returned
    /// true for the same block, clinics and kommuner.
    #[allow(unsafe_code)]
    #[inline(always)]
    fn add<const PREFETCH: bool>(
        self,
        small: SmallBlock,
        clinics: &[u32],
        kommuner: &[u16],
        ahead: usize,
    ) {
        let (n_clinics, n_kommuner) = (self.n_clinics, self.n_kommuner);
        let block = small.0;
        for (j, ((small, &c), &kommune)) in small.bases().zip(clinics).zip(kommuner).enumerate() {
            let base = small.0;
            if PREFETCH {
                if let (Some(later), Some(&c)) = (block.get(j + ahead), clinics.get(j + ahead)) {
                    let (c, slot) = (c as usize, later.signature as usize);
                    prefetch(self.lines.as_ptr().wrapping_add(c));
                    if slot != 0 {
                        let g = (slot - 1) * n_clinics + c;
                        prefetch(self.word_groups.as_ptr().wrapping_add(g));
                    }
                }
            }
            let slot = base.signature as usize;
            let c = c as usize;
            let k = slot * n_kommuner + usize::from(kommune);
            // SAFETY: `holds` checked for this block that `c < n_clinics`,
            // `kommune < n_kommuner` and `slot < thresholds.len()`, and
            // that `lines`, `counts`, `clinic_parts` and `groups` have at
            // least `n_clinics` entries (the loop takes `groups[c]`,
            // signature 0's, only), `word_groups` at least
            // `(slots - 1) * n_clinics` and
            // `word_kommune` and `kommune_groups` at least
            // `slots * n_kommuner`. So `thresholds[slot]`, `lines[c]`,
            // `counts[c]`, `kommune_groups[k]` and `word_kommune[k]`
            // (`k < (slot + 1) * n_kommuner`) are in bounds, and for
            // `slot ≥ 1`, `g - n_clinics` (`g = slot * n_clinics + c`) is
            // below `(slots - 1) * n_clinics`. The slices are borrowed
            // exclusively by `self`, so no other reference aliases them.
            unsafe {
                if base.need < *self.thresholds.get_unchecked(slot) {
                    self.low.push(Low {
                        clinic: c as u32,
                        kommune,
                        base: *base,
                    });
                    continue;
                }
                if u32::from(*self.counts.get_unchecked(c) & 0xff) == WORD_RUN {
                    settle_clinic(self.lines, self.counts, self.groups, self.clinic_parts, c);
                }
                let (x, parts) = small.fixed();
                let line = self.lines.get_unchecked_mut(c);
                for (sum, x) in line.parts.iter_mut().zip(parts) {
                    *sum += x;
                }
                let count = self.counts.get_unchecked_mut(c);
                if slot == 0 {
                    line.sum += x;
                    add_square(&mut line.squares, x);
                    *count += 0x101;
                } else {
                    *count += 1;
                    let g = slot * n_clinics + c;
                    let spills = &mut *self.spills;
                    self.word_groups
                        .get_unchecked_mut(g - n_clinics)
                        .push_or_hand(x, |words| spills.push(Spill { group: g, words }));
                }
                self.word_kommune
                    .get_unchecked_mut(k)
                    .push([x], self.kommune_groups.get_unchecked_mut(k));
            }
        }
    }
}

/// How many persons ahead `add_small_block` prefetches their clinic's word
/// sums: only when the words of the signatures other than 0 (`groups`
/// of them, 32 bytes each) outgrow what the caches hold, where a person's
/// clinic and signature would otherwise miss the cache (the shuffled file
/// at scale 10: 18,230 clinics and 31 such signatures, 18 MB); below that
/// the prefetch only costs.
fn prefetch_ahead(groups: usize) -> Option<usize> {
    (groups * std::mem::size_of::<WordMoments>() > 8 << 20).then_some(16)
}

/// A block of base needs whose need and parts are all below `WORD` in
/// magnitude (so finite) and whose signatures all have a slot, checked
/// when it is made.
struct SmallBlock<'a>(&'a [BaseNeed]);

impl<'a> SmallBlock<'a> {
    /// `None` unless every value is below `WORD` in magnitude and every
    /// signature below `slots`.
    fn new(block: &'a [BaseNeed], slots: usize) -> Option<SmallBlock<'a>> {
        let small = block.iter().fold(true, |ok, base| {
            let parts = base.components.terms();
            ok & (base.need.abs() < WORD)
                & parts.iter().fold(true, |ok, v| ok & (v.abs() < WORD))
                & ((base.signature as usize) < slots)
        });
        small.then_some(SmallBlock(block))
    }

    /// A block that `YearTables::bases` has just made from tables whose
    /// `term_bound` is below `WORD / 2`, for a dense basis: every value is
    /// then below `WORD` and every signature has a slot by construction,
    /// so the block is not checked again (except in debug builds). This
    /// saves `new`'s sweep, an eighth of the pass over persons when
    /// measured alone (6% of it in the end).
    fn of_bounded_tables(block: &'a [BaseNeed], slots: usize) -> SmallBlock<'a> {
        debug_assert!(SmallBlock::new(block, slots).is_some());
        SmallBlock(block)
    }

    /// Each base of the block, whose need and parts `Small::fixed` gives
    /// at the fixed scale.
    #[inline(always)]
    fn bases(&self) -> impl Iterator<Item = Small<'a>> + 'a {
        self.0.iter().map(Small)
    }
}

/// A base need of a `SmallBlock`: every value below `WORD` in magnitude.
#[derive(Clone, Copy)]
struct Small<'a>(&'a BaseNeed);

impl Small<'_> {
    /// The need and parts at the fixed scale: `fixed`'s integers, by the
    /// hardware's truncating conversion alone. `as i64` gives the same
    /// integers, but its compares for values out of range (saturating)
    /// made the pass over persons a fifth slower.
    #[allow(unsafe_code)]
    #[inline(always)]
    fn fixed(self) -> (i64, [i64; 5]) {
        let scale = 2f64.powi(SCALE_BITS);
        // SAFETY: a `Small` is only made by `SmallBlock::bases`, and
        // every value of a `SmallBlock` was checked in `new` to be below
        // `WORD` (2^24) in magnitude, so finite, or made by `bases` from
        // tables whose terms bound it below `WORD / 2` plus the roundings
        // of a few additions (`of_bounded_tables`); times 2^32 it is
        // below 2^56 in magnitude, and truncated it is an `i64`, which is
        // all that `to_int_unchecked` requires. The block is borrowed
        // immutably for the life of the `Small`, so the values cannot
        // have changed.
        let convert = move |v: f64| unsafe { (v * scale).to_int_unchecked::<i64>() };
        let base = self.0;
        (convert(base.need), base.components.terms().map(convert))
    }
}

/// Everything about the persons that does not depend on the year: per
/// package signature and clinic the count, sum and spread of base need,
/// per clinic the parts of base need, per signature and kommune count and
/// sum, and the persons who could be clipped (`Low`). Since a year's
/// packages map base need affinely per signature, any year's clinic sums
/// follow from this without another pass over persons.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    n_clinics: usize,
    n_kommuner: usize,
    /// The signature of each slot.
    signatures: Vec<u32>,
    /// `signatures` is every signature in order (slot = signature).
    dense: bool,
    /// Slot-major: `groups[slot * n_clinics + clinic]`, base need exact.
    groups: Vec<Moments>,
    /// Per clinic, the exact sums of the parts of base need (age_sex,
    /// socioeconomic, conditions, multimorbidity, area).
    clinic_parts: Vec<[i128; 5]>,
    /// Slot-major: `kommune_groups[slot * n_kommuner + kommune]`.
    kommune_groups: Vec<(u64, i128)>,
    /// In row order.
    low: Vec<Low>,
    /// Running sums in machine words, settled into the exact ones above
    /// (`settle`) before any could overflow and before the basis is read;
    /// `None` while there are none.
    words: Option<Words>,
    /// Each group's count, sum, mean and spread as `f64`, made once from
    /// the exact sums when a year's sums are first asked for (they do not
    /// depend on the year; a batch of scenarios asks for many years).
    floats: GroupFloats,
    pub persons: u64,
    pub first_non_finite: Option<usize>,
}

impl Basis {
    /// An empty basis for a model's packages.
    pub fn empty(tables: &YearTables, n_clinics: usize, n_kommuner: usize) -> Basis {
        Basis::empty_with(tables, n_clinics, n_kommuner, usize::MAX)
    }

    /// An empty basis with exact sums of `groups` for the first
    /// `group_slots` slots (at most every slot).
    fn empty_with(
        tables: &YearTables,
        n_clinics: usize,
        n_kommuner: usize,
        group_slots: usize,
    ) -> Basis {
        let packages = tables.package_count();
        let dense = packages <= DENSE_PACKAGES;
        let signatures: Vec<u32> = if dense {
            (0..1u32 << packages).collect()
        } else {
            Vec::new()
        };
        let slots = signatures.len();
        Basis {
            n_clinics,
            n_kommuner,
            signatures,
            dense,
            groups: vec![Moments::default(); group_slots.min(slots) * n_clinics],
            clinic_parts: vec![[0; 5]; n_clinics],
            kommune_groups: vec![(0, 0); slots * n_kommuner],
            low: Vec::new(),
            words: None,
            floats: GroupFloats::default(),
            persons: 0,
            first_non_finite: None,
        }
    }

    /// An empty basis whose exact sums for signatures other than 0 are
    /// made when it is settled (`full_groups`): until then its persons of
    /// those signatures are in word sums (`Words`), handed on when full
    /// (`Spill`). A pool's workers after the first hold one through the
    /// pass, each touching a signature-0 array (1,874 clinics: 120 KB)
    /// instead of every signature's (3.84 MB), and the pool's `finish`
    /// merges them into the first, full one: fresh memory is what a run
    /// pays the kernel to zero (about 0.9 ms of CPU per megabyte on the
    /// benchmark machine).
    fn lazy(tables: &YearTables, n_clinics: usize, n_kommuner: usize) -> Basis {
        // A basis that is not dense starts with no slots, so it is full.
        Basis::empty_with(tables, n_clinics, n_kommuner, 1)
    }

    /// `groups` for every slot (a `lazy` basis has signature 0's only).
    fn full_groups(&mut self) {
        let full = self.signatures.len() * self.n_clinics;
        if self.groups.len() < full {
            self.groups.resize(full, Moments::default());
        }
    }

    /// The slot of `signature`, made when it is new.
    fn slot(&mut self, signature: u32) -> usize {
        if self.dense {
            return signature as usize;
        }
        if let Some(slot) = self.signatures.iter().position(|&s| s == signature) {
            return slot;
        }
        self.signatures.push(signature);
        self.groups
            .resize(self.signatures.len() * self.n_clinics, Moments::default());
        self.kommune_groups
            .resize(self.signatures.len() * self.n_kommuner, (0, 0));
        self.signatures.len() - 1
    }

    /// One parallel pass over held persons, row group by row group (the
    /// population's `row_groups`), so the sums are the same whether the
    /// file was read whole or streamed a row group at a time.
    pub fn new(
        tables: &YearTables,
        population: &Population,
        n_clinics: usize,
        n_kommuner: usize,
    ) -> Basis {
        let pool = BasisPool::new(tables, n_clinics, n_kommuner);
        population
            .row_group_ranges()
            .par_iter()
            .for_each(|rows| pool.add(population, rows.clone(), 0));
        pool.finish()
    }

    /// Adds the persons in `rows` to this basis, summed in row order on
    /// one thread. Every sum is exact, so a basis may take row groups in
    /// any order (`BasisPool` keeps one per worker across the row groups
    /// it reads); `first_row` is the file row of `population`'s index 0,
    /// for `first_non_finite`, which keeps the earliest.
    fn add_range(
        &mut self,
        tables: &YearTables,
        population: &Population,
        rows: std::ops::Range<usize>,
        first_row: usize,
    ) {
        self.floats = GroupFloats::default();
        let earlier = self.first_non_finite.take();
        let (n_clinics, n_kommuner) = (self.n_clinics, self.n_kommuner);
        let part = self;
        let mut thresholds: Vec<f64> = part
            .signatures
            .iter()
            .map(|&s| tables.never_clipped_from(s))
            .collect();
        // A table of the flag masks' terms pays off over many persons
        // (made once per year's tables, shared by the row groups).
        let table = (rows.len() > 1 << 12)
            .then(|| tables.mask_table())
            .flatten();
        // Tables that bound every value below `WORD` spare the check of
        // each block of small values.
        let bounded = tables.term_bound().is_some_and(|b| b < WORD / 2.0);
        let mut block = [BaseNeed::default(); BLOCK_PERSONS];
        let mut start = rows.start;
        while start < rows.end {
            let n = (rows.end - start).min(BLOCK_PERSONS);
            tables.bases(table, population, start, &mut block[..n]);
            if part.add_small_block(&thresholds, bounded, population, start, &block[..n]) {
                start += n;
                continue;
            }
            // The general loop adds to every signature's exact sums.
            part.full_groups();
            for (j, &base) in block[..n].iter().enumerate() {
                let i = start + j;
                let b = base.need;
                part.persons += 1;
                let parts = base.components.terms();
                let in_range = |v: f64| v.is_finite() && v.abs() < LIMIT;
                if !(in_range(b) && parts.iter().all(|&v| in_range(v))) {
                    // An error for the whole run; kept out of the sums.
                    if part.first_non_finite.is_none() {
                        part.first_non_finite = Some(i + first_row);
                    }
                    continue;
                }
                let slot = part.slot(base.signature);
                if slot == thresholds.len() {
                    thresholds.push(tables.never_clipped_from(base.signature));
                }
                let c = population.clinic[i] as usize;
                let kommune = population.kommune[i];
                if b < thresholds[slot] {
                    part.low.push(Low {
                        clinic: c as u32,
                        kommune,
                        base,
                    });
                    continue;
                }
                let x = fixed(b);
                part.groups[slot * n_clinics + c].push(x);
                for (sum, v) in part.clinic_parts[c].iter_mut().zip(parts) {
                    *sum += fixed(v);
                }
                let k = slot * n_kommuner + usize::from(kommune);
                part.kommune_groups[k].0 += 1;
                part.kommune_groups[k].1 += x;
            }
            start += n;
        }
        let found = part.first_non_finite;
        part.first_non_finite = match (earlier, found) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// The common case of `add_range`'s loop for a block of persons: when
    /// every value is below `WORD` in magnitude (so finite) and every
    /// slot already exists, one check for the block (`SmallBlock`), then
    /// each value converted by the hardware alone and added in machine
    /// words (`Words`). Returns false, having added nothing, when the
    /// block needs the general loop.
    #[inline]
    fn add_small_block(
        &mut self,
        thresholds: &[f64],
        bounded: bool,
        population: &Population,
        start: usize,
        block: &[BaseNeed],
    ) -> bool {
        let small = match (self.dense, bounded) {
            (false, _) => None,
            (true, true) => Some(SmallBlock::of_bounded_tables(block, thresholds.len())),
            (true, false) => SmallBlock::new(block, thresholds.len()),
        };
        let Some(small) = small else {
            return false;
        };
        let (n_clinics, n_kommuner) = (self.n_clinics, self.n_kommuner);
        let slots = self.signatures.len();
        let words = self
            .words
            .get_or_insert_with(|| Words::new(slots, n_clinics, n_kommuner));
        let rows = start..start + block.len();
        let sums = SmallSums {
            thresholds,
            n_clinics,
            n_kommuner,
            lines: &mut words.lines,
            counts: &mut words.counts,
            word_groups: &mut words.groups,
            spills: &mut words.spills,
            word_kommune: &mut words.kommune,
            groups: &mut self.groups,
            clinic_parts: &mut self.clinic_parts,
            kommune_groups: &mut self.kommune_groups,
            low: &mut self.low,
        };
        let (clinics, kommuner) = (&population.clinic[rows.clone()], &population.kommune[rows]);
        if !sums.holds(block, clinics, kommuner) {
            return false;
        }
        match prefetch_ahead(sums.word_groups.len()) {
            None => sums.add::<false>(small, clinics, kommuner, 0),
            Some(ahead) => sums.add::<true>(small, clinics, kommuner, ahead),
        }
        self.persons += block.len() as u64;
        true
    }

    /// Moves the running sums in machine words into the exact sums, made
    /// for every slot first (`full_groups`).
    fn settle(&mut self) {
        self.full_groups();
        let Some(mut words) = self.words.take() else {
            return;
        };
        for c in 0..words.lines.len() {
            settle_clinic(
                &mut words.lines,
                &mut words.counts,
                &mut self.groups,
                &mut self.clinic_parts,
                c,
            );
        }
        let other_slots = self.groups.iter_mut().skip(self.n_clinics);
        for (mut w, total) in words.groups.into_iter().zip(other_slots) {
            w.settle(total);
        }
        for mut spill in words.spills {
            if let Some(total) = self.groups.get_mut(spill.group) {
                spill.words.settle(total);
            }
        }
        for (mut w, total) in words.kommune.into_iter().zip(&mut self.kommune_groups) {
            w.settle(total);
        }
    }

    /// Adds the basis of other persons (rows in both are file rows) of
    /// the same tables: its exact sums (as far as it has made them,
    /// `lazy`) to these, then its word sums settled into these.
    fn merge(&mut self, mut part: Basis) {
        self.settle();
        let words = part.words.take();
        self.floats = GroupFloats::default();
        for (slot_part, &signature) in part.signatures.iter().enumerate() {
            let slot = self.slot(signature);
            let (c0, p0) = (slot * self.n_clinics, slot_part * part.n_clinics);
            // A lazy part's signatures past 0 have no exact sums yet: their
            // persons are all in its word sums.
            let made = part.groups.get(p0..p0 + part.n_clinics).unwrap_or(&[]);
            for (a, b) in self.groups[c0..c0 + self.n_clinics].iter_mut().zip(made) {
                a.merge(b);
            }
            let (k0, q0) = (slot * self.n_kommuner, slot_part * part.n_kommuner);
            for (a, b) in self.kommune_groups[k0..k0 + self.n_kommuner]
                .iter_mut()
                .zip(&part.kommune_groups[q0..q0 + part.n_kommuner])
            {
                a.0 += b.0;
                a.1 += b.1;
            }
        }
        for (a, b) in self.clinic_parts.iter_mut().zip(&part.clinic_parts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.low.extend_from_slice(&part.low);
        self.persons += part.persons;
        // The earliest row, whichever order parts come in.
        self.first_non_finite = match (self.first_non_finite, part.first_non_finite) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Word sums exist only in dense bases, whose slots are the same
        // signatures in the same order as these (`empty`), and are sized
        // for the same clinics and kommuner.
        if let Some(words) = words {
            self.words = Some(words);
            self.settle();
        }
    }

    /// The sums of one year, whose packages are in `tables`: the groups
    /// mapped affinely per signature (in signature order), then the
    /// persons who could be clipped one by one, in row order.
    pub fn year_sums(&self, tables: &YearTables) -> NeedSums {
        let mut order: Vec<usize> = (0..self.signatures.len()).collect();
        order.sort_by_key(|&slot| self.signatures[slot]);
        let maps: Vec<(f64, f64)> = self.signatures.iter().map(|&s| tables.affine(s)).collect();
        let n_clinics = self.n_clinics;
        // The persons who could be clipped, into exact sums per clinic and
        // kommune (their order does not matter).
        let mut low_raw = vec![Moments::default(); n_clinics];
        let mut low_base = vec![0i128; n_clinics];
        let mut parts = self.clinic_parts.clone();
        let mut low_kommune = vec![(0u64, 0i128); self.n_kommuner];
        let mut clipped = 0u64;
        for low in &self.low {
            let need = tables.with_packages(&low.base);
            let c = low.clinic as usize;
            clipped += u64::from(need.clipped);
            let raw = fixed(need.raw.clamp(-LIMIT, LIMIT));
            if !need.clipped {
                low_base[c] += fixed(low.base.need);
                for (sum, v) in parts[c].iter_mut().zip(low.base.components.terms()) {
                    *sum += fixed(v);
                }
            }
            low_raw[c].push(raw);
            let k = usize::from(low.kommune);
            low_kommune[k].0 += 1;
            low_kommune[k].1 += raw;
        }
        let mut combined = vec![Group::default(); n_clinics];
        let mut base_sums = vec![0.0; n_clinics];
        let floats = self.floats.0.get_or_init(|| {
            // Per clinic, the non-empty groups in signature order, made a
            // block of clinics at a time on the pool, each slot's row of
            // the block read in one run (the groups are slot-major). The
            // groups are first counted, so the list is made once at its
            // full size and each block fills its own part of it: lists
            // grown per clinic took 3 ms of 43,204 groups at scale 1,
            // most of it in the allocator's lock.
            const CLINICS: usize = 64;
            let slots = self.signatures.len();
            let mut counts = vec![0usize; n_clinics];
            counts
                .par_chunks_mut(CLINICS)
                .enumerate()
                .for_each(|(block, counts)| {
                    let first = block * CLINICS;
                    for slot in 0..slots {
                        let row = &self.groups[slot * n_clinics + first..][..counts.len()];
                        for (count, g) in counts.iter_mut().zip(row) {
                            *count += usize::from(g.n > 0);
                        }
                    }
                });
            let mut starts = Vec::with_capacity(n_clinics + 1);
            let mut total = 0;
            for count in &counts {
                starts.push(total);
                total += count;
            }
            starts.push(total);
            let mut groups = vec![(0, Group::default(), 0); total];
            let mut parts = Vec::with_capacity(n_clinics.div_ceil(CLINICS));
            let mut rest = groups.as_mut_slice();
            for first in (0..n_clinics).step_by(CLINICS) {
                let end = (first + CLINICS).min(n_clinics);
                let (part, later) = rest.split_at_mut(starts[end] - starts[first]);
                parts.push((first..end, part));
                rest = later;
            }
            parts.into_par_iter().for_each(|(clinics, part)| {
                let base = starts[clinics.start];
                let mut at: Vec<usize> = starts[clinics.clone()].iter().map(|s| s - base).collect();
                for &slot in &order {
                    let row = &self.groups[slot * n_clinics + clinics.start..][..clinics.len()];
                    for (at, g) in at.iter_mut().zip(row).filter(|(_, g)| g.n > 0) {
                        let floats = Group {
                            n: g.n,
                            sum: g.total(),
                            mean: g.mean(),
                            m2: g.m2(),
                        };
                        part[*at] = (slot, floats, g.sum);
                        *at += 1;
                    }
                }
            });
            (starts, groups)
        });
        let (starts, groups) = floats;
        // Each clinic's groups combined in signature order, clinics side
        // by side on the pool.
        let each_clinic = combined.par_iter_mut().zip(&mut base_sums).enumerate();
        each_clinic.for_each(|(c, (combined, base_sum))| {
            let mut base_exact = low_base[c];
            for &(slot, g, exact) in &groups[starts[c]..starts[c + 1]] {
                let (a, shift) = maps[slot];
                base_exact += exact;
                let n = g.n as f64;
                combined.merge(&Group {
                    n: g.n,
                    sum: a * g.sum + shift * n,
                    mean: a * g.mean + shift,
                    m2: a * a * g.m2,
                });
            }
            let low = &low_raw[c];
            if low.n > 0 {
                combined.merge(&Group {
                    n: low.n,
                    sum: low.total(),
                    mean: low.mean(),
                    m2: low.m2(),
                });
            }
            *base_sum = to_f64(base_exact);
        });
        let mut kommune_residents = vec![0u64; self.n_kommuner];
        let mut kommune_raw = vec![0.0; self.n_kommuner];
        for k in 0..self.n_kommuner {
            for &slot in &order {
                let (a, shift) = maps[slot];
                let (n, sum) = self.kommune_groups[slot * self.n_kommuner + k];
                kommune_residents[k] += n;
                kommune_raw[k] += a * to_f64(sum) + shift * n as f64;
            }
            kommune_residents[k] += low_kommune[k].0;
            kommune_raw[k] += to_f64(low_kommune[k].1);
        }
        let mut raw_total = 0.0;
        let clinics = combined
            .iter()
            .zip(&base_sums)
            .zip(parts)
            .map(|((combined, base_sum), exact)| {
                let [age_sex, socioeconomic, conditions, multimorbidity, area] = exact.map(to_f64);
                raw_total += combined.sum;
                ClinicSums {
                    n: combined.n,
                    raw: combined.sum,
                    components: Components {
                        age_sex,
                        socioeconomic,
                        conditions,
                        multimorbidity,
                        area,
                        packages: combined.sum - base_sum,
                    },
                    mean: combined.mean,
                    m2: combined.m2,
                }
            })
            .collect();
        NeedSums {
            persons: self.persons,
            raw_total,
            clipped,
            first_non_finite: self.first_non_finite,
            clinics,
            kommune_residents,
            kommune_raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::fixed;

    /// The reference model (five packages, so 32 dense signatures), its
    /// tables for 2031 (every package applies) and the built-in geography.
    fn reference_2031() -> (crate::model::Model, crate::domain::Geography, YearTables) {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/reference-2027.toml"
        ));
        let model = crate::model::Model::load(path).unwrap().model;
        let geography = crate::ingest::geography::built_in().unwrap();
        let tables = YearTables::new(&model, &geography, 2031, path).unwrap();
        // The small-value path of the pass is the one taken.
        assert!(tables.term_bound().unwrap() < WORD / 2.0);
        assert!(tables.package_count() <= DENSE_PACKAGES);
        (model, geography, tables)
    }

    /// A second implementation of the pass: person by person, straight
    /// into the exact sums (`Moments::push`, `fixed`), no word sums.
    fn exact_pass(
        tables: &YearTables,
        population: &Population,
        n_clinics: usize,
        n_kommuner: usize,
    ) -> Basis {
        let mut exact = Basis::empty(tables, n_clinics, n_kommuner);
        for i in 0..population.len() {
            let base = tables.base(population, i);
            let (slot, c) = (base.signature as usize, population.clinic[i] as usize);
            let kommune = population.kommune[i];
            exact.persons += 1;
            if base.need < tables.never_clipped_from(base.signature) {
                exact.low.push(Low {
                    clinic: c as u32,
                    kommune,
                    base,
                });
                continue;
            }
            let x = fixed(base.need);
            exact.groups[slot * n_clinics + c].push(x);
            for (sum, v) in exact.clinic_parts[c]
                .iter_mut()
                .zip(base.components.terms())
            {
                *sum += fixed(v);
            }
            let k = &mut exact.kommune_groups[slot * n_kommuner + usize::from(kommune)];
            k.0 += 1;
            k.1 += x;
        }
        exact
    }

    /// `basis` holds exactly `exact`'s sums (the persons who could be
    /// clipped in any order).
    fn assert_same_sums(basis: &Basis, exact: &Basis) {
        assert_eq!(basis.persons, exact.persons);
        assert_eq!(basis.groups, exact.groups);
        assert_eq!(basis.clinic_parts, exact.clinic_parts);
        assert_eq!(basis.kommune_groups, exact.kommune_groups);
        let order = |low: &[Low]| {
            let mut keys: Vec<_> = low
                .iter()
                .map(|l| (l.clinic, l.kommune, l.base.need.to_bits()))
                .collect();
            keys.sort_unstable();
            keys
        };
        assert_eq!(order(&basis.low), order(&exact.low));
    }

    /// The word sums (each clinic's line of parts and signature-0 moments,
    /// its counters, the other signatures' words, the kommune words)
    /// settle to exactly the sums of `exact_pass`: the fixture's 61,000
    /// persons in a few dozen clinics, so each clinic's line settles many
    /// times, in a year where all five packages apply.
    #[test]
    fn word_sums_settle_to_a_pass_into_the_exact_sums() {
        let (model, geography, tables) = reference_2031();
        let spec = crate::synth::SynthSpec::fixture(3);
        let (population, clinics, _) = crate::synth::generate(&spec, &model, &geography).unwrap();
        let (n_clinics, n_kommuner) = (clinics.clinic_id.len(), geography.kommuner.len());
        let basis = Basis::new(&tables, &population, n_clinics, n_kommuner);
        let exact = exact_pass(&tables, &population, n_clinics, n_kommuner);
        assert_eq!(basis.persons, 61_000);
        let signatures = exact.groups.iter().enumerate().filter(|(_, g)| g.n > 0);
        let used: std::collections::BTreeSet<usize> =
            signatures.map(|(g, _)| g / n_clinics).collect();
        assert!(used.len() > 8, "signatures used: {used:?}");
        assert!(
            exact.groups[..n_clinics]
                .iter()
                .any(|g| g.n > 4 * u64::from(WORD_RUN)),
            "some clinic's line settles several times"
        );
        assert_same_sums(&basis, &exact);
    }

    /// A lazy basis (signature 0's exact sums only, full word sums of the
    /// others handed on in a list) merged with a full one, either way
    /// round, holds the exact sums of both halves of the persons.
    #[test]
    fn a_lazy_basis_merges_to_the_exact_sums() {
        let (model, geography, tables) = reference_2031();
        let spec = crate::synth::SynthSpec::fixture(6);
        let (mut population, clinics, _) =
            crate::synth::generate(&spec, &model, &geography).unwrap();
        let (n_clinics, n_kommuner) = (clinics.clinic_id.len(), geography.kommuner.len());
        // Four clinics take everyone, so many word sums fill.
        for c in population.clinic.iter_mut() {
            *c %= 4;
        }
        let exact = exact_pass(&tables, &population, n_clinics, n_kommuner);
        let half = population.len() / 2;
        for lazy_first in [false, true] {
            let mut full = Basis::empty(&tables, n_clinics, n_kommuner);
            let mut lazy = Basis::lazy(&tables, n_clinics, n_kommuner);
            assert_eq!(lazy.groups.len(), n_clinics);
            let (a, b) = if lazy_first {
                (0..half, half..population.len())
            } else {
                (half..population.len(), 0..half)
            };
            full.add_range(&tables, &population, a, 0);
            lazy.add_range(&tables, &population, b, 0);
            let spills = lazy.words.as_ref().map_or(0, |w| w.spills.len());
            assert!(spills >= 5, "full word sums handed on: {spills}");
            assert_eq!(lazy.groups.len(), n_clinics, "still lazy after the pass");
            let merged = if lazy_first {
                lazy.merge(full);
                lazy
            } else {
                full.merge(lazy);
                full
            };
            assert_same_sums(&merged, &exact);
        }
    }

    /// A number below `n` from a linear congruential generator's `state`,
    /// stepped first.
    fn draw(state: &mut u64, n: usize) -> usize {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((*state >> 33) % n as u64) as usize
    }

    /// A year's sums over 20,000 clinics, most with a few persons and some
    /// with none (the group floats are made in blocks of 64 clinics, each
    /// filling its own part of one list): every clinic gets the count,
    /// sum and spread of its own persons, as a plain pass over them gives.
    #[test]
    fn year_sums_over_many_clinics_match_a_plain_pass() {
        let (model, geography, tables) = reference_2031();
        let spec = crate::synth::SynthSpec::fixture(4);
        let (mut population, _, _) = crate::synth::generate(&spec, &model, &geography).unwrap();
        let (n_clinics, n_kommuner) = (20_000, geography.kommuner.len());
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for c in population.clinic.iter_mut() {
            *c = draw(&mut state, n_clinics) as u32;
        }
        let sums = Basis::new(&tables, &population, n_clinics, n_kommuner).year_sums(&tables);
        let mut persons = vec![Vec::new(); n_clinics];
        for i in 0..population.len() {
            persons[population.clinic[i] as usize].push(tables.person(&population, i).raw);
        }
        assert!(
            persons.iter().any(Vec::is_empty),
            "some clinic has no persons"
        );
        assert_eq!(sums.clinics.len(), n_clinics);
        for (c, (got, raw)) in sums.clinics.iter().zip(&persons).enumerate() {
            let total: f64 = raw.iter().sum();
            let mean = total / raw.len().max(1) as f64;
            let m2: f64 = raw.iter().map(|r| (r - mean).powi(2)).sum();
            assert_eq!(got.n, raw.len() as u64, "clinic {c}");
            assert!(
                (got.raw - total).abs() <= 1e-9 * total.abs().max(1.0),
                "clinic {c}"
            );
            assert!(
                (got.m2 - m2).abs() <= 1e-7 * m2.max(1.0),
                "clinic {c}: {} vs {m2}",
                got.m2
            );
        }
    }

    /// The same with 20,000 clinics, whose word sums pass the size from
    /// which the pass prefetches (`prefetch_ahead`), and persons in no
    /// order of clinic or kommune: the fixture's persons each given a
    /// clinic and a kommune drawn at random, in row groups of 4,096.
    #[test]
    fn word_sums_with_prefetching_settle_to_the_exact_sums() {
        let (model, geography, tables) = reference_2031();
        let spec = crate::synth::SynthSpec::fixture(4);
        let (mut population, _, _) = crate::synth::generate(&spec, &model, &geography).unwrap();
        let (n_clinics, n_kommuner) = (20_000, geography.kommuner.len());
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..population.len() {
            population.clinic[i] = draw(&mut state, n_clinics) as u32;
            population.kommune[i] = draw(&mut state, n_kommuner) as u16;
        }
        population.row_groups = vec![4_096; population.len() / 4_096];
        population.row_groups.push(population.len() % 4_096);
        let slots = 1 << tables.package_count();
        assert!(prefetch_ahead((slots - 1) * n_clinics).is_some());
        let basis = Basis::new(&tables, &population, n_clinics, n_kommuner);
        let exact = exact_pass(&tables, &population, n_clinics, n_kommuner);
        assert_same_sums(&basis, &exact);
    }

    #[test]
    fn a_small_block_converts_as_fixed_does() {
        // Values up to the edge of `WORD`, both signs, in every place of a
        // base: the hardware conversion gives `fixed`'s integers.
        let edge = WORD - WORD * f64::EPSILON;
        let values = [
            0.0, -0.0, 1.5, -1.5, 1739.17, -2e-10, 1e-12, 123456.789, edge, -edge,
        ];
        let block: Vec<BaseNeed> = (0..values.len())
            .map(|k| {
                let v = |j: usize| values[(k + j) % values.len()];
                BaseNeed {
                    need: v(0),
                    components: Components {
                        age_sex: v(1),
                        socioeconomic: v(2),
                        conditions: v(3),
                        multimorbidity: v(4),
                        area: v(5),
                        packages: 0.0,
                    },
                    signature: 0,
                }
            })
            .collect();
        let small = SmallBlock::new(&block, 1).expect("every value below WORD");
        for small in small.bases() {
            let (base, (x, parts)) = (small.0, small.fixed());
            assert_eq!(i128::from(x), fixed(base.need));
            for (got, v) in parts.iter().zip(base.components.terms()) {
                assert_eq!(i128::from(*got), fixed(v), "{v}");
            }
        }
        // A value at `WORD`, or not finite, anywhere makes no small block.
        for bad in [WORD, -WORD, f64::NAN, f64::INFINITY] {
            let mut with_bad = block.clone();
            with_bad[3].components.area = bad;
            assert!(SmallBlock::new(&with_bad, 1).is_none(), "{bad}");
            with_bad[3].components.area = 0.0;
            with_bad[7].need = bad;
            assert!(SmallBlock::new(&with_bad, 1).is_none(), "{bad}");
        }
        // Nor does a signature without a slot.
        let mut new_signature = block.clone();
        new_signature[5].signature = 1;
        assert!(SmallBlock::new(&new_signature, 1).is_none());
        assert!(SmallBlock::new(&new_signature, 2).is_some());
    }

    /// `SmallSums::holds` accepts a block whose largest clinic, kommune
    /// and signature are the last their slices hold, and refuses a block
    /// with any of them one past, or a word sum shorter than its bounds
    /// make the indices: the loop's unchecked indexing is only reached
    /// with indices inside.
    #[test]
    fn small_sums_hold_only_indices_inside_their_slices() {
        let (n, k, slots) = (3, 2, 4);
        let thresholds = vec![f64::NEG_INFINITY; slots];
        let mut words = Words::new(slots, n, k);
        let mut groups = vec![Moments::default(); slots * n];
        let mut parts = vec![[0i128; 5]; n];
        let mut kommune_groups = vec![(0u64, 0i128); slots * k];
        let mut low = Vec::new();
        let mut block = vec![BaseNeed::default(); 2];
        block[0].signature = 3;
        let mut check = |shorter: usize, block: &[BaseNeed], clinics: &[u32], kommuner: &[u16]| {
            let sums = SmallSums {
                thresholds: &thresholds,
                n_clinics: n,
                n_kommuner: k,
                lines: &mut words.lines,
                counts: &mut words.counts,
                word_groups: &mut words.groups[shorter..],
                spills: &mut words.spills,
                word_kommune: &mut words.kommune,
                groups: &mut groups,
                clinic_parts: &mut parts,
                kommune_groups: &mut kommune_groups,
                low: &mut low,
            };
            sums.holds(block, clinics, kommuner)
        };
        assert!(check(0, &block, &[2, 0], &[1, 0]));
        assert!(check(0, &[], &[], &[]));
        assert!(
            !check(0, &block, &[3, 0], &[1, 0]),
            "a clinic past the lines"
        );
        assert!(
            !check(0, &block, &[2, 0], &[1, 2]),
            "a kommune past the sums"
        );
        assert!(
            !check(0, &block, &[2], &[1, 0]),
            "fewer clinics than persons"
        );
        assert!(!check(1, &block, &[2, 0], &[1, 0]), "word groups too short");
        block[1].signature = 4;
        assert!(
            !check(0, &block, &[2, 0], &[1, 0]),
            "a signature past the slots"
        );
    }
}
