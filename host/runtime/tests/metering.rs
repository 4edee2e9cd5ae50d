//! Model usage is charged to the plugin whose call it is, nested
//! consultations included, and a token allowance stops completions before
//! they reach the provider.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestResult, hostile, repository, request, runtime_with, tight_limits};
use futures::future::BoxFuture;
use ralph_runtime::{
    Capability, Completion, CompletionRequest, DeterministicProvider, ModelProvider,
    ProposalRequest, ProviderError, Runtime,
};

/// The deterministic provider, counting the requests that reach it.
#[derive(Default)]
struct Counting {
    inner: DeterministicProvider,
    calls: AtomicUsize,
}

impl ModelProvider for Counting {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.complete(caller, request)
    }
}

fn counting_runtime(
    repository: &Path,
) -> Result<(Runtime, Arc<Counting>), Box<dyn std::error::Error>> {
    let provider = Arc::new(Counting::default());
    let shared: Arc<dyn ModelProvider> = provider.clone();
    let runtime = runtime_with(repository, |options| options.with_provider(shared))?;
    Ok((runtime, provider))
}

async fn load_ping(runtime: &Runtime) -> TestResult {
    let path = ralph_runtime_fixtures::PING_SPECIALIST_PATH;
    let bytes = std::fs::read(path)?;
    runtime
        .load_specialist(
            "ping-specialist",
            Path::new(path),
            &bytes,
            [Capability::Consult, Capability::Complete],
            tight_limits(),
        )
        .await?;
    Ok(())
}

/// `plan the change` (15 bytes, estimated at 4 tokens) with `max-tokens`
/// 20 is estimated at 24 tokens; the deterministic provider charges 6
/// (3 words in, 3 out). With 40 allowed, the fourth call (18 used + 24)
/// could pass the allowance.
fn capped(title: &str, allowance: Option<u64>) -> ProposalRequest {
    ProposalRequest {
        token_allowance: allowance,
        ..request(title, "plan the change")
    }
}

#[tokio::test]
async fn a_completion_that_could_pass_the_allowance_is_refused_before_the_provider() -> TestResult {
    let repository = repository()?;
    let (runtime, provider) = counting_runtime(repository.path())?;
    let bidder = hostile(&runtime, &[Capability::Complete], tight_limits()).await?;
    let outcome = runtime
        .propose(&bidder, &capped("complete-until-refused", Some(40)))
        .await?;
    let summary = &outcome.value.summary;
    assert!(
        summary.starts_with("ok; ok; ok; refused PluginError::LimitExceeded"),
        "{summary}"
    );
    assert!(summary.contains("allowance of 40 tokens"), "{summary}");
    assert_eq!(provider.calls.load(Ordering::SeqCst), 3);
    assert_eq!(outcome.usage.calls, 3);
    assert_eq!(outcome.usage.input_tokens, 9);
    assert_eq!(outcome.usage.output_tokens, 9);
    Ok(())
}

#[tokio::test]
async fn without_an_allowance_every_completion_reaches_the_provider() -> TestResult {
    let repository = repository()?;
    let (runtime, provider) = counting_runtime(repository.path())?;
    let bidder = hostile(&runtime, &[Capability::Complete], tight_limits()).await?;
    let outcome = runtime
        .propose(&bidder, &capped("complete-until-refused", None))
        .await?;
    assert!(!outcome.value.summary.contains("refused"));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 10);
    assert_eq!(outcome.usage.calls, 10);
    Ok(())
}

#[tokio::test]
async fn a_consultations_usage_is_charged_to_the_bidder_and_counts_against_its_allowance()
-> TestResult {
    let repository = repository()?;
    let (runtime, provider) = counting_runtime(repository.path())?;
    load_ping(&runtime).await?;
    let bidder = hostile(&runtime, &[Capability::Consult], tight_limits()).await?;
    let outcome = runtime
        .propose(&bidder, &capped("consult-completing", Some(40)))
        .await?;
    let summary = &outcome.value.summary;
    assert!(
        summary.starts_with("ping completed: ok; ok; ok; refused PluginError::LimitExceeded"),
        "{summary}"
    );
    assert_eq!(provider.calls.load(Ordering::SeqCst), 3);
    assert_eq!(outcome.usage.calls, 3);
    assert_eq!(outcome.usage.total_tokens(), 18);
    Ok(())
}

#[tokio::test]
async fn a_failed_call_still_reports_what_it_used() -> TestResult {
    let repository = repository()?;
    let (runtime, _provider) = counting_runtime(repository.path())?;
    let bidder = hostile(&runtime, &[Capability::Complete], tight_limits()).await?;
    let results = runtime
        .propose_round(&[(bidder.clone(), capped("complete-then-fail", None))])
        .await;
    let metered = results.first().ok_or("no result")?;
    assert!(metered.result.is_err(), "{:?}", metered.result);
    assert_eq!(metered.usage.calls, 1);
    assert_eq!(metered.usage.total_tokens(), 6);
    Ok(())
}
