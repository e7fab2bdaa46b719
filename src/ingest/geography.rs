//! The geography table (CSV or Parquet): kommune code, name, sundhedsråd,
//! region and an optional `area_index`. The engine ships the real 98
//! kommuner with an illustrative index as its default (`data/`).

use crate::domain::{Geography, Kommune};
use crate::error::InputError;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

/// The default geography compiled into the engine.
pub const BUILT_IN: &str = include_str!("../../data/geography-dk-2027.csv");
/// How the built-in geography is named in messages and the manifest.
pub const BUILT_IN_NAME: &str = "<built-in>/geography-dk-2027.csv";

/// One row before validation.
struct Row {
    line: u64,
    code: String,
    name: String,
    sundhedsraad: String,
    region: String,
    area_index: Option<String>,
}

/// Loads a geography file, choosing CSV or Parquet by the file's first bytes.
pub fn load(path: &Path) -> Result<Geography, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.starts_with(b"PAR1") {
        load_parquet(path)
    } else {
        parse_csv(&bytes, path)
    }
}

/// The default geography.
pub fn built_in() -> Result<Geography, InputError> {
    parse_csv(BUILT_IN.as_bytes(), Path::new(BUILT_IN_NAME))
}

/// Parses geography CSV text; `path` is only used in messages.
pub fn parse_csv(bytes: &[u8], path: &Path) -> Result<Geography, InputError> {
    let csv = super::csv_text::CsvText::decode(bytes);
    let mut reader = csv.reader();
    let csv_error = |line: u64, detail: String| InputError::Csv {
        path: path.to_path_buf(),
        line,
        detail,
    };
    let headers = csv.header(&mut reader, path, &REQUIRED)?;
    let has_area = headers.iter().any(|h| h == "area_index");
    /// One line of the file, by column name (extra columns are ignored).
    #[derive(serde::Deserialize)]
    struct Record {
        kommune_code: String,
        kommune_name: String,
        sundhedsraad: String,
        region_2027: String,
        #[serde(default)]
        area_index: Option<String>,
    }
    let mut rows = Vec::new();
    for (k, record) in reader.deserialize::<Record>().enumerate() {
        let line = k as u64 + 2;
        let record = record.map_err(|e| csv_error(line, e.to_string()))?;
        rows.push(Row {
            line: k as u64 + 1,
            code: record.kommune_code,
            name: record.kommune_name,
            sundhedsraad: record.sundhedsraad,
            region: record.region_2027,
            // A present column with an empty cell is an empty value (an
            // error in `build`), not a missing index.
            area_index: has_area.then(|| csv.number_text(&record.area_index.unwrap_or_default())),
        });
    }
    build(rows, path)
}

/// The columns every geography has.
const REQUIRED: [&str; 4] = [
    "kommune_code",
    "kommune_name",
    "sundhedsraad",
    "region_2027",
];

fn load_parquet(path: &Path) -> Result<Geography, InputError> {
    let not_parquet = |e: &dyn std::fmt::Display| InputError::NotParquet {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| not_parquet(&e))?
        .build()
        .map_err(|e| not_parquet(&e))?;
    let batches: Vec<RecordBatch> = reader
        .collect::<Result<_, _>>()
        .map_err(|e| not_parquet(&e))?;
    from_batches(&batches, path)
}

/// A geography from Arrow record batches (a Parquet file's, or a table
/// held in memory); `path` names them in messages. Columns of any integer,
/// float or string type are read as their text, as from CSV.
pub fn from_batches(batches: &[RecordBatch], path: &Path) -> Result<Geography, InputError> {
    let unreadable = |name: &str, e: &dyn std::fmt::Display| InputError::Other {
        path: path.to_path_buf(),
        detail: format!("column `{name}` cannot be read as text: {e}"),
    };
    let mut rows = Vec::new();
    for batch in batches {
        let text = |name: &str| -> Result<Option<Vec<Option<String>>>, InputError> {
            let Some(array) = batch.column_by_name(name) else {
                return Ok(None);
            };
            let target = match array.data_type() {
                DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
                t if t.is_integer() => DataType::Int64,
                _ => DataType::Utf8,
            };
            let cast = arrow::compute::cast(array, &target).map_err(|e| unreadable(name, &e))?;
            let values = (0..cast.len())
                .map(|i| {
                    if cast.is_null(i) {
                        return None;
                    }
                    Some(match target {
                        DataType::Float64 => {
                            cast.as_primitive::<Float64Type>().value(i).to_string()
                        }
                        DataType::Int64 => cast.as_primitive::<Int64Type>().value(i).to_string(),
                        _ => cast.as_string::<i32>().value(i).to_string(),
                    })
                })
                .collect();
            Ok(Some(values))
        };
        let required = |name: &str| {
            text(name)?.ok_or_else(|| InputError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                hint: String::new(),
            })
        };
        let [codes, names, councils, regions] = REQUIRED.map(required);
        let (codes, names, councils, regions) = (codes?, names?, councils?, regions?);
        let area = text("area_index")?;
        let first = rows.len() as u64;
        let cell = |column: &[Option<String>], i: usize| column[i].clone().unwrap_or_default();
        for i in 0..batch.num_rows() {
            rows.push(Row {
                line: first + i as u64 + 1,
                code: cell(&codes, i),
                name: cell(&names, i),
                sundhedsraad: cell(&councils, i),
                region: cell(&regions, i),
                area_index: area.as_ref().map(|a| cell(a, i)),
            });
        }
    }
    build(rows, path)
}

fn build(rows: Vec<Row>, path: &Path) -> Result<Geography, InputError> {
    if rows.is_empty() {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    let bad = |row: u64, column: &str, value: &str, expected: &str| InputError::BadValue {
        path: path.to_path_buf(),
        column: column.to_string(),
        row,
        value: value.to_string(),
        expected: expected.to_string(),
    };
    let mut kommuner: Vec<(Kommune, u64, String, String)> = Vec::with_capacity(rows.len());
    for row in rows {
        let code: i16 = match row.code.parse::<i16>() {
            Ok(c) if c > 0 => c,
            _ => {
                return Err(bad(
                    row.line,
                    "kommune_code",
                    &row.code,
                    "a kommune code 1..=32767",
                ))
            }
        };
        for (column, value) in [
            ("kommune_name", &row.name),
            ("sundhedsraad", &row.sundhedsraad),
            ("region_2027", &row.region),
        ] {
            if value.is_empty() {
                return Err(bad(row.line, column, value, "a non-empty name"));
            }
        }
        let area_index = match &row.area_index {
            None => None,
            Some(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => {
                    return Err(bad(
                        row.line,
                        "area_index",
                        text,
                        "a finite index of 0 or more (national mean 1)",
                    ))
                }
            },
        };
        kommuner.push((
            Kommune {
                code,
                name: row.name,
                sundhedsraad: 0,
                region: 0,
                area_index,
            },
            row.line,
            row.sundhedsraad,
            row.region,
        ));
    }
    kommuner.sort_by_key(|(k, line, _, _)| (k.code, *line));
    for pair in kommuner.windows(2) {
        if pair[0].0.code == pair[1].0.code {
            return Err(InputError::Duplicate {
                path: path.to_path_buf(),
                column: "kommune_code".into(),
                row: pair[1].1,
                first_row: pair[0].1,
                value: pair[1].0.code.to_string(),
            });
        }
    }
    let mut sundhedsraad: Vec<String> = kommuner.iter().map(|k| k.2.clone()).collect();
    sundhedsraad.sort();
    sundhedsraad.dedup();
    let mut regions: Vec<String> = kommuner.iter().map(|k| k.3.clone()).collect();
    regions.sort();
    regions.dedup();
    let kommuner = kommuner
        .into_iter()
        .map(|(mut k, _, council, region)| {
            k.sundhedsraad = sundhedsraad.binary_search(&council).unwrap_or(0) as u16;
            k.region = regions.binary_search(&region).unwrap_or(0) as u16;
            k
        })
        .collect();
    Ok(Geography {
        kommuner,
        sundhedsraad,
        regions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_has_98_kommuner_17_councils_4_regions() {
        let geography = built_in().unwrap();
        assert_eq!(geography.kommuner.len(), 98);
        assert_eq!(geography.sundhedsraad.len(), 17);
        assert_eq!(geography.regions.len(), 4);
        assert!(geography.has_area_index());
        let aabenraa = geography.kommune_index(580).unwrap();
        assert_eq!(geography.kommuner[aabenraa as usize].name, "Aabenraa");
    }

    #[test]
    fn duplicate_code_names_both_rows() {
        let text = "kommune_code,kommune_name,sundhedsraad,region_2027\n101,A,X,R\n101,B,X,R\n";
        let err = parse_csv(text.as_bytes(), Path::new("g.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2") && err.contains("row 1"), "{err}");
    }

    #[test]
    fn bad_area_index() {
        let text = "kommune_code,kommune_name,sundhedsraad,region_2027,area_index\n101,A,X,R,abc\n";
        let err = parse_csv(text.as_bytes(), Path::new("g.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("area_index") && err.contains("abc"), "{err}");
    }
}
