//! `fordeling fit`: least squares and IRLS against a dense reference
//! written here from the textbook formulas, robust standard errors, designs
//! that cannot be estimated, and recovery of the synthetic truth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use crate::common::*;
use fordeling::domain::{Geography, Kommune, Population};
use fordeling::fit::design::Design;
use fordeling::fit::Rows;
use fordeling::fit::{everyone, fit, FitOptions};
use fordeling::model::{Link, Model};
use std::path::Path;

const STRUCTURE: &str = r#"
[model]
id = "small"
link = "identity"
outcome = "gp_fee_dkk"
data_year = 2025
[age_sex]
male = [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
female = [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
[socioeconomic]
education = { "1" = 0.0 }
[conditions]
a = 0.0
b = 0.0
[[multimorbidity]]
at_least = 2
add = 0.0
[area]
coefficient = 0.0
[proposal]
"#;

fn geography() -> Geography {
    let kommune = |code, area| Kommune {
        code,
        name: format!("K{code}"),
        sundhedsraad: 0,
        region: 0,
        area_index: Some(area),
    };
    Geography {
        kommuner: vec![kommune(1, 0.8), kommune(2, 1.3)],
        sundhedsraad: vec!["S".into()],
        regions: vec!["R".into()],
    }
}

/// A small population covering every age-sex cell, with utilization from
/// a known linear rule plus deterministic noise.
fn population(n: usize) -> Population {
    let mut state: u64 = 12345;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut p = Population {
        codes: Vec::new(),
        numeric: Vec::new(),
        utilization: Some(Vec::new()),
        exposure: Some(Vec::new()),
        ..Population::default()
    };
    for i in 0..n {
        let sex = 1 + (i % 2) as u8;
        let band = (i / 2) % 20;
        let age = (band * 5 + (i % 5)) as u8;
        let education = (next() * 5.0) as u8;
        let a = next() < 0.3;
        let b = next() < 0.2 + 0.3 * f64::from(u8::from(a));
        let kommune = u16::from(next() < 0.5);
        let exposure = 0.2 + 0.8 * next();
        let area = if kommune == 0 { 0.8 } else { 1.3 };
        let mean = 500.0
            + 20.0 * band as f64
            + 80.0 * f64::from(sex)
            + if education == 1 { 150.0 } else { 0.0 }
            + if a { 400.0 } else { 0.0 }
            + if b { 250.0 } else { 0.0 }
            + if a && b { 100.0 } else { 0.0 }
            + 200.0 * area;
        let u = exposure * mean * (0.2 + 1.6 * next());
        p.person_id.push(i as i64);
        p.clinic.push(0);
        p.kommune.push(kommune);
        p.age.push(age);
        p.sex.push(sex);
        p.education.push(education);
        p.income_quintile.push(0);
        p.labour.push(0);
        p.origin.push(0);
        p.lives_alone.push(false);
        p.conditions.push(u64::from(a) | u64::from(b) << 1);
        p.utilization.as_mut().unwrap().push(u);
        p.exposure.as_mut().unwrap().push(exposure);
    }
    p
}

/// The dense design, built here from the model's rules (not the engine's).
fn dense_row(p: &Population, i: usize) -> Vec<f64> {
    let mut x = vec![0.0; 48];
    let band = (usize::from(p.age[i]) / 5).min(19);
    x[usize::from(p.sex[i] - 1) * 20 + band] = 1.0;
    // education levels 1..=4 are columns 40..44
    if p.education[i] > 0 {
        x[39 + usize::from(p.education[i])] = 1.0;
    }
    let a = p.conditions[i] & 1 != 0;
    let b = p.conditions[i] & 2 != 0;
    x[44] = f64::from(u8::from(a));
    x[45] = f64::from(u8::from(b));
    x[46] = f64::from(u8::from(a && b));
    x[47] = if p.kommune[i] == 0 { 0.8 } else { 1.3 };
    x
}

/// Solves A x = b by Gaussian elimination with partial pivoting.
fn gauss(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))
            .unwrap();
        a.swap(k, pivot);
        b.swap(k, pivot);
        for i in k + 1..n {
            let f = a[i][k] / a[k][k];
            for j in k..n {
                a[i][j] -= f * a[k][j];
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|j| a[i][j] * x[j]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    x
}

fn inverse(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut columns = Vec::new();
    for k in 0..n {
        let mut e = vec![0.0; n];
        e[k] = 1.0;
        columns.push(gauss(a.to_vec(), e));
    }
    (0..n)
        .map(|i| (0..n).map(|j| columns[j][i]).collect())
        .collect()
}

/// Weighted normal equations with weights `w` and responses `z`.
fn normal(xs: &[Vec<f64>], w: &[f64], z: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let p = xs[0].len();
    let mut a = vec![vec![0.0; p]; p];
    let mut b = vec![0.0; p];
    for ((x, &wi), &zi) in xs.iter().zip(w).zip(z) {
        for r in 0..p {
            if x[r] == 0.0 {
                continue;
            }
            b[r] += wi * x[r] * zi;
            for c in 0..p {
                a[r][c] += wi * x[r] * x[c];
            }
        }
    }
    (a, b)
}

/// HC1 standard errors: bread · Σ s_i² x_i x_iᵀ · bread · n/(n-p).
fn robust_se(bread: &[Vec<f64>], xs: &[Vec<f64>], scores: &[f64]) -> Vec<f64> {
    let p = bread.len();
    let mut meat = vec![vec![0.0; p]; p];
    for (x, s) in xs.iter().zip(scores) {
        for r in 0..p {
            for c in 0..p {
                meat[r][c] += s * s * x[r] * x[c];
            }
        }
    }
    let n = xs.len() as f64;
    (0..p)
        .map(|k| {
            let mut v = 0.0;
            for r in 0..p {
                for c in 0..p {
                    v += bread[k][r] * meat[r][c] * bread[c][k];
                }
            }
            (v * n / (n - p as f64)).sqrt()
        })
        .collect()
}

fn setup() -> (Model, Design, Population, Vec<Vec<f64>>) {
    let model = Model::parse(STRUCTURE.as_bytes(), Path::new("s.toml")).unwrap();
    let design = Design::new(&model, &geography());
    let population = population(4000);
    let xs = (0..population.len())
        .map(|i| dense_row(&population, i))
        .collect();
    (model, design, population, xs)
}

#[test]
fn least_squares_matches_dense_reference() {
    let (_, design, population, xs) = setup();
    assert_eq!(design.columns(), 48);
    let u = population.utilization.as_ref().unwrap();
    let e = population.exposure.as_ref().unwrap();
    let y: Vec<f64> = u.iter().zip(e).map(|(u, e)| u / e).collect();
    let (a, b) = normal(&xs, e, &y);
    let beta = gauss(a.clone(), b);
    let bread = inverse(&a);
    let scores: Vec<f64> = xs
        .iter()
        .zip(e.iter().zip(&y))
        .map(|(x, (w, yi))| w * (yi - x.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()))
        .collect();
    let se = robust_se(&bread, &xs, &scores);

    let got = fit(&design, &population, &everyone, &FitOptions::default()).unwrap();
    for k in 0..48 {
        assert_close(got.beta[k], beta[k], &design.names[k]);
        assert!(
            (got.se[k] - se[k]).abs() < 1e-7 * se[k],
            "{}: se {} vs {}",
            design.names[k],
            got.se[k],
            se[k]
        );
    }
    assert_eq!(got.persons, 4000);
}

#[test]
fn irls_matches_dense_newton_reference() {
    let (_, design, population, xs) = setup();
    let u = population.utilization.as_ref().unwrap();
    let e = population.exposure.as_ref().unwrap();
    // Newton's method on the Poisson log-likelihood with offset log(e).
    let mut beta = vec![0.0; 48];
    for k in 0..40 {
        beta[k] = 7.0;
    }
    for _ in 0..60 {
        let mu: Vec<f64> = xs
            .iter()
            .zip(e)
            .map(|(x, e)| e * x.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>().exp())
            .collect();
        let (hessian, _) = normal(&xs, &mu, &vec![0.0; xs.len()]);
        let residual: Vec<f64> = u.iter().zip(&mu).map(|(u, m)| u - m).collect();
        let gradient: Vec<f64> = (0..48)
            .map(|k| xs.iter().zip(&residual).map(|(x, r)| x[k] * r).sum())
            .collect();
        let step = gauss(hessian, gradient);
        for k in 0..48 {
            beta[k] += step[k];
        }
    }
    let options = FitOptions {
        link: Link::Log,
        ..FitOptions::default()
    };
    let got = fit(&design, &population, &everyone, &options).unwrap();
    assert!(
        got.converged && got.iterations < 50,
        "{} iterations",
        got.iterations
    );
    for k in 0..48 {
        assert!(
            (got.beta[k] - beta[k]).abs() < 1e-8 * (1.0 + beta[k].abs()),
            "{}: {} vs {}",
            design.names[k],
            got.beta[k],
            beta[k]
        );
    }
}

#[test]
fn collinear_terms_are_named() {
    let (model, design, mut population, _) = setup();
    // Condition b exactly when condition a.
    for m in population.conditions.iter_mut() {
        *m = if *m & 1 != 0 { 3 } else { 0 };
    }
    let err = fit(&design, &population, &everyone, &FitOptions::default())
        .unwrap_err()
        .0;
    assert!(
        err.contains("conditions.b") && err.contains("conditions.a") && err.contains("collinear"),
        "{err}"
    );
    // Nobody with education 3.
    let mut population = setup().2;
    for level in population.education.iter_mut() {
        if *level == 3 {
            *level = 2;
        }
    }
    let err = fit(&design, &population, &everyone, &FitOptions::default())
        .unwrap_err()
        .0;
    assert!(
        err.contains("nobody") && err.contains("socioeconomic.education.3"),
        "{err}"
    );
    let _ = model;
}

#[test]
fn ridge_shrinks_all_but_age_sex() {
    let (_, design, population, _) = setup();
    let plain = fit(&design, &population, &everyone, &FitOptions::default()).unwrap();
    let options = FitOptions {
        ridge: 1e9,
        ..FitOptions::default()
    };
    let ridged = fit(&design, &population, &everyone, &options).unwrap();
    for k in 40..48 {
        assert!(
            ridged.beta[k].abs() < 0.05 * plain.beta[k].abs().max(1.0),
            "{}",
            design.names[k]
        );
    }
}

#[test]
fn fit_recovers_the_synthetic_truth() {
    // Scale 0.03 (about 180,000 persons) keeps the test quick; the closing
    // note of issue 4 reports the same check at scale 0.2 and 1.
    let truth = Model::parse(fordeling::synth::TRUTH_MODEL.as_bytes(), Path::new("truth")).unwrap();
    let geography = fordeling::ingest::geography::built_in().unwrap();
    let spec = fordeling::synth::SynthSpec::national(42, 0.03).unwrap();
    let (population, _, _) = fordeling::synth::generate(&spec, &truth, &geography).unwrap();
    let design = Design::new(&truth, &geography);
    let estimate = fit(&design, &population, &everyone, &FitOptions::default()).unwrap();
    let true_values = design.coefficients(&truth);
    let within: Vec<bool> = estimate
        .beta
        .iter()
        .zip(&estimate.se)
        .zip(&true_values)
        .map(|((b, se), t)| (b - t).abs() <= 3.0 * se)
        .collect();
    let share = within.iter().filter(|&&w| w).count() as f64 / within.len() as f64;
    let misses: Vec<&String> = design
        .names
        .iter()
        .zip(&within)
        .filter(|(_, w)| !**w)
        .map(|(n, _)| n)
        .collect();
    assert!(
        share >= 0.95,
        "only {share:.3} within 3 SE; missed {misses:?}"
    );
    // And the errors are not all tiny by luck: standard errors are sane.
    assert!(estimate.se.iter().all(|s| s.is_finite() && *s > 0.0));
}

#[test]
fn fit_command_writes_a_model_run_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let structure = reference_model();
    ok_on_fixtures(
        dir.path(),
        &["fit", "--structure", &structure, "--out", "fitted"],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("fitted/fit.json")).unwrap())
            .unwrap();
    assert_eq!(report["persons"], 61000);
    assert_eq!(report["coefficients"].as_array().unwrap().len(), 74);
    assert_eq!(report["data_year"], 2025);
    let r2 = report["r2"].as_f64().unwrap();
    assert!(r2 > 0.05 && r2 < 0.5, "R² {r2}");
    let fitted = dir.path().join("fitted/model.toml");
    let model = Model::load(&fitted).unwrap().model;
    assert_eq!(model.packages.len(), 5, "packages carried over");
    let fitted = fitted.display().to_string();
    ok_on_fixtures(dir.path(), &["run", "--model", &fitted, "--out", "result"]);
}

#[test]
fn evaluate_reports_models_ladder_ratios_and_stability() {
    let dir = tempfile::tempdir().unwrap();
    let structure = reference_model();
    let structure = structure.as_str();
    ok_on_fixtures(
        dir.path(),
        &["fit", "--structure", structure, "--out", "fitted"],
    );
    let population = repo().join("fixtures/population.parquet");
    ok_on_fixtures(
        dir.path(),
        &[
            "evaluate",
            "--model",
            "fitted/model.toml",
            "--model",
            structure,
            "--folds",
            "3",
            "--population-next",
            population.to_str().unwrap(),
            "--out",
            "evaluation",
        ],
    );
    let e: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("evaluation/evaluation.json")).unwrap(),
    )
    .unwrap();
    let md = std::fs::read_to_string(dir.path().join("evaluation/evaluation.md")).unwrap();
    assert!(md.contains("Insight versus simplicity") && md.contains("| + conditions |"));

    // A model fitted by least squares with a dummy for every age-sex cell,
    // socioeconomic level and condition predicts each such group's total
    // exactly (its weighted residuals sum to 0 within each dummy group).
    let fitted = &e["models"][0];
    assert_eq!(fitted["parameters"], 74);
    let mut checked = 0;
    for ratio in fitted["predictive_ratios"].as_array().unwrap() {
        let group = ratio["group"].as_str().unwrap();
        if [
            "age_band",
            "sex",
            "education",
            "income_quintile",
            "labour",
            "origin",
            "lives_alone",
            "condition",
        ]
        .contains(&group)
            && ratio["persons"].as_u64().unwrap() > 0
        {
            let r = ratio["ratio"].as_f64().unwrap();
            assert!((r - 1.0).abs() < 1e-9, "{group} {}: {r}", ratio["level"]);
            checked += 1;
        }
    }
    // 20 age bands, 2 sexes, 5 + 6 + 6 + 3 + 2 socioeconomic levels, 14 conditions.
    assert_eq!(checked, 58);
    // Groups without a dummy of their own are not exact, but close.
    let region = fitted["predictive_ratios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == "region" && r["persons"].as_u64().unwrap() > 0)
        .unwrap();
    assert!((region["ratio"].as_f64().unwrap() - 1.0).abs() < 0.1);

    // Nested least-squares fits: in-sample R² never falls down the ladder.
    let ladder = e["ladder"].as_array().unwrap();
    assert_eq!(ladder.len(), 4);
    let parameters: Vec<u64> = ladder
        .iter()
        .map(|r| r["parameters"].as_u64().unwrap())
        .collect();
    assert_eq!(parameters, [40, 57, 71, 74]);
    let r2: Vec<f64> = ladder
        .iter()
        .map(|r| r["in_sample"]["r2"].as_f64().unwrap())
        .collect();
    assert!(r2.windows(2).all(|w| w[1] >= w[0] - 1e-12), "{r2:?}");
    // The full rung is the fitted model itself.
    assert!((r2[3] - fitted["in_sample"]["r2"].as_f64().unwrap()).abs() < 1e-9);
    assert!(ladder[1]["proposal_change_from_previous"]["median"]
        .as_f64()
        .is_some());

    // The same population as the "next year": nothing moves.
    let stability = &e["stability"];
    assert_eq!(stability["median_abs_z"], 0.0);
    assert_eq!(stability["proposal_change"]["max"], 0.0);
}
