//! `fordeling verify DIR`: reproduces an output directory of `run`,
//! `project`, `scenarios` or `decide` (SPEC section 8). The manifest's
//! invocation names every file the command read, with its SHA-256, and
//! every argument it was given; verify checks the files first (exit 1
//! naming a changed or missing one), runs the command again into a
//! temporary directory, and compares every file it writes with the
//! directory's, byte for byte (exit 4 naming the files that differ, 0 when
//! all are identical).
//!
//! A `manifest.json` is compared without what says how the work went
//! rather than what it gave: wall and compute times, the thread count, the
//! engine (named separately when it differs) and the invocation itself.

use super::decide::DecideArgs;
use super::project::ProjectArgs;
use super::run::RunArgs;
use super::scenarios::ScenariosArgs;
use super::Failure;
use crate::error::{Error, InputError};
use crate::output::schema::{Engine, Invocation};
use clap::Args;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Exit code of a directory whose results differ from the recomputation.
pub const DIFFERS: u8 = 4;

/// Manifest fields that describe the work, not its result.
const VOLATILE: [&str; 6] = [
    "engine",
    "invocation",
    "wall_time_seconds",
    "compute_seconds",
    "load_seconds",
    "threads",
];

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// An output directory of `fordeling run`, `project`, `scenarios` or `decide`.
    pub dir: PathBuf,
    /// Worker threads for the recomputation (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every result file is byte-identical (manifests up to their
    /// volatile fields); the files compared.
    Identical(Vec<String>),
    /// These result files differ from the recomputation (or are missing).
    Differs(Vec<String>),
}

/// The verification of one directory: the engine that made it and the outcome.
#[derive(Debug, Clone)]
pub struct Verification {
    pub command: String,
    pub made_by: Option<Engine>,
    pub outcome: Outcome,
    /// Files in the directory that the command does not write (not compared).
    pub extra: Vec<String>,
}

fn other(path: &Path, detail: impl Into<String>) -> Error {
    InputError::Other {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
    .into()
}

/// The manifest's invocation and engine; an error when the directory is
/// not an output of a command verify knows.
fn read_invocation(dir: &Path) -> Result<(Invocation, Option<Engine>), Error> {
    let path = dir.join("manifest.json");
    if !dir.is_dir() {
        return Err(other(dir, "no such directory"));
    }
    let text = std::fs::read_to_string(&path).map_err(|source| InputError::Open {
        path: path.clone(),
        source,
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| other(&path, format!("not a manifest of fordeling: {e}")))?;
    let engine = value
        .get("engine")
        .and_then(|e| serde_json::from_value::<Engine>(e.clone()).ok());
    let invocation = value.get("invocation").cloned().ok_or_else(|| {
        other(
            &path,
            "the manifest records no invocation (written by an engine before `verify`, or by a library call); the directory cannot be recomputed",
        )
    })?;
    let invocation: Invocation = serde_json::from_value(invocation)
        .map_err(|e| other(&path, format!("field `invocation`: {e}")))?;
    Ok((invocation, engine))
}

/// The directory relative paths of the invocation are taken from: the one
/// it was made in when that still exists, otherwise the current one.
fn base_dir(invocation: &Invocation) -> PathBuf {
    let recorded = PathBuf::from(&invocation.cwd);
    if !invocation.cwd.is_empty() && recorded.is_dir() {
        recorded
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    }
}

/// Checks every input by its SHA-256; the problems, one line each.
pub fn check_inputs(invocation: &Invocation, base: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for input in &invocation.inputs {
        let actual = if input.path == crate::ingest::geography::BUILT_IN_NAME {
            Ok(crate::model::sha256_hex(
                crate::ingest::geography::BUILT_IN.as_bytes(),
            ))
        } else {
            let path = base.join(&input.path);
            if path.is_file() {
                crate::ingest::hash_file(&path).map_err(|e| e.to_string())
            } else {
                Err("missing".to_string())
            }
        };
        match actual {
            Ok(sha) if sha == input.sha256 => {}
            Ok(sha) => problems.push(format!(
                "{} `{}` changed: SHA-256 {} where the manifest says {}",
                input.role, input.path, sha, input.sha256
            )),
            Err(e) if e == "missing" => {
                problems.push(format!("{} `{}` is missing", input.role, input.path))
            }
            Err(e) => problems.push(format!(
                "{} `{}` cannot be read: {e}",
                input.role, input.path
            )),
        }
    }
    problems
}

fn arguments<T: DeserializeOwned>(invocation: &Invocation, dir: &Path) -> Result<T, Error> {
    serde_json::from_value(invocation.arguments.clone()).map_err(|e| {
        other(
            &dir.join("manifest.json"),
            format!(
                "field `invocation.arguments` is not what `{}` of this engine takes: {e}",
                invocation.command
            ),
        )
    })
}

/// Runs the invocation again, writing into `out` (relative paths are
/// taken from the current directory).
fn recompute(invocation: &Invocation, dir: &Path, out: &Path) -> Result<(), Error> {
    match invocation.command.as_str() {
        "run" => {
            let mut args: RunArgs = arguments(invocation, dir)?;
            args.out = out.to_path_buf();
            super::run::run(&args.to_config()).map(|_| ())
        }
        "project" => {
            let mut args: ProjectArgs = arguments(invocation, dir)?;
            args.out = out.to_path_buf();
            let config = super::project::config(&args)?;
            super::project::project(&config, &args.capacity_path).map(|_| ())
        }
        "scenarios" => {
            let mut args: ScenariosArgs = arguments(invocation, dir)?;
            args.out = out.to_path_buf();
            super::scenarios::run(&args.to_config()).map(|_| ())
        }
        "decide" => {
            let mut args: DecideArgs = arguments(invocation, dir)?;
            args.out = out.to_path_buf();
            super::decide::decide(
                &args.run_dir,
                &args.decisions,
                &args.out,
                args.report,
                args.xlsx,
                Some(&crate::output::schema::Recorded::new("decide", &args)),
            )
            .map(|_| ())
        }
        other_command => Err(other(
            &dir.join("manifest.json"),
            format!("`{other_command}` is not a command verify can recompute"),
        )),
    }
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Result<BTreeSet<PathBuf>, Error> {
    let mut found = BTreeSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        let entries = std::fs::read_dir(&here).map_err(|source| InputError::Open {
            path: here.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| InputError::Open {
                path: here.clone(),
                source,
            })?;
            let name = rel.join(entry.file_name());
            if entry.path().is_dir() {
                stack.push(name);
            } else {
                found.insert(name);
            }
        }
    }
    Ok(found)
}

/// The manifest's JSON without its volatile fields, at any depth.
fn stable_json(bytes: &[u8]) -> Option<serde_json::Value> {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for key in VOLATILE {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    strip(&mut value);
    Some(value)
}

fn same_file(name: &Path, ours: &Path, theirs: &Path) -> bool {
    let (Ok(a), Ok(b)) = (std::fs::read(ours), std::fs::read(theirs)) else {
        return false;
    };
    if name.file_name().is_some_and(|n| n == "manifest.json") {
        match (stable_json(&a), stable_json(&b)) {
            (Some(a), Some(b)) => a == b,
            _ => a == b,
        }
    } else {
        a == b
    }
}

/// A fresh temporary directory for the recomputation.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("fordeling-verify-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| crate::error::OutputError::write(&path, e))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Verifies `dir`: inputs first (an `InputError` listing every changed or
/// missing input), then the recomputation and the comparison. Relative
/// paths of the invocation are resolved by making its directory the
/// current one, so the recomputed manifests name the files as the
/// originals do; the process's current directory is changed.
pub fn verify(dir: &Path) -> Result<Verification, Error> {
    let dir = std::path::absolute(dir).map_err(|e| other(dir, e.to_string()))?;
    let (invocation, made_by) = read_invocation(&dir)?;
    let base = base_dir(&invocation);
    let problems = check_inputs(&invocation, &base);
    if !problems.is_empty() {
        return Err(other(
            &dir.join("manifest.json"),
            format!(
                "the inputs are not the ones the directory was made from: {}",
                problems.join("; ")
            ),
        ));
    }
    std::env::set_current_dir(&base).map_err(|e| other(&base, e.to_string()))?;
    let scratch = Scratch::new()?;
    let out = scratch.0.join("result");
    recompute(&invocation, &dir, &out)?;
    let ours = files(&out)?;
    let theirs = files(&dir)?;
    let mut differ = Vec::new();
    for name in &ours {
        if !theirs.contains(name) {
            differ.push(format!("{} (missing)", name.display()));
        } else if !same_file(name, &out.join(name), &dir.join(name)) {
            differ.push(name.display().to_string());
        }
    }
    let extra = theirs
        .difference(&ours)
        .map(|p| p.display().to_string())
        .collect();
    let names = ours.iter().map(|p| p.display().to_string()).collect();
    Ok(Verification {
        command: invocation.command,
        made_by,
        outcome: if differ.is_empty() {
            Outcome::Identical(names)
        } else {
            Outcome::Differs(differ)
        },
        extra,
    })
}

/// Runs `fordeling verify` and prints its finding on stdout.
pub fn execute(args: &VerifyArgs) -> Result<(), Failure> {
    let verification = super::in_pool(args.threads, || verify(&args.dir))?;
    let this = Engine::this();
    let engine_note = match &verification.made_by {
        Some(e) if e.version == this.version && e.commit == this.commit => String::new(),
        Some(e) => format!(
            "; the directory was made by {}, this is {}",
            e.describe(),
            this.describe()
        ),
        None => format!(
            "; the manifest names no engine, this is {}",
            this.describe()
        ),
    };
    let extra = if verification.extra.is_empty() {
        String::new()
    } else {
        format!(
            " ({} other file(s) not compared: {})",
            verification.extra.len(),
            verification.extra.join(", ")
        )
    };
    match &verification.outcome {
        Outcome::Identical(names) => {
            println!(
                "identical: {} result file(s) of `{}` recomputed byte for byte{extra}{engine_note}",
                names.len(),
                verification.command
            );
            Ok(())
        }
        Outcome::Differs(names) => Err(Failure {
            code: DIFFERS,
            stage: super::Stage::Output,
            message: format!(
                "{} result file(s) of `{}` differ from the recomputation: {}{extra}{engine_note}",
                names.len(),
                verification.command,
                names.join(", ")
            ),
        }),
    }
}
