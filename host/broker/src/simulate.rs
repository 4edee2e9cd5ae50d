//! `ralph marketplace simulate` (SPEC §12a): synthetic bidders through the
//! marketplace's real learning, to measure what it learns.
//!
//! Each [`SyntheticBidder`] has a true chance of success, an honesty and an
//! attractiveness (`docs/learning.md` describes the model). Per issue the
//! budgets are the state's allocations, as a loop reads them when it opens;
//! every bidder with budget left proposes; the proposals are ranked by the
//! broker's own [`rank_implementable`]; the winner's implementation
//! succeeds with its probability; and what happened becomes [`Event`]
//! values, with deltas from the weight-delta table, extended into the state
//! by the marketplace's own [`extend`]: weights, projection, efficiency and
//! allocation are what the loop would compute. The [`oracle`](Chooser::Oracle)
//! and [`random`](Chooser::Random) references run the same issues with the
//! same luck, choosing by the true chance or uniformly. Nothing is read or
//! written: the whole run is in memory and a pure function of its inputs.

mod luck;

use chrono::{DateTime, TimeDelta, Utc};
use ralph_marketplace::config::{Config, Selection};
use ralph_marketplace::deltas::{Case, WeightDelta, accuracy, weight_delta};
use ralph_marketplace::event::format_timestamp;
use ralph_marketplace::fold::{extend, fold};
use ralph_marketplace::{Event, Outcome, State};
use serde::Serialize;

use crate::recording::{RoundKind, implementation_case};
use crate::scoring::{rank, rank_implementable, selection_keys};
use luck::{IssueLuck, RoundLuck, issue_seeds};

/// The issues a run simulates unless told otherwise.
pub const DEFAULT_ISSUES: u64 = 200;
/// The most issues one run simulates.
pub const MAX_ISSUES: u64 = 10_000;
/// Proposal scores and implementation scores are off by up to this much,
/// uniformly, either way.
pub const SCORE_NOISE: f64 = 0.10;
/// The simulated clock starts here (2026-01-01T00:00:00Z) and each event
/// is one second after the one before.
const START_SECONDS: i64 = 1_767_225_600;

/// One synthetic bidder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SyntheticBidder {
    /// The chance that its implementation, when tried, succeeds.
    pub success_probability: f64,
    /// How far its proposal scores follow its true chance: 1 scores its
    /// proposals at its success probability, 0 at its attractiveness.
    pub honesty: f64,
    /// How good its proposals look to the scorer when it is not honest.
    pub attractiveness: f64,
}

impl SyntheticBidder {
    /// A bidder whose proposals score at its true chance (plus noise).
    pub fn honest(success_probability: f64) -> Self {
        SyntheticBidder {
            success_probability,
            honesty: 1.0,
            attractiveness: success_probability,
        }
    }

    /// The proposal score it aims at before noise.
    fn claimed_score(&self) -> f64 {
        self.honesty * self.success_probability + (1.0 - self.honesty) * self.attractiveness
    }
}

/// The rule set the run applies: how the winner is chosen, and the
/// deltas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// SPEC §2.7 as written: the winner by proposal score alone.
    #[default]
    Seed,
    /// The config's `"selection": "efficiency"`: the winner by proposal
    /// score × its bidder's efficiency; the deltas as the seed's.
    Efficiency,
}

impl Rule {
    /// The delta for `case` under this rule.
    fn delta(self, case: Case, scores: Option<(f64, f64)>) -> WeightDelta {
        match self {
            Rule::Seed | Rule::Efficiency => weight_delta(case, scores),
        }
    }

    /// The config's selection this rule runs with.
    pub fn selection(self) -> Selection {
        match self {
            Rule::Seed => Selection::Seed,
            Rule::Efficiency => Selection::Efficiency,
        }
    }
}

/// What to simulate besides the bidders.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub issues: u64,
    pub seed: u64,
    pub rule: Rule,
}

/// A bidder's parameter, for errors that name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parameter {
    SuccessProbability,
    Honesty,
    Attractiveness,
}

impl std::fmt::Display for Parameter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Parameter::SuccessProbability => "success probability",
            Parameter::Honesty => "honesty",
            Parameter::Attractiveness => "attractiveness",
        })
    }
}

/// Why a simulation cannot run.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum SimulationError {
    #[error("at least one bidder is needed")]
    NoBidders,
    #[error("bidder {number}'s {parameter} must be within [0, 1], got {value}")]
    OutOfRange {
        /// 1 for the first bidder.
        number: usize,
        parameter: Parameter,
        value: f64,
    },
    #[error("the number of issues must be between 1 and {MAX_ISSUES}, got {0}")]
    Issues(u64),
    #[error(
        "the default marketplace config fits 2 to 20 bidders, not {count}: field `{field}`: {message}"
    )]
    Config {
        count: usize,
        field: String,
        message: String,
    },
    #[error("the marketplace's fold refused the simulated event {0}")]
    Refused(String),
}

/// How a run picks the proposal to implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chooser {
    /// The broker's ranking of the proposal scores: the marketplace.
    Ranking,
    /// The proposal of the bidder with the highest true chance.
    Oracle,
    /// A proposal chosen uniformly.
    Random,
}

/// A simulation's results.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub rule: Rule,
    pub seed: u64,
    pub issues: u64,
    /// Issues the marketplace solved.
    pub solved: u64,
    /// Issues the oracle and random references solved.
    pub oracle_solved: u64,
    pub random_solved: u64,
    /// Implementation attempts the marketplace made.
    pub implementations: u64,
    pub pool: u64,
    pub min_allocation_per_bot: u64,
    pub bidders: Vec<BidderReport>,
    /// Weights and allocations at the start and every tenth of the issues.
    pub over_time: Vec<Snapshot>,
    /// The marketplace's final state, as `status --json` would print it.
    pub state: State,
    /// Every event the marketplace run wrote, in order.
    #[serde(skip)]
    pub events: Vec<Event>,
}

/// One bidder at the end of the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BidderReport {
    pub id: String,
    pub success_probability: f64,
    pub honesty: f64,
    pub attractiveness: f64,
    pub weight: f64,
    pub efficiency: f64,
    pub allocation: u64,
    /// Rounds its proposal ranked first.
    pub wins: u64,
    /// Implementation attempts of its proposals.
    pub implementations: u64,
    pub successes: u64,
    pub failures: u64,
    /// The least allocation it had at the start of any issue.
    pub lowest_allocation: u64,
}

/// The weights and allocations after `issue` issues (0: the start).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    pub issue: u64,
    pub weights: Vec<f64>,
    pub allocations: Vec<u64>,
}

/// Checks the inputs and returns the config the run uses: the default
/// (SPEC §2.1) with one bidder per synthetic bidder.
pub fn config_for(
    bidders: &[SyntheticBidder],
    settings: &Settings,
) -> Result<Config, SimulationError> {
    if bidders.is_empty() {
        return Err(SimulationError::NoBidders);
    }
    for (index, bidder) in bidders.iter().enumerate() {
        for (parameter, value) in [
            (Parameter::SuccessProbability, bidder.success_probability),
            (Parameter::Honesty, bidder.honesty),
            (Parameter::Attractiveness, bidder.attractiveness),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(SimulationError::OutOfRange {
                    number: index + 1,
                    parameter,
                    value,
                });
            }
        }
    }
    if !(1..=MAX_ISSUES).contains(&settings.issues) {
        return Err(SimulationError::Issues(settings.issues));
    }
    let config = Config {
        num_bots: bidders.len() as u64,
        selection: settings.rule.selection(),
        ..Config::default()
    };
    config.validate().map_err(|error| SimulationError::Config {
        count: bidders.len(),
        field: error.field,
        message: error.message,
    })?;
    Ok(config)
}

/// Runs the marketplace and both references over the same issues.
pub fn simulate(
    bidders: &[SyntheticBidder],
    settings: &Settings,
) -> Result<Report, SimulationError> {
    let config = config_for(bidders, settings)?;
    let seeds = issue_seeds(settings.seed, settings.issues);
    let market = Market::run(&config, bidders, settings.rule, &seeds, Chooser::Ranking)?;
    let oracle = Market::run(&config, bidders, settings.rule, &seeds, Chooser::Oracle)?;
    let random = Market::run(&config, bidders, settings.rule, &seeds, Chooser::Random)?;
    let reports = market
        .state
        .bots
        .0
        .iter()
        .zip(bidders)
        .zip(&market.tallies)
        .map(|(((id, bot), bidder), tally)| BidderReport {
            id: id.clone(),
            success_probability: bidder.success_probability,
            honesty: bidder.honesty,
            attractiveness: bidder.attractiveness,
            weight: bot.weight,
            efficiency: bot.efficiency,
            allocation: bot.allocation,
            wins: tally.wins,
            implementations: tally.implementations,
            successes: bot.successes,
            failures: bot.failures,
            lowest_allocation: tally.lowest_allocation,
        })
        .collect();
    Ok(Report {
        rule: settings.rule,
        seed: settings.seed,
        issues: settings.issues,
        solved: market.solved,
        oracle_solved: oracle.solved,
        random_solved: random.solved,
        implementations: market
            .tallies
            .iter()
            .map(|tally| tally.implementations)
            .sum(),
        pool: config.pool(),
        min_allocation_per_bot: config.min_allocation_per_bot,
        bidders: reports,
        over_time: market.history,
        state: market.state,
        events: market.events,
    })
}

/// The state folded from scratch from `events`, as `status` would fold
/// their files: what a run's final state must equal.
pub fn refold(bidder_count: usize, events: &[Event]) -> State {
    let config = Config {
        num_bots: bidder_count as u64,
        ..Config::default()
    };
    let files = events
        .iter()
        .map(|event| ralph_marketplace::EventFile {
            name: event.file_name(),
            event: Ok(event.clone()),
        })
        .collect();
    fold(&config, files)
}

/// What one bidder did in a run.
#[derive(Clone, Debug, Default)]
struct Tally {
    wins: u64,
    implementations: u64,
    lowest_allocation: u64,
}

/// One run: a marketplace state and the events that made it.
struct Market<'a> {
    config: &'a Config,
    bidders: &'a [SyntheticBidder],
    rule: Rule,
    ids: Vec<String>,
    state: State,
    events: Vec<Event>,
    clock: DateTime<Utc>,
    tallies: Vec<Tally>,
    solved: u64,
    history: Vec<Snapshot>,
}

/// A proposal in a simulated round.
struct Proposed {
    bidder: usize,
    score: f64,
}

impl<'a> Market<'a> {
    fn run(
        config: &'a Config,
        bidders: &'a [SyntheticBidder],
        rule: Rule,
        seeds: &[u64],
        chooser: Chooser,
    ) -> Result<Market<'a>, SimulationError> {
        let state = fold(config, Vec::new());
        let mut market = Market {
            config,
            bidders,
            rule,
            ids: config.bot_ids(),
            tallies: vec![
                Tally {
                    lowest_allocation: u64::MAX,
                    ..Tally::default()
                };
                bidders.len()
            ],
            history: Vec::new(),
            state,
            events: Vec::new(),
            clock: DateTime::from_timestamp(START_SECONDS, 0).unwrap_or(DateTime::UNIX_EPOCH),
            solved: 0,
        };
        market.snapshot(0);
        let step = (seeds.len() as u64 / 10).max(1);
        for (index, seed) in seeds.iter().enumerate() {
            let issue = index as u64 + 1;
            if market.issue(issue, &mut IssueLuck::new(*seed), chooser)? {
                market.solved += 1;
            }
            if issue.is_multiple_of(step) || issue == seeds.len() as u64 {
                market.snapshot(issue);
            }
        }
        Ok(market)
    }

    fn snapshot(&mut self, issue: u64) {
        let bots = &self.state.bots.0;
        self.history.push(Snapshot {
            issue,
            weights: bots.iter().map(|(_, bot)| bot.weight).collect(),
            allocations: bots.iter().map(|(_, bot)| bot.allocation).collect(),
        });
    }

    /// One issue, as one loop runs it: budgets from the allocations, an
    /// initial round, and on a failure one replan round. True when solved.
    fn issue(
        &mut self,
        issue: u64,
        luck: &mut IssueLuck,
        chooser: Chooser,
    ) -> Result<bool, SimulationError> {
        let mut budgets: Vec<u64> = self
            .state
            .bots
            .0
            .iter()
            .map(|(_, bot)| bot.allocation)
            .collect();
        for (tally, budget) in self.tallies.iter_mut().zip(&budgets) {
            tally.lowest_allocation = tally.lowest_allocation.min(*budget);
        }
        let mut kind = RoundKind::Initial;
        let mut iteration = 0;
        while budgets.iter().any(|budget| *budget > 0) {
            iteration += 1;
            let round = luck.round(self.bidders.len());
            let place = (issue, iteration, kind);
            if self.round(place, &round, &mut budgets, chooser)? {
                return Ok(true);
            }
            if kind == RoundKind::Replan {
                return Ok(false);
            }
            kind = RoundKind::Replan;
        }
        Ok(false)
    }

    /// One round: every bidder with budget proposes, the chosen proposal
    /// is implemented (spending a unit of its bidder's budget), and every
    /// proposal gets its event. True when the implementation succeeded.
    fn round(
        &mut self,
        (issue, iteration, kind): (u64, u64, RoundKind),
        round: &RoundLuck,
        budgets: &mut [u64],
        chooser: Chooser,
    ) -> Result<bool, SimulationError> {
        let proposals: Vec<Proposed> = round
            .order
            .iter()
            .filter(|bidder| budgets[**bidder] > 0)
            .map(|bidder| Proposed {
                bidder: *bidder,
                score: (self.bidders[*bidder].claimed_score() + round.proposal_noise[*bidder])
                    .clamp(0.0, 1.0),
            })
            .collect();
        let ranked = self.order(&proposals, chooser, round.pick);
        let winner = &proposals[ranked[0]];
        let bidder = self.bidders[winner.bidder];
        budgets[winner.bidder] -= 1;
        self.tallies[winner.bidder].wins += 1;
        self.tallies[winner.bidder].implementations += 1;
        let succeeded = round.success[winner.bidder] < bidder.success_probability;
        let implementation_score = (bidder.success_probability
            + round.implementation_noise[winner.bidder])
            .clamp(0.0, 1.0);
        let delta = self.rule.delta(
            implementation_case(kind, succeeded),
            Some((winner.score, implementation_score)),
        );
        let outcome = if succeeded {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let written = Written {
            issue,
            iteration,
            bidder: winner.bidder,
            proposal_score: winner.score,
            implementation_score: Some(implementation_score),
        };
        self.record(written, outcome, delta)?;
        for position in &ranked[1..] {
            let other = &proposals[*position];
            let written = Written {
                bidder: other.bidder,
                proposal_score: other.score,
                implementation_score: None,
                ..written
            };
            // As the loop records them: not tried beside a success,
            // ranked (delta 0) beside a failure.
            if succeeded {
                let delta = self.rule.delta(Case::NotTried, None);
                self.record(written, Outcome::NotTried, delta)?;
            } else {
                let none = WeightDelta {
                    cases: Vec::new(),
                    delta: 0.0,
                };
                self.record(written, Outcome::Ranked, none)?;
            }
        }
        Ok(succeeded)
    }

    /// Positions in `proposals` (in submission order), the one to
    /// implement first.
    fn order(&self, proposals: &[Proposed], chooser: Chooser, pick: f64) -> Vec<usize> {
        let scores: Vec<f64> = proposals.iter().map(|proposal| proposal.score).collect();
        match chooser {
            Chooser::Ranking => {
                let efficiencies: Vec<f64> = proposals
                    .iter()
                    .map(|proposal| self.state.bots.0[proposal.bidder].1.efficiency)
                    .collect();
                let keys = selection_keys(&scores, &efficiencies, self.config.selection);
                rank_implementable(&keys, &vec![true; proposals.len()])
            }
            Chooser::Oracle => {
                let chances: Vec<f64> = proposals
                    .iter()
                    .map(|proposal| self.bidders[proposal.bidder].success_probability)
                    .collect();
                rank(&chances)
            }
            Chooser::Random => {
                let chosen = ((pick * proposals.len() as f64) as usize).min(proposals.len() - 1);
                let mut order = vec![chosen];
                order.extend(rank(&scores).into_iter().filter(|index| *index != chosen));
                order
            }
        }
    }

    /// Writes one event, one second after the last, and extends the state
    /// by it.
    fn record(
        &mut self,
        written: Written,
        outcome: Outcome,
        delta: WeightDelta,
    ) -> Result<(), SimulationError> {
        self.clock += TimeDelta::seconds(1);
        let event = Event {
            time: self.clock,
            timestamp: format_timestamp(&self.clock),
            issue_number: written.issue,
            bot_id: self.ids[written.bidder].clone(),
            outcome,
            weight_delta: delta.delta,
            proposal_score: Some(written.proposal_score),
            implementation_score: written.implementation_score,
            accuracy: written
                .implementation_score
                .map(|implementation| accuracy(written.proposal_score, implementation)),
            iteration_count: Some(written.iteration),
            metrics: None,
            issue_type: None,
        };
        self.state = extend(self.config, &self.state, &event)
            .ok_or_else(|| SimulationError::Refused(event.file_name()))?;
        self.events.push(event);
        Ok(())
    }
}

/// What an event says beyond its outcome and delta.
#[derive(Clone, Copy)]
struct Written {
    issue: u64,
    iteration: u64,
    bidder: usize,
    proposal_score: f64,
    implementation_score: Option<f64>,
}

#[cfg(test)]
mod tests;
