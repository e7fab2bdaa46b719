//! A corpus of broken, hostile and extreme inputs, generated here (no
//! hand-edited binaries), each with the exit code and a phrase of the
//! message it must give; one test runs them all against the real binary
//! and checks that none panics and that a failed run leaves no output
//! directory. Cases that are valid but extreme must succeed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use arrow::array::{ArrayRef, BooleanArray, Int32Array, Int64Array, ListArray, StringArray};
use arrow::datatypes::Int32Type;
use std::path::Path;
use std::sync::Arc;

type Spoil = Box<dyn Fn(&Path)>;

fn population(columns: Vec<(&'static str, ArrayRef)>) -> Spoil {
    let columns = std::cell::RefCell::new(Some(columns));
    Box::new(move |d: &Path| {
        if let Some(c) = columns.borrow_mut().take() {
            write_parquet(&d.join("population.parquet"), c);
        }
    })
}

fn clinics(columns: Vec<(&'static str, ArrayRef)>) -> Spoil {
    let columns = std::cell::RefCell::new(Some(columns));
    Box::new(move |d: &Path| {
        if let Some(c) = columns.borrow_mut().take() {
            write_parquet(&d.join("clinics.parquet"), c);
        }
    })
}

fn with_population_column(name: &'static str, array: ArrayRef) -> Spoil {
    population(with_column(
        population_columns(&small_persons()),
        name,
        array,
    ))
}

fn bytes_of(file: &'static str, edit: fn(Vec<u8>) -> Vec<u8>) -> Spoil {
    Box::new(move |d: &Path| {
        let path = d.join(file);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, edit(bytes)).unwrap();
    })
}

fn model_text(edit: fn(String) -> String) -> Spoil {
    Box::new(move |d: &Path| {
        let path = d.join("model.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(text)).unwrap();
    })
}

fn write_file(file: &'static str, content: Vec<u8>) -> Spoil {
    Box::new(move |d: &Path| std::fs::write(d.join(file), &content).unwrap())
}

fn nulls_i8(valid: [bool; 4]) -> ArrayRef {
    Arc::new(arrow::array::Int8Array::from(
        valid
            .iter()
            .enumerate()
            .map(|(i, &v)| v.then_some(i as i8 % 2 + 1))
            .collect::<Vec<_>>(),
    ))
}

/// (name, spoil, exit code, phrase of the message; "" for success).
fn cases() -> Vec<(&'static str, Spoil, i32, &'static str)> {
    let p = small_persons();
    vec![
        ("zero-length population", write_file("population.parquet", Vec::new()), 1, "not a readable Parquet file"),
        ("population cut mid-page", bytes_of("population.parquet", |b| b[..b.len() / 2].to_vec()), 1, "population.parquet"),
        ("population footer flipped", bytes_of("population.parquet", |mut b| {
            let n = b.len();
            for byte in &mut b[n - 40..n - 8] {
                *byte ^= 0x5a;
            }
            b
        }), 1, "population.parquet"),
        ("population data pages flipped", bytes_of("population.parquet", |mut b| {
            for i in (8..b.len() / 2).step_by(7) {
                b[i] ^= 0xff;
            }
            b
        }), 1, "population.parquet"),
        ("population magic only", write_file("population.parquet", b"PAR1PAR1".to_vec()), 1, "not a readable Parquet file"),
        ("clinics cut in half", bytes_of("clinics.parquet", |b| b[..b.len() / 2].to_vec()), 1, "clinics.parquet"),
        ("clinics zero-length", write_file("clinics.parquet", Vec::new()), 1, "clinics.parquet"),
        ("geography not UTF-8", write_file("geography.csv", vec![0xff, 0xfe, 0x00, 0x41, b'\n']), 1, "geography.csv"),
        ("geography empty", write_file("geography.csv", Vec::new()), 1, "geography.csv"),
        ("geography ragged rows", write_file("geography.csv", b"kommune_code,kommune_name,sundhedsraad,region_2027,area_index\n101,A,S,R,1.0\n751,B\n".to_vec()), 1, "geography.csv"),
        ("geography NaN area index", write_file("geography.csv", b"kommune_code,kommune_name,sundhedsraad,region_2027,area_index\n101,A,S,R,NaN\n751,B,S,R,1\n".to_vec()), 1, "area_index"),
        ("geography infinite area index", write_file("geography.csv", b"kommune_code,kommune_name,sundhedsraad,region_2027,area_index\n101,A,S,R,inf\n751,B,S,R,1\n".to_vec()), 1, "area_index"),
        ("geography code too large", write_file("geography.csv", b"kommune_code,kommune_name,sundhedsraad,region_2027,area_index\n40000,A,S,R,1\n".to_vec()), 1, "kommune_code"),
        ("list column where a scalar is expected", with_population_column("age", Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)]), Some(vec![Some(2)]), Some(vec![]), None])) as ArrayRef), 1, "`age`"),
        ("string column for sex", with_population_column("sex", Arc::new(StringArray::from(vec!["m", "f", "f", "m"])) as ArrayRef), 1, "`sex`"),
        ("float column for a condition", with_population_column("cond_copd", f64s(&[0.0, 1.0, 0.0, 0.0])), 1, "`cond_copd`"),
        ("dictionary-encoded valid codes", with_population_column("education", Arc::new(arrow::array::DictionaryArray::<Int32Type>::from_iter(["1", "2", "1", "0"])) as ArrayRef), 1, "`education`"),
        ("duplicate column", population({
            let mut c = population_columns(&p);
            c.push(("age", i8s(&[1, 2, 3, 4])));
            c
        }), 1, "appears more than once"),
        ("extreme person ids are fine", with_population_column("person_id", i64s(&[i64::MIN, -1, 0, i64::MAX])), 0, ""),
        ("unsigned 64-bit clinic ids too large", with_population_column("clinic_id", Arc::new(arrow::array::UInt64Array::from(vec![11u64, 11, 22, u64::MAX])) as ArrayRef), 1, "`18446744073709551615`"),
        ("age 255 as unsigned", with_population_column("age", Arc::new(arrow::array::UInt8Array::from(vec![40u8, 255, 30, 10])) as ArrayRef), 1, "`255`"),
        ("population with a valid schema and no rows", population(population_columns(&[])), 1, "no rows"),
        ("clinics with a valid schema and no rows", clinics(vec![("clinic_id", i32s(&[])), ("kommune", i16s(&[])), ("capacities", f64s(&[]))]), 1, "no rows"),
        ("a population of one person", population(population_columns(&p[..1])), 0, ""),
        ("every patient has every condition", population(population_columns(&p.iter().map(|x| {
            let mut x = *x;
            x.copd = true;
            x.diabetes_t2 = true;
            x
        }).collect::<Vec<_>>())), 0, ""),
        ("capacities NaN", clinics(with_column(small_clinic_columns(), "capacities", f64s(&[f64::NAN, 1.0]))), 1, "`NaN`"),
        ("capacities infinite", clinics(with_column(small_clinic_columns(), "capacities", f64s(&[1.0, f64::INFINITY]))), 1, "`inf`"),
        ("capacities negative infinity", clinics(with_column(small_clinic_columns(), "capacities", f64s(&[f64::NEG_INFINITY, 1.0]))), 1, "`-inf`"),
        ("capacities as strings", clinics(with_column(small_clinic_columns(), "capacities", Arc::new(StringArray::from(vec!["1", "2"])) as ArrayRef)), 1, "`capacities`"),
        ("previous count negative", clinics(with_column(small_clinic_columns(), "previous_min_patients", i32s(&[-5, 100]))), 1, "`previous_min_patients`"),
        ("vulnerable_area as integers", clinics(with_column(small_clinic_columns(), "vulnerable_area", i32s(&[0, 1]))), 1, "`vulnerable_area`"),
        ("null clinic id", clinics(with_column(small_clinic_columns(), "clinic_id", Arc::new(Int32Array::from(vec![None, Some(22)])) as ArrayRef)), 1, "null"),
        ("null clinic kommune", clinics(with_column(small_clinic_columns(), "kommune", Arc::new(arrow::array::Int16Array::from(vec![Some(101), None])) as ArrayRef)), 1, "null"),
        ("null person id", with_population_column("person_id", Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)])) as ArrayRef), 1, "null"),
        ("null clinic of a person", with_population_column("clinic_id", Arc::new(Int32Array::from(vec![Some(11), Some(11), None, Some(22)])) as ArrayRef), 1, "null"),
        ("null sex", with_population_column("sex", nulls_i8([true, true, true, false])), 1, "null"),
        ("null kommune of a person", with_population_column("kommune", Arc::new(arrow::array::Int16Array::from(vec![Some(101), None, Some(751), Some(751)])) as ArrayRef), 1, "null"),
        ("null age", with_population_column("age", nulls_i8([false, true, true, true])), 1, "null"),
        ("null education", with_population_column("education", nulls_i8([true, false, true, true])), 1, "--nulls-as-unknown"),
        ("null income quintile", with_population_column("income_quintile", nulls_i8([true, true, false, true])), 1, "--nulls-as-unknown"),
        ("null labour", with_population_column("labour", nulls_i8([true, true, true, false])), 1, "--nulls-as-unknown"),
        ("null origin", with_population_column("origin", nulls_i8([false, true, true, true])), 1, "--nulls-as-unknown"),
        ("null lives_alone", with_population_column("lives_alone", Arc::new(BooleanArray::from(vec![Some(true), None, Some(false), Some(false)])) as ArrayRef), 1, "--nulls-as-unknown"),
        ("null second condition", with_population_column("cond_diabetes_t2", Arc::new(BooleanArray::from(vec![None, Some(true), Some(false), Some(false)])) as ArrayRef), 1, "null"),
        ("null capacities", clinics(with_column(small_clinic_columns(), "capacities", Arc::new(arrow::array::Float64Array::from(vec![Some(1.0), None])) as ArrayRef)), 1, "null"),
        ("scenario file with an unknown key", write_file("scenarios.toml", b"[[scenario]]\nname = \"a\"\nyeer = 2028\n".to_vec()), 1, "yeer"),
        ("scenario file not UTF-8", write_file("scenarios.toml", vec![0xff, 0xfe, 0x41]), 1, "UTF-8"),
        ("scenario grid of a billion", write_file("scenarios.toml", {
            let values: String = (0..1000).map(|k| format!("{k}.0,")).collect();
            format!("[grid]\ncapacity_total = [{values}]\nclosing_fraction = [{values}]\nmax_increase = [{values}]\n").into_bytes()
        }), 1, "1000000000 scenarios"),
        ("scenario naming an unknown package", write_file("scenarios.toml", b"[[scenario]]\nname = \"a\"\n[scenario.packages.nope]\nadd = 1.0\n".to_vec()), 1, "no package `nope`"),
        ("null condition", with_population_column("cond_copd", Arc::new(BooleanArray::from(vec![Some(true), None, Some(false), Some(false)])) as ArrayRef), 1, "null"),
        ("model with a byte order mark is fine", model_text(|t| format!("\u{feff}{t}")), 0, ""),
        ("model in UTF-16", Box::new(|d: &Path| {
            let text = std::fs::read_to_string(d.join("model.toml")).unwrap();
            let bytes: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            std::fs::write(d.join("model.toml"), bytes).unwrap();
        }), 1, "model.toml"),
        ("model in Latin-1", write_file("model.toml", b"[model]\nid = \"K\xf8benhavn\"\n".to_vec()), 1, "UTF-8"),
        ("model of 100 MB", Box::new(|d: &Path| {
            let mut text = std::fs::read_to_string(d.join("model.toml")).unwrap();
            text.push_str("\n# ");
            text.push_str(&"x".repeat(100 << 20));
            text.push('\n');
            std::fs::write(d.join("model.toml"), text).unwrap();
        }), 0, ""),
        ("model with a NaN coefficient", model_text(|t| t.replace("copd = 60.0", "copd = nan")), 1, "conditions.copd"),
        ("model with an infinite coefficient", model_text(|t| t.replace("copd = 60.0", "copd = inf")), 1, "conditions.copd"),
        ("model whose every need is negative", model_text(|t| t.replace("100,", "-900,").replace("150,", "-900,").replace("300,", "-900,").replace(",100]", ",-900]").replace(",150]", ",-900]")), 1, "raw need is 0 or below"),
        ("package naming itself as a condition", model_text(|t| t.replace("conditions = [\"copd\"]", "conditions = [\"copd\", \"copd_package\"]")), 1, "copd_package"),
        ("package id used twice", model_text(|t| format!("{t}\n[[packages]]\nid = \"copd\"\nstart_year = 2030\nconditions = [\"copd\"]\nadd = 1.0\n")), 1, "used twice"),
        ("log link overflowing to infinity", model_text(|t| t.replace("link = \"identity\"", "link = \"log\"").replace("300,", "800,")), 1, "not a finite number"),
        ("65 conditions", model_text(|t| {
            let extra: String = (0..65).map(|k| format!("c{k} = 1.0\n")).collect();
            t.replace("[conditions]\n", &format!("[conditions]\n{extra}"))
        }), 1, "at most 64"),
        ("negative multiplier", model_text(|t| t.replace("multiply = 1.5", "multiply = -1.5")), 1, "multiply"),
        ("floor above ceiling", model_text(|t| t.replace("min_per_capacity = 0", "min_per_capacity = 3000").replace("max_per_capacity = 0", "max_per_capacity = 1000")), 1, "above the ceiling"),
        ("round_to zero", model_text(|t| t.replace("round_to = 10", "round_to = 0")), 1, "round_to"),
    ]
}

#[test]
fn every_corpus_case_gives_its_code_and_message_and_no_partial_output() {
    let all = cases();
    assert!(all.len() >= 40, "{} cases", all.len());
    let mut failures = Vec::new();
    for (name, spoil, code, phrase) in all {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.toml"), GOLDEN_MODEL).unwrap();
        std::fs::write(dir.path().join("geography.csv"), GOLDEN_GEOGRAPHY).unwrap();
        write_parquet(
            &dir.path().join("population.parquet"),
            population_columns(&small_persons()),
        );
        write_parquet(&dir.path().join("clinics.parquet"), small_clinic_columns());
        std::fs::write(
            dir.path().join("scenarios.toml"),
            "[[scenario]]\nname = \"a\"\n",
        )
        .unwrap();
        spoil(dir.path());
        // Scenario-file cases run `scenarios`; the rest run `run`.
        let command = if name.starts_with("scenario") {
            "scenarios"
        } else {
            "run"
        };
        let mut args = vec![
            command,
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
        if command == "scenarios" {
            args.extend(["--scenarios", "scenarios.toml"]);
        }
        let output = run_in(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let problem = if stderr.contains("panicked") {
            Some("panicked".to_string())
        } else if output.status.code() != Some(code) {
            Some(format!("exit {:?}, expected {code}", output.status.code()))
        } else if !stderr.contains(phrase) {
            Some(format!("no `{phrase}`"))
        } else if code != 0 && dir.path().join("result").exists() {
            Some("left an output directory".to_string())
        } else if code == 0 && !dir.path().join("result/clinics.parquet").exists() {
            Some("no output".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!("{name}: {problem}\n    {}", stderr.trim()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The same persons give byte-identical `clinics.*` and `areas.*` whatever
/// the order of the rows and however the file is written: row-group and
/// page sizes, dictionary or plain encoding, every codec, data page v1 or
/// v2, nullable or required columns (issue 14: exact sums).
#[test]
fn outputs_do_not_depend_on_row_order_or_writer_settings() {
    use arrow::compute::take;
    use arrow::datatypes::{Field, Schema};
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, GzipLevel, ZstdLevel};
    use parquet::file::properties::{WriterProperties, WriterVersion};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let root = repo();
    let source = root.join("fixtures/population.parquet");
    let file = std::fs::File::open(&source).unwrap();
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let all = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    let n = all.num_rows();
    let invoke = |population: &std::path::Path, out: &str| {
        run_in(
            dir.path(),
            &[
                "run",
                "--population",
                population.to_str().unwrap(),
                "--clinics",
                root.join("fixtures/clinics.parquet").to_str().unwrap(),
                "--model",
                &reference_model(),
                "--year",
                "2031",
                "--out",
                out,
            ],
        )
    };
    let run = |population: &std::path::Path, out: &str| {
        let output = invoke(population, out);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        outputs(&dir.path().join(out))
    };
    let baseline = run(&source, "baseline");
    // The columns of every row, in `order`.
    let reorder = |order: Vec<u32>| -> Vec<ArrayRef> {
        let indices = arrow::array::UInt32Array::from(order);
        all.columns()
            .iter()
            .map(|c| take(c, &indices, None).unwrap())
            .collect()
    };
    let settings: [(usize, usize, bool, Compression, WriterVersion, bool); 6] = [
        (
            1 << 20,
            1 << 20,
            true,
            Compression::UNCOMPRESSED,
            WriterVersion::PARQUET_1_0,
            false,
        ),
        (
            7_001,
            4_096,
            false,
            Compression::SNAPPY,
            WriterVersion::PARQUET_2_0,
            true,
        ),
        (
            1_000,
            512,
            true,
            Compression::ZSTD(ZstdLevel::default()),
            WriterVersion::PARQUET_1_0,
            true,
        ),
        (
            12_345,
            100_000,
            true,
            Compression::LZ4_RAW,
            WriterVersion::PARQUET_2_0,
            false,
        ),
        (
            2_048,
            2_048,
            false,
            Compression::GZIP(GzipLevel::default()),
            WriterVersion::PARQUET_1_0,
            false,
        ),
        (
            33_333,
            8_192,
            true,
            Compression::SNAPPY,
            WriterVersion::PARQUET_2_0,
            true,
        ),
    ];
    for (k, (group, page, dictionary, codec, version, nullable)) in settings.into_iter().enumerate()
    {
        // A different permutation of the rows for each setting.
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut z = 0x5EED_0000u64 + k as u64;
        for i in (1..n).rev() {
            z = z
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, ((z >> 33) % (i as u64 + 1)) as usize);
        }
        let columns = reorder(order);
        let schema = Arc::new(Schema::new(
            all.schema()
                .fields()
                .iter()
                .map(|f| Field::new(f.name(), f.data_type().clone(), nullable))
                .collect::<Vec<_>>(),
        ));
        let shuffled = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(group))
            .set_data_page_row_count_limit(page)
            .set_write_batch_size(page.min(1024))
            .set_dictionary_enabled(dictionary)
            .set_compression(codec)
            .set_writer_version(version)
            .build();
        let path = dir.path().join(format!("population-{k}.parquet"));
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, Some(props))
                .unwrap();
        writer.write(&shuffled).unwrap();
        writer.close().unwrap();
        let got = run(&path, &format!("out-{k}"));
        for (f, (a, b)) in OUTPUTS.iter().zip(baseline.iter().zip(&got)) {
            assert!(a == b, "setting {k}: {f} differs");
        }
    }

    // Row groups each in increasing id order but the groups in reverse:
    // the ids stop increasing only at the second group, after some groups
    // were read without making their id sets, so the ids are read again
    // and sorted. The same outputs; a repeat across groups is named.
    let mut order: Vec<u32> = Vec::new();
    for block in (0..n.div_ceil(1_000)).rev() {
        order.extend((block * 1_000) as u32..((block + 1) * 1_000).min(n) as u32);
    }
    let reversed = RecordBatch::try_new(all.schema(), reorder(order)).unwrap();
    let write = |batch: &RecordBatch, name: &str| {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1_000))
            .build();
        let path = dir.path().join(name);
        let mut writer = ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            batch.schema(),
            Some(props),
        )
        .unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
        path
    };
    let got = run(&write(&reversed, "reversed.parquet"), "out-reversed");
    for (f, (a, b)) in OUTPUTS.iter().zip(baseline.iter().zip(&got)) {
        assert!(a == b, "groups in reverse order: {f} differs");
    }
    let id = reversed.schema().index_of("person_id").unwrap();
    let mut ids: Vec<i64> = reversed
        .column(id)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .values()
        .to_vec();
    let last = ids.len() - 1;
    ids[last] = ids[5];
    let mut columns = reversed.columns().to_vec();
    columns[id] = Arc::new(Int64Array::from(ids.clone()));
    let repeated = RecordBatch::try_new(reversed.schema(), columns).unwrap();
    let output = invoke(&write(&repeated, "repeated.parquet"), "out-repeated");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("row {}", n);
    for part in [
        "`person_id`",
        &expected,
        "duplicates row 6",
        &format!("`{}`", ids[5]),
    ] {
        assert!(stderr.contains(part), "{part} not in {stderr}");
    }
    assert!(!dir.path().join("out-repeated").exists());
}

/// The outputs that must not depend on the file's layout.
const OUTPUTS: [&str; 4] = [
    "clinics.csv",
    "clinics.parquet",
    "areas.csv",
    "areas.parquet",
];

fn outputs(out: &Path) -> [Vec<u8>; 4] {
    OUTPUTS.map(|f| std::fs::read(out.join(f)).unwrap())
}

/// The committed writer corpus (`fixtures/writers`: the same 4,000 persons
/// written by pyarrow, Polars and DuckDB with many settings): every file
/// without nulls gives byte-identical `clinics.*` and `areas.*`; every file
/// with nulls gives byte-identical outputs under `--nulls-as-unknown`, with
/// the same count of mapped nulls, and without it is refused naming the
/// first null (education, row 4).
#[test]
fn writer_corpus_gives_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo();
    let mut files: Vec<_> = std::fs::read_dir(root.join("fixtures/writers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let clinics = root.join("fixtures/clinics.parquet");
    let model = reference_model();
    let mut references: [Option<(String, Vec<Vec<u8>>)>; 2] = [None, None];
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let nulls = name.contains("-nulls");
        let mut args = vec![
            "run",
            "--population",
            path.to_str().unwrap(),
            "--clinics",
            clinics.to_str().unwrap(),
            "--model",
            &model,
            "--out",
            &name,
            "--quiet",
        ];
        if nulls {
            let refused = run_in(dir.path(), &args);
            let message = String::from_utf8_lossy(&refused.stderr);
            assert_eq!(refused.status.code(), Some(1), "{name}: {message}");
            assert!(
                message.contains("education") && message.contains("row 4"),
                "{name}: {message}"
            );
            assert!(!dir.path().join(&name).exists(), "{name}: partial output");
            args.push("--nulls-as-unknown");
        }
        let output = run_in(dir.path(), &args);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let out = dir.path().join(&name);
        let mut got = outputs(&out).to_vec();
        let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        assert_eq!(manifest["persons"], 4000, "{name}");
        got.push(manifest["nulls_mapped"].to_string().into_bytes());
        match &references[usize::from(nulls)] {
            None => references[usize::from(nulls)] = Some((name, got)),
            Some((first, reference)) => {
                for (k, (a, b)) in reference.iter().zip(&got).enumerate() {
                    assert!(a == b, "{name} differs from {first} in output {k}");
                }
            }
        }
    }
    assert!(references.iter().all(|r| r.is_some()));
}
