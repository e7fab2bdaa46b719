//! Records the commit the binary is built from, for `fordeling --version`,
//! and writes the table of Student-t quantiles the proposals look up.

use std::process::Command;

fn main() {
    t_quantile_table();
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    let commit = if dirty && commit != "unknown" {
        format!("{commit}-modified")
    } else {
        commit
    };
    println!("cargo:rustc-env=FORDELING_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-changed=.git/refs");
}

/// Degrees of freedom the table of 97.5% Student-t quantiles covers
/// (1 to `T_TABLE - 1`): every list size of up to 16,384 patients
/// (`proposal::T_TABLE` is the table's length).
const T_TABLE: usize = 16_384;

/// Writes `t975.rs` into `OUT_DIR`: the 97.5% quantile of Student's t for
/// each degrees of freedom below `T_TABLE` (entry 0 unused), as `f64` bits,
/// computed by the same `statrs` function that `proposal::t_quantile_975`
/// falls back to (a test checks every entry against it). A national run
/// would otherwise compute about 1,400 of them after its pass over the
/// persons, 2 ms of its wall time on two cores.
fn t_quantile_table() {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    use std::fmt::Write;
    let mut text = format!("static T975_BITS: [u64; {T_TABLE}] = [\n    0,\n");
    for df in 1..T_TABLE {
        let q = StudentsT::new(0.0, 1.0, df as f64)
            .map(|t| t.inverse_cdf(0.975))
            .unwrap_or(f64::NAN);
        let _ = writeln!(text, "    {:#018x},", q.to_bits());
    }
    text.push_str("];\n");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = std::fs::write(out.join("t975.rs"), text) {
        panic!("cannot write t975.rs into OUT_DIR: {e}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
