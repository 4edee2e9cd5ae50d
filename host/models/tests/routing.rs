//! Providers built from settings, routed per plugin, recorded and replayed,
//! against a loopback server speaking OpenAI-compatible chat completions.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{KEY, Reply, TestServer, config, request};
use ralph_models::{
    Backend, ProviderKind, ResolvedBackend, ResolvedLlm, RoutingProvider, Unavailable,
    build_provider,
};
use ralph_runtime::{ModelProvider, Recording, RecordingProvider, ReplayProvider};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn answer(text: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "choices": [{ "message": { "role": "assistant", "content": text } }],
            "usage": { "prompt_tokens": 11, "completion_tokens": 3 }
        }),
    )
}

/// An OpenAI-compatible backend for `server` with test-sized retries and a
/// breaker that opens after two failed calls.
fn backend(server: &TestServer, max_tokens: Option<u32>) -> Result<Backend, String> {
    let resolved = ResolvedLlm {
        kind: ProviderKind::OpenAi,
        backend: ResolvedBackend::Http(config(&format!("{}/v1", server.base_url), Some(KEY))),
        max_tokens,
    };
    build_provider(&resolved, Path::new("."), None)
}

#[tokio::test]
async fn a_new_round_closes_the_breaker_a_failing_round_opened() -> TestResult {
    let server = TestServer::start(vec![
        Reply::json(500, json!({})),
        Reply::json(500, json!({})),
        Reply::json(500, json!({})),
        Reply::json(500, json!({})),
        Reply::json(500, json!({})),
        Reply::json(500, json!({})),
        answer("back"),
    ])
    .await?;
    let routing = RoutingProvider::new(Arc::new(backend(&server, None)?));
    for _ in 0..2 {
        assert!(routing.complete("planner", request()).await.is_err());
    }
    assert!(routing.backend_for("planner").is_down());
    let before = server.requests().len();
    let error = routing.complete("planner", request()).await;
    assert!(
        format!("{error:?}").contains("considered down"),
        "{error:?}"
    );
    assert_eq!(
        server.requests().len(),
        before,
        "an open breaker sends nothing"
    );
    routing.new_round();
    assert!(!routing.backend_for("planner").is_down());
    assert_eq!(routing.complete("planner", request()).await?.text, "back");
    Ok(())
}

#[tokio::test]
async fn each_plugin_is_sent_to_its_own_server_with_its_max_tokens() -> TestResult {
    let main = TestServer::start(vec![answer("from main")]).await?;
    let other = TestServer::start(vec![answer("from other")]).await?;
    let routing = RoutingProvider::new(Arc::new(backend(&main, None)?));
    routing.route("planner", Arc::new(backend(&other, Some(2048))?))?;
    assert_eq!(
        routing.complete("planner", request()).await?.text,
        "from other"
    );
    assert_eq!(
        routing.complete("tester", request()).await?.text,
        "from main"
    );
    assert_eq!(other.requests()[0].json()["max_tokens"], 2048);
    assert_eq!(main.requests()[0].json()["max_tokens"], 64);
    Ok(())
}

#[tokio::test]
async fn a_refused_key_and_a_usage_limit_make_the_provider_unavailable() -> TestResult {
    let refused = TestServer::start(vec![Reply::json(401, json!({}))]).await?;
    let routing = RoutingProvider::new(Arc::new(backend(&refused, None)?));
    assert!(routing.complete("planner", request()).await.is_err());
    let Some(Unavailable::Misconfigured(reason)) = routing.unavailable() else {
        return Err("a refused key is a misconfiguration".into());
    };
    assert!(
        reason.contains("openai") && !reason.contains(KEY),
        "{reason}"
    );

    let limited = TestServer::start(vec![
        Reply::json(429, json!({})).with_header("retry-after", "3600"),
    ])
    .await?;
    let routing = RoutingProvider::new(Arc::new(backend(&limited, None)?));
    assert!(routing.complete("planner", request()).await.is_err());
    assert!(matches!(
        routing.unavailable(),
        Some(Unavailable::UsageLimited(_))
    ));
    routing.new_round();
    assert_eq!(routing.unavailable(), None, "a new round tries again");
    Ok(())
}

#[tokio::test]
async fn answers_recorded_from_a_live_server_replay_the_same() -> TestResult {
    let server = TestServer::start(vec![
        answer("first plan"),
        answer("second plan"),
        answer("the diff"),
    ])
    .await?;
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("recorded.json");
    let live: Arc<dyn ModelProvider> = Arc::new(backend(&server, None)?);
    let recorder = RecordingProvider::new(live, Recording::create(&path, "test")?);
    let mut answers = Vec::new();
    for caller in ["planner", "tester", "planner"] {
        answers.push((caller, recorder.complete(caller, request()).await?));
    }
    let recorded = std::fs::read_to_string(&path)?;
    assert!(!recorded.contains(KEY));
    let replay = ReplayProvider::open(&path)?;
    for (caller, answer) in answers {
        assert_eq!(replay.complete(caller, request()).await?, answer);
    }
    Ok(())
}
