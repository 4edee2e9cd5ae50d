//! The Anthropic provider against a loopback server speaking the Messages API.

mod common;

use std::time::{Duration, Instant};

use common::{KEY, Reply, TestServer, config, request};
use ralph_models::{AnthropicProvider, ModelError};
use ralph_runtime::ModelProvider;
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn answer(text: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "test-model",
            "content": [{ "type": "text", "text": text }],
            "stop_reason": "end_turn",
            "usage": { "input_tokens": 12, "output_tokens": 7 }
        }),
    )
}

#[tokio::test]
async fn a_completion_sends_the_messages_shape_and_reads_text_and_usage() -> TestResult {
    let server = TestServer::start(vec![answer("Change one file.")]).await?;
    let mut config = config(&server.base_url, Some(KEY));
    config.temperature = Some(0.5);
    let provider = AnthropicProvider::new(config)?;
    let completion = provider.complete("planner", request()).await?;
    assert_eq!(completion.text, "Change one file.");
    assert_eq!(completion.usage.input_tokens, 12);
    assert_eq!(completion.usage.output_tokens, 7);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert!(
        sent.header("content-type")
            .is_some_and(|value| value.starts_with("application/json"))
    );
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["system"], "You are terse.");
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(
        body["messages"],
        json!([{ "role": "user", "content": "Plan the change." }])
    );
    Ok(())
}

#[tokio::test]
async fn text_blocks_are_joined_and_other_blocks_skipped() -> TestResult {
    let server = TestServer::start(vec![Reply::json(
        200,
        json!({
            "content": [
                { "type": "thinking", "thinking": "hmm" },
                { "type": "text", "text": "one " },
                { "type": "text", "text": "two" }
            ],
            "usage": { "input_tokens": 1, "output_tokens": 2 }
        }),
    )])
    .await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    assert_eq!(provider.complete_request(&request()).await?.text, "one two");
    Ok(())
}

#[tokio::test]
async fn a_rate_limit_waits_for_retry_after_then_succeeds() -> TestResult {
    let server = TestServer::start(vec![
        Reply::json(429, json!({ "type": "error" })).with_header("retry-after", "1"),
        answer("after the wait"),
    ])
    .await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
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
async fn a_usage_limit_beyond_the_wait_budget_ends_the_call_at_once() -> TestResult {
    let server = TestServer::start(vec![
        Reply::json(529, json!({ "type": "error" })).with_header("retry-after", "30"),
    ])
    .await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    let started = Instant::now();
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(
            error,
            Err(ModelError::UsageLimited {
                retry_after_secs: 30,
                ..
            })
        ),
        "{error:?}"
    );
    let message = error
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(message.contains("usage limit"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_refused_key_is_final_and_never_shown() -> TestResult {
    let server = TestServer::start(vec![Reply::text(
        401,
        &format!(r#"{{"type":"error","error":{{"message":"invalid x-api-key {KEY}"}}}}"#),
    )])
    .await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete("planner", request()).await;
    let Err(error) = error else {
        return Err("a refused key must fail".into());
    };
    let message = error.to_string();
    assert!(message.contains("anthropic"), "{message}");
    assert!(message.contains("test-model"), "{message}");
    assert!(message.contains("401"), "{message}");
    assert!(!message.contains(KEY), "{message}");
    assert_eq!(server.requests().len(), 1, "a refused key is not retried");
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::Unauthorized { status: 401, .. })),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_model_is_final() -> TestResult {
    let server = TestServer::start(vec![Reply::json(404, json!({ "type": "error" }))]).await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::NotFound { .. })),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_server_error_storm_exhausts_retries_then_opens_the_breaker() -> TestResult {
    let server = TestServer::start(vec![Reply::json(500, json!({ "type": "error" }))]).await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    for call in 1..=2 {
        let error = provider.complete_request(&request()).await;
        assert!(
            matches!(error, Err(ModelError::RetriesExhausted { attempts: 3, .. })),
            "call {call}: {error:?}"
        );
    }
    assert_eq!(server.requests().len(), 6);
    assert!(provider.is_down());

    let started = Instant::now();
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::CircuitOpen { failures: 2, .. })),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(server.requests().len(), 6, "an open breaker sends nothing");

    provider.reset();
    assert!(!provider.is_down());
    let error = provider.complete_request(&request()).await;
    assert!(matches!(error, Err(ModelError::RetriesExhausted { .. })));
    assert_eq!(server.requests().len(), 9, "a reset provider calls again");
    Ok(())
}

#[tokio::test]
async fn a_silent_server_hits_the_total_timeout() -> TestResult {
    let server = TestServer::start(vec![Reply::Silent]).await?;
    let mut config = config(&server.base_url, Some(KEY));
    config.total_timeout = Duration::from_millis(300);
    config.retry.max_attempts = 2;
    let provider = AnthropicProvider::new(config)?;
    let started = Instant::now();
    let error = provider.complete_request(&request()).await;
    let elapsed = started.elapsed();
    let Err(ModelError::RetriesExhausted { attempts, last, .. }) = error else {
        return Err(format!("expected a timeout, got {error:?}").into());
    };
    assert_eq!(attempts, 2);
    assert!(last.contains("within 300 ms"), "{last}");
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests().len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_truncated_body_is_an_error() -> TestResult {
    let server = TestServer::start(vec![Reply::Truncated {
        sent: r#"{"content":[{"type":"text","te"#.to_owned(),
        promised: 500,
    }])
    .await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::Truncated { .. })),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_json_is_an_error() -> TestResult {
    let server = TestServer::start(vec![Reply::text(200, r#"{"content": [oops"#)]).await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    assert!(
        matches!(error, Err(ModelError::Malformed { .. })),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_response_without_text_is_an_error() -> TestResult {
    let server = TestServer::start(vec![Reply::json(
        200,
        json!({ "content": [], "usage": { "input_tokens": 3, "output_tokens": 0 } }),
    )])
    .await?;
    let provider = AnthropicProvider::new(config(&server.base_url, Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    assert!(matches!(error, Err(ModelError::NoText { .. })), "{error:?}");
    Ok(())
}

#[tokio::test]
async fn a_missing_key_is_refused_before_any_call() {
    let result = AnthropicProvider::new(config("http://127.0.0.1:9", None));
    assert!(matches!(result, Err(ModelError::MissingKey { .. })));
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() -> TestResult {
    // Bind and drop a listener so that its port refuses connections.
    let address = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await?
        .local_addr()?;
    let provider = AnthropicProvider::new(config(&format!("http://{address}"), Some(KEY)))?;
    let error = provider.complete_request(&request()).await;
    let Err(ModelError::RetriesExhausted { attempts, last, .. }) = error else {
        return Err(format!("expected exhausted retries, got {error:?}").into());
    };
    assert_eq!(attempts, 3);
    assert!(last.contains("could not connect"), "{last}");
    Ok(())
}

#[tokio::test]
async fn a_full_accept_queue_hits_the_connect_timeout() -> TestResult {
    // A listener that never accepts, with its tiny backlog filled: the
    // kernel drops further connection attempts, so connecting hangs.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse()?)?;
    let listener = socket.listen(1)?;
    let address = listener.local_addr()?;
    let mut fillers = Vec::new();
    while fillers.len() < 8 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            Ok(connection) => fillers.push(connection?),
            Err(_) => break,
        }
    }
    let mut config = config(&format!("http://{address}"), Some(KEY));
    config.connect_timeout = Duration::from_millis(200);
    config.retry.max_attempts = 1;
    let provider = AnthropicProvider::new(config)?;
    let started = Instant::now();
    let error = provider.complete_request(&request()).await;
    let elapsed = started.elapsed();
    let Err(ModelError::RetriesExhausted { last, .. }) = error else {
        return Err(format!("expected a connect timeout, got {error:?}").into());
    };
    assert!(last.contains("could not connect within 200 ms"), "{last}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    drop(listener);
    Ok(())
}
