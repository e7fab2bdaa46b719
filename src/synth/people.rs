//! One synthetic person: age and sex from a Danish-shaped pyramid tilted by
//! the kommune, then education, labour-market status, income, origin,
//! living alone and conditions, each conditional on what came before so the
//! correlations an analyst expects are there (pensioners old, students
//! young, conditions more common with age, low education and disability
//! pension, and clustered through a shared frailty).

use super::rng::Rng;

/// Persons by 5-year age band, both sexes, Denmark 1 January 2024
/// (thousands, rounded; Statistics Denmark FOLK1A).
pub const PYRAMID: [f64; 20] = [
    303.0, 316.0, 339.0, 345.0, 376.0, 412.0, 391.0, 352.0, 349.0, 373.0, 413.0, 408.0, 366.0,
    329.0, 318.0, 282.0, 178.0, 85.0, 33.0, 9.0,
];

/// Share of women by age band (approximate, FOLK1A 2024).
pub const FEMALE_SHARE: [f64; 20] = [
    0.487, 0.487, 0.487, 0.486, 0.49, 0.49, 0.495, 0.497, 0.498, 0.498, 0.498, 0.5, 0.503, 0.51,
    0.52, 0.54, 0.565, 0.61, 0.68, 0.77,
];

/// Condition prevalence (per cent) at anchor ages, interpolated linearly,
/// the factor for women, and whether disability pension raises it most
/// (mental illness). Tuned so the synthetic country has about 1 million
/// persons with one of asthma, type-2 diabetes, osteoporosis, COPD, type-1
/// diabetes or rheumatoid arthritis, and half of those aged 80+ (RUKS 2023).
pub struct Prevalence {
    pub name: &'static str,
    pub anchors: &'static [(f64, f64)],
    pub female: f64,
    pub mental: bool,
}

pub const PREVALENCE: &[Prevalence] = &[
    Prevalence {
        name: "asthma",
        anchors: &[(0.0, 1.5), (10.0, 5.5), (40.0, 5.5), (80.0, 7.0)],
        female: 1.1,
        mental: false,
    },
    Prevalence {
        name: "cancer",
        anchors: &[
            (0.0, 0.1),
            (40.0, 1.0),
            (60.0, 4.0),
            (75.0, 8.0),
            (90.0, 10.0),
        ],
        female: 1.0,
        mental: false,
    },
    Prevalence {
        name: "copd",
        anchors: &[
            (0.0, 0.0),
            (40.0, 0.3),
            (55.0, 2.5),
            (70.0, 7.5),
            (85.0, 10.0),
        ],
        female: 0.95,
        mental: false,
    },
    Prevalence {
        name: "dementia",
        anchors: &[
            (0.0, 0.0),
            (60.0, 0.2),
            (70.0, 1.5),
            (80.0, 6.0),
            (90.0, 16.0),
        ],
        female: 1.2,
        mental: false,
    },
    Prevalence {
        name: "depression",
        anchors: &[
            (0.0, 0.3),
            (15.0, 2.5),
            (25.0, 5.5),
            (60.0, 5.0),
            (85.0, 6.5),
        ],
        female: 1.6,
        mental: true,
    },
    Prevalence {
        name: "diabetes_t1",
        anchors: &[(0.0, 0.2), (15.0, 0.5), (60.0, 0.5), (90.0, 0.4)],
        female: 0.9,
        mental: false,
    },
    Prevalence {
        name: "diabetes_t2",
        anchors: &[
            (0.0, 0.0),
            (30.0, 0.5),
            (45.0, 3.0),
            (60.0, 9.0),
            (75.0, 16.0),
            (90.0, 14.0),
        ],
        female: 0.8,
        mental: false,
    },
    Prevalence {
        name: "heart_disease",
        anchors: &[
            (0.0, 0.0),
            (40.0, 0.4),
            (55.0, 2.5),
            (70.0, 8.0),
            (85.0, 16.0),
        ],
        female: 0.65,
        mental: false,
    },
    Prevalence {
        name: "heart_failure",
        anchors: &[
            (0.0, 0.0),
            (50.0, 0.3),
            (65.0, 1.5),
            (80.0, 5.0),
            (90.0, 9.0),
        ],
        female: 0.75,
        mental: false,
    },
    Prevalence {
        name: "hypertension",
        anchors: &[
            (0.0, 0.0),
            (30.0, 1.0),
            (45.0, 7.0),
            (60.0, 22.0),
            (75.0, 38.0),
            (90.0, 42.0),
        ],
        female: 0.95,
        mental: false,
    },
    Prevalence {
        name: "low_back_pain",
        anchors: &[
            (0.0, 0.0),
            (20.0, 1.5),
            (40.0, 4.5),
            (60.0, 6.0),
            (85.0, 5.0),
        ],
        female: 1.2,
        mental: false,
    },
    Prevalence {
        name: "osteoporosis",
        anchors: &[
            (0.0, 0.0),
            (50.0, 0.6),
            (65.0, 5.0),
            (80.0, 13.0),
            (90.0, 18.0),
        ],
        female: 2.6,
        mental: false,
    },
    Prevalence {
        name: "rheumatoid_arthritis",
        anchors: &[(0.0, 0.0), (25.0, 0.2), (50.0, 1.0), (70.0, 1.8)],
        female: 2.0,
        mental: false,
    },
    Prevalence {
        name: "schizophrenia",
        anchors: &[(0.0, 0.0), (18.0, 0.2), (30.0, 0.6), (70.0, 0.5)],
        female: 0.7,
        mental: true,
    },
];

/// The six conditions of the RUKS "about 1 million" figure.
pub const RUKS_SIX: [&str; 6] = [
    "asthma",
    "diabetes_t2",
    "osteoporosis",
    "copd",
    "diabetes_t1",
    "rheumatoid_arthritis",
];

pub fn interpolate(anchors: &[(f64, f64)], age: f64) -> f64 {
    let mut previous = anchors[0];
    for &(a, p) in anchors {
        if age <= a {
            if a == previous.0 {
                return p;
            }
            return previous.1 + (p - previous.1) * (age - previous.0) / (a - previous.0);
        }
        previous = (a, p);
    }
    previous.1
}

/// Characteristics of a kommune that shape its people.
#[derive(Debug, Clone)]
pub struct Place {
    pub morbidity: f64,
    /// Socioeconomic position, positive = better off.
    pub ses: f64,
    pub city: bool,
    pub immigrant_factor: f64,
    pub age_weights: [f64; 20],
}

impl Place {
    pub fn new(code: i16, morbidity: f64) -> Self {
        let city = matches!(code, 101 | 147 | 461 | 751 | 851);
        let immigrant_factor = match code {
            101 => 1.75,
            147 => 1.35,
            153 | 165 | 167 | 169 | 175 | 183 => 1.9,
            461 | 751 | 851 => 1.25,
            _ if morbidity > 1.05 => 0.6,
            _ => 0.85,
        };
        let tilt = 1.8 * (morbidity - 1.0) - if city { 0.15 } else { 0.0 };
        let mut age_weights = PYRAMID;
        for (band, w) in age_weights.iter_mut().enumerate() {
            let mid = band as f64 * 5.0 + 2.5;
            *w *= (tilt * (mid - 40.0) / 40.0).exp();
            if city && (4..=6).contains(&band) {
                *w *= 1.45;
            }
        }
        Place {
            morbidity,
            ses: -(morbidity - 1.0) * 4.0,
            city,
            immigrant_factor,
            age_weights,
        }
    }
}

/// One person's characteristics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Person {
    pub age: u8,
    pub sex: u8,
    pub education: u8,
    pub income_quintile: u8,
    pub labour: u8,
    pub origin: u8,
    pub lives_alone: bool,
    pub conditions: u64,
}

/// For each of the model's conditions, its prevalence table (if the
/// generator knows it).
pub fn prevalence_for(conditions: &[&str]) -> Vec<Option<&'static Prevalence>> {
    conditions
        .iter()
        .map(|name| PREVALENCE.iter().find(|p| p.name == *name))
        .collect()
}

pub fn person(rng: &mut Rng, place: &Place, prevalence: &[Option<&Prevalence>]) -> Person {
    let band = rng.choose(&place.age_weights);
    let age = if band == 19 {
        95 + (rng.gamma(1.0) * 2.5).min(25.0) as u8
    } else {
        (band * 5) as u8 + rng.below(5) as u8
    };
    let a = f64::from(age);
    let female = rng.bernoulli(FEMALE_SHARE[band]);
    let sex = if female { 2 } else { 1 };
    let personal_ses = place.ses * 0.35 + rng.normal() * 0.8;

    // Education: 0 below 25 (unknown / under 25); older cohorts have less.
    let education = if age < 25 {
        0
    } else {
        let cohort = (a - 47.0) / 22.0;
        let mut w = [0.01, 0.205, 0.35, 0.29, 0.125];
        w[1] *= (-0.6 * personal_ses + 0.45 * cohort).exp();
        w[3] *= (0.3 * personal_ses - 0.1 * cohort).exp();
        w[4] *= (0.7 * personal_ses - 0.35 * cohort).exp();
        rng.choose(&w) as u8
    };
    let education_score = [0.0, -1.0, 0.0, 0.5, 1.2][usize::from(education)];

    // Labour-market status consistent with age; pupils count as students.
    let labour_weights: [f64; 6] = match age {
        0..=15 => [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        16..=24 => [0.33, 0.04, 0.55, 0.01, 0.0, 0.07],
        25..=64 => {
            let disability = match age {
                25..=39 => 0.03,
                40..=54 => 0.06,
                _ => 0.09,
            } * (-0.7 * education_score - 0.3 * personal_ses).exp();
            let student = if age < 35 { 0.06 } else { 0.005 };
            let other = if age >= 60 { 0.15 } else { 0.06 };
            [
                0.78 * (0.15 * personal_ses).exp(),
                0.045,
                student,
                disability,
                0.0,
                other,
            ]
        }
        65..=66 => [0.5, 0.02, 0.0, 0.08, 0.05, 0.35],
        67..=69 => [0.22, 0.0, 0.0, 0.0, 0.78, 0.0],
        _ => [0.03, 0.0, 0.0, 0.0, 0.97, 0.0],
    };
    let labour = rng.choose(&labour_weights) as u8;

    // Equivalised household income quintile, 0 = unknown.
    let income_quintile = if rng.bernoulli(0.015) {
        0
    } else {
        let mut latent = 0.6 * education_score + 0.5 * personal_ses + rng.normal();
        if labour == 1 || labour == 3 {
            latent -= 0.9;
        }
        if age >= 67 {
            latent -= 0.4;
        }
        let cuts = [-0.97, -0.29, 0.29, 0.97];
        1 + cuts.iter().filter(|&&c| latent > c).count() as u8
    };

    let p_nonwestern = 0.092 * place.immigrant_factor;
    let p_western = 0.058 * place.immigrant_factor;
    let u = rng.uniform();
    let origin = if u < p_nonwestern {
        2
    } else if u < p_nonwestern + p_western {
        1
    } else {
        0
    };

    let mut alone = match age {
        0..=17 => 0.0,
        18..=24 => 0.2,
        25..=34 => 0.25,
        35..=64 => 0.17,
        65..=79 => 0.3,
        _ if female => 0.62,
        _ => 0.4,
    };
    if place.city {
        alone *= 1.3;
    }
    let lives_alone = rng.bernoulli(alone);

    // Conditions, clustered through a shared frailty (mean 1).
    let frailty = (0.6 * rng.normal() - 0.18).exp();
    let ses_factor = (-0.25 * personal_ses).exp()
        * match education {
            1 => 1.3,
            4 => 0.75,
            _ => 1.0,
        };
    let place_factor = 0.85 + 0.3 * (place.morbidity - 0.85);
    let mut mask = 0u64;
    for (k, table) in prevalence.iter().enumerate() {
        let p = match table {
            Some(table) => {
                let mut p = interpolate(table.anchors, a) / 100.0;
                if female {
                    p *= table.female;
                }
                p *= frailty * ses_factor * place_factor;
                if labour == 3 {
                    p *= if table.mental { 3.0 } else { 1.6 };
                }
                p
            }
            // A condition the generator does not know: 2% flat.
            None => 0.02 * frailty,
        };
        if rng.bernoulli(p.min(0.95)) {
            mask |= 1 << k;
        }
    }

    Person {
        age,
        sex,
        education,
        income_quintile,
        labour,
        origin,
        lives_alone,
        conditions: mask,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation() {
        let anchors = [(0.0, 0.0), (10.0, 10.0), (20.0, 30.0)];
        assert_eq!(interpolate(&anchors, 5.0), 5.0);
        assert_eq!(interpolate(&anchors, 15.0), 20.0);
        assert_eq!(interpolate(&anchors, 50.0), 30.0);
    }

    #[test]
    fn pensioners_are_old_and_pupils_young() {
        let place = Place::new(751, 0.92);
        let prevalence = prevalence_for(&["copd"]);
        let mut rng = Rng::new(3);
        for _ in 0..20_000 {
            let p = person(&mut rng, &place, &prevalence);
            if p.labour == 4 {
                assert!(p.age >= 65, "{p:?}");
            }
            if p.age < 16 {
                assert_eq!(p.labour, 2);
                assert!(!p.lives_alone);
            }
            if p.age < 25 {
                assert_eq!(p.education, 0);
            }
        }
    }
}

/// The extra columns a richer model needs (`synth --rich`), drawn from a
/// random stream of their own so the other columns do not change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// 1 = never married, 2 = married, 3 = divorced, 4 = widowed.
    pub civil_status: Vec<u8>,
    /// 0 = unknown, 1..=10 (within the person's income quintile).
    pub income_decile: Vec<u8>,
    pub nursing_home: Vec<bool>,
    /// A numeric deprivation score: the kommune's morbidity index
    /// centred, plus low income, unemployment or disability pension, plus
    /// noise; mean near 0.
    pub deprivation: Vec<f64>,
}

impl Extras {
    pub fn with_capacity(n: usize) -> Self {
        Extras {
            civil_status: Vec::with_capacity(n),
            income_decile: Vec::with_capacity(n),
            nursing_home: Vec::with_capacity(n),
            deprivation: Vec::with_capacity(n),
        }
    }

    pub fn append(&mut self, other: Extras) {
        self.civil_status.extend(other.civil_status);
        self.income_decile.extend(other.income_decile);
        self.nursing_home.extend(other.nursing_home);
        self.deprivation.extend(other.deprivation);
    }

    /// Draws one person's extra columns. `dementia` is whether they have
    /// dementia (more nursing-home residence).
    pub fn push(&mut self, rng: &mut Rng, person: &Person, area_index: f64, dementia: bool) {
        let age = person.age;
        // Shares of married, divorced, widowed by age (rest never married),
        // lower for persons living alone.
        let (married, divorced, widowed) = match age {
            0..=17 => (0.0, 0.0, 0.0),
            18..=29 => (0.15, 0.01, 0.0),
            30..=64 => (0.55, 0.12, 0.01),
            65..=79 => (0.58, 0.12, 0.15),
            _ => (0.35, 0.05, 0.50),
        };
        let married = if person.lives_alone {
            married * 0.1
        } else {
            married
        };
        let u = rng.uniform();
        let civil = if u < married {
            2
        } else if u < married + divorced {
            3
        } else if u < married + divorced + widowed {
            4
        } else {
            1
        };
        let decile = match person.income_quintile {
            0 => 0,
            q => 2 * q - u8::from(rng.bernoulli(0.5)),
        };
        let nursing: f64 = match age {
            0..=64 => 0.0,
            65..=74 => 0.002,
            75..=84 => 0.01,
            85..=89 => 0.06,
            _ => 0.15,
        };
        let nursing = if dementia {
            (nursing * 4.0).min(0.6)
        } else {
            nursing
        };
        let mut score = 2.0 * (area_index - 1.0) + 0.4 * rng.normal();
        if person.income_quintile == 1 {
            score += 0.5;
        }
        if matches!(person.labour, 1 | 3) {
            score += 0.3;
        }
        self.civil_status.push(civil);
        self.income_decile.push(decile);
        self.nursing_home.push(rng.bernoulli(nursing));
        self.deprivation.push((score * 1000.0).round() / 1000.0);
    }
}
