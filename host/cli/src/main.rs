//! The `ralph` command: parses arguments, runs the command, reports errors.

use std::process::ExitCode;

use clap::Parser;

mod agents;
mod cli;
mod commands;
mod exit;
mod render;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            failure.exit.into()
        }
    }
}
