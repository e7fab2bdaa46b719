//! Error types, one enum per stage, each carrying the file, column, row or
//! key at fault and the offending value, so a message reads well on its own.
//!
//! Exit codes (SPEC section 6): bad input or model 1, output failures 3.
//! Usage errors (exit 2) never reach this module; clap reports them.

use std::path::PathBuf;

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Error {
    /// The process exit code for this error (SPEC section 6).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Model(_) => 1,
            Error::Output(_) => 3,
        }
    }
}

/// Rows in messages are 1-based data rows: the first row after the header
/// (or the first row of a Parquet file) is row 1.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read `{path}`: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a readable Parquet file: {detail}")]
    NotParquet { path: PathBuf, detail: String },
    #[error("`{path}`: required column `{column}` is missing{hint}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        hint: String,
    },
    #[error("`{path}`: column `{column}` appears more than once")]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("`{path}`: column `{column}` has type {found}, expected {expected}")]
    WrongType {
        path: PathBuf,
        column: String,
        found: String,
        expected: String,
    },
    #[error("`{path}`: column `{column}` row {row}: null where a value is required{hint}")]
    Null {
        path: PathBuf,
        column: String,
        row: u64,
        hint: String,
    },
    #[error(
        "`{path}`: column `{column}` row {row}: value `{value}` is invalid, expected {expected}"
    )]
    BadValue {
        path: PathBuf,
        column: String,
        row: u64,
        value: String,
        expected: String,
    },
    #[error("`{path}`: column `{column}` row {row}: value `{value}` duplicates row {first_row}")]
    Duplicate {
        path: PathBuf,
        column: String,
        row: u64,
        first_row: u64,
        value: String,
    },
    #[error("`{path}`: column `{column}` row {row}: value `{value}` is not in `{other}`")]
    UnknownReference {
        path: PathBuf,
        column: String,
        row: u64,
        value: String,
        other: PathBuf,
    },
    #[error("`{path}` has no rows")]
    Empty { path: PathBuf },
    #[error("`{path}` line {line}: {detail}")]
    Csv {
        path: PathBuf,
        line: u64,
        detail: String,
    },
    #[error("`{path}`: {detail}")]
    Other { path: PathBuf, detail: String },
}

/// Problems with a model file, or with what a model makes of the data.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model `{path}`: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model `{path}`: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("model `{path}`: key `{key}`: {detail}")]
    Invalid {
        path: PathBuf,
        key: String,
        detail: String,
    },
    #[error("model `{path}`: every person's raw need is 0 or below, so need weights cannot be formed (mean raw need {mean})")]
    NoNeed { path: PathBuf, mean: f64 },
}

/// Failures while writing results; the output directory is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write `{path}`: {detail}")]
    Write { path: PathBuf, detail: String },
}

impl OutputError {
    pub fn write(path: impl Into<PathBuf>, detail: impl std::fmt::Display) -> Self {
        OutputError::Write {
            path: path.into(),
            detail: detail.to_string(),
        }
    }
}
