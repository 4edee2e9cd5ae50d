//! The OpenAI-compatible provider against a loopback server speaking chat
//! completions.

mod common;

use std::time::{Duration, Instant};

use common::{KEY, Reply, TestServer, config, request};
use ralph_models::{ModelError, OpenAiProvider};
use ralph_runtime::ModelProvider;
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn answer(text: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "test-model",
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": text },
                "finish_reason": "stop"
            }],
            "usage": { "prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25 }
        }),
    )
}

#[tokio::test]
async fn a_completion_sends_the_chat_shape_and_reads_text_and_usage() -> TestResult {
    let server = TestServer::start(vec![answer("Change one file.")]).await?;
    let mut config = config(&format!("{}/v1", server.base_url), Some(KEY));
    config.temperature = Some(0.25);
    let provider = OpenAiProvider::new(config)?;
    let completion = provider.complete("planner", request()).await?;
    assert_eq!(completion.text, "Change one file.");
    assert_eq!(completion.usage.input_tokens, 21);
    assert_eq!(completion.usage.output_tokens, 4);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    let bearer = format!("Bearer {KEY}");
    assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
    assert_eq!(sent.header("x-api-key"), None);
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(
        body["messages"],
        json!([
            { "role": "system", "content": "You are terse." },
            { "role": "user", "content": "Plan the change." }
        ])
    );
    Ok(())
}

#[tokio::test]
async fn a_local_server_is_called_without_a_key() -> TestResult {
    let server = TestServer::start(vec![Reply::json(
        200,
        json!({ "choices": [{ "message": { "role": "assistant", "content": "local" } }] }),
    )])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, None))?;
    let mut request = request();
    request.system = None;
    let completion = provider.complete_request(&request).await?;
    assert_eq!(completion.text, "local");
    assert_eq!(completion.usage, ralph_runtime::TokenUsage::default());
    let requests = server.requests();
    assert_eq!(requests[0].path, "/chat/completions");
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(
        requests[0].json()["messages"],
        json!([{ "role": "user", "content": "Plan the change." }])
    );
    assert!(requests[0].json().get("temperature").is_none());
    Ok(())
}

#[tokio::test]
async fn a_rate_limit_waits_for_retry_after_then_succeeds() -> TestResult {
    let server = TestServer::start(vec![
        Reply::json(429, json!({ "error": { "message": "slow down" } }))
            .with_header("retry-after", "1"),
        answer("after the wait"),
    ])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let started = Instant::now();
    let completion = provider.complete_request(&request()).await?;
    let elapsed = started.elapsed();
    assert_eq!(completion.text, "after the wait");
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests().len(), 2);
    Ok(())
}

#[tokio::test]
async fn usage_limit_waits_do_not_use_up_the_attempts() -> TestResult {
    let limited = Reply::json(429, json!({ "error": { "message": "usage limit" } }))
        .with_header("retry-after", "0.05");
    let server = TestServer::start(vec![
        limited.clone(),
        limited.clone(),
        limited.clone(),
        limited,
        answer("worth the wait"),
    ])
    .await?;
    // Three attempts at most, yet four usage-limit waits are fine.
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let completion = provider.complete_request(&request()).await?;
    assert_eq!(completion.text, "worth the wait");
    assert_eq!(server.requests().len(), 5);
    assert!(!provider.is_down());
    Ok(())
}

#[tokio::test]
async fn a_usage_limit_that_never_ends_is_reported_as_one() -> TestResult {
    let server = TestServer::start(vec![
        Reply::json(529, json!({ "error": { "message": "overloaded" } }))
            .with_header("retry-after", "0"),
    ])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::UsageLimited { .. })),
        "{error:?}"
    );
    // Sixteen uncounted waits, then the three attempts.
    assert_eq!(server.requests().len(), 16 + 3);
    Ok(())
}

#[tokio::test]
async fn a_rate_limit_without_retry_after_is_an_ordinary_failed_attempt() -> TestResult {
    let server = TestServer::start(vec![Reply::json(
        429,
        json!({ "error": { "message": "slow down" } }),
    )])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::RetriesExhausted { attempts: 3, .. })),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3);
    Ok(())
}

#[tokio::test]
async fn backoff_without_retry_after_recovers_from_a_bad_gateway() -> TestResult {
    let server = TestServer::start(vec![
        Reply::text(502, "<html>bad gateway</html>"),
        Reply::text(503, ""),
        answer("third time"),
    ])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let started = Instant::now();
    assert_eq!(
        provider.complete_request(&request()).await?.text,
        "third time"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.requests().len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_refused_key_is_final_and_never_shown() -> TestResult {
    let server = TestServer::start(vec![Reply::text(
        403,
        &format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#),
    )])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let Err(error) = provider.complete("planner", request()).await else {
        return Err("a refused key must fail".into());
    };
    let message = error.to_string();
    assert!(message.contains("openai"), "{message}");
    assert!(message.contains("test-model"), "{message}");
    assert!(message.contains("403"), "{message}");
    assert!(!message.contains(KEY), "{message}");
    assert_eq!(server.requests().len(), 1, "a refused key is not retried");
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::Unauthorized { status: 403, .. })),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn another_client_error_is_final_and_scrubs_an_echoed_key() -> TestResult {
    let server = TestServer::start(vec![Reply::text(
        400,
        &format!(r#"{{"error":{{"message":"bad request from {KEY}"}}}}"#),
    )])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    let Err(error @ ModelError::Status { status: 400, .. }) = error else {
        return Err(format!("expected HTTP 400, got {error:?}").into());
    };
    let message = error.to_string();
    assert!(message.contains("bad request from <redacted>"), "{message}");
    assert!(!message.contains(KEY), "{message}");
    assert_eq!(server.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_wrong_base_url_is_final() -> TestResult {
    let server = TestServer::start(vec![Reply::text(404, "404 page not found")]).await?;
    let provider = OpenAiProvider::new(config(&server.base_url, None))?;
    let Err(error) = provider.complete_request(&request()).await else {
        return Err("a 404 must fail".into());
    };
    assert!(matches!(error, ModelError::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("wrong base URL"));
    assert_eq!(server.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_server_error_storm_exhausts_retries_then_opens_the_breaker() -> TestResult {
    let server = TestServer::start(vec![Reply::text(500, "{}")]).await?;
    let provider = OpenAiProvider::new(config(&server.base_url, Some(KEY)))?;
    for call in 1..=2 {
        let error = provider.complete_request(&request()).await;
        assert!(
            matches!(error, Err(ModelError::RetriesExhausted { attempts: 3, .. })),
            "call {call}: {error:?}"
        );
    }
    assert_eq!(server.requests().len(), 6);
    assert!(provider.is_down());

    let error = provider.complete("planner", request()).await;
    let Err(error) = error else {
        return Err("an open breaker must fail".into());
    };
    assert!(error.to_string().contains("considered down"), "{error}");
    assert_eq!(server.requests().len(), 6, "an open breaker sends nothing");

    provider.reset();
    assert!(!provider.is_down());
    assert!(provider.complete_request(&request()).await.is_err());
    assert_eq!(server.requests().len(), 9, "a reset provider calls again");
    Ok(())
}

#[tokio::test]
async fn a_success_clears_the_breaker_count() -> TestResult {
    let server = TestServer::start(vec![
        Reply::text(500, "{}"),
        answer("fine"),
        Reply::text(500, "{}"),
    ])
    .await?;
    let mut config = config(&server.base_url, None);
    config.retry.max_attempts = 1;
    let provider = OpenAiProvider::new(config)?;
    assert!(provider.complete_request(&request()).await.is_err());
    assert_eq!(provider.complete_request(&request()).await?.text, "fine");
    assert!(provider.complete_request(&request()).await.is_err());
    assert!(!provider.is_down(), "the failures were not consecutive");
    assert!(provider.complete_request(&request()).await.is_err());
    assert!(provider.is_down());
    Ok(())
}

#[tokio::test]
async fn a_silent_server_hits_the_total_timeout() -> TestResult {
    let server = TestServer::start(vec![Reply::Silent]).await?;
    let mut config = config(&server.base_url, None);
    config.total_timeout = Duration::from_millis(300);
    config.retry.max_attempts = 1;
    let provider = OpenAiProvider::new(config)?;
    let started = Instant::now();
    let error = provider.complete_request(&request()).await;
    let elapsed = started.elapsed();
    let Err(ModelError::RetriesExhausted { attempts, last, .. }) = error else {
        return Err(format!("expected a timeout, got {error:?}").into());
    };
    assert_eq!(attempts, 1);
    assert!(last.contains("within 300 ms"), "{last}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    Ok(())
}

#[tokio::test]
async fn a_truncated_body_is_an_error() -> TestResult {
    let server = TestServer::start(vec![Reply::Truncated {
        sent: r#"{"choices":[{"message":{"content":"Chan"#.to_owned(),
        promised: 400,
    }])
    .await?;
    let provider = OpenAiProvider::new(config(&server.base_url, None))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::Truncated { .. })),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_json_is_an_error() -> TestResult {
    let server = TestServer::start(vec![Reply::text(200, "<html>not json</html>")]).await?;
    let provider = OpenAiProvider::new(config(&server.base_url, None))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::Malformed { .. })),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_response_without_text_is_an_error() -> TestResult {
    for body in [
        json!({ "choices": [] }),
        json!({ "choices": [{ "message": { "role": "assistant", "content": null } }] }),
        json!({ "choices": [{ "message": { "role": "assistant", "content": "" } }] }),
    ] {
        let server = TestServer::start(vec![Reply::json(200, body.clone())]).await?;
        let provider = OpenAiProvider::new(config(&server.base_url, None))?;
        let error = provider.complete_request(&request()).await;
        assert!(
            matches!(error, Err(ModelError::NoText { .. })),
            "{body}: {error:?}"
        );
    }
    Ok(())
}
