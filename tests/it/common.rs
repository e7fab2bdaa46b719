//! Helpers shared by the integration tests: writing small Parquet inputs
//! column by column (so a test can also write wrong ones), and running the
//! real binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int16Array, Int32Array, Int64Array, Int8Array,
};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

/// Writes the columns as one Parquet file (one row group).
pub fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    write_parquet_groups(path, columns, usize::MAX);
}

/// Writes the columns as one Parquet file of row groups of at most
/// `group_rows` rows.
pub fn write_parquet_groups(path: &Path, columns: Vec<(&str, ArrayRef)>, group_rows: usize) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

pub fn i64s(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}
pub fn i32s(v: &[i32]) -> ArrayRef {
    Arc::new(Int32Array::from(v.to_vec()))
}
pub fn i16s(v: &[i16]) -> ArrayRef {
    Arc::new(Int16Array::from(v.to_vec()))
}
pub fn i8s(v: &[i8]) -> ArrayRef {
    Arc::new(Int8Array::from(v.to_vec()))
}
pub fn f64s(v: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}
pub fn bools(v: &[bool]) -> ArrayRef {
    Arc::new(BooleanArray::from(v.to_vec()))
}

/// One person of a hand-made population.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub id: i64,
    pub clinic: i32,
    pub kommune: i16,
    pub age: i8,
    pub sex: i8,
    pub education: i8,
    pub income_quintile: i8,
    pub labour: i8,
    pub origin: i8,
    pub lives_alone: bool,
    pub copd: bool,
    pub diabetes_t2: bool,
}

impl Person {
    pub fn new(id: i64, clinic: i32, kommune: i16, age: i8, sex: i8) -> Self {
        Person {
            id,
            clinic,
            kommune,
            age,
            sex,
            education: 0,
            income_quintile: 0,
            labour: 0,
            origin: 0,
            lives_alone: false,
            copd: false,
            diabetes_t2: false,
        }
    }
}

/// The columns of a population with the conditions `copd` and `diabetes_t2`.
pub fn population_columns(persons: &[Person]) -> Vec<(&'static str, ArrayRef)> {
    let col = |f: fn(&Person) -> i8| i8s(&persons.iter().map(f).collect::<Vec<_>>());
    vec![
        (
            "person_id",
            i64s(&persons.iter().map(|p| p.id).collect::<Vec<_>>()),
        ),
        (
            "clinic_id",
            i32s(&persons.iter().map(|p| p.clinic).collect::<Vec<_>>()),
        ),
        (
            "kommune",
            i16s(&persons.iter().map(|p| p.kommune).collect::<Vec<_>>()),
        ),
        ("age", col(|p| p.age)),
        ("sex", col(|p| p.sex)),
        ("education", col(|p| p.education)),
        ("income_quintile", col(|p| p.income_quintile)),
        ("labour", col(|p| p.labour)),
        ("origin", col(|p| p.origin)),
        (
            "lives_alone",
            bools(&persons.iter().map(|p| p.lives_alone).collect::<Vec<_>>()),
        ),
        (
            "cond_copd",
            bools(&persons.iter().map(|p| p.copd).collect::<Vec<_>>()),
        ),
        (
            "cond_diabetes_t2",
            bools(&persons.iter().map(|p| p.diabetes_t2).collect::<Vec<_>>()),
        ),
    ]
}

/// Path of the built binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fordeling"))
}

/// Runs the binary with these arguments in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// The repository root (where `fixtures/` and `models/` are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a CSV written by the engine into a header and rows of fields.
/// The engine's CSV has no quoted fields in these tests.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// A CSV table addressed by column name.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn read(path: &Path) -> Self {
        let (header, rows) = read_csv(path);
        Csv { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }

    pub fn f64(&self, row: usize, name: &str) -> Option<f64> {
        let text = self.get(row, name);
        (!text.is_empty()).then(|| text.parse().unwrap())
    }

    /// The row whose column `key` equals `value`.
    pub fn find(&self, key: &str, value: &str) -> usize {
        let k = self.col(key);
        self.rows
            .iter()
            .position(|r| r[k] == value)
            .unwrap_or_else(|| panic!("no row with {key} = {value}"))
    }
}

/// Asserts two floats agree to a relative tolerance.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, what: &str) {
    let scale = expected.abs().max(1e-12);
    assert!(
        (actual - expected).abs() / scale < 1e-9,
        "{what}: got {actual}, expected {expected}"
    );
}

/// A small model whose numbers are easy to work by hand.
pub const GOLDEN_MODEL: &str = r#"
[model]
id = "golden"
link = "identity"
outcome = "gp_fee_dkk"
data_year = 2025

[age_sex]
male   = [100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100,100]
female = [150,150,150,150,150,150,150,150,150,150,150,150,150,150,150,150,300,150,150,150]

[socioeconomic]
education   = { "1" = 20.0 }
lives_alone = { "true" = 30.0 }

[conditions]
copd = 60.0
diabetes_t2 = 40.0

[[multimorbidity]]
at_least = 2
add = 10.0

[area]
coefficient = 10.0

[[packages]]
id = "copd"
start_year = 2027
conditions = ["copd"]
add = 20.0
multiply = 1.5
phase_in = [0.5]

[proposal]
closing_fraction = 1.0
round_to = 10
min_per_capacity = 0
max_per_capacity = 0
max_increase = 0.2
max_decrease = 0.10
dialogue_threshold = 0.10
uncertainty_threshold = 0.10
"#;

/// Two kommuner with area indices 1 and 2.
pub const GOLDEN_GEOGRAPHY: &str = "kommune_code,kommune_name,sundhedsraad,region_2027,area_index
101,København,Hovedstaden,Østdanmark,1.0
751,Aarhus,Aarhus,Midtjylland,2.0
";

/// Four persons in clinics 11 (København) and 22 (Aarhus): the small valid
/// population the bad-input tests spoil.
pub fn small_persons() -> Vec<Person> {
    vec![
        Person::new(1, 11, 101, 40, 1),
        Person::new(2, 11, 101, 82, 2),
        Person::new(3, 22, 751, 30, 2),
        Person::new(4, 22, 751, 10, 1),
    ]
}

/// The two clinics of `small_persons`.
pub fn small_clinic_columns() -> Vec<(&'static str, ArrayRef)> {
    vec![
        ("clinic_id", i32s(&[11, 22])),
        ("kommune", i16s(&[101, 751])),
        ("capacities", f64s(&[1.0, 2.0])),
    ]
}

/// Replaces (or adds) one column of a column list.
pub fn with_column(
    mut columns: Vec<(&'static str, ArrayRef)>,
    name: &'static str,
    array: ArrayRef,
) -> Vec<(&'static str, ArrayRef)> {
    match columns.iter().position(|(n, _)| *n == name) {
        Some(i) => columns[i].1 = array,
        None => columns.push((name, array)),
    }
    columns
}

/// The reference model's path.
pub fn reference_model() -> String {
    repo()
        .join("models/reference-2027.toml")
        .display()
        .to_string()
}

/// Runs the binary in `dir` with `args` followed by the shipped fixtures'
/// population and clinics.
pub fn run_on_fixtures(dir: &Path, args: &[&str]) -> Output {
    let population = repo()
        .join("fixtures/population.parquet")
        .display()
        .to_string();
    let clinics = repo()
        .join("fixtures/clinics.parquet")
        .display()
        .to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--population", &population, "--clinics", &clinics]);
    run_in(dir, &all)
}

/// `run_on_fixtures`, asserting that the command succeeded.
#[track_caller]
pub fn ok_on_fixtures(dir: &Path, args: &[&str]) -> Output {
    let output = run_on_fixtures(dir, args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every file of a directory with its bytes, sorted by name.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// `run_in`, asserting that the command succeeded.
#[track_caller]
pub fn ok_in(dir: &Path, args: &[&str]) -> Output {
    let output = run_in(dir, args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The Chromium to drive for the browser tests: `FORDELING_CHROMIUM`, or
/// the first on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FORDELING_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
}
