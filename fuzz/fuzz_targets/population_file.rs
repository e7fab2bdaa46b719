//! Any bytes as a population Parquet file: reading, checking and the
//! references to clinics and geography end in a population or an error,
//! never a panic; each input is read for a format-1 model and for a
//! format-2 model with levels, bands, a count, a hierarchy and a numeric
//! column, whose persons' need is then computed; for both, the pass over
//! persons into a basis and a year's sums from it.
#![no_main]
use fordeling::domain::{Clinics, Geography, Kommune};
use fordeling::model::Model;
use fordeling::{ingest, validate};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const MODEL: &str = "[model]\nid = \"f\"\nlink = \"identity\"\noutcome = \"x\"\ndata_year = 2025\n[age_sex]\nmale = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\nfemale = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\n[conditions]\ncopd = 1.0\n[proposal]\n";

const MODEL2: &str = "[model]\nformat = 2\nid = \"f2\"\nlink = \"identity\"\noutcome = \"x\"\ndata_year = 2025\n[variables]\nsex = { levels = [1, 2] }\nband = { column = \"age\", edges = [0, 18, 65] }\ncivil = { column = \"civil_status\", levels = [1, 3, 5] }\nn = { count = [\"cond_copd\", \"cond_asthma\"], top = 1 }\n[[hierarchies]]\nif = \"cond_copd\"\ndrop = [\"cond_asthma\"]\n[[terms]]\nid = \"s\"\ncomponent = \"age_sex\"\nby = [\"sex\", \"band\"]\nvalues = [[1, 2, 3], [4, 5, 6]]\n[[terms]]\nid = \"c\"\ncomponent = \"socioeconomic\"\nby = [\"civil\", \"n\"]\nvalues = [[0, 1], [2, 3], [4, 5]]\n[[terms]]\nid = \"d\"\ncomponent = \"area\"\nnumeric = \"deprivation\"\ncoefficient = 2.0\n[proposal]\n";

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("fordeling-fuzz-{}.parquet", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    for (format2, text) in [(false, MODEL), (true, MODEL2)] {
        let model = Model::parse(text.as_bytes(), Path::new("m")).expect("model");
        let options = ingest::PopulationOptions {
            // From the length, not the first byte (a Parquet file's is `P`),
            // so that mutations of real files reach both settings.
            nulls_as_unknown: data.len() & 1 == 1,
            outcomes: data.len() & 2 == 2,
        };
        if let Ok(raw) = ingest::population(&path, None, &model, options) {
            let geography = Geography {
                kommuner: vec![Kommune {
                    code: 101,
                    name: "A".into(),
                    sundhedsraad: 0,
                    region: 0,
                    area_index: Some(1.0),
                }],
                sundhedsraad: vec!["S".into()],
                regions: vec!["R".into()],
            };
            let clinics = Clinics {
                clinic_id: vec![11, 22],
                kommune: vec![0, 0],
                capacities: vec![1.0, 1.0],
                capacities_given: vec![1.0, 1.0],
                capacity_adjustment: vec![0.0, 0.0],
                previous_min_patients: vec![1600.0, 1600.0],
                previous_given: vec![true, true],
                vulnerable_area: vec![false, false],
            };
            let paths = validate::Paths {
                population: &path,
                clinics: Path::new("c"),
                geography: Path::new("g"),
            };
            if let Ok(population) = validate::population(raw, &clinics, &geography, &paths) {
                let tables =
                    fordeling::weights::YearTables::new(&model, &geography, 2027, Path::new("m"))
                        .expect("tables");
                if format2 {
                    for i in 0..population.len() {
                        let _ = tables.person(&population, i);
                    }
                }
                // The pass over persons (its blocks' indices checked once,
                // then taken without a check) and a year's sums from it.
                let basis = fordeling::aggregate::Basis::new(
                    &tables,
                    &population,
                    clinics.clinic_id.len(),
                    geography.kommuner.len(),
                );
                let _ = basis.year_sums(&tables);
            }
        }
    }
});
