//! Faults while writing: a run killed at random moments never leaves a
//! half-written output (the previous one stays, or the new one is whole),
//! the next run clears what a killed run left; a write error (a file-size
//! limit standing in for a full disk) gives exit code 3, a clear message and
//! no partial output.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

use crate::common::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn synth(dir: &Path) {
    let output = run_in(
        dir,
        &[
            "synth", "--scale", "0.05", "--seed", "9", "--out", "data", "--quiet",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run_command(dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .args([
            "run",
            "--population",
            "data/population.parquet",
            "--clinics",
            "data/clinics.parquet",
            "--model",
            "data/truth.toml",
            "--out",
            "result",
            "--quiet",
        ])
        .current_dir(dir);
    command
}

#[test]
fn killed_runs_leave_the_previous_output_or_a_whole_new_one() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path());
    assert!(run_command(dir.path()).status().unwrap().success());
    let before = snapshot(&dir.path().join("result"));
    let timing: Vec<(String, Vec<u8>)> = before
        .iter()
        .filter(|(n, _)| n != "manifest.json")
        .cloned()
        .collect();
    // How long a run takes here, to spread the kills over it.
    let started = std::time::Instant::now();
    assert!(run_command(dir.path()).status().unwrap().success());
    let span = started.elapsed().as_micros() as u64;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..20 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = (state >> 33) % span.max(1);
        let mut child = run_command(dir.path()).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = snapshot(&dir.path().join("result"));
        let names: Vec<&String> = now.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            before.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "every file is there"
        );
        // The results are the same bytes; only the manifest's wall time may differ.
        let results: Vec<(String, Vec<u8>)> = now
            .into_iter()
            .filter(|(n, _)| n != "manifest.json")
            .collect();
        assert!(results == timing, "the output is intact");
    }
    // A normal run afterwards clears any temporary directory of a killed one.
    assert!(run_command(dir.path()).status().unwrap().success());
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".result."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_write_error_is_exit_3_with_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path());
    assert!(run_command(dir.path()).status().unwrap().success());
    let before = snapshot(&dir.path().join("result"));
    let mut command = run_command(dir.path());
    // A file-size limit of 4 KB makes the output writes fail as a full disk
    // would (SIGXFSZ ignored, so write returns an error).
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 4096,
                rlim_max: 4096,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        snapshot(&dir.path().join("result")) == before,
        "the previous output is untouched"
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".result."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
