//! The data a page is made from: an output directory's tables read back
//! as typed rows through their schema (`output::schema`), and the small
//! conversions the pages share.

use super::*;

/// The rows of one of the engine's CSV tables.
pub(super) fn rows<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, Error> {
    Ok(schema::read_csv(path)?)
}

/// An integer cell as a number.
pub(super) fn number(value: Option<i64>) -> Option<f64> {
    value.map(|v| v as f64)
}

/// An integer cell as the CSV shows it (empty for null).
pub(super) fn shown(value: Option<i64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}
