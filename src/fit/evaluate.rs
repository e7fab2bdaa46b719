//! Evaluation (to come).
