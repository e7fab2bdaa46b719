//! `fordeling report DIR`: `report.html` for an existing output directory
//! (the page is made by `crate::report` from the directory's files).

use super::Failure;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The output directory (of run, project, evaluate or scenarios).
    pub dir: PathBuf,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Writes the report and logs where.
pub fn execute(args: &ReportArgs) -> Result<(), Failure> {
    let path = crate::report::write(&args.dir)?;
    if !args.quiet {
        tracing::info!("fordeling: wrote {}", path.display());
    }
    Ok(())
}
