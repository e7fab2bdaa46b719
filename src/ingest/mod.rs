//! The edge where files come in: Parquet and CSV to typed columns, with the
//! schema checks of SPEC section 2 (columns present, of the right kind,
//! values in range, nulls). Cross-file checks (references, duplicates) are
//! in `validate`.

pub mod columns;
pub mod geography;

use crate::domain::OLD_CLOSING_LIMIT;
use crate::error::InputError;
use crate::model::Model;
use columns::{concat, Column, Nulls, ParquetFile, Request, Target};
use std::path::Path;

/// The clinic file as read, before cross-checks.
#[derive(Debug, Clone, Default)]
pub struct RawClinics {
    pub clinic_id: Vec<i32>,
    pub kommune: Vec<i16>,
    pub capacities: Vec<f64>,
    pub previous_min_patients: Vec<f64>,
    pub previous_given: Vec<bool>,
    pub vulnerable_area: Vec<bool>,
}

/// `clinic_id`, in the clinic and the population file alike.
fn clinic_id_request() -> Request {
    let (min, max) = (i32::MIN.into(), i32::MAX.into());
    Request::int("clinic_id", min, max, Target::I32, "a 32-bit clinic id")
}

/// `kommune`, in the clinic and the population file alike.
fn kommune_request() -> Request {
    let (min, max) = (i16::MIN.into(), i16::MAX.into());
    Request::int("kommune", min, max, Target::I16, "a kommune code")
}

/// Reads the clinic file.
pub fn clinics(path: &Path) -> Result<RawClinics, InputError> {
    let file = ParquetFile::open(path)?;
    let requests = [
        clinic_id_request(),
        kommune_request(),
        Request::float("capacities", |v| v > 0.0, "capacities (FTE) above 0"),
        Request::int(
            "previous_min_patients",
            0,
            i64::from(i32::MAX),
            Target::I64,
            "a count of 0 or more",
        )
        .optional()
        .nulls(Nulls::Default),
        Request::boolean("vulnerable_area")
            .optional()
            .nulls(Nulls::Default),
    ];
    let chunks = file.read(&requests, |chunk, _| Ok(chunk))?;
    let mut raw = RawClinics::default();
    let mut columns: Vec<Vec<Column>> = vec![Vec::new(); requests.len()];
    let mut given_previous = Vec::new();
    for mut chunk in chunks {
        if let Some(given) = chunk.given[3].take() {
            given_previous.extend(given);
        }
        for (k, column) in chunk.columns.into_iter().enumerate() {
            columns[k].push(column);
        }
    }
    let mut columns = columns.into_iter().map(|parts| concat(parts.into_iter()));
    let mut next = || columns.next().unwrap_or(Column::Absent);
    raw.clinic_id = next().into_i32();
    raw.kommune = next().into_i16();
    raw.capacities = next().into_f64().unwrap_or_default();
    let previous = next();
    let vulnerable = next();
    let n = raw.clinic_id.len();
    match previous {
        Column::I64(values) => {
            raw.previous_given = given_previous;
            raw.previous_min_patients = values
                .iter()
                .zip(&raw.previous_given)
                .zip(&raw.capacities)
                .map(|((&v, &given), &d)| {
                    if given {
                        v as f64
                    } else {
                        OLD_CLOSING_LIMIT * d
                    }
                })
                .collect();
        }
        _ => {
            raw.previous_given = vec![false; n];
            raw.previous_min_patients = raw
                .capacities
                .iter()
                .map(|d| OLD_CLOSING_LIMIT * d)
                .collect();
        }
    }
    raw.vulnerable_area = match vulnerable {
        Column::Bool(v) => v,
        _ => vec![false; n],
    };
    if n == 0 {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(raw)
}

/// The population file as read, before cross-checks.
#[derive(Debug, Clone, Default)]
pub struct RawPopulation {
    pub person_id: Vec<i64>,
    pub clinic_id: Vec<i32>,
    pub kommune: Vec<i16>,
    pub age: Vec<u8>,
    pub sex: Vec<u8>,
    pub education: Vec<u8>,
    pub income_quintile: Vec<u8>,
    pub labour: Vec<u8>,
    pub origin: Vec<u8>,
    pub lives_alone: Vec<bool>,
    pub conditions: Vec<u64>,
    pub utilization: Option<Vec<f64>>,
    pub exposure: Option<Vec<f64>>,
    /// Nulls mapped to the unknown or reference level, per socioeconomic
    /// column, in the order of `SOCIOECONOMIC_COLUMNS`.
    pub nulls_mapped: [u64; 5],
    /// SHA-256 of the file's bytes as they were read.
    pub sha256: String,
}

/// The socioeconomic columns, whose nulls `--nulls-as-unknown` may map.
pub const SOCIOECONOMIC_COLUMNS: [&str; 5] = [
    "education",
    "income_quintile",
    "labour",
    "origin",
    "lives_alone",
];

/// Options for reading the population.
#[derive(Debug, Clone, Copy, Default)]
pub struct PopulationOptions {
    /// Map nulls in socioeconomic columns to their unknown (or reference) level.
    pub nulls_as_unknown: bool,
    /// Read `utilization` and `exposure` (fit and evaluate).
    pub outcomes: bool,
}

/// Reads the population file: the fixed columns of SPEC section 2 and one
/// `cond_<name>` column for each of the model's conditions, folded into a
/// bit mask per person.
pub fn population(
    path: &Path,
    model: &Model,
    options: PopulationOptions,
) -> Result<RawPopulation, InputError> {
    let file = ParquetFile::open(path)?;
    let socio = |request: Request| {
        if options.nulls_as_unknown {
            request.nulls(Nulls::MapTo(0))
        } else {
            request.null_hint(
                " (pass --nulls-as-unknown to map socioeconomic nulls to the unknown level)",
            )
        }
    };
    let mut requests = vec![
        Request::int(
            "person_id",
            i64::MIN,
            i64::MAX,
            Target::I64,
            "a 64-bit person id",
        ),
        clinic_id_request(),
        kommune_request(),
        Request::int("age", 0, 120, Target::U8, "an age 0..=120"),
        Request::int("sex", 1, 2, Target::U8, "1 (male) or 2 (female)"),
        socio(Request::int(
            "education",
            0,
            4,
            Target::U8,
            "an education level 0..=4",
        )),
        socio(Request::int(
            "income_quintile",
            0,
            5,
            Target::U8,
            "an income quintile 0..=5",
        )),
        socio(Request::int(
            "labour",
            0,
            5,
            Target::U8,
            "a labour-market status 0..=5",
        )),
        socio(Request::int("origin", 0, 2, Target::U8, "an origin 0..=2")),
        socio(Request::boolean("lives_alone")),
    ];
    let fixed = requests.len();
    for (name, _) in &model.conditions {
        let column = Model::condition_column(name);
        if !file.has_column(&column) {
            return Err(InputError::MissingColumn {
                path: path.to_path_buf(),
                column,
                hint: format!(" (the model's condition `{name}` needs it)"),
            });
        }
        requests.push(Request::boolean(&column));
    }
    if options.outcomes {
        requests.push(Request::float(
            "utilization",
            |v| v >= 0.0,
            "a utilization of 0 or more",
        ));
        requests.push(
            Request::float("exposure", |v| v > 0.0 && v <= 1.0, "an exposure in (0, 1]").optional(),
        );
    }
    let n_conditions = model.conditions.len();
    // Fold the condition flags into a mask on the worker, so no row group
    // keeps one boolean vector per condition alive.
    let (chunks, sha256) = rayon::join(
        || {
            file.read(&requests, |mut chunk, _| {
                let mut mask = vec![0u64; chunk.rows];
                for k in 0..n_conditions {
                    let flags = std::mem::replace(&mut chunk.columns[fixed + k], Column::Absent)
                        .into_bool();
                    for (m, &flag) in mask.iter_mut().zip(&flags) {
                        *m |= u64::from(flag) << k;
                    }
                }
                Ok((chunk, mask))
            })
        },
        || crate::model::sha256_hex(file.bytes()),
    );
    let chunks = chunks?;

    let mut raw = RawPopulation {
        sha256,
        ..RawPopulation::default()
    };
    let mut parts: Vec<Vec<Column>> = vec![Vec::new(); requests.len()];
    for (chunk, mask) in chunks {
        raw.conditions.extend_from_slice(&mask);
        for (k, mapped) in chunk.nulls_mapped.iter().enumerate().skip(5).take(5) {
            raw.nulls_mapped[k - 5] += mapped;
        }
        for (k, column) in chunk.columns.into_iter().enumerate() {
            parts[k].push(column);
        }
    }
    let mut columns = parts.into_iter().map(|p| concat(p.into_iter()));
    let mut next = || columns.next().unwrap_or(Column::Absent);
    raw.person_id = next().into_i64();
    raw.clinic_id = next().into_i32();
    raw.kommune = next().into_i16();
    raw.age = next().into_u8();
    raw.sex = next().into_u8();
    raw.education = next().into_u8();
    raw.income_quintile = next().into_u8();
    raw.labour = next().into_u8();
    raw.origin = next().into_u8();
    raw.lives_alone = next().into_bool();
    for _ in 0..n_conditions {
        next();
    }
    if options.outcomes {
        raw.utilization = next().into_f64();
        raw.exposure = next().into_f64();
    }
    if raw.person_id.is_empty() {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(raw)
}
