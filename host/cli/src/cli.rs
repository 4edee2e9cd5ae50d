//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    after_help = "Try `ralph demo` first. In your repository: `ralph marketplace setup`, then\n\
`ralph marketplace spec`, `ready N` and `loop N`; `ralph marketplace status` shows what was learned.\n\
One implementer without the marketplace: `ralph simple loop N` (docs/simple.md).\n\
Exit codes: 0 success, 1 problems found or an operation failed, 2 bad usage, config or input,\n\
3 the loop stopped early (attention-needed), 130 interrupted."
)]
pub struct Cli {
    /// The repository to work in [default: the git root above the current directory]
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Log more to standard error: -v for progress, -vv for detail, -vvv for everything
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the marketplace on a bundled sample project, offline
    ///
    /// Copies a small Rust crate with its own tests and an issue with three
    /// checkboxes into DIR (default: a new temporary directory), sets up the
    /// marketplace with the bundled plugins, and runs the real loop. The
    /// three model-backed bidders replay recorded answers (no key, no
    /// network); the first winner has a bug the tests catch, so you see a
    /// failure, a replan round and a success. With --llm-provider they ask
    /// that model, and the `model` implementer writes the change of a winner
    /// that answered with a plan alone.
    #[command(
        after_help = "With a live model instead of the replay (see docs/models.md):\n  \
ralph demo --llm-provider openai --llm-base-url http://localhost:11434/v1 --llm-model qwen2.5-coder:14b\n  \
ANTHROPIC_API_KEY=... ralph demo --llm-provider anthropic --llm-model claude-sonnet-4-5 --llm-record replay.json"
    )]
    Demo {
        /// Where to put the sample (must be new or empty)
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
        #[command(flatten)]
        llm: LlmFlags,
    },

    /// The marketplace: bidders and their events, issues, pull-request records
    #[command(subcommand)]
    Marketplace(MarketplaceCommand),

    /// The simple loop: one implementer works through an issue, in sessions
    ///
    /// The seed's simple workflow on the marketplace's issues, labels,
    /// worktrees, checks and pull-request records: iterations of plan →
    /// implement → commit → checks, with the working state of every run in
    /// `.ralph-sessions/<YYMMDD-hhmmss>/` (docs/simple.md).
    #[command(subcommand)]
    Simple(SimpleCommand),

    /// Steer, pause, resume, stop or inform a running loop
    ///
    /// Writes one file, atomically, into the running session's
    /// `signals/inputs/`. The loop claims it between steps and while a long
    /// step runs, and shows it. STEER: its MESSAGE goes into the
    /// implementer's next prompt (and every prompt after). INFO: added to
    /// the session's context. PAUSE: the loop finishes the step in hand and
    /// waits until RESUME or STOP (paused time counts toward no limit).
    /// STOP: like Ctrl-C: what runs ends at once, exit 130, resumable.
    /// The loop is found by `--session`, else `--issue`, else as the only
    /// one running; a signal for no running loop is an error (exit 2).
    #[command(after_help = "Examples:\n  \
ralph signal steer --issue 4 \"keep the public API as it is\"\n  \
ralph signal pause --issue 4\n  \
ralph signal resume --issue 4\n  \
ralph signal stop --session 261203-161343 --json")]
    Signal {
        /// steer, pause, resume, stop or info
        #[arg(value_enum, value_name = "SIGNAL")]
        kind: SignalArg,
        /// The issue whose running loop gets it
        #[arg(long, value_name = "N", conflicts_with = "session")]
        issue: Option<u64>,
        /// The session (`.ralph-sessions/<ID>/`) that gets it
        #[arg(long, value_name = "ID")]
        session: Option<String>,
        /// What the loop should hear (needed for steer and info)
        #[arg(value_name = "MESSAGE", trailing_var_arg = true)]
        message: Vec<String>,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Plugins: list the configured ones, inspect a component, start a new one
    ///
    /// Bidders, specialists and checks are WebAssembly components
    /// implementing the `ralph:plugin` WIT contract; `docs/plugins.md` is the
    /// authoring guide.
    #[command(subcommand)]
    Plugin(PluginCommand),

    /// Approve plugins' read-only integrations: aws, sentry, alpaca, http-get
    ///
    /// A plugin that requests an integration capability in its metadata may
    /// use it only once you approve it here (or answer `a` at the terminal
    /// prompt). Approvals are yours: they live in `.ralph/approvals.json`,
    /// which git ignores. `docs/integrations.md` says what each capability
    /// can read.
    #[command(subcommand)]
    Permissions(PermissionsCommand),

    /// Show the integration calls plugins made, from `.ralph/audit/`
    ///
    /// One row per call, denied and rate-limited ones included: when, which
    /// plugin, capability and operation, how it ended, how long it took and
    /// how many bytes the plugin got. Parameters and errors are in `--json`
    /// (redacted, like everything in the log). Lines of the log that cannot
    /// be read are reported on standard error and skipped.
    #[command(after_help = "Examples:\n  \
ralph audit --since 1h\n  \
ralph audit --since 2026-11-20 --json | jq 'select(.status != \"ok\")'")]
    Audit {
        /// Only calls at or after this: a UTC date (2026-11-20), an RFC 3339
        /// time, or a duration back from now (30m, 1h, 7d)
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Print the log's JSON lines instead of a table
        #[arg(long)]
        json: bool,
    },

    /// Print a shell completion script
    ///
    /// Load it in your shell's startup file; it completes Ralph's commands,
    /// flags and their values.
    #[command(after_help = "Examples:\n  \
ralph completions bash > ~/.local/share/bash-completion/completions/ralph\n  \
ralph completions zsh > \"${fpath[1]}/_ralph\"\n  \
ralph completions fish > ~/.config/fish/completions/ralph.fish")]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum PermissionsCommand {
    /// List the approvals and the http-get allow-lists, by plugin
    ///
    /// Approvals come from `.ralph/approvals.json`, allow-lists from
    /// `integrations.http_get.allow` in `.ralph/config.json`, which is
    /// checked: a mistake in the `integrations` section is exit 2 naming
    /// the field.
    #[command(after_help = "Examples:\n  ralph permissions list\n  ralph permissions list --json")]
    List(JsonFlag),

    /// Approve CAPABILITY for PLUGIN
    ///
    /// Only integration capabilities are approved here: aws, sentry, alpaca,
    /// http-get. The plugin must also request the capability in its
    /// metadata; for http-get, the URLs it may read are listed under
    /// `integrations.http_get.allow` in `.ralph/config.json`.
    #[command(after_help = "Example:\n  ralph permissions grant status-reader aws")]
    Grant {
        /// The plugin's name, as its metadata gives it
        #[arg(value_name = "PLUGIN")]
        plugin: String,
        /// aws, sentry, alpaca or http-get
        #[arg(value_name = "CAPABILITY")]
        capability: String,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Withdraw an approval; the plugin's next call is denied
    #[command(after_help = "Example:\n  ralph permissions revoke status-reader aws")]
    Revoke {
        /// The plugin's name
        #[arg(value_name = "PLUGIN")]
        plugin: String,
        /// aws, sentry, alpaca or http-get
        #[arg(value_name = "CAPABILITY")]
        capability: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List every configured bidder, specialist and check
    ///
    /// Reads the `bidders`, `specialists` and `checks` sections of
    /// `.ralph/config.json` (a section left out means the bundled default
    /// lineup) and loads each plugin, compiled once and cached in the user's
    /// cache directory (`~/.cache/ralph/plugins/`, never the repository), to
    /// read its name and version. Shows what each
    /// plugin requests, what the config grants and what it may therefore use;
    /// a capability requested but not granted is flagged, since every call
    /// to it will be denied. Command checks are listed with their argv.
    /// Exits 1 if any plugin fails to load (after listing everything), 2 if
    /// the config is invalid.
    #[command(after_help = "Examples:\n  \
ralph plugin list\n  \
ralph plugin list --json | jq '.[] | select(.error != null)'")]
    List(JsonFlag),

    /// Show what a component is: world, contract version, metadata, imports, exports
    ///
    /// Runs only the component's `metadata` export, in the sandbox, with
    /// nothing granted and an empty directory as its repository. FILE is a
    /// `.wasm` component or `bundled:NAME` for a plugin shipped with Ralph.
    /// The contract version is the `ralph:plugin` version it was built
    /// against. Exits 2 if FILE is not a component, implements no Ralph
    /// world or was built against a contract version this Ralph does not run.
    #[command(after_help = "Examples:\n  \
ralph plugin inspect target/wasm32-wasip2/release/my_bidder.wasm\n  \
ralph plugin inspect bundled:secrets --json")]
    Inspect {
        /// The component file, or `bundled:NAME`
        #[arg(value_name = "FILE")]
        file: String,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Create a plugin crate that builds and passes `inspect` as generated
    ///
    /// Writes `PARENT/NAME/` with `Cargo.toml`, `src/lib.rs` and
    /// `.gitignore`, depending on Ralph's guest SDK: `--sdk` if given, else
    /// the SDK in the source tree Ralph was built from. Never overwrites an
    /// existing directory.
    #[command(after_help = "Example:\n  \
ralph plugin new --kind bidder my-bidder\n  \
cd my-bidder && cargo build --target wasm32-wasip2 --release\n  \
ralph plugin inspect target/wasm32-wasip2/release/my_bidder.wasm")]
    New {
        /// Which world the plugin implements
        #[arg(long, value_enum, value_name = "KIND")]
        kind: PluginKind,
        /// The crate's name: lower-case letters, digits and `-`, starting with a letter
        #[arg(value_name = "NAME")]
        name: String,
        /// The directory to create the crate in [default: the current directory]
        #[arg(long, value_name = "PARENT")]
        dir: Option<PathBuf>,
        /// The guest SDK's directory (`plugins/sdk` of a Ralph checkout)
        /// [default: the SDK of the source tree Ralph was built from]
        #[arg(long, value_name = "PATH")]
        sdk: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// A live signal to a running loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SignalArg {
    /// Add MESSAGE to the implementer's next prompt (and the bidders' round context)
    Steer,
    /// Finish the step in hand, then wait for resume or stop
    Pause,
    /// Go on after a pause
    Resume,
    /// Stop now, as Ctrl-C does; a re-run resumes
    Stop,
    /// Add MESSAGE to the session's context without changing the plan
    Info,
}

/// The world a new plugin implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PluginKind {
    /// Proposes plans for issues
    Bidder,
    /// Answers questions and reviews proposals
    Specialist,
    /// Verifies implemented changes
    Check,
}

#[derive(Debug, Subcommand)]
pub enum MarketplaceCommand {
    /// Create `.ralph/` (config, events, .gitignore) and `.claude/agents/`
    ///
    /// Also adds `/.ralph-sessions/` (the loops' sessions) to the
    /// repository's `.gitignore`, creating it if needed. With the `github`
    /// issue source (`issues` in `.ralph/config.json`), also creates Ralph's
    /// six labels the GitHub repository lacks, never changing one that
    /// exists. With `--github-actions`, also writes
    /// `.github/workflows/ralph.yml`: the loop on an issue labelled `ready`
    /// (or run by hand), then `sync` (docs/team.md). Never overwrites an
    /// existing file: running it twice changes nothing.
    #[command(
        after_help = "Examples:\n  ralph marketplace setup\n  ralph marketplace setup --github-actions\n  ralph --repo ../service marketplace setup --json"
    )]
    Setup(SetupArgs),

    /// Show every bidder's weight, efficiency and budget
    ///
    /// The state is folded from `.ralph/events/` and cached in
    /// `.ralph/marketplace.json`; a stale cache is never used. Event files
    /// that do not parse, or name an unknown bidder, are left out with a
    /// warning.
    #[command(
        after_help = "Examples:\n  ralph marketplace status\n  ralph marketplace status --json | jq '.bots'"
    )]
    Status(JsonFlag),

    /// Show the model usage recorded in the events, per bidder and overall
    ///
    /// Every event the loop writes for a bidder carries the tokens (and,
    /// with a price table in `metering.prices`, the cost) of its proposal in
    /// that round, and a winner's event those of implementing it. This adds
    /// them up apart from the marketplace state. Events with malformed usage
    /// are left out with a warning.
    #[command(after_help = "Examples:\n  \
ralph marketplace usage\n  \
ralph marketplace usage --issue 4 --json | jq .total.cost_usd")]
    Usage {
        /// Only the events of this issue
        #[arg(long, value_name = "N")]
        issue: Option<u64>,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Analyse how well the scores predicted success, from the log alone
    ///
    /// Needs at least 20 implementations (success or failure events with
    /// their proposal's dimensions) and says how many more otherwise. Per
    /// dimension: Spearman's rank correlation and the AUC of its score
    /// against success. For the total: the AUC, the Brier score and a
    /// ten-bin calibration table. Also how often ties decided a round, how
    /// often the first proposal submitted won (against chance), how often a
    /// person overrode the ranking, and recommended scoring weights (each
    /// in [0.05, 0.50], summing to 1). Writes `.ralph/meta_analysis.json`;
    /// changes no weight.
    #[command(after_help = "Examples:\n  \
ralph marketplace analyze\n  \
ralph marketplace analyze --last 50 --json | jq .recommended_weights")]
    Analyze {
        /// Only the newest N implementations
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        last: Option<u64>,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Write one self-contained HTML page of what the marketplace has learned
    ///
    /// From `.ralph/` alone: every bidder's weight, allocation, wins,
    /// losses, efficiency and cost (the numbers of `status --json` and
    /// `usage --json`); its weight and allocation over time, charted by
    /// replaying the fold over up to 100 prefixes of the log; the
    /// calibration table and each dimension's AUC and Spearman (the numbers
    /// of `analyze --json`, or how many more implementations it needs); the
    /// delayed signals per bidder; the last 10 rounds with their rankings;
    /// and the event files left out. The page loads nothing from anywhere:
    /// styles and SVG charts are inline. Written whole or not at all (a
    /// temporary file renamed into place). The default path is ignored by
    /// git, as the other derived files of `.ralph/` are.
    #[command(after_help = "Examples:\n  \
ralph marketplace report && xdg-open .ralph/report.html\n  \
ralph marketplace report --out /tmp/marketplace.html --json | jq .bytes")]
    Report {
        /// Where to write the page [default: .ralph/report.html]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Apply the scoring weights `analyze` recommended, after confirmation
    ///
    /// Shows each dimension's weight now and as `.ralph/meta_analysis.json`
    /// recommends, and writes them to `scoring_weights` in
    /// `.ralph/config.json` only when confirmed (on a terminal, or with
    /// `--yes`). Nothing changes weights by itself.
    #[command(
        after_help = "Examples:\n  ralph marketplace analyze && ralph marketplace tune\n  ralph marketplace tune --yes --json"
    )]
    Tune {
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Record what happened to Ralph's changes after they landed (SPEC §10)
    ///
    /// Reads the default branch's history (`origin/HEAD` when the clone
    /// knows it, else `HEAD`; `--branch` to choose). A Ralph commit carries
    /// the trailers `Ralph-Issue`, `Ralph-Round` and `Ralph-Proposal`, which
    /// the log maps to the bidder whose proposal it was. A commit reverting
    /// it within 14 days is a `revert` (weight −0.10); each later commit
    /// with a `Caused-by: <sha>` trailer naming it is a `defect` (−0.02); a
    /// file it changed edited more than 3 times in the 14 days after it is
    /// one `churn` (−0.03). Each event's content comes from the history
    /// alone, so running this again, or in another clone, adds nothing.
    #[command(after_help = "Examples:\n  \
ralph marketplace signals --dry-run\n  \
ralph marketplace signals --since 2026-11-01 --json")]
    Signals {
        /// Only signals committed on or after this date (YYYY-MM-DD, UTC) or
        /// RFC 3339 time
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// The branch or revision whose history is read
        #[arg(long, value_name = "REV")]
        branch: Option<String>,
        /// Say what would be recorded, and record nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Validate one event and append it to the log
    ///
    /// The event is written atomically under its canonical name,
    /// `<timestamp>-<bot_id>-<outcome>.json`, with its timestamp in canonical
    /// form; an existing file is never replaced (a clash takes the next
    /// microsecond). An event over 64 KiB or with an invalid field is refused
    /// (exit 2); one the log already holds (the same JSON content) is not
    /// written again, and the command says so.
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
    /// Lists every excluded event file with its reason (invalid, an unknown
    /// bidder, not a regular file, over 64 KiB, a name that disagrees with
    /// the content), events naming unknown bidders, and whether the cache is
    /// fresh.
    #[command(
        after_help = "Examples:\n  ralph marketplace verify\n  ralph marketplace verify --json"
    )]
    Verify(JsonFlag),

    /// Run the marketplace on a ready issue until every checkbox is ticked
    ///
    /// Each round every bidder with budget proposes, the proposals are scored
    /// blind, and only the winner is implemented, in a git worktree on the
    /// branch `ralph/<N>-<slug>` (your working tree is never touched), then
    /// verified by every check. A failure starts a replan round; a second
    /// failure, or a spent budget, labels the issue `attention-needed`.
    /// Ctrl-C stops cleanly between steps; running it again resumes.
    ///
    /// One loop per issue: the loop holds the issue's lock in
    /// `.ralph/locks/` and, when the repository has its git remote, a lease
    /// on it (`refs/ralph/leases/<N>`, renewed while it runs; see
    /// `ralph marketplace leases` and docs/team.md). A second loop on the
    /// issue exits 2 naming the holder.
    ///
    /// Plugins' `complete` calls (and the `model` implementer) are answered
    /// by the provider the `llm` section of `.ralph/config.json` names, or
    /// the deterministic stand-in; the `--llm-*` flags override that section.
    ///
    /// With `--review` you judge each ranking before anything is
    /// implemented (docs/loop.md, "Reviewing the ranking yourself").
    #[command(after_help = "Examples:\n  \
ralph marketplace loop 4\n  \
ralph marketplace loop 4 --review\n  \
ralph marketplace loop 4 --llm-provider openai --llm-base-url http://localhost:11434/v1 --llm-model qwen2.5-coder:14b\n\n\
Exit codes: 0 every requirement done (a pull-request record is in .ralph/pulls/),\n\
1 something failed, or the model provider stayed over its usage limit (run again later to resume),\n\
2 the issue or config is not usable (a missing API key included; --review without a terminal),\n\
3 stopped early (attention-needed), 130 interrupted (or `quit` at a --review question).")]
    Loop {
        /// The issue number (`.ralph/issues/<N>.md`)
        issue: u64,
        /// Show each round's ranking (blind labels, scores per dimension,
        /// summaries, the specialists' findings) and ask before
        /// implementing: approve the top proposal, choose another label
        /// (the top one gets an `override` event), send the bidders
        /// feedback for a new round (nobody is charged), or quit. Needs a
        /// terminal on standard input and standard error; with `--json`
        /// the question goes to standard error and the JSON lines stay on
        /// standard output
        #[arg(long)]
        review: bool,
        #[command(flatten)]
        json: JsonFlag,
        #[command(flatten)]
        llm: LlmFlags,
    },

    /// Remove the worktrees of finished issues
    ///
    /// A loop keeps its issue's worktree (`.ralph/worktrees/<N>/`, with its
    /// build output) so a stopped loop can resume. Once the issue is closed,
    /// or gone, `clean` removes the worktree; the branch and its commits
    /// stay, and so do the sessions (`.ralph-sessions/`). An issue a loop is
    /// working on is never touched.
    #[command(after_help = "Examples:\n  \
ralph marketplace clean --dry-run\n  \
ralph marketplace clean --all --json")]
    Clean {
        /// Also remove open issues' worktrees (a stopped loop then starts
        /// its worktree anew from the branch)
        #[arg(long)]
        all: bool,
        /// Only say what would be removed
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// List the leases loops hold on issues, with their holders
    ///
    /// A loop leases its issue before it works on it (SPEC §15): a ref
    /// `refs/ralph/leases/<N>` on the git remote (`team.remote`, else the
    /// `github` issue source's remote, else `origin`) holding the loop's
    /// host, pid and the time the lease runs until. Without that remote (or
    /// with `"leases": "local"` in the `team` section), the local locks in
    /// `.ralph/locks/`. An expired lease (its loop stopped renewing it) is
    /// taken over by the next loop on the issue. docs/team.md says more.
    #[command(after_help = "Examples:\n  \
ralph marketplace leases\n  \
ralph marketplace leases --json | jq '.[] | select(.expired)'")]
    Leases(JsonFlag),

    /// Commit Ralph's new records, rebase on the remote, push
    ///
    /// Commits the new event files in `.ralph/events/` and the changed
    /// local issues and pull-request records (`.ralph/issues/`,
    /// `.ralph/pulls/`), and nothing else, in one commit; rebases the
    /// branch on the remote's (your unstaged changes are stashed and put
    /// back); pushes, never forced. A push refused because another clone
    /// pushed first is tried again after a growing, jittered pause (up to 8
    /// times). With other changes staged, or a detached HEAD, it refuses
    /// and changes nothing (exit 2). Event files never conflict, so every
    /// clone that syncs folds the same state. The remote is `team.remote`
    /// in `.ralph/config.json`, else the `github` issue source's remote,
    /// else `origin`. docs/team.md says more.
    #[command(after_help = "Examples:\n  \
ralph marketplace sync\n  \
ralph marketplace loop 4; ralph marketplace sync --json\n\n\
Exit codes: 0 synced (or nothing new), 1 git or the remote failed (what was committed stays),\n\
2 refused: other changes staged, no branch, no remote.")]
    Sync(JsonFlag),

    /// Start over with equal weights, keeping the history
    ///
    /// Moves every event file to `.ralph/archive/<timestamp>/` (nothing is
    /// deleted). Asks for confirmation on a terminal; elsewhere pass `--yes`.
    #[command(
        after_help = "Examples:\n  ralph marketplace reset\n  ralph marketplace reset --yes --json"
    )]
    Reset {
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Create or update an issue from a markdown spec
    ///
    /// Reads the spec from `--file` or standard input: optional front matter
    /// (`title`, `labels`, `state` between `---` lines), then the markdown
    /// body, whose checkboxes (`- [ ] …`) are the requirements the loop
    /// works through. The title comes from the front matter, else the first
    /// `# Heading`, else (on update) stays. Without a number a new issue is
    /// created, labelled `in-refinement` unless the front matter says
    /// otherwise. Prints the issue's number. Issues live in
    /// `.ralph/issues/<N>.md`, or on GitHub with the `issues` section of
    /// `.ralph/config.json` (docs/github.md).
    #[command(after_help = "Examples:\n  \
printf '# Backlog command\\n\\n- [ ] list open issues\\n' | ralph marketplace spec\n  \
ralph marketplace spec 4 --file spec.md")]
    Spec(SpecArgs),

    /// Mark an issue's spec complete: label it `ready`, drop `in-refinement`
    ///
    /// The loop only takes issues labelled `ready`. A closed issue is refused.
    #[command(
        after_help = "Examples:\n  ralph marketplace ready 4\n  ralph marketplace ready 4 --json"
    )]
    Ready(ReadyArgs),

    /// List open issues with their status and flag likely duplicates
    ///
    /// The status is the most pressing label (attention-needed, in-progress,
    /// ready, in-refinement, backlog-review); `done` counts ticked
    /// checkboxes. Two issues whose wording overlaps by half or more (Jaccard
    /// similarity of word pairs) are flagged as likely duplicates.
    #[command(
        after_help = "Examples:\n  ralph marketplace backlog\n  ralph marketplace backlog --json"
    )]
    Backlog(JsonFlag),

    /// List pull-request records, or show one
    ///
    /// The loop writes a record to `.ralph/pulls/<N>.md` when it finishes
    /// issue N: title, `Closes #N`, the branch, a summary, the proposals with
    /// their scores and the checks with their results. On GitHub,
    /// `pull-request N` turns the pull request's unresolved review feedback
    /// (by users with write access) into a follow-up round on the same
    /// branch and answers each piece with the commit that addressed it.
    #[command(
        after_help = "Examples:\n  ralph marketplace pull-request\n  ralph marketplace pull-request 4 --json"
    )]
    PullRequest(PullRequestArgs),

    /// Simulate synthetic bidders through the marketplace's real learning
    ///
    /// Each bidder's implementations succeed with its probability P. Over N
    /// issues every bidder with budget proposes, the broker's own ranking
    /// picks the winner, and the outcome becomes events folded by the real
    /// fold (deltas, projection, efficiency, allocation), exactly as the loop
    /// would. An oracle (always the bidder with the highest P) and a random
    /// choice run the same issues with the same luck. Deterministic for a
    /// seed; reads and writes no file. `docs/learning.md` describes the model.
    #[command(after_help = "Examples:\n  \
ralph marketplace simulate --bidders 0.9,0.3,0.3\n  \
ralph marketplace simulate --bidders 0.2,0.6,0.6 --attractiveness 0.95,0.6,0.6 --honesty 0,1,1\n  \
ralph marketplace simulate --bidders 0.7,0.5 --issues 1000 --seed 7 --json | jq .solved")]
    Simulate(SimulateArgs),
}

/// `marketplace setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Also write `.github/workflows/ralph.yml`: the loop and `sync` on
    /// GitHub Actions
    #[arg(long)]
    pub github_actions: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `simulate --bidders P1,P2,…`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Each bidder's chance that its implementation succeeds, in [0, 1]: one
    /// bidder per value
    #[arg(long, value_name = "P1,P2,…", value_delimiter = ',', required = true)]
    pub bidders: Vec<f64>,
    /// How far each bidder's proposal scores follow its true chance (1) rather
    /// than its attractiveness (0), one value per bidder [default: 1 each]
    #[arg(long, value_name = "H1,H2,…", value_delimiter = ',')]
    pub honesty: Vec<f64>,
    /// How good each bidder's proposals look to the scorer when it is not
    /// honest, one value per bidder [default: its P]
    #[arg(long, value_name = "A1,A2,…", value_delimiter = ',')]
    pub attractiveness: Vec<f64>,
    /// The number of issues, 1 to 10000
    #[arg(long, value_name = "N", default_value_t = ralph_broker::simulate::DEFAULT_ISSUES)]
    pub issues: u64,
    /// The seed of every random draw: the same seed gives the same run
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// The rule set whose weight deltas apply
    #[arg(long, value_enum, value_name = "NAME", default_value_t = RuleArg::Seed)]
    pub rule: RuleArg,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// A rule set for `simulate --rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuleArg {
    /// SPEC §2.7 as written: the winner by proposal score alone
    Seed,
    /// `"selection": "efficiency"`: the winner by proposal score × its
    /// bidder's efficiency
    Efficiency,
}

#[derive(Debug, Subcommand)]
pub enum SimpleCommand {
    /// Create `.ralph/` and `.claude/agents/`, and git-ignore `.ralph-sessions/`
    ///
    /// The same setup as `ralph marketplace setup` (with the `github` issue
    /// source, the six labels too): both loops share the issues, config and
    /// records. Never overwrites an existing file.
    #[command(after_help = "Examples:\n  ralph simple setup\n  ralph simple setup --json")]
    Setup(JsonFlag),

    /// Create or update an issue from a markdown spec
    ///
    /// As `ralph marketplace spec`: optional front matter (`title`,
    /// `labels`, `state`), then the body, whose checkboxes are the tasks.
    #[command(after_help = "Examples:\n  \
printf '# Backlog command\\n\\n- [ ] list open issues\\n' | ralph simple spec\n  \
ralph simple spec 4 --file spec.md")]
    Spec(SpecArgs),

    /// Mark an issue's spec complete: label it `ready`, drop `in-refinement`
    #[command(after_help = "Examples:\n  ralph simple ready 4\n  ralph simple ready 4 --json")]
    Ready(ReadyArgs),

    /// Run the simple loop on a ready issue until it is complete
    ///
    /// Each iteration the implementer (`simple.implementer` in
    /// `.ralph/config.json`, else `implementer`: model, command,
    /// claude_code or codex) gets the issue, the open tasks, the session's
    /// progress and the last failure, and changes the worktree on the
    /// branch `ralph/<N>-<slug>`; the repository's pre-commit hook and every
    /// check judge the change; a passing change is committed and the tasks
    /// the implementer reports done are ticked; a failing one becomes the
    /// next iteration's feedback. Complete only when every checkbox is
    /// ticked, the checks pass on the final commit and the implementer
    /// says so. At most `simple.max_iterations` (10) iterations.
    ///
    /// A run on an issue with an unfinished session resumes it (`--new`
    /// starts another). A usage limit the agent reports is waited out
    /// without spending an iteration. Ctrl-C stops cleanly; run it again
    /// to resume.
    #[command(after_help = "Examples:\n  \
ralph simple loop 4\n  \
ralph simple loop 4 --max-cost 2.50 --max-runtime 45m\n\n\
Exit codes: 0 complete (a pull-request record is in .ralph/pulls/), 1 something failed,\n\
2 the issue or config is not usable, 3 stopped early (attention-needed, or --max-cost or\n\
--max-runtime reached: run again to resume), 130 interrupted.")]
    Loop {
        /// The issue number (`.ralph/issues/<N>.md`)
        issue: u64,
        /// Stop once this run's implementer cost reaches USD (as the agent
        /// reports it, or priced by `metering.prices`)
        #[arg(long, value_name = "USD", value_parser = parse_cost)]
        max_cost: Option<f64>,
        /// Stop once this run has worked this long: 90s, 45m, 2h (waiting
        /// for a usage limit does not count)
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        max_runtime: Option<std::time::Duration>,
        /// Start a new session even if an unfinished one exists
        #[arg(long)]
        new: bool,
        #[command(flatten)]
        json: JsonFlag,
        #[command(flatten)]
        llm: LlmFlags,
    },

    /// List open issues with their status and flag likely duplicates
    #[command(after_help = "Examples:\n  ralph simple backlog\n  ralph simple backlog --json")]
    Backlog(JsonFlag),

    /// List pull-request records, or show one
    #[command(
        after_help = "Examples:\n  ralph simple pull-request\n  ralph simple pull-request 4 --json"
    )]
    PullRequest(PullRequestArgs),
}

/// `spec [N] [--file F]`, in both command groups.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The issue to update [default: create a new one]
    #[arg(value_name = "NUMBER")]
    pub number: Option<u64>,
    /// The spec's markdown file, or `-` for standard input [default: standard input]
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `ready N`, in both command groups.
#[derive(Debug, Args)]
pub struct ReadyArgs {
    /// The issue to mark ready
    #[arg(value_name = "NUMBER")]
    pub number: u64,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `pull-request [N]`, in both command groups.
#[derive(Debug, Args)]
pub struct PullRequestArgs {
    /// The issue whose record to show (on GitHub: whose review feedback to
    /// work on) [default: list every record]
    #[arg(value_name = "NUMBER")]
    pub number: Option<u64>,
    #[command(flatten)]
    pub json: JsonFlag,
}

fn parse_cost(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|cost| cost.is_finite() && *cost > 0.0)
        .ok_or_else(|| format!("`{text}` is not a positive amount of US dollars, e.g. 2.50"))
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::durations::parse(text)
        .and_then(|duration| duration.to_std().ok())
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("`{text}` is not a duration such as 90s, 45m or 2h"))
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON for machines instead of text for people
    #[arg(long)]
    pub json: bool,
}

/// Which model answers, overriding the `llm` section of `.ralph/config.json`.
///
/// The flags replace the top-level section's fields, and so apply to every
/// bidder without its own override of the same field; a bidder's own
/// `bidders.<id>.llm` still wins. Keys come only from `ANTHROPIC_API_KEY`
/// and `OPENAI_API_KEY`.
#[derive(Debug, Args, Default)]
#[command(
    next_help_heading = "Model (overrides the llm section of .ralph/config.json; see docs/models.md)"
)]
pub struct LlmFlags {
    /// The model provider: anthropic, openai (or any OpenAI-compatible server), replay, deterministic
    #[arg(long, value_name = "PROVIDER", value_parser = parse_provider)]
    pub llm_provider: Option<ralph_models::ProviderKind>,

    /// The provider's base URL, e.g. http://localhost:11434/v1 for Ollama (no key needed then for openai)
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,

    /// The model name sent with every request
    #[arg(long, value_name = "MODEL")]
    pub llm_model: Option<String>,

    /// Record every model answer into FILE, in the replay format (written after each answer)
    #[arg(long, value_name = "FILE")]
    pub llm_record: Option<PathBuf>,
}

fn parse_provider(text: &str) -> Result<ralph_models::ProviderKind, String> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command a person runs (the leaves of the tree) shows at least
    /// one example command line in its `--help`.
    #[test]
    fn every_command_shows_an_example() {
        fn missing(command: &clap::Command, path: &str, found: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            let children: Vec<&clap::Command> = command
                .get_subcommands()
                .filter(|child| child.get_name() != "help")
                .collect();
            if children.is_empty() {
                let example = command
                    .get_after_help()
                    .is_some_and(|help| help.to_string().contains("ralph "));
                if !example {
                    found.push(path.clone());
                }
            }
            for child in children {
                missing(child, &path, found);
            }
        }
        let mut found = Vec::new();
        missing(&Cli::command(), "", &mut found);
        assert!(found.is_empty(), "no example in the help of: {found:?}");
    }
}
