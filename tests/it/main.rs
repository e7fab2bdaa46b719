//! The integration tests, one crate so that the test build links arrow and
//! parquet once (each module was a crate of its own). Most tests run the
//! real binary (`common::binary`); a few call the library directly.

mod common;

mod bad_data;
mod cli;
mod corpus;
mod decide;
mod faults;
mod fit;
mod format2;
mod golden;
mod memory;
mod project;
mod properties;
mod reference;
mod report;
mod scenarios;
mod statement;
mod synth;
mod verify;
