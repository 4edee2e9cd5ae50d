//! Folding the event log into the state (SPEC §2.3): a pure function of the
//! *set* of event files and the config.

use crate::allocation::allocate;
use crate::config::Config;
use crate::efficiency::efficiency;
use crate::event::{Event, EventError, Outcome};
use crate::projection::project_onto_capped_simplex;
use crate::specialization::ByType;
use crate::state::{BotState, Bots, ExcludedEvent, State};

/// One file of the log: its name and what parsing it gave.
#[derive(Clone, Debug)]
pub struct EventFile {
    pub name: String,
    pub event: Result<Event, EventError>,
}

/// Folds `files` (in any order) into the state.
///
/// Invalid files and events naming an unknown bidder are left out and listed
/// in `excluded_events`; the rest are applied in order of timestamp, then
/// file name.
pub fn fold(config: &Config, files: Vec<EventFile>) -> State {
    let Ordered { events, excluded } = order(config, files);
    let mut tally = Tally::start(config);
    for event in &events {
        tally.apply(config, event.bidder, &event.event);
    }
    tally.state(
        config,
        excluded,
        events.last().map(|event| event.event.timestamp.clone()),
    )
}

/// The log as the fold applies it.
#[derive(Clone, Debug, Default)]
pub struct Ordered {
    /// The valid events of known bidders, in fold order: by timestamp,
    /// then file name.
    pub events: Vec<OrderedEvent>,
    /// The files left out, by name, and why.
    pub excluded: Vec<ExcludedEvent>,
}

/// One valid event of [`Ordered`].
#[derive(Clone, Debug)]
pub struct OrderedEvent {
    /// The bidder's index in the config's order.
    pub bidder: usize,
    pub file: String,
    pub event: Event,
}

/// The state after each of about `points` evenly spaced prefixes of the
/// ordered log, from none of its events to all of them: what [`fold`]
/// gives for the first `k` events (in fold order) at each sampled `k`,
/// computed in one pass. Every sample keeps the whole log's
/// `excluded_events`, so the last one is the fold of the whole log.
pub fn history(config: &Config, ordered: &Ordered, points: usize) -> Vec<State> {
    let Ordered { events, excluded } = ordered;
    let marks = sample_marks(events.len(), points);
    let mut tally = Tally::start(config);
    let mut samples = Vec::with_capacity(marks.len());
    let mut marks = marks.into_iter().peekable();
    let mut last_updated = None;
    for position in 0..=events.len() {
        if marks.next_if_eq(&position).is_some() {
            samples.push(tally.state(config, excluded.clone(), last_updated.clone()));
        }
        if let Some(ordered) = events.get(position) {
            tally.apply(config, ordered.bidder, &ordered.event);
            last_updated = Some(ordered.event.timestamp.clone());
        }
    }
    samples
}

/// The prefix lengths [`history`] samples, increasing: 0, `count` and at
/// most `points - 1` evenly spaced ones between (so at most `points + 1`).
fn sample_marks(count: usize, points: usize) -> Vec<usize> {
    let steps = points.clamp(1, count.max(1));
    let mut marks: Vec<usize> = (0..=steps).map(|step| step * count / steps).collect();
    marks.dedup();
    marks
}

/// Sorts `files` (in any order) into the events the fold applies, in its
/// order, and the files it leaves out.
pub fn order(config: &Config, files: Vec<EventFile>) -> Ordered {
    let mut valid = Vec::with_capacity(files.len());
    let mut excluded = Vec::new();
    for EventFile { name, event } in files {
        match event {
            Ok(event) => match config.bot_index(&event.bot_id) {
                Some(index) => valid.push((index, name, event)),
                None => excluded.push(ExcludedEvent {
                    reason: unknown_bot_reason(config, &event.bot_id),
                    file: name,
                }),
            },
            Err(error) => excluded.push(ExcludedEvent {
                file: name,
                reason: error.to_string(),
            }),
        }
    }
    valid.sort_unstable_by(|(_, left_name, left), (_, right_name, right)| {
        left.time
            .cmp(&right.time)
            .then_with(|| left_name.cmp(right_name))
    });
    excluded.sort_unstable_by(|left, right| left.file.cmp(&right.file));
    Ordered {
        events: valid
            .into_iter()
            .map(|(bidder, file, event)| OrderedEvent {
                bidder,
                file,
                event,
            })
            .collect(),
        excluded,
    }
}

/// `state` folded from some events, extended by `event`, which sorts after
/// all of them (a later timestamp than the last): the state a fold of all of
/// them gives, to the bit, since the fold applies events one at a time.
/// `None` when `event` does not sort last, names an unknown bidder, or
/// `state` has other bidders than `config`.
pub fn extend(config: &Config, state: &State, event: &Event) -> Option<State> {
    let index = config.bot_index(&event.bot_id)?;
    if let Some(last) = &state.last_updated
        && !crate::event::parse_timestamp(last).is_ok_and(|last| event.time > last)
    {
        return None;
    }
    let ids = config.bot_ids();
    if state.bots.0.len() != ids.len()
        || state
            .bots
            .0
            .iter()
            .zip(&ids)
            .any(|((id, _), expected)| id != expected)
    {
        return None;
    }
    let mut tally = Tally {
        weights: state.bots.0.iter().map(|(_, bot)| bot.weight).collect(),
        successes: state.bots.0.iter().map(|(_, bot)| bot.successes).collect(),
        failures: state.bots.0.iter().map(|(_, bot)| bot.failures).collect(),
        by_type: state
            .bots
            .0
            .iter()
            .map(|(_, bot)| bot.by_type.clone())
            .collect(),
        events: state.event_count,
    };
    tally.apply(config, index, event);
    Some(tally.state(
        config,
        state.excluded_events.clone(),
        Some(event.timestamp.clone()),
    ))
}

/// The running totals of a fold.
struct Tally {
    weights: Vec<f64>,
    successes: Vec<u64>,
    failures: Vec<u64>,
    /// Each bidder's record per issue type (SPEC §13).
    by_type: Vec<ByType>,
    events: u64,
}

impl Tally {
    /// Every bidder at weight `1/N`, with no outcomes yet.
    fn start(config: &Config) -> Tally {
        let bot_count = config.bot_ids().len();
        Tally {
            weights: vec![1.0 / bot_count as f64; bot_count],
            successes: vec![0u64; bot_count],
            failures: vec![0u64; bot_count],
            by_type: vec![ByType::new(); bot_count],
            events: 0,
        }
    }

    /// One event of bidder `index`: its delta, then the projection.
    fn apply(&mut self, config: &Config, index: usize, event: &Event) {
        let (min, max) = (config.weight_constraints.min, config.weight_constraints.max);
        self.weights[index] += event.weight_delta;
        project_onto_capped_simplex(&mut self.weights, min, max);
        match event.outcome {
            Outcome::Success => self.successes[index] += 1,
            Outcome::Failure => self.failures[index] += 1,
            _ => {}
        }
        if let (Some(kind), Outcome::Success | Outcome::Failure) = (event.issue_type, event.outcome)
        {
            let record = self.by_type[index]
                .entry(kind.name().to_owned())
                .or_default();
            if event.outcome == Outcome::Success {
                record.successes += 1;
            } else {
                record.failures += 1;
            }
        }
        self.events += 1;
    }

    fn state(
        &self,
        config: &Config,
        excluded: Vec<ExcludedEvent>,
        last_updated: Option<String>,
    ) -> State {
        let efficiencies: Vec<f64> = self
            .successes
            .iter()
            .zip(&self.failures)
            .map(|(successes, failures)| efficiency(*successes, *failures))
            .collect();
        let allocations = allocate(
            &self.weights,
            &efficiencies,
            config.pool(),
            config.min_allocation_per_bot,
        );
        let bots = config
            .bot_ids()
            .into_iter()
            .enumerate()
            .map(|(index, id)| {
                let bot = BotState {
                    weight: self.weights[index],
                    efficiency: efficiencies[index],
                    successes: self.successes[index],
                    failures: self.failures[index],
                    allocation: allocations[index],
                    by_type: self.by_type[index].clone(),
                };
                (id, bot)
            })
            .collect();
        State {
            bots: Bots(bots),
            total_budget_pool: config.pool(),
            rounds_completed: self.successes.iter().sum::<u64>()
                + self.failures.iter().sum::<u64>(),
            event_count: self.events,
            excluded_events: excluded,
            last_updated,
        }
    }
}

fn unknown_bot_reason(config: &Config, bot_id: &str) -> String {
    format!(
        "field `bot_id`: unknown bot {bot_id:?} (this marketplace has bidder_1 to bidder_{})",
        config.num_bots
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, json: &str) -> EventFile {
        EventFile {
            name: name.to_owned(),
            event: Event::parse(json.as_bytes()),
        }
    }

    fn event(timestamp: &str, bot: &str, outcome: &str, delta: f64) -> EventFile {
        let json = format!(
            r#"{{"timestamp": "{timestamp}", "issue_number": 1, "bot_id": "{bot}",
                "outcome": "{outcome}", "weight_delta": {delta}}}"#
        );
        file(&format!("{timestamp}-{bot}-{outcome}.json"), &json)
    }

    #[test]
    fn no_events_means_equal_weights_and_equal_budgets() {
        let state = fold(&Config::default(), vec![]);
        let json: serde_json::Value = serde_json::from_str(&state.to_json()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "bots": {
                    "bidder_1": {"weight": 0.3333333333333333, "efficiency": 0.5,
                                 "successes": 0, "failures": 0, "allocation": 10},
                    "bidder_2": {"weight": 0.3333333333333333, "efficiency": 0.5,
                                 "successes": 0, "failures": 0, "allocation": 10},
                    "bidder_3": {"weight": 0.3333333333333333, "efficiency": 0.5,
                                 "successes": 0, "failures": 0, "allocation": 10}
                },
                "total_budget_pool": 30, "rounds_completed": 0, "event_count": 0,
                "excluded_events": [], "last_updated": null
            })
        );
    }

    #[test]
    fn a_success_raises_the_weight_and_the_budget() {
        let state = fold(
            &Config::default(),
            vec![event("2026-01-29T10:15:00Z", "bidder_2", "success", 0.15)],
        );
        let bot = state.bot("bidder_2").expect("bot");
        assert!((bot.weight - (1.0 / 3.0 + 0.1)).abs() < 1e-12);
        assert_eq!(bot.successes, 1);
        assert_eq!(bot.efficiency, 2.0 / 3.0);
        assert_eq!(state.rounds_completed, 1);
        assert_eq!(state.event_count, 1);
        assert_eq!(state.last_updated.as_deref(), Some("2026-01-29T10:15:00Z"));
        let total: u64 = state.bots.0.iter().map(|(_, bot)| bot.allocation).sum();
        assert_eq!(total, 30);
        assert!(bot.allocation > 10);
    }

    #[test]
    fn events_apply_in_timestamp_order_not_file_order() {
        // Capped at 0.6, the order of a big gain and a loss matters.
        let late = event("2026-01-29T10:16:00Z", "bidder_1", "failure", -0.3);
        let early = event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.5);
        let forward = fold(&Config::default(), vec![early.clone(), late.clone()]);
        let backward = fold(&Config::default(), vec![late, early]);
        assert_eq!(forward, backward);
        // +0.5 caps bidder_1 at 0.6 (others 0.2); -0.3 then gives 0.3 + 0.1.
        assert!((forward.bot("bidder_1").expect("bot").weight - 0.4).abs() < 1e-12);
        assert_eq!(
            forward.last_updated.as_deref(),
            Some("2026-01-29T10:16:00Z")
        );
    }

    #[test]
    fn equal_timestamps_apply_in_file_name_order() {
        let first = event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.5);
        let mut second = event("2026-01-29T10:15:00.000000Z", "bidder_1", "failure", -0.3);
        second.name = "zz.json".to_owned();
        let state = fold(&Config::default(), vec![second.clone(), first.clone()]);
        assert!((state.bot("bidder_1").expect("bot").weight - 0.4).abs() < 1e-12);
        assert_eq!(
            state.last_updated.as_deref(),
            Some("2026-01-29T10:15:00.000000Z")
        );
    }

    #[test]
    fn invalid_files_and_unknown_bots_are_excluded_with_a_reason() {
        let state = fold(
            &Config::default(),
            vec![
                file("b.json", "{not json"),
                event("2026-01-29T10:15:00Z", "bidder_9", "success", 0.1),
                event("2026-01-29T10:15:01Z", "bidder_1", "success", 0.1),
            ],
        );
        assert_eq!(state.event_count, 1);
        let files: Vec<&str> = state
            .excluded_events
            .iter()
            .map(|e| e.file.as_str())
            .collect();
        assert_eq!(
            files,
            ["2026-01-29T10:15:00Z-bidder_9-success.json", "b.json"]
        );
        assert!(state.excluded_events[0].reason.contains("unknown bot"));
        assert!(state.excluded_events[1].reason.contains("invalid JSON"));
    }

    #[test]
    fn only_successes_and_failures_count_as_rounds() {
        let events = [
            "success",
            "failure",
            "not_tried",
            "resubmitted",
            "error",
            "revert",
        ]
        .iter()
        .enumerate()
        .map(|(second, outcome)| {
            event(
                &format!("2026-01-29T10:15:0{second}Z"),
                "bidder_1",
                outcome,
                0.0,
            )
        })
        .collect();
        let state = fold(&Config::default(), events);
        let bot = state.bot("bidder_1").expect("bot");
        assert_eq!((bot.successes, bot.failures), (1, 1));
        assert_eq!(state.rounds_completed, 2);
        assert_eq!(state.event_count, 6);
    }

    #[test]
    fn weights_stay_within_their_bounds() {
        let events = (0..20)
            .map(|second| {
                event(
                    &format!("2026-01-29T10:15:{second:02}Z"),
                    "bidder_3",
                    "success",
                    1.0,
                )
            })
            .collect();
        let state = fold(&Config::default(), events);
        assert!((state.bot("bidder_3").expect("bot").weight - 0.6).abs() < 1e-12);
        assert!((state.bot("bidder_1").expect("bot").weight - 0.2).abs() < 1e-12);
    }

    proptest::proptest! {
        /// Extending the state of all but the last event, read back from
        /// its JSON as the cache holds it, gives the fold of all of them, to
        /// the bit.
        #[test]
        fn extending_by_the_last_event_equals_folding_all(
            events in proptest::collection::vec(
                (0usize..3, 0usize..10, -0.4f64..0.4, 0usize..7),
                1..40,
            ),
            excluded in proptest::bool::ANY,
        ) {
            let config = Config::default();
            let mut files: Vec<EventFile> = events
                .iter()
                .enumerate()
                .map(|(second, (bot, outcome, delta, kind))| {
                    let timestamp = format!("2026-03-01T00:{:02}:{:02}Z", second / 60, second % 60);
                    let bot = format!("bidder_{}", bot + 1);
                    let outcome = Outcome::ALL[*outcome].as_str();
                    // Some events name an issue type (SPEC §13), some none.
                    match crate::specialization::IssueType::ALL.get(*kind) {
                        None => event(&timestamp, &bot, outcome, *delta),
                        Some(kind) => file(
                            &format!("{timestamp}-{bot}-{outcome}.json"),
                            &format!(
                                r#"{{"timestamp": "{timestamp}", "issue_number": 1, "bot_id": "{bot}",
                                    "outcome": "{outcome}", "weight_delta": {delta}, "issue_type": "{}"}}"#,
                                kind.name()
                            ),
                        ),
                    }
                })
                .collect();
            if excluded {
                files.push(file("broken.json", "{"));
            }
            let all = fold(&config, files.clone());
            let last = files
                .iter()
                .filter_map(|file| file.event.as_ref().ok())
                .next_back()
                .cloned()
                .expect("an event");
            let without_last: Vec<EventFile> = files
                .into_iter()
                .filter(|file| file.event.as_ref().ok() != Some(&last))
                .collect();
            let before: State = serde_json::from_str(&fold(&config, without_last).to_json())
                .expect("the state reads back");
            let extended = extend(&config, &before, &last).expect("the last event sorts last");
            proptest::prop_assert_eq!(extended.to_json(), all.to_json());
        }
    }

    #[test]
    fn history_samples_are_the_folds_of_prefixes_of_the_ordered_log() {
        let config = Config::default();
        let mut files: Vec<EventFile> = (0..250)
            .map(|index| {
                let outcome = ["success", "failure", "not_tried"][index % 3];
                let delta = [0.1, -0.15, -0.02][index % 3];
                event(
                    &format!(
                        "2026-03-01T{:02}:{:02}:{:02}Z",
                        index / 3600,
                        index / 60 % 60,
                        index % 60
                    ),
                    &format!("bidder_{}", index * 7 % 3 + 1),
                    outcome,
                    delta,
                )
            })
            .collect();
        files.push(file("broken.json", "{"));
        // Any order in: the samples follow the fold's order.
        files.reverse();
        let samples = history(&config, &order(&config, files.clone()), 100);
        assert_eq!(samples.len(), 101);
        assert_eq!(samples.last(), Some(&fold(&config, files.clone())));
        let mut ordered: Vec<EventFile> = files
            .iter()
            .filter(|file| file.event.is_ok())
            .cloned()
            .collect();
        ordered.sort_by(|left, right| left.name.cmp(&right.name));
        for sample in &samples {
            let count = sample.event_count as usize;
            let mut prefix: Vec<EventFile> = ordered[..count].to_vec();
            prefix.push(file("broken.json", "{"));
            assert_eq!(sample, &fold(&config, prefix), "after {count} events");
        }
        let counts: Vec<u64> = samples.iter().map(|sample| sample.event_count).collect();
        assert!(
            counts.windows(2).all(|pair| pair[0] < pair[1]),
            "{counts:?}"
        );
        assert_eq!((counts[0], counts[100]), (0, 250));
    }

    #[test]
    fn a_short_log_is_sampled_at_every_event_and_an_empty_one_once() {
        let config = Config::default();
        let files: Vec<EventFile> = (0..4)
            .map(|second| {
                event(
                    &format!("2026-03-01T00:00:0{second}Z"),
                    "bidder_1",
                    "success",
                    0.1,
                )
            })
            .collect();
        let counts: Vec<u64> = history(&config, &order(&config, files), 100)
            .iter()
            .map(|sample| sample.event_count)
            .collect();
        assert_eq!(counts, [0, 1, 2, 3, 4]);
        assert_eq!(
            history(&config, &order(&config, vec![]), 100),
            vec![fold(&config, vec![])]
        );
    }

    #[test]
    fn an_event_that_does_not_sort_last_is_not_extended() {
        let config = Config::default();
        let state = fold(
            &config,
            vec![event("2026-03-01T00:00:10Z", "bidder_1", "success", 0.1)],
        );
        let same_time = event("2026-03-01T00:00:10Z", "bidder_2", "success", 0.1);
        let earlier = event("2026-03-01T00:00:09Z", "bidder_2", "success", 0.1);
        for file in [same_time, earlier] {
            let event = file.event.expect("valid");
            assert!(
                extend(&config, &state, &event).is_none(),
                "{}",
                event.timestamp
            );
        }
        let unknown = event("2026-03-01T00:00:11Z", "bidder_9", "success", 0.1);
        assert!(extend(&config, &state, &unknown.event.expect("valid")).is_none());
    }
}
