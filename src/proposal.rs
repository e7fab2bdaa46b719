//! From need to minimum-patient-count proposals (SPEC section 4): the
//! national reference load, the raw count, floor and ceiling, the
//! transition cap, rounding, the uncertainty interval and the flags.
//!
//! Pure and per clinic: each clinic's proposal depends only on its own
//! numbers and on `L`, so clinics can be computed in any order.

use crate::aggregate::ClinicNeed;
use crate::model::ProposalRules;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The flags of SPEC section 4, in the order they are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub capped: bool,
    pub uncertain: bool,
    pub dialogue: bool,
    pub vulnerable_area: bool,
    pub empty: bool,
}

impl Flags {
    /// How many of these proposals carry each flag, by flag name.
    pub fn counts(proposals: &[Proposal]) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for p in proposals {
            for (on, name) in p.flags.named() {
                *counts.entry(name).or_insert(0) += usize::from(on);
            }
        }
        counts
    }

    /// Each flag with its name, in the order they are written.
    pub fn named(self) -> [(bool, &'static str); 5] {
        [
            (self.capped, "capped"),
            (self.uncertain, "uncertain"),
            (self.dialogue, "dialogue"),
            (self.vulnerable_area, "vulnerable_area"),
            (self.empty, "empty"),
        ]
    }

    /// The flags of a `;`-separated text (unknown names are ignored).
    pub fn from_text(text: &str) -> Flags {
        let on = |name: &str| text.split(';').any(|f| f.trim() == name);
        Flags {
            capped: on("capped"),
            uncertain: on("uncertain"),
            dialogue: on("dialogue"),
            vulnerable_area: on("vulnerable_area"),
            empty: on("empty"),
        }
    }

    /// `;`-separated text, e.g. `capped;uncertain`; empty when none.
    pub fn to_text(self) -> String {
        self.named()
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// What a clinic brings to its proposal besides its need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClinicInput {
    pub capacities: f64,
    pub previous_min_patients: f64,
    pub vulnerable_area: bool,
}

/// Every step of one clinic's proposal, so it can be explained.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Proposal {
    /// Step 1: `d·L·f / mean_weight`.
    pub raw: Option<f64>,
    /// Step 2: after floor and ceiling per capacity.
    pub after_limits: Option<f64>,
    /// Step 3: after the transition cap.
    pub after_cap: Option<f64>,
    /// Step 4: rounded; the proposal.
    pub min_patients: Option<i64>,
    /// Step 5: the interval of step 1 from the uncertainty of the mean
    /// weight; `raw_upper` is `None` when the interval reaches a mean
    /// weight of 0 or below (no upper bound).
    pub raw_lower: Option<f64>,
    pub raw_upper: Option<f64>,
    /// The Student-t quantile used.
    pub t_quantile: Option<f64>,
    pub change: Option<f64>,
    pub change_pct: Option<f64>,
    pub flags: Flags,
}

/// The national reference load `L`: need-weighted citizens per capacity.
/// Σ w over all persons is the number of persons by construction.
pub fn reference_load(persons: u64, capacity_total: f64) -> f64 {
    persons as f64 / capacity_total
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (`None`
/// for 0). Below `T_TABLE` it is looked up in the table `build.rs`
/// computes with `t_quantile_975_computed`; past it the inverse CDF, the
/// costliest step of a proposal, is computed once and remembered by
/// degrees of freedom (a clinic's list size is the same in every year and
/// scenario over one population).
pub fn t_quantile_975(df: u64) -> Option<f64> {
    if let Some(q) = tabulated(df) {
        return Some(q).filter(|q| q.is_finite());
    }
    if let Some(q) = t_memo().read().ok().and_then(|m| m.get(&df).copied()) {
        return q;
    }
    let q = t_quantile_975_computed(df);
    if let Ok(mut m) = t_memo().write() {
        m.insert(df, q);
    }
    q
}

/// Computes the quantiles of every degrees of freedom in `dfs` not yet
/// remembered, side by side on the pool, and remembers them: the
/// proposals that follow find them all, with no lock held while a
/// quantile is computed (clinic by clinic, the two cores of a national
/// run waited on each other's lock and computed one list size at a time).
pub fn remember_t_quantiles_975(dfs: impl Iterator<Item = u64>) {
    use rayon::prelude::*;
    let mut missing: Vec<u64> = match t_memo().read() {
        Ok(memo) => dfs
            .filter(|&df| tabulated(df).is_none() && !memo.contains_key(&df))
            .collect(),
        Err(_) => return,
    };
    missing.sort_unstable();
    missing.dedup();
    let computed: Vec<(u64, Option<f64>)> = missing
        .into_par_iter()
        .map(|df| (df, t_quantile_975_computed(df)))
        .collect();
    if let Ok(mut memo) = t_memo().write() {
        memo.extend(computed);
    }
}

// `T975_BITS[df]`: `t_quantile_975_computed(df)` as bits for `df` from 1
// to `T_TABLE - 1`, computed by `build.rs` with the same function.
include!(concat!(env!("OUT_DIR"), "/t975.rs"));

/// Degrees of freedom below this are looked up in `T975_BITS`.
pub const T_TABLE: usize = T975_BITS.len();

/// The table's quantile for `df`, when the table covers it (1 to
/// `T_TABLE - 1`).
fn tabulated(df: u64) -> Option<f64> {
    let bits = *T975_BITS.get(usize::try_from(df).ok()?)?;
    (df > 0).then(|| f64::from_bits(bits))
}

/// The spread and degrees of freedom of a clinic's interval (step 5), when
/// it has one: a standard deviation of its weights and at least two
/// patients.
pub fn interval_inputs(need: &ClinicNeed) -> Option<(f64, u64)> {
    let sd = need.sd_weight?;
    (need.n_patients > 1).then(|| (sd, need.n_patients - 1))
}

/// The quantiles computed so far (past the table), by degrees of freedom.
fn t_memo() -> &'static std::sync::RwLock<std::collections::HashMap<u64, Option<f64>>> {
    static MEMO: std::sync::OnceLock<
        std::sync::RwLock<std::collections::HashMap<u64, Option<f64>>>,
    > = std::sync::OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// The quantile from `statrs`'s inverse CDF (`build.rs` tabulates the
/// same call).
fn t_quantile_975_computed(df: u64) -> Option<f64> {
    StudentsT::new(0.0, 1.0, df as f64)
        .ok()
        .map(|t| t.inverse_cdf(0.975))
        .filter(|q| q.is_finite())
}

/// Rounds half away from zero to a multiple of `step`.
pub fn round_to_multiple(value: f64, step: i64) -> i64 {
    let step_f = step as f64;
    ((value / step_f).round() * step_f) as i64
}

/// The proposal for one clinic.
pub fn propose(
    need: &ClinicNeed,
    clinic: &ClinicInput,
    load: f64,
    rules: &ProposalRules,
) -> Proposal {
    let d = clinic.capacities;
    let previous = clinic.previous_min_patients;
    let f = rules.closing_fraction;
    let mut flags = Flags {
        vulnerable_area: clinic.vulnerable_area,
        ..Flags::default()
    };
    let Some(mean_weight) = need.mean_weight else {
        flags.empty = true;
        return Proposal {
            flags,
            ..Proposal::default()
        };
    };

    // Step 1. A clinic whose patients carry no need at all has an
    // unbounded raw count; the limits below may still bound it.
    let raw = d * load * f / mean_weight;

    // Step 2: clamp raw/d to [min, max] per capacity, replacing the value
    // only when a limit binds so an unclamped count keeps every bit.
    let mut value = raw;
    if rules.min_per_capacity > 0.0 && value / d < rules.min_per_capacity {
        value = rules.min_per_capacity * d;
    }
    if rules.max_per_capacity > 0.0 && value / d > rules.max_per_capacity {
        value = rules.max_per_capacity * d;
    }
    let after_limits = value;

    // Step 3: the transition cap, each bound only when switched on.
    if rules.max_decrease >= 0.0 {
        let lower = previous * (1.0 - rules.max_decrease);
        if value < lower {
            value = lower;
            flags.capped = true;
        }
    }
    if rules.max_increase >= 0.0 {
        let upper = previous * (1.0 + rules.max_increase);
        if value > upper {
            value = upper;
            flags.capped = true;
        }
    }
    let after_cap = value;

    // Step 4.
    let min_patients = value
        .is_finite()
        .then(|| round_to_multiple(value, rules.round_to));

    // Step 5: the interval of step 1 from mean_weight ± q·s/√n.
    let n = need.n_patients;
    let (mut raw_lower, mut raw_upper, mut t_quantile) = (None, None, None);
    match interval_inputs(need) {
        Some((sd, df)) => {
            let q = t_quantile_975(df);
            t_quantile = q;
            let half = q.unwrap_or(f64::INFINITY) * sd / (n as f64).sqrt();
            let lower = d * load * f / (mean_weight + half);
            raw_lower = lower.is_finite().then_some(lower);
            let upper_weight = mean_weight - half;
            raw_upper = (upper_weight > 0.0).then(|| d * load * f / upper_weight);
            flags.uncertain = match raw_upper {
                Some(upper) if raw.is_finite() && raw > 0.0 => {
                    (upper - lower) / raw > rules.uncertainty_threshold
                }
                _ => true,
            };
        }
        None => flags.uncertain = true,
    }

    // Step 6.
    let (mut change, mut change_pct) = (None, None);
    if let Some(count) = min_patients {
        let count = count as f64;
        flags.dialogue = count > (1.0 + rules.dialogue_threshold) * previous.max(n as f64);
        change = Some(count - previous);
        change_pct = (previous > 0.0).then(|| 100.0 * (count - previous) / previous);
    }

    Proposal {
        raw: Some(raw),
        after_limits: Some(after_limits),
        after_cap: Some(after_cap),
        min_patients,
        raw_lower,
        raw_upper,
        t_quantile,
        change,
        change_pct,
        flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_to_multiple(1455.0, 10), 1460);
        assert_eq!(round_to_multiple(1454.999, 10), 1450);
        assert_eq!(round_to_multiple(1465.0, 10), 1470);
        assert_eq!(round_to_multiple(25.0, 50), 50);
        assert_eq!(round_to_multiple(-15.0, 10), -20);
        assert_eq!(round_to_multiple(1234.5, 1), 1235);
    }

    /// The table `build.rs` writes is the quantile function, bit for bit,
    /// for every degrees of freedom it covers; past it the quantile is
    /// computed (and remembered, in bulk too).
    #[test]
    fn t_quantile_table_is_the_computed_quantiles() {
        assert_eq!(T_TABLE, 16_384);
        for df in 1..T_TABLE as u64 {
            let computed = t_quantile_975_computed(df);
            assert_eq!(
                t_quantile_975(df).map(f64::to_bits),
                computed.map(f64::to_bits),
                "df {df}"
            );
            assert!(computed.is_some_and(|q| q > 1.959 && q < 12.71), "df {df}");
        }
        assert_eq!(t_quantile_975(0), None);
        remember_t_quantiles_975([T_TABLE as u64 + 7, 40_000, 40_000].into_iter());
        for df in [T_TABLE as u64, T_TABLE as u64 + 7, 40_000] {
            let q = t_quantile_975(df);
            assert_eq!(
                q.map(f64::to_bits),
                t_quantile_975_computed(df).map(f64::to_bits)
            );
            assert!(
                q.is_some_and(|q| q > 1.95996 && q < 1.9603),
                "df {df}: {q:?}"
            );
        }
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Values from any table of Student's t, two-sided 95%.
        for (df, expected) in [
            (1, 12.706),
            (2, 4.303),
            (10, 2.228),
            (30, 2.042),
            (1000, 1.962),
        ] {
            let q = t_quantile_975(df).unwrap();
            assert!((q - expected).abs() < 1e-3, "df {df}: {q}");
        }
    }

    #[test]
    fn flags_text_order() {
        let flags = Flags {
            capped: true,
            empty: true,
            dialogue: true,
            ..Flags::default()
        };
        assert_eq!(flags.to_text(), "capped;dialogue;empty");
        assert_eq!(Flags::default().to_text(), "");
    }
}
