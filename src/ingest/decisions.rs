//! Reads a decisions file (SPEC section 7), CSV (any of the dialects of
//! `csv_text`, Danish Excel's included) or Parquet, into checked
//! `Decision`s: every error names the file, column, row and value.

use super::csv_text::CsvText;
use crate::decisions::{Decision, Dialogue, Reason};
use crate::error::InputError;
use arrow::array::AsArray;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

const COLUMNS: [&str; 5] = ["clinic_id", "min_patients", "reason", "dialogue", "note"];
const REQUIRED: [&str; 3] = ["clinic_id", "min_patients", "reason"];

/// The cells of the file by column (`None` for an absent optional column),
/// and whether numbers use decimal commas.
struct Cells {
    columns: Vec<Option<Vec<Option<String>>>>,
    rows: usize,
    decimal_comma: bool,
}

/// Reads the decisions file at `path`.
pub fn read(path: &Path) -> Result<Vec<Decision>, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let cells = if bytes.starts_with(b"PAR1") {
        parquet_cells(path)?
    } else {
        csv_cells(&bytes, path)?
    };
    parse(&cells, path)
}

fn csv_cells(bytes: &[u8], path: &Path) -> Result<Cells, InputError> {
    let csv = CsvText::decode(bytes);
    let mut reader = csv.reader();
    let headers = csv.header(&mut reader, path, &REQUIRED)?;
    let positions: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|name| headers.iter().position(|h| h == *name))
        .collect();
    let mut columns: Vec<Option<Vec<Option<String>>>> =
        positions.iter().map(|p| p.map(|_| Vec::new())).collect();
    let mut rows = 0;
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| InputError::Csv {
            path: path.to_path_buf(),
            line: k as u64 + 2,
            detail: format!("{e} ({})", csv.seen()),
        })?;
        for (column, position) in columns.iter_mut().zip(&positions) {
            if let (Some(column), Some(&p)) = (column.as_mut(), position.as_ref()) {
                let cell = record.get(p).unwrap_or("");
                column.push((!cell.is_empty()).then(|| cell.to_string()));
            }
        }
        rows += 1;
    }
    Ok(Cells {
        columns,
        rows,
        decimal_comma: csv.decimal_comma(),
    })
}

fn parquet_cells(path: &Path) -> Result<Cells, InputError> {
    let not_parquet = |e: &dyn std::fmt::Display| InputError::NotParquet {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| not_parquet(&e))?;
    let schema = builder.schema().clone();
    for name in REQUIRED {
        if schema.field_with_name(name).is_err() {
            return Err(InputError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                hint: String::new(),
            });
        }
    }
    let mut columns: Vec<Option<Vec<Option<String>>>> = COLUMNS
        .iter()
        .map(|name| schema.field_with_name(name).ok().map(|_| Vec::new()))
        .collect();
    let mut rows = 0;
    for batch in builder.build().map_err(|e| not_parquet(&e))? {
        let batch = batch.map_err(|e| not_parquet(&e))?;
        for (name, column) in COLUMNS.iter().zip(columns.iter_mut()) {
            let (Some(column), Some(array)) = (column.as_mut(), batch.column_by_name(name)) else {
                continue;
            };
            let target = match array.data_type() {
                DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
                t if t.is_integer() => DataType::Int64,
                DataType::Boolean => {
                    return Err(InputError::WrongType {
                        path: path.to_path_buf(),
                        column: name.to_string(),
                        found: "boolean".into(),
                        expected: "an integer or text".into(),
                    })
                }
                _ => DataType::Utf8,
            };
            let cast = arrow::compute::cast(array, &target).map_err(|e| InputError::WrongType {
                path: path.to_path_buf(),
                column: name.to_string(),
                found: format!("{} ({e})", array.data_type()),
                expected: "an integer or text".into(),
            })?;
            for i in 0..cast.len() {
                column.push((!cast.is_null(i)).then(|| match target {
                    DataType::Float64 => cast.as_primitive::<Float64Type>().value(i).to_string(),
                    DataType::Int64 => cast.as_primitive::<Int64Type>().value(i).to_string(),
                    _ => cast.as_string::<i32>().value(i).to_string(),
                }));
            }
        }
        rows += batch.num_rows();
    }
    Ok(Cells {
        columns,
        rows,
        decimal_comma: false,
    })
}

/// A whole count from a cell: an integer, or a number with no fraction
/// (`1600.0`, or `1600,0` with decimal commas).
fn whole(cell: &str, decimal_comma: bool) -> Option<i64> {
    if let Ok(v) = cell.parse::<i64>() {
        return Some(v);
    }
    let text = if decimal_comma {
        cell.replace(',', ".")
    } else {
        cell.to_string()
    };
    let v: f64 = text.parse().ok()?;
    (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

fn parse(cells: &Cells, path: &Path) -> Result<Vec<Decision>, InputError> {
    let bad = |column: &str, row: usize, value: &str, expected: String| InputError::BadValue {
        path: path.to_path_buf(),
        column: column.to_string(),
        row: row as u64 + 1,
        value: value.to_string(),
        expected,
    };
    let null = |column: &str, row: usize| InputError::Null {
        path: path.to_path_buf(),
        column: column.to_string(),
        row: row as u64 + 1,
        hint: String::new(),
    };
    let cell = |k: usize, row: usize| -> Option<&str> {
        cells.columns[k].as_ref().and_then(|c| c[row].as_deref())
    };
    let mut decisions = Vec::with_capacity(cells.rows);
    for row in 0..cells.rows {
        let id_text = cell(0, row).ok_or_else(|| null("clinic_id", row))?;
        let clinic_id = id_text
            .parse::<i64>()
            .ok()
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| bad("clinic_id", row, id_text, "a 32-bit clinic id".into()))?;
        let count_text = cell(1, row).ok_or_else(|| null("min_patients", row))?;
        let min_patients = whole(count_text, cells.decimal_comma)
            .filter(|&v| v >= 0)
            .ok_or_else(|| {
                bad(
                    "min_patients",
                    row,
                    count_text,
                    "a whole count of 0 or more".into(),
                )
            })?;
        let reason_text = cell(2, row).ok_or_else(|| null("reason", row))?;
        let reason = Reason::parse(reason_text).ok_or_else(|| {
            bad(
                "reason",
                row,
                reason_text,
                format!("one of {}", Reason::names()),
            )
        })?;
        let dialogue = match cell(3, row) {
            None => Dialogue::None,
            Some(text) => Dialogue::parse(text).ok_or_else(|| {
                bad(
                    "dialogue",
                    row,
                    text,
                    "one of none, agreed, not_agreed".into(),
                )
            })?,
        };
        decisions.push(Decision {
            clinic_id,
            min_patients,
            reason,
            dialogue,
            note: cell(4, row).unwrap_or("").to_string(),
            row: row as u64 + 1,
        });
    }
    Ok(decisions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &[u8]) -> Result<Vec<Decision>, String> {
        let cells = csv_cells(text, Path::new("d.csv")).map_err(|e| e.to_string())?;
        parse(&cells, Path::new("d.csv")).map_err(|e| e.to_string())
    }

    #[test]
    fn excel_and_plain_files_read_alike() {
        let plain = b"clinic_id,min_patients,reason,dialogue,note\n7,1500,local_conditions,agreed,\"Plejehjem, fast l\xC3\xA6ge\"\n8,1600.0,model,,\n";
        // Danish Excel: `;`, decimal comma, Windows-1252 (æ is 0xE6).
        let excel = b"clinic_id;min_patients;reason;dialogue;note\r\n7;1500;local_conditions;agreed;Plejehjem, fast l\xE6ge\r\n8;1600,0;model;;\r\n";
        let a = read_text(plain).unwrap();
        let b = read_text(excel).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].note, "Plejehjem, fast læge");
        assert_eq!((a[1].min_patients, a[1].dialogue), (1600, Dialogue::None));
    }

    #[test]
    fn bad_cells_are_named() {
        for (text, needles) in [
            (
                &b"clinic_id,min_patients,reason\n7,-5,model\n"[..],
                ["min_patients", "`-5`"],
            ),
            (
                b"clinic_id,min_patients,reason\n7,12.5,model\n",
                ["min_patients", "`12.5`"],
            ),
            (
                b"clinic_id,min_patients,reason\n7,1500,because\n",
                ["reason", "`because`"],
            ),
            (
                b"clinic_id,min_patients,reason,dialogue\n7,1500,model,maybe\n",
                ["dialogue", "`maybe`"],
            ),
            (
                b"clinic_id,min_patients,reason\nx,1500,model\n",
                ["clinic_id", "`x`"],
            ),
            (
                b"clinic_id,min_patients,reason\n7,,model\n",
                ["min_patients", "null"],
            ),
        ] {
            let error = read_text(text).unwrap_err();
            for needle in needles {
                assert!(error.contains(needle), "{error} lacks {needle}");
            }
            assert!(error.contains("row 1"), "{error}");
        }
        let error = read_text(b"clinic|count\n7|1500\n").unwrap_err();
        assert!(
            error.contains("clinic_id") && error.contains("separator `,`"),
            "{error}"
        );
    }
}
