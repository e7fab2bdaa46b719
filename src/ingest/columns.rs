//! Reading named columns of a Parquet file into compact typed vectors.
//!
//! Only the requested columns are decoded, straight from the `parquet`
//! crate's column readers into plain vectors — no Arrow arrays. A source
//! of at least two row groups per thread is read one task per row group,
//! each merged as soon as the groups before it are, so a large file
//! streams through bounded memory; a file of fewer row groups is read one
//! task per (row group, column) pair, a window of groups at a time, so
//! both cores are busy. Each value is checked as it
//! is converted: type, nulls and range; a failure names the file, column,
//! 1-based row and value. Results are assembled in row-group order and the
//! error reported is the first in (row group, column) order, so the outcome
//! does not depend on the thread count.

use crate::error::InputError;
use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::column::reader::ColumnReader;
use parquet::file::metadata::page_index::RowGroupPageIndex;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::properties::ReaderProperties;
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::{SerializedFileReader, SerializedRowGroupReader};
use parquet::schema::types::ColumnDescriptor;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

mod chunk;
mod decode;
mod memory;
mod pages;
mod reader;
mod schema;
#[doc(hidden)]
pub mod snappy; // public for the `snappy` fuzz target and the `codecs` bench

use chunk::*;
pub use decode::concat;
use decode::*;
pub use memory::ArrowTable;
use schema::{describe, Sign};
pub use schema::{Kind, Nulls, Request, Target};

/// 64-bit integers (person ids) owned or lent by an Arrow buffer held in
/// memory; either way a slice (`Deref`), cloned without a copy.
pub type IdValues = arrow::buffer::ScalarBuffer<i64>;

/// A decoded column (or the part of it from one row group).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    U8(Vec<u8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    /// 64-bit integers lent by an in-memory Arrow table without a copy
    /// (only for requests marked `shared`, whose caller takes `into_id_values`).
    SharedI64(IdValues),
    Bool(Vec<bool>),
    /// Booleans packed 64 to a word, row `i` in bit `i % 64` of word `i / 64`
    /// (only for requests marked `packed`).
    Bits(Vec<u64>),
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

/// A handle to one requested column: what `Requests::push` returns, and
/// how a `Chunk`'s values are taken (no positional order to keep in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnId(usize);

/// The columns requested of a file, each with its handle.
#[derive(Debug, Clone, Default)]
pub struct Requests(Vec<Request>);

impl Requests {
    pub fn new() -> Requests {
        Requests(Vec::new())
    }

    /// Adds a request; its values are taken from a `Chunk` by the handle.
    pub fn push(&mut self, request: Request) -> ColumnId {
        self.0.push(request);
        ColumnId(self.0.len() - 1)
    }

    pub fn as_slice(&self) -> &[Request] {
        &self.0
    }
}

impl Chunk {
    /// Takes the column `id` out of the chunk (`Absent` after).
    pub fn take(&mut self, id: ColumnId) -> Column {
        self.columns
            .get_mut(id.0)
            .map_or(Column::Absent, |c| std::mem::replace(c, Column::Absent))
    }

    /// Takes the validity of column `id` (read with `Nulls::Default`).
    pub fn take_given(&mut self, id: ColumnId) -> Option<Vec<bool>> {
        self.given.get_mut(id.0).and_then(Option::take)
    }

    /// Nulls mapped in column `id`.
    pub fn nulls_mapped(&self, id: ColumnId) -> u64 {
        self.nulls_mapped.get(id.0).copied().unwrap_or(0)
    }

    /// The row groups' chunks of a file as one: columns concatenated in
    /// order, validity concatenated where given, nulls added.
    pub fn concat(chunks: Vec<Chunk>, requests: &Requests) -> Chunk {
        let n = requests.0.len();
        let mut columns: Vec<Vec<Column>> = vec![Vec::new(); n];
        let mut given: Vec<Option<Vec<bool>>> = vec![None; n];
        let mut nulls_mapped = vec![0u64; n];
        let mut rows = 0;
        for chunk in chunks {
            rows += chunk.rows;
            for (k, column) in chunk.columns.into_iter().enumerate().take(n) {
                columns[k].push(column);
            }
            for (k, part) in chunk.given.into_iter().enumerate().take(n) {
                if let Some(part) = part {
                    given[k].get_or_insert_with(Vec::new).extend(part);
                }
            }
            for (k, mapped) in chunk.nulls_mapped.into_iter().enumerate().take(n) {
                nulls_mapped[k] += mapped;
            }
        }
        Chunk {
            columns: columns
                .into_iter()
                .map(|parts| concat(parts.into_iter()))
                .collect(),
            given,
            nulls_mapped,
            rows,
        }
    }
}

/// Where a table's columns come from: a Parquet file, or an Arrow table
/// held in memory. Both read through the same requests, checks and
/// scheduler.
pub enum Table {
    Parquet(ParquetFile),
    Memory(Arc<ArrowTable>),
}

impl Table {
    /// The in-memory table when one is given, else the Parquet file at `path`.
    pub fn open(path: &Path, memory: Option<&Arc<ArrowTable>>) -> Result<Table, InputError> {
        match memory {
            Some(table) => Ok(Table::Memory(Arc::clone(table))),
            None => ParquetFile::open(path).map(Table::Parquet),
        }
    }

    /// All rows: the row groups' declared rows, or the table's.
    pub fn rows(&self) -> u64 {
        match self {
            Table::Parquet(file) => file.group_rows().iter().map(|&n| n as u64).sum(),
            Table::Memory(table) => table.rows() as u64,
        }
    }

    /// The file's path, or the in-memory table's label.
    pub fn path(&self) -> &Path {
        match self {
            Table::Parquet(file) => &file.path,
            Table::Memory(table) => &table.label,
        }
    }

    pub fn has_column(&self, name: &str) -> bool {
        match self {
            Table::Parquet(file) => file.has_column(name),
            Table::Memory(table) => table.has_column(name),
        }
    }

    pub fn check_schema(&self, requests: &[Request]) -> Result<(), InputError> {
        match self {
            Table::Parquet(file) => file.check_schema(requests),
            Table::Memory(table) => table.check_schema(requests),
        }
    }

    /// The sign and declared bit width of a top-level integer column
    /// (`None`: no such column, or not a plain integer one).
    fn integer_type(&self, name: &str) -> Option<(Sign, u32)> {
        match self {
            Table::Parquet(file) => file.integer_type(name),
            Table::Memory(table) => table.integer_type(name),
        }
    }

    /// The declared bit width of a top-level integer column.
    pub fn integer_bits(&self, name: &str) -> Option<u32> {
        self.integer_type(name).map(|(_, bits)| bits)
    }

    /// The narrowest `Target` that holds every value of a top-level
    /// integer column, from its declared type (`I64` when it is not a
    /// plain integer column: the read then reports what it is).
    pub fn integer_target(&self, name: &str) -> Target {
        match self.integer_type(name) {
            Some((Sign::Unsigned, 8)) => Target::U8,
            Some((Sign::Signed, ..=16) | (Sign::Unsigned, ..=8)) => Target::I16,
            Some((Sign::Signed, ..=32) | (Sign::Unsigned, ..=16)) => Target::I32,
            _ => Target::I64,
        }
    }

    /// Every group's `finish` result, in order (`read_windowed` with one
    /// window).
    pub fn read<T, F>(&self, requests: &[Request], finish: F) -> Result<Vec<T>, InputError>
    where
        T: Send,
        F: Fn(Chunk, u64) -> Result<T, InputError> + Sync,
    {
        let mut out = Vec::new();
        self.read_windowed(requests, usize::MAX, finish, |t| {
            out.push(t);
            Ok(())
        })?;
        Ok(out)
    }

    /// Decodes the requested columns of each group (row groups of a file,
    /// `ArrowTable`'s groups of a table); each decoded group goes to
    /// `finish` (also on the pool) and its result to `merge` in group
    /// order. A source of enough groups to share out runs one task per
    /// group, started in group order and merged as soon as the groups
    /// before it are (`in_order`: memory holds the groups in flight and
    /// the results that finished ahead of an earlier group); a file of
    /// fewer groups runs one task per (group, column) pair, `window`
    /// groups at a time, merged after each window.
    pub fn read_windowed<T, F>(
        &self,
        requests: &[Request],
        window: usize,
        finish: F,
        merge: impl FnMut(T) -> Result<(), InputError> + Send,
    ) -> Result<(), InputError>
    where
        T: Send,
        F: Fn(Chunk, u64) -> Result<T, InputError> + Sync,
    {
        let n = requests.len();
        match self {
            Table::Parquet(file) => {
                let decode = file.decoder(requests)?;
                // Row groups enough for two per thread: one task per
                // group, as for tables in memory (2-4% faster on Polars'
                // and DuckDB's files of about 50 groups, 7-8% on
                // pyarrow's of 6); fewer: one per column, so that every
                // core has work.
                let groups = file.group_rows();
                let tasks = if groups.len() >= 2 * rayon::current_num_threads() {
                    Tasks::PerGroup
                } else {
                    Tasks::PerColumn { window }
                };
                schedule(&groups, n, tasks, decode, finish, merge)
            }
            Table::Memory(table) => {
                let decode = table.decoder(requests)?;
                // The table is in memory already: one task per group (a
                // table's run shows no progress bar).
                let tasks = Tasks::PerGroup;
                schedule(&table.group_rows(), n, tasks, decode, finish, merge)
            }
        }
    }
}

/// Where the rows of a file come from: its path and parsed footer.
pub struct ParquetFile {
    pub path: std::path::PathBuf,
    metadata: Arc<ParquetMetaData>,
    /// The file, open once: every column chunk is read from it.
    file: std::fs::File,
}

/// Values of one column chunk as the file stores them, with definition
/// levels when the column may hold nulls.
enum Raw {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// A requested column's place in the file and how to read it.
#[derive(Clone)]
struct Located {
    leaf: usize,
    max_def: i16,
    sign: Sign,
}

impl ParquetFile {
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let metadata = std::fs::metadata(path).map_err(|source| InputError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        if metadata.is_dir() {
            return Err(InputError::Open {
                path: path.to_path_buf(),
                source: std::io::Error::other("it is a directory"),
            });
        }
        let file = std::fs::File::open(path).map_err(|source| InputError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let footer = file.try_clone().map_err(|source| InputError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let reader = SerializedFileReader::new(footer).map_err(|e| InputError::NotParquet {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let metadata = Arc::new(reader.metadata().clone());
        check_chunks(&metadata, path)?;
        Ok(ParquetFile {
            path: path.to_path_buf(),
            metadata,
            file,
        })
    }

    /// Whether the file has a top-level column of this name.
    pub fn has_column(&self, name: &str) -> bool {
        self.metadata
            .file_metadata()
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .any(|f| f.name() == name)
    }

    /// Checks that every request names a column of the right kind, as a
    /// read would, without reading any values.
    pub fn check_schema(&self, requests: &[Request]) -> Result<(), InputError> {
        for request in requests {
            self.locate(request)?;
        }
        Ok(())
    }

    /// The sign and declared bit width of a top-level integer column
    /// (`None`: no such column, or not a plain integer one).
    fn integer_type(&self, name: &str) -> Option<(Sign, u32)> {
        let schema = self.metadata.file_metadata().schema_descr();
        let leaf = (0..schema.num_columns()).find(|&i| {
            let column = schema.column(i);
            let parts = column.path().parts();
            parts.len() == 1 && parts[0] == name
        })?;
        let (found, integer, sign) = describe(&schema.column(leaf));
        if !integer {
            return None;
        }
        let bits = found
            .trim_start_matches("UInt")
            .trim_start_matches("Int")
            .parse()
            .ok()?;
        Some((sign, bits))
    }

    fn locate(&self, request: &Request) -> Result<Option<Located>, InputError> {
        let schema = self.metadata.file_metadata().schema_descr();
        let roots: Vec<_> = schema
            .root_schema()
            .get_fields()
            .iter()
            .filter(|f| f.name() == request.name)
            .collect();
        match roots.len() {
            0 if request.required => {
                return Err(InputError::MissingColumn {
                    path: self.path.clone(),
                    column: request.name.clone(),
                    hint: String::new(),
                })
            }
            0 => return Ok(None),
            1 => {}
            _ => {
                return Err(InputError::DuplicateColumn {
                    path: self.path.clone(),
                    column: request.name.clone(),
                })
            }
        }
        let wrong = |found: String| InputError::WrongType {
            path: self.path.clone(),
            column: request.name.clone(),
            found,
            expected: match request.kind {
                Kind::Int { .. } => "an integer".into(),
                Kind::Bool => "a boolean".into(),
                Kind::Float if request.float_only => "a float (Float32 or Float64)".into(),
                Kind::Float => "a float".into(),
            },
        };
        if roots[0].is_group() {
            return Err(wrong("a nested group or list".into()));
        }
        let leaf = (0..schema.num_columns())
            .find(|&i| {
                let column = schema.column(i);
                let parts = column.path().parts();
                parts.len() == 1 && parts[0] == request.name
            })
            .ok_or_else(|| wrong("a nested group or list".into()))?;
        let descr = schema.column(leaf);
        if descr.max_rep_level() > 0 {
            return Err(wrong("a repeated (list) column".into()));
        }
        let (name, integer, sign) = describe(&descr);
        let ok = match request.kind {
            Kind::Int { .. } => integer,
            Kind::Bool => descr.physical_type() == PhysicalType::BOOLEAN,
            Kind::Float => {
                (integer && !request.float_only)
                    || matches!(
                        descr.physical_type(),
                        PhysicalType::DOUBLE | PhysicalType::FLOAT
                    ) && descr.logical_type_ref().is_none()
            }
        };
        if !ok {
            return Err(wrong(name));
        }
        Ok(Some(Located {
            leaf,
            max_def: descr.max_def_level(),
            sign,
        }))
    }

    /// The rows of each row group.
    fn group_rows(&self) -> Vec<usize> {
        self.metadata
            .row_groups()
            .iter()
            .map(|g| g.num_rows().max(0) as usize)
            .collect()
    }

    /// The decoding of one (row group, request) pair, for `schedule`.
    fn decoder<'a>(
        &'a self,
        requests: &'a [Request],
    ) -> Result<impl Fn(Span, usize) -> Result<Part, InputError> + Sync + 'a, InputError> {
        let located: Vec<Option<Located>> = requests
            .iter()
            .map(|r| self.locate(r))
            .collect::<Result<_, _>>()?;
        Ok(move |span: Span, k: usize| -> Result<Part, InputError> {
            let Some(place) = &located[k] else {
                return Ok(Part::absent());
            };
            let (g, rows) = (span.group, span.rows);
            let chunk = self.chunk_bytes(g, place.leaf)?;
            if let Some(part) = self.fast(&chunk, g, place, rows, &requests[k]) {
                return Ok(part);
            }
            let raw = self.decode(chunk, g, place, rows)?;
            let part = convert(raw, place, rows, &requests[k]).map_err(|(row, value)| {
                cell_error(
                    &self.path,
                    &requests[k],
                    span.first_row + row as u64 + 1,
                    value,
                )
            })?;
            Ok(pack_if_asked(part, &requests[k], rows))
        })
    }

    fn not_parquet(&self, error: impl std::fmt::Display) -> InputError {
        InputError::NotParquet {
            path: self.path.clone(),
            detail: error.to_string(),
        }
    }

    /// The fast path for the common case — an integer or boolean column
    /// chunk, required or optional, whose pages are PLAIN,
    /// dictionary-encoded, DELTA_BINARY_PACKED or (booleans) RLE — decoded
    /// page by page straight into the requested type (booleans as bits),
    /// with the same range checks and null rules. `None` means "take the
    /// general path": another encoding, a null the request rejects, a
    /// value out of range, or any damage; the general path then decodes
    /// the chunk and words any error, so both paths accept and reject
    /// exactly the same files.
    fn fast(
        &self,
        chunk: &Arc<ChunkBytes>,
        group: usize,
        place: &Located,
        rows: usize,
        request: &Request,
    ) -> Option<Part> {
        if place.max_def > 1 || !matches!(request.kind, Kind::Int { .. } | Kind::Bool) {
            return None;
        }
        let column = self.metadata.row_group(group).column(place.leaf);
        let pages = reader::ChunkPages::new(&chunk.bytes, column.compression());
        let physical = column.column_descr().physical_type();
        guarded(|| pages::decode(pages, physical, place.sign, place.max_def, rows, request))
            .ok()
            .flatten()
    }

    /// The bytes of one column chunk, read in one go (one `pread` into
    /// unzeroed capacity), so its pages cost no further system calls.
    fn chunk_bytes(&self, group: usize, leaf: usize) -> Result<Arc<ChunkBytes>, InputError> {
        let (start, length) = self.metadata.row_group(group).column(leaf).byte_range();
        ChunkBytes::read(&self.file, start, length)
            .map(Arc::new)
            .map_err(|e| self.not_parquet(e))
    }

    fn reader_on(
        &self,
        chunk: Arc<ChunkBytes>,
        group: usize,
    ) -> Result<SerializedRowGroupReader<'_, ChunkBytes>, InputError> {
        let properties = Arc::new(
            ReaderProperties::builder()
                .set_read_bloom_filter(false)
                .build(),
        );
        SerializedRowGroupReader::new(
            chunk,
            self.metadata.row_group(group),
            RowGroupPageIndex::new(group, None),
            properties,
        )
        .map_err(|e| self.not_parquet(e))
    }

    /// Checks that a dictionary page's bytes can hold the values it
    /// declares: the `parquet` crate sizes its buffer by the declared count
    /// before decoding (found by fuzzing: `population_file`, oom-b8d34ef4,
    /// a page of a few hundred bytes declaring 1.4 billion 8-byte values —
    /// an 11 GB allocation that aborts the process).
    fn dictionary_fits(
        &self,
        chunk: &Arc<ChunkBytes>,
        group: usize,
        leaf: usize,
    ) -> Result<(), InputError> {
        let reader = self.reader_on(Arc::clone(chunk), group)?;
        let Ok(mut pages) = reader.get_column_page_reader(leaf) else {
            // The decoder words this error.
            return Ok(());
        };
        let Ok(Some(Page::DictionaryPage {
            buf, num_values, ..
        })) = pages.get_next_page()
        else {
            return Ok(());
        };
        let descr = self.metadata.file_metadata().schema_descr().column(leaf);
        let n = u64::from(num_values);
        let needed = match descr.physical_type() {
            PhysicalType::BOOLEAN => n.div_ceil(8),
            PhysicalType::INT32 | PhysicalType::FLOAT => n * 4,
            PhysicalType::INT64 | PhysicalType::DOUBLE => n * 8,
            PhysicalType::INT96 => n * 12,
            // A length prefix per value.
            PhysicalType::BYTE_ARRAY => n * 4,
            PhysicalType::FIXED_LEN_BYTE_ARRAY => {
                n * u64::try_from(descr.type_length()).unwrap_or(0)
            }
        };
        if needed > buf.len() as u64 {
            return Err(self.not_parquet(format!(
                "row group {group}, column `{}`: a dictionary page declares {num_values} values but holds {} bytes",
                descr.name(),
                buf.len()
            )));
        }
        Ok(())
    }

    /// Reads one column chunk: its stored values and, for a nullable
    /// column, its definition levels.
    fn decode(
        &self,
        chunk: Arc<ChunkBytes>,
        group: usize,
        place: &Located,
        rows: usize,
    ) -> Result<(Raw, Option<Vec<i16>>), InputError> {
        let codec = self
            .metadata
            .row_group(group)
            .column(place.leaf)
            .compression();
        if let Some((page, size, declared)) = reader::oversized_page(&chunk.bytes, codec) {
            let name = self
                .metadata
                .file_metadata()
                .schema_descr()
                .column(place.leaf);
            return Err(self.not_parquet(format!(
                "row group {group}, column `{}`: page {} declares {declared} bytes uncompressed, more than its {size} bytes compressed with {} can make",
                name.name(),
                page + 1,
                reader::codec_name(codec)
            )));
        }
        match guarded(|| self.dictionary_fits(&chunk, group, place.leaf)) {
            Ok(fits) => fits?,
            Err(message) => {
                return Err(self.not_parquet(format!(
                    "row group {group} is damaged and cannot be decoded ({message})"
                )))
            }
        }
        let reader = self.reader_on(chunk, group)?;
        let column = reader
            .get_column_reader(place.leaf)
            .map_err(|e| self.not_parquet(e))?;
        // The `parquet` crate panics on some damaged pages (found by
        // fuzzing: `population_file`, crash df96a93a, "Decoder for dict
        // should have been set"); a panic there means a damaged file.
        match guarded(|| self.read_column(column, place, group, rows)) {
            Ok(result) => result,
            Err(message) => Err(self.not_parquet(format!(
                "row group {group} is damaged and cannot be decoded ({message})"
            ))),
        }
    }

    fn read_column(
        &self,
        column: ColumnReader,
        place: &Located,
        group: usize,
        rows: usize,
    ) -> Result<(Raw, Option<Vec<i16>>), InputError> {
        let mut levels = (place.max_def > 0).then(|| Vec::with_capacity(rows));
        macro_rules! read_all {
            ($reader:expr, $wrap:ident) => {{
                let mut reader = $reader;
                let mut values = Vec::with_capacity(rows);
                let mut done = 0;
                while done < rows {
                    let (records, _, _) = reader
                        .read_records(rows - done, levels.as_mut(), None, &mut values)
                        .map_err(|e| self.not_parquet(e))?;
                    if records == 0 {
                        break;
                    }
                    done += records;
                }
                if done != rows {
                    return Err(self.not_parquet(format!(
                        "row group {group} declares {rows} rows but holds {done}"
                    )));
                }
                Raw::$wrap(values)
            }};
        }
        let raw = match column {
            ColumnReader::BoolColumnReader(r) => read_all!(r, Bool),
            ColumnReader::Int32ColumnReader(r) => read_all!(r, I32),
            ColumnReader::Int64ColumnReader(r) => read_all!(r, I64),
            ColumnReader::FloatColumnReader(r) => read_all!(r, F32),
            ColumnReader::DoubleColumnReader(r) => read_all!(r, F64),
            _ => return Err(self.not_parquet("unexpected physical type")),
        };
        Ok((raw, levels))
    }
}

/// The 0-based first row of each group of `rows` rows.
/// One group of rows as `schedule` hands it to a source's decoder: its
/// index, its first row (0-based, in the whole source) and its rows.
#[derive(Debug, Clone, Copy)]
struct Span {
    group: usize,
    first_row: u64,
    rows: usize,
}

fn first_rows(rows: &[usize]) -> Vec<u64> {
    let mut offset = 0u64;
    rows.iter()
        .map(|&r| {
            let first = offset;
            offset += r as u64;
            first
        })
        .collect()
}

/// How `schedule` cuts the work into tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tasks {
    /// Every (group, request) pair is a task, then every group's
    /// `finish`: all cores busy even on a file of one or two row groups.
    /// `window` groups at a time, merged after each window.
    PerColumn { window: usize },
    /// Each group is one task that decodes its columns and finishes them
    /// on the same core, while they are in its cache: for sources of
    /// enough groups to share out (in-memory tables, files of at least two
    /// row groups per thread), merged as they finish (`in_order`).
    PerGroup,
}

/// Decodes groups of rows (`rows[g]` rows in group `g`) as tasks
/// (`Tasks`), each group's parts become a `Chunk` handed to `finish` (on
/// the pool, with the group's first row), and the results go to `merge`
/// in group order. The error reported is the first group's that has one,
/// and in it the first request's decode error, else its `finish` error,
/// whatever the thread count and the tasks. One scheduler for every
/// source of columns: Parquet row groups and in-memory tables.
fn schedule<T, F>(
    rows: &[usize],
    requests: usize,
    tasks: Tasks,
    decode: impl Fn(Span, usize) -> Result<Part, InputError> + Sync,
    finish: F,
    mut merge: impl FnMut(T) -> Result<(), InputError> + Send,
) -> Result<(), InputError>
where
    T: Send,
    F: Fn(Chunk, u64) -> Result<T, InputError> + Sync,
{
    let offsets = first_rows(rows);
    let rows_total: u64 = rows.iter().map(|&r| r as u64).sum();
    let progress = crate::progress::Progress::new("reading persons", rows_total, "persons");
    let span = |g: usize| Span {
        group: g,
        first_row: offsets[g],
        rows: rows[g],
    };
    // A group's parts, in request order, as a chunk (the first error).
    // Exactly `requests` parts are taken, a failed group's too, so that
    // groups can take theirs one after another from one iterator.
    let chunk_of = |g: usize, parts: &mut dyn Iterator<Item = Result<Part, InputError>>| {
        let mut chunk = Chunk {
            columns: Vec::with_capacity(requests),
            given: Vec::with_capacity(requests),
            nulls_mapped: Vec::with_capacity(requests),
            rows: rows[g],
        };
        let mut failed = None;
        for _ in 0..requests {
            match parts.next().unwrap_or_else(|| Ok(Part::absent())) {
                Ok(part) => {
                    chunk.columns.push(part.column);
                    chunk.given.push(part.given);
                    chunk.nulls_mapped.push(part.nulls_mapped);
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        failed.map_or(Ok(chunk), Err)
    };
    let Tasks::PerColumn { window } = tasks else {
        let group = |g: usize| {
            let chunk = chunk_of(g, &mut (0..requests).map(|k| decode(span(g), k)))?;
            finish(chunk, offsets[g])
        };
        let mut merge_one = |t: T, g: usize| {
            merge(t)?;
            progress.inc(rows[g] as u64);
            Ok(())
        };
        return in_order(rows.len(), group, &mut merge_one);
    };
    let window = window.max(1);
    let mut first = 0;
    while first < rows.len() {
        let last = first.saturating_add(window).min(rows.len());
        let pairs: Vec<(usize, usize)> = (first..last)
            .flat_map(|g| (0..requests).map(move |k| (g, k)))
            .collect();
        let decoded: Vec<Result<Part, InputError>> =
            pairs.par_iter().map(|&(g, k)| decode(span(g), k)).collect();
        let mut decoded = decoded.into_iter();
        // A group whose decode failed keeps its error in place, so that an
        // earlier group's `finish` error still comes first.
        let chunks: Vec<(usize, Result<Chunk, InputError>)> = (first..last)
            .map(|g| (g, chunk_of(g, &mut decoded)))
            .collect();
        let finished: Vec<Result<T, InputError>> = chunks
            .into_par_iter()
            .map(|(g, chunk)| finish(chunk?, offsets[g]))
            .collect();
        for result in finished {
            merge(result?)?;
        }
        progress.inc((first..last).map(|g| rows[g] as u64).sum());
        first = last;
    }
    Ok(())
}

/// Runs `work(g)` for the groups `0..groups` on every thread of the pool,
/// started in group order, and hands each result to `merge` in group
/// order as soon as the groups before it are merged, so that no thread
/// waits for a window of groups to end. A result that finishes ahead of
/// an earlier group waits (at most the groups started while that one
/// ran). The first error in group order stops the groups not yet
/// started and is returned. `merge` runs under a lock the workers share,
/// so it must not wait for work on the pool (no merge does: they add up
/// small parts or append a group's columns).
fn in_order<T: Send>(
    groups: usize,
    work: impl Fn(usize) -> Result<T, InputError> + Sync,
    merge: &mut (dyn FnMut(T, usize) -> Result<(), InputError> + Send),
) -> Result<(), InputError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    struct Merging<'m, T> {
        next: usize,
        waiting: std::collections::BTreeMap<usize, Result<T, InputError>>,
        failed: Option<InputError>,
        merge: &'m mut (dyn FnMut(T, usize) -> Result<(), InputError> + Send),
    }
    let started = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let merging = std::sync::Mutex::new(Merging {
        next: 0,
        waiting: std::collections::BTreeMap::new(),
        failed: None,
        merge,
    });
    let worker = || {
        while !stop.load(Ordering::Relaxed) {
            let g = started.fetch_add(1, Ordering::Relaxed);
            if g >= groups {
                break;
            }
            let result = work(g);
            let mut m = merging.lock().unwrap_or_else(|e| e.into_inner());
            if m.failed.is_some() {
                break;
            }
            m.waiting.insert(g, result);
            loop {
                let next = m.next;
                let Some(result) = m.waiting.remove(&next) else {
                    break;
                };
                m.next += 1;
                if let Err(e) = result.and_then(|t| (m.merge)(t, next)) {
                    m.failed = Some(e);
                    m.waiting.clear();
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
        }
    };
    let threads = rayon::current_num_threads().clamp(1, groups.max(1));
    rayon::scope(|s| {
        for _ in 1..threads {
            s.spawn(|_| worker());
        }
        worker();
    });
    let m = merging.into_inner().unwrap_or_else(|e| e.into_inner());
    m.failed.map_or(Ok(()), Err)
}

/// The error of one failed cell: a null (`value` None) or a bad value, at
/// 1-based `row` of the source at `path`.
fn cell_error(path: &Path, request: &Request, row: u64, value: Option<String>) -> InputError {
    match value {
        None => InputError::Null {
            path: path.to_path_buf(),
            column: request.name.clone(),
            row,
            hint: request.null_hint.clone(),
        },
        Some(value) => InputError::BadValue {
            path: path.to_path_buf(),
            column: request.name.clone(),
            row,
            value,
            expected: request.expected.clone(),
        },
    }
}

thread_local! {
    /// Set while a decode that may panic inside the `parquet` crate runs.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, BooleanArray, Int32Array, Int64Array, UInt8Array};
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::{WriterProperties, WriterVersion};

    /// A chunk is the file's bytes at its range, read on the one handle,
    /// however many reads that takes; a range past the end (a file cut
    /// short after its footer was read) is an error, not a panic or
    /// uninitialised bytes.
    #[test]
    fn chunk_bytes_are_the_files_bytes_and_a_short_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bytes");
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        for (start, length) in [(0u64, 0u64), (0, 300_000), (1, 17), (123_456, 100_000)] {
            let chunk = chunk::ChunkBytes::read(&file, start, length).unwrap();
            assert_eq!(chunk.start, start);
            assert_eq!(
                &chunk.bytes[..],
                &bytes[start as usize..(start + length) as usize]
            );
        }
        for (start, length) in [(299_999u64, 2u64), (300_000, 1), (400_000, 10)] {
            let error = chunk::ChunkBytes::read(&file, start, length).err().unwrap();
            assert_eq!(
                error.kind(),
                std::io::ErrorKind::UnexpectedEof,
                "{start} {length}"
            );
        }
        assert!(chunk::ChunkBytes::read(&file, u64::MAX - 1, 5).is_err());
    }

    #[test]
    fn groups_are_merged_in_order_whichever_finishes_first() {
        // Groups of uneven work on 1 to 4 threads: every result reaches
        // `merge` once, in group order; the first failing group's error is
        // returned and nothing after it is merged, wherever the later
        // failure finished.
        let error = |g: usize| InputError::Other {
            path: std::path::PathBuf::from(format!("group {g}")),
            detail: String::new(),
        };
        for threads in 1..=4 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for fails in [None, Some(0), Some(97), Some(199)] {
                let work = |g: usize| {
                    // Early groups take longest, so later ones finish first.
                    let spins = ((200 - g) * 7_919) % 20_000;
                    let mut x = g as u64;
                    for _ in 0..spins {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
                    }
                    let _ = x;
                    match fails {
                        Some(f) if g == f || g == f + 1 => Err(error(g)),
                        _ => Ok(g),
                    }
                };
                let mut merged = Vec::new();
                let result = pool.install(|| {
                    in_order(200, work, &mut |t: usize, g: usize| {
                        assert_eq!(t, g);
                        merged.push(g);
                        Ok(())
                    })
                });
                let expected_merged = fails.unwrap_or(200);
                assert_eq!(
                    merged,
                    (0..expected_merged).collect::<Vec<_>>(),
                    "{threads} {fails:?}"
                );
                match fails {
                    None => assert!(result.is_ok()),
                    Some(f) => {
                        let Err(InputError::Other { path, .. }) = result else {
                            panic!("{threads} {fails:?}: {result:?}");
                        };
                        assert_eq!(path, std::path::PathBuf::from(format!("group {f}")));
                    }
                }
            }
            // A `merge` error stops the merging where it happened.
            let mut merged = Vec::new();
            let result = pool.install(|| {
                in_order(50, Ok, &mut |g: usize, _| {
                    if g == 20 {
                        return Err(error(g));
                    }
                    merged.push(g);
                    Ok(())
                })
            });
            assert!(result.is_err());
            assert_eq!(merged, (0..20).collect::<Vec<_>>());
        }
    }

    #[test]
    fn schedule_gives_each_group_its_own_parts_and_the_earliest_error() {
        // Five groups of one row, three requests; a part holds 10 * group
        // + request. `decode` fails for group 1's second request and
        // `finish` for group 0, or for group 3 and the decode for 1.
        let error = |what: &str, g: usize| InputError::Other {
            path: std::path::PathBuf::from(format!("{what} {g}")),
            detail: String::new(),
        };
        let windows = [1, 2, 3, 5, usize::MAX].map(|window| Tasks::PerColumn { window });
        for tasks in windows.into_iter().chain([Tasks::PerGroup]) {
            for (finish_fails, expected) in [(0, "finish 0"), (3, "decode 1")] {
                let seen = std::sync::Mutex::new(Vec::new());
                let decode = |span: Span, k: usize| {
                    if (span.group, k) == (1, 1) {
                        return Err(error("decode", 1));
                    }
                    Ok(Part {
                        column: Column::I64(vec![10 * span.group as i64 + k as i64]),
                        given: None,
                        nulls_mapped: 0,
                    })
                };
                let finish = |chunk: Chunk, first_row: u64| {
                    let g = first_row as i64;
                    let values: Vec<i64> = chunk
                        .columns
                        .into_iter()
                        .flat_map(|c| c.into_i64())
                        .collect();
                    seen.lock().unwrap().push((g, values));
                    if g == finish_fails {
                        return Err(error("finish", g as usize));
                    }
                    Ok(g)
                };
                let mut merged = Vec::new();
                let result = schedule(&[1; 5], 3, tasks, decode, finish, |g| {
                    merged.push(g);
                    Ok(())
                });
                let Err(InputError::Other { path, .. }) = result else {
                    panic!("{tasks:?}: {result:?}");
                };
                assert_eq!(path, std::path::PathBuf::from(expected), "{tasks:?}");
                let before = if finish_fails == 0 { 0 } else { 1 };
                assert_eq!(merged, (0..before).collect::<Vec<i64>>());
                for (g, values) in seen.into_inner().unwrap() {
                    assert_ne!(g, 1, "group 1 failed to decode: no finish");
                    assert_eq!(values, vec![10 * g, 10 * g + 1, 10 * g + 2], "{tasks:?}");
                }
            }
        }
    }

    /// Writes four columns (required, or declared nullable without nulls)
    /// in two row groups with `properties`.
    fn write(path: &Path, properties: WriterProperties, rows: usize, nullable: bool) {
        let mut state = 0x2027u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        let small: Vec<i32> = (0..rows).map(|_| (next() % 100) as i32).collect();
        let wide: Vec<i64> = (0..rows).map(|i| i as i64 * 7 - 3_000).collect();
        let tiny: Vec<u8> = (0..rows)
            .map(|i| if i % 500 < 300 { 1 } else { 2 })
            .collect();
        let flags: Vec<bool> = (0..rows).map(|_| next() % 7 == 0).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("small", Arc::new(Int32Array::from(small))),
            ("wide", Arc::new(Int64Array::from(wide))),
            ("tiny", Arc::new(UInt8Array::from(tiny))),
            ("flag", Arc::new(BooleanArray::from(flags))),
        ];
        let batch = RecordBatch::try_from_iter_with_nullable(
            columns.into_iter().map(|(n, a)| (n, a, nullable)),
        )
        .unwrap();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn requests() -> Vec<Request> {
        vec![
            Request::int("small", 0, 99, Target::U8, "0 to 99"),
            Request::int("wide", -3_000, i64::MAX, Target::I64, "any"),
            Request::int("tiny", 1, 2, Target::U8, "1 or 2"),
            Request::boolean("flag"),
            Request::boolean("flag").packed(),
            Request::int("small", 0, 99, Target::I16, "0 to 99").nulls(Nulls::Default),
        ]
    }

    /// The page-level path decodes every column exactly as the general
    /// path does, for PLAIN and dictionary pages, data pages v1 and v2,
    /// many small pages and a few large ones, with and without compression,
    /// required columns and nullable ones without nulls.
    #[test]
    fn page_level_path_agrees_with_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 20_000;
        let mut fast_chunks = 0;
        for nullable in [false, true] {
            for dictionary in [true, false] {
                for version in [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0] {
                    for (page_rows, compression) in [
                        (1_000, Compression::UNCOMPRESSED),
                        (usize::MAX, Compression::ZSTD(ZstdLevel::default())),
                    ] {
                        let properties = WriterProperties::builder()
                            .set_dictionary_enabled(dictionary)
                            .set_writer_version(version)
                            .set_data_page_row_count_limit(page_rows)
                            .set_write_batch_size(page_rows.min(1024))
                            .set_max_row_group_row_count(Some(rows / 2 + 7))
                            .set_compression(compression)
                            .build();
                        let path = dir.path().join("p.parquet");
                        write(&path, properties, rows, nullable);
                        let file = ParquetFile::open(&path).unwrap();
                        let located: Vec<_> = requests()
                            .iter()
                            .map(|r| file.locate(r).unwrap().unwrap())
                            .collect();
                        for group in 0..file.metadata.num_row_groups() {
                            let group_rows = file.metadata.row_group(group).num_rows() as usize;
                            for (request, place) in requests().iter().zip(&located) {
                                let general = convert(
                                    file.decode(
                                        file.chunk_bytes(group, place.leaf).unwrap(),
                                        group,
                                        place,
                                        group_rows,
                                    )
                                    .unwrap(),
                                    place,
                                    group_rows,
                                    request,
                                )
                                .unwrap();
                                let general = pack_if_asked(general, request, group_rows);
                                let what = format!(
                                "{} (nullable {nullable}, dictionary {dictionary}, {version:?}, pages of {page_rows})",
                                request.name
                            );
                                // Writers of data pages v2 store booleans RLE and,
                                // without a dictionary, integers DELTA_BINARY_PACKED:
                                // the page-level path takes those too.
                                let chunk = file.chunk_bytes(group, place.leaf).unwrap();
                                if let Some(fast) =
                                    file.fast(&chunk, group, place, group_rows, request)
                                {
                                    fast_chunks += 1;
                                    assert_eq!(fast.column, general.column, "{what}");
                                    assert_eq!(fast.given, general.given, "{what}");
                                } else {
                                    panic!("{what} took the general path");
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(
            fast_chunks >= 128,
            "only {fast_chunks} chunks took the page-level path"
        );
    }

    /// Both paths on one file: every chunk of every request decodes to the
    /// same column, validity and null count on the page-level path as on
    /// the general path, or is refused by both (a null the request
    /// rejects). Returns how many chunks took the page-level path and how
    /// many were refused.
    fn both_paths(path: &Path, requests: &[Request], what: &str) -> (usize, usize) {
        let file = ParquetFile::open(path).unwrap();
        let (mut fast_chunks, mut refused) = (0, 0);
        for request in requests {
            let place = file.locate(request).unwrap().unwrap();
            for group in 0..file.metadata.num_row_groups() {
                let rows = file.metadata.row_group(group).num_rows() as usize;
                let chunk = file.chunk_bytes(group, place.leaf).unwrap();
                let general = file
                    .decode(Arc::clone(&chunk), group, &place, rows)
                    .map_err(|e| e.to_string())
                    .and_then(|raw| {
                        convert(raw, &place, rows, request)
                            .map_err(|(row, v)| format!("{row} {v:?}"))
                    })
                    .map(|part| pack_if_asked(part, request, rows));
                let fast = file.fast(&chunk, group, &place, rows, request);
                let what = format!(
                    "{what}, `{}` {:?}, group {group}",
                    request.name, request.nulls
                );
                match (general, fast) {
                    (Ok(general), Some(fast)) => {
                        fast_chunks += 1;
                        assert_eq!(fast.column, general.column, "{what}");
                        assert_eq!(fast.given, general.given, "{what}");
                        assert_eq!(fast.nulls_mapped, general.nulls_mapped, "{what}");
                    }
                    (Ok(_), None) => panic!("{what}: took the general path"),
                    (Err(_), None) => refused += 1,
                    (Err(e), Some(_)) => panic!(
                        "{what}: the page-level path took what the general path refuses: {e}"
                    ),
                }
            }
        }
        (fast_chunks, refused)
    }

    /// The differential test over randomly drawn writer settings (issue
    /// 14): row-group, page and batch sizes, dictionary on or off with
    /// small dictionary pages (so a chunk falls back to PLAIN part way),
    /// PLAIN or DELTA_BINARY_PACKED, every codec, data pages v1 and v2,
    /// integer widths 8 to 64 bits signed and unsigned, required columns,
    /// nullable ones without nulls and with nulls; each null rule.
    #[test]
    fn page_level_path_agrees_with_the_general_path_on_random_writer_settings() {
        use arrow::datatypes::DataType;
        use parquet::basic::{Encoding, GzipLevel};
        let dir = tempfile::tempdir().unwrap();
        let mut state = 0x5eed_1234_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n.max(1)
        };
        let (mut fast_total, mut refused_total) = (0, 0);
        for case in 0..48 {
            let rows = 1 + next(6_000) as usize;
            let nullable = next(3) > 0;
            let null_every = if nullable && next(2) == 0 {
                2 + next(40) as usize
            } else {
                0
            };
            let null_at = |i: usize| null_every > 0 && (i * 7 + case).is_multiple_of(null_every);
            let values: Vec<i64> = (0..rows).map(|_| next(100) as i64).collect();
            let wide: Vec<i64> = (0..rows)
                .map(|i| {
                    if next(9) == 0 {
                        next(1 << 40) as i64 - (1 << 39)
                    } else {
                        i as i64 * 3 - 7
                    }
                })
                .collect();
            let flags: Vec<bool> = (0..rows).map(|_| next(5) == 0).collect();
            let opt = |v: i64, i: usize| (!null_at(i)).then_some(v);
            // One column of small values with its nulls, at every width.
            let small: ArrayRef =
                Arc::new(Int64Array::from_iter((0..rows).map(|i| opt(values[i], i))));
            let at = |t: DataType| arrow::compute::cast(&small, &t).unwrap();
            let columns: Vec<(&str, ArrayRef)> = vec![
                ("i8", at(DataType::Int8)),
                ("i16", at(DataType::Int16)),
                ("u16", at(DataType::UInt16)),
                ("u32", at(DataType::UInt32)),
                ("i32", at(DataType::Int32)),
                (
                    "i64",
                    Arc::new(Int64Array::from_iter((0..rows).map(|i| opt(wide[i], i)))),
                ),
                ("u8", at(DataType::UInt8)),
                (
                    "flag",
                    Arc::new(BooleanArray::from_iter(
                        (0..rows).map(|i| (!null_at(i)).then_some(flags[i])),
                    )),
                ),
            ];
            let batch = RecordBatch::try_from_iter_with_nullable(
                columns.into_iter().map(|(n, a)| (n, a, nullable)),
            )
            .unwrap();
            let dictionary = next(2) == 0;
            let version =
                [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0][next(2) as usize];
            let compression = [
                Compression::UNCOMPRESSED,
                Compression::SNAPPY,
                Compression::ZSTD(ZstdLevel::default()),
                Compression::LZ4_RAW,
                Compression::GZIP(GzipLevel::default()),
                Compression::LZ4,
            ][next(6) as usize];
            let page_rows = 1 + next(3_000) as usize;
            let mut properties = WriterProperties::builder()
                .set_dictionary_enabled(dictionary)
                .set_dictionary_page_size_limit(64 + next(4_096) as usize)
                .set_writer_version(version)
                .set_data_page_row_count_limit(page_rows)
                .set_write_batch_size(1 + next(page_rows as u64) as usize)
                .set_max_row_group_row_count(Some(1 + next(rows as u64 + 100) as usize))
                .set_compression(compression);
            if next(2) == 0 {
                for name in ["i8", "i16", "u16", "u32", "i32", "i64", "u8"] {
                    let encoding =
                        [Encoding::PLAIN, Encoding::DELTA_BINARY_PACKED][next(2) as usize];
                    properties = properties.set_column_encoding(name.into(), encoding);
                }
            }
            let path = dir.path().join(format!("random-{case}.parquet"));
            let file = std::fs::File::create(&path).unwrap();
            let mut writer =
                ArrowWriter::try_new(file, batch.schema(), Some(properties.build())).unwrap();
            writer.write(&batch).unwrap();
            writer.close().unwrap();
            let mut requests = Vec::new();
            for name in ["i8", "i16", "u16", "u32", "i32", "u8"] {
                for nulls in [
                    Nulls::Reject,
                    Nulls::MapTo(0),
                    Nulls::MapTo(99),
                    Nulls::Default,
                ] {
                    requests.push(Request::int(name, 0, 99, Target::U8, "0 to 99").nulls(nulls));
                }
                requests
                    .push(Request::int(name, 0, 98, Target::I16, "0 to 98").nulls(Nulls::MapTo(0)));
            }
            requests.push(
                Request::int("i64", i64::MIN, i64::MAX, Target::I64, "any").nulls(Nulls::MapTo(-5)),
            );
            requests.push(Request::int("i64", -7, i64::MAX, Target::I64, "from -7"));
            requests.push(
                Request::int("i32", -1_000, 1_000, Target::I32, "small").nulls(Nulls::Default),
            );
            for nulls in [Nulls::Reject, Nulls::MapTo(1), Nulls::Default] {
                requests.push(Request::boolean("flag").nulls(nulls));
                requests.push(Request::boolean("flag").packed().nulls(nulls));
            }
            let what = format!(
                "case {case}: {rows} rows, nullable {nullable}, nulls every {null_every}, dictionary {dictionary}, {version:?}, {compression:?}, pages of {page_rows}"
            );
            let (fast_chunks, refused) = both_paths(&path, &requests, &what);
            fast_total += fast_chunks;
            refused_total += refused;
        }
        assert!(
            fast_total > 1_000,
            "only {fast_total} chunks on the page-level path"
        );
        assert!(refused_total > 0, "no case refused a null");
    }

    /// The committed writer corpus (`fixtures/writers`, files by pyarrow,
    /// Polars and DuckDB): every integer and boolean chunk decodes alike on
    /// both paths under each null rule, and every chunk but
    /// BYTE_STREAM_SPLIT ones takes the page-level path when the general
    /// path accepts it.
    #[test]
    fn writer_corpus_decodes_alike_on_both_paths() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/writers");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        files.sort();
        assert!(files.len() >= 12, "{} corpus files", files.len());
        let mut fast_total = 0;
        for path in &files {
            let file = ParquetFile::open(path).unwrap();
            let schema = file.metadata.file_metadata().schema_descr();
            let mut requests = Vec::new();
            let mut split = false;
            for leaf in 0..schema.num_columns() {
                let column = schema.column(leaf);
                let name = column.name();
                split |= (0..file.metadata.num_row_groups()).any(|g| {
                    let chunk = file.metadata.row_group(g).column(leaf);
                    chunk
                        .encodings()
                        .any(|e| e == parquet::basic::Encoding::BYTE_STREAM_SPLIT)
                });
                match column.physical_type() {
                    PhysicalType::BOOLEAN => {
                        for nulls in [Nulls::Reject, Nulls::MapTo(1), Nulls::Default] {
                            requests.push(Request::boolean(name).nulls(nulls));
                            requests.push(Request::boolean(name).packed().nulls(nulls));
                        }
                    }
                    PhysicalType::INT32 | PhysicalType::INT64 => {
                        for nulls in [Nulls::Reject, Nulls::MapTo(0), Nulls::Default] {
                            requests.push(
                                Request::int(name, i64::MIN, i64::MAX, Target::I64, "any")
                                    .nulls(nulls),
                            );
                        }
                        requests.push(
                            Request::int(name, 0, 120, Target::U8, "0 to 120")
                                .nulls(Nulls::MapTo(0)),
                        );
                        requests.push(
                            Request::int(name, 1, 32_767, Target::I16, "1 up")
                                .nulls(Nulls::Default),
                        );
                    }
                    _ => {}
                }
            }
            let what = path.file_name().unwrap().to_string_lossy().to_string();
            if split {
                // BYTE_STREAM_SPLIT goes the general way: compare what
                // the page-level path takes.
                let file = ParquetFile::open(path).unwrap();
                for request in &requests {
                    let place = file.locate(request).unwrap().unwrap();
                    for group in 0..file.metadata.num_row_groups() {
                        let rows = file.metadata.row_group(group).num_rows() as usize;
                        let chunk = file.chunk_bytes(group, place.leaf).unwrap();
                        if let Some(fast) = file.fast(&chunk, group, &place, rows, request) {
                            let general = convert(
                                file.decode(Arc::clone(&chunk), group, &place, rows)
                                    .unwrap(),
                                &place,
                                rows,
                                request,
                            )
                            .unwrap();
                            let general = pack_if_asked(general, request, rows);
                            assert_eq!(fast.column, general.column, "{what} {}", request.name);
                            fast_total += 1;
                        }
                    }
                }
            } else {
                fast_total += both_paths(path, &requests, &what).0;
            }
        }
        assert!(
            fast_total > 2_000,
            "{fast_total} chunks on the page-level path"
        );
    }

    /// A footer declaring an absurd row count is refused when the file is
    /// opened, before any buffer is sized by it.
    #[test]
    fn absurd_row_counts_are_refused() {
        use parquet::file::metadata::RowGroupMetaData;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        write(&path, WriterProperties::builder().build(), 100, false);
        let file = ParquetFile::open(&path).unwrap();
        let group = file.metadata.row_group(0);
        for (rows, ok) in [
            (MAX_GROUP_ROWS, true),
            (MAX_GROUP_ROWS + 1, false),
            (i64::MAX, false),
        ] {
            let changed = RowGroupMetaData::builder(group.schema_descr_ptr())
                .set_num_rows(rows)
                .set_column_metadata(group.columns().to_vec())
                .build()
                .unwrap();
            let metadata =
                ParquetMetaData::new(file.metadata.file_metadata().clone(), vec![changed]);
            let result = check_chunks(&metadata, &path);
            assert_eq!(result.is_ok(), ok, "{rows} rows");
            if let Err(e) = result {
                assert!(
                    e.to_string().contains(&format!("declares {rows} rows")),
                    "{e}"
                );
            }
        }
    }

    /// A page header that declares more uncompressed bytes than its
    /// compressed bytes can make is refused, naming the row group, column
    /// and page, before either path sizes a buffer by it.
    #[test]
    fn a_page_declaring_too_many_bytes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let properties = WriterProperties::builder()
            .set_dictionary_enabled(false)
            .set_compression(Compression::SNAPPY)
            .build();
        write(&path, properties, 5_000, false);
        let file = ParquetFile::open(&path).unwrap();
        let request = Request::int("tiny", 1, 2, Target::U8, "1 or 2");
        let place = file.locate(&request).unwrap().unwrap();
        let chunk = file.chunk_bytes(0, place.leaf).unwrap();
        assert!(file.fast(&chunk, 0, &place, 5_000, &request).is_some());
        // The header's field 2 (uncompressed size, a zigzag varint after
        // field 1's two bytes and its own field byte), rewritten in the
        // same width to the most that width holds.
        let mut bytes = chunk.bytes.to_vec();
        assert_eq!((bytes[0], bytes[2]), (0x15, 0x15));
        let width = bytes[3..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
        for (k, b) in bytes[3..3 + width].iter_mut().enumerate() {
            *b = if k + 1 == width {
                0x7f
            } else if k == 0 {
                0xfe
            } else {
                0xff
            };
        }
        let declared = (1usize << (7 * width - 1)) - 1;
        let spoiled = Arc::new(ChunkBytes {
            start: chunk.start,
            bytes: bytes.into(),
        });
        assert!(file.fast(&spoiled, 0, &place, 5_000, &request).is_none());
        let Err(error) = file.decode(spoiled, 0, &place, 5_000) else {
            panic!("the spoiled page was decoded");
        };
        let error = error.to_string();
        assert!(
            error.contains(&format!(
                "row group 0, column `tiny`: page 1 declares {declared} bytes uncompressed"
            )) && error.contains("compressed with snappy"),
            "{error}"
        );
    }

    /// A value out of range sends the chunk to the general path (which
    /// names the row), whether it sits in a dictionary or a PLAIN page.
    #[test]
    fn out_of_range_values_take_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        for dictionary in [true, false] {
            let properties = WriterProperties::builder()
                .set_dictionary_enabled(dictionary)
                .build();
            let path = dir.path().join("p.parquet");
            write(&path, properties, 5_000, false);
            let file = ParquetFile::open(&path).unwrap();
            let request = Request::int("small", 0, 98, Target::U8, "0 to 98");
            let place = file.locate(&request).unwrap().unwrap();
            let rows = file.metadata.row_group(0).num_rows() as usize;
            let chunk = file.chunk_bytes(0, place.leaf).unwrap();
            assert!(file.fast(&chunk, 0, &place, rows, &request).is_none());
            let failure = convert(
                file.decode(chunk, 0, &place, rows).unwrap(),
                &place,
                rows,
                &request,
            );
            assert!(matches!(failure, Err((_, Some(v))) if v == "99"));
        }
    }
}
