//! A second, deliberately naive implementation of SPEC section 4, written
//! from the spec without the engine's code (its own model-file reading,
//! per-person loops, hash maps), run on the shipped fixtures and compared
//! with the engine's output for several years.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Every column of a Parquet file as i64 (booleans as 0/1).
fn read_ints(path: &Path) -> HashMap<String, Vec<i64>> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut columns: HashMap<String, Vec<i64>> = HashMap::new();
    for batch in reader {
        let batch = batch.unwrap();
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            let values: Vec<i64> = match array.data_type() {
                DataType::Boolean => array
                    .as_boolean()
                    .iter()
                    .map(|v| v.unwrap() as i64)
                    .collect(),
                DataType::Float64 => continue,
                _ => {
                    let cast = arrow::compute::cast(array, &DataType::Int64).unwrap();
                    cast.as_primitive::<Int64Type>().values().to_vec()
                }
            };
            columns
                .entry(field.name().clone())
                .or_default()
                .extend(values);
        }
    }
    columns
}

fn read_floats(path: &Path, name: &str) -> Vec<f64> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let array = batch.column_by_name(name).unwrap();
        let cast = arrow::compute::cast(array, &DataType::Float64).unwrap();
        let floats = cast.as_primitive::<arrow::datatypes::Float64Type>();
        out.extend((0..floats.len()).map(|i| floats.value(i)));
    }
    out
}

fn num(v: &toml::Value) -> f64 {
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .unwrap()
}

struct Expected {
    clinic_need: BTreeMap<i64, f64>,
    clinic_n: BTreeMap<i64, usize>,
    clinic_packages: BTreeMap<i64, f64>,
    raw: BTreeMap<i64, f64>,
    lower: BTreeMap<i64, Option<f64>>,
    upper: BTreeMap<i64, Option<f64>>,
    proposal: BTreeMap<i64, Option<i64>>,
    flags: BTreeMap<i64, String>,
    kommune_need: BTreeMap<i64, f64>,
    load: f64,
    /// The load each clinic's count used (`L`, or its area's `L_a`).
    clinic_load: BTreeMap<i64, f64>,
    /// `L_a` by area name at the level asked for.
    area_load: BTreeMap<String, f64>,
}

fn reference(year: i64) -> Expected {
    reference_at(year, "nation", &|_| 0.0)
}

/// The reference at a load level (`nation`, `region`, `sundhedsraad`),
/// with capacity adjustment `adjust(c)` for the `c`-th clinic of the file.
fn reference_at(year: i64, level: &str, adjust: &dyn Fn(usize) -> f64) -> Expected {
    let root = repo();
    let model: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("models/reference-2027.toml")).unwrap())
            .unwrap();
    let people = read_ints(&root.join("fixtures/population.parquet"));
    let clinics = read_ints(&root.join("fixtures/clinics.parquet"));
    let capacities = read_floats(&root.join("fixtures/clinics.parquet"), "capacities");
    let capacities: Vec<f64> = capacities
        .iter()
        .enumerate()
        .map(|(c, d)| d + adjust(c))
        .collect();
    let mut area_index: HashMap<i64, f64> = HashMap::new();
    // kommune → (sundhedsråd, region)
    let mut area_of: HashMap<i64, (String, String)> = HashMap::new();
    for line in std::fs::read_to_string(root.join("data/geography-dk-2027.csv"))
        .unwrap()
        .lines()
        .skip(1)
    {
        let fields: Vec<&str> = line.split(',').collect();
        area_index.insert(fields[0].parse().unwrap(), fields[4].parse().unwrap());
        area_of.insert(
            fields[0].parse().unwrap(),
            (fields[2].to_string(), fields[3].to_string()),
        );
    }

    let age_sex = |sex: i64, age: i64| -> f64 {
        let key = if sex == 1 { "male" } else { "female" };
        num(&model["age_sex"][key].as_array().unwrap()[(age / 5).min(19) as usize])
    };
    let socio = |column: &str, level: i64| -> f64 {
        model["socioeconomic"]
            .get(column)
            .and_then(|t| t.get(level.to_string()))
            .map(num)
            .unwrap_or(0.0)
    };
    let conditions: Vec<(String, f64)> = model["conditions"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), num(v)))
        .collect();
    let thresholds: Vec<(i64, f64)> = model["multimorbidity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["at_least"].as_integer().unwrap(), num(&t["add"])))
        .collect();
    let area_coefficient = num(&model["area"]["coefficient"]);

    let n = people["person_id"].len();
    let has = |name: &str| -> &Vec<i64> { &people[&format!("cond_{name}")] };
    let condition_columns: Vec<&Vec<i64>> = conditions.iter().map(|(name, _)| has(name)).collect();
    let mut raw = vec![0.0; n];
    let mut package_part = vec![0.0; n];
    for i in 0..n {
        let count = condition_columns.iter().filter(|c| c[i] == 1).count() as i64;
        let mut eta = age_sex(people["sex"][i], people["age"][i]);
        eta += socio("education", people["education"][i]);
        eta += socio("income_quintile", people["income_quintile"][i]);
        eta += socio("labour", people["labour"][i]);
        eta += socio("origin", people["origin"][i]);
        let alone = if people["lives_alone"][i] == 1 {
            "true"
        } else {
            "false"
        };
        eta += model["socioeconomic"]["lives_alone"]
            .get(alone)
            .map(num)
            .unwrap_or(0.0);
        for ((_, coefficient), column) in conditions.iter().zip(&condition_columns) {
            if column[i] == 1 {
                eta += coefficient;
            }
        }
        for (at_least, add) in &thresholds {
            if count >= *at_least {
                eta += add;
            }
        }
        eta += area_coefficient * area_index[&people["kommune"][i]];
        let mut r = eta;
        for package in model["packages"].as_array().unwrap() {
            let start = package["start_year"].as_integer().unwrap();
            if year < start {
                continue;
            }
            let phase = package["phase_in"].as_array().unwrap();
            let share = phase.get((year - start) as usize).map(num).unwrap_or(1.0);
            let by_condition = package["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| has(c.as_str().unwrap())[i] == 1);
            let min = package["min_conditions"].as_integer().unwrap();
            if by_condition || (min > 0 && count >= min) {
                r += share * num(&package["add"]);
                r *= 1.0 + share * (num(&package["multiply"]) - 1.0);
            }
        }
        package_part[i] = r - eta;
        raw[i] = r.max(0.0);
    }
    let mean = raw.iter().sum::<f64>() / n as f64;
    let weights: Vec<f64> = raw.iter().map(|r| r / mean).collect();

    let mut by_clinic: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    let mut packages: BTreeMap<i64, f64> = BTreeMap::new();
    let mut kommune_need: BTreeMap<i64, f64> = BTreeMap::new();
    for i in 0..n {
        by_clinic
            .entry(people["clinic_id"][i])
            .or_default()
            .push(weights[i]);
        *packages.entry(people["clinic_id"][i]).or_default() += package_part[i] / mean;
        *kommune_need.entry(people["kommune"][i]).or_default() += weights[i];
    }
    let total_capacities: f64 = capacities.iter().sum();
    let load = n as f64 / total_capacities;
    let p = &model["proposal"];
    let (f, round_to) = (num(&p["closing_fraction"]), num(&p["round_to"]));
    let (floor, ceiling) = (num(&p["min_per_capacity"]), num(&p["max_per_capacity"]));
    let (up, down) = (num(&p["max_increase"]), num(&p["max_decrease"]));
    let (dialogue, uncertainty) = (
        num(&p["dialogue_threshold"]),
        num(&p["uncertainty_threshold"]),
    );

    let mut expected = Expected {
        clinic_need: BTreeMap::new(),
        clinic_n: BTreeMap::new(),
        clinic_packages: packages,
        raw: BTreeMap::new(),
        lower: BTreeMap::new(),
        upper: BTreeMap::new(),
        proposal: BTreeMap::new(),
        flags: BTreeMap::new(),
        kommune_need,
        load,
        clinic_load: BTreeMap::new(),
        area_load: BTreeMap::new(),
    };
    // L_a: Σ need of the clinics located in the area / Σ their capacities.
    let area_name = |c: usize| -> String {
        let (council, region) = &area_of[&clinics["kommune"][c]];
        match level {
            "region" => region.clone(),
            "sundhedsraad" => council.clone(),
            _ => "DK".to_string(),
        }
    };
    let mut area_sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for c in 0..clinics["clinic_id"].len() {
        let need: f64 = by_clinic
            .get(&clinics["clinic_id"][c])
            .map(|w| w.iter().sum())
            .unwrap_or(0.0);
        let s = area_sums.entry(area_name(c)).or_default();
        s.0 += need;
        s.1 += capacities[c];
    }
    for (name, (need, d)) in &area_sums {
        let l = if level == "nation" { load } else { need / d };
        expected.area_load.insert(name.clone(), l);
    }
    for c in 0..clinics["clinic_id"].len() {
        let load = expected.area_load[&area_name(c)];
        expected.clinic_load.insert(clinics["clinic_id"][c], load);
        let id = clinics["clinic_id"][c];
        let d = capacities[c];
        let previous = clinics["previous_min_patients"][c] as f64;
        let w = by_clinic.get(&id).cloned().unwrap_or_default();
        let m = w.len();
        let need: f64 = w.iter().sum();
        expected.clinic_need.insert(id, need);
        expected.clinic_n.insert(id, m);
        let mut flags = Vec::new();
        if m == 0 {
            expected.proposal.insert(id, None);
            if clinics["vulnerable_area"][c] == 1 {
                flags.push("vulnerable_area");
            }
            flags.push("empty");
            expected.flags.insert(id, flags.join(";"));
            continue;
        }
        let mean_weight = need / m as f64;
        let raw_count = d * load * f / mean_weight;
        let mut v = raw_count;
        if floor > 0.0 && v < floor * d {
            v = floor * d;
        }
        if ceiling > 0.0 && v > ceiling * d {
            v = ceiling * d;
        }
        let mut capped = false;
        if down >= 0.0 && v < previous * (1.0 - down) {
            v = previous * (1.0 - down);
            capped = true;
        }
        if up >= 0.0 && v > previous * (1.0 + up) {
            v = previous * (1.0 + up);
            capped = true;
        }
        let proposal = ((v / round_to).round() * round_to) as i64;
        let s = (w.iter().map(|x| (x - mean_weight).powi(2)).sum::<f64>() / (m - 1) as f64).sqrt();
        let q = StudentsT::new(0.0, 1.0, (m - 1) as f64)
            .unwrap()
            .inverse_cdf(0.975);
        let half = q * s / (m as f64).sqrt();
        let lower = d * load * f / (mean_weight + half);
        let upper = (mean_weight - half > 0.0).then(|| d * load * f / (mean_weight - half));
        let uncertain = match upper {
            Some(u) => (u - lower) / raw_count > uncertainty,
            None => true,
        };
        if capped {
            flags.push("capped");
        }
        if uncertain {
            flags.push("uncertain");
        }
        if proposal as f64 > (1.0 + dialogue) * previous.max(m as f64) {
            flags.push("dialogue");
        }
        if clinics["vulnerable_area"][c] == 1 {
            flags.push("vulnerable_area");
        }
        expected.raw.insert(id, raw_count);
        expected.lower.insert(id, Some(lower));
        expected.upper.insert(id, upper);
        expected.proposal.insert(id, Some(proposal));
        expected.flags.insert(id, flags.join(";"));
    }
    expected
}

#[test]
fn engine_matches_reference_on_fixtures() {
    for year in [2026, 2027, 2028, 2031, 2035] {
        let expected = reference(year);
        let dir = tempfile::tempdir().unwrap();
        let root = repo();
        let year_text = year.to_string();
        let population = root.join("fixtures/population.parquet");
        let clinic_file = root.join("fixtures/clinics.parquet");
        let model = root.join("models/reference-2027.toml");
        let args = [
            "run",
            "--population",
            population.to_str().unwrap(),
            "--clinics",
            clinic_file.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--year",
            &year_text,
            "--out",
            "result",
        ];
        let output = run_in(dir.path(), &args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let clinics = Csv::read(&dir.path().join("result/clinics.csv"));
        assert_eq!(clinics.rows.len(), expected.clinic_need.len());
        let mut proposals_seen = 0;
        for (&id, &need) in &expected.clinic_need {
            let r = clinics.find("clinic_id", &id.to_string());
            let what = format!("year {year} clinic {id}");
            assert_eq!(
                clinics.get(r, "n_patients"),
                expected.clinic_n[&id].to_string(),
                "{what}"
            );
            assert_close(clinics.f64(r, "need").unwrap(), need, &what);
            if let Some(&packages) = expected.clinic_packages.get(&id) {
                let got = clinics.f64(r, "need_packages").unwrap();
                assert!(
                    (got - packages).abs() < 1e-9 * need.max(1.0),
                    "{what}: packages {got} vs {packages}"
                );
            }
            let parts: f64 = [
                "need_age_sex",
                "need_socioeconomic",
                "need_conditions",
                "need_multimorbidity",
                "need_area",
                "need_packages",
            ]
            .iter()
            .map(|c| clinics.f64(r, c).unwrap())
            .sum();
            assert_close(parts, need, &format!("{what} components"));
            assert_eq!(
                clinics.get(r, "min_patients"),
                expected.proposal[&id]
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                "{what}"
            );
            assert_eq!(clinics.get(r, "flags"), expected.flags[&id], "{what}");
            if let Some(&raw) = expected.raw.get(&id) {
                proposals_seen += 1;
                assert_close(clinics.f64(r, "raw_min_patients").unwrap(), raw, &what);
                assert_close(
                    clinics.f64(r, "raw_lower").unwrap(),
                    expected.lower[&id].unwrap(),
                    &what,
                );
                match expected.upper[&id] {
                    Some(u) => assert_close(clinics.f64(r, "raw_upper").unwrap(), u, &what),
                    None => assert_eq!(clinics.get(r, "raw_upper"), ""),
                }
            }
        }
        assert!(
            proposals_seen >= 30,
            "the fixture has at least 30 clinics with patients"
        );
        let areas = Csv::read(&dir.path().join("result/areas.csv"));
        for (&kommune, &need) in &expected.kommune_need {
            let r = areas.find("code", &kommune.to_string());
            assert_close(
                areas.f64(r, "need").unwrap(),
                need,
                &format!("kommune {kommune}"),
            );
            let residents: f64 = areas.f64(r, "residents").unwrap();
            assert_close(
                areas.f64(r, "norm_patients_per_capacity").unwrap(),
                expected.load / (need / residents),
                &format!("norm {kommune}"),
            );
        }
    }
}

/// The capacity adjustment the load-level test gives the `c`-th clinic:
/// some clinics give capacity away (a nursing home), some gain it.
fn test_adjustment(c: usize) -> f64 {
    match c % 4 {
        0 => -0.25,
        1 => 0.5,
        _ => 0.0,
    }
}

/// The fixture clinics with a `capacity_adjustment` column.
fn adjusted_clinics(path: &Path) {
    use arrow::array::{ArrayRef, Float64Array};
    use arrow::record_batch::RecordBatch;
    let file = std::fs::File::open(repo().join("fixtures/clinics.parquet")).unwrap();
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    let mut columns: Vec<(&str, ArrayRef)> = Vec::new();
    let schema = batch.schema();
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        columns.push((field.name().as_str(), array.clone()));
    }
    let adjustment: Vec<f64> = (0..batch.num_rows()).map(test_adjustment).collect();
    columns.push((
        "capacity_adjustment",
        std::sync::Arc::new(Float64Array::from(adjustment)),
    ));
    write_parquet(path, columns);
}

#[test]
fn engine_matches_reference_at_each_load_level_with_capacity_adjustments() {
    let dir = tempfile::tempdir().unwrap();
    let clinic_file = dir.path().join("clinics-adjusted.parquet");
    adjusted_clinics(&clinic_file);
    for level in ["nation", "region", "sundhedsraad"] {
        let year = 2029;
        let expected = reference_at(year, level, &test_adjustment);
        let root = repo();
        let out = format!("result-{level}");
        let population = root.join("fixtures/population.parquet");
        let model = root.join("models/reference-2027.toml");
        let args = [
            "run",
            "--population",
            population.to_str().unwrap(),
            "--clinics",
            clinic_file.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--year",
            "2029",
            "--load-level",
            level,
            "--out",
            &out,
        ];
        let output = run_in(dir.path(), &args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let clinics = Csv::read(&dir.path().join(&out).join("clinics.csv"));
        let mut adjusted = 0;
        for (&id, &load) in &expected.clinic_load {
            let r = clinics.find("clinic_id", &id.to_string());
            let what = format!("{level} clinic {id}");
            assert_close(clinics.f64(r, "reference_load").unwrap(), load, &what);
            let given = clinics.f64(r, "capacities").unwrap();
            let effective = clinics.f64(r, "effective_capacities").unwrap();
            let adjustment = clinics.f64(r, "capacity_adjustment").unwrap();
            assert_eq!(given + adjustment, effective, "{what}");
            adjusted += usize::from(adjustment != 0.0);
            assert_eq!(
                clinics.get(r, "min_patients"),
                expected.proposal[&id]
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                "{what}"
            );
            assert_eq!(clinics.get(r, "flags"), expected.flags[&id], "{what}");
            if let Some(&raw) = expected.raw.get(&id) {
                assert_close(clinics.f64(r, "raw_min_patients").unwrap(), raw, &what);
            }
        }
        assert!(adjusted >= 10, "the test adjusts many clinics");
        let areas = Csv::read(&dir.path().join(&out).join("areas.csv"));
        if level != "nation" {
            assert!(expected.area_load.len() >= 4, "{level}");
            for (name, &load) in &expected.area_load {
                let r = (0..areas.rows.len())
                    .find(|&r| areas.get(r, "level") == level && areas.get(r, "code") == *name)
                    .unwrap();
                assert_close(
                    areas.f64(r, "reference_load").unwrap(),
                    load,
                    &format!("{level} {name}"),
                );
            }
        }
        let manifest =
            std::fs::read_to_string(dir.path().join(&out).join("manifest.json")).unwrap();
        assert!(
            manifest.contains(&format!("\"load_level\": \"{level}\"")),
            "{manifest}"
        );
    }
}
