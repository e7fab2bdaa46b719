//! CSV files as people write them, Danish Excel included: a UTF-8 file with
//! or without a byte-order mark, or Windows-1252 (what Excel's plain "CSV"
//! writes on a Danish Windows), separated by `,` or, with decimal commas,
//! by `;` (Excel's choice wherever the comma is the decimal sign).
//!
//! `CsvText::decode` finds the encoding and the separator once; readers ask
//! it for a `csv::Reader`, for numbers read in the file's convention, and
//! for the message naming what was seen when a column is not found.

use crate::error::InputError;
use std::path::Path;

/// How a file's bytes became text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1252,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with a byte-order mark",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// A CSV file decoded to text, with its separator.
#[derive(Debug, Clone)]
pub struct CsvText {
    pub text: String,
    pub encoding: Encoding,
    /// `,`, `;` or a tab.
    pub separator: u8,
}

/// Windows-1252's characters for the bytes 0x80..=0x9F (the rest of the
/// upper half is Latin-1); the five unassigned bytes become U+FFFD.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
    '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}',
    'ž', 'Ÿ',
];

fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// The separator of a header line: the most frequent of `;`, `,` and tab
/// outside quotes (`,` when there is none).
fn separator_of(header: &str) -> u8 {
    let (mut quoted, mut counts) = (false, [0usize; 3]);
    for ch in header.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    if counts[1] > counts[0] && counts[1] >= counts[2] {
        b';'
    } else if counts[2] > counts[0] && counts[2] > counts[1] {
        b'\t'
    } else {
        b','
    }
}

impl CsvText {
    /// Decodes a file's bytes: UTF-8 (a byte-order mark is dropped), else
    /// Windows-1252; the separator from the first line.
    pub fn decode(bytes: &[u8]) -> CsvText {
        let (text, encoding) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (
                String::from_utf8_lossy(rest).into_owned(),
                Encoding::Utf8Bom,
            ),
            None => match std::str::from_utf8(bytes) {
                Ok(text) => (text.to_string(), Encoding::Utf8),
                Err(_) => (windows_1252(bytes), Encoding::Windows1252),
            },
        };
        let header = text.lines().next().unwrap_or("");
        let separator = separator_of(header);
        CsvText {
            text,
            encoding,
            separator,
        }
    }

    /// Reads and decodes a file.
    pub fn read(path: &Path) -> Result<CsvText, InputError> {
        let bytes = std::fs::read(path).map_err(|source| InputError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(CsvText::decode(&bytes))
    }

    /// A reader over the text with the file's separator, cells trimmed.
    pub fn reader(&self) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .delimiter(self.separator)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(self.text.as_bytes())
    }

    /// Whether numbers use a decimal comma (a `;`-separated file).
    pub fn decimal_comma(&self) -> bool {
        self.separator == b';'
    }

    /// A number cell as Rust reads it: with a decimal comma turned into a
    /// point in a `;`-separated file.
    pub fn number_text(&self, cell: &str) -> String {
        if self.decimal_comma() {
            cell.replace(',', ".")
        } else {
            cell.to_string()
        }
    }

    /// What was seen, for messages: e.g. "separator `;`, encoding Windows-1252".
    pub fn seen(&self) -> String {
        let separator = match self.separator {
            b'\t' => "tab".to_string(),
            other => format!("`{}`", char::from(other)),
        };
        format!("separator {separator}, encoding {}", self.encoding.as_str())
    }

    /// The error for a required column not in `headers`: names the column,
    /// the header as read and the separator and encoding seen.
    pub fn missing_column(
        &self,
        path: &Path,
        column: &str,
        headers: &csv::StringRecord,
    ) -> InputError {
        let names: Vec<&str> = headers.iter().collect();
        InputError::MissingColumn {
            path: path.to_path_buf(),
            column: column.to_string(),
            hint: format!(
                " (the header reads as {names:?} with {}; expected a `,`- or `;`-separated file in UTF-8 or Windows-1252)",
                self.seen()
            ),
        }
    }

    /// The header line of `reader` (this text's), checked to have every
    /// one of `required`.
    pub fn header(
        &self,
        reader: &mut csv::Reader<&[u8]>,
        path: &Path,
        required: &[&str],
    ) -> Result<csv::StringRecord, InputError> {
        let headers = reader
            .headers()
            .map_err(|e| InputError::Csv {
                path: path.to_path_buf(),
                line: 1,
                detail: e.to_string(),
            })?
            .clone();
        match required
            .iter()
            .find(|name| !headers.iter().any(|h| h == **name))
        {
            Some(name) => Err(self.missing_column(path, name, &headers)),
            None => Ok(headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_excel_semicolons_and_windows_1252() {
        // "Tønder;1,5" in Windows-1252: ø is 0xF8.
        let bytes = b"name;value\r\nT\xF8nder;1,5\r\n";
        let csv = CsvText::decode(bytes);
        assert_eq!(csv.encoding, Encoding::Windows1252);
        assert_eq!(csv.separator, b';');
        let mut reader = csv.reader();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "Tønder");
        assert_eq!(csv.number_text(&row[1]).parse::<f64>().unwrap(), 1.5);
        assert_eq!(csv.seen(), "separator `;`, encoding Windows-1252");
    }

    #[test]
    fn utf8_with_a_bom_and_commas() {
        let csv = CsvText::decode("\u{FEFF}name,value\nÆrø,2.5\n".as_bytes());
        assert_eq!(csv.encoding, Encoding::Utf8Bom);
        assert_eq!(csv.separator, b',');
        let row = csv.reader().records().next().unwrap().unwrap();
        assert_eq!(&row[0], "Ærø");
        assert_eq!(csv.number_text("2.5"), "2.5");
    }

    #[test]
    fn euro_sign_and_quoted_separators() {
        assert_eq!(windows_1252(b"\x80\x96"), "€–");
        assert_eq!(separator_of("\"a;b\",c"), b',');
        assert_eq!(separator_of("a;b;c"), b';');
        assert_eq!(separator_of("a\tb"), b'\t');
        assert_eq!(separator_of("one"), b',');
    }

    #[test]
    fn a_missing_column_says_what_was_seen() {
        let csv = CsvText::decode(b"a|b\n1|2\n");
        let error = csv
            .header(&mut csv.reader(), Path::new("d.csv"), &["clinic_id"])
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("`clinic_id`"), "{text}");
        assert!(text.contains("separator `,`, encoding UTF-8"), "{text}");
    }
}
