//! `.ralph/config.json`: the marketplace's settings (SPEC §2.1).
//!
//! Every key is optional with the spec's default, so a file holding only the
//! spec's keys is a complete config; an unknown key is an error naming it.
//! Validation failures name the file and the field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Tolerance for the scoring weights summing to one.
const SUM_TOLERANCE: f64 = 1e-9;
/// Slack for the feasibility bounds, so `min = 1/N` written in decimal passes.
const BOUND_TOLERANCE: f64 = 1e-12;

/// The marketplace configuration, validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub num_bots: u64,
    pub base_budget_per_bot: u64,
    pub min_allocation_per_bot: u64,
    pub scoring_weights: ScoringWeights,
    pub weight_constraints: WeightConstraints,
    /// After the winner's implementation fails, try the runner-up before
    /// starting a replan round (SPEC §2.7; off by default).
    #[serde(skip_serializing_if = "is_false")]
    pub try_runner_up: bool,
    /// How a round's winner is chosen among its scored proposals (`seed`
    /// by default; see [`Selection`]).
    #[serde(skip_serializing_if = "Selection::is_seed")]
    pub selection: Selection,
    /// How many bidders a round takes (SPEC §13): all by default; fewer
    /// takes the best specialists for the issue's type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bidders_per_round: Option<u64>,
    /// A round's bidder count from the issue's size (SPEC §13) instead of
    /// `bidders_per_round`.
    #[serde(skip_serializing_if = "is_false")]
    pub dynamic_bidders: bool,
    /// More paths a change may not touch (SPEC §5a), relative to the
    /// repository root; a path ending in `/` is a directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub protected_paths: Vec<String>,
    /// Protected paths a change may touch after all: `.claude/` and
    /// `.github/workflows/` only (SPEC §5a).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_protected: Vec<String>,
    /// The loop's sections, kept as written here and typed (with errors
    /// naming their fields) by the part of Ralph that owns each:
    /// `bidders`, `specialists`, `checks`, `implementer`, `metering`,
    /// `sandbox`, `simple`, `issues`, `scoring` and `team` by the broker, `integrations` by `ralph-integrations`, `llm` by
    /// `ralph-models`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bidders: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specialists: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementer: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrations: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metering: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<serde_json::Value>,
    /// The simple loop's settings (SPEC §8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simple: Option<serde_json::Value>,
    /// Where issues come from (SPEC §7): `local` or `github`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issues: Option<serde_json::Value>,
    /// Who scores proposals: `judge` (`heuristic` or `model`) and the
    /// model judge's own `llm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scoring: Option<serde_json::Value>,
    /// Many machines (SPEC §15): the remote leases are taken on and `sync`
    /// pushes to, the lease's duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<serde_json::Value>,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// How a round's winner is chosen among its scored proposals. The scores
/// themselves stay blind either way; `efficiency` uses who proposed only
/// after scoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// By proposal score alone: SPEC §2.7 as written.
    #[default]
    Seed,
    /// By proposal score × the proposing bidder's efficiency (its success
    /// rate of SPEC §2.3, 0.5 untried), so a bidder whose proposals look
    /// better than they turn out stops winning on looks.
    Efficiency,
}

impl Selection {
    pub fn is_seed(&self) -> bool {
        *self == Selection::Seed
    }
}

/// How much each scoring dimension counts in a proposal's total (sum 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringWeights {
    pub spec_alignment: f64,
    pub technical_quality: f64,
    pub innovation: f64,
    pub risk: f64,
    pub efficiency: f64,
}

/// The bounds every bidder weight is kept within.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightConstraints {
    pub min: f64,
    pub max: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            num_bots: 3,
            base_budget_per_bot: 10,
            min_allocation_per_bot: 1,
            scoring_weights: ScoringWeights::default(),
            weight_constraints: WeightConstraints::default(),
            try_runner_up: false,
            selection: Selection::Seed,
            bidders_per_round: None,
            dynamic_bidders: false,
            protected_paths: Vec::new(),
            allow_protected: Vec::new(),
            bidders: None,
            specialists: None,
            checks: None,
            implementer: None,
            integrations: None,
            llm: None,
            metering: None,
            sandbox: None,
            simple: None,
            issues: None,
            scoring: None,
            team: None,
        }
    }
}

impl Default for ScoringWeights {
    fn default() -> Self {
        ScoringWeights {
            spec_alignment: 0.32,
            technical_quality: 0.22,
            innovation: 0.15,
            risk: 0.21,
            efficiency: 0.10,
        }
    }
}

impl Default for WeightConstraints {
    fn default() -> Self {
        WeightConstraints {
            min: 0.05,
            max: 0.60,
        }
    }
}

impl ScoringWeights {
    /// The five dimensions with their names, in the spec's order.
    pub fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("spec_alignment", self.spec_alignment),
            ("technical_quality", self.technical_quality),
            ("innovation", self.innovation),
            ("risk", self.risk),
            ("efficiency", self.efficiency),
        ]
    }
}

/// A config that cannot be used, naming the file and the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the marketplace config: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: field `{field}`: {message}", path.display())]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
}

impl ConfigError {
    /// The field at fault, when the problem is one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The largest config file read: far more than any real config.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The bytes of the config file at `path`: a regular file (a symlink to
/// one is followed) of at most [`MAX_CONFIG_BYTES`]; a FIFO or a device is
/// refused without being read.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ConfigError> {
    crate::store::read_regular(path, MAX_CONFIG_BYTES, crate::store::Follow::ToARegularFile)
        .map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            source: match error {
                crate::store::ReadError::Io(source) => source,
                other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
            },
        })
}

/// A field-level problem before the file name is attached.
#[derive(Debug, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Reads and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = read_bytes(path)?;
        Config::from_slice(&bytes).map_err(|error| error.at(path))
    }

    /// Parses and validates a config from JSON bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Config, ParseError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let config: Config =
            serde_path_to_error::deserialize(&mut deserializer).map_err(ParseError::from_json)?;
        deserializer
            .end()
            .map_err(|error| ParseError::Document(format!("invalid JSON: {error}")))?;
        config.validate().map_err(ParseError::Field)?;
        Ok(config)
    }

    /// The config as pretty JSON, the way `setup` writes it.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Checks the rules of SPEC §2.1.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.num_bots < 1 {
            return Err(FieldError::new("num_bots", "must be at least 1"));
        }
        if self.base_budget_per_bot < 1 {
            return Err(FieldError::new("base_budget_per_bot", "must be at least 1"));
        }
        self.validate_scoring_weights()?;
        self.validate_weight_constraints()?;
        if self.bidders_per_round == Some(0) {
            return Err(FieldError::new(
                "bidders_per_round",
                "must be at least 1 (leave it out for every bidder)",
            ));
        }
        let needed = self.min_allocation_per_bot.checked_mul(self.num_bots);
        if needed.is_none_or(|needed| needed > self.pool()) {
            return Err(FieldError::new(
                "min_allocation_per_bot",
                format!(
                    "{} per bot for {} bots exceeds the pool of {}",
                    self.min_allocation_per_bot,
                    self.num_bots,
                    self.pool()
                ),
            ));
        }
        Ok(())
    }

    fn validate_scoring_weights(&self) -> Result<(), FieldError> {
        let mut sum = 0.0;
        for (name, value) in self.scoring_weights.named() {
            if !(0.0..=1.0).contains(&value) {
                return Err(FieldError::new(
                    &format!("scoring_weights.{name}"),
                    format!("must be within [0, 1], got {value}"),
                ));
            }
            sum += value;
        }
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(FieldError::new(
                "scoring_weights",
                format!("must sum to 1, got {sum}"),
            ));
        }
        Ok(())
    }

    fn validate_weight_constraints(&self) -> Result<(), FieldError> {
        let WeightConstraints { min, max } = self.weight_constraints;
        if !(0.0..=1.0).contains(&min) {
            return Err(FieldError::new(
                "weight_constraints.min",
                format!("must be within [0, 1], got {min}"),
            ));
        }
        if !(0.0..=1.0).contains(&max) {
            return Err(FieldError::new(
                "weight_constraints.max",
                format!("must be within [0, 1], got {max}"),
            ));
        }
        let bots = self.num_bots as f64;
        if min * bots > 1.0 + BOUND_TOLERANCE {
            return Err(FieldError::new(
                "weight_constraints.min",
                format!(
                    "infeasible: min * num_bots = {min} * {} = {} exceeds 1",
                    self.num_bots,
                    min * bots
                ),
            ));
        }
        if max * bots < 1.0 - BOUND_TOLERANCE {
            return Err(FieldError::new(
                "weight_constraints.max",
                format!(
                    "infeasible: max * num_bots = {max} * {} = {} is below 1",
                    self.num_bots,
                    max * bots
                ),
            ));
        }
        Ok(())
    }

    /// The fixed iteration pool: `base_budget_per_bot * num_bots`.
    pub fn pool(&self) -> u64 {
        self.base_budget_per_bot.saturating_mul(self.num_bots)
    }

    /// The bidder ids, `bidder_1` … `bidder_N`.
    pub fn bot_ids(&self) -> Vec<String> {
        (1..=self.num_bots)
            .map(|index| format!("bidder_{index}"))
            .collect()
    }

    /// The position of bidder `id` in [`Config::bot_ids`], if it is one of them.
    pub fn bot_index(&self, id: &str) -> Option<usize> {
        let number = id.strip_prefix("bidder_")?;
        // `bidder_01` is not `bidder_1`.
        if number.starts_with('0') || !number.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let number: u64 = number.parse().ok()?;
        (1..=self.num_bots)
            .contains(&number)
            .then(|| usize::try_from(number - 1).ok())
            .flatten()
    }
}

/// Why bytes are not a valid config (the caller attaches the file name).
#[derive(Debug, PartialEq)]
pub enum ParseError {
    Field(FieldError),
    Document(String),
}

impl ParseError {
    /// Attaches the file the config came from.
    pub fn at(self, path: &Path) -> ConfigError {
        match self {
            ParseError::Field(FieldError { field, message }) => ConfigError::Invalid {
                path: path.to_owned(),
                field,
                message,
            },
            ParseError::Document(message) => ConfigError::Malformed {
                path: path.to_owned(),
                message,
            },
        }
    }

    fn from_json(error: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ParseError::Document(format!("invalid JSON: {inner}"));
        }
        let message = inner.to_string();
        // For an unknown key the path already ends in the key's own name.
        let field = if path == "." || path == "?" {
            "(top level)".to_owned()
        } else {
            path
        };
        ParseError::Field(FieldError { field, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_defaults_to_the_seeds_rule_and_names_its_field_when_wrong() {
        let config = Config::from_slice(b"{}").expect("defaults");
        assert_eq!(config.selection, Selection::Seed);
        assert!(
            !config.to_json().contains("selection"),
            "the default is not written"
        );
        let config = Config::from_slice(br#"{"selection": "efficiency"}"#).expect("efficiency");
        assert_eq!(config.selection, Selection::Efficiency);
        let error = Config::from_slice(br#"{"selection": "luck"}"#)
            .map(|_| ())
            .expect_err("an unknown selection")
            .at(Path::new(".ralph/config.json"));
        assert_eq!(error.field(), Some("selection"), "{error}");
    }

    fn field_error(json: &str) -> FieldError {
        match Config::from_slice(json.as_bytes()) {
            Err(ParseError::Field(error)) => error,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn the_defaults_are_the_spec_defaults() {
        let config = Config::default();
        assert_eq!(config.num_bots, 3);
        assert_eq!(config.pool(), 30);
        assert_eq!(config.bot_ids(), ["bidder_1", "bidder_2", "bidder_3"]);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn the_spec_example_is_a_complete_config() {
        let json = r#"{
          "num_bots": 3,
          "base_budget_per_bot": 10,
          "min_allocation_per_bot": 1,
          "scoring_weights": {"spec_alignment": 0.32, "technical_quality": 0.22,
                              "innovation": 0.15, "risk": 0.21, "efficiency": 0.10},
          "weight_constraints": {"min": 0.05, "max": 0.60}
        }"#;
        assert_eq!(
            Config::from_slice(json.as_bytes()).expect("valid"),
            Config::default()
        );
    }

    #[test]
    fn missing_keys_take_their_defaults() {
        let config = Config::from_slice(br#"{"num_bots": 5}"#).expect("valid");
        assert_eq!(config.num_bots, 5);
        assert_eq!(config.min_allocation_per_bot, 1);
        assert_eq!(config.pool(), 50);
    }

    #[test]
    fn the_written_config_reads_back_the_same() {
        let config = Config::default();
        assert_eq!(
            Config::from_slice(config.to_json().as_bytes()).expect("valid"),
            config
        );
    }

    #[test]
    fn the_integrations_section_is_kept_as_written() {
        let config = Config::from_slice(br#"{"integrations": {"aws": {"region": "eu-west-1"}}}"#)
            .expect("valid");
        assert_eq!(
            config.integrations,
            Some(serde_json::json!({"aws": {"region": "eu-west-1"}}))
        );
        assert!(config.to_json().contains("\"integrations\""));
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        assert_eq!(field_error(r#"{"num_bot": 3}"#).field, "num_bot");
        assert_eq!(
            field_error(r#"{"weight_constraints": {"min": 0.1, "max": 0.5, "mid": 1}}"#).field,
            "weight_constraints.mid"
        );
    }

    #[test]
    fn the_llm_section_is_kept_as_written_for_its_owner() {
        let config = Config::from_slice(br#"{"llm": {"provider": "openai", "anything": 1}}"#)
            .expect("typed by ralph-models, not here");
        assert_eq!(
            config.llm,
            Some(serde_json::json!({"provider": "openai", "anything": 1}))
        );
        assert_eq!(field_error(r#"{"llms": {}}"#).field, "llms");
    }

    #[test]
    fn scoring_weights_must_sum_to_one() {
        let error = field_error(
            r#"{"scoring_weights": {"spec_alignment": 0.30, "technical_quality": 0.22,
                "innovation": 0.15, "risk": 0.21, "efficiency": 0.10}}"#,
        );
        assert_eq!(error.field, "scoring_weights");
        assert!(error.message.contains("sum to 1"));
    }

    #[test]
    fn scoring_weights_must_be_the_five_dimensions() {
        let error = field_error(r#"{"scoring_weights": {"spec_alignment": 1.0}}"#);
        assert!(error.field.starts_with("scoring_weights"), "{error:?}");
        let error = field_error(
            r#"{"scoring_weights": {"spec_alignment": 0.32, "technical_quality": 0.22,
                "innovation": 0.15, "risk": 0.21, "efficiency": 0.10, "speed": 0}}"#,
        );
        assert_eq!(error.field, "scoring_weights.speed");
    }

    #[test]
    fn each_scoring_weight_lies_in_the_unit_interval() {
        let error = field_error(
            r#"{"scoring_weights": {"spec_alignment": 1.5, "technical_quality": -0.5,
                "innovation": 0, "risk": 0, "efficiency": 0}}"#,
        );
        assert_eq!(error.field, "scoring_weights.spec_alignment");
    }

    #[test]
    fn weight_bounds_must_be_feasible() {
        let error = field_error(r#"{"weight_constraints": {"min": 0.4, "max": 0.6}}"#);
        assert_eq!(error.field, "weight_constraints.min");
        let error = field_error(r#"{"weight_constraints": {"min": 0.05, "max": 0.3}}"#);
        assert_eq!(error.field, "weight_constraints.max");
        assert!(Config::from_slice(br#"{"weight_constraints": {"min": 0.3333333333333333, "max": 0.3333333333333333}}"#).is_ok());
    }

    #[test]
    fn counts_must_be_positive() {
        assert_eq!(field_error(r#"{"num_bots": 0}"#).field, "num_bots");
        assert_eq!(
            field_error(r#"{"base_budget_per_bot": 0}"#).field,
            "base_budget_per_bot"
        );
        assert_eq!(field_error(r#"{"num_bots": -1}"#).field, "num_bots");
        assert_eq!(field_error(r#"{"num_bots": "3"}"#).field, "num_bots");
    }

    #[test]
    fn the_minimum_allocation_must_fit_in_the_pool() {
        let error = field_error(r#"{"min_allocation_per_bot": 11}"#);
        assert_eq!(error.field, "min_allocation_per_bot");
        assert!(Config::from_slice(br#"{"min_allocation_per_bot": 10}"#).is_ok());
        assert!(Config::from_slice(br#"{"min_allocation_per_bot": 0}"#).is_ok());
    }

    #[test]
    fn malformed_json_is_a_document_error() {
        assert!(matches!(
            Config::from_slice(b"{\"num_bots\": "),
            Err(ParseError::Document(_))
        ));
    }

    #[test]
    fn load_names_the_file_and_the_field() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("config.json");
        std::fs::write(&path, r#"{"num_bots": 0}"#).expect("write");
        let error = Config::load(&path).expect_err("invalid");
        let message = error.to_string();
        assert!(message.contains("config.json"), "{message}");
        assert!(message.contains("num_bots"), "{message}");
        assert_eq!(error.field(), Some("num_bots"));
        let missing = Config::load(&directory.path().join("absent.json")).expect_err("missing");
        assert!(missing.to_string().contains("absent.json"));
    }

    #[test]
    fn bot_membership_follows_num_bots() {
        let config = Config::default();
        assert_eq!(config.bot_index("bidder_1"), Some(0));
        assert_eq!(config.bot_index("bidder_3"), Some(2));
        for unknown in [
            "bidder_4",
            "bidder_0",
            "bidder_01",
            "bidder_+1",
            "smart_bot_2",
            "bidder_",
        ] {
            assert_eq!(config.bot_index(unknown), None, "{unknown}");
        }
    }
}
