//! Delayed signals (SPEC §10): what happened to Ralph's changes after they
//! landed on the default branch, read from its git history and recorded as
//! events that lower the proposing bidder's weight.
//!
//! A *Ralph commit* carries the trailers `Ralph-Issue`, `Ralph-Round` and
//! `Ralph-Proposal` (the blind label) that the loop writes; the event log
//! maps them back to the bidder whose proposal it was (its `success` event
//! of that issue, round and label). Then:
//! - a commit whose message says `This reverts commit <sha>` of a Ralph
//!   commit, committed within 14 days of it → `revert` (−0.10);
//! - each later commit with a `Caused-by: <sha>` trailer naming a Ralph
//!   commit (the full sha or an unambiguous prefix of 7 or more) → `defect`
//!   (−0.02 each);
//! - a file the Ralph commit changed that later commits edit more than 3
//!   times within 14 days after it → one `churn` per Ralph commit (−0.03).
//!
//! Every signal's event has the signalling commit's committer time as its
//! timestamp and names both commits, so its content depends on the history
//! alone: recording it again, from this clone or another, is a no-op
//! (SPEC §2.2), and the log converges.
//!
//! Commit messages are anyone's text: they are parsed for the trailers and
//! shas only, and nothing of them but those shas reaches an event.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use ralph_marketplace::Outcome;
use ralph_marketplace::deltas::Case;
use ralph_marketplace::event::format_timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::worktree::{GitError, git};

/// How long after a Ralph commit a revert counts, and churn is counted.
pub const WINDOW_SECONDS: i64 = 14 * 24 * 60 * 60;
/// More edits than this to one file within the window is high churn.
pub const CHURN_EDITS: usize = 3;
/// The shortest sha prefix a `Caused-by:` trailer may name.
const MIN_SHA_PREFIX: usize = 7;

/// One commit of the history, as far as signals need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    /// Committer time, seconds since the Unix epoch.
    pub committed: i64,
    /// Author time (kept by a rebase, unlike the committer time).
    pub authored: i64,
    pub message: String,
    pub files: Vec<String>,
}

/// What a Ralph commit's trailers say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub issue: u64,
    pub round: u64,
    pub proposal: String,
}

/// The kind of a delayed signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Revert,
    Defect,
    Churn,
}

impl Kind {
    fn outcome(self) -> Outcome {
        match self {
            Kind::Revert => Outcome::Revert,
            Kind::Defect => Outcome::Defect,
            Kind::Churn => Outcome::Churn,
        }
    }

    fn case(self) -> Case {
        match self {
            Kind::Revert => Case::Reverted,
            Kind::Defect => Case::Defect,
            Kind::Churn => Case::HighChurn,
        }
    }
}

/// One signal about one Ralph commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub kind: Kind,
    /// The Ralph commit it is about, and what its trailers say.
    pub commit: String,
    pub origin: Origin,
    /// The commit that signals it, and its committer time.
    pub signal_commit: String,
    pub at: i64,
    /// For churn: the file edited too often.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The value of every line `Key: value` of `message` whose key is `key`
/// (ignoring case).
fn trailer_values<'a>(message: &'a str, key: &str) -> Vec<&'a str> {
    message
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case(key)
                .then(|| value.trim())
                .filter(|value| !value.is_empty())
        })
        .collect()
}

fn is_label(text: &str) -> bool {
    let mut characters = text.chars();
    characters.next().is_some_and(|c| c.is_ascii_uppercase())
        && characters.all(|c| c.is_ascii_digit())
        && text.len() <= 8
}

/// What a Ralph commit's trailers say, or `None` for another commit.
pub fn origin_of(message: &str) -> Option<Origin> {
    let one = |key: &str| match trailer_values(message, key).as_slice() {
        [value] => Some(value.to_string()),
        _ => None,
    };
    let proposal = one("Ralph-Proposal").filter(|label| is_label(label))?;
    Some(Origin {
        issue: one("Ralph-Issue")?.parse().ok()?,
        round: one("Ralph-Round")?.parse().ok()?,
        proposal,
    })
}

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The shas a revert message names: `This reverts commit <40 hex>`.
fn reverted_shas(message: &str) -> Vec<String> {
    const PHRASE: &str = "This reverts commit ";
    let mut shas = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find(PHRASE) {
        let after = &rest[start + PHRASE.len()..];
        let sha: String = after
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_ascii_lowercase();
        if sha.len() == 40 {
            shas.push(sha);
        }
        rest = after;
    }
    shas
}

/// Every delayed signal in `history` (oldest first), for the Ralph commits
/// in it; signals committed before `since` (seconds) are left out.
pub fn find(history: &[Commit], since: Option<i64>) -> Vec<Signal> {
    let ralph: Vec<(usize, Origin)> = history
        .iter()
        .enumerate()
        .filter_map(|(index, commit)| Some((index, origin_of(&commit.message)?)))
        .collect();
    let by_sha: BTreeMap<&str, usize> = ralph
        .iter()
        .enumerate()
        .map(|(position, (index, _))| (history[*index].sha.as_str(), position))
        .collect();
    let resolve = |named: &str| -> Option<usize> {
        let named = named.to_ascii_lowercase();
        if named.len() < MIN_SHA_PREFIX || !is_hex(&named) {
            return None;
        }
        let mut matches = by_sha
            .range(named.as_str()..)
            .take_while(|(sha, _)| sha.starts_with(named.as_str()));
        match (matches.next(), matches.next()) {
            (Some((_, position)), None) => Some(*position),
            _ => None,
        }
    };
    let mut signals = Vec::new();
    let mut signal = |kind, position: usize, by: &Commit, file: Option<String>| {
        let (index, origin) = &ralph[position];
        signals.push(Signal {
            kind,
            commit: history[*index].sha.clone(),
            origin: origin.clone(),
            signal_commit: by.sha.clone(),
            at: by.committed,
            file,
        });
    };
    for commit in history {
        for sha in reverted_shas(&commit.message) {
            if let Some(&position) = by_sha.get(sha.as_str()) {
                let reverted = &history[ralph[position].0];
                let after = commit.committed - reverted.committed;
                if commit.sha != reverted.sha && (0..=WINDOW_SECONDS).contains(&after) {
                    signal(Kind::Revert, position, commit, None);
                }
            }
        }
        let mut blamed: Vec<usize> = trailer_values(&commit.message, "Caused-by")
            .into_iter()
            .filter_map(|value| resolve(value.split_whitespace().next().unwrap_or("")))
            .filter(|position| history[ralph[*position].0].sha != commit.sha)
            .collect();
        blamed.sort_unstable();
        blamed.dedup();
        for position in blamed {
            signal(Kind::Defect, position, commit, None);
        }
    }
    for (position, (index, _)) in ralph.iter().enumerate() {
        if let Some((by, file)) = churn(history, *index) {
            signal(Kind::Churn, position, by, Some(file));
        }
    }
    signals.retain(|signal| since.is_none_or(|since| signal.at >= since));
    signals.sort_by(|left, right| {
        (left.at, &left.signal_commit, &left.commit, left.kind as u8).cmp(&(
            right.at,
            &right.signal_commit,
            &right.commit,
            right.kind as u8,
        ))
    });
    signals
}

/// The commit that made a file of `history[index]` high-churn (its edit
/// number `CHURN_EDITS + 1` within the window, the earliest over the
/// commit's files), and the file.
fn churn(history: &[Commit], index: usize) -> Option<(&Commit, String)> {
    let ralph = &history[index];
    ralph
        .files
        .iter()
        .filter_map(|file| {
            let edits = history
                .iter()
                .filter(|later| later.sha != ralph.sha)
                .filter(|later| {
                    let after = later.committed - ralph.committed;
                    after > 0 && after <= WINDOW_SECONDS
                })
                .filter(|later| later.files.iter().any(|changed| changed == file));
            let mut edits: Vec<&Commit> = edits.collect();
            edits.sort_by_key(|commit| commit.committed);
            edits.get(CHURN_EDITS).map(|by| (*by, file.clone()))
        })
        .min_by(|(left, left_file), (right, right_file)| {
            (left.committed, &left.sha, left_file).cmp(&(right.committed, &right.sha, right_file))
        })
}

/// Reads `rev`'s history in `repository`, oldest first, with the files each
/// commit changed (merges list none).
pub fn read_history(repository: &Path, rev: &str) -> Result<Vec<Commit>, GitError> {
    let listed = git(repository, &["rev-list", "--reverse", rev, "--"], None)?;
    let shas: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let log = git(
        repository,
        &[
            "log",
            "--reverse",
            "--no-renames",
            "--name-only",
            "-z",
            "--format=%x1e%H%x00%ct%x00%at%x00%B%x00",
            rev,
            "--",
        ],
        None,
    )?;
    let text = String::from_utf8_lossy(&log.stdout);
    parse_log(&text, &shas).map_err(|message| GitError::Failed {
        command: format!("log {rev}"),
        directory: repository.to_owned(),
        message,
    })
}

/// Splits `git log -z --format=%x1e%H%x00%ct%x00%at%x00%B%x00 --name-only`
/// output into commits. A message may hold the separator itself, so each
/// record is found by the sha `rev-list` said comes next, never by the
/// separator alone.
fn parse_log(text: &str, shas: &[String]) -> Result<Vec<Commit>, String> {
    let mut commits = Vec::with_capacity(shas.len());
    let mut rest = text;
    for (position, sha) in shas.iter().enumerate() {
        let start = format!("\u{1e}{sha}\0");
        if !rest.starts_with(&start) {
            return Err(format!("unexpected git log output at commit {sha}"));
        }
        let body_start = start.len();
        let end = match shas.get(position + 1) {
            Some(next) => rest
                .find(&format!("\0\u{1e}{next}\0"))
                .map(|at| at + 1)
                .or_else(|| rest.find(&format!("\u{1e}{next}\0")))
                .ok_or_else(|| format!("git log output ends before commit {next}"))?,
            None => rest.len(),
        };
        let record = &rest[body_start..end];
        let mut fields = record.splitn(3, '\0');
        let committed = fields.next().and_then(|f| f.parse().ok());
        let authored = fields.next().and_then(|f| f.parse().ok());
        let (Some(committed), Some(authored), Some(remainder)) =
            (committed, authored, fields.next())
        else {
            return Err(format!("unreadable git log record for commit {sha}"));
        };
        // A message holds no NUL: the first pair ends it.
        let (message, files) = match remainder.find("\0\0") {
            Some(at) => (&remainder[..at], &remainder[at + 2..]),
            None => (remainder.trim_end_matches('\0'), ""),
        };
        commits.push(Commit {
            sha: sha.clone(),
            committed,
            authored,
            message: message.to_owned(),
            files: files
                .split('\0')
                .map(|file| file.trim_start_matches('\n'))
                .filter(|file| !file.is_empty())
                .map(str::to_owned)
                .collect(),
        });
        rest = &rest[end..];
    }
    Ok(commits)
}

/// A success event, as far as mapping a commit to its bidder needs it.
#[derive(Clone, Debug, Deserialize)]
pub struct Success {
    pub bot_id: String,
    pub issue_number: u64,
    /// RFC 3339, as the log keeps it.
    pub timestamp: String,
    #[serde(default)]
    pub round: Option<u64>,
    #[serde(default)]
    pub proposal_id: Option<String>,
    pub outcome: String,
}

/// The bidder whose proposal `origin` was: the `success` event of its
/// issue, round and label, the latest written before the commit was made
/// (a later loop on the same issue numbers its rounds from 1 again).
pub fn bidder_of<'a>(origin: &Origin, authored: i64, successes: &'a [Success]) -> Option<&'a str> {
    successes
        .iter()
        .filter(|event| {
            event.outcome == "success"
                && event.issue_number == origin.issue
                && event.round == Some(origin.round)
                && event.proposal_id.as_deref() == Some(origin.proposal.as_str())
        })
        .filter_map(|event| {
            let at = DateTime::parse_from_rfc3339(&event.timestamp).ok()?;
            (at.timestamp() <= authored + 60).then_some((at, event.bot_id.as_str()))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, bot_id)| bot_id)
}

/// What `signals` found and did about one signal.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    #[serde(flatten)]
    pub signal: Signal,
    /// The bidder it is against; `None` when no `success` event of the log
    /// matches the commit's trailers (it is then not recorded).
    pub bot_id: Option<String>,
    /// Whether it was new in the log: `None` under `--dry-run` or when it
    /// has no bidder.
    pub recorded: Option<bool>,
}

/// Why `signals` could not run.
#[derive(Debug, thiserror::Error)]
pub enum SignalsError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] ralph_marketplace::store::StoreError),
    #[error(transparent)]
    Record(#[from] ralph_marketplace::marketplace::RecordError),
}

/// Reads `rev`'s history, finds its signals (those at or after `since`),
/// maps each to its bidder through the log's `success` events, and records
/// the new ones unless `dry_run`.
pub fn run(
    marketplace: &ralph_marketplace::Marketplace,
    rev: &str,
    since: Option<i64>,
    dry_run: bool,
) -> Result<Vec<Found>, SignalsError> {
    let history = read_history(marketplace.layout().repository(), rev)?;
    let store = marketplace.store();
    let mut names = store.list()?.files;
    names.sort();
    let successes: Vec<Success> = store
        .map_files(&names, |_, bytes| {
            bytes
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Success>(bytes).ok())
                .filter(|event| event.outcome == "success")
        })
        .into_iter()
        .flatten()
        .collect();
    let authored: BTreeMap<&str, i64> = history
        .iter()
        .map(|commit| (commit.sha.as_str(), commit.authored))
        .collect();
    let mut found = Vec::new();
    for signal in find(&history, since) {
        let made = authored.get(signal.commit.as_str()).copied().unwrap_or(0);
        let bot_id = bidder_of(&signal.origin, made, &successes).map(str::to_owned);
        let recorded = match (&bot_id, dry_run) {
            (Some(bot_id), false) => {
                let bytes = serde_json::to_vec(&event(&signal, bot_id)).unwrap_or_default();
                Some(!marketplace.record("signals", &bytes)?.already_recorded)
            }
            _ => None,
        };
        if bot_id.is_none() {
            tracing::warn!(commit = %signal.commit, issue = signal.origin.issue, "No success event of the log matches this Ralph commit's trailers; its signal is not recorded");
        }
        found.push(Found {
            signal,
            bot_id,
            recorded,
        });
    }
    Ok(found)
}

/// The branch whose history `signals` reads by default: the remote's
/// default branch (`origin/HEAD`) when the clone knows it, else `HEAD`.
pub fn default_rev(repository: &Path) -> String {
    git(
        repository,
        &["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"],
        None,
    )
    .ok()
    .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    .filter(|name| !name.is_empty())
    .unwrap_or_else(|| "HEAD".to_owned())
}

/// The event for `signal` against `bot_id`: its content depends on the
/// history alone.
pub fn event(signal: &Signal, bot_id: &str) -> Value {
    let case = signal.kind.case();
    let at = DateTime::<Utc>::from_timestamp(signal.at, 0).unwrap_or_default();
    let mut event = json!({
        "timestamp": format_timestamp(&at),
        "issue_number": signal.origin.issue,
        "bot_id": bot_id,
        "outcome": signal.kind.outcome(),
        "weight_delta": case.delta(),
        "case": [case],
        "round": signal.origin.round,
        "proposal_id": signal.origin.proposal,
        "commit": signal.commit,
        "signal_commit": signal.signal_commit,
    });
    if let (Some(file), Some(object)) = (&signal.file, event.as_object_mut()) {
        object.insert("file".into(), json!(file));
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60;

    fn sha(n: u32) -> String {
        format!("{n:040x}")
    }

    fn commit(n: u32, day: i64, message: &str, files: &[&str]) -> Commit {
        Commit {
            sha: sha(n),
            committed: 1_700_000_000 + day * DAY,
            authored: 1_700_000_000 + day * DAY,
            message: message.to_owned(),
            files: files.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn ralph(n: u32, day: i64, issue: u64, files: &[&str]) -> Commit {
        commit(
            n,
            day,
            &format!(
                "Add two\n\nThe plan.\n\nRalph-Issue: {issue}\nRalph-Round: 1\nRalph-Proposal: A\n"
            ),
            files,
        )
    }

    fn kinds(signals: &[Signal]) -> Vec<(Kind, String, String)> {
        signals
            .iter()
            .map(|s| (s.kind, s.commit.clone(), s.signal_commit.clone()))
            .collect()
    }

    #[test]
    fn trailers_name_a_ralph_commit_only_when_all_three_are_there_once() {
        let origin = origin_of("x\n\nRalph-Issue: 7\nRalph-Round: 2\nRalph-Proposal: B\n");
        assert_eq!(
            origin,
            Some(Origin {
                issue: 7,
                round: 2,
                proposal: "B".into()
            })
        );
        assert_eq!(origin_of("x\n\nRalph-Issue: 7\nRalph-Round: 2\n"), None);
        assert_eq!(
            origin_of("Ralph-Issue: 7\nRalph-Round: 2\nRalph-Proposal: <script>\n"),
            None
        );
        assert_eq!(
            origin_of("Ralph-Issue: 7\nRalph-Issue: 8\nRalph-Round: 2\nRalph-Proposal: A\n"),
            None
        );
    }

    #[test]
    fn reverts_count_within_fourteen_days_only() {
        let history = [
            ralph(1, 0, 1, &["src/a.rs"]),
            ralph(2, 0, 2, &["src/b.rs"]),
            commit(
                3,
                3,
                &format!("Revert\n\nThis reverts commit {}.\n", sha(1)),
                &["src/a.rs"],
            ),
            commit(
                4,
                15,
                &format!("Revert\n\nThis reverts commit {}.\n", sha(2)),
                &["src/b.rs"],
            ),
        ];
        assert_eq!(
            kinds(&find(&history, None)),
            [(Kind::Revert, sha(1), sha(3))]
        );
    }

    #[test]
    fn each_caused_by_commit_is_one_defect_and_prefixes_must_be_unambiguous() {
        let history = [
            ralph(0xabc1, 0, 1, &["src/a.rs"]),
            commit(
                2,
                20,
                &format!("Fix\n\nCaused-by: {}\n", &sha(0xabc1)[..12]),
                &["src/a.rs"],
            ),
            commit(
                3,
                40,
                &format!("Fix again\n\ncaused-by: {}\n", sha(0xabc1)),
                &[],
            ),
            commit(4, 41, "Fix\n\nCaused-by: 0000\n", &[]),
            commit(5, 42, "Fix\n\nCaused-by: not-a-sha\n", &[]),
        ];
        assert_eq!(
            kinds(&find(&history, None)),
            [
                (Kind::Defect, sha(0xabc1), sha(2)),
                (Kind::Defect, sha(0xabc1), sha(3))
            ]
        );
        let since = Some(1_700_000_000 + 30 * DAY);
        assert_eq!(find(&history, since).len(), 1);
    }

    #[test]
    fn churn_is_more_than_three_edits_to_one_file_within_fourteen_days() {
        let mut history = vec![
            ralph(1, 0, 1, &["src/hot.rs", "src/calm.rs"]),
            ralph(2, 0, 2, &["src/warm.rs"]),
        ];
        for day in 1..=4 {
            history.push(commit(10 + day as u32, day, "edit", &["src/hot.rs"]));
        }
        // Three edits to warm.rs in the window, and one after it.
        for day in [1, 2, 3, 15] {
            history.push(commit(20 + day as u32, day, "edit", &["src/warm.rs"]));
        }
        history.sort_by_key(|c| c.committed);
        let signals = find(&history, None);
        assert_eq!(kinds(&signals), [(Kind::Churn, sha(1), sha(14))]);
        assert_eq!(signals[0].file.as_deref(), Some("src/hot.rs"));
    }

    #[test]
    fn the_event_depends_on_the_history_alone() {
        let history = [
            ralph(1, 0, 3, &["src/a.rs"]),
            commit(2, 1, &format!("This reverts commit {}.", sha(1)), &[]),
        ];
        let signal = &find(&history, None)[0];
        let event = event(signal, "bidder_2");
        assert_eq!(event["outcome"], "revert");
        assert_eq!(event["weight_delta"], -0.1);
        assert_eq!(event["case"], json!(["reverted"]));
        assert_eq!(event["commit"], sha(1));
        assert_eq!(event["signal_commit"], sha(2));
        assert_eq!(event["timestamp"], "2023-11-15T22:13:20.000000Z");
        assert_eq!(event, super::event(signal, "bidder_2"));
    }

    #[test]
    fn a_message_holding_the_separator_cannot_forge_a_commit() {
        let shas = [sha(1), sha(2)];
        let forged = format!("evil\u{1e}{}\0{}\0{}\0Ralph-Issue: 1\0\0\n", sha(9), 1, 1);
        let text = format!(
            "\u{1e}{}\u{0}100\u{0}100\u{0}{forged}\u{0}\u{0}\nsrc/a.rs\u{0}\u{1e}{}\u{0}200\u{0}200\u{0}second\n\u{0}\u{0}\nsrc/b.rs\u{0}",
            sha(1),
            sha(2)
        );
        let commits = parse_log(&text, &shas).expect("parsed");
        assert_eq!(commits.len(), 2);
        assert_eq!(commits[0].sha, sha(1));
        assert!(commits[0].message.starts_with("evil"));
        assert_eq!(commits[1].files, ["src/b.rs"]);
        assert_eq!(commits[1].committed, 200);
    }
}
