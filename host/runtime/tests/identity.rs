//! A plugin's identity is the config entry that loaded it and its
//! component's digest, never the name its metadata reports.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use common::{TestResult, hostile_bytes, repository, request, runtime, runtime_with, tight_limits};
use futures::future::BoxFuture;
use ralph_runtime::sandbox::digest_of;
use ralph_runtime::{
    Capability, Completion, CompletionRequest, DeterministicProvider, ModelCaller, ModelProvider,
    PluginError, ProviderError,
};

fn impostor_bytes() -> std::io::Result<Vec<u8>> {
    std::fs::read(ralph_runtime_fixtures::IMPOSTOR_BIDDER_PATH)
}

#[tokio::test]
async fn two_differently_built_bidders_with_one_name_the_second_is_refused() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let genuine = runtime
        .load_bidder(
            "bidder_1",
            Path::new("genuine.wasm"),
            &hostile_bytes()?,
            [],
            tight_limits(),
        )
        .await?;
    assert_eq!(genuine.name(), "hostile-bidder");
    let impostor = runtime
        .load_bidder(
            "bidder_2",
            Path::new("impostor.wasm"),
            &impostor_bytes()?,
            [],
            tight_limits(),
        )
        .await;
    match impostor {
        Err(error @ PluginError::Load { .. }) => {
            let message = error.to_string();
            for expected in [
                "`bidder_2`",
                "`bidder_1`",
                "hostile-bidder",
                "impostor.wasm",
            ] {
                assert!(message.contains(expected), "{expected} in {message}");
            }
        }
        Err(other) => return Err(format!("refused for the wrong reason: {other}").into()),
        Ok(_) => return Err("two components with one name loaded side by side".into()),
    }
    Ok(())
}

#[tokio::test]
async fn one_component_loaded_for_two_entries_keeps_its_name() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let bytes = hostile_bytes()?;
    for id in ["bidder_1", "bidder_4"] {
        let bidder = runtime
            .load_bidder(id, Path::new("hostile.wasm"), &bytes, [], tight_limits())
            .await?;
        assert_eq!(bidder.id(), Some(id));
        assert_eq!(bidder.identity().digest, digest_of(&bytes));
    }
    Ok(())
}

#[tokio::test]
async fn an_id_taken_by_another_component_is_refused() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    runtime
        .load_bidder(
            "bidder_1",
            Path::new("a.wasm"),
            &hostile_bytes()?,
            [],
            tight_limits(),
        )
        .await?;
    let pong = std::fs::read(ralph_runtime_fixtures::PONG_SPECIALIST_PATH)?;
    let clash = runtime
        .load_specialist("bidder_1", Path::new("b.wasm"), &pong, [], tight_limits())
        .await;
    assert!(
        matches!(&clash, Err(PluginError::Load { reason, .. }) if reason.contains("the id")),
        "{:?}",
        clash.err()
    );
    Ok(())
}

#[tokio::test]
async fn an_invalid_id_is_refused() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let result = runtime
        .load_bidder(
            "../Bidder 1",
            Path::new("a.wasm"),
            &hostile_bytes()?,
            [],
            tight_limits(),
        )
        .await;
    assert!(matches!(result, Err(PluginError::Load { .. })));
    Ok(())
}

/// The deterministic provider, remembering who each completion was for.
#[derive(Default)]
struct Witness {
    inner: DeterministicProvider,
    callers: Mutex<Vec<(Option<String>, String)>>,
}

impl ModelProvider for Witness {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        self.complete_for(
            ModelCaller {
                id: None,
                name: caller,
            },
            request,
        )
    }

    fn complete_for<'a>(
        &'a self,
        caller: ModelCaller<'a>,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        self.callers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((caller.id.map(str::to_owned), caller.name.to_owned()));
        self.inner.complete(caller.name, request)
    }
}

#[tokio::test]
async fn completions_name_the_config_id_to_the_provider_not_the_reported_name() -> TestResult {
    let repository = repository()?;
    let witness = Arc::new(Witness::default());
    let provider: Arc<dyn ModelProvider> = witness.clone();
    let runtime = runtime_with(repository.path(), |options| options.with_provider(provider))?;
    let bytes = hostile_bytes()?;
    let mut used = Vec::new();
    for id in ["bidder_1", "bidder_2"] {
        let bidder = runtime
            .load_bidder(
                id,
                Path::new("hostile.wasm"),
                &bytes,
                [Capability::Complete],
                tight_limits(),
            )
            .await?;
        let outcome = runtime
            .propose(&bidder, &request("complete-then-fail", "hello"))
            .await;
        assert!(outcome.is_err(), "the behaviour fails after completing");
        used.push(id);
    }
    let callers = witness
        .callers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(
        callers,
        used.iter()
            .map(|id| (Some((*id).to_owned()), "hostile-bidder".to_owned()))
            .collect::<Vec<_>>()
    );
    Ok(())
}
