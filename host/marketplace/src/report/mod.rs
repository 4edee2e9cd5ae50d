//! The report of SPEC §14: what the marketplace has learned, gathered from
//! the event log and config alone and rendered as one self-contained HTML
//! file ([`html`], with the [`charts`] inline as SVG).
//!
//! Every number comes from the functions the other commands use: the state
//! from [`Marketplace::state`] (`status --json`), the costs from the
//! readers of [`Marketplace::usage`] (`usage --json`), the calibration and
//! the per-dimension AUC and Spearman from those of
//! [`Marketplace::analyze`] (`analyze --json`), and the weights and
//! allocations over time from [`fold::history`], the fold itself replayed
//! over prefixes of the log.

pub mod charts;
pub mod html;

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::analysis::{self, Analysis, Record, TooFew};
use crate::fold::{self, EventFile};
use crate::marketplace::Marketplace;
use crate::state::State;
use crate::store::{ReadError, StoreError, event_file};
use crate::usage::{self, UsageReport};
use crate::{Config, Outcome};

/// How many states of the history the charts plot, at most (one more for
/// the start): enough for a smooth line, few enough for any log size.
pub const HISTORY_POINTS: usize = 100;
/// How many of the newest rounds the report lists.
pub const LAST_ROUNDS: usize = 10;

/// Everything the report shows.
#[derive(Clone, Debug)]
pub struct Report {
    /// When it was gathered (RFC 3339, UTC).
    pub generated: String,
    /// The bidders, in their configured order.
    pub bidders: Vec<String>,
    /// The lower and upper bound of a weight.
    pub weight_bounds: (f64, f64),
    /// The state now: what `status --json` prints.
    pub state: State,
    /// The state after evenly spaced prefixes of the log, from the start.
    pub history: Vec<State>,
    /// The model usage per bidder: what `usage --json` prints.
    pub usage: UsageReport,
    /// The meta-analysis, or how many implementations it still needs.
    pub analysis: Result<Analysis, TooFew>,
    /// The delayed signals (SPEC §10) per bidder, in configured order.
    pub signals: Vec<(String, Signals)>,
    /// The newest [`LAST_ROUNDS`] ranked rounds, newest first.
    pub rounds: Vec<RoundSummary>,
    /// Warnings gathering it gave (a cache that could not be written).
    pub warnings: Vec<String>,
}

/// One bidder's delayed signals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    pub reverts: u64,
    pub defects: u64,
    pub churns: u64,
    /// The sum of their weight deltas.
    pub weight_delta: f64,
}

impl Signals {
    pub fn total(&self) -> u64 {
        self.reverts + self.defects + self.churns
    }
}

/// A ranked round, as its events tell it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundSummary {
    pub issue: u64,
    pub round: u64,
    /// `initial` or `replan`, as the event says (free text).
    pub kind: Option<String>,
    /// The timestamp of its first event.
    pub timestamp: String,
    /// Its proposals, by rank.
    pub ranking: Vec<Standing>,
}

impl RoundSummary {
    /// `success` when a proposal of the round was implemented successfully,
    /// otherwise the outcome of its top-ranked proposal.
    pub fn result(&self) -> &'static str {
        if self
            .ranking
            .iter()
            .any(|standing| standing.outcome == Outcome::Success)
        {
            return Outcome::Success.as_str();
        }
        self.ranking
            .first()
            .map_or("", |standing| standing.outcome.as_str())
    }
}

/// One proposal of a round.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    pub rank: u64,
    /// The blind label (free text).
    pub label: Option<String>,
    pub bidder: String,
    pub proposal_score: Option<f64>,
    pub implementation_score: Option<f64>,
    pub outcome: Outcome,
}

/// What the report reads of an event beyond the fold's and the analysis's
/// fields; free-form, so any other type reads as missing.
#[derive(Deserialize)]
struct Extras {
    #[serde(default)]
    round_kind: Option<serde_json::Value>,
    #[serde(default)]
    implementation_score: Option<serde_json::Value>,
}

/// What the report keeps of one event file beyond the fold's fields.
struct Details {
    record: Record,
    round_kind: Option<String>,
    implementation_score: Option<f64>,
}

/// One event file as every part of the report reads it.
struct Read {
    file: EventFile,
    usage: Option<usage::FileUsage>,
    record: Option<Record>,
    extras: Option<Extras>,
}

fn read(name: &str, bytes: Result<&[u8], ReadError>) -> Read {
    let ok = bytes.as_ref().ok();
    Read {
        usage: ok.and_then(|bytes| usage::read_file(name, bytes)),
        record: ok.and_then(|bytes| Record::read(bytes)),
        extras: ok.and_then(|bytes| serde_json::from_slice(bytes).ok()),
        file: event_file(name, bytes),
    }
}

/// Gathers the report of `marketplace`'s log at time `generated`. The
/// event files are read once, in parallel; the usage and the analysis are
/// computed from them exactly as [`Marketplace::usage`] and
/// [`Marketplace::analyze`] compute theirs (the same readers, the same
/// file-name order).
pub fn gather(marketplace: &Marketplace, generated: String) -> Result<Report, StoreError> {
    let config = marketplace.config();
    let loaded = marketplace.state()?;
    let store = marketplace.store();
    let listing = store.list()?;
    let mut usage = UsageReport::new(config.bot_ids().iter().map(String::as_str), None);
    let mut records = Vec::with_capacity(listing.files.len());
    let mut files = Vec::with_capacity(listing.len());
    let mut details = HashMap::with_capacity(listing.files.len());
    // `listing.files` is sorted, as both `usage` and `analyze` read it.
    for read in store.map_files(&listing.files, read) {
        if let Some(file_usage) = read.usage {
            usage.add_read(file_usage);
        }
        if let Some(record) = read.record {
            if let Some(extras) = read.extras {
                details.insert(
                    read.file.name.clone(),
                    Details {
                        record: record.clone(),
                        round_kind: extras
                            .round_kind
                            .and_then(|kind| kind.as_str().map(str::to_owned)),
                        implementation_score: extras
                            .implementation_score
                            .and_then(|score| score.as_f64()),
                    },
                );
            }
            records.push(record);
        }
        files.push(read.file);
    }
    let analysis = analysis::analyze(&records, None, &config.scoring_weights);
    files.extend(store.read_listing(&crate::store::Listing {
        files: Vec::new(),
        refused: listing.refused,
    }));
    let ordered = fold::order(config, files);
    let history = fold::history(config, &ordered, HISTORY_POINTS);
    Ok(Report {
        generated,
        bidders: config.bot_ids(),
        weight_bounds: (config.weight_constraints.min, config.weight_constraints.max),
        signals: signals(config, &ordered),
        rounds: last_rounds(config, &ordered, &details, LAST_ROUNDS),
        state: loaded.state,
        history,
        usage,
        analysis,
        warnings: loaded.cache_warning.into_iter().collect(),
    })
}

/// Counts the delayed signals of each bidder.
fn signals(config: &Config, ordered: &fold::Ordered) -> Vec<(String, Signals)> {
    let mut signals: Vec<(String, Signals)> = config
        .bot_ids()
        .into_iter()
        .map(|id| (id, Signals::default()))
        .collect();
    for ordered in &ordered.events {
        let counts = &mut signals[ordered.bidder].1;
        match ordered.event.outcome {
            Outcome::Revert => counts.reverts += 1,
            Outcome::Defect => counts.defects += 1,
            Outcome::Churn => counts.churns += 1,
            _ => continue,
        }
        counts.weight_delta += ordered.event.weight_delta;
    }
    signals
}

/// The newest `count` ranked rounds of the valid events, newest first,
/// grouped as the analysis groups them ([`analysis::round_keys`]).
fn last_rounds(
    config: &Config,
    ordered: &fold::Ordered,
    details: &HashMap<String, Details>,
    count: usize,
) -> Vec<RoundSummary> {
    let ids = config.bot_ids();
    let ranked: Vec<(&fold::OrderedEvent, &Details)> = ordered
        .events
        .iter()
        .filter_map(|event| Some((event, details.get(&event.file)?)))
        .collect();
    let records: Vec<Record> = ranked
        .iter()
        .map(|(_, details)| details.record.clone())
        .collect();
    let mut rounds: BTreeMap<analysis::RoundKey, (usize, RoundSummary)> = BTreeMap::new();
    for (position, ((event, details), key)) in ranked
        .iter()
        .zip(analysis::round_keys(&records))
        .enumerate()
    {
        let (Some(key), Some(rank)) = (key, details.record.rank) else {
            continue;
        };
        let (_, round) = rounds.entry(key).or_insert_with(|| {
            (
                position,
                RoundSummary {
                    issue: key.0,
                    round: key.2,
                    kind: details.round_kind.clone(),
                    timestamp: event.event.timestamp.clone(),
                    ranking: Vec::new(),
                },
            )
        });
        round.ranking.push(Standing {
            rank,
            label: details.record.proposal_id.clone(),
            bidder: ids[event.bidder].clone(),
            proposal_score: details.record.proposal_score,
            implementation_score: details.implementation_score,
            outcome: event.event.outcome,
        });
    }
    let mut rounds: Vec<(usize, RoundSummary)> = rounds.into_values().collect();
    rounds.sort_by_key(|(position, _)| std::cmp::Reverse(*position));
    rounds.truncate(count);
    rounds
        .into_iter()
        .map(|(_, mut round)| {
            round.ranking.sort_by_key(|standing| standing.rank);
            round
        })
        .collect()
}
