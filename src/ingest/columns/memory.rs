//! In-memory Arrow tables as a source of columns (the Python package
//! hands the engine a pyarrow Table, a Polars or pandas DataFrame or a
//! DuckDB relation through the Arrow C stream interface).
//!
//! A table's rows are cut into groups of at most `GROUP_ROWS` rows that
//! follow its record batches: a large batch is sliced (no copy) into
//! groups, and batches smaller than `MIN_GROUP_ROWS` are joined (copied)
//! into one group. Sums are exact, so the grouping cannot change a result.
//! Each (group, request)
//! pair is one task on the pool, and a group's columns are checked and
//! converted by the same `convert` as a Parquet chunk's stored values —
//! type, null and range rules, errors naming the table, column, 1-based row
//! and value — so a table and the Parquet file of the same rows give the
//! same persons, the same errors and the same results.

use super::*;
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, SchemaRef,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::record_batch::RecordBatch;
use std::path::PathBuf;

/// Rows per group of an in-memory table: enough rows that per-group work
/// is small against the rows', few enough that both cores get groups.
const GROUP_ROWS: usize = 1 << 16;

/// A group ends with its batch once it has this many rows; smaller
/// batches are joined with the next.
const MIN_GROUP_ROWS: usize = 1 << 14;

/// An Arrow table held in memory: its schema and record batches, and the
/// label that names it in messages and the manifest (e.g.
/// `<population: pyarrow.Table>`).
#[derive(Debug, Clone)]
pub struct ArrowTable {
    pub label: PathBuf,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl ArrowTable {
    pub fn new(label: impl Into<PathBuf>, schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        ArrowTable {
            label: label.into(),
            schema,
            batches,
        }
    }

    /// All rows of every batch.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The index of the top-level column `name`, if there is exactly one.
    fn index_of(&self, name: &str) -> Result<Option<usize>, InputError> {
        let mut found = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name() == name)
            .map(|(i, _)| i);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(i), None) => Ok(Some(i)),
            (Some(_), Some(_)) => Err(InputError::DuplicateColumn {
                path: self.label.clone(),
                column: name.to_string(),
            }),
        }
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.schema.fields().iter().any(|f| f.name() == name)
    }

    /// The sign and bit width of a top-level integer column.
    pub(super) fn integer_type(&self, name: &str) -> Option<(Sign, u32)> {
        let field = self.schema.fields().iter().find(|f| f.name() == name)?;
        integer_type(field.data_type())
    }

    /// The column a request reads, checked to be of the right kind
    /// (`None`: an optional column the table does not have).
    fn locate(&self, request: &Request) -> Result<Option<(usize, Sign)>, InputError> {
        let Some(index) = self.index_of(&request.name)? else {
            if request.required {
                return Err(InputError::MissingColumn {
                    path: self.label.clone(),
                    column: request.name.clone(),
                    hint: String::new(),
                });
            }
            return Ok(None);
        };
        let data_type = self.schema.field(index).data_type();
        let integer = integer_type(data_type);
        let ok = match request.kind {
            Kind::Int { .. } => integer.is_some(),
            Kind::Bool => *data_type == DataType::Boolean,
            Kind::Float => {
                (integer.is_some() && !request.float_only)
                    || matches!(data_type, DataType::Float32 | DataType::Float64)
            }
        };
        if !ok {
            return Err(InputError::WrongType {
                path: self.label.clone(),
                column: request.name.clone(),
                found: data_type.to_string(),
                expected: match request.kind {
                    Kind::Int { .. } => "an integer".into(),
                    Kind::Bool => "a boolean".into(),
                    Kind::Float if request.float_only => "a float (Float32 or Float64)".into(),
                    Kind::Float => "a float".into(),
                },
            });
        }
        let sign = integer.map_or(Sign::Signed, |(sign, _)| sign);
        Ok(Some((index, sign)))
    }

    pub fn check_schema(&self, requests: &[Request]) -> Result<(), InputError> {
        for request in requests {
            self.locate(request)?;
        }
        Ok(())
    }

    /// The decoding of one (group, request) pair, for `schedule`.
    pub(super) fn decoder<'a>(
        &'a self,
        requests: &'a [Request],
    ) -> Result<impl Fn(Span, usize) -> Result<Part, InputError> + Sync + 'a, InputError> {
        let located: Vec<Option<(usize, Sign)>> = requests
            .iter()
            .map(|r| self.locate(r))
            .collect::<Result<_, _>>()?;
        let batch_rows: Vec<usize> = self.batches.iter().map(RecordBatch::num_rows).collect();
        let batch_starts: Vec<usize> = first_rows(&batch_rows)
            .into_iter()
            .map(|s| s as usize)
            .collect();
        Ok(move |span: Span, k: usize| -> Result<Part, InputError> {
            let Some((index, sign)) = located[k] else {
                return Ok(Part::absent());
            };
            let start = span.first_row as usize;
            let array = self.rows_of(&batch_starts, index, start, span.rows)?;
            part_of(array.as_ref(), sign, &requests[k]).map_err(|(row, value)| {
                cell_error(
                    &self.label,
                    &requests[k],
                    span.first_row + row as u64 + 1,
                    value,
                )
            })
        })
    }

    /// The rows of each group, in order: at most `GROUP_ROWS`, cut where a
    /// batch ends once the group has `MIN_GROUP_ROWS`.
    pub(super) fn group_rows(&self) -> Vec<usize> {
        let mut groups = Vec::new();
        let mut open = 0;
        for batch in &self.batches {
            let mut left = batch.num_rows();
            while left > 0 {
                let take = (GROUP_ROWS - open).min(left);
                open += take;
                left -= take;
                if open == GROUP_ROWS {
                    groups.push(open);
                    open = 0;
                }
            }
            if open >= MIN_GROUP_ROWS {
                groups.push(open);
                open = 0;
            }
        }
        if open > 0 {
            groups.push(open);
        }
        groups
    }

    /// Rows `start..start + len` of column `index`: a slice of one batch,
    /// or the slices of several joined. `batch_starts` is each batch's
    /// first row.
    fn rows_of(
        &self,
        batch_starts: &[usize],
        index: usize,
        start: usize,
        len: usize,
    ) -> Result<ArrayRef, InputError> {
        let end = start + len;
        // The last batch that starts at or before `start`.
        let from_batch = batch_starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        let mut pieces: Vec<ArrayRef> = Vec::new();
        for (batch, &first) in self.batches.iter().zip(batch_starts).skip(from_batch) {
            if first >= end {
                break;
            }
            let n = batch.num_rows();
            let (from, to) = (start.max(first), end.min(first + n));
            if from < to {
                pieces.push(batch.column(index).slice(from - first, to - from));
            }
        }
        match pieces.len() {
            1 => Ok(pieces.swap_remove(0)),
            _ => {
                let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
                arrow::compute::concat(&refs).map_err(|e| InputError::Other {
                    path: self.label.clone(),
                    detail: format!("the table's batches cannot be joined: {e}"),
                })
            }
        }
    }
}

/// The sign and width of an Arrow integer type.
fn integer_type(data_type: &DataType) -> Option<(Sign, u32)> {
    Some(match data_type {
        DataType::Int8 => (Sign::Signed, 8),
        DataType::Int16 => (Sign::Signed, 16),
        DataType::Int32 => (Sign::Signed, 32),
        DataType::Int64 => (Sign::Signed, 64),
        DataType::UInt8 => (Sign::Unsigned, 8),
        DataType::UInt16 => (Sign::Unsigned, 16),
        DataType::UInt32 => (Sign::Unsigned, 32),
        DataType::UInt64 => (Sign::Unsigned, 64),
        _ => return None,
    })
}

/// One group's rows of a column as the request's `Part`. Arrays without
/// nulls take the direct paths (integers: one min/max sweep and a
/// narrowing copy; packed booleans: the bitmap as words); everything else
/// goes through `convert` with the validity as definition levels, as a
/// nullable Parquet column would.
fn part_of(array: &dyn Array, sign: Sign, request: &Request) -> Result<Part, CellFailure> {
    let rows = array.len();
    let part = Part {
        column: empty_column(request),
        given: (request.nulls == Nulls::Default).then(|| Vec::with_capacity(rows)),
        nulls_mapped: 0,
    };
    let no_nulls = array.null_count() == 0;
    if no_nulls {
        if let Kind::Int { min, max, target } = request.kind {
            // 64-bit ids that take every value: the table's buffer lent,
            // not copied (nothing to check).
            let whole_range = (min, max) == (i64::MIN, i64::MAX);
            if request.shared
                && target == Target::I64
                && whole_range
                && part.given.is_none()
                && array.data_type() == &DataType::Int64
            {
                let values = array.as_primitive::<Int64Type>().values().clone();
                return Ok(Part {
                    column: Column::SharedI64(values),
                    ..part
                });
            }
            macro_rules! direct {
                ($t:ty) => {
                    return fast_ints(array.as_primitive::<$t>().values(), min, max, part)
                };
            }
            match array.data_type() {
                DataType::Int8 => direct!(Int8Type),
                DataType::Int16 => direct!(Int16Type),
                DataType::Int32 => direct!(Int32Type),
                DataType::Int64 => direct!(Int64Type),
                DataType::UInt8 => direct!(UInt8Type),
                DataType::UInt16 => direct!(UInt16Type),
                DataType::UInt32 => direct!(UInt32Type),
                _ => {}
            }
        }
        if request.kind == Kind::Bool {
            if let Some(booleans) = array.as_boolean_opt() {
                // The bitmap from bit 0, eight bytes to a little-endian
                // word: row i in bit i % 64 of word i / 64, as `Bits`.
                let bytes = booleans.values().sliced();
                let whole = bytes.as_slice().chunks_exact(8);
                let tail = whole.remainder();
                let mut words: Vec<u64> = Vec::with_capacity(rows.div_ceil(64));
                words.extend(whole.map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default())));
                if !tail.is_empty() {
                    let mut word = [0u8; 8];
                    word[..tail.len()].copy_from_slice(tail);
                    words.push(u64::from_le_bytes(word));
                }
                words.truncate(rows.div_ceil(64));
                if let (Some(last), tail @ 1..) = (words.last_mut(), rows % 64) {
                    *last &= (1u64 << tail) - 1;
                }
                let mut part = part;
                part.column = if request.packed {
                    Column::Bits(words)
                } else {
                    Column::Bool(super::decode::bits_to_bools(&words, rows))
                };
                if let Some(g) = part.given.as_mut() {
                    g.extend(std::iter::repeat_n(true, rows));
                }
                return Ok(part);
            }
        }
    }
    // Only the valid values, as a Parquet column stores them, and the
    // validity as levels (1 = a value, 0 = null).
    let valid = |i: usize| array.is_valid(i);
    macro_rules! values {
        ($t:ty, $wrap:ident, $conv:expr) => {{
            let values = array.as_primitive::<$t>().values();
            Raw::$wrap(if no_nulls {
                values.iter().map(|&v| $conv(v)).collect()
            } else {
                (0..rows)
                    .filter(|&i| valid(i))
                    .map(|i| $conv(values[i]))
                    .collect()
            })
        }};
    }
    let raw = match array.data_type() {
        DataType::Boolean => {
            let booleans = array.as_boolean();
            Raw::Bool(if no_nulls {
                booleans.values().iter().collect()
            } else {
                (0..rows)
                    .filter(|&i| valid(i))
                    .map(|i| booleans.value(i))
                    .collect()
            })
        }
        DataType::Int8 => values!(Int8Type, I32, i32::from),
        DataType::Int16 => values!(Int16Type, I32, i32::from),
        DataType::Int32 => values!(Int32Type, I32, |v| v),
        DataType::Int64 => values!(Int64Type, I64, |v| v),
        DataType::UInt8 => values!(UInt8Type, I32, i32::from),
        DataType::UInt16 => values!(UInt16Type, I32, i32::from),
        // Stored as the bits of a signed value, read back unsigned.
        DataType::UInt32 => values!(UInt32Type, I32, |v: u32| v as i32),
        DataType::UInt64 => values!(UInt64Type, I64, |v: u64| v as i64),
        DataType::Float32 => values!(Float32Type, F32, |v| v),
        DataType::Float64 => values!(Float64Type, F64, |v| v),
        _ => return Err((0, Some(format!("<{}>", array.data_type())))),
    };
    // Widened narrow types read as signed 32-bit values; only the
    // unsigned 32- and 64-bit ones keep the unsigned reading.
    let sign = match array.data_type() {
        DataType::UInt32 | DataType::UInt64 => sign,
        _ => Sign::Signed,
    };
    let levels = (!no_nulls).then(|| (0..rows).map(|i| i16::from(valid(i))).collect());
    let place = Located {
        leaf: 0,
        max_def: 1,
        sign,
    };
    let part = convert((raw, levels), &place, rows, request)?;
    Ok(pack_if_asked(part, request, rows))
}
