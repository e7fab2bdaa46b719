//! `fordeling completions SHELL`: a shell completion script on stdout.

use super::{Cli, Failure};
use clap::{Args, CommandFactory};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script.
pub fn execute(args: &CompletionsArgs) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "fordeling",
        &mut std::io::stdout(),
    );
    Ok(())
}
