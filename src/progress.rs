//! Progress of long jobs on stderr: a bar (with count, rate and time left)
//! when stderr is a terminal, plain periodic log lines through `tracing`
//! when it is not (batch jobs), nothing with `--quiet`. The binary sets the
//! mode once; library code only reports work done. Nothing here touches a
//! result, so outputs are the same whatever the mode.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing (`--quiet`, and the library's default).
    Off,
    /// An `indicatif` bar on stderr (a terminal).
    Bar,
    /// A log line after the first `LOG_AFTER` and then every `LOG_EVERY`.
    Log,
}

static MODE: AtomicU8 = AtomicU8::new(0);

/// A job shorter than this logs no progress lines at all, so quick runs and
/// one-line error messages stay one line.
const LOG_AFTER: Duration = Duration::from_secs(2);
const LOG_EVERY: Duration = Duration::from_secs(10);

pub fn set_mode(mode: Mode) {
    MODE.store(
        match mode {
            Mode::Off => 0,
            Mode::Bar => 1,
            Mode::Log => 2,
        },
        Ordering::Relaxed,
    );
}

pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Bar,
        2 => Mode::Log,
        _ => Mode::Off,
    }
}

/// One job's progress: `total` units of `unit` (e.g. "row groups").
pub struct Progress {
    inner: Inner,
}

enum Inner {
    Off,
    Bar(indicatif::ProgressBar),
    Log {
        label: String,
        unit: &'static str,
        total: u64,
        done: AtomicU64,
        started: Instant,
        last: Mutex<Option<Instant>>,
    },
}

impl Progress {
    pub fn new(label: &str, total: u64, unit: &'static str) -> Progress {
        let inner = match mode() {
            Mode::Off => Inner::Off,
            Mode::Bar => {
                let bar = indicatif::ProgressBar::with_draw_target(
                    Some(total),
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {human_pos}/{human_len} {msg} · {per_sec} · {eta} left",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(label.to_string());
                bar.set_message(unit);
                Inner::Bar(bar)
            }
            Mode::Log => Inner::Log {
                label: label.to_string(),
                unit,
                total,
                done: AtomicU64::new(0),
                started: Instant::now(),
                last: Mutex::new(None),
            },
        };
        Progress { inner }
    }

    /// Reports `n` more units done (from any thread).
    pub fn inc(&self, n: u64) {
        match &self.inner {
            Inner::Off => {}
            Inner::Bar(bar) => bar.inc(n),
            Inner::Log {
                label,
                unit,
                total,
                done,
                started,
                last,
            } => {
                let done = done.fetch_add(n, Ordering::Relaxed) + n;
                let elapsed = started.elapsed();
                if elapsed < LOG_AFTER {
                    return;
                }
                let Ok(mut last) = last.lock() else { return };
                if last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
                    return;
                }
                *last = Some(Instant::now());
                let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
                let left = total.saturating_sub(done) as f64 / rate.max(1e-9);
                tracing::info!(
                    job = label.as_str(),
                    done,
                    total,
                    unit,
                    rate_per_second = rate,
                    seconds_left = left,
                    "fordeling: {label}: {done}/{total} {unit} ({:.0}%), {rate:.1} {unit}/s, about {left:.0} s left",
                    100.0 * done as f64 / (*total).max(1) as f64
                );
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Inner::Bar(bar) = &self.inner {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_counting_is_harmless() {
        assert_eq!(mode(), Mode::Off);
        let p = Progress::new("job", 10, "steps");
        for _ in 0..20 {
            p.inc(1);
        }
    }
}
