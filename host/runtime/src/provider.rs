//! Model providers behind the `complete` host import.
//!
//! Real providers come later; [`DeterministicProvider`] answers the same
//! request with the same text every time, for tests and benchmarks.

use std::time::Duration;

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use crate::types::{Completion, CompletionRequest, TokenUsage};

/// A failure of the model provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the model provider failed: {message}")]
pub struct ProviderError {
    pub message: String,
    /// Set when the provider answered but the answer could not be used (no
    /// text, a body that is not the protocol's): the call was made, and
    /// this is what it used (zero when the answer did not say), so it is
    /// metered like an answered call.
    pub answered: Option<TokenUsage>,
}

impl ProviderError {
    /// A call that got no answer (or was never sent).
    pub fn new(message: impl Into<String>) -> ProviderError {
        ProviderError {
            message: message.into(),
            answered: None,
        }
    }

    /// A call that was answered unusably, having used `usage`.
    pub fn answered(message: impl Into<String>, usage: TokenUsage) -> ProviderError {
        ProviderError {
            message: message.into(),
            answered: Some(usage),
        }
    }
}

/// Which plugin asks for a completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelCaller<'a> {
    /// The config entry that loaded it, which completions are routed by;
    /// `None` for a plugin loaded without one.
    pub id: Option<&'a str>,
    /// The name its metadata reports: what replays and recordings are
    /// keyed by.
    pub name: &'a str,
}

/// Something that completes prompts for plugins.
pub trait ModelProvider: Send + Sync + 'static {
    /// Completes `request` on behalf of the plugin named `caller` (its
    /// display name).
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;

    /// Completes `request` on behalf of `caller`; the runtime calls this.
    /// A provider that routes by plugin (the broker's router) picks by the
    /// caller's id; by default this is [`complete`](Self::complete) with
    /// the display name.
    fn complete_for<'a>(
        &'a self,
        caller: ModelCaller<'a>,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        self.complete(caller.name, request)
    }
}

/// A provider that answers deterministically, optionally after a delay.
#[derive(Debug, Clone, Default)]
pub struct DeterministicProvider {
    delay: Duration,
    reply: Option<String>,
}

impl DeterministicProvider {
    /// A provider that answers at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits `delay` before every answer, as a slow model would.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Always answers with `reply`.
    pub fn with_reply(mut self, reply: impl Into<String>) -> Self {
        self.reply = Some(reply.into());
        self
    }

    fn answer(&self, request: &CompletionRequest) -> Completion {
        let text = match &self.reply {
            Some(reply) => reply.clone(),
            None => {
                let mut hasher = Sha256::new();
                hasher.update(request.system.as_deref().unwrap_or_default());
                hasher.update([0]);
                hasher.update(&request.prompt);
                let digest = hasher.finalize();
                let fingerprint: String = digest[..4]
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect();
                format!("Deterministic answer {fingerprint}")
            }
        };
        let count = |text: &str| u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX);
        let input =
            count(&request.prompt).saturating_add(request.system.as_deref().map_or(0, count));
        let output = count(&text).min(request.max_tokens);
        Completion {
            text,
            usage: TokenUsage {
                input_tokens: input,
                output_tokens: output,
            },
        }
    }
}

impl ModelProvider for DeterministicProvider {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            tracing::debug!(plugin = caller, "Completing a prompt deterministically");
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            Ok(self.answer(&request))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(prompt: &str) -> CompletionRequest {
        CompletionRequest {
            system: Some("You are terse".to_owned()),
            prompt: prompt.to_owned(),
            max_tokens: 100,
        }
    }

    #[tokio::test]
    async fn the_same_request_gets_the_same_answer() -> Result<(), ProviderError> {
        let provider = DeterministicProvider::new();
        let first = provider.complete("p", request("plan the change")).await?;
        let second = provider.complete("p", request("plan the change")).await?;
        let other = provider.complete("p", request("something else")).await?;
        assert_eq!(first, second);
        assert_ne!(first.text, other.text);
        assert_eq!(first.usage.input_tokens, 6);
        Ok(())
    }

    #[tokio::test]
    async fn a_scripted_reply_is_returned() -> Result<(), ProviderError> {
        let provider = DeterministicProvider::new().with_reply("fixed");
        assert_eq!(provider.complete("p", request("x")).await?.text, "fixed");
        Ok(())
    }
}
