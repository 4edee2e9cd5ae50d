//! The shared HTTP transport: one client with the provider's headers, the
//! retry loop and the circuit breaker.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Client, StatusCode};

use crate::breaker::Breaker;
use crate::config::{ApiKey, ProviderConfig};
use crate::error::{ModelError, describe_timeout};
use crate::retry::{backoff, is_transient_status, jitter_from_clock, parse_retry_after};

/// At most this many usage-limit waits per call go uncounted as attempts.
const USAGE_LIMIT_WAITS: u32 = 16;

/// How much of an error body is kept in an error message.
const EXCERPT_CHARACTERS: usize = 300;

/// A header the provider sends with every request.
pub(crate) struct Header {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    /// Marks a credential: never logged, never shown.
    pub(crate) sensitive: bool,
}

/// How one attempt ended, when it did not succeed.
enum AttemptFailure {
    /// Worth another attempt, after `retry_after` when the service said so.
    Transient {
        description: String,
        retry_after: Option<Duration>,
        /// HTTP 429 or 529: the service is over its usage or rate limit.
        usage_limit: bool,
    },
    /// Another attempt would fail the same way.
    Final(ModelError),
}

/// How long a [`Transport::probe`] may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Transport {
    provider: &'static str,
    config: ProviderConfig,
    client: Client,
    breaker: Breaker,
    /// Usage-limit waits started since the last reset.
    usage_limit_waits: AtomicU32,
}

impl Transport {
    pub(crate) fn new(
        provider: &'static str,
        config: ProviderConfig,
        headers: Vec<Header>,
    ) -> Result<Self, ModelError> {
        let client_error = |reason: String| ModelError::Client { provider, reason };
        let mut default_headers = HeaderMap::new();
        for header in headers {
            let mut value = HeaderValue::from_str(&header.value).map_err(|_| {
                client_error(format!(
                    "the value of header {} is not a valid header value",
                    header.name
                ))
            })?;
            value.set_sensitive(header.sensitive);
            default_headers.insert(HeaderName::from_static(header.name), value);
        }
        let client = Client::builder()
            .default_headers(default_headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .build()
            .map_err(|error| client_error(error.to_string()))?;
        let breaker = Breaker::new(config.breaker_threshold);
        Ok(Self {
            provider,
            config,
            client,
            breaker,
            usage_limit_waits: AtomicU32::new(0),
        })
    }

    pub(crate) fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Closes the circuit breaker for a new round, and forgets the
    /// usage-limit waits.
    pub(crate) fn reset(&self) {
        self.breaker.reset();
        self.usage_limit_waits.store(0, Ordering::Release);
    }

    /// Whether a call waited for a usage limit since the last reset.
    pub(crate) fn waited_for_usage_limit(&self) -> bool {
        self.usage_limit_waits.load(Ordering::Acquire) > 0
    }

    pub(crate) fn is_down(&self) -> bool {
        self.breaker.is_open()
    }

    /// Runs one whole call (retries and parsing included) behind the
    /// circuit breaker: fails fast while it is open, and counts the result.
    pub(crate) async fn guarded<T>(
        &self,
        call: impl Future<Output = Result<T, ModelError>>,
    ) -> Result<T, ModelError> {
        if let Err(failures) = self.breaker.check() {
            return Err(ModelError::CircuitOpen {
                provider: self.provider,
                model: self.config.model.clone(),
                failures,
            });
        }
        let result = call.await;
        match &result {
            Ok(_) => self.breaker.record_success(),
            Err(error) => {
                let failures = self.breaker.record_failure();
                tracing::warn!(
                    provider = self.provider,
                    model = %self.config.model,
                    consecutive_failures = failures,
                    %error,
                    "A model call failed"
                );
            }
        }
        result
    }

    /// Posts `body` to `url`, retrying transient failures, and returns the
    /// body of the first successful answer.
    ///
    /// A 429 or 529 with `Retry-After` is a usage limit: waiting for it is
    /// not a failed attempt, so it does not use up `max_attempts` (at most
    /// [`USAGE_LIMIT_WAITS`] such waits go uncounted); the waits still
    /// count towards `max_total_wait`, and a call whose last answer was
    /// still a usage limit ends with [`ModelError::UsageLimited`].
    /// Sends `body` with the configured temperature added to `path` under
    /// the base URL, and reads the answer as `R`; an answer of another
    /// shape is [`ModelError::Malformed`].
    pub(crate) async fn exchange<R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        mut body: serde_json::Value,
    ) -> Result<R, ModelError> {
        if let Some(temperature) = self.config.temperature {
            body["temperature"] = serde_json::json!(crate::config::decimal(temperature));
        }
        let bytes = self.post(&self.config.endpoint(path), &body).await?;
        serde_json::from_slice(&bytes).map_err(|error| ModelError::Malformed {
            provider: self.provider,
            model: self.config.model.clone(),
            reason: error.to_string(),
        })
    }

    /// GETs `url` once (no retries, at most [`PROBE_TIMEOUT`]) and reads
    /// it as JSON; `None` for any failure. For what a server may say about
    /// itself; never a model call.
    pub(crate) async fn probe(&self, url: &str) -> Option<serde_json::Value> {
        let response = self
            .client
            .get(url)
            .timeout(PROBE_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let bytes = response.bytes().await.ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The error for an answer that holds no text, having used `usage`.
    pub(crate) fn no_text(&self, usage: ralph_runtime::TokenUsage) -> ModelError {
        ModelError::NoText {
            provider: self.provider,
            model: self.config.model.clone(),
            usage,
        }
    }

    pub(crate) async fn post(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Vec<u8>, ModelError> {
        let policy = &self.config.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut waited = Duration::ZERO;
        let mut attempts = 0;
        let mut usage_waits = 0;
        let mut last = String::new();
        // The `Retry-After` of the last failure, when it was a usage limit.
        let mut limited_for = None;
        while attempts < max_attempts {
            match self.attempt(url, body).await {
                Ok(bytes) => return Ok(bytes),
                Err(AttemptFailure::Final(error)) => return Err(error),
                Err(AttemptFailure::Transient {
                    description,
                    retry_after,
                    usage_limit,
                }) => {
                    last = description;
                    limited_for = retry_after.filter(|_| usage_limit);
                    let counts =
                        !(usage_limit && retry_after.is_some()) || usage_waits >= USAGE_LIMIT_WAITS;
                    if counts {
                        attempts += 1;
                    } else {
                        usage_waits += 1;
                    }
                    if attempts == max_attempts {
                        break;
                    }
                    let wait = retry_after
                        .unwrap_or_else(|| backoff(policy, attempts.max(1), jitter_from_clock()));
                    if waited.saturating_add(wait) > policy.max_total_wait {
                        tracing::warn!(
                            provider = self.provider,
                            wait_ms = wait.as_millis(),
                            "Not retrying: the wait would exceed the retry budget"
                        );
                        break;
                    }
                    tracing::info!(
                        provider = self.provider,
                        model = %self.config.model,
                        attempt = attempts,
                        wait_ms = wait.as_millis(),
                        failure = %last,
                        "Retrying a model call"
                    );
                    if limited_for.is_some() {
                        self.usage_limit_waits.fetch_add(1, Ordering::AcqRel);
                    }
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
            }
        }
        if let Some(retry_after) = limited_for {
            return Err(ModelError::UsageLimited {
                provider: self.provider,
                model: self.config.model.clone(),
                waited_secs: waited.as_secs(),
                retry_after_secs: retry_after.as_secs(),
            });
        }
        Err(ModelError::RetriesExhausted {
            provider: self.provider,
            model: self.config.model.clone(),
            attempts,
            last,
        })
    }

    async fn attempt(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Vec<u8>, AttemptFailure> {
        let response = self
            .client
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|error| AttemptFailure::Transient {
                description: self.describe_transport_error(&error),
                retry_after: None,
                usage_limit: false,
            })?;
        let status = response.status();
        if status.is_success() {
            return match response.bytes().await {
                Ok(bytes) => Ok(bytes.to_vec()),
                Err(error) if error.is_timeout() => Err(AttemptFailure::Transient {
                    description: describe_timeout(self.config.total_timeout),
                    retry_after: None,
                    usage_limit: false,
                }),
                Err(error) => Err(AttemptFailure::Final(ModelError::Truncated {
                    provider: self.provider,
                    model: self.config.model.clone(),
                    reason: self.describe_transport_error(&error),
                })),
            };
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let model = self.config.model.clone();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(AttemptFailure::Final(ModelError::Unauthorized {
                    provider: self.provider,
                    model,
                    status: status.as_u16(),
                }))
            }
            StatusCode::NOT_FOUND => Err(AttemptFailure::Final(ModelError::NotFound {
                provider: self.provider,
                model,
                url: url.to_owned(),
            })),
            _ => {
                // The body only helps the message; a failure to read it
                // leaves the excerpt empty.
                let text = response.text().await.unwrap_or_default();
                let excerpt = self.excerpt(&text);
                if matches!(status.as_u16(), 400 | 413)
                    && crate::error::says_context_exceeded(&text)
                {
                    return Err(AttemptFailure::Final(ModelError::ContextExceeded {
                        provider: self.provider,
                        model,
                        excerpt,
                    }));
                }
                if is_transient_status(status.as_u16()) {
                    Err(AttemptFailure::Transient {
                        description: format!("HTTP {}: {excerpt}", status.as_u16()),
                        retry_after,
                        usage_limit: matches!(status.as_u16(), 429 | 529),
                    })
                } else {
                    Err(AttemptFailure::Final(ModelError::Status {
                        provider: self.provider,
                        model,
                        status: status.as_u16(),
                        excerpt,
                    }))
                }
            }
        }
    }

    fn describe_transport_error(&self, error: &reqwest::Error) -> String {
        if error.is_connect() && error.is_timeout() {
            format!(
                "could not connect within {} ms",
                self.config.connect_timeout.as_millis()
            )
        } else if error.is_timeout() {
            describe_timeout(self.config.total_timeout)
        } else if error.is_connect() {
            format!("could not connect: {}", describe_chain(error))
        } else {
            describe_chain(error)
        }
    }

    /// The start of an error body, on one line, with the key scrubbed in
    /// case the service echoed it.
    fn excerpt(&self, text: &str) -> String {
        let scrubbed = match self.config.api_key.as_ref().map(ApiKey::expose) {
            Some(key) if !key.is_empty() => text.replace(key, "<redacted>"),
            _ => text.to_owned(),
        };
        let excerpt: String = scrubbed
            .chars()
            .take(EXCERPT_CHARACTERS)
            .map(|character| {
                if character.is_control() {
                    ' '
                } else {
                    character
                }
            })
            .collect();
        excerpt.trim().to_owned()
    }
}

/// An error and its causes on one line; reqwest's own message names only
/// the URL, the cause says what went wrong.
fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut description = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        description.push_str(": ");
        description.push_str(&cause.to_string());
        source = cause.source();
    }
    description
}

/// What every HTTP provider shares, around its own `complete_request` and a
/// `transport` field: the circuit-breaker controls and the `ModelProvider`
/// implementation (a macro, since `ModelProvider` is another crate's trait
/// and cannot be implemented for all providers at once).
macro_rules! http_provider {
    ($provider:ty) => {
        impl $provider {
            /// Whether the circuit breaker is open: calls fail fast until
            /// [`reset`](Self::reset).
            pub fn is_down(&self) -> bool {
                self.transport.is_down()
            }

            /// Closes the circuit breaker, for a new round.
            pub fn reset(&self) {
                self.transport.reset();
            }

            /// Whether a call waited for the service's usage limit
            /// (HTTP 429 or 529 with `Retry-After`) since the last reset.
            pub fn waited_for_usage_limit(&self) -> bool {
                self.transport.waited_for_usage_limit()
            }
        }

        impl ralph_runtime::ModelProvider for $provider {
            fn complete<'a>(
                &'a self,
                caller: &'a str,
                request: ralph_runtime::CompletionRequest,
            ) -> futures::future::BoxFuture<
                'a,
                Result<ralph_runtime::Completion, ralph_runtime::ProviderError>,
            > {
                Box::pin(async move {
                    tracing::debug!(plugin = caller, provider = PROVIDER, "Completing a prompt");
                    Ok(self.complete_request(&request).await?)
                })
            }
        }
    };
}

pub(crate) use http_provider;
