//! [`RedactingProvider`]: completions and provider errors with every secret
//! the host knows redacted, before a plugin, the implementer or a
//! recording sees them.

use std::sync::Arc;

use futures::future::BoxFuture;
use ralph_runtime::provider::ModelCaller;
use ralph_runtime::{Completion, CompletionRequest, ModelProvider, ProviderError};
use ralph_secrets::Redactor;

/// Answers from `inner`, redacted.
pub struct RedactingProvider {
    inner: Arc<dyn ModelProvider>,
    redactor: Redactor,
}

impl RedactingProvider {
    /// Redacts `inner`'s answers and errors with `redactor`.
    pub fn new(inner: Arc<dyn ModelProvider>, redactor: Redactor) -> Self {
        Self { inner, redactor }
    }

    /// Redacts `inner`'s answers with the host's redactor.
    pub fn host(inner: Arc<dyn ModelProvider>) -> Self {
        Self::new(inner, ralph_secrets::host().clone())
    }
}

impl ModelProvider for RedactingProvider {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move { self.redacted(self.inner.complete(caller, request).await) })
    }

    /// Passes the caller's id on, so a router under this one still routes
    /// by id.
    fn complete_for<'a>(
        &'a self,
        caller: ModelCaller<'a>,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move { self.redacted(self.inner.complete_for(caller, request).await) })
    }
}

impl RedactingProvider {
    fn redacted(
        &self,
        answer: Result<Completion, ProviderError>,
    ) -> Result<Completion, ProviderError> {
        match answer {
            Ok(completion) => Ok(Completion {
                text: self.redactor.redact(&completion.text),
                usage: completion.usage,
            }),
            Err(error) => Err(ProviderError {
                message: self.redactor.redact(&error.message),
                answered: error.answered,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use ralph_runtime::DeterministicProvider;

    use super::*;

    const KEY: &str = "sk-ant-planted-0123456789abcdef";

    fn request() -> CompletionRequest {
        CompletionRequest {
            system: None,
            prompt: "plan".into(),
            max_tokens: 10,
        }
    }

    struct Failing;

    impl ModelProvider for Failing {
        fn complete<'a>(
            &'a self,
            _caller: &'a str,
            _request: CompletionRequest,
        ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
            Box::pin(async { Err(ProviderError::new(format!("rejected key {KEY}"))) })
        }
    }

    #[tokio::test]
    async fn a_completion_never_carries_a_known_secret() {
        let inner = Arc::new(DeterministicProvider::new().with_reply(format!(
            "the key is {KEY}, wrapped {}\n{} and escaped {}",
            &KEY[..10],
            &KEY[10..],
            KEY.replace('-', "%2D")
        )));
        let provider = RedactingProvider::new(inner, Redactor::new([KEY.to_owned()]));
        let completion = provider
            .complete("bidder", request())
            .await
            .expect("answers");
        assert_eq!(
            completion.text,
            "the key is [REDACTED], wrapped [REDACTED] and escaped [REDACTED]"
        );
    }

    #[tokio::test]
    async fn a_provider_error_never_carries_a_known_secret() {
        let provider = RedactingProvider::new(Arc::new(Failing), Redactor::new([KEY.to_owned()]));
        let error = provider
            .complete("bidder", request())
            .await
            .expect_err("fails");
        assert_eq!(error.message, "rejected key [REDACTED]");
    }
}
