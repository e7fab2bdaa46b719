//! `fordeling synth`: synthetic national data from the documented
//! generator (`crate::synth`).

use super::Failure;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Denmark at this scale: 1 = about 5.96 million persons, 0.01 a small country, 10 sixty million.
    #[arg(long, conflicts_with = "fixture", required_unless_present = "fixture")]
    pub scale: Option<f64>,
    /// The fixture recipe instead: 8 kommuner in all 4 regions, 61,000 persons in 38 clinics.
    #[arg(long)]
    pub fixture: bool,
    /// Random seed; the same seed and scale give byte-identical files.
    #[arg(long, default_value_t = 2027)]
    pub seed: u64,
    /// Another draw of persons over the same clinics (a next data year); 0 = the first.
    #[arg(long, default_value_t = 0)]
    pub draw: u64,
    /// Also make the columns a richer model needs: civil_status (1 never married, 2 married,
    /// 3 divorced, 4 widowed), income_decile (0 unknown, 1..=10), nursing_home, deprivation (a score).
    #[arg(long)]
    pub rich: bool,
    /// The true model behind utilization (format 1 or 2, e.g. models/synth-truth-rich.format2.toml
    /// with --rich); default the reference model. Written as truth.toml.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads (default: all cores). The files do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Writes the synthetic data set and logs its size and any marginal off
/// its target.
pub fn execute(args: &SynthArgs) -> Result<(), Failure> {
    let mut spec = match args.scale {
        Some(scale) => {
            crate::synth::SynthSpec::national(args.seed, scale).map_err(|message| Failure {
                code: 2,
                stage: super::Stage::Usage,
                message,
            })?
        }
        None => crate::synth::SynthSpec::fixture(args.seed),
    };
    spec.draw = args.draw;
    spec.rich = args.rich;
    if let Some(path) = &args.truth {
        let text = std::fs::read_to_string(path).map_err(|e| Failure {
            code: 1,
            stage: super::Stage::Input,
            message: format!("cannot read `{}`: {e}", path.display()),
        })?;
        spec.truth = Some(text);
    }
    let summary = super::in_pool(args.threads, || crate::synth::write(&spec, &args.out))?;
    if !args.quiet {
        tracing::info!(
            "fordeling: wrote {} persons in {} clinics ({:.1} capacities) into {}",
            summary.persons,
            summary.clinics,
            summary.capacities,
            args.out.display()
        );
        for marginal in summary.marginals.iter().filter(|m| !m.ok) {
            tracing::warn!(
                "fordeling: warning: {} is {:.4}, target {:.4} ± {:.4}",
                marginal.name,
                marginal.value,
                marginal.target,
                marginal.tolerance
            );
        }
    }
    Ok(())
}
