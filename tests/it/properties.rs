//! Invariants that must hold for any data and any model: weights average
//! exactly 1, a clinic's components add up to its need, proposals respect
//! floor, ceiling and transition cap, and sums do not depend on the
//! thread count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fordeling::domain::{Clinics, Geography, Kommune, Population};
use fordeling::model::{Link, Model, Package, ProposalRules, Threshold};
use fordeling::{compute, Inputs, RunParams, Source};
use proptest::prelude::*;
use std::path::PathBuf;

fn geography() -> Geography {
    Geography {
        kommuner: vec![
            Kommune {
                code: 101,
                name: "A".into(),
                sundhedsraad: 0,
                region: 0,
                area_index: Some(0.9),
            },
            Kommune {
                code: 751,
                name: "B".into(),
                sundhedsraad: 1,
                region: 1,
                area_index: Some(1.2),
            },
        ],
        sundhedsraad: vec!["S1".into(), "S2".into()],
        regions: vec!["R1".into(), "R2".into()],
    }
}

fn source() -> Source {
    Source {
        path: "mem".into(),
        rows: 0,
        sha256: String::new(),
    }
}

#[derive(Debug, Clone)]
struct Case {
    model: Model,
    clinics: Clinics,
    population: Population,
    year: i32,
}

fn model_strategy() -> impl Strategy<Value = Model> {
    (
        prop::collection::vec(-200.0..3000.0f64, 40),
        prop::collection::vec(-300.0..600.0f64, 26),
        prop::collection::vec(-500.0..2000.0f64, 3),
        (-100.0..500.0f64, -200.0..500.0f64, 1.0..20.0f64),
        (0.0..1200.0f64, 0.0..1.0f64, 1300.0..3000.0f64, 0.0..1.0f64),
        (
            -0.2..0.3f64,
            -0.2..0.3f64,
            0.5..1.5f64,
            prop::sample::select(vec![1i64, 5, 10, 50]),
        ),
        (-300.0..800.0f64, 0.5..2.0f64, 0.0..1.0f64),
        prop::bool::ANY,
    )
        .prop_map(
            |(
                age,
                socio,
                conditions,
                (mm, area, _),
                (floor, floor_on, ceiling, ceiling_on),
                (up, down, f, round_to),
                (add, multiply, phase),
                log,
            )| {
                let mut age_sex = [[0.0; 20]; 2];
                age_sex[0].copy_from_slice(&age[..20]);
                age_sex[1].copy_from_slice(&age[20..]);
                let scale = if log { 1.0 / 500.0 } else { 1.0 };
                let s = |k: usize| socio[k] * scale;
                Model {
                    id: "p".into(),
                    description: String::new(),
                    link: if log { Link::Log } else { Link::Identity },
                    outcome: "x".into(),
                    data_year: 2025,
                    age_sex: age_sex.map(|row| row.map(|v| v * scale)),
                    education: [0.0, s(0), s(1), s(2), s(3)],
                    income_quintile: [0.0, s(4), s(5), s(6), s(7), s(8)],
                    labour: [0.0, s(9), s(10), s(11), s(12), s(13)],
                    origin: [0.0, s(14), s(15)],
                    lives_alone: [0.0, s(16)],
                    socioeconomic_terms: [true; 5],
                    conditions: vec![
                        ("a".into(), conditions[0] * scale),
                        ("b".into(), conditions[1] * scale),
                        ("c".into(), conditions[2] * scale),
                    ],
                    multimorbidity: vec![Threshold {
                        at_least: 2,
                        add: mm * scale,
                    }],
                    area: Some(area * scale),
                    packages: vec![
                        Package {
                            id: "p1".into(),
                            start_year: 2027,
                            condition_mask: 1,
                            min_conditions: 0,
                            count_mask: u64::MAX,
                            count_top: 64,
                            add: add * scale,
                            multiply,
                            phase_in: vec![phase],
                        },
                        Package {
                            id: "p2".into(),
                            start_year: 2028,
                            condition_mask: 0,
                            min_conditions: 2,
                            count_mask: u64::MAX,
                            count_top: 64,
                            add: 0.0,
                            multiply: 1.0 / multiply,
                            phase_in: vec![],
                        },
                    ],
                    proposal: ProposalRules {
                        closing_fraction: f,
                        round_to,
                        min_per_capacity: if floor_on > 0.5 { floor } else { 0.0 },
                        max_per_capacity: if ceiling_on > 0.5 { ceiling } else { 0.0 },
                        max_increase: up,
                        max_decrease: down,
                        dialogue_threshold: 0.1,
                        uncertainty_threshold: 0.1,
                        load_level: Default::default(),
                    },
                    format2: None,
                }
            },
        )
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..6).prop_flat_map(|n_clinics| {
        (
            model_strategy(),
            prop::collection::vec(
                (0.2..4.0f64, 100.0..8000.0f64, prop::bool::ANY, 0u16..2),
                n_clinics,
            ),
            prop::collection::vec(
                (
                    0..n_clinics as u32,
                    0u16..2,
                    0u8..=120,
                    1u8..=2,
                    0u8..=4,
                    0u8..=5,
                    0u8..=5,
                    0u8..=2,
                    prop::bool::ANY,
                    0u64..8,
                ),
                1..200,
            ),
            2025i32..2032,
        )
            .prop_map(|(model, clinic_rows, person_rows, year)| {
                let mut clinics = Clinics::default();
                for (k, (d, previous, vulnerable, kommune)) in clinic_rows.into_iter().enumerate() {
                    clinics.clinic_id.push(k as i32 + 1);
                    clinics.kommune.push(kommune);
                    clinics.capacities.push(d);
                    clinics.previous_min_patients.push(previous.round());
                    clinics.previous_given.push(true);
                    clinics.vulnerable_area.push(vulnerable);
                }
                let mut population = Population::default();
                for (i, (clinic, kommune, age, sex, edu, inc, lab, ori, alone, cond)) in
                    person_rows.into_iter().enumerate()
                {
                    population.person_id.push(i as i64);
                    population.clinic.push(clinic);
                    population.kommune.push(kommune);
                    population.age.push(age);
                    population.sex.push(sex);
                    population.education.push(edu);
                    population.income_quintile.push(inc);
                    population.labour.push(lab);
                    population.origin.push(ori);
                    population.lives_alone.push(alone);
                    population.conditions.push(cond);
                }
                Case {
                    model,
                    clinics,
                    population,
                    year,
                }
            })
    })
}

fn inputs(case: &Case) -> Inputs {
    Inputs {
        model: fordeling::model::LoadedModel {
            model: case.model.clone(),
            path: PathBuf::from("mem.toml"),
            sha256: String::new(),
        },
        geography: geography(),
        geography_source: source(),
        clinics: case.clinics.clone(),
        clinics_source: source(),
        population: case.population.clone(),
        population_source: source(),
        nulls_mapped: [0; 5],
        nulls_as_unknown: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn weights_components_and_limits(case in case_strategy()) {
        let inputs = inputs(&case);
        let Ok(result) = compute(&inputs, &RunParams { year: case.year, capacity_total: None }) else {
            // Only a model that gives nobody any need may fail.
            return Ok(());
        };
        let n = case.population.len() as f64;
        let total: f64 = result.need.clinics.iter().map(|c| c.need).sum();
        prop_assert!((total - n).abs() <= 1e-9 * n, "Σ need {} vs {} persons", total, n);
        let rules = &case.model.proposal;
        for (c, (need, proposal)) in result.need.clinics.iter().zip(&result.proposals).enumerate() {
            let parts = need.components.total();
            prop_assert!((parts - need.need).abs() <= 1e-9 * need.need.abs().max(1.0),
                "clinic {}: parts {} vs need {}", c, parts, need.need);
            let Some(after_limits) = proposal.after_limits else {
                prop_assert!(need.n_patients == 0 && proposal.flags.empty);
                continue;
            };
            let d = case.clinics.capacities[c];
            let eps = 1e-9 * after_limits.abs().max(1.0);
            if after_limits.is_finite() {
                if rules.min_per_capacity > 0.0 {
                    prop_assert!(after_limits >= rules.min_per_capacity * d - eps);
                }
                if rules.max_per_capacity > 0.0 {
                    prop_assert!(after_limits <= rules.max_per_capacity * d + eps);
                }
            }
            let after_cap = proposal.after_cap.unwrap();
            let previous = case.clinics.previous_min_patients[c];
            if rules.max_decrease >= 0.0 {
                prop_assert!(after_cap >= previous * (1.0 - rules.max_decrease) - eps);
            }
            if rules.max_increase >= 0.0 {
                prop_assert!(after_cap <= previous * (1.0 + rules.max_increase) + eps);
            }
            prop_assert_eq!(proposal.flags.capped, after_cap != after_limits);
            if let Some(count) = proposal.min_patients {
                prop_assert_eq!(count % rules.round_to, 0);
                prop_assert!((count as f64 - after_cap).abs() <= rules.round_to as f64 / 2.0 + eps);
            }
        }
    }
}

/// The year-independent basis gives what a plain pass over the persons
/// gives (a second implementation here: each person's need from
/// `YearTables::person`, summed per clinic and kommune, the spread in two
/// passes), clipped persons included.
fn check_basis(case: &Case) -> Result<(), TestCaseError> {
    let inputs = inputs(case);
    let tables = fordeling::weights::YearTables::new(
        &case.model,
        &inputs.geography,
        case.year,
        std::path::Path::new("m"),
    )
    .unwrap();
    let population = &inputs.population;
    let n_clinics = inputs.clinics.len();
    let needs: Vec<_> = (0..population.len())
        .map(|i| tables.person(population, i))
        .collect();
    let clipped = needs.iter().filter(|n| n.clipped).count() as u64;
    let basis = fordeling::aggregate::Basis::new(&tables, population, n_clinics, 2);
    let sums = basis.year_sums(&tables);
    prop_assert_eq!(sums.clipped, clipped);
    prop_assert_eq!(sums.persons, population.len() as u64);
    for (c, a) in sums.clinics.iter().enumerate() {
        let mine: Vec<usize> = (0..population.len())
            .filter(|&i| population.clinic[i] as usize == c)
            .collect();
        let raw: f64 = mine.iter().map(|&i| needs[i].raw).sum();
        let packages: f64 = mine.iter().map(|&i| needs[i].components.packages).sum();
        let mean = raw / mine.len().max(1) as f64;
        let m2: f64 = mine.iter().map(|&i| (needs[i].raw - mean).powi(2)).sum();
        let scale = raw.abs().max(1.0) * 1e-9;
        prop_assert_eq!(a.n, mine.len() as u64);
        prop_assert!((a.raw - raw).abs() <= scale, "raw {} vs {}", a.raw, raw);
        prop_assert!(
            (a.components.packages - packages).abs() <= scale,
            "packages {} vs {}",
            a.components.packages,
            packages
        );
        prop_assert!(
            (a.m2 - m2).abs() <= 1e-7 * m2.abs().max(1.0),
            "m2 {} vs {}",
            a.m2,
            m2
        );
    }
    for (k, a) in sums.kommune_raw.iter().enumerate() {
        let raw: f64 = (0..population.len())
            .filter(|&i| usize::from(population.kommune[i]) == k)
            .map(|i| needs[i].raw)
            .sum();
        prop_assert!((a - raw).abs() <= raw.abs().max(1.0) * 1e-9);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The year-independent basis gives what a plain pass over the persons
    /// gives (a second implementation here: each person's need from
    /// `YearTables::person`, summed per clinic and kommune, the spread in
    /// two passes), clipped persons included: the models drawn here have
    /// negative coefficients and package additions, so some needs clip.
    #[test]
    fn basis_matches_a_pass_over_persons(case in case_strategy()) {
        check_basis(&case)?;
    }

    /// The same at the edge of the word sums: a model scaled so that its
    /// `term_bound` is just below or just above half the word range
    /// (`exact::WORD / 2`), where the pass stops or starts checking each
    /// block (debug builds also sweep the unchecked blocks).
    #[test]
    fn basis_matches_a_pass_over_persons_at_the_word_bound(
        case in case_strategy(),
        f in 0.98..1.02f64,
    ) {
        let mut case = case;
        let m = &mut case.model;
        if m.link == Link::Log {
            return Ok(());
        }
        let tables = fordeling::weights::YearTables::new(m, &geography(), case.year, std::path::Path::new("m")).unwrap();
        let bound = tables.term_bound().unwrap();
        prop_assume!(bound > 0.0);
        let k = f * fordeling::exact::WORD / 2.0 / bound;
        for row in m.age_sex.iter_mut() {
            row.iter_mut().for_each(|v| *v *= k);
        }
        for table in [&mut m.education[..], &mut m.income_quintile[..], &mut m.labour[..], &mut m.origin[..], &mut m.lives_alone[..]] {
            table.iter_mut().for_each(|v| *v *= k);
        }
        m.conditions.iter_mut().for_each(|(_, v)| *v *= k);
        m.multimorbidity.iter_mut().for_each(|t| t.add *= k);
        m.area = m.area.map(|a| a * k);
        m.packages.iter_mut().for_each(|p| p.add *= k);
        check_basis(&case)?;
    }
}

#[test]
fn sums_do_not_depend_on_thread_count() {
    // Several aggregation blocks, so block merging is exercised.
    let spec = fordeling::synth::SynthSpec::national(7, 0.05).unwrap();
    let model = Model::parse(
        fordeling::synth::TRUTH_MODEL.as_bytes(),
        std::path::Path::new("t"),
    )
    .unwrap();
    let geography = fordeling::ingest::geography::built_in().unwrap();
    let (population, synth_clinics, _) =
        fordeling::synth::generate(&spec, &model, &geography).unwrap();
    let clinics = Clinics {
        clinic_id: synth_clinics.clinic_id.clone(),
        kommune: synth_clinics
            .kommune
            .iter()
            .map(|&k| geography.kommune_index(k).unwrap())
            .collect(),
        capacities: synth_clinics.capacities.clone(),
        capacities_given: synth_clinics.capacities.clone(),
        capacity_adjustment: vec![0.0; synth_clinics.clinic_id.len()],
        previous_min_patients: synth_clinics
            .previous_min_patients
            .iter()
            .map(|&p| f64::from(p))
            .collect(),
        previous_given: vec![true; synth_clinics.clinic_id.len()],
        vulnerable_area: synth_clinics.vulnerable_area.clone(),
    };
    let case_inputs = Inputs {
        model: fordeling::model::LoadedModel {
            model,
            path: PathBuf::from("t"),
            sha256: String::new(),
        },
        geography,
        geography_source: source(),
        clinics,
        clinics_source: source(),
        population,
        population_source: source(),
        nulls_mapped: [0; 5],
        nulls_as_unknown: false,
    };
    assert!(case_inputs.population.len() > 4 * fordeling::domain::BLOCK);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            compute(
                &case_inputs,
                &RunParams {
                    year: 2031,
                    capacity_total: None,
                },
            )
            .unwrap()
        })
    };
    let one = run(1);
    let four = run(4);
    for (a, b) in one.need.clinics.iter().zip(&four.need.clinics) {
        assert_eq!(a.need.to_bits(), b.need.to_bits());
        assert_eq!(a.sd_weight.map(f64::to_bits), b.sd_weight.map(f64::to_bits));
    }
    assert_eq!(one.proposals, four.proposals);
    assert_eq!(one.areas, four.areas);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Looking a condition mask's terms up in the table gives the very
    /// bits of computing them per person (the table serves large row
    /// groups, which the small cases here would not reach on their own).
    #[test]
    fn mask_table_gives_the_same_bits(case in case_strategy()) {
        let inputs = inputs(&case);
        let tables = fordeling::weights::YearTables::new(&case.model, &inputs.geography, case.year, std::path::Path::new("m")).unwrap();
        let table = tables.mask_table().expect("at most 16 conditions");
        for i in 0..inputs.population.person_id.len() {
            let direct = tables.base(&inputs.population, i);
            let looked_up = tables.base_from_table(table, &inputs.population, i);
            prop_assert_eq!(direct.signature, looked_up.signature);
            prop_assert_eq!(direct.need.to_bits(), looked_up.need.to_bits());
            prop_assert_eq!(format!("{:?}", direct.components), format!("{:?}", looked_up.components));
        }
        // And so does the block loop (`bases`, which the pass over persons
        // calls), with the table and without, from any start.
        let n = inputs.population.person_id.len();
        for start in [0, n / 3] {
            let len = (n - start).min(fordeling::terms::BLOCK_PERSONS);
            for table in [Some(table), None] {
                let mut block = vec![fordeling::weights::BaseNeed::default(); len];
                tables.bases(table, &inputs.population, start, &mut block);
                for (j, got) in block.iter().enumerate() {
                    let direct = tables.base(&inputs.population, start + j);
                    prop_assert_eq!(got.signature, direct.signature);
                    prop_assert_eq!(got.need.to_bits(), direct.need.to_bits());
                    prop_assert_eq!(format!("{:?}", got.components), format!("{:?}", direct.components));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `term_bound` bounds every base need and part of any person, with
    /// any byte in any column and every condition set (the pass over
    /// persons skips its check of each block when the bound is small), and
    /// is the sum of the model's largest magnitudes, term by term. The log
    /// link and a coefficient that is not finite give none.
    #[test]
    fn term_bound_bounds_every_person(case in case_strategy(), bytes in prop::collection::vec(any::<[u8; 7]>(), 1..50)) {
        let inputs = inputs(&case);
        let tables = fordeling::weights::YearTables::new(&case.model, &inputs.geography, case.year, std::path::Path::new("m")).unwrap();
        let Some(bound) = tables.term_bound() else {
            prop_assert_eq!(case.model.link, Link::Log);
            return Ok(());
        };
        prop_assert_eq!(case.model.link, Link::Identity);
        let mut population = inputs.population.clone();
        for (i, b) in bytes.iter().enumerate() {
            let i = i % population.len();
            population.age[i] = b[0];
            population.sex[i] = b[1];
            population.education[i] = b[2];
            population.income_quintile[i] = b[3];
            population.labour[i] = b[4];
            population.origin[i] = b[5];
            population.conditions[i] = if b[6] & 1 == 1 { u64::MAX } else { u64::from(b[6]) };
        }
        let slack = bound * (1.0 + 1e-12);
        for i in 0..population.len() {
            let base = tables.base(&population, i);
            prop_assert!(base.need.abs() <= slack, "need {} above bound {}", base.need, bound);
            for part in base.components.terms() {
                prop_assert!(part.abs() <= slack, "part {} above bound {}", part, bound);
            }
        }
        // The bound, independently: each table's largest magnitude.
        let m = &case.model;
        let largest = |t: &[f64]| t.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let by_hand = largest(&m.age_sex[0]).max(largest(&m.age_sex[1]))
            + largest(&m.education) + largest(&m.income_quintile) + largest(&m.labour)
            + largest(&m.origin) + largest(&m.lives_alone)
            + m.conditions.iter().map(|(_, c)| c.abs()).sum::<f64>()
            + m.multimorbidity.iter().map(|t| t.add.abs()).sum::<f64>()
            + m.area.map_or(0.0, |a| (0..inputs.geography.kommuner.len())
                .map(|k| (a * inputs.geography.kommuner[k].area_index.unwrap_or(0.0)).abs())
                .fold(0.0, f64::max));
        prop_assert!((bound - by_hand).abs() <= 1e-9 * by_hand.max(1.0), "bound {} vs {}", bound, by_hand);
        let mut broken = case.model.clone();
        broken.labour[3] = f64::NAN;
        let tables = fordeling::weights::YearTables::new(&broken, &inputs.geography, case.year, std::path::Path::new("m")).unwrap();
        prop_assert_eq!(tables.term_bound(), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A format-1 model and its conversion to format 2 (read back from its
    /// TOML) give the same bits: every person's base need, parts and
    /// package signature, and every clinic's and kommune's sums of the
    /// year, for random models, persons and years.
    #[test]
    fn a_format1_model_and_its_conversion_give_identical_bits(case in case_strategy()) {
        let inputs = inputs(&case);
        let spec = case.model.spec().unwrap();
        let text = spec.to_toml();
        let spec = fordeling::model::format2::parse(&text, std::path::Path::new("converted.toml")).unwrap();
        let names: Vec<&str> = case.model.conditions.iter().map(|(n, _)| n.as_str()).collect();
        let mut laid_out = fordeling::synth::truth_population(&spec, &case.population, None, &names).unwrap();
        laid_out.person_id = case.population.person_id.clone();
        laid_out.clinic = case.population.clinic.clone();
        let converted = Model::from_spec(spec);
        let path = std::path::Path::new("m");
        let one = fordeling::weights::YearTables::new(&case.model, &inputs.geography, case.year, path).unwrap();
        let two = fordeling::weights::YearTables::new(&converted, &inputs.geography, case.year, path).unwrap();
        for i in 0..case.population.len() {
            let (a, b) = (one.base(&case.population, i), two.base(&laid_out, i));
            prop_assert_eq!(a.signature, b.signature);
            prop_assert_eq!(a.need.to_bits(), b.need.to_bits(), "person {}", i);
            prop_assert_eq!(format!("{:?}", a.components), format!("{:?}", b.components));
        }
        let (clinics, kommuner) = (inputs.clinics.len(), inputs.geography.kommuner.len());
        let sums_one = fordeling::aggregate::Basis::new(&one, &case.population, clinics, kommuner).year_sums(&one);
        let sums_two = fordeling::aggregate::Basis::new(&two, &laid_out, clinics, kommuner).year_sums(&two);
        prop_assert_eq!(format!("{sums_one:?}"), format!("{sums_two:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The year's sums do not depend on the order of the rows nor on how
    /// they are split into row groups (exact fixed-point sums): a random
    /// permutation and random row-group boundaries give the same bits.
    #[test]
    fn sums_do_not_depend_on_row_order_or_row_groups(
        case in case_strategy(),
        seed in 0u64..u64::MAX,
        cuts in prop::collection::vec(0usize..200, 0..6),
        big in prop::option::of(0usize..20),
    ) {
        let mut case = case;
        if let (Some(band), Link::Identity) = (big, case.model.link) {
            // Needs beyond the word sums' range (`exact::WORD`, 2^24): the
            // blocks holding them take the general loop, so a permutation
            // moves persons between the two ways of adding.
            case.model.age_sex[0][band] = 3.0e7;
            case.model.age_sex[1][band] = -2.5e7;
        }
        let inputs = inputs(&case);
        let tables = fordeling::weights::YearTables::new(&case.model, &inputs.geography, case.year, std::path::Path::new("m")).unwrap();
        let (clinics, kommuner) = (inputs.clinics.len(), inputs.geography.kommuner.len());
        let n = case.population.len();
        // A permutation from the seed (Fisher-Yates with SplitMix64).
        let mut order: Vec<usize> = (0..n).collect();
        let mut z = seed;
        for i in (1..n).rev() {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^= x >> 31;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let p = &case.population;
        let mut shuffled = Population {
            person_id: order.iter().map(|&i| p.person_id[i]).collect(),
            clinic: order.iter().map(|&i| p.clinic[i]).collect(),
            kommune: order.iter().map(|&i| p.kommune[i]).collect(),
            age: order.iter().map(|&i| p.age[i]).collect(),
            sex: order.iter().map(|&i| p.sex[i]).collect(),
            education: order.iter().map(|&i| p.education[i]).collect(),
            income_quintile: order.iter().map(|&i| p.income_quintile[i]).collect(),
            labour: order.iter().map(|&i| p.labour[i]).collect(),
            origin: order.iter().map(|&i| p.origin[i]).collect(),
            lives_alone: order.iter().map(|&i| p.lives_alone[i]).collect(),
            conditions: order.iter().map(|&i| p.conditions[i]).collect(),
            ..Population::default()
        };
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % (n + 1)).collect();
        bounds.push(0);
        bounds.push(n);
        bounds.sort_unstable();
        bounds.dedup();
        shuffled.row_groups = bounds.windows(2).map(|w| w[1] - w[0]).collect();
        let one = fordeling::aggregate::Basis::new(&tables, p, clinics, kommuner).year_sums(&tables);
        let two = fordeling::aggregate::Basis::new(&tables, &shuffled, clinics, kommuner).year_sums(&tables);
        prop_assert_eq!(format!("{one:?}"), format!("{two:?}"));
    }
}
