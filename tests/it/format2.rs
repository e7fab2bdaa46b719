//! Format-2 model files (SPEC 3.1) end to end: a hand-worked golden case;
//! a second, naive implementation of format 2 (its own TOML reading, per
//! person, per term) compared with the engine on random format-2 models
//! and populations over several years; a format-1 model and its
//! conversion giving identical bytes; and one test per kind of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use arrow::array::ArrayRef;
use std::collections::BTreeMap;
use std::path::Path;

const PROPOSAL: &str = "[proposal]\nclosing_fraction = 1.0\nround_to = 10\nmin_per_capacity = 0\nmax_per_capacity = 0\nmax_increase = -1\nmax_decrease = -1\ndialogue_threshold = 0.1\nuncertainty_threshold = 0.1\n";

/// The golden model: an interaction (`cond_a × age_band`), a band
/// variable with uneven edges (0-1, 2-17, 18-64, 65+), a count of four
/// flags top-coded at 2, a hierarchy (`cond_c` drops `cond_b`), a numeric
/// population column (`deprivation`) and a package on the count.
const GOLDEN: &str = r#"
[model]
format = 2
id = "golden-2"
link = "identity"
outcome = "dkk"
data_year = 2025

[variables]
sex = { levels = [1, 2] }
age_band = { column = "age", edges = [0, 2, 18, 65] }
n_cond = { count = ["cond_a", "cond_b", "cond_c", "cond_d"], top = 2 }

[[hierarchies]]
if = "cond_c"
drop = ["cond_b"]

[[terms]]
id = "base"
component = "age_sex"
by = ["sex", "age_band"]
values = [[100, 40, 50, 90], [110, 45, 70, 95]]

[[terms]]
id = "a_by_age"
component = "conditions"
by = ["cond_a", "age_band"]
values = [[0, 0, 0, 0], [0, 5, 20, 30]]

[[terms]]
id = "b"
component = "conditions"
by = ["cond_b"]
values = [0, 15]

[[terms]]
id = "c"
component = "conditions"
by = ["cond_c"]
values = [0, 25]

[[terms]]
id = "mm"
component = "multimorbidity"
by = ["n_cond"]
values = [0, 0, 12]

[[terms]]
id = "deprivation"
component = "socioeconomic"
numeric = "deprivation"
coefficient = 10.0

[[packages]]
id = "multi"
start_year = 2027
count_at_least = { variable = "n_cond", value = 2 }
add = 8.0
"#;

/// One person of the golden population.
struct P {
    clinic: i32,
    kommune: i16,
    age: i16,
    sex: i16,
    flags: [bool; 4],
    deprivation: f64,
}

fn golden_persons() -> Vec<P> {
    let p = |clinic, kommune, age, sex, flags, deprivation| P {
        clinic,
        kommune,
        age,
        sex,
        flags,
        deprivation,
    };
    vec![
        p(11, 101, 1, 1, [false, false, false, false], 0.5),
        p(11, 101, 70, 2, [true, true, false, false], 1.0),
        p(11, 751, 30, 1, [false, true, true, false], 2.0),
        p(22, 751, 2, 2, [true, true, true, false], 0.0),
        p(22, 101, 17, 1, [true, true, false, true], 0.2),
        p(22, 751, 64, 2, [false; 4], 1.5),
    ]
}

fn golden_columns(persons: &[P]) -> Vec<(&'static str, ArrayRef)> {
    let flag = |k: usize| bools(&persons.iter().map(|p| p.flags[k]).collect::<Vec<_>>());
    vec![
        (
            "person_id",
            i64s(&(1..=persons.len() as i64).collect::<Vec<_>>()),
        ),
        (
            "clinic_id",
            i32s(&persons.iter().map(|p| p.clinic).collect::<Vec<_>>()),
        ),
        (
            "kommune",
            i16s(&persons.iter().map(|p| p.kommune).collect::<Vec<_>>()),
        ),
        (
            "age",
            i16s(&persons.iter().map(|p| p.age).collect::<Vec<_>>()),
        ),
        (
            "sex",
            i16s(&persons.iter().map(|p| p.sex).collect::<Vec<_>>()),
        ),
        ("cond_a", flag(0)),
        ("cond_b", flag(1)),
        ("cond_c", flag(2)),
        ("cond_d", flag(3)),
        (
            "deprivation",
            f64s(&persons.iter().map(|p| p.deprivation).collect::<Vec<_>>()),
        ),
    ]
}

/// Writes a model, population and two clinics; runs `run` for `year`.
fn run_model(
    dir: &Path,
    model: &str,
    population: Vec<(&str, ArrayRef)>,
    year: i32,
) -> std::process::Output {
    std::fs::write(dir.join("model.toml"), model).unwrap();
    write_parquet(&dir.join("population.parquet"), population);
    write_parquet(&dir.join("clinics.parquet"), small_clinic_columns());
    run_in(
        dir,
        &[
            "run",
            "--population",
            "population.parquet",
            "--clinics",
            "clinics.parquet",
            "--model",
            "model.toml",
            "--year",
            &year.to_string(),
            "--out",
            "out",
        ],
    )
}

#[test]
fn golden_format2_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let model = format!("{GOLDEN}\n{PROPOSAL}");
    let output = run_model(dir.path(), &model, golden_columns(&golden_persons()), 2027);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // By hand, person by person (cells: base[sex][band], a_by_age[a][band],
    // b, c, mm[min(count, 2)], 10 × deprivation, package +8 when count ≥ 2):
    // 1: male, age 1 (band 0), no flags:          100 + 5                        = 105
    // 2: female, 70 (band 3), a, b; count 2:       95 + 30 + 15 + 12 + 10 + 8    = 170
    // 3: male, 30 (band 2), b, c: c drops b;
    //    count 1 (a no, b dropped, c):             50 + 25 + 20                  =  95
    // 4: female, 2 (band 1), a, b, c: b dropped;
    //    count 2:                                  45 + 5 + 25 + 12 + 0 + 8      =  95
    // 5: male, 17 (band 1), a, b, d: count 3,
    //    top-coded at 2:                           40 + 5 + 15 + 12 + 2 + 8      =  82
    // 6: female, 64 (band 2), none:                70 + 15                       =  85
    // Total 632, mean 632/6. Clinic 11 = persons 1-3 (raw 370), 22 = 4-6 (262).
    let mean = 632.0 / 6.0;
    let clinics = Csv::read(&dir.path().join("out/clinics.csv"));
    for (id, raw, parts) in [
        // age_sex, socioeconomic, conditions, multimorbidity, area, packages
        (11, 370.0, [245.0, 35.0, 70.0, 12.0, 0.0, 8.0]),
        (22, 262.0, [155.0, 17.0, 50.0, 24.0, 0.0, 16.0]),
    ] {
        let r = clinics.find("clinic_id", &id.to_string());
        assert_eq!(clinics.get(r, "n_patients"), "3");
        assert_close(clinics.f64(r, "need").unwrap(), raw / mean, "need");
        for (name, part) in [
            "need_age_sex",
            "need_socioeconomic",
            "need_conditions",
            "need_multimorbidity",
            "need_area",
            "need_packages",
        ]
        .iter()
        .zip(parts)
        {
            let got = clinics.f64(r, name).unwrap();
            assert!(
                (got - part / mean).abs() < 1e-12,
                "clinic {id} {name}: {got} vs {}",
                part / mean
            );
        }
    }
    // Before the package's start year, the count adds nothing: 632 - 24.
    let dir = tempfile::tempdir().unwrap();
    let output = run_model(dir.path(), &model, golden_columns(&golden_persons()), 2026);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let clinics = Csv::read(&dir.path().join("out/clinics.csv"));
    let r = clinics.find("clinic_id", "11");
    assert_close(
        clinics.f64(r, "need").unwrap(),
        362.0 / (608.0 / 6.0),
        "need 2026",
    );
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A random format-2 model over the columns of `random_population`.
fn random_model(rng: &mut Rng) -> String {
    let mut edges = vec![0i64];
    for _ in 0..(2 + rng.below(6)) {
        let last = *edges.last().unwrap();
        edges.push(last + 1 + rng.below(25) as i64);
    }
    let bands = edges.len();
    let top = 1 + rng.below(4);
    let values = |rng: &mut Rng, n: usize, scale: f64| -> String {
        let v: Vec<String> = (0..n)
            .map(|_| format!("{:.3}", (rng.unit() - 0.3) * scale))
            .collect();
        format!("[{}]", v.join(", "))
    };
    let base: Vec<String> = (0..2)
        .map(|_| {
            let v: Vec<String> = (0..bands)
                .map(|_| format!("{:.2}", 400.0 + rng.unit() * 1000.0))
                .collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    let hierarchy = if rng.chance(0.7) {
        "[[hierarchies]]\nif = \"cond_c\"\ndrop = [\"cond_b\", \"cond_d\"]\n"
    } else {
        ""
    };
    let interaction: Vec<String> = (0..2)
        .map(|a| {
            if a == 0 {
                format!("[{}]", vec!["0"; bands].join(", "))
            } else {
                values(rng, bands, 300.0)
            }
        })
        .collect();
    let civil_by_sex: Vec<String> = (0..4).map(|_| values(rng, 2, 80.0)).collect();
    let link = if rng.chance(0.3) { "log" } else { "identity" };
    let mut text = format!(
        r#"[model]
format = 2
id = "random"
link = "{link}"
outcome = "dkk"
data_year = 2025

[variables]
sex = {{ levels = [1, 2] }}
age_band = {{ column = "age", edges = {edges:?} }}
civil = {{ column = "civil_status", levels = [1, 3, 5, 7] }}
decile = {{ column = "income_decile", levels = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }}
n_cond = {{ count = ["cond_a", "cond_b", "cond_c", "cond_d"], top = {top} }}

{hierarchy}
[[terms]]
id = "age_sex"
component = "age_sex"
by = ["sex", "age_band"]
values = [{}]

[[terms]]
id = "decile"
component = "socioeconomic"
by = ["decile"]
values = {}

[[terms]]
id = "civil_by_sex"
component = "socioeconomic"
by = ["civil", "sex"]
values = [{}]

[[terms]]
id = "nursing_home"
component = "socioeconomic"
by = ["nursing_home"]
values = {}

[[terms]]
id = "a_by_age"
component = "conditions"
by = ["cond_a", "age_band"]
values = [{}]

[[terms]]
id = "b"
component = "conditions"
by = ["cond_b"]
values = {}

[[terms]]
id = "c"
component = "conditions"
by = ["cond_c"]
values = {}

[[terms]]
id = "n_cond"
component = "multimorbidity"
by = ["n_cond"]
values = {}

[[terms]]
id = "deprivation"
component = "area"
numeric = "deprivation"
coefficient = {:.3}

[[terms]]
id = "area"
component = "area"
numeric = "area_index"
coefficient = {:.3}

[[packages]]
id = "b_package"
start_year = 2027
any_of = ["cond_b", "cond_d"]
add = {:.2}
multiply = {:.3}
phase_in = [0.5]

[[packages]]
id = "count_package"
start_year = 2029
count_at_least = {{ variable = "n_cond", value = {} }}
add = {:.2}
multiply = 1.05
"#,
        base.join(", "),
        values(rng, 10, 120.0),
        civil_by_sex.join(", "),
        values(rng, 2, 200.0),
        interaction.join(", "),
        values(rng, 2, 400.0),
        values(rng, 2, 400.0),
        values(rng, top as usize + 1, 150.0),
        rng.unit() * 40.0,
        rng.unit() * 200.0,
        rng.unit() * 300.0 - 100.0,
        0.8 + rng.unit() * 0.4,
        1 + rng.below(top),
        rng.unit() * 200.0,
    );
    if link == "log" {
        // Coefficients on the log scale: shrink every number of the terms.
        text = shrink_for_log(&text);
    }
    format!("{text}\n{PROPOSAL}")
}

/// Divides the numbers of `values` and `coefficient` lines by 1000 and
/// adds 7 to the first term's cells (exp(7) ≈ 1100), for the log link.
fn shrink_for_log(text: &str) -> String {
    let mut out = String::new();
    let mut first_values = true;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("values = ") {
            let shift = if first_values { 7.0 } else { 0.0 };
            first_values = false;
            let mut number = String::new();
            let mut rewritten = String::new();
            for ch in rest.chars().chain(std::iter::once(' ')) {
                if ch.is_ascii_digit() || ch == '.' || ch == '-' {
                    number.push(ch);
                } else {
                    if !number.is_empty() {
                        let v: f64 = number.parse().unwrap();
                        rewritten.push_str(&format!("{:.6}", v / 1000.0 + shift));
                        number.clear();
                    }
                    rewritten.push(ch);
                }
            }
            out.push_str(&format!("values = {}\n", rewritten.trim_end()));
        } else if let Some(rest) = line.strip_prefix("coefficient = ") {
            let v: f64 = rest.parse().unwrap();
            out.push_str(&format!("coefficient = {:.6}\n", v / 1000.0));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Kommune codes and area indices of the built-in geography.
fn area_index() -> BTreeMap<i64, f64> {
    std::fs::read_to_string(repo().join("data/geography-dk-2027.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect()
}

/// A random population with the columns of a richer model, as plain
/// vectors (name → values), and its Parquet columns.
struct Population {
    ints: BTreeMap<String, Vec<i64>>,
    floats: BTreeMap<String, Vec<f64>>,
}

fn random_population(rng: &mut Rng, n: usize, kommuner: &[i64]) -> Population {
    let mut ints: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut floats: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for i in 0..n {
        let mut put = |k: &str, v: i64| ints.entry(k.to_string()).or_default().push(v);
        put("person_id", 1000 + i as i64 * 3);
        put("clinic_id", [11, 22][rng.below(2) as usize]);
        put(
            "kommune",
            kommuner[rng.below(kommuner.len() as u64) as usize],
        );
        put("age", rng.below(106) as i64);
        put("sex", 1 + rng.below(2) as i64);
        put("civil_status", [1, 3, 5, 7][rng.below(4) as usize]);
        put("income_decile", 1 + rng.below(10) as i64);
        put("nursing_home", i64::from(rng.chance(0.03)));
        for (name, p) in [
            ("cond_a", 0.2),
            ("cond_b", 0.3),
            ("cond_c", 0.15),
            ("cond_d", 0.25),
        ] {
            put(name, i64::from(rng.chance(p)));
        }
        floats
            .entry("deprivation".into())
            .or_default()
            .push(rng.unit() * 3.0 - 1.0);
    }
    Population { ints, floats }
}

impl Population {
    fn columns(&self) -> Vec<(&'static str, ArrayRef)> {
        let int = |k: &str| &self.ints[k];
        let narrow16 = |k: &str| i16s(&int(k).iter().map(|&v| v as i16).collect::<Vec<_>>());
        let flag = |k: &str| bools(&int(k).iter().map(|&v| v == 1).collect::<Vec<_>>());
        vec![
            ("person_id", i64s(int("person_id"))),
            (
                "clinic_id",
                i32s(
                    &int("clinic_id")
                        .iter()
                        .map(|&v| v as i32)
                        .collect::<Vec<_>>(),
                ),
            ),
            ("kommune", narrow16("kommune")),
            ("age", narrow16("age")),
            ("sex", narrow16("sex")),
            ("civil_status", i64s(int("civil_status"))),
            ("income_decile", narrow16("income_decile")),
            ("nursing_home", flag("nursing_home")),
            ("cond_a", flag("cond_a")),
            ("cond_b", flag("cond_b")),
            ("cond_c", flag("cond_c")),
            ("cond_d", flag("cond_d")),
            ("deprivation", f64s(&self.floats["deprivation"])),
        ]
    }
}

fn num(v: &toml::Value) -> f64 {
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .unwrap()
}

/// The naive implementation: SPEC 3.1 and section 4 read literally, per
/// person and per term, from the model's TOML. Returns per clinic id the
/// count, need and the six components in weight units, and per kommune
/// the need.
#[allow(clippy::type_complexity)]
fn naive(
    model: &toml::Value,
    people: &Population,
    area: &BTreeMap<i64, f64>,
    year: i64,
) -> (BTreeMap<i64, (usize, f64, [f64; 6])>, BTreeMap<i64, f64>) {
    let n = people.ints["person_id"].len();
    let variables = model["variables"].as_table().unwrap();
    let hierarchies = model
        .get("hierarchies")
        .and_then(|h| h.as_array())
        .cloned()
        .unwrap_or_default();
    // A flag after hierarchies.
    let flag = |name: &str, i: usize| -> i64 {
        let dropped = hierarchies.iter().any(|h| {
            people.ints[h["if"].as_str().unwrap()][i] == 1
                && h["drop"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d.as_str() == Some(name))
        });
        if dropped {
            0
        } else {
            people.ints[name][i]
        }
    };
    let level = |name: &str, i: usize| -> usize {
        let Some(v) = variables.get(name) else {
            return flag(name, i) as usize;
        };
        if let Some(levels) = v.get("levels") {
            let column = v.get("column").and_then(|c| c.as_str()).unwrap_or(name);
            let value = people.ints[column][i];
            return levels
                .as_array()
                .unwrap()
                .iter()
                .position(|l| l.as_integer() == Some(value))
                .unwrap();
        }
        if let Some(edges) = v.get("edges") {
            let value = people.ints[v["column"].as_str().unwrap()][i];
            let edges = edges.as_array().unwrap();
            return edges
                .iter()
                .rposition(|e| e.as_integer().unwrap() <= value)
                .unwrap();
        }
        let count: i64 = v["count"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| flag(f.as_str().unwrap(), i))
            .sum();
        count.min(v["top"].as_integer().unwrap()) as usize
    };
    let component_index = |c: &str| -> usize {
        [
            "age_sex",
            "socioeconomic",
            "conditions",
            "multimorbidity",
            "area",
        ]
        .iter()
        .position(|x| *x == c)
        .unwrap()
    };
    let log = model["model"]["link"].as_str() == Some("log");
    let mut raw = vec![0.0; n];
    let mut parts = vec![[0.0; 6]; n];
    for i in 0..n {
        let mut terms = [0.0; 5];
        for term in model["terms"].as_array().unwrap() {
            let c = component_index(term["component"].as_str().unwrap());
            if let Some(column) = term.get("numeric") {
                let column = column.as_str().unwrap();
                let x = if column == "area_index" {
                    area[&people.ints["kommune"][i]]
                } else {
                    people.floats[column][i]
                };
                terms[c] += num(&term["coefficient"]) * x;
                continue;
            }
            let mut cell = &term["values"];
            for name in term["by"].as_array().unwrap() {
                cell = &cell.as_array().unwrap()[level(name.as_str().unwrap(), i)];
            }
            terms[c] += num(cell);
        }
        let eta: f64 = terms.iter().sum();
        let base = if log { eta.exp() } else { eta };
        let mut r = base;
        for package in model
            .get("packages")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default()
        {
            let start = package["start_year"].as_integer().unwrap();
            if year < start {
                continue;
            }
            let share = package
                .get("phase_in")
                .and_then(|p| p.as_array())
                .and_then(|p| p.get((year - start) as usize).map(num))
                .unwrap_or(1.0);
            let by_flag = package
                .get("any_of")
                .and_then(|a| a.as_array())
                .is_some_and(|a| a.iter().any(|f| flag(f.as_str().unwrap(), i) == 1));
            let by_count = package.get("count_at_least").is_some_and(|rule| {
                level(rule["variable"].as_str().unwrap(), i) as i64
                    >= rule["value"].as_integer().unwrap()
            });
            if by_flag || by_count {
                let add = package.get("add").map(num).unwrap_or(0.0);
                let multiply = package.get("multiply").map(num).unwrap_or(1.0);
                r += share * add;
                r *= 1.0 + share * (multiply - 1.0);
            }
        }
        if r < 0.0 {
            continue;
        }
        raw[i] = r;
        let scale = if log && eta != 0.0 { base / eta } else { 1.0 };
        for c in 0..5 {
            parts[i][c] = terms[c] * scale;
        }
        parts[i][5] = r - base;
    }
    let mean = raw.iter().sum::<f64>() / n as f64;
    let mut clinics: BTreeMap<i64, (usize, f64, [f64; 6])> = BTreeMap::new();
    let mut kommuner: BTreeMap<i64, f64> = BTreeMap::new();
    for i in 0..n {
        let entry = clinics.entry(people.ints["clinic_id"][i]).or_default();
        entry.0 += 1;
        entry.1 += raw[i] / mean;
        for (sum, part) in entry.2.iter_mut().zip(parts[i]) {
            *sum += part / mean;
        }
        *kommuner.entry(people.ints["kommune"][i]).or_default() += raw[i] / mean;
    }
    (clinics, kommuner)
}

#[test]
fn engine_matches_naive_format2_on_random_models() {
    let area = area_index();
    let kommuner: Vec<i64> = area.keys().copied().take(12).collect();
    for seed in 0..6u64 {
        let mut rng = Rng(seed * 7919 + 1);
        let model_text = random_model(&mut rng);
        let people = random_population(&mut rng, 1500 + 300 * seed as usize, &kommuner);
        let model: toml::Value = toml::from_str(&model_text)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{model_text}"));
        for year in [2026, 2027, 2028, 2031] {
            let dir = tempfile::tempdir().unwrap();
            let output = run_model(dir.path(), &model_text, people.columns(), year);
            assert!(
                output.status.success(),
                "seed {seed}: {}\n{model_text}",
                String::from_utf8_lossy(&output.stderr)
            );
            let (expected, kommune_need) = naive(&model, &people, &area, year as i64);
            let clinics = Csv::read(&dir.path().join("out/clinics.csv"));
            for (id, (count, need, parts)) in &expected {
                let r = clinics.find("clinic_id", &id.to_string());
                let what = format!("seed {seed} year {year} clinic {id}");
                assert_eq!(clinics.get(r, "n_patients"), count.to_string(), "{what}");
                assert_close(clinics.f64(r, "need").unwrap(), *need, &what);
                for (name, part) in [
                    "need_age_sex",
                    "need_socioeconomic",
                    "need_conditions",
                    "need_multimorbidity",
                    "need_area",
                    "need_packages",
                ]
                .iter()
                .zip(parts)
                {
                    let got = clinics.f64(r, name).unwrap();
                    assert!(
                        (got - part).abs() < 1e-9 * need.abs().max(1.0),
                        "{what} {name}: {got} vs {part}"
                    );
                }
            }
            let areas = Csv::read(&dir.path().join("out/areas.csv"));
            for (kommune, need) in &kommune_need {
                let r = areas.find("code", &kommune.to_string());
                assert_close(
                    areas.f64(r, "need").unwrap(),
                    *need,
                    &format!("seed {seed} year {year} kommune {kommune}"),
                );
            }
        }
    }
}

/// `model convert` writes the reference model as format 2; every output
/// of a run is then byte-identical to the format-1 run, for years before,
/// during and after the packages' phase-in.
#[test]
fn a_converted_model_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let converted = dir.path().join("reference-2027.format2.toml");
    let output = run_in(
        dir.path(),
        &[
            "model",
            "convert",
            &reference_model(),
            "--out",
            converted.to_str().unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shipped = repo().join("models/reference-2027.format2.toml");
    assert_eq!(
        std::fs::read_to_string(&converted)
            .unwrap()
            .lines()
            .skip(3)
            .collect::<Vec<_>>(),
        std::fs::read_to_string(&shipped)
            .unwrap()
            .lines()
            .skip(3)
            .collect::<Vec<_>>(),
        "the shipped format-2 reference model is the conversion of the format-1 file"
    );
    for year in ["2026", "2027", "2028", "2031", "2035"] {
        let mut outputs = Vec::new();
        for (k, model) in [reference_model(), shipped.display().to_string()]
            .iter()
            .enumerate()
        {
            let out = format!("out-{k}");
            ok_on_fixtures(
                dir.path(),
                &[
                    "run",
                    "--model",
                    model,
                    "--year",
                    year,
                    "--out",
                    &out,
                    "--write-person-weights",
                ],
            );
            outputs.push(dir.path().join(out));
        }
        for file in [
            "clinics.csv",
            "clinics.parquet",
            "areas.csv",
            "areas.parquet",
            "person_weights.parquet",
        ] {
            assert!(
                std::fs::read(outputs[0].join(file)).unwrap()
                    == std::fs::read(outputs[1].join(file)).unwrap(),
                "year {year}: {file} differs between the format-1 model and its conversion"
            );
        }
    }
}

/// Runs the golden model with `edit` applied to the model text and
/// `columns` as the population; returns the one-line error.
fn failure(model: &str, columns: Vec<(&str, ArrayRef)>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = run_model(dir.path(), &format!("{model}\n{PROPOSAL}"), columns, 2027);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.path().join("out").exists(), "no output after an error");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

fn columns_with(name: &'static str, array: ArrayRef) -> Vec<(&'static str, ArrayRef)> {
    with_column(golden_columns(&golden_persons()), name, array)
}

#[test]
fn a_value_outside_the_levels_names_the_levels() {
    let e = failure(GOLDEN, columns_with("sex", i16s(&[1, 2, 1, 3, 1, 2])));
    assert!(
        e.contains("`sex`") && e.contains("row 4") && e.contains("`3`") && e.contains("[1, 2]"),
        "{e}"
    );
}

/// A value inside the levels' range that is not one of them (levels 1, 3,
/// 5, 7), in a wide column.
#[test]
fn a_value_between_declared_levels_is_bad_input() {
    let model = GOLDEN.replace(
        "sex = { levels = [1, 2] }",
        "sex = { levels = [1, 2] }\ncivil = { column = \"civil_status\", levels = [1, 3, 5, 7] }",
    ) + "\n[[terms]]\nid = \"civil\"\ncomponent = \"socioeconomic\"\nby = [\"civil\"]\nvalues = [0, 1, 2, 3]\n";
    let e = failure(
        &model,
        columns_with("civil_status", i64s(&[1, 3, 5, 7, 4, 1])),
    );
    assert!(
        e.contains("`civil_status`")
            && e.contains("row 5")
            && e.contains("`4`")
            && e.contains("[1, 3, 5, 7]"),
        "{e}"
    );
}

#[test]
fn an_age_below_the_first_edge_is_bad_input() {
    let model = GOLDEN
        .replace("edges = [0, 2, 18, 65]", "edges = [2, 18, 65]")
        .replace(
            "values = [[100, 40, 50, 90], [110, 45, 70, 95]]",
            "values = [[40, 50, 90], [45, 70, 95]]",
        )
        .replace(
            "values = [[0, 0, 0, 0], [0, 5, 20, 30]]",
            "values = [[0, 0, 0], [5, 20, 30]]",
        );
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("`age`") && e.contains("row 1") && e.contains("`1`") && e.contains("first edge"),
        "{e}"
    );
}

#[test]
fn a_term_over_a_missing_column_names_the_term() {
    let model = GOLDEN.replace("by = [\"cond_b\"]", "by = [\"civil_status\"]");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("`civil_status`") && e.contains("term `b`"),
        "{e}"
    );
}

#[test]
fn a_values_array_of_the_wrong_shape_names_the_term_and_shape() {
    let model = GOLDEN.replace("values = [0, 0, 12]", "values = [0, 12]");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("terms[4].values") && e.contains("`mm`") && e.contains("[3]"),
        "{e}"
    );
}

#[test]
fn edges_not_increasing_are_named() {
    let model = GOLDEN.replace("edges = [0, 2, 18, 65]", "edges = [0, 18, 2, 65]");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("variables.age_band.edges") && e.contains("increasing"),
        "{e}"
    );
}

#[test]
fn a_count_over_a_non_boolean_column_is_a_wrong_type() {
    let model = GOLDEN.replace("\"cond_d\"], top = 2", "\"age\"], top = 2");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(e.contains("`age`") && e.contains("boolean"), "{e}");
}

#[test]
fn duplicate_term_and_package_ids_are_named() {
    let model = GOLDEN.replace("id = \"c\"", "id = \"b\"");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("terms[3].id") && e.contains("`b`") && e.contains("twice"),
        "{e}"
    );
    let model = format!(
        "{GOLDEN}\n[[packages]]\nid = \"multi\"\nstart_year = 2028\nany_of = [\"cond_a\"]\n"
    );
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(e.contains("packages[1].id") && e.contains("twice"), "{e}");
}

#[test]
fn hierarchies_naming_unknown_flags_or_their_own_are_named() {
    let model = GOLDEN.replace("if = \"cond_c\"", "if = \"cond_x\"");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("hierarchies[0].if") && e.contains("`cond_x`"),
        "{e}"
    );
    let model = GOLDEN.replace("drop = [\"cond_b\"]", "drop = [\"cond_c\"]");
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("hierarchies[0].drop[0]") && e.contains("own flag"),
        "{e}"
    );
}

#[test]
fn a_package_without_a_rule_is_named() {
    let model = GOLDEN.replace(
        "count_at_least = { variable = \"n_cond\", value = 2 }\n",
        "",
    );
    let e = failure(&model, golden_columns(&golden_persons()));
    assert!(
        e.contains("packages[0]") && e.contains("no qualifying rule"),
        "{e}"
    );
}

#[test]
fn a_numeric_column_must_be_float_and_finite() {
    let e = failure(
        GOLDEN,
        columns_with("deprivation", i16s(&[0, 1, 2, 0, 0, 1])),
    );
    assert!(e.contains("`deprivation`") && e.contains("Float"), "{e}");
    let e = failure(
        GOLDEN,
        columns_with("deprivation", f64s(&[0.5, 1.0, f64::NAN, 0.0, 0.2, 1.5])),
    );
    assert!(
        e.contains("`deprivation`") && e.contains("row 3") && e.contains("NaN"),
        "{e}"
    );
}

/// A population with another model's columns (no labour, education or
/// origin) runs when the model names only what it has.
#[test]
fn a_population_without_format_1_columns_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(99);
    let area = area_index();
    let kommuner: Vec<i64> = area.keys().copied().take(5).collect();
    let people = random_population(&mut rng, 400, &kommuner);
    let model = random_model(&mut Rng(5));
    let output = run_model(dir.path(), &model, people.columns(), 2027);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // And the same population is refused by the format-1 reference model,
    // naming a column it lacks.
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--population",
            "population.parquet",
            "--clinics",
            "clinics.parquet",
            "--model",
            &reference_model(),
            "--out",
            "out-1",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
}

/// `synth --rich --truth` makes data from a format-2 truth with two
/// interactions and a hierarchy; `fit` of the same structure recovers it:
/// every estimate within 5 standard errors of the truth, and on average
/// within 1.5.
#[test]
fn fit_recovers_a_format2_truth() {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = repo().join("models/synth-truth-rich.format2.toml");
    let truth = truth_path.to_str().unwrap();
    let output = run_in(
        dir.path(),
        &[
            "synth",
            "--fixture",
            "--seed",
            "11",
            "--rich",
            "--truth",
            truth,
            "--out",
            "data",
            "-q",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run_in(
        dir.path(),
        &[
            "fit",
            "--population",
            "data/population.parquet",
            "--clinics",
            "data/clinics.parquet",
            "--geography",
            "data/geography.csv",
            "--structure",
            truth,
            "--out",
            "fitted",
            "-q",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let spec = fordeling::model::format2::parse(
        &std::fs::read_to_string(&truth_path).unwrap(),
        &truth_path,
    )
    .unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("fitted/fit.json")).unwrap())
            .unwrap();
    let coefficients = report["coefficients"].as_array().unwrap();
    assert_eq!(
        coefficients.len(),
        spec.free_parameters().iter().sum::<usize>()
    );
    let mut total = 0.0;
    for c in coefficients {
        let name = c["term"].as_str().unwrap();
        let at = spec
            .coefficient(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let z = (c["estimate"].as_f64().unwrap() - spec.get(at)) / c["se"].as_f64().unwrap();
        assert!(z.abs() < 5.0, "{name}: z = {z:.2}");
        total += z.abs();
    }
    let mean = total / coefficients.len() as f64;
    assert!(mean < 1.5, "mean |z| = {mean:.2}");
    // The fitted model is format 2 with every table filled, and it runs.
    let fitted = std::fs::read_to_string(dir.path().join("fitted/model.toml")).unwrap();
    let back = fordeling::model::format2::parse(&fitted, Path::new("model.toml")).unwrap();
    assert_eq!(back.terms.len(), spec.terms.len());
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--population",
            "data/population.parquet",
            "--clinics",
            "data/clinics.parquet",
            "--model",
            "fitted/model.toml",
            "--out",
            "run",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn evaluate_on_fixtures(
    dir: &Path,
    model: &str,
    extra: &[&str],
    out: &str,
) -> std::process::Output {
    let root = repo();
    let population = root.join("fixtures/population.parquet");
    let clinics = root.join("fixtures/clinics.parquet");
    let mut args = vec![
        "evaluate",
        "--population",
        population.to_str().unwrap(),
        "--clinics",
        clinics.to_str().unwrap(),
        "--model",
        model,
        "--folds",
        "2",
        "--out",
        out,
        "-q",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

/// The ladder as data: rungs of term ids over a format-1 structure (read
/// as format 2) and a ladder file; the default ladder of the converted
/// reference model matches format 1's fixed ladder where they coincide.
#[test]
fn evaluate_takes_the_ladder_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let output = evaluate_on_fixtures(
        dir.path(),
        &reference_model(),
        &[
            "--rung",
            "base=age_sex",
            "--rung",
            "+ conditions=@conditions",
            "--rung",
            "+ income=income*",
        ],
        "rungs",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let e: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("rungs/evaluation.json")).unwrap(),
    )
    .unwrap();
    let ladder = e["ladder"].as_array().unwrap();
    assert_eq!(ladder.len(), 3);
    // 2 × 20 age-sex cells; + 14 conditions; + 5 income quintiles.
    let parameters: Vec<u64> = ladder
        .iter()
        .map(|r| r["parameters"].as_u64().unwrap())
        .collect();
    assert_eq!(parameters, vec![40, 54, 59]);
    assert_eq!(ladder[2]["terms"].as_array().unwrap().len(), 1 + 14 + 1);
    assert!(ladder[0]["proposal_change_from_previous"].is_null());
    assert!(!ladder[1]["proposal_change_from_previous"].is_null());
    let r2: Vec<f64> = ladder
        .iter()
        .map(|r| r["in_sample"]["r2"].as_f64().unwrap())
        .collect();
    assert!(r2[0] < r2[1] && r2[1] < r2[2], "{r2:?}");

    // The same ladder from a file, over the shipped format-2 model.
    std::fs::write(
        dir.path().join("ladder.toml"),
        "[[rung]]\nname = \"base\"\nadd = [\"age_sex\"]\n[[rung]]\nname = \"+ conditions\"\nadd = [\"@conditions\"]\n[[rung]]\nname = \"+ income\"\nadd = [\"income*\"]\n",
    )
    .unwrap();
    let format2 = repo().join("models/reference-2027.format2.toml");
    let output = evaluate_on_fixtures(
        dir.path(),
        format2.to_str().unwrap(),
        &["--ladder", "ladder.toml"],
        "file",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let f: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("file/evaluation.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(f["ladder"], e["ladder"]);

    // Format 1's fixed ladder and the converted model's default ladder fit
    // the same first three rungs.
    let output = evaluate_on_fixtures(dir.path(), &reference_model(), &[], "fixed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = evaluate_on_fixtures(dir.path(), format2.to_str().unwrap(), &[], "default");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(d).join("evaluation.json")).unwrap(),
        )
        .unwrap()
    };
    let (fixed, default) = (read("fixed"), read("default"));
    for k in 0..3 {
        let a = &fixed["ladder"][k];
        let b = &default["ladder"][k];
        assert_eq!(a["parameters"], b["parameters"], "rung {k}");
        assert_close(
            b["in_sample"]["r2"].as_f64().unwrap(),
            a["in_sample"]["r2"].as_f64().unwrap(),
            &format!("rung {k}"),
        );
    }
    assert_eq!(
        fixed["models"][0]["in_sample"],
        default["models"][0]["in_sample"]
    );

    // A rung naming no term is refused, naming it.
    let output = evaluate_on_fixtures(
        dir.path(),
        &reference_model(),
        &["--rung", "x=nonesuch"],
        "bad",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`nonesuch`"));
    assert!(!dir.path().join("bad").exists());
}

/// Scenarios address a format-2 model's coefficients by term id and cell;
/// doubling COPD's coefficient gives the same numbers as the format-1
/// scenario on the original file.
#[test]
fn scenarios_address_cells_by_term_and_level() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = |coefficient: &str| {
        format!("[[scenario]]\nname = \"copd-double\"\n[scenario.coefficients]\n\"{coefficient}\" = 1840\n[[scenario]]\nname = \"later\"\nyear = 2031\n")
    };
    std::fs::write(dir.path().join("one.toml"), scenario("conditions.copd")).unwrap();
    std::fs::write(dir.path().join("two.toml"), scenario("copd[true]")).unwrap();
    let format2 = repo().join("models/reference-2027.format2.toml");
    ok_on_fixtures(
        dir.path(),
        &[
            "scenarios",
            "--model",
            &reference_model(),
            "--scenarios",
            "one.toml",
            "--out",
            "one",
        ],
    );
    ok_on_fixtures(
        dir.path(),
        &[
            "scenarios",
            "--model",
            format2.to_str().unwrap(),
            "--scenarios",
            "two.toml",
            "--out",
            "two",
        ],
    );
    for file in ["scenarios.csv", "capacity_gaps.csv"] {
        assert!(
            std::fs::read(dir.path().join("one").join(file)).unwrap()
                == std::fs::read(dir.path().join("two").join(file)).unwrap(),
            "{file}"
        );
    }
    // A level the variable does not have is named with the levels.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[scenario]]\nname = \"x\"\n[scenario.coefficients]\n\"age_sex[3, 85]\" = 1\n",
    )
    .unwrap();
    let output = run_on_fixtures(
        dir.path(),
        &[
            "scenarios",
            "--model",
            format2.to_str().unwrap(),
            "--scenarios",
            "bad.toml",
            "--out",
            "bad",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("age_sex[3, 85]") && stderr.contains("1, 2"),
        "{stderr}"
    );
    assert!(!dir.path().join("bad").exists());
}

/// `explain` lists a format-2 clinic's need term by term (by hand for the
/// golden clinic 11), with the interaction's cells and the hierarchy.
#[test]
fn explain_lists_need_term_by_term() {
    let dir = tempfile::tempdir().unwrap();
    let model = format!("{GOLDEN}\n{PROPOSAL}");
    let output = run_model(dir.path(), &model, golden_columns(&golden_persons()), 2027);
    assert!(output.status.success());
    let output = run_in(
        dir.path(),
        &[
            "explain",
            "--population",
            "population.parquet",
            "--clinics",
            "clinics.parquet",
            "--model",
            "model.toml",
            "--clinic",
            "11",
            "--format",
            "json",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mean = 632.0 / 6.0;
    let term = |id: &str| {
        a["terms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("no term {id}"))
            .clone()
    };
    // Clinic 11 = persons 1-3 (see golden_format2_by_hand).
    for (id, raw) in [
        ("base", 245.0),
        ("a_by_age", 30.0),
        ("b", 15.0),
        ("c", 25.0),
        ("mm", 12.0),
        ("deprivation", 35.0),
    ] {
        let got = term(id)["clinic_need"].as_f64().unwrap();
        assert!((got - raw / mean).abs() < 1e-12, "{id}: {got}");
    }
    let cells = term("a_by_age")["cells"].as_array().unwrap().clone();
    let cell = cells
        .iter()
        .find(|c| c["cell"] == "a_by_age[true, 65]")
        .unwrap();
    assert_eq!(cell["patients"], 1);
    assert_eq!(
        term("a_by_age")["by"],
        serde_json::json!(["cond_a", "age_band"])
    );
    assert_eq!(a["hierarchies"][0]["flag"], "cond_c");
    assert_eq!(a["hierarchies"][0]["clinic_patients"], 1);
    assert_eq!(a["hierarchies"][0]["national_persons"], 2);
}

/// Every `toml` block of `docs/model-files.md` is a valid format-2 model.
#[test]
fn docs_examples_are_valid_models() {
    let path = repo().join("docs/model-files.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let blocks: Vec<&str> = text
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 6, "{} examples", blocks.len());
    for block in blocks {
        fordeling::model::format2::parse(block, &path).unwrap_or_else(|e| panic!("{e}\n{block}"));
    }
}

/// `project`, `diff` and `report` take the converted model and give the
/// format-1 model's bytes.
#[test]
fn project_and_diff_take_format2() {
    let dir = tempfile::tempdir().unwrap();
    let format2 = repo().join("models/reference-2027.format2.toml");
    for (k, model) in [reference_model(), format2.display().to_string()]
        .iter()
        .enumerate()
    {
        ok_on_fixtures(
            dir.path(),
            &[
                "project",
                "--model",
                model,
                "--from",
                "2027",
                "--to",
                "2029",
                "--out",
                &format!("p{k}"),
            ],
        );
        for year in ["2027", "2028"] {
            ok_on_fixtures(
                dir.path(),
                &[
                    "run",
                    "--model",
                    model,
                    "--year",
                    year,
                    "--out",
                    &format!("r{k}-{year}"),
                ],
            );
        }
        let output = run_in(
            dir.path(),
            &[
                "diff",
                &format!("r{k}-2027"),
                &format!("r{k}-2028"),
                "--out",
                &format!("d{k}"),
            ],
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let output = run_in(dir.path(), &["report", &format!("r{k}-2028")]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for file in [
        "p0/summary.csv",
        "p0/areas_by_year.csv",
        "p0/2029/clinics.csv",
        "d0/diff.csv",
    ] {
        let other = file.replacen('0', "1", 1);
        assert!(
            std::fs::read(dir.path().join(file)).unwrap()
                == std::fs::read(dir.path().join(&other)).unwrap(),
            "{file}"
        );
    }
}

/// Writes `fuzz/seeds/population_file/format2.parquet`, the seed with the
/// columns of the fuzz target's format-2 model (run with `--ignored`).
#[test]
#[ignore]
fn write_fuzz_seed() {
    let path = repo().join("fuzz/seeds/population_file/format2.parquet");
    write_parquet(
        &path,
        vec![
            ("person_id", i64s(&[1, 2, 3, 4])),
            ("clinic_id", i32s(&[11, 22, 11, 22])),
            ("kommune", i16s(&[101, 101, 101, 101])),
            ("age", i16s(&[3, 40, 70, 17])),
            ("sex", i16s(&[1, 2, 2, 1])),
            ("civil_status", i16s(&[1, 3, 5, 1])),
            ("cond_copd", bools(&[false, true, true, false])),
            ("cond_asthma", bools(&[true, true, false, false])),
            ("deprivation", f64s(&[0.5, -1.0, 2.0, 0.0])),
        ],
    );
}
