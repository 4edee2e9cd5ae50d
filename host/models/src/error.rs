//! Why a completion failed. No variant ever holds the API key.

use std::time::Duration;

use ralph_runtime::{ProviderError, TokenUsage};

/// A failed completion, naming the provider and the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The provider needs a key and none was configured.
    #[error("{provider} needs an API key: set {variable} or configure one")]
    MissingKey {
        provider: &'static str,
        variable: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("{provider} could not set up its HTTP client: {reason}")]
    Client {
        provider: &'static str,
        reason: String,
    },
    /// HTTP 401 or 403: the key is missing, wrong or not allowed this model.
    #[error("{provider} refused the API key (HTTP {status}) for model {model}; check the key")]
    Unauthorized {
        provider: &'static str,
        model: String,
        status: u16,
    },
    /// HTTP 404: the model is unknown or the base URL is wrong.
    #[error(
        "{provider} answered HTTP 404 for model {model} at {url}: unknown model or wrong base URL"
    )]
    NotFound {
        provider: &'static str,
        model: String,
        url: String,
    },
    /// Another HTTP status that retrying would not fix.
    #[error("{provider} answered HTTP {status} for model {model}: {excerpt}")]
    Status {
        provider: &'static str,
        model: String,
        status: u16,
        excerpt: String,
    },
    /// The request does not fit the model's context window (HTTP 400 or 413
    /// saying so): a configuration error, never worth a retry.
    #[error(
        "{provider} refused the request for model {model}: the prompt and max_tokens exceed the model's context window ({excerpt}); use a model with a larger context, lower max_tokens, or set implementer.context_tokens to the model's context"
    )]
    ContextExceeded {
        provider: &'static str,
        model: String,
        excerpt: String,
    },
    /// Every attempt failed transiently.
    #[error("{provider} failed {attempts} attempt(s) for model {model}; the last: {last}")]
    RetriesExhausted {
        provider: &'static str,
        model: String,
        attempts: u32,
        last: String,
    },
    /// The service kept answering 429 or 529 with `Retry-After` past the
    /// wait budget: it is over its usage limit, not broken.
    #[error(
        "{provider} is still over its usage limit for model {model} after waiting {waited_secs} s (it asks for another {retry_after_secs} s); try again later"
    )]
    UsageLimited {
        provider: &'static str,
        model: String,
        waited_secs: u64,
        retry_after_secs: u64,
    },
    /// The body was cut short or could not be read.
    #[error("{provider} sent a truncated or unreadable body for model {model}: {reason}")]
    Truncated {
        provider: &'static str,
        model: String,
        reason: String,
    },
    /// The body was not the JSON the protocol promises.
    #[error("{provider} sent a malformed response for model {model}: {reason}")]
    Malformed {
        provider: &'static str,
        model: String,
        reason: String,
    },
    /// The response was well formed but held no text; `usage` is what the
    /// answer says the call used.
    #[error("{provider} answered without any text for model {model}")]
    NoText {
        provider: &'static str,
        model: String,
        usage: TokenUsage,
    },
    /// The circuit breaker is open: the provider is considered down.
    #[error(
        "{provider} is considered down after {failures} consecutive failed calls for model {model}; not calling it until reset"
    )]
    CircuitOpen {
        provider: &'static str,
        model: String,
        failures: u32,
    },
}

impl From<ModelError> for ProviderError {
    fn from(error: ModelError) -> Self {
        match &error {
            // Answered, but unusably: the call was made and is metered.
            ModelError::NoText { usage, .. } => ProviderError::answered(error.to_string(), *usage),
            ModelError::Malformed { .. } => {
                ProviderError::answered(error.to_string(), TokenUsage::default())
            }
            _ => ProviderError::new(error.to_string()),
        }
    }
}

/// Whether an HTTP error body says the request exceeds the model's context
/// window, in the words OpenAI, Anthropic, llama.cpp, vLLM and Ollama use.
pub(crate) fn says_context_exceeded(body: &str) -> bool {
    let body = body.to_lowercase();
    [
        "context_length_exceeded",
        "maximum context length",
        "exceed_context_size",
        "exceeds the available context",
        "context window",
        "prompt is too long",
        "too many tokens",
        "max_model_len",
    ]
    .iter()
    .any(|marker| body.contains(marker))
}

/// Describes a transient failure for [`ModelError::RetriesExhausted`].
pub(crate) fn describe_timeout(after: Duration) -> String {
    format!("no complete answer within {} ms", after.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_overflows_are_recognised_in_each_servers_words() {
        for body in [
            r#"{"error":{"code":"context_length_exceeded","message":"This model's maximum context length is 4096 tokens"}}"#,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            r#"{"object":"error","message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens","type":"BadRequestError"}"#,
        ] {
            assert!(says_context_exceeded(body), "{body}");
        }
        assert!(!says_context_exceeded(
            r#"{"error":{"message":"invalid temperature"}}"#
        ));
    }
}
