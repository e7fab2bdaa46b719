//! `fordeling` computes Denmark's national distribution model for
//! general-practice capacity: every listed person's need weight, every
//! clinic's and area's need, and every clinic's minimum patient count.
//!
//! The pipeline of one national run, edge to edge:
//!
//! 1. [`load_inputs`]: read and check the model file, the geography, the
//!    clinics and the population (`model`, `ingest`, `validate`);
//! 2. [`compute`]: per-person raw need summed per clinic and kommune in one
//!    parallel pass (`weights`, `aggregate`), the reference load and the
//!    proposals (`proposal`), and the area table (`areas`) — pure functions
//!    of the loaded data;
//! 3. `output::write_run`: the result files, written atomically.
//!
//! [`run`] strings the three together.

pub mod aggregate;
pub mod areas;
pub mod commands;
pub mod domain;
pub mod error;
// Index loops in the estimation code read like the formulas they implement.
#[allow(clippy::needless_range_loop)]
pub mod fit;
pub mod ingest;
pub mod inputs;
pub mod model;
pub mod output;
pub mod progress;
pub mod proposal;
pub mod report;
pub mod synth;
pub mod validate;
pub mod weights;
pub mod year;

pub use inputs::{load_inputs, load_streamed, InputPaths, Inputs, Source};
pub use year::{compute, compute_from_sums, compute_with, compute_year, RunParams, RunResult};
