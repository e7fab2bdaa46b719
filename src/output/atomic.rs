//! Writing an output directory atomically: everything goes into a hidden
//! temporary directory beside the target, which is swapped into place at
//! the end. A failed run removes its temporary directory and leaves an
//! existing output untouched; a killed run leaves only a temporary
//! directory, which the next run into the same place removes.

use crate::error::OutputError;
use std::path::{Path, PathBuf};

/// Runs `write` on a fresh temporary directory and moves the result to `out`.
pub fn write_dir_atomically<T, E: From<OutputError>>(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .ok_or_else(|| {
            E::from(OutputError::write(
                out,
                "the output path must name a directory",
            ))
        })?
        .to_string();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out.exists() && !out.is_dir() {
        return Err(OutputError::write(out, "it exists and is not a directory").into());
    }
    std::fs::create_dir_all(&parent).map_err(|e| E::from(OutputError::write(&parent, e)))?;
    remove_stale(&parent, &name);

    let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if temp.exists() {
        std::fs::remove_dir_all(&temp).map_err(|e| E::from(OutputError::write(&temp, e)))?;
    }
    std::fs::create_dir(&temp).map_err(|e| E::from(OutputError::write(&temp, e)))?;
    let result = write(&temp).and_then(|value| {
        swap_into_place(&temp, out, &parent, &name).map_err(E::from)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    result
}

/// Removes temporary directories of earlier runs into the same place whose
/// process is gone.
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        for prefix in &prefixes {
            if let Some(pid) = file_name.strip_prefix(prefix.as_str()) {
                let alive = pid
                    .parse::<u32>()
                    .map(|pid| pid == std::process::id() || process_alive(pid))
                    .unwrap_or(true);
                if !alive {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

fn swap_into_place(temp: &Path, out: &Path, parent: &Path, name: &str) -> Result<(), OutputError> {
    if !out.exists() {
        return std::fs::rename(temp, out).map_err(|e| OutputError::write(out, e));
    }
    if exchange(temp, out) {
        // `temp` now holds the previous output.
        let _ = std::fs::remove_dir_all(temp);
        return Ok(());
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    std::fs::rename(out, &old).map_err(|e| OutputError::write(out, e))?;
    if let Err(e) = std::fs::rename(temp, out) {
        let _ = std::fs::rename(&old, out);
        return Err(OutputError::write(out, e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Atomically exchanges two directories (Linux `renameat2` with
/// `RENAME_EXCHANGE`); false when the system cannot.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (
        CString::new(a.as_os_str().as_bytes()),
        CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both pointers are valid NUL-terminated strings for the
    // duration of the call; renameat2 does not retain them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    rc == 0
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_existing_and_keeps_it_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_dir_atomically(&out, |d| {
            std::fs::write(d.join("a.txt"), "one").map_err(|e| OutputError::write(d, e))
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "one");
        let failed: Result<(), _> = write_dir_atomically(&out, |d| {
            std::fs::write(d.join("a.txt"), "two").unwrap();
            Err(OutputError::write(d, "injected"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "one");
        write_dir_atomically(&out, |d| {
            std::fs::write(d.join("b.txt"), "two").map_err(|e| OutputError::write(d, e))
        })
        .unwrap();
        assert!(!out.join("a.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only `out` remains");
    }
}
