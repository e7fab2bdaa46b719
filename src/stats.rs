//! Quantiles, defined once. Two rules are in use and each call site names
//! its rule: the evaluation's and the scenarios' distributions
//! (`fit::evaluate::quantiles`) take the value at the rounded index
//! `round(p·(n−1))`; the report's bands of proposals per capacity take the
//! nearest rank `⌈p·n⌉`. Both are documented in the outputs they make;
//! unifying them would change those outputs.

/// How a quantile picks among sorted values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The value of rank `⌈p·n⌉` (1-based, at least 1).
    NearestRank,
    /// The value at index `round(p·(n−1))` (0-based).
    RoundedIndex,
}

/// The `p`-quantile of values sorted ascending; `None` when there are none.
pub fn quantile(sorted: &[f64], p: f64, rule: Rule) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let index = match rule {
        Rule::NearestRank => ((p * n as f64).ceil() as usize).clamp(1, n) - 1,
        Rule::RoundedIndex => ((p * (n - 1) as f64).round() as usize).min(n - 1),
    };
    Some(sorted[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_rules_by_hand() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // Nearest rank: ⌈0.5·4⌉ = 2 → 2.0; ⌈0.95·4⌉ = 4 → 4.0.
        assert_eq!(quantile(&v, 0.5, Rule::NearestRank), Some(2.0));
        assert_eq!(quantile(&v, 0.95, Rule::NearestRank), Some(4.0));
        assert_eq!(quantile(&v, 0.0, Rule::NearestRank), Some(1.0));
        // Rounded index: round(0.5·3) = 2 → 3.0; round(0.25·3) = 1 → 2.0.
        assert_eq!(quantile(&v, 0.5, Rule::RoundedIndex), Some(3.0));
        assert_eq!(quantile(&v, 0.25, Rule::RoundedIndex), Some(2.0));
        assert_eq!(quantile(&v, 1.0, Rule::RoundedIndex), Some(4.0));
        assert_eq!(quantile(&[], 0.5, Rule::NearestRank), None);
    }
}
