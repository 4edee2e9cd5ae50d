//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Ralph runs autonomous development loops on issue specs.
///
/// Its marketplace lets competing bidder plugins propose how to solve an
/// issue, scores the proposals blind, implements only the winner, and learns
/// from the outcome: every bidder's weight and share of a fixed iteration
/// budget are derived from an append-only event log in `.ralph/events/`,
/// committed to git so every clone converges on the same state.
#[derive(Debug, Parser)]
#[command(name = "ralph", version, propagate_version = true)]
#[command(
    after_help = "Start with `ralph marketplace setup`, then `ralph marketplace status`.\n\
Exit codes: 0 success, 1 problems found or an operation failed, 2 bad usage, config or input."
)]
pub struct Cli {
    /// The repository to work in [default: the git root above the current directory]
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The marketplace: set up, inspect and record what bidders did
    #[command(subcommand)]
    Marketplace(MarketplaceCommand),
}

#[derive(Debug, Subcommand)]
pub enum MarketplaceCommand {
    /// Create `.ralph/` (config, events, .gitignore) and `.claude/agents/`
    ///
    /// Never overwrites an existing file: running it twice changes nothing.
    Setup,

    /// Show every bidder's weight, efficiency and budget
    ///
    /// The state is folded from `.ralph/events/` and cached in
    /// `.ralph/marketplace.json`; a stale cache is never used. Event files
    /// that do not parse, or name an unknown bidder, are left out with a
    /// warning.
    Status(JsonFlag),

    /// Validate one event and append it to the log
    ///
    /// The event is written atomically under its canonical name,
    /// `<timestamp>-<bot_id>-<outcome>.json`; an existing file is never
    /// replaced (a clash takes the next microsecond).
    #[command(
        after_help = "Example:\n  echo '{\"timestamp\": \"2026-01-29T10:15:00.123456Z\", \"issue_number\": 123,\n         \"bot_id\": \"bidder_2\", \"outcome\": \"success\", \"weight_delta\": 0.15}' \\\n    | ralph marketplace record --file -"
    )]
    Record {
        /// The event's JSON file, or `-` for standard input
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Check the log and the cache; exit 1 if anything is wrong
    ///
    /// Lists every excluded event file with its reason, events naming
    /// unknown bidders, and whether the cache is fresh.
    Verify(JsonFlag),

    /// Start over with equal weights, keeping the history
    ///
    /// Moves every event file to `.ralph/archive/<timestamp>/` (nothing is
    /// deleted). Asks for confirmation on a terminal; elsewhere pass `--yes`.
    Reset {
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON for machines instead of text for people
    #[arg(long)]
    pub json: bool,
}
