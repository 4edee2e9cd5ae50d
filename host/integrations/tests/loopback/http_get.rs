//! `http-get` through the gateway: the allow-list holds against every
//! escape, redirects are re-checked, bodies are capped.

use std::sync::Arc;

use crate::common::{Answer, Server, Setup, caller};
use ralph_integrations::NonInteractive;
use ralph_integrations::audit::AuditStatus;
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::{IntegrationCall, IntegrationError, IntegrationReply};
use serde_json::json;

const PLUGIN: &str = "status-reader";

fn setup(allowed: &[String], max_bytes: u64) -> Setup {
    let setup = Setup::new(
        json!({"http_get": {"allow": {PLUGIN: allowed, "other-plugin": ["http://localhost:1"]},
                            "max_bytes": max_bytes}}),
        &[],
        Arc::new(NonInteractive),
    );
    setup.approve(PLUGIN, &["http-get"]);
    setup
}

async fn get(setup: &Setup, url: &str) -> Result<IntegrationReply, IntegrationError> {
    setup
        .gateway
        .perform(
            &caller(PLUGIN, &[Capability::HttpGet], 10),
            IntegrationCall::HttpGet {
                url: url.to_owned(),
            },
        )
        .await
}

fn denial(outcome: Result<IntegrationReply, IntegrationError>) -> String {
    match outcome {
        Err(IntegrationError::Denied(message)) => message,
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[tokio::test]
async fn an_allow_listed_url_is_fetched() {
    let server = Server::start(|_| Answer::text(200, "all systems go")).await;
    let setup = setup(&[server.origin()], 1024);
    let reply = get(&setup, &format!("{}/status?verbose=1", server.origin()))
        .await
        .expect("fetched");
    let IntegrationReply::Http(response) = reply else {
        panic!("wrong reply");
    };
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "all systems go");
    assert_eq!(response.content_type.as_deref(), Some("text/plain"));
    assert!(!response.truncated);
    assert_eq!(server.requests()[0].target, "/status?verbose=1");
    assert_eq!(setup.audit()[0].status, AuditStatus::Ok);
}

#[tokio::test]
async fn a_body_over_the_cap_is_cut_and_marked() {
    let server = Server::start(|_| Answer::text(200, &"x".repeat(100_000))).await;
    let setup = setup(&[server.origin()], 1000);
    let IntegrationReply::Http(response) = get(&setup, &server.origin()).await.expect("fetched")
    else {
        panic!("wrong reply");
    };
    assert_eq!(response.body.len(), 1000);
    assert!(response.truncated);
}

#[tokio::test]
async fn a_body_exactly_at_the_cap_is_whole() {
    let server = Server::start(|_| Answer::text(200, &"y".repeat(1000))).await;
    let setup = setup(&[server.origin()], 1000);
    let IntegrationReply::Http(response) = get(&setup, &server.origin()).await.expect("fetched")
    else {
        panic!("wrong reply");
    };
    assert_eq!(response.body.len(), 1000);
    assert!(!response.truncated);
}

#[tokio::test]
async fn a_service_that_is_down_fails_saying_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let origin = format!("http://localhost:{port}");
    let setup = setup(std::slice::from_ref(&origin), 1000);
    let error = get(&setup, &origin).await.expect_err("nothing listens");
    assert_eq!(
        error,
        IntegrationError::Failed("http-get: could not connect".to_owned())
    );
    assert_eq!(setup.audit()[0].status, AuditStatus::Failed);
}

#[tokio::test]
async fn a_service_that_never_answers_fails_at_the_calls_deadline() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let origin = format!("http://localhost:{port}");
    let setup = setup(std::slice::from_ref(&origin), 1000);
    let started = std::time::Instant::now();
    let error = setup
        .gateway
        .perform(
            &caller(PLUGIN, &[Capability::HttpGet], 1),
            IntegrationCall::HttpGet { url: origin },
        )
        .await
        .expect_err("no answer");
    assert_eq!(
        error,
        IntegrationError::Failed("http:GET: the call's deadline passed".to_owned())
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(setup.audit()[0].status, AuditStatus::Failed);
    silent.abort();
}

#[tokio::test]
async fn secrets_in_the_body_are_redacted() {
    let server = Server::start(|_| {
        Answer::text(
            200,
            "aws_secret_access_key=abcDEF123/xyz\nAuthorization: Bearer tok.en",
        )
    })
    .await;
    let setup = setup(&[server.origin()], 1024);
    let IntegrationReply::Http(response) = get(&setup, &server.origin()).await.expect("fetched")
    else {
        panic!("wrong reply");
    };
    assert_eq!(
        response.body,
        "aws_secret_access_key=[REDACTED]\nAuthorization: [REDACTED]"
    );
}

#[tokio::test]
async fn redirects_within_the_allow_list_are_followed() {
    let server = Server::start(|request| match request.target.as_str() {
        "/old" => Answer::redirect("/new"),
        _ => Answer::text(200, "moved here"),
    })
    .await;
    let setup = setup(&[server.origin()], 1024);
    let IntegrationReply::Http(response) = get(&setup, &format!("{}/old", server.origin()))
        .await
        .expect("fetched")
    else {
        panic!("wrong reply");
    };
    assert_eq!(response.body, "moved here");
    let targets: Vec<_> = server
        .requests()
        .into_iter()
        .map(|request| request.target)
        .collect();
    assert_eq!(targets, ["/old", "/new"]);
}

#[tokio::test]
async fn a_redirect_off_the_allow_list_is_refused_before_it_is_followed() {
    let elsewhere = Server::start(|_| Answer::text(200, "should never be read")).await;
    let elsewhere_port = elsewhere.port;
    let server = Server::start(move |request| match request.target.as_str() {
        "/to-port" => Answer::redirect(&format!("http://localhost:{elsewhere_port}/")),
        "/to-ip" => Answer::redirect(&format!("http://127.0.0.1:{elsewhere_port}/")),
        "/to-host" => Answer::redirect("http://evil.example/"),
        _ => Answer::redirect("/loop"),
    })
    .await;
    let setup = setup(&[server.origin()], 1024);
    for path in ["/to-port", "/to-ip", "/to-host"] {
        let message = denial(get(&setup, &format!("{}{path}", server.origin())).await);
        assert!(message.starts_with("redirect refused"), "{message}");
    }
    assert!(elsewhere.requests().is_empty());
    let error = get(&setup, &format!("{}/loop", server.origin()))
        .await
        .expect_err("too many");
    assert_eq!(
        error,
        IntegrationError::Failed("http-get: more than 3 redirects".to_owned())
    );
    assert_eq!(
        server.requests().len(),
        3 + 4,
        "three refused, then four in the loop"
    );
}

#[tokio::test]
async fn escapes_from_the_allow_list_are_denied_and_audited() {
    let server = Server::start(|_| Answer::text(200, "should never be read")).await;
    let port = server.port;
    let setup = setup(&[server.origin()], 1024);
    let escapes = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://localhost:{}/", port.wrapping_add(1).max(1)),
        format!("https://localhost:{port}/"),
        format!("http://localhost:{port}@evil.example/"),
        format!("http://user:pw@localhost:{port}/"),
        "http://localhost.evil.example/".to_owned(),
        format!("ftp://localhost:{port}/"),
        "file:///etc/passwd".to_owned(),
    ];
    for url in &escapes {
        denial(get(&setup, url).await);
    }
    assert!(server.requests().is_empty());
    let audit = setup.audit();
    assert_eq!(audit.len(), escapes.len());
    assert!(
        audit
            .iter()
            .all(|entry| entry.status == AuditStatus::Denied)
    );
}

#[tokio::test]
async fn one_plugins_allow_list_does_not_serve_another() {
    let server = Server::start(|_| Answer::text(200, "ok")).await;
    let setup = setup(&[server.origin()], 1024);
    setup.approve("other-plugin", &["http-get"]);
    let outcome = setup
        .gateway
        .perform(
            &caller("other-plugin", &[Capability::HttpGet], 10),
            IntegrationCall::HttpGet {
                url: server.origin(),
            },
        )
        .await;
    assert!(denial(outcome).contains("plugin `other-plugin`'s allow-list"));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn text_that_is_not_a_url_is_an_invalid_request() {
    let setup = setup(&[], 1024);
    assert!(matches!(
        get(&setup, "not a url").await,
        Err(IntegrationError::InvalidRequest(_))
    ));
    assert_eq!(setup.audit()[0].status, AuditStatus::InvalidRequest);
}
