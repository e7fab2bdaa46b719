//! A hand-worked national run: six persons in three clinics and two
//! kommuner, with every expected number derived in the comments below from
//! the model's coefficients, not from the engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;

/// Writes the golden inputs into `dir`.
fn write_inputs(dir: &std::path::Path) {
    std::fs::write(dir.join("model.toml"), GOLDEN_MODEL).unwrap();
    std::fs::write(dir.join("geography.csv"), GOLDEN_GEOGRAPHY).unwrap();
    // Year 2027: the copd package has phase share 0.5, so a person with copd
    // gets r <- (r + 0.5*20) * (1 + 0.5*(1.5-1)) = (r + 10) * 1.25.
    // Area term: 10 * 1.0 = 10 in København (101), 10 * 2.0 = 20 in Aarhus (751).
    let mut p1 = Person::new(1, 11, 101, 40, 1);
    p1.education = 1;
    // p1: 100 + 20 (education 1) + 10 (area) = 130.
    let mut p2 = Person::new(2, 11, 101, 82, 2);
    p2.lives_alone = true;
    p2.copd = true;
    // p2: eta = 300 (female 80-84) + 30 (alone) + 60 (copd) + 10 = 400;
    //     r = (400 + 10) * 1.25 = 512.5; package part 112.5.
    let mut p3 = Person::new(3, 11, 101, 70, 1);
    p3.education = 2;
    p3.copd = true;
    p3.diabetes_t2 = true;
    // p3: eta = 100 + 0 + 60 + 40 + 10 (2 conditions) + 10 = 220;
    //     r = (220 + 10) * 1.25 = 287.5; package part 67.5.
    let mut p4 = Person::new(4, 22, 751, 30, 2);
    p4.education = 3;
    // p4: 150 + 20 (area 2.0) = 170.
    let p5 = Person::new(5, 22, 751, 10, 1);
    // p5: 100 + 20 = 120.
    let mut p6 = Person::new(6, 22, 101, 50, 2);
    p6.education = 1;
    p6.lives_alone = true;
    p6.diabetes_t2 = true;
    // p6 lives in København, listed in Aarhus:
    //     150 + 20 + 30 + 40 + 10 (area 1.0) = 250.
    let persons = [p1, p2, p3, p4, p5, p6];
    write_parquet(
        &dir.join("population.parquet"),
        population_columns(&persons),
    );
    write_parquet(
        &dir.join("clinics.parquet"),
        vec![
            ("clinic_id", i32s(&[33, 11, 22])),
            ("kommune", i16s(&[751, 101, 751])),
            ("capacities", f64s(&[1.0, 1.0, 2.0])),
            ("previous_min_patients", i32s(&[1000, 1200, 3000])),
            ("vulnerable_area", bools(&[true, false, false])),
        ],
    );
}

// Σr = 130 + 512.5 + 287.5 + 170 + 120 + 250 = 1470, mean raw need 245.
const MEAN: f64 = 245.0;
// With --capacity-total 0.004: L = 6 persons / 0.004 = 1500.
const L: f64 = 1500.0;

fn run_golden() -> (tempfile::TempDir, Csv, Csv, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--population",
            "population.parquet",
            "--clinics",
            "clinics.parquet",
            "--geography",
            "geography.csv",
            "--model",
            "model.toml",
            "--year",
            "2027",
            "--capacity-total",
            "0.004",
            "--out",
            "result",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let clinics = Csv::read(&dir.path().join("result/clinics.csv"));
    let areas = Csv::read(&dir.path().join("result/areas.csv"));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("result/manifest.json")).unwrap(),
    )
    .unwrap();
    (dir, clinics, areas, manifest)
}

#[test]
fn golden_clinics() {
    let (_dir, clinics, _, manifest) = run_golden();
    assert_close(manifest["L"].as_f64().unwrap(), L, "L");
    assert_close(manifest["D"].as_f64().unwrap(), 0.004, "D");
    assert_close(manifest["mean_raw_need"].as_f64().unwrap(), MEAN, "mean");
    // Clinics come out sorted by id.
    let ids: Vec<&str> = (0..3).map(|r| clinics.get(r, "clinic_id")).collect();
    assert_eq!(ids, ["11", "22", "33"]);

    // Clinic 11: persons 1-3, raw 930, need 930/245, mean weight 930/735.
    let c = clinics.find("clinic_id", "11");
    assert_eq!(clinics.get(c, "n_patients"), "3");
    assert_close(clinics.f64(c, "need").unwrap(), 930.0 / MEAN, "need 11");
    assert_close(
        clinics.f64(c, "mean_weight").unwrap(),
        930.0 / 735.0,
        "mw 11",
    );
    // Components: age-sex 100+300+100, socio 20+30, conditions 60+100,
    // multimorbidity 10, area 30, packages 112.5+67.5.
    for (column, raw) in [
        ("need_age_sex", 500.0),
        ("need_socioeconomic", 50.0),
        ("need_conditions", 160.0),
        ("need_multimorbidity", 10.0),
        ("need_area", 30.0),
        ("need_packages", 180.0),
    ] {
        assert_close(clinics.f64(c, column).unwrap(), raw / MEAN, column);
    }
    // raw = 1 * 1500 * 1 / (930/735) = 1185.48...; previous 1200 allows
    // [1080, 1440]: not capped; rounds to 1190.
    let raw11 = L * 735.0 / 930.0;
    assert_close(clinics.f64(c, "raw_min_patients").unwrap(), raw11, "raw 11");
    assert_eq!(clinics.get(c, "min_patients"), "1190");
    assert_close(clinics.f64(c, "change").unwrap(), -10.0, "change 11");
    assert_close(
        clinics.f64(c, "change_pct").unwrap(),
        -1000.0 / 1200.0,
        "pct 11",
    );
    // Uncertainty, n = 3: t(0.975, 2) = 0.95*sqrt(2)/sqrt(1-0.95^2).
    // Raw deviations from 310: -180, 202.5, -22.5; Σd² = 73912.5.
    let t2 = 0.95 * 2f64.sqrt() / (1.0 - 0.95f64 * 0.95).sqrt();
    let half11 = t2 * (73912.5f64 / 2.0).sqrt() / MEAN / 3f64.sqrt();
    assert_close(
        clinics.f64(c, "raw_lower").unwrap(),
        L / (930.0 / 735.0 + half11),
        "lower 11",
    );
    // mean weight - half < 0: no upper bound, flagged uncertain.
    assert!(930.0 / 735.0 - half11 < 0.0);
    assert_eq!(clinics.get(c, "raw_upper"), "");
    assert_eq!(clinics.get(c, "flags"), "uncertain");

    // Clinic 22: persons 4-6, raw 540, mean weight 540/735.
    let c = clinics.find("clinic_id", "22");
    assert_close(
        clinics.f64(c, "mean_weight").unwrap(),
        540.0 / 735.0,
        "mw 22",
    );
    // raw = 2 * 1500 / (540/735) = 4083.3; cap at 3000 * 1.2 = 3600: capped.
    let raw22 = 2.0 * L * 735.0 / 540.0;
    assert_close(clinics.f64(c, "raw_min_patients").unwrap(), raw22, "raw 22");
    assert_eq!(clinics.get(c, "min_patients"), "3600");
    // Deviations from 180: -10, -60, 70; Σd² = 8600.
    let half22 = t2 * (8600f64 / 2.0).sqrt() / MEAN / 3f64.sqrt();
    let mw22 = 540.0 / 735.0;
    let lower22 = 2.0 * L / (mw22 + half22);
    let upper22 = 2.0 * L / (mw22 - half22);
    assert_close(clinics.f64(c, "raw_lower").unwrap(), lower22, "lower 22");
    assert_close(clinics.f64(c, "raw_upper").unwrap(), upper22, "upper 22");
    // 3600 > 1.1 * max(3000, 3) = 3300: dialogue.
    assert_eq!(clinics.get(c, "flags"), "capped;uncertain;dialogue");
    assert_close(clinics.f64(c, "need_area").unwrap(), 50.0 / MEAN, "area 22");

    // Clinic 33: nobody listed.
    let c = clinics.find("clinic_id", "33");
    assert_eq!(clinics.get(c, "n_patients"), "0");
    assert_eq!(clinics.get(c, "min_patients"), "");
    assert_eq!(clinics.get(c, "mean_weight"), "");
    assert_eq!(clinics.get(c, "flags"), "vulnerable_area;empty");
}

#[test]
fn golden_areas() {
    let (dir, _, areas, _) = run_golden();
    // In the files, areas of fewer than 5 persons are suppressed: every
    // kommune, council and region here has 2 to 4 residents.
    for code in [
        "101",
        "751",
        "Hovedstaden",
        "Aarhus",
        "Østdanmark",
        "Midtjylland",
    ] {
        let r = areas.find("code", code);
        assert_eq!(areas.get(r, "flags"), "suppressed", "{code}");
        for column in [
            "residents",
            "need",
            "mean_weight",
            "listed",
            "norm_patients_per_capacity",
        ] {
            assert_eq!(areas.get(r, column), "", "{code} {column}");
        }
        assert!(
            areas.f64(r, "capacities").is_some(),
            "capacities are clinic data"
        );
    }
    // The nation: 6 residents, need 6, mean weight 1, norm = L.
    let n = areas.find("level", "nation");
    assert_eq!(areas.get(n, "flags"), "");
    assert_eq!(areas.get(n, "residents"), "6");
    assert_close(areas.f64(n, "need").unwrap(), 6.0, "need nation");
    assert_close(areas.f64(n, "mean_weight").unwrap(), 1.0, "mw nation");
    assert_close(
        areas.f64(n, "norm_patients_per_capacity").unwrap(),
        L,
        "norm nation",
    );
    assert_close(areas.f64(n, "capacities").unwrap(), 4.0, "cap nation");

    // The figures behind the suppression, from the same computation.
    let inputs = fordeling::load_inputs(&fordeling::InputPaths {
        memory: Default::default(),
        population: dir.path().join("population.parquet"),
        clinics: dir.path().join("clinics.parquet"),
        geography: Some(dir.path().join("geography.csv")),
        model: dir.path().join("model.toml"),
        nulls_as_unknown: false,
        outcomes: false,
        load_level: None,
    })
    .unwrap();
    let result = fordeling::compute(
        &inputs,
        &fordeling::RunParams {
            year: 2027,
            capacity_total: Some(0.004),
        },
    )
    .unwrap();
    let row = |code: &str| result.areas.iter().find(|r| r.code == code).unwrap();
    // København: persons 1, 2, 3, 6 live there: raw 1180; clinic 11 (1 capacity, 3 listed).
    let k = row("101");
    assert!(k.suppressed());
    assert_eq!(k.residents, 4);
    assert_close(k.need, 1180.0 / MEAN, "need 101");
    assert_close(k.mean_weight.unwrap(), 1180.0 / MEAN / 4.0, "mw 101");
    assert_close(k.capacities, 1.0, "cap 101");
    assert_close(k.target_capacities, 1180.0 / MEAN / L, "target 101");
    assert_close(k.capacity_gap, 1.0 - 1180.0 / MEAN / L, "gap 101");
    assert_close(k.listed_per_capacity.unwrap(), 3.0, "listed 101");
    assert_close(
        k.norm_patients_per_capacity.unwrap(),
        L / (1180.0 / MEAN / 4.0),
        "norm 101",
    );
    // Aarhus: persons 4, 5: raw 290; clinics 22 and 33 (3 capacities, 3 listed).
    let k = row("751");
    assert_close(k.need, 290.0 / MEAN, "need 751");
    assert_close(k.capacities, 3.0, "cap 751");
    assert_close(k.listed_per_capacity.unwrap(), 1.0, "listed 751");
    // Council and region rows carry the same sums as their single kommune.
    assert_close(row("Midtjylland").need, 290.0 / MEAN, "need region");
    assert_eq!(row("Hovedstaden").residents, 4);
}

#[test]
fn golden_year_before_packages_and_full_phase() {
    // In 2026 the copd package is not in force; in 2028 it is in full:
    // p2 = (400 + 20) * 1.5 = 630 and p3 = (220 + 20) * 1.5 = 360.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    for (year, raw11, total) in [
        ("2026", 130.0 + 400.0 + 220.0, 130.0 + 400.0 + 220.0 + 540.0),
        ("2028", 130.0 + 630.0 + 360.0, 130.0 + 630.0 + 360.0 + 540.0),
    ] {
        let output = run_in(
            dir.path(),
            &[
                "run",
                "--population",
                "population.parquet",
                "--clinics",
                "clinics.parquet",
                "--geography",
                "geography.csv",
                "--model",
                "model.toml",
                "--year",
                year,
                "--out",
                "result",
            ],
        );
        assert!(output.status.success());
        let clinics = Csv::read(&dir.path().join("result/clinics.csv"));
        let c = clinics.find("clinic_id", "11");
        let mean = total / 6.0;
        assert_close(clinics.f64(c, "need").unwrap(), raw11 / mean, year);
        // Without --capacity-total, D = 4 capacities and L = 6 / 4.
        let mw = raw11 / mean / 3.0;
        assert_close(clinics.f64(c, "raw_min_patients").unwrap(), 1.5 / mw, year);
        // A count of about 1 is far below 1200 * 0.9: capped at 1080.
        assert_eq!(clinics.get(c, "min_patients"), "1080");
    }
}
