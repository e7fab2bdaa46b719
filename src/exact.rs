//! Exact sums of per-person values, so that a sum over persons does not
//! depend on their order, on how they are split into row groups, or on the
//! thread count.
//!
//! Each value is converted once to a fixed-point integer at the binary
//! scale 2^-32 (`fixed`: truncated; 2^-32 ≈ 2.3e-10 of the unit, far below
//! any output's precision); sums are of integers, and integer
//! addition is associative and commutative, so any order gives the same
//! bits. Sums of squares are kept exactly in 256 bits. Only at the end is a
//! sum turned back into an `f64`, once, from the exact integer.
//!
//! Range: a value's magnitude must be below `LIMIT` (2^60); the sums then
//! fit (`i128` for 2^30 values; 256 bits for their squares).

/// Fractional bits of the fixed-point scale.
pub const SCALE_BITS: i32 = 32;
/// The largest magnitude a value may have (2^60).
pub const LIMIT: f64 = 1_152_921_504_606_846_976.0;

/// A value at the fixed scale, truncated toward zero (an error below
/// 2^-32 of the unit; any fixed rule would do, what matters is that a
/// value always gives the same integer). Callers check `v.abs() < LIMIT`
/// and finiteness first.
#[inline]
pub fn fixed(v: f64) -> i128 {
    let y = v * 2f64.powi(SCALE_BITS);
    // Below 2^63 (values below 2^31 units, all realistic needs) the
    // hardware conversion to i64; the same integer as the general one.
    if y.abs() < 9_223_372_036_854_775_808.0 {
        i128::from(y as i64)
    } else {
        y as i128
    }
}

/// Values below this magnitude (2^24) are below 2^56 at the fixed scale,
/// so `WORD_RUN` of them sum within an `i64` and their squares within a
/// `u128`: the sums in machine words (`WordMoments`, `WordSums`) that are
/// settled into the exact ones before they could overflow.
pub const WORD: f64 = 16_777_216.0;
/// How many values below `WORD` a word sum takes before it is settled
/// (2^7 · 2^56 = 2^63; 2^7 · 2^112 < 2^128).
pub const WORD_RUN: u32 = 128;

/// `Moments` of at most `WORD_RUN` values `fixed(v)` with `|v| < WORD`
/// (as `i64`), in machine words: the same integers, settled into a
/// `Moments` when full and at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordMoments {
    squares: u128,
    sum: i64,
    n: u32,
}

impl WordMoments {
    /// Adds `x`, first settling into `total` when full.
    #[inline(always)]
    pub fn push(&mut self, x: i64, total: &mut Moments) {
        self.push_or_hand(x, |mut full| full.settle(total));
    }

    /// Adds `x`, first handing the full word sum to `full` (and starting
    /// anew) when it holds `WORD_RUN` values.
    #[inline(always)]
    pub fn push_or_hand(&mut self, x: i64, full: impl FnOnce(WordMoments)) {
        if self.n == WORD_RUN {
            full(std::mem::take(self));
        }
        self.n += 1;
        self.sum += x;
        add_square(&mut self.squares, x);
    }

    /// Moves the values into `total`.
    pub fn settle(&mut self, total: &mut Moments) {
        total.add_words(u64::from(self.n), self.sum, self.squares);
        *self = WordMoments::default();
    }
}

/// Adds the square of `x` (`fixed(v)` with `|v| < WORD`, as `i64`) to a
/// sum of squares in a machine word.
#[inline(always)]
pub fn add_square(squares: &mut u128, x: i64) {
    let m = u128::from(x.unsigned_abs());
    *squares += m * m;
}

/// `K` sums of at most `WORD_RUN` values each, `fixed(v)` with
/// `|v| < WORD` (as `i64`), in machine words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordSums<const K: usize> {
    sums: [i64; K],
    n: u32,
}

impl<const K: usize> Default for WordSums<K> {
    fn default() -> Self {
        WordSums { sums: [0; K], n: 0 }
    }
}

impl<const K: usize> WordSums<K> {
    /// Adds one value to each sum, first settling into `total` when full.
    #[inline(always)]
    pub fn push(&mut self, xs: [i64; K], total: &mut impl WordTotal<K>) {
        if self.n == WORD_RUN {
            self.settle(total);
        }
        self.n += 1;
        for (sum, x) in self.sums.iter_mut().zip(xs) {
            *sum += x;
        }
    }

    /// Moves the sums (and, where `total` counts, the count) into `total`.
    pub fn settle(&mut self, total: &mut impl WordTotal<K>) {
        total.take(&self.sums, self.n);
        *self = WordSums::default();
    }
}

/// Exact sums that `WordSums` settle into.
pub trait WordTotal<const K: usize> {
    /// Adds `sums`, of `n` values each.
    fn take(&mut self, sums: &[i64; K], n: u32);
}

/// `K` exact sums.
impl<const K: usize> WordTotal<K> for [i128; K] {
    fn take(&mut self, sums: &[i64; K], _: u32) {
        for (total, &x) in self.iter_mut().zip(sums) {
            *total += i128::from(x);
        }
    }
}

/// An exact count and sum: the word sum's count is the values' count.
impl WordTotal<1> for (u64, i128) {
    fn take(&mut self, sums: &[i64; 1], n: u32) {
        self.0 += u64::from(n);
        self.1 += i128::from(sums[0]);
    }
}

/// A fixed-point sum as an `f64` (one rounding).
#[inline]
pub fn to_f64(x: i128) -> f64 {
    x as f64 * 2f64.powi(-SCALE_BITS)
}

/// An unsigned 256-bit integer, for sums of squares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct U256 {
    pub hi: u128,
    pub lo: u128,
}

impl U256 {
    /// `a × b` in full.
    pub fn mul(a: u128, b: u128) -> U256 {
        let mask = u128::from(u64::MAX);
        let (a1, a0) = (a >> 64, a & mask);
        let (b1, b0) = (b >> 64, b & mask);
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        // Middle terms, each below 2^128; their sum may carry.
        let (middle, carry) = p01.overflowing_add(p10);
        let (lo, c1) = p00.overflowing_add(middle << 64);
        let hi = p11 + (middle >> 64) + (u128::from(carry) << 64) + u128::from(c1);
        U256 { hi, lo }
    }

    pub fn plus(self, other: U256) -> U256 {
        let (lo, carry) = self.lo.overflowing_add(other.lo);
        U256 {
            hi: self.hi + other.hi + u128::from(carry),
            lo,
        }
    }

    /// `self − other`, for `self ≥ other`.
    pub fn minus(self, other: U256) -> U256 {
        let (lo, borrow) = self.lo.overflowing_sub(other.lo);
        U256 {
            hi: self.hi - other.hi - u128::from(borrow),
            lo,
        }
    }

    /// `self × n` (the caller keeps it within 256 bits).
    pub fn mul_small(self, n: u64) -> U256 {
        let low = U256::mul(self.lo, u128::from(n));
        U256 {
            hi: low.hi + self.hi * u128::from(n),
            lo: low.lo,
        }
    }

    /// As an `f64` (deterministic roundings).
    pub fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }
}

/// Count, sum and sum of squares of fixed-point values, exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moments {
    pub n: u64,
    pub sum: i128,
    pub squares: U256,
}

impl Moments {
    /// Adds one fixed-point value.
    #[inline]
    pub fn push(&mut self, x: i128) {
        self.n += 1;
        self.sum += x;
        let m = x.unsigned_abs();
        let square = if m <= u128::from(u64::MAX) {
            // One 64 × 64 → 128-bit product.
            U256 { hi: 0, lo: m * m }
        } else {
            U256::mul(m, m)
        };
        self.squares = self.squares.plus(square);
    }

    /// Adds `n` values whose sum and sum of squares were run in machine
    /// words (`WordMoments`, or a word sum that keeps its count elsewhere).
    #[inline]
    pub fn add_words(&mut self, n: u64, sum: i64, squares: u128) {
        self.n += n;
        self.sum += i128::from(sum);
        self.squares = self.squares.plus(U256 { hi: 0, lo: squares });
    }

    pub fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum += other.sum;
        self.squares = self.squares.plus(other.squares);
    }

    /// The sum as an `f64`.
    pub fn total(&self) -> f64 {
        to_f64(self.sum)
    }

    /// The mean (0 for no values).
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.total() / self.n as f64
        }
    }

    /// The sum of squared deviations from the mean: `(n·Σx² − (Σx)²) / n`,
    /// the numerator exact, then one conversion and one division.
    pub fn m2(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let s = self.sum.unsigned_abs();
        let square_of_sum = U256::mul(s, s);
        let n_squares = self.squares.mul_small(self.n);
        let numerator = if n_squares >= square_of_sum {
            n_squares.minus(square_of_sum)
        } else {
            U256::default()
        };
        numerator.to_f64() / self.n as f64 * 2f64.powi(-2 * SCALE_BITS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_products_and_sums() {
        let big = u128::MAX;
        let p = U256::mul(big, big);
        // (2^128 − 1)^2 = 2^256 − 2^129 + 1.
        assert_eq!(p.lo, 1);
        assert_eq!(p.hi, u128::MAX - 1);
        let q = U256::mul(3u128 << 100, 5u128 << 90);
        assert_eq!(q.hi, 15u128 << 62);
        assert_eq!(q.lo, 0);
        let a = U256 {
            hi: 1,
            lo: u128::MAX,
        };
        assert_eq!(a.plus(U256 { hi: 0, lo: 1 }), U256 { hi: 2, lo: 0 });
        assert_eq!(U256 { hi: 2, lo: 0 }.minus(U256 { hi: 0, lo: 1 }), a);
        assert_eq!(U256 { hi: 1, lo: 7 }.mul_small(3), U256 { hi: 3, lo: 21 });
    }

    #[test]
    fn moments_do_not_depend_on_order() {
        let values = [1234.5678, -3.25, 1e9 + 0.125, 0.0, 77.0, 1e-7, 5e11];
        let mut forward = Moments::default();
        let mut backward = Moments::default();
        for &v in &values {
            forward.push(fixed(v));
        }
        for &v in values.iter().rev() {
            backward.push(fixed(v));
        }
        assert_eq!(forward, backward);
        let mut split = Moments::default();
        let mut rest = Moments::default();
        for (k, &v) in values.iter().enumerate() {
            if k % 2 == 0 {
                split.push(fixed(v));
            } else {
                rest.push(fixed(v));
            }
        }
        split.merge(&rest);
        assert_eq!(split, forward);
        // The spread against a two-pass computation.
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let m2: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        assert!(
            (forward.m2() - m2).abs() <= 1e-12 * m2,
            "{} vs {m2}",
            forward.m2()
        );
        assert!((forward.mean() - mean).abs() <= 1e-12 * mean.abs());
    }

    /// `fixed(v)` of a value below `WORD`, as the word sums take it.
    fn word(v: f64) -> i64 {
        i64::try_from(fixed(v)).unwrap()
    }

    #[test]
    fn a_value_in_words_is_the_same_moments() {
        let edge = WORD - WORD * f64::EPSILON;
        for v in [
            0.0, -0.0, 1.5, -1.5, 1739.17, -2e-10, 1e-12, 123456.789, edge, -edge,
        ] {
            let (mut a, mut b) = (Moments::default(), Moments::default());
            a.push(fixed(v));
            let mut words = WordMoments::default();
            words.push(word(v), &mut b);
            words.settle(&mut b);
            assert_eq!(a, b, "{v}");
        }
    }

    #[test]
    fn word_sums_settle_to_the_exact_sums() {
        // The largest values the word sums take, both signs, over many
        // runs: the same integers as adding to the exact sums directly.
        let edge = WORD - WORD * f64::EPSILON;
        // Runs of one sign longer than `WORD_RUN` (a sum that overflowed
        // would panic here), then mixed values.
        let values: Vec<f64> = (0..1000)
            .map(|k| match k {
                0..300 => edge,
                300..600 => -edge,
                _ if k % 3 == 0 => -edge,
                _ => edge * (k as f64 / 1000.0),
            })
            .collect();
        let (mut exact, mut total) = (Moments::default(), Moments::default());
        let mut words = WordMoments::default();
        let (mut exact_sums, mut total_sums) = ([0i128; 2], [0i128; 2]);
        let mut word_sums = WordSums::<2>::default();
        for (k, &v) in values.iter().enumerate() {
            exact.push(fixed(v));
            words.push(word(v), &mut total);
            let pair = [word(v), -word(v)];
            exact_sums[0] += fixed(v);
            exact_sums[1] -= fixed(v);
            word_sums.push(pair, &mut total_sums);
            if k == 700 {
                // Settling early changes nothing either.
                words.settle(&mut total);
                word_sums.settle(&mut total_sums);
            }
        }
        words.settle(&mut total);
        word_sums.settle(&mut total_sums);
        assert_eq!(total, exact);
        assert_eq!(total_sums, exact_sums);
        // Settled word sums are empty.
        assert_eq!(words, WordMoments::default());
        assert_eq!(word_sums, WordSums::default());
    }

    #[test]
    fn equal_values_have_no_spread() {
        let mut m = Moments::default();
        for _ in 0..1000 {
            m.push(fixed(1234.56789));
        }
        assert_eq!(m.m2(), 0.0);
    }
}
