//! One module per command group; `run` dispatches.

use std::path::PathBuf;

use anyhow::Context;
use ralph_marketplace::Layout;
use ralph_marketplace::layout::find_repository_root;

use crate::cli::{Cli, Command, MarketplaceCommand};
use crate::exit::{Exit, Failure, Outcome};

mod analyze;
mod audit;
mod delayed_signals;
mod demo;
mod issues;
mod marketplace;
mod permissions;
mod plugin;
mod report;
mod review;
mod run_loop;
mod signal;
mod simple;
mod simulate;
mod team;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        // The demo makes its own repository.
        Command::Demo { dir, llm, json } => demo::run(dir, json.json, &llm),
        // The simulator needs no repository.
        Command::Marketplace(MarketplaceCommand::Simulate(args)) => simulate::run(&args),
        Command::Marketplace(command) => {
            marketplace::run(&Layout::new(repository(cli.repo)?), command)
        }
        Command::Simple(command) => simple::run(&Layout::new(repository(cli.repo)?), command),
        Command::Signal {
            kind,
            issue,
            session,
            message,
            json,
        } => signal::run(
            &Layout::new(repository(cli.repo)?),
            signal::Request {
                kind,
                issue,
                session,
                message,
                json: json.json,
            },
        ),
        Command::Plugin(command) => plugin::run(cli.repo, command),
        Command::Permissions(command) => {
            permissions::run(&Layout::new(repository(cli.repo)?), command)
        }
        Command::Audit { since, json } => {
            audit::run(&Layout::new(repository(cli.repo)?), since.as_deref(), json)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "ralph", &mut script);
            crate::output::write(
                crate::output::Stream::Stdout,
                crate::output::Form::Human,
                &String::from_utf8_lossy(&script),
            );
            Ok(Exit::Success)
        }
    }
}

/// The repository the command works in, once known: error messages show
/// paths inside it relative to it.
static REPOSITORY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The repository the command works in, if it got that far.
pub fn repository_in_use() -> Option<&'static std::path::Path> {
    REPOSITORY.get().map(PathBuf::as_path)
}

/// The repository to work in: `--repo` (the root of a git repository), or
/// the git root above the current directory.
fn repository(explicit: Option<PathBuf>) -> Result<PathBuf, Failure> {
    let root = find_repository(explicit)?;
    let _ = REPOSITORY.set(root.clone());
    Ok(root)
}

fn find_repository(explicit: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(directory) = explicit {
        if !directory.is_dir() {
            return Err(Failure::message(
                Exit::BadInput,
                format!("--repo {}: not a directory", directory.display()),
            ));
        }
        if !directory.join(".git").exists() {
            let absolute = std::path::absolute(&directory).unwrap_or(directory.clone());
            let advice = match absolute.parent().and_then(find_repository_root) {
                Some(root) => format!("; its repository's root is {}", root.display()),
                None => "; it is not inside a git repository either".to_owned(),
            };
            return Err(Failure::message(
                Exit::BadInput,
                format!(
                    "--repo {}: not the root of a git repository (no .git there){advice}",
                    directory.display()
                ),
            ));
        }
        return Ok(directory);
    }
    let current = std::env::current_dir()
        .context("cannot read the current directory")
        .map_err(Failure::bad_input)?;
    find_repository_root(&current).ok_or_else(|| {
        Failure::message(
            Exit::BadInput,
            format!(
                "{} is not inside a git repository; run Ralph inside one or pass --repo DIR",
                current.display()
            ),
        )
    })
}

/// Replaces `path` with `text` atomically (a temporary file in `temporary`,
/// renamed into place); a failure names the file as `layout` shows it.
fn replace_file(
    layout: &Layout,
    temporary: &std::path::Path,
    path: &std::path::Path,
    text: &str,
) -> Result<(), Failure> {
    ralph_issues::atomic::replace(temporary, path, text).map_err(|error| {
        Failure::problem(anyhow::anyhow!(
            "{}: {}",
            layout.display(&error.path),
            error.source
        ))
    })
}
