//! The `fordeling` binary: parse the command line, run the subcommand
//! (`fordeling::commands`), and turn a failure into a one-line message and
//! an exit code (SPEC section 6: 0 success, 1 bad input or model, 2 usage,
//! 3 anything else; `verify`: 4 a result differs).

use clap::{CommandFactory, FromArgMatches};
use fordeling::commands::{logging, Cli, LogFormat};
use std::process::ExitCode;

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = parse();
    let json = cli.log_format == LogFormat::Json;
    logging::init(json, cli.command.quiet());
    match cli.command.execute() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if json {
                tracing::error!(
                    exit_code = failure.code,
                    "fordeling: error: {}",
                    failure.message
                );
            } else {
                eprintln!("fordeling: error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// Parses the command line; with `NO_COLOR` set, help and usage errors use
/// no colour at all.
fn parse() -> Cli {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut command = Cli::command();
    if no_color {
        command = command.color(clap::ColorChoice::Never);
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Lets glibc's malloc keep and reuse the large buffers a run frees (column
/// chunks, pages, decoded columns: a few MB each, freed and allocated again
/// for every row group) instead of returning them to the system and taking
/// a page fault for every 4 KB of the next one. Measured on synthetic
/// Denmark: a fifth fewer page faults and about 10% less wall time; peak
/// memory is unchanged.
///
/// Then the first touch of each page: one arena for every thread (glibc
/// gives each thread its own otherwise), grown once to `HEAP_RESERVE` of
/// address space (no memory: pages are only backed when touched) and
/// advised for transparent huge pages, so the kernel backs the heap 2 MB
/// at a time where it can, not 4 KB at a time. On pyarrow's file of scale
/// 1 (row groups of a million rows) a run took 20,600 page faults, a
/// tenth of its CPU time on a virtual machine; with one advised arena
/// about 1,200. Peak memory is unchanged. Where the system does not allow
/// it (no huge pages, a heap that is not where `sbrk` says), each step
/// fails alone and malloc works as before; under strict overcommit,
/// where a reservation would count as memory used, none is made.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_memory() {
    /// Address space the heap is grown to at the start (the scale-10
    /// national run's peak is about a quarter of it).
    const HEAP_RESERVE: usize = 1 << 30;
    const HUGE_PAGE: usize = 2 << 20;
    // SAFETY: `mallopt` only sets malloc tunables; it is called first thing
    // in `main`, before any other thread exists, and a rejected value
    // leaves the default in place. The block from `malloc` is freed at
    // once and never read or written. `sbrk(0)` only reads the program
    // break. `madvise` with `MADV_HUGEPAGE` changes no memory's contents
    // and no mapping's access; on a range that is not all mapped it fails
    // with nothing changed that matters, and its result is ignored.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
        // Under strict overcommit reserved address space counts against
        // the system's commit limit as if it were used: no reservation.
        let overcommit = std::fs::read_to_string("/proc/sys/vm/overcommit_memory");
        if overcommit.is_ok_and(|mode| mode.trim() == "2") {
            return;
        }
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // The next growth of the heap takes `HEAP_RESERVE` at once: a
        // block bigger than what is left of the heap's top, below the
        // mmap threshold so it comes from the heap.
        libc::mallopt(libc::M_TOP_PAD, HEAP_RESERVE as libc::c_int);
        let block = libc::malloc(16 << 20);
        libc::mallopt(libc::M_TOP_PAD, 128 << 10);
        if block.is_null() {
            return;
        }
        let start = (block as usize).next_multiple_of(HUGE_PAGE);
        libc::free(block);
        let end = libc::sbrk(0) as usize;
        if end > start && end - start <= 2 * HEAP_RESERVE {
            libc::madvise(
                start as *mut libc::c_void,
                (end - start) / HUGE_PAGE * HUGE_PAGE,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
