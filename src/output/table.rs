//! A small typed table that is written both as Parquet and as CSV, so the
//! two files always hold the same columns and values.

use crate::error::OutputError;
use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<String>),
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

    pub fn rows(&self) -> usize {
        match self.columns.first() {
            Some((_, Values::Int(v))) => v.len(),
            Some((_, Values::Float(v))) => v.len(),
            Some((_, Values::Text(v))) => v.len(),
            None => 0,
        }
    }

    pub fn to_record_batch(&self) -> Result<RecordBatch, arrow::error::ArrowError> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (name, values) in &self.columns {
            match values {
                Values::Int(v) => {
                    fields.push(Field::new(*name, DataType::Int64, true));
                    arrays.push(Arc::new(Int64Array::from(v.clone())));
                }
                Values::Float(v) => {
                    fields.push(Field::new(*name, DataType::Float64, true));
                    arrays.push(Arc::new(Float64Array::from(v.clone())));
                }
                Values::Text(v) => {
                    fields.push(Field::new(*name, DataType::Utf8, false));
                    arrays.push(Arc::new(StringArray::from(v.clone())));
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
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties))
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
        let header: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        writeln!(out, "{}", header.join(","))?;
        let mut line = String::new();
        for row in 0..self.rows() {
            line.clear();
            for (k, (_, values)) in self.columns.iter().enumerate() {
                if k > 0 {
                    line.push(',');
                }
                match values {
                    Values::Int(v) => {
                        if let Some(x) = v[row] {
                            line.push_str(&x.to_string());
                        }
                    }
                    Values::Float(v) => {
                        if let Some(x) = v[row] {
                            line.push_str(&x.to_string());
                        }
                    }
                    Values::Text(v) => push_csv_text(&mut line, &v[row]),
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
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
