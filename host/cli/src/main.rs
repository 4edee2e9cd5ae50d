//! The `ralph` command: parses arguments, runs the command, reports errors.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

mod agents;
mod cli;
mod commands;
mod durations;
mod exit;
mod live;
mod output;
mod ranking_review;
mod render;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let json = wants_json(&matches);
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    logging(cli.verbose);
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(failure) => {
            let message = failure.describe(commands::repository_in_use());
            if json {
                // A machine asked: the error is one JSON object on standard
                // error, with the exit code it gets; standard output stays
                // empty of anything that is not a result.
                output::write(
                    output::Stream::Stderr,
                    output::Form::Json,
                    &format!(
                        "{}\n",
                        serde_json::json!({"error": message, "exit_code": failure.exit as i32})
                    ),
                );
            } else {
                output::errln!("error: {message}");
            }
            failure.exit.into()
        }
    }
}

/// Whether the command given asks for JSON (`--json` on its deepest
/// subcommand).
fn wants_json(matches: &clap::ArgMatches) -> bool {
    let mut current = matches;
    while let Some((_, inner)) = current.subcommand() {
        current = inner;
    }
    matches!(current.try_get_one::<bool>("json"), Ok(Some(true)))
}

/// Logs go to standard error, cleaned and redacted like everything Ralph
/// prints; warnings only unless asked for more, by `-v` or by `RUST_LOG`
/// (tracing-subscriber's filter syntax, e.g. `RUST_LOG=ralph_broker=debug`),
/// which wins over `-v`. Without either, a warning is one plain line:
/// no time, no colours.
fn logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;
    let level = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let from_environment = std::env::var("RUST_LOG").is_ok_and(|value| !value.trim().is_empty());
    let filter = if from_environment {
        EnvFilter::builder()
            .with_default_directive(level.into())
            .from_env_lossy()
    } else {
        EnvFilter::default().add_directive(level.into())
    };
    let detailed = verbose > 0 || from_environment;
    let colours = detailed && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let form = if colours {
        output::Form::Coloured
    } else {
        output::Form::Human
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || output::Writer::new(output::Stream::Stderr, form))
        .with_ansi(colours)
        .with_target(verbose > 1);
    if detailed {
        builder.init();
    } else {
        builder.without_time().init();
    }
}
