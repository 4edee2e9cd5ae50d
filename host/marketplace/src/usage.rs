//! Model usage recorded in events, and its totals per bidder. Four additive
//! usage objects may be in an event:
//! - `usage`: the bidder's `propose` calls in a round (consultations
//!   included), in exactly one of its events of that round;
//! - `implementation_usage`: implementing its winning proposal;
//! - `review_usage`: the specialists' reviews of its winning proposal;
//! - `check_usage`: the check plugins run on the change it won with.
//!
//! The last three are on the event of the round's winner (its `success`,
//! `failure`, `error`, or `ranked` when the attempt was interrupted), so
//! every model call is in exactly one record (SPEC §2.2).
//!
//! These fields are not part of the marketplace state: the fold never reads
//! them, and an event whose usage is malformed still folds. The usage is
//! validated when an event is recorded, and an event with malformed usage is
//! left out of the totals with a reason. No I/O here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventError};

/// One recorded usage object: `{"calls", "input_tokens", "output_tokens",
/// "cost_usd"?}`, the counts non-negative integers, the cost finite and at
/// least 0 when present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Usage {
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// The usage objects of one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
pub struct EventUsage {
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default)]
    pub implementation_usage: Option<Usage>,
    #[serde(default)]
    pub review_usage: Option<Usage>,
    #[serde(default)]
    pub check_usage: Option<Usage>,
}

impl EventUsage {
    /// Each usage object with its field name.
    pub fn fields(&self) -> [(&'static str, Option<&Usage>); 4] {
        [
            ("usage", self.usage.as_ref()),
            ("implementation_usage", self.implementation_usage.as_ref()),
            ("review_usage", self.review_usage.as_ref()),
            ("check_usage", self.check_usage.as_ref()),
        ]
    }
}

/// Reads and checks the usage objects of the event in `bytes`; every other
/// field is ignored. The error names the field at fault.
pub fn parse(bytes: &[u8]) -> Result<EventUsage, EventError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let usage: EventUsage =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let field = error.path().to_string();
            EventError {
                field: (field != "." && field != "?").then_some(field),
                message: error.into_inner().to_string(),
            }
        })?;
    for (name, usage) in usage.fields() {
        if let Some(Usage {
            cost_usd: Some(cost),
            ..
        }) = usage
            && (!cost.is_finite() || *cost < 0.0)
        {
            return Err(EventError {
                field: Some(format!("{name}.cost_usd")),
                message: format!("must be finite and at least 0, got {cost}"),
            });
        }
    }
    Ok(usage)
}

/// Usage added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Usage objects counted.
    pub records: u64,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The sum of the known costs, in US dollars.
    pub cost_usd: f64,
    /// Usage objects without a cost (no price configured, or an agent that
    /// does not report one): `cost_usd` leaves them out.
    pub unpriced: u64,
}

impl Totals {
    /// Counts one usage object.
    pub fn add(&mut self, usage: &Usage) {
        self.records += 1;
        self.calls = self.calls.saturating_add(usage.calls);
        self.input_tokens = self.input_tokens.saturating_add(usage.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(usage.output_tokens);
        match usage.cost_usd {
            Some(cost) => self.cost_usd += cost,
            None => self.unpriced += 1,
        }
    }

    /// Adds other totals to these.
    pub fn merge(&mut self, other: &Totals) {
        self.records += other.records;
        self.calls = self.calls.saturating_add(other.calls);
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cost_usd += other.cost_usd;
        self.unpriced += other.unpriced;
    }

    /// Input and output tokens together.
    pub fn tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// One bidder's usage: proposing; implementing, reviewing and checking its
/// winning proposals; and all together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BidderUsage {
    pub proposing: Totals,
    pub implementing: Totals,
    #[serde(default)]
    pub reviewing: Totals,
    #[serde(default)]
    pub checking: Totals,
    pub total: Totals,
}

impl BidderUsage {
    fn part(&mut self, field: &str) -> &mut Totals {
        match field {
            "implementation_usage" => &mut self.implementing,
            "review_usage" => &mut self.reviewing,
            "check_usage" => &mut self.checking,
            _ => &mut self.proposing,
        }
    }
}

/// An event file left out of the totals, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// The usage recorded in the events, per bidder and overall.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// The issue the totals are limited to, if any.
    pub issue: Option<u64>,
    /// Every bidder the config knows, in bot order of the names given.
    pub bidders: BTreeMap<String, BidderUsage>,
    pub total: Totals,
    /// Events whose usage is malformed; their other fields may still fold.
    pub skipped: Vec<Skipped>,
}

impl UsageReport {
    /// An empty report for `bot_ids`, limited to `issue` if given.
    pub fn new<'a>(bot_ids: impl IntoIterator<Item = &'a str>, issue: Option<u64>) -> Self {
        UsageReport {
            issue,
            bidders: bot_ids
                .into_iter()
                .map(|id| (id.to_owned(), BidderUsage::default()))
                .collect(),
            total: Totals::default(),
            skipped: Vec::new(),
        }
    }

    /// Takes in one event file. An event that does not parse, names a bot
    /// the report does not know, or is about another issue is not counted;
    /// one whose usage is malformed is listed in `skipped`.
    pub fn add_file(&mut self, name: &str, bytes: &[u8]) {
        if let Some(read) = read_file(name, bytes) {
            self.add_read(read);
        }
    }

    /// Takes in one event file read by [`read_file`], as
    /// [`UsageReport::add_file`] does: files can be read in parallel and
    /// added in order, so the sums never depend on thread timing.
    pub fn add_read(&mut self, read: FileUsage) {
        let FileUsage {
            file,
            issue_number,
            bot_id,
            usage,
        } = read;
        if self.issue.is_some_and(|issue| issue != issue_number) {
            return;
        }
        let Some(bidder) = self.bidders.get_mut(&bot_id) else {
            return;
        };
        let usage = match usage {
            Ok(usage) => usage,
            Err(error) => {
                self.skipped.push(Skipped {
                    file,
                    reason: error.to_string(),
                });
                return;
            }
        };
        for (field, usage) in usage.fields() {
            if let Some(usage) = usage {
                bidder.part(field).add(usage);
                bidder.total.add(usage);
                self.total.add(usage);
            }
        }
    }
}

/// What an event file holds for a usage report: its event's issue and
/// bidder, and its usage objects or why they are malformed.
#[derive(Clone, Debug, PartialEq)]
pub struct FileUsage {
    pub file: String,
    pub issue_number: u64,
    pub bot_id: String,
    pub usage: Result<EventUsage, EventError>,
}

/// Reads the event file `name` for [`UsageReport::add_read`]; `None` when
/// it is not an event (nothing to count).
pub fn read_file(name: &str, bytes: &[u8]) -> Option<FileUsage> {
    let event = Event::parse(bytes).ok()?;
    Some(FileUsage {
        file: name.to_owned(),
        issue_number: event.issue_number,
        bot_id: event.bot_id,
        usage: parse(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(bot: &str, issue: u64, extra: &str) -> Vec<u8> {
        format!(
            r#"{{"timestamp": "2026-01-29T10:15:00Z", "issue_number": {issue},
                "bot_id": "{bot}", "outcome": "success", "weight_delta": 0.1{extra}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn usage_objects_are_read_and_other_fields_ignored() {
        let bytes = event(
            "bidder_1",
            1,
            r#", "usage": {"calls": 2, "input_tokens": 10, "output_tokens": 4, "cost_usd": 0.5},
                "implementation_usage": {"calls": 1, "input_tokens": 7, "output_tokens": 3}"#,
        );
        let usage = parse(&bytes).expect("valid");
        assert_eq!(
            usage.usage,
            Some(Usage {
                calls: 2,
                input_tokens: 10,
                output_tokens: 4,
                cost_usd: Some(0.5)
            })
        );
        assert_eq!(usage.implementation_usage.map(|u| u.cost_usd), Some(None));
        assert_eq!(parse(&event("bidder_1", 1, "")), Ok(EventUsage::default()));
    }

    #[test]
    fn malformed_usage_names_the_field() {
        let field = |extra: &str| {
            parse(&event("bidder_1", 1, extra))
                .expect_err("malformed")
                .field
                .unwrap_or_default()
        };
        assert_eq!(
            field(r#", "usage": {"calls": -1, "input_tokens": 0, "output_tokens": 0}"#),
            "usage.calls"
        );
        assert_eq!(
            field(r#", "usage": {"calls": 1.5, "input_tokens": 0, "output_tokens": 0}"#),
            "usage.calls"
        );
        assert_eq!(
            field(r#", "implementation_usage": {"calls": 1, "output_tokens": 0}"#),
            "implementation_usage"
        );
        assert_eq!(
            field(
                r#", "usage": {"calls": 1, "input_tokens": 0, "output_tokens": 0, "cost_usd": -0.1}"#
            ),
            "usage.cost_usd"
        );
        assert_eq!(field(r#", "usage": "lots""#), "usage");
    }

    #[test]
    fn totals_are_kept_per_bidder_and_overall_for_the_chosen_issue() {
        let mut report = UsageReport::new(["bidder_1", "bidder_2"], Some(1));
        report.add_file(
            "a.json",
            &event(
                "bidder_1",
                1,
                r#", "usage": {"calls": 2, "input_tokens": 10, "output_tokens": 4, "cost_usd": 0.25},
                    "implementation_usage": {"calls": 1, "input_tokens": 100, "output_tokens": 50, "cost_usd": 1.0}"#,
            ),
        );
        report.add_file(
            "b.json",
            &event(
                "bidder_2",
                1,
                r#", "usage": {"calls": 1, "input_tokens": 5, "output_tokens": 5}"#,
            ),
        );
        report.add_file(
            "other-issue.json",
            &event(
                "bidder_2",
                2,
                r#", "usage": {"calls": 9, "input_tokens": 9, "output_tokens": 9}"#,
            ),
        );
        report.add_file(
            "unknown-bot.json",
            &event(
                "bidder_9",
                1,
                r#", "usage": {"calls": 9, "input_tokens": 9, "output_tokens": 9}"#,
            ),
        );
        report.add_file(
            "bad.json",
            &event("bidder_1", 1, r#", "usage": {"calls": -3}"#),
        );
        let first = &report.bidders["bidder_1"];
        assert_eq!(first.proposing.calls, 2);
        assert_eq!(first.implementing.tokens(), 150);
        assert_eq!(first.total.calls, 3);
        assert_eq!(first.total.cost_usd, 1.25);
        assert_eq!(report.bidders["bidder_2"].total.unpriced, 1);
        assert_eq!(report.total.records, 3);
        assert_eq!(report.total.calls, 4);
        assert_eq!(report.total.tokens(), 174);
        assert_eq!(report.total.cost_usd, 1.25);
        assert_eq!(report.total.unpriced, 1);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].file, "bad.json");
        assert!(report.skipped[0].reason.contains("usage.calls"));
    }

    proptest! {
        #[test]
        fn the_overall_total_is_the_sum_of_the_bidders(
            records in proptest::collection::vec(
                (0usize..3, 0u64..1000, 0u64..100_000, 0u64..100_000, proptest::option::of(0u32..1000), 0usize..4),
                0..30,
            )
        ) {
            let bots = ["bidder_1", "bidder_2", "bidder_3"];
            let mut report = UsageReport::new(bots, None);
            let keys = ["usage", "implementation_usage", "review_usage", "check_usage"];
            for (index, (bot, calls, input, output, cents, key)) in records.iter().enumerate() {
                let cost = cents.map_or(String::new(), |cents| format!(r#", "cost_usd": {}"#, f64::from(cents) / 100.0));
                let object = format!(r#"{{"calls": {calls}, "input_tokens": {input}, "output_tokens": {output}{cost}}}"#);
                let key = keys[*key];
                report.add_file(&format!("{index}.json"), &event(bots[*bot], 1, &format!(r#", "{key}": {object}"#)));
            }
            let mut sum = Totals::default();
            for bidder in report.bidders.values() {
                let mut both = bidder.proposing;
                both.merge(&bidder.implementing);
                both.merge(&bidder.reviewing);
                both.merge(&bidder.checking);
                prop_assert_eq!(both.records, bidder.total.records);
                prop_assert_eq!(both.tokens(), bidder.total.tokens());
                sum.merge(&bidder.total);
            }
            prop_assert_eq!(sum.records, records.len() as u64);
            prop_assert_eq!(sum.calls, report.total.calls);
            prop_assert_eq!(sum.tokens(), report.total.tokens());
            prop_assert_eq!(sum.unpriced, report.total.unpriced);
            prop_assert!((sum.cost_usd - report.total.cost_usd).abs() < 1e-6);
        }
    }
}
