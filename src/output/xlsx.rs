//! Tables as one `.xlsx` workbook (`--xlsx`), for the regions' planners
//! who live in Excel: a sheet per table, numbers as numbers (nulls as empty
//! cells), booleans as booleans, a bold frozen header row and column widths
//! that fit their contents. A table longer than a sheet's 1,048,575 data
//! rows continues on `name_2`, `name_3`, ... Rows are streamed to the file
//! (constant memory), so a large scenario batch fits.

use super::table::{Table, Values};
use crate::error::OutputError;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use std::path::Path;

/// The data rows a sheet holds under its header.
pub const SHEET_ROWS: usize = 1_048_575;

/// Widths are measured over at most this many rows.
const MEASURED_ROWS: usize = 10_000;

fn cell_text(values: &Values, row: usize) -> String {
    match values {
        Values::Int(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
        Values::Float(v) => v[row].map(|x| format!("{x:.6}")).unwrap_or_default(),
        Values::Text(v) => v[row].clone(),
        Values::Bool(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
    }
}

/// A column's width in characters: its header's or its widest cell's,
/// between 6 and 60.
fn width(name: &str, values: &Values, rows: usize) -> f64 {
    let widest = (0..rows.min(MEASURED_ROWS))
        .map(|r| cell_text(values, r).chars().count())
        .max()
        .unwrap_or(0)
        .max(name.chars().count());
    (widest as f64 + 2.0).clamp(6.0, 60.0)
}

/// Writes `sheets` (name, table) into one workbook at `path`.
pub fn write(path: &Path, sheets: &[(&str, &Table)]) -> Result<(), OutputError> {
    write_inner(path, sheets).map_err(|e| OutputError::write(path, e))
}

fn write_inner(path: &Path, sheets: &[(&str, &Table)]) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    // A fixed creation time: the same tables give the same workbook bytes,
    // so `fordeling verify` can compare it (the zip entries are dated
    // 1980-01-01 by the crate already).
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    for (name, table) in sheets {
        let rows = table.rows();
        let parts = rows.div_ceil(SHEET_ROWS).max(1);
        for part in 0..parts {
            let sheet = workbook.add_worksheet_with_constant_memory()?;
            sheet.set_name(if part == 0 {
                name.to_string()
            } else {
                format!("{name}_{}", part + 1)
            })?;
            for (col, (header, values)) in table.columns.iter().enumerate() {
                let col = col as u16;
                sheet.set_column_width(col, width(header, values, rows))?;
                sheet.write_string_with_format(0, col, *header, &bold)?;
            }
            sheet.set_freeze_panes(1, 0)?;
            let first = part * SHEET_ROWS;
            for row in first..rows.min(first + SHEET_ROWS) {
                let at = (row - first + 1) as u32;
                for (col, (_, values)) in table.columns.iter().enumerate() {
                    let col = col as u16;
                    match values {
                        Values::Int(v) => {
                            if let Some(x) = v[row] {
                                sheet.write_number(at, col, x as f64)?;
                            }
                        }
                        Values::Float(v) => {
                            if let Some(x) = v[row] {
                                sheet.write_number(at, col, x)?;
                            }
                        }
                        Values::Text(v) => {
                            if !v[row].is_empty() {
                                sheet.write_string(at, col, &v[row])?;
                            }
                        }
                        Values::Bool(v) => {
                            if let Some(x) = v[row] {
                                sheet.write_boolean(at, col, x)?;
                            }
                        }
                    }
                }
            }
        }
    }
    workbook.save(path)
}
