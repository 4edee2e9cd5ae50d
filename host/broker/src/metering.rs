//! Metering: what model calls cost, and how many tokens a bidder may use in
//! a round. The `metering` section of `.ralph/config.json`:
//!
//! ```json
//! "metering": {
//!   "model": "claude-sonnet-4-5",
//!   "prices": {
//!     "claude-sonnet-4-5": {"input_per_million": 3.0, "output_per_million": 15.0},
//!     "*": {"input_per_million": 1.0, "output_per_million": 5.0}
//!   },
//!   "round_token_cap": 200000
//! }
//! ```
//!
//! `model` names the model the plugins' `complete` calls and the `model`
//! implementer are answered by, for pricing, else the top-level `llm.model`
//! does. A bidder whose own `llm` section names another model is priced by
//! that model, and so is the `model` implementer with its own; the
//! specialists' reviews and the check plugins of a round are summed and
//! priced as the top-level model. A model is priced by its own
//! entry, else by `*`; without either its cost is unknown (left out), never
//! guessed. `round_token_cap` is every bidder's token cap per round unless
//! its entry sets `max_tokens_per_round`. The pricing is pure, over plain
//! numbers.

use std::collections::BTreeMap;
use std::path::Path;

use ralph_marketplace::{Config, ConfigError};
use ralph_runtime::ModelUsage;
use serde::{Deserialize, Serialize};

/// The key that prices every model without an entry of its own.
pub const ANY_MODEL: &str = "*";

/// The `metering` section, typed and validated.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metering {
    /// The model name used for pricing until the provider config names it.
    #[serde(default)]
    pub model: Option<String>,
    /// Prices by model name, or [`ANY_MODEL`].
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
    /// Every bidder's token cap per round, unless its entry overrides it.
    #[serde(default)]
    pub round_token_cap: Option<u64>,
}

/// What a model charges, in US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

impl Price {
    /// The cost in US dollars of `input` and `output` tokens.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        // Token counts stay far below 2^53, so the conversion is exact.
        (input as f64 * self.input_per_million + output as f64 * self.output_per_million)
            / 1_000_000.0
    }
}

/// Model usage as the loop records it in an event's `usage` or
/// `implementation_usage`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct UsageRecord {
    /// Completions (or, for a coding agent, its turns).
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The cost in US dollars, when a price or the agent says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl Metering {
    /// The `metering` section of `config` (read from `path`, for messages);
    /// the default when it is left out. Errors name the field.
    pub fn from_config(config: &Config, path: &Path) -> Result<Metering, ConfigError> {
        let Some(section) = &config.metering else {
            return Ok(Metering::default());
        };
        let invalid = |field: String, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        let metering: Metering = serde_path_to_error::deserialize(section).map_err(|error| {
            let inner = error.path().to_string();
            let field = if inner == "." || inner == "?" {
                "metering".to_owned()
            } else {
                format!("metering.{inner}")
            };
            invalid(field, error.into_inner().to_string())
        })?;
        metering
            .validate()
            .map_err(|(field, message)| invalid(field, message))?;
        Ok(metering)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        for (model, price) in &self.prices {
            for (name, value) in [
                ("input_per_million", price.input_per_million),
                ("output_per_million", price.output_per_million),
            ] {
                if !value.is_finite() || value < 0.0 {
                    return Err((
                        format!("metering.prices.{model}.{name}"),
                        format!("must be a finite price of at least 0, got {value}"),
                    ));
                }
            }
        }
        if self
            .model
            .as_deref()
            .is_some_and(|model| model.trim().is_empty())
        {
            return Err(("metering.model".into(), "must name a model".into()));
        }
        Ok(())
    }

    /// The price of `model`: its own entry, else [`ANY_MODEL`]'s.
    pub fn price_of(&self, model: &str) -> Option<&Price> {
        self.prices
            .get(model)
            .or_else(|| self.prices.get(ANY_MODEL))
    }

    /// The cost of `usage` on `model`; `None` when the model is unknown or
    /// has no price.
    pub fn cost(&self, model: Option<&str>, usage: &ModelUsage) -> Option<f64> {
        let price = match model {
            Some(model) => self.price_of(model)?,
            None => self.prices.get(ANY_MODEL)?,
        };
        Some(price.cost(usage.input_tokens, usage.output_tokens))
    }

    /// `usage` on `model` as the loop records it.
    pub fn record(&self, model: Option<&str>, usage: &ModelUsage) -> UsageRecord {
        UsageRecord {
            calls: u64::from(usage.calls),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cost_usd: self.cost(model, usage),
        }
    }

    /// A bidder's token cap per round: its own, else the default.
    pub fn cap_for(&self, own: Option<u64>) -> Option<u64> {
        own.or(self.round_token_cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn metering(json: &str) -> Result<Metering, ConfigError> {
        let config = Config::from_slice(format!(r#"{{"metering": {json}}}"#).as_bytes())
            .expect("marketplace config");
        Metering::from_config(&config, Path::new(".ralph/config.json"))
    }

    fn field_of(json: &str) -> String {
        match metering(json) {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn usage(input: u64, output: u64) -> ModelUsage {
        ModelUsage {
            calls: 1,
            input_tokens: input,
            output_tokens: output,
        }
    }

    #[test]
    fn a_model_is_priced_by_its_own_entry_before_the_wildcard() {
        let metering = metering(
            r#"{"prices": {"big": {"input_per_million": 3.0, "output_per_million": 15.0},
                           "*": {"input_per_million": 1.0, "output_per_million": 2.0}}}"#,
        )
        .expect("valid");
        assert_eq!(metering.cost(Some("big"), &usage(1_000_000, 0)), Some(3.0));
        assert_eq!(metering.cost(Some("big"), &usage(0, 2_000_000)), Some(30.0));
        assert_eq!(
            metering.cost(Some("small"), &usage(500_000, 500_000)),
            Some(1.5)
        );
        assert_eq!(metering.cost(None, &usage(1_000_000, 0)), Some(1.0));
    }

    #[test]
    fn an_unpriced_model_has_no_cost() {
        let metering = metering(
            r#"{"prices": {"big": {"input_per_million": 3.0, "output_per_million": 15.0}}}"#,
        )
        .expect("valid");
        assert_eq!(metering.cost(Some("other"), &usage(10, 10)), None);
        assert_eq!(metering.cost(None, &usage(10, 10)), None);
        assert_eq!(metering.record(Some("other"), &usage(10, 4)).cost_usd, None);
        assert_eq!(Metering::default().cost(Some("big"), &usage(1, 1)), None);
    }

    #[test]
    fn the_round_cap_defaults_to_the_section_and_an_entry_overrides_it() {
        let metering = metering(r#"{"round_token_cap": 200000}"#).expect("valid");
        assert_eq!(metering.cap_for(None), Some(200_000));
        assert_eq!(metering.cap_for(Some(5)), Some(5));
        assert_eq!(Metering::default().cap_for(None), None);
    }

    #[test]
    fn bad_metering_names_the_field() {
        assert_eq!(field_of(r#"{"colour": 1}"#), "metering.colour");
        assert_eq!(
            field_of(r#"{"round_token_cap": -1}"#),
            "metering.round_token_cap"
        );
        assert_eq!(
            field_of(r#"{"prices": {"m": {"input_per_million": 1.0}}}"#),
            "metering.prices.m"
        );
        assert_eq!(
            field_of(
                r#"{"prices": {"m": {"input_per_million": -1.0, "output_per_million": 1.0}}}"#
            ),
            "metering.prices.m.input_per_million"
        );
        assert_eq!(
            field_of(
                r#"{"prices": {"m": {"input_per_million": 1.0, "output_per_million": 1.0, "cached": 0.1}}}"#
            ),
            "metering.prices.m.cached"
        );
        assert_eq!(field_of(r#"{"model": " "}"#), "metering.model");
        assert_eq!(field_of(r#""cheap""#), "metering");
    }

    #[test]
    fn a_record_carries_calls_tokens_and_cost() {
        let metering = metering(
            r#"{"model": "m", "prices": {"m": {"input_per_million": 2.0, "output_per_million": 4.0}}}"#,
        )
        .expect("valid");
        let record = metering.record(metering.model.as_deref(), &usage(250_000, 500_000));
        assert_eq!(
            serde_json::to_value(record).expect("json"),
            serde_json::json!({"calls": 1, "input_tokens": 250000, "output_tokens": 500000,
                               "cost_usd": 2.5})
        );
    }

    proptest! {
        #[test]
        fn cost_is_finite_non_negative_and_adds_up(
            input_price in 0.0f64..1000.0,
            output_price in 0.0f64..1000.0,
            first in (0u64..10_000_000, 0u64..10_000_000),
            second in (0u64..10_000_000, 0u64..10_000_000),
        ) {
            let price = Price { input_per_million: input_price, output_per_million: output_price };
            let whole = price.cost(first.0 + second.0, first.1 + second.1);
            let parts = price.cost(first.0, first.1) + price.cost(second.0, second.1);
            prop_assert!(whole.is_finite() && whole >= 0.0);
            prop_assert!((whole - parts).abs() <= 1e-9 * whole.max(1.0));
        }

        #[test]
        fn more_tokens_never_cost_less(
            input_price in 0.0f64..1000.0,
            output_price in 0.0f64..1000.0,
            input in 0u64..10_000_000,
            output in 0u64..10_000_000,
            extra in 0u64..1_000_000,
        ) {
            let price = Price { input_per_million: input_price, output_per_million: output_price };
            prop_assert!(price.cost(input + extra, output) >= price.cost(input, output));
            prop_assert!(price.cost(input, output + extra) >= price.cost(input, output));
        }
    }
}
