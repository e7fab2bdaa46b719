//! The edge where files come in: Parquet and CSV to typed columns, with the
//! schema checks of SPEC section 2 (columns present, of the right kind,
//! values in range, nulls). Cross-file checks (references, duplicates) are
//! in `validate`.

pub mod columns;
pub mod csv_text;
pub mod decisions;
pub mod geography;

use crate::domain::OLD_CLOSING_LIMIT;
use crate::error::InputError;
use crate::model::format2::{Kind, Spec};
use crate::model::Model;
use columns::{concat, Chunk, Column, ColumnId, Nulls, Request, Requests, Target};
pub use columns::{ArrowTable, IdValues, Table};
use std::path::Path;
use std::sync::Arc;

/// The clinic file as read, before cross-checks.
#[derive(Debug, Clone, Default)]
pub struct RawClinics {
    pub clinic_id: Vec<i32>,
    pub kommune: Vec<i16>,
    pub capacities: Vec<f64>,
    /// `capacity_adjustment` (FTE given to tasks outside the list); 0 when
    /// the file has none for the clinic.
    pub capacity_adjustment: Vec<f64>,
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

/// Reads the clinic file (or the in-memory table given for it, named by
/// `path`).
pub fn clinics(path: &Path, memory: Option<&Arc<ArrowTable>>) -> Result<RawClinics, InputError> {
    let file = Table::open(path, memory)?;
    let mut requests = Requests::new();
    let clinic_id = requests.push(clinic_id_request());
    let kommune = requests.push(kommune_request());
    let capacities = requests.push(Request::float(
        "capacities",
        |v| v > 0.0,
        "capacities (FTE) above 0",
    ));
    let previous_min_patients = requests.push(
        Request::int(
            "previous_min_patients",
            0,
            i64::from(i32::MAX),
            Target::I64,
            "a count of 0 or more",
        )
        .optional()
        .nulls(Nulls::Default),
    );
    let vulnerable_area = requests.push(
        Request::boolean("vulnerable_area")
            .optional()
            .nulls(Nulls::Default),
    );
    let capacity_adjustment = requests.push(
        Request::float(
            "capacity_adjustment",
            f64::is_finite,
            "a capacity adjustment (FTE), a finite number",
        )
        .optional()
        .nulls(Nulls::Default),
    );
    let chunks = file.read(requests.as_slice(), |chunk, _| Ok(chunk))?;
    let mut all = Chunk::concat(chunks, &requests);
    let mut raw = RawClinics::default();
    let given_previous = all.take_given(previous_min_patients).unwrap_or_default();
    raw.clinic_id = all.take(clinic_id).into_i32();
    raw.kommune = all.take(kommune).into_i16();
    raw.capacities = all.take(capacities).into_f64().unwrap_or_default();
    let previous = all.take(previous_min_patients);
    let vulnerable = all.take(vulnerable_area);
    let adjustment_given = all.take_given(capacity_adjustment);
    let adjustment = all.take(capacity_adjustment);
    let n = raw.clinic_id.len();
    raw.capacity_adjustment = match adjustment.into_f64() {
        Some(values) => values
            .iter()
            .enumerate()
            .map(|(i, &v)| match &adjustment_given {
                Some(given) if !given[i] => 0.0,
                _ => v,
            })
            .collect(),
        None => vec![0.0; n],
    };
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
    /// Lent without a copy by an in-memory table (`IdValues`).
    pub person_id: IdValues,
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
    /// Format 2: levels per coded variable, and numeric columns.
    pub codes: Vec<Vec<u8>>,
    pub numeric: Vec<Vec<f64>>,
    pub utilization: Option<Vec<f64>>,
    pub exposure: Option<Vec<f64>>,
    /// Nulls mapped to the unknown or reference level, per socioeconomic
    /// column, in the order of `SOCIOECONOMIC_COLUMNS`.
    pub nulls_mapped: [u64; 5],
    /// SHA-256 of the file's bytes: set by `population`, empty from
    /// `PopulationReader::read_all` alone (see `hashing`).
    pub sha256: String,
    /// Rows per row group.
    pub row_groups: Vec<usize>,
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

/// Opens the population file and checks its columns against SPEC
/// section 2 and the model: format 1's fixed columns and `cond_<name>`, or
/// the columns a format-2 model names (SPEC 3.1).
pub fn population_reader(
    path: &Path,
    memory: Option<&Arc<ArrowTable>>,
    model: &Model,
    options: PopulationOptions,
) -> Result<PopulationReader, InputError> {
    let file = Table::open(path, memory)?;
    let mut requests = Requests::new();
    let person_id = requests.push(
        Request::int(
            "person_id",
            i64::MIN,
            i64::MAX,
            Target::I64,
            "a 64-bit person id",
        )
        .shared(),
    );
    let clinic_id = requests.push(clinic_id_request());
    let kommune = requests.push(kommune_request());
    let layout = match &model.format2 {
        None => Layout::Fixed(fixed_columns(&file, path, model, options, &mut requests)?),
        Some(spec) => Layout::Terms(term_columns(&file, path, spec, &mut requests)?),
    };
    let outcomes = options.outcomes.then(|| {
        let utilization = requests.push(Request::float(
            "utilization",
            |v| v >= 0.0,
            "a utilization of 0 or more",
        ));
        let exposure = requests.push(
            Request::float("exposure", |v| v > 0.0 && v <= 1.0, "an exposure in (0, 1]").optional(),
        );
        (utilization, exposure)
    });
    Ok(PopulationReader {
        file,
        requests,
        columns: PopulationColumns {
            person_id,
            clinic_id,
            kommune,
            layout,
            outcomes,
        },
    })
}

/// Format 1's columns: age, sex, the socioeconomic columns and one
/// `cond_<name>` per condition.
fn fixed_columns(
    file: &Table,
    path: &Path,
    model: &Model,
    options: PopulationOptions,
    requests: &mut Requests,
) -> Result<FixedColumns, InputError> {
    let socio = |request: Request| {
        if options.nulls_as_unknown {
            request.nulls(Nulls::MapTo(0))
        } else {
            request.null_hint(
                " (pass --nulls-as-unknown to map socioeconomic nulls to the unknown level)",
            )
        }
    };
    let age = requests.push(Request::int("age", 0, 120, Target::U8, "an age 0..=120"));
    let sex = requests.push(Request::int(
        "sex",
        1,
        2,
        Target::U8,
        "1 (male) or 2 (female)",
    ));
    let education = requests.push(socio(Request::int(
        "education",
        0,
        4,
        Target::U8,
        "an education level 0..=4",
    )));
    let income_quintile = requests.push(socio(Request::int(
        "income_quintile",
        0,
        5,
        Target::U8,
        "an income quintile 0..=5",
    )));
    let labour = requests.push(socio(Request::int(
        "labour",
        0,
        5,
        Target::U8,
        "a labour-market status 0..=5",
    )));
    let origin = requests.push(socio(Request::int(
        "origin",
        0,
        2,
        Target::U8,
        "an origin 0..=2",
    )));
    let lives_alone = requests.push(socio(Request::boolean("lives_alone")));
    let mut conditions = Vec::with_capacity(model.conditions.len());
    for (name, _) in &model.conditions {
        let column = Model::condition_column(name);
        if !file.has_column(&column) {
            return Err(InputError::MissingColumn {
                path: path.to_path_buf(),
                column,
                hint: format!(" (the model's condition `{name}` needs it)"),
            });
        }
        conditions.push(requests.push(Request::boolean(&column).packed()));
    }
    Ok(FixedColumns {
        age,
        sex,
        socioeconomic: [education, income_quintile, labour, origin, lives_alone],
        conditions,
    })
}

/// A format-2 model's columns: one integer request per column its levels
/// and band variables read, one packed boolean per flag, one float per
/// numeric population column. A missing column names what needs it.
fn term_columns(
    file: &Table,
    path: &Path,
    spec: &Spec,
    requests: &mut Requests,
) -> Result<TermColumns, InputError> {
    let require = |column: &str| -> Result<(), InputError> {
        if file.has_column(column) {
            return Ok(());
        }
        Err(InputError::MissingColumn {
            path: path.to_path_buf(),
            column: column.to_string(),
            hint: format!(" (the model {} names it)", spec.named_by(column)),
        })
    };
    let mut integers: Vec<((String, Target, i64, i64), ColumnId)> = Vec::new();
    let mut coded = Vec::new();
    for v in spec.coded() {
        let variable = &spec.variables[v];
        let (column, coding) = match &variable.kind {
            Kind::Levels { column, levels } => (column, Coding::Levels(levels.clone())),
            Kind::Bands { column, edges } => (column, Coding::Bands(edges.clone())),
            Kind::Count { .. } | Kind::Flag { .. } => continue,
        };
        require(column)?;
        // Read at the narrowest width that holds every value the variable
        // accepts (levels within 0..=255, or bands from 0 up on an 8-bit
        // column, as bytes), else at the column's own width: no wider copy
        // is made. The range a byte request checks is the variable's, so
        // its message names the levels.
        let own = file.integer_target(column);
        let (target, min, max, expected) = match &coding {
            Coding::Levels(levels) if levels[0] >= 0 && levels[levels.len() - 1] <= 255 => (
                Target::U8,
                levels[0],
                levels[levels.len() - 1],
                format!(
                    "one of the levels {levels:?} of variable `{}`",
                    variable.name
                ),
            ),
            Coding::Bands(edges) if file.integer_bits(column) == Some(8) => {
                if edges[0] >= 0 {
                    (
                        Target::U8,
                        edges[0],
                        255,
                        format!(
                            "at least {}, the first edge of variable `{}`",
                            edges[0], variable.name
                        ),
                    )
                } else {
                    (
                        Target::I16,
                        i16::MIN.into(),
                        i16::MAX.into(),
                        "an integer".to_string(),
                    )
                }
            }
            _ => {
                let (min, max) = match own {
                    Target::U8 => (0, 255),
                    Target::I16 => (i16::MIN.into(), i16::MAX.into()),
                    Target::I32 => (i32::MIN.into(), i32::MAX.into()),
                    Target::I64 => (i64::MIN, i64::MAX),
                };
                (own, min, max, "an integer".to_string())
            }
        };
        let key = (column.clone(), target, min, max);
        let id = match integers.iter().find(|(k, _)| *k == key) {
            Some(&(_, id)) => id,
            None => {
                let id = requests.push(Request::int(column, min, max, target, &expected));
                integers.push((key, id));
                id
            }
        };
        coded.push(Coded {
            id,
            column: column.clone(),
            variable: variable.name.clone(),
            coding,
        });
    }
    let mut flags = Vec::new();
    for flag in spec.flags() {
        require(&flag)?;
        flags.push(requests.push(Request::boolean(&flag).packed()));
    }
    let mut numeric = Vec::new();
    for column in spec.numeric_columns() {
        require(&column)?;
        numeric.push(
            requests.push(Request::float(&column, f64::is_finite, "a finite number").float_only()),
        );
    }
    Ok(TermColumns {
        coded,
        flags,
        numeric,
    })
}

/// Where each of the population's columns is in a `Chunk`.
#[derive(Debug, Clone)]
struct PopulationColumns {
    person_id: ColumnId,
    clinic_id: ColumnId,
    kommune: ColumnId,
    layout: Layout,
    /// `utilization` and `exposure`, when outcomes are read.
    outcomes: Option<(ColumnId, ColumnId)>,
}

/// The model's columns: format 1's fixed ones, or a format-2 model's.
#[derive(Debug, Clone)]
enum Layout {
    Fixed(FixedColumns),
    Terms(TermColumns),
}

#[derive(Debug, Clone)]
struct FixedColumns {
    age: ColumnId,
    sex: ColumnId,
    /// In the order of `SOCIOECONOMIC_COLUMNS`.
    socioeconomic: [ColumnId; 5],
    /// One per model condition, in the model's order (bit k).
    conditions: Vec<ColumnId>,
}

#[derive(Debug, Clone)]
struct TermColumns {
    /// One per `Spec::coded` variable.
    coded: Vec<Coded>,
    /// One per `Spec::flags` flag (bit k).
    flags: Vec<ColumnId>,
    /// One per `Spec::numeric_columns` column.
    numeric: Vec<ColumnId>,
}

/// A levels or band variable: the integer column it reads and how a value
/// becomes a level.
#[derive(Debug, Clone)]
struct Coded {
    id: ColumnId,
    column: String,
    variable: String,
    coding: Coding,
}

#[derive(Debug, Clone)]
enum Coding {
    Levels(Vec<i64>),
    Bands(Vec<i64>),
}

impl Coding {
    /// Levels 0, 1, 2, ...: a value is its own level.
    fn is_identity(&self) -> bool {
        match self {
            Coding::Levels(levels) => levels.iter().enumerate().all(|(k, &l)| l == k as i64),
            Coding::Bands(_) => false,
        }
    }
}

impl Coded {
    /// The 0-based levels of `values`; the first value outside the
    /// variable's levels (or below its first edge) is an error naming the
    /// row (`first_row` is the chunk's first row, 0-based).
    fn code<T: Copy + Into<i64>>(
        &self,
        values: &[T],
        path: &Path,
        first_row: u64,
    ) -> Result<Vec<u8>, InputError> {
        let bad = |j: usize, expected: String| InputError::BadValue {
            path: path.to_path_buf(),
            column: self.column.clone(),
            row: first_row + j as u64 + 1,
            value: values[j].into().to_string(),
            expected,
        };
        let values = values.iter().map(|&v| v.into());
        code_values(&self.coding, values).map_err(|(j, _)| match &self.coding {
            Coding::Levels(levels) => bad(
                j,
                format!(
                    "one of the levels {levels:?} of variable `{}`",
                    self.variable
                ),
            ),
            Coding::Bands(edges) => bad(
                j,
                format!(
                    "at least {}, the first edge of variable `{}`",
                    edges[0], self.variable
                ),
            ),
        })
    }
}

/// A levels or band variable's 0-based levels of some values; the first
/// value outside the levels (or below the first edge) is `Err((index,
/// value))`.
fn code_values(
    coding: &Coding,
    values: impl Iterator<Item = i64>,
) -> Result<Vec<u8>, (usize, i64)> {
    let mut out = Vec::with_capacity(values.size_hint().0);
    match coding {
        Coding::Levels(levels) => {
            let first = levels[0];
            // Consecutive levels (the usual case) code by subtraction.
            let consecutive = levels.windows(2).all(|w| w[1] == w[0] + 1);
            for (j, v) in values.enumerate() {
                let level = if consecutive {
                    v.checked_sub(first)
                        .filter(|&d| (0..levels.len() as i64).contains(&d))
                        .map(|d| d as usize)
                } else {
                    levels.binary_search(&v).ok()
                };
                match level {
                    Some(level) => out.push(level as u8),
                    None => return Err((j, v)),
                }
            }
        }
        Coding::Bands(edges) => {
            // A lookup table over the edges' span keeps the common case
            // (ages) to one load.
            let (low, high) = (edges[0], edges[edges.len() - 1]);
            let span = high.saturating_sub(low);
            let table: Vec<u8> = if span <= 4096 {
                (0..=span)
                    .map(|d| (edges.partition_point(|&e| e <= low + d) - 1) as u8)
                    .collect()
            } else {
                Vec::new()
            };
            let last = (edges.len() - 1) as u8;
            for (j, v) in values.enumerate() {
                if v < low {
                    return Err((j, v));
                }
                let level = if v >= high {
                    last
                } else if table.is_empty() {
                    (edges.partition_point(|&e| e <= v) - 1) as u8
                } else {
                    table[(v - low) as usize]
                };
                out.push(level);
            }
        }
    }
    Ok(out)
}

/// The 0-based levels of a levels or band variable's values (for data
/// made in memory, e.g. by `synth`); `Err((index, value))` for the first
/// value outside its levels. Other kinds have no integer column: `Err`.
pub fn code_variable(
    kind: &Kind,
    values: impl Iterator<Item = i64>,
) -> Result<Vec<u8>, (usize, i64)> {
    match kind {
        Kind::Levels { levels, .. } => code_values(&Coding::Levels(levels.clone()), values),
        Kind::Bands { edges, .. } => code_values(&Coding::Bands(edges.clone()), values),
        Kind::Count { .. } | Kind::Flag { .. } => Err((0, 0)),
    }
}

/// A population file ready to be read whole or streamed.
pub struct PopulationReader {
    file: Table,
    requests: Requests,
    columns: PopulationColumns,
}

impl PopulationReader {
    /// The rows the file declares (or the table holds).
    pub fn rows(&self) -> u64 {
        self.file.rows()
    }

    /// Reads the row groups (`window` at a time when a file has too few
    /// to give each thread two, see `Table::read_windowed`); each row
    /// group's persons (and its first row, 0-based) go through `map` on
    /// the pool, and the results to `merge` in file order. The file is not
    /// hashed here: see `hashing`.
    pub fn stream<T: Send>(
        &self,
        window: usize,
        map: impl Fn(RawPopulation, u64) -> Result<T, InputError> + Sync,
        merge: impl FnMut(T) -> Result<(), InputError> + Send,
    ) -> Result<(), InputError> {
        self.file.read_windowed(
            self.requests.as_slice(),
            window,
            |chunk, first_row| map(self.to_raw(chunk, first_row)?, first_row),
            merge,
        )
    }

    /// One row group's columns as a `RawPopulation`, the flags folded into
    /// a mask and a format-2 model's levels coded on the worker.
    fn to_raw(&self, mut chunk: Chunk, first_row: u64) -> Result<RawPopulation, InputError> {
        let columns = &self.columns;
        let (utilization, exposure) = match columns.outcomes {
            Some((u, e)) => (chunk.take(u).into_f64(), chunk.take(e).into_f64()),
            None => (None, None),
        };
        let mut raw = RawPopulation {
            row_groups: vec![chunk.rows],
            person_id: chunk.take(columns.person_id).into_id_values(),
            clinic_id: chunk.take(columns.clinic_id).into_i32(),
            kommune: chunk.take(columns.kommune).into_i16(),
            utilization,
            exposure,
            ..RawPopulation::default()
        };
        match &columns.layout {
            Layout::Fixed(fixed) => {
                raw.conditions = fold_flags(&mut chunk, &fixed.conditions);
                let [education, income_quintile, labour, origin, lives_alone] = fixed.socioeconomic;
                raw.nulls_mapped = fixed.socioeconomic.map(|id| chunk.nulls_mapped(id));
                raw.age = chunk.take(fixed.age).into_u8();
                raw.sex = chunk.take(fixed.sex).into_u8();
                raw.education = chunk.take(education).into_u8();
                raw.income_quintile = chunk.take(income_quintile).into_u8();
                raw.labour = chunk.take(labour).into_u8();
                raw.origin = chunk.take(origin).into_u8();
                raw.lives_alone = chunk.take(lives_alone).into_bool();
            }
            Layout::Terms(terms) => {
                raw.conditions = fold_flags(&mut chunk, &terms.flags);
                let mut taken: Vec<(ColumnId, Column)> = Vec::new();
                for coded in &terms.coded {
                    if !taken.iter().any(|(id, _)| *id == coded.id) {
                        taken.push((coded.id, chunk.take(coded.id)));
                    }
                    let column = taken
                        .iter()
                        .find(|(id, _)| *id == coded.id)
                        .map_or(&Column::Absent, |(_, c)| c);
                    let path = self.file.path();
                    raw.codes.push(match column {
                        // Levels 0, 1, ..., checked by the read: the bytes
                        // are the levels.
                        Column::U8(v) if coded.coding.is_identity() => v.clone(),
                        Column::U8(v) => coded.code(v, path, first_row)?,
                        Column::I16(v) => coded.code(v, path, first_row)?,
                        Column::I32(v) => coded.code(v, path, first_row)?,
                        Column::I64(v) => coded.code(v, path, first_row)?,
                        _ => Vec::new(),
                    });
                }
                raw.numeric = terms
                    .numeric
                    .iter()
                    .map(|&id| chunk.take(id).into_f64().unwrap_or_default())
                    .collect();
            }
        }
        Ok(raw)
    }

    /// Reads the whole file into one `RawPopulation` (its `sha256` left
    /// empty: see `hashing`).
    pub fn read_all(&self) -> Result<RawPopulation, InputError> {
        let mut all = RawPopulation::default();
        self.stream(
            usize::MAX,
            |part, _| Ok(part),
            |part| {
                all.append(part);
                Ok(())
            },
        )?;
        if all.person_id.is_empty() {
            return Err(InputError::Empty {
                path: self.file.path().to_path_buf(),
            });
        }
        Ok(all)
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Checks the file's schema against every column the model needs
    /// (present, of the right kind) without reading the rows.
    pub fn check_schema(&self) -> Result<(), InputError> {
        self.file.check_schema(self.requests.as_slice())
    }
}

impl RawPopulation {
    /// Appends a later row group.
    pub fn append(&mut self, part: RawPopulation) {
        // The first part's vector (or a copy of lent ids) takes the rest.
        let mut ids = Vec::from(std::mem::take(&mut self.person_id));
        ids.extend_from_slice(&part.person_id);
        self.person_id = IdValues::from(ids);
        self.clinic_id.extend(part.clinic_id);
        self.kommune.extend(part.kommune);
        self.age.extend(part.age);
        self.sex.extend(part.sex);
        self.education.extend(part.education);
        self.income_quintile.extend(part.income_quintile);
        self.labour.extend(part.labour);
        self.origin.extend(part.origin);
        self.lives_alone.extend(part.lives_alone);
        self.conditions.extend(part.conditions);
        extend_columns(&mut self.codes, part.codes);
        extend_columns(&mut self.numeric, part.numeric);
        match (&mut self.utilization, part.utilization) {
            (Some(a), Some(b)) => a.extend(b),
            (a @ None, Some(b)) if self.person_id.len() == b.len() => *a = Some(b),
            _ => {}
        }
        match (&mut self.exposure, part.exposure) {
            (Some(a), Some(b)) => a.extend(b),
            (a @ None, Some(b)) if self.person_id.len() == b.len() => *a = Some(b),
            _ => {}
        }
        for (a, b) in self.nulls_mapped.iter_mut().zip(part.nulls_mapped) {
            *a += b;
        }
        self.row_groups.extend(part.row_groups);
    }
}

/// Flag columns folded into one bit mask per row (bit k = column k).
/// The rows are folded a tile at a time, every column's bits for the
/// tile in turn, so the tile's masks stay in the first-level cache
/// however long the row group (a row group of a million rows has 8 MB of
/// masks, which one pass per column would walk 14 times).
fn fold_flags(chunk: &mut Chunk, flags: &[ColumnId]) -> Vec<u64> {
    const TILE_WORDS: usize = 32;
    let mut mask = vec![0u64; chunk.rows];
    let columns: Vec<Vec<u64>> = flags
        .iter()
        .map(|&id| chunk.take(id).into_bits(chunk.rows))
        .collect();
    for (t, tile) in mask.chunks_mut(TILE_WORDS * 64).enumerate() {
        let first = t * TILE_WORDS;
        for (k, words) in columns.iter().enumerate() {
            let words = words.get(first..).unwrap_or(&[]);
            // Flags are mostly rare: visit only the set bits.
            for (w, &word) in words.iter().take(TILE_WORDS).enumerate() {
                let mut bits = word;
                while bits != 0 {
                    if let Some(m) = tile.get_mut(w * 64 + bits.trailing_zeros() as usize) {
                        *m |= 1 << k;
                    }
                    bits &= bits - 1;
                }
            }
        }
    }
    mask
}

/// Appends each of `part`'s columns to the same column of `all`.
fn extend_columns<T>(all: &mut Vec<Vec<T>>, part: Vec<Vec<T>>) {
    if all.is_empty() {
        *all = part;
        return;
    }
    for (a, b) in all.iter_mut().zip(part) {
        a.extend(b);
    }
}

/// Reads the population file: the fixed columns of SPEC section 2 and one
/// `cond_<name>` column for each of the model's conditions, folded into a
/// bit mask per person.
pub fn population(
    path: &Path,
    memory: Option<&Arc<ArrowTable>>,
    model: &Model,
    options: PopulationOptions,
) -> Result<RawPopulation, InputError> {
    let (mut raw, sha256) = hashing(path, memory.is_some(), || {
        population_reader(path, memory, model, options)?.read_all()
    })?;
    raw.sha256 = sha256;
    Ok(raw)
}

/// Only the `person_id` column (to find a repeated id after streaming).
pub fn person_ids(path: &Path, memory: Option<&Arc<ArrowTable>>) -> Result<Vec<i64>, InputError> {
    let file = Table::open(path, memory)?;
    let mut requests = Requests::new();
    let person_id = requests.push(Request::int(
        "person_id",
        i64::MIN,
        i64::MAX,
        Target::I64,
        "a 64-bit person id",
    ));
    let parts = file.read(
        requests.as_slice(),
        |mut chunk, _| Ok(chunk.take(person_id)),
    )?;
    Ok(concat(parts.into_iter()).into_i64())
}

/// `work`, with the SHA-256 of the population file at `path` (empty for
/// a table in memory, `in_memory`) made alongside on another worker: the
/// hash, a single-threaded pass over every byte, starts before `work` has
/// read the model, clinics, geography and the file's footer, so the core
/// that would wait for them is hashing. `work`'s error comes first (as
/// when the file is hashed after it), and it stops the hash at its next
/// megabyte; then the hash's.
pub fn hashing<T: Send, E: From<InputError> + Send>(
    path: &Path,
    in_memory: bool,
    work: impl FnOnce() -> Result<T, E> + Send,
) -> Result<(T, String), E> {
    if in_memory {
        return work().map(|done| (done, String::new()));
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (done, sha256) = rayon::join(
        || {
            let done = work();
            if done.is_err() {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            done
        },
        || hash_file_unless(path, &stop),
    );
    let done = done?;
    // `None` only when stopped, which only `work`'s error does.
    Ok((done, sha256?.unwrap_or_default()))
}

/// The SHA-256 of a file, in lower-case hex.
pub fn hash_file(path: &Path) -> Result<String, InputError> {
    let never = std::sync::atomic::AtomicBool::new(false);
    Ok(hash_file_unless(path, &never)?.unwrap_or_default())
}

/// `hash_file`, or `None` once `stop` is set (checked every megabyte).
fn hash_file_unless(
    path: &Path,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Option<String>, InputError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|source| InputError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let read = file.read(&mut buffer).map_err(|source| InputError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    ))
}
