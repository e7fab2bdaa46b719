//! Reading named columns of a Parquet file into compact typed vectors.
//!
//! Only the requested columns are decoded (projection), one row group per
//! task on the rayon pool, and each value is checked as it is converted:
//! type, nulls and range. A failure names the file, column, 1-based row and
//! value. Results are concatenated in row-group order and errors are
//! reported for the first failing row group, so the outcome does not depend
//! on the thread count.

use crate::error::InputError;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::{
    DataType, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;
use std::fs::File;
use std::path::Path;

/// What a column must hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// An integer of any width, within `min..=max`, stored as `target`.
    Int {
        min: i64,
        max: i64,
        target: Target,
    },
    Bool,
    /// A float (or integer, converted) that must be finite and satisfy the
    /// request's `check`.
    Float,
}

/// The storage type an integer column is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    U8,
    I16,
    I32,
    I64,
}

/// What a null in the column means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nulls {
    /// A null is an error.
    Reject,
    /// A null becomes this value and is counted.
    MapTo(i64),
    /// A null becomes `false` / the default and is not an error (optional
    /// columns whose default the caller applies).
    Default,
}

/// One column to read.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub nulls: Nulls,
    /// Human text for range errors, e.g. "an age 0..=120".
    pub expected: String,
    /// For floats: a predicate the value must meet, with its description.
    pub float_check: Option<fn(f64) -> bool>,
    /// Appended to a null error, e.g. how to map nulls instead.
    pub null_hint: String,
}

impl Request {
    pub fn int(name: &str, min: i64, max: i64, target: Target, expected: &str) -> Self {
        Request {
            name: name.to_string(),
            kind: Kind::Int { min, max, target },
            required: true,
            nulls: Nulls::Reject,
            expected: expected.to_string(),
            float_check: None,
            null_hint: String::new(),
        }
    }

    pub fn boolean(name: &str) -> Self {
        Request {
            name: name.to_string(),
            kind: Kind::Bool,
            required: true,
            nulls: Nulls::Reject,
            expected: "true or false".to_string(),
            float_check: None,
            null_hint: String::new(),
        }
    }

    pub fn float(name: &str, check: fn(f64) -> bool, expected: &str) -> Self {
        Request {
            name: name.to_string(),
            kind: Kind::Float,
            required: true,
            nulls: Nulls::Reject,
            expected: expected.to_string(),
            float_check: Some(check),
            null_hint: String::new(),
        }
    }

    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    pub fn null_hint(mut self, hint: &str) -> Self {
        self.null_hint = hint.to_string();
        self
    }

    pub fn nulls(mut self, nulls: Nulls) -> Self {
        self.nulls = nulls;
        self
    }
}

/// A decoded column (or the part of it from one row group).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    U8(Vec<u8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    F64(Vec<f64>),
    /// An optional column the file does not have.
    Absent,
}

/// A decoded row group: one `Column` per request, plus the validity of
/// columns read with `Nulls::Default` (true = the value was given), and the
/// count of nulls mapped for each request.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub columns: Vec<Column>,
    pub given: Vec<Option<Vec<bool>>>,
    pub nulls_mapped: Vec<u64>,
    pub rows: usize,
}

/// Where the rows of a file come from.
pub struct ParquetFile {
    pub path: std::path::PathBuf,
    metadata: ArrowReaderMetadata,
}

impl ParquetFile {
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let file = open_file(path)?;
        let metadata = ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| {
            InputError::NotParquet {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        })?;
        Ok(ParquetFile {
            path: path.to_path_buf(),
            metadata,
        })
    }

    pub fn num_rows(&self) -> u64 {
        self.metadata.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Whether the file has a column of this name.
    pub fn has_column(&self, name: &str) -> bool {
        self.metadata
            .schema()
            .fields()
            .iter()
            .any(|f| f.name() == name)
    }

    /// Decodes the requested columns, one row group per task, and hands
    /// each decoded row group to `finish` (also on the worker), returning
    /// the results in row-group order.
    pub fn read<T, F>(&self, requests: &[Request], finish: F) -> Result<Vec<T>, InputError>
    where
        T: Send,
        F: Fn(Chunk, u64) -> Result<T, InputError> + Sync,
    {
        let schema = self.metadata.schema();
        let mut roots = Vec::new();
        // For each request, its position among the projected columns.
        let mut positions: Vec<Option<String>> = Vec::with_capacity(requests.len());
        for request in requests {
            let matches: Vec<usize> = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name() == &request.name)
                .map(|(i, _)| i)
                .collect();
            match matches.as_slice() {
                [] if request.required => {
                    return Err(InputError::MissingColumn {
                        path: self.path.clone(),
                        column: request.name.clone(),
                        hint: String::new(),
                    })
                }
                [] => positions.push(None),
                [index] => {
                    check_type(&self.path, request, schema.field(*index).data_type())?;
                    if !roots.contains(index) {
                        roots.push(*index);
                    }
                    positions.push(Some(request.name.clone()));
                }
                _ => {
                    return Err(InputError::DuplicateColumn {
                        path: self.path.clone(),
                        column: request.name.clone(),
                    })
                }
            }
        }
        let mask = ProjectionMask::roots(self.metadata.parquet_schema(), roots);

        let row_groups = self.metadata.metadata().row_groups();
        let mut offsets = Vec::with_capacity(row_groups.len());
        let mut offset = 0u64;
        for group in row_groups {
            offsets.push(offset);
            offset += group.num_rows().max(0) as u64;
        }

        (0..row_groups.len())
            .into_par_iter()
            .map(|group| {
                let rows = row_groups[group].num_rows().max(0) as usize;
                let file = open_file(&self.path)?;
                let reader =
                    ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                        .with_row_groups(vec![group])
                        .with_projection(mask.clone())
                        .with_batch_size(rows.max(1))
                        .build()
                        .map_err(|e| self.not_parquet(e))?;
                let mut chunk = Chunk {
                    columns: requests
                        .iter()
                        .zip(&positions)
                        .map(|(r, p)| match p {
                            Some(_) => empty_column(r),
                            None => Column::Absent,
                        })
                        .collect(),
                    given: requests
                        .iter()
                        .map(|r| (r.nulls == Nulls::Default).then(Vec::new))
                        .collect(),
                    nulls_mapped: vec![0; requests.len()],
                    rows: 0,
                };
                let mut row = offsets[group];
                for batch in reader {
                    let batch = batch.map_err(|e| self.not_parquet(e))?;
                    self.convert_batch(&batch, requests, &positions, row, &mut chunk)?;
                    row += batch.num_rows() as u64;
                    chunk.rows += batch.num_rows();
                }
                if chunk.rows != rows {
                    return Err(InputError::NotParquet {
                        path: self.path.clone(),
                        detail: format!(
                            "row group {group} declares {rows} rows but holds {}",
                            chunk.rows
                        ),
                    });
                }
                finish(chunk, offsets[group])
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    }

    fn not_parquet(&self, error: impl std::fmt::Display) -> InputError {
        InputError::NotParquet {
            path: self.path.clone(),
            detail: error.to_string(),
        }
    }

    fn convert_batch(
        &self,
        batch: &RecordBatch,
        requests: &[Request],
        positions: &[Option<String>],
        first_row: u64,
        chunk: &mut Chunk,
    ) -> Result<(), InputError> {
        for (k, request) in requests.iter().enumerate() {
            let Some(name) = &positions[k] else {
                continue;
            };
            let Some(array) = batch.column_by_name(name) else {
                return Err(self.not_parquet(format!("column `{name}` vanished while reading")));
            };
            let array = unpack_dictionary(array).map_err(|e| self.not_parquet(e))?;
            let cell = |row: usize, value: Option<String>| -> InputError {
                let row = first_row + row as u64 + 1;
                match value {
                    None => InputError::Null {
                        path: self.path.clone(),
                        column: request.name.clone(),
                        row,
                        hint: request.null_hint.clone(),
                    },
                    Some(value) => InputError::BadValue {
                        path: self.path.clone(),
                        column: request.name.clone(),
                        row,
                        value,
                        expected: request.expected.clone(),
                    },
                }
            };
            convert(
                &array,
                request,
                &mut chunk.columns[k],
                chunk.given[k].as_mut(),
                &mut chunk.nulls_mapped[k],
            )
            .map_err(|(row, value)| cell(row, value))?;
        }
        Ok(())
    }
}

fn open_file(path: &Path) -> Result<File, InputError> {
    let file = File::open(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(InputError::Open {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is a directory"),
        });
    }
    Ok(file)
}

fn empty_column(request: &Request) -> Column {
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

fn value_type(data_type: &DataType) -> &DataType {
    match data_type {
        DataType::Dictionary(_, value) => value,
        other => other,
    }
}

fn is_integer(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

fn check_type(path: &Path, request: &Request, data_type: &DataType) -> Result<(), InputError> {
    let inner = value_type(data_type);
    let (ok, expected) = match request.kind {
        Kind::Int { .. } => (is_integer(inner), "an integer"),
        Kind::Bool => (matches!(inner, DataType::Boolean), "a boolean"),
        Kind::Float => (
            matches!(inner, DataType::Float32 | DataType::Float64) || is_integer(inner),
            "a float",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(InputError::WrongType {
            path: path.to_path_buf(),
            column: request.name.clone(),
            found: data_type.to_string(),
            expected: expected.to_string(),
        })
    }
}

fn unpack_dictionary(array: &ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
    match array.data_type() {
        DataType::Dictionary(_, value) => arrow::compute::cast(array, value),
        _ => Ok(array.clone()),
    }
}

/// A failed cell: its 0-based row within the batch and its value as text
/// (`None` for a null).
type CellFailure = (usize, Option<String>);

fn convert(
    array: &ArrayRef,
    request: &Request,
    out: &mut Column,
    given: Option<&mut Vec<bool>>,
    nulls_mapped: &mut u64,
) -> Result<(), CellFailure> {
    match request.kind {
        Kind::Int { min, max, .. } => {
            let mut push = IntSink { out, min, max };
            macro_rules! ints {
                ($t:ty) => {{
                    let a = array.as_primitive::<$t>();
                    let values = a.values();
                    // Fast path: no nulls and every value in range, checked
                    // with one min/max sweep, then one narrowing copy.
                    let in_range = a.null_count() == 0
                        && match (values.iter().min(), values.iter().max()) {
                            (Some(&lo), Some(&hi)) => {
                                lo as i128 >= i128::from(min) && hi as i128 <= i128::from(max)
                            }
                            _ => true,
                        };
                    if in_range {
                        push.extend(values.iter().map(|&v| v as i64));
                        if let Some(g) = given {
                            g.extend(std::iter::repeat_n(true, values.len()));
                        }
                        return Ok(());
                    }
                    convert_ints(
                        a.values().iter().map(|&v| v as i128),
                        a,
                        request,
                        &mut push,
                        given,
                        nulls_mapped,
                    )
                }};
            }
            match array.data_type() {
                DataType::Int8 => ints!(Int8Type),
                DataType::Int16 => ints!(Int16Type),
                DataType::Int32 => ints!(Int32Type),
                DataType::Int64 => ints!(Int64Type),
                DataType::UInt8 => ints!(UInt8Type),
                DataType::UInt16 => ints!(UInt16Type),
                DataType::UInt32 => ints!(UInt32Type),
                DataType::UInt64 => ints!(UInt64Type),
                other => Err((0, Some(format!("<{other}>")))),
            }
        }
        Kind::Bool => {
            let Column::Bool(out) = out else {
                return Err((0, Some("<internal: column kind>".into())));
            };
            let a: &BooleanArray = array.as_boolean();
            out.reserve(a.len());
            let mut given = given;
            for i in 0..a.len() {
                if a.is_null(i) {
                    match request.nulls {
                        Nulls::Reject => return Err((i, None)),
                        Nulls::MapTo(v) => {
                            *nulls_mapped += 1;
                            out.push(v != 0);
                        }
                        Nulls::Default => out.push(false),
                    }
                    if let Some(g) = given.as_deref_mut() {
                        g.push(false);
                    }
                } else {
                    out.push(a.value(i));
                    if let Some(g) = given.as_deref_mut() {
                        g.push(true);
                    }
                }
            }
            Ok(())
        }
        Kind::Float => {
            let Column::F64(out) = out else {
                return Err((0, Some("<internal: column kind>".into())));
            };
            let floats: ArrayRef = match array.data_type() {
                DataType::Float64 => array.clone(),
                _ => arrow::compute::cast(array, &DataType::Float64)
                    .map_err(|e| (0, Some(format!("<{e}>"))))?,
            };
            let a = floats.as_primitive::<Float64Type>();
            let check = request.float_check.unwrap_or(|v: f64| v.is_finite());
            out.reserve(a.len());
            let mut given = given;
            for (i, &v) in a.values().iter().enumerate() {
                if a.is_null(i) {
                    match request.nulls {
                        Nulls::Reject => return Err((i, None)),
                        Nulls::MapTo(m) => {
                            *nulls_mapped += 1;
                            out.push(m as f64);
                        }
                        Nulls::Default => out.push(f64::NAN),
                    }
                    if let Some(g) = given.as_deref_mut() {
                        g.push(false);
                    }
                    continue;
                }
                if !v.is_finite() || !check(v) {
                    return Err((i, Some(v.to_string())));
                }
                out.push(v);
                if let Some(g) = given.as_deref_mut() {
                    g.push(true);
                }
            }
            Ok(())
        }
    }
}

struct IntSink<'a> {
    out: &'a mut Column,
    min: i64,
    max: i64,
}

impl IntSink<'_> {
    /// Appends values already checked to lie in range.
    fn extend(&mut self, values: impl Iterator<Item = i64>) {
        match self.out {
            Column::U8(v) => v.extend(values.map(|x| x as u8)),
            Column::I16(v) => v.extend(values.map(|x| x as i16)),
            Column::I32(v) => v.extend(values.map(|x| x as i32)),
            Column::I64(v) => v.extend(values),
            _ => {}
        }
    }

    #[inline]
    fn push(&mut self, value: i64) {
        match self.out {
            Column::U8(v) => v.push(value as u8),
            Column::I16(v) => v.push(value as i16),
            Column::I32(v) => v.push(value as i32),
            Column::I64(v) => v.push(value),
            _ => {}
        }
    }
}

/// Converts integers, checking the range before narrowing (the request's
/// range always lies within the target type, so the narrowing cast is exact).
fn convert_ints(
    values: impl Iterator<Item = i128>,
    array: &dyn Array,
    request: &Request,
    sink: &mut IntSink<'_>,
    given: Option<&mut Vec<bool>>,
    nulls_mapped: &mut u64,
) -> Result<(), CellFailure> {
    let (min, max) = (i128::from(sink.min), i128::from(sink.max));
    let has_nulls = array.null_count() > 0;
    let mut given = given;
    for (i, v) in values.enumerate() {
        if has_nulls && array.is_null(i) {
            match request.nulls {
                Nulls::Reject => return Err((i, None)),
                Nulls::MapTo(m) => {
                    *nulls_mapped += 1;
                    sink.push(m);
                }
                Nulls::Default => sink.push(sink.min.max(0)),
            }
            if let Some(g) = given.as_deref_mut() {
                g.push(false);
            }
            continue;
        }
        if v < min || v > max {
            return Err((i, Some(v.to_string())));
        }
        sink.push(v as i64);
        if let Some(g) = given.as_deref_mut() {
            g.push(true);
        }
    }
    Ok(())
}

/// Appends the parts of a column from several row groups.
pub fn concat(parts: impl Iterator<Item = Column>) -> Column {
    let mut result: Option<Column> = None;
    for part in parts {
        result = Some(match (result, part) {
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
            _ => Vec::new(),
        }
    }
    pub fn into_bool(self) -> Vec<bool> {
        match self {
            Column::Bool(v) => v,
            _ => Vec::new(),
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
