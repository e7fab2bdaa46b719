//! The data a page is made from: an output directory's CSV files read
//! into strings with typed access by column name.

use super::*;

/// A CSV file read into strings, with typed access by column name.
pub(super) struct Frame {
    pub(super) path: PathBuf,
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
}

impl Frame {
    pub(super) fn read(path: &Path) -> Result<Frame, Error> {
        let mut reader = csv::Reader::from_path(path).map_err(|e| InputError::Other {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let header = reader
            .headers()
            .map_err(|e| InputError::Other {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (k, record) in reader.records().enumerate() {
            let record = record.map_err(|e| InputError::Csv {
                path: path.to_path_buf(),
                line: k as u64 + 2,
                detail: e.to_string(),
            })?;
            rows.push(record.iter().map(str::to_string).collect());
        }
        Ok(Frame {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    pub(super) fn col(&self, name: &str) -> Result<usize, Error> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            InputError::MissingColumn {
                path: self.path.clone(),
                column: name.into(),
                hint: String::new(),
            }
            .into()
        })
    }

    pub(super) fn text<'a>(&'a self, row: &'a [String], col: usize) -> &'a str {
        row.get(col).map(String::as_str).unwrap_or("")
    }

    pub(super) fn number(&self, row: &[String], col: usize) -> Option<f64> {
        row.get(col)?.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}
