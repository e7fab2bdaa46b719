//! Synthetic national data (`fordeling synth`): a synthetic Denmark whose
//! structure and marginals follow public statistics, with a known true
//! model behind its utilization, so that tests, benchmarks and model
//! evaluation never need register data.
//!
//! The procedure:
//! 1. Kommuner: the 98 real kommuner of the built-in geography, each with
//!    its approximate 2024 population (`data/kommune-population-approx.csv`)
//!    scaled so every 2007-2026 region matches FOLK1A 2024, times `--scale`.
//! 2. Clinics (`clinics.rs`), made first: per kommune, capacities from its
//!    persons and a morbidity-dependent load; clinic sizes from a fixed
//!    distribution; a share flagged as in or next to a vulnerable housing
//!    area in the cities that have such areas.
//! 3. Persons (`people.rs`), in blocks of 65,536 per kommune, each block
//!    with its own random stream derived from the seed, the kommune and the
//!    block number, so blocks can be made on any thread in any order and
//!    the files are still byte-identical.
//! 4. Listing: most at a clinic of their own kommune (by capacity), a few
//!    percent elsewhere in their sundhedsråd.
//! 5. Utilization: the person's need under the truth model (the reference
//!    model, identity link, its data year, so no packages) times a skewed
//!    gamma noise, with a share of zeros larger for low-need persons;
//!    scaled by the share of the year listed (`exposure`).
//! 6. Order: a block's rows sorted by clinic, age and sex, as an extract
//!    sorted by listing comes (`listing_order`); person ids number the rows.
//!
//! Blocks are made a window at a time on the rayon pool while the previous
//! window is written, row group by row group, so a country of 60 million
//! is never held in memory.

pub mod clinics;
pub mod people;
pub mod rng;
pub mod summary;

use crate::domain::{Geography, Population};
use crate::error::{Error, InputError, OutputError};
use crate::model::format2::{Kind, Spec};
use crate::model::Model;
use crate::weights::YearTables;
use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int16Array, Int32Array, Int64Array, Int8Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use clinics::{Listing, SynthClinics};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
pub use people::Extras;
use people::{Place, Prevalence};
use rayon::prelude::*;
pub use rng::Rng;
use std::path::Path;
use std::sync::Arc;
use summary::{Stats, Summary, FOLK1A_2024};

/// The model that generates synthetic utilization: the reference model.
pub const TRUTH_MODEL: &str = include_str!("../../models/reference-2027.toml");
/// Approximate kommune populations and their 2007-2026 regions.
pub const KOMMUNE_POPULATION: &str = include_str!("../../data/kommune-population-approx.csv");

/// Persons per block: the unit of randomness and of parallel work.
pub use crate::domain::BLOCK;
/// The largest scale accepted (600 million persons).
pub const MAX_SCALE: f64 = 100.0;

/// One kommune to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct KommuneSpec {
    pub code: i16,
    pub persons: u64,
    /// Share of the kommune's clinics in or next to a vulnerable housing area.
    pub vulnerable_share: f64,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    pub seed: u64,
    /// Which draw of persons over the same clinics (0 = the first). Another
    /// draw is "the next data year" of the same synthetic country.
    pub draw: u64,
    /// `Some` for a national data set of this scale.
    pub scale: Option<f64>,
    pub kommuner: Vec<KommuneSpec>,
    /// Weights of clinic sizes 1..=5 capacities.
    pub clinic_sizes: [f64; 5],
    pub row_group_rows: usize,
    /// Also make the columns a richer model needs (`Extras`).
    pub rich: bool,
    /// The truth model's text (format 1 or 2); `None`: the reference model.
    pub truth: Option<String>,
}

/// Clinic sizes with about a third single-handed and a mean near 1.95
/// capacities, so Denmark has about 1,850 clinics and 3,600 capacities.
const NATIONAL_SIZES: [f64; 5] = [0.34, 0.42, 0.15, 0.06, 0.03];

/// Kommuner with vulnerable housing areas (the 2024 list is concentrated in
/// the large cities and the western suburbs of Copenhagen), with the share
/// of their clinics in or next to one.
const VULNERABLE: [(i16, f64); 14] = [
    (101, 0.07),
    (153, 0.15),
    (165, 0.15),
    (169, 0.12),
    (183, 0.15),
    (167, 0.08),
    (217, 0.08),
    (316, 0.08),
    (330, 0.08),
    (461, 0.1),
    (561, 0.06),
    (607, 0.06),
    (751, 0.08),
    (851, 0.06),
];

/// One line of the built-in kommune populations
/// (`data/kommune-population-approx.csv`).
#[derive(Debug, Clone, serde::Deserialize)]
struct KommunePopulation {
    kommune_code: i16,
    region_2007_2026: String,
    population_approx: f64,
}

/// The built-in kommune populations, read with the csv crate.
fn kommune_populations() -> Result<Vec<KommunePopulation>, String> {
    csv::Reader::from_reader(KOMMUNE_POPULATION.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad line in the built-in kommune populations: {e}"))
}

impl SynthSpec {
    /// Denmark at `scale` (1 = about 5.96 million persons).
    pub fn national(seed: u64, scale: f64) -> Result<Self, String> {
        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_SCALE) {
            return Err(format!(
                "--scale `{scale}` must be above 0 and at most {MAX_SCALE}"
            ));
        }
        let rows: Vec<(i16, String, f64)> = kommune_populations()?
            .into_iter()
            .map(|k| (k.kommune_code, k.region_2007_2026, k.population_approx))
            .collect();
        let kommuner = rows
            .iter()
            .map(|(code, region, persons)| {
                let (target, approx) = FOLK1A_2024
                    .iter()
                    .find(|(r, _)| r == region)
                    .map(|(_, target)| {
                        let approx: f64 = rows.iter().filter(|r| &r.1 == region).map(|r| r.2).sum();
                        (*target, approx)
                    })
                    .unwrap_or((1.0, 1.0));
                KommuneSpec {
                    code: *code,
                    persons: (persons * target / approx * scale).round() as u64,
                    vulnerable_share: VULNERABLE
                        .iter()
                        .find(|(c, _)| c == code)
                        .map(|(_, share)| *share)
                        .unwrap_or(0.0),
                }
            })
            .collect();
        Ok(SynthSpec {
            seed,
            draw: 0,
            scale: Some(scale),
            kommuner,
            clinic_sizes: NATIONAL_SIZES,
            // 131,072 rows (46 row groups at scale 1), near what Polars
            // and DuckDB write: a group's columns stay in a core's cache
            // while it is summed, and the groups keep both cores busy
            // (one task per group). With 2^20 rows the run took 20% longer.
            row_group_rows: 1 << 17,
            rich: false,
            truth: None,
        })
    }

    /// The recipe of the shipped fixtures: 8 kommuner across the 4 regions
    /// (capital, suburb, islands, provincial cities, rural North Jutland),
    /// 61,000 persons, small clinics so there are more than 30 of them.
    pub fn fixture(seed: u64) -> Self {
        let kommuner = [
            (101, 15_000, 0.15),
            (157, 6_000, 0.0),
            (360, 6_000, 0.0),
            (461, 9_000, 0.2),
            (482, 3_000, 0.0),
            (751, 10_000, 0.2),
            (773, 4_000, 0.0),
            (851, 8_000, 0.0),
        ]
        .into_iter()
        .map(|(code, persons, vulnerable_share)| KommuneSpec {
            code,
            persons,
            vulnerable_share,
        })
        .collect();
        SynthSpec {
            seed,
            draw: 0,
            scale: None,
            kommuner,
            clinic_sizes: [0.8, 0.2, 0.0, 0.0, 0.0],
            row_group_rows: 16_384,
            rich: false,
            truth: None,
        }
    }

    pub fn persons(&self) -> u64 {
        self.kommuner.iter().map(|k| k.persons).sum()
    }
}

/// Everything a block needs, shared by all blocks.
struct Context<'a> {
    spec: &'a SynthSpec,
    kommune_index: Vec<u16>,
    places: Vec<Place>,
    old_region: Vec<usize>,
    clinics: &'a SynthClinics,
    listing: &'a Listing,
    truth: &'a YearTables,
    /// A format-2 truth's terms (its persons are laid out for it).
    truth_spec: Option<&'a Spec>,
    /// The generated conditions, in bit order.
    conditions: Vec<&'a str>,
    prevalence: Vec<Option<&'static Prevalence>>,
    ruks_mask: u64,
}

/// A block of persons: kommune position, block number, first global row.
#[derive(Debug, Clone, Copy)]
struct Block {
    position: usize,
    number: u64,
    first_row: u64,
    persons: usize,
}

/// The persons of one block, with their clinic as a global clinic index.
pub struct BlockData {
    pub population: Population,
    /// With `SynthSpec::rich`.
    pub extras: Option<Extras>,
    pub stats: Stats,
}

fn blocks(spec: &SynthSpec) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut row = 0u64;
    for (position, kommune) in spec.kommuner.iter().enumerate() {
        let mut left = kommune.persons;
        let mut number = 0;
        while left > 0 {
            let persons = left.min(BLOCK as u64) as usize;
            blocks.push(Block {
                position,
                number,
                first_row: row,
                persons,
            });
            row += persons as u64;
            left -= persons as u64;
            number += 1;
        }
    }
    blocks
}

fn make_block(ctx: &Context<'_>, block: &Block) -> BlockData {
    let code = ctx.spec.kommuner[block.position].code;
    let persons_seed = ctx.spec.seed ^ ctx.spec.draw.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut rng = Rng::derived(persons_seed, (code as u64) << 32 | block.number);
    let place = &ctx.places[block.position];
    let kommune = ctx.kommune_index[block.position];
    let n = block.persons;
    let mut population = Population {
        codes: Vec::new(),
        numeric: Vec::new(),
        person_id: Vec::with_capacity(n),
        clinic: Vec::with_capacity(n),
        kommune: vec![kommune; n],
        age: Vec::with_capacity(n),
        sex: Vec::with_capacity(n),
        education: Vec::with_capacity(n),
        income_quintile: Vec::with_capacity(n),
        labour: Vec::with_capacity(n),
        origin: Vec::with_capacity(n),
        lives_alone: Vec::with_capacity(n),
        conditions: Vec::with_capacity(n),
        utilization: Some(Vec::with_capacity(n)),
        exposure: Some(Vec::with_capacity(n)),
        row_groups: Vec::new(),
    };
    let mut persons = Vec::with_capacity(n);
    for i in 0..n {
        let person = people::person(&mut rng, place, &ctx.prevalence);
        let clinic = ctx.listing.choose(&mut rng, block.position);
        let exposure = if person.age == 0 || rng.bernoulli(0.03) {
            ((0.05 + 0.95 * rng.uniform()) * 100.0).round() / 100.0
        } else {
            1.0
        };
        population
            .person_id
            .push(1_000_000 + (block.first_row + i as u64) as i64);
        population.clinic.push(clinic as u32);
        population.age.push(person.age);
        population.sex.push(person.sex);
        population.education.push(person.education);
        population.income_quintile.push(person.income_quintile);
        population.labour.push(person.labour);
        population.origin.push(person.origin);
        population.lives_alone.push(person.lives_alone);
        population.conditions.push(person.conditions);
        if let Some(e) = population.exposure.as_mut() {
            e.push(exposure);
        }
        persons.push(person);
    }
    let mut extras = ctx.spec.rich.then(|| {
        // A stream of its own: the other columns are those of a plain run.
        let mut rng = Rng::derived(
            persons_seed ^ 0x6E72_6963_6865_7221,
            (code as u64) << 32 | block.number,
        );
        let dementia = ctx.conditions.iter().position(|c| *c == "dementia");
        let mut extras = Extras::with_capacity(n);
        for person in &persons {
            let has = dementia.is_some_and(|k| person.conditions & (1u64 << k) != 0);
            extras.push(&mut rng, person, place.morbidity, has);
        }
        extras
    });
    let laid_out = ctx.truth_spec.map(|spec| {
        truth_population(spec, &population, extras.as_ref(), &ctx.conditions).unwrap_or_default()
    });
    let truth_persons = laid_out.as_ref().unwrap_or(&population);
    let mut utilization = Vec::with_capacity(n);
    let mut stats = Stats::new(ctx.prevalence.len());
    for (i, person) in persons.iter().enumerate() {
        let need = ctx.truth.person(truth_persons, i).raw;
        let exposure = population.exposure.as_ref().map_or(1.0, |e| e[i]);
        // More zeros among persons with little need: about 15% overall.
        let zero = (0.145 * (1700.0 / need.max(1.0)).sqrt()).clamp(0.02, 0.6);
        let value = if rng.bernoulli(zero) {
            0.0
        } else {
            need * exposure * rng.gamma(1.3) / 1.3 / (1.0 - zero)
        };
        let value = (value * 100.0).round() / 100.0;
        utilization.push(value);
        let clinic = population.clinic[i] as usize;
        stats.add(
            person,
            ctx.old_region[block.position],
            ctx.ruks_mask,
            value,
            ctx.clinics.kommune[clinic] == code,
        );
    }
    population.utilization = Some(utilization);
    listing_order(&mut population, extras.as_mut());
    BlockData {
        population,
        extras,
        stats,
    }
}

/// Puts a block's rows in the order of clinic, age and sex, as a register
/// extract sorted by listing comes (a stable sort: persons alike keep the
/// order they were drawn in). Every value stays with its person; only
/// `person_id`, which numbers the rows, stays where it is. Results do not
/// depend on the order of rows (SPEC section 4), but reading does: a
/// clinic's persons side by side make `clinic_id`, `age` and `sex` runs of
/// one value, which the file stores as runs and a reader unpacks at the
/// cost of one value, and a clinic's running sums stay in the cache while
/// its persons are added.
fn listing_order(population: &mut Population, extras: Option<&mut Extras>) {
    let mut order: Vec<u32> = (0..population.len() as u32).collect();
    order.sort_by_key(|&i| {
        let i = i as usize;
        (population.clinic[i], population.age[i], population.sex[i])
    });
    // Every column of a block has a value for each of its persons.
    fn reorder<T: Copy>(column: &mut Vec<T>, order: &[u32]) {
        debug_assert_eq!(column.len(), order.len());
        *column = order.iter().map(|&i| column[i as usize]).collect();
    }
    // Destructured whole, so a column added to `Population` or `Extras`
    // cannot be left out of the order.
    let Population {
        person_id: _,
        clinic,
        kommune,
        age,
        sex,
        education,
        income_quintile,
        labour,
        origin,
        lives_alone,
        conditions,
        codes,
        numeric,
        utilization,
        exposure,
        row_groups: _,
    } = population;
    reorder(clinic, &order);
    reorder(kommune, &order);
    reorder(age, &order);
    reorder(sex, &order);
    reorder(education, &order);
    reorder(income_quintile, &order);
    reorder(labour, &order);
    reorder(origin, &order);
    reorder(lives_alone, &order);
    reorder(conditions, &order);
    codes.iter_mut().for_each(|c| reorder(c, &order));
    numeric.iter_mut().for_each(|c| reorder(c, &order));
    utilization.iter_mut().for_each(|c| reorder(c, &order));
    exposure.iter_mut().for_each(|c| reorder(c, &order));
    if let Some(Extras {
        civil_status,
        income_decile,
        nursing_home,
        deprivation,
    }) = extras
    {
        reorder(civil_status, &order);
        reorder(income_decile, &order);
        reorder(nursing_home, &order);
        reorder(deprivation, &order);
    }
}

/// The persons laid out for a format-2 truth model: its coded variables,
/// flags and numeric columns taken from the generated columns (and the
/// extras). Fails naming a column the generator does not make.
pub fn truth_population(
    spec: &Spec,
    population: &Population,
    extras: Option<&Extras>,
    conditions: &[&str],
) -> Result<Population, String> {
    let needs_rich = |column: &str| {
        format!("the truth model names `{column}`, which synth makes only with --rich")
    };
    let ints = |column: &str| -> Result<Vec<i64>, String> {
        let small = |v: &[u8]| v.iter().map(|&x| i64::from(x)).collect();
        Ok(match column {
            "age" => small(&population.age),
            "sex" => small(&population.sex),
            "education" => small(&population.education),
            "income_quintile" => small(&population.income_quintile),
            "labour" => small(&population.labour),
            "origin" => small(&population.origin),
            "civil_status" => small(&extras.ok_or_else(|| needs_rich(column))?.civil_status),
            "income_decile" => small(&extras.ok_or_else(|| needs_rich(column))?.income_decile),
            _ => {
                return Err(format!(
                    "the truth model names `{column}`, an integer column synth does not make"
                ))
            }
        })
    };
    let flags = |column: &str| -> Result<Vec<bool>, String> {
        if let Some(k) = column
            .strip_prefix("cond_")
            .and_then(|name| conditions.iter().position(|c| *c == name))
        {
            return Ok(population
                .conditions
                .iter()
                .map(|m| m & (1u64 << k) != 0)
                .collect());
        }
        Ok(match column {
            "lives_alone" => population.lives_alone.clone(),
            "nursing_home" => extras
                .ok_or_else(|| needs_rich(column))?
                .nursing_home
                .clone(),
            _ => {
                return Err(format!(
                    "the truth model names `{column}`, a boolean column synth does not make"
                ))
            }
        })
    };
    let mut codes = Vec::new();
    for v in spec.coded() {
        let variable = &spec.variables[v];
        let column = match &variable.kind {
            Kind::Levels { column, .. } | Kind::Bands { column, .. } => column,
            Kind::Count { .. } | Kind::Flag { .. } => continue,
        };
        let values = ints(column)?;
        codes.push(
            crate::ingest::code_variable(&variable.kind, values.into_iter()).map_err(
                |(_, value)| {
                    format!(
                        "synth makes `{column}` = {value}, outside variable `{}`",
                        variable.name
                    )
                },
            )?,
        );
    }
    let mut mask = vec![0u64; population.len()];
    for (k, flag) in spec.flags().iter().enumerate() {
        for (m, on) in mask.iter_mut().zip(flags(flag)?) {
            *m |= u64::from(on) << k;
        }
    }
    let mut numeric = Vec::new();
    for column in spec.numeric_columns() {
        numeric.push(match column.as_str() {
            "deprivation" => extras
                .ok_or_else(|| needs_rich(&column))?
                .deprivation
                .clone(),
            _ => {
                return Err(format!(
                    "the truth model names `{column}`, a float column synth does not make"
                ))
            }
        });
    }
    Ok(Population {
        kommune: population.kommune.clone(),
        conditions: mask,
        codes,
        numeric,
        ..Population::default()
    })
}

/// Generates a whole data set in memory (for tests and small data). The
/// population's `clinic` is an index into the returned clinics.
pub fn generate(
    spec: &SynthSpec,
    model: &Model,
    geography: &Geography,
) -> Result<(Population, SynthClinics, Stats), InputError> {
    let mut population = Population {
        codes: Vec::new(),
        numeric: Vec::new(),
        utilization: Some(Vec::new()),
        exposure: Some(Vec::new()),
        ..Population::default()
    };
    let conditions: Vec<&str> = model.conditions.iter().map(|(n, _)| n.as_str()).collect();
    let mut stats = Stats::new(conditions.len());
    let clinics = stream(spec, model, model, geography, |_, block| {
        append(&mut population, block.population);
        stats.merge(&block.stats);
        Ok(())
    })
    .map_err(|e| match e {
        Error::Input(e) => e,
        other => InputError::Other {
            path: "<synth>".into(),
            detail: other.to_string(),
        },
    })?;
    Ok((population, clinics, stats))
}

fn append(to: &mut Population, from: Population) {
    to.person_id.extend(from.person_id);
    to.clinic.extend(from.clinic);
    to.kommune.extend(from.kommune);
    to.age.extend(from.age);
    to.sex.extend(from.sex);
    to.education.extend(from.education);
    to.income_quintile.extend(from.income_quintile);
    to.labour.extend(from.labour);
    to.origin.extend(from.origin);
    to.lives_alone.extend(from.lives_alone);
    to.conditions.extend(from.conditions);
    if let (Some(a), Some(b)) = (to.utilization.as_mut(), from.utilization) {
        a.extend(b);
    }
    if let (Some(a), Some(b)) = (to.exposure.as_mut(), from.exposure) {
        a.extend(b);
    }
}

/// Makes the clinics, then the persons block by block, handing each block
/// to `sink` in order. A window of blocks is made in parallel while the
/// previous window is handed on.
fn stream(
    spec: &SynthSpec,
    model: &Model,
    truth_model: &Model,
    geography: &Geography,
    mut sink: impl FnMut(&SynthClinics, BlockData) -> Result<(), Error> + Send,
) -> Result<SynthClinics, Error> {
    let mut kommune_index = Vec::with_capacity(spec.kommuner.len());
    for (position, kommune) in spec.kommuner.iter().enumerate() {
        let index =
            geography
                .kommune_index(kommune.code)
                .ok_or_else(|| InputError::UnknownReference {
                    path: "<synth spec>".into(),
                    column: "kommune".into(),
                    row: position as u64 + 1,
                    value: kommune.code.to_string(),
                    other: crate::ingest::geography::BUILT_IN_NAME.into(),
                })?;
        kommune_index.push(index);
    }
    // The built-in table is checked when a national spec is made; a
    // fixture spec's kommuner are in it too.
    let populations = kommune_populations().unwrap_or_default();
    let old_region = spec
        .kommuner
        .iter()
        .map(|k| {
            let region = populations
                .iter()
                .find(|p| p.kommune_code == k.code)
                .map_or("", |p| p.region_2007_2026.as_str());
            FOLK1A_2024
                .iter()
                .position(|(r, _)| *r == region)
                .unwrap_or(0)
        })
        .collect();
    let places = spec
        .kommuner
        .iter()
        .zip(&kommune_index)
        .map(|(k, &i)| {
            Place::new(
                k.code,
                geography.kommuner[usize::from(i)].area_index.unwrap_or(1.0),
            )
        })
        .collect();
    let (clinics, listing) = clinics::make(spec, geography, &kommune_index);
    let truth = YearTables::new(
        truth_model,
        geography,
        truth_model.data_year,
        Path::new("<truth>"),
    )?;
    let conditions: Vec<&str> = model.conditions.iter().map(|(n, _)| n.as_str()).collect();
    let ctx = Context {
        truth_spec: truth_model.format2.as_deref(),
        conditions: conditions.clone(),
        spec,
        kommune_index,
        places,
        old_region,
        clinics: &clinics,
        listing: &listing,
        truth: &truth,
        prevalence: people::prevalence_for(&conditions),
        ruks_mask: summary::ruks_mask(&conditions),
    };
    let all = blocks(spec);
    let window = 2 * rayon::current_num_threads().max(1);
    let progress = crate::progress::Progress::new("making persons", all.len() as u64, "blocks");
    let mut pending: Option<Vec<BlockData>> = None;
    for chunk in all.chunks(window) {
        let (made, handed) = rayon::join(
            || {
                chunk
                    .par_iter()
                    .map(|b| make_block(&ctx, b))
                    .collect::<Vec<_>>()
            },
            || -> Result<(), Error> {
                for block in pending.take().into_iter().flatten() {
                    sink(&clinics, block)?;
                }
                Ok(())
            },
        );
        handed?;
        progress.inc(chunk.len() as u64);
        pending = Some(made);
    }
    for block in pending.take().into_iter().flatten() {
        sink(&clinics, block)?;
    }
    Ok(clinics)
}

/// What `write` made.
pub type SynthSummary = Summary;

/// Generates the spec's data with the truth model and the built-in
/// geography and writes `population.parquet`, `clinics.parquet`,
/// `geography.csv`, `truth.toml` and `summary.json` into `out`.
pub fn write(spec: &SynthSpec, out: &Path) -> Result<SynthSummary, Error> {
    let model = Model::parse(TRUTH_MODEL.as_bytes(), Path::new("<truth>"))?;
    let truth_text = spec.truth.as_deref().unwrap_or(TRUTH_MODEL);
    let truth_model = Model::parse(truth_text.as_bytes(), Path::new("<truth>"))?;
    if let Some(truth_spec) = &truth_model.format2 {
        // Every column the truth names must be one synth makes.
        let conditions: Vec<&str> = model.conditions.iter().map(|(n, _)| n.as_str()).collect();
        let extras = spec.rich.then(Extras::default);
        truth_population(
            truth_spec,
            &Population::default(),
            extras.as_ref(),
            &conditions,
        )
        .map_err(|detail| InputError::Other {
            path: "<truth>".into(),
            detail,
        })?;
    } else if !truth_model.reads_like(&model) {
        return Err(InputError::Other {
            path: "<truth>".into(),
            detail: "a format-1 truth model must name the reference model's conditions".into(),
        }
        .into());
    }
    let geography = crate::ingest::geography::built_in()?;
    std::fs::create_dir_all(out).map_err(|e| OutputError::write(out, e))?;
    let conditions: Vec<&str> = model.conditions.iter().map(|(n, _)| n.as_str()).collect();
    let population_path = out.join("population.parquet");
    let schema = population_schema(&model, spec.rich);
    let file = std::fs::File::create(&population_path)
        .map_err(|e| OutputError::write(&population_path, e))?;
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(properties(spec.row_group_rows)))
            .map_err(|e| OutputError::write(&population_path, e))?;
    let mut stats = Stats::new(conditions.len());
    let mut listed: Vec<u64> = Vec::new();
    let clinics = stream(spec, &model, &truth_model, &geography, |clinics, block| {
        listed.resize(clinics.clinic_id.len(), 0);
        for &c in &block.population.clinic {
            listed[c as usize] += 1;
        }
        stats.merge(&block.stats);
        let batch = population_batch(
            &block.population,
            block.extras.as_ref(),
            &clinics.clinic_id,
            &model,
            &geography,
            &schema,
        )
        .map_err(|e| OutputError::write(&population_path, e))?;
        writer
            .write(&batch)
            .map_err(|e| OutputError::write(&population_path, e).into())
    })?;
    writer
        .close()
        .map_err(|e| OutputError::write(&population_path, e))?;
    write_clinics(&clinics, &out.join("clinics.parquet"))?;
    let geography_path = out.join("geography.csv");
    std::fs::write(&geography_path, crate::ingest::geography::BUILT_IN)
        .map_err(|e| OutputError::write(&geography_path, e))?;
    let truth_path = out.join("truth.toml");
    std::fs::write(&truth_path, truth_text).map_err(|e| OutputError::write(&truth_path, e))?;
    let summary = summary::summarize(
        &stats,
        &clinics,
        &listed,
        &conditions,
        spec.seed,
        spec.scale,
    );
    let summary_path = out.join("summary.json");
    let text =
        crate::output::json_text(&summary).map_err(|e| OutputError::write(&summary_path, e))?;
    crate::output::write_text(&summary_path, &text)?;
    Ok(summary)
}

/// How `synth` writes its Parquet: chosen for the run that reads it, since
/// the engine's own file is the one every newcomer runs first. The
/// columns a run reads are stored so that reading them costs least:
/// - `person_id`, consecutive in the file, DELTA_BINARY_PACKED and not
///   compressed (its deltas pack into a few bytes a page; zstd of PLAIN
///   ids was two fifths of the run's decompression);
/// - the dictionary indices of `clinic_id`, `kommune`, `age` and `sex`
///   not compressed: zstd took less than 4% off them;
/// - the other categories and the flags with LZ4 (raw), which takes as
///   much off as zstd does for a fraction of its decompression time;
/// - the float columns, which a run does not read, with zstd.
///
/// The file is as large as with zstd throughout (49.9 MB against 50.5 MB
/// at scale 1), and the national run on it takes a quarter less CPU
/// (BENCHMARKS.md, eighth session).
fn properties(row_group_rows: usize) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .set_column_encoding("person_id".into(), Encoding::DELTA_BINARY_PACKED);
    // Columns of (nearly) unique values: a dictionary only adds a page to
    // write and to read.
    for column in ["person_id", "utilization", "exposure", "deprivation"] {
        builder = builder.set_column_dictionary_enabled(column.into(), false);
    }
    // Dictionary indices that a codec takes (almost) nothing off: in rows
    // ordered by clinic, age and sex, LZ4 left the socioeconomic columns
    // within 9% of their size (two of them larger), and decompressing
    // them cost 1-1.5% of a run. The flags, LZ4, are half their size.
    for column in [
        "person_id",
        "clinic_id",
        "kommune",
        "age",
        "sex",
        "education",
        "income_quintile",
        "labour",
        "origin",
    ] {
        builder = builder.set_column_compression(column.into(), Compression::UNCOMPRESSED);
    }
    for column in ["utilization", "exposure", "deprivation"] {
        builder =
            builder.set_column_compression(column.into(), Compression::ZSTD(ZstdLevel::default()));
    }
    builder.build()
}

/// The input schema of SPEC section 2 for a model's conditions, with the
/// extra columns (`Extras`) when `rich`.
pub fn population_schema(model: &Model, rich: bool) -> Arc<Schema> {
    let mut fields = vec![
        Field::new("person_id", DataType::Int64, false),
        Field::new("clinic_id", DataType::Int32, false),
        Field::new("kommune", DataType::Int16, false),
        Field::new("age", DataType::Int8, false),
        Field::new("sex", DataType::Int8, false),
        Field::new("education", DataType::Int8, false),
        Field::new("income_quintile", DataType::Int8, false),
        Field::new("labour", DataType::Int8, false),
        Field::new("origin", DataType::Int8, false),
        Field::new("lives_alone", DataType::Boolean, false),
    ];
    for (name, _) in &model.conditions {
        fields.push(Field::new(
            Model::condition_column(name),
            DataType::Boolean,
            false,
        ));
    }
    if rich {
        fields.push(Field::new("civil_status", DataType::Int8, false));
        fields.push(Field::new("income_decile", DataType::Int8, false));
        fields.push(Field::new("nursing_home", DataType::Boolean, false));
        fields.push(Field::new("deprivation", DataType::Float64, false));
    }
    fields.push(Field::new("utilization", DataType::Float64, false));
    fields.push(Field::new("exposure", DataType::Float64, false));
    Arc::new(Schema::new(fields))
}

/// A population (with `clinic` as an index into `clinic_ids`) as a record
/// batch in the input schema.
pub fn population_batch(
    p: &Population,
    extras: Option<&Extras>,
    clinic_ids: &[i32],
    model: &Model,
    geography: &Geography,
    schema: &Arc<Schema>,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let small = |v: &[u8]| -> ArrayRef {
        Arc::new(Int8Array::from_iter_values(v.iter().map(|&x| x as i8)))
    };
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(p.person_id.clone())),
        Arc::new(Int32Array::from_iter_values(
            p.clinic
                .iter()
                .map(|&c| clinic_ids.get(c as usize).copied().unwrap_or(0)),
        )),
        Arc::new(Int16Array::from_iter_values(
            p.kommune
                .iter()
                .map(|&k| geography.kommuner[usize::from(k)].code),
        )),
        small(&p.age),
        small(&p.sex),
        small(&p.education),
        small(&p.income_quintile),
        small(&p.labour),
        small(&p.origin),
        Arc::new(BooleanArray::from(p.lives_alone.clone())),
    ];
    for k in 0..model.conditions.len() {
        arrays.push(Arc::new(BooleanArray::from_iter(
            p.conditions.iter().map(|m| Some(m & (1 << k) != 0)),
        )));
    }
    if let Some(x) = extras {
        arrays.push(small(&x.civil_status));
        arrays.push(small(&x.income_decile));
        arrays.push(Arc::new(BooleanArray::from(x.nursing_home.clone())));
        arrays.push(Arc::new(Float64Array::from(x.deprivation.clone())));
    }
    let n = p.len();
    arrays.push(Arc::new(Float64Array::from(
        p.utilization.clone().unwrap_or_else(|| vec![0.0; n]),
    )));
    arrays.push(Arc::new(Float64Array::from(
        p.exposure.clone().unwrap_or_else(|| vec![1.0; n]),
    )));
    RecordBatch::try_new(schema.clone(), arrays)
}

/// The clinics as a record batch in the input schema of SPEC section 2.
pub fn clinics_batch(clinics: &SynthClinics) -> Result<RecordBatch, arrow::error::ArrowError> {
    let schema = Schema::new(vec![
        Field::new("clinic_id", DataType::Int32, false),
        Field::new("kommune", DataType::Int16, false),
        Field::new("capacities", DataType::Float64, false),
        Field::new("previous_min_patients", DataType::Int32, false),
        Field::new("vulnerable_area", DataType::Boolean, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int32Array::from(clinics.clinic_id.clone())),
            Arc::new(Int16Array::from(clinics.kommune.clone())),
            Arc::new(Float64Array::from(clinics.capacities.clone())),
            Arc::new(Int32Array::from(clinics.previous_min_patients.clone())),
            Arc::new(BooleanArray::from(clinics.vulnerable_area.clone())),
        ],
    )
}

fn write_clinics(clinics: &SynthClinics, path: &Path) -> Result<(), OutputError> {
    let batch = clinics_batch(clinics).map_err(|e| OutputError::write(path, e))?;
    let file = std::fs::File::create(path).map_err(|e| OutputError::write(path, e))?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties(1 << 20)))
        .map_err(|e| OutputError::write(path, e))?;
    writer
        .write(&batch)
        .map_err(|e| OutputError::write(path, e))?;
    writer.close().map_err(|e| OutputError::write(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five persons drawn out of order: after `listing_order` they come by
    /// clinic, then age, then sex, persons alike in drawn order, each row
    /// still one person's values (every column carries the drawn position)
    /// and the ids still numbering the rows.
    #[test]
    fn a_block_comes_ordered_by_clinic_age_and_sex() {
        // (clinic, age, sex) of the persons as drawn.
        let drawn: [(u32, u8, u8); 5] =
            [(2, 40, 1), (1, 70, 2), (2, 40, 1), (1, 30, 2), (1, 30, 1)];
        let n = drawn.len();
        let at = |k: usize| k as u8;
        let mut population = Population {
            codes: vec![(0..n).map(at).collect()],
            numeric: vec![(0..n).map(|k| k as f64 + 0.5).collect()],
            person_id: (0..n as i64).map(|k| 100 + k).collect(),
            clinic: drawn.iter().map(|d| d.0).collect(),
            kommune: (0..n).map(|k| k as u16).collect(),
            age: drawn.iter().map(|d| d.1).collect(),
            sex: drawn.iter().map(|d| d.2).collect(),
            education: (0..n).map(at).collect(),
            income_quintile: (0..n).map(|k| at(k) + 10).collect(),
            labour: (0..n).map(|k| at(k) + 20).collect(),
            origin: (0..n).map(|k| at(k) + 30).collect(),
            lives_alone: (0..n).map(|k| k % 2 == 1).collect(),
            conditions: (0..n).map(|k| 1u64 << k).collect(),
            utilization: Some((0..n).map(|k| k as f64).collect()),
            exposure: Some((0..n).map(|k| k as f64 / 10.0).collect()),
            row_groups: Vec::new(),
        };
        let mut extras = Extras {
            civil_status: (0..n).map(at).collect(),
            income_decile: (0..n).map(|k| at(k) + 1).collect(),
            nursing_home: (0..n).map(|k| k == 3).collect(),
            deprivation: (0..n).map(|k| -(k as f64)).collect(),
        };
        listing_order(&mut population, Some(&mut extras));
        // By hand: clinic 1 (age 30 male, age 30 female, age 70), then
        // clinic 2's two alike persons in drawn order.
        let expected = [4usize, 3, 1, 0, 2];
        let p = &population;
        for (row, &k) in expected.iter().enumerate() {
            assert_eq!(
                (p.clinic[row], p.age[row], p.sex[row]),
                drawn[k],
                "row {row}"
            );
            assert_eq!(p.person_id[row], 100 + row as i64, "ids number the rows");
            assert_eq!(p.kommune[row], k as u16);
            assert_eq!(p.education[row], at(k));
            assert_eq!(p.income_quintile[row], at(k) + 10);
            assert_eq!(p.labour[row], at(k) + 20);
            assert_eq!(p.origin[row], at(k) + 30);
            assert_eq!(p.lives_alone[row], k % 2 == 1);
            assert_eq!(p.conditions[row], 1 << k);
            assert_eq!(p.codes[0][row], at(k));
            assert_eq!(p.numeric[0][row], k as f64 + 0.5);
            assert_eq!(p.utilization.as_ref().unwrap()[row], k as f64);
            assert_eq!(p.exposure.as_ref().unwrap()[row], k as f64 / 10.0);
            assert_eq!(extras.civil_status[row], at(k));
            assert_eq!(extras.income_decile[row], at(k) + 1);
            assert_eq!(extras.nursing_home[row], k == 3);
            assert_eq!(extras.deprivation[row], -(k as f64));
        }
    }
}
