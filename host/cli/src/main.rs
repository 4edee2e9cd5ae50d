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
    logging(cli.verbose);
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            failure.exit.into()
        }
    }
}

/// Logs go to standard error; warnings only unless asked for more.
fn logging(verbose: u8) {
    let level = match verbose {
        0 => tracing_subscriber::filter::LevelFilter::WARN,
        1 => tracing_subscriber::filter::LevelFilter::INFO,
        2 => tracing_subscriber::filter::LevelFilter::DEBUG,
        _ => tracing_subscriber::filter::LevelFilter::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose > 1)
        .init();
}
