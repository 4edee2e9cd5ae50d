//! The `ralph` command: parses arguments, runs the command, reports errors.

use std::process::ExitCode;

use clap::Parser;

mod agents;
mod cli;
mod commands;
mod exit;
mod output;
mod render;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging(cli.verbose);
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(failure) => {
            output::errln!("error: {:#}", failure.error);
            failure.exit.into()
        }
    }
}

/// Logs go to standard error, cleaned and redacted like everything Ralph
/// prints; warnings only unless asked for more.
fn logging(verbose: u8) {
    let level = match verbose {
        0 => tracing_subscriber::filter::LevelFilter::WARN,
        1 => tracing_subscriber::filter::LevelFilter::INFO,
        2 => tracing_subscriber::filter::LevelFilter::DEBUG,
        _ => tracing_subscriber::filter::LevelFilter::TRACE,
    };
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let form = if colours {
        output::Form::Coloured
    } else {
        output::Form::Human
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || output::Writer::new(output::Stream::Stderr, form))
        .with_ansi(colours)
        .with_target(verbose > 1)
        .init();
}
