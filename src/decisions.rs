//! The region's decisions (SPEC section 7): final counts against the
//! model's proposals, the dialogue the law requires before a count far
//! above the current one, and the coverage of each sundhedsråd and region.
//! Pure: the files are read in `ingest::decisions` and written by the
//! `decide` command.

use crate::error::InputError;
use crate::proposal::Flags;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a final count is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Model,
    DialogueAgreement,
    LocalConditions,
    ClinicCapacity,
    VulnerableArea,
    Exemption,
    Other,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::Model,
        Reason::DialogueAgreement,
        Reason::LocalConditions,
        Reason::ClinicCapacity,
        Reason::VulnerableArea,
        Reason::Exemption,
        Reason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Model => "model",
            Reason::DialogueAgreement => "dialogue_agreement",
            Reason::LocalConditions => "local_conditions",
            Reason::ClinicCapacity => "clinic_capacity",
            Reason::VulnerableArea => "vulnerable_area",
            Reason::Exemption => "exemption",
            Reason::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The names, for messages.
    pub fn names() -> String {
        Reason::ALL.map(Reason::as_str).join(", ")
    }
}

/// Whether the dialogue with the clinic took place and how it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialogue {
    #[default]
    None,
    Agreed,
    NotAgreed,
}

impl Dialogue {
    pub const ALL: [Dialogue; 3] = [Dialogue::None, Dialogue::Agreed, Dialogue::NotAgreed];

    pub fn as_str(self) -> &'static str {
        match self {
            Dialogue::None => "none",
            Dialogue::Agreed => "agreed",
            Dialogue::NotAgreed => "not_agreed",
        }
    }

    pub fn parse(text: &str) -> Option<Dialogue> {
        Dialogue::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// One row of a decisions file, checked on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub clinic_id: i32,
    pub min_patients: i64,
    pub reason: Reason,
    pub dialogue: Dialogue,
    pub note: String,
    /// The 1-based data row in the file, for messages.
    pub row: u64,
}

/// What a clinic brings from the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposed {
    pub clinic_id: i32,
    pub proposal: Option<i64>,
    pub previous_min_patients: f64,
    pub listed: u64,
    pub flags: Flags,
}

/// A clinic's final count and how it came about.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub clinic_id: i32,
    pub proposal: Option<i64>,
    /// `None` only for a clinic with no proposal and no decision.
    pub final_min_patients: Option<i64>,
    pub deviation: Option<i64>,
    pub deviation_pct: Option<f64>,
    pub reason: Reason,
    pub dialogue: Dialogue,
    pub note: String,
    /// Whether a row of the decisions file set the count.
    pub decided: bool,
    /// The run's flags, with `dialogue` taken on the final count.
    pub flags: Flags,
}

/// The count above which a final count needs a dialogue:
/// `(1 + dialogue_threshold) · max(previous, listed)`.
pub fn dialogue_limit(previous: f64, listed: u64, dialogue_threshold: f64) -> f64 {
    (1.0 + dialogue_threshold) * previous.max(listed as f64)
}

/// Applies the decisions to the run's clinics (in the run's order).
/// Errors: a decision for a clinic the run does not have, two rows for one
/// clinic, and final counts that need a dialogue with dialogue `none`
/// (every such clinic named).
pub fn decide(
    clinics: &[Proposed],
    decisions: &[Decision],
    dialogue_threshold: f64,
    decisions_path: &Path,
    run_clinics_path: &Path,
) -> Result<Vec<Decided>, InputError> {
    let index: BTreeMap<i32, usize> = clinics
        .iter()
        .enumerate()
        .map(|(c, p)| (p.clinic_id, c))
        .collect();
    let mut by_clinic: Vec<Option<&Decision>> = vec![None; clinics.len()];
    for d in decisions {
        let &c = index
            .get(&d.clinic_id)
            .ok_or_else(|| InputError::UnknownReference {
                path: decisions_path.to_path_buf(),
                column: "clinic_id".into(),
                row: d.row,
                value: d.clinic_id.to_string(),
                other: run_clinics_path.to_path_buf(),
            })?;
        if let Some(first) = by_clinic[c] {
            return Err(InputError::Duplicate {
                path: decisions_path.to_path_buf(),
                column: "clinic_id".into(),
                row: d.row,
                first_row: first.row,
                value: d.clinic_id.to_string(),
            });
        }
        by_clinic[c] = Some(d);
    }
    let mut refused = Vec::new();
    let decided: Vec<Decided> = clinics
        .iter()
        .zip(&by_clinic)
        .map(|(p, d)| {
            let (final_count, reason, dialogue, note) = match d {
                Some(d) => (Some(d.min_patients), d.reason, d.dialogue, d.note.clone()),
                None => (p.proposal, Reason::Model, Dialogue::None, String::new()),
            };
            let limit = dialogue_limit(p.previous_min_patients, p.listed, dialogue_threshold);
            let needs_dialogue = final_count.is_some_and(|f| f as f64 > limit);
            if needs_dialogue && dialogue == Dialogue::None {
                refused.push(format!(
                    "clinic {} (final {} > {limit:.0}{})",
                    p.clinic_id,
                    final_count.unwrap_or_default(),
                    match d {
                        Some(d) => format!(", row {}", d.row),
                        None => ", no row: the model's proposal".to_string(),
                    }
                ));
            }
            let deviation = match (final_count, p.proposal) {
                (Some(f), Some(q)) => Some(f - q),
                _ => None,
            };
            let deviation_pct = match (deviation, p.proposal) {
                (Some(dev), Some(q)) if q > 0 => Some(100.0 * dev as f64 / q as f64),
                _ => None,
            };
            Decided {
                clinic_id: p.clinic_id,
                proposal: p.proposal,
                final_min_patients: final_count,
                deviation,
                deviation_pct,
                reason,
                dialogue,
                note,
                decided: d.is_some(),
                flags: Flags {
                    dialogue: needs_dialogue,
                    ..p.flags
                },
            }
        })
        .collect();
    if !refused.is_empty() {
        return Err(InputError::Other {
            path: decisions_path.to_path_buf(),
            detail: format!(
                "{} final counts are above (1 + dialogue_threshold {dialogue_threshold}) × max(previous, listed) with dialogue `none`; the law requires the dialogue first (record `agreed` or `not_agreed`): {}",
                refused.len(),
                refused.join("; ")
            ),
        });
    }
    Ok(decided)
}

/// Reads a decisions file (CSV or Parquet) into its rows.
pub fn ingest_rows(path: &Path) -> Result<Vec<Decision>, InputError> {
    crate::ingest::decisions::read(path)
}

/// A year's proposals as `decide` takes them.
pub fn proposed_from(clinic_ids: &[i32], result: &crate::year::RunResult) -> Vec<Proposed> {
    clinic_ids
        .iter()
        .enumerate()
        .map(|(c, &clinic_id)| Proposed {
            clinic_id,
            proposal: result.proposals[c].min_patients,
            previous_min_patients: result.previous_min_patients[c],
            listed: result.need.clinics[c].n_patients,
            flags: result.proposals[c].flags,
        })
        .collect()
}

/// The count a clinic carries into next year: its final count, else
/// (no proposal, no decision) last year's.
pub fn next_previous(decided: &Decided, previous: f64) -> f64 {
    decided
        .final_min_patients
        .map_or(previous, |count| count as f64)
}

/// One row of the coverage table.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// `sundhedsraad` or `region`.
    pub level: &'static str,
    pub name: String,
    pub final_min_patients: i64,
    pub listed: u64,
    /// `None` when the run's area table suppressed it.
    pub residents: Option<u64>,
    pub covered: Option<bool>,
}

/// Σ final counts and persons listed at the clinics located in each area,
/// against its residents. `areas` lists `(level, name, residents)` in the
/// order of the rows; `located[c]` gives clinic `c`'s sundhedsråd and
/// region names.
pub fn coverage(
    decided: &[Decided],
    listed: &[u64],
    located: &[(String, String)],
    areas: &[(&'static str, String, Option<u64>)],
) -> Vec<Coverage> {
    let mut sums: BTreeMap<(&str, &str), (i64, u64)> = BTreeMap::new();
    for ((d, &n), (council, region)) in decided.iter().zip(listed).zip(located) {
        for key in [
            ("sundhedsraad", council.as_str()),
            ("region", region.as_str()),
        ] {
            let s = sums.entry(key).or_default();
            s.0 += d.final_min_patients.unwrap_or(0);
            s.1 += n;
        }
    }
    areas
        .iter()
        .map(|(level, name, residents)| {
            let (final_min_patients, listed) = sums
                .get(&(*level, name.as_str()))
                .copied()
                .unwrap_or_default();
            Coverage {
                level,
                name: name.clone(),
                final_min_patients,
                listed,
                residents: *residents,
                covered: residents.map(|r| final_min_patients >= r as i64),
            }
        })
        .collect()
}

/// Counts of decisions by reason, and their summed deviation.
pub fn by_reason(decided: &[Decided]) -> Vec<(Reason, usize, i64)> {
    Reason::ALL
        .into_iter()
        .map(|r| {
            let rows: Vec<&Decided> = decided.iter().filter(|d| d.reason == r).collect();
            let deviation = rows.iter().filter_map(|d| d.deviation).sum();
            (r, rows.len(), deviation)
        })
        .collect()
}

/// The path a decisions file for `year` has in a `--decisions-dir`
/// (`decisions-YEAR.csv` or `.parquet`), if one is there.
pub fn year_file(dir: &Path, year: i32) -> Option<PathBuf> {
    ["csv", "parquet"]
        .iter()
        .map(|ext| dir.join(format!("decisions-{year}.{ext}")))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposed(id: i32, proposal: Option<i64>, previous: f64, listed: u64) -> Proposed {
        Proposed {
            clinic_id: id,
            proposal,
            previous_min_patients: previous,
            listed,
            flags: Flags::default(),
        }
    }

    fn decision(id: i32, count: i64, reason: Reason, dialogue: Dialogue, row: u64) -> Decision {
        Decision {
            clinic_id: id,
            min_patients: count,
            reason,
            dialogue,
            note: String::new(),
            row,
        }
    }

    #[test]
    fn by_hand() {
        // Threshold 0.10: clinic 1's limit is 1.1 × max(1600, 1500) = 1760.
        let clinics = [
            proposed(1, Some(1600), 1600.0, 1500),
            proposed(2, Some(1400), 1500.0, 1450),
            proposed(3, None, 1600.0, 0),
        ];
        let decisions = [
            decision(1, 1800, Reason::DialogueAgreement, Dialogue::Agreed, 1),
            decision(3, 500, Reason::Exemption, Dialogue::None, 2),
        ];
        let p = Path::new("d.csv");
        let d = decide(&clinics, &decisions, 0.10, p, p).unwrap();
        assert_eq!(d[0].final_min_patients, Some(1800));
        assert_eq!(d[0].deviation, Some(200));
        assert_eq!(d[0].deviation_pct, Some(12.5));
        assert!(d[0].flags.dialogue && d[0].decided);
        assert_eq!(
            (d[1].final_min_patients, d[1].reason),
            (Some(1400), Reason::Model)
        );
        assert_eq!((d[1].deviation, d[1].deviation_pct), (Some(0), Some(0.0)));
        assert_eq!((d[2].final_min_patients, d[2].deviation), (Some(500), None));

        let located = vec![
            ("A".to_string(), "R".to_string()),
            ("A".to_string(), "R".to_string()),
            ("B".to_string(), "R".to_string()),
        ];
        let areas = vec![
            ("sundhedsraad", "A".to_string(), Some(3200)),
            ("sundhedsraad", "B".to_string(), Some(600)),
            ("sundhedsraad", "C".to_string(), Some(10)),
            ("region", "R".to_string(), Some(3810)),
        ];
        let c = coverage(&d, &[1500, 1450, 0], &located, &areas);
        // A: 1800 + 1400 = 3200 ≥ 3200; B: 500 < 600; C: no clinics.
        assert_eq!(
            (c[0].final_min_patients, c[0].listed, c[0].covered),
            (3200, 2950, Some(true))
        );
        assert_eq!((c[1].final_min_patients, c[1].covered), (500, Some(false)));
        assert_eq!((c[2].final_min_patients, c[2].covered), (0, Some(false)));
        assert_eq!((c[3].final_min_patients, c[3].covered), (3700, Some(false)));
    }

    #[test]
    fn a_count_that_needs_a_dialogue_is_refused_naming_every_clinic() {
        let clinics = [
            proposed(1, Some(1600), 1600.0, 1500),
            proposed(2, Some(1900), 1600.0, 1500),
            proposed(3, Some(1600), 1600.0, 1500),
        ];
        // 1761 > 1760 with no dialogue; clinic 2 has no row, and the
        // model's 1900 needs a dialogue too; exactly 1760 does not.
        let decisions = [
            decision(1, 1761, Reason::LocalConditions, Dialogue::None, 1),
            decision(3, 1760, Reason::LocalConditions, Dialogue::None, 2),
        ];
        let p = Path::new("d.csv");
        let text = decide(&clinics, &decisions, 0.10, p, p)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("clinic 1 (final 1761 > 1760, row 1)"),
            "{text}"
        );
        assert!(
            text.contains("clinic 2 (final 1900 > 1760, no row"),
            "{text}"
        );
        assert!(!text.contains("clinic 3"), "{text}");
    }

    #[test]
    fn unknown_and_duplicate_clinics() {
        let clinics = [proposed(1, Some(1600), 1600.0, 1500)];
        let p = Path::new("d.csv");
        let unknown = [decision(9, 1600, Reason::Other, Dialogue::None, 4)];
        let text = decide(&clinics, &unknown, 0.1, p, Path::new("run/clinics.csv"))
            .unwrap_err()
            .to_string();
        assert!(text.contains("row 4") && text.contains("`9`"), "{text}");
        let twice = [
            decision(1, 1600, Reason::Other, Dialogue::None, 1),
            decision(1, 1500, Reason::Other, Dialogue::None, 2),
        ];
        let text = decide(&clinics, &twice, 0.1, p, p).unwrap_err().to_string();
        assert!(
            text.contains("row 2") && text.contains("duplicates row 1"),
            "{text}"
        );
    }
}
