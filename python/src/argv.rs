//! A subcommand's arguments parsed exactly as the command line parses
//! them (the engine's clap definitions), with in-memory inputs attached.

use clap::Parser;
use fordeling::commands::{Cli, Command};
use fordeling::inputs::InMemory;

/// Parses `argv` (without the program name) into a subcommand and gives
/// its inputs `memory`. Only the subcommands that compute from inputs and
/// `synth` are offered; a usage error is the clap message.
pub(crate) fn parse_command(argv: &[String], memory: InMemory) -> Result<Command, String> {
    let words = std::iter::once("fordeling".to_string()).chain(argv.iter().cloned());
    let cli = Cli::try_parse_from(words).map_err(|e| e.render().to_string())?;
    let mut command = cli.command;
    let input = match &mut command {
        Command::Run(a) => Some(&mut a.input),
        Command::Fit(a) => Some(&mut a.input),
        Command::Evaluate(a) => Some(&mut a.input),
        Command::Project(a) => Some(&mut a.input),
        Command::Explain(a) => Some(&mut a.input),
        Command::Scenarios(a) => Some(&mut a.input),
        Command::Synth(_) => None,
        _ => {
            return Err(format!(
                "`{}` is not offered from Python",
                argv.first().map_or("", String::as_str)
            ))
        }
    };
    if let Some(input) = input {
        input.quiet = true;
        input.memory = memory;
    }
    Ok(command)
}
