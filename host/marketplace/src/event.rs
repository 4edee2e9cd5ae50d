//! One marketplace event: what happened to one bidder on one issue.
//!
//! Events are the source of truth (SPEC §2.2). This module parses and validates
//! them from JSON bytes and owns their canonical file name; it does no I/O.

use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use serde::Deserialize;

/// What happened to a bidder in a round, or later (the delayed signals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The bidder's proposal was implemented and passed every check.
    Success,
    /// The bidder's proposal was implemented and a check failed.
    Failure,
    /// The bidder was ranked but not tried because another proposal succeeded.
    NotTried,
    /// The bidder resubmitted the same proposal in a replan round.
    Resubmitted,
    /// The bidder's plugin faulted (trap, deadline, garbage output), or the
    /// implementer, an agent or a provider failed on its proposal: not the
    /// bidder's doing; delta 0.
    Error,
    /// The proposal was scored and ranked but got no other event in its
    /// round (a runner-up in a failed round); delta 0. It keeps the round's
    /// ranking and the bidder's model usage in the log.
    Ranked,
    /// Delayed signal: the merged change was reverted.
    Revert,
    /// Delayed signal: a defect was traced back to the change.
    Defect,
    /// Delayed signal: the changed files churned soon after the merge.
    Churn,
    /// Delayed signal: a human overrode the ranking.
    Override,
}

impl Outcome {
    /// Every outcome, in the order the spec lists them.
    pub const ALL: [Outcome; 10] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::NotTried,
        Outcome::Resubmitted,
        Outcome::Error,
        Outcome::Ranked,
        Outcome::Revert,
        Outcome::Defect,
        Outcome::Churn,
        Outcome::Override,
    ];

    /// The outcome's name as written in events and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::NotTried => "not_tried",
            Outcome::Resubmitted => "resubmitted",
            Outcome::Error => "error",
            Outcome::Ranked => "ranked",
            Outcome::Revert => "revert",
            Outcome::Defect => "defect",
            Outcome::Churn => "churn",
            Outcome::Override => "override",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(self.as_str())
    }
}

/// Measurements of an implementation attempt (all optional).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub tests_passed: Option<bool>,
    #[serde(default)]
    pub code_quality_passed: Option<bool>,
    #[serde(default)]
    pub coverage_delta: Option<f64>,
    #[serde(default)]
    pub lines_changed: Option<u64>,
    #[serde(default)]
    pub files_affected: Option<u64>,
}

/// The fields of an event as they appear in JSON, before range checks.
#[derive(Deserialize)]
struct RawEvent {
    timestamp: String,
    issue_number: u64,
    bot_id: String,
    outcome: Outcome,
    weight_delta: f64,
    #[serde(default)]
    proposal_score: Option<f64>,
    #[serde(default)]
    implementation_score: Option<f64>,
    #[serde(default)]
    accuracy: Option<f64>,
    #[serde(default)]
    iteration_count: Option<u64>,
    #[serde(default)]
    metrics: Option<Metrics>,
    /// Additive: an unknown or malformed type only goes uncounted.
    #[serde(default)]
    issue_type: Option<serde_json::Value>,
}

/// A validated event: every field within its range.
///
/// Additive fields (`round`, `case`, …) are allowed in the file but are not
/// needed to fold the state, so they are not kept here.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The instant of the event, parsed (the sort key).
    pub time: DateTime<Utc>,
    /// The timestamp exactly as written in the file.
    pub timestamp: String,
    pub issue_number: u64,
    pub bot_id: String,
    pub outcome: Outcome,
    pub weight_delta: f64,
    pub proposal_score: Option<f64>,
    pub implementation_score: Option<f64>,
    pub accuracy: Option<f64>,
    pub iteration_count: Option<u64>,
    pub metrics: Option<Metrics>,
    /// The issue's type (SPEC §13) when the event names a known one.
    pub issue_type: Option<crate::specialization::IssueType>,
}

/// Why an event file was rejected: the field at fault (if any) and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct EventError {
    /// The JSON path of the offending field, e.g. `weight_delta` or
    /// `metrics.lines_changed`; `None` when the problem is the whole document.
    pub field: Option<String>,
    pub message: String,
}

impl EventError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        EventError {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    fn describe(&self) -> String {
        match &self.field {
            Some(field) => format!("field `{field}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl Event {
    /// Parses and validates one event from the bytes of its file.
    pub fn parse(bytes: &[u8]) -> Result<Event, EventError> {
        // Most events are valid: parse plainly, and only when that fails
        // parse again tracking the path, to name the field at fault.
        match serde_json::from_slice::<RawEvent>(bytes) {
            Ok(raw) => raw.validate(),
            Err(_) => Err(explain_json_error(bytes)),
        }
    }

    /// The canonical file name: `<timestamp>-<bot_id>-<outcome>.json`, the
    /// timestamp written `2026-01-29T10-15-00-123456Z`.
    pub fn file_name(&self) -> String {
        file_name(&self.time, &self.bot_id, self.outcome)
    }
}

/// The canonical file name of an event at `time` for `bot_id` and `outcome`.
pub fn file_name(time: &DateTime<Utc>, bot_id: &str, outcome: Outcome) -> String {
    format!(
        "{}-{bot_id}-{outcome}.json",
        time.format("%Y-%m-%dT%H-%M-%S-%6fZ")
    )
}

/// The length of the timestamp at the start of a canonical file name,
/// `2026-01-29T10-15-00-123456Z`.
const NAME_TIMESTAMP_LENGTH: usize = 27;

/// True when `text` has the shape of a file-name timestamp,
/// `YYYY-MM-DDTHH-MM-SS-ffffffZ`.
fn is_name_timestamp(text: &[u8]) -> bool {
    const SHAPE: &[u8; NAME_TIMESTAMP_LENGTH] = b"0000-00-00T00-00-00-000000Z";
    text.len() == NAME_TIMESTAMP_LENGTH
        && text.iter().zip(SHAPE).all(|(byte, shape)| match shape {
            b'0' => byte.is_ascii_digit(),
            other => byte == other,
        })
}

/// Why the file `name` may not hold `event`: a name in the canonical shape
/// (`<timestamp>-<bot_id>-<outcome>.json`) must be the event's own
/// canonical name, so a listing never shows one bidder or outcome while the
/// file holds another. `None` when they agree, or when the name is not in
/// that shape at all (it then claims nothing).
pub fn name_mismatch(name: &str, event: &Event) -> Option<EventError> {
    let canonical = event.file_name();
    if name == canonical {
        return None;
    }
    let timestamp = name.get(..NAME_TIMESTAMP_LENGTH)?;
    let rest = name
        .get(NAME_TIMESTAMP_LENGTH..)?
        .strip_prefix('-')?
        .strip_suffix(".json")?;
    if !is_name_timestamp(timestamp.as_bytes()) {
        return None;
    }
    let (named_bot, named_outcome) = Outcome::ALL
        .iter()
        .find_map(|outcome| {
            rest.strip_suffix(outcome.as_str())
                .and_then(|bot| bot.strip_suffix('-'))
                .map(|bot| (bot, outcome.as_str()))
        })
        .or_else(|| {
            rest.strip_prefix(event.bot_id.as_str())
                .and_then(|outcome| outcome.strip_prefix('-'))
                .map(|outcome| (event.bot_id.as_str(), outcome))
        })
        .unwrap_or((rest, ""));
    let (field, named, actual) = if named_bot != event.bot_id {
        ("bot_id", named_bot.to_owned(), event.bot_id.clone())
    } else if named_outcome != event.outcome.as_str() {
        (
            "outcome",
            named_outcome.to_owned(),
            event.outcome.to_string(),
        )
    } else {
        (
            "timestamp",
            timestamp.to_owned(),
            canonical[..NAME_TIMESTAMP_LENGTH].to_owned(),
        )
    };
    Some(EventError::new(
        field,
        format!(
            "the file name says {named:?} but the event says {actual:?}; its name would be {canonical}"
        ),
    ))
}

/// Writes `time` the way Ralph writes event timestamps: RFC 3339, UTC,
/// microseconds (`2026-01-29T10:15:00.123456Z`).
pub fn format_timestamp(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses an RFC 3339 timestamp that must be in UTC.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map_err(|error| format!("not an RFC 3339 timestamp ({error}): {text:?}"))?;
    if parsed.offset().local_minus_utc() != 0 {
        return Err(format!("must be in UTC (end in `Z`), got {text:?}"));
    }
    if parsed.nanosecond() >= 1_000_000_000 {
        return Err(format!("leap seconds are not supported: {text:?}"));
    }
    Ok(parsed.with_timezone(&Utc))
}

/// True when `id` is a valid bot id: lowercase letters, digits, `_` and `-`.
pub fn is_valid_bot_id(id: &str) -> bool {
    !id.is_empty()
        && id.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-'
        })
}

/// Parses `bytes` again, tracking the path, to say why they are not an event.
fn explain_json_error(bytes: &[u8]) -> EventError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, RawEvent>(&mut deserializer) {
        Err(error) => json_error(error),
        Ok(_) => match deserializer.end() {
            Err(error) => EventError {
                field: None,
                message: format!("trailing characters after the event: {error}"),
            },
            Ok(()) => EventError {
                field: None,
                message: "invalid JSON".to_owned(),
            },
        },
    }
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> EventError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = if inner.is_syntax() || inner.is_eof() {
        format!("invalid JSON: {inner}")
    } else {
        inner.to_string()
    };
    // `.` is the document itself; `?` means no key was read yet.
    if path == "." || path == "?" || path.is_empty() {
        EventError {
            field: None,
            message,
        }
    } else {
        EventError {
            field: Some(path),
            message,
        }
    }
}

fn check_unit_interval(field: &str, value: Option<f64>) -> Result<(), EventError> {
    match value {
        Some(value) if !(0.0..=1.0).contains(&value) => Err(EventError::new(
            field,
            format!("must be within [0, 1], got {value}"),
        )),
        _ => Ok(()),
    }
}

impl RawEvent {
    fn validate(self) -> Result<Event, EventError> {
        let time = parse_timestamp(&self.timestamp)
            .map_err(|message| EventError::new("timestamp", message))?;
        if !is_valid_bot_id(&self.bot_id) {
            return Err(EventError::new(
                "bot_id",
                format!(
                    "must be lowercase letters, digits, `_` and `-`, got {:?}",
                    self.bot_id
                ),
            ));
        }
        if !self.weight_delta.is_finite() || !(-1.0..=1.0).contains(&self.weight_delta) {
            return Err(EventError::new(
                "weight_delta",
                format!(
                    "must be finite and within [-1, 1], got {}",
                    self.weight_delta
                ),
            ));
        }
        check_unit_interval("proposal_score", self.proposal_score)?;
        check_unit_interval("implementation_score", self.implementation_score)?;
        check_unit_interval("accuracy", self.accuracy)?;
        if let Some(Metrics {
            coverage_delta: Some(delta),
            ..
        }) = &self.metrics
            && !delta.is_finite()
        {
            return Err(EventError::new(
                "metrics.coverage_delta",
                format!("must be finite, got {delta}"),
            ));
        }
        Ok(Event {
            time,
            timestamp: self.timestamp,
            issue_number: self.issue_number,
            bot_id: self.bot_id,
            outcome: self.outcome,
            weight_delta: self.weight_delta,
            proposal_score: self.proposal_score,
            implementation_score: self.implementation_score,
            accuracy: self.accuracy,
            iteration_count: self.iteration_count,
            metrics: self.metrics,
            issue_type: self
                .issue_type
                .as_ref()
                .and_then(serde_json::Value::as_str)
                .and_then(crate::specialization::IssueType::from_name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_EVENT: &str = r#"{
  "timestamp": "2026-01-29T10:15:00.123456Z",
  "issue_number": 123,
  "bot_id": "smart_bot_2",
  "outcome": "success",
  "proposal_score": 0.87,
  "implementation_score": 0.85,
  "accuracy": 0.98,
  "weight_delta": 0.15,
  "iteration_count": 3,
  "metrics": {
    "tests_passed": true,
    "code_quality_passed": true,
    "coverage_delta": 2.5,
    "lines_changed": 45,
    "files_affected": 3
  }
}"#;

    fn error_of(json: &str) -> EventError {
        Event::parse(json.as_bytes()).expect_err("the event should be rejected")
    }

    fn minimal_with(field: &str, value: &str) -> String {
        let mut fields = vec![
            ("timestamp", "\"2026-01-29T10:15:00Z\"".to_owned()),
            ("issue_number", "1".to_owned()),
            ("bot_id", "\"bidder_1\"".to_owned()),
            ("outcome", "\"success\"".to_owned()),
            ("weight_delta", "0.1".to_owned()),
        ];
        match fields.iter_mut().find(|(name, _)| *name == field) {
            Some(entry) => entry.1 = value.to_owned(),
            None => fields.push((field, value.to_owned())),
        }
        let body: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("\"{name}\": {value}"))
            .collect();
        format!("{{{}}}", body.join(", "))
    }

    #[test]
    fn the_seed_example_event_parses_as_is() {
        let event = Event::parse(SEED_EVENT.as_bytes()).expect("seed event parses");
        assert_eq!(event.bot_id, "smart_bot_2");
        assert_eq!(event.outcome, Outcome::Success);
        assert_eq!(event.weight_delta, 0.15);
        assert_eq!(event.issue_number, 123);
        assert_eq!(
            event.metrics.as_ref().and_then(|m| m.lines_changed),
            Some(45)
        );
        assert_eq!(event.timestamp, "2026-01-29T10:15:00.123456Z");
    }

    #[test]
    fn the_canonical_file_name_writes_the_timestamp_with_dashes_and_microseconds() {
        let event = Event::parse(SEED_EVENT.as_bytes()).expect("seed event parses");
        assert_eq!(
            event.file_name(),
            "2026-01-29T10-15-00-123456Z-smart_bot_2-success.json"
        );
        let whole_second = Event::parse(minimal_with("outcome", "\"not_tried\"").as_bytes())
            .expect("event parses");
        assert_eq!(
            whole_second.file_name(),
            "2026-01-29T10-15-00-000000Z-bidder_1-not_tried.json"
        );
    }

    #[test]
    fn timestamps_are_written_in_utc_with_microseconds() {
        let time = parse_timestamp("2026-01-29T10:15:00.5Z").expect("parses");
        assert_eq!(format_timestamp(&time), "2026-01-29T10:15:00.500000Z");
    }

    #[test]
    fn additive_fields_are_allowed() {
        let json = minimal_with("round", "2");
        let json = json.replace(
            '}',
            ", \"case\": [\"initial_winner_success\"], \"rank\": 1}",
        );
        assert!(Event::parse(json.as_bytes()).is_ok());
    }

    #[test]
    fn null_optional_fields_count_as_absent() {
        let event = Event::parse(minimal_with("proposal_score", "null").as_bytes())
            .expect("null optional field is accepted");
        assert_eq!(event.proposal_score, None);
    }

    #[test]
    fn malformed_json_is_rejected() {
        let error = error_of("{\"timestamp\": ");
        assert!(error.message.contains("invalid JSON"), "{error}");
        let error = error_of("not json at all");
        assert!(error.message.contains("invalid JSON"), "{error}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let json = format!("{} extra", minimal_with("issue_number", "1"));
        assert!(error_of(&json).message.contains("trailing"));
    }

    #[test]
    fn every_required_field_is_named_when_missing() {
        for field in [
            "timestamp",
            "issue_number",
            "bot_id",
            "outcome",
            "weight_delta",
        ] {
            let json = minimal_with(field, "0").replace(&format!("\"{field}\": 0"), "\"x\": 0");
            let error = error_of(&json);
            assert!(
                error.to_string().contains(field),
                "missing {field}: got {error}"
            );
        }
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        for (field, value) in [
            ("issue_number", "\"123\""),
            ("weight_delta", "\"0.1\""),
            ("bot_id", "7"),
            ("timestamp", "1234"),
            ("iteration_count", "1.5"),
            ("proposal_score", "true"),
        ] {
            let error = error_of(&minimal_with(field, value));
            assert_eq!(error.field.as_deref(), Some(field), "{field}: {error}");
        }
        let error = error_of(&minimal_with("metrics", "{\"lines_changed\": \"many\"}"));
        assert_eq!(error.field.as_deref(), Some("metrics.lines_changed"));
    }

    #[test]
    fn a_non_finite_weight_delta_names_the_field() {
        for value in ["1e999", "-1e999", "NaN", "Infinity"] {
            let error = error_of(&minimal_with("weight_delta", value));
            assert_eq!(
                error.field.as_deref(),
                Some("weight_delta"),
                "{value}: {error}"
            );
        }
    }

    #[test]
    fn out_of_range_numbers_name_the_field() {
        for (field, value) in [
            ("weight_delta", "1.0000001"),
            ("weight_delta", "-1.5"),
            ("proposal_score", "1.2"),
            ("implementation_score", "-0.1"),
            ("accuracy", "2"),
            ("issue_number", "-1"),
            ("iteration_count", "-3"),
        ] {
            let error = error_of(&minimal_with(field, value));
            assert_eq!(
                error.field.as_deref(),
                Some(field),
                "{field}={value}: {error}"
            );
        }
    }

    #[test]
    fn the_range_bounds_themselves_are_valid() {
        for (field, value) in [
            ("weight_delta", "1"),
            ("weight_delta", "-1"),
            ("proposal_score", "0"),
            ("accuracy", "1.0"),
            ("issue_number", "0"),
        ] {
            assert!(
                Event::parse(minimal_with(field, value).as_bytes()).is_ok(),
                "{field}={value}"
            );
        }
    }

    #[test]
    fn an_unknown_outcome_names_the_field() {
        let error = error_of(&minimal_with("outcome", "\"victory\""));
        assert_eq!(error.field.as_deref(), Some("outcome"));
        assert!(error.message.contains("victory"));
    }

    #[test]
    fn every_outcome_of_the_spec_parses() {
        for outcome in Outcome::ALL {
            let json = minimal_with("outcome", &format!("\"{outcome}\""));
            let event = Event::parse(json.as_bytes()).expect("outcome parses");
            assert_eq!(event.outcome, outcome);
        }
    }

    #[test]
    fn bot_ids_are_lowercase_letters_digits_underscores_and_dashes() {
        assert!(is_valid_bot_id("bidder_1"));
        assert!(is_valid_bot_id("smart-bot-2"));
        for bad in ["", "Bidder_1", "bidder 1", "bidder/1", "bïdder"] {
            assert!(!is_valid_bot_id(bad), "{bad:?}");
            let error = error_of(&minimal_with("bot_id", &format!("{bad:?}")));
            assert_eq!(error.field.as_deref(), Some("bot_id"));
        }
    }

    #[test]
    fn timestamps_must_be_rfc_3339_in_utc() {
        for bad in [
            "\"2026-01-29 10:15\"",
            "\"yesterday\"",
            "\"2026-01-29T10:15:00+02:00\"",
            "\"2026-13-01T00:00:00Z\"",
        ] {
            let error = error_of(&minimal_with("timestamp", bad));
            assert_eq!(error.field.as_deref(), Some("timestamp"), "{bad}: {error}");
        }
        assert!(
            Event::parse(minimal_with("timestamp", "\"2026-01-29T10:15:00+00:00\"").as_bytes())
                .is_ok()
        );
    }

    #[test]
    fn a_non_finite_coverage_delta_is_rejected() {
        let error = error_of(&minimal_with("metrics", "{\"coverage_delta\": 1e400}"));
        assert_eq!(error.field.as_deref(), Some("metrics.coverage_delta"));
    }
}
