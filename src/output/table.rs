//! A small typed table that is written both as Parquet and as CSV, so the
//! two files always hold the same columns and values.

use crate::error::OutputError;
use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<String>),
    Bool(Vec<Option<bool>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<(&'static str, Values)>,
}

impl Table {
    pub fn new() -> Self {
        Table {
            columns: Vec::new(),
        }
    }

    pub fn int(&mut self, name: &'static str, values: Vec<Option<i64>>) -> &mut Self {
        self.columns.push((name, Values::Int(values)));
        self
    }

    /// Non-finite floats are written as nulls.
    pub fn float(&mut self, name: &'static str, values: Vec<Option<f64>>) -> &mut Self {
        let values = values
            .into_iter()
            .map(|v| v.filter(|x| x.is_finite()))
            .collect();
        self.columns.push((name, Values::Float(values)));
        self
    }

    pub fn text(&mut self, name: &'static str, values: Vec<String>) -> &mut Self {
        self.columns.push((name, Values::Text(values)));
        self
    }

    /// Booleans, written as `true` / `false` in the CSV.
    pub fn boolean(&mut self, name: &'static str, values: Vec<Option<bool>>) -> &mut Self {
        self.columns.push((name, Values::Bool(values)));
        self
    }

    /// Appends the rows of `other`, a table of the same columns.
    pub fn append(&mut self, other: Table) {
        for ((_, mine), (_, theirs)) in self.columns.iter_mut().zip(other.columns) {
            match (mine, theirs) {
                (Values::Int(a), Values::Int(b)) => a.extend(b),
                (Values::Float(a), Values::Float(b)) => a.extend(b),
                (Values::Text(a), Values::Text(b)) => a.extend(b),
                (Values::Bool(a), Values::Bool(b)) => a.extend(b),
                // Tables of one schema always pair alike.
                _ => {}
            }
        }
    }

    pub fn rows(&self) -> usize {
        match self.columns.first() {
            Some((_, Values::Int(v))) => v.len(),
            Some((_, Values::Float(v))) => v.len(),
            Some((_, Values::Text(v))) => v.len(),
            Some((_, Values::Bool(v))) => v.len(),
            None => 0,
        }
    }

    pub fn to_record_batch(&self) -> Result<RecordBatch, arrow::error::ArrowError> {
        self.record_batch(0..self.rows())
    }

    /// Rows `range` as a record batch.
    fn record_batch(&self, range: Range<usize>) -> Result<RecordBatch, arrow::error::ArrowError> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (name, values) in &self.columns {
            match values {
                Values::Int(v) => {
                    fields.push(Field::new(*name, DataType::Int64, true));
                    arrays.push(Arc::new(Int64Array::from(v[range.clone()].to_vec())));
                }
                Values::Float(v) => {
                    fields.push(Field::new(*name, DataType::Float64, true));
                    arrays.push(Arc::new(Float64Array::from(v[range.clone()].to_vec())));
                }
                Values::Text(v) => {
                    fields.push(Field::new(*name, DataType::Utf8, false));
                    arrays.push(Arc::new(StringArray::from_iter_values(&v[range.clone()])));
                }
                Values::Bool(v) => {
                    fields.push(Field::new(*name, DataType::Boolean, true));
                    arrays.push(Arc::new(BooleanArray::from(v[range.clone()].to_vec())));
                }
            }
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }

    pub fn write_parquet(&self, path: &Path) -> Result<(), OutputError> {
        let batch = self
            .to_record_batch()
            .map_err(|e| OutputError::write(path, e))?;
        let file = std::fs::File::create(path).map_err(|e| OutputError::write(path, e))?;
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(parquet_properties()))
            .map_err(|e| OutputError::write(path, e))?;
        writer
            .write(&batch)
            .map_err(|e| OutputError::write(path, e))?;
        writer.close().map_err(|e| OutputError::write(path, e))?;
        Ok(())
    }

    pub fn write_csv(&self, path: &Path) -> Result<(), OutputError> {
        let file = std::fs::File::create(path).map_err(|e| OutputError::write(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        self.write_csv_to(&mut out)
            .and_then(|_| out.flush())
            .map_err(|e| OutputError::write(path, e))
    }

    /// CSV with a header, `,` separators, `\n` line ends, empty fields for
    /// nulls and floats in Rust's shortest round-trip form.
    pub fn write_csv_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(self.csv_header().as_bytes())?;
        self.write_csv_rows(0..self.rows(), out)
    }

    fn csv_header(&self) -> String {
        let header: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        format!("{}\n", header.join(","))
    }

    /// The CSV lines of rows `range`, formatted in pieces side by side on
    /// the pool and written in order.
    fn write_csv_rows(&self, range: Range<usize>, out: &mut impl Write) -> std::io::Result<()> {
        const PIECE: usize = 16_384;
        let starts: Vec<usize> = range.clone().step_by(PIECE).collect();
        for window in starts.chunks(4 * rayon::current_num_threads().max(1)) {
            let texts: Vec<String> = window
                .par_iter()
                .map(|&start| self.csv_lines(start..(start + PIECE).min(range.end)))
                .collect();
            for text in texts {
                out.write_all(text.as_bytes())?;
            }
        }
        Ok(())
    }

    fn csv_lines(&self, range: Range<usize>) -> String {
        let mut ints = itoa::Buffer::new();
        let mut floats = ryu::Buffer::new();
        let mut text = String::with_capacity(range.len() * 16 * self.columns.len());
        for row in range {
            for (k, (_, values)) in self.columns.iter().enumerate() {
                if k > 0 {
                    text.push(',');
                }
                match values {
                    Values::Int(v) => {
                        if let Some(x) = v[row] {
                            text.push_str(ints.format(x));
                        }
                    }
                    Values::Float(v) => {
                        if let Some(x) = v[row] {
                            super::decimal::push_f64(&mut text, x, &mut floats);
                        }
                    }
                    Values::Text(v) => push_csv_text(&mut text, &v[row]),
                    Values::Bool(v) => {
                        if let Some(x) = v[row] {
                            text.push_str(if x { "true" } else { "false" });
                        }
                    }
                }
            }
            text.push('\n');
        }
        text
    }
}

/// The writer properties of every Parquet output.
fn parquet_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build()
}

/// A long table written piece by piece as Parquet and CSV side by side,
/// so that it is never held whole: the same bytes as `write_parquet` and
/// `write_csv` of one table of all the pieces' rows in order. The Parquet
/// writer cuts what it is given into mini-batches (of `write_batch_size`
/// rows, or of `data_page_row_count_limit` for columns without nulls)
/// counted from the start of each call, and decides page ends after each;
/// so rows are handed to it from the start of each row group in steps that
/// are a multiple of both, and its pages fall where they would for the
/// whole table.
pub struct TableStream {
    csv_path: PathBuf,
    csv: std::io::BufWriter<std::fs::File>,
    parquet: ParquetSide,
}

/// The Parquet half of a `TableStream`.
struct ParquetSide {
    path: PathBuf,
    writer: Option<ArrowWriter<std::fs::File>>,
    /// Rows not yet handed to the Parquet writer, as Arrow batches.
    pending: Vec<RecordBatch>,
    /// Rows handed to the Parquet writer so far.
    written: usize,
    /// Rows per call, and rows per row group.
    step: usize,
    group: usize,
}

impl TableStream {
    pub fn create(parquet: &Path, csv: &Path) -> Result<TableStream, OutputError> {
        let file = std::fs::File::create(csv).map_err(|e| OutputError::write(csv, e))?;
        let properties = parquet_properties();
        let (batch, page) = (
            properties.write_batch_size().max(1),
            properties.data_page_row_count_limit().max(1),
        );
        let gcd = |mut a: usize, mut b: usize| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        let lcm = batch / gcd(batch, page) * page;
        Ok(TableStream {
            csv_path: csv.to_path_buf(),
            csv: std::io::BufWriter::with_capacity(1 << 20, file),
            parquet: ParquetSide {
                path: parquet.to_path_buf(),
                writer: None,
                pending: Vec::new(),
                written: 0,
                // 640,000 rows with the default properties.
                step: lcm.max(1 << 16).div_ceil(lcm) * lcm,
                group: properties.max_row_group_row_count().unwrap_or(usize::MAX),
            },
        })
    }

    /// Appends a piece's rows (the same columns every time).
    pub fn push(&mut self, piece: Table) -> Result<(), OutputError> {
        if self.parquet.writer.is_none() {
            self.parquet.open(&piece)?;
            self.csv
                .write_all(piece.csv_header().as_bytes())
                .map_err(|e| OutputError::write(&self.csv_path, e))?;
        }
        // The CSV lines are formatted (on the pool) while the Parquet
        // writer encodes: the two files share nothing.
        let (csv, parquet) = (&mut self.csv, &mut self.parquet);
        let (csv_written, parquet_written) = rayon::join(
            || piece.write_csv_rows(0..piece.rows(), csv),
            || parquet.push(&piece),
        );
        csv_written.map_err(|e| OutputError::write(&self.csv_path, e))?;
        parquet_written
    }

    /// Writes what is left and closes both files; a stream given no piece
    /// writes nothing.
    pub fn finish(mut self) -> Result<(), OutputError> {
        self.parquet.finish()?;
        self.csv
            .flush()
            .map_err(|e| OutputError::write(&self.csv_path, e))
    }
}

impl ParquetSide {
    fn open(&mut self, piece: &Table) -> Result<(), OutputError> {
        let schema = piece
            .record_batch(0..0)
            .map_err(|e| OutputError::write(&self.path, e))?
            .schema();
        let file =
            std::fs::File::create(&self.path).map_err(|e| OutputError::write(&self.path, e))?;
        let writer = ArrowWriter::try_new(file, schema, Some(parquet_properties()))
            .map_err(|e| OutputError::write(&self.path, e))?;
        self.writer = Some(writer);
        Ok(())
    }

    /// The rows of the next call: a step, or what is left of the row group.
    fn next_cut(&self) -> usize {
        let into_group = self.written % self.group;
        self.step.min(self.group - into_group)
    }

    fn push(&mut self, piece: &Table) -> Result<(), OutputError> {
        let batch = piece
            .to_record_batch()
            .map_err(|e| OutputError::write(&self.path, e))?;
        self.pending.push(batch);
        loop {
            let cut = self.next_cut();
            let held: usize = self.pending.iter().map(RecordBatch::num_rows).sum();
            if held < cut {
                break;
            }
            let all = self.joined()?;
            self.write_batch(&all.slice(0, cut))?;
            self.written += cut;
            self.pending = vec![all.slice(cut, held - cut)];
        }
        Ok(())
    }

    /// The pending batches as one.
    fn joined(&mut self) -> Result<RecordBatch, OutputError> {
        let path = &self.path;
        match self.pending.as_slice() {
            [one] => Ok(one.clone()),
            many => {
                let schema = many
                    .first()
                    .map(RecordBatch::schema)
                    .ok_or_else(|| OutputError::write(path, "no rows"))?;
                arrow::compute::concat_batches(&schema, many)
                    .map_err(|e| OutputError::write(path, e))
            }
        }
    }

    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), OutputError> {
        if let Some(writer) = self.writer.as_mut() {
            writer
                .write(batch)
                .map_err(|e| OutputError::write(&self.path, e))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), OutputError> {
        if !self.pending.is_empty() {
            let rest = self.joined()?;
            if rest.num_rows() > 0 {
                self.write_batch(&rest)?;
            }
        }
        if let Some(writer) = self.writer.take() {
            writer
                .close()
                .map_err(|e| OutputError::write(&self.path, e))?;
        }
        Ok(())
    }
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

fn push_csv_text(line: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table streamed in pieces of any sizes gives the same bytes as the
    /// whole table written at once, across row groups and pages.
    #[test]
    fn streamed_pieces_give_the_bytes_of_the_whole_table() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 1_400_000;
        let table = |range: Range<usize>| {
            let mut t = Table::new();
            t.text(
                "scenario",
                range.clone().map(|i| format!("s{}", i / 1874)).collect(),
            )
            .int(
                "clinic_id",
                range.clone().map(|i| Some((i % 1874) as i64)).collect(),
            )
            .float(
                "need",
                range
                    .clone()
                    .map(|i| (i % 7 != 0).then(|| (i as f64).sqrt() * 1.37))
                    .collect(),
            )
            .int(
                "count",
                range.clone().map(|i| Some((i % 97) as i64 * 10)).collect(),
            )
            .text(
                "flags",
                range
                    .map(|i| {
                        if i % 5 == 0 {
                            "capped".into()
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
            );
            t
        };
        let whole = table(0..rows);
        whole
            .write_parquet(&dir.path().join("whole.parquet"))
            .unwrap();
        whole.write_csv(&dir.path().join("whole.csv")).unwrap();
        for (k, sizes) in [
            vec![1874usize],
            vec![100_000, 1, 65_536, 333_333],
            vec![rows],
        ]
        .into_iter()
        .enumerate()
        {
            let parquet = dir.path().join(format!("s{k}.parquet"));
            let csv = dir.path().join(format!("s{k}.csv"));
            let mut stream = TableStream::create(&parquet, &csv).unwrap();
            let mut start = 0;
            let mut turn = 0;
            while start < rows {
                let end = (start + sizes[turn % sizes.len()]).min(rows);
                stream.push(table(start..end)).unwrap();
                start = end;
                turn += 1;
            }
            stream.finish().unwrap();
            for (a, b) in [("whole.parquet", &parquet), ("whole.csv", &csv)] {
                let expected = std::fs::read(dir.path().join(a)).unwrap();
                assert!(
                    std::fs::read(b).unwrap() == expected,
                    "pieces {sizes:?}: {a} differs"
                );
            }
        }
    }

    #[test]
    fn csv_quotes_and_nulls() {
        let mut table = Table::new();
        table
            .int("a", vec![Some(1), None])
            .float("b", vec![Some(0.5), Some(f64::NAN)])
            .text("c", vec!["x,y".into(), "plain".into()]);
        let mut out = Vec::new();
        table.write_csv_to(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b,c\n1,0.5,\"x,y\"\n,,plain\n"
        );
    }
}
