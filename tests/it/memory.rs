//! In-memory Arrow tables (the Python package's inputs) read as the
//! Parquet files of the same rows: the same clinic and area tables to the
//! bit, whatever the batches, and the same errors naming the table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow::array::{Array, ArrayRef, Int64Array, Int8Array, RecordBatch, RecordBatchReader};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use fordeling::commands::run::compute_run;
use fordeling::ingest::ArrowTable;
use fordeling::inputs::{InMemory, InputPaths};
use fordeling::year::RunParams;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Parquet file's rows as one table of batches of `batch` rows.
fn table_of(path: &Path, batch: usize, label: &str) -> ArrowTable {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .with_batch_size(batch)
        .build()
        .unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    ArrowTable::new(label, schema, batches)
}

fn paths(memory: InMemory) -> InputPaths {
    InputPaths {
        memory,
        population: root().join("fixtures/population.parquet"),
        clinics: root().join("fixtures/clinics.parquet"),
        geography: Some(root().join("fixtures/geography.csv")),
        model: root().join("models/reference-2027.toml"),
        nulls_as_unknown: false,
        outcomes: false,
        load_level: None,
    }
}

/// The clinic and area tables of a run, as record batches.
fn outputs(paths: &InputPaths) -> Result<(RecordBatch, RecordBatch), String> {
    let params = RunParams {
        year: 2027,
        capacity_total: None,
    };
    let (inputs, _, result, _) = compute_run(paths, &params, false).map_err(|e| e.to_string())?;
    let clinics = fordeling::output::clinic_table(&inputs, &result);
    let areas = fordeling::output::area_table(&result.areas);
    Ok((
        clinics.to_record_batch().unwrap(),
        areas.to_record_batch().unwrap(),
    ))
}

#[test]
fn tables_in_memory_give_the_files_results_whatever_the_batches() {
    let from_files = outputs(&paths(InMemory::default())).unwrap();
    let population = root().join("fixtures/population.parquet");
    let clinics = root().join("fixtures/clinics.parquet");
    // Batches smaller than, equal to and larger than a group of rows,
    // and sizes that split groups unevenly.
    for batch in [1_000, 4_096, 65_536, 100_000] {
        let memory = InMemory {
            population: Some(Arc::new(table_of(&population, batch, "<population>"))),
            clinics: Some(Arc::new(table_of(&clinics, 7, "<clinics>"))),
            ..InMemory::default()
        };
        assert_eq!(
            outputs(&paths(memory)).unwrap(),
            from_files,
            "batch {batch}"
        );
    }
}

/// The population with column `name` replaced by `column`.
fn with_column(table: &ArrowTable, name: &str, column: ArrayRef) -> ArrowTable {
    let whole = arrow::compute::concat_batches(&table.schema, &table.batches).unwrap();
    let index = whole.schema().index_of(name).unwrap();
    let mut fields: Vec<Field> = whole
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[index] = Field::new(name, column.data_type().clone(), true);
    let mut columns = whole.columns().to_vec();
    columns[index] = column;
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    ArrowTable::new(table.label.clone(), schema, vec![batch])
}

#[test]
fn widened_nullable_columns_read_alike_and_bad_cells_are_named() {
    let from_files = outputs(&paths(InMemory::default())).unwrap();
    let population = table_of(
        &root().join("fixtures/population.parquet"),
        10_000,
        "<population: test>",
    );
    let whole = arrow::compute::concat_batches(&population.schema, &population.batches).unwrap();
    let age = whole.column_by_name("age").unwrap();
    let memory = |table: ArrowTable| InMemory {
        population: Some(Arc::new(table)),
        ..InMemory::default()
    };

    // int64 and nullable (pandas' habit), no null in fact.
    let wide = with_column(&population, "age", cast(age, &DataType::Int64).unwrap());
    assert_eq!(outputs(&paths(memory(wide))).unwrap(), from_files);

    // An age beyond any band, at row 1,234 (1-based).
    let mut ages: Vec<Option<i64>> = cast(age, &DataType::Int64)
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .collect();
    ages[1233] = Some(300);
    let bad = with_column(&population, "age", Arc::new(Int64Array::from(ages.clone())));
    let message = outputs(&paths(memory(bad))).unwrap_err();
    assert!(message.contains("<population: test>"), "{message}");
    assert!(
        message.contains("`age`") && message.contains("row 1234"),
        "{message}"
    );
    assert!(message.contains("`300`"), "{message}");

    // A null where none is allowed.
    ages[1233] = Some(40);
    ages[9] = None;
    let null = with_column(&population, "age", Arc::new(Int64Array::from(ages)));
    let message = outputs(&paths(memory(null))).unwrap_err();
    assert!(
        message.contains("`age`") && message.contains("row 10"),
        "{message}"
    );

    // A column of the wrong type names the type.
    let text = with_column(&population, "sex", cast(age, &DataType::Utf8).unwrap());
    let message = outputs(&paths(memory(text))).unwrap_err();
    assert!(
        message.contains("`sex`") && message.contains("Utf8"),
        "{message}"
    );

    // A missing column.
    let sex: ArrayRef = Arc::new(Int8Array::from(vec![1i8; whole.num_rows()]));
    let mut renamed = with_column(&population, "sex", sex);
    let mut fields: Vec<Field> = renamed
        .schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let index = renamed.schema.index_of("sex").unwrap();
    fields[index] = Field::new("gender", DataType::Int8, true);
    renamed.schema = Arc::new(Schema::new(fields));
    renamed.batches = vec![RecordBatch::try_new(
        renamed.schema.clone(),
        renamed.batches[0].columns().to_vec(),
    )
    .unwrap()];
    let message = outputs(&paths(memory(renamed))).unwrap_err();
    assert!(message.contains("`sex`"), "{message}");
}

/// The population's `person_id` column as values.
fn person_ids(table: &ArrowTable) -> Vec<i64> {
    let whole = arrow::compute::concat_batches(&table.schema, &table.batches).unwrap();
    let ids = whole.column_by_name("person_id").unwrap();
    let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
    ids.values().to_vec()
}

#[test]
fn ids_lent_by_a_table_are_checked_as_a_files() {
    // A table's 64-bit ids without nulls are lent, not copied: checked
    // for order and repeats as a file's are, whatever the batches.
    let from_files = outputs(&paths(InMemory::default())).unwrap();
    let population = table_of(
        &root().join("fixtures/population.parquet"),
        3_000,
        "<population: ids>",
    );
    let ids = person_ids(&population);
    let n = ids.len();
    // Named by its label, as the Python package names a table.
    let paths = |table: ArrowTable| InputPaths {
        population: PathBuf::from("<population: ids>"),
        ..paths(InMemory {
            population: Some(Arc::new(table)),
            ..InMemory::default()
        })
    };

    // Unique but decreasing: not taken as sorted, put in sets instead.
    let decreasing: Vec<i64> = ids.iter().map(|&id| -id).collect();
    let table = with_column(
        &population,
        "person_id",
        Arc::new(Int64Array::from(decreasing)),
    );
    assert_eq!(outputs(&paths(table)).unwrap(), from_files);

    // The last row repeats row 6's id, far apart in the table.
    let mut repeated = ids.clone();
    repeated[n - 1] = repeated[5];
    let table = with_column(
        &population,
        "person_id",
        Arc::new(Int64Array::from(repeated)),
    );
    let message = outputs(&paths(table)).unwrap_err();
    assert!(message.contains("<population: ids>"), "{message}");
    assert!(
        message.contains("person_id")
            && message.contains(&format!("row {n}"))
            && message.contains("row 6"),
        "{message}"
    );

    // Batches of a few rows each, joined into groups (the lent ids are
    // then copied): the same results.
    let small = table_of(
        &root().join("fixtures/population.parquet"),
        100,
        "<population: ids>",
    );
    assert_eq!(person_ids(&small), ids);
    assert_eq!(outputs(&paths(small)).unwrap(), from_files);

    // A null id is named by its row.
    let mut with_null: Vec<Option<i64>> = ids.iter().copied().map(Some).collect();
    with_null[41] = None;
    let table = with_column(
        &population,
        "person_id",
        Arc::new(Int64Array::from(with_null)),
    );
    let message = outputs(&paths(table)).unwrap_err();
    assert!(
        message.contains("`person_id`") && message.contains("row 42"),
        "{message}"
    );
}
