//! Floats as CSV text: Rust's `Display` form (the shortest digits that
//! read back to the same `f64`, closest to its value, written out in
//! plain decimal, never with an exponent), produced faster.
//!
//! `ryu` finds the same shortest, closest digits several times faster
//! than the standard library, but writes them in another form (`1.0`,
//! `1e16`, `1.5e-7`), which is rewritten here. The two differ only in
//! which of two equally close shortest digit strings they choose: ryu
//! takes the even one, the standard library the one above. Such a tie
//! needs a value whose exact decimal expansion ends one digit after the
//! shortest (at most 18 significant digits), so every value whose
//! expansion is longer than 19 digits takes ryu's digits and every other
//! value (integers, halves, short binary fractions) takes the standard
//! library's text itself.

use std::fmt::Write as _;

/// Appends `x` as `format!("{x}")` would.
pub fn push_f64(text: &mut String, x: f64, buffer: &mut ryu::Buffer) {
    if !(x.is_finite() && long_expansion(x)) {
        // Writing into a String cannot fail.
        let _ = write!(text, "{x}");
        return;
    }
    let ryu_text = buffer.format_finite(x);
    let (negative, unsigned) = match ryu_text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, ryu_text),
    };
    let (mantissa, exponent) = match unsigned.split_once('e') {
        // ryu writes the exponent as an integer that fits any f64's.
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let fraction = if fraction == "0" { "" } else { fraction };
    if negative {
        text.push('-');
    }
    if exponent == 0 {
        text.push_str(whole);
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
        return;
    }
    // Digits `whole` then `fraction`, with the decimal point `point`
    // digits from their start.
    let digits = whole.len() + fraction.len();
    let point = whole.len() as i64 + i64::from(exponent);
    let digit = |k: usize| {
        if k < whole.len() {
            whole.as_bytes()[k] as char
        } else {
            fraction.as_bytes()[k - whole.len()] as char
        }
    };
    if point <= 0 {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', (-point) as usize));
        text.extend((0..digits).map(digit));
    } else if point as usize >= digits {
        text.extend((0..digits).map(digit));
        text.extend(std::iter::repeat_n('0', point as usize - digits));
    } else {
        text.extend((0..point as usize).map(digit));
        text.push('.');
        text.extend((point as usize..digits).map(digit));
    }
}

/// Whether the exact decimal value of `x` (finite) has more than 19
/// significant digits. `x = m · 2^e` with `m` odd: an integer when
/// `e ≥ 0` (never long here); else `m · 5^-e / 10^-e`, whose significant
/// digits are those of the odd integer `m · 5^-e`, more than 19 when it
/// is at least 10^19, which `log2(m) + (-e) · log2(5) ≥ log2(10^19)`
/// (63.117) decides, here from below: `(bits(m) - 1) + 2.32 · (-e)`.
fn long_expansion(x: f64) -> bool {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return false;
    }
    let zeros = i64::from(mantissa.trailing_zeros());
    let (odd, exponent) = (mantissa >> zeros, exponent + zeros);
    if exponent >= 0 {
        return false;
    }
    let bit_length = 64 - i64::from(odd.leading_zeros());
    100 * (bit_length - 1) + 232 * (-exponent) >= 6312
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(x: f64) -> String {
        let mut text = String::new();
        push_f64(&mut text, x, &mut ryu::Buffer::new());
        text
    }

    #[test]
    fn edge_values_read_as_the_standard_library_writes_them() {
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            2.5,
            1e-5,
            1e-6,
            1e-7,
            1.5e-7,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1e23,
            123456789012345680000.0,
            1656.6842675707976,
            2886.520423319499,
            5.014749262536873,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            // Ties: ryu alone would write ...62 and ...2.
            169331498360004.63,
            1629099649934177.3,
        ] {
            assert_eq!(ours(x), format!("{x}"), "{x:e}");
        }
    }

    /// A second implementation, the standard library's, on random bit
    /// patterns, values of the outputs' sizes and short binary fractions
    /// (where the ties are).
    #[test]
    fn random_values_read_as_the_standard_library_writes_them() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut text = String::new();
        let mut buffer = ryu::Buffer::new();
        let mut long = 0;
        for i in 0..400_000u64 {
            let r = next();
            let x = match i % 4 {
                0 => f64::from_bits(r),
                1 => (r >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((r % 20) as i32 - 6),
                2 => (r % 100_000_000) as f64 / 10f64.powi((r >> 60) as i32),
                _ => (r >> 11) as f64 * 2f64.powi((r % 120) as i32 - 60),
            };
            long += usize::from(x.is_finite() && long_expansion(x));
            text.clear();
            push_f64(&mut text, x, &mut buffer);
            assert_eq!(text, format!("{x}"), "{x:e}");
        }
        // Most values take ryu's digits, so the test covers that path.
        assert!(long > 250_000, "{long}");
    }
}
