//! `ralph marketplace …`: setup, status, usage, record, verify, reset
//! (`leases` and `sync` are in [`super::team`]).

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::Context;
use ralph_broker::issue_source::{self, IssuesSettings};
use ralph_issues::Label;
use ralph_marketplace::marketplace::RecordError;
use ralph_marketplace::setup::{Action, setup};
use ralph_marketplace::verify::verify;
use ralph_marketplace::{Layout, Marketplace};

use super::issues;
use crate::agents::AGENTS;
use crate::cli::MarketplaceCommand;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, Form, Stream, errln, out, outln};
use crate::render;

pub fn run(layout: &Layout, command: MarketplaceCommand) -> Outcome {
    match command {
        MarketplaceCommand::Setup(args) => run_setup(layout, args.json.json, args.github_actions),
        MarketplaceCommand::Status(flag) => status(layout, flag.json),
        MarketplaceCommand::Usage { issue, json } => usage(layout, issue, json.json),
        MarketplaceCommand::Analyze { last, json } => {
            super::analyze::run(layout, last.map(|n| n as usize), json.json)
        }
        MarketplaceCommand::Tune { yes, json } => super::analyze::tune(layout, yes, json.json),
        MarketplaceCommand::Signals {
            since,
            branch,
            dry_run,
            json,
        } => super::delayed_signals::run(layout, since.as_deref(), branch, dry_run, json.json),
        MarketplaceCommand::Report { out, json } => {
            super::report::run(layout, out.as_deref(), json.json)
        }
        MarketplaceCommand::Record { file, json } => record(layout, &file, json.json),
        MarketplaceCommand::Verify(flag) => run_verify(layout, flag.json),
        MarketplaceCommand::Reset { yes, json } => reset(layout, yes, json.json),
        MarketplaceCommand::Clean { all, dry_run, json } => clean(layout, all, dry_run, json.json),
        MarketplaceCommand::Leases(flag) => super::team::leases(layout, flag.json),
        MarketplaceCommand::Sync(flag) => super::team::sync(layout, flag.json),
        MarketplaceCommand::Loop {
            issue,
            review,
            llm,
            json,
        } => crate::commands::run_loop::run(layout, issue, json.json, review, &llm),
        MarketplaceCommand::Spec(spec) => {
            issues::spec(layout, spec.number, spec.file.as_deref(), spec.json.json)
        }
        MarketplaceCommand::Ready(ready) => issues::ready(layout, ready.number, ready.json.json),
        MarketplaceCommand::Backlog(flag) => issues::backlog(layout, flag.json),
        MarketplaceCommand::PullRequest(pull) => super::review::pull_request(
            layout,
            pull.number,
            pull.json.json,
            ralph_broker::sessions::LoopKind::Marketplace,
        ),
        MarketplaceCommand::Simulate(args) => super::simulate::run(&args),
    }
}

/// Opens the marketplace; a missing or invalid config stops the command.
pub(super) fn open(layout: &Layout) -> Result<Marketplace, Failure> {
    if !layout.config_file().exists() {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "{}: no marketplace config here; run `ralph marketplace setup` first",
                layout.display(&layout.config_file())
            ),
        ));
    }
    let marketplace = Marketplace::open(layout.clone()).map_err(Failure::bad_input)?;
    // The whole config, as the loop reads it: no command accepts a config
    // the loop refuses.
    ralph_broker::loop_config::validate(&marketplace, &layout.config_file())
        .map_err(Failure::bad_input)?;
    Ok(marketplace)
}

fn clean(layout: &Layout, all: bool, dry_run: bool, json: bool) -> Outcome {
    use ralph_broker::clean::Action;
    let issues = super::issues::open_issues(layout)?;
    let cleaned =
        ralph_broker::clean::clean(layout, issues.as_ref(), all, dry_run).map_err(|error| {
            Failure::problem(anyhow::anyhow!(
                "{}: {error}",
                layout.display(&layout.worktrees_dir())
            ))
        })?;
    if json {
        output::json_line(&serde_json::to_string(&cleaned).map_err(Failure::problem)?);
        return Ok(Exit::Success);
    }
    if cleaned.is_empty() {
        outln!(
            "no worktrees in {}",
            layout.display(&layout.worktrees_dir())
        );
    }
    let mut freed = 0;
    for entry in &cleaned {
        let size = megabytes(entry.bytes);
        match &entry.action {
            Action::Removed => {
                freed += entry.bytes;
                outln!(
                    "removed {} (issue #{}, {size})",
                    entry.worktree,
                    entry.issue
                );
            }
            Action::WouldRemove => {
                freed += entry.bytes;
                outln!(
                    "would remove {} (issue #{}, {size})",
                    entry.worktree,
                    entry.issue
                );
            }
            Action::Kept { reason } => {
                outln!(
                    "kept    {} (issue #{}): {reason}",
                    entry.worktree,
                    entry.issue
                );
            }
        }
    }
    if freed > 0 {
        let verb = if dry_run { "would free" } else { "freed" };
        outln!("{verb} {}; the branches stay", megabytes(freed));
    }
    Ok(Exit::Success)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

pub fn run_setup(layout: &Layout, json: bool, github_actions: bool) -> Outcome {
    let mut actions = setup(layout, AGENTS).map_err(Failure::problem)?;
    if github_actions {
        actions.push(ralph_marketplace::setup::github_workflow(layout).map_err(Failure::problem)?);
    }
    let labels = github_labels(layout)?;
    if json {
        let paths = |wanted: fn(&Action) -> Option<&std::path::PathBuf>| -> Vec<String> {
            actions
                .iter()
                .filter_map(wanted)
                .map(|path| layout.display(path).to_string())
                .collect()
        };
        let created = paths(|action| match action {
            Action::Created(path) => Some(path),
            _ => None,
        });
        let updated = paths(|action| match action {
            Action::Updated(path) => Some(path),
            _ => None,
        });
        let kept = paths(|action| match action {
            Action::Kept(path) => Some(path),
            _ => None,
        });
        let mut answer = serde_json::json!({"created": created, "updated": updated, "kept": kept});
        if let Some((repository, labels)) = &labels {
            answer["github"] = serde_json::json!({
                "repository": repository,
                "labels_created": labels.iter().map(|label| label.as_str()).collect::<Vec<_>>(),
            });
        }
        output::json_line(&answer.to_string());
        return Ok(Exit::Success);
    }
    for action in &actions {
        match action {
            Action::Created(path) => outln!("created {}", layout.display(path)),
            Action::Updated(path) => outln!("updated {}", layout.display(path)),
            Action::Kept(path) => outln!("kept    {}", layout.display(path)),
        }
    }
    if let Some((repository, labels)) = &labels {
        if labels.is_empty() {
            outln!("kept    the labels of {repository}: Ralph's six are there");
        } else {
            let names: Vec<&str> = labels.iter().map(|label| label.as_str()).collect();
            outln!("created the labels {} on {repository}", names.join(", "));
        }
    }
    Ok(Exit::Success)
}

/// With the `github` issue source: creates Ralph's six labels the
/// repository lacks (existing ones stay as they are); which it created.
fn github_labels(layout: &Layout) -> Result<Option<(String, Vec<Label>)>, Failure> {
    let settings = IssuesSettings::of(layout).map_err(Failure::bad_input)?;
    let IssuesSettings::Github(github) = &settings else {
        return Ok(None);
    };
    let tracker = issue_source::open(layout, &settings)
        .map_err(|message| Failure::bad_input(anyhow::anyhow!(message)))?;
    let Some(source) = tracker.github else {
        return Ok(None);
    };
    let created = source
        .ensure_labels()
        .map_err(|error| Failure::problem(anyhow::anyhow!("{}: {error}", github.repository)))?;
    Ok(Some((github.repository.clone(), created)))
}

fn status(layout: &Layout, json: bool) -> Outcome {
    let marketplace = open(layout)?;
    let loaded = marketplace.state().map_err(Failure::problem)?;
    if let Some(warning) = &loaded.cache_warning {
        errln!("warning: {warning}");
    }
    for excluded in &loaded.state.excluded_events {
        errln!(
            "warning: {} excluded: {}",
            layout.display(&layout.events_dir().join(&excluded.file)),
            excluded.reason
        );
    }
    if json {
        output::write(Stream::Stdout, Form::Json, &loaded.json);
    } else {
        out!("{}", render::status_with_usage(&marketplace, &loaded.state));
    }
    Ok(Exit::Success)
}

fn usage(layout: &Layout, issue: Option<u64>, json: bool) -> Outcome {
    let marketplace = open(layout)?;
    let report = marketplace.usage(issue).map_err(Failure::problem)?;
    for skipped in &report.skipped {
        errln!(
            "warning: {} left out of the usage: {}",
            layout.display(&layout.events_dir().join(&skipped.file)),
            skipped.reason
        );
    }
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(Failure::problem)?;
        output::json_line(&text);
    } else {
        out!("{}", render::usage(&report));
    }
    Ok(Exit::Success)
}

fn record(layout: &Layout, file: &Path, json: bool) -> Outcome {
    let marketplace = open(layout)?;
    // One byte past the cap is enough for `record` to refuse a larger
    // event; the rest is never read.
    let limit = ralph_marketplace::store::MAX_EVENT_BYTES + 1;
    let mut bytes = Vec::new();
    let source_name = if file == Path::new("-") {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("cannot read the event from standard input")
            .map_err(Failure::bad_input)?;
        "<stdin>".to_owned()
    } else {
        std::fs::File::open(file)
            .and_then(|opened| opened.take(limit).read_to_end(&mut bytes))
            .with_context(|| format!("{}: cannot read the event", file.display()))
            .map_err(Failure::bad_input)?;
        file.display().to_string()
    };
    let appended = marketplace
        .record(&source_name, &bytes)
        .map_err(|error| match error {
            RecordError::Invalid { .. } => Failure::bad_input(error),
            RecordError::Store(_) => Failure::problem(error),
        })?;
    if json {
        let report = serde_json::json!({
            "file": appended.file_name,
            "path": appended.path,
            "timestamp": appended.timestamp,
            "already_recorded": appended.already_recorded,
        });
        output::json_line(&report.to_string());
    } else if appended.already_recorded {
        outln!(
            "already recorded as {}; nothing written",
            layout.display(&appended.path)
        );
    } else {
        outln!("recorded {}", layout.display(&appended.path));
    }
    Ok(Exit::Success)
}

fn run_verify(layout: &Layout, json: bool) -> Outcome {
    let marketplace = open(layout)?;
    // The loop's sections too: a broken one would stop the loop later.
    ralph_broker::plugins::Lineup::from_config(marketplace.config(), &layout.config_file())
        .map_err(Failure::bad_input)?;
    ralph_broker::implementer::Implementer::from_config(
        marketplace.config(),
        &layout.config_file(),
    )
    .map_err(Failure::bad_input)?;
    ralph_broker::metering::Metering::from_config(marketplace.config(), &layout.config_file())
        .map_err(Failure::bad_input)?;
    ralph_broker::confinement::Sandbox::from_config(marketplace.config(), &layout.config_file())
        .map_err(Failure::bad_input)?;
    let report = verify(&marketplace).map_err(Failure::problem)?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(Failure::problem)?;
        output::json_line(&text);
    } else {
        out!("{}", render::verify(layout, &report));
    }
    Ok(if report.is_clean() {
        Exit::Success
    } else {
        Exit::Problems
    })
}

fn reset(layout: &Layout, yes: bool, json: bool) -> Outcome {
    let marketplace = open(layout)?;
    let count = marketplace.store().list().map_err(Failure::problem)?.len();
    if count == 0 {
        if json {
            output::json_line(r#"{"moved":0,"archive":null}"#);
        } else {
            outln!(
                "nothing to reset: {} holds no events",
                layout.display(&layout.events_dir())
            );
        }
        return Ok(Exit::Success);
    }
    let question = format!(
        "Move {count} event files to .ralph/archive/ and reset every bidder to equal weight?"
    );
    if !yes && !confirm("reset", &question)? {
        outln!("reset cancelled; nothing moved");
        return Ok(Exit::Problems);
    }
    let (archive, moved) = marketplace
        .store()
        .archive(&layout.archive_dir(), chrono::Utc::now())
        .map_err(Failure::problem)?;
    if json {
        output::json_line(
            &serde_json::json!({"moved": moved, "archive": layout.display(&archive).to_string()})
                .to_string(),
        );
        return Ok(Exit::Success);
    }
    outln!(
        "moved {moved} event files to {}; every bidder is back to equal weight",
        layout.display(&archive)
    );
    outln!("commit .ralph/ to share the reset with your team");
    Ok(Exit::Success)
}

/// Asks `question` on the terminal for `command`; refuses when there is
/// none.
pub(super) fn confirm(command: &str, question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::message(
            Exit::BadInput,
            format!("{command} needs confirmation: pass --yes when not running on a terminal"),
        ));
    }
    out!("{question} [y/N] ");

    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(Failure::problem)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}
