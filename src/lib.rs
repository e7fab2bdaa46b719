//! `fordeling` computes Denmark's national distribution model for
//! general-practice capacity: every listed person's need weight, every
//! clinic's and area's need, and every clinic's minimum patient count.
//!
//! The crate is the engine and, at its edge, the commands:
//!
//! - the engine reads and checks inputs ([`inputs`]: `model`, `ingest`,
//!   `validate`), sums the persons once into a year-independent
//!   [`aggregate::Basis`] (`weights`, `aggregate`), computes a year from it
//!   ([`year`]: weights, the reference load, `proposal`, `areas`), fits and
//!   evaluates models (`fit`), writes output tables, manifests and reports
//!   (`output`, `report`), and makes synthetic data (`synth`);
//! - [`commands`] holds one module per subcommand, each owning its
//!   command-line arguments, its configuration, its calls into the engine
//!   and the files it writes. The engine never imports from `commands`.

pub mod aggregate;
pub mod areas;
pub mod commands;
pub mod decisions;
pub mod domain;
pub mod error;
pub mod exact;
// Index loops in the estimation code read like the formulas they implement.
#[allow(clippy::needless_range_loop)]
pub mod fit;
pub mod ingest;
pub mod inputs;
pub mod load;
pub mod model;
pub mod output;
pub mod prefetch;
pub mod progress;
pub mod proposal;
pub mod report;
pub mod stats;
pub mod synth;
pub mod terms;
pub mod validate;
pub mod weights;
pub mod year;

pub use inputs::{load_inputs, load_streamed, InputPaths, Inputs, Source};
pub use year::{compute, compute_with, compute_year, RunParams, RunResult};
