//! Turning the winning proposal into a change in the worktree.
//!
//! `implementer` in `.ralph/config.json` chooses how:
//! - `{"kind": "patch"}` (the default): apply the proposal's own unified diff;
//! - `{"kind": "command", "argv": [...], "timeout_seconds": 1800}`: run an
//!   external coding agent in the worktree; `{prompt_file}` and `{worktree}`
//!   in `argv` are replaced by the prompt's path and the worktree's path.
//!   Whatever it changes is the implementation; only the checks decide
//!   whether it succeeded.

use std::path::Path;

use ralph_runtime::Proposal;
use serde::Deserialize;

use crate::checks::{self, Category, CommandCheck, Verdict};
use crate::worktree::Worktree;

/// How the winning proposal is implemented.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Implementer {
    #[default]
    Patch,
    Command {
        argv: Vec<String>,
        #[serde(default = "default_timeout")]
        timeout_seconds: u64,
    },
}

fn default_timeout() -> u64 {
    1800
}

impl Implementer {
    /// Makes the change in `worktree`; the error says why it could not.
    pub fn implement(&self, worktree: &Worktree, proposal: &Proposal) -> Result<(), String> {
        match self {
            Implementer::Patch => {
                let patch = proposal.patch.as_deref().ok_or_else(|| {
                    "the proposal carries no patch; configure the `command` implementer to have an agent write it".to_owned()
                })?;
                worktree.apply(patch).map_err(|error| error.to_string())
            }
            Implementer::Command {
                argv,
                timeout_seconds,
            } => run_agent(worktree.path(), argv, *timeout_seconds, proposal),
        }
    }
}

/// The prompt an agent gets: the proposal to implement.
pub fn prompt(proposal: &Proposal) -> String {
    let files: Vec<String> = proposal
        .files
        .iter()
        .map(|file| format!("- {} (about {} lines)", file.path, file.estimated_lines))
        .collect();
    format!(
        "Implement this proposal in the current directory. Change only what it needs; do not commit.\n\n\
         ## Summary\n{}\n\n## Plan\n{}\n\n## Files\n{}\n\n## Tests to add\n{}\n",
        proposal.summary,
        proposal.pseudo_code,
        files.join("\n"),
        proposal.planned_tests.join("\n")
    )
}

fn run_agent(
    worktree: &Path,
    argv: &[String],
    timeout_seconds: u64,
    proposal: &Proposal,
) -> Result<(), String> {
    let prompt_file = tempfile::Builder::new()
        .prefix("ralph-prompt-")
        .suffix(".md")
        .tempfile()
        .map_err(|error| format!("cannot write the prompt file: {error}"))?;
    std::fs::write(prompt_file.path(), prompt(proposal))
        .map_err(|error| format!("cannot write the prompt file: {error}"))?;
    let substitute = |part: &String| {
        part.replace("{prompt_file}", &prompt_file.path().to_string_lossy())
            .replace("{worktree}", &worktree.to_string_lossy())
    };
    let command = CommandCheck {
        name: "implementer".into(),
        argv: argv.iter().map(substitute).collect(),
        category: Category::Custom,
        timeout_seconds,
    };
    let run = checks::run(&command, worktree);
    match run.verdict {
        Verdict::Passed => Ok(()),
        Verdict::Failed { exit_code } => Err(format!(
            "the implementer exited with {}: {}",
            exit_code.map_or("a signal".to_owned(), |code| code.to_string()),
            run.output.lines().last().unwrap_or("")
        )),
        Verdict::TimedOut => Err(format!(
            "the implementer timed out after {timeout_seconds} s"
        )),
        Verdict::NotRun { reason } => Err(reason),
    }
}
