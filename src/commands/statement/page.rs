//! A clinic's statement (SPEC section 8): one self-contained, printable
//! A4 page that explains the clinic's minimum patient count to its
//! doctors, in Danish (the default) or English. The page shows what
//! `explain` computes, in words: the clinic's patients and capacity, the
//! count and its interval, each flag and what it means, the need term by
//! term against the nation and the kommune, each care package in force,
//! the steps from need to count, the change from last year, and, after
//! the region's decision, the final count and its reason. No script, no
//! font or image from outside: it prints the same everywhere.

use crate::commands::explain::Account;
use crate::report::svg::esc;
use std::fmt::Write;

/// The language of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Da,
    En,
}

impl Language {
    pub fn parse(text: &str) -> Option<Language> {
        match text {
            "da" => Some(Language::Da),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    fn pick<'a>(self, da: &'a str, en: &'a str) -> &'a str {
        match self {
            Language::Da => da,
            Language::En => en,
        }
    }
}

/// The region's decision on the clinic (a `decide` output).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub final_min_patients: Option<i64>,
    pub proposal: Option<i64>,
    pub deviation: Option<i64>,
    pub deviation_pct: Option<f64>,
    /// `model`, `dialogue_agreement`, ... (SPEC section 7).
    pub reason: String,
    /// `none`, `agreed`, `not_agreed`.
    pub dialogue: String,
    pub note: String,
}

/// Everything a statement shows beyond the clinic's account.
#[derive(Debug, Clone)]
pub struct Context {
    /// The mean need weight of the residents of the clinic's kommune.
    pub kommune_mean_weight: Option<f64>,
    /// The model's `[proposal]` rules the steps used.
    pub max_increase: f64,
    pub max_decrease: f64,
    pub dialogue_threshold: f64,
    /// SHA-256 of the run's `manifest.json`.
    pub run_manifest_sha256: String,
    /// `fordeling 0.1.0 (commit ...)`.
    pub engine: String,
    pub decision: Option<Decision>,
}

/// A number with `decimals` decimals, grouped in thousands, in the
/// language's way (Danish `1.234,5`, English `1,234.5`).
pub fn number(value: f64, decimals: usize, language: Language) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let (group, point) = match language {
        Language::Da => ('.', ','),
        Language::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (k, ch) in whole.chars().enumerate() {
        if k > 0 && (whole.len() - k) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(ch);
    }
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('−');
    }
    out.push_str(&grouped);
    if !fraction.is_empty() {
        out.push(point);
        out.push_str(fraction);
    }
    out
}

fn signed(value: f64, decimals: usize, language: Language) -> String {
    let text = number(value, decimals, language);
    if value > 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{text}")
    } else {
        text
    }
}

fn opt(value: Option<f64>, decimals: usize, language: Language) -> String {
    value.map_or_else(|| "–".into(), |v| number(v, decimals, language))
}

fn percent(share: f64, decimals: usize, language: Language) -> String {
    let n = number(100.0 * share, decimals, language);
    match language {
        Language::Da => format!("{n} %"),
        Language::En => format!("{n}%"),
    }
}

fn component_name(component: &str, language: Language) -> &'static str {
    match (component, language) {
        ("age_sex", Language::Da) => "Alder og køn",
        ("age_sex", Language::En) => "Age and sex",
        ("socioeconomic", Language::Da) => "Socioøkonomi",
        ("socioeconomic", Language::En) => "Socioeconomic factors",
        ("conditions", Language::Da) => "Kroniske sygdomme",
        ("conditions", Language::En) => "Chronic conditions",
        ("multimorbidity", Language::Da) => "Multisygdom",
        ("multimorbidity", Language::En) => "Multimorbidity",
        ("area", Language::Da) => "Områdets sygdomsbillede",
        ("area", Language::En) => "The area's disease picture",
        ("packages", Language::Da) => "Pakkeforløb",
        ("packages", Language::En) => "Care packages",
        (_, Language::Da) => "Andet",
        (_, Language::En) => "Other",
    }
}

/// A care package's name; the model's id for one the engine does not know.
fn package_name(id: &str, language: Language) -> String {
    let known = match (id, language) {
        ("copd", Language::Da) => "KOL",
        ("copd", Language::En) => "COPD",
        ("low_back_pain", Language::Da) => "Lænderygsmerter",
        ("low_back_pain", Language::En) => "Low back pain",
        ("diabetes_t2", Language::Da) => "Type 2-diabetes",
        ("diabetes_t2", Language::En) => "Type 2 diabetes",
        ("heart_disease", Language::Da) => "Hjertesygdom",
        ("heart_disease", Language::En) => "Heart disease",
        ("complex_multimorbidity", Language::Da) => "Kompleks multisygdom",
        ("complex_multimorbidity", Language::En) => "Complex multimorbidity",
        _ => "",
    };
    if known.is_empty() {
        id.to_string()
    } else {
        known.to_string()
    }
}

fn reason_name(reason: &str, language: Language) -> String {
    let name = match (reason, language) {
        ("model", Language::Da) => "Modellens forslag",
        ("model", Language::En) => "The model's proposal",
        ("dialogue_agreement", Language::Da) => "Aftalt i dialog med klinikken",
        ("dialogue_agreement", Language::En) => "Agreed in dialogue with the clinic",
        ("local_conditions", Language::Da) => "Lokale forhold",
        ("local_conditions", Language::En) => "Local conditions",
        ("clinic_capacity", Language::Da) => "Klinikkens kapacitet",
        ("clinic_capacity", Language::En) => "The clinic's capacity",
        ("vulnerable_area", Language::Da) => "Hensyn til udsat boligområde",
        ("vulnerable_area", Language::En) => "Care for a vulnerable housing area",
        ("exemption", Language::Da) => "Dispensation",
        ("exemption", Language::En) => "Exemption",
        ("other", Language::Da) => "Anden begrundelse",
        ("other", Language::En) => "Another reason",
        _ => "",
    };
    if name.is_empty() {
        reason.to_string()
    } else {
        name.to_string()
    }
}

fn dialogue_name(dialogue: &str, language: Language) -> &'static str {
    match (dialogue, language) {
        ("agreed", Language::Da) => "dialog ført, enighed",
        ("agreed", Language::En) => "dialogue held, agreed",
        ("not_agreed", Language::Da) => "dialog ført, ikke enighed",
        ("not_agreed", Language::En) => "dialogue held, not agreed",
        (_, Language::Da) => "ingen dialog",
        (_, Language::En) => "no dialogue",
    }
}

fn level_text(a: &Account, language: Language) -> String {
    let s = &a.steps;
    match (s.load_level.as_str(), language) {
        ("nation", Language::Da) => "for hele landet".into(),
        ("nation", Language::En) => "for the whole country".into(),
        ("region", Language::Da) => format!("for {}", s.load_area),
        ("region", Language::En) => format!("for {}", s.load_area),
        (_, Language::Da) => format!("for sundhedsråd {}", s.load_area),
        (_, Language::En) => format!("for the sundhedsråd {}", s.load_area),
    }
}

/// A sentence for each flag the clinic carries.
fn flag_sentences(a: &Account, c: &Context, l: Language) -> Vec<(String, String)> {
    let u = &a.uncertainty;
    a.flags
        .iter()
        .map(|f| {
            let (title, text) = match (f.flag, l) {
                ("capped", Language::Da) => (
                    "Overgangsloft".to_string(),
                    format!(
                        "Tallet er begrænset af overgangsreglen: det må højst stige {} og falde {} i forhold til sidste års {}. Uden loftet ville tallet være {}.",
                        percent(c.max_increase, 0, l),
                        percent(c.max_decrease, 0, l),
                        number(a.steps.previous_min_patients, 0, l),
                        opt(a.steps.after_floor_and_ceiling, 0, l)
                    ),
                ),
                ("capped", Language::En) => (
                    "Transition cap".to_string(),
                    format!(
                        "The count is limited by the transition rule: it may rise at most {} and fall at most {} from last year's {}. Without the cap it would be {}.",
                        percent(c.max_increase, 0, l),
                        percent(c.max_decrease, 0, l),
                        number(a.steps.previous_min_patients, 0, l),
                        opt(a.steps.after_floor_and_ceiling, 0, l)
                    ),
                ),
                ("uncertain", Language::Da) => (
                    "Usikkert tal".to_string(),
                    format!(
                        "Klinikken har få patienter eller stor spredning i deres behandlingsbehov, så usikkerhedsintervallet er bredere end {} af det beregnede tal ({}). Regionen inddrager usikkerheden i dialogen med klinikken.",
                        percent(u.threshold, 0, l),
                        u.relative_width.map_or_else(|| "ukendt".into(), |w| percent(w, 1, l))
                    ),
                ),
                ("uncertain", Language::En) => (
                    "Uncertain count".to_string(),
                    format!(
                        "The clinic has few patients or a wide spread in their treatment need, so the uncertainty interval is wider than {} of the computed count ({}). The region takes the uncertainty into its dialogue with the clinic.",
                        percent(u.threshold, 0, l),
                        u.relative_width.map_or_else(|| "unknown".into(), |w| percent(w, 1, l))
                    ),
                ),
                ("dialogue", Language::Da) => (
                    "Dialog påkrævet".to_string(),
                    format!(
                        "Tallet ligger mere end {} over både sidste års minimumspatienttal og det nuværende antal tilmeldte patienter. Regionen skal drøfte det med klinikken, før det fastsættes.",
                        percent(c.dialogue_threshold, 0, l)
                    ),
                ),
                ("dialogue", Language::En) => (
                    "Dialogue required".to_string(),
                    format!(
                        "The count is more than {} above both last year's minimum patient count and the patients listed today. The region must discuss it with the clinic before it is set.",
                        percent(c.dialogue_threshold, 0, l)
                    ),
                ),
                ("vulnerable_area", Language::Da) => (
                    "Udsat boligområde".to_string(),
                    "Klinikken ligger i eller ved et udsat boligområde. Regionen tager særligt hensyn til det, når tallet fastsættes.".to_string(),
                ),
                ("vulnerable_area", Language::En) => (
                    "Vulnerable housing area".to_string(),
                    "The clinic lies in or next to a vulnerable housing area. The region takes special care of this when it sets the count.".to_string(),
                ),
                ("empty", Language::Da) => (
                    "Ingen patienter".to_string(),
                    "Klinikken har ingen tilmeldte patienter, så der kan ikke beregnes et behandlingsbehov eller et tal.".to_string(),
                ),
                (_, Language::Da) => (f.flag.to_string(), f.reason.clone()),
                (_, Language::En) => (f.flag.to_string(), f.reason.clone()),
            };
            (title, text)
        })
        .collect()
}

const STYLE: &str = r#"
@page { size: A4; margin: 12mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 8.6pt; line-height: 1.3; color: #111; margin: 0; }
main { max-width: 182mm; margin: 0 auto; }
h1 { font-size: 15pt; margin: 0 0 1mm; }
h2 { font-size: 10pt; margin: 3mm 0 1mm; border-bottom: 0.3mm solid #999; padding-bottom: 0.5mm; }
p { margin: 0.8mm 0; }
.sub { color: #444; margin-bottom: 2mm; }
.top { display: flex; gap: 4mm; align-items: stretch; }
.facts { flex: 1; border-collapse: collapse; }
.facts td { padding: 0.4mm 2mm 0.4mm 0; vertical-align: top; }
.facts td:first-child { color: #444; white-space: nowrap; }
.count { flex: 0 0 62mm; border: 0.5mm solid #1d4e89; border-radius: 2mm; padding: 2mm 3mm; text-align: center; }
.count .label { font-size: 8.5pt; color: #1d4e89; font-weight: bold; }
.count .big { font-size: 28pt; font-weight: bold; color: #1d4e89; line-height: 1.1; }
.count .small { font-size: 7.8pt; color: #333; }
table.t { border-collapse: collapse; width: 100%; margin: 1mm 0; }
table.t th, table.t td { padding: 0.5mm 1.5mm; border-bottom: 0.2mm solid #ddd; text-align: left; }
table.t th { background: #eef2f7; font-weight: bold; }
table.t td.n, table.t th.n { text-align: right; white-space: nowrap; }
.flag { margin: 0.8mm 0; }
.flag b { color: #8a3b00; }
ol.steps { margin: 0.5mm 0 0.5mm 5mm; padding: 0; }
ol.steps li { margin: 0.3mm 0; }
.foot { margin-top: 3mm; font-size: 7.2pt; color: #555; border-top: 0.2mm solid #999; padding-top: 1mm; }
.above { color: #8a3b00; }
.below { color: #1d6b2f; }
@media screen { body { background: #f3f3f3; } main { background: #fff; padding: 12mm 14mm; margin: 5mm auto; box-shadow: 0 0 2mm #aaa; max-width: 210mm; } }
"#;

/// The page of one clinic.
pub fn page(a: &Account, c: &Context, l: Language) -> String {
    let mut h = String::new();
    let s = &a.steps;
    let u = &a.uncertainty;
    let title = match l {
        Language::Da => format!("Minimumspatienttal {} for klinik {}", a.year, a.clinic_id),
        Language::En => format!(
            "Minimum patient count {} for clinic {}",
            a.year, a.clinic_id
        ),
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><main>",
        l.pick("da", "en"),
        esc(&title)
    );
    let _ = write!(h, "<h1>{}</h1>", esc(&title));
    let _ = write!(
        h,
        "<p class=\"sub\">{}</p>",
        esc(&match l {
            Language::Da => format!(
                "Den nationale fordelingsmodel for almen praksis, {}. {}",
                a.year,
                if c.decision.is_some() {
                    "Regionens afgørelse og modellens forslag."
                } else {
                    "Modellens forslag; regionen fastsætter det endelige tal efter dialog med klinikken."
                }
            ),
            Language::En => format!(
                "The national distribution model for general practice, {}. {}",
                a.year,
                if c.decision.is_some() {
                    "The region's decision and the model's proposal."
                } else {
                    "The model's proposal; the region sets the final count after a dialogue with the clinic."
                }
            ),
        })
    );

    // The clinic and its count.
    h.push_str("<div class=\"top\"><table class=\"facts\">");
    let mut fact = |label: &str, value: String| {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(label),
            esc(&value)
        );
    };
    fact(l.pick("Klinik", "Clinic"), a.clinic_id.to_string());
    fact(
        l.pick("Kommune", "Kommune"),
        format!("{} ({})", a.kommune_name, a.kommune),
    );
    fact(l.pick("Sundhedsråd", "Sundhedsråd"), a.sundhedsraad.clone());
    fact(l.pick("Region", "Region"), a.region.clone());
    let capacity = if s.capacity_adjustment != 0.0 {
        match l {
            Language::Da => format!(
                "{} kapaciteter, justeret med {} til {}",
                number(s.capacities_given, 2, l),
                signed(s.capacity_adjustment, 2, l),
                number(s.capacities, 2, l)
            ),
            Language::En => format!(
                "{} capacities, adjusted by {} to {}",
                number(s.capacities_given, 2, l),
                signed(s.capacity_adjustment, 2, l),
                number(s.capacities, 2, l)
            ),
        }
    } else {
        format!(
            "{} {}",
            number(s.capacities, 2, l),
            l.pick("kapaciteter", "capacities")
        )
    };
    fact(l.pick("Lægekapacitet", "Doctor capacity"), capacity);
    fact(
        l.pick("Tilmeldte patienter", "Listed patients"),
        number(a.n_patients as f64, 0, l),
    );
    fact(
        l.pick(
            "Sidste års minimumspatienttal",
            "Last year's minimum patient count",
        ),
        number(s.previous_min_patients, 0, l),
    );
    fact(l.pick("Model", "Model"), a.model_id.clone());
    h.push_str("</table>");

    let proposal = s.min_patients;
    let shown = c
        .decision
        .as_ref()
        .map_or(proposal, |d| d.final_min_patients);
    let _ = write!(
        h,
        "<div class=\"count\"><div class=\"label\">{}</div><div class=\"big\" id=\"count\" data-count=\"{}\">{}</div>",
        esc(&match (&c.decision, l) {
            (Some(_), Language::Da) => format!("Minimumspatienttal {} (regionens afgørelse)", a.year),
            (Some(_), Language::En) => format!("Minimum patient count {} (the region's decision)", a.year),
            (None, Language::Da) => format!("Minimumspatienttal {}", a.year),
            (None, Language::En) => format!("Minimum patient count {}", a.year),
        }),
        shown.map_or_else(String::new, |v| v.to_string()),
        shown.map_or_else(|| "–".into(), |v| number(v as f64, 0, l))
    );
    if let Some(d) = &c.decision {
        let _ = write!(
            h,
            "<div class=\"small\">{} {}</div>",
            l.pick("Modellens forslag:", "The model's proposal:"),
            esc(&d
                .proposal
                .map_or_else(|| "–".into(), |v| number(v as f64, 0, l)))
        );
    }
    let _ = write!(
        h,
        "<div class=\"small\">{} {}</div>",
        l.pick(
            "95 %-usikkerhedsinterval for det beregnede tal:",
            "95% uncertainty interval of the computed count:"
        ),
        match (u.raw_lower, u.raw_upper) {
            (None, None) => "–".to_string(),
            (lo, hi) => format!("{}–{}", opt(lo, 0, l), opt(hi, 0, l)),
        }
    );
    let change = match (s.change, s.change_pct) {
        (Some(change), Some(pct)) => format!(
            "{} {} ({})",
            signed(change, 0, l),
            l.pick("patienter", "patients"),
            {
                let p = signed(pct, 1, l);
                match l {
                    Language::Da => format!("{p} %"),
                    Language::En => format!("{p}%"),
                }
            }
        ),
        (Some(change), None) => format!(
            "{} {}",
            signed(change, 0, l),
            l.pick("patienter", "patients")
        ),
        _ => "–".into(),
    };
    let _ = write!(
        h,
        "<div class=\"small\">{} {}</div></div></div>",
        l.pick(
            "Ændring fra sidste år (forslaget):",
            "Change from last year (the proposal):"
        ),
        esc(&change)
    );

    // The region's decision.
    if let Some(d) = &c.decision {
        let _ = write!(
            h,
            "<h2>{}</h2>",
            l.pick("Regionens afgørelse", "The region's decision")
        );
        let deviation = match (d.deviation, d.deviation_pct) {
            (Some(0), _) | (None, _) => l
                .pick(
                    "Det endelige tal er modellens forslag.",
                    "The final count is the model's proposal.",
                )
                .to_string(),
            (Some(v), pct) => {
                let p = pct.map_or_else(String::new, |p| {
                    let p = signed(p, 1, l);
                    match l {
                        Language::Da => format!(" ({p} %)"),
                        Language::En => format!(" ({p}%)"),
                    }
                });
                match l {
                    Language::Da => format!(
                        "Det endelige tal afviger {} patienter{p} fra modellens forslag.",
                        signed(v as f64, 0, l)
                    ),
                    Language::En => format!(
                        "The final count deviates by {} patients{p} from the model's proposal.",
                        signed(v as f64, 0, l)
                    ),
                }
            }
        };
        let change = d.final_min_patients.map_or_else(String::new, |v| {
            let change = v as f64 - s.previous_min_patients;
            match l {
                Language::Da => format!(
                    " Det er {} patienter i forhold til sidste års {}.",
                    signed(change, 0, l),
                    number(s.previous_min_patients, 0, l)
                ),
                Language::En => format!(
                    " That is {} patients against last year's {}.",
                    signed(change, 0, l),
                    number(s.previous_min_patients, 0, l)
                ),
            }
        });
        let _ = write!(
            h,
            "<p>{} <b>{}</b> ({}). {}{}</p>",
            l.pick("Begrundelse:", "Reason:"),
            esc(&reason_name(&d.reason, l)),
            esc(dialogue_name(&d.dialogue, l)),
            esc(&deviation),
            esc(&change)
        );
        if !d.note.is_empty() {
            let _ = write!(
                h,
                "<p>{} {}</p>",
                l.pick("Bemærkning:", "Note:"),
                esc(&d.note)
            );
        }
        let _ = write!(
            h,
            "<p>{}</p>",
            l.pick(
                "Afgørelsen kan påklages til Praksisklagenævnet.",
                "The decision can be appealed to Praksisklagenævnet."
            )
        );
    }

    // Flags.
    let _ = write!(h, "<h2>{}</h2>", l.pick("Markeringer", "Flags"));
    let flags = flag_sentences(a, c, l);
    if flags.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            l.pick(
                "Ingen: tallet er ikke begrænset af overgangsloftet, usikkerheden er inden for grænsen, og det kræver ikke dialog.",
                "None: the count is not limited by the transition cap, its uncertainty is within the limit, and it needs no dialogue."
            )
        );
    }
    for (title, text) in &flags {
        let _ = write!(
            h,
            "<p class=\"flag\"><b>{}.</b> {}</p>",
            esc(title),
            esc(text)
        );
    }

    // Need.
    let _ = write!(
        h,
        "<h2>{}</h2>",
        l.pick("Klinikkens behandlingsbehov", "The clinic's treatment need")
    );
    let mean = s.mean_weight.unwrap_or(0.0);
    let kommune = c
        .kommune_mean_weight
        .map_or_else(|| "–".into(), |w| number(w, 3, l));
    let summary = if a.n_patients == 0 {
        l.pick(
            "Klinikken har ingen tilmeldte patienter, så der er intet behandlingsbehov at vise.",
            "The clinic has no listed patients, so there is no treatment need to show.",
        )
        .to_string()
    } else {
        match l {
                Language::Da => format!(
                    "Klinikkens {} patienter svarer til {} sygdomsvægtede borgere: et gennemsnitligt behandlingsbehov på {} pr. patient, hvor landsgennemsnittet er 1,000 og gennemsnittet for borgerne i {} er {}. {}",
                    number(a.n_patients as f64, 0, l),
                    number(a.need, 1, l),
                    number(mean, 3, l),
                    a.kommune_name,
                    kommune,
                    if mean > 1.0 {
                        "Patienterne har altså et større behov end gennemsnittet, og klinikken skal derfor have færre patienter pr. lægekapacitet."
                    } else {
                        "Patienterne har altså et mindre behov end gennemsnittet, og klinikken kan derfor have flere patienter pr. lægekapacitet."
                    }
                ),
                Language::En => format!(
                    "The clinic's {} patients count as {} need-weighted citizens: a mean treatment need of {} per patient, where the national mean is 1.000 and the mean of the residents of {} is {}. {}",
                    number(a.n_patients as f64, 0, l),
                    number(a.need, 1, l),
                    number(mean, 3, l),
                    a.kommune_name,
                    kommune,
                    if mean > 1.0 {
                        "The patients' need is above average, so the clinic gets fewer patients per doctor capacity."
                    } else {
                        "The patients' need is below average, so the clinic can take more patients per doctor capacity."
                    }
                ),
            }
    };
    let _ = write!(h, "<p>{}</p>", esc(&summary));
    let _ = write!(
        h,
        "<table class=\"t\"><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        l.pick("Del af behovet", "Part of need"),
        l.pick("Klinikken pr. patient", "Clinic per patient"),
        l.pick("Landet pr. borger", "Nation per person"),
        l.pick("Forskel", "Difference")
    );
    let rows: Vec<(String, f64, f64)> = if a.terms.is_empty() {
        a.parts
            .iter()
            .map(|p| {
                (
                    component_name(p.component, l).to_string(),
                    p.clinic_per_patient,
                    p.national_per_person,
                )
            })
            .collect()
    } else {
        // A format-2 model: its terms, the largest differences first.
        let mut terms: Vec<(String, f64, f64)> = a
            .terms
            .iter()
            .map(|t| {
                (
                    format!("{} ({})", t.id, component_name(t.component, l)),
                    t.clinic_per_patient,
                    t.national_per_person,
                )
            })
            .collect();
        terms.sort_by(|x, y| (y.1 - y.2).abs().total_cmp(&(x.1 - x.2).abs()));
        terms.truncate(10);
        terms
    };
    for (name, clinic, nation) in &rows {
        let diff = clinic - nation;
        let class = if diff > 0.0005 {
            "above"
        } else if diff < -0.0005 {
            "below"
        } else {
            ""
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {class}\">{}</td></tr>",
            esc(name),
            number(*clinic, 3, l),
            number(*nation, 3, l),
            signed(diff, 3, l)
        );
    }
    let _ = write!(
        h,
        "<tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">1{}000</th><th class=\"n\">{}</th></tr></table>",
        l.pick("I alt", "Total"),
        number(mean, 3, l),
        l.pick(",", "."),
        signed(mean - 1.0, 3, l)
    );
    if a.terms.len() > rows.len() {
        let _ = write!(
            h,
            "<p>{}</p>",
            esc(&match l {
                Language::Da => format!(
                    "Modellen har {} led; de {} med størst forskel er vist.",
                    a.terms.len(),
                    rows.len()
                ),
                Language::En => format!(
                    "The model has {} terms; the {} with the largest differences are shown.",
                    a.terms.len(),
                    rows.len()
                ),
            })
        );
    }

    // Care packages.
    let _ = write!(h, "<h2>{}</h2>", l.pick("Pakkeforløb", "Care packages"));
    let in_force: Vec<_> = a.packages.iter().filter(|p| p.phase_share > 0.0).collect();
    if in_force.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            l.pick(
                "Ingen pakkeforløb er i kraft i året.",
                "No care package is in force this year."
            )
        );
    } else {
        let _ = write!(
            h,
            "<table class=\"t\"><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
            l.pick("Pakkeforløb i kraft", "Package in force"),
            l.pick("Indfaset", "Phased in"),
            l.pick("Klinikkens patienter omfattet", "Clinic's patients qualifying"),
            l.pick("Landet", "Nation"),
            l.pick("Tillæg til behovet", "Added to need")
        );
        for p in &in_force {
            let _ = write!(
                h,
                "<tr><td>{} ({} {})</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&package_name(&p.id, l)),
                l.pick("fra", "from"),
                p.start_year,
                percent(p.phase_share, 0, l),
                percent(p.clinic, 1, l),
                percent(p.national, 1, l),
                signed(p.clinic_need, 1, l)
            );
        }
        h.push_str("</table>");
        let _ = write!(
            h,
            "<p>{}</p>",
            l.pick(
                "Tillægget er i sygdomsvægtede borgere: så meget lægger pakkeforløbet til klinikkens behandlingsbehov.",
                "The addition is in need-weighted citizens: what the package adds to the clinic's treatment need."
            )
        );
    }
    let later: Vec<String> = a
        .packages
        .iter()
        .filter(|p| p.phase_share <= 0.0)
        .map(|p| format!("{} ({})", package_name(&p.id, l), p.start_year))
        .collect();
    if !later.is_empty() {
        let _ = write!(
            h,
            "<p>{} {}.</p>",
            l.pick("Senere pakkeforløb:", "Later packages:"),
            esc(&later.join(", "))
        );
    }

    // The count, step by step.
    let _ = write!(
        h,
        "<h2>{}</h2><ol class=\"steps\">",
        l.pick("Sådan er tallet beregnet", "How the count is computed")
    );
    let _ = write!(
        h,
        "<li>{}</li>",
        esc(&match l {
            Language::Da => format!(
                "Referencebelastningen {} er L = {} sygdomsvægtede borgere pr. lægekapacitet (landets L = {}).",
                level_text(a, l),
                number(s.load, 1, l),
                number(s.national_load, 1, l)
            ),
            Language::En => format!(
                "The reference load {} is L = {} need-weighted citizens per doctor capacity (the nation's L = {}).",
                level_text(a, l),
                number(s.load, 1, l),
                number(s.national_load, 1, l)
            ),
        })
    );
    let _ = write!(
        h,
        "<li>{}</li>",
        esc(&match l {
            Language::Da => format!(
                "Beregnet tal = lægekapacitet × L × lukkeandel ÷ gennemsnitligt behov = {} × {} × {} ÷ {} = {}.",
                number(s.capacities, 2, l),
                number(s.load, 1, l),
                number(s.closing_fraction, 2, l),
                opt(s.mean_weight, 3, l),
                opt(s.raw_min_patients, 1, l)
            ),
            Language::En => format!(
                "Computed count = doctor capacity × L × closing fraction ÷ mean need = {} × {} × {} ÷ {} = {}.",
                number(s.capacities, 2, l),
                number(s.load, 1, l),
                number(s.closing_fraction, 2, l),
                opt(s.mean_weight, 3, l),
                opt(s.raw_min_patients, 1, l)
            ),
        })
    );
    let _ = write!(
        h,
        "<li>{}</li>",
        esc(&match l {
            Language::Da => format!(
                "Gulv og loft pr. lægekapacitet ({} og {}) giver {}.",
                opt(s.floor, 0, l),
                opt(s.ceiling, 0, l),
                opt(s.after_floor_and_ceiling, 1, l)
            ),
            Language::En => format!(
                "The floor and ceiling per doctor capacity ({} and {}) give {}.",
                opt(s.floor, 0, l),
                opt(s.ceiling, 0, l),
                opt(s.after_floor_and_ceiling, 1, l)
            ),
        })
    );
    let _ = write!(
        h,
        "<li>{}</li>",
        esc(&match l {
            Language::Da => format!(
                "Overgangsloftet omkring sidste års {} (fra {} til {}) giver {}.",
                number(s.previous_min_patients, 0, l),
                opt(s.cap_lower, 0, l),
                opt(s.cap_upper, 0, l),
                opt(s.after_cap, 1, l)
            ),
            Language::En => format!(
                "The transition cap around last year's {} (from {} to {}) gives {}.",
                number(s.previous_min_patients, 0, l),
                opt(s.cap_lower, 0, l),
                opt(s.cap_upper, 0, l),
                opt(s.after_cap, 1, l)
            ),
        })
    );
    let _ = write!(
        h,
        "<li>{}</li></ol>",
        esc(&match l {
            Language::Da => format!(
                "Afrundet til nærmeste {}: minimumspatienttallet er {}.",
                s.round_to,
                proposal.map_or_else(|| "–".into(), |v| number(v as f64, 0, l))
            ),
            Language::En => format!(
                "Rounded to the nearest {}: the minimum patient count is {}.",
                s.round_to,
                proposal.map_or_else(|| "–".into(), |v| number(v as f64, 0, l))
            ),
        })
    );

    let _ = writeln!(
        h,
        "<p class=\"foot\">{}</p></main></body></html>",
        esc(&match l {
            Language::Da => format!(
                "Beregnet med {} på model {}. Kørslens manifest har SHA-256 {}; enhver kan genberegne tallet fra de samme data med »fordeling verify«.",
                c.engine, a.model_id, c.run_manifest_sha256
            ),
            Language::En => format!(
                "Computed with {} on model {}. The run's manifest has SHA-256 {}; anyone can recompute the count from the same data with `fordeling verify`.",
                c.engine, a.model_id, c.run_manifest_sha256
            ),
        })
    );
    h
}

/// One line of the index: a clinic and its count.
pub struct IndexRow {
    pub clinic_id: i32,
    pub kommune: String,
    pub sundhedsraad: String,
    pub count: Option<i64>,
    pub flags: String,
}

/// The index of the statements.
pub fn index(year: i32, rows: &[IndexRow], decided: bool, l: Language) -> String {
    let title = match l {
        Language::Da => format!("Minimumspatienttal {year}: opgørelser til klinikkerne"),
        Language::En => format!("Minimum patient counts {year}: statements to the clinics"),
    };
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><main><h1>{}</h1><p class=\"sub\">{} {}</p>",
        l.pick("da", "en"),
        esc(&title),
        esc(&title),
        rows.len(),
        l.pick(
            if decided { "klinikker, regionens afgørelser." } else { "klinikker, modellens forslag." },
            if decided { "clinics, the region's decisions." } else { "clinics, the model's proposals." }
        )
    );
    let _ = write!(
        h,
        "<table class=\"t\"><tr><th>{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th><th>{}</th></tr>",
        l.pick("Klinik", "Clinic"),
        l.pick("Kommune", "Kommune"),
        l.pick("Sundhedsråd", "Sundhedsråd"),
        l.pick("Minimumspatienttal", "Minimum patient count"),
        l.pick("Markeringer", "Flags")
    );
    for r in rows {
        let _ = write!(
            h,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            file_name(r.clinic_id),
            r.clinic_id,
            esc(&r.kommune),
            esc(&r.sundhedsraad),
            r.count.map_or_else(|| "–".into(), |v| number(v as f64, 0, l)),
            esc(&r.flags.replace(';', ", "))
        );
    }
    h.push_str("</table></main></body></html>\n");
    h
}

/// The file of a clinic's statement.
pub fn file_name(clinic_id: i32) -> String {
    format!("clinic-{clinic_id}.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_each_language() {
        assert_eq!(number(1234567.891, 2, Language::Da), "1.234.567,89");
        assert_eq!(number(1234567.891, 2, Language::En), "1,234,567.89");
        assert_eq!(number(-1720.0, 0, Language::Da), "−1.720");
        assert_eq!(number(999.0, 0, Language::Da), "999");
        assert_eq!(number(-0.0001, 2, Language::Da), "0,00");
        assert_eq!(signed(80.0, 0, Language::Da), "+80");
        assert_eq!(signed(0.0, 1, Language::En), "0.0");
        assert_eq!(percent(0.1, 0, Language::Da), "10 %");
        assert_eq!(percent(0.1, 0, Language::En), "10%");
        assert_eq!(number(f64::NAN, 1, Language::En), "–");
    }
}
