//! The `integrations` section of `.ralph/config.json`, typed.
//!
//! Every key is optional with a default; an unknown key is an error naming
//! it, and every other problem names its field (`integrations.aws.region`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::http_get::AllowRule;
use crate::ratelimit::RateLimit;

/// Where Sentry is, unless configured.
pub const DEFAULT_SENTRY_URL: &str = "https://sentry.io";
/// Alpaca's paper-trading endpoint: the default.
pub const ALPACA_PAPER_URL: &str = "https://paper-api.alpaca.markets";
/// Alpaca's live-trading endpoint: only with `"live": true`.
pub const ALPACA_LIVE_URL: &str = "https://api.alpaca.markets";
/// The largest `http-get` body delivered, unless configured: 1 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;
/// How long one request may take, unless configured.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// The integrations' configuration.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrationsConfig {
    pub aws: AwsConfig,
    pub sentry: SentryConfig,
    pub alpaca: AlpacaConfig,
    pub http_get: HttpGetConfig,
    pub rate_limits: RateLimits,
    pub redact: RedactConfig,
    /// How long one request to an external service may take, in seconds.
    pub timeout_seconds: Option<u64>,
}

/// AWS: the region (else `AWS_REGION`, else `AWS_DEFAULT_REGION`) and an
/// endpoint that replaces every service's (for a local stand-in).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// Sentry: where it is and which project plugins read.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SentryConfig {
    pub base_url: String,
    pub organization: Option<String>,
    pub project: Option<String>,
}

impl Default for SentryConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_SENTRY_URL.to_owned(),
            organization: None,
            project: None,
        }
    }
}

/// Alpaca: paper trading unless `live`; `base_url` replaces either.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlpacaConfig {
    pub live: bool,
    pub base_url: Option<String>,
}

impl AlpacaConfig {
    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        match (&self.base_url, self.live) {
            (Some(base_url), _) => base_url,
            (None, true) => ALPACA_LIVE_URL,
            (None, false) => ALPACA_PAPER_URL,
        }
    }
}

/// `http-get`: the origins each plugin may read, and the body cap.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpGetConfig {
    /// Plugin name to its allowed origins, `https://host[:port]`, with `*.`
    /// standing for one or more leading labels.
    pub allow: BTreeMap<String, Vec<AllowRule>>,
    pub max_bytes: u64,
}

impl Default for HttpGetConfig {
    fn default() -> Self {
        Self {
            allow: BTreeMap::new(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// A rate limit per capability; a capability left out gets the default.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    pub aws: Option<RateLimit>,
    pub sentry: Option<RateLimit>,
    pub alpaca: Option<RateLimit>,
    #[serde(rename = "http-get")]
    pub http_get: Option<RateLimit>,
}

/// Values redacted from everything plugins see and the audit log keeps,
/// besides the credentials and the built-in patterns.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactConfig {
    pub account_numbers: Vec<String>,
}

/// A configuration problem, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

const SECTION: &str = "integrations";

impl IntegrationsConfig {
    /// Types the `integrations` section; a missing section is the defaults.
    pub fn from_value(section: Option<&serde_json::Value>) -> Result<Self, ConfigError> {
        let Some(section) = section else {
            return Ok(Self::default());
        };
        let config: Self = serde_path_to_error::deserialize(section).map_err(|error| {
            let path = error.path().to_string();
            let field = if path == "." || path == "?" {
                SECTION.to_owned()
            } else {
                format!("{SECTION}.{path}")
            };
            ConfigError::new(field, error.into_inner().to_string())
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(endpoint) = &self.aws.endpoint {
            check_url("integrations.aws.endpoint", endpoint)?;
        }
        if let Some(region) = &self.aws.region
            && !is_region(region)
        {
            return Err(ConfigError::new(
                "integrations.aws.region",
                format!("`{region}` is not a region name such as `us-east-1`"),
            ));
        }
        check_url("integrations.sentry.base_url", &self.sentry.base_url)?;
        if let Some(base_url) = &self.alpaca.base_url {
            check_url("integrations.alpaca.base_url", base_url)?;
        }
        if self.http_get.max_bytes == 0 {
            return Err(ConfigError::new(
                "integrations.http_get.max_bytes",
                "must be at least 1",
            ));
        }
        if self.timeout_seconds == Some(0) {
            return Err(ConfigError::new(
                "integrations.timeout_seconds",
                "must be at least 1",
            ));
        }
        let limits = [
            ("aws", &self.rate_limits.aws),
            ("sentry", &self.rate_limits.sentry),
            ("alpaca", &self.rate_limits.alpaca),
            ("http-get", &self.rate_limits.http_get),
        ];
        for (name, limit) in limits {
            if let Some(limit) = limit {
                limit.validate().map_err(|(field, message)| {
                    ConfigError::new(format!("integrations.rate_limits.{name}.{field}"), message)
                })?;
            }
        }
        Ok(())
    }

    /// How long one request may take.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS))
    }
}

/// An AWS region name: lower-case letters, digits and dashes.
fn is_region(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

fn check_url(field: &str, value: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|error| ConfigError::new(field, format!("`{value}` is not a URL: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(
            field,
            format!("`{value}` is not an http(s) URL with a host"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            field,
            "must not hold credentials; they come from the environment",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(value: serde_json::Value) -> ConfigError {
        IntegrationsConfig::from_value(Some(&value)).expect_err("invalid")
    }

    #[test]
    fn a_missing_section_is_the_defaults() {
        let config = IntegrationsConfig::from_value(None).expect("valid");
        assert_eq!(config, IntegrationsConfig::default());
        assert_eq!(config.sentry.base_url, DEFAULT_SENTRY_URL);
        assert_eq!(config.http_get.max_bytes, DEFAULT_MAX_BYTES);
        assert_eq!(config.timeout().as_secs(), DEFAULT_TIMEOUT_SECONDS);
    }

    #[test]
    fn the_documented_example_is_valid() {
        let value = json!({
            "aws": {"region": "us-east-1", "endpoint": null},
            "sentry": {"base_url": "https://sentry.io", "organization": "acme", "project": "web"},
            "alpaca": {"live": false, "base_url": null},
            "http_get": {"allow": {"status-reader": ["https://api.example.com", "https://*.example.org:8443"]},
                         "max_bytes": 1048576},
            "rate_limits": {"aws": {"per_second": 5, "burst": 10}, "http-get": {"per_second": 1, "burst": 2}},
            "redact": {"account_numbers": ["PA1234567"]},
            "timeout_seconds": 10
        });
        let config = IntegrationsConfig::from_value(Some(&value)).expect("valid");
        assert_eq!(config.sentry.organization.as_deref(), Some("acme"));
        assert_eq!(config.http_get.allow["status-reader"].len(), 2);
        assert_eq!(config.rate_limits.aws.expect("set").burst, 10);
        assert_eq!(config.redact.account_numbers, ["PA1234567"]);
        assert_eq!(config.timeout().as_secs(), 10);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        assert_eq!(
            error(json!({"aws": {"regoin": "x"}})).field,
            "integrations.aws.regoin"
        );
        assert_eq!(error(json!({"slack": {}})).field, "integrations.slack");
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let problem = error(json!({"alpaca": {"live": "yes"}}));
        assert_eq!(problem.field, "integrations.alpaca.live");
        assert!(problem.to_string().contains("integrations.alpaca.live"));
    }

    #[test]
    fn a_bad_allow_rule_names_the_plugin_and_position() {
        let problem =
            error(json!({"http_get": {"allow": {"reader": ["https://ok.example", "ftp://x"]}}}));
        assert_eq!(problem.field, "integrations.http_get.allow.reader[1]");
    }

    #[test]
    fn urls_must_be_http_without_credentials() {
        assert_eq!(
            error(json!({"sentry": {"base_url": "not a url"}})).field,
            "integrations.sentry.base_url"
        );
        assert_eq!(
            error(json!({"aws": {"endpoint": "ftp://localhost"}})).field,
            "integrations.aws.endpoint"
        );
        assert_eq!(
            error(json!({"alpaca": {"base_url": "https://key:secret@example.com"}})).field,
            "integrations.alpaca.base_url"
        );
    }

    #[test]
    fn numbers_out_of_range_name_their_field() {
        assert_eq!(
            error(json!({"http_get": {"max_bytes": 0}})).field,
            "integrations.http_get.max_bytes"
        );
        assert_eq!(
            error(json!({"timeout_seconds": 0})).field,
            "integrations.timeout_seconds"
        );
        assert_eq!(
            error(json!({"rate_limits": {"sentry": {"per_second": 0, "burst": 1}}})).field,
            "integrations.rate_limits.sentry.per_second"
        );
        assert_eq!(
            error(json!({"aws": {"region": "US East"}})).field,
            "integrations.aws.region"
        );
    }

    #[test]
    fn alpaca_is_paper_unless_live_and_base_url_overrides_both() {
        let mut alpaca = AlpacaConfig::default();
        assert_eq!(alpaca.endpoint(), ALPACA_PAPER_URL);
        alpaca.live = true;
        assert_eq!(alpaca.endpoint(), ALPACA_LIVE_URL);
        alpaca.base_url = Some("http://127.0.0.1:9".to_owned());
        assert_eq!(alpaca.endpoint(), "http://127.0.0.1:9");
    }
}
