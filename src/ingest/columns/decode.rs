//! Decoding one column chunk into a typed vector: the conversion with its
//! type, null and range checks (`convert`), the fast integer paths, and
//! assembling row-group parts into one column (`concat`).

use super::*;
/// One converted column chunk.
pub(super) struct Part {
    pub(super) column: Column,
    pub(super) given: Option<Vec<bool>>,
    pub(super) nulls_mapped: u64,
}

impl Part {
    pub(super) fn absent() -> Self {
        Part {
            column: Column::Absent,
            given: None,
            nulls_mapped: 0,
        }
    }
}

/// A failed cell: its 0-based row within the row group and its value as
/// text (`None` for a null).
pub(super) type CellFailure = (usize, Option<String>);

/// Converts stored values to the request's type, checking nulls and range.
pub(super) fn convert(
    (raw, levels): (Raw, Option<Vec<i16>>),
    place: &Located,
    rows: usize,
    request: &Request,
) -> Result<Part, CellFailure> {
    let mut part = Part {
        column: empty_column(request),
        given: (request.nulls == Nulls::Default).then(|| Vec::with_capacity(rows)),
        nulls_mapped: 0,
    };
    // Which rows hold a value: all, when the column cannot be null or has
    // no nulls in this chunk.
    let defined: Option<Vec<bool>> = levels.and_then(|levels| {
        if levels.iter().all(|&l| l == place.max_def) {
            None
        } else {
            Some(levels.iter().map(|&l| l == place.max_def).collect())
        }
    });
    match request.kind {
        Kind::Int { min, max, .. } => {
            let values: Vec<i128> = match raw {
                Raw::I32(v) if place.sign == Sign::Unsigned => {
                    v.iter().map(|&x| i128::from(x as u32)).collect()
                }
                Raw::I64(v) if place.sign == Sign::Unsigned => {
                    v.iter().map(|&x| i128::from(x as u64)).collect()
                }
                Raw::I32(v) => {
                    if defined.is_none() {
                        return fast_ints(&v, min, max, part);
                    }
                    v.iter().map(|&x| i128::from(x)).collect()
                }
                Raw::I64(v) => {
                    if defined.is_none() {
                        return fast_ints(&v, min, max, part);
                    }
                    v.iter().map(|&x| i128::from(x)).collect()
                }
                _ => return Err((0, Some("<not an integer>".into()))),
            };
            let mut sink = IntSink {
                out: &mut part.column,
            };
            let mut next = values.into_iter();
            for row in 0..rows {
                let is_defined = defined.as_ref().is_none_or(|d| d[row]);
                if !is_defined {
                    match request.nulls {
                        Nulls::Reject => return Err((row, None)),
                        Nulls::MapTo(m) => {
                            part.nulls_mapped += 1;
                            sink.push(m);
                        }
                        Nulls::Default => sink.push(min.max(0)),
                    }
                    if let Some(g) = part.given.as_mut() {
                        g.push(false);
                    }
                    continue;
                }
                let v = next.next().unwrap_or(0);
                if v < i128::from(min) || v > i128::from(max) {
                    return Err((row, Some(v.to_string())));
                }
                sink.push(v as i64);
                if let Some(g) = part.given.as_mut() {
                    g.push(true);
                }
            }
            Ok(part)
        }
        Kind::Bool => {
            let Raw::Bool(values) = raw else {
                return Err((0, Some("<not a boolean>".into())));
            };
            let Column::Bool(out) = &mut part.column else {
                return Err((0, Some("<internal: column kind>".into())));
            };
            match &defined {
                None => {
                    *out = values;
                    if let Some(g) = part.given.as_mut() {
                        g.extend(std::iter::repeat_n(true, rows));
                    }
                }
                Some(defined) => {
                    let mut next = values.into_iter();
                    for (row, &d) in defined.iter().enumerate() {
                        if d {
                            out.push(next.next().unwrap_or(false));
                        } else {
                            match request.nulls {
                                Nulls::Reject => return Err((row, None)),
                                Nulls::MapTo(m) => {
                                    part.nulls_mapped += 1;
                                    out.push(m != 0);
                                }
                                Nulls::Default => out.push(false),
                            }
                        }
                        if let Some(g) = part.given.as_mut() {
                            g.push(d);
                        }
                    }
                }
            }
            Ok(part)
        }
        Kind::Float => {
            let values: Vec<f64> = match raw {
                Raw::F64(v) => v,
                Raw::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                Raw::I32(v) if place.sign == Sign::Unsigned => {
                    v.iter().map(|&x| f64::from(x as u32)).collect()
                }
                Raw::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                Raw::I64(v) if place.sign == Sign::Unsigned => {
                    v.iter().map(|&x| x as u64 as f64).collect()
                }
                Raw::I64(v) => v.iter().map(|&x| x as f64).collect(),
                Raw::Bool(_) => return Err((0, Some("<not a number>".into()))),
            };
            let check = request.float_check.unwrap_or(|v: f64| v.is_finite());
            let Column::F64(out) = &mut part.column else {
                return Err((0, Some("<internal: column kind>".into())));
            };
            out.reserve(rows);
            let mut next = values.into_iter();
            for row in 0..rows {
                let is_defined = defined.as_ref().is_none_or(|d| d[row]);
                if !is_defined {
                    match request.nulls {
                        Nulls::Reject => return Err((row, None)),
                        Nulls::MapTo(m) => {
                            part.nulls_mapped += 1;
                            out.push(m as f64);
                        }
                        Nulls::Default => out.push(f64::NAN),
                    }
                    if let Some(g) = part.given.as_mut() {
                        g.push(false);
                    }
                    continue;
                }
                let v = next.next().unwrap_or(f64::NAN);
                if !v.is_finite() || !check(v) {
                    return Err((row, Some(v.to_string())));
                }
                out.push(v);
                if let Some(g) = part.given.as_mut() {
                    g.push(true);
                }
            }
            Ok(part)
        }
    }
}

/// An integer type a column's values are stored in, with its range.
pub(super) trait Stored: Copy + Ord + Into<i128> {
    const LOWEST: i128;
    const HIGHEST: i128;
}

macro_rules! stored {
    ($($t:ty),*) => {
        $(impl Stored for $t {
            const LOWEST: i128 = <$t>::MIN as i128;
            const HIGHEST: i128 = <$t>::MAX as i128;
        })*
    };
}
stored!(i8, i16, i32, i64, u8, u16, u32);

/// The common case: no nulls, every value in range — checked with one
/// min/max sweep (none when the stored type cannot leave the range, as a
/// 64-bit id), then one narrowing copy.
pub(super) fn fast_ints<T: Stored>(
    values: &[T],
    min: i64,
    max: i64,
    mut part: Part,
) -> Result<Part, CellFailure>
where
    i64: From<T>,
{
    // One sweep for the smallest and largest value in the stored type (a
    // min/max reduction, which vectorises); the slow search for the
    // offending row only runs when something is out of range.
    let can_leave = T::LOWEST < i128::from(min) || T::HIGHEST > i128::from(max);
    let out_of_range = can_leave
        && values.split_first().is_some_and(|(&first, _)| {
            let (lo, hi) = values
                .iter()
                .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            i64::from(lo) < min || i64::from(hi) > max
        });
    if out_of_range {
        let row = values
            .iter()
            .position(|&v| v.into() < i128::from(min) || v.into() > i128::from(max))
            .unwrap_or(0);
        return Err((row, Some(i64::from(values[row]).to_string())));
    }
    let mut sink = IntSink {
        out: &mut part.column,
    };
    sink.extend(values.iter().map(|&v| i64::from(v)));
    if let Some(g) = part.given.as_mut() {
        g.extend(std::iter::repeat_n(true, values.len()));
    }
    Ok(part)
}

pub(super) fn empty_column(request: &Request) -> Column {
    match request.kind {
        Kind::Int { target, .. } => match target {
            Target::U8 => Column::U8(Vec::new()),
            Target::I16 => Column::I16(Vec::new()),
            Target::I32 => Column::I32(Vec::new()),
            Target::I64 => Column::I64(Vec::new()),
        },
        Kind::Bool => Column::Bool(Vec::new()),
        Kind::Float => Column::F64(Vec::new()),
    }
}

pub(super) struct IntSink<'a> {
    pub(super) out: &'a mut Column,
}

impl IntSink<'_> {
    /// Appends values already checked to lie in range.
    pub(super) fn extend(&mut self, values: impl Iterator<Item = i64>) {
        match self.out {
            Column::U8(v) => v.extend(values.map(|x| x as u8)),
            Column::I16(v) => v.extend(values.map(|x| x as i16)),
            Column::I32(v) => v.extend(values.map(|x| x as i32)),
            Column::I64(v) => v.extend(values),
            _ => {}
        }
    }

    #[inline]
    pub(super) fn push(&mut self, value: i64) {
        match self.out {
            Column::U8(v) => v.push(value as u8),
            Column::I16(v) => v.push(value as i16),
            Column::I32(v) => v.push(value as i32),
            Column::I64(v) => v.push(value),
            _ => {}
        }
    }
}

/// A boolean column the caller wants packed, as bits.
pub(super) fn pack_if_asked(part: Part, request: &Request, rows: usize) -> Part {
    match (&part.column, request.packed) {
        (Column::Bool(_), true) => Part {
            column: Column::Bits(part.column.into_bits(rows)),
            ..part
        },
        _ => part,
    }
}

/// Appends the parts of a column from several row groups.
pub fn concat(parts: impl Iterator<Item = Column>) -> Column {
    let mut result: Option<Column> = None;
    for part in parts {
        // Lent ids are copied once joined with another part.
        let (joined, part) = match (result, part) {
            (Some(Column::SharedI64(a)), part) => (Some(Column::I64(a.to_vec())), part),
            (joined @ Some(_), Column::SharedI64(b)) => (joined, Column::I64(b.to_vec())),
            other => other,
        };
        result = Some(match (joined, part) {
            (None, part) => part,
            (Some(Column::U8(mut a)), Column::U8(b)) => {
                a.extend_from_slice(&b);
                Column::U8(a)
            }
            (Some(Column::I16(mut a)), Column::I16(b)) => {
                a.extend_from_slice(&b);
                Column::I16(a)
            }
            (Some(Column::I32(mut a)), Column::I32(b)) => {
                a.extend_from_slice(&b);
                Column::I32(a)
            }
            (Some(Column::I64(mut a)), Column::I64(b)) => {
                a.extend_from_slice(&b);
                Column::I64(a)
            }
            (Some(Column::Bool(mut a)), Column::Bool(b)) => {
                a.extend_from_slice(&b);
                Column::Bool(a)
            }
            (Some(Column::F64(mut a)), Column::F64(b)) => {
                a.extend_from_slice(&b);
                Column::F64(a)
            }
            (Some(a), _) => a,
        });
    }
    result.unwrap_or(Column::Absent)
}

/// The first `rows` bits of `words` as booleans, a byte of bits at a
/// time (bit by bit it was 2% of a national run, for `lives_alone`, from
/// a file or a table).
pub(super) fn bits_to_bools(words: &[u64], rows: usize) -> Vec<bool> {
    const SPREAD: [[bool; 8]; 256] = {
        let mut table = [[false; 8]; 256];
        let mut byte = 0;
        while byte < 256 {
            let mut k = 0;
            while k < 8 {
                table[byte][k] = (byte >> k) & 1 == 1;
                k += 1;
            }
            byte += 1;
        }
        table
    };
    let mut out = Vec::with_capacity(rows.next_multiple_of(64));
    for word in words.iter().take(rows.div_ceil(64)) {
        for byte in word.to_le_bytes() {
            out.extend_from_slice(&SPREAD[usize::from(byte)]);
        }
    }
    out.truncate(rows);
    out
}

impl Column {
    pub fn into_u8(self) -> Vec<u8> {
        match self {
            Column::U8(v) => v,
            _ => Vec::new(),
        }
    }
    pub fn into_i16(self) -> Vec<i16> {
        match self {
            Column::I16(v) => v,
            _ => Vec::new(),
        }
    }
    pub fn into_i32(self) -> Vec<i32> {
        match self {
            Column::I32(v) => v,
            _ => Vec::new(),
        }
    }
    pub fn into_i64(self) -> Vec<i64> {
        match self {
            Column::I64(v) => v,
            Column::SharedI64(v) => v.to_vec(),
            _ => Vec::new(),
        }
    }
    /// 64-bit integers as `IdValues`: decoded ones without a copy (the vector
    /// becomes the buffer), lent ones as lent.
    pub fn into_id_values(self) -> IdValues {
        match self {
            Column::I64(v) => IdValues::from(v),
            Column::SharedI64(v) => v,
            _ => IdValues::from(Vec::new()),
        }
    }
    pub fn into_bool(self) -> Vec<bool> {
        match self {
            Column::Bool(v) => v,
            _ => Vec::new(),
        }
    }
    /// A boolean column as a bitmap of `rows` rows (either representation).
    pub fn into_bits(self, rows: usize) -> Vec<u64> {
        match self {
            Column::Bits(words) => words,
            Column::Bool(v) => {
                let mut words = vec![0u64; rows.div_ceil(64)];
                for (i, &b) in v.iter().enumerate().take(rows) {
                    words[i / 64] |= u64::from(b) << (i % 64);
                }
                words
            }
            _ => vec![0u64; rows.div_ceil(64)],
        }
    }
    /// `None` for an absent optional column.
    pub fn into_f64(self) -> Option<Vec<f64>> {
        match self {
            Column::F64(v) => Some(v),
            _ => None,
        }
    }
}
