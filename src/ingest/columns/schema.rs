//! What is asked of a file: the requested columns (`Request`: name,
//! target type, null policy) and how a file's column reads as a number
//! (`describe`). Knows nothing of pages or scheduling.

use super::*;
/// What a column must hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// An integer of any width, within `min..=max`, stored as `target`.
    Int {
        min: i64,
        max: i64,
        target: Target,
    },
    Bool,
    /// A float (or integer, converted) that must be finite and satisfy the
    /// request's `check`.
    Float,
}

/// The storage type an integer column is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    U8,
    I16,
    I32,
    I64,
}

/// What a null in the column means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nulls {
    /// A null is an error.
    Reject,
    /// A null becomes this value and is counted.
    MapTo(i64),
    /// A null becomes `false` / the default and is not an error (optional
    /// columns whose default the caller applies).
    Default,
}

/// One column to read.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub nulls: Nulls,
    /// Human text for range errors, e.g. "an age 0..=120".
    pub expected: String,
    /// For floats: a predicate the value must meet, with its description.
    pub float_check: Option<fn(f64) -> bool>,
    /// Appended to a null error, e.g. how to map nulls instead.
    pub null_hint: String,
    /// For booleans: the caller takes a packed bitmap (`Column::Bits`).
    pub packed: bool,
    /// For 64-bit integers: the caller takes `Column::into_id_values`, so an
    /// in-memory table may lend its buffer (`Column::SharedI64`).
    pub shared: bool,
    /// For floats: an integer column is a wrong type, not converted.
    pub float_only: bool,
}

impl Request {
    pub fn int(name: &str, min: i64, max: i64, target: Target, expected: &str) -> Self {
        Request {
            name: name.to_string(),
            kind: Kind::Int { min, max, target },
            required: true,
            nulls: Nulls::Reject,
            expected: expected.to_string(),
            float_check: None,
            null_hint: String::new(),
            packed: false,
            shared: false,
            float_only: false,
        }
    }

    pub fn boolean(name: &str) -> Self {
        Request {
            name: name.to_string(),
            kind: Kind::Bool,
            required: true,
            nulls: Nulls::Reject,
            expected: "true or false".to_string(),
            float_check: None,
            null_hint: String::new(),
            packed: false,
            shared: false,
            float_only: false,
        }
    }

    pub fn float(name: &str, check: fn(f64) -> bool, expected: &str) -> Self {
        Request {
            name: name.to_string(),
            kind: Kind::Float,
            required: true,
            nulls: Nulls::Reject,
            expected: expected.to_string(),
            float_check: Some(check),
            null_hint: String::new(),
            packed: false,
            shared: false,
            float_only: false,
        }
    }

    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    pub fn null_hint(mut self, hint: &str) -> Self {
        self.null_hint = hint.to_string();
        self
    }

    pub fn nulls(mut self, nulls: Nulls) -> Self {
        self.nulls = nulls;
        self
    }

    /// A float column only (an integer column is a wrong type).
    pub fn float_only(mut self) -> Self {
        self.float_only = true;
        self
    }

    /// 64-bit integers the caller takes as `IdValues` (`Column::into_id_values`),
    /// lent without a copy by an in-memory table that holds them.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// Booleans as a packed bitmap: bit `i % 64` of word `i / 64` is row `i`.
    pub fn packed(mut self) -> Self {
        self.packed = true;
        self
    }
}

/// How an integer column's stored values read as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sign {
    Signed,
    Unsigned,
}

/// An Arrow-style name for a column's type, whether it is an integer, and
/// how its integers read.
pub(super) fn describe(descr: &ColumnDescriptor) -> (String, bool, Sign) {
    let physical = descr.physical_type();
    let logical = descr.logical_type_ref();
    let integer_of = |bits: i8, signed: bool| {
        let name = format!("{}Int{bits}", if signed { "" } else { "U" });
        (
            name,
            true,
            if signed { Sign::Signed } else { Sign::Unsigned },
        )
    };
    match (physical, logical, descr.converted_type()) {
        (PhysicalType::BOOLEAN, _, _) => ("Boolean".into(), false, Sign::Signed),
        (PhysicalType::INT32 | PhysicalType::INT64, Some(LogicalType::Integer(int)), _) => {
            integer_of(int.bit_width, int.is_signed)
        }
        (PhysicalType::INT32, None, ConvertedType::UINT_8) => integer_of(8, false),
        (PhysicalType::INT32, None, ConvertedType::UINT_16) => integer_of(16, false),
        (PhysicalType::INT32, None, ConvertedType::UINT_32) => integer_of(32, false),
        (PhysicalType::INT64, None, ConvertedType::UINT_64) => integer_of(64, false),
        (PhysicalType::INT32, None, ConvertedType::NONE | ConvertedType::INT_32) => {
            integer_of(32, true)
        }
        (PhysicalType::INT32, None, ConvertedType::INT_8) => integer_of(8, true),
        (PhysicalType::INT32, None, ConvertedType::INT_16) => integer_of(16, true),
        (PhysicalType::INT64, None, ConvertedType::NONE | ConvertedType::INT_64) => {
            integer_of(64, true)
        }
        (PhysicalType::FLOAT, None, _) => ("Float32".into(), false, Sign::Signed),
        (PhysicalType::DOUBLE, None, _) => ("Float64".into(), false, Sign::Signed),
        (PhysicalType::BYTE_ARRAY, Some(LogicalType::String), _)
        | (PhysicalType::BYTE_ARRAY, None, ConvertedType::UTF8) => {
            ("Utf8".into(), false, Sign::Signed)
        }
        (physical, Some(logical), _) => (format!("{physical} ({logical:?})"), false, Sign::Signed),
        (physical, None, converted) => (format!("{physical} ({converted})"), false, Sign::Signed),
    }
}
