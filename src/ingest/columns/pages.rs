//! Page-level decoding for the common case: an INT32/INT64 column stored
//! PLAIN, dictionary-encoded (RLE/bit-packed indices) or
//! DELTA_BINARY_PACKED, or a BOOLEAN column stored PLAIN (bit-packed) or
//! RLE, in data pages v1 or v2; required, or optional (definition levels of
//! bit width 1, as RLE runs or bit-packed), where a null becomes the
//! request's fill value when it has one and else sends the chunk to the
//! general path. Values
//! go straight into the requested type (booleans stay bits), so nothing is
//! zeroed, copied or widened on the way. Anything else — another encoding, a
//! value out of range, a short or damaged page — returns `None` and the
//! general path takes the chunk, so the two paths accept the same files and
//! report the same errors.

use super::reader::{ChunkPages, RawPage};
use super::{Column, Kind, Nulls, Part, Request, Sign, Target};
use parquet::basic::{Encoding, Type as PhysicalType};

/// Decodes all `rows` values of one column chunk, or `None`.
pub(super) fn decode(
    mut pages: ChunkPages<'_>,
    physical: PhysicalType,
    sign: Sign,
    max_def: i16,
    rows: usize,
    request: &Request,
) -> Option<Part> {
    let optional = max_def == 1;
    // A null becomes this value (checked against the request's range, as
    // the general path would store it), or sends the chunk to the general
    // path, which names the row.
    let fill = match request.nulls {
        Nulls::Reject => None,
        Nulls::MapTo(m) => Some(m),
        Nulls::Default => Some(match request.kind {
            Kind::Int { min, .. } => min.max(0),
            _ => 0,
        }),
    };
    let mut nulls = NullRows::new(fill);
    let column = match request.kind {
        Kind::Int { min, max, target } => {
            let width = match physical {
                PhysicalType::INT32 => 4,
                PhysicalType::INT64 => 8,
                _ => return None,
            };
            let range = Range {
                min,
                max,
                width,
                sign,
            };
            if fill.is_some_and(|f| f < min || f > max) {
                return None;
            }
            let p = &mut pages;
            match target {
                Target::U8 => Column::U8(ints(p, range, rows, optional, &mut nulls)?),
                Target::I16 => Column::I16(ints(p, range, rows, optional, &mut nulls)?),
                Target::I32 => Column::I32(ints(p, range, rows, optional, &mut nulls)?),
                Target::I64 => Column::I64(ints(p, range, rows, optional, &mut nulls)?),
            }
        }
        Kind::Bool => {
            if physical != PhysicalType::BOOLEAN {
                return None;
            }
            let words = bools(&mut pages, rows, optional, &mut nulls)?;
            if request.packed {
                Column::Bits(words)
            } else {
                Column::Bool(super::decode::bits_to_bools(&words, rows))
            }
        }
        Kind::Float => return None,
    };
    let count = nulls.count;
    Some(Part {
        column,
        given: (request.nulls == Nulls::Default).then(|| nulls.given(rows)),
        nulls_mapped: if matches!(request.nulls, Nulls::MapTo(_)) {
            count
        } else {
            0
        },
    })
}

/// Which rows of a chunk were null, as the pages are decoded.
struct NullRows {
    /// What a null becomes; `None`: a null sends the chunk to the general path.
    fill: Option<i64>,
    /// Bits of the defined rows, made at the first null.
    defined: Option<Vec<u64>>,
    count: u64,
}

impl NullRows {
    fn new(fill: Option<i64>) -> NullRows {
        NullRows {
            fill,
            defined: None,
            count: 0,
        }
    }

    /// Records a page of `rows` rows from row `at`; `defined` is its bits
    /// (`None`: no null). `None` when the page has nulls and there is no
    /// fill value.
    fn page(
        &mut self,
        at: usize,
        rows: usize,
        defined: Option<&[u64]>,
        total: usize,
    ) -> Option<()> {
        let Some(bits) = defined else {
            if let Some(all) = self.defined.as_mut() {
                set_range(all, at, at + rows);
            }
            return Some(());
        };
        self.fill?;
        let all = self.defined.get_or_insert_with(|| {
            let mut all = vec![0u64; total.div_ceil(64)];
            set_range(&mut all, 0, at);
            all
        });
        for i in (0..rows).filter(|&i| bit(bits, i)) {
            let row = at + i;
            all[row / 64] |= 1 << (row % 64);
        }
        self.count += (rows - ones(bits)) as u64;
        Some(())
    }

    fn given(&self, rows: usize) -> Vec<bool> {
        match &self.defined {
            None => vec![true; rows],
            Some(bits) => super::decode::bits_to_bools(bits, rows),
        }
    }
}

/// Sets bits `from..to`.
fn set_range(words: &mut [u64], from: usize, to: usize) {
    let mut i = from;
    while i < to {
        let (word, shift) = (i / 64, i % 64);
        let n = (64 - shift).min(to - i);
        let mask = if n == 64 {
            u64::MAX
        } else {
            ((1u64 << n) - 1) << shift
        };
        words[word] |= mask;
        i += n;
    }
}

/// A data page: its values' bytes, its rows (values and nulls), its
/// encoding, and which rows hold a value (bits; `None` when all do).
struct DataPage<'a> {
    values: &'a [u8],
    rows: usize,
    /// The values stored: rows that are not null.
    stored: usize,
    encoding: Encoding,
    defined: Option<Vec<u64>>,
}

/// Bit `i` of `words` (least significant first).
#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (i % 64) & 1 == 1
}

/// The number of bits set.
fn ones(words: &[u64]) -> usize {
    words.iter().map(|w| w.count_ones() as usize).sum()
}

/// A data page's parts (a required, non-repeated column has no levels in
/// v1; v2 states their lengths and nulls). An optional column's definition
/// levels (RLE hybrid, bit width 1; after a 4-byte length in v1) are
/// decoded into bits, kept only when some row is null.
fn data<'a>(page: &RawPage<'a>, optional: bool) -> Option<DataPage<'a>> {
    match *page {
        RawPage::V1 {
            buf,
            num_values,
            encoding,
            def_level_encoding,
        } => {
            let rows = num_values;
            let encoding = encoding?;
            if !optional {
                return Some(DataPage {
                    values: buf,
                    rows,
                    stored: rows,
                    encoding,
                    defined: None,
                });
            }
            if def_level_encoding != Some(Encoding::RLE) {
                return None;
            }
            let length = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
            let levels = buf.get(4..4usize.checked_add(length)?)?;
            let bits = level_bits(levels, rows)?;
            let stored = ones(&bits);
            Some(DataPage {
                values: buf.get(4 + length..)?,
                rows,
                stored,
                encoding,
                defined: (stored != rows).then_some(bits),
            })
        }
        RawPage::V2 {
            buf,
            num_values,
            encoding,
            num_nulls,
            def_levels_byte_len,
            rep_levels_byte_len,
        } => {
            let rows = num_values;
            let encoding = encoding?;
            let (rep, def) = (rep_levels_byte_len, def_levels_byte_len);
            let skip = rep.checked_add(def)?;
            let (stored, defined) = if num_nulls == 0 {
                (rows, None)
            } else {
                if !optional || rep != 0 {
                    return None;
                }
                let bits = level_bits(buf.get(..def)?, rows)?;
                let stored = ones(&bits);
                if rows.checked_sub(stored)? != num_nulls {
                    return None;
                }
                (stored, Some(bits))
            };
            Some(DataPage {
                values: buf.get(skip..)?,
                rows,
                stored,
                encoding,
                defined,
            })
        }
        _ => None,
    }
}

/// Definition levels of bit width 1 (RLE hybrid) as bits, one per row.
fn level_bits(bytes: &[u8], rows: usize) -> Option<Vec<u64>> {
    let mut words = vec![0u64; rows.div_ceil(64)];
    rle_bits(bytes, rows, &mut words, 0)?;
    Some(words)
}

/// Decodes `count` values of bit width 1 stored with the RLE/bit-packed
/// hybrid encoding into bits from `at` of `words` (which are 0 there).
/// `None` for data that end early or a run value other than 0 or 1.
fn rle_bits(bytes: &[u8], count: usize, words: &mut [u64], at: usize) -> Option<()> {
    let mut pos = 0usize;
    let mut done = 0usize;
    while done < count {
        let header = varint(bytes, &mut pos)?;
        let left = count - done;
        if header & 1 == 0 {
            let run = usize::try_from(header >> 1).ok()?;
            let &value = bytes.get(pos)?;
            pos += 1;
            let n = run.min(left);
            if n == 0 || value > 1 {
                return None;
            }
            if value == 1 {
                set_range(words, at + done, at + done + n);
            }
            done += n;
        } else {
            let groups = usize::try_from(header >> 1).ok()?;
            let packed = bytes.get(pos..pos.checked_add(groups)?)?;
            pos += groups;
            let n = groups.checked_mul(8)?.min(left);
            if n == 0 {
                return None;
            }
            append_bits(words, at + done, packed, n);
            done += n;
        }
    }
    Some(())
}

/// A boolean page's `stored` values as bits from `at` of `words`.
fn page_bits(page: &DataPage<'_>, stored: usize, words: &mut [u64], at: usize) -> Option<()> {
    match page.encoding {
        Encoding::PLAIN => {
            if page.values.len() * 8 < stored {
                return None;
            }
            append_bits(words, at, page.values, stored);
            Some(())
        }
        Encoding::RLE => {
            let length = u32::from_le_bytes(page.values.get(..4)?.try_into().ok()?) as usize;
            let runs = page.values.get(4..4usize.checked_add(length)?)?;
            rle_bits(runs, stored, words, at)
        }
        _ => None,
    }
}

/// All `rows` values of a boolean chunk as bits: PLAIN (bit-packed) or
/// RLE (data page v2: a 4-byte length, then the hybrid of bit width 1).
/// Null rows are `fill != 0`.
fn bools(
    pages: &mut ChunkPages<'_>,
    rows: usize,
    optional: bool,
    nulls: &mut NullRows,
) -> Option<Vec<u64>> {
    let mut words = vec![0u64; rows.div_ceil(64)];
    let mut at = 0usize;
    while let Some(page) = pages.next_page()? {
        let page = data(&page, optional)?;
        let (count, stored) = (page.rows, page.stored);
        if at.checked_add(count)? > rows {
            return None;
        }
        nulls.page(at, count, page.defined.as_deref(), rows)?;
        match &page.defined {
            None => page_bits(&page, stored, &mut words, at)?,
            Some(defined) => {
                // The stored values go to a scratch row first, then to
                // the defined rows.
                let mut scratch = vec![0u64; stored.div_ceil(64)];
                page_bits(&page, stored, &mut scratch, 0)?;
                let fill = nulls.fill? != 0;
                let mut next = 0usize;
                for i in 0..count {
                    let value = if bit(defined, i) {
                        next += 1;
                        bit(&scratch, next - 1)
                    } else {
                        fill
                    };
                    if value {
                        let bit = at + i;
                        words[bit / 64] |= 1 << (bit % 64);
                    }
                }
            }
        }
        at += count;
    }
    (at == rows).then_some(words)
}

/// A page's stored integers (each in the low `width` bytes) as the
/// values they stand for, the width and sign matched once; `None` for an
/// unsigned 64-bit value above `i64::MAX`.
fn widen_all(values: &mut [i64], width: usize, sign: Sign) -> Option<()> {
    match (width, sign) {
        (4, Sign::Signed) => values.iter_mut().for_each(|v| *v = i64::from(*v as i32)),
        (4, Sign::Unsigned) => values.iter_mut().for_each(|v| *v = i64::from(*v as u32)),
        (_, Sign::Unsigned) if values.iter().any(|&v| v < 0) => return None,
        _ => {}
    }
    Some(())
}

/// Appends a page's values (read at their width) to `out`; false when
/// any is outside `range`. One pass for the range and one to narrow, with
/// no check in either (a check and a push for each value were 4% of a
/// national run in the ids alone).
fn append_checked<T: Narrow>(values: &[i64], range: Range, out: &mut Vec<T>) -> bool {
    let (lo, hi) = values
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    out.extend(values.iter().map(|&v| T::narrow(v)));
    values.is_empty() || (lo >= range.min && hi <= range.max)
}

/// Appends `count` PLAIN little-endian integers of `width` bytes to
/// `out`, as stored (`widen_all` reads them at their width).
fn plain_into(bytes: &[u8], count: usize, width: usize, out: &mut Vec<i64>) -> Option<()> {
    let bytes = bytes.get(..count.checked_mul(width)?)?;
    if width == 4 {
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        );
    } else {
        out.extend(bytes.chunks_exact(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            i64::from_le_bytes(b)
        }));
    }
    Some(())
}

/// Appends a page's `count` integers as stored (`width` bytes each when
/// PLAIN), PLAIN or DELTA_BINARY_PACKED; `None` for any other encoding or
/// data that do not decode.
fn stored_into(
    bytes: &[u8],
    count: usize,
    encoding: Encoding,
    width: usize,
    out: &mut Vec<i64>,
) -> Option<()> {
    match encoding {
        Encoding::PLAIN => plain_into(bytes, count, width, out),
        Encoding::DELTA_BINARY_PACKED => delta(bytes, count, out),
        _ => None,
    }
}

/// Appends a dictionary page's or a data page's integers, PLAIN or
/// DELTA_BINARY_PACKED, to `out`, read at their width; `None` for data
/// that do not decode, `Some(false)` when a value is outside `range`.
/// `values` is scratch, kept across pages.
fn append_ints<T: Narrow>(
    bytes: &[u8],
    count: usize,
    encoding: Encoding,
    range: Range,
    values: &mut Vec<i64>,
    out: &mut Vec<T>,
) -> Option<bool> {
    // Signed 64-bit values into a column that takes every 64-bit integer
    // (`person_id`): nothing to widen or check, so no copy through `values`.
    let whole = range.width == 8
        && range.sign == Sign::Signed
        && range.min == i64::MIN
        && range.max == i64::MAX;
    if whole {
        if let Some(out) = T::wide(out) {
            stored_into(bytes, count, encoding, range.width, out)?;
            return Some(true);
        }
    }
    values.clear();
    stored_into(bytes, count, encoding, range.width, values)?;
    widen_all(values, range.width, range.sign)?;
    Some(append_checked(values, range, out))
}

/// Reads a ULEB128 varint.
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The `width` bytes of the bit-packed group at `start` of `packed`, with
/// at least eight bytes after them for `unpack_eight`: read straight from
/// the page while they follow (what is read past a value is masked off),
/// else copied into `scratch`. `None` when the page ends inside the group.
#[inline(always)]
fn group_bytes<'s>(
    packed: &'s [u8],
    start: usize,
    width: usize,
    scratch: &'s mut [u8; 40],
) -> Option<&'s [u8]> {
    if start + width + 8 <= packed.len() {
        return Some(&packed[start..]);
    }
    scratch[..width].copy_from_slice(packed.get(start..start + width)?);
    Some(&scratch[..])
}

/// Eight bit-packed indices of `width` bits at the start of `source`
/// (which has at least `width + 8` bytes), looked up in `dictionary`.
#[inline(always)]
fn unpack_eight<T: Copy>(
    source: &[u8],
    width: usize,
    dictionary: &[T],
    eight: &mut [T],
) -> Option<()> {
    let mask = (1u64 << width) - 1;
    for (k, slot) in eight.iter_mut().take(8).enumerate() {
        let bit = k * width;
        let mut word = [0u8; 8];
        word.copy_from_slice(&source[bit / 8..bit / 8 + 8]);
        let index = (u64::from_le_bytes(word) >> (bit % 8)) & mask;
        *slot = *dictionary.get(index as usize)?;
    }
    Some(())
}

/// The values of a bit-packed run (`out.len()` of them, eight to a group
/// of `width` bytes in `packed`), looked up in `dictionary`; `W` is the
/// width when it is fixed at compile time, 0 when it is not.
#[inline(always)]
fn unpack_run<T: Copy + Default, const W: usize>(
    packed: &[u8],
    width: usize,
    dictionary: &[T],
    out: &mut [T],
) -> Option<()> {
    let width = if W == 0 { width } else { W };
    let n = out.len();
    let (full, rest) = out.split_at_mut(n - n % 8);
    let mut scratch = [0u8; 40];
    for (g, eight) in full.chunks_exact_mut(8).enumerate() {
        let source = group_bytes(packed, g * width, width, &mut scratch)?;
        unpack_eight(source, width, dictionary, eight)?;
    }
    if !rest.is_empty() {
        let source = group_bytes(packed, (n / 8) * width, width, &mut scratch)?;
        let mut eight = [T::default(); 8];
        unpack_eight(source, width, dictionary, &mut eight)?;
        rest.copy_from_slice(&eight[..rest.len()]);
    }
    Some(())
}

/// Appends `count` dictionary values whose indices are stored with the
/// RLE/bit-packed hybrid encoding of `bit_width` bits; `None` for an index
/// outside the dictionary or data that end early.
fn hybrid<T: Copy + Default>(
    bytes: &[u8],
    bit_width: u8,
    count: usize,
    dictionary: &[T],
    table: Option<&Lookups<T>>,
    out: &mut Vec<T>,
) -> Option<()> {
    if bit_width > 32 {
        return None;
    }
    let width = usize::from(bit_width);
    let value_bytes = width.div_ceil(8);
    let mut at = 0usize;
    let mut left = count;
    while left > 0 {
        let header = varint(bytes, &mut at)?;
        if header & 1 == 0 {
            // A run of one repeated value.
            let run = usize::try_from(header >> 1).ok()?;
            let raw = bytes.get(at..at.checked_add(value_bytes)?)?;
            at += value_bytes;
            let index = raw
                .iter()
                .enumerate()
                .fold(0usize, |v, (k, &b)| v | usize::from(b) << (8 * k));
            let n = run.min(left);
            if n == 0 {
                return None;
            }
            out.extend(std::iter::repeat_n(*dictionary.get(index)?, n));
            left -= n;
        } else {
            // Groups of eight bit-packed values, least significant bit
            // first; each group is `width` bytes.
            let groups = usize::try_from(header >> 1).ok()?;
            let length = groups.checked_mul(width)?;
            let packed = bytes.get(at..at.checked_add(length)?)?;
            at += length;
            let n = groups.checked_mul(8)?.min(left);
            if n == 0 {
                return None;
            }
            if width == 0 {
                // Zero-width indices: every value is dictionary entry 0.
                out.extend(std::iter::repeat_n(*dictionary.first()?, n));
                left -= n;
                continue;
            }
            // The values go straight into their place in `out` (appending
            // eight at a time became a `memcpy` call per group).
            let base = out.len();
            out.resize(base + n, T::default());
            let run = &mut out[base..];
            if let Some(table) = table.filter(|t| t.width == width) {
                table.unpack_run(packed, run)?;
                left -= n;
                continue;
            }
            // A copy of the loop for each common width, where every
            // offset and shift is a constant (a fifth of the decoding's
            // time went to computing them).
            match width {
                1 => unpack_run::<T, 1>(packed, width, dictionary, run)?,
                2 => unpack_run::<T, 2>(packed, width, dictionary, run)?,
                3 => unpack_run::<T, 3>(packed, width, dictionary, run)?,
                4 => unpack_run::<T, 4>(packed, width, dictionary, run)?,
                5 => unpack_run::<T, 5>(packed, width, dictionary, run)?,
                6 => unpack_run::<T, 6>(packed, width, dictionary, run)?,
                7 => unpack_run::<T, 7>(packed, width, dictionary, run)?,
                8 => unpack_run::<T, 8>(packed, width, dictionary, run)?,
                9 => unpack_run::<T, 9>(packed, width, dictionary, run)?,
                10 => unpack_run::<T, 10>(packed, width, dictionary, run)?,
                11 => unpack_run::<T, 11>(packed, width, dictionary, run)?,
                12 => unpack_run::<T, 12>(packed, width, dictionary, run)?,
                13 => unpack_run::<T, 13>(packed, width, dictionary, run)?,
                14 => unpack_run::<T, 14>(packed, width, dictionary, run)?,
                15 => unpack_run::<T, 15>(packed, width, dictionary, run)?,
                16 => unpack_run::<T, 16>(packed, width, dictionary, run)?,
                _ => unpack_run::<T, 0>(packed, width, dictionary, run)?,
            }
            left -= n;
        }
    }
    Some(())
}

/// The fewest rows of a chunk for which `ints` makes `Lookups`: a table's
/// 256 entries (up to 2,048 values) cost about what decoding a thousand
/// values one lookup each does, so a file of tiny row groups keeps the
/// per-width loop.
const LOOKUP_ROWS: usize = 1 << 10;

/// A dictionary as tables indexed by packed bits, for bit widths 1 to 4:
/// an entry holds the `M` values of the indices in one byte (six bits at
/// width 3) and whether they are all in the dictionary, so a group of
/// eight values takes one to four lookups instead of eight, and validity
/// is checked once a run (the socioeconomic levels and sex: a third of
/// the values a run decodes).
struct Lookups<T> {
    width: usize,
    /// Per possible index bits (at most eight of them), their values,
    /// lowest index first (`M` of the eight are used).
    values: Box<[[T; 8]; 256]>,
    /// Per possible index bits: whether every index is in the dictionary.
    valid: Box<[bool; 256]>,
}

impl<T: Copy + Default> Lookups<T> {
    /// The tables of `dictionary` at `width` bits, for widths 1 to 4.
    fn new(dictionary: &[T], width: usize) -> Option<Lookups<T>> {
        let m = Self::per_lookup(width)?;
        let mask = (1usize << width) - 1;
        let mut values = Box::new([[T::default(); 8]; 256]);
        let mut valid = Box::new([false; 256]);
        for (key, (entry, ok)) in values.iter_mut().zip(valid.iter_mut()).enumerate() {
            let mut all = true;
            for (j, value) in entry.iter_mut().take(m).enumerate() {
                let index = (key >> (j * width)) & mask;
                all &= index < dictionary.len();
                *value = dictionary.get(index).copied().unwrap_or_default();
            }
            *ok = all;
        }
        Some(Lookups {
            width,
            values,
            valid,
        })
    }

    /// Values per lookup at `width` bits: 8, 4, 2, 2 (`None` past 4:
    /// one value a lookup was slower than `unpack_run`).
    fn per_lookup(width: usize) -> Option<usize> {
        match width {
            1 => Some(8),
            2 => Some(4),
            3 | 4 => Some(2),
            _ => None,
        }
    }

    /// `hybrid`'s bit-packed run (`out.len()` values, eight to a group of
    /// `width` bytes in `packed`) by lookups; `None` for an index outside
    /// the dictionary, in the values or in the last group's padding (as
    /// `unpack_run` does).
    fn unpack_run(&self, packed: &[u8], out: &mut [T]) -> Option<()> {
        match self.width {
            1 => self.unpack::<1, 8>(packed, out),
            2 => self.unpack::<2, 4>(packed, out),
            3 => self.unpack::<3, 2>(packed, out),
            4 => self.unpack::<4, 2>(packed, out),
            _ => None,
        }
    }

    #[inline(always)]
    fn unpack<const W: usize, const M: usize>(&self, packed: &[u8], out: &mut [T]) -> Option<()> {
        let n = out.len();
        let (full, rest) = out.split_at_mut(n - n % 8);
        let groups = packed.get(..full.len() / 8 * W)?;
        let mut ok = true;
        for (group, dest) in groups.chunks_exact(W).zip(full.chunks_exact_mut(8)) {
            ok &= self.eight::<W, M>(group, dest);
        }
        if !rest.is_empty() {
            let start = n / 8 * W;
            let group = packed.get(start..start + W)?;
            let mut last = [T::default(); 8];
            ok &= self.eight::<W, M>(group, &mut last);
            rest.copy_from_slice(&last[..rest.len()]);
        }
        ok.then_some(())
    }

    /// The eight values of a group of `W` bytes into `dest`; false when an
    /// index is outside the dictionary.
    #[inline(always)]
    fn eight<const W: usize, const M: usize>(&self, group: &[u8], dest: &mut [T]) -> bool {
        let bits = W * M;
        let mut word = [0u8; 4];
        word[..W].copy_from_slice(&group[..W]);
        let x = u32::from_le_bytes(word);
        let mut ok = true;
        for (k, slot) in dest.chunks_exact_mut(M).take(8 / M).enumerate() {
            let key = (x as usize >> (k * bits)) & ((1 << bits) - 1) & 0xff;
            ok &= self.valid[key];
            slot.copy_from_slice(&self.values[key][..M]);
        }
        ok
    }
}

/// ORs `count` bits (LSB first) from `bytes` into `words` from bit `at`.
fn append_bits(words: &mut [u64], at: usize, bytes: &[u8], count: usize) {
    // Sixty-four bits at a time, then byte by byte, then bit by bit.
    let longs = (count / 64).min(bytes.len() / 8);
    for (k, long) in bytes.chunks_exact(8).take(longs).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(long);
        let value = u64::from_le_bytes(b);
        let bit = at + 64 * k;
        let (word, shift) = (bit / 64, bit % 64);
        words[word] |= value << shift;
        if shift > 0 {
            if let Some(next) = words.get_mut(word + 1) {
                *next |= value >> (64 - shift);
            }
        }
    }
    let (at, bytes, count) = (at + 64 * longs, &bytes[8 * longs..], count - 64 * longs);
    let whole = count / 8;
    for (k, &byte) in bytes.iter().take(whole).enumerate() {
        let bit = at + 8 * k;
        let (word, shift) = (bit / 64, bit % 64);
        words[word] |= u64::from(byte) << shift;
        if shift > 56 {
            if let Some(next) = words.get_mut(word + 1) {
                *next |= u64::from(byte) >> (64 - shift);
            }
        }
    }
    for i in whole * 8..count {
        if bytes[i / 8] >> (i % 8) & 1 == 1 {
            let bit = at + i;
            words[bit / 64] |= 1 << (bit % 64);
        }
    }
}

/// The storage types a request can ask for; `narrow` is only called on
/// values already checked against the request's range, which lies within
/// the type.
trait Narrow: Copy + Default {
    fn narrow(v: i64) -> Self;

    /// `out` itself when the type is `i64`: values of every 64-bit
    /// integer then need no narrowing and no check, and are decoded
    /// straight into it (`append_ints`).
    fn wide(_out: &mut Vec<Self>) -> Option<&mut Vec<i64>> {
        None
    }
}

macro_rules! narrow {
    ($($t:ty),*) => {$(
        impl Narrow for $t {
            #[inline(always)]
            fn narrow(v: i64) -> Self {
                v as $t
            }
        }
    )*};
}
narrow!(u8, i16, i32);

impl Narrow for i64 {
    #[inline(always)]
    fn narrow(v: i64) -> Self {
        v
    }

    fn wide(out: &mut Vec<i64>) -> Option<&mut Vec<i64>> {
        Some(out)
    }
}

/// How stored integers are read and which values are allowed.
#[derive(Clone, Copy)]
struct Range {
    min: i64,
    max: i64,
    width: usize,
    sign: Sign,
}

/// All `rows` values of an integer chunk in type `T`, PLAIN,
/// dictionary-encoded or DELTA_BINARY_PACKED; null rows take the fill
/// value. The dictionary is checked and narrowed once, so a
/// dictionary-encoded page costs one lookup per value; a dictionary
/// holding any value out of range sends the chunk to the general path,
/// which finds the offending row.
fn ints<T: Narrow>(
    pages: &mut ChunkPages<'_>,
    range: Range,
    rows: usize,
    optional: bool,
    nulls: &mut NullRows,
) -> Option<Vec<T>> {
    let mut out: Vec<T> = Vec::with_capacity(rows);
    let mut dictionary: Vec<T> = Vec::new();
    let mut lookups: Option<Lookups<T>> = None;
    // A PLAIN or DELTA_BINARY_PACKED page's values, as stored.
    let mut values: Vec<i64> = Vec::new();
    while let Some(page) = pages.next_page()? {
        if let RawPage::Dictionary {
            buf,
            num_values,
            encoding,
        } = page
        {
            if !matches!(encoding, Some(Encoding::PLAIN | Encoding::PLAIN_DICTIONARY)) {
                return None;
            }
            dictionary.clear();
            lookups = None;
            let plain = Encoding::PLAIN;
            if !append_ints(buf, num_values, plain, range, &mut values, &mut dictionary)? {
                return None;
            }
            continue;
        }
        let page = data(&page, optional)?;
        let (count, stored) = (page.rows, page.stored);
        let at = out.len();
        if at.checked_add(count)? > rows {
            return None;
        }
        nulls.page(at, count, page.defined.as_deref(), rows)?;
        let mut bad = false;
        match page.encoding {
            Encoding::PLAIN | Encoding::DELTA_BINARY_PACKED => {
                let encoding = page.encoding;
                bad = !append_ints(page.values, stored, encoding, range, &mut values, &mut out)?;
            }
            Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY => {
                let (&bit_width, indices) = page.values.split_first()?;
                let width = usize::from(bit_width);
                if rows >= LOOKUP_ROWS && lookups.as_ref().is_none_or(|t| t.width != width) {
                    lookups = Lookups::new(&dictionary, width);
                }
                hybrid(
                    indices,
                    bit_width,
                    stored,
                    &dictionary,
                    lookups.as_ref(),
                    &mut out,
                )?;
            }
            _ => return None,
        }
        if bad || out.len() != at + stored {
            return None;
        }
        if let Some(defined) = &page.defined {
            // Spread the stored values to the defined rows, from the end.
            let fill = T::narrow(nulls.fill?);
            out.resize(at + count, fill);
            let mut next = at + stored;
            for i in (0..count).rev() {
                if bit(defined, i) {
                    next -= 1;
                    out[at + i] = out[next];
                } else {
                    out[at + i] = fill;
                }
            }
        }
    }
    (out.len() == rows).then_some(out)
}

/// Appends `count` DELTA_BINARY_PACKED integers to `out`: a header (block
/// size, miniblocks per block, value count, first value), then blocks of
/// a minimum delta and bit-packed miniblocks. Arithmetic wraps at 64
/// bits; the caller reads each value at its stored width (`widen_all`),
/// which is where a writer's arithmetic wraps. Appending to a buffer, rather
/// than handing each value to a closure, lets both loops be tight.
fn delta(bytes: &[u8], count: usize, out: &mut Vec<i64>) -> Option<()> {
    let zigzag = |n: u64| (n >> 1) as i64 ^ -((n & 1) as i64);
    let mut at = 0usize;
    let block = usize::try_from(varint(bytes, &mut at)?).ok()?;
    let miniblocks = usize::try_from(varint(bytes, &mut at)?).ok()?;
    let total = usize::try_from(varint(bytes, &mut at)?).ok()?;
    let mut value = zigzag(varint(bytes, &mut at)?);
    if block == 0
        || !block.is_multiple_of(128)
        || miniblocks == 0
        || !(block / miniblocks).is_multiple_of(32)
    {
        return None;
    }
    if total != count {
        return None;
    }
    if count == 0 {
        return Some(());
    }
    out.reserve(count);
    out.push(value);
    let mut done = 1usize;
    let per_mini = block / miniblocks;
    while done < count {
        let min_delta = zigzag(varint(bytes, &mut at)?);
        let widths = bytes.get(at..at.checked_add(miniblocks)?)?;
        at += miniblocks;
        for &bits in widths {
            if done >= count {
                break;
            }
            let bits = usize::from(bits);
            if bits > 64 {
                return None;
            }
            let length = per_mini * bits / 8;
            let packed = bytes.get(at..at.checked_add(length)?)?;
            at += length;
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let n = per_mini.min(count - done);
            if bits == 0 {
                // Every delta is the minimum (consecutive ids): the k-th
                // value is the start plus k minima (wrapping as the sum
                // step by step does), with no chain from value to value.
                let start = value;
                let step = |k: usize| start.wrapping_add(min_delta.wrapping_mul(k as i64));
                out.extend((1..=n).map(step));
                value = step(n);
            } else {
                for k in 0..n {
                    let bit = k * bits;
                    let from = bit / 8;
                    let d = match packed.get(from..from + 8) {
                        // Eight bytes hold the delta's at most 7 + 56 bits.
                        Some(eight) if bits <= 56 => {
                            let mut word = [0u8; 8];
                            word.copy_from_slice(eight);
                            (u64::from_le_bytes(word) >> (bit % 8)) & mask
                        }
                        _ => {
                            let mut word = [0u8; 16];
                            let available = packed.len().saturating_sub(from).min(16);
                            word[..available].copy_from_slice(&packed[from..from + available]);
                            (u128::from_le_bytes(word) >> (bit % 8)) as u64 & mask
                        }
                    };
                    value = value.wrapping_add(min_delta).wrapping_add(d as i64);
                    out.push(value);
                }
            }
            done += n;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference the page path replaced, value by value: a stored
    /// integer of `width` bytes (held in the low bytes of `v`) as the
    /// value it stands for; `None` for an unsigned 64-bit value above
    /// `i64::MAX`.
    fn widen(v: i64, width: usize, sign: Sign) -> Option<i64> {
        match (width, sign) {
            (4, Sign::Signed) => Some(i64::from(v as i32)),
            (4, Sign::Unsigned) => Some(i64::from(v as u32)),
            (_, Sign::Unsigned) if v < 0 => None,
            _ => Some(v),
        }
    }

    /// The reference the page path replaced: `count` PLAIN little-endian
    /// integers of `width` bytes, handed to `f` one by one.
    fn plain(
        bytes: &[u8],
        count: usize,
        width: usize,
        sign: Sign,
        mut f: impl FnMut(i64) -> Option<()>,
    ) -> Option<()> {
        let bytes = bytes.get(..count.checked_mul(width)?)?;
        if width == 4 {
            for chunk in bytes.chunks_exact(4) {
                let v = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                f(widen(i64::from(v), 4, sign)?)?;
            }
        } else {
            for chunk in bytes.chunks_exact(8) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                f(widen(i64::from_le_bytes(b), 8, sign)?)?;
            }
        }
        Some(())
    }

    /// A xorshift generator of test values from `state` (not zero).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Encodes values with the hybrid encoding: a run, then bit-packed.
    fn encode(bit_width: u8, run: (u32, usize), packed: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        let header = (run.1 as u64) << 1;
        let mut h = header;
        loop {
            let byte = (h & 0x7f) as u8;
            h >>= 7;
            if h == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        for k in 0..usize::from(bit_width).div_ceil(8) {
            out.push((run.0 >> (8 * k)) as u8);
        }
        let groups = packed.len().div_ceil(8);
        out.push(((groups as u8) << 1) | 1);
        let mut acc = 0u64;
        let mut bits = 0;
        for k in 0..groups * 8 {
            acc |= u64::from(packed.get(k).copied().unwrap_or(0)) << bits;
            bits += u32::from(bit_width);
            while bits >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                bits -= 8;
            }
        }
        out
    }

    /// Encodes values as DELTA_BINARY_PACKED in blocks of 128 values and 4
    /// miniblocks of 32, the way the format describes it: deltas wrap at
    /// 64 bits, each block stores its minimum delta and each miniblock the
    /// width of its largest delta above that minimum, packed LSB first.
    fn delta_encode(values: &[i64]) -> Vec<u8> {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let zigzag = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        varint(&mut out, 128);
        varint(&mut out, 4);
        varint(&mut out, values.len() as u64);
        varint(&mut out, zigzag(values.first().copied().unwrap_or(0)));
        let deltas: Vec<i64> = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
        for block in deltas.chunks(128) {
            let min = *block.iter().min().unwrap();
            varint(&mut out, zigzag(min));
            let above: Vec<u64> = block.iter().map(|&d| d.wrapping_sub(min) as u64).collect();
            let minis: Vec<&[u64]> = above.chunks(32).collect();
            let widths: Vec<u32> = (0..4)
                .map(|m| {
                    minis.get(m).map_or(0, |mini| {
                        mini.iter().map(|&d| 64 - d.leading_zeros()).max().unwrap()
                    })
                })
                .collect();
            out.extend(widths.iter().map(|&w| w as u8));
            for (mini, &width) in minis.iter().zip(&widths) {
                let mut bits = vec![false; 32 * width as usize];
                for (k, &d) in mini.iter().enumerate() {
                    for b in 0..width as usize {
                        bits[k * width as usize + b] = d >> b & 1 == 1;
                    }
                }
                for byte in bits.chunks(8) {
                    out.push(
                        byte.iter()
                            .enumerate()
                            .map(|(b, &on)| u8::from(on) << b)
                            .sum(),
                    );
                }
            }
        }
        out
    }

    /// Deltas of width 0 (consecutive ids), of every width to 64 (the last
    /// ones read across the end of a miniblock) and wrapping ones decode
    /// to the values an independent encoder was given.
    #[test]
    fn delta_binary_packed_round_trips() {
        let mut next = xorshift(0x0de1_7a00_u64);
        let mut cases: Vec<Vec<i64>> = vec![
            vec![],
            vec![42],
            (1_000_000..1_000_300).collect(),
            (0..500).map(|i| 7 - 3 * i).collect(),
            // Consecutive ids past the largest: every delta 1, wrapping.
            (0..300).map(|i| (i64::MAX - 100).wrapping_add(i)).collect(),
            vec![i64::MIN, i64::MAX, 0, i64::MIN, -1, i64::MAX, 5],
        ];
        for width in 1..=63 {
            cases.push((0..300).map(|_| (next() >> (64 - width)) as i64).collect());
        }
        cases.push((0..300).map(|_| next() as i64).collect());
        for values in &cases {
            let bytes = delta_encode(values);
            let mut got = Vec::new();
            delta(&bytes, values.len(), &mut got).unwrap();
            assert_eq!(&got, values);
            // A count the header does not declare is refused.
            assert!(delta(&bytes, values.len() + 1, &mut Vec::new()).is_none());
        }
        // Data that end inside a miniblock are refused, not read past.
        let values: Vec<i64> = (0..300).map(|_| next() as i64 >> 20).collect();
        let bytes = delta_encode(&values);
        assert!(delta(&bytes[..bytes.len() - 3], values.len(), &mut Vec::new()).is_none());
    }

    #[test]
    fn hybrid_runs_and_packed_groups() {
        for bit_width in [1u8, 3, 7, 8, 11, 17] {
            let top = (1u32 << bit_width) - 1;
            let packed: Vec<u32> = (0..21u32)
                .map(|k| k.wrapping_mul(2_654_435_761) & top)
                .collect();
            let bytes = encode(bit_width, (top, 5), &packed);
            // An identity dictionary: each index decodes to itself.
            let dictionary: Vec<u32> = (0..=top).collect();
            let mut got = Vec::new();
            hybrid(
                &bytes,
                bit_width,
                5 + packed.len(),
                &dictionary,
                None,
                &mut got,
            )
            .unwrap();
            let mut expected = vec![top; 5];
            expected.extend(&packed);
            assert_eq!(got, expected, "bit width {bit_width}");
            // Asking for more values than the data hold fails.
            assert!(hybrid(&bytes, bit_width, 5 + 24 + 1, &dictionary, None, &mut got).is_none());
            // An index past the dictionary's end fails.
            assert!(hybrid(
                &bytes,
                bit_width,
                5,
                &dictionary[..top as usize],
                None,
                &mut got
            )
            .is_none());
        }
    }

    /// Every bit width from 1 to 32 and counts that do and do not fill the
    /// last group: packed groups read straight from the page and the last
    /// ones (with fewer than eight bytes after them) through the scratch
    /// give the same values.
    #[test]
    fn packed_groups_of_every_width_and_length() {
        for bit_width in 1u8..=32 {
            let top = if bit_width == 32 {
                u32::MAX
            } else {
                (1u32 << bit_width) - 1
            };
            for count in [1usize, 7, 8, 9, 16, 23, 64, 101] {
                let packed: Vec<u32> = (0..count as u32)
                    .map(|k| k.wrapping_mul(2_654_435_761).rotate_left(k) & top & 0x3ff)
                    .collect();
                let bytes = encode(bit_width, (0, 1), &packed);
                let dictionary: Vec<u32> = (0..1024).collect();
                let mut got = Vec::new();
                hybrid(&bytes, bit_width, 1 + count, &dictionary, None, &mut got).unwrap();
                let mut expected = vec![0];
                expected.extend(&packed);
                assert_eq!(got, expected, "bit width {bit_width}, {count} values");
            }
        }
    }

    /// The lookup tables of widths 1 to 4 give what one lookup per value
    /// gives, for every dictionary size from one entry to more than the
    /// width can index and counts that do and do not fill the last group,
    /// and fail where it fails: an index past the dictionary, in a value
    /// or in the last group's padding.
    #[test]
    fn lookup_tables_equal_one_lookup_per_value() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        for bit_width in 1u8..=4 {
            let top = (1u32 << bit_width) - 1;
            for size in 1..=(top as usize + 2) {
                let dictionary: Vec<u8> = (0..size).map(|i| (i * 37 + 5) as u8).collect();
                for count in [1usize, 7, 8, 9, 16, 23, 64, 101] {
                    // Indices within the dictionary (valid), then any index
                    // the width holds (invalid when the dictionary is short).
                    for limit in [(size as u32).min(top + 1), top + 1] {
                        let packed: Vec<u32> = (0..count)
                            .map(|_| (next() % u64::from(limit)) as u32)
                            .collect();
                        let mut bytes = encode(bit_width, (0, 1), &packed);
                        // Padding indices past the values, when there is room.
                        if count % 8 != 0 && next().is_multiple_of(2) {
                            let last = bytes.len() - 1;
                            bytes[last] |= 0x80;
                        }
                        let table = Lookups::new(&dictionary, usize::from(bit_width)).unwrap();
                        let (mut one, mut looked) = (Vec::new(), Vec::new());
                        let expected =
                            hybrid(&bytes, bit_width, 1 + count, &dictionary, None, &mut one);
                        let got = hybrid(
                            &bytes,
                            bit_width,
                            1 + count,
                            &dictionary,
                            Some(&table),
                            &mut looked,
                        );
                        assert_eq!(
                            got.is_some(),
                            expected.is_some(),
                            "width {bit_width}, {size} entries, {count} values"
                        );
                        if expected.is_some() {
                            assert_eq!(looked, one, "width {bit_width}, {size} entries");
                            let mut direct = vec![dictionary[0]];
                            direct.extend(packed.iter().map(|&i| dictionary[i as usize]));
                            assert_eq!(looked, direct, "width {bit_width}, {size} entries");
                        }
                    }
                }
            }
        }
    }

    /// A page's values widened and checked at once (`plain_into`,
    /// `widen_all`, `append_checked`) give what reading, widening and
    /// checking each value with `plain` and `widen` gives: the same values
    /// and the same refusals, at both widths, both signs and ranges that
    /// cut through the values.
    #[test]
    fn page_values_checked_at_once_equal_one_by_one() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let edges = [
            0u64,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            u64::MAX,
            1 << 63,
        ];
        for width in [4usize, 8] {
            for sign in [Sign::Signed, Sign::Unsigned] {
                for case in 0..200 {
                    let count = (next() % 40) as usize;
                    let stored: Vec<u64> = (0..count)
                        .map(|k| match (case + k) % 3 {
                            0 => edges[(next() % edges.len() as u64) as usize],
                            1 => next() % 300,
                            _ => next(),
                        })
                        .collect();
                    let bytes: Vec<u8> = stored
                        .iter()
                        .flat_map(|v| v.to_le_bytes()[..width].to_vec())
                        .collect();
                    let (min, max) = match case % 4 {
                        0 => (i64::MIN, i64::MAX),
                        1 => (0, 120),
                        2 => (-5, i64::from(u32::MAX)),
                        _ => (i64::from(i32::MIN), 1 << 40),
                    };
                    let range = Range {
                        min,
                        max,
                        width,
                        sign,
                    };
                    // One by one, as the reader did before.
                    let mut expected: Vec<i64> = Vec::new();
                    let mut bad = false;
                    let one_by_one = plain(&bytes, count, width, sign, |v| {
                        bad |= v < min || v > max;
                        expected.push(v);
                        Some(())
                    });
                    // At once, after values already in the column (the
                    // path of 64-bit values of every 64-bit integer
                    // decodes straight into it).
                    let mut values = Vec::new();
                    let mut got: Vec<i64> = vec![-3, 9];
                    let plain = Encoding::PLAIN;
                    let at_once = append_ints(&bytes, count, plain, range, &mut values, &mut got);
                    match one_by_one {
                        None => assert!(at_once.is_none(), "{width} bytes, {sign:?}: {stored:?}"),
                        Some(()) => {
                            assert_eq!(at_once, Some(!bad), "{width} bytes, {sign:?}: {stored:?}");
                            assert_eq!(got[..2], [-3, 9]);
                            assert_eq!(got[2..], expected);
                        }
                    }
                    // The same values DELTA_BINARY_PACKED (a writer of
                    // 64-bit values only; its arithmetic wraps).
                    if width == 8 && sign == Sign::Signed && count > 0 {
                        let wide: Vec<i64> = stored.iter().map(|&v| v as i64).collect();
                        let packed = delta_encode(&wide);
                        let mut got: Vec<i64> = vec![4];
                        let delta = Encoding::DELTA_BINARY_PACKED;
                        let at_once =
                            append_ints(&packed, count, delta, range, &mut values, &mut got);
                        assert_eq!(at_once, Some(!bad), "delta: {stored:?}");
                        assert_eq!(got[..1], [4]);
                        assert_eq!(got[1..], wide);
                    }
                }
            }
        }
    }

    /// Bits become booleans as read one by one, for lengths that do and
    /// do not end a word.
    #[test]
    fn bits_become_booleans() {
        let words = [0x8000_0000_0000_0001u64, 0xdead_beef_0123_4567, u64::MAX, 0];
        for rows in [0usize, 1, 7, 8, 63, 64, 65, 130, 255, 256] {
            let expected: Vec<bool> = (0..rows).map(|i| bit(&words, i)).collect();
            assert_eq!(
                super::super::decode::bits_to_bools(&words, rows),
                expected,
                "{rows} rows"
            );
        }
    }

    /// Long runs of bits at every offset within a word equal a bit-by-bit
    /// copy, with nothing set outside them.
    #[test]
    fn long_bit_runs_land_at_any_offset() {
        let bytes: Vec<u8> = (0..40u32)
            .map(|k| (k.wrapping_mul(167) ^ 0x5a) as u8)
            .collect();
        for at in 0..130usize {
            for count in [0usize, 5, 63, 64, 65, 200, 320] {
                let mut words = vec![0u64; 8];
                append_bits(&mut words, at, &bytes, count);
                let mut expected = vec![0u64; 8];
                for i in 0..count {
                    if bytes[i / 8] >> (i % 8) & 1 == 1 {
                        expected[(at + i) / 64] |= 1 << ((at + i) % 64);
                    }
                }
                assert_eq!(words, expected, "at {at}, {count} bits");
            }
        }
    }

    #[test]
    fn bits_land_at_any_offset() {
        let bytes = [0b1010_1101u8, 0xff, 0b0000_0001];
        for at in [0usize, 3, 60, 63, 64] {
            let mut words = vec![0u64; 3];
            append_bits(&mut words, at, &bytes, 17);
            for i in 0..17 {
                let expected = bytes[i / 8] >> (i % 8) & 1 == 1;
                let bit = at + i;
                assert_eq!(
                    words[bit / 64] >> (bit % 64) & 1 == 1,
                    expected,
                    "at {at}, bit {i}"
                );
            }
            let ones: u32 = words.iter().map(|w| w.count_ones()).sum();
            assert_eq!(ones, 5 + 8 + 1, "no stray bits at {at}");
        }
    }
}
