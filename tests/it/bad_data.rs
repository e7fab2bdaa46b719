//! Bad input, case by case: each gets exit code 1 (or 2 for usage), a
//! one-line message naming the file and the column, row, key or value at
//! fault, and no output directory; an existing output directory is left
//! exactly as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use arrow::array::{ArrayRef, Float64Array, Int8Array, StringArray};
use std::path::Path;
use std::sync::Arc;

/// A valid small data set (the golden one) in `dir`.
fn valid_inputs(dir: &Path) {
    std::fs::write(dir.join("model.toml"), GOLDEN_MODEL).unwrap();
    std::fs::write(dir.join("geography.csv"), GOLDEN_GEOGRAPHY).unwrap();
    write_parquet(
        &dir.join("population.parquet"),
        population_columns(&small_persons()),
    );
    write_parquet(&dir.join("clinics.parquet"), small_clinic_columns());
}

fn without_column(
    columns: Vec<(&'static str, ArrayRef)>,
    name: &str,
) -> Vec<(&'static str, ArrayRef)> {
    columns.into_iter().filter(|(n, _)| *n != name).collect()
}

fn write_population(dir: &Path, columns: Vec<(&'static str, ArrayRef)>) {
    write_parquet(&dir.join("population.parquet"), columns);
}

/// A spoiler that replaces one population column.
fn population_with(name: &'static str, array: ArrayRef) -> impl FnOnce(&Path) {
    move |dir| {
        write_population(
            dir,
            with_column(population_columns(&small_persons()), name, array),
        )
    }
}

fn write_clinics(dir: &Path, columns: Vec<(&'static str, ArrayRef)>) {
    write_parquet(&dir.join("clinics.parquet"), columns);
}

fn edit_model(dir: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join("model.toml")).unwrap();
    assert!(text.contains(from), "model has no `{from}`");
    std::fs::write(dir.join("model.toml"), text.replacen(from, to, 1)).unwrap();
}

const ARGS: &[&str] = &[
    "run",
    "--population",
    "population.parquet",
    "--clinics",
    "clinics.parquet",
    "--geography",
    "geography.csv",
    "--model",
    "model.toml",
    "--out",
    "result",
];

/// Sets up valid inputs, lets `spoil` break them, runs, and checks the exit
/// code, that every phrase is in the one-line message, and that no output
/// directory appeared.
#[track_caller]
fn check(spoil: impl FnOnce(&Path), code: i32, phrases: &[&str]) {
    check_args(spoil, ARGS, code, phrases);
}

#[track_caller]
fn check_args(spoil: impl FnOnce(&Path), args: &[&str], code: i32, phrases: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    valid_inputs(dir.path());
    spoil(dir.path());
    let output = run_in(dir.path(), args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    for phrase in phrases {
        assert!(stderr.contains(phrase), "`{phrase}` not in: {stderr}");
    }
    if code == 1 {
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
    assert!(output.stdout.is_empty(), "nothing on stdout");
    assert!(!dir.path().join("result").exists(), "no output directory");
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn valid_inputs_run() {
    let dir = tempfile::tempdir().unwrap();
    valid_inputs(dir.path());
    let output = run_in(dir.path(), ARGS);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("result/clinics.parquet").exists());
}

#[test]
fn missing_population_file() {
    check(
        |d| std::fs::remove_file(d.join("population.parquet")).unwrap(),
        1,
        &["population.parquet", "cannot read"],
    );
}

#[test]
fn unreadable_population_file_a_directory() {
    check(
        |d| {
            std::fs::remove_file(d.join("population.parquet")).unwrap();
            std::fs::create_dir(d.join("population.parquet")).unwrap();
        },
        1,
        &["population.parquet"],
    );
}

#[test]
fn population_not_parquet() {
    check(
        |d| std::fs::write(d.join("population.parquet"), "person_id,age\n1,40\n").unwrap(),
        1,
        &["population.parquet", "not a readable Parquet file"],
    );
}

#[test]
fn clinics_not_parquet_empty_file() {
    check(
        |d| std::fs::write(d.join("clinics.parquet"), "").unwrap(),
        1,
        &["clinics.parquet", "not a readable Parquet file"],
    );
}

#[test]
fn missing_model_file() {
    check(
        |d| std::fs::remove_file(d.join("model.toml")).unwrap(),
        1,
        &["model.toml", "cannot read model"],
    );
}

#[test]
fn missing_required_column() {
    check(
        |d| {
            write_population(
                d,
                without_column(population_columns(&small_persons()), "age"),
            )
        },
        1,
        &["population.parquet", "`age`", "missing"],
    );
}

#[test]
fn missing_condition_column() {
    check(
        |d| {
            write_population(
                d,
                without_column(population_columns(&small_persons()), "cond_copd"),
            )
        },
        1,
        &["population.parquet", "`cond_copd`", "condition `copd`"],
    );
}

#[test]
fn wrong_type_float_where_integer() {
    check(
        population_with("age", f64s(&[40.0, 82.0, 30.0, 10.0])),
        1,
        &["population.parquet", "`age`", "Float64", "integer"],
    );
}

#[test]
fn wrong_type_string_where_integer() {
    let ids: ArrayRef = Arc::new(StringArray::from(vec!["11", "11", "22", "22"]));
    check(
        population_with("clinic_id", ids),
        1,
        &["population.parquet", "`clinic_id`", "Utf8", "integer"],
    );
}

#[test]
fn wrong_type_integer_where_boolean() {
    check(
        population_with("cond_copd", i8s(&[0, 1, 0, 0])),
        1,
        &["`cond_copd`", "boolean"],
    );
}

#[test]
fn null_in_required_column() {
    let ages: ArrayRef = Arc::new(Int8Array::from(vec![Some(40), Some(82), None, Some(10)]));
    check(
        population_with("age", ages),
        1,
        &["population.parquet", "`age`", "row 3", "null"],
    );
}

#[test]
fn null_in_socioeconomic_column_without_flag() {
    let education: ArrayRef = Arc::new(Int8Array::from(vec![Some(1), None, Some(2), None]));
    check(
        population_with("education", education),
        1,
        &["`education`", "row 2", "--nulls-as-unknown"],
    );
}

#[test]
fn nulls_as_unknown_maps_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    valid_inputs(dir.path());
    let education: ArrayRef = Arc::new(Int8Array::from(vec![Some(1), None, Some(2), None]));
    let origin: ArrayRef = Arc::new(Int8Array::from(vec![None, Some(0), Some(0), Some(0)]));
    let columns = with_column(population_columns(&small_persons()), "education", education);
    write_population(dir.path(), with_column(columns, "origin", origin));
    let mut args = ARGS.to_vec();
    args.push("--nulls-as-unknown");
    let output = run_in(dir.path(), &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("result/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["nulls_mapped"]["education"], 2);
    assert_eq!(manifest["nulls_mapped"]["origin"], 1);
    assert_eq!(manifest["nulls_mapped"]["labour"], 0);
    // Mapped to the unknown level: the same result as writing 0 there.
    let with_nulls = std::fs::read(dir.path().join("result/clinics.csv")).unwrap();
    let zeros = with_column(
        population_columns(&small_persons()),
        "education",
        i8s(&[1, 0, 2, 0]),
    );
    write_population(dir.path(), zeros);
    let output = run_in(dir.path(), ARGS);
    assert!(output.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("result/clinics.csv")).unwrap(),
        with_nulls
    );
}

#[test]
fn age_out_of_range() {
    check(
        population_with("age", i8s(&[40, 121, 30, 10])),
        1,
        &["`age`", "row 2", "`121`", "0..=120"],
    );
}

#[test]
fn negative_age() {
    check(
        population_with("age", i8s(&[40, 82, -1, 10])),
        1,
        &["`age`", "row 3", "`-1`"],
    );
}

#[test]
fn sex_out_of_range() {
    check(
        population_with("sex", i8s(&[1, 2, 3, 1])),
        1,
        &["`sex`", "row 3", "`3`"],
    );
}

#[test]
fn code_out_of_range() {
    check(
        population_with("labour", i8s(&[0, 0, 0, 9])),
        1,
        &["`labour`", "row 4", "`9`"],
    );
}

#[test]
fn integer_too_wide_for_clinic_id() {
    check(
        population_with("clinic_id", i64s(&[11, 11, 22, 5_000_000_000])),
        1,
        &["`clinic_id`", "row 4", "`5000000000`"],
    );
}

#[test]
fn duplicate_person_id() {
    check(
        population_with("person_id", i64s(&[1, 2, 3, 2])),
        1,
        &["`person_id`", "row 4", "duplicates row 2", "`2`"],
    );
}

#[test]
fn unknown_clinic_id() {
    check(
        population_with("clinic_id", i32s(&[11, 11, 99, 22])),
        1,
        &[
            "population.parquet",
            "`clinic_id`",
            "row 3",
            "`99`",
            "clinics.parquet",
        ],
    );
}

#[test]
fn unknown_kommune_of_person() {
    check(
        population_with("kommune", i16s(&[101, 102, 751, 751])),
        1,
        &[
            "population.parquet",
            "`kommune`",
            "row 2",
            "`102`",
            "geography.csv",
        ],
    );
}

#[test]
fn the_first_unknown_reference_is_named() {
    // An unknown kommune in row 2 comes before an unknown clinic in row 3;
    // in one row, the clinic is named before the kommune.
    let two_columns = |clinic_ids: &[i32], kommuner: &[i16]| {
        let (clinic_ids, kommuner) = (i32s(clinic_ids), i16s(kommuner));
        move |dir: &Path| {
            let columns = with_column(
                population_columns(&small_persons()),
                "clinic_id",
                clinic_ids,
            );
            write_population(dir, with_column(columns, "kommune", kommuner))
        }
    };
    check(
        two_columns(&[11, 11, 99, 22], &[101, 102, 751, 751]),
        1,
        &["`kommune`", "row 2", "`102`"],
    );
    check(
        two_columns(&[11, 98, 99, 22], &[101, 102, 751, 751]),
        1,
        &["`clinic_id`", "row 2", "`98`"],
    );
}

#[test]
fn the_earliest_row_groups_error_is_named_whatever_the_threads() {
    // Six row groups of two rows: row 4 (group 2) names an unknown
    // clinic, row 6 (group 3) has an age out of range. The reference is
    // checked after the columns are read, the age while they are read;
    // the earlier group's error wins however many groups are read at
    // once (2 per thread).
    let mut persons = Vec::new();
    for copy in 0..3 {
        for p in small_persons() {
            persons.push(Person {
                id: p.id + 4 * copy,
                ..p
            });
        }
    }
    let in_groups_of_two = |persons: &[Person]| {
        let columns = population_columns(persons);
        move |dir: &Path| write_parquet_groups(&dir.join("population.parquet"), columns, 2)
    };
    persons[3].clinic = 98;
    persons[5].age = -3;
    for threads in ["1", "2", "3", "4"] {
        let args: Vec<&str> = ARGS.iter().copied().chain(["--threads", threads]).collect();
        check_args(
            in_groups_of_two(&persons),
            &args,
            1,
            &["`clinic_id`", "row 4", "`98`"],
        );
    }
    // With the clinic known, the age is named.
    persons[3].clinic = 11;
    check(in_groups_of_two(&persons), 1, &["`age`", "row 6", "`-3`"]);
}

#[test]
fn unknown_kommune_of_clinic() {
    check(
        |d| {
            write_clinics(
                d,
                with_column(small_clinic_columns(), "kommune", i16s(&[101, 999])),
            )
        },
        1,
        &["clinics.parquet", "`kommune`", "row 2", "`999`"],
    );
}

#[test]
fn duplicate_clinic() {
    check(
        |d| {
            write_clinics(
                d,
                vec![
                    ("clinic_id", i32s(&[11, 22, 11])),
                    ("kommune", i16s(&[101, 751, 751])),
                    ("capacities", f64s(&[1.0, 2.0, 1.0])),
                ],
            )
        },
        1,
        &[
            "clinics.parquet",
            "`clinic_id`",
            "row 3",
            "duplicates row 1",
        ],
    );
}

#[test]
fn capacities_zero_negative_nan() {
    for (value, text) in [
        (0.0, "`0`"),
        (-1.5, "`-1.5`"),
        (f64::NAN, "`NaN`"),
        (f64::INFINITY, "`inf`"),
    ] {
        check(
            |d| {
                write_clinics(
                    d,
                    with_column(small_clinic_columns(), "capacities", f64s(&[1.0, value])),
                )
            },
            1,
            &["clinics.parquet", "`capacities`", "row 2", text],
        );
    }
}

#[test]
fn capacities_null() {
    let capacities: ArrayRef = Arc::new(Float64Array::from(vec![None, Some(1.0)]));
    check(
        |d| {
            write_clinics(
                d,
                with_column(small_clinic_columns(), "capacities", capacities),
            )
        },
        1,
        &["`capacities`", "row 1", "null"],
    );
}

#[test]
fn empty_population() {
    check(
        |d| write_population(d, population_columns(&[])),
        1,
        &["population.parquet", "no rows"],
    );
}

#[test]
fn model_unknown_key() {
    check(
        |d| edit_model(d, "round_to = 10", "round_to = 10\nround_up = true"),
        1,
        &["model.toml", "round_up"],
    );
}

#[test]
fn model_missing_section() {
    check(
        |d| {
            let text = std::fs::read_to_string(d.join("model.toml")).unwrap();
            let start = text.find("[age_sex]").unwrap();
            let end = text.find("[socioeconomic]").unwrap();
            let cut = format!("{}{}", &text[..start], &text[end..]);
            std::fs::write(d.join("model.toml"), cut).unwrap();
        },
        1,
        &["model.toml", "age_sex"],
    );
}

#[test]
fn model_wrong_length_age_table() {
    check(
        |d| edit_model(d, "male   = [100,", "male   = ["),
        1,
        &["model.toml", "age_sex.male", "19 numbers", "expected 20"],
    );
}

#[test]
fn model_condition_without_column() {
    check(
        |d| edit_model(d, "diabetes_t2 = 40.0", "diabetes_t2 = 40.0\nasthma = 5.0"),
        1,
        &["population.parquet", "`cond_asthma`", "condition `asthma`"],
    );
}

#[test]
fn model_package_names_unknown_condition() {
    check(
        |d| {
            edit_model(
                d,
                "conditions = [\"copd\"]",
                "conditions = [\"heart_failure\"]",
            )
        },
        1,
        &["model.toml", "packages[0].conditions", "heart_failure"],
    );
}

#[test]
fn model_area_term_without_area_index() {
    check(
        |d| {
            std::fs::write(
                d.join("geography.csv"),
                "kommune_code,kommune_name,sundhedsraad,region_2027\n101,København,Hovedstaden,Østdanmark\n751,Aarhus,Aarhus,Midtjylland\n",
            )
            .unwrap()
        },
        1,
        &["geography.csv", "area_index", "[area]"],
    );
}

#[test]
fn model_not_toml() {
    check(
        |d| std::fs::write(d.join("model.toml"), "this is = = not toml").unwrap(),
        1,
        &["model.toml"],
    );
}

#[test]
fn model_makes_every_need_negative() {
    check(
        |d| {
            let text = std::fs::read_to_string(d.join("model.toml")).unwrap();
            let text = text
                .replace("100,", "-500,")
                .replace("150,", "-500,")
                .replace("300,", "-500,");
            let text = text.replace(",100]", ",-500]").replace(",150]", ",-500]");
            std::fs::write(d.join("model.toml"), text).unwrap();
        },
        1,
        &["model.toml", "raw need is 0 or below"],
    );
}

#[test]
fn usage_error_is_exit_2() {
    check_args(|_| {}, &["run", "--year", "soon"], 2, &["--year"]);
    check_args(
        |_| {},
        &["run", "--capacity-total=-5"],
        2,
        &["--capacity-total"],
    );
    check_args(|_| {}, &["frobnicate"], 2, &["frobnicate"]);
}

#[test]
fn failed_run_leaves_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    valid_inputs(dir.path());
    let output = run_in(dir.path(), ARGS);
    assert!(output.status.success());
    let before: Vec<(String, Vec<u8>)> = snapshot(&dir.path().join("result"));
    write_population(
        dir.path(),
        with_column(
            population_columns(&small_persons()),
            "sex",
            i8s(&[1, 2, 0, 1]),
        ),
    );
    let output = run_in(dir.path(), ARGS);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(snapshot(&dir.path().join("result")), before);
}

/// Fuzzing (`population_file`, crash d952e7a7): a footer placing a column
/// chunk at a negative offset panicked inside the `parquet` crate.
#[test]
fn fuzz_d952e7a7_damaged_footer_is_an_error_not_a_panic() {
    let damaged = repo().join("tests/regressions/fuzz-d952e7a7.parquet");
    check(
        |d| {
            std::fs::copy(&damaged, d.join("population.parquet")).unwrap();
        },
        1,
        &["population.parquet", "not a readable Parquet file"],
    );
}

/// Fuzzing (`population_file`, crash df96a93a): a data page using a
/// dictionary the chunk does not have panicked inside the `parquet` crate.
#[test]
fn fuzz_df96a93a_damaged_page_is_an_error_not_a_panic() {
    check(
        |d| fuzzed_population(d, "fuzz-df96a93a.parquet"),
        1,
        &["population.parquet", "not a readable Parquet file"],
    );
}

/// Found by fuzzing (`population_file`, oom-b8d34ef4): a dictionary page of
/// a few bytes declaring 1.4 billion values made the `parquet` crate ask
/// for 11 GB, and the failed allocation aborted the process. Now the page
/// is checked against its bytes first.
#[test]
fn fuzz_oom_b8d34ef4_oversized_dictionary_is_an_error_not_an_abort() {
    check(
        |d| fuzzed_population(d, "fuzz-oom-b8d34ef4.parquet"),
        1,
        &[
            "population.parquet",
            "person_id",
            "a dictionary page declares 1386564245 values but holds 32 bytes",
        ],
    );
}

/// Puts a population file the `population_file` fuzz target found in
/// place, with the model reduced to that target's one condition.
fn fuzzed_population(d: &Path, name: &str) {
    std::fs::copy(
        repo().join("tests/regressions").join(name),
        d.join("population.parquet"),
    )
    .unwrap();
    let model = std::fs::read_to_string(d.join("model.toml")).unwrap();
    let model = model.replace("diabetes_t2 = 40.0\n", "");
    std::fs::write(d.join("model.toml"), model).unwrap();
}

/// Found by fuzzing (`population_file`, slow unit 31b45b37): a damaged page
/// header declaring a list of about two billion doubles, which the
/// `parquet` crate skipped element by element past the end of the chunk
/// (9 s for a 123 KB file, 37 s in the fuzzer). Now reading past a chunk's
/// end is an error, so the file is refused at once; the unit test
/// `chunk::tests::reading_past_the_end_is_an_error` checks the mechanism.
#[test]
fn fuzz_slow_31b45b37_damaged_page_header_is_refused() {
    check(
        |d| fuzzed_population(d, "fuzz-slow-31b45b37.parquet"),
        1,
        &["population.parquet", "not a readable Parquet file"],
    );
}

/// Page-header thrift lists of about two billion elements that take the
/// `parquet` crate no bytes to skip: refused by the header skim at once
/// (it took about 5 s before).
#[test]
fn fuzz_slow_dbcf8eb5_page_header_lists_longer_than_the_chunk_are_refused() {
    check(
        |d| fuzzed_population(d, "fuzz-slow-dbcf8eb5.parquet"),
        1,
        &["population.parquet", "not a readable Parquet file"],
    );
}

/// Page headers with values of thrift types no writer uses, which the
/// crate reads astray into long skips (4 and 6 s before).
#[test]
fn fuzz_slow_72ddab64_and_5daffc3d_unknown_thrift_types_are_refused() {
    for name in ["fuzz-slow-72ddab64.parquet", "fuzz-slow-5daffc3d.parquet"] {
        check(
            |d| fuzzed_population(d, name),
            1,
            &["population.parquet", "not a readable Parquet file"],
        );
    }
}

/// Page headers where a known field is declared with another thrift type:
/// the crate reads it by its schema's type and so meets lists the older
/// skim (which followed the declared types) never saw; lists of booleans,
/// which the crate skips in no bytes, then kept it looping (3.5 s here,
/// 14 to 94 s in the fuzzer). The skim now follows the crate's reading
/// and caps the elements of all lists together at the header's bytes.
/// The model is the fuzz target's, which reads few columns, so the
/// damaged chunk is reached.
#[test]
fn fuzz_slow_88322c53_and_057f8cf1_headers_read_as_the_crate_reads_them() {
    let model = "[model]\nid = \"f\"\nlink = \"identity\"\noutcome = \"x\"\ndata_year = 2025\n[age_sex]\nmale = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\nfemale = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\n[conditions]\ncopd = 1.0\n[proposal]\n";
    for name in ["fuzz-slow-88322c53.parquet", "fuzz-slow-057f8cf1.parquet"] {
        check(
            |d| {
                fuzzed_population(d, name);
                std::fs::write(d.join("model.toml"), model).unwrap();
            },
            1,
            &["population.parquet", "not a readable Parquet file"],
        );
    }
}

#[test]
fn capacity_adjustment_leaving_no_capacity_names_the_clinic() {
    for (adjustment, text) in [(-2.0, "`-2`"), (-2.5, "`-2.5`"), (f64::NAN, "`NaN`")] {
        check(
            |d| {
                write_clinics(
                    d,
                    with_column(
                        small_clinic_columns(),
                        "capacity_adjustment",
                        f64s(&[0.25, adjustment]),
                    ),
                )
            },
            1,
            &["clinics.parquet", "`capacity_adjustment`", "row 2", text],
        );
    }
    // The message names the clinic (22, with 2 capacities) when the
    // adjustment is finite.
    check(
        |d| {
            write_clinics(
                d,
                with_column(
                    small_clinic_columns(),
                    "capacity_adjustment",
                    f64s(&[0.0, -2.0]),
                ),
            )
        },
        1,
        &["clinic 22", "effective capacity above 0"],
    );
}

/// A scenario batch streams the persons past (never holding them) into a
/// set of sums per distinct set of coefficient overrides, so it must
/// still find every fault a run finds, with the same message: here with
/// two sets of sums (the baseline's and one override's).
#[test]
fn a_scenario_batch_finds_the_faults_a_run_finds() {
    // `run`'s arguments, as `scenarios` with a scenario file.
    let mut scenario_args: Vec<&str> = ARGS.to_vec();
    scenario_args[0] = "scenarios";
    let out = scenario_args.len() - 2;
    scenario_args.splice(out..out, ["--scenarios", "s.toml"]);
    let with_scenarios = |spoil: Box<dyn FnOnce(&Path)>| {
        move |dir: &Path| {
            std::fs::write(
                dir.join("s.toml"),
                "[[scenario]]\nname = \"heavier\"\n[scenario.coefficients]\n\"age_sex.male[0]\" = 2.5\n",
            )
            .unwrap();
            spoil(dir);
        }
    };
    check_args(
        with_scenarios(Box::new(population_with("person_id", i64s(&[1, 2, 3, 2])))),
        &scenario_args,
        1,
        &["`person_id`", "row 4", "duplicates row 2", "`2`"],
    );
    check_args(
        with_scenarios(Box::new(population_with("person_id", i64s(&[4, 2, 3, 2])))),
        &scenario_args,
        1,
        &["`person_id`", "row 4", "duplicates row 2", "`2`"],
    );
    check_args(
        with_scenarios(Box::new(population_with(
            "clinic_id",
            i32s(&[11, 11, 33, 22]),
        ))),
        &scenario_args,
        1,
        &["population.parquet", "`clinic_id`", "row 3", "`33`"],
    );
    check_args(
        with_scenarios(Box::new(population_with("age", i8s(&[40, 82, -1, 10])))),
        &scenario_args,
        1,
        &["population.parquet", "`age`", "row 3", "`-1`"],
    );
}
