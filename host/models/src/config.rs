//! What a provider is configured with: where, which model, which key, and
//! how patient to be.

use std::fmt;
use std::time::Duration;

/// An API key. Its `Debug` form never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key given explicitly.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Reads the key from the environment variable `name`; `None` when it
    /// is unset or blank.
    pub fn from_environment(name: &str) -> Option<Self> {
        std::env::var(name)
            .ok()
            .filter(|key| !key.trim().is_empty())
            .map(Self)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ApiKey(<redacted>)")
    }
}

/// How often and how long to retry a call that failed transiently (HTTP
/// 429, 500, 502, 503, 504, 529, a refused connection or a timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included; at least one is always made.
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles for every further one.
    pub initial_backoff: Duration,
    /// No single backoff waits longer than this.
    pub max_backoff: Duration,
    /// The waits of one call never add up to more than this; a `Retry-After`
    /// that would go past it ends the retries at once.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_total_wait: Duration::from_secs(60),
        }
    }
}

/// Everything one provider needs.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The model name sent with every request.
    pub model: String,
    /// The service root, without a trailing path: see each provider for the
    /// path it appends.
    pub base_url: String,
    /// The key; `None` sends none (fine for local OpenAI-compatible servers).
    pub api_key: Option<ApiKey>,
    /// The sampling temperature; `None` leaves the service's default.
    pub temperature: Option<f32>,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long one attempt may take, from connecting to the last byte of
    /// the body.
    pub total_timeout: Duration,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// After this many consecutive failed calls the provider fails fast
    /// until it is reset; zero never opens the breaker.
    pub breaker_threshold: u32,
}

impl ProviderConfig {
    /// Anthropic's public API with the key from `ANTHROPIC_API_KEY`.
    pub fn anthropic(model: impl Into<String>) -> Self {
        Self::with_defaults(
            model,
            "https://api.anthropic.com",
            ApiKey::from_environment("ANTHROPIC_API_KEY"),
        )
    }

    /// OpenAI's public API with the key from `OPENAI_API_KEY`, if set.
    pub fn openai(model: impl Into<String>) -> Self {
        Self::with_defaults(
            model,
            "https://api.openai.com/v1",
            ApiKey::from_environment("OPENAI_API_KEY"),
        )
    }

    /// A local OpenAI-compatible server at `base_url` (for example
    /// `http://127.0.0.1:11434/v1` for Ollama), without a key.
    pub fn local(model: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self::with_defaults(model, base_url, None)
    }

    fn with_defaults(
        model: impl Into<String>,
        base_url: impl Into<String>,
        api_key: Option<ApiKey>,
    ) -> Self {
        Self {
            model: model.into(),
            base_url: base_url.into(),
            api_key,
            temperature: None,
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            breaker_threshold: 5,
        }
    }

    /// The same configuration with another service root.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The same configuration with an explicit key, or none.
    pub fn with_api_key(mut self, api_key: Option<ApiKey>) -> Self {
        self.api_key = api_key;
        self
    }

    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }
}

/// `value` as the decimal it was written as: `0.2_f32` is sent as `0.2`,
/// not as `0.20000000298023224`.
pub(crate) fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temperature_is_sent_as_written() {
        assert_eq!(decimal(0.2), 0.2);
        assert_eq!(decimal(1.0), 1.0);
    }

    #[test]
    fn the_debug_form_hides_the_key() {
        let config = ProviderConfig::local("m", "http://127.0.0.1:1")
            .with_api_key(Some(ApiKey::new("sk-secret-value")));
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-secret-value"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn the_endpoint_joins_without_a_double_slash() {
        let config = ProviderConfig::local("m", "http://127.0.0.1:1/v1/");
        assert_eq!(
            config.endpoint("/chat/completions"),
            "http://127.0.0.1:1/v1/chat/completions"
        );
    }
}
